"""SageMaker training jobs for an uploaded experiment (``launch.backend: sagemaker``).

One training job runs the image built from ``docker/Dockerfile``: its entry point
reads the hyperparameter ``experiment`` (the experiment file inside the
``experiment`` channel), trains it with one simulation worker per world (the
DeepRacer on AWS pattern: simulation and learner in the same job) and resumes from
``/opt/ml/checkpoints``, which SageMaker syncs with the job's S3 checkpoint
location. The request is built and checked offline (botocore's service model when
botocore is installed), so ``--dry-run`` needs neither credentials nor a network.

boto3 and botocore are imported inside the functions, so this module imports
without the ``aws`` extra; the SageMaker Python SDK (``sagemaker`` extra) is only
needed for ``launch.sagemaker.sdk: modeltrainer``.

Contents:
    LOG_GROUP, CHECKPOINT_LOCAL_PATH, METRIC_PREFIX, METRIC_NAMES: fixed names.
    job_name: ``<job_prefix or experiment name>-<UTC time>``, a valid job name.
    training_hyperparameters: the job's HyperParameters (all strings).
    metric_definitions, format_metric_line: the metric line the entry point prints
        and the regexes SageMaker reads it with.
    training_job_request: the exact ``create_training_job`` keyword arguments.
    check_request: offline validation against botocore's model plus service rules.
    client, call, aws_errors: boto3 clients and AWS errors as DeepRacerError.
    create_training_job, describe_job, list_jobs, stop_job: the job's lifecycle.
    JobStatus: one job's state.
    job_logs: the job's CloudWatch log lines, optionally followed to the end.
    model_trainer_launch: the same job through the SageMaker Python SDK 3.x.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any, TypeVar

from deepracer.cloud.layout import (
    CUSTOM_FILES_CHANNEL,
    EXPERIMENT_CHANNEL,
    EXPERIMENT_FILE,
    ArtifactLayout,
)
from deepracer.errors import ConfigError, DeepRacerError, suggest
from deepracer.training.experiment import ExperimentConfig

__all__ = [
    "CHECKPOINT_LOCAL_PATH",
    "LOG_GROUP",
    "METRIC_NAMES",
    "METRIC_PREFIX",
    "JobStatus",
    "aws_errors",
    "call",
    "check_request",
    "client",
    "create_training_job",
    "describe_job",
    "format_metric_line",
    "job_logs",
    "job_name",
    "list_jobs",
    "metric_definitions",
    "model_trainer_launch",
    "stop_job",
    "training_hyperparameters",
    "training_job_request",
]

T = TypeVar("T")

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
"""CloudWatch Logs group of every SageMaker training job; streams are ``<job>/<host>-<n>``."""
CHECKPOINT_LOCAL_PATH = "/opt/ml/checkpoints"
"""Where the container reads and writes checkpoints; SageMaker syncs it with S3."""
METRIC_PREFIX = "deepracer-metric"
"""First word of the machine-readable metric lines the entry point prints."""
METRIC_NAMES = ("progress", "eval_progress", "mean_lap_time", "steps_per_second", "timesteps")
"""Metrics SageMaker extracts from those lines (see :func:`format_metric_line`)."""

_ENDED = frozenset({"Completed", "Failed", "Stopped"})
_STAMP = "%Y%m%d-%H%M%S"
_STAMP_LEN = 15
_NAME_MAX = 63
_NAME_PATTERN = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
_ROLE_PATTERN = r"arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
_S3_PATTERN = r"(https|s3)://([^/]+)/?(.*)"
_ROLE_EXAMPLE = "arn:aws:iam::123456789012:role/NAME"
_IMAGE_EXAMPLE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/deepracer:latest"
_MAX_RUNTIME_S = 28 * 24 * 3600  # SageMaker's limit for a training job
_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"

# Request paths (longest prefix wins) -> the experiment field a user edits.
_FIELDS: dict[str, str] = {
    "TrainingJobName": "launch.sagemaker.job_prefix (or name)",
    "RoleArn": "launch.sagemaker.role",
    "AlgorithmSpecification": "launch.sagemaker.image",
    "AlgorithmSpecification.TrainingImage": "launch.sagemaker.image",
    "ResourceConfig": "launch.sagemaker.instance_type",
    "ResourceConfig.InstanceType": "launch.sagemaker.instance_type",
    "ResourceConfig.InstanceCount": "launch.sagemaker.instance_count",
    "ResourceConfig.VolumeSizeInGB": "launch.sagemaker.volume_gb",
    "StoppingCondition": "launch.sagemaker.max_run_minutes",
    "StoppingCondition.MaxWaitTimeInSeconds": "launch.sagemaker.max_wait_minutes",
    "EnableManagedSpotTraining": "launch.sagemaker.spot",
    "VpcConfig": "launch.sagemaker.subnets / security_groups",
    "VpcConfig.Subnets": "launch.sagemaker.subnets",
    "VpcConfig.SecurityGroupIds": "launch.sagemaker.security_groups",
    "Tags": "launch.sagemaker.tags",
    "InputDataConfig": "launch.s3",
    "OutputDataConfig": "launch.s3",
    "CheckpointConfig": "launch.s3",
    "HyperParameters": "preset / worlds / launch.s3",
    "Environment": "launch.sagemaker (Environment)",
}
# Hyperparameters -> the experiment field their value comes from.
_HYPERPARAMETER_FIELDS: dict[str, str] = {
    "experiment": "the experiment file name",
    "s3_bucket": "launch.s3",
    "s3_prefix": "launch.s3",
    "model_metadata_s3_key": "launch.s3",
    "reward_function_s3_source": "launch.s3",
    "world_name": "worlds",
    "worlds": "worlds",
}


# ------------------------------------------------------------------------ names


def _sanitize(text: str) -> str:
    """``text`` with runs of anything but letters and digits as one hyphen, trimmed."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


def _job_base(experiment: ExperimentConfig) -> str:
    """The sanitised name part of the experiment's job names (before the time)."""
    base = _sanitize(experiment.launch.sagemaker.job_prefix or experiment.name)
    # Keep the time stamp whole (it makes names unique per second); cut the prefix.
    base = base[: _NAME_MAX - _STAMP_LEN - 1].rstrip("-")
    return base or "deepracer"


def job_name(experiment: ExperimentConfig, now: datetime | None = None) -> str:
    """Returns a new training job name: ``<job_prefix or name>-<UTC %Y%m%d-%H%M%S>``.

    Underscores, dots and other characters SageMaker rejects become hyphens; the
    prefix is cut so the name fits SageMaker's 63 characters with the stamp intact.

    Args:
        experiment: The experiment.
        now: The launch time (default: now); a naive datetime is taken as UTC.

    Example:
        >>> from deepracer.training.experiment import ExperimentConfig
        >>> job_name(ExperimentConfig(name="my_exp.v2"), datetime(2026, 5, 4, 12, 30, 5))
        'my-exp-v2-20260504-123005'
    """
    when = now or datetime.now(UTC)
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return f"{_job_base(experiment)}-{when.strftime(_STAMP)}"


def _world_label(world: str) -> str:
    """A world's name; a world given as a file path is named by its stem."""
    if "/" in world or "\\" in world or world.endswith((".yaml", ".yml")):
        return PurePosixPath(world.replace("\\", "/")).stem
    return world


# ------------------------------------------------------------------------ request


def training_hyperparameters(
    experiment: ExperimentConfig, layout: ArtifactLayout
) -> dict[str, str]:
    """Returns the job's HyperParameters; every value is a string, as SageMaker requires.

    ``experiment`` names the experiment file in the ``experiment`` channel (what our
    entry point trains). The DeepRacer on AWS keys (``s3_bucket``, ``s3_prefix``,
    ``model_metadata_s3_key``, ``reward_function_s3_source``, ``world_name``) and
    the preset in DeepRacer's terms keep the job readable by DeepRacer tooling.

    Args:
        experiment: The experiment; its preset must resolve on this machine.
        layout: Where the experiment was uploaded.

    Raises:
        ConfigError: The preset cannot be loaded or expressed in DeepRacer's terms.
    """
    # Imported here: presets pulls in torch and stable-baselines3.
    from deepracer.training.presets import load_preset, to_deepracer_hyperparameters

    values: dict[str, str] = {
        "experiment": EXPERIMENT_FILE,
        "s3_bucket": layout.bucket,
        "s3_prefix": layout.prefix,
        "model_metadata_s3_key": layout.model_metadata_key,
        "reward_function_s3_source": layout.reward_key,
        "world_name": _world_label(experiment.worlds[0]),
        "worlds": ",".join(_world_label(w) for w in experiment.worlds),
    }
    preset = to_deepracer_hyperparameters(load_preset(experiment.preset))
    for key, value in preset.items():
        values.setdefault(key, str(value))
    return values


def metric_definitions() -> list[dict[str, str]]:
    """Returns the job's MetricDefinitions: one regex per name in :data:`METRIC_NAMES`.

    Each regex reads one key of a :func:`format_metric_line` line; every key there
    follows a space, so ``progress`` does not match inside ``eval_progress``.
    """
    return [{"Name": name, "Regex": f"{METRIC_PREFIX}.* {name}={_NUMBER}"} for name in METRIC_NAMES]


def format_metric_line(values: Mapping[str, float | int | None]) -> str:
    """Returns the line the training image prints for SageMaker's metrics.

    ``deepracer-metric timesteps=12000 progress=63.5 mean_lap_time=21.73``: keys
    in the given order, numbers in ``%g`` style; None, NaN and infinite values are
    left out (SageMaker cannot record them).

    Args:
        values: Metric name -> value; names are lower-case words with underscores.

    Raises:
        ValueError: A name SageMaker's regexes could not read.
    """
    parts = [METRIC_PREFIX]
    for key, value in values.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise ValueError(f"metric name {key!r}: use lower-case letters, digits and _")
        if value is None or not math.isfinite(float(value)):
            continue
        text = str(value) if isinstance(value, int) else format(float(value), ".6g")
        parts.append(f"{key}={text}")
    return " ".join(parts)


def _seconds(minutes: float) -> int:
    return max(1, round(minutes * 60))


def training_job_request(
    experiment: ExperimentConfig, layout: ArtifactLayout, *, name: str
) -> dict[str, Any]:
    """Returns the exact ``create_training_job`` keyword arguments of the experiment.

    Args:
        experiment: The experiment (its ``launch.sagemaker`` section).
        layout: Where the experiment was uploaded.
        name: The training job name (see :func:`job_name`).

    Raises:
        ConfigError: Only one of subnets / security groups is set, or the spot wait
            time is shorter than the run time.
    """
    sm = experiment.launch.sagemaker
    run = _seconds(sm.max_run_minutes)
    stopping: dict[str, int] = {"MaxRuntimeInSeconds": run}
    if sm.spot:
        # The wait time includes the run time, so it must be at least as long.
        wait = _seconds(sm.max_wait_minutes) if sm.max_wait_minutes is not None else 2 * run
        if wait < run:
            raise ConfigError(
                f"launch.sagemaker.max_wait_minutes: {sm.max_wait_minutes} is shorter than"
                f" max_run_minutes ({sm.max_run_minutes}); the spot wait includes the run"
                " time, so set it >= max_run_minutes (default: 2 x max_run_minutes)"
            )
        stopping["MaxWaitTimeInSeconds"] = wait
    if bool(sm.subnets) != bool(sm.security_groups):
        given, missing = (
            ("subnets", "security_groups") if sm.subnets else ("security_groups", "subnets")
        )
        raise ConfigError(
            f"launch.sagemaker.{missing}: {given} is set but {missing} is empty; a job in a"
            " VPC needs both (or set neither to run outside a VPC)"
        )
    channels = [
        {
            "ChannelName": channel,
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": uri,
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
            "InputMode": "File",
        }
        for channel, uri in (
            (CUSTOM_FILES_CHANNEL, layout.custom_files_uri),
            (EXPERIMENT_CHANNEL, layout.experiment_uri),
        )
    ]
    tags = {"deepracer:experiment": experiment.name} | {str(k): str(v) for k, v in sm.tags.items()}
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "RoleArn": sm.role,
        "AlgorithmSpecification": {
            "TrainingImage": sm.image,
            "TrainingInputMode": "File",
            "MetricDefinitions": metric_definitions(),
        },
        "HyperParameters": training_hyperparameters(experiment, layout),
        "InputDataConfig": channels,
        "OutputDataConfig": {"S3OutputPath": layout.output_uri},
        "ResourceConfig": {
            "InstanceType": sm.instance_type,
            "InstanceCount": sm.instance_count,
            "VolumeSizeInGB": sm.volume_gb,
        },
        "StoppingCondition": stopping,
    }
    if sm.spot:
        request["EnableManagedSpotTraining"] = True
    # Always set: the entry point resumes from the local path, spot or not.
    request["CheckpointConfig"] = {
        "S3Uri": layout.checkpoint_uri(name),
        "LocalPath": CHECKPOINT_LOCAL_PATH,
    }
    if sm.subnets:
        request["VpcConfig"] = {
            "Subnets": list(sm.subnets),
            "SecurityGroupIds": list(sm.security_groups),
        }
    request["Environment"] = {"DEEPRACER_EXPERIMENT": EXPERIMENT_FILE}
    request["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    return request


# ------------------------------------------------------------------------ checks


@functools.lru_cache(maxsize=1)
def _input_shape() -> Any:
    """CreateTrainingJob's input shape from botocore's bundled model, or None."""
    try:
        import botocore.session
    except ImportError:
        return None
    model = botocore.session.get_session().get_service_model("sagemaker")
    return model.operation_model("CreateTrainingJob").input_shape


def _member(shape: Any, *path: str) -> Any:
    for name in path:
        if shape is None:
            return None
        shape = shape.members.get(name) if hasattr(shape, "members") else None
    return shape


def _pattern(shape: Any, fallback: str) -> str:
    pattern = getattr(shape, "metadata", {}).get("pattern") if shape is not None else None
    if not isinstance(pattern, str):
        return fallback
    try:
        re.compile(pattern)
    except re.error:  # the models are written for Java regexes (\p{L}, ...)
        return fallback
    return pattern


def _field(path: str) -> str:
    """The experiment field behind a request path like ``ResourceConfig.InstanceCount``."""
    plain = re.sub(r"\[\d+\]", "", path)
    parts = plain.split(".")
    for end in range(len(parts), 0, -1):
        field = _FIELDS.get(".".join(parts[:end]))
        if field:
            return field
    return "launch.sagemaker"


def _botocore_report(request: Mapping[str, Any], shape: Any) -> list[str]:
    """The messages of botocore's own validator, one per line, each with its field."""
    from botocore.validate import ParamValidator

    report = ParamValidator().validate(dict(request), shape)
    if not report.has_errors():
        return []
    lines = []
    for line in report.generate_report().splitlines():
        line = line.strip()
        match = re.search(r'parameter (?:in (?:input: "|([\w.\[\]]+): ")(\w+)|([\w.\[\]]+))', line)
        if match is None:
            lines.append(f"{line} (launch.sagemaker)")
            continue
        parent, child, path = match.groups()
        path = path or ".".join(p for p in (parent, child) if p)
        lines.append(f"{_field(path)}: {line}")
    return lines


def _check_name(request: Mapping[str, Any], shape: Any) -> None:
    name = request.get("TrainingJobName", "")
    pattern = _pattern(_member(shape, "TrainingJobName"), _NAME_PATTERN)
    if not isinstance(name, str) or len(name) > _NAME_MAX or not re.fullmatch(pattern, name):
        raise ConfigError(
            f"launch.sagemaker.job_prefix (or name): training job name {name!r} is not valid;"
            f" SageMaker wants 1-{_NAME_MAX} letters, digits and hyphens, starting and ending"
            " with a letter or digit"
        )


def _check_role(request: Mapping[str, Any], shape: Any) -> None:
    role = request.get("RoleArn", "")
    if not role:
        raise ConfigError(
            "launch.sagemaker.role is not set: give the ARN of the IAM role SageMaker runs"
            f" the job as, e.g. {_ROLE_EXAMPLE} (it needs SageMaker, S3 and CloudWatch Logs"
            " access, and a trust policy for sagemaker.amazonaws.com)"
        )
    pattern = _pattern(_member(shape, "RoleArn"), _ROLE_PATTERN)
    if not isinstance(role, str) or not re.fullmatch(pattern, role):
        raise ConfigError(
            f"launch.sagemaker.role: {role!r} is not an IAM role ARN; expected {_ROLE_EXAMPLE}"
        )


def _check_image(request: Mapping[str, Any]) -> None:
    image = request.get("AlgorithmSpecification", {}).get("TrainingImage", "")
    if not image:
        raise ConfigError(
            "launch.sagemaker.image is not set: build the training image from"
            " docker/Dockerfile, push it to Amazon ECR and set its URI, e.g."
            f" {_IMAGE_EXAMPLE}"
        )
    if len(image) > 255:
        raise ConfigError(f"launch.sagemaker.image: {len(image)} characters; SageMaker allows 255")


def _check_instance_type(request: Mapping[str, Any], shape: Any) -> None:
    instance = request.get("ResourceConfig", {}).get("InstanceType", "")
    enum = getattr(_member(shape, "ResourceConfig", "InstanceType"), "enum", None) or []
    # botocore validates types and minimum lengths, never enums; the service would
    # reject the job only after the request left this machine.
    if enum and instance not in enum:
        raise ConfigError(
            f"launch.sagemaker.instance_type: {instance!r} is not a SageMaker training"
            f" instance type.{suggest(str(instance), enum)}"
        )


def _check_lengths(request: Mapping[str, Any]) -> None:
    """The map and list limits the service enforces and botocore does not."""
    hyperparameters = request.get("HyperParameters", {})
    if len(hyperparameters) > 100:
        raise ConfigError(f"preset: {len(hyperparameters)} hyperparameters; SageMaker allows 100")
    for key, value in hyperparameters.items():
        field = _HYPERPARAMETER_FIELDS.get(key, "preset")
        if len(key) > 256:
            raise ConfigError(
                f"{field}: hyperparameter name {key[:40]!r}... is over 256 characters"
            )
        if not isinstance(value, str):
            raise ConfigError(
                f"{field}: hyperparameter {key!r} is {type(value).__name__}; SageMaker takes"
                " strings only"
            )
        if len(value) > 2500:
            raise ConfigError(
                f"{field}: hyperparameter {key!r} is {len(value)} characters long;"
                " SageMaker allows 2500"
            )
    for key, value in request.get("Environment", {}).items():
        if len(str(value)) > 512:
            raise ConfigError(
                f"launch.sagemaker (Environment): {key} is {len(str(value))} characters;"
                " SageMaker allows 512"
            )
    tags = request.get("Tags", [])
    if len(tags) > 50:
        raise ConfigError(f"launch.sagemaker.tags: {len(tags)} tags; SageMaker allows 50")
    for tag in tags:
        key, value = str(tag.get("Key", "")), str(tag.get("Value", ""))
        if not 1 <= len(key) <= 128 or len(value) > 256 or key.lower().startswith("aws:"):
            raise ConfigError(
                f"launch.sagemaker.tags: {key!r}: {value!r} is not a valid tag (keys 1-128"
                " characters, not starting with 'aws:'; values up to 256)"
            )


def _check_vpc(request: Mapping[str, Any]) -> None:
    vpc = request.get("VpcConfig")
    if vpc is None:
        return
    for key, field, most in (
        ("Subnets", "subnets", 16),
        ("SecurityGroupIds", "security_groups", 5),
    ):
        count = len(vpc.get(key, []))
        if not 1 <= count <= most:
            raise ConfigError(
                f"launch.sagemaker.{field}: {count} given; a job in a VPC takes 1-{most}"
            )


def _check_uris(request: Mapping[str, Any]) -> None:
    uris = [("OutputDataConfig", request.get("OutputDataConfig", {}).get("S3OutputPath"))]
    uris.append(("CheckpointConfig", request.get("CheckpointConfig", {}).get("S3Uri")))
    for channel in request.get("InputDataConfig", []):
        source = channel.get("DataSource", {}).get("S3DataSource", {})
        uris.append((f"channel {channel.get('ChannelName')}", source.get("S3Uri")))
    for where, uri in uris:
        if uri is None:
            continue
        if not re.fullmatch(_S3_PATTERN, uri) or uri.startswith("s3:///") or len(uri) > 1024:
            raise ConfigError(
                f"launch.s3: {where} location {uri!r} is not an s3://BUCKET/PREFIX URI"
                " (at most 1024 characters)"
            )


def _check_stopping(request: Mapping[str, Any]) -> None:
    stopping = request.get("StoppingCondition", {})
    run = stopping.get("MaxRuntimeInSeconds")
    wait = stopping.get("MaxWaitTimeInSeconds")
    if isinstance(run, int) and run > _MAX_RUNTIME_S:
        raise ConfigError(
            f"launch.sagemaker.max_run_minutes: {run / 60:g} minutes; a SageMaker training"
            f" job runs at most 28 days ({_MAX_RUNTIME_S // 60} minutes)"
        )
    if request.get("EnableManagedSpotTraining") and wait is None:
        raise ConfigError("launch.sagemaker.max_wait_minutes: spot training needs a wait time")
    if isinstance(run, int) and isinstance(wait, int) and wait < run:
        raise ConfigError(
            f"launch.sagemaker.max_wait_minutes: {wait / 60:g} is shorter than"
            f" max_run_minutes ({run / 60:g}); set it >= max_run_minutes"
        )


def check_request(request: Mapping[str, Any]) -> None:
    """Validates a ``create_training_job`` request offline.

    First the checks botocore's validator does not do, with the experiment field
    to fix: the job name pattern, the role ARN pattern, a non-empty image, the
    instance type against the model's ``TrainingInstanceType`` enum, the service's
    length and count limits, the S3 URIs and the stopping condition. Then botocore's
    own ``ParamValidator`` (types, required members, minimum lengths) against the
    bundled service model. Without botocore only the model-free checks run.

    Args:
        request: The keyword arguments of ``create_training_job``.

    Raises:
        ConfigError: The request would be rejected; the message names the field.
    """
    shape = _input_shape()
    _check_name(request, shape)
    _check_role(request, shape)
    _check_image(request)
    _check_instance_type(request, shape)
    _check_lengths(request)
    _check_vpc(request)
    _check_uris(request)
    _check_stopping(request)
    if shape is not None:
        problems = _botocore_report(request, shape)
        if problems:
            raise ConfigError(
                "the SageMaker CreateTrainingJob request is invalid:\n  " + "\n  ".join(problems)
            )


# ------------------------------------------------------------------------ clients


def client(service: str, *, region: str | None, endpoint_url: str | None = None) -> Any:
    """Returns a boto3 client with botocore's standard retry mode.

    Args:
        service: ``sagemaker``, ``logs``, ``s3``, ...
        region: The AWS region; None reads AWS_REGION, AWS_DEFAULT_REGION and the
            AWS configuration.
        endpoint_url: A non-AWS endpoint (moto server, MinIO), or None.

    Raises:
        DeepRacerError: boto3 is not installed, no region is configured, the service
            or profile is unknown.
    """
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import NoRegionError, ProfileNotFound, UnknownServiceError
    except ImportError:
        raise DeepRacerError("the AWS commands need boto3: pip install 'deepracer[aws]'") from None
    # botocore reads AWS_DEFAULT_REGION only; AWS_REGION is what most tools set.
    region = region or os.environ.get("AWS_REGION") or None
    config = Config(retries={"mode": "standard", "max_attempts": 5})
    try:
        session = boto3.session.Session()
        return session.client(
            service, region_name=region, endpoint_url=endpoint_url or None, config=config
        )
    except NoRegionError:
        raise DeepRacerError(
            f"no AWS region for {service}: set launch.sagemaker.region or AWS_REGION"
            " (or a region in ~/.aws/config)"
        ) from None
    except ProfileNotFound as exc:
        raise DeepRacerError(f"AWS profile not found: {exc}; check AWS_PROFILE") from None
    except UnknownServiceError:
        raise DeepRacerError(
            f"this botocore has no {service!r} client (the service may be retired)"
        ) from None


_CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
    }
)
_ACCESS_CODES = frozenset({"AccessDenied", "AccessDeniedException"})
_NOT_FOUND_CODES = frozenset(
    {"ValidationException", "ResourceNotFound", "ResourceNotFoundException", "ResourceInUse"}
)


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _error_message(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        message = response.get("Error", {}).get("Message")
        if message:
            return str(message)
    return str(exc)


def _translate(exc: BaseException, operation: str, job: str | None) -> DeepRacerError | None:
    """The DeepRacerError for a botocore exception, or None to let it through."""
    try:
        from botocore import exceptions as bex
    except ImportError:
        return None
    about = f" (training job {job})" if job else ""
    credentials = tuple(
        getattr(bex, name)
        for name in (
            "NoCredentialsError",
            "PartialCredentialsError",
            "CredentialRetrievalError",
            "TokenRetrievalError",
            "SSOTokenLoadError",
            "UnauthorizedSSOTokenError",
        )
        if hasattr(bex, name)
    )
    if isinstance(exc, credentials):
        return DeepRacerError(
            f"no AWS credentials found ({exc}): set AWS_ACCESS_KEY_ID and"
            " AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run `aws configure` /"
            " `aws sso login` (`--dry-run` needs none)"
        )
    if isinstance(exc, bex.NoRegionError):
        return DeepRacerError("no AWS region: set launch.sagemaker.region or AWS_REGION")
    if isinstance(
        exc, bex.EndpointConnectionError | bex.ConnectionClosedError | bex.ReadTimeoutError
    ):
        where = getattr(exc, "kwargs", {}).get("endpoint_url", "the AWS endpoint")
        return DeepRacerError(
            f"{operation}{about}: cannot reach {where} ({exc}); check the network, the"
            " region and launch.endpoint_url"
        )
    if isinstance(exc, bex.ParamValidationError):
        return ConfigError(f"{operation}{about}: {exc}")
    if not isinstance(exc, bex.ClientError):
        return None
    code = _error_code(exc)
    message = _error_message(exc)
    operation = getattr(exc, "operation_name", None) or operation
    if code in _CREDENTIAL_CODES:
        return DeepRacerError(
            f"{operation}: AWS rejected the credentials ({code}: {message}); refresh them"
            " (new session token, `aws sso login`) or check AWS_PROFILE"
        )
    if code in _NOT_FOUND_CODES:
        return DeepRacerError(f"{operation}{about}: {message}")
    if code == "ResourceLimitExceeded":
        return DeepRacerError(
            f"{operation}{about}: {message}. The account's SageMaker quota is used up: stop"
            " a running job, choose another launch.sagemaker.instance_type, or request a"
            " higher 'training job usage' quota in Service Quotas"
        )
    if code in _ACCESS_CODES:
        return DeepRacerError(
            f"{operation}{about}: access denied ({message}); the AWS identity needs"
            f" permission for {operation} (creating a job also needs iam:PassRole on"
            " launch.sagemaker.role)"
        )
    return DeepRacerError(f"{operation}{about} failed ({code}): {message}")


@contextlib.contextmanager
def aws_errors(operation: str = "AWS call", job: str | None = None) -> Iterator[None]:
    """Turns botocore's credential, connection and service errors into DeepRacerError.

    Args:
        operation: Names the call in messages (a ClientError names its own).
        job: The training job concerned, for the message.
    """
    try:
        yield
    except DeepRacerError:
        raise
    except Exception as exc:
        translated = _translate(exc, operation, job)
        if translated is None:
            raise
        raise translated from exc


def call(fn: Callable[..., T], /, **kwargs: Any) -> T:
    """Calls a boto3 client method, translating AWS errors (see :func:`aws_errors`).

    Example:
        ``call(sm.describe_training_job, TrainingJobName=name)``.

    Raises:
        DeepRacerError: No credentials, an unreachable endpoint, or the service
            refused the call; the message has the service's words and the job name.
    """
    with aws_errors(getattr(fn, "__name__", "AWS call"), kwargs.get("TrainingJobName")):
        return fn(**kwargs)


# ------------------------------------------------------------------------ jobs


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
            if _error_code(exc) != "ValidationException":
                raise
            # AWS: "The request was rejected because the training job is in status X."
            found = re.search(r"\b(Completed|Failed|Stopped|Stopping)\b", _error_message(exc))
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


# ------------------------------------------------------------------------ logs


def _log_streams(logs: Any, name: str) -> list[str]:
    """The job's log streams; [] while neither they nor the log group exist."""
    streams: list[str] = []
    kwargs: dict[str, Any] = {"logGroupName": LOG_GROUP, "logStreamNamePrefix": f"{name}/"}
    with aws_errors("describe_log_streams", name):
        while True:
            try:
                page = logs.describe_log_streams(**kwargs)
            except Exception as exc:
                if _error_code(exc) == "ResourceNotFoundException":
                    return []  # no job has logged in this region yet
                raise
            streams.extend(s["logStreamName"] for s in page.get("logStreams", []))
            token = page.get("nextToken")
            if not token or token == kwargs.get("nextToken"):
                return streams
            kwargs["nextToken"] = token


def _drain(
    logs: Any,
    stream: str,
    tokens: dict[str, str | None],
    echo: Callable[[str], None],
    prefix: str,
) -> int:
    """Echoes a stream's events after its saved token; returns how many."""
    count = 0
    token = tokens.get(stream)
    while True:
        kwargs: dict[str, Any] = {
            "logGroupName": LOG_GROUP,
            "logStreamName": stream,
            "startFromHead": True,
        }
        if token:
            kwargs["nextToken"] = token
        page = call(logs.get_log_events, **kwargs)
        for event in page.get("events", []):
            echo(prefix + str(event.get("message", "")).rstrip("\n"))
            count += 1
        new = page.get("nextForwardToken")
        # CloudWatch returns the token it was given once the stream is exhausted.
        done = not new or new == token
        token = new or token
        if done:
            break
    tokens[stream] = token
    return count


def job_logs(
    logs: Any,
    name: str,
    *,
    follow: bool = False,
    sm: Any = None,
    echo: Callable[[str], None] = print,
    poll_seconds: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Echoes a training job's CloudWatch log lines.

    The lines come from the ``/aws/sagemaker/TrainingJobs`` streams named
    ``<name>/...`` (one per instance; with several, each line is prefixed with its
    host). A job that has not logged yet gets a one-line note, not an error.

    Args:
        logs: A boto3 CloudWatch Logs client.
        name: The training job name.
        follow: Keep polling until the job has ended, then drain once more.
        sm: A boto3 SageMaker client; needed with ``follow``.
        echo: Receives each line.
        poll_seconds: Pause between polls when following.
        sleep: The pause function (tests pass a fake).

    Returns:
        The number of log lines echoed (the note not counted).

    Raises:
        ValueError: ``follow`` without ``sm``.
        DeepRacerError: An AWS error.
    """
    if follow and sm is None:
        raise ValueError("job_logs(follow=True) needs the SageMaker client sm")
    tokens: dict[str, str | None] = {}
    lines = 0
    noted = False
    while True:
        # The status is read before draining, so the drain after "ended" is the last.
        ended = follow and describe_job(sm, name).finished
        for stream in _log_streams(logs, name):
            tokens.setdefault(stream, None)
        if not tokens and not noted:
            echo(f"no logs yet for {name}: the job is starting")
            noted = True
        for stream in sorted(tokens):
            host = stream.split("/", 1)[-1]
            prefix = f"[{host}] " if len(tokens) > 1 else ""
            lines += _drain(logs, stream, tokens, echo, prefix)
        if not follow or ended:
            return lines
        sleep(poll_seconds)


# ------------------------------------------------------------------------ ModelTrainer


def _sdk_configs() -> Any:
    """The SDK's config classes module (sagemaker.core.training.configs in later 3.x)."""
    try:
        # Later 3.x releases moved the classes here and left a deprecated shim behind.
        from sagemaker.core.training import configs
    except ImportError:
        from sagemaker.train import configs
    return configs


def model_trainer_launch(experiment: ExperimentConfig, layout: ArtifactLayout, *, name: str) -> str:
    """Starts the job through the SageMaker Python SDK 3.x ``ModelTrainer``.

    The trainer is built from :func:`training_job_request` (checked first), so it
    carries the same image, role, hyperparameters, channels, output, checkpoint,
    compute, network, stopping condition, environment, tags and metric definitions.
    The SDK names the job itself (``base_job_name`` plus its own time stamp), so the
    returned name differs from ``name``; the checkpoint location keeps ``name``.
    Under moto set ``SAGEMAKER_VALIDATE_ROLE=false`` (the SDK simulates the role's
    IAM policy, which moto lacks).

    Args:
        experiment: The experiment.
        layout: Where the experiment was uploaded.
        name: The job name :func:`job_name` gave (its prefix becomes base_job_name).

    Returns:
        The name of the created training job.

    Raises:
        DeepRacerError: The SDK is not installed, the request is invalid, or AWS
            refused the job.
    """
    request = training_job_request(experiment, layout, name=name)
    check_request(request)
    try:
        from sagemaker.train import ModelTrainer

        configs = _sdk_configs()
        session = _sdk_session(experiment.launch.sagemaker.region)
    except ImportError:
        raise DeepRacerError(
            "launch.sagemaker.sdk: modeltrainer needs the SageMaker Python SDK 3.x:"
            " pip install 'deepracer[sagemaker]'; or use launch.sagemaker.sdk: boto3"
        ) from None

    spec = request["AlgorithmSpecification"]
    resources = request["ResourceConfig"]
    stopping = request["StoppingCondition"]
    compute: dict[str, Any] = {
        "instance_type": resources["InstanceType"],
        "instance_count": resources["InstanceCount"],
        "volume_size_in_gb": resources["VolumeSizeInGB"],
    }
    if request.get("EnableManagedSpotTraining"):
        compute["enable_managed_spot_training"] = True
    stop: dict[str, Any] = {"max_runtime_in_seconds": stopping["MaxRuntimeInSeconds"]}
    if "MaxWaitTimeInSeconds" in stopping:
        stop["max_wait_time_in_seconds"] = stopping["MaxWaitTimeInSeconds"]
    kwargs: dict[str, Any] = {
        "role": request["RoleArn"],
        "training_image": spec["TrainingImage"],
        "training_input_mode": spec["TrainingInputMode"],
        "base_job_name": name[: -(_STAMP_LEN + 1)] if _has_stamp(name) else name,
        "hyperparameters": dict(request["HyperParameters"]),
        "environment": dict(request["Environment"]),
        "compute": configs.Compute(**compute),
        "stopping_condition": configs.StoppingCondition(**stop),
        "output_data_config": configs.OutputDataConfig(
            s3_output_path=request["OutputDataConfig"]["S3OutputPath"]
        ),
        "checkpoint_config": configs.CheckpointConfig(
            s3_uri=request["CheckpointConfig"]["S3Uri"],
            local_path=request["CheckpointConfig"]["LocalPath"],
        ),
        "tags": [configs.Tag(key=t["Key"], value=t["Value"]) for t in request["Tags"]],
    }
    if "VpcConfig" in request:
        kwargs["networking"] = configs.Networking(
            subnets=request["VpcConfig"]["Subnets"],
            security_group_ids=request["VpcConfig"]["SecurityGroupIds"],
        )
    if session is not None:
        kwargs["sagemaker_session"] = session
    # An S3 URI string becomes an S3Prefix, FullyReplicated, File channel in the SDK:
    # the same channels as the boto3 request.
    inputs = [
        configs.InputData(
            channel_name=c["ChannelName"], data_source=c["DataSource"]["S3DataSource"]["S3Uri"]
        )
        for c in request["InputDataConfig"]
    ]
    with aws_errors("ModelTrainer.train", name):
        trainer = ModelTrainer(**kwargs)
        with_metrics = getattr(trainer, "with_metric_definitions", None)
        if with_metrics is not None and hasattr(configs, "MetricDefinition"):
            definitions = [
                configs.MetricDefinition(name=m["Name"], regex=m["Regex"])
                for m in spec["MetricDefinitions"]
            ]
            trainer = with_metrics(definitions) or trainer
        trainer.train(input_data_config=inputs, wait=False, logs=False)
    job = getattr(trainer, "_latest_training_job", None)
    return str(getattr(job, "training_job_name", None) or kwargs["base_job_name"])


def _has_stamp(name: str) -> bool:
    return re.search(r"-\d{8}-\d{6}$", name) is not None and len(name) > _STAMP_LEN + 1


def _sdk_session(region: str | None) -> Any:
    """An SDK Session in ``region`` (or AWS_REGION), or None for the SDK's default."""
    region = region or os.environ.get("AWS_REGION") or None
    if not region:
        return None
    import boto3
    from sagemaker.core.helper.session_helper import Session

    return Session(boto_session=boto3.session.Session(region_name=region))
