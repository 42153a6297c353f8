"""Fault injection for the browser tests: the ab-plane explorer's redraw raises once L leaves 50.

Run with ``COLORKIT_BROWSER_KERNEL_STARTUP=tests/browser/faults/ab_plane_redraw_raises.py``; the
kernel runs this file at start-up, so nothing in the repository is changed.
``test_01_ab_plane_follows_the_L_slider`` must then fail, naming the callback's RuntimeError.
"""

import sys

import colorkit.viz as _viz

_ab_plane = _viz.ab_plane


def _broken_ab_plane(L, *args, **kwargs):
    if sys._getframe(1).f_code.co_name == "redraw" and L != 50:  # only the widget's callback, after the first draw
        raise RuntimeError(f"ab-plane redraw broken on purpose (fault injection) at L={L}")
    return _ab_plane(L, *args, **kwargs)


_viz.ab_plane = _broken_ab_plane
