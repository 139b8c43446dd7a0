"""A SageMaker training job's request, built offline from an experiment.

One training job runs the image built from ``docker/Dockerfile``: its entry point
reads the hyperparameter ``experiment`` (the experiment file inside the
``experiment`` channel), trains it with one simulation worker per world (the
DeepRacer on AWS pattern: simulation and learner in the same job) and resumes from
``/opt/ml/checkpoints``, which SageMaker syncs with the job's S3 checkpoint
location. Nothing here talks to AWS.

Contents:
    CHECKPOINT_LOCAL_PATH, METRIC_PREFIX, METRIC_NAMES: fixed names.
    JOB_NAME_MAX, JOB_NAME_PATTERN: SageMaker's rules for a job name.
    job_name: ``<job_prefix or experiment name>-<UTC time>``, a valid job name.
    job_base_name: a job name without its time stamp.
    training_hyperparameters: the job's HyperParameters (all strings).
    metric_definitions, format_metric_line: the metric line the entry point prints
        and the regexes SageMaker reads it with.
    training_job_request: the exact ``create_training_job`` keyword arguments.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from deepracer.cloud.layout import (
    CUSTOM_FILES_CHANNEL,
    EXPERIMENT_CHANNEL,
    EXPERIMENT_FILE,
    ArtifactLayout,
)
from deepracer.errors import ConfigError
from deepracer.experiment import ExperimentConfig

__all__ = [
    "CHECKPOINT_LOCAL_PATH",
    "JOB_NAME_MAX",
    "JOB_NAME_PATTERN",
    "METRIC_NAMES",
    "METRIC_PREFIX",
    "format_metric_line",
    "job_base_name",
    "job_name",
    "metric_definitions",
    "training_hyperparameters",
    "training_job_request",
]

CHECKPOINT_LOCAL_PATH = "/opt/ml/checkpoints"
"""Where the container reads and writes checkpoints; SageMaker syncs it with S3."""
METRIC_PREFIX = "deepracer-metric"
"""First word of the machine-readable metric lines the entry point prints."""
METRIC_NAMES = ("progress", "eval_progress", "mean_lap_time", "steps_per_second", "timesteps")
"""Metrics SageMaker extracts from those lines (see :func:`format_metric_line`)."""
JOB_NAME_MAX = 63
"""SageMaker's longest training job name."""
JOB_NAME_PATTERN = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
"""SageMaker's pattern of a training job name (letters, digits, inner hyphens)."""

_STAMP = "%Y%m%d-%H%M%S"
_STAMP_LEN = 15
_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"


# ------------------------------------------------------------------------ names


def _sanitize(text: str) -> str:
    """``text`` with runs of anything but letters and digits as one hyphen, trimmed."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


def _job_base(experiment: ExperimentConfig) -> str:
    """The sanitised name part of the experiment's job names (before the time)."""
    base = _sanitize(experiment.launch.sagemaker.job_prefix or experiment.name)
    # Keep the time stamp whole (it makes names unique per second); cut the prefix.
    base = base[: JOB_NAME_MAX - _STAMP_LEN - 1].rstrip("-")
    return base or "deepracer"


def job_name(experiment: ExperimentConfig, now: datetime | None = None) -> str:
    """Returns a new training job name: ``<job_prefix or name>-<UTC %Y%m%d-%H%M%S>``.

    Underscores, dots and other characters SageMaker rejects become hyphens; the
    prefix is cut so the name fits SageMaker's 63 characters with the stamp intact.

    Args:
        experiment: The experiment.
        now: The launch time (default: now); a naive datetime is taken as UTC.

    Example:
        >>> from deepracer.experiment import ExperimentConfig
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


def job_base_name(name: str) -> str:
    """A job name without the time stamp :func:`job_name` put at its end.

    Example:
        >>> job_base_name("my-exp-v2-20260504-123005"), job_base_name("plain")
        ('my-exp-v2', 'plain')
    """
    if len(name) > _STAMP_LEN + 1 and re.search(r"-\d{8}-\d{6}$", name):
        return name[: -(_STAMP_LEN + 1)]
    return name


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
    from deepracer.models.presets import load_preset, to_deepracer_hyperparameters

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
