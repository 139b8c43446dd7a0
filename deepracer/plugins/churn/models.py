"""The article's models, balancing schemes, metrics and threshold choice.

Logistic regression, an SVM, a random forest and their soft vote, trained on balanced
data in two ways (and the library's third).

Balancing schemes (the article's two, and the library's):

* ``under``: one random sample of non-churners as large as the churner count.
* ``part``: the partition ensemble. The non-churners are shuffled and split into
  ``partitions`` disjoint parts; member ``i`` trains on every churner plus part ``i``,
  and the ensemble averages the members' probabilities. With 1:9 imbalance and nine
  parts each member sees balanced data and together they see every customer.
* ``bagging``: imbalanced-learn's ``BalancedBaggingClassifier`` with the soft vote as
  its estimator: the same idea, but each member's non-churners are drawn at random,
  so members can share customers and some customers are never seen.

Members train on about 50 % churners, so their probabilities are inflated; the
prior-shift correction ``p' = b p / (b p + 1 - p)``, with ``b`` the share of the
non-churners a member saw (Dal Pozzolo et al. 2015), maps them back to the real base
rate. It changes the Brier score, not the ranking (AUC).

Contents:
    MODEL_NAMES: the base models.
    base_model, soft_vote: unfitted scikit-learn estimators.
    Group: fitted members of one scheme and their probabilities per model.
    fit_undersampled, fit_partitions, fit_bagging: the three schemes.
    partition_rows: the rows each partition-ensemble member trains on.
    cross_validate: out-of-fold probabilities and per-fold AUCs of both schemes.
    prior_shift: the correction above.
    threshold_for_fallout, rates: the operating point.
    scores_table: accuracy, Brier (raw and corrected) and AUC of one model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "MODEL_NAMES",
    "Group",
    "base_model",
    "cross_validate",
    "fit_bagging",
    "fit_partitions",
    "fit_undersampled",
    "partition_rows",
    "prior_shift",
    "rates",
    "scores_table",
    "soft_vote",
    "threshold_for_fallout",
]

Matrix = NDArray[np.float64]
Vector = NDArray[np.float64]
Labels = NDArray[np.int64]

MODEL_NAMES = ("logit", "svm", "rf")
"""Base models: logistic regression, calibrated RBF SVM, random forest."""


def base_model(name: str, seed: int, trees: int) -> Any:
    """An unfitted base model.

    Args:
        name: One of :data:`MODEL_NAMES`.
        seed: Random state of the forest.
        trees: Trees in the forest.
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if name == "logit":
        # Newton-Cholesky: a few exact steps; lbfgs needed ~50 on the skewed columns.
        model = LogisticRegression(solver="newton-cholesky", max_iter=200)
        return make_pipeline(StandardScaler(), model)
    if name == "svm":
        # SVC(probability=True) is deprecated in scikit-learn 1.9; Platt scaling on
        # out-of-fold decision values is what it did, and what this does.
        return CalibratedClassifierCV(
            make_pipeline(StandardScaler(), SVC(kernel="rbf", C=1.0, gamma="scale")),
            method="sigmoid",
            cv=3,
            ensemble=False,
        )
    if name == "rf":
        # Leaves of 10 keep the probabilities smooth on the small balanced samples
        # (and the trees cheap: there are ten forests per fold).
        return RandomForestClassifier(
            n_estimators=trees, min_samples_leaf=10, random_state=seed, n_jobs=1
        )
    raise ValueError(f"unknown model {name!r}")  # the config's Literal prevents this


def soft_vote(models: Sequence[str], seed: int, trees: int) -> Any:
    """The soft-voting ensemble (mean probability) of the named base models."""
    from sklearn.ensemble import VotingClassifier

    return VotingClassifier([(m, base_model(m, seed, trees)) for m in models], voting="soft")


@dataclass
class Group:
    """The fitted members of one balancing scheme.

    Attributes:
        models: The base model names.
        members: Fitted soft votes, one per member.
        beta: Share of the non-churners one member saw (for :func:`prior_shift`).
    """

    models: tuple[str, ...]
    members: list[Any]
    beta: float

    def scores(self, features: Matrix) -> dict[str, Vector]:
        """Churn probabilities per base model and ``vote``, averaged over members."""
        sums = {m: np.zeros(len(features)) for m in self.models}
        for member in self.members:
            for m in self.models:
                sums[m] += member.named_estimators_[m].predict_proba(features)[:, 1]
        out = {m: total / len(self.members) for m, total in sums.items()}
        out["vote"] = np.mean([out[m] for m in self.models], axis=0)
        return out


def _fit(models: Sequence[str], seed: int, trees: int, x: Matrix, y: Labels) -> Any:
    return soft_vote(models, seed, trees).fit(x, y)


def fit_undersampled(
    features: Matrix, labels: Labels, models: Sequence[str], *, seed: int, trees: int
) -> Group:
    """One soft vote on every churner and as many randomly drawn non-churners."""
    rng = np.random.default_rng(seed)
    pos = np.flatnonzero(labels == 1)
    neg = np.flatnonzero(labels == 0)
    chosen = rng.choice(neg, size=min(len(pos), len(neg)), replace=False)
    rows = np.sort(np.concatenate([pos, chosen]))
    member = _fit(models, seed, trees, features[rows], labels[rows])
    return Group(tuple(models), [member], len(chosen) / len(neg))


def fit_partitions(
    features: Matrix,
    labels: Labels,
    models: Sequence[str],
    *,
    partitions: int,
    seed: int,
    trees: int,
) -> Group:
    """The partition ensemble: every churner and a disjoint part of the non-churners each."""
    rng = np.random.default_rng(seed)
    member_rows = partition_rows(labels, partitions, rng)
    seeds = rng.integers(0, 2**31 - 1, size=partitions)
    members = [
        _fit(models, int(member_seed), trees, features[rows], labels[rows])
        for rows, member_seed in zip(member_rows, seeds, strict=True)
    ]
    negatives = int((labels == 0).sum())
    beta = float(np.mean([int((labels[r] == 0).sum()) for r in member_rows])) / negatives
    return Group(tuple(models), members, beta)


def partition_rows(
    labels: Labels, partitions: int, rng: np.random.Generator
) -> list[NDArray[np.intp]]:
    """The training rows of each partition-ensemble member (sorted).

    The non-churners are shuffled and split into ``partitions`` disjoint parts of
    sizes differing by at most one; every member also gets every churner.
    """
    pos = np.flatnonzero(labels == 1)
    neg = rng.permutation(np.flatnonzero(labels == 0))
    return [np.sort(np.concatenate([pos, part])) for part in np.array_split(neg, partitions)]


def fit_bagging(
    features: Matrix,
    labels: Labels,
    models: Sequence[str],
    *,
    members: int,
    seed: int,
    trees: int,
) -> tuple[Any, float]:
    """imbalanced-learn's BalancedBaggingClassifier around the soft vote.

    Returns:
        The fitted classifier and the share of non-churners one member saw.
    """
    from imblearn.ensemble import BalancedBaggingClassifier
    from imblearn.under_sampling import RandomUnderSampler

    bagging = BalancedBaggingClassifier(
        estimator=soft_vote(models, seed, trees),
        n_estimators=members,
        sampler=RandomUnderSampler(random_state=seed),
        bootstrap=False,
        random_state=seed,
        n_jobs=1,
    )
    bagging.fit(features, labels)
    pos, neg = int((labels == 1).sum()), int((labels == 0).sum())
    return bagging, min(pos, neg) / neg


def _fold(
    train: NDArray[np.intp],
    valid: NDArray[np.intp],
    features: Matrix,
    labels: Labels,
    models: tuple[str, ...],
    partitions: int,
    seed: int,
    trees: int,
) -> dict[str, Vector]:
    x, y = features[train], labels[train]
    under = fit_undersampled(x, y, models, seed=seed, trees=trees)
    part = fit_partitions(x, y, models, partitions=partitions, seed=seed, trees=trees)
    out = {f"under_{k}": v for k, v in under.scores(features[valid]).items()}
    out.update({f"part_{k}": v for k, v in part.scores(features[valid]).items()})
    return out


def cross_validate(
    features: Matrix,
    labels: Labels,
    models: Sequence[str],
    *,
    folds: int,
    partitions: int,
    seed: int,
    trees: int,
    jobs: int,
) -> tuple[dict[str, Vector], dict[str, list[float]]]:
    """Stratified k-fold cross-validation of both schemes.

    Args:
        features: The training rows.
        labels: Their labels.
        models: Base model names.
        folds: k.
        partitions: Members of the partition ensemble.
        seed: Seeds the folds and every fit (fold ``i`` uses ``seed + i``).
        trees: Trees per forest.
        jobs: Folds fitted in parallel (results do not depend on it).

    Returns:
        Out-of-fold probabilities per row name (``under_logit`` ... ``part_vote``) and
        the AUC of every fold per row name.
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.utils.parallel import Parallel, delayed

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = list(splitter.split(features, labels))
    task = delayed(_fold)
    results = Parallel(n_jobs=jobs)(
        task(tr, va, features, labels, tuple(models), partitions, seed + i, trees)
        for i, (tr, va) in enumerate(splits)
    )
    oof: dict[str, Vector] = {}
    per_fold: dict[str, list[float]] = {}
    for (_, valid), scores in zip(splits, results, strict=True):
        for name, values in scores.items():
            oof.setdefault(name, np.zeros(len(labels)))[valid] = values
            per_fold.setdefault(name, []).append(float(roc_auc_score(labels[valid], values)))
    return oof, per_fold


def prior_shift(probability: Vector, beta: float) -> Vector:
    """Maps probabilities learnt on undersampled data back to the real base rate.

    Args:
        probability: Probabilities from a model that saw a share ``beta`` of the
            non-churners (and every churner).
        beta: That share, in (0, 1].
    """
    return np.asarray(beta * probability / (beta * probability + 1.0 - probability))


def threshold_for_fallout(labels: Labels, scores: Vector, fallout: float) -> float:
    """The lowest threshold whose fall-out (false-positive rate) is at most ``fallout``.

    A customer is flagged when ``score >= threshold``. Choose it on validation data
    (out-of-fold scores), never on the test set.
    """
    from sklearn.metrics import roc_curve

    fpr, _, thresholds = roc_curve(labels, scores, drop_intermediate=False)
    index = int(np.flatnonzero(fpr <= fallout + 1e-12)[-1])
    threshold = float(thresholds[index])
    if not np.isfinite(threshold):  # nothing may be flagged: just above the top score
        threshold = float(np.nextafter(np.max(scores), np.inf))
    return threshold


def rates(labels: Labels, scores: Vector, threshold: float) -> dict[str, float]:
    """Fall-out, true-positive rate and flagged share at a threshold."""
    flagged = scores >= threshold
    negatives = max(int((labels == 0).sum()), 1)
    positives = max(int((labels == 1).sum()), 1)
    return {
        "fallout": float((flagged & (labels == 0)).sum() / negatives),
        "tpr": float((flagged & (labels == 1)).sum() / positives),
        "flagged": float(flagged.mean()),
    }


def scores_table(labels: Labels, probability: Vector, beta: float | None) -> dict[str, float]:
    """Accuracy at p = 0.5, Brier score (raw and prior-shift corrected) and ROC AUC.

    Args:
        labels: True labels.
        probability: The model's churn probabilities.
        beta: Share of non-churners the model saw; None: no correction (NaN).
    """
    from sklearn.metrics import roc_auc_score

    corrected = prior_shift(probability, beta) if beta is not None else None
    return {
        "accuracy": float(((probability >= 0.5) == (labels == 1)).mean()),
        "brier": float(np.mean((probability - labels) ** 2)),
        "brier_corrected": (
            float(np.mean((corrected - labels) ** 2)) if corrected is not None else float("nan")
        ),
        "auc": float(roc_auc_score(labels, probability)),
    }
