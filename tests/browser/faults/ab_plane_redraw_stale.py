"""Fault injection for the browser tests: the ab-plane explorer's redraw silently keeps drawing L = 50.

Run with ``COLORKIT_BROWSER_KERNEL_STARTUP=tests/browser/faults/ab_plane_redraw_stale.py``: no error
anywhere, the caption follows the slider, only the picture is stale; the 01 test must fail
("the image did not change").
"""

import sys

import colorkit.viz as _viz

_ab_plane = _viz.ab_plane


def _stale_ab_plane(L, *args, **kwargs):
    if sys._getframe(1).f_code.co_name == "redraw":
        L = 50
    return _ab_plane(L, *args, **kwargs)


_viz.ab_plane = _stale_ab_plane
