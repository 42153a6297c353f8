"""Solving the system for U and V, and :func:`colorize`, the method end to end.

Two solvers of the *same* system (:func:`colorkit.levin.system.build_system`):

- ``"amg"`` (default): conjugate gradients (:func:`pcg`) preconditioned with one V-cycle of
  smoothed-aggregation algebraic multigrid (:class:`AMG`), in float32, to ``RTOL``;
- ``"direct"``: one SuperLU factorisation in float64, then U and V by substitution.

``benchmarks/levin_bench.py`` compares their time, memory and agreement.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from colorkit.color import yuv_to_rgb
from colorkit.errors import ColorkitError
from colorkit.levin.inputs import _rgb_array, as_gray, as_mask, scribble_uv
from colorkit.levin.system import LevinSystem, build_system

RTOL = 3e-3  # CG stops at ||r|| <= RTOL ||b||: about 50 dB PSNR against the direct solution (benchmarks/levin_bench.py)
MAX_ITER = 200
METHODS = ("amg", "direct")


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


# --- direct ------------------------------------------------------------------------------------------------------


def solve_direct(system: LevinSystem, info: SolveInfo | None = None) -> np.ndarray:
    """x (n_u, 2) by SuperLU: one factorisation of A, then U and V by substitution."""
    t0 = time.perf_counter()
    lu = spla.splu(system.A.astype(np.float64).tocsc())
    t1 = time.perf_counter()
    x = lu.solve(system.rhs.astype(np.float64))
    if info is not None:
        info.setup_s, info.solve_s = t1 - t0, time.perf_counter() - t1
    return x


# --- AMG-preconditioned conjugate gradients ---------------------------------------------------------------------


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

    @property
    def levels(self) -> int:
        return len(self.A)

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


def pcg(A, b: np.ndarray, M, rtol: float = RTOL, maxiter: int = MAX_ITER) -> tuple[np.ndarray, int]:
    """Preconditioned conjugate gradients for SPD ``A`` from x = 0: (x, iterations); stops at ||b - A x|| <= rtol ||b||.

    Plain numpy (dot products by ``einsum``, which stay single-threaded and cheap on a busy machine).
    """
    def dot(u, v):
        return float(np.einsum("i,i->", u, v))

    x = np.zeros_like(b)
    r = b.copy()
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


# --- the method end to end --------------------------------------------------------------------------------------


def solve_chroma(Y: np.ndarray, mask: np.ndarray, uv_known: np.ndarray, method: str = "amg", rtol: float = RTOL,
                 info: SolveInfo | None = None) -> np.ndarray:
    """U, V planes (2, H, W) from luma ``Y`` (H, W), ``mask`` (H, W) and scribbled chroma (2, n_k)."""
    if method not in METHODS:
        raise ColorkitError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
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
