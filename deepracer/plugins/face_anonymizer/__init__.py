"""Face anonymizer: the SageMaker Marketplace model package's contract, served locally.

The AWS Machine Learning Blog post "Adding AI to your applications with ready-to-use
models from AWS Marketplace" deploys a face-anonymizer model package to a SageMaker
endpoint and sends it base64 images in the TensorFlow Serving row format. This
plugin serves the same contract with a local model whose weights ship inside its
packages (OpenCV Haar cascades, or scikit-image's LBP cascade without OpenCV) and
checks the result the way a user would want it checked: the detector finds no face
in the output, and the pixels outside the face boxes are unchanged. ``backend: aws``
sends the same requests to the real model package and checks its answers the same way.

Heavy dependencies (OpenCV, scikit-image, matplotlib, boto3) are imported inside
the functions, so listing plugins imports none of them.

Contents:
    plugin: the registered :class:`~deepracer.plugins.Plugin`.
    FaceAnonymizerConfig: its config section (see ``config``).
    anonymize_payload: the model's handler (request payload to response payload).
    anonymize_image: an image array to (anonymized array, padded boxes).

Modules:
    config: the typed section. detect: detectors and boxes. anonymize: blur,
    pixelate, re-check, image encoding. handler: the payload contract. batch:
    JSON-lines and folder batches. aws: SageMaker endpoint / transform job.
    sources: the test pictures. run: the experiment run, figure and report.
"""

from __future__ import annotations

from typing import Any

from deepracer.plugins import Plugin, Reference
from deepracer.plugins.face_anonymizer.config import FaceAnonymizerConfig
from deepracer.plugins.kit import DeferredRun

__all__ = ["FaceAnonymizerConfig", "anonymize_image", "anonymize_payload", "plugin"]


def anonymize_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The model's handler, default settings: ``{"instances": ...}`` to ``{"predictions": ...}``.

    See :func:`deepracer.plugins.face_anonymizer.handler.anonymize_payload` (which
    also takes settings).

    Raises:
        PayloadError: The payload has no ``instances`` list.
    """
    from deepracer.plugins.face_anonymizer.handler import anonymize_payload as handler

    return handler(payload)


def anonymize_image(array: Any) -> tuple[Any, list[Any]]:
    """An image array to (anonymized copy, padded boxes), with default settings.

    See :func:`deepracer.plugins.face_anonymizer.anonymize.anonymize_image`.
    """
    from deepracer.plugins.face_anonymizer.anonymize import anonymize_image as anonymize

    return anonymize(array)


plugin = Plugin(
    name="face_anonymizer",
    description="blur or pixelate faces behind the Marketplace model package's b64 JSON contract",
    config=FaceAnonymizerConfig,
    run=DeferredRun("deepracer.plugins.face_anonymizer.run"),
    article=(
        "Adding AI to your applications with ready-to-use models from AWS Marketplace,"
        " AWS Machine Learning Blog (K. Waikar), 2019"
    ),
    references=(
        Reference("Request format", '{"instances": [{"image": {"b64": ...}}]}'),
        Reference("Response format", '{"predictions": [{"image": {"b64": ...}}]}'),
        Reference(
            "Faces visible after anonymization", "none (shown on one photo)", metric="faces_after"
        ),
        Reference("Endpoint instance type", "ml.c5.xlarge"),
        Reference("Latency per image [ms]", "not stated", metric="ms_per_image"),
        Reference(
            "Real-time request size limit (SageMaker docs) vs our largest [bytes]",
            "6 MB",
            metric="request_bytes_max",
        ),
    ),
    extra="faces",
)
