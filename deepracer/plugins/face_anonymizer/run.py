"""One face_anonymizer experiment: requests, checks, figure, metrics, report.

Every picture goes through the contract as one request (encoded, base64, JSON),
like the article's real-time call: to the local model (``backend: local``) or to
the model package's endpoint (``backend: aws``). Each answer is decoded and
checked against its input:

* faces found in the input, and faces the detector still finds in the output
  (after the first pass and at the end; the goal is 0);
* the largest absolute pixel change outside the padded face boxes (exactly 0 for
  PNG; for JPEG, which is re-encoded, the report gives the tolerance it needed)
  and the mean change inside them;
* the time per image (decode, detect, anonymize, re-check, encode).

With ``backend: aws`` the vendor model does not say where it found faces, so the
checks outside/inside boxes are replaced by the share of changed pixels, and both
face counts come from the local detector.

Outputs in the run directory: ``anonymized/<name>.png`` (``.jpg`` for JPEG input),
``before_after.png`` (the pictures with their face boxes, before and after),
``per_image.json``, ``batch/`` (when ``batch`` is set), ``metrics.json`` and
``report.md``.

Contents:
    run: the plugin's run function.
    ImageRow: what was measured for one picture.
    AwsOutcome: what the aws backend created, deleted or kept.
    demo_batch_lines: the ``batch: demo`` request file, with deliberate bad lines.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from deepracer.errors import ConfigError, DeepRacerError
from deepracer.io import atomic_write_bytes, atomic_write_text
from deepracer.plugins import PluginResult, RunContext
from deepracer.plugins.face_anonymizer.anonymize import (
    ImageError,
    Options,
    anonymize_detailed,
    box_mask,
    decode_image,
)
from deepracer.plugins.face_anonymizer.batch import (
    BatchOutcome,
    Responder,
    image_suffix,
    one_by_one,
    run_folder,
    run_jsonl,
)
from deepracer.plugins.face_anonymizer.config import FaceAnonymizerConfig
from deepracer.plugins.face_anonymizer.detect import Box, resolve_detector
from deepracer.plugins.face_anonymizer.handler import (
    REALTIME_PAYLOAD_LIMIT,
    PayloadError,
    anonymize_payload,
    handle,
    payload_size,
    prediction_bytes,
    request_for,
)
from deepracer.plugins.face_anonymizer.sources import (
    LFW_FACES,
    LFW_GRID,
    Source,
    grid_cells_found,
    load_source,
)
from deepracer.plugins.kit import markdown_table, number

__all__ = ["ImageRow", "demo_batch_lines", "run"]

FIGURE_ROWS = 8
"""At most this many pictures in the before/after figure."""


@dataclass
class ImageRow:
    """What was measured for one picture (``None``: not measurable on this backend).

    Attributes:
        name: Output label.
        origin: Where the picture came from.
        request_bytes: Size of its request payload.
        format_in, format_out: Image formats (``PNG``, ``JPEG``, ...).
        shape: Array shape.
        faces: Faces found in the input (the local detector's boxes).
        boxes: Padded boxes the model changed (local backend only).
        passes: Anonymization passes (local backend only).
        faces_after_first: Faces still found after the first pass (local only).
        faces_after: Faces the detector finds in the returned image.
        max_abs_outside: Largest absolute change outside the boxes (local only).
        mean_abs_outside: Mean absolute change outside the boxes (local only).
        p99_abs_outside: Its 99th percentile (local only).
        mean_abs_inside: Mean absolute change inside the boxes (local only).
        changed_fraction: Share of pixels with any change.
        ms: Time for the request [ms].
        error: Why the picture was not answered, or None.
        before, after: The arrays, for the figure (not written to JSON).
        output: The encoded image the model returned.
    """

    name: str
    origin: str
    request_bytes: int
    format_in: str = ""
    format_out: str = ""
    shape: tuple[int, ...] = ()
    faces: list[Box] = field(default_factory=list)
    boxes: list[Box] | None = None
    passes: int | None = None
    faces_after_first: int | None = None
    faces_after: int = 0
    max_abs_outside: int | None = None
    mean_abs_outside: float | None = None
    p99_abs_outside: float | None = None
    mean_abs_inside: float | None = None
    changed_fraction: float = 0.0
    ms: float = 0.0
    error: str | None = None
    before: np.ndarray[Any, Any] | None = field(default=None, repr=False)
    after: np.ndarray[Any, Any] | None = field(default=None, repr=False)
    output: bytes = field(default=b"", repr=False)

    @property
    def lossless(self) -> bool:
        """Whether the output is PNG, so "unchanged outside the boxes" is exact."""
        return self.format_out == "PNG"

    def as_json(self) -> dict[str, Any]:
        """The row without the arrays, boxes as ``[x, y, w, h]``."""
        return {
            "name": self.name,
            "origin": self.origin,
            "error": self.error,
            "request_bytes": self.request_bytes,
            "format_in": self.format_in,
            "format_out": self.format_out,
            "shape": list(self.shape),
            "faces_found": len(self.faces),
            "faces": [b.as_list() for b in self.faces],
            "boxes": None if self.boxes is None else [b.as_list() for b in self.boxes],
            "passes": self.passes,
            "faces_after_first_pass": self.faces_after_first,
            "faces_after": self.faces_after,
            "max_abs_change_outside": self.max_abs_outside,
            "mean_abs_change_outside": _round(self.mean_abs_outside),
            "p99_abs_change_outside": _round(self.p99_abs_outside),
            "mean_abs_change_inside": _round(self.mean_abs_inside),
            "changed_fraction": round(self.changed_fraction, 5),
            "ms": round(self.ms, 1),
        }


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


# -- settings and inputs -----------------------------------------------------------------


def _options(config: FaceAnonymizerConfig) -> tuple[Options, str]:
    detector, note = resolve_detector(config.detector)
    options = Options(
        method=config.method,
        padding=config.padding,
        blocks=config.blocks,
        blur_scale=config.blur_scale,
        detector=detector,
        min_face=config.min_face,
        min_neighbors=config.min_neighbors,
        profile=config.profile,
        jpeg_quality=config.jpeg_quality,
        max_passes=config.max_passes,
        detect_max_side=config.detect_max_side,
    )
    return options, note


def _sources(names: tuple[str, ...]) -> list[Source]:
    sources: list[Source] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        source = load_source(name, f"face_anonymizer.images[{i}]")
        count = seen.get(source.name, 0)
        seen[source.name] = count + 1
        if count:  # two files with one stem: keep both outputs
            source = replace(source, name=f"{source.name}_{count + 1}")
        sources.append(source)
    return sources


def demo_batch_lines() -> list[str]:
    """A JSON-lines request file with good and deliberately bad lines and items.

    Line 1: two pictures (camera: a face in half profile; chelsea: a cat, no face).
    Line 2: not JSON. Line 3: an instance that is not base64, then coins (no face).
    Line 4: a request without ``instances``. Line 5: base64 of text, not an image.
    """

    def instance(name: str) -> dict[str, Any]:
        return {"image": {"b64": base64.b64encode(load_source(name).data).decode("ascii")}}

    text = base64.b64encode(b"this is text, not an image").decode("ascii")
    return [
        json.dumps({"instances": [instance("camera"), instance("chelsea")]}),
        "this line is not JSON",
        json.dumps({"instances": [{"image": {"b64": "%%% not base64 %%%"}}, instance("coins")]}),
        json.dumps({"images": ["requests need an 'instances' list"]}),
        json.dumps({"instances": [{"image": {"b64": text}}]}),
    ]


def _batch_path(value: str, context: RunContext) -> Path | None:
    if not value:
        return None
    if value == "demo":
        path = context.run_dir / "batch_requests.jsonl"
        atomic_write_text(path, "\n".join(demo_batch_lines()) + "\n")
        return path
    path = Path(value).expanduser()
    if not path.exists():
        raise ConfigError(
            f"face_anonymizer.batch: {value!r} does not exist (a JSON-lines file, a folder"
            " of images, or demo)"
        )
    return path


# -- checks ------------------------------------------------------------------------------


def _compare(row: ImageRow, before: np.ndarray[Any, Any], after: np.ndarray[Any, Any]) -> None:
    """Fills the pixel-change measures of ``row``."""
    if before.shape != after.shape:
        row.error = f"the model returned a {after.shape} image for a {before.shape} input"
        return
    diff = np.abs(after.astype(np.int16) - before.astype(np.int16))
    per_pixel = diff if diff.ndim == 2 else diff.max(axis=2)
    row.changed_fraction = float((per_pixel > 0).mean())
    if row.boxes is None:
        return
    mask = box_mask(before.shape, row.boxes)
    outside, inside = diff[~mask], diff[mask]
    row.max_abs_outside = int(outside.max()) if outside.size else 0
    row.mean_abs_outside = float(outside.mean()) if outside.size else 0.0
    row.p99_abs_outside = float(np.percentile(outside, 99)) if outside.size else 0.0
    row.mean_abs_inside = float(inside.mean()) if inside.size else None


def _local_row(source: Source, options: Options) -> ImageRow:
    request = request_for([source.data])
    row = ImageRow(name=source.name, origin=source.origin, request_bytes=payload_size(request))
    started = time.perf_counter()
    response, results = handle(request, options)
    row.ms = (time.perf_counter() - started) * 1000
    result = results[0]
    if result.error is not None:
        row.error = result.error
        return row
    decoded_in = decode_image(source.data)
    row.output = prediction_bytes(response["predictions"][0])
    output = decode_image(row.output)
    row.format_in, row.format_out = decoded_in.source_format, output.source_format
    row.shape = decoded_in.array.shape
    row.faces, row.boxes = result.faces, result.boxes
    row.passes, row.faces_after_first = result.passes, result.redetected_first
    # The handler's final check saw exactly these pixels when the output is PNG;
    # JPEG re-encoding changes them, so the decoded JPEG is checked again.
    row.faces_after = result.remaining if row.lossless else len(options.detect(output.array))
    row.before, row.after = decoded_in.array, output.array
    _compare(row, decoded_in.array, output.array)
    return row


def _remote_row(source: Source, options: Options, respond: Responder) -> ImageRow:
    request = request_for([source.data])
    row = ImageRow(name=source.name, origin=source.origin, request_bytes=payload_size(request))
    started = time.perf_counter()
    answer = respond([request])[0]
    row.ms = (time.perf_counter() - started) * 1000
    try:
        if isinstance(answer, PayloadError):
            raise answer
        predictions = answer.get("predictions")
        if not isinstance(predictions, list) or len(predictions) != 1:
            raise PayloadError("the response has no one-item 'predictions' list")
        row.output = prediction_bytes(predictions[0], "predictions[0]")
        output = decode_image(row.output)
    except (PayloadError, ImageError) as exc:
        row.error = str(exc)
        return row
    decoded_in = decode_image(source.data)
    row.format_in, row.format_out = decoded_in.source_format, output.source_format
    row.shape = decoded_in.array.shape
    # The vendor model does not report boxes: both counts come from our detector.
    row.faces = options.detect(decoded_in.array)
    row.faces_after = len(options.detect(output.array))
    row.before, row.after = decoded_in.array, output.array
    _compare(row, decoded_in.array, output.array)
    return row


def _checker(options: Options) -> Any:
    def check(data: bytes) -> int:
        return len(options.detect(decode_image(data).array))

    return check


def _batch(path: Path, out_dir: Path, respond: Responder, options: Options) -> BatchOutcome:
    if path.is_dir():
        return run_folder(path, out_dir, respond, _checker(options))
    return run_jsonl(path, out_dir, respond, _checker(options))


def _strength(rows: list[ImageRow], options: Options) -> dict[str, int]:
    """Single passes at known-weak settings on the pictures with faces."""
    weak_blur = replace(options, method="blur", blur_scale=1 / 3, max_passes=1)
    fine_pixels = replace(options, method="pixelate", blocks=12, max_passes=1)
    counts = {
        "strength_pictures": 0,
        "strength_faces": 0,
        "weak_blur_redetected": 0,
        "pixelate12_redetected": 0,
    }
    for row in rows:
        if row.before is None or not row.faces:
            continue
        counts["strength_pictures"] += 1
        counts["strength_faces"] += len(row.faces)
        counts["weak_blur_redetected"] += anonymize_detailed(row.before, weak_blur).remaining
        counts["pixelate12_redetected"] += anonymize_detailed(row.before, fine_pixels).remaining
    return counts


# -- backends ----------------------------------------------------------------------------


@dataclass
class AwsOutcome:
    """What the aws backend created and deleted."""

    endpoint: bool = False
    transform_job: str = ""
    deleted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def _local(
    sources: list[Source], batch_path: Path | None, options: Options, context: RunContext
) -> tuple[list[ImageRow], BatchOutcome | None]:
    rows = []
    for source in sources:
        row = _local_row(source, options)
        context.echo(
            f"{row.name}: {len(row.faces)} face(s), {row.faces_after} left, {row.ms:.0f} ms"
        )
        if row.request_bytes > REALTIME_PAYLOAD_LIMIT:
            context.echo(
                f"warning: {row.name}: the request is {row.request_bytes / 1e6:.1f} MB; a SageMaker"
                f" real-time endpoint refuses more than {REALTIME_PAYLOAD_LIMIT / 1e6:.0f} MB"
            )
        rows.append(row)
    outcome = None
    if batch_path is not None:

        def process(request: dict[str, Any]) -> dict[str, Any]:
            return anonymize_payload(request, options)

        outcome = _batch(batch_path, context.run_dir / "batch", one_by_one(process), options)
    return rows, outcome


def _aws(
    config: FaceAnonymizerConfig,
    sources: list[Source],
    batch_path: Path | None,
    options: Options,
    context: RunContext,
) -> tuple[list[ImageRow], BatchOutcome | None, AwsOutcome]:
    from deepracer.plugins.face_anonymizer.aws import (
        Deployment,
        check_sizes,
        deployed,
        endpoint_responder,
        job_name,
        parse_s3,
        transform_responder,
    )

    if not config.model_package_arn:
        raise ConfigError(
            "face_anonymizer.model_package_arn: required with backend aws (the listing's"
            " Product ARN for your region, after subscribing to it)"
        )
    if not context.aws.role:
        raise ConfigError(
            "aws.role: required with backend aws (the IAM role SageMaker assumes for the model)"
        )
    requests = [(s.name, request_for([s.data])) for s in sources]
    check_sizes(requests)  # before anything is created (and billed)
    use_transform = batch_path is not None and batch_path.is_file() and bool(context.aws.s3)
    if use_transform:
        parse_s3(context.aws.s3)  # a bad URI is an error before the model exists
    need_endpoint = bool(requests) or (batch_path is not None and not use_transform)
    sagemaker = context.client("sagemaker")
    runtime = context.client("sagemaker-runtime") if need_endpoint else None
    deployment = Deployment(
        sagemaker=sagemaker,
        name=config.endpoint_name,
        model_package_arn=config.model_package_arn,
        role=context.aws.role,
        instance_type=config.instance_type,
        keep=config.keep_endpoint,
        wait_minutes=config.wait_minutes,
        echo=context.echo,
    )
    outcome = AwsOutcome(endpoint=need_endpoint)
    rows: list[ImageRow] = []
    batch: BatchOutcome | None = None
    with deployed(deployment, endpoint=need_endpoint):
        respond = endpoint_responder(runtime, config.endpoint_name) if need_endpoint else None
        for source in sources:
            assert respond is not None
            row = _remote_row(source, options, respond)
            context.echo(f"{row.name}: {row.faces_after} face(s) left, {row.ms:.0f} ms")
            rows.append(row)
        if batch_path is not None:
            if use_transform:
                outcome.transform_job = job_name(f"{config.endpoint_name}-batch")
                uri = f"{context.aws.s3.rstrip('/')}/{context.run_dir.name}"
                respond = transform_responder(
                    deployment, context.client("s3"), uri, outcome.transform_job
                )
            assert respond is not None
            batch = _batch(batch_path, context.run_dir / "batch", respond, options)
    outcome.deleted = list(deployment.deleted)
    outcome.kept = [f"{kind} {name}" for kind, name in deployment.created]  # empty unless kept
    return rows, batch, outcome


# -- figure, metrics, report -------------------------------------------------------------


def _figure(rows: list[ImageRow], context: RunContext) -> None:
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    shown = [r for r in rows if r.before is not None and r.after is not None][:FIGURE_ROWS]
    if not shown:
        return
    figure = Figure(figsize=(8, 3.6 * len(shown)), layout="constrained")
    axes = figure.subplots(len(shown), 2, squeeze=False)
    for (left, right), row in zip(axes, shown, strict=True):
        assert row.before is not None and row.after is not None
        gray = row.before.ndim == 2
        left.imshow(row.before, cmap="gray" if gray else None, vmin=0, vmax=255)
        right.imshow(row.after, cmap="gray" if gray else None, vmin=0, vmax=255)
        for box in row.faces:
            left.add_patch(
                Rectangle((box.x, box.y), box.w, box.h, fill=False, edgecolor="red", lw=1.5)
            )
        for box in row.boxes or []:
            for ax in (left, right):
                ax.add_patch(
                    Rectangle(
                        (box.x, box.y), box.w, box.h, fill=False, edgecolor="yellow", lw=1, ls="--"
                    )
                )
        left.set_title(f"{row.name}: {len(row.faces)} face(s) found", fontsize=9)
        right.set_title(f"anonymized ({row.format_out}): {row.faces_after} re-detected", fontsize=9)
        for ax in (left, right):
            ax.set_axis_off()
    figure.suptitle("red: faces found; yellow dashed: padded boxes changed", fontsize=9)
    context.save_figure(figure, "before_after.png")


def _metrics(
    rows: list[ImageRow], batch: BatchOutcome | None, strength: dict[str, int] | None
) -> dict[str, Any]:
    ok = [r for r in rows if r.error is None]
    png = [r for r in ok if r.lossless and r.boxes is not None]
    jpeg = [r for r in ok if not r.lossless and r.boxes is not None]
    with_faces = [r for r in ok if r.faces]
    no_faces = [r for r in ok if not r.faces]
    metrics: dict[str, Any] = {
        "images": len(rows),
        "image_errors": len(rows) - len(ok),
        "images_with_faces": len(with_faces),
        "faces_found": sum(len(r.faces) for r in ok),
        "faces_after": sum(r.faces_after for r in ok),
        "ms_per_image": float(np.mean([r.ms for r in ok])) if ok else None,
        "ms_per_image_max": max((r.ms for r in ok), default=None),
        "request_bytes_max": max((r.request_bytes for r in rows), default=0),
        "requests_over_realtime_limit": sum(r.request_bytes > REALTIME_PAYLOAD_LIMIT for r in rows),
    }
    if any(r.faces_after_first is not None for r in ok):
        metrics["faces_after_first_pass"] = sum(r.faces_after_first or 0 for r in ok)
        metrics["passes_max"] = max(r.passes or 0 for r in ok)
    if png:
        metrics["max_abs_change_outside"] = max(r.max_abs_outside or 0 for r in png)
        unchanged = [
            r
            for r in png
            if not r.faces
            and r.before is not None
            and r.after is not None
            and np.array_equal(r.before, r.after)
        ]
        metrics["no_face_images_unchanged"] = len(unchanged)
        metrics["no_face_images_png"] = sum(1 for r in png if not r.faces)
    if jpeg:
        metrics["max_abs_change_outside_jpeg"] = max(r.max_abs_outside or 0 for r in jpeg)
        metrics["mean_abs_change_outside_jpeg"] = max(r.mean_abs_outside or 0.0 for r in jpeg)
        metrics["p99_abs_change_outside_jpeg"] = max(r.p99_abs_outside or 0.0 for r in jpeg)
    inside = [r.mean_abs_inside for r in with_faces if r.mean_abs_inside is not None]
    if inside:
        metrics["mean_change_inside_min"] = min(inside)
    if not any(r.boxes is not None for r in ok):
        metrics["changed_fraction_no_face_max"] = max(
            (r.changed_fraction for r in no_faces), default=0.0
        )
    grid = [r for r in ok if r.name.startswith(LFW_GRID)]
    if grid:
        metrics["lfw_grid_faces_found"] = grid_cells_found(grid[0].faces)
    if batch is not None:
        metrics.update(
            batch_requests=batch.requests,
            batch_instances=batch.instances,
            batch_answered=batch.answered,
            batch_errors=len(batch.errors),
            batch_faces_after=batch.faces_after,
            batch_seconds=round(batch.seconds, 3),
        )
    if strength is not None:
        metrics.update(strength)
    return metrics


def _setup_lines(options: Options, note: str, aws: AwsOutcome | None) -> list[str]:
    where = "the Marketplace model package on a SageMaker endpoint" if aws else "the local model"
    detector = "OpenCV Haar cascades (frontal" + (
        " + profile, both directions)" if options.profile else ")"
    )
    if options.detector == "lbp":
        detector = "scikit-image's LBP frontal cascade"
    if options.method == "blur":
        how = f"Gaussian blur, kernel {options.blur_scale:g} x face width"
    else:
        how = f"pixelation, {options.blocks} x {options.blocks} cells per box"
    lines = [
        "## What ran",
        "",
        'Each picture was sent as one `{"instances": [{"image": {"b64": ...}}]}` request'
        f" to {where}, and the `predictions[0].image.b64` answer was decoded and checked"
        " against the input.",
        "",
        f"- Detector: {detector}; smallest face {options.min_face} px, min_neighbors"
        f" {options.min_neighbors}.",
        f"- Anonymization: {how}, boxes padded by {options.padding:.0%} per side; up to"
        f" {options.max_passes} pass(es), each followed by a re-detection on the output.",
    ]
    if note:
        lines.append(f"- Note: {note}.")
    return lines


def _table_lines(rows: list[ImageRow]) -> list[str]:
    header = ["picture", "in → out", "faces found", "left after pass 1", "left at the end"]
    header += ["max Δ outside boxes", "mean Δ inside", "changed pixels", "ms"]
    cells: list[list[object]] = []
    for r in rows:
        if r.error:
            cells.append([r.name, f"error: {r.error}", *[""] * 7])
            continue
        cells.append(
            [
                r.name,
                f"{r.format_in} → {r.format_out}",
                len(r.faces),
                number(r.faces_after_first, 1),
                r.faces_after,
                number(r.max_abs_outside, 1),
                number(r.mean_abs_inside, 1),
                f"{r.changed_fraction:.1%}",
                f"{r.ms:.0f}",
            ]
        )
    return ["## Per picture", "", markdown_table(header, cells)]


def _finding_lines(options: Options, metrics: dict[str, Any]) -> list[str]:
    found, after = metrics["faces_found"], metrics["faces_after"]
    goal = (
        " (the acceptance goal is 0)."
        if after == 0
        else " — **the acceptance goal of 0 is missed**."
    )
    lines = [
        "## Findings",
        "",
        f"- {found} face(s) found in {metrics['images_with_faces']} picture(s); the same"
        f" detector finds **{after}** in the anonymized outputs{goal}",
    ]
    if metrics.get("faces_after_first_pass"):
        lines.append(
            f"- After the first pass the detector still found {metrics['faces_after_first_pass']}"
            f" face(s); re-anonymizing them at double strength (up to {options.max_passes}"
            f" passes, {metrics['passes_max']} used) left {after}."
        )
    if "max_abs_change_outside" in metrics:
        lines.append(
            "- PNG in → PNG out: the largest pixel change outside the padded boxes is"
            f" {metrics['max_abs_change_outside']} (exact comparison);"
            f" {metrics['no_face_images_unchanged']} of {metrics['no_face_images_png']} PNG"
            " picture(s) without a detected face came back pixel-identical."
        )
    if "max_abs_change_outside_jpeg" in metrics:
        lines.append(
            f"- JPEG in → JPEG out (quality {options.jpeg_quality}) re-encodes every pixel:"
            f" outside the boxes the change is at most {metrics['max_abs_change_outside_jpeg']}"
            f" levels (mean {metrics['mean_abs_change_outside_jpeg']:.2f}, 99th percentile"
            f" {metrics['p99_abs_change_outside_jpeg']:.0f}: re-encoding error spread over the"
            " picture), so JPEG is compared with a tolerance, not exactly; send PNG when the"
            " rest of the picture must stay bit-exact."
        )
    if metrics["requests_over_realtime_limit"]:
        lines.append(
            f"- {metrics['requests_over_realtime_limit']} request(s) exceed the"
            f" {REALTIME_PAYLOAD_LIMIT / 1e6:.0f} MB a SageMaker real-time endpoint accepts"
            f" (largest: {metrics['request_bytes_max'] / 1e6:.1f} MB); `backend: aws` refuses"
            " them before creating anything: downscale them or use batch transform."
        )
    if "mean_change_inside_min" in metrics:
        lines.append(
            "- Inside the boxes the mean change is at least"
            f" {metrics['mean_change_inside_min']:.1f} grey levels per channel."
        )
    if "lfw_grid_faces_found" in metrics:
        lines.append(
            f"- The LFW grid holds {LFW_FACES} faces; the detector found"
            f" {metrics['lfw_grid_faces_found']} of them. A face it misses is not anonymized,"
            " and the re-detection check cannot see that: it only shows that the detector"
            " finds nothing *it* would call a face."
        )
    if "strength_faces" in metrics:
        lines.append(
            f"- Strength check on the {metrics['strength_pictures']} picture(s) with faces"
            f" ({metrics['strength_faces']} face(s), one pass each): a weak blur (kernel a third"
            f" of the face width) left {metrics['weak_blur_redetected']} detectable, 12 x 12"
            f" pixelation left {metrics['pixelate12_redetected']}, against"
            f" {metrics.get('faces_after_first_pass', '-')} after the first pass at the"
            " configured strength."
        )
    return lines


def _batch_lines(batch: BatchOutcome) -> list[str]:
    lines = [
        "## Batch",
        "",
        f"`{batch.source}`: {batch.requests} request(s), {batch.instances} image(s) asked for,"
        f" {batch.answered} answered, {len(batch.errors)} error(s), {batch.faces_after} face(s)"
        f" re-detected in the answers, {batch.seconds:.1f} s. Output: `{batch.output.name}`"
        " in `batch/`; errors also in `batch/errors.json` (a bad line becomes"
        ' `{"error": "line N: ..."}` in the output, a bad image an error entry at its'
        " position in `predictions`).",
        "",
    ]
    lines += [f"- {error['error']}" for error in batch.errors[:10]]
    if len(batch.errors) > 10:
        lines.append(f"- ... and {len(batch.errors) - 10} more")
    return lines


def _aws_lines(config: FaceAnonymizerConfig, aws: AwsOutcome | None) -> list[str]:
    lines = ["## AWS", ""]
    if aws is None:
        lines.append(
            "Not called (`backend: local`). `backend: aws` creates the model from"
            " `model_package_arn` with network isolation and an endpoint on"
            f" `{config.instance_type}`, sends the same requests (refusing any above"
            f" {REALTIME_PAYLOAD_LIMIT / 1e6:.0f} MB before creating anything), runs a"
            " JSON-lines `batch` as a transform job when `aws.s3` is set, and deletes"
            " endpoint, configuration and model at the end unless `keep_endpoint: true`."
        )
        return lines
    if aws.transform_job:
        lines.append(f"- Batch transform job: `{aws.transform_job}`.")
    if aws.deleted:
        lines.append(f"- Deleted at the end: {', '.join(aws.deleted)}.")
    if aws.kept:
        lines.append(
            f"- Kept (`keep_endpoint: true`; they cost money until deleted): {', '.join(aws.kept)}."
        )
    lines.append(
        "- The vendor model does not report its boxes, so the outside/inside columns are"
        " empty; face counts before and after come from the local detector."
    )
    return lines


CAVEATS = [
    "## Caveats",
    "",
    "- The article gives no numbers: only the request format, the instance type and one"
    " example picture judged by eye. The comparison above is of contract and behaviour,"
    " not of accuracy.",
    "- Haar and LBP cascades (Viola-Jones-era detectors) miss small, turned, occluded"
    " and low-contrast faces. Zero re-detections is a necessary check, not proof that a"
    " person cannot recognise anyone; look at `before_after.png`.",
    "- `ms` covers decoding, detection, anonymization, the re-detection check and"
    " encoding on this machine's CPU, one image per request.",
]


def _report(
    config: FaceAnonymizerConfig,
    options: Options,
    note: str,
    rows: list[ImageRow],
    batch: BatchOutcome | None,
    metrics: dict[str, Any],
    aws: AwsOutcome | None,
) -> str:
    sections = [
        _setup_lines(options, note, aws),
        _table_lines(rows),
        _finding_lines(options, metrics),
    ]
    if batch is not None:
        sections.append(_batch_lines(batch))
    sections += [_aws_lines(config, aws), CAVEATS]
    return "\n\n".join("\n".join(section) for section in sections) + "\n"


def run(config: FaceAnonymizerConfig, context: RunContext) -> PluginResult:
    """Runs the experiment (see the module docstring).

    Raises:
        ConfigError: Nothing to do, a picture or batch path that does not exist, or
            missing AWS settings.
        DeepRacerError: A request above the real-time limit (aws), or AWS refused.
    """
    if not config.images and not config.batch:
        raise ConfigError("face_anonymizer: images and batch are both empty; nothing to anonymize")
    options, note = _options(config)
    if note:
        context.echo(note)
    sources = _sources(config.images)
    batch_path = _batch_path(config.batch, context)
    aws: AwsOutcome | None = None
    if context.backend == "aws":
        rows, batch, aws = _aws(config, sources, batch_path, options, context)
    elif context.backend == "local":
        rows, batch = _local(sources, batch_path, options, context)
    else:
        raise DeepRacerError(f"backend: expected local or aws, got {context.backend!r}")
    for row in rows:
        if row.error is None and row.output:  # the model's bytes, as returned
            name = f"{row.name}.{image_suffix(row.output)}"
            atomic_write_bytes(context.run_dir / "anonymized" / name, row.output)
    strength = _strength(rows, options) if config.strength_check else None
    _figure(rows, context)
    context.write_json("per_image.json", [r.as_json() for r in rows])
    metrics = _metrics(rows, batch, strength)
    report = _report(config, options, note, rows, batch, metrics, aws)
    return PluginResult(metrics=metrics, report=report)
