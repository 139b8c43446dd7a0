"""The ``aws`` backend: the Marketplace model package on a SageMaker endpoint.

The article's steps, through the low-level API:

1. ``create_model`` with ``PrimaryContainer={"ModelPackageName": <ARN>}`` and
   ``EnableNetworkIsolation=True`` (Marketplace containers run without internet;
   the account needs a subscription to the listing, and the ARN is per region);
2. ``create_endpoint_config`` + ``create_endpoint`` and the ``endpoint_in_service``
   waiter, then one ``sagemaker-runtime.invoke_endpoint`` per request
   (``ContentType="application/json"``, ``Body=json.dumps(payload)``); or, for a
   JSON-lines batch file, ``create_transform_job`` over it in S3;
3. clean-up: the endpoint, its configuration and the model are deleted at the end
   (also after an error) unless ``keep_endpoint: true``.

Requests are checked before anything is created: a request above the real-time
limit (6 MB) is refused with the image's name, so no endpoint is paid for in vain.
Instances the local decoder cannot read are not sent (a vendor container may fail
the whole request, or the whole transform job, on one bad record); they get the
same ``{"error": ...}`` entries as in the local backend. Calls, waiters and AWS
errors go through :mod:`deepracer.cloud.aws`, worded by :data:`ENDPOINT_ERRORS`.

Contents:
    ENDPOINT_ERRORS: the AWS layer's wording, with the endpoint quota's advice.
    Deployment: create the model (and endpoint), run a transform job, clean up.
    deployed: a Deployment as a context manager that always cleans up.
    check_sizes: refuse requests above the real-time payload limit.
    split_valid, merge_errors: keep bad instances out of a request and put their
        error entries back into the response.
    endpoint_responder: requests answered by ``invoke_endpoint``.
    transform_responder: requests answered by one batch transform job.
    parse_s3: ``s3://bucket/prefix`` to (bucket, prefix).
    job_name: a unique transform job name.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from deepracer.cloud import aws
from deepracer.errors import ConfigError, DeepRacerError
from deepracer.plugins.face_anonymizer.anonymize import ImageError, decode_image
from deepracer.plugins.face_anonymizer.batch import Responder, one_by_one
from deepracer.plugins.face_anonymizer.handler import (
    REALTIME_PAYLOAD_LIMIT,
    PayloadError,
    instance_bytes,
    payload_size,
    request_instances,
)

__all__ = [
    "ENDPOINT_ERRORS",
    "Deployment",
    "check_sizes",
    "deployed",
    "endpoint_responder",
    "job_name",
    "merge_errors",
    "parse_s3",
    "split_valid",
    "transform_responder",
]

T = TypeVar("T")

WAIT_DELAY_S = 30
"""Seconds between the waiters' describe calls (botocore's default for SageMaker)."""
TRANSFORM_PAYLOAD_CAP_MB = 100
"""``MaxPayloadInMB`` may not exceed 100."""


ENDPOINT_ERRORS = dataclasses.replace(
    aws.DEFAULT_MESSAGES,
    quota=(
        "{api}{about}: {message} ({code}). The account's SageMaker quota for this instance"
        " type is used up: delete an idle endpoint, choose another instance_type, or ask"
        " for more in Service Quotas"
    ),
)
"""How this backend's AWS errors read (:mod:`deepracer.cloud.aws`, an endpoint's quota)."""


def _call(fn: Callable[..., T], /, hint: str = "", **kwargs: Any) -> T:
    """Calls a boto3 method; AWS errors become one DeepRacerError (``hint`` appended)."""
    messages = dataclasses.replace(ENDPOINT_ERRORS, note=hint) if hint else ENDPOINT_ERRORS
    return aws.call(fn, messages=messages, **kwargs)


def parse_s3(uri: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` to ``(bucket, prefix without slashes at the ends)``.

    Raises:
        ConfigError: Not an s3:// URI with a bucket.
    """
    match = re.fullmatch(r"s3://([a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(?:/(.*))?", uri)
    if not match:
        raise ConfigError(f"aws.s3: expected s3://BUCKET/PREFIX, got {uri!r}")
    return match.group(1), (match.group(2) or "").strip("/")


def check_sizes(
    requests: list[tuple[str, dict[str, Any]]], limit: int = REALTIME_PAYLOAD_LIMIT
) -> None:
    """Refuses requests above the real-time payload limit, before anything is created.

    Args:
        requests: ``(name, request)`` pairs.
        limit: Bytes.

    Raises:
        DeepRacerError: One message listing every request that is too large.
    """
    big = [(name, payload_size(request)) for name, request in requests]
    big = [(name, size) for name, size in big if size > limit]
    if big:
        listed = ", ".join(f"{name} ({size / 1e6:.1f} MB)" for name, size in big)
        raise DeepRacerError(
            f"request payload above the {limit / 1e6:.0f} MB limit of SageMaker real-time"
            f" endpoints: {listed}. Downscale these images, or send them through batch"
            " transform (a JSON-lines `batch` file with aws.s3 set)"
        )


def split_valid(request: Any) -> tuple[dict[str, Any], dict[int, str], int]:
    """The request without the instances that are not images.

    Returns:
        ``(clean request, {position: error}, number of instances)``.

    Raises:
        PayloadError: The request has no ``instances`` list.
    """
    instances = request_instances(request)
    clean: list[Any] = []
    errors: dict[int, str] = {}
    for index, item in enumerate(instances):
        where = f"instances[{index}]"
        try:
            decode_image(instance_bytes(item, where))
        except (PayloadError, ImageError) as exc:
            errors[index] = str(exc) if str(exc).startswith(where) else f"{where}: {exc}"
            continue
        clean.append(item)
    return {**request, "instances": clean}, errors, len(instances)


def merge_errors(response: Any, errors: dict[int, str], total: int) -> dict[str, Any]:
    """Puts error entries back at their positions among the endpoint's predictions.

    Raises:
        PayloadError: The response has no ``predictions`` list of the expected length.
    """
    predictions = response.get("predictions") if isinstance(response, dict) else None
    expected = total - len(errors)
    if not isinstance(predictions, list) or len(predictions) != expected:
        got = len(predictions) if isinstance(predictions, list) else "no"
        raise PayloadError(f"the model returned {got} predictions for {expected} instances")
    answers = iter(predictions)
    merged = [{"error": errors[i]} if i in errors else next(answers) for i in range(total)]
    return {**response, "predictions": merged}


def _invoke(runtime: Any, endpoint: str, request: dict[str, Any]) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    body = json.dumps(request)
    try:
        reply = runtime.invoke_endpoint(
            EndpointName=endpoint,
            ContentType="application/json",
            Accept="application/json",
            Body=body,
        )
    except ClientError as exc:
        code = aws.error_code(exc)
        if code in ("ModelError", "ValidationError", "ValidationException"):
            # The container or the service refused this request: the batch goes on.
            raise PayloadError(
                f"the endpoint refused the request ({code}: {aws.error_message(exc)})"
            ) from None
        raise
    raw = reply["Body"].read()
    try:
        return dict(json.loads(raw))
    except (ValueError, TypeError):
        raise PayloadError(
            f"the endpoint answered {len(raw)} bytes that are not a JSON object"
        ) from None


def endpoint_responder(runtime: Any, endpoint: str) -> Responder:
    """Requests answered one by one by ``invoke_endpoint`` on ``endpoint``.

    A request above the real-time limit, or without ``instances``, is refused as a
    PayloadError (the batch goes on); bad instances are answered locally with
    error entries.
    """

    def process(request: dict[str, Any]) -> dict[str, Any]:
        clean, errors, total = split_valid(request)
        size = payload_size(clean)
        if size > REALTIME_PAYLOAD_LIMIT:
            raise PayloadError(
                f"request is {size / 1e6:.1f} MB, above the {REALTIME_PAYLOAD_LIMIT / 1e6:.0f} MB"
                " real-time limit; use batch transform (set aws.s3)"
            )
        if not clean["instances"]:
            return merge_errors({"predictions": []}, errors, total)
        with aws.aws_errors("sagemaker-runtime.invoke_endpoint", messages=ENDPOINT_ERRORS):
            response = _invoke(runtime, endpoint, clean)
        return merge_errors(response, errors, total)

    return one_by_one(process)


@dataclass
class Deployment:
    """The model (and optionally an endpoint) of one run, deleted again on exit.

    Attributes:
        sagemaker: A boto3 ``sagemaker`` client.
        name: Name of the model, endpoint configuration and endpoint (as in the
            article, all three share it).
        model_package_arn: The Marketplace model package ARN.
        role: The execution role ARN.
        instance_type: Endpoint / transform instance type.
        keep: Keep everything at the end (``keep_endpoint``).
        wait_minutes: How long to wait for the endpoint or the transform job.
        echo: Progress lines.
        created: What was created, in order (deleted in reverse); what is left
            after :meth:`cleanup` was kept.
        deleted: What :meth:`cleanup` deleted.
    """

    sagemaker: Any
    name: str
    model_package_arn: str
    role: str
    instance_type: str
    keep: bool = False
    wait_minutes: float = 30.0
    echo: Callable[[str], None] = print
    created: list[tuple[str, str]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def create_model(self) -> None:
        """``create_model`` from the model package, network-isolated."""
        _call(
            self.sagemaker.create_model,
            hint="A Marketplace model package needs a subscription in this account, and"
            " its ARN is specific to the region.",
            ModelName=self.name,
            PrimaryContainer={"ModelPackageName": self.model_package_arn},
            ExecutionRoleArn=self.role,
            EnableNetworkIsolation=True,
        )
        self.created.append(("model", self.name))
        self.echo(f"created model {self.name} from {self.model_package_arn}")

    def create_endpoint(self) -> None:
        """Endpoint configuration, endpoint, and the wait until it is in service."""
        _call(
            self.sagemaker.create_endpoint_config,
            EndpointConfigName=self.name,
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": self.name,
                    "InitialInstanceCount": 1,
                    "InstanceType": self.instance_type,
                }
            ],
        )
        self.created.append(("endpoint_config", self.name))
        _call(self.sagemaker.create_endpoint, EndpointName=self.name, EndpointConfigName=self.name)
        self.created.append(("endpoint", self.name))
        self.echo(f"creating endpoint {self.name} on {self.instance_type}; waiting until InService")
        self._wait("endpoint_in_service", f"endpoint {self.name}", EndpointName=self.name)
        status = _call(self.sagemaker.describe_endpoint, EndpointName=self.name)
        if status.get("EndpointStatus") != "InService":
            raise DeepRacerError(
                f"endpoint {self.name} is {status.get('EndpointStatus')}:"
                f" {status.get('FailureReason', 'no reason given')}"
            )

    def _wait(self, waiter_name: str, what: str, **kwargs: Any) -> None:
        def failure(last: Mapping[str, Any], error: str) -> str:
            return (
                f"{what} failed, or was not done within {self.wait_minutes:g} min"
                f" ({waiter_name}): {last.get('FailureReason') or error}"
            )

        aws.wait(
            self.sagemaker,
            waiter_name,
            delay_s=WAIT_DELAY_S,
            timeout_s=self.wait_minutes * 60,
            failure=failure,
            **kwargs,
        )

    def transform(self, s3: Any, uri: str, lines: list[str], job_name: str) -> list[str]:
        """Runs one batch transform job over JSON lines and returns the output lines.

        The lines go to ``<uri>/input/requests.jsonl``; the job splits them by line
        and assembles the responses by line into ``<uri>/output/requests.jsonl.out``.

        Raises:
            DeepRacerError: The job failed or its output is missing.
        """
        bucket, prefix = parse_s3(uri)
        key_in = f"{prefix}/input/requests.jsonl".lstrip("/")
        out_prefix = f"{prefix}/output/".lstrip("/")
        body = ("\n".join(lines) + "\n").encode("utf-8")
        _call(s3.put_object, Bucket=bucket, Key=key_in, Body=body)
        largest = max(len(line.encode("utf-8")) for line in lines)
        max_mb = min(TRANSFORM_PAYLOAD_CAP_MB, math.ceil(largest / 1e6) + 1)
        _call(
            self.sagemaker.create_transform_job,
            TransformJobName=job_name,
            ModelName=self.name,
            MaxPayloadInMB=max_mb,
            BatchStrategy="SingleRecord",
            TransformInput={
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{key_in}"}
                },
                "ContentType": "application/json",
                "SplitType": "Line",
            },
            TransformOutput={
                "S3OutputPath": f"s3://{bucket}/{out_prefix}",
                "Accept": "application/json",
                "AssembleWith": "Line",
            },
            TransformResources={"InstanceType": self.instance_type, "InstanceCount": 1},
        )
        self.echo(f"transform job {job_name} started; waiting until it completes")
        self._wait(
            "transform_job_completed_or_stopped",
            f"transform job {job_name}",
            TransformJobName=job_name,
        )
        status = _call(self.sagemaker.describe_transform_job, TransformJobName=job_name)
        if status.get("TransformJobStatus") != "Completed":
            raise DeepRacerError(
                f"transform job {job_name} is {status.get('TransformJobStatus')}:"
                f" {status.get('FailureReason', 'no reason given')}"
            )
        key_out = f"{out_prefix}requests.jsonl.out"
        reply = _call(
            s3.get_object,
            hint=f"The job completed but s3://{bucket}/{key_out} is missing.",
            Bucket=bucket,
            Key=key_out,
        )
        text = reply["Body"].read().decode("utf-8")
        return [line for line in text.split("\n") if line.strip()]

    def cleanup(self) -> list[str]:
        """Deletes what was created (newest first) unless ``keep``; returns what was deleted.

        A failed delete is reported and the others are still tried.
        """
        if self.keep:
            kept = ", ".join(f"{kind} {name}" for kind, name in self.created)
            if kept:
                self.echo(f"keep_endpoint: true, so these stay (and cost money): {kept}")
            return []
        deleted: list[str] = []
        for kind, name in reversed(self.created):
            method = getattr(self.sagemaker, f"delete_{kind}")
            key = {
                "model": "ModelName",
                "endpoint_config": "EndpointConfigName",
                "endpoint": "EndpointName",
            }[kind]
            try:
                _call(method, **{key: name})
            except DeepRacerError as exc:
                self.echo(f"could not delete {kind} {name}: {exc}; delete it by hand")
                continue
            deleted.append(f"{kind} {name}")
        if deleted:
            self.echo("deleted " + ", ".join(deleted))
        self.created.clear()
        self.deleted += deleted
        return deleted


@contextmanager
def deployed(deployment: Deployment, *, endpoint: bool) -> Iterator[Deployment]:
    """Creates the model (and the endpoint when ``endpoint``); cleans up on exit."""
    try:
        deployment.create_model()
        if endpoint:
            deployment.create_endpoint()
        yield deployment
    finally:
        deployment.cleanup()


def transform_responder(deployment: Deployment, s3: Any, uri: str, job_name: str) -> Responder:
    """Requests answered by one batch transform job (bad instances answered locally)."""

    def respond(requests: list[dict[str, Any]]) -> list[dict[str, Any] | PayloadError]:
        answers: list[dict[str, Any] | PayloadError] = []
        sent: list[tuple[int, dict[str, Any], dict[int, str], int]] = []
        for position, request in enumerate(requests):
            try:
                clean, errors, total = split_valid(request)
                size = payload_size(clean)
                if size > TRANSFORM_PAYLOAD_CAP_MB * 1e6:
                    raise PayloadError(
                        f"request is {size / 1e6:.0f} MB, above the {TRANSFORM_PAYLOAD_CAP_MB} MB"
                        " batch transform limit per record"
                    )
            except PayloadError as exc:
                answers.append(exc)
                continue
            if clean["instances"]:
                answers.append(PayloadError("no answer from the transform job"))  # replaced below
                sent.append((position, clean, errors, total))
            else:  # nothing valid to send: every instance has its error entry
                answers.append(merge_errors({"predictions": []}, errors, total))
        if not sent:
            return answers
        lines = [json.dumps(clean) for _, clean, _, _ in sent]
        started = time.perf_counter()
        output = deployment.transform(s3, uri, lines, job_name)
        deployment.echo(
            f"transform job answered {len(output)} lines in {time.perf_counter() - started:.0f} s"
        )
        if len(output) != len(sent):
            raise DeepRacerError(
                f"transform job {job_name} returned {len(output)} lines for {len(sent)} requests"
            )
        for (position, _, errors, total), line in zip(sent, output, strict=True):
            try:
                answers[position] = merge_errors(json.loads(line), errors, total)
            except (ValueError, PayloadError) as exc:
                answers[position] = PayloadError(f"transform output: {exc}")
        return answers

    return respond


def job_name(base: str, now: datetime | None = None) -> str:
    """A transform job name: ``<base>-<UTC yyyymmdd-HHMMSS>``, at most 63 characters."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"{base[: 63 - len(stamp) - 1]}-{stamp}"
