"""Rekognition answers for one photo: canned fixtures locally, the real calls on AWS.

The article's Lambda calls, for each photo, ``detect_labels`` and
``detect_moderation_labels``; ``detect_text`` when the labels include ``Text``; and
``detect_faces`` (all attributes) and ``recognize_celebrities`` when they include
``Person``. It merges the answers into one ``image_labels`` object. Both sources here
make the same calls under the same rules (:func:`analyze`); they differ only in who
answers:

* :class:`FixtureRekognition` (``backend: local``): a JSON file mapping an image's file
  name to each operation's response, shaped exactly like the API's. MaxLabels and
  MinConfidence are applied to the canned labels as the service would apply them.
  There is no offline general-purpose labeler, so these labels are fixtures, not
  predictions.
* :class:`AwsRekognition` (``backend: aws``): the boto3 calls with the image bytes.

``image_labels`` keeps the responses' own keys (``Labels``, ``ModerationLabels``,
``TextDetections``, ``FaceDetails``, ``CelebrityFaces``, ``UnrecognizedFaces``); a key
is absent when its call was not made, so the records are sparse, like the article's.

Contents:
    OPERATIONS, RESULT_KEYS: the calls and the response keys kept.
    Analysis: one photo's merged answers and the calls made.
    analyze: the calling rules, given a function that answers one operation.
    FixtureRekognition: canned answers from a JSON file (validated on load).
    AwsRekognition: the boto3 calls.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepracer.cloud import aws
from deepracer.errors import ConfigError, suggest
from deepracer.plugins.social_analytics.images import Image

__all__ = [
    "OPERATIONS",
    "RESULT_KEYS",
    "Analysis",
    "AwsRekognition",
    "FixtureRekognition",
    "analyze",
]

OPERATIONS = (
    "detect_labels",
    "detect_moderation_labels",
    "detect_text",
    "detect_faces",
    "recognize_celebrities",
)
"""The Rekognition operations the article's Lambda calls, in calling order."""
RESULT_KEYS: dict[str, tuple[str, ...]] = {
    "detect_labels": ("Labels",),
    "detect_moderation_labels": ("ModerationLabels",),
    "detect_text": ("TextDetections",),
    "detect_faces": ("FaceDetails",),
    "recognize_celebrities": ("CelebrityFaces", "UnrecognizedFaces"),
}
"""The list-valued keys of each response that go into ``image_labels``."""
MAX_IMAGE_BYTES = 5 * 1024 * 1024
"""Rekognition's limit for images sent as bytes."""
_IMAGE_ERRORS = frozenset(
    {"InvalidImageFormatException", "ImageTooLargeException", "InvalidParameterException"}
)


@dataclass(frozen=True)
class Analysis:
    """One photo's Rekognition answers, merged.

    Attributes:
        image_labels: Response key -> list (see the module docstring).
        calls: The operations called, in order.
    """

    image_labels: dict[str, list[Any]]
    calls: tuple[str, ...]

    def names(self) -> list[str]:
        """The label names, best first."""
        return [str(label.get("Name")) for label in self.image_labels.get("Labels", [])]


def _confidence(item: Mapping[str, Any]) -> float:
    value = item.get("Confidence", 0.0)
    return float(value) if isinstance(value, int | float) else 0.0


def analyze(
    call: Callable[[str], Mapping[str, Any]], *, max_labels: int, min_confidence: float
) -> Analysis:
    """Makes the article's calls for one photo and merges the answers.

    Args:
        call: Answers one operation name with its response.
        max_labels: Labels kept at most (best first), like ``MaxLabels``.
        min_confidence: Labels and moderation labels below this are dropped, like
            ``MinConfidence``.
    """
    merged: dict[str, list[Any]] = {}
    calls: list[str] = []

    def answer(operation: str) -> None:
        calls.append(operation)
        response = call(operation)
        for key in RESULT_KEYS[operation]:
            merged[key] = list(response.get(key) or [])

    answer("detect_labels")
    # The service sorts by confidence and cuts at MaxLabels after MinConfidence; a stable
    # sort keeps the fixture's order among equal confidences.
    labels = [item for item in merged["Labels"] if _confidence(item) >= min_confidence]
    merged["Labels"] = sorted(labels, key=lambda item: -_confidence(item))[:max_labels]
    answer("detect_moderation_labels")
    merged["ModerationLabels"] = [
        item for item in merged["ModerationLabels"] if _confidence(item) >= min_confidence
    ]
    names = {label.get("Name") for label in merged["Labels"]}
    if "Text" in names:
        answer("detect_text")
    if "Person" in names:
        answer("detect_faces")
        answer("recognize_celebrities")
    return Analysis(merged, tuple(calls))


def _check_response(where: str, operation: str, response: Any) -> None:
    if not isinstance(response, dict):
        raise ConfigError(f"{where}: {operation}: expected the response object, got {response!r}")
    for key in RESULT_KEYS[operation]:
        value = response.get(key)
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ConfigError(
                f"{where}: {operation}: expected {key!r} to be a list of objects, as in"
                f" Rekognition's {operation} response"
            )


class FixtureRekognition:
    """Canned Rekognition answers by image file name (``backend: local``).

    Args:
        path: The JSON file: ``{"page.png": {"detect_labels": {...}, ...}, ...}``.
        max_labels: MaxLabels applied to the canned labels.
        min_confidence: MinConfidence applied to the canned (moderation) labels.

    Raises:
        ConfigError: The file is not JSON, an operation name is unknown, a response
            lacks its list, or an image lacks an answer the calling rules need (a
            ``Person`` label without ``detect_faces``, say).
    """

    source = "fixtures"

    def __init__(self, path: Path, *, max_labels: int, min_confidence: float) -> None:
        self.path = path
        self.max_labels = max_labels
        self.min_confidence = min_confidence
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: Rekognition fixtures not found") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{path}: not a readable JSON file ({exc})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected an object of image name -> responses")
        self._answers: dict[str, dict[str, Any]] = {}
        for name, answers in data.items():
            where = f"{path}: {name}"
            if not isinstance(answers, dict):
                raise ConfigError(f"{where}: expected an object of operation -> response")
            for operation, response in answers.items():
                if operation not in RESULT_KEYS:
                    raise ConfigError(
                        f"{where}: unknown operation {operation!r}."
                        f"{suggest(operation, OPERATIONS)} Known: {', '.join(OPERATIONS)}"
                    )
                _check_response(where, operation, response)
            self._answers[name] = answers
            self._answer(name)  # the calling rules find any missing answer now

    def __contains__(self, name: object) -> bool:
        return name in self._answers

    def _answer(self, name: str) -> Analysis:
        answers = self._answers[name]

        def call(operation: str) -> Mapping[str, Any]:
            if operation not in answers:
                why = {
                    "detect_labels": "every photo gets it",
                    "detect_moderation_labels": "every photo gets it",
                    "detect_text": "its labels include Text",
                    "detect_faces": "its labels include Person",
                    "recognize_celebrities": "its labels include Person",
                }[operation]
                raise ConfigError(
                    f"{self.path}: {name}: no {operation} answer, which the pipeline calls"
                    f" because {why} (at min_confidence {self.min_confidence:g})"
                )
            response: Mapping[str, Any] = copy.deepcopy(answers[operation])
            return response

        return analyze(call, max_labels=self.max_labels, min_confidence=self.min_confidence)

    def analyze(self, image: Image) -> Analysis | str:
        """The canned answers for ``image``, or why there are none."""
        if image.name not in self._answers:
            return f"no Rekognition fixture for {image.name!r} in {self.path.name}"
        return self._answer(image.name)


class _Rejected(Exception):
    """Rekognition refused this image (not the account or the request as a whole)."""


class AwsRekognition:
    """The article's Rekognition calls through boto3 (``backend: aws``).

    Args:
        client: A boto3 ``rekognition`` client.
        max_labels: ``detect_labels`` MaxLabels.
        min_confidence: MinConfidence of labels and moderation labels.
    """

    source = "Amazon Rekognition"

    def __init__(self, client: Any, *, max_labels: int, min_confidence: float) -> None:
        self.client = client
        self.max_labels = max_labels
        self.min_confidence = min_confidence

    def _params(self, operation: str, image: Image) -> dict[str, Any]:
        params: dict[str, Any] = {"Image": {"Bytes": image.data}}
        if operation == "detect_labels":
            params.update(MaxLabels=self.max_labels, MinConfidence=self.min_confidence)
        elif operation == "detect_moderation_labels":
            params["MinConfidence"] = self.min_confidence
        elif operation == "detect_faces":
            params["Attributes"] = ["ALL"]
        return params

    def analyze(self, image: Image) -> Analysis | str:
        """The answers for ``image``, or why Rekognition refused it.

        Raises:
            DeepRacerError: A failure that is not about this image (credentials,
                permissions, throttling beyond the retries, the network).
        """
        if len(image.data) > MAX_IMAGE_BYTES:
            return f"{image.name}: {len(image.data)} bytes, over Rekognition's 5 MB for bytes"

        def call(operation: str) -> Mapping[str, Any]:
            with aws.aws_errors(f"rekognition.{operation}", subject=f"image {image.name}"):
                try:
                    response: Mapping[str, Any] = getattr(self.client, operation)(
                        **self._params(operation, image)
                    )
                except Exception as exc:
                    code = aws.error_code(exc)
                    if code in _IMAGE_ERRORS:
                        raise _Rejected(f"{operation}: {code}") from None
                    raise
            return response

        try:
            return analyze(call, max_labels=self.max_labels, min_confidence=self.min_confidence)
        except _Rejected as exc:
            return f"{image.name}: Rekognition refused it ({exc})"
