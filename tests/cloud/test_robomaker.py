"""The seed's RoboMaker requests: built per world, checked against the model, never sent."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from deepracer.cloud import robomaker
from deepracer.cloud.layout import ArtifactLayout
from deepracer.errors import ConfigError, DeepRacerError
from deepracer.experiment import ExperimentConfig, load_experiment
from deepracer.simapp import NotSimappTrack

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/DeepRacerRole"
APPLICATION = (
    "arn:aws:robomaker:us-east-1:123456789012:simulation-application/deepracer-sim/1551206341136"
)
WORLDS = ["reinvent_base", "reinvent_carpet", "reinvent_concrete", "reinvent_wood"]
LAYOUT = ArtifactLayout("my-bucket", "experiments/surfaces")
FULL = [
    f"launch.robomaker.simulation_application={APPLICATION}",
    f"launch.sagemaker.role={ROLE}",
    "launch.robomaker.subnets=[subnet-0a1, subnet-0b2]",
    "launch.robomaker.security_groups=[sg-0c3]",
    "launch.failure_behavior=Continue",
]


def _experiment(overrides: list[str]) -> ExperimentConfig:
    # The shipped file's example launch settings are cleared: each test sets its own.
    return load_experiment("multiworld", ["launch={}", *overrides])


def _requests(overrides: list[str] = FULL, **kwargs: Any) -> list[dict[str, Any]]:
    return robomaker.simulation_job_requests(
        _experiment(overrides), LAYOUT, region=REGION, **kwargs
    )


def _env(request: dict[str, Any]) -> dict[str, str]:
    env: dict[str, str] = request["simulationApplications"][0]["launchConfig"][
        "environmentVariables"
    ]
    return env


def test_one_valid_request_per_world_in_order() -> None:
    requests = _requests()
    assert len(requests) == 4
    for request in requests:
        robomaker.validate_simulation_job_request(request)
    assert [_env(r)["WORLD_NAME"] for r in requests] == WORLDS
    assert [_env(r)["ROLLOUT_IDX"] for r in requests] == ["0", "1", "2", "3"]
    first = requests[0]
    assert first["iamRole"] == ROLE
    assert first["maxJobDurationInSeconds"] == 3600
    assert isinstance(first["maxJobDurationInSeconds"], int)
    assert first["failureBehavior"] == "Continue"
    application = first["simulationApplications"][0]
    assert application["application"] == APPLICATION
    assert application["applicationVersion"] == "$LATEST"
    assert application["launchConfig"]["packageName"] == "deepracer_simulation_environment"
    assert application["launchConfig"]["launchFile"] == "distributed_training.launch"
    assert first["tags"]["deepracer:experiment"] == "multiworld"


def test_environment_points_at_the_layout() -> None:
    requests = _requests()
    jobs = {_env(r)["TRAINING_JOB_ARN"] for r in requests}
    assert len(jobs) == 1  # every simulation feeds the same trainer
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", jobs.pop())
    for index, request in enumerate(requests):
        env = _env(request)
        assert all(isinstance(v, str) and v for v in env.values())
        assert env["SAGEMAKER_SHARED_S3_BUCKET"] == env["METRICS_S3_BUCKET"] == LAYOUT.bucket
        assert env["SAGEMAKER_SHARED_S3_PREFIX"] == LAYOUT.prefix
        assert env["REWARD_FILE_S3_KEY"] == LAYOUT.reward_key
        assert env["MODEL_METADATA_FILE_S3_KEY"] == LAYOUT.model_metadata_key
        assert env["METRICS_S3_OBJECT_KEY"] == LAYOUT.key(
            "metrics", f"TrainingMetrics-{index}.json"
        )
        assert LAYOUT.key(env["S3_YAML_NAME"]) == LAYOUT.training_params_key(index + 1)
        assert env["APP_REGION"] == REGION
        assert env["ROBOMAKER_SIMULATION_JOB_ACCOUNT_ID"] == "123456789012"
        assert env["METRIC_NAME"] == "TrainingRewardScore"
        assert env["METRIC_NAMESPACE"] == "AWSDeepRacer"
        assert env["TARGET_REWARD_SCORE"] == "None"
        assert env["NUMBER_OF_EPISODES"] == "0"
        assert "KINESIS_VIDEO_STREAM_NAME" not in env


def test_vpc_config() -> None:
    for request in _requests():
        assert request["vpcConfig"] == {
            "subnets": ["subnet-0a1", "subnet-0b2"],
            "securityGroups": ["sg-0c3"],
            "assignPublicIp": True,
        }
    no_vpc = [o for o in FULL if "subnets" not in o and "security_groups" not in o]
    assert all("vpcConfig" not in r for r in _requests(no_vpc))


def test_tokens_are_distinct_in_a_tight_loop() -> None:
    tokens = [r["clientRequestToken"] for _ in range(50) for r in _requests()]
    assert len(set(tokens)) == len(tokens)
    assert all(re.fullmatch(r"[a-zA-Z0-9_\-=]{1,64}", t) for t in tokens)


def test_injected_token_training_job_and_account() -> None:
    counter = iter(range(100))
    requests = _requests(
        token=lambda: f"token-{next(counter)}",
        training_job="my-training-job",
        account_id="210987654321",
    )
    assert [r["clientRequestToken"] for r in requests] == [f"token-{i}" for i in range(4)]
    assert {_env(r)["TRAINING_JOB_ARN"] for r in requests} == {"my-training-job"}
    assert {_env(r)["ROBOMAKER_SIMULATION_JOB_ACCOUNT_ID"] for r in requests} == {"210987654321"}


def test_config_settings_reach_the_request() -> None:
    requests = _requests(
        [
            *FULL,
            "launch.robomaker.role=arn:aws:iam::123456789012:role/SimRole",
            "launch.robomaker.training_job=configured-job",
            "launch.robomaker.kinesis_video_stream=SilverstoneStream",
            "launch.robomaker.max_job_minutes=90",
            "launch.robomaker.application_version='3'",
        ]
    )
    first = requests[0]
    assert first["iamRole"] == "arn:aws:iam::123456789012:role/SimRole"
    assert first["maxJobDurationInSeconds"] == 5400
    assert first["simulationApplications"][0]["applicationVersion"] == "3"
    assert _env(first)["TRAINING_JOB_ARN"] == "configured-job"
    assert _env(first)["KINESIS_VIDEO_STREAM_NAME"] == "SilverstoneStream"


def test_single_world_and_world_paths() -> None:
    experiment = _experiment([*FULL, "worlds=[envs/reinvent_wood.yaml]", "eval={}"])
    (request,) = robomaker.simulation_job_requests(experiment, LAYOUT, region=REGION)
    assert _env(request)["WORLD_NAME"] == "reinvent_wood"
    assert _env(request)["S3_YAML_NAME"] == "training_params.yaml"


def test_world_names_are_the_simulation_applications() -> None:
    experiment = _experiment([*FULL, "worlds=[envs/reinvent_carpet.yaml, reInvent2019_track]"])
    requests = robomaker.simulation_job_requests(experiment, LAYOUT, region=REGION)
    assert [_env(r)["WORLD_NAME"] for r in requests] == ["reinvent_carpet", "reInvent2019_track"]
    assert [r["tags"]["deepracer:world"] for r in requests] == [
        "reinvent_carpet",
        "reInvent2019_track",
    ]


def test_a_world_the_simulation_application_lacks_is_refused() -> None:
    experiment = _experiment([*FULL, "worlds=[reinvent_base, oval]"])
    with pytest.raises(NotSimappTrack) as info:
        robomaker.simulation_job_requests(experiment, LAYOUT, region=REGION)
    assert str(info.value).startswith(
        "world 'oval': its track 'oval' (a built-in track) is not a DeepRacer simulator track"
    )
    assert "reinvent_base, reinvent_carpet" in str(info.value)


def test_default_training_job_name_is_sanitised() -> None:
    experiment = _experiment([*FULL, "name=My_Experiment.v2 (" + "x" * 80 + ")"])
    (job,) = {
        _env(r)["TRAINING_JOB_ARN"]
        for r in robomaker.simulation_job_requests(experiment, LAYOUT, region=REGION)
    }
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", job)
    assert job.startswith("My-Experiment-v2-")
    assert re.search(r"-\d{14}$", job)


def test_format_requests_is_a_json_array() -> None:
    requests = _requests()
    text = robomaker.format_requests(requests)
    assert json.loads(text) == requests
    assert text.startswith("[\n  {")


# --- the validator ----------------------------------------------------------------------


def _broken(edit: str, value: Any) -> dict[str, Any]:
    request = copy.deepcopy(_requests()[0])
    node: Any = request
    *parents, last = edit.split("/")
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[last] = value
    return request


@pytest.mark.parametrize(
    ("edit", "value", "path", "words"),
    [
        ("iamRole", "arn:aws:iam:123:user/me", "iamRole", "does not match"),
        ("maxJobDurationInSeconds", "3600", "maxJobDurationInSeconds", "expected an integer"),
        ("failureBehavior", "Stop", "failureBehavior", "not one of Fail, Continue"),
        ("clientRequestToken", "a" * 65, "clientRequestToken", "at most 64"),
        ("clientRequestToken", "2025-01-01 12:00", "clientRequestToken", "does not match"),
        (
            "simulationApplications/0/launchConfig/environmentVariables/world-name",
            "x",
            "simulationApplications[0].launchConfig.environmentVariables.world-name",
            "[A-Z_][A-Z0-9_]*",
        ),
        (
            "simulationApplications/0/launchConfig/environmentVariables/WORLD_NAME",
            "",
            "simulationApplications[0].launchConfig.environmentVariables.WORLD_NAME",
            "at least 1",
        ),
        ("vpcConfig/subnets", [f"subnet-{i}" for i in range(17)], "vpcConfig.subnets", "16"),
        ("vpcConfig/securityGroups", [], "vpcConfig.securityGroups", "at least 1"),
        ("outputBucket", "x", "outputBucket", "unknown member"),
        ("tags/deepracer:experiment", "a*b", "tags.deepracer:experiment", "does not match"),
        (
            "simulationApplications/0/applicationVersion",
            "v1",
            "simulationApplications[0].applicationVersion",
            "$LATEST",
        ),
        (
            "simulationApplications/0/launchConfig/packageName",
            "deepracer simulation",
            "simulationApplications[0].launchConfig.packageName",
            "does not match",
        ),
    ],
)
def test_validator_names_the_path(edit: str, value: Any, path: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        robomaker.validate_simulation_job_request(_broken(edit, value))
    lines = [line.strip() for line in str(info.value).splitlines()[1:]]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{path}: ")
    assert words in lines[0]


def test_validator_lists_every_problem() -> None:
    request = _broken("failureBehavior", "Stop")
    del request["iamRole"]
    request["simulationApplications"][0]["launchConfig"]["environmentVariables"] = {
        f"VAR_{i}": "x" for i in range(21)
    }
    with pytest.raises(ConfigError) as info:
        robomaker.validate_simulation_job_request(request)
    message = str(info.value)
    assert "iamRole: required member missing" in message
    assert "failureBehavior: 'Stop'" in message
    assert "environmentVariables: 21 entries, at most 20 allowed" in message


def test_validator_rejects_a_non_mapping_and_retired_members() -> None:
    with pytest.raises(ConfigError, match="expected a mapping"):
        robomaker.validate_simulation_job_request([])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"worldConfigs: no longer supported"):
        robomaker.validate_simulation_job_request(
            _broken("simulationApplications/0/worldConfigs", [{"world": "arn:x"}])
        )


def test_vpc_without_security_groups_follows_the_model() -> None:
    no_groups = [o for o in FULL if "security_groups" not in o]
    for request in _requests(no_groups):
        assert request["vpcConfig"] == {"subnets": ["subnet-0a1", "subnet-0b2"]} | {
            "assignPublicIp": True
        }
        robomaker.validate_simulation_job_request(request)


# --- configuration errors ---------------------------------------------------------------


def test_missing_role_names_the_field() -> None:
    with pytest.raises(ConfigError) as info:
        _requests([f"launch.robomaker.simulation_application={APPLICATION}"])
    message = str(info.value)
    assert "launch.robomaker.role" in message
    assert "arn:aws:iam::123456789012:role/NAME" in message
    assert "simulation_application" not in message


def test_bad_sagemaker_role_names_that_field() -> None:
    with pytest.raises(ConfigError, match=r"launch\.sagemaker\.role: 'DeepRacerRole'"):
        _requests([*FULL, "launch.sagemaker.role=DeepRacerRole"])


def test_missing_application_names_the_field() -> None:
    with pytest.raises(ConfigError) as info:
        _requests([f"launch.sagemaker.role={ROLE}"])
    message = str(info.value)
    assert "launch.robomaker.simulation_application" in message
    assert "arn:aws:robomaker:REGION:ACCOUNT:simulation-application/NAME/ID" in message
    assert "launch.robomaker.role" not in message


def test_application_in_another_region() -> None:
    with pytest.raises(ConfigError, match="us-east-1 but the jobs would run in eu-west-1"):
        robomaker.simulation_job_requests(_experiment(FULL), LAYOUT, region="eu-west-1")


def test_security_groups_without_subnets_fail_the_model() -> None:
    groups_only = [o for o in FULL if "subnets" not in o]
    with pytest.raises(ConfigError, match=r"launch\.robomaker\.security_groups: .*subnets"):
        _requests(groups_only)


def test_too_many_subnets_fail_with_the_request_path() -> None:
    subnets = ", ".join(f"subnet-{i}" for i in range(17))
    with pytest.raises(ConfigError, match=r"vpcConfig\.subnets: 17 items"):
        _requests([*FULL, f"launch.robomaker.subnets=[{subnets}]"])


def test_layout_without_prefix() -> None:
    with pytest.raises(ConfigError, match=r"launch\.s3: s3://my-bucket has no key prefix"):
        robomaker.simulation_job_requests(
            _experiment(FULL), ArtifactLayout("my-bucket"), region=REGION
        )


# --- submitting ---------------------------------------------------------------------------


def test_submit_explains_the_retirement() -> None:
    with pytest.raises(DeepRacerError) as info:
        robomaker.submit(_requests())
    message = str(info.value)
    assert "2025-09-10" in message
    assert "--backend sagemaker" in message
    assert "--backend local" in message
    assert "--dry-run" in message
    assert robomaker.RETIRED_MESSAGE in message


def test_installed_boto3_has_no_robomaker_client() -> None:
    boto3 = pytest.importorskip("boto3")
    assert "robomaker" not in boto3.session.Session().get_available_services()
