"""Offline checks of a ``create_training_job`` request, each naming the field to fix.

The request is checked against botocore's service model when botocore is installed
(types, required members, minimum lengths, the instance type enum) and against the
service's own rules that the model does not carry (name and ARN patterns, lengths
and counts, S3 URIs, the stopping condition), so ``--dry-run`` needs neither
credentials nor a network.

Contents:
    check_request: the checks; a ConfigError names the experiment field.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from deepracer.cloud.sagemaker.request import JOB_NAME_MAX, JOB_NAME_PATTERN
from deepracer.errors import ConfigError, suggest

__all__ = ["check_request"]

_ROLE_PATTERN = r"arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
_S3_PATTERN = r"(https|s3)://([^/]+)/?(.*)"
_ROLE_EXAMPLE = "arn:aws:iam::123456789012:role/NAME"
_IMAGE_EXAMPLE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/deepracer:latest"
_MAX_RUNTIME_S = 28 * 24 * 3600  # SageMaker's limit for a training job

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
    pattern = _pattern(_member(shape, "TrainingJobName"), JOB_NAME_PATTERN)
    if not isinstance(name, str) or len(name) > JOB_NAME_MAX or not re.fullmatch(pattern, name):
        raise ConfigError(
            f"launch.sagemaker.job_prefix (or name): training job name {name!r} is not valid;"
            f" SageMaker wants 1-{JOB_NAME_MAX} letters, digits and hyphens, starting and ending"
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
