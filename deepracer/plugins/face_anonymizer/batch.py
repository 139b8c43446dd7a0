"""Batch transform style runs: a JSON-lines request file, or a folder of images.

* **JSON-lines file** (what SageMaker batch transform reads with ``SplitType:
  Line``): every non-blank line is one request ``{"instances": [...]}``. The output
  file ``<input name>.out`` in the output folder has one line per non-blank input
  line, in order: the response ``{"predictions": [...]}``, or ``{"error": "line N:
  ..."}`` when the line is not JSON or not a request. Inside a response, an instance
  that is not an image has ``{"error": "instances[i]: ..."}`` at its position. Each
  anonymized image is also written as ``line<N>_item<i>.png`` (or ``.jpg``).
* **Folder**: every regular, non-hidden file is one image, sent as a one-instance
  request; the anonymized image is written under the same name (``NAME.png`` is
  appended when the format changed, e.g. a GIF comes back as PNG).

Bad lines and bad items never stop the batch: ``errors.json`` lists each one
(``line`` or ``file``, ``item`` position or null, ``error``), and the outcome counts
them.

Contents:
    BatchOutcome: counts, errors and the output path of one batch.
    Responder: requests to responses (local model, endpoint or transform job).
    one_by_one: a per-request function as a :data:`Responder`.
    parse_lines: a JSON-lines file to requests and line errors.
    run_jsonl: answer a JSON-lines request file.
    run_folder: answer a folder of images.
    image_suffix: ``png``/``jpg`` from an image's first bytes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepracer.errors import DeepRacerError
from deepracer.io import atomic_write_bytes, atomic_write_text
from deepracer.plugins.face_anonymizer.anonymize import ImageError
from deepracer.plugins.face_anonymizer.handler import (
    PayloadError,
    prediction_bytes,
    request_for,
)

__all__ = [
    "BatchOutcome",
    "Responder",
    "image_suffix",
    "one_by_one",
    "parse_lines",
    "run_folder",
    "run_jsonl",
]

Responder = Callable[[list[dict[str, Any]]], list[dict[str, Any] | PayloadError]]
"""Answers requests in order: a response, or the PayloadError that refused it."""

Checker = Callable[[bytes], int]
"""Counts the faces a detector still finds in an anonymized image."""


@dataclass
class BatchOutcome:
    """What one batch produced.

    Attributes:
        source: The input file or folder.
        output: The output file (JSON lines) or folder.
        requests: Requests read (non-blank lines, or files).
        instances: Images asked for (instances in valid requests, or files).
        answered: Anonymized images returned.
        faces_after: Faces the detector found in the returned images (goal: 0).
        errors: One entry per bad line or item: ``line``/``file``, ``item``, ``error``.
        seconds: Wall time of the batch.
    """

    source: str
    output: Path
    requests: int = 0
    instances: int = 0
    answered: int = 0
    faces_after: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def one_by_one(process: Callable[[dict[str, Any]], dict[str, Any]]) -> Responder:
    """Wraps a one-request function (the local handler, an endpoint call) as a Responder."""

    def respond(requests: list[dict[str, Any]]) -> list[dict[str, Any] | PayloadError]:
        answers: list[dict[str, Any] | PayloadError] = []
        for request in requests:
            try:
                answers.append(process(request))
            except PayloadError as exc:
                answers.append(exc)
        return answers

    return respond


def image_suffix(data: bytes) -> str:
    """``jpg`` for JPEG bytes, ``png`` for anything else (our outputs are PNG or JPEG)."""
    return "jpg" if data[:3] == b"\xff\xd8\xff" else "png"


def parse_lines(path: Path) -> list[tuple[int, dict[str, Any] | None, str | None]]:
    """Reads a JSON-lines request file.

    Returns:
        One ``(line number, request or None, error or None)`` per non-blank line; a
        line that is not UTF-8 JSON gets an error naming its line number.

    Raises:
        DeepRacerError: The file cannot be read.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DeepRacerError(f"{path}: cannot read the batch file ({exc.strerror})") from None
    parsed: list[tuple[int, dict[str, Any] | None, str | None]] = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
            # Windows tools may start the file with a byte-order mark; it is not JSON.
            parsed.append(
                (number, json.loads(text.lstrip("\ufeff") if number == 1 else text), None)
            )
        except UnicodeDecodeError:
            parsed.append((number, None, f"line {number}: not UTF-8 text"))
        except json.JSONDecodeError as exc:
            parsed.append(
                (number, None, f"line {number}: not JSON ({exc.msg} at column {exc.colno})")
            )
    return parsed


def _answered(
    response: dict[str, Any], where: str, stem: str, out_dir: Path, outcome: BatchOutcome,
    check: Checker | None, key: dict[str, Any],
) -> None:  # fmt: skip
    """Counts one response's predictions, writes its images, records item errors."""
    predictions = response.get("predictions")
    if not isinstance(predictions, list):
        raise PayloadError(f"{where}: the response has no 'predictions' list")
    for index, prediction in enumerate(predictions):
        if isinstance(prediction, dict) and "error" in prediction:  # the model's own words
            outcome.errors.append(
                {**key, "item": index, "error": f"{where}: {prediction['error']}"}
            )
            continue
        try:
            data = prediction_bytes(prediction, f"predictions[{index}]")
            faces = check(data) if check is not None else 0
        except (PayloadError, ImageError) as exc:
            outcome.errors.append({**key, "item": index, "error": f"{where}: {exc}"})
            continue
        outcome.answered += 1
        outcome.faces_after += faces
        atomic_write_bytes(out_dir / f"{stem}_item{index}.{image_suffix(data)}", data)


def run_jsonl(
    path: Path, out_dir: Path, respond: Responder, check: Checker | None = None
) -> BatchOutcome:
    """Answers a JSON-lines request file (see the module docstring for the layout).

    Args:
        path: The request file.
        out_dir: Where ``<name>.out``, ``errors.json`` and the images go.
        respond: Answers the valid requests (local model, endpoint, transform job).
        check: Counts faces left in each returned image (the acceptance check).

    Raises:
        DeepRacerError: The file cannot be read, or the responder failed as a whole.
    """
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    outcome = BatchOutcome(source=str(path), output=out_dir / f"{path.name}.out")
    parsed = parse_lines(path)
    outcome.requests = len(parsed)
    valid = [(n, request) for n, request, _ in parsed if request is not None]
    answers = respond([request for _, request in valid]) if valid else []
    by_line = dict(zip([n for n, _ in valid], answers, strict=True))
    lines: list[str] = []
    for number, request, error in parsed:
        key: dict[str, Any] = {"line": number}
        answer = by_line.get(number)
        if error is None and isinstance(answer, PayloadError):
            error = f"line {number}: {answer}"
        if error is None and isinstance(answer, dict):
            instances = request.get("instances") if isinstance(request, dict) else None
            outcome.instances += len(instances) if isinstance(instances, list) else 0
            try:
                _answered(answer, f"line {number}", f"line{number}", out_dir, outcome, check, key)
                lines.append(json.dumps(answer))
                continue
            except PayloadError as exc:
                error = f"line {number}: {exc}"
        message = error or f"line {number}: no answer"
        outcome.errors.append({**key, "item": None, "error": message})
        lines.append(json.dumps({"error": message}))
    atomic_write_text(outcome.output, "\n".join(lines) + ("\n" if lines else ""))
    atomic_write_text(out_dir / "errors.json", json.dumps(outcome.errors, indent=2) + "\n")
    outcome.seconds = time.perf_counter() - started
    return outcome


def run_folder(
    path: Path, out_dir: Path, respond: Responder, check: Checker | None = None
) -> BatchOutcome:
    """Answers a folder of images, one request per file (sorted by name).

    Args:
        path: The folder.
        out_dir: Where the anonymized images and ``errors.json`` go.
        respond: Answers the requests (local model or endpoint).
        check: Counts faces left in each returned image (the acceptance check).

    Raises:
        DeepRacerError: The folder cannot be listed, or the responder failed as a whole.
    """
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    outcome = BatchOutcome(source=str(path), output=out_dir)
    try:
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    except OSError as exc:
        raise DeepRacerError(f"{path}: cannot list the batch folder ({exc.strerror})") from None
    outcome.requests = outcome.instances = len(files)
    for file in files:
        key = {"file": file.name}
        try:
            data = file.read_bytes()
        except OSError as exc:
            outcome.errors.append({**key, "item": 0, "error": f"{file.name}: {exc.strerror}"})
            continue
        # One file at a time, so a large folder is never all in memory.
        answer = respond([request_for([data])])[0]
        try:
            if isinstance(answer, PayloadError):
                raise answer
            predictions = answer.get("predictions")
            if not isinstance(predictions, list) or len(predictions) != 1:
                raise PayloadError("the response has no one-item 'predictions' list")
            data = prediction_bytes(predictions[0], "predictions[0]")
            faces = check(data) if check is not None else 0
        except (PayloadError, ImageError) as exc:
            outcome.errors.append({**key, "item": 0, "error": f"{file.name}: {exc}"})
            continue
        outcome.answered += 1
        outcome.faces_after += faces
        suffix = image_suffix(data)
        kept = file.suffix.lower().lstrip(".") in ({"jpg", "jpeg"} if suffix == "jpg" else {"png"})
        atomic_write_bytes(out_dir / (file.name if kept else f"{file.name}.{suffix}"), data)
    atomic_write_text(out_dir / "errors.json", json.dumps(outcome.errors, indent=2) + "\n")
    outcome.seconds = time.perf_counter() - started
    return outcome
