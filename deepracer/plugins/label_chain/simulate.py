"""Local labeling jobs: a scripted human oracle and Ground Truth-style automated labeling.

A job takes an input manifest (records), sends the lines :func:`~.chain.to_label`
picks, and returns the output manifest. People are a scripted oracle that knows
every object's true class: each of ``workers`` answers wrongly with probability
``error_rate``, their majority vote is the label, and a task expires (the object
fails) with probability ``failure_rate``. Automated labeling follows Ground Truth's
documented loop:

1. a model is trained once ``human_batch`` human labels exist (the first
   ``human_batch`` objects go to people at random when there are fewer);
2. a random validation set is held out of the human labels (20 % below 5,000 input
   objects, 10 % above) and kept for the whole job;
3. the confidence threshold is the lowest at which the validation objects above it
   reach ``target_accuracy`` (95 %), with at least ``min_validation_above`` of them;
4. unlabelled objects at or above it are labelled by the model (``human-annotated:
   no``), the ``human_batch`` least confident of the rest go to people, and the loop
   retrains on every human label but the validation set until nothing is left.

A job chained after an auto-labeling job may start from that job's final model (Ground
Truth's ``InitialActiveLearningModelArn``): its first round then skips training and
validates the model on human labels it was not trained on.

A stop condition (``stop_after``) stops the job once it has written that many labels;
objects it had not reached stay unlabelled. Everything is drawn from the job's own
generator, so the same seed gives the same manifests.

Contents:
    CLASS_NAMES, START_TIME: the digits' class names; the simulated clock's start.
    validation_share: Ground Truth's validation share for an input size.
    Objects, load_objects: the dataset (features, true classes, source-refs).
    Oracle: the scripted workforce.
    SimClock: deterministic creation dates.
    LearnSettings, ActiveModel: automated labeling's settings and a trained model.
    ThresholdCurve, choose_threshold: accuracy above each validation confidence.
    RoundStats, JobSpec, JobResult: one round, one job's settings and outcome.
    job_rng: a job's generator from the seed and its name.
    third_party_labels: a manifest with labels bought elsewhere.
    run_job: one labeling job over an input manifest.
    wilson_interval: a binomial proportion's 95 % interval.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from deepracer.plugins.custom_labels.manifest import ManifestRecord, make_label
from deepracer.plugins.label_chain.chain import (
    Counters,
    count_labels,
    label_state,
    to_label,
    with_failure,
    with_label,
)

__all__ = [
    "CLASS_NAMES",
    "START_TIME",
    "ActiveModel",
    "JobResult",
    "JobSpec",
    "LearnSettings",
    "Objects",
    "Oracle",
    "RoundStats",
    "SimClock",
    "ThresholdCurve",
    "choose_threshold",
    "job_rng",
    "load_objects",
    "run_job",
    "third_party_labels",
    "validation_share",
    "wilson_interval",
]

CLASS_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
"""``class-name`` of digit classes 0-9."""
START_TIME = datetime(2019, 4, 9, 21, 0, 0)
"""Where every scenario's simulated clock starts (the article's first labels)."""
FAILURE = "ClientError: the task expired before enough workers answered (simulated)"
"""``failure-reason`` of an object whose human task expired."""
# Seconds between two consolidated human labels and between two auto-labeling rounds
# on the simulated clock: they only order the creation dates.
_HUMAN_SECONDS = 6.0
_ROUND_SECONDS = 600.0
# The SVM's confidence is the sigmoid of this times the predicted class's weakest
# pairwise (one-vs-one) margin: on digits it spreads the confidences over about
# (0.5, 0.95). The one-vs-rest decision values would not do: they are pairwise vote
# counts plus a small tie-breaker, so their confidences come in steps.
_MARGIN_SCALE = 2.0


def validation_share(objects: int) -> float:
    """Ground Truth's validation share: 20 % of an input below 5,000 objects, else 10 %."""
    return 0.2 if objects < 5000 else 0.1


@dataclass(frozen=True)
class Objects:
    """The objects to label.

    Attributes:
        name: The dataset's name.
        features: ``(n, d)`` model inputs in [0, 1].
        images: ``(n, h, w)`` the images, for plots.
        truth: ``(n,)`` true class ids (what the oracle knows).
        class_names: Name of each class id.
        source_refs: ``source-ref`` of each object.
    """

    name: str
    features: NDArray[np.float64]
    images: NDArray[np.float64]
    truth: NDArray[np.int64]
    class_names: tuple[str, ...]
    source_refs: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.source_refs)

    @cached_property
    def index(self) -> dict[str, int]:
        """``source-ref`` to object index."""
        return {ref: k for k, ref in enumerate(self.source_refs)}


def load_objects(count: int, prefix: str, seed: int) -> Objects:
    """scikit-learn's digits (shipped with it), or a seeded subset of ``count`` of them.

    Args:
        count: Objects wanted; 0 or more than there are: all 1,797.
        prefix: ``source-ref`` prefix; object ``i`` of the full set is ``prefix`` +
            ``00042.png`` (the same name in every subset).
        seed: Draws the subset.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    keep = np.arange(len(digits.target))
    if 0 < count < len(keep):
        rng = np.random.default_rng([seed, 0x5EED])
        keep = np.sort(rng.choice(len(keep), size=count, replace=False))
    images = digits.images[keep] / 16.0
    return Objects(
        name="digits",
        features=images.reshape(len(keep), -1),
        images=images,
        truth=digits.target[keep].astype(np.int64),
        class_names=CLASS_NAMES,
        source_refs=tuple(f"{prefix}{int(k):05d}.png" for k in keep),
    )


@dataclass(frozen=True)
class Oracle:
    """The scripted workforce: true classes, wrong answers and expired tasks.

    Attributes:
        truth: True class id per object.
        classes: Number of classes.
        workers: Workers per object; the label is their majority vote.
        error_rate: Probability that one worker answers a wrong class (uniformly).
        failure_rate: Probability that an object's task expires (no label).
    """

    truth: NDArray[np.int64]
    classes: int
    workers: int = 1
    error_rate: float = 0.0
    failure_rate: float = 0.0

    def ask(self, index: int, rng: np.random.Generator) -> tuple[int, float] | None:
        """People's consolidated answer for object ``index``, or None if the task failed.

        Returns:
            ``(class id, confidence)``: the majority vote (ties: the earliest answer
            among the tied) and the share of workers who gave it (0.0 for one worker,
            which is what Ground Truth writes then).
        """
        if self.failure_rate > 0 and rng.random() < self.failure_rate:
            return None
        true = int(self.truth[index])
        answers = []
        for _ in range(self.workers):
            if self.error_rate > 0 and rng.random() < self.error_rate:
                wrong = int(rng.integers(self.classes - 1))
                answers.append(wrong + (wrong >= true))
            else:
                answers.append(true)
        votes = Counter(answers)
        best = max(votes.values())
        label = next(a for a in answers if votes[a] == best)
        confidence = 0.0 if self.workers == 1 else round(best / self.workers, 2)
        return label, confidence


class SimClock:
    """A clock for creation dates that only moves when told (deterministic runs)."""

    def __init__(self, start: datetime = START_TIME) -> None:
        self.now = start

    def tick(self, seconds: float) -> datetime:
        """Moves the clock on and returns the new time."""
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass(frozen=True)
class LearnSettings:
    """Automated labeling's settings (see :class:`~.config.LabelChainConfig`)."""

    model: str = "svm_rbf"
    regularization: float = 1.0
    target_accuracy: float = 0.95
    min_validation_above: int = 10
    human_batch: int = 200
    auto_min_objects: int = 1250


@dataclass(frozen=True)
class ActiveModel:
    """A trained auto-labeling model.

    Attributes:
        estimator: The fitted scikit-learn estimator.
        trained_on: Object indices it was trained on (a later job must not
            validate it on them).
        name: Where it came from (``<job>/round-<k>``), as an ARN would say.
    """

    estimator: Any
    trained_on: frozenset[int]
    name: str


@dataclass(frozen=True)
class ThresholdCurve:
    """Accuracy of the validation objects at or above each candidate threshold.

    Attributes:
        thresholds: The distinct validation confidences, highest first.
        accuracy: Accuracy of the validation objects at or above each.
        coverage: Share of the validation objects at or above each.
    """

    thresholds: list[float]
    accuracy: list[float]
    coverage: list[float]


def choose_threshold(
    confidence: NDArray[np.float64],
    correct: NDArray[np.bool_],
    *,
    target: float,
    min_above: int,
) -> tuple[float | None, ThresholdCurve]:
    """The lowest confidence at which the validation objects above it are accurate enough.

    Args:
        confidence: The model's confidence on each validation object.
        correct: Whether its prediction matches the object's human label.
        target: Accuracy wanted among the objects at or above the threshold.
        min_above: Fewest validation objects that must be at or above it.

    Returns:
        ``(threshold, curve)``; the threshold is None when no confidence qualifies.
    """
    order = np.argsort(-confidence, kind="stable")
    sorted_conf = confidence[order]
    hits = np.cumsum(correct[order])
    n = len(order)
    thresholds: list[float] = []
    accuracy: list[float] = []
    coverage: list[float] = []
    chosen: float | None = None
    for i in range(n):
        # A threshold admits every object with that confidence: evaluate at the end of
        # a run of ties only.
        if i + 1 < n and sorted_conf[i + 1] == sorted_conf[i]:
            continue
        above = i + 1
        share = float(hits[i]) / above
        thresholds.append(float(sorted_conf[i]))
        accuracy.append(share)
        coverage.append(above / n)
        if above >= min_above and share >= target:
            chosen = float(sorted_conf[i])
    return chosen, ThresholdCurve(thresholds, accuracy, coverage)


@dataclass
class RoundStats:
    """One round of an auto-labeling job.

    Attributes:
        round: 1, 2, ...
        trained: False for a round that only sent a random batch to people.
        reused_model: The round used the prior job's model instead of training.
        train_size: Human labels the model was trained on.
        validation_size: Human labels it was validated on.
        threshold: The confidence threshold, or None when none reached the target.
        validation_accuracy: Accuracy of the validation objects above it.
        validation_above: How many validation objects were above it.
        auto_labelled: Objects the model labelled this round.
        auto_correct: How many of those match the true class.
        to_humans: Objects sent to people this round.
        curve: The validation curve the threshold came from.
    """

    round: int
    trained: bool = False
    reused_model: bool = False
    train_size: int = 0
    validation_size: int = 0
    threshold: float | None = None
    validation_accuracy: float | None = None
    validation_above: int = 0
    auto_labelled: int = 0
    auto_correct: int = 0
    to_humans: int = 0
    curve: ThresholdCurve | None = None


@dataclass(frozen=True)
class JobSpec:
    """One labeling job.

    Attributes:
        name: The labeling job's name (``job-name`` is ``labeling-job/<name>``).
        attribute: Its label attribute name.
        auto: Automated data labeling on.
        stop_after: Stop once the job has written this many labels; None: run to the end.
        initial_model: A prior auto-labeling job's final model to start from.
    """

    name: str
    attribute: str
    auto: bool = False
    stop_after: int | None = None
    initial_model: ActiveModel | None = None


@dataclass
class JobResult:
    """What a job did.

    Attributes:
        spec: The job.
        records: Its output manifest.
        sent: Objects it took on: the input's unlabelled and failed lines.
        human: Labels people wrote in this job.
        machine: Labels the model wrote in this job.
        failed: Objects that failed in this job.
        human_correct: Human labels of this job matching the true class.
        machine_correct: Machine labels of this job matching the true class.
        stopped: The stop condition ended the job early.
        auto_used: Automated labeling actually ran (the input was large enough).
        note: Why automated labeling did not run, if it was asked for.
        rounds: Auto-labeling rounds.
        final_model: The last model trained or reused (auto-labeling jobs).
        problems: Input lines the job could not label (objects unknown to the oracle).
        counters: The output manifest's counters under the job's attribute.
    """

    spec: JobSpec
    records: list[ManifestRecord]
    sent: int = 0
    human: int = 0
    machine: int = 0
    failed: int = 0
    human_correct: int = 0
    machine_correct: int = 0
    stopped: bool = False
    auto_used: bool = False
    note: str = ""
    rounds: list[RoundStats] = field(default_factory=list)
    final_model: ActiveModel | None = None
    problems: list[str] = field(default_factory=list)
    counters: Counters = field(default_factory=Counters)

    @property
    def labels(self) -> int:
        """Labels this job wrote."""
        return self.human + self.machine


def job_rng(seed: int, name: str) -> np.random.Generator:
    """A job's own generator: the experiment seed and the job's name."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def third_party_labels(
    records: Sequence[ManifestRecord],
    objects: Objects,
    *,
    attribute: str,
    count: int,
    error_rate: float,
    source: str,
    rng: np.random.Generator,
    clock: SimClock,
) -> tuple[list[ManifestRecord], int, int]:
    """Labels ``count`` random objects as a third party would have (scenarios 5, 6).

    The labels follow Ground Truth's format (``human-annotated: yes``, confidence
    0.95, ``job-name`` ``labeling-job/<source>``) so a chained job accepts them.

    Returns:
        ``(records, labelled, correct)``.
    """
    out = list(records)
    known = [k for k, r in enumerate(records) if objects.index.get(r.source_ref or "") is not None]
    chosen = sorted(int(known[i]) for i in rng.permutation(len(known))[:count])
    correct = 0
    n_classes = len(objects.class_names)
    for pos in chosen:
        index = objects.index[records[pos].source_ref or ""]
        true = int(objects.truth[index])
        class_id = true
        if error_rate > 0 and rng.random() < error_rate:
            wrong = int(rng.integers(n_classes - 1))
            class_id = wrong + (wrong >= true)
        correct += class_id == true
        label = make_label(
            class_id,
            objects.class_names[class_id],
            job_name=f"labeling-job/{source}",
            confidence=0.95,
            when=clock.tick(_HUMAN_SECONDS),
        )
        out[pos] = with_label(out[pos], attribute, label)
    return out, len(chosen), correct


def _make_estimator(settings: LearnSettings) -> Any:
    if settings.model == "logistic":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=settings.regularization, max_iter=2000)
    from sklearn.svm import SVC

    return SVC(C=settings.regularization, gamma="scale", decision_function_shape="ovo")


def _weakest_margins(decision: NDArray[np.float64], classes: int) -> NDArray[np.float64]:
    """Each class's smallest margin over its one-vs-one duels, ``(n, classes)``.

    Column ``k`` of scikit-learn's one-vs-one decision values is the pair ``(i, j)``
    in the order (0, 1), (0, 2), ..., (1, 2), ...; a positive value means ``i`` won.
    """
    if decision.ndim == 1:  # two classes: one signed margin for classes_[1]
        return np.column_stack([-decision, decision])
    rows = len(decision)
    duels = np.full((rows, classes, classes), np.inf)
    first, second = np.triu_indices(classes, k=1)
    duels[:, first, second] = decision
    duels[:, second, first] = -decision
    return np.asarray(duels.min(axis=2), dtype=np.float64)


def _predict(estimator: Any, features: NDArray[np.float64]) -> tuple[NDArray[Any], NDArray[Any]]:
    """Predicted class ids and confidences in [0, 1].

    Logistic regression: the top class probability. SVM: the class whose weakest duel
    is strongest (the one that won all its duels, when one did), with the sigmoid of
    that margin as confidence.
    """
    classes = np.asarray(estimator.classes_)
    if hasattr(estimator, "predict_proba"):
        scores = np.asarray(estimator.predict_proba(features), dtype=np.float64)
        best = scores.argmax(axis=1)
        return classes[best], scores[np.arange(len(best)), best]
    decision = np.asarray(estimator.decision_function(features), dtype=np.float64)
    margins = _weakest_margins(decision, len(classes))
    best = margins.argmax(axis=1)
    margin = margins[np.arange(len(best)), best]
    return classes[best], 1.0 / (1.0 + np.exp(-_MARGIN_SCALE * margin))


class _Job:
    """The state of one running job."""

    def __init__(
        self,
        records: Sequence[ManifestRecord],
        spec: JobSpec,
        objects: Objects,
        oracle: Oracle,
        settings: LearnSettings,
        clock: SimClock,
        rng: np.random.Generator,
    ) -> None:
        self.spec = spec
        self.objects = objects
        self.oracle = oracle
        self.settings = settings
        self.clock = clock
        self.rng = rng
        self.job = f"labeling-job/{spec.name}"
        self.result = JobResult(spec=spec, records=list(records))
        self.where: dict[int, int] = {}  # line -> object index
        for pos, record in enumerate(records):
            index = objects.index.get(record.source_ref or "")
            if index is not None:
                self.where[pos] = index

    def room(self) -> int:
        """Labels the job may still write before its stop condition."""
        if self.spec.stop_after is None:
            return len(self.result.records) + 1
        return max(0, self.spec.stop_after - self.result.labels)

    def humans(self, positions: Sequence[int], known: dict[int, int] | None = None) -> int:
        """Sends lines to people, one by one, until the stop condition; returns how many."""
        attribute = self.spec.attribute
        out = self.result.records
        done = 0
        for pos in positions:
            if self.room() <= 0:
                self.result.stopped = True
                break
            done += 1
            index = self.where[pos]
            answer = self.oracle.ask(index, self.rng)
            when = self.clock.tick(_HUMAN_SECONDS)
            if answer is None:
                out[pos] = with_failure(out[pos], attribute, FAILURE, job_name=self.job, when=when)
                self.result.failed += 1
                continue
            class_id, confidence = answer
            label = make_label(
                class_id,
                self.objects.class_names[class_id],
                job_name=self.job,
                confidence=confidence,
                when=when,
            )
            out[pos] = with_label(out[pos], attribute, label)
            self.result.human += 1
            self.result.human_correct += class_id == int(self.objects.truth[index])
            if known is not None:
                known[pos] = class_id
        return done

    def machine(self, pos: int, class_id: int, confidence: float, when: datetime) -> bool:
        """Writes one auto label; returns whether it matches the true class."""
        label = make_label(
            class_id,
            self.objects.class_names[class_id],
            job_name=self.job,
            confidence=round(confidence, 4),
            human_annotated=False,
            when=when,
        )
        self.result.records[pos] = with_label(self.result.records[pos], self.spec.attribute, label)
        self.result.machine += 1
        correct = class_id == int(self.objects.truth[self.where[pos]])
        self.result.machine_correct += correct
        return correct

    def human_labels(self) -> dict[int, int]:
        """Lines labelled by people (or a third party) in the input: line -> class id."""
        known: dict[int, int] = {}
        classes = len(self.objects.class_names)
        for pos, record in enumerate(self.result.records):
            label = record.labels.get(self.spec.attribute)
            if (
                label is not None
                and label.human_annotated
                and pos in self.where
                and label_state(record, self.spec.attribute) == "labeled"
                and 0 <= label.class_id < classes
            ):
                known[pos] = label.class_id
        return known

    def active_learning(self, order: list[int]) -> None:
        """Automated labeling's rounds (see the module docstring)."""
        settings = self.settings
        batch = settings.human_batch
        features = self.objects.features
        known = self.human_labels()
        share = validation_share(len(self.result.records))
        model = self.spec.initial_model
        validation: list[int] | None = None
        pool = list(order)
        number = 0
        # One random batch is enough to start training, even if a few of its tasks
        # failed and it left slightly fewer than human_batch labels.
        started = len(known) >= batch
        while pool and self.room() > 0:
            number += 1
            stats = RoundStats(round=number)
            self.result.rounds.append(stats)
            reuse = model is not None and number == 1
            if not started and not reuse:
                take, pool = pool[:batch], pool[batch:]
                stats.to_humans = self.humans(take, known)
                started = True
                continue
            if reuse:
                validation = self._validation(known, share, model)
                reuse = validation is not None
            # Drawn once and kept, unless too few human labels existed to hold enough
            # (failed tasks): then drawn again from the larger set.
            if validation is None or len(validation) < settings.min_validation_above:
                validation = self._validation(known, share, None)
            assert validation is not None
            held = set(validation)
            train = [p for p in sorted(known) if p not in held]
            estimator: Any = None
            trained_on: frozenset[int] = frozenset()
            if reuse and model is not None:
                estimator, trained_on = model.estimator, model.trained_on
                stats.reused_model = True
            elif len({known[p] for p in train}) >= 2:
                estimator = _make_estimator(settings)
                rows = [self.where[p] for p in train]
                estimator.fit(features[rows], np.array([known[p] for p in train]))
                trained_on = frozenset(rows)
            if estimator is None:
                take, pool = pool[:batch], pool[batch:]
                stats.to_humans = self.humans(take, known)
                continue
            stats.trained = True
            stats.train_size = len(trained_on)
            stats.validation_size = len(validation)
            model = ActiveModel(estimator, trained_on, f"{self.spec.name}/round-{number}")
            self.result.final_model = model
            predicted, confidence = _predict(
                estimator, features[[self.where[p] for p in validation]]
            )
            correct = predicted == np.array([known[p] for p in validation])
            threshold, curve = choose_threshold(
                confidence,
                correct,
                target=settings.target_accuracy,
                min_above=settings.min_validation_above,
            )
            stats.curve, stats.threshold = curve, threshold
            if threshold is not None:
                above = confidence >= threshold
                stats.validation_above = int(above.sum())
                stats.validation_accuracy = float(correct[above].mean())
            classes, scores = _predict(estimator, features[[self.where[p] for p in pool]])
            ranked = np.argsort(-scores, kind="stable")  # most confident first
            when = self.clock.tick(_ROUND_SECONDS)
            auto: set[int] = set()
            if threshold is not None:
                for i in ranked:
                    if scores[i] < threshold or self.room() <= 0:
                        break
                    stats.auto_correct += self.machine(
                        pool[i], int(classes[i]), float(scores[i]), when
                    )
                    auto.add(int(i))
                stats.auto_labelled = len(auto)
            # What the model was least sure of goes to people.
            rest = [pool[i] for i in ranked[::-1] if int(i) not in auto]
            take, pool = rest[:batch], rest[batch:]
            if rest and self.room() <= 0:
                self.result.stopped = True
                break
            stats.to_humans = self.humans(take, known)
        if pool and self.room() <= 0:
            self.result.stopped = True

    def _validation(
        self, known: dict[int, int], share: float, model: ActiveModel | None
    ) -> list[int] | None:
        """A random validation set of human labels (not ``model``'s training objects)."""
        candidates = sorted(known)
        if model is not None:
            candidates = [p for p in candidates if self.where[p] not in model.trained_on]
            if len(candidates) < self.settings.min_validation_above:
                return None
        size = min(len(candidates), max(1, round(share * len(known))))
        chosen = self.rng.choice(len(candidates), size=size, replace=False)
        return sorted(candidates[int(i)] for i in chosen)


def run_job(
    records: Sequence[ManifestRecord],
    spec: JobSpec,
    objects: Objects,
    oracle: Oracle,
    settings: LearnSettings,
    *,
    clock: SimClock,
    rng: np.random.Generator,
) -> JobResult:
    """Runs one labeling job over an input manifest.

    Lines already labelled under ``spec.attribute`` pass through unchanged; the
    unlabelled and failed ones are labelled by people (in random order) or, with
    ``spec.auto``, by automated labeling's rounds. Lines whose object the oracle does
    not know are passed through and reported in ``problems``.

    Args:
        records: The input manifest (for a chained job: the prior output manifest).
        spec: The job.
        objects: The dataset the oracle and the model read.
        oracle: The scripted workforce.
        settings: Automated labeling's settings.
        clock: Creation dates.
        rng: The job's generator (see :func:`job_rng`).
    """
    job = _Job(records, spec, objects, oracle, settings, clock, rng)
    pending = []
    for pos in to_label(records, spec.attribute):
        if pos in job.where:
            pending.append(pos)
        else:
            record = records[pos]
            line = record.line or pos + 1
            job.result.problems.append(
                f"line {line}: {record.source_ref or record.source!r} is not an object of"
                f" {objects.name}; passed through unlabelled"
            )
    job.result.sent = len(pending)
    order = [pending[int(i)] for i in rng.permutation(len(pending))]
    auto = spec.auto
    if auto and len(records) < settings.auto_min_objects:
        job.result.note = (
            f"automated labeling needs an input of at least {settings.auto_min_objects}"
            f" objects, this one has {len(records)}: people labelled everything"
        )
        auto = False
    job.result.auto_used = auto
    if auto:
        job.active_learning(order)
    else:
        job.humans(order)
    job.result.counters = count_labels(job.result.records, spec.attribute)
    return job.result


def wilson_interval(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson's score interval of a proportion (95 % by default); NaNs for no trials."""
    if trials <= 0:
        return math.nan, math.nan
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)
