"""Colorization by optimization from scribbles.

A. Levin, D. Lischinski and Y. Weiss, "Colorization using Optimization",
ACM SIGGRAPH 2004 (ACM Transactions on Graphics 23(3), 689-694).

The whole method rests on one assumption: *neighbouring pixels with similar
intensities should get similar colours*. A person scribbles a few colours on
the grey photo; every other pixel's colour is then solved for.

We work in YUV (ITU-R BT.601, :func:`colorkit.color.rgb_to_yuv`): ``Y`` is
the grey image and is kept as it is; the chroma ``U`` and ``V`` are solved.

1. **Affinity.** Every pixel r is linked to the 8 others in its 3x3 window::

       w_rs = exp(-(Y_r - Y_s)^2 / (2 σ_rs^2)),    2 σ_rs^2 = (c_r + c_s) / 2,
       c_r  = max(0.6 var_r,  min_s (Y_r - Y_s)^2 / ln 100,  2e-6)

   ``var_r`` is the variance of Y in r's 3x3 window, so the weights adapt to
   the local contrast; the second term (from the authors' code) keeps the
   most similar neighbour's weight at 0.01 or more. The paper gives σ to the
   centre pixel alone, which makes W unsymmetric; averaging c over the two
   pixels makes it symmetric, so the fast solvers below apply.
2. **Equations.** Every unscribbled pixel is the weighted average of its
   neighbours, ``U_r = Σ_s w_rs U_s / Σ_s w_rs``; scribbled pixels keep
   their U and V exactly. Multiplying row r by d_r = Σ_s w_rs gives the
   graph-Laplacian system, symmetric positive definite once one pixel is
   scribbled (u: unknown pixels, k: scribbled ones)::

       (D - W)_uu x_u = W_uk x_k

3. **One matrix, two right-hand sides.** The matrix depends on Y only, so U
   and V share it and its set-up (factorisation or multigrid hierarchy).
4. **Solvers.** ``"amg"`` (default): conjugate gradients preconditioned with
   smoothed-aggregation algebraic multigrid (:class:`AMG`, built on pyamg's
   aggregation and Gauss-Seidel), in float32, to a relative residual of
   :data:`RTOL`; its cost grows about linearly with the pixel count (about a
   second per megapixel on one core). ``"direct"``: a sparse LU factorisation
   of the *same* matrix in float64 (SuperLU, ``scipy.sparse.linalg.splu``);
   exact, but its fill-in makes it grow faster than linearly (tens of seconds
   and several GB per megapixel). ``benchmarks/levin_bench.py`` compares them.

Scribbles come from a marked image file (:func:`read_marked_pair`, the
paper's format), from strokes stored as JSON (:func:`load_strokes`,
:func:`rasterize_strokes`), from a ground-truth photo
(:func:`sample_scribbles`), or from the interactive widget in
:mod:`colorkit.widgets.scribble`.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from colorkit.color import rgb_to_yuv, yuv_to_rgb
from colorkit.errors import ColorkitError
from colorkit.io import atomic_write

VAR_SCALE = 0.6  # c_r = 0.6 var_r  (the authors' code)
MIN_NEIGHBOUR_WEIGHT = 0.01  # the most similar neighbour keeps at least this weight
MIN_SCALE = 2e-6  # floor of c_r, for perfectly flat windows
MIN_WEIGHT = 1e-12  # floor of w_rs: every pixel stays linked, so the system always has one solution
RTOL = 3e-3  # CG stops at ||r|| <= RTOL ||b||: about 50 dB PSNR against the direct solution (benchmarks/levin_bench.py)
MAX_ITER = 200
DTYPE = np.float32  # of the system matrix and the CG vectors; the direct solve works in float64
GREY_TOL = 2 / 255  # an RGB array whose channels differ by at most this is accepted as grey
# The 4 directions of the links (each link stored once), and the 9 entries of a row in column order.
EDGES = ((0, 1), (1, 0), (1, 1), (1, -1))
STENCIL = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 0), (0, 1), (1, -1), (1, 0), (1, 1))


# --- inputs ----------------------------------------------------------------------------------------------


def _to_numpy(x, name: str) -> tuple[np.ndarray, bool]:
    """Array or tensor -> (numpy array, was_tensor); anything else is a clear error."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy(), True
    if isinstance(x, np.ndarray):
        return x, False
    raise ColorkitError(f"{name}: expected a numpy array or torch tensor, got {type(x).__name__}")


def _unit_float(a: np.ndarray, name: str) -> np.ndarray:
    """uint8 (0..255) or float ([0, 1]) -> float64 in [0, 1]; NaN/inf and out-of-range floats are errors."""
    if a.dtype == np.uint8:
        return a.astype(np.float64) / 255.0
    if a.dtype == bool or not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise ColorkitError(f"{name}: expected uint8 (0-255) or float ([0, 1]) values, got {a.dtype}")
    a = a.astype(np.float64)
    bad = ~np.isfinite(a)
    if bad.any():
        raise ColorkitError(f"{name}: {int(bad.sum())} value(s) are NaN or infinite")
    if a.size and (a.min() < -1e-6 or a.max() > 1 + 1e-6):
        raise ColorkitError(f"{name}: values must lie in [0, 1] (got {a.min():.4g} to {a.max():.4g}); "
                            "divide 0-255 data by 255 or pass it as uint8")
    return np.clip(a, 0.0, 1.0)


def _luma(rgb: np.ndarray) -> np.ndarray:
    """float (H, W, 3) in [0, 1] -> BT.601 luma Y (H, W), through colorkit.color.rgb_to_yuv."""
    return rgb_to_yuv(torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None])[0, 0].numpy()


def gray_of(rgb) -> np.ndarray:
    """The grey image of a colour photo (numpy (H, W, 3) or tensor (3, H, W)): its BT.601 luma Y, float64 (H, W)."""
    return _luma(as_rgb(rgb, "rgb"))


def as_gray(gray) -> np.ndarray:
    """The grey image as luma Y, float64 (H, W) in [0, 1].

    Accepts numpy (H, W), (H, W, 1) or an RGB array (H, W, 3) whose channels agree
    within 2/255 (a grey photo stored as RGB), and tensors (H, W), (1, H, W),
    (1, 1, H, W), (3, H, W) or (1, 3, H, W) likewise; uint8 in 0-255, floats in
    [0, 1]. A colour image is an error: pass its luma, or use it as the truth.
    """
    a, tensor = _to_numpy(gray, "gray")
    if tensor:  # channels first -> channels last
        while a.ndim > 3 and a.shape[0] == 1:
            a = a[0]
        if a.ndim == 3:
            a = a.transpose(1, 2, 0)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim == 3 and a.shape[2] == 3:
        rgb = _unit_float(a, "gray")
        spread = float((rgb.max(axis=2) - rgb.min(axis=2)).max()) if rgb.size else 0.0
        if spread > GREY_TOL:
            raise ColorkitError(f"gray: expected a grey image, got a colour image {tuple(gray.shape)} "
                                f"(channels differ by up to {spread * 255:.0f}/255); pass its luma Y, "
                                "e.g. colorkit.color.rgb_to_yuv(x)[:, :1], or use it as the ground truth")
        return _luma(rgb)
    if a.ndim != 2:
        raise ColorkitError(f"gray: expected a grey image (H, W), got shape {tuple(gray.shape)}")
    if min(a.shape) < 1:
        raise ColorkitError(f"gray: the image is empty, shape {tuple(gray.shape)}")
    return _unit_float(a, "gray")


def _rgb_array(rgb, name: str) -> np.ndarray:
    """A colour image as a channels-last array (H, W, 3) in its own dtype; tensors are (3, H, W) / (1, 3, H, W)."""
    a, tensor = _to_numpy(rgb, name)
    if tensor:
        if a.ndim == 4 and a.shape[0] == 1:
            a = a[0]
        if a.ndim == 3 and a.shape[0] in (1, 3):
            a = a.transpose(1, 2, 0)
    if a.ndim == 2 or (a.ndim == 3 and a.shape[2] == 1):
        raise ColorkitError(f"{name}: expected a colour image (H, W, 3) (tensors (3, H, W)), got the grey shape "
                            f"{tuple(rgb.shape)}: grey marks carry no colour")
    if a.ndim != 3 or a.shape[2] != 3:
        raise ColorkitError(f"{name}: expected a colour image (H, W, 3) (tensors (3, H, W)), got {tuple(rgb.shape)}")
    return a


def as_rgb(rgb, name: str = "rgb") -> np.ndarray:
    """A colour image as float64 (H, W, 3) in [0, 1]: numpy (H, W, 3) or tensors (3, H, W) / (1, 3, H, W)."""
    return _unit_float(_rgb_array(rgb, name), name)


def as_mask(mask, shape: tuple[int, int]) -> np.ndarray:
    """Scribble mask as bool (H, W): bool or 0/1 values; numpy (H, W) or tensors (H, W), (1, H, W), (1, 1, H, W)."""
    a, tensor = _to_numpy(mask, "mask")
    while a.ndim > 2 and a.shape[0] == 1 and tensor:
        a = a[0]
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim != 2:
        raise ColorkitError(f"mask: expected shape (H, W), got {tuple(mask.shape)}")
    if a.shape != tuple(shape):
        raise ColorkitError(f"mask is {a.shape[0]}x{a.shape[1]} but the grey image is {shape[0]}x{shape[1]}: "
                            "they must have the same size")
    if a.dtype == bool:
        return a
    if not (np.issubdtype(a.dtype, np.number)):
        raise ColorkitError(f"mask: expected bool or 0/1 values, got {a.dtype}")
    if np.issubdtype(a.dtype, np.floating) and not np.isfinite(a).all():
        raise ColorkitError("mask: contains NaN or infinite values; expected bool or 0/1")
    if not np.isin(a, (0, 1)).all():
        raise ColorkitError("mask: expected bool or 0/1 values; found others (did you pass an image?)")
    return a.astype(bool)


def scribble_uv(rgb, mask: np.ndarray) -> np.ndarray:
    """U, V (2, n_scribbled) of the scribble colours at the scribbled pixels (raster order).

    ``rgb`` is the scribble image (numpy (H, W, 3) or a tensor (3, H, W)), ``mask`` bool (H, W).
    Only the scribbled pixels are read: NaNs elsewhere do not matter.
    """
    pix = _rgb_array(rgb, "scribble_rgb")[mask]  # (n, 3)
    if pix.dtype != np.uint8 and np.issubdtype(pix.dtype, np.floating) and not np.isfinite(pix).all():
        raise ColorkitError(f"scribble_rgb: {int((~np.isfinite(pix)).any(axis=1).sum())} scribbled pixel(s) are "
                            "NaN or infinite (NaNs outside the mask are ignored)")
    pix = _unit_float(pix, "scribble_rgb (at the scribbled pixels)")
    return rgb_to_yuv(torch.from_numpy(np.ascontiguousarray(pix.T))[None, :, :, None])[0, 1:, :, 0].numpy()


# --- the affinity ------------------------------------------------------------------------------------------


def local_scale(Y: np.ndarray) -> np.ndarray:
    """c_r = 2 σ_r² (H, W): max(0.6 var_r, min_s (Y_r - Y_s)² / ln 100, 2e-6) over r's 3x3 window (in-image only)."""
    H, W = Y.shape
    zero = np.pad(Y, 1)
    nan = np.pad(Y, 1, constant_values=np.nan)
    ones = np.pad(np.ones_like(Y), 1)
    s, s2, n = np.zeros_like(Y), np.zeros_like(Y), np.zeros_like(Y)
    closest = np.full_like(Y, np.nan)
    for dy, dx in STENCIL:
        win = (slice(1 + dy, 1 + dy + H), slice(1 + dx, 1 + dx + W))
        y = zero[win]
        s += y
        s2 += y * y
        n += ones[win]
        if dy or dx:
            np.fmin(closest, (nan[win] - Y) ** 2, out=closest)  # fmin skips the NaNs outside the image
    mean = s / n
    var = np.maximum(s2 / n - mean * mean, 0.0)
    closest = np.nan_to_num(closest, nan=0.0)  # a 1x1 image has no neighbours
    return np.maximum(np.maximum(VAR_SCALE * var, closest / -math.log(MIN_NEIGHBOUR_WEIGHT)), MIN_SCALE)


def _pair(shape, dy: int, dx: int):
    """Slices (a, b) such that a[i] and b[i] are the pixel pairs (r, r + (dy, dx)) inside the image."""
    H, W = shape
    a = (slice(0, H - dy), slice(max(0, -dx), W - max(0, dx)))
    b = (slice(dy, H), slice(max(0, dx), W + min(0, dx)))
    return a, b


def link_weight(Y: np.ndarray, c: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """w_rs = exp(-(Y_r - Y_s)² / ((c_r + c_s) / 2)) for the pairs (r, s = r + (dy, dx)) of ``_pair``."""
    a, b = _pair(Y.shape, dy, dx)
    d = Y[a] - Y[b]
    w = np.exp(-(d * d) / (0.5 * (c[a] + c[b])))
    return np.maximum(w, MIN_WEIGHT, out=w)


def edge_weights(Y: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    """w between r and r + (dy, dx) for the 4 directions of :data:`EDGES`: arrays over the pairs (see ``_pair``)."""
    c = local_scale(Y)
    return {(dy, dx): link_weight(Y, c, dy, dx) for dy, dx in EDGES}


def affinity_matrix(gray) -> sp.csr_matrix:
    """The symmetric affinity W (N, N), N = H*W pixels in raster order, zero diagonal. For small images."""
    Y = as_gray(gray)
    H, W = Y.shape
    idx = np.arange(H * W).reshape(H, W)
    rows, cols, vals = [], [], []
    for (dy, dx), w in edge_weights(Y).items():
        a, b = _pair(Y.shape, dy, dx)
        rows += [idx[a].ravel(), idx[b].ravel()]
        cols += [idx[b].ravel(), idx[a].ravel()]
        vals += [w.ravel(), w.ravel()]
    n = H * W
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))


# --- the linear system ----------------------------------------------------------------------------------------


@dataclass
class LevinSystem:
    """``A x = rhs`` for the unscribbled pixels; one matrix, two right-hand sides (U, V).

    ``A`` (n_u, n_u) CSR is (D - W) restricted to the unknown pixels, ``rhs`` (n_u, 2) holds
    W_uk x_k for U and V, ``unknown`` (H, W) marks the unknown pixels (raster order gives
    the rows), ``uv_known`` (2, n_k) the scribbled chroma.
    """

    A: sp.csr_matrix
    rhs: np.ndarray
    unknown: np.ndarray
    uv_known: np.ndarray
    seconds: float = 0.0

    def chroma(self, x: np.ndarray) -> np.ndarray:
        """Solution x (n_u, 2) -> U, V planes (2, H, W); scribbled pixels keep their values exactly."""
        uv = np.empty((2, *self.unknown.shape))
        uv[:, self.unknown] = x.T
        uv[:, ~self.unknown] = self.uv_known
        return uv


def build_system(Y: np.ndarray, mask: np.ndarray, uv_known: np.ndarray, dtype=DTYPE) -> LevinSystem:
    """Assemble the system for luma ``Y`` (H, W), scribble ``mask`` (H, W) and scribbled chroma (2, n_k).

    Vectorised: a few whole-image array operations per link direction, no loop over pixels.
    The CSR arrays are written in place (at most 9 entries a row, in column order), so the
    memory used stays close to the size of the final matrix. ``dtype`` is that of the
    matrix and right-hand sides (float32 by default: half the memory traffic).
    """
    t0 = time.perf_counter()
    H, W = Y.shape
    N = H * W
    unk = ~mask
    itype = np.int32 if 9 * N < 2**31 - 1 else np.int64
    c = local_scale(Y)
    known_uv = np.zeros((2, H, W))
    known_uv[:, mask] = uv_known
    deg = np.zeros((H, W))  # d_r = Σ_s w_rs over all 8 neighbours, scribbled or not
    rhs = np.zeros((2, H, W))  # Σ_{s scribbled} w_rs (U_s, V_s)
    links = {}  # (dy, dx) -> (H+2, W+2): weight of the link r -> r + (dy, dx) when both are unknown
    for dy, dx in EDGES:
        a, b = _pair(Y.shape, dy, dx)
        w = link_weight(Y, c, dy, dx)
        deg[a] += w
        deg[b] += w
        ua, ub = unk[a], unk[b]
        rhs[:, a[0], a[1]] += np.where(ua & ~ub, w, 0.0) * known_uv[:, b[0], b[1]]
        rhs[:, b[0], b[1]] += np.where(ub & ~ua, w, 0.0) * known_uv[:, a[0], a[1]]
        full = np.zeros((H + 2, W + 2), dtype=dtype)
        full[1 + a[0].start:1 + a[0].stop, 1 + a[1].start:1 + a[1].stop] = np.where(ua & ub, w, 0.0)
        links[(dy, dx)] = full
    del c, known_uv, w, ua, ub

    def coupling(dy, dx):  # (H, W) view: weight of the link from each pixel to its (dy, dx) neighbour
        if (dy, dx) in links:
            return links[(dy, dx)][1:H + 1, 1:W + 1]
        return links[(-dy, -dx)][1 + dy:H + 1 + dy, 1 + dx:W + 1 + dx]

    n_u = int(unk.sum())
    rows = np.flatnonzero(unk).astype(itype)  # pixel index of each unknown, in raster order
    number = np.full(N, -1, dtype=itype)  # pixel index -> row of the system
    number[rows] = np.arange(n_u, dtype=itype)
    indptr = np.zeros(n_u + 1, dtype=itype)
    count = indptr[1:]
    count += 1  # the diagonal
    for dy, dx in STENCIL:
        if dy or dx:
            count += coupling(dy, dx)[unk] > 0
    np.cumsum(count, out=count)
    nnz = int(indptr[-1])
    data = np.empty(nnz, dtype=dtype)
    indices = np.empty(nnz, dtype=itype)
    pos = indptr[:-1].copy()
    for dy, dx in STENCIL:  # column order, so each row's indices come out sorted
        if dy == 0 and dx == 0:
            data[pos] = deg[unk]
            indices[pos] = np.arange(n_u, dtype=itype)
            pos += 1
            continue
        v = coupling(dy, dx)[unk]
        on = v > 0
        p = pos[on]
        data[p] = -v[on]
        indices[p] = number[rows[on] + (dy * W + dx)]
        pos += on
    del pos, links, number, rows, deg
    A = sp.csr_matrix((data, indices, indptr), shape=(n_u, n_u))
    A.has_sorted_indices = True
    system = LevinSystem(A, np.ascontiguousarray(rhs[:, unk].T, dtype=dtype), unk, uv_known)
    system.seconds = time.perf_counter() - t0
    return system


# --- solvers ---------------------------------------------------------------------------------------------------


@dataclass
class SolveInfo:
    """How a solve went: method, seconds per stage, CG iterations per channel, system size."""

    method: str
    unknowns: int
    nnz: int
    build_s: float = 0.0
    setup_s: float = 0.0
    solve_s: float = 0.0
    total_s: float = 0.0
    iterations: list[int] = field(default_factory=list)
    levels: int = 0
    converged: bool = True

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def solve_direct(system: LevinSystem, info: SolveInfo | None = None) -> np.ndarray:
    """x (n_u, 2) by SuperLU: one factorisation of A, then U and V by substitution."""
    t0 = time.perf_counter()
    lu = spla.splu(system.A.astype(np.float64).tocsc())
    t1 = time.perf_counter()
    x = lu.solve(system.rhs.astype(np.float64))
    if info is not None:
        info.setup_s, info.solve_s = t1 - t0, time.perf_counter() - t1
    return x


class AMG:
    """Smoothed-aggregation algebraic multigrid for the symmetric system A, used as a preconditioner.

    Set-up, per level: strong links (pyamg's symmetric strength, ``theta``), pyamg's standard
    aggregation, the constant vector on each aggregate as tentative prolongator T, one Jacobi
    step ``P = T - omega D^-1 A T`` with D_rr = Σ_s |A_rs| (no eigenvalue estimate needed),
    and the Galerkin coarse matrix ``P^T A P``; everything stays CSR, which keeps it cheap.
    ``M @ r`` applies one V-cycle from zero: Gauss-Seidel forward, coarse correction,
    Gauss-Seidel backward -- a symmetric operator, as conjugate gradients needs.
    """

    def __init__(self, A: sp.csr_matrix, theta: float = 0.0, omega: float = 4.0 / 3.0, max_coarse: int = 50):
        from pyamg.aggregation import standard_aggregation
        from pyamg.strength import symmetric_strength_of_connection

        self.A, self.P, self.R = [sp.csr_matrix(A)], [], []
        while self.A[-1].shape[0] > max_coarse and len(self.A) < 25:
            A = self.A[-1]
            # with theta = 0 every link is strong: the aggregation reads A's own pattern (no copy of it)
            strong = A if theta == 0 else symmetric_strength_of_connection(A, theta)
            agg = sp.csr_matrix(standard_aggregation(strong)[0])  # (n, n_coarse), ones
            del strong
            if agg.shape[1] == 0 or agg.shape[1] >= 0.9 * A.shape[0]:
                break  # coarsening stalls (few links left): solve this level directly
            sizes = np.asarray(agg.sum(axis=0)).ravel()
            T = sp.csr_matrix(((1.0 / np.sqrt(sizes[agg.indices])).astype(A.dtype), agg.indices, agg.indptr),
                              shape=agg.shape)
            d = np.add.reduceat(np.abs(A.data), A.indptr[:-1]) if A.nnz else np.zeros(A.shape[0])
            d[np.diff(A.indptr) == 0] = 0.0  # reduceat repeats a value for empty rows
            scale = np.divide(omega, d, out=np.zeros_like(d), where=d > 0)
            AT = (A @ T).tocsr()
            AT.data *= -np.repeat(scale, np.diff(AT.indptr)).astype(AT.dtype)
            P = (T + AT).tocsr()
            del AT
            self.P.append(P)
            self.R.append(P.T)  # a CSC view, no copy
            self.A.append(sp.csr_matrix(P.T.tocsr() @ (A @ P)))
        coarsest = self.A[-1]
        if coarsest.shape[0] <= 1000:
            self._coarse = np.linalg.pinv(coarsest.toarray().astype(np.float64)).astype(coarsest.dtype)
        else:
            self._coarse = spla.splu(coarsest.tocsc())
        self.shape = self.A[0].shape

    @property
    def levels(self) -> int:
        return len(self.A)

    def complexity(self) -> float:
        """Operator complexity: non-zeros of all levels over those of the finest."""
        return sum(a.nnz for a in self.A) / max(1, self.A[0].nnz)

    def _cycle(self, level: int, b: np.ndarray) -> np.ndarray:
        from pyamg.relaxation.relaxation import gauss_seidel

        if level == len(self.A) - 1:
            c = self._coarse
            return c @ b if isinstance(c, np.ndarray) else c.solve(b)
        A = self.A[level]
        x = np.zeros_like(b)
        gauss_seidel(A, x, b, iterations=1, sweep="forward")
        x += self.P[level] @ self._cycle(level + 1, self.R[level] @ (b - A @ x))
        gauss_seidel(A, x, b, iterations=1, sweep="backward")
        return x

    def __matmul__(self, b: np.ndarray) -> np.ndarray:
        return self._cycle(0, np.ascontiguousarray(b, dtype=self.A[0].dtype))


def pcg(A, b: np.ndarray, M, rtol: float = RTOL, maxiter: int = MAX_ITER, x0: np.ndarray | None = None,
        ) -> tuple[np.ndarray, int]:
    """Preconditioned conjugate gradients for SPD ``A``: (x, iterations); stops at ||b - A x|| <= rtol ||b||.

    Plain numpy (dot products by ``einsum``, which stay single-threaded and cheap on a busy machine).
    """
    def dot(u, v):
        return float(np.einsum("i,i->", u, v))

    x = np.zeros_like(b) if x0 is None else x0.astype(b.dtype, copy=True)
    r = b - A @ x if x0 is not None else b.copy()
    stop = rtol * math.sqrt(dot(b, b))
    if math.sqrt(dot(r, r)) <= stop:
        return x, 0
    z = M @ r
    p = z.copy()
    rz = dot(r, z)
    for it in range(1, maxiter + 1):
        q = A @ p
        pq = dot(p, q)
        if pq <= 0:  # only round-off does this to an SPD matrix: the search direction has vanished
            return x, it
        alpha = rz / pq
        x += np.asarray(alpha, dtype=x.dtype) * p
        r -= np.asarray(alpha, dtype=x.dtype) * q
        if math.sqrt(dot(r, r)) <= stop:
            return x, it
        z = M @ r
        rz, rz_old = dot(r, z), rz
        p *= np.asarray(rz / rz_old, dtype=p.dtype)
        p += z
    return x, maxiter


def solve_amg(system: LevinSystem, rtol: float = RTOL, maxiter: int = MAX_ITER,
              info: SolveInfo | None = None) -> np.ndarray:
    """x (n_u, 2) by AMG-preconditioned conjugate gradients; the hierarchy is built once for U and V.

    Each channel stops when ``||b - A x|| <= rtol ||b||``.
    """
    t0 = time.perf_counter()
    M = AMG(system.A)
    t1 = time.perf_counter()
    x = np.zeros_like(system.rhs)
    iterations = []
    for j in range(system.rhs.shape[1]):
        x[:, j], its = pcg(system.A, np.ascontiguousarray(system.rhs[:, j]), M, rtol=rtol, maxiter=maxiter)
        iterations.append(its)
    if info is not None:
        info.converged = max(iterations) < maxiter
        info.setup_s, info.solve_s = t1 - t0, time.perf_counter() - t1
        info.iterations, info.levels = iterations, M.levels
    return x


SOLVERS = {"amg": solve_amg, "direct": solve_direct}


def solve_chroma(Y: np.ndarray, mask: np.ndarray, uv_known: np.ndarray, method: str = "amg", rtol: float = RTOL,
                 info: SolveInfo | None = None) -> np.ndarray:
    """U, V planes (2, H, W) from luma ``Y`` (H, W), ``mask`` (H, W) and scribbled chroma (2, n_k)."""
    if method not in SOLVERS:
        raise ColorkitError(f"unknown method {method!r}; choose one of {', '.join(SOLVERS)}")
    if not mask.any():
        raise ColorkitError("no scribbles: the mask marks no pixel, so there is no colour to spread "
                            "(mark at least one pixel)")
    system = build_system(Y, mask, uv_known)
    if info is not None:
        info.unknowns, info.nnz, info.build_s = system.A.shape[0], system.A.nnz, system.seconds
    if system.A.shape[0] == 0:  # every pixel scribbled: nothing to solve
        return system.chroma(np.zeros((0, 2)))
    if method == "amg":
        x = solve_amg(system, rtol=rtol, info=info)
    else:
        x = solve_direct(system, info=info)
    return system.chroma(x)


def colorize(gray, scribble_rgb, mask, method: str = "amg", rtol: float = RTOL, return_info: bool = False):
    """Colorize a grey image from colour scribbles (Levin, Lischinski & Weiss 2004).

    - ``gray``: the grey image, taken as the luma Y: numpy (H, W) (or an RGB array with equal
      channels), or a tensor (H, W), (1, H, W), (1, 1, H, W); uint8 0-255 or float in [0, 1].
    - ``scribble_rgb``: the scribble colours, numpy (H, W, 3) or a tensor (3, H, W) / (1, 3, H, W);
      only the values where ``mask`` is set are read (NaNs elsewhere are ignored).
    - ``mask``: bool (H, W) (or 0/1), True where a pixel is scribbled.

    Returns the colour image, float in [0, 1]: numpy (H, W, 3) if ``gray`` is a numpy array, else
    a float tensor (3, H, W), or (1, 3, H, W) when ``gray`` was 4-D. Every pixel keeps the Y of
    ``gray``; scribbled pixels keep the scribble's U and V exactly (so they show the scribble
    colour when its luma matches ``gray``); the rest is solved. With ``return_info`` the result
    comes with a :class:`SolveInfo`.

    Bad input raises :class:`ColorkitError`: different sizes, no scribbled pixel, NaN or
    infinite values in ``gray`` or at scribbled pixels, a colour image as ``gray``, a grey
    image as ``scribble_rgb``. Every pixel scribbled is allowed: nothing is solved and the
    result is the scribble's chroma on ``gray``'s Y.
    """
    t0 = time.perf_counter()
    Y = as_gray(gray)
    rgb = _rgb_array(scribble_rgb, "scribble_rgb")
    if rgb.shape[:2] != Y.shape:
        raise ColorkitError(f"the scribble image is {rgb.shape[0]}x{rgb.shape[1]} but the grey image is "
                            f"{Y.shape[0]}x{Y.shape[1]}: they must have the same size")
    m = as_mask(mask, Y.shape)
    info = SolveInfo(method, 0, 0)
    uv = solve_chroma(Y, m, scribble_uv(rgb, m), method=method, rtol=rtol, info=info)
    yuv = torch.from_numpy(np.concatenate([Y[None], uv]))[None]  # (1, 3, H, W)
    out = yuv_to_rgb(yuv, clip=True)
    info.total_s = time.perf_counter() - t0
    if isinstance(gray, torch.Tensor):
        out = out.to(gray.dtype if gray.is_floating_point() else torch.float32)
        result = out if gray.ndim == 4 else out[0]
    else:
        result = np.ascontiguousarray(out[0].numpy().transpose(1, 2, 0))
    return (result, info) if return_info else result


def chroma_of(rgb) -> np.ndarray:
    """U, V planes (2, H, W) of a colour image (numpy (H, W, 3) or tensor (3, H, W)), float64."""
    x = as_rgb(rgb, "rgb")
    return rgb_to_yuv(torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None])[0, 1:].numpy()


# --- scribbles: the classic marked-image pair ----------------------------------------------------------------


def marks_from_pair(gray_image, marked_image, tol: float = 0.01) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Y (H, W), scribble_rgb (H, W, 3), mask (H, W)) from a grey image and the same image with colour marks.

    Marks are the pixels where the two differ: Σ_channels |marked - grey| > ``tol`` (images in
    [0, 1]; 0.01 as in the authors' code). Lossy JPEG pairs need a larger ``tol``.
    """
    if np.ndim(gray_image) == 3 and np.shape(gray_image)[-1] == 3:
        g = as_rgb(gray_image, "grey image")
    else:
        g = np.repeat(as_gray(gray_image)[:, :, None], 3, axis=2)
    m = as_rgb(marked_image, "marked image")
    if g.shape != m.shape:
        raise ColorkitError(f"the grey image is {g.shape[0]}x{g.shape[1]} but the marked image is "
                            f"{m.shape[0]}x{m.shape[1]}: a marked pair must have the same size")
    mask = np.abs(m - g).sum(axis=2) > tol
    return _luma(g), m, mask


def read_marked_pair(gray_path, marked_path, tol: float = 0.01) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read the paper's input format: a grey image file and a copy with colour marks.

    Returns (Y (H, W) float in [0, 1], scribble_rgb (H, W, 3) float, mask (H, W) bool) for
    :func:`colorize`. Errors name the file: unreadable, different sizes, a grey file in colour,
    or no marks at all.
    """
    from colorkit.io import read_image

    gray_img, marked = read_image(gray_path), read_image(marked_path)
    if gray_img.shape != marked.shape:
        raise ColorkitError(f"is {marked.shape[1]}x{marked.shape[0]} but the grey image {gray_path} is "
                            f"{gray_img.shape[1]}x{gray_img.shape[0]}: a marked pair must have the same size",
                            path=marked_path)
    spread = int((gray_img.max(axis=2).astype(int) - gray_img.min(axis=2)).max())
    if spread * 1.0 / 255 > max(GREY_TOL, tol):
        raise ColorkitError(f"expected the grey image of the pair, but it is in colour (channels differ by up to "
                            f"{spread}/255)", path=gray_path)
    Y, rgb, mask = marks_from_pair(gray_img, marked, tol)
    if not mask.any():
        raise ColorkitError(f"no colour marks: it does not differ from the grey image {gray_path}", path=marked_path)
    return Y, rgb, mask


# --- scribbles: strokes (hand-placed, stored as JSON) ---------------------------------------------------------


def _hex_rgb(colour) -> tuple[int, int, int]:
    if isinstance(colour, str):
        s = colour.lstrip("#")
        if len(s) == 6:
            try:
                return tuple(int(s[i:i + 2], 16) for i in (0, 2, 4))
            except ValueError:
                pass
        raise ColorkitError(f"stroke colour {colour!r}: expected '#rrggbb'")
    c = tuple(int(v) for v in colour)
    if len(c) != 3 or min(c) < 0 or max(c) > 255:
        raise ColorkitError(f"stroke colour {colour!r}: expected '#rrggbb' or three integers 0-255")
    return c


def rasterize_strokes(shape: tuple[int, int], strokes: list[dict], size: tuple[int, int] | None = None,
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Draw strokes into (scribble_rgb uint8 (H, W, 3), mask bool (H, W)) for an image of ``shape`` (H, W).

    A stroke is ``{"color": "#rrggbb", "width": px, "points": [[x, y], ...]}`` in the pixel
    coordinates of an image of ``size`` = (width, height) (default: ``shape`` itself); they
    are scaled to ``shape``. Later strokes paint over earlier ones; ends are round.
    """
    from PIL import Image, ImageDraw

    H, W = shape
    sx, sy = (1.0, 1.0) if size is None else (W / size[0], H / size[1])
    canvas = Image.new("RGB", (W, H))
    marks = Image.new("L", (W, H))
    draw_c, draw_m = ImageDraw.Draw(canvas), ImageDraw.Draw(marks)
    for k, stroke in enumerate(strokes):
        try:
            pts = [(float(x) * sx, float(y) * sy) for x, y in stroke["points"]]
            colour = _hex_rgb(stroke["color"])
            width = max(1.0, float(stroke.get("width", 3)) * 0.5 * (sx + sy))
        except (KeyError, TypeError, ValueError) as exc:
            raise ColorkitError(f"stroke {k}: expected color, width and points [[x, y], ...] ({exc})") from None
        if not pts:
            continue
        r = width / 2
        for draw, fill in ((draw_c, colour), (draw_m, 255)):
            if len(pts) > 1:
                draw.line(pts, fill=fill, width=max(1, round(width)), joint="curve")
            for x, y in (pts[0], pts[-1]):
                draw.ellipse((x - r + 0.5, y - r + 0.5, x + r - 0.5, y + r - 0.5), fill=fill)
    return np.asarray(canvas).copy(), np.asarray(marks) > 127


def load_strokes(path) -> dict:
    """Read a stroke file: ``{"size": [width, height], "strokes": [{"color", "width", "points", "label"?}, ...]}``."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ColorkitError("no such stroke file", path=path) from None
    except (OSError, ValueError) as exc:
        raise ColorkitError(f"not a readable stroke file ({exc})", path=path) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("strokes"), list) or len(doc.get("size", ())) != 2:
        raise ColorkitError('expected {"size": [width, height], "strokes": [...]}', path=path)
    return doc


def save_strokes(path, strokes: list[dict], size: tuple[int, int], **extra) -> Path:
    """Write strokes (image ``size`` = (width, height)) as JSON, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {**extra, "size": [int(size[0]), int(size[1])], "strokes": strokes}
    text = json.dumps(doc, indent=1)
    atomic_write(path, (text + "\n").encode("utf-8"))
    return path


# --- scribbles: sampled from a ground-truth photo -------------------------------------------------------------


def sample_scribbles(rgb, n: int, kind: str = "points", seed: int = 0, length: int = 15, width: int = 3,
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic scribbles from a ground-truth colour photo: (scribble_rgb (H, W, 3), mask (H, W)).

    ``kind="points"``: ``n`` distinct random pixels. ``kind="strokes"``: ``n`` straight strokes
    of ``length`` pixels and ``width`` pixels at random places and angles. Every marked
    pixel gets its *true* colour (an ideal scribbler): the scribble image is a copy of ``rgb``
    (numpy, channels last, same dtype). Same ``seed``, same scribbles.
    """
    truth = _rgb_array(rgb, "rgb")
    H, W = truth.shape[:2]
    rng = np.random.default_rng(seed)
    n = int(n)
    if n < 1:
        raise ColorkitError(f"sample_scribbles: n must be at least 1, got {n}")
    mask = np.zeros((H, W), dtype=bool)
    if kind == "points":
        picks = rng.choice(H * W, size=min(n, H * W), replace=False)
        mask.flat[picks] = True
    elif kind == "strokes":
        y0, x0 = rng.uniform(0, H, n), rng.uniform(0, W, n)
        angle = rng.uniform(0, np.pi, n)
        t = np.linspace(-0.5, 0.5, max(2, 2 * int(length)))[None, :] * length  # (1, T) along the stroke
        ys = y0[:, None] + t * np.sin(angle)[:, None]
        xs = x0[:, None] + t * np.cos(angle)[:, None]
        r = (width - 1) / 2
        for oy in np.arange(-r, r + 1):
            for ox in np.arange(-r, r + 1):
                yy, xx = np.round(ys + oy).astype(int), np.round(xs + ox).astype(int)
                ok = (yy >= 0) & (yy < H) & (xx >= 0) & (xx < W)
                mask[yy[ok], xx[ok]] = True
    else:
        raise ColorkitError(f"sample_scribbles: kind must be 'points' or 'strokes', not {kind!r}")
    return truth.copy(), mask


# --- the 1927 Solvay Conference photo ------------------------------------------------------------------------

SOLVAY_PACKAGE = "visp-images-data"
SOLVAY_MEMBER = "usr/share/visp-images-data/ViSP-images/Solvay/Solvay_conference_1927_Version2_{size}.png"
SOLVAY_SIZES = ("640x440", "1024x705", "1280x881", "2126x1463")


def solvay_photo(size: str = "1024x705") -> np.ndarray:
    """The 1927 Solvay Conference group photo (a real black-and-white photograph), grey uint8 (H, W).

    It ships in Debian's ``visp-images-data`` package. On first use the package is fetched
    with ``apt-get download`` (no install, kept in ``data_dir()/debs``) and the photo is
    extracted to ``data_dir()/extra/solvay/``; later calls read that file. A clear
    ColorkitError when ``apt-get``/``dpkg-deb`` are missing or the mirror cannot be reached.
    """
    from colorkit.io import read_image
    from colorkit.paths import data_dir

    if size not in SOLVAY_SIZES:
        raise ColorkitError(f"solvay_photo: size must be one of {', '.join(SOLVAY_SIZES)}, not {size!r}")
    member = SOLVAY_MEMBER.format(size=size)
    target = data_dir() / "extra" / "solvay" / Path(member).name
    if not target.exists():
        from colorkit.data import deb_members, fetch_deb

        deb = fetch_deb(SOLVAY_PACKAGE, data_dir() / "debs")
        files = deb_members(deb, [member])
        if member not in files:
            raise ColorkitError(f"{member} is not in the package", path=deb)
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, files[member])
    rgb = read_image(target)
    return np.round(_luma(rgb.astype(np.float64) / 255.0) * 255.0).astype(np.uint8)
