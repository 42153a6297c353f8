"""The affinity between neighbouring pixels and the linear system it gives (Levin et al. 2004, eqs. 1-2).

``local_scale`` -> ``link_weight`` -> ``affinity_matrix`` (W, for small images and the notebook),
and ``build_system``: the constrained graph-Laplacian ``(D - W)_uu x_u = W_uk x_k`` as one
CSR matrix shared by U and V (:class:`LevinSystem`), assembled without a loop over pixels.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from colorkit.levin.inputs import as_gray

VAR_SCALE = 0.6  # c_r = 0.6 var_r  (the authors' code)
MIN_NEIGHBOUR_WEIGHT = 0.01  # the most similar neighbour keeps at least this weight
MIN_SCALE = 2e-6  # floor of c_r, for perfectly flat windows
MIN_WEIGHT = 1e-12  # floor of w_rs: every pixel stays linked, so the system always has one solution
DTYPE = np.float32  # of the system matrix and the CG vectors; the direct solve works in float64
# The 4 directions of the links (each link stored once), and the 9 entries of a row in column order.
EDGES = ((0, 1), (1, 0), (1, 1), (1, -1))
STENCIL = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 0), (0, 1), (1, -1), (1, 0), (1, 1))


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


def affinity_matrix(gray) -> sp.csr_matrix:
    """The symmetric affinity W (N, N), N = H*W pixels in raster order, zero diagonal. For small images."""
    Y = as_gray(gray)
    H, W = Y.shape
    c = local_scale(Y)
    idx = np.arange(H * W).reshape(H, W)
    rows, cols, vals = [], [], []
    for dy, dx in EDGES:
        w = link_weight(Y, c, dy, dx)
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


def _coupling(links: dict, shape, dy: int, dx: int) -> np.ndarray:
    """(H, W) view: weight of the link from each pixel to its (dy, dx) neighbour when both are unknown, else 0.

    ``links`` holds one padded (H+2, W+2) plane per direction of :data:`EDGES`; the opposite
    direction is the same plane, shifted.
    """
    H, W = shape
    if (dy, dx) in links:
        return links[(dy, dx)][1:H + 1, 1:W + 1]
    return links[(-dy, -dx)][1 + dy:H + 1 + dy, 1 + dx:W + 1 + dx]


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
    del c, known_uv, w, ua, ub  # free them before the CSR arrays are allocated

    n_u = int(unk.sum())
    rows = np.flatnonzero(unk).astype(itype)  # pixel index of each unknown, in raster order
    number = np.full(N, -1, dtype=itype)  # pixel index -> row of the system
    number[rows] = np.arange(n_u, dtype=itype)
    indptr = np.zeros(n_u + 1, dtype=itype)
    count = indptr[1:]
    count += 1  # the diagonal
    for dy, dx in STENCIL:
        if dy or dx:
            count += _coupling(links, Y.shape, dy, dx)[unk] > 0
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
        v = _coupling(links, Y.shape, dy, dx)[unk]
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
