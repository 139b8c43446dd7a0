"""The ``label_chain:`` section of an experiment file.

Imports nothing heavy: ``deepracer plugins list`` and config validation load it.

Contents:
    SCENARIOS: the article's six chaining scenarios (parent mode, chained mode).
    LABELING_JOB_NAME, LABEL_ATTRIBUTE_NAME: Ground Truth's name patterns.
    attribute_problem: why a label attribute name cannot be used, or None.
    job_name_problem: why a labeling job name cannot be used, or None.
    LabelChainConfig: the typed section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from deepracer.errors import ConfigError
from deepracer.plugins.custom_labels.manifest import check_attribute
from deepracer.plugins.kit import at_least, interval, positive

__all__ = [
    "LABELING_JOB_NAME",
    "LABEL_ATTRIBUTE_NAME",
    "SCENARIOS",
    "LabelChainConfig",
    "attribute_problem",
    "job_name_problem",
]

SCENARIOS: dict[int, tuple[str, str]] = {
    1: ("non-al", "non-al"),
    2: ("non-al", "al"),
    3: ("al", "non-al"),
    4: ("al", "al"),
    5: ("third-party", "non-al"),
    6: ("third-party", "al"),
}
"""The article's table: scenario number to (parent job, chained job); ``al`` is a job
with automated data labeling, ``third-party`` labels that came from elsewhere."""

LABELING_JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
"""``CreateLabelingJob``'s ``LabelingJobName`` pattern (botocore's model)."""
LABEL_ATTRIBUTE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,126}$")
"""``CreateLabelingJob``'s ``LabelAttributeName`` pattern (botocore's model)."""

# The longest suffix run.py adds to job_name: "-s6-chain-99" (scenario, chain number).
_JOB_SUFFIX = len("-s6-third-party")


def attribute_problem(name: str) -> str | None:
    """Returns why ``name`` cannot be a chained job's label attribute, or None.

    Ground Truth's own rules first (``source``/``source-ref`` reserved, no
    ``-metadata`` suffix), then the API's pattern, then the ``-ref`` suffix that only
    segmentation jobs may use.
    """
    problem = check_attribute(name)
    if problem is not None:
        return problem
    if not LABEL_ATTRIBUTE_NAME.match(name):
        return (
            "a label attribute name of 1-127 letters, digits and hyphens, starting and"
            " ending with a letter or digit (Ground Truth's LabelAttributeName)"
        )
    if name.endswith("-ref"):
        return "a label attribute name not ending in -ref (reserved for segmentation jobs)"
    return None


def job_name_problem(name: str, *, room: int = 0) -> str | None:
    """Returns why ``name`` cannot be a labeling job name, or None.

    Args:
        name: The name.
        room: Characters still to be appended to it (suffixes of derived names).
    """
    if not LABELING_JOB_NAME.match(name) or len(name) + room > 63:
        return (
            f"a labeling job name of 1-{63 - room} letters, digits and hyphens, starting and"
            " ending with a letter or digit"
        )
    return None


def _job_prefix(name: str) -> str | None:
    return job_name_problem(name, room=_JOB_SUFFIX)


def _aws_job(name: str) -> str | None:
    return None if not name else job_name_problem(name)


def _aws_attribute(name: str) -> str | None:
    return None if not name else attribute_problem(name)


_rate = interval(0, 1, "a probability", high_open=True)


def _objects(value: int) -> str | None:
    return None if value == 0 or value >= 20 else "0 (every object) or an integer >= 20"


def _scenarios(value: tuple[int, ...]) -> str | None:
    if value and len(set(value)) == len(value) and all(v in SCENARIOS for v in value):
        return None
    return "a non-empty list of distinct scenario numbers from 1 to 6 (the article's table)"


def _prefix(value: str) -> str | None:
    return None if value and not value.isspace() else "a non-empty source-ref prefix"


@dataclass(frozen=True, kw_only=True)
class LabelChainConfig:
    """Chained Ground Truth labeling jobs, simulated with a scripted human oracle."""

    dataset: Literal["digits"] = "digits"
    """The objects to label and their true classes (the oracle): scikit-learn's 1,797
    8x8 handwritten digits, shipped with the package."""
    objects: int = field(default=0, metadata={"check": _objects})
    """How many objects (a seeded random subset); 0: all of them."""
    source_prefix: str = field(
        default="s3://deepracer-label-chain/digits/", metadata={"check": _prefix}
    )
    """``source-ref`` of object ``i`` is this prefix plus ``00042.png``; the images are
    not written (the simulation reads the arrays)."""
    attribute: str = field(default="digit", metadata={"check": attribute_problem})
    """The label attribute name (``LabelAttributeName``) every job of a chain uses."""
    job_name: str = field(default="digits", metadata={"check": _job_prefix})
    """Labeling job name prefix; jobs are ``<job_name>-s<scenario>[-chain[-k]]``."""
    scenarios: tuple[int, ...] = field(default=(1, 2, 3, 4, 5, 6), metadata={"check": _scenarios})
    """The rows of the article's table to run: 1 Non-AL -> Non-AL, 2 Non-AL -> AL,
    3 AL -> Non-AL, 4 AL -> AL, 5 third-party -> Non-AL, 6 third-party -> AL."""
    stop_after_labels: int = field(default=300, metadata={"check": at_least(1, "an integer")})
    """The parent job is stopped once it has written this many labels (the article
    stopped its job after 1,000); a third-party parent brings this many labels."""
    max_chained_jobs: int = field(default=3, metadata={"check": at_least(1, "an integer")})
    """Jobs chained after the parent at most; each sends only what is still unlabelled
    or failed, so a chain ends early once nothing is left."""
    workers_per_object: int = field(default=3, metadata={"check": at_least(1, "an integer")})
    """Simulated workers per object (``NumberOfHumanWorkersPerDataObject``); their
    majority vote is the label and its share of votes the confidence (one worker: 0.0,
    as Ground Truth writes)."""
    human_error_rate: float = field(default=0.0, metadata={"check": _rate})
    """Probability that one worker answers a wrong class (drawn uniformly)."""
    human_failure_rate: float = field(default=0.01, metadata={"check": _rate})
    """Probability that an object sent to people fails (the task expires); it gets a
    ``failure-reason`` and the next chained job sends it again."""
    third_party_error_rate: float = field(default=0.03, metadata={"check": _rate})
    """Probability that a third-party label (scenarios 5 and 6) is wrong."""
    model: Literal["svm_rbf", "logistic"] = "svm_rbf"
    """Automated labeling's model on the 64 pixel intensities: ``svm_rbf`` (confidence:
    the sigmoid of twice the predicted class's weakest one-vs-one margin) or
    ``logistic`` (the top class probability)."""
    regularization: float = field(default=1.0, metadata={"check": positive})
    """The model's C (inverse regularisation strength) [-]."""
    target_accuracy: float = field(
        default=0.95, metadata={"check": interval(0, 1, "an accuracy", low_open=True)}
    )
    """Automated labeling's confidence threshold is the lowest at which the validation
    objects above it are at least this accurate (Ground Truth: 95 %)."""
    min_validation_above: int = field(default=10, metadata={"check": at_least(1, "an integer")})
    """A threshold must leave at least this many validation objects above it, so one
    lucky object cannot set it."""
    human_batch: int = field(default=200, metadata={"check": at_least(2, "an integer")})
    """Automated labeling: objects sent to people per round (the first round's at
    random, later rounds' the least confident); a model is trained once this many
    human labels exist."""
    auto_min_objects: int = field(default=1250, metadata={"check": at_least(1, "an integer")})
    """Automated labeling needs an input manifest of at least this many objects
    (Ground Truth: 1,250); smaller jobs run with people only."""
    price_per_human_label: float = field(default=0.116, metadata={"check": at_least(0)})
    """Cost of one label by people [USD]: Ground Truth's 0.08 per labelled object plus
    3 public-workforce workers at 0.012 each (AWS's published prices, first 50,000
    objects a month; check the pricing page)."""
    price_per_machine_label: float = field(default=0.08, metadata={"check": at_least(0)})
    """Cost of one automated label [USD]: Ground Truth's 0.08 per labelled object (the
    training and inference compute of automated labeling is billed apart and left out)."""
    counterfactual: bool = True
    """Also run each chained mode from scratch under a new attribute name (which
    relabels every object), to price a restart without chaining."""
    aws_prior_job: str = field(default="", metadata={"check": _aws_job})
    """Backend aws: the stopped, failed or completed labeling job to chain."""
    aws_job_name: str = field(default="", metadata={"check": _aws_job})
    """Backend aws: the chained job's name; empty: ``<prior>-chain`` (with a number if
    that is too long)."""
    aws_attribute: str = field(default="", metadata={"check": _aws_attribute})
    """Backend aws: the label attribute name; empty: the prior job's, which continues
    it (a different name relabels every object)."""
    aws_auto_labeling: bool | None = None
    """Backend aws: automated labeling in the chained job; null: as in the prior job.
    A prior auto-labeling model is passed on as ``InitialActiveLearningModelArn``."""
    aws_max_human_labels: int = field(default=0, metadata={"check": at_least(0, "an integer")})
    """Backend aws: ``StoppingConditions.MaxHumanLabeledObjectCount``; 0: no limit."""
    aws_stop_after_labels: int = field(default=0, metadata={"check": at_least(0, "an integer")})
    """Backend aws: stop the chained job (``stop_labeling_job``) once it has added this
    many labels, seen while polling (needs ``aws_wait_minutes``); 0: never stop it."""
    aws_wait_minutes: float = field(default=0.0, metadata={"check": at_least(0)})
    """Backend aws: wait this long for the chained job to finish [min]; 0: create it,
    report its counters once and leave it running (people take hours)."""
    aws_poll_seconds: float = field(default=60.0, metadata={"check": positive})
    """Backend aws: seconds between ``describe_labeling_job`` calls while waiting."""

    def __post_init__(self) -> None:
        # The validation set is a fifth of the first human_batch labels (Ground Truth's
        # share below 5,000 objects; digits has 1,797), so a threshold needing more
        # validation objects above it than that could never be set.
        if self.min_validation_above > round(0.2 * self.human_batch):
            raise ConfigError(
                f"label_chain: min_validation_above ({self.min_validation_above}) must be at"
                f" most a fifth of human_batch ({self.human_batch}): the validation set is"
                " 20 % of the first human labels and could never hold that many"
            )
        if self.aws_stop_after_labels > 0 and self.aws_wait_minutes <= 0:
            raise ConfigError(
                "label_chain: aws_stop_after_labels needs aws_wait_minutes > 0: the labels"
                " are counted while polling describe_labeling_job"
            )
