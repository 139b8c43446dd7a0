"""The churn run's figures (matplotlib ``Figure`` objects, no pyplot state).

Contents:
    roc_figure: ROC curves per model on the test set, with the Bayes-optimal curve.
    threshold_figure: fall-out and true-positive rate against the threshold.
    sensitivity_figure: share of flagged customers still flagged against the discount.
    correlation_figure: feature correlations before and after the collinearity drop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["correlation_figure", "roc_figure", "sensitivity_figure", "threshold_figure"]

Vector = NDArray[np.float64]
Labels = NDArray[np.int64]


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def roc_figure(
    labels: Labels,
    curves: Mapping[str, Vector],
    *,
    headline: str,
    oracle: Vector | None,
    point: tuple[float, float],
    fallout: float,
) -> Any:
    """ROC curves of the models on the test set.

    Args:
        labels: Test labels.
        curves: Display name -> test scores.
        headline: The display name drawn bold.
        oracle: True churn probabilities (synthetic data), drawn dashed; or None.
        point: The headline model's (fall-out, TPR) at the chosen threshold.
        fallout: The fall-out target.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    fig = _figure(6.4, 5.6)
    ax = fig.add_subplot()
    for name, scores in curves.items():
        fpr, tpr, _ = roc_curve(labels, scores)
        auc = roc_auc_score(labels, scores)
        bold = name == headline
        ax.plot(fpr, tpr, lw=2.4 if bold else 1.0, alpha=1.0 if bold else 0.75,
                label=f"{name} (AUC {auc:.3f})")  # fmt: skip
    if oracle is not None:
        fpr, tpr, _ = roc_curve(labels, oracle)
        auc = roc_auc_score(labels, oracle)
        ax.plot(fpr, tpr, "k--", lw=1.6, label=f"Bayes-optimal (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], color="0.7", lw=0.8)
    ax.axvline(fallout, color="0.5", ls=":", lw=0.8)
    label = f"chosen threshold ({point[0]:.0%}, {point[1]:.0%})"
    ax.plot(*point, "o", color="crimson", label=label)
    ax.set(xlabel="fall-out (false-positive rate)", ylabel="true-positive rate",
           title="ROC on the test set", xlim=(0, 1), ylim=(0, 1))  # fmt: skip
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    return fig


def threshold_figure(
    validation: tuple[Labels, Vector],
    test: tuple[Labels, Vector],
    *,
    threshold: float,
    fallout: float,
) -> Any:
    """Fall-out and TPR against the threshold, on validation and test scores.

    Args:
        validation: Labels and out-of-fold scores the threshold was chosen on.
        test: Labels and scores of the test set.
        threshold: The chosen threshold.
        fallout: The fall-out target.
    """
    grid = np.linspace(0.0, 1.0, 201)
    fig = _figure(6.4, 4.4)
    ax = fig.add_subplot()
    for (labels, scores), style, where in ((validation, "-", "validation"), (test, "--", "test")):
        flagged = scores[None, :] >= grid[:, None]
        fpr = (flagged & (labels == 0)).sum(axis=1) / max(int((labels == 0).sum()), 1)
        tpr = (flagged & (labels == 1)).sum(axis=1) / max(int((labels == 1).sum()), 1)
        ax.plot(grid, fpr, style, color="tab:red", label=f"fall-out ({where})")
        ax.plot(grid, tpr, style, color="tab:blue", label=f"true-positive rate ({where})")
    ax.axhline(fallout, color="0.5", ls=":", lw=0.8)
    ax.axvline(threshold, color="k", lw=0.8)
    ax.annotate(f"p = {threshold:.3f}", (threshold, 0.95), xytext=(4, 0),
                textcoords="offset points", fontsize=8)  # fmt: skip
    ax.set(xlabel="threshold on the ensemble's probability", ylabel="rate",
           title="Threshold against fall-out", xlim=(0, 1), ylim=(0, 1))  # fmt: skip
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return fig


def sensitivity_figure(
    discounts: Sequence[float],
    shares: Mapping[str, Sequence[float]],
    *,
    headline: str,
    predicted: Sequence[float],
    truth: Sequence[float] | None,
) -> Any:
    """Share of the flagged customers still above the threshold, per discount.

    Args:
        discounts: The extra discounts, as fractions.
        shares: Display name -> share still flagged at each discount.
        headline: The display name drawn bold.
        predicted: The headline model's expected churners among its flagged customers
            (corrected probabilities), relative to no discount.
        truth: Synthetic data: the same under the true model; or None.
    """
    fig = _figure(6.4, 4.4)
    ax = fig.add_subplot()
    x = 100.0 * np.asarray(discounts)
    for name, values in shares.items():
        bold = name == headline
        ax.plot(x, 100.0 * np.asarray(values), "o-" if bold else "-",
                lw=2.4 if bold else 1.0, label=f"{name}: still flagged")  # fmt: skip
    ax.plot(x, 100.0 * np.asarray(predicted), ":", color="0.3", lw=1.8,
            label=f"{headline}: predicted churners (relative)")  # fmt: skip
    if truth is not None:
        ax.plot(x, 100.0 * np.asarray(truth), "k--", lw=1.6,
                label="true churners (relative)")  # fmt: skip
    ax.set(xlabel="discount offered to the flagged customers [%]",
           ylabel="share of flagged customers [%]", ylim=(0, 105),
           title="Sensitivity: discount against predicted churn")  # fmt: skip
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return fig


def correlation_figure(
    before: NDArray[np.float64],
    before_names: Sequence[str],
    kept: Sequence[str],
) -> Any:
    """Heat maps of the feature correlations before and after the collinearity drop.

    Args:
        before: Correlations of the features that reached the collinearity step.
        before_names: Their names.
        kept: The names kept after the drop (a subset of ``before_names``).
    """
    index = [list(before_names).index(k) for k in kept]
    after = before[np.ix_(index, index)]
    size = 4.0 + 0.28 * len(before_names)
    fig = _figure(2 * size + 1.0, size)
    axes = fig.subplots(1, 2)
    image = None
    for ax, matrix, names, title in (
        (axes[0], before, before_names, "before"),
        (axes[1], after, kept, "after"),
    ):
        image = ax.imshow(matrix, cmap="RdBu_r", vmin=-1, vmax=1)
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=6)
        ax.set_yticks(range(len(names)), names, fontsize=6)
        ax.set_title(f"correlations {title} the collinearity drop ({len(names)} features)")
    fig.colorbar(image, ax=axes, shrink=0.7, label="Pearson rho")
    return fig
