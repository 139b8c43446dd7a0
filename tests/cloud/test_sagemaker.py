"""deepracer.cloud.sagemaker: the training job request, offline checks, moto and Stubber."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import types
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar

import pytest

from deepracer.cloud.layout import EXPERIMENT_FILE, ArtifactLayout
from deepracer.cloud.sagemaker import (
    CHECKPOINT_LOCAL_PATH,
    LOG_GROUP,
    METRIC_NAMES,
    JobStatus,
    call,
    check_request,
    checks,
    client,
    create_training_job,
    describe_job,
    format_metric_line,
    job_logs,
    job_name,
    list_jobs,
    metric_definitions,
    model_trainer_launch,
    sdk,
    stop_job,
    training_hyperparameters,
    training_job_request,
)
from deepracer.errors import ConfigError, DeepRacerError
from deepracer.experiment import ExperimentConfig, load_experiment

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/deepracer:latest"
BASE = (
    f"launch.sagemaker.role={ROLE}",
    f"launch.sagemaker.image={IMAGE}",
    "launch.s3=s3://bucket/runs/quick",
)
LAYOUT = ArtifactLayout("bucket", "runs/quick")
NOW = datetime(2026, 5, 4, 12, 30, 5, tzinfo=UTC)
NAME = "quickstart-20260504-123005"
NAME_PATTERN = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"


def experiment(*overrides: str) -> ExperimentConfig:
    return load_experiment("quickstart", [*BASE, *overrides])


def request(*overrides: str) -> dict[str, Any]:
    exp = experiment(*overrides)
    return training_job_request(exp, LAYOUT, name=job_name(exp, NOW))


@pytest.fixture(scope="module")
def base_request() -> dict[str, Any]:
    return request()


def with_changes(req: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep-enough copy of ``req`` with ``A.B`` set to ``value``."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in req.items()}
    *parents, last = path.split(".")
    node = out
    for key in parents:
        node = node[key]
    node[last] = value
    return out


# ------------------------------------------------------------------------ names


def test_job_name_format_is_unique_per_second() -> None:
    exp = experiment()
    assert job_name(exp, NOW) == NAME
    assert job_name(exp, NOW + timedelta(seconds=1)) == "quickstart-20260504-123006"
    # A naive time is UTC; an aware one is converted to UTC.
    assert job_name(exp, NOW.replace(tzinfo=None)) == NAME
    assert job_name(exp, NOW.astimezone(timezone(timedelta(hours=2)))) == NAME
    assert re.fullmatch(r"quickstart-\d{8}-\d{6}", job_name(exp))


def test_job_name_sanitises_and_truncates_a_long_name() -> None:
    exp = experiment("name=" + "my_very.long experiment_name " * 5)
    name = job_name(exp, NOW)
    assert len(name) <= 63
    assert name.endswith("-20260504-123005")
    assert re.fullmatch(NAME_PATTERN, name)
    assert name.startswith("my-very-long-experiment-name-my")
    assert "_" not in name and "." not in name and "--" not in name


def test_job_prefix_wins_over_the_name() -> None:
    exp = experiment("launch.sagemaker.job_prefix=dr_sb3.")
    assert job_name(exp, NOW) == "dr-sb3-20260504-123005"
    assert job_name(experiment("name=___"), NOW) == "deepracer-20260504-123005"


# ------------------------------------------------------------------------ request


def test_hyperparameters_are_strings_with_the_deepracer_keys() -> None:
    values = training_hyperparameters(experiment(), LAYOUT)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in values.items())
    assert values["experiment"] == EXPERIMENT_FILE
    assert values["s3_bucket"] == "bucket"
    assert values["s3_prefix"] == "runs/quick"
    assert values["model_metadata_s3_key"] == "runs/quick/custom_files/model_metadata.json"
    assert values["reward_function_s3_source"] == "runs/quick/custom_files/reward_function.py"
    assert values["world_name"] == "oval"
    assert values["worlds"] == "oval"
    # The preset in DeepRacer's terms, numbers as str(value).
    for key in ("batch_size", "lr", "discount_factor", "num_epochs", "beta_entropy"):
        assert key in values
    float(values["lr"])
    int(values["batch_size"])


def test_request_has_the_channels_and_locations_of_the_layout(
    base_request: dict[str, Any],
) -> None:
    req = base_request
    assert req["TrainingJobName"] == NAME
    assert req["RoleArn"] == ROLE
    spec = req["AlgorithmSpecification"]
    assert spec["TrainingImage"] == IMAGE
    assert spec["TrainingInputMode"] == "File"
    assert {m["Name"] for m in spec["MetricDefinitions"]} >= {
        "progress",
        "mean_lap_time",
        "steps_per_second",
    }
    assert all(isinstance(v, str) for v in req["HyperParameters"].values())
    channels = {c["ChannelName"]: c for c in req["InputDataConfig"]}
    assert set(channels) == {"custom_files", "experiment"}
    for channel, uri in (
        ("custom_files", LAYOUT.custom_files_uri),
        ("experiment", LAYOUT.experiment_uri),
    ):
        source = channels[channel]["DataSource"]["S3DataSource"]
        assert source == {
            "S3DataType": "S3Prefix",
            "S3Uri": uri,
            "S3DataDistributionType": "FullyReplicated",
        }
    assert req["OutputDataConfig"] == {"S3OutputPath": "s3://bucket/runs/quick/output"}
    assert req["CheckpointConfig"] == {
        "S3Uri": f"s3://bucket/runs/quick/checkpoints/{NAME}",
        "LocalPath": CHECKPOINT_LOCAL_PATH,
    }
    assert req["ResourceConfig"] == {
        "InstanceType": "ml.c5.2xlarge",
        "InstanceCount": 1,
        "VolumeSizeInGB": 30,
    }
    assert req["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    assert "EnableManagedSpotTraining" not in req
    assert "VpcConfig" not in req
    assert req["Environment"] == {"DEEPRACER_EXPERIMENT": EXPERIMENT_FILE}
    assert {"Key": "deepracer:experiment", "Value": "quickstart"} in req["Tags"]
    check_request(req)


def test_tags_include_the_configured_ones() -> None:
    req = request("launch.sagemaker.tags={team: racing, cost-center: '42'}")
    tags = {t["Key"]: t["Value"] for t in req["Tags"]}
    assert tags == {"deepracer:experiment": "quickstart", "team": "racing", "cost-center": "42"}
    check_request(req)


def test_spot_adds_a_wait_time_of_at_least_the_run_time() -> None:
    req = request("launch.sagemaker.spot=true", "launch.sagemaker.max_run_minutes=30")
    assert req["EnableManagedSpotTraining"] is True
    stopping = req["StoppingCondition"]
    assert stopping == {"MaxRuntimeInSeconds": 1800, "MaxWaitTimeInSeconds": 3600}
    check_request(req)
    req = request("launch.sagemaker.spot=true", "launch.sagemaker.max_wait_minutes=90")
    assert req["StoppingCondition"]["MaxWaitTimeInSeconds"] == 5400
    with pytest.raises(ConfigError, match=r"launch\.sagemaker\.max_wait_minutes"):
        request("launch.sagemaker.spot=true", "launch.sagemaker.max_wait_minutes=10")
    # Without spot a wait time is not sent.
    req = request("launch.sagemaker.max_wait_minutes=90")
    assert "MaxWaitTimeInSeconds" not in req["StoppingCondition"]


def test_vpc_needs_both_subnets_and_security_groups() -> None:
    req = request(
        "launch.sagemaker.subnets=[subnet-1, subnet-2]", "launch.sagemaker.security_groups=[sg-1]"
    )
    assert req["VpcConfig"] == {"Subnets": ["subnet-1", "subnet-2"], "SecurityGroupIds": ["sg-1"]}
    check_request(req)
    with pytest.raises(ConfigError, match=r"launch\.sagemaker\.security_groups.*both"):
        request("launch.sagemaker.subnets=[subnet-1]")
    with pytest.raises(ConfigError, match=r"launch\.sagemaker\.subnets.*both"):
        request("launch.sagemaker.security_groups=[sg-1]")


# ------------------------------------------------------------------------ checks


def test_bad_instance_type_gets_a_suggestion() -> None:
    req = request("launch.sagemaker.instance_type=ml.c5.xlarg")
    with pytest.raises(ConfigError) as info:
        check_request(req)
    assert str(info.value) == (
        "launch.sagemaker.instance_type: 'ml.c5.xlarg' is not a SageMaker training instance"
        " type. Did you mean 'ml.c5.xlarge'?"
    )


@pytest.mark.parametrize("role", ["SageMakerRole", "arn:aws:iam::12345:role/X", "arn:aws:s3:::b"])
def test_bad_role_names_the_field_and_the_form(role: str, base_request: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as info:
        check_request(with_changes(base_request, "RoleArn", role))
    message = str(info.value)
    assert "launch.sagemaker.role" in message
    assert "arn:aws:iam::123456789012:role/NAME" in message


def test_missing_role_and_image_explain_what_to_set() -> None:
    with pytest.raises(ConfigError, match=r"launch\.sagemaker\.role is not set.*role/NAME"):
        check_request(request("launch.sagemaker.role=''"))
    with pytest.raises(ConfigError) as info:
        check_request(request("launch.sagemaker.image=''"))
    message = str(info.value)
    assert "launch.sagemaker.image" in message
    assert "docker/Dockerfile" in message and "ECR" in message


def test_bad_job_name_and_long_hyperparameter(base_request: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=r"launch\.sagemaker\.job_prefix"):
        check_request(with_changes(base_request, "TrainingJobName", "bad_name"))
    with pytest.raises(ConfigError, match=r"launch\.sagemaker\.job_prefix"):
        check_request(with_changes(base_request, "TrainingJobName", "a" * 64))
    with pytest.raises(ConfigError, match=r"worlds: hyperparameter 'worlds' is 3000"):
        check_request(with_changes(base_request, "HyperParameters.worlds", "w" * 3000))
    with pytest.raises(ConfigError, match=r"preset: hyperparameter 'lr' is float"):
        check_request(with_changes(base_request, "HyperParameters.lr", 0.1))


def test_botocore_validator_errors_name_the_field(base_request: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as info:
        check_request(with_changes(base_request, "ResourceConfig.InstanceCount", "1"))
    message = str(info.value)
    assert "launch.sagemaker.instance_count" in message
    assert "ResourceConfig.InstanceCount" in message
    with pytest.raises(ConfigError, match=r"launch\.sagemaker\.volume_gb"):
        check_request(with_changes(base_request, "ResourceConfig.VolumeSizeInGB", 0.5))


def test_bad_s3_location_names_launch_s3(base_request: dict[str, Any]) -> None:
    bad = with_changes(base_request, "OutputDataConfig.S3OutputPath", "bucket/output")
    with pytest.raises(ConfigError, match=r"launch\.s3"):
        check_request(bad)


def test_checks_without_botocore_keep_the_model_free_rules(
    monkeypatch: pytest.MonkeyPatch, base_request: dict[str, Any]
) -> None:
    monkeypatch.setattr(checks, "_input_shape", lambda: None)
    check_request(base_request)
    # No enum to check against, but the built-in patterns still apply.
    check_request(with_changes(base_request, "ResourceConfig.InstanceType", "ml.c5.xlarg"))
    with pytest.raises(ConfigError, match=r"launch\.sagemaker\.role"):
        check_request(with_changes(base_request, "RoleArn", "SageMakerRole"))
    with pytest.raises(ConfigError, match=r"launch\.sagemaker\.job_prefix"):
        check_request(with_changes(base_request, "TrainingJobName", "-bad"))


# ------------------------------------------------------------------------ metrics


def test_metric_line_is_read_by_the_metric_regexes() -> None:
    line = format_metric_line(
        {
            "timesteps": 12000,
            "eval_progress": 100.0,
            "progress": 63.5,
            "mean_lap_time": 21.734567,
            "steps_per_second": 812.4,
        }
    )
    assert line == (
        "deepracer-metric timesteps=12000 eval_progress=100 progress=63.5"
        " mean_lap_time=21.7346 steps_per_second=812.4"
    )
    found = {}
    for definition in metric_definitions():
        match = re.search(definition["Regex"], f"2026-05-04 12:30:05 {line}")
        assert match is not None, definition
        found[definition["Name"]] = float(match.group(1))
    assert found == {
        "progress": 63.5,
        "eval_progress": 100.0,
        "mean_lap_time": 21.7346,
        "steps_per_second": 812.4,
        "timesteps": 12000.0,
    }
    assert set(found) == set(METRIC_NAMES)
    # Missing and non-finite values are left out; other lines do not match.
    short = format_metric_line(
        {"progress": 5, "mean_lap_time": None, "eval_progress": float("nan")}
    )
    assert short == "deepracer-metric progress=5"
    progress, eval_progress = (
        next(d["Regex"] for d in metric_definitions() if d["Name"] == n)
        for n in ("progress", "eval_progress")
    )
    assert re.search(eval_progress, short) is None
    assert re.search(progress, "steps 1,000/30,000 (3%) | progress 40%") is None
    with pytest.raises(ValueError, match="metric name"):
        format_metric_line({"Bad Name": 1.0})


# ------------------------------------------------------------------------ moto


def test_create_describe_list_under_moto(mock_aws: None, base_request: dict[str, Any]) -> None:
    sm = client("sagemaker", region=REGION)
    arn = create_training_job(sm, base_request)
    assert arn.endswith(f"training-job/{NAME}")
    status = describe_job(sm, NAME)
    assert status.name == NAME
    assert status.status == "Completed"  # moto finishes jobs at once
    assert status.finished
    assert status.model_artifacts == LAYOUT.model_artifact_uri(NAME)
    assert status.created is not None
    jobs = list_jobs(sm, name_contains="quickstart")
    assert [j.name for j in jobs] == [NAME]
    assert list_jobs(sm, name_contains="nothing-like-it") == []
    described = list_jobs(sm, describe=True)
    assert described[0].model_artifacts == status.model_artifacts
    with pytest.raises(DeepRacerError, match="no-such-job"):
        describe_job(sm, "no-such-job")


def test_list_jobs_is_newest_first(mock_aws: None, base_request: dict[str, Any]) -> None:
    sm = client("sagemaker", region=REGION)
    names = [f"quickstart-2026050{i}-000000" for i in range(1, 4)]
    for name in names:
        req = dict(base_request, TrainingJobName=name)
        req["CheckpointConfig"] = {
            "S3Uri": LAYOUT.checkpoint_uri(name),
            "LocalPath": "/opt/ml/checkpoints",
        }
        create_training_job(sm, req)
    jobs = list_jobs(sm, max_results=2)
    assert len(jobs) == 2
    assert all(isinstance(j, JobStatus) for j in jobs)
    created = [j.created for j in jobs]
    assert created == sorted(created, reverse=True)  # type: ignore[type-var]


def _put_logs(logs: Any, stream: str, lines: list[str], *, create: bool = True) -> None:
    if create:
        logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
    # Recent timestamps: CloudWatch (and moto) drop events older than 14 days.
    now = int(time.time() * 1000)
    response = logs.put_log_events(
        logGroupName=LOG_GROUP,
        logStreamName=stream,
        logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(lines)],
    )
    assert "rejectedLogEventsInfo" not in response


def test_job_logs_echo_the_stream(mock_aws: None) -> None:
    logs = client("logs", region=REGION)
    echoed: list[str] = []
    # No group yet, then a group without the job's stream: a note, not an error.
    assert job_logs(logs, NAME, echo=echoed.append) == 0
    assert echoed == [f"no logs yet for {NAME}: the job is starting"]
    logs.create_log_group(logGroupName=LOG_GROUP)
    _put_logs(logs, "quickstart-20260504-123000/algo-1-1234567890", ["another job"])
    echoed.clear()
    assert job_logs(logs, NAME, echo=echoed.append) == 0
    assert echoed == [f"no logs yet for {NAME}: the job is starting"]
    _put_logs(logs, f"{NAME}/algo-1-1234567890", ["starting\n", "steps 100/30,000", "done"])
    echoed.clear()
    assert job_logs(logs, NAME, echo=echoed.append) == 3
    assert echoed == ["starting", "steps 100/30,000", "done"]


def test_job_logs_follow_until_the_job_ends(mock_aws: None) -> None:
    logs = client("logs", region=REGION)
    logs.create_log_group(logGroupName=LOG_GROUP)
    stream = f"{NAME}/algo-1-1234567890"
    states = iter(["InProgress", "InProgress", "Completed"])
    sleeps: list[float] = []

    class FakeSageMaker:
        def describe_training_job(self, TrainingJobName: str) -> dict[str, Any]:
            return {"TrainingJobName": TrainingJobName, "TrainingJobStatus": next(states)}

    def sleep(seconds: float) -> None:
        # New lines arrive while we wait; the stream appears after the first poll.
        if not sleeps:
            _put_logs(logs, stream, ["line 1", "line 2"])
        else:
            _put_logs(logs, stream, ["line 3"], create=False)
        sleeps.append(seconds)

    echoed: list[str] = []
    count = job_logs(
        logs,
        NAME,
        follow=True,
        sm=FakeSageMaker(),
        echo=echoed.append,
        poll_seconds=2.0,
        sleep=sleep,
    )
    assert echoed == [f"no logs yet for {NAME}: the job is starting", "line 1", "line 2", "line 3"]
    assert count == 3
    assert sleeps == [2.0, 2.0]
    with pytest.raises(ValueError, match="sm"):
        job_logs(logs, NAME, follow=True)


def test_job_logs_prefix_lines_with_the_host_when_there_are_several(mock_aws: None) -> None:
    logs = client("logs", region=REGION)
    logs.create_log_group(logGroupName=LOG_GROUP)
    _put_logs(logs, f"{NAME}/algo-1-1", ["a"])
    _put_logs(logs, f"{NAME}/algo-2-1", ["b"])
    echoed: list[str] = []
    assert job_logs(logs, NAME, echo=echoed.append) == 2
    assert echoed == ["[algo-1-1] a", "[algo-2-1] b"]


# ------------------------------------------------------------------------ Stubber


@pytest.fixture(scope="module")
def stub_client() -> Any:
    import boto3

    # One client for the module (building one takes a few tenths of a second); the
    # Stubber answers before signing, and explicit keys keep the chain from looking.
    return boto3.client(
        "sagemaker",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def stubbed(stub_client: Any) -> Any:
    from botocore.stub import Stubber

    with Stubber(stub_client) as stubber:
        yield stub_client, stubber
        stubber.assert_no_pending_responses()


def test_stop_job_calls_stop_training_job(stubbed: Any) -> None:
    sm, stubber = stubbed
    stubber.add_response("stop_training_job", {}, {"TrainingJobName": NAME})
    stop_job(sm, NAME)


def test_stop_job_on_a_finished_job_says_its_status(stubbed: Any) -> None:
    sm, stubber = stubbed
    stubber.add_client_error(
        "stop_training_job",
        service_error_code="ValidationException",
        service_message="The request was rejected because the training job is in status Completed.",
        http_status_code=400,
        expected_params={"TrainingJobName": NAME},
    )
    with pytest.raises(DeepRacerError, match=f"{NAME} has already ended \\(Completed\\)"):
        stop_job(sm, NAME)


def test_stop_job_asks_for_the_status_when_the_message_lacks_it(stubbed: Any) -> None:
    sm, stubber = stubbed
    stubber.add_client_error(
        "stop_training_job", "ValidationException", "Cannot stop this job.", 400
    )
    stubber.add_response(
        "describe_training_job",
        {
            "TrainingJobName": NAME,
            "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{NAME}",
            "TrainingJobStatus": "Stopped",
            "SecondaryStatus": "Stopped",
            "AlgorithmSpecification": {"TrainingInputMode": "File"},
            "ModelArtifacts": {"S3ModelArtifacts": ""},
            "ResourceConfig": {"VolumeSizeInGB": 30},
            "StoppingCondition": {},
            "CreationTime": NOW,
        },
        {"TrainingJobName": NAME},
    )
    with pytest.raises(DeepRacerError, match=r"already ended \(Stopped\)"):
        stop_job(sm, NAME)


def test_stop_job_on_a_missing_job_passes_the_service_message(stubbed: Any) -> None:
    sm, stubber = stubbed
    stubber.add_client_error(
        "stop_training_job", "ValidationException", "Requested resource not found.", 400
    )
    stubber.add_client_error(
        "describe_training_job", "ValidationException", "Requested resource not found.", 400
    )
    with pytest.raises(
        DeepRacerError,
        match=f"StopTrainingJob \\(training job {NAME}\\): Requested resource not found",
    ):
        stop_job(sm, NAME)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ResourceLimitExceeded", "quota"),
        ("AccessDeniedException", "iam:PassRole"),
        ("ThrottlingException", r"failed \(ThrottlingException\)"),
        ("ExpiredTokenException", "credentials"),
    ],
)
def test_service_errors_become_deepracer_errors(
    stubbed: Any, base_request: dict[str, Any], code: str, expected: str
) -> None:
    sm, stubber = stubbed
    stubber.add_client_error("create_training_job", code, "the service says no", 400)
    with pytest.raises(DeepRacerError, match=expected) as info:
        create_training_job(sm, base_request)
    assert "the service says no" in str(info.value)


def test_an_invalid_request_is_not_sent(stubbed: Any, base_request: dict[str, Any]) -> None:
    sm, _ = stubbed  # no response queued: a call would fail the Stubber
    with pytest.raises(ConfigError, match="instance_type"):
        create_training_job(sm, with_changes(base_request, "ResourceConfig.InstanceType", "c5"))


# ------------------------------------------------------------------------ clients


def test_missing_credentials_are_a_clear_error(
    no_credentials: None, base_request: dict[str, Any]
) -> None:
    sm = client("sagemaker", region=REGION, endpoint_url="http://127.0.0.1:9")
    with pytest.raises(DeepRacerError, match=r"no AWS credentials found.*--dry-run` needs none"):
        describe_job(sm, NAME)
    with pytest.raises(DeepRacerError, match="credentials"):
        create_training_job(sm, base_request)
    logs = client("logs", region=REGION, endpoint_url="http://127.0.0.1:9")
    with pytest.raises(DeepRacerError, match="credentials"):
        job_logs(logs, NAME, echo=lambda line: None)


def test_no_region_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    with pytest.raises(DeepRacerError, match=r"set launch\.sagemaker\.region or AWS_REGION"):
        client("sagemaker", region=None)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")  # read although botocore ignores it
    assert client("logs", region=None).meta.region_name == "eu-west-1"
    assert client("logs", region="us-west-2").meta.region_name == "us-west-2"


def test_client_without_boto3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(DeepRacerError, match=r"pip install 'deepracer\[aws\]'"):
        client("sagemaker", region=REGION)


def test_connection_errors_are_translated() -> None:
    from botocore.exceptions import EndpointConnectionError

    def unreachable(**kwargs: Any) -> None:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    with pytest.raises(DeepRacerError, match=r"job-1.*cannot reach http://127\.0\.0\.1:9"):
        call(unreachable, TrainingJobName="job-1")

    def other(**kwargs: Any) -> None:
        raise KeyError("not an AWS error")

    with pytest.raises(KeyError):
        call(other)


def test_module_imports_without_aws_packages() -> None:
    code = (
        "import sys, deepracer.cloud.sagemaker as m\n"
        "bad = [n for n in ('boto3', 'botocore', 'sagemaker', 'torch') if n in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# ------------------------------------------------------------------------ ModelTrainer


# The keyword arguments each SDK class accepts, as in SageMaker Python SDK 3.27.0 (its
# pydantic models' fields): the fake refuses any other, so a misspelt keyword fails
# here. .ci/sagemaker-sdk runs the same launch through the real SDK.
SDK_FIELDS = {
    "Compute": {
        "instance_type",
        "instance_count",
        "volume_size_in_gb",
        "volume_kms_key_id",
        "keep_alive_period_in_seconds",
        "instance_groups",
        "training_plan_arn",
        "instance_placement_config",
        "instance_preferences",
        "selected_instance_type",
        "selected_instance_count",
        "enable_managed_spot_training",
    },
    "InputData": {"channel_name", "data_source", "content_type"},
    "StoppingCondition": {
        "max_runtime_in_seconds",
        "max_wait_time_in_seconds",
        "max_pending_time_in_seconds",
    },
    "OutputDataConfig": {"s3_output_path", "kms_key_id", "compression_type"},
    "CheckpointConfig": {"s3_uri", "local_path"},
    "Tag": {"key", "value"},
    "Networking": {
        "security_group_ids",
        "subnets",
        "enable_network_isolation",
        "enable_inter_container_traffic_encryption",
    },
    "MetricDefinition": {"name", "regex"},
    "ModelTrainer": {
        "training_mode",
        "sagemaker_session",
        "role",
        "base_job_name",
        "input_s3_key_prefix",
        "source_code",
        "distributed",
        "compute",
        "networking",
        "stopping_condition",
        "training_image",
        "training_image_config",
        "algorithm_name",
        "output_data_config",
        "input_data_config",
        "checkpoint_config",
        "training_input_mode",
        "environment",
        "hyperparameters",
        "tags",
        "local_container_root",
        "model_package_config",
        "config_mgr",
    },
    "Session": {"boto_session", "sagemaker_client", "sagemaker_runtime_client"},
}


class _Recorded:
    def __init__(self, **kwargs: Any) -> None:
        unknown = set(kwargs) - SDK_FIELDS[type(self).__name__]
        assert not unknown, f"{type(self).__name__} has no field {sorted(unknown)}"
        self.kwargs = kwargs


def _fake_sdk(monkeypatch: pytest.MonkeyPatch, *, core_configs: bool) -> type:
    """Fake sagemaker SDK modules whose classes record their keyword arguments."""
    configs = types.ModuleType("configs")
    for cls in SDK_FIELDS.keys() - {"ModelTrainer", "Session"}:
        setattr(configs, cls, type(cls, (_Recorded,), {}))

    class ModelTrainer(_Recorded):
        created: ClassVar[list[Any]] = []

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.metric_definitions: list[Any] = []
            ModelTrainer.created.append(self)

        def with_metric_definitions(self, definitions: list[Any]) -> ModelTrainer:
            self.metric_definitions = definitions
            return self

        def train(
            self, input_data_config: Any = None, wait: bool = True, logs: bool = True
        ) -> None:
            self.train_kwargs = {"input_data_config": input_data_config, "wait": wait, "logs": logs}
            self._latest_training_job = types.SimpleNamespace(
                training_job_name=f"{self.kwargs['base_job_name']}-2026-05-04-12-30-05-123"
            )

    class Session(_Recorded):
        pass

    sagemaker = types.ModuleType("sagemaker")
    sagemaker.__path__ = []  # type: ignore[attr-defined]
    train = types.ModuleType("sagemaker.train")
    train.ModelTrainer = ModelTrainer  # type: ignore[attr-defined]
    core = types.ModuleType("sagemaker.core")
    core.__path__ = []  # type: ignore[attr-defined]
    helper = types.ModuleType("sagemaker.core.helper")
    helper.__path__ = []  # type: ignore[attr-defined]
    session_helper = types.ModuleType("sagemaker.core.helper.session_helper")
    session_helper.Session = Session  # type: ignore[attr-defined]
    modules = {
        "sagemaker": sagemaker,
        "sagemaker.train": train,
        "sagemaker.core": core,
        "sagemaker.core.helper": helper,
        "sagemaker.core.helper.session_helper": session_helper,
    }
    if core_configs:  # later 3.x: the classes live in sagemaker.core.training.configs
        training = types.ModuleType("sagemaker.core.training")
        training.configs = configs  # type: ignore[attr-defined]
        modules["sagemaker.core.training"] = training
        modules["sagemaker.core.training.configs"] = configs
    else:
        train.configs = configs  # type: ignore[attr-defined]
        modules["sagemaker.train.configs"] = configs
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return ModelTrainer


@pytest.mark.parametrize("core_configs", [False, True])
def test_model_trainer_gets_the_boto3_request(
    monkeypatch: pytest.MonkeyPatch, aws_env: None, core_configs: bool
) -> None:
    trainer_cls = _fake_sdk(monkeypatch, core_configs=core_configs)
    overrides = ["launch.sagemaker.spot=true", "launch.sagemaker.sdk=modeltrainer"]
    if core_configs:
        overrides += [
            "launch.sagemaker.region=us-west-2",
            "launch.sagemaker.subnets=[subnet-1]",
            "launch.sagemaker.security_groups=[sg-1]",
        ]
    exp = experiment(*overrides)
    # Only the hyperparameters and metric definitions are taken from the boto3 request
    # (their own tests check them); everything else is spelled out.
    expected = training_job_request(exp, LAYOUT, name=NAME)

    launched = model_trainer_launch(exp, LAYOUT, name=NAME)

    assert launched == "quickstart-2026-05-04-12-30-05-123"
    (trainer,) = trainer_cls.created  # type: ignore[attr-defined]
    kw = trainer.kwargs
    assert kw["role"] == ROLE
    assert kw["training_image"] == IMAGE
    assert kw["training_input_mode"] == "File"
    assert kw["base_job_name"] == "quickstart"
    assert kw["hyperparameters"] == expected["HyperParameters"]
    assert kw["hyperparameters"]["s3_prefix"] == "runs/quick"
    assert kw["environment"] == {"DEEPRACER_EXPERIMENT": EXPERIMENT_FILE}
    assert kw["compute"].kwargs == {
        "instance_type": "ml.c5.2xlarge",
        "instance_count": 1,
        "volume_size_in_gb": 30,
        "enable_managed_spot_training": True,
    }
    assert kw["stopping_condition"].kwargs == {
        "max_runtime_in_seconds": 3600,
        "max_wait_time_in_seconds": 7200,
    }
    assert kw["output_data_config"].kwargs == {"s3_output_path": "s3://bucket/runs/quick/output"}
    assert kw["checkpoint_config"].kwargs == {
        "s3_uri": f"s3://bucket/runs/quick/checkpoints/{NAME}",
        "local_path": "/opt/ml/checkpoints",
    }
    assert [(t.kwargs["key"], t.kwargs["value"]) for t in kw["tags"]] == [
        ("deepracer:experiment", "quickstart")
    ]
    assert [(m.kwargs["name"], m.kwargs["regex"]) for m in trainer.metric_definitions] == [
        (m["Name"], m["Regex"]) for m in expected["AlgorithmSpecification"]["MetricDefinitions"]
    ]
    assert len(trainer.metric_definitions) == 5
    channels = {
        c.kwargs["channel_name"]: c.kwargs["data_source"]
        for c in trainer.train_kwargs["input_data_config"]
    }
    assert channels == {
        "custom_files": "s3://bucket/runs/quick/custom_files/",
        "experiment": "s3://bucket/runs/quick/deepracer/",
    }
    assert trainer.train_kwargs["wait"] is False
    assert trainer.train_kwargs["logs"] is False
    if core_configs:
        assert kw["networking"].kwargs == {"subnets": ["subnet-1"], "security_group_ids": ["sg-1"]}
        boto_session = kw["sagemaker_session"].kwargs["boto_session"]
        assert boto_session.region_name == "us-west-2"
    else:
        assert "networking" not in kw
        # No launch.sagemaker.region: the session follows AWS_REGION (aws_env).
        assert kw["sagemaker_session"].kwargs["boto_session"].region_name == REGION


def test_model_trainer_without_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sagemaker", None)
    exp = experiment("launch.sagemaker.sdk=modeltrainer")
    with pytest.raises(DeepRacerError) as info:
        model_trainer_launch(exp, LAYOUT, name=NAME)
    message = str(info.value)
    assert "pip install 'deepracer[sagemaker]'" in message
    assert "launch.sagemaker.sdk: boto3" in message


def test_model_trainer_checks_the_request_first(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_sdk(monkeypatch, core_configs=False)
    with pytest.raises(ConfigError, match=r"launch\.sagemaker\.image"):
        model_trainer_launch(experiment("launch.sagemaker.image=''"), LAYOUT, name=NAME)


def test_sdk_configs_prefers_the_core_module(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_sdk(monkeypatch, core_configs=True)
    assert sdk._sdk_configs() is sys.modules["sagemaker.core.training.configs"]
