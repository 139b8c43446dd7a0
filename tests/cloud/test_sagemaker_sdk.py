"""``launch.sagemaker.sdk: modeltrainer`` through the real SageMaker Python SDK 3.x.

These tests need the SDK (about 1 GB with its dependencies), which the development
venv does not carry: they are marked ``sdk``, left out of the default run, and run by
``.ci/sagemaker-sdk`` in a venv of their own. They record the ``CreateTrainingJob``
request the SDK sends to (moto's) SageMaker and hold it to the request the boto3 path
sends, so a change on either side that makes the two launch paths start different
jobs fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from deepracer.cloud.layout import ArtifactLayout
from deepracer.cloud.sagemaker import model_trainer_launch, training_job_request
from deepracer.experiment import load_experiment

from .conftest import guarded_mock_aws

pytestmark = pytest.mark.sdk

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/deepracer:latest"
LAYOUT = ArtifactLayout("bucket", "runs/quick")
NAME = "quickstart-20260504-123005"


@pytest.fixture
def sent(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, Any]]]:
    """Every (operation, parameters) any botocore client sends, under moto."""
    import boto3
    import botocore.client

    # moto has no IAM policy simulation: the SDK would refuse the role it cannot check.
    monkeypatch.setenv("SAGEMAKER_VALIDATE_ROLE", "false")
    calls: list[tuple[str, Any]] = []
    make_call = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation: str, params: dict[str, Any]) -> Any:
        calls.append((operation, params))
        return make_call(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    with guarded_mock_aws():
        boto3.client("s3").create_bucket(Bucket="bucket")
        yield calls


def _launch(calls: list[tuple[str, Any]], *overrides: str) -> tuple[str, dict[str, Any], Any]:
    exp = load_experiment(
        "quickstart",
        [
            f"launch.sagemaker.role={ROLE}",
            f"launch.sagemaker.image={IMAGE}",
            "launch.s3=s3://bucket/runs/quick",
            "launch.sagemaker.sdk=modeltrainer",
            *overrides,
        ],
    )
    launched = model_trainer_launch(exp, LAYOUT, name=NAME)
    (request,) = [params for operation, params in calls if operation == "CreateTrainingJob"]
    return launched, request, exp


def test_the_sdk_sends_the_boto3_paths_request(sent: list[tuple[str, Any]]) -> None:
    launched, request, exp = _launch(
        sent,
        "launch.sagemaker.spot=true",
        "launch.sagemaker.subnets=[subnet-1]",
        "launch.sagemaker.security_groups=[sg-1]",
    )
    boto3_path = training_job_request(exp, LAYOUT, name=NAME)

    # The SDK names the job from base_job_name and its own 14-digit time stamp.
    assert re.fullmatch(r"quickstart-\d{14}", request["TrainingJobName"])
    assert launched == request["TrainingJobName"]
    # It states the output compression, which CreateTrainingJob defaults to GZIP.
    assert request["OutputDataConfig"].pop("CompressionType") == "GZIP"
    assert {k: v for k, v in request.items() if k != "TrainingJobName"} == {
        k: v for k, v in boto3_path.items() if k != "TrainingJobName"
    }
    # Spelled out, so that a change in training_job_request alone cannot pass here.
    assert request["RoleArn"] == ROLE
    assert request["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    assert request["EnableManagedSpotTraining"] is True
    assert request["VpcConfig"] == {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]}
    assert request["CheckpointConfig"] == {
        "S3Uri": f"s3://bucket/runs/quick/checkpoints/{NAME}",
        "LocalPath": "/opt/ml/checkpoints",
    }
    assert request["OutputDataConfig"] == {"S3OutputPath": "s3://bucket/runs/quick/output"}
    assert {
        c["ChannelName"]: c["DataSource"]["S3DataSource"] for c in request["InputDataConfig"]
    } == {
        name: {
            "S3DataType": "S3Prefix",
            "S3Uri": f"s3://bucket/runs/quick/{folder}/",
            "S3DataDistributionType": "FullyReplicated",
        }
        for name, folder in (("custom_files", "custom_files"), ("experiment", "deepracer"))
    }
    assert request["HyperParameters"]["reward_function_s3_source"] == (
        "runs/quick/custom_files/reward_function.py"
    )
    assert request["Tags"] == [{"Key": "deepracer:experiment", "Value": "quickstart"}]
    assert [m["Name"] for m in request["AlgorithmSpecification"]["MetricDefinitions"]] == [
        "progress",
        "eval_progress",
        "mean_lap_time",
        "steps_per_second",
        "timesteps",
    ]


def test_without_spot_or_network_the_sdk_adds_neither(sent: list[tuple[str, Any]]) -> None:
    _, request, exp = _launch(sent)
    boto3_path = training_job_request(exp, LAYOUT, name=NAME)

    assert "VpcConfig" not in request
    assert request.get("EnableManagedSpotTraining", False) is False
    assert "MaxWaitTimeInSeconds" not in request["StoppingCondition"]
    request["OutputDataConfig"].pop("CompressionType")
    assert {k: v for k, v in request.items() if k not in ("TrainingJobName",)} == {
        k: v
        for k, v in boto3_path.items()
        if k != "TrainingJobName" and not (k == "EnableManagedSpotTraining" and v is False)
    }
