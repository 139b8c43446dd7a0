"""The model package's request/response contract, served by the local model.

A request holds base64-encoded images in TensorFlow Serving's "row" format, the
one the Marketplace listing documents::

    {"instances": [{"image": {"b64": "<base64 PNG or JPEG>"}}, ...]}

and the response holds one prediction per instance, at the same position::

    {"predictions": [{"image": {"b64": "<base64 anonymized image>"}}, ...]}

An instance that is not an image (missing keys, not base64, bytes no image library
can read) gets ``{"error": "instances[i]: ..."}`` at its position instead, and the
other instances are still answered; a payload without an ``instances`` list is one
:class:`PayloadError`. PNG input comes back as PNG (lossless, so the pixels outside
the face boxes are exactly the input's), JPEG as JPEG, anything else as PNG.

Contents:
    REALTIME_PAYLOAD_LIMIT: the request size above which the aws backend refuses.
    PayloadError: a payload without the contract's shape.
    ItemResult: one instance's prediction and what was done to it.
    handle: a payload to (response, per-instance results).
    anonymize_payload: the model's handler, payload to response.
    anonymize_bytes: encoded image bytes to anonymized bytes (and the details).
    request_for: encoded images to a request payload.
    request_instances: the ``instances`` list of a request, or a PayloadError.
    instance_bytes, prediction_bytes: the image bytes of one instance / prediction.
    payload_size: the size of a payload as the endpoint receives it.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from deepracer.errors import DeepRacerError
from deepracer.plugins.face_anonymizer.anonymize import (
    Anonymized,
    Decoded,
    ImageError,
    Options,
    anonymize_detailed,
    decode_image,
    encode_image,
)
from deepracer.plugins.face_anonymizer.detect import Box

__all__ = [
    "REALTIME_PAYLOAD_LIMIT",
    "ItemResult",
    "PayloadError",
    "anonymize_bytes",
    "anonymize_payload",
    "handle",
    "instance_bytes",
    "payload_size",
    "prediction_bytes",
    "request_for",
    "request_instances",
]

REALTIME_PAYLOAD_LIMIT = 6_000_000
"""Bytes: SageMaker real-time endpoints take request payloads of up to 6 MB; we read
that as decimal megabytes, the stricter reading. Batch transform takes up to 100 MB
per record (``MaxPayloadInMB``)."""

CONTRACT = '{"instances": [{"image": {"b64": "..."}}]}'


class PayloadError(DeepRacerError, ValueError):
    """A request or response without the contract's shape."""


@dataclass(frozen=True)
class ItemResult:
    """One instance of a request, answered.

    Attributes:
        index: Position in ``instances``.
        prediction: ``{"image": {"b64": ...}}``, or ``{"error": ...}``.
        error: The error message, or None.
        faces: Faces found in the input (unpadded boxes).
        boxes: Padded boxes that were changed.
        passes: Anonymization passes.
        redetected_first: Faces still found after the first pass.
        remaining: Faces found in the output (0 is the goal).
        format: Output format (``PNG`` or ``JPEG``).
        seconds: Time to decode, anonymize, check and encode this instance.
    """

    index: int
    prediction: dict[str, Any]
    error: str | None = None
    faces: list[Box] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)
    passes: int = 0
    redetected_first: int = 0
    remaining: int = 0
    format: str = ""
    seconds: float = 0.0


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def request_for(images: Sequence[bytes]) -> dict[str, Any]:
    """The request payload for encoded images (PNG, JPEG, ...)."""
    return {"instances": [{"image": {"b64": _b64(data)}} for data in images]}


def payload_size(payload: Any) -> int:
    """The bytes of ``json.dumps(payload)``: what ``invoke_endpoint`` sends as its body."""
    return len(json.dumps(payload).encode("utf-8"))


def _b64_field(item: Any, where: str) -> str:
    """The ``image.b64`` string of an instance or prediction (shape errors name the key)."""
    if not isinstance(item, dict):
        raise PayloadError(
            f"{where}: expected an object {{'image': {{'b64': ...}}}}, got {type(item).__name__}"
        )
    image = item.get("image")
    if not isinstance(image, dict):
        keys = ", ".join(repr(k) for k in item) or "none"
        raise PayloadError(f"{where}: no 'image' object (keys: {keys})")
    value = image.get("b64")
    if not isinstance(value, str):
        got = "missing" if value is None else type(value).__name__
        raise PayloadError(f"{where}.image.b64: expected a base64 string, got {got}")
    return value


def _decode_b64(text: str, where: str) -> bytes:
    # `base64 FILE` wraps its output every 76 characters: whitespace is not an error.
    compact = "".join(text.split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PayloadError(f"{where}.image.b64: not valid base64 ({exc})") from None


def instance_bytes(item: Any, where: str = "instance") -> bytes:
    """The encoded image of one request instance.

    Raises:
        PayloadError: The instance lacks ``image.b64`` or it is not base64.
    """
    return _decode_b64(_b64_field(item, where), where)


def prediction_bytes(prediction: Any, where: str = "prediction") -> bytes:
    """The encoded image of one prediction.

    Raises:
        PayloadError: The prediction is an error entry, lacks ``image.b64`` or it is
            not base64.
    """
    if isinstance(prediction, dict) and "error" in prediction:
        raise PayloadError(f"{where}: the model answered with an error: {prediction['error']}")
    return _decode_b64(_b64_field(prediction, where), where)


def anonymize_bytes(
    data: bytes, options: Options | None = None
) -> tuple[bytes, Anonymized, Decoded]:
    """Anonymizes one encoded image.

    Returns:
        ``(encoded output, what was done, the decoded input)``; the output has the
        input's format when that is PNG or JPEG, PNG otherwise.

    Raises:
        ImageError: The bytes are not a readable image.
    """
    options = options or Options()
    decoded = decode_image(data)
    result = anonymize_detailed(decoded.array, options)
    encoded = encode_image(result.array, decoded.format, jpeg_quality=options.jpeg_quality)
    return encoded, result, decoded


def request_instances(payload: Any) -> list[Any]:
    """The ``instances`` list of a request.

    Raises:
        PayloadError: ``payload`` is not an object with an ``instances`` list.
    """
    if not isinstance(payload, dict):
        raise PayloadError(
            f"payload: expected a JSON object {CONTRACT}, got {type(payload).__name__}"
        )
    if "instances" not in payload:
        keys = ", ".join(repr(k) for k in payload) or "none"
        raise PayloadError(f"payload: no 'instances' key (keys: {keys}); expected {CONTRACT}")
    instances = payload["instances"]
    if not isinstance(instances, list):
        raise PayloadError(f"payload.instances: expected a list, got {type(instances).__name__}")
    return instances


def handle(payload: Any, options: Options | None = None) -> tuple[dict[str, Any], list[ItemResult]]:
    """Answers one request, instance by instance.

    Args:
        payload: The parsed request (``{"instances": [...]}``).
        options: Detector and anonymization settings (default: :class:`Options`).

    Returns:
        ``(response, results)``: the ``{"predictions": [...]}`` response and one
        :class:`ItemResult` per instance. A bad instance gets an error entry at its
        position; the others are answered.

    Raises:
        PayloadError: ``payload`` is not an object with an ``instances`` list.
        DeepRacerError: The detector cannot be loaded.
    """
    options = options or Options()
    results: list[ItemResult] = []
    for index, item in enumerate(request_instances(payload)):
        where = f"instances[{index}]"
        started = time.perf_counter()
        try:
            data = instance_bytes(item, where)
            encoded, done, decoded = anonymize_bytes(data, options)
        except (PayloadError, ImageError) as exc:
            message = str(exc) if str(exc).startswith(where) else f"{where}: {exc}"
            results.append(ItemResult(index=index, prediction={"error": message}, error=message))
            continue
        results.append(
            ItemResult(
                index=index,
                prediction={"image": {"b64": _b64(encoded)}},
                faces=done.faces,
                boxes=done.boxes,
                passes=done.passes,
                redetected_first=done.redetected_first,
                remaining=done.remaining,
                format=decoded.format,
                seconds=time.perf_counter() - started,
            )
        )
    return {"predictions": [r.prediction for r in results]}, results


def anonymize_payload(payload: dict[str, Any], options: Options | None = None) -> dict[str, Any]:
    """The model's handler: a request payload to its response payload.

    Example:
        ``anonymize_payload({"instances": [{"image": {"b64": b64_png}}]})``
        returns ``{"predictions": [{"image": {"b64": b64_anonymized_png}}]}``.

    Raises:
        PayloadError: ``payload`` is not an object with an ``instances`` list (bad
            instances get ``{"error": ...}`` entries instead).
    """
    return handle(payload, options)[0]
