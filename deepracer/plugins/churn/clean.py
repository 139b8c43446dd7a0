"""The article's data cleaning, fitted on the training rows and applied to any rows.

Steps, in the article's order: drop features with too many missing cells, impute the
rest with the median, remove customers with a value beyond ``outlier_sd`` standard
deviations, drop low-variance features, then drop the later feature of every pair
correlated beyond ``collinear_rho``. Every statistic (missing share, median, mean,
standard deviation, correlation) comes from the training rows only, so nothing about
the test rows leaks into the models; the test rows are imputed with the training
medians and filtered with the training limits, as the article filtered its whole table.

Contents:
    Dropped: one dropped feature and why.
    Cleaner: the fitted steps; ``transform`` and ``outlier_rows``.
    fit_cleaner: fits the steps on training rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from deepracer.errors import DeepRacerError

__all__ = ["Cleaner", "Dropped", "fit_cleaner"]

Matrix = NDArray[np.float64]


@dataclass(frozen=True)
class Dropped:
    """A feature the cleaning dropped.

    Attributes:
        column: Its name.
        step: ``missing``, ``low_variance`` or ``collinear``.
        detail: The measured value that decided it, in words.
    """

    column: str
    step: str
    detail: str


@dataclass(frozen=True)
class Cleaner:
    """Fitted cleaning steps.

    Attributes:
        columns: The input's column names.
        kept: Indices (into ``columns``) of the features the models see, in order.
        medians: Per input column, the training median used to impute it.
        centre, spread: Per input column, training mean and standard deviation of the
            imputed values; NaN where the column is not tested for outliers.
        outlier_sd: The outlier limit in standard deviations.
        dropped: The dropped features, in the order the steps dropped them.
        correlation_before: Correlations of the features that reached the collinearity
            step (names in ``correlation_columns``).
        correlation_columns: Names for ``correlation_before``.
        train_outliers: Training rows removed as outliers.
    """

    columns: tuple[str, ...]
    kept: tuple[int, ...]
    medians: Matrix
    centre: Matrix
    spread: Matrix
    outlier_sd: float
    dropped: tuple[Dropped, ...]
    correlation_before: Matrix
    correlation_columns: tuple[str, ...]
    train_outliers: int

    @property
    def kept_columns(self) -> tuple[str, ...]:
        """Names of the features the models see."""
        return tuple(self.columns[i] for i in self.kept)

    def impute(self, features: Matrix) -> Matrix:
        """All input columns with missing cells replaced by the training medians."""
        return np.where(np.isnan(features), self.medians, features)

    def outlier_rows(self, features: Matrix) -> NDArray[np.bool_]:
        """True for rows with a value beyond the outlier limit (after imputation)."""
        imputed = self.impute(features)
        tested = np.isfinite(self.centre)
        if not tested.any():
            return np.zeros(len(features), dtype=bool)
        z = np.abs(imputed[:, tested] - self.centre[tested]) / self.spread[tested]
        return np.asarray((z > self.outlier_sd).any(axis=1))

    def transform(self, features: Matrix) -> Matrix:
        """The imputed matrix of the kept features (outlier rows are not removed)."""
        return self.impute(features)[:, list(self.kept)]


def _correlation(matrix: Matrix) -> Matrix:
    """Pearson correlations; a constant column correlates 0 with everything."""
    centred = matrix - matrix.mean(axis=0)
    norms = np.sqrt((centred**2).sum(axis=0))
    norms[norms == 0] = np.inf
    unit = centred / norms
    corr = unit.T @ unit
    np.fill_diagonal(corr, 1.0)
    return np.asarray(corr, dtype=np.float64)


def fit_cleaner(
    features: Matrix,
    columns: Sequence[str],
    *,
    max_missing: float,
    outlier_sd: float,
    low_variance: float,
    collinear_rho: float,
    source: str,
) -> tuple[Cleaner, NDArray[np.bool_]]:
    """Fits the cleaning steps on the training rows.

    Args:
        features: Training rows, NaN for missing cells.
        columns: Their names.
        max_missing: Drop a feature missing in more than this share of rows.
        outlier_sd: Remove rows with a value farther than this many standard
            deviations from the mean. Binary (0/1) columns are not tested: a rare
            flag is not an outlier.
        low_variance: Drop a feature whose most common value covers more than this
            share of rows (constant features are always dropped).
        collinear_rho: Drop the later feature of a pair with ``|rho|`` above this.
        source: Names the table in the error message.

    Returns:
        The fitted cleaner and the mask of training rows to keep (not outliers).

    Raises:
        DeepRacerError: No feature survives the steps.
    """
    columns = tuple(columns)
    dropped: list[Dropped] = []
    missing_share = np.isnan(features).mean(axis=0)
    alive = []
    for j, share in enumerate(missing_share):
        if share > max_missing or share == 1.0:
            dropped.append(Dropped(columns[j], "missing", f"{share:.0%} missing"))
        else:
            alive.append(j)
    medians = np.zeros(len(columns))
    if alive:
        medians[alive] = np.nanmedian(features[:, alive], axis=0)
    imputed = np.where(np.isnan(features), medians, features)

    centre = np.full(len(columns), np.nan)
    spread = np.full(len(columns), np.nan)
    for j in alive:
        values = imputed[:, j]
        binary = bool(np.isin(values, (0.0, 1.0)).all())
        sd = float(values.std())
        if not binary and sd > 0:
            centre[j], spread[j] = float(values.mean()), sd
    cleaner = Cleaner(
        columns=columns,
        kept=tuple(alive),
        medians=medians,
        centre=centre,
        spread=spread,
        outlier_sd=outlier_sd,
        dropped=(),
        correlation_before=np.zeros((0, 0)),
        correlation_columns=(),
        train_outliers=0,
    )
    keep_rows = ~cleaner.outlier_rows(features)
    rows = imputed[keep_rows]

    survivors = []
    for j in alive:
        _, counts = np.unique(rows[:, j], return_counts=True)
        top = counts.max() / len(rows) if len(rows) else 1.0
        if top > low_variance or len(counts) == 1:
            dropped.append(Dropped(columns[j], "low_variance", f"{top:.1%} share one value"))
        else:
            survivors.append(j)

    corr = _correlation(rows[:, survivors]) if survivors else np.zeros((0, 0))
    kept: list[int] = []
    for a, j in enumerate(survivors):
        twins = [b for b in range(a) if survivors[b] in kept and abs(corr[a, b]) > collinear_rho]
        if twins:
            b = twins[0]
            detail = f"rho {corr[a, b]:+.3f} with {columns[survivors[b]]}"
            dropped.append(Dropped(columns[j], "collinear", detail))
        else:
            kept.append(j)
    if not kept:
        reasons = "; ".join(f"{d.column}: {d.step} ({d.detail})" for d in dropped)
        raise DeepRacerError(f"{source}: the cleaning dropped every feature ({reasons})")
    fitted = Cleaner(
        columns=columns,
        kept=tuple(kept),
        medians=medians,
        centre=centre,
        spread=spread,
        outlier_sd=outlier_sd,
        dropped=tuple(dropped),
        correlation_before=corr,
        correlation_columns=tuple(columns[j] for j in survivors),
        train_outliers=int((~keep_rows).sum()),
    )
    return fitted, keep_rows
