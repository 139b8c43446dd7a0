"""Paired comparison of two recommenders on the same users.

Both recommenders answer for every test user, so the per-user hit indicators are
paired; the uncertainty of the difference comes from resampling *users* (paired
bootstrap) and, as a second opinion, McNemar's test on the discordant users.

Contents:
    hits: top-k hit indicators.
    PairedComparison, paired_bootstrap: difference and relative lift with
        percentile intervals.
    McNemar, mcnemar: the discordant counts and the continuity-corrected test.
    by_group: hit rates per group (e.g. number of selected genres).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["McNemar", "PairedComparison", "by_group", "hits", "mcnemar", "paired_bootstrap"]


def hits(top: NDArray[Any], labels: NDArray[Any]) -> NDArray[np.bool_]:
    """``(n,)`` whether each user's label is among their ``(n, k)`` recommendations."""
    return np.asarray((np.asarray(top) == np.asarray(labels)[:, None]).any(axis=1))


@dataclass(frozen=True)
class PairedComparison:
    """Model against baseline on the same users.

    Attributes:
        model: Model hit rate.
        baseline: Baseline hit rate.
        diff, diff_low, diff_high: ``model - baseline`` and its interval.
        lift, lift_low, lift_high: ``model / baseline - 1`` and its interval.
        p_not_better: Share of resamples where the model did not beat the baseline.
        resamples: Bootstrap resamples.
        confidence: Interval level.
    """

    model: float
    baseline: float
    diff: float
    diff_low: float
    diff_high: float
    lift: float
    lift_low: float
    lift_high: float
    p_not_better: float
    resamples: int
    confidence: float


def paired_bootstrap(
    model_hits: NDArray[Any],
    baseline_hits: NDArray[Any],
    *,
    resamples: int,
    confidence: float,
    seed: int,
    chunk: int = 250,
) -> PairedComparison:
    """Percentile intervals from resampling users with replacement (both arms together).

    Args:
        model_hits: ``(n,)`` 0/1 hits of the model.
        baseline_hits: ``(n,)`` 0/1 hits of the baseline on the same users.
        resamples: Bootstrap resamples.
        confidence: Interval level, e.g. 0.95.
        seed: Seeds the resampling.
        chunk: Resamples drawn at once (bounds memory).
    """
    a = np.asarray(model_hits, dtype=np.float64)
    b = np.asarray(baseline_hits, dtype=np.float64)
    n = a.size
    rng = np.random.default_rng([seed, 4])
    rates_a = np.empty(resamples)
    rates_b = np.empty(resamples)
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        index = rng.integers(0, n, size=(size, n))
        rates_a[start : start + size] = a[index].mean(axis=1)
        rates_b[start : start + size] = b[index].mean(axis=1)
    diffs = rates_a - rates_b
    lifts = rates_a / np.maximum(rates_b, 1e-12) - 1.0
    tail = (1.0 - confidence) / 2.0 * 100.0
    d_low, d_high = np.percentile(diffs, [tail, 100.0 - tail])
    l_low, l_high = np.percentile(lifts, [tail, 100.0 - tail])
    mean_a, mean_b = float(a.mean()), float(b.mean())
    return PairedComparison(
        model=mean_a,
        baseline=mean_b,
        diff=mean_a - mean_b,
        diff_low=float(d_low),
        diff_high=float(d_high),
        lift=mean_a / mean_b - 1.0 if mean_b > 0 else math.inf,
        lift_low=float(l_low),
        lift_high=float(l_high),
        p_not_better=float((diffs <= 0).mean()),
        resamples=resamples,
        confidence=confidence,
    )


@dataclass(frozen=True)
class McNemar:
    """McNemar's paired test.

    Attributes:
        model_only: Users the model hit and the baseline missed.
        baseline_only: Users the baseline hit and the model missed.
        statistic: ``(|b - c| - 1)^2 / (b + c)`` (chi-square, 1 degree of freedom).
        p_value: Two-sided p-value (1.0 when there are no discordant users).
    """

    model_only: int
    baseline_only: int
    statistic: float
    p_value: float


def mcnemar(model_hits: NDArray[Any], baseline_hits: NDArray[Any]) -> McNemar:
    """McNemar's test with the continuity correction (the chi-square form).

    The chi-square approximation is fine for the hundreds of discordant users a run
    has; the p-value of 1 degree of freedom is ``erfc(sqrt(statistic / 2))``.
    """
    a = np.asarray(model_hits, dtype=bool)
    b = np.asarray(baseline_hits, dtype=bool)
    only_a = int((a & ~b).sum())
    only_b = int((~a & b).sum())
    if only_a + only_b == 0:
        return McNemar(only_a, only_b, 0.0, 1.0)
    statistic = (abs(only_a - only_b) - 1.0) ** 2 / (only_a + only_b)
    return McNemar(only_a, only_b, statistic, math.erfc(math.sqrt(statistic / 2.0)))


def by_group(
    hit_sets: dict[str, NDArray[Any]], groups: NDArray[Any]
) -> dict[str, dict[str, float]]:
    """Hit rate of each method within each group, plus the group's size.

    Args:
        hit_sets: Method name -> ``(n,)`` hits.
        groups: ``(n,)`` group of each user.

    Returns:
        ``{str(group): {"users": count, method: rate, ...}}`` in group order.
    """
    out: dict[str, dict[str, float]] = {}
    for group in np.unique(groups):
        mask = groups == group
        row: dict[str, float] = {"users": int(mask.sum())}
        for name, values in hit_sets.items():
            row[name] = float(np.asarray(values, dtype=np.float64)[mask].mean())
        out[str(group)] = row
    return out
