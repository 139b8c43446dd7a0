"""Customer churn under class imbalance, with a fixed fall-out and a discount what-if.

``kind: churn``: ensembles for 1:9 imbalance, a threshold held at a fixed fall-out,
and a discount sensitivity analysis.

Reproduces the pipeline of the AWS Machine Learning Blog article "Developing a
business strategy by combining machine learning with sensitivity analysis" on a
seeded synthetic customer table (or a user's CSV): median imputation, dropping
sparse, low-variance and collinear features, removing outliers; logistic regression,
a calibrated SVM, a random forest and their soft vote, trained on undersampled data
and as the article's partition ensemble; a model table with accuracy, Brier score
and ROC AUC; a threshold chosen on out-of-fold scores to hold the fall-out; and the
share of flagged customers a discount would bring below it. On synthetic data the
run also reports the Bayes-optimal AUC of its test set, the ceiling any model has.

This module only declares the schema and the plugin; scikit-learn, imbalanced-learn,
boto3 and matplotlib are imported when the experiment runs (in ``experiment``).

Contents:
    ChurnConfig: the ``churn:`` section of an experiment file.
    plugin: the registered :class:`~deepracer.plugins.Plugin`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from deepracer.plugins import Plugin, Reference
from deepracer.plugins.kit import DeferredRun, between, interval, positive

__all__ = ["ChurnConfig", "plugin"]


def _discounts(values: Sequence[float]) -> str | None:
    if not values:
        return "at least one discount"
    if any(not 0.0 <= v < 1.0 for v in values):
        return "discounts as fractions in [0, 1) (0.2 = 20 %)"
    return None


def _models(values: Sequence[str]) -> str | None:
    if not values or len(set(values)) != len(values):
        return "a non-empty list of distinct models (logit, svm, rf)"
    return None


def _names(values: Sequence[str]) -> str | None:
    if any(not v for v in values) or len(set(values)) != len(values):
        return "distinct, non-empty column names"
    return None


@dataclass(frozen=True, kw_only=True)
class ChurnConfig:
    """The ``churn:`` section: data, cleaning, models, threshold and sensitivity."""

    # -- data
    customers: int = field(
        default=6000, metadata={"check": between(200, 100_000, "an integer", interval=True)}
    )
    """Synthetic customers (rows). The SVM's cost grows about quadratically: keep <= 10k."""
    churn_rate: float = field(default=0.10, metadata={"check": between(0.01, 0.5, interval=True)})
    """Synthetic: mean true churn probability (the article's table: about 10 %)."""
    signal: float = field(default=1.0, metadata={"check": between(0.05, 5.0, interval=True)})
    """Synthetic: scales every slope of the true churn model; 1 gives a Bayes AUC near
    0.73, 0.5 near 0.62."""
    missing: float = field(default=0.05, metadata={"check": between(0.0, 0.5, interval=True)})
    """Synthetic: share of missing cells in the ordinary numeric columns."""
    outliers: float = field(default=0.005, metadata={"check": between(0.0, 0.1, interval=True)})
    """Synthetic: share of customers whose consumption is recorded 30-100x too high."""
    csv: str | None = None
    """A user's customer table (CSV with a header; relative to the working directory)
    instead of the synthetic one; null: synthetic."""
    target: str = "churn"
    """CSV: the churn column (1/0, yes/no, true/false)."""
    id_column: str | None = None
    """CSV: the customer id column (not a feature); null: row numbers."""
    categorical: tuple[str, ...] = field(default=(), metadata={"check": _names})
    """CSV: text columns to one-hot encode (one feature per level)."""
    drop_columns: tuple[str, ...] = field(default=(), metadata={"check": _names})
    """CSV: columns to ignore (dates, free text)."""

    # -- cleaning (the article's rules)
    max_missing: float = field(default=0.4, metadata={"check": between(0.0, 1.0, interval=True)})
    """Drop a feature missing in more than this share of the training rows."""
    outlier_sd: float = field(default=6.0, metadata={"check": positive})
    """Remove customers with a value more than this many standard deviations from the
    training mean (0/1 columns are not tested)."""
    low_variance: float = field(default=0.95, metadata={"check": between(0.5, 1.0, interval=True)})
    """Drop a feature whose most common value covers more than this share of rows."""
    collinear_rho: float = field(default=0.95, metadata={"check": between(0.5, 1.0, interval=True)})
    """Drop the later feature of a pair whose |Pearson rho| exceeds this."""

    # -- evaluation
    test_size: float = field(default=0.3, metadata={"check": between(0.05, 0.8, interval=True)})
    """Share of customers held out as the test set (stratified)."""
    cv_folds: int = field(
        default=10, metadata={"check": between(2, 50, "an integer", interval=True)}
    )
    """Folds of the cross-validation on the training share; its out-of-fold scores
    are the validation data the threshold is chosen on."""
    fallout: float = field(
        default=0.10,
        metadata={"check": interval(0, 1, "a fraction", low_open=True, high_open=True)},
    )
    """Fall-out (false-positive rate) the threshold holds on validation data."""

    # -- models
    models: tuple[Literal["logit", "svm", "rf"], ...] = field(
        default=("logit", "svm", "rf"), metadata={"check": _models}
    )
    """Base models of the soft vote: logistic regression, calibrated RBF SVM, random forest."""
    partitions: int = field(
        default=9, metadata={"check": between(1, 50, "an integer", interval=True)}
    )
    """Members of the partition ensemble: each sees every churner and a disjoint
    1/partitions of the non-churners (the article: 9 for 1:9 imbalance)."""
    trees: int = field(
        default=30, metadata={"check": between(1, 2000, "an integer", interval=True)}
    )
    """Trees per random forest (there is one forest per member and fold)."""
    bagging: bool = True
    """Also fit imbalanced-learn's BalancedBaggingClassifier, the library alternative
    to the partition ensemble."""
    jobs: int = field(default=1, metadata={"check": between(1, 64, "an integer", interval=True)})
    """Cross-validation folds fitted in parallel processes (results do not change)."""

    # -- sensitivity analysis
    discounts: tuple[float, ...] = field(
        default=(0.0, 0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40),
        metadata={"check": _discounts},
    )
    """Extra discounts offered to the flagged customers, as fractions (0.2 = 20 %)."""
    lever: tuple[str, ...] = field(default=("discount",), metadata={"check": _names})
    """Feature columns the discount edits; empty: no sensitivity analysis."""
    lever_kind: Literal["discount", "price"] = "discount"
    """discount: the columns are fractional discounts, stacked (1-(1-x)(1-d));
    price: the columns are prices, cut by d."""

    # -- backend aws
    endpoint_name: str = ""
    """backend aws: the SageMaker endpoint that also scores the test set (CSV rows of
    the kept features, in features.json order)."""
    endpoint_batch: int = field(
        default=500, metadata={"check": between(1, 100_000, "an integer", interval=True)}
    )
    """backend aws: customers per invoke_endpoint request (a request carries <= 6 MB)."""


plugin = Plugin(
    name="churn",
    description="customer churn: imbalance ensembles, fixed fall-out, discount sensitivity",
    config=ChurnConfig,
    run=DeferredRun("deepracer.plugins.churn.experiment"),
    article=(
        '"Developing a business strategy by combining machine learning with sensitivity'
        ' analysis", AWS Machine Learning Blog, November 2019'
    ),
    references=(
        Reference("ROC AUC, partition soft-vote ensemble (9-Ensemble)", "0.65", metric="auc"),
        Reference("ROC AUC, best model (article: 9-RF ensemble)", "0.68", metric="best_auc"),
        Reference("Bayes-optimal ROC AUC (ceiling)", "unknown (real data)", metric="bayes_auc"),
        Reference("True-positive rate at 10 % fall-out", "about 30 %", metric="tpr_at_fallout"),
        Reference("Threshold for 10 % fall-out", "p = 0.56", metric="threshold"),
        Reference("Accuracy at p = 0.5 (9-Ensemble)", "61 %", metric="accuracy"),
        Reference("Brier score, uncorrected (9-Ensemble)", "0.25", metric="brier"),
        Reference("Share of churners", "about 10 %", metric="churn_rate"),
        Reference("Customers removed as outliers", "140 of 16096 (0.9 %)", metric="outlier_share"),
        Reference("Flagged churn cut by a 20 % discount", "25 %", metric="churn_cut_20"),
    ),
    extra="churn",
)
