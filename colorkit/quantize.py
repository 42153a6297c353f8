"""Quantised chroma: ab bins, soft encoding, the colour prior, rebalancing, decoding.

Zhang, Isola & Efros, "Colorful Image Colorization", ECCV 2016, turn
colorization into classification: the ab plane is cut into square cells of
side 10, and the network predicts a distribution ``z`` over the Q cells that
sRGB colours can reach, for every pixel.

* **The bins.** Cell centres lie on the grid of multiples of ``step``; a cell
  is ``[a_c - step/2, a_c + step/2) x [b_c - step/2, b_c + step/2)``.
  *Rule:* a cell is in gamut when at least one of the 256³ 8-bit sRGB colours
  (any lightness) has its ab inside the cell. With step 10 this gives
  **Q = 261**, a in [-90, 100], b in [-110, 90]. Zhang et al. report
  **Q = 313**, a in [-90, 100], b in [-110, 100]: their set is more generous
  than the sRGB gamut. Growing every cell by ``margin=5`` on each side (a bin is
  kept when an sRGB colour lies within 10 ab units of its centre in both a and
  b) gives 309 bins with exactly their ranges; see :func:`compare_with_zhang`.
* **Soft encoding** (their eq. 2 target): a true ab spreads over its 5
  nearest bins with Gaussian weights of sigma = 5.
* **Prior and rebalancing** (their eq. 4): p is the share of training pixels
  in each bin, smoothed with a Gaussian of sigma = 5; rare colours get weight
  w ∝ ((1 - λ) p + λ / Q)⁻¹, λ = 0.5, normalised so that E_p[w] = 1.
* **Decoding** (their eq. 5): the mean of z is desaturated, the mode is
  patchy; the *annealed mean* takes the mean of f_T(z) = exp(log z / T) /
  Σ exp(log z / T), T = 0.38.

ColorUNet (Billaut, de Rochemonteix & Thibault 2018) does the same in YUV with
a small palette: the n most frequent UV cells (:func:`yuv_palette`).

Conventions: ab tensors are (N, 2, H, W) in Lab units; bins are float32
tensors (Q, 2) with column 0 = a, column 1 = b, ordered a-major (a, then b).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
from tqdm.auto import tqdm

from colorkit.color import rgb_to_lab
from colorkit.errors import ColorkitError
from colorkit.io import atomic_write
from colorkit.paths import REPO_ROOT

STATS_DIR = REPO_ROOT / "data" / "stats"
OCCUPANCY_PATH = STATS_DIR / "ab_bins_srgb_occupancy.npy"

AB_EDGE = 128.0  # ab planes below cover [-128, 128) in both axes
FINE = 0.5  # resolution of the sRGB occupancy map, in ab units

# What the paper reports (Zhang et al. 2016, Fig. 2a and Sec. 2.1): grid size 10.
ZHANG_Q = 313
ZHANG_A_RANGE = (-90.0, 100.0)
ZHANG_B_RANGE = (-110.0, 100.0)


# --- the grid and the in-gamut bins ---------------------------------------------------


def ab_grid(step: float = 10) -> torch.Tensor:
    """All candidate cell centres (G, 2): multiples of ``step`` inside [-128, 128], a-major.

    With step 10: centres -120, -110, ..., 120 on each axis, G = 25 x 25 = 625.
    """
    if step <= 0:
        raise ColorkitError(f"ab_grid: step must be positive, got {step}")
    k = np.arange(math.ceil(-AB_EDGE / step), math.floor(AB_EDGE / step) + 1)
    c = k * float(step)
    a, b = np.meshgrid(c, c, indexing="ij")
    return torch.from_numpy(np.stack([a.ravel(), b.ravel()], axis=1)).float()


def _compute_srgb_occupancy() -> np.ndarray:
    """(512, 512) bool: True where some 8-bit sRGB colour has its ab in the fine cell.

    Fine cell (i, j) is a in [-128 + i/2, -128 + (i+1)/2), b likewise with j.
    All 256³ colours are converted (one red level at a time, float64).
    """

    n = int(2 * AB_EDGE / FINE)
    occ = np.zeros((n, n), dtype=bool)
    levels = torch.arange(256, dtype=torch.float64) / 255.0
    g, b = torch.meshgrid(levels, levels, indexing="ij")  # (256, 256) each
    for r in tqdm(levels, desc="sRGB gamut in ab", leave=False):
        rgb = torch.stack([torch.full_like(g, float(r)), g, b])[None]  # (1, 3, 256, 256)
        ab = rgb_to_lab(rgb)[0, 1:].reshape(2, -1).numpy()  # (2, 65536)
        idx = np.floor((ab + AB_EDGE) / FINE).astype(np.int64)
        occ[idx[0], idx[1]] = True
    return occ


def _atomic_save_npy(path, array: np.ndarray) -> None:
    atomic_write(path, lambda f: np.save(f, array))


@functools.lru_cache(maxsize=1)
def _srgb_occupancy_cached() -> np.ndarray:
    n = int(2 * AB_EDGE / FINE)
    if OCCUPANCY_PATH.exists():
        packed = np.load(OCCUPANCY_PATH)
        if packed.shape == (n, n // 8) and packed.dtype == np.uint8:
            return np.unpackbits(packed, axis=1).astype(bool)
    occ = _compute_srgb_occupancy()
    try:
        _atomic_save_npy(OCCUPANCY_PATH, np.packbits(occ, axis=1))
    except OSError:
        pass  # a read-only install: keep the map in memory only
    return occ


def srgb_ab_occupancy() -> np.ndarray:
    """Where sRGB reaches in the ab plane: (512, 512) bool over [-128, 128)², cells of 0.5, axis 0 = a.

    Computed once from all 256³ 8-bit sRGB colours (about 10 s) and cached,
    bit-packed, in ``data/stats/ab_bins_srgb_occupancy.npy``.
    """
    return _srgb_occupancy_cached().copy()


def gamut_bins(step: float = 10, margin: float = 0.0) -> torch.Tensor:
    """Centres (Q, 2) of the in-gamut bins, float32, a-major. Q = 261 for step 10.

    A cell centred at c is kept when some 8-bit sRGB colour has its ab in
    ``[c - step/2 - margin, c + step/2 + margin)`` on both axes (see the module
    docstring). ``margin=0`` is the plain rule; ``margin=5`` reproduces the
    ranges of Zhang et al.'s set. Exact when ``step/2 + margin`` is a multiple
    of 0.5 (the resolution of :func:`srgb_ab_occupancy`).
    """
    occ = _srgb_occupancy_cached()
    n = occ.shape[0]
    # Summed-area table: any(occ[i0:i1, j0:j1]) in O(1) per centre.
    sat = np.zeros((n + 1, n + 1), dtype=np.int64)
    sat[1:, 1:] = occ.cumsum(0).cumsum(1)
    half = step / 2 + margin
    keep = []
    for a, b in ab_grid(step).numpy().astype(np.float64):
        i0, i1 = (int(np.clip(v, 0, n)) for v in (math.ceil((a - half + AB_EDGE) / FINE), (a + half + AB_EDGE) // FINE))
        j0, j1 = (int(np.clip(v, 0, n)) for v in (math.ceil((b - half + AB_EDGE) / FINE), (b + half + AB_EDGE) // FINE))
        inside = sat[i1, j1] - sat[i0, j1] - sat[i1, j0] + sat[i0, j0] if i1 > i0 and j1 > j0 else 0
        keep.append(inside > 0)
    return ab_grid(step)[torch.tensor(keep)]


def bins_summary(bins: torch.Tensor) -> dict:
    """Q and the a / b ranges of a bin set: ``{"Q", "a_min", "a_max", "b_min", "b_max"}``."""
    bins = torch.as_tensor(bins)
    return {
        "Q": int(bins.shape[0]),
        "a_min": float(bins[:, 0].min()),
        "a_max": float(bins[:, 0].max()),
        "b_min": float(bins[:, 1].min()),
        "b_max": float(bins[:, 1].max()),
    }


def compare_with_zhang(step: float = 10) -> dict[str, dict]:
    """Our bin sets next to the paper's: ``{"ours": ..., "ours_margin5": ..., "zhang": ...}``.

    Each value is a :func:`bins_summary`; ``zhang`` holds the published numbers
    (the paper's own bin file is not available offline).
    """
    return {
        "ours": bins_summary(gamut_bins(step)),
        "ours_margin5": bins_summary(gamut_bins(step, margin=5.0)),
        "zhang": {"Q": ZHANG_Q, "a_min": ZHANG_A_RANGE[0], "a_max": ZHANG_A_RANGE[1],
                  "b_min": ZHANG_B_RANGE[0], "b_max": ZHANG_B_RANGE[1]},
    }


# --- encoding ab as bins --------------------------------------------------------------


def _check_ab(ab, name: str) -> torch.Tensor:
    if not isinstance(ab, torch.Tensor) or ab.ndim != 4 or ab.shape[1] != 2:
        shape = tuple(ab.shape) if hasattr(ab, "shape") else type(ab).__name__
        raise ColorkitError(f"{name}: expected an ab tensor of shape (N, 2, H, W), got {shape}")
    return ab


def _pixels(ab: torch.Tensor) -> torch.Tensor:
    """(N, 2, H, W) -> (N*H*W, 2) float32 pixels in (n, h, w) order."""
    return ab.permute(0, 2, 3, 1).reshape(-1, 2).float()


def _sq_dist(x: torch.Tensor, bins: torch.Tensor) -> torch.Tensor:
    """Squared distances (P, 2) x (Q, 2) -> (P, Q), computed as differences (exact, for small sets)."""
    return (x[:, None, :] - bins[None, :, :]).pow(2).sum(-1)


def _nearest_k(x: torch.Tensor, bins: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The k nearest bins of each pixel: x (P, 2) -> (squared distances (P, k), indices (P, k)).

    Candidates come from one matrix product (|c|² - 2 x·c ranks the bins like
    the distance does); the k distances are then recomputed exactly.
    """
    score = bins.pow(2).sum(1)[None, :] - 2 * x @ bins.T  # (P, Q)
    idx = score.topk(k, dim=1, largest=False).indices  # (P, k)
    return (x[:, None, :] - bins[idx]).pow(2).sum(-1), idx


def _grid_step(bins: torch.Tensor) -> float | None:
    """The step of the square grid the bin centres (Q, 2) lie on (all multiples of it), or None."""
    coords = torch.unique(bins)
    if len(coords) < 2:
        return None
    step = float(torch.diff(coords).min())
    return step if step > 0 and torch.equal((bins / step).round() * step, bins) else None


def nearest_bin(ab: torch.Tensor, bins: torch.Tensor, chunk: int = 16384) -> torch.Tensor:
    """Index of the nearest bin centre for every pixel: ab (N, 2, H, W) -> (N, H, W) long.

    Bins on a square grid (the gamut bins): a pixel's nearest grid point is its ab rounded to the grid, and when
    that point is a bin it is the nearest bin; only pixels whose rounded point is not a bin are compared with
    every bin. Other bin sets: compared with every bin.
    """
    _check_ab(ab, "nearest_bin")
    N, _, H, W = ab.shape
    x = _pixels(ab)
    bins = torch.as_tensor(bins, dtype=torch.float32, device=ab.device)
    out = torch.full((x.shape[0],), -1, dtype=torch.long, device=ab.device)
    step = _grid_step(bins)
    if step is not None:
        k = (bins / step).round().long()  # (Q, 2) grid indices
        lo = k.min(0).values
        table = torch.full(tuple((k.max(0).values - lo + 1).tolist()), -1, dtype=torch.long, device=ab.device)
        table[k[:, 0] - lo[0], k[:, 1] - lo[1]] = torch.arange(len(bins), device=ab.device)
        g = (x / step).round().long() - lo  # (P, 2)
        inside = (g >= 0).all(1) & (g[:, 0] < table.shape[0]) & (g[:, 1] < table.shape[1])
        out[inside] = table[g[inside, 0], g[inside, 1]]
    todo = (out < 0).nonzero().flatten()
    sq = bins.pow(2).sum(1)[None, :]  # (1, Q)
    for s in range(0, len(todo), chunk):
        i = todo[s : s + chunk]
        out[i] = (sq - 2 * x[i] @ bins.T).argmin(1)
    return out.view(N, H, W)


@torch.no_grad()
def soft_encode(ab: torch.Tensor, bins: torch.Tensor, k: int = 5, sigma: float = 5.0,
                chunk: int = 16384) -> torch.Tensor:
    """Soft target z: ab (N, 2, H, W) -> (N, Q, H, W), float32, summing to 1 over Q.

    Each pixel puts Gaussian weights exp(-d² / 2σ²) on its ``k`` nearest bins
    (d = distance to the bin centre) and 0 elsewhere. Distances are computed
    ``chunk`` pixels at a time, so the only large allocation is the output
    itself (32 x Q x 64 x 64 floats ≈ 140 MB for Q = 261). The result is laid
    out channels-last in memory; use ``.reshape``, not ``.view``, on it.
    """
    _check_ab(ab, "soft_encode")
    bins = torch.as_tensor(bins, dtype=torch.float32, device=ab.device)
    N, _, H, W = ab.shape
    Q = bins.shape[0]
    x = _pixels(ab)  # (P, 2)
    out = torch.zeros(x.shape[0], Q, dtype=torch.float32, device=ab.device)  # (P, Q)
    for s in range(0, x.shape[0], chunk):
        d2, idx = _nearest_k(x[s : s + chunk], bins, min(k, Q))  # (p, k) each
        w = torch.exp(-(d2 - d2.min(1, keepdim=True).values) / (2 * sigma**2))  # shifted: no underflow far out
        out[s : s + chunk].scatter_(1, idx, w / w.sum(1, keepdim=True))
    return out.view(N, H, W, Q).permute(0, 3, 1, 2)


# --- the empirical prior and the rebalancing weights ------------------------------------------


def smooth_over_bins(mass: torch.Tensor, bins: torch.Tensor, sigma: float = 5.0) -> torch.Tensor:
    """Gaussian smoothing of a distribution over bins (Q,) -> (Q,), summing to 1.

    Each bin r hands its mass to every bin q in proportion to
    exp(-|c_q - c_r|² / 2σ²) (weights normalised over q, so mass stays inside
    the bin set); ``sigma=0`` only normalises.
    """
    mass = torch.as_tensor(mass, dtype=torch.float64)
    if mass.ndim != 1 or (mass < 0).any() or mass.sum() <= 0:
        raise ColorkitError("smooth_over_bins: expected non-negative counts (Q,) with a positive total")
    if sigma > 0:
        c = torch.as_tensor(bins, dtype=torch.float64)
        kernel = torch.exp(-_sq_dist(c, c) / (2 * sigma**2))  # (Q, Q), symmetric
        mass = (kernel / kernel.sum(0, keepdim=True)) @ mass
    return (mass / mass.sum()).float()


def empirical_prior(ab_hist_counts, bins: torch.Tensor, sigma: float = 5.0) -> torch.Tensor:
    """Prior p (Q,) from a fine ab histogram, float32, summing to 1.

    ``ab_hist_counts`` (M, M) counts pixels on equal cells over [-128, 128] on
    both axes, axis 0 = a, axis 1 = b (as ``np.histogram2d(a, b, bins=256,
    range=[[-128, 128], [-128, 128]])``). Each fine cell goes to the bin nearest
    its centre; the per-bin totals are smoothed by :func:`smooth_over_bins`.
    """
    h = np.asarray(ab_hist_counts, dtype=np.float64)
    if h.ndim != 2 or h.shape[0] != h.shape[1] or (h < 0).any() or h.sum() <= 0:
        raise ColorkitError("empirical_prior: expected a square non-negative histogram with counts, "
                            f"got shape {h.shape}")
    m = h.shape[0]
    centres = torch.from_numpy(-AB_EDGE + (np.arange(m) + 0.5) * (2 * AB_EDGE / m))
    a, b = torch.meshgrid(centres, centres, indexing="ij")
    fine_ab = torch.stack([a, b])[None].float()  # (1, 2, M, M)
    owner = nearest_bin(fine_ab, bins).flatten()  # (M*M,)
    mass = torch.zeros(len(bins), dtype=torch.float64).index_add_(0, owner, torch.from_numpy(h).flatten())
    return smooth_over_bins(mass, bins, sigma)


def prior_from_ab(ab: torch.Tensor, bins: torch.Tensor, sigma: float = 5.0) -> torch.Tensor:
    """Prior p (Q,) straight from ab pixels (N, 2, H, W): nearest-bin counts, then :func:`smooth_over_bins`.

    Works for any 2-D chroma and bin set, e.g. UV pixels and a YUV palette
    (use ``sigma=0`` there: palette colours are not on a regular grid).
    """
    idx = nearest_bin(ab, bins).flatten().cpu()
    return smooth_over_bins(torch.bincount(idx, minlength=len(bins)).double(), bins, sigma)


def rebalance_weights(prior: torch.Tensor, lam: float = 0.5) -> torch.Tensor:
    """Class weights w (Q,), float32: w ∝ ((1 - λ) p + λ / Q)⁻¹, scaled so that Σ p w = 1.

    λ = 1 gives w = 1 everywhere (no rebalancing); λ → 0 gives w ∝ 1 / p.
    ``prior`` is normalised to sum to 1 first.
    """
    p = torch.as_tensor(prior, dtype=torch.float64).flatten()
    if (p < 0).any() or p.sum() <= 0:
        raise ColorkitError("rebalance_weights: the prior must be non-negative with a positive total")
    if not 0.0 <= lam <= 1.0:
        raise ColorkitError(f"rebalance_weights: lam must lie in [0, 1], got {lam}")
    p = p / p.sum()
    mix = (1 - lam) * p + lam / len(p)
    if (mix <= 0).any():
        raise ColorkitError("rebalance_weights: lam = 0 with empty bins gives infinite weights; use lam > 0")
    w = 1.0 / mix
    return (w / (p * w).sum()).float()


def prior_shift(probs: torch.Tensor, prior: torch.Tensor, lam_from: float, lam_to: float,
                dim: int = -3) -> torch.Tensor:
    """Probabilities of a model trained with rebalancing ``lam_from`` -> (approximately) those of ``lam_to``.

    A weighted cross-entropy with class weights w_λ(q) is minimised by p̂(q|x) ∝ w_λ(q) p(q|x): rebalancing
    is a *prior shift* (Saerens, Latinne & Decaestecker, Neural Computation 2002). Multiplying by
    w_λ'(q) / w_λ(q) and renormalising moves a trained model along the λ trade-off without retraining;
    λ' = 1 undoes the rebalancing. ``probs`` has the Q bins along ``dim`` (default: (Q, h, w) or (N, Q, h, w));
    ``prior`` (Q,) is the one the weights were computed from. Exact only at the optimum of the loss.
    """
    factor = rebalance_weights(prior, lam=lam_to) / rebalance_weights(prior, lam=lam_from)
    probs = torch.as_tensor(probs)
    if probs.shape[dim] != len(factor):
        raise ColorkitError(f"prior_shift: probs have {probs.shape[dim]} bins along dim {dim}, the prior {len(factor)}")
    shape = [1] * probs.ndim
    shape[dim] = -1
    p = probs * factor.to(probs.device, probs.dtype).view(shape)
    return p / p.sum(dim, keepdim=True)


def confidence(probs: torch.Tensor, dim: int = -3) -> tuple[torch.Tensor, torch.Tensor]:
    """Two confidence maps of a predicted distribution: (maximum probability, normalised entropy).

    ``probs`` has the Q classes along ``dim`` (default: (Q, h, w) or (N, Q, h, w)). The maximum
    probability is 1 for a certain pixel and 1/Q for a uniform one; the entropy H = -Σ p log p,
    divided by log Q, is 0 for a certain pixel and 1 for a uniform one. Both drop where the model
    hesitates between colours (ColorUNet's confidence, Billaut et al. 2018).
    """
    probs = torch.as_tensor(probs)
    q = probs.shape[dim]
    if q < 2:
        raise ColorkitError(f"confidence: need at least 2 classes along dim {dim}, got {q}")
    entropy = -(probs * torch.log(probs.clamp_min(1e-12))).sum(dim) / math.log(q)
    return probs.amax(dim), entropy


# --- decoding a distribution over bins into ab --------------------------------------------


def _expect(bins: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Σ_q z_q c_q: (N, Q, H, W) x (Q, 2) -> (N, 2, H, W)."""
    return torch.einsum("nqhw,qc->nchw", z, bins.to(dtype=z.dtype, device=z.device))


def decode_mean(z: torch.Tensor, bins: torch.Tensor) -> torch.Tensor:
    """Mean of the distribution: probabilities z (N, Q, H, W) -> ab (N, 2, H, W)."""
    return _expect(torch.as_tensor(bins), z)


def decode_mode(z: torch.Tensor, bins: torch.Tensor) -> torch.Tensor:
    """Centre of the most probable bin: z (N, Q, H, W) -> ab (N, 2, H, W). Logits work too."""
    bins = torch.as_tensor(bins, device=z.device)
    return bins[z.argmax(1)].permute(0, 3, 1, 2).to(z.dtype if z.is_floating_point() else torch.float32)


def decode_annealed_mean(z: torch.Tensor, bins: torch.Tensor, T: float = 0.38) -> torch.Tensor:
    """Annealed mean: the mean of f_T(z) = exp(log z / T) / Σ exp(log z / T); z (N, Q, H, W) -> ab (N, 2, H, W).

    Computed in log space (a softmax of log z / T). T = 1 is the mean; T → 0
    tends to the mode (T <= 0 returns the mode).
    """
    if T <= 0:
        return decode_mode(z, bins)
    logz = torch.log(z.clamp_min(torch.finfo(z.dtype).tiny))
    return _expect(torch.as_tensor(bins), torch.softmax(logz / T, dim=1))


def _looks_like_probs(x: torch.Tensor) -> bool:
    return bool((x >= 0).all()) and bool(torch.allclose(x.sum(1), torch.ones((), dtype=x.dtype), atol=1e-3))


def decode(logits_or_probs: torch.Tensor, bins: torch.Tensor, method: str = "annealed", T: float = 0.38,
           from_logits: bool | None = None) -> torch.Tensor:
    """Network output (N, Q, H, W) -> ab (N, 2, H, W) by ``method`` "mean" | "mode" | "annealed".

    ``from_logits=None`` decides by looking: non-negative values that sum to 1
    over Q are probabilities, anything else is logits. From logits, the
    annealed mean is softmax(logits / T) (the same thing: log-softmax only
    shifts the logits).
    """
    x = logits_or_probs
    if x.ndim != 4 or x.shape[1] != len(bins):
        raise ColorkitError(f"decode: expected (N, {len(bins)}, H, W) to match the bins, got {tuple(x.shape)}")
    if from_logits is None:
        from_logits = not _looks_like_probs(x)
    if method == "mode":
        return decode_mode(x, bins)
    if method == "mean":
        return decode_mean(torch.softmax(x, 1) if from_logits else x, bins)
    if method == "annealed":
        if not from_logits:
            return decode_annealed_mean(x, bins, T)
        if T <= 0:
            return decode_mode(x, bins)
        return _expect(torch.as_tensor(bins), torch.softmax(x / T, dim=1))
    raise ColorkitError(f"decode: method must be 'mean', 'mode' or 'annealed', not {method!r}")


# --- YUV palettes (ColorUNet, Billaut et al. 2018) ------------------------------------------------

UV_RANGE = ((-0.45, 0.45), (-0.65, 0.65))  # covers BT.601 U (±0.436) and V (±0.615)


def yuv_palette(uv_samples: torch.Tensor, n: int, nbins: int = 11) -> torch.Tensor:
    """The ``n`` most frequent quantised UV colours (n, 2), most frequent first.

    UV pixels (N, 2, H, W) (BT.601, as :func:`colorkit.color.rgb_to_yuv`) are
    counted on an ``nbins`` x ``nbins`` grid over U in [-0.45, 0.45], V in
    [-0.65, 0.65] (values outside go to the border cells); the palette is
    the centres of the ``n`` fullest cells. Ties go to the lower cell index,
    so the result is deterministic. ColorUNet keeps n = 32. An odd ``nbins``
    puts a cell centre on grey (U = V = 0); with an even one, grey falls on a
    cell corner and every grey pixel's class is a slightly tinted colour.
    """
    _check_ab(uv_samples, "yuv_palette")
    uv = _pixels(uv_samples).double()
    (u0, u1), (v0, v1) = UV_RANGE
    iu = ((uv[:, 0] - u0) / (u1 - u0) * nbins).floor().clamp(0, nbins - 1).long()
    iv = ((uv[:, 1] - v0) / (v1 - v0) * nbins).floor().clamp(0, nbins - 1).long()
    counts = torch.bincount((iu * nbins + iv).cpu(), minlength=nbins * nbins)
    filled = int((counts > 0).sum())
    if filled < n:
        raise ColorkitError(f"yuv_palette: the samples fill only {filled} UV cells; cannot pick {n} colours")
    order = torch.argsort(-counts, stable=True)[:n]
    cu = u0 + (order // nbins + 0.5) * (u1 - u0) / nbins
    cv = v0 + (order % nbins + 0.5) * (v1 - v0) / nbins
    return torch.stack([cu, cv], 1).float()


def quantize_uv(uv: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """Class of each pixel: the nearest palette colour, UV (N, 2, H, W) -> (N, H, W) long.

    A colour outside the palette is thus replaced by the closest frequent one.
    """
    return nearest_bin(uv, palette)


def decode_uv(logits_or_probs: torch.Tensor, palette: torch.Tensor, T: float = 0.38) -> torch.Tensor:
    """Scores over the palette (N, n, H, W) -> UV (N, 2, H, W), annealed mean at temperature ``T``.

    ColorUNet's temperature plays the role of Zhang's: T = 1 is the mean,
    small T approaches the most probable palette colour.
    """
    return decode(logits_or_probs, palette, method="annealed", T=T)
