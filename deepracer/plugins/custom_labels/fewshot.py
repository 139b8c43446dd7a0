"""The local model and its few-shot evaluation.

The model is small on purpose: no network weights are downloaded. Images are resized
to a fixed size, turned into HOG descriptors (or kept as pixels) and classified by an
RBF-kernel SVM or a logistic regression, trained on ``shots`` images per class.

An *episode* draws ``shots`` training images from every class at random and tests
on every other image. Episode ``e`` is drawn from ``default_rng([seed, e])``, so the
first five episodes of a 20-episode run are the five of a 5-episode run, and the
same seed always gives the same splits and numbers.

Contents:
    FeatureSpec: how images become feature vectors.
    EpisodeResult: one episode's split and scores.
    Summary: mean and spread over episodes.
    extract_features: images to a feature matrix.
    make_classifier: the configured scikit-learn estimator.
    episode_split: one episode's training and test indices.
    run_episodes: every episode, fitted and scored.
    summarize: episodes to mean +- sd.
    fit_final, predict_with_confidence: a model on every labelled image, for
        labelling new images with a confidence.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from deepracer.errors import ConfigError

__all__ = [
    "EpisodeResult",
    "FeatureSpec",
    "Summary",
    "episode_split",
    "extract_features",
    "fit_final",
    "make_classifier",
    "predict_with_confidence",
    "run_episodes",
    "summarize",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class FeatureSpec:
    """How images become feature vectors.

    Attributes:
        kind: ``hog`` or ``pixels``.
        size: ``(height, width)`` every image is resized to first [px].
        cell: HOG cell side [px]; blocks are 2 x 2 cells, L2-Hys normalised.
        orientations: HOG orientation bins.
    """

    kind: str
    size: tuple[int, int]
    cell: int = 8
    orientations: int = 9

    def check(self) -> None:
        """Raises ConfigError when HOG would get fewer than 2 x 2 cells."""
        if self.kind == "hog" and min(self.size) < 2 * self.cell:
            raise ConfigError(
                f"custom_labels: image_size {self.size[0]} x {self.size[1]} with hog_cell"
                f" {self.cell} gives fewer than 2 x 2 HOG cells; use image_size >="
                f" {2 * self.cell} or a smaller hog_cell"
            )

    def describe(self) -> str:
        """One phrase for the report."""
        h, w = self.size
        if self.kind == "pixels":
            return f"the {h} x {w} resized grey levels"
        return (
            f"HOG of the image resized to {h} x {w}: {self.orientations} orientations,"
            f" {self.cell} x {self.cell}-pixel cells, 2 x 2-cell blocks (L2-Hys)"
        )


def _resize(image: FloatArray, size: tuple[int, int]) -> FloatArray:
    from skimage import transform

    resize: Any = transform.resize  # scikit-image's partial annotations leave it untyped
    if image.shape == size:
        return image
    # Bilinear; skimage smooths first when shrinking (anti-aliasing), which keeps the
    # shrunk camera frames free of moire on the dashed centre line.
    return np.asarray(resize(image, size, order=1, mode="edge"), dtype=np.float64)


def extract_features(images: Sequence[FloatArray], spec: FeatureSpec) -> FloatArray:
    """Returns the ``(N, F)`` feature matrix of grayscale images in [0, 1]."""
    spec.check()
    if spec.kind == "pixels":
        return np.stack([_resize(im, spec.size).ravel() for im in images])
    from skimage.feature import hog

    return np.stack(
        [
            hog(
                _resize(im, spec.size),
                orientations=spec.orientations,
                pixels_per_cell=(spec.cell, spec.cell),
                cells_per_block=(2, 2),
                block_norm="L2-Hys",
            )
            for im in images
        ]
    ).astype(np.float64)


def make_classifier(kind: str, c: float) -> Any:
    """The estimator: ``svm_rbf`` (SVC, gamma "scale") or ``logistic`` (lbfgs)."""
    if kind == "svm_rbf":
        from sklearn.svm import SVC

        return SVC(kernel="rbf", C=c, gamma="scale")
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=5000)


def episode_split(
    labels: IntArray,
    shots: int,
    seed: int,
    episode: int,
    *,
    names: Sequence[str] | None = None,
) -> tuple[IntArray, IntArray]:
    """One episode's ``(train, test)`` indices: ``shots`` per class, the rest to test.

    Args:
        labels: Class id of every image.
        shots: Training images per class.
        seed: The experiment's seed.
        episode: The episode's index.
        names: Class names by id, for the error message.

    Raises:
        ConfigError: A class has no image left to test on after ``shots``.
    """
    rng = np.random.default_rng([seed, episode])
    train: list[IntArray] = []
    for c in np.unique(labels):
        pool = np.flatnonzero(labels == c)
        if len(pool) <= shots:
            name = names[int(c)] if names is not None else f"id {int(c)}"
            raise ConfigError(
                f"custom_labels: class {name!r} has {len(pool)} images; shots {shots}"
                " needs at least shots + 1 (one to test on)"
            )
        train.append(rng.choice(pool, shots, replace=False))
    chosen = np.sort(np.concatenate(train)).astype(np.int64)
    mask = np.ones(len(labels), dtype=bool)
    mask[chosen] = False
    return chosen, np.flatnonzero(mask).astype(np.int64)


@dataclass
class EpisodeResult:
    """One episode.

    Attributes:
        episode: 0-based episode index.
        train: Training indices.
        test: Test indices.
        predictions: Predicted class of each test index.
        accuracy: Share of test images classified right.
        balanced_accuracy: Mean of the per-class accuracies.
        per_class: Accuracy (recall) of each class.
        confusion: ``(K, K)`` counts, rows true class, columns predicted.
        fit_seconds: Time to fit.
        predict_seconds: Time to predict the test set.
    """

    episode: int
    train: IntArray
    test: IntArray
    predictions: IntArray
    accuracy: float
    balanced_accuracy: float
    per_class: FloatArray
    confusion: IntArray
    fit_seconds: float
    predict_seconds: float


def run_episodes(
    features: FloatArray,
    labels: IntArray,
    *,
    n_classes: int,
    shots: int,
    episodes: int,
    seed: int,
    classifier: str,
    c: float,
    names: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[EpisodeResult]:
    """Fits and scores ``episodes`` seeded episodes; see the module docstring."""
    results: list[EpisodeResult] = []
    for e in range(episodes):
        train, test = episode_split(labels, shots, seed, e, names=names)
        model = make_classifier(classifier, c)
        started = time.perf_counter()
        model.fit(features[train], labels[train])
        fitted = time.perf_counter()
        predicted = np.asarray(model.predict(features[test]), dtype=np.int64)
        done = time.perf_counter()
        truth = labels[test]
        confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
        np.add.at(confusion, (truth, predicted), 1)
        per_class = np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)
        results.append(
            EpisodeResult(
                episode=e,
                train=train,
                test=test,
                predictions=predicted,
                accuracy=float((predicted == truth).mean()),
                balanced_accuracy=float(per_class.mean()),
                per_class=per_class.astype(np.float64),
                confusion=confusion,
                fit_seconds=fitted - started,
                predict_seconds=done - fitted,
            )
        )
        if progress is not None and (e + 1) % 5 == 0:
            accs = [r.accuracy for r in results]
            progress(f"episode {e + 1}/{episodes}: mean accuracy so far {np.mean(accs):.3f}")
    return results


@dataclass(frozen=True)
class Summary:
    """Spread over episodes (sd with ddof = 1; 0 for a single episode).

    Attributes:
        mean: Mean accuracy.
        sd: Its standard deviation over episodes.
        low: Worst episode.
        high: Best episode.
        balanced_mean: Mean balanced accuracy.
        per_class_mean: Mean accuracy of each class.
        per_class_sd: Its sd over episodes.
        confusion: Confusion counts summed over episodes.
    """

    mean: float
    sd: float
    low: float
    high: float
    balanced_mean: float
    per_class_mean: FloatArray
    per_class_sd: FloatArray
    confusion: IntArray


def summarize(results: Sequence[EpisodeResult]) -> Summary:
    """Mean +- sd of accuracy, per class, and the summed confusion matrix."""
    accs = np.array([r.accuracy for r in results])
    per_class = np.stack([r.per_class for r in results])
    ddof = 1 if len(results) > 1 else 0
    return Summary(
        mean=float(accs.mean()),
        sd=float(accs.std(ddof=ddof)),
        low=float(accs.min()),
        high=float(accs.max()),
        balanced_mean=float(np.mean([r.balanced_accuracy for r in results])),
        per_class_mean=per_class.mean(axis=0),
        per_class_sd=per_class.std(axis=0, ddof=ddof),
        confusion=np.sum([r.confusion for r in results], axis=0).astype(np.int64),
    )


def fit_final(features: FloatArray, labels: IntArray, classifier: str, c: float) -> Any:
    """A model on every labelled image, able to give a confidence per prediction.

    The SVM gets Platt-scaled probabilities from ``CalibratedClassifierCV`` with
    ``ensemble=False`` (scikit-learn 1.9 deprecates ``SVC(probability=True)``) when
    every class has at least 2 images; otherwise the bare SVM (see
    :func:`predict_with_confidence`).
    """
    model = make_classifier(classifier, c)
    smallest = int(np.bincount(labels).min()) if len(labels) else 0
    if classifier == "svm_rbf" and smallest >= 2:
        from sklearn.calibration import CalibratedClassifierCV

        model = CalibratedClassifierCV(model, method="sigmoid", cv=min(3, smallest), ensemble=False)
    model.fit(features, labels)
    return model


def predict_with_confidence(model: Any, features: FloatArray) -> tuple[IntArray, FloatArray]:
    """Predicted classes and a confidence in [0, 1] for each.

    ``predict_proba``'s top probability where the model has it; otherwise a softmax
    of the SVM's decision values (a score, not a calibrated probability).
    """
    if hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(features), dtype=np.float64)
        classes = np.asarray(model.classes_, dtype=np.int64)
        return classes[proba.argmax(axis=1)], proba.max(axis=1)
    scores = np.asarray(model.decision_function(features), dtype=np.float64)
    if scores.ndim == 1:  # binary: one margin, positive for classes_[1]
        scores = np.stack([-scores, scores], axis=1)
    scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    scores /= scores.sum(axis=1, keepdims=True)
    classes = np.asarray(model.classes_, dtype=np.int64)
    return classes[scores.argmax(axis=1)], scores.max(axis=1)
