"""Backend ``aws``: the same episode trained and tested by Rekognition Custom Labels.

The chain, with the waits the API needs (every step is asynchronous):

1. upload the episode's training images and a sample of its test images as PNG/JPEG
   to S3, each set with a Ground Truth manifest whose ``source-ref`` are S3 URIs;
2. ``create_project`` (the name gets a UTC time stamp: a project holds one training
   and one test dataset);
3. ``create_dataset`` for ``TRAIN`` and ``TEST`` from the manifests, polling
   ``describe_dataset`` until ``CREATE_COMPLETE``;
4. ``create_project_version`` (training, about an hour), waiting with botocore's
   ``project_version_training_completed`` waiter, then reading the evaluation F1;
5. ``start_project_version`` and the ``project_version_running`` waiter, then
   ``detect_custom_labels`` on every test image (the best label is the prediction);
6. ``stop_project_version`` in a ``finally``: a running model is billed per
   inference-unit hour, so it is stopped whatever happened after the start request.
   If stopping fails the error names the model and the command that stops it.

The project, datasets and model are left in place (they cost nothing at rest); the
S3 objects too. Calls, waiters and AWS errors go through :mod:`deepracer.cloud.aws`
(worded ``rekognition.<operation>: <code>: <message>``).

Contents:
    MAX_IMAGE_BYTES: the API's limit on an image sent as bytes.
    PngImage: one image to upload, with its label.
    AwsOutcome: what the chain produced.
    upload_images: images plus their manifest to S3.
    detect_label: the best custom label of one image.
    train_and_detect: the whole chain.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from deepracer.cloud import aws
from deepracer.cloud.layout import ArtifactLayout
from deepracer.errors import DeepRacerError
from deepracer.plugins.custom_labels.manifest import ManifestRecord, make_label, manifest_text

__all__ = [
    "MAX_IMAGE_BYTES",
    "AwsOutcome",
    "PngImage",
    "detect_label",
    "train_and_detect",
    "upload_images",
]

MAX_IMAGE_BYTES = 4 * 1024 * 1024
"""Largest image ``detect_custom_labels`` takes as bytes; larger go by S3 reference."""

_SERVICE_ERROR = "{operation}{about}: {code}: {message}"
_ERRORS = dataclasses.replace(aws.DEFAULT_MESSAGES, failed=_SERVICE_ERROR, throttled=_SERVICE_ERROR)


@dataclass(frozen=True)
class PngImage:
    """One image for Custom Labels.

    Attributes:
        name: File name under the set's folder (``.png`` or ``.jpg``).
        data: The encoded image.
        class_id: Its class id.
        class_name: Its class name (what Custom Labels learns and returns).
    """

    name: str
    data: bytes
    class_id: int
    class_name: str


@dataclass
class AwsOutcome:
    """What the Custom Labels chain produced.

    Attributes:
        project_arn: The project.
        version_arn: The trained model version.
        train_manifest: S3 URI of the training manifest.
        test_manifest: S3 URI of the test manifest.
        f1_score: Custom Labels' own evaluation F1 on the test dataset, if reported.
        predictions: For each test image: its class name, the best returned label
            (None when nothing was returned) and that label's confidence [%].
        stopped: Whether ``stop_project_version`` was accepted.
    """

    project_arn: str = ""
    version_arn: str = ""
    train_manifest: str = ""
    test_manifest: str = ""
    f1_score: float | None = None
    predictions: list[tuple[str, str | None, float]] = field(default_factory=list)
    stopped: bool = False

    @property
    def accuracy(self) -> float:
        """Share of test images whose best label is their class (0 when none)."""
        if not self.predictions:
            return 0.0
        return sum(t == p for t, p, _ in self.predictions) / len(self.predictions)


def _call(client: Any, operation: str, **params: Any) -> Any:
    """Calls ``client.operation(**params)``; AWS errors become one DeepRacerError."""
    return aws.call(
        getattr(client, operation),
        operation=f"rekognition.{operation}",
        messages=_ERRORS,
        **params,
    )


def upload_images(
    storage: Any,
    layout: ArtifactLayout,
    folder: str,
    images: Sequence[PngImage],
    *,
    attribute: str,
    job_name: str,
    when: datetime | None = None,
) -> str:
    """Uploads images to ``folder/`` and their manifest to ``folder.manifest``.

    Args:
        storage: A :class:`~deepracer.cloud.storage.Storage` of the bucket.
        layout: Where under the bucket.
        folder: ``train`` or ``test``.
        images: The images.
        attribute: The label attribute name.
        job_name: The manifests' ``job-name``.
        when: Their ``creation-date`` (default: now).

    Returns:
        The manifest's key.
    """
    records = []
    for image in images:
        storage.put_bytes(layout.key(folder, image.name), image.data)
        label = make_label(image.class_id, image.class_name, job_name=job_name, when=when)
        records.append(
            ManifestRecord(source_ref=layout.uri(folder, image.name), labels={attribute: label})
        )
    key = layout.key(f"{folder}.manifest")
    storage.put_bytes(key, manifest_text(records).encode("utf-8"))
    return key


def detect_label(
    client: Any, version_arn: str, image: bytes | dict[str, Any], min_confidence: float
) -> tuple[str | None, float]:
    """The highest-confidence custom label of one image, and its confidence [%].

    Args:
        client: A boto3 Rekognition client.
        version_arn: The running model version.
        image: The encoded image, or an ``Image`` request value (``{"S3Object": ...}``).
        min_confidence: ``MinConfidence`` [%].

    Returns:
        ``(name, confidence)``, or ``(None, 0.0)`` when the model returns no label
        above ``min_confidence``.
    """
    response = _call(
        client,
        "detect_custom_labels",
        ProjectVersionArn=version_arn,
        Image={"Bytes": image} if isinstance(image, bytes) else image,
        MinConfidence=float(min_confidence),
    )
    labels = response.get("CustomLabels", [])
    if not labels:
        return None, 0.0
    best = max(labels, key=lambda item: float(item.get("Confidence", 0.0)))
    return str(best.get("Name")), float(best.get("Confidence", 0.0))


def _create_project(client: Any, name: str) -> str:
    response = _call(client, "create_project", ProjectName=name)
    return str(response["ProjectArn"])


def _create_dataset(
    client: Any,
    project_arn: str,
    kind: str,
    bucket: str,
    key: str,
    *,
    poll_seconds: float,
    timeout_s: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> str:
    """Creates a dataset from a manifest and waits until Custom Labels has read it."""
    response = _call(
        client,
        "create_dataset",
        ProjectArn=project_arn,
        DatasetType=kind,
        DatasetSource={"GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": key}}},
    )
    arn = str(response["DatasetArn"])
    deadline = clock() + timeout_s
    while True:
        description = _call(client, "describe_dataset", DatasetArn=arn)["DatasetDescription"]
        status = description.get("Status", "")
        if status in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
            return arn
        if status.endswith("FAILED"):
            raise DeepRacerError(
                f"rekognition: the {kind} dataset from s3://{bucket}/{key} failed ({status}):"
                f" {description.get('StatusMessage', 'no message')}"
            )
        if clock() >= deadline:
            raise DeepRacerError(
                f"rekognition: the {kind} dataset {arn} is still {status} after"
                f" {timeout_s / 60:.0f} min (raise custom_labels.timeout_minutes)"
            )
        sleep(poll_seconds)


def _wait(
    client: Any, waiter: str, *, what: str, poll_seconds: float, timeout_s: float, **params: Any
) -> None:
    """Runs a botocore waiter; its failure becomes one DeepRacerError."""

    def failure(last: Mapping[str, Any], error: str) -> str:
        described = last.get("ProjectVersionDescriptions") or [{}]
        status = described[0].get("Status", "unknown")
        message = described[0].get("StatusMessage") or error
        return f"rekognition: {what} did not finish ({status}): {message}"

    aws.wait(client, waiter, delay_s=poll_seconds, timeout_s=timeout_s, failure=failure, **params)


def _stop(client: Any, version_arn: str, echo: Callable[[str], None], *, loud: bool) -> bool:
    """Stops a model version; on failure says how to stop it by hand.

    Args:
        client: The Rekognition client.
        version_arn: The model version.
        echo: Progress lines.
        loud: Raise on failure (False while another error is already propagating,
            which must not be hidden).
    """
    try:
        _call(client, "stop_project_version", ProjectVersionArn=version_arn)
    except DeepRacerError as exc:
        message = (
            f"{exc}; the model may still be running and billed. Stop it: aws rekognition"
            f" stop-project-version --project-version-arn {version_arn}"
        )
        echo(message)
        if loud:
            raise DeepRacerError(message) from None
        return False
    echo(f"stopped {version_arn}")
    return True


def train_and_detect(
    client: Any,
    storage: Any,
    layout: ArtifactLayout,
    train: Sequence[PngImage],
    test: Sequence[PngImage],
    *,
    attribute: str,
    project_name: str,
    version_name: str,
    min_confidence: float,
    inference_units: int,
    poll_seconds: float,
    timeout_s: float,
    echo: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> AwsOutcome:
    """Runs the whole chain (see the module docstring).

    Args:
        client: A boto3 Rekognition client.
        storage: A storage of the bucket ``layout`` names.
        layout: Where the images and manifests go.
        train: The training images.
        test: The test images (also Custom Labels' test dataset).
        attribute: The manifests' label attribute.
        project_name: The Custom Labels project to create.
        version_name: The model version's name.
        min_confidence: ``MinConfidence`` of detection [%].
        inference_units: ``MinInferenceUnits`` of the started model.
        poll_seconds: Seconds between status checks.
        timeout_s: Longest wait for a dataset or for training [s].
        echo: Progress lines.
        sleep: Waits between dataset polls (tests pass a no-op).
        clock: Monotonic seconds (tests pass a fake).

    Raises:
        DeepRacerError: Any AWS call or wait failed; the message names it.
    """
    outcome = AwsOutcome()
    job_name = f"labeling-job/{project_name}"
    echo(f"uploading {len(train)} training and {len(test)} test images to {layout.uri()}")
    train_key = upload_images(
        storage, layout, "train", train, attribute=attribute, job_name=job_name
    )
    test_key = upload_images(storage, layout, "test", test, attribute=attribute, job_name=job_name)
    outcome.train_manifest = f"s3://{layout.bucket}/{train_key}"
    outcome.test_manifest = f"s3://{layout.bucket}/{test_key}"

    outcome.project_arn = _create_project(client, project_name)
    echo(f"project {outcome.project_arn}")
    for kind, key in (("TRAIN", train_key), ("TEST", test_key)):
        _create_dataset(
            client,
            outcome.project_arn,
            kind,
            layout.bucket,
            key,
            poll_seconds=poll_seconds,
            timeout_s=timeout_s,
            sleep=sleep,
            clock=clock,
        )
    response = _call(
        client,
        "create_project_version",
        ProjectArn=outcome.project_arn,
        VersionName=version_name,
        OutputConfig={"S3Bucket": layout.bucket, "S3KeyPrefix": layout.key("output")},
    )
    outcome.version_arn = str(response["ProjectVersionArn"])
    echo(f"training {outcome.version_arn} (about an hour)")
    _wait(
        client,
        "project_version_training_completed",
        what="training",
        poll_seconds=poll_seconds,
        timeout_s=timeout_s,
        ProjectArn=outcome.project_arn,
        VersionNames=[version_name],
    )
    described = _call(
        client,
        "describe_project_versions",
        ProjectArn=outcome.project_arn,
        VersionNames=[version_name],
    )["ProjectVersionDescriptions"]
    evaluation = described[0].get("EvaluationResult", {}) if described else {}
    if "F1Score" in evaluation:
        outcome.f1_score = float(evaluation["F1Score"])

    requested = refused = finished = False
    try:
        requested = True
        try:
            _call(
                client,
                "start_project_version",
                ProjectVersionArn=outcome.version_arn,
                MinInferenceUnits=inference_units,
            )
        except DeepRacerError:
            refused = True  # the service did not start it: nothing to stop
            raise
        echo(f"starting {outcome.version_arn} ({inference_units} inference unit(s), billed)")
        _wait(
            client,
            "project_version_running",
            what="starting the model",
            poll_seconds=poll_seconds,
            timeout_s=timeout_s,
            ProjectArn=outcome.project_arn,
            VersionNames=[version_name],
        )
        for image in test:
            # Bytes spare the service a read from S3, up to the API's 4 MB for them;
            # a larger file is named by its uploaded copy instead.
            request: bytes | dict[str, Any] = image.data
            if len(image.data) > MAX_IMAGE_BYTES:
                key = layout.key("test", image.name)
                request = {"S3Object": {"Bucket": layout.bucket, "Name": key}}
            name, confidence = detect_label(client, outcome.version_arn, request, min_confidence)
            outcome.predictions.append((image.class_name, name, confidence))
        finished = True
    finally:
        if requested and not refused:
            outcome.stopped = _stop(client, outcome.version_arn, echo, loud=finished)
    return outcome
