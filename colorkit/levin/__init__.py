"""Colorization by optimization from scribbles.

A. Levin, D. Lischinski and Y. Weiss, "Colorization using Optimization",
ACM SIGGRAPH 2004 (ACM Transactions on Graphics 23(3), 689-694).

The whole method rests on one assumption: *neighbouring pixels with similar
intensities should get similar colours*. A person scribbles a few colours on
the grey photo; every other pixel's colour is then solved for.

We work in YUV (ITU-R BT.601, :func:`colorkit.color.rgb_to_yuv`): ``Y`` is
the grey image and is kept as it is; the chroma ``U`` and ``V`` are solved.

1. **Affinity** (:mod:`.system`). Every pixel r is linked to the 8 others in its 3x3 window::

       w_rs = exp(-(Y_r - Y_s)^2 / (2 σ_rs^2)),    2 σ_rs^2 = (c_r + c_s) / 2,
       c_r  = max(0.6 var_r,  min_s (Y_r - Y_s)^2 / ln 100,  2e-6)

   ``var_r`` is the variance of Y in r's 3x3 window, so the weights adapt to
   the local contrast; the second term (from the authors' code) keeps the
   most similar neighbour's weight at 0.01 or more. The paper gives σ to the
   centre pixel alone, which makes W unsymmetric; averaging c over the two
   pixels makes it symmetric, so the fast solvers below apply.
2. **Equations** (:mod:`.system`). Every unscribbled pixel is the weighted average of its
   neighbours, ``U_r = Σ_s w_rs U_s / Σ_s w_rs``; scribbled pixels keep
   their U and V exactly. Multiplying row r by d_r = Σ_s w_rs gives the
   graph-Laplacian system, symmetric positive definite once one pixel is
   scribbled (u: unknown pixels, k: scribbled ones)::

       (D - W)_uu x_u = W_uk x_k

3. **One matrix, two right-hand sides.** The matrix depends on Y only, so U
   and V share it and its set-up (factorisation or multigrid hierarchy).
4. **Solvers** (:mod:`.solvers`). ``"amg"`` (default): conjugate gradients preconditioned with
   smoothed-aggregation algebraic multigrid (:class:`AMG`, built on pyamg's
   aggregation and Gauss-Seidel), in float32, to a relative residual of
   :data:`RTOL`; its cost grows about linearly with the pixel count (about a
   second per megapixel on one core). ``"direct"``: a sparse LU factorisation
   of the *same* matrix in float64 (SuperLU, ``scipy.sparse.linalg.splu``);
   exact, but its fill-in makes it grow faster than linearly (tens of seconds
   and several GB per megapixel). ``benchmarks/levin_bench.py`` compares them.

Scribbles (:mod:`.scribbles`) come from a marked image file (:func:`read_marked_pair`, the
paper's format), from strokes stored as JSON (:func:`load_strokes`,
:func:`rasterize_strokes`), from a ground-truth photo
(:func:`sample_scribbles`), or from the interactive widget in
:mod:`colorkit.widgets.scribble`. :mod:`.inputs` turns arrays and tensors into
the checked float arrays the rest works on.

The modules, read in this order: ``inputs`` -> ``system`` -> ``solvers`` (with
:func:`colorize`, the entry point) -> ``scribbles``.
"""

from colorkit.levin.ideal import IdealScribbler
from colorkit.levin.inputs import as_gray, chroma_of, gray_of, scribble_uv
from colorkit.levin.scribbles import (
    load_strokes,
    rasterize_strokes,
    read_marked_pair,
    sample_scribbles,
    save_strokes,
    solvay_photo,
)
from colorkit.levin.solvers import AMG, RTOL, SolveInfo, colorize, solve_chroma, solve_direct
from colorkit.levin.system import LevinSystem, affinity_matrix, build_system, local_scale

__all__ = [
    "AMG", "RTOL", "IdealScribbler", "LevinSystem", "SolveInfo",
    "affinity_matrix", "as_gray", "build_system", "chroma_of", "colorize", "gray_of", "load_strokes", "local_scale",
    "rasterize_strokes", "read_marked_pair", "sample_scribbles", "save_strokes", "scribble_uv", "solvay_photo",
    "solve_chroma", "solve_direct",
]
