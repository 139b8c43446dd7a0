"""Chaining semantics on Ground Truth augmented manifests.

A chained labeling job reads the prior job's *output* manifest. Under the same label
attribute name it sends only the objects that have no label there or whose label
failed (their ``<attribute>-metadata`` carries a ``failure-reason``); every other
line, labelled by the prior job, by a person or by a third party, passes through
unchanged. Under a different attribute name no line has a label yet, so every object
is sent again. This module decides which lines go out, writes labels and failures
into records, counts them the way ``describe_labeling_job``'s ``LabelCounters`` does,
and checks a chain of output manifests: each object labelled once, by one job, and
never rewritten afterwards.

It reuses :mod:`deepracer.plugins.custom_labels.manifest` (the reader keeps a failed
object's metadata, which has no value beside it, among the record's other keys) and
needs only the standard library.

Contents:
    FAILURE_REASON: the metadata key of a failed object.
    LabelState: ``labeled``, ``failed`` or ``unlabeled``.
    failure_reason: a record's failure under an attribute, or None.
    label_state: a record's state under an attribute.
    to_label: the lines a chained job sends.
    with_label, with_failure: a record with a new label or a failure.
    Counters, count_labels: a manifest's label counters under an attribute.
    ChainCheck, verify_chain: the chain's invariants over its output manifests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from deepracer.plugins.custom_labels.manifest import (
    DATE_FORMAT,
    IMAGE_CLASSIFICATION,
    ClassLabel,
    ManifestRecord,
    record_to_json,
)

__all__ = [
    "FAILURE_REASON",
    "ChainCheck",
    "Counters",
    "LabelState",
    "count_labels",
    "failure_reason",
    "label_state",
    "to_label",
    "verify_chain",
    "with_failure",
    "with_label",
]

FAILURE_REASON = "failure-reason"
"""The ``<attribute>-metadata`` key Ground Truth writes on an object it failed to label."""

LabelState = Literal["labeled", "failed", "unlabeled"]


def _metadata(record: ManifestRecord, attribute: str) -> Mapping[str, Any]:
    """The attribute's metadata as written: a label's extra keys, or the raw object."""
    label = record.labels.get(attribute)
    if label is not None:
        return label.extra
    raw = record.extra.get(f"{attribute}-metadata")
    return raw if isinstance(raw, Mapping) else {}


def failure_reason(record: ManifestRecord, attribute: str) -> str | None:
    """The ``failure-reason`` under ``attribute``, or None when the object did not fail."""
    reason = _metadata(record, attribute).get(FAILURE_REASON)
    if reason is None:
        return None
    return str(reason) or "failed"


def label_state(record: ManifestRecord, attribute: str) -> LabelState:
    """Whether the object is labelled, failed or unlabelled under ``attribute``.

    A failure reason wins over a value beside it (Ground Truth sends such an object
    again). A value of another task type (a bounding box, say), which the reader
    keeps among the other keys, still counts as a label: chaining looks at the
    attribute, not at what kind of label it holds.
    """
    if failure_reason(record, attribute) is not None:
        return "failed"
    if attribute in record.labels or attribute in record.extra:
        return "labeled"
    return "unlabeled"


def to_label(records: Sequence[ManifestRecord], attribute: str) -> list[int]:
    """Positions of the lines a job chained under ``attribute`` sends: unlabelled or failed."""
    return [k for k, record in enumerate(records) if label_state(record, attribute) != "labeled"]


def with_label(record: ManifestRecord, attribute: str, label: ClassLabel) -> ManifestRecord:
    """The record with ``label`` under ``attribute``; a failure recorded there is dropped."""
    extra = {k: v for k, v in record.extra.items() if k not in (attribute, f"{attribute}-metadata")}
    return replace(record, labels={**record.labels, attribute: label}, extra=extra)


def with_failure(
    record: ManifestRecord, attribute: str, reason: str, *, job_name: str, when: datetime
) -> ManifestRecord:
    """The record marked as failed under ``attribute`` (metadata without a value).

    Args:
        record: The line.
        attribute: The label attribute.
        reason: What went wrong (``failure-reason``).
        job_name: ``job-name`` of the failing job (``labeling-job/NAME``).
        when: ``creation-date`` (naive UTC).
    """
    labels = {k: v for k, v in record.labels.items() if k != attribute}
    extra = {k: v for k, v in record.extra.items() if k not in (attribute, f"{attribute}-metadata")}
    extra[f"{attribute}-metadata"] = {
        FAILURE_REASON: reason,
        "type": IMAGE_CLASSIFICATION,
        "job-name": job_name,
        "creation-date": when.strftime(DATE_FORMAT),
    }
    return replace(record, labels=labels, extra=extra)


@dataclass(frozen=True)
class Counters:
    """A manifest's labels under one attribute, as ``LabelCounters`` names them.

    Attributes:
        human: Labelled by people (``human-annotated: yes``, third parties included).
        machine: Labelled by automated labeling (``human-annotated: no``).
        failed: Failed (``failure-reason``).
        unlabeled: No label yet.
    """

    human: int = 0
    machine: int = 0
    failed: int = 0
    unlabeled: int = 0

    @property
    def labeled(self) -> int:
        """Labelled objects (``TotalLabeled``)."""
        return self.human + self.machine

    @property
    def total(self) -> int:
        """Every object (line) of the manifest."""
        return self.human + self.machine + self.failed + self.unlabeled

    def as_dict(self) -> dict[str, int]:
        """``LabelCounters``' keys (plus ``Total``), for JSON."""
        return {
            "TotalLabeled": self.labeled,
            "HumanLabeled": self.human,
            "MachineLabeled": self.machine,
            "FailedNonRetryableError": self.failed,
            "Unlabeled": self.unlabeled,
            "Total": self.total,
        }


def count_labels(records: Sequence[ManifestRecord], attribute: str) -> Counters:
    """Counts a manifest's objects by their state under ``attribute``.

    A label whose metadata is not a classification (kept raw by the reader) counts as
    a human label unless its metadata says ``human-annotated: no``.
    """
    human = machine = failed = unlabeled = 0
    for record in records:
        state = label_state(record, attribute)
        if state == "failed":
            failed += 1
        elif state == "unlabeled":
            unlabeled += 1
        else:
            label = record.labels.get(attribute)
            if label is not None:
                by_people = label.human_annotated
            else:
                by_people = _metadata(record, attribute).get("human-annotated", "yes") != "no"
            if by_people:
                human += 1
            else:
                machine += 1
    return Counters(human=human, machine=machine, failed=failed, unlabeled=unlabeled)


@dataclass(frozen=True)
class ChainCheck:
    """What :func:`verify_chain` found.

    Attributes:
        objects: Lines of the first manifest.
        new_labels: Per manifest, the objects it labelled that the one before had not
            (for the first: every label in it).
        relabelled: ``manifest k: source-ref`` of labels that changed after they were
            written (a chained job must never touch them).
        lost: ``manifest k: ...`` of lines or labels that disappeared.
        unlabelled_at_end: Objects still unlabelled or failed in the last manifest.
    """

    objects: int
    new_labels: list[int] = field(default_factory=list)
    relabelled: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    unlabelled_at_end: int = 0

    @property
    def ok(self) -> bool:
        """Nothing relabelled and nothing lost."""
        return not self.relabelled and not self.lost

    @property
    def complete(self) -> bool:
        """Every object labelled exactly once, by one manifest's job."""
        return self.ok and self.unlabelled_at_end == 0 and sum(self.new_labels) == self.objects


def _key(record: ManifestRecord) -> str:
    return record.source_ref if record.source_ref is not None else f"source:{record.source}"


def _in_order(records: Sequence[ManifestRecord], keys: Sequence[str]) -> Sequence[ManifestRecord]:
    """``records`` in the order of ``keys`` when they hold the same unique objects."""
    by_key = {_key(r): r for r in records}
    if len(by_key) != len(records) or len(set(keys)) != len(keys) or set(by_key) != set(keys):
        return records
    return [by_key[k] for k in keys]


def verify_chain(
    manifests: Sequence[Sequence[ManifestRecord]], attribute: str, *, ordered: bool = True
) -> ChainCheck:
    """Checks a chain's output manifests, oldest first, under one attribute.

    Every manifest must hold the first one's objects (in the same order, unless
    ``ordered`` is False); a label, once written, must appear unchanged (value and
    metadata) in every later manifest.

    Args:
        manifests: The records of each job's output manifest, in chain order.
        attribute: The chain's label attribute.
        ordered: False matches lines by ``source-ref`` (unique ones), for a service
            whose output order is not the input's.
    """
    if not manifests:
        return ChainCheck(objects=0)
    keys = [_key(r) for r in manifests[0]]
    if not ordered:
        manifests = [_in_order(records, keys) for records in manifests]
    new_labels: list[int] = []
    relabelled: list[str] = []
    lost: list[str] = []
    written: dict[int, dict[str, Any]] = {}  # line -> the label's JSON, once written
    for k, records in enumerate(manifests, start=1):
        these = [_key(r) for r in records]
        if these != keys:
            missing = sorted(set(keys) - set(these))
            lost.append(
                f"manifest {k}: objects differ from the first manifest's"
                f" ({len(these)} lines, {len(missing)} missing"
                + (f", e.g. {missing[0]}" if missing else "")
                + ")"
            )
            new_labels.append(0)
            continue
        added = 0
        for line, record in enumerate(records):
            before = written.get(line)
            if label_state(record, attribute) != "labeled":
                if before is not None:
                    lost.append(f"manifest {k}: {keys[line]} lost its label")
                continue
            now = _label_json(record, attribute)
            if before is None:
                written[line] = now
                added += 1
            elif now != before:
                relabelled.append(f"manifest {k}: {keys[line]}")
        new_labels.append(added)
    last = manifests[-1]
    left = sum(label_state(r, attribute) != "labeled" for r in last)
    return ChainCheck(
        objects=len(keys),
        new_labels=new_labels,
        relabelled=relabelled,
        lost=lost,
        unlabelled_at_end=left if last and [_key(r) for r in last] == keys else len(keys),
    )


def _label_json(record: ManifestRecord, attribute: str) -> dict[str, Any]:
    """The attribute's value and metadata as written, for comparisons."""
    data = record_to_json(record)
    return {
        "value": data.get(attribute),
        "metadata": data.get(f"{attribute}-metadata"),
    }
