"""Ground Truth augmented manifests for image classification: read and write.

A manifest is JSON lines, one object per image. SageMaker Ground Truth writes them and
Rekognition Custom Labels trains from them::

    {"source-ref": "s3://bucket/images/0001.png", "label": 3, "label-metadata":
     {"class-name": "three", "confidence": 1.0, "type": "groundtruth/image-classification",
      "human-annotated": "yes", "creation-date": "2019-11-25T10:00:00.000000",
      "job-name": "labeling-job/digits"}}

``label`` is the *label attribute* (Ground Truth's ``LabelAttributeName``): its value
is the class id and ``label-metadata`` describes it. A line may carry several
attributes (chained labeling jobs add one each); every ``X`` with an ``X-metadata``
object next to it is one. Other keys are kept as they are, in order, so a manifest
read and written again keeps what this module does not understand.

Reading never stops at a bad line: :func:`read_manifest` returns the records it
could read and one :class:`ManifestProblem` (file, line, what was expected) per line
it could not. Only a file that cannot be opened raises.

This module needs nothing but the standard library, so other plugins can share it.

Contents:
    IMAGE_CLASSIFICATION: the ``type`` of classification labels.
    DATE_FORMAT: ``%Y-%m-%dT%H:%M:%S.%f``, Ground Truth's ``creation-date``.
    ClassLabel: one label attribute's value and metadata.
    ManifestRecord: one line: the object reference, its labels, other keys.
    ManifestProblem: a line that could not be read, and why.
    make_label: a :class:`ClassLabel` stamped with the current time.
    check_attribute: why a label attribute name is invalid, or None.
    record_from_json, record_to_json: one line's object to a record and back.
    parse_manifest: manifest text to records and problems.
    read_manifest: a manifest file to records and problems.
    manifest_text, write_manifest: records to manifest text; to a file, atomically.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deepracer.errors import DeepRacerError
from deepracer.io import atomic_write_text

__all__ = [
    "DATE_FORMAT",
    "IMAGE_CLASSIFICATION",
    "ClassLabel",
    "ManifestProblem",
    "ManifestRecord",
    "check_attribute",
    "make_label",
    "manifest_text",
    "parse_manifest",
    "read_manifest",
    "record_from_json",
    "record_to_json",
    "write_manifest",
]

IMAGE_CLASSIFICATION = "groundtruth/image-classification"
"""The metadata ``type`` of a single-label image classification."""
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
"""Ground Truth's ``creation-date`` format (UTC, no zone suffix)."""
_RESERVED = ("source", "source-ref")
# The metadata keys a ClassLabel models; any others (class-map, failure-reason, ...)
# travel in ClassLabel.extra.
_KNOWN_METADATA = (
    "class-name",
    "confidence",
    "type",
    "human-annotated",
    "creation-date",
    "job-name",
)


@dataclass(frozen=True)
class ClassLabel:
    """The value of one label attribute: a class id and its ``-metadata``.

    Attributes:
        class_id: The attribute's value (an integer class id).
        class_name: ``class-name``.
        confidence: ``confidence`` in [0, 1].
        human_annotated: ``human-annotated`` ("yes" or "no" in the file).
        creation_date: ``creation-date`` (naive, UTC as Ground Truth writes it).
        job_name: ``job-name`` (Ground Truth writes ``labeling-job/NAME``).
        type: ``type`` (:data:`IMAGE_CLASSIFICATION` for this kind of label).
        extra: Other metadata keys, written back unchanged.
    """

    class_id: int
    class_name: str
    confidence: float = 1.0
    human_annotated: bool = True
    creation_date: datetime = field(default_factory=lambda: datetime(1970, 1, 1))
    job_name: str = ""
    type: str = IMAGE_CLASSIFICATION
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ManifestRecord:
    """One manifest line.

    Attributes:
        source_ref: ``source-ref``: where the object is (``s3://...``, a path), or None
            for a line that carries its data inline in ``source``.
        labels: Label attribute name to its label, in file order.
        source: ``source``: inline data (text tasks), or None.
        extra: Every other key, in file order (written back unchanged).
        line: 1-based line number in the file it was read from (0: built in code).
    """

    source_ref: str | None
    labels: Mapping[str, ClassLabel] = field(default_factory=dict)
    source: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    line: int = 0

    def label(self, attribute: str) -> ClassLabel | None:
        """Returns the label under ``attribute``, or None when the line has none."""
        return self.labels.get(attribute)


@dataclass(frozen=True)
class ManifestProblem:
    """A manifest line that could not be read (or whose object could not be used).

    Attributes:
        path: The manifest file (or ``<text>``).
        line: 1-based line number.
        message: What was wrong and what was expected.
    """

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def make_label(
    class_id: int,
    class_name: str,
    *,
    job_name: str,
    confidence: float = 1.0,
    human_annotated: bool = True,
    when: datetime | None = None,
) -> ClassLabel:
    """Returns a classification label stamped with ``when`` (default: now, UTC).

    Args:
        class_id: The class id the attribute takes.
        class_name: Its name.
        job_name: ``job-name`` (e.g. ``labeling-job/digits``).
        confidence: In [0, 1].
        human_annotated: True for a person's label, False for a model's.
        when: The creation date; naive UTC (an aware one is converted).
    """
    stamp = when or datetime.now(UTC)
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC).replace(tzinfo=None)
    return ClassLabel(
        class_id=class_id,
        class_name=class_name,
        confidence=confidence,
        human_annotated=human_annotated,
        creation_date=stamp,
        job_name=job_name,
    )


def check_attribute(name: str) -> str | None:
    """Returns why ``name`` cannot be a label attribute name, or None if it can.

    Ground Truth reserves ``source`` and ``source-ref`` and rejects names ending in
    ``-metadata``.
    """
    if not name or not name.strip():
        return "a non-empty label attribute name"
    if name in _RESERVED or name.endswith("-metadata"):
        return "a label attribute name other than source/source-ref, not ending in -metadata"
    return None


def _parse_date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    for pattern in (DATE_FORMAT, "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(value, pattern)
        except ValueError:
            continue
    return None


def _label_from_json(attribute: str, value: Any, metadata: Mapping[str, Any]) -> ClassLabel:
    """Builds one label; raises ValueError with what was expected."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{attribute!r}: expected an integer class id, got {value!r}")
    name = metadata.get("class-name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"'{attribute}-metadata': expected a 'class-name' string")
    confidence = metadata.get("confidence", 1.0)
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not math.isfinite(confidence)
        or not 0.0 <= confidence <= 1.0
    ):
        raise ValueError(
            f"'{attribute}-metadata': expected a 'confidence' in [0, 1], got {confidence!r}"
        )
    human = metadata.get("human-annotated", "yes")
    if human not in ("yes", "no"):
        raise ValueError(
            f"'{attribute}-metadata': expected 'human-annotated' \"yes\" or \"no\", got {human!r}"
        )
    raw_date = metadata.get("creation-date")
    date = datetime(1970, 1, 1) if raw_date is None else _parse_date(raw_date)
    if date is None:
        raise ValueError(
            f"'{attribute}-metadata': expected 'creation-date' like"
            f" 2019-11-25T10:00:00.000000 ({DATE_FORMAT}), got {raw_date!r}"
        )
    job = metadata.get("job-name", "")
    kind = metadata.get("type", IMAGE_CLASSIFICATION)
    if not isinstance(job, str) or not isinstance(kind, str):
        raise ValueError(f"'{attribute}-metadata': 'job-name' and 'type' must be strings")
    return ClassLabel(
        class_id=value,
        class_name=name,
        confidence=float(confidence),
        human_annotated=human == "yes",
        creation_date=date,
        job_name=job,
        type=kind,
        extra={k: v for k, v in metadata.items() if k not in _KNOWN_METADATA},
    )


def record_from_json(data: Any, *, line: int = 0) -> ManifestRecord:
    """Builds a record from one line's parsed JSON.

    A key ``X`` is a label attribute when ``X-metadata`` is an object whose ``type``
    is :data:`IMAGE_CLASSIFICATION` (or missing) and ``X`` holds its value. Metadata
    without a value (Ground Truth's ``failure-reason`` lines) stays in ``extra``: the
    object is unlabelled under ``X``.

    Raises:
        ValueError: Not an object, no ``source-ref``/``source``, or a malformed label;
            the message says what was expected.
    """
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    source_ref = data.get("source-ref")
    source = data.get("source")
    if source_ref is None and source is None:
        raise ValueError("expected a 'source-ref' (or 'source') key")
    if source_ref is not None and (not isinstance(source_ref, str) or not source_ref):
        raise ValueError(f"'source-ref': expected a non-empty string, got {source_ref!r}")
    if source is not None and not isinstance(source, str):
        raise ValueError(f"'source': expected a string, got {source!r}")
    labels: dict[str, ClassLabel] = {}
    for key, value in data.items():
        if key in _RESERVED or key.endswith("-metadata"):
            continue
        metadata = data.get(f"{key}-metadata")
        if not isinstance(metadata, dict):
            continue
        if metadata.get("type", IMAGE_CLASSIFICATION) != IMAGE_CLASSIFICATION:
            continue  # a bounding-box or other task's attribute: kept in extra
        labels[key] = _label_from_json(key, value, metadata)
    taken = {*_RESERVED, *labels, *(f"{a}-metadata" for a in labels)}
    extra = {k: v for k, v in data.items() if k not in taken}
    return ManifestRecord(
        source_ref=source_ref, labels=labels, source=source, extra=extra, line=line
    )


def record_to_json(record: ManifestRecord) -> dict[str, Any]:
    """The record as one line's JSON object (``source-ref`` first, then each label)."""
    out: dict[str, Any] = {}
    if record.source_ref is not None:
        out["source-ref"] = record.source_ref
    if record.source is not None:
        out["source"] = record.source
    for attribute, label in record.labels.items():
        out[attribute] = label.class_id
        out[f"{attribute}-metadata"] = {
            "class-name": label.class_name,
            "confidence": label.confidence,
            "type": label.type,
            "job-name": label.job_name,
            "human-annotated": "yes" if label.human_annotated else "no",
            "creation-date": label.creation_date.strftime(DATE_FORMAT),
            **label.extra,
        }
    for key, value in record.extra.items():
        out.setdefault(key, value)
    return out


def parse_manifest(
    text: str | bytes, *, path: str = "<text>"
) -> tuple[list[ManifestRecord], list[ManifestProblem]]:
    """Parses manifest text; bad lines become problems and parsing goes on.

    Blank lines are skipped silently. Each line is decoded on its own, so one line
    in another encoding spoils only itself.

    Args:
        text: The manifest's content.
        path: Names the source in problems.

    Returns:
        ``(records, problems)``, each in line order.
    """
    raw = text.encode("utf-8") if isinstance(text, str) else text
    records: list[ManifestRecord] = []
    problems: list[ManifestProblem] = []
    for number, chunk in enumerate(raw.splitlines(), start=1):
        try:
            line = chunk.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            problems.append(ManifestProblem(path, number, f"not UTF-8 text ({exc.reason})"))
            continue
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(
                ManifestProblem(path, number, f"not valid JSON ({exc.msg} at column {exc.colno})")
            )
            continue
        try:
            records.append(record_from_json(data, line=number))
        except ValueError as exc:
            problems.append(ManifestProblem(path, number, str(exc)))
    return records, problems


def read_manifest(path: str | Path) -> tuple[list[ManifestRecord], list[ManifestProblem]]:
    """Reads a manifest file; bad lines become problems and reading goes on.

    Args:
        path: The ``.manifest`` (JSON lines) file.

    Returns:
        ``(records, problems)``, each in line order.

    Raises:
        DeepRacerError: The file is missing or cannot be read.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DeepRacerError(f"{path}: manifest not found") from None
    except IsADirectoryError:
        raise DeepRacerError(f"{path}: is a folder; expected a manifest file") from None
    except OSError as exc:
        raise DeepRacerError(f"{path}: cannot read manifest ({exc.strerror})") from None
    return parse_manifest(raw, path=str(path))


def manifest_text(records: Iterable[ManifestRecord]) -> str:
    """The records as manifest text: one compact JSON object per line."""
    return "".join(
        json.dumps(record_to_json(r), ensure_ascii=False, allow_nan=False) + "\n" for r in records
    )


def write_manifest(path: str | Path, records: Iterable[ManifestRecord]) -> Path:
    """Writes records as a manifest file, atomically; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, manifest_text(records))
    return path
