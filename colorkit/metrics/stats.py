"""How sure is a number? Confidence intervals for the study: bootstrap over photos, Wilson for rates.

* :func:`bootstrap_interval` — a metric measured on 54 photos would come out different on 54 others.
  Resampling the photos with replacement (the bootstrap; scipy's percentile method) shows how
  much: the 2.5th and 97.5th percentiles of the metric over the resamples form a 95 % interval.
  ``statistic`` gets the resampled photo indices, so pooled metrics (AuC over all pixels of the
  resampled photos) are recomputed the way they were measured.
* :func:`wilson_interval` — a Turing test's fooling rate is k fooled answers out of n. The Wilson
  score interval (E. B. Wilson, 1927; scipy's ``binomtest``) stays inside [0, 1] and behaves at
  k = 0 and for small n, where the textbook p ± 1.96 √(p(1 − p)/n) does not.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from colorkit.errors import ColorkitError


def wilson_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a proportion k / n at confidence ``level``, (low, high) in [0, 1]."""
    if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in (k, n)) or n < 1 or not 0 <= k <= n:
        raise ColorkitError(f"wilson_interval: need integers 0 <= k <= n and n >= 1, got k={k!r}, n={n!r}")
    if not 0 < level < 1:
        raise ColorkitError(f"wilson_interval: level must be between 0 and 1, got {level!r}")
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def bootstrap_interval(n_items: int, statistic, n_resamples: int = 2000, level: float = 0.95,
                       seed: int = 0, vectorized: bool = False):
    """Percentile bootstrap interval of ``statistic(indices)`` over ``n_items`` items (photos) resampled with
    replacement; ``statistic`` takes an int array of item indices (with repeats) and returns a float, or a
    sequence of floats (then low and high are arrays, one entry per value).

    ``bootstrap_interval(len(psnrs), lambda i: psnrs[i].mean())`` for a mean over photos; a pooled
    metric recomputes its pooled sums over the indices given. Seeded: the same call gives the same interval.

    ``vectorized=True``: ``statistic`` takes all resamples at once, an int array (R, n_items), and returns
    (R,) values (or (k, R) for k values); the resamples and the interval are the same as one at a time.
    """
    if isinstance(n_items, bool) or not isinstance(n_items, (int, np.integer)) or n_items < 2:
        raise ColorkitError(f"bootstrap_interval: need at least 2 items to resample, got {n_items!r}")
    if not 0 < level < 1:
        raise ColorkitError(f"bootstrap_interval: level must be between 0 and 1, got {level!r}")
    def stat(idx, axis=-1):
        idx = np.asarray(idx, dtype=np.int64)
        if vectorized:
            idx = np.moveaxis(idx, axis, -1)
            batch = idx.shape[:-1]
            value = np.asarray(statistic(idx.reshape(-1, n_items)), dtype=np.float64)  # (R,) or (k, R)
            return value.reshape(value.shape[:-1] + batch)
        value = np.asarray(statistic(idx), dtype=np.float64)
        return value if value.ndim else float(value)

    res = stats.bootstrap((np.arange(n_items),), stat, n_resamples=n_resamples, vectorized=vectorized,
                          confidence_level=level, method="percentile", rng=np.random.default_rng(seed))
    low, high = res.confidence_interval.low, res.confidence_interval.high
    return (float(low), float(high)) if np.ndim(low) == 0 else (np.asarray(low), np.asarray(high))
