"""SageMaker training jobs: create, describe, list and stop, with SageMaker's wording of AWS errors.

The calls go through :mod:`deepracer.cloud.aws`; this module only words the errors
for the launch commands (the experiment fields to fix, the training job's quota,
``iam:PassRole`` on the role) and names the training job concerned.

Contents:
    TRAINING_JOB_ERRORS, TRAINING_JOB_CLIENT: that wording.
    client, aws_errors, call: the AWS layer's client, context manager and call
        wrapper with it.
    JobStatus: one job's state.
    create_training_job, describe_job, list_jobs, stop_job: the job's lifecycle.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from deepracer.cloud import aws
from deepracer.cloud.sagemaker.checks import check_request
from deepracer.errors import DeepRacerError

__all__ = [
    "TRAINING_JOB_CLIENT",
    "TRAINING_JOB_ERRORS",
    "JobStatus",
    "aws_errors",
    "call",
    "client",
    "create_training_job",
    "describe_job",
    "list_jobs",
    "stop_job",
]

T = TypeVar("T")

_ENDED = frozenset({"Completed", "Failed", "Stopped"})
_DEFAULT = aws.DEFAULT_MESSAGES

TRAINING_JOB_ERRORS = dataclasses.replace(
    _DEFAULT,
    no_credentials=_DEFAULT.no_credentials + " (`--dry-run` needs none)",
    no_region="{operation}{about}: no AWS region; set launch.sagemaker.region or AWS_REGION",
    unreachable=(
        "{operation}{about}: cannot reach {endpoint} ({error}); check the network, the"
        " region and launch.endpoint_url"
    ),
    access_denied=(
        _DEFAULT.access_denied + " (creating a job also needs iam:PassRole on"
        " launch.sagemaker.role)"
    ),
    quota=(
        "{api}{about}: {message} ({code}). The account's SageMaker quota is used up: stop"
        " a running job, choose another launch.sagemaker.instance_type, or request a"
        " higher 'training job usage' quota in Service Quotas"
    ),
)
"""How AWS errors read in the launch commands (``deepracer launch | jobs``)."""
TRAINING_JOB_CLIENT = dataclasses.replace(
    aws.DEFAULT_CLIENT_MESSAGES,
    region=(
        "no AWS region for {service}: set launch.sagemaker.region or AWS_REGION"
        " (or a region in ~/.aws/config)"
    ),
)
"""How client setup errors read in the launch commands."""


def client(service: str, *, region: str | None, endpoint_url: str | None = None) -> Any:
    """Returns a boto3 client (see :func:`deepracer.cloud.aws.client`).

    Args:
        service: ``sagemaker``, ``logs``, ``s3``, ...
        region: The AWS region; None reads AWS_REGION, AWS_DEFAULT_REGION and the
            AWS configuration.
        endpoint_url: A non-AWS endpoint (moto server, MinIO), or None.

    Raises:
        DeepRacerError: boto3 is not installed, no region is configured, the service
            or profile is unknown.
    """
    return aws.client(
        service, region=region, endpoint_url=endpoint_url, messages=TRAINING_JOB_CLIENT
    )


def aws_errors(operation: str = "AWS call", job: str | None = None) -> AbstractContextManager[None]:
    """Turns botocore's credential, connection and service errors into DeepRacerError.

    Args:
        operation: Names the call in messages (a ClientError names its own).
        job: The training job concerned, for the message.
    """
    subject = f"training job {job}" if job else None
    return aws.aws_errors(operation, subject=subject, messages=TRAINING_JOB_ERRORS)


def call(fn: Callable[..., T], /, **kwargs: Any) -> T:
    """Calls a boto3 client method, translating AWS errors (see :func:`aws_errors`).

    Example:
        ``call(sm.describe_training_job, TrainingJobName=name)``.

    Raises:
        DeepRacerError: No credentials, an unreachable endpoint, or the service
            refused the call; the message has the service's words and the job name.
    """
    job = kwargs.get("TrainingJobName")
    subject = f"training job {job}" if job else None
    return aws.call(fn, subject=subject, messages=TRAINING_JOB_ERRORS, **kwargs)


@dataclass(frozen=True)
class JobStatus:
    """One training job's state.

    Attributes:
        name: The training job name.
        status: ``InProgress``, ``Completed``, ``Failed``, ``Stopping`` or ``Stopped``.
        secondary_status: The finer state (``Starting``, ``Downloading``, ``Training``,
            ``Uploading``, ``Interrupted``, ...); None in a list summary that lacks it.
        created: When the job was created.
        ended: When training ended, or None.
        failure_reason: Why the job failed, or None.
        model_artifacts: The ``model.tar.gz`` URI, or None.
        billable_seconds: Billed time (spot: after the saving), or None.
    """

    name: str
    status: str
    secondary_status: str | None = None
    created: datetime | None = None
    ended: datetime | None = None
    failure_reason: str | None = None
    model_artifacts: str | None = None
    billable_seconds: int | None = None

    @property
    def finished(self) -> bool:
        """True once the job is Completed, Failed or Stopped."""
        return self.status in _ENDED


def _job_status(data: Mapping[str, Any]) -> JobStatus:
    billable = data.get("BillableTimeInSeconds")
    return JobStatus(
        name=str(data["TrainingJobName"]),
        status=str(data.get("TrainingJobStatus", "")),
        secondary_status=data.get("SecondaryStatus"),
        created=data.get("CreationTime"),
        ended=data.get("TrainingEndTime"),
        failure_reason=data.get("FailureReason"),
        model_artifacts=(data.get("ModelArtifacts") or {}).get("S3ModelArtifacts"),
        billable_seconds=int(billable) if billable is not None else None,
    )


def create_training_job(sm: Any, request: Mapping[str, Any]) -> str:
    """Checks the request (:func:`check_request`) and creates the job.

    Args:
        sm: A boto3 SageMaker client.
        request: From :func:`training_job_request`.

    Returns:
        The TrainingJobArn.

    Raises:
        ConfigError: The request is invalid (nothing was sent).
        DeepRacerError: AWS refused it.
    """
    check_request(request)
    response = call(sm.create_training_job, **request)
    return str(response["TrainingJobArn"])


def describe_job(sm: Any, name: str) -> JobStatus:
    """Returns the state of one training job.

    Raises:
        DeepRacerError: No such job (the service's message), or an AWS error.
    """
    return _job_status(call(sm.describe_training_job, TrainingJobName=name))


def list_jobs(
    sm: Any,
    *,
    name_contains: str | None = None,
    max_results: int = 20,
    describe: bool = False,
) -> list[JobStatus]:
    """Returns the newest training jobs, newest first.

    Args:
        sm: A boto3 SageMaker client.
        name_contains: Only jobs whose name contains this (e.g. an experiment name).
        max_results: At most this many jobs.
        describe: Describe each job (one call each) for failure reason, artifacts
            and billable time; the list summary has only names, states and times.
    """
    jobs: list[JobStatus] = []
    kwargs: dict[str, Any] = {"SortBy": "CreationTime", "SortOrder": "Descending"}
    if name_contains:
        kwargs["NameContains"] = name_contains
    while len(jobs) < max_results:
        kwargs["MaxResults"] = min(100, max_results - len(jobs))
        page = call(sm.list_training_jobs, **kwargs)
        jobs.extend(_job_status(s) for s in page.get("TrainingJobSummaries", []))
        token = page.get("NextToken")
        if not token:
            break
        kwargs["NextToken"] = token
    epoch = datetime.min.replace(tzinfo=UTC)
    # The service sorts already; sorting again keeps the order promise for any backend.
    jobs.sort(key=lambda j: j.created or epoch, reverse=True)
    jobs = jobs[:max_results]
    if describe:
        jobs = [describe_job(sm, j.name) for j in jobs]
    return jobs


def stop_job(sm: Any, name: str) -> None:
    """Asks SageMaker to stop a running job (it saves checkpoints and uploads output).

    Raises:
        DeepRacerError: The job has already ended (the message says its status), does
            not exist, or another AWS error.
    """
    with aws_errors("stop_training_job", name):
        try:
            sm.stop_training_job(TrainingJobName=name)
        except Exception as exc:
            if aws.error_code(exc) != "ValidationException":
                raise
            # AWS: "The request was rejected because the training job is in status X."
            found = re.search(r"\b(Completed|Failed|Stopped|Stopping)\b", aws.error_message(exc))
            status = found.group(1) if found else _status_or_none(sm, name)
            if status is None:
                raise
            if status == "Stopping":
                raise DeepRacerError(f"training job {name} is already Stopping") from exc
            raise DeepRacerError(
                f"training job {name} has already ended ({status}); there is nothing to stop"
            ) from exc


def _status_or_none(sm: Any, name: str) -> str | None:
    try:
        status = sm.describe_training_job(TrainingJobName=name)["TrainingJobStatus"]
    except Exception:  # the stop error is the one to report
        return None
    return str(status) if status in _ENDED or status == "Stopping" else None
