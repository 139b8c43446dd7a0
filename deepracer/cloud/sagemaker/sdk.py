"""A training job through the SageMaker Python SDK 3.x (``launch.sagemaker.sdk: modeltrainer``).

The SDK is optional (the ``sagemaker`` extra) and imported inside the functions.

Contents:
    model_trainer_launch: start the job with ``ModelTrainer``.
"""

from __future__ import annotations

import os
from typing import Any

from deepracer.cloud.layout import ArtifactLayout
from deepracer.cloud.sagemaker.checks import check_request
from deepracer.cloud.sagemaker.jobs import aws_errors
from deepracer.cloud.sagemaker.request import job_base_name, training_job_request
from deepracer.errors import DeepRacerError
from deepracer.experiment import ExperimentConfig

__all__ = ["model_trainer_launch"]


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
        "base_job_name": job_base_name(name),
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


def _sdk_session(region: str | None) -> Any:
    """An SDK Session in ``region`` (or AWS_REGION), or None for the SDK's default."""
    region = region or os.environ.get("AWS_REGION") or None
    if not region:
        return None
    import boto3
    from sagemaker.core.helper.session_helper import Session

    return Session(boto_session=boto3.session.Session(region_name=region))
