"""colorkit: the library behind the colorization course.

One module per concept (see README): ``color``, ``io``, ``data``, ``quantize``,
``levin``, ``models``, ``losses``, ``train``, ``infer``, ``video``, ``metrics``,
``widgets``, ``viz``, ``cli``. Notebooks call colorkit; colorkit never imports
from notebooks.
"""

from colorkit.errors import ColorkitError

__version__ = "0.1.0"
__all__ = ["ColorkitError", "__version__"]
