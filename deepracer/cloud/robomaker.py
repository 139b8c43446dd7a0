"""The seed's per-world AWS RoboMaker simulation jobs, as requests only.

The seed launches one ``robomaker.create_simulation_job`` per world beside a
SageMaker training job. AWS RoboMaker reached end of support on 2025-09-10 and
botocore dropped its ``robomaker`` client in 1.40.61, so nothing here calls AWS:
``deepracer launch EXPERIMENT --backend robomaker --dry-run`` builds and prints the
requests (accounts with legacy tooling still read them), and :func:`submit` explains
what to use instead.

The constraints of the ``CreateSimulationJob`` input are written out by hand below
from the last botocore service model that had RoboMaker (``robomaker/2018-06-29``,
botocore 1.40.60), so checking a request needs neither botocore nor that file.

Contents:
    RETIRED_MESSAGE: why RoboMaker requests cannot be submitted, and what to use.
    simulation_job_requests: an experiment to one request per world.
    validate_simulation_job_request: a request against the CreateSimulationJob shape.
    format_requests: requests as a JSON array for printing.
    submit: always raises, with RETIRED_MESSAGE.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any, NoReturn

from deepracer.cloud.layout import ArtifactLayout
from deepracer.errors import ConfigError, DeepRacerError, suggest
from deepracer.experiment import ExperimentConfig
from deepracer.simapp import simapp_world_name

__all__ = [
    "LAUNCH_FILE",
    "METRIC_NAME",
    "METRIC_NAMESPACE",
    "PACKAGE_NAME",
    "RETIRED_MESSAGE",
    "format_requests",
    "simulation_job_requests",
    "submit",
    "validate_simulation_job_request",
]

RETIRED_MESSAGE = (
    "AWS RoboMaker reached end of support on 2025-09-10: its console, API and"
    " resources are gone, and botocore no longer ships a robomaker client (removed in"
    " 1.40.61), so simulation jobs cannot be submitted. Use --backend sagemaker (one"
    " SageMaker training job that runs one simulation worker per world, the pattern"
    " DeepRacer on AWS uses) or --backend local (one worker process per world on this"
    " machine). --dry-run still prints the RoboMaker requests."
)
"""The message :func:`submit` raises."""

PACKAGE_NAME = "deepracer_simulation_environment"
"""The ROS package of the DeepRacer simulation application (the seed's)."""
LAUNCH_FILE = "distributed_training.launch"
"""The seed's launch file: a rollout worker that feeds a SageMaker trainer."""
METRIC_NAME = "TrainingRewardScore"
"""The CloudWatch metric the simulation application publishes."""
METRIC_NAMESPACE = "AWSDeepRacer"
"""Its CloudWatch namespace."""

_ROLE_EXAMPLE = "arn:aws:iam::123456789012:role/NAME"
_APPLICATION_EXAMPLE = "arn:aws:robomaker:REGION:ACCOUNT:simulation-application/NAME/ID"
# Stricter than the model's ``arn:aws:iam::\w+:role/.*``: the account is also
# ROBOMAKER_SIMULATION_JOB_ACCOUNT_ID, so it must be a real 12-digit one.
_ROLE_ARN = re.compile(r"arn:aws:iam::(\d{12}):role/\S+", re.ASCII)
# The model only asks for ``arn:.*``; this is the form RoboMaker gave simulation
# applications, and its region must be the jobs' region.
_APPLICATION_ARN = re.compile(
    r"arn:aws[a-z-]*:robomaker:([a-z0-9-]+):(\d{12}):simulation-application/[^/\s]+/[^/\s]+",
    re.ASCII,
)
# SageMaker's TrainingJobName pattern and length: TRAINING_JOB_ARN names the job the
# simulations feed, so a default name must be one SageMaker accepts.
_JOB_NAME_MAX = 63
_JOB_TIME_FORMAT = "%Y%m%d%H%M%S"
_TAG_UNSAFE = re.compile(r"[^a-zA-Z0-9 _.\-/+=:]")


# --- the CreateSimulationJob input shape --------------------------------------------
#
# Each class checks one botocore shape type and appends "path: problem" strings.
# Patterns are matched as a whole (the service's Java validation does), with ASCII
# ``\w``; lengths count characters.


class _Shape:
    """One shape of the service model."""

    def check(self, value: Any, path: str, problems: list[str]) -> None:
        """Appends a ``"path: problem"`` string for every problem of ``value``."""
        raise NotImplementedError


def _type_name(value: Any) -> str:
    return type(value).__name__


@dataclass(frozen=True)
class _String(_Shape):
    min: int = 0
    max: int | None = None
    pattern: str | None = None
    hint: str = ""

    def problem(self, value: Any) -> str | None:
        """Returns what is wrong with ``value``, or None."""
        if not isinstance(value, str):
            return f"expected a string, got {_type_name(value)}"
        if len(value) < self.min:
            return f"{len(value)} characters, at least {self.min} required"
        if self.max is not None and len(value) > self.max:
            return f"{len(value)} characters, at most {self.max} allowed"
        if self.pattern is not None and not re.fullmatch(self.pattern, value, re.ASCII):
            hint = f" ({self.hint})" if self.hint else ""
            return f"{value!r} does not match {self.pattern}{hint}"
        return None

    def check(self, value: Any, path: str, problems: list[str]) -> None:
        """Appends the problem of ``value``, if any."""
        problem = self.problem(value)
        if problem:
            problems.append(f"{path}: {problem}")


@dataclass(frozen=True)
class _Enum(_Shape):
    values: tuple[str, ...]

    def check(self, value: Any, path: str, problems: list[str]) -> None:
        """Appends a problem unless ``value`` is one of the values."""
        if not isinstance(value, str):
            problems.append(f"{path}: expected a string, got {_type_name(value)}")
        elif value not in self.values:
            problems.append(
                f"{path}: {value!r} is not one of {', '.join(self.values)}"
                f"{suggest(value, self.values)}"
            )


@dataclass(frozen=True)
class _Integer(_Shape):
    min: int | None = None
    max: int | None = None

    def check(self, value: Any, path: str, problems: list[str]) -> None:
        """Appends a problem unless ``value`` is an int in range."""
        # bool is an int subclass, but True is never a meant duration or port.
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{path}: expected an integer, got {_type_name(value)} {value!r}")
        elif self.min is not None and value < self.min:
            problems.append(f"{path}: {value} is below the minimum {self.min}")
        elif self.max is not None and value > self.max:
            problems.append(f"{path}: {value} is above the maximum {self.max}")


@dataclass(frozen=True)
class _Boolean(_Shape):
    def check(self, value: Any, path: str, problems: list[str]) -> None:
        """Appends a problem unless ``value`` is a bool."""
        if not isinstance(value, bool):
            problems.append(f"{path}: expected true or false, got {_type_name(value)}")


def _count_problem(count: int, low: int, high: int | None, unit: str) -> str | None:
    if count < low:
        return f"{count} {unit}, at least {low} required"
    if high is not None and count > high:
        return f"{count} {unit}, at most {high} allowed"
    return None


@dataclass(frozen=True)
class _List(_Shape):
    member: _Shape
    min: int = 0
    max: int | None = None

    def check(self, value: Any, path: str, problems: list[str]) -> None:
        """Appends the list's size problem and each member's problems."""
        if not isinstance(value, list | tuple):
            problems.append(f"{path}: expected a list, got {_type_name(value)}")
            return
        problem = _count_problem(len(value), self.min, self.max, "items")
        if problem:
            problems.append(f"{path}: {problem}")
        for index, item in enumerate(value):
            self.member.check(item, f"{path}[{index}]", problems)


@dataclass(frozen=True)
class _Map(_Shape):
    key: _String
    value: _Shape
    min: int = 0
    max: int | None = None

    def check(self, value: Any, path: str, problems: list[str]) -> None:
        """Appends the map's size problem and each key's and value's problems."""
        if not isinstance(value, Mapping):
            problems.append(f"{path}: expected a mapping, got {_type_name(value)}")
            return
        problem = _count_problem(len(value), self.min, self.max, "entries")
        if problem:
            problems.append(f"{path}: {problem}")
        for key, item in value.items():
            key_problem = self.key.problem(key)
            if key_problem:
                problems.append(f"{path}.{key}: key {key_problem}")
            self.value.check(item, f"{path}.{key}", problems)


@dataclass(frozen=True)
class _Structure(_Shape):
    members: Mapping[str, _Shape]
    required: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    """Members the model documents as "no longer supported and will throw an error"."""
    name: str = "structure"

    def check(self, value: Any, path: str, problems: list[str]) -> None:
        """Appends missing, unknown, rejected and invalid members."""
        if not isinstance(value, Mapping):
            problems.append(f"{path or self.name}: expected a mapping, got {_type_name(value)}")
            return
        prefix = f"{path}." if path else ""
        for name in self.required:
            if name not in value:
                problems.append(f"{prefix}{name}: required member missing")
        for name, item in value.items():
            shape = self.members.get(name) if isinstance(name, str) else None
            if shape is None:
                problems.append(
                    f"{prefix}{name}: unknown member of {self.name}"
                    f"{suggest(str(name), self.members)}"
                )
            elif name in self.rejected:
                problems.append(f"{prefix}{name}: no longer supported (the service rejects it)")
            else:
                shape.check(item, f"{prefix}{name}", problems)


def _request_shape() -> _Structure:
    """The ``CreateSimulationJobRequest`` shape of robomaker/2018-06-29."""
    boolean = _Boolean()
    arn = _String(1, 1224, r"arn:.*", "an ARN")
    version = _String(1, 255, r"(\$LATEST)|[0-9]*", "$LATEST or a version number")
    command = _String(1, 1024, r"[a-zA-Z0-9_.\-]*")
    name = _String(1, 255, r"[a-zA-Z0-9_\-]*")
    path = _String(1, 1024, r".*")
    non_empty = _String(1, 255, r".+")
    s3_bucket = _String(3, 63, r"[a-z0-9][a-z0-9.\-]*[a-z0-9]", "an S3 bucket name")
    tag_text = r"[a-zA-Z0-9 _.\-\/+=:]*"
    launch_config = _Structure(
        {
            "packageName": command,
            "launchFile": command,
            "environmentVariables": _Map(
                _String(1, 1024, r"[A-Z_][A-Z0-9_]*", "upper case letters, digits, _"),
                _String(1, 1024, r".*"),
                0,
                20,
            ),
            "portForwardingConfig": _Structure(
                {
                    "portMappings": _List(
                        _Structure(
                            {
                                "jobPort": _Integer(1, 65535),
                                "applicationPort": _Integer(1024, 65535),
                                "enableOnPublicIp": boolean,
                            },
                            ("jobPort", "applicationPort"),
                            name="PortMapping",
                        ),
                        0,
                        10,
                    )
                },
                name="PortForwardingConfig",
            ),
            "streamUI": boolean,
            "command": _List(non_empty),
        },
        name="LaunchConfig",
    )
    uploads = _List(
        _Structure(
            {
                "name": name,
                "path": path,
                "uploadBehavior": _Enum(("UPLOAD_ON_TERMINATE", "UPLOAD_ROLLING_AUTO_REMOVE")),
            },
            ("name", "path", "uploadBehavior"),
            name="UploadConfiguration",
        ),
        0,
        10,
    )
    tools = _List(
        _Structure(
            {
                "streamUI": boolean,
                "name": name,
                "command": _String(1, 1024, r".*"),
                "streamOutputToCloudWatch": boolean,
                "exitBehavior": _Enum(("FAIL", "RESTART")),
            },
            ("name", "command"),
            name="Tool",
        ),
        0,
        10,
    )
    application_members: dict[str, _Shape] = {
        "application": arn,
        "applicationVersion": version,
        "launchConfig": launch_config,
        "uploadConfigurations": uploads,
        "useDefaultUploadConfigurations": boolean,
        "tools": tools,
        "useDefaultTools": boolean,
    }
    return _Structure(
        {
            "clientRequestToken": _String(1, 64, r"[a-zA-Z0-9_\-=]*"),
            "outputLocation": _Structure(
                {"s3Bucket": s3_bucket, "s3Prefix": _String(1, 1024, r".*")},
                name="OutputLocation",
            ),
            "loggingConfig": _Structure(
                {"recordAllRosTopics": boolean}, rejected=("recordAllRosTopics",)
            ),
            # The shape is a plain long; the member's documentation caps it at 14 days.
            "maxJobDurationInSeconds": _Integer(1, 1_209_600),
            "iamRole": _String(1, 255, r"arn:aws:iam::\w+:role/.*", f"e.g. {_ROLE_EXAMPLE}"),
            "failureBehavior": _Enum(("Fail", "Continue")),
            "robotApplications": _List(
                _Structure(
                    application_members,
                    ("application", "launchConfig"),
                    ("useDefaultUploadConfigurations", "useDefaultTools"),
                    name="RobotApplicationConfig",
                ),
                1,
                1,
            ),
            "simulationApplications": _List(
                _Structure(
                    {
                        **application_members,
                        "worldConfigs": _List(_Structure({"world": arn}), 0, 1),
                    },
                    ("application", "launchConfig"),
                    ("worldConfigs", "useDefaultUploadConfigurations", "useDefaultTools"),
                    name="SimulationApplicationConfig",
                ),
                1,
                1,
            ),
            "dataSources": _List(
                _Structure(
                    {
                        "name": name,
                        "s3Bucket": s3_bucket,
                        "s3Keys": _List(_String(0, 1024, r".*"), 1, 100),
                        "type": _Enum(("Prefix", "Archive", "File")),
                        "destination": path,
                    },
                    ("name", "s3Bucket", "s3Keys"),
                    name="DataSourceConfig",
                ),
                1,
                6,
            ),
            "tags": _Map(_String(1, 128, tag_text), _String(0, 256, tag_text), 0, 50),
            # The documentation asks for a security group too; the shape does not.
            "vpcConfig": _Structure(
                {
                    "subnets": _List(non_empty, 1, 16),
                    "securityGroups": _List(non_empty, 1, 5),
                    "assignPublicIp": boolean,
                },
                ("subnets",),
                name="VPCConfig",
            ),
            "compute": _Structure(
                {
                    "simulationUnitLimit": _Integer(1, 15),
                    "computeType": _Enum(("CPU", "GPU_AND_CPU")),
                    "gpuUnitLimit": _Integer(0, 1),
                },
                name="Compute",
            ),
        },
        ("maxJobDurationInSeconds", "iamRole"),
        name="CreateSimulationJob request",
    )


_REQUEST = _request_shape()


def _request_problems(request: Any) -> list[str]:
    problems: list[str] = []
    _REQUEST.check(request, "", problems)
    return problems


def validate_simulation_job_request(request: Mapping[str, Any]) -> None:
    """Checks a ``create_simulation_job`` request against the service model.

    Checks what the service checked: required members, types, string lengths and
    patterns, enums, list and map sizes, and unknown members.

    Args:
        request: The keyword arguments of ``robomaker.create_simulation_job``.

    Raises:
        ConfigError: Something does not fit; the message lists every problem with its
            path, e.g. ``simulationApplications[0].launchConfig.environmentVariables.X``.
    """
    problems = _request_problems(request)
    if problems:
        raise ConfigError("CreateSimulationJob request is invalid:\n  " + "\n  ".join(problems))


# --- building the requests ------------------------------------------------------------


@dataclass(frozen=True)
class _Settings:
    """The checked launch settings every request of one experiment shares."""

    role: str
    application: str
    account_id: str
    region: str
    training_job: str
    tags: dict[str, str] = field(default_factory=dict)


def _config_settings(
    experiment: ExperimentConfig,
    layout: ArtifactLayout,
    *,
    region: str,
    account_id: str | None,
) -> tuple[str, str, str, list[str]]:
    """Returns the role, application, account and the config problems found."""
    robomaker = experiment.launch.robomaker
    problems: list[str] = []
    role_field = "launch.robomaker.role" if robomaker.role else "launch.sagemaker.role"
    role = robomaker.role or experiment.launch.sagemaker.role
    role_match = _ROLE_ARN.fullmatch(role)
    if not role:
        problems.append(
            "launch.robomaker.role: set the IAM role the simulation jobs run as (it"
            f" defaults to launch.sagemaker.role, also empty), e.g. {_ROLE_EXAMPLE}"
        )
    elif role_match is None:
        problems.append(f"{role_field}: {role!r} is not an IAM role ARN like {_ROLE_EXAMPLE}")
    application = robomaker.simulation_application
    app_match = _APPLICATION_ARN.fullmatch(application)
    if not application:
        problems.append(
            "launch.robomaker.simulation_application: set the ARN of the DeepRacer"
            f" simulation application, e.g. {_APPLICATION_EXAMPLE}"
        )
    elif app_match is None:
        problems.append(
            f"launch.robomaker.simulation_application: {application!r} is not a"
            f" simulation application ARN like {_APPLICATION_EXAMPLE}"
        )
    elif region and app_match.group(1) != region:
        problems.append(
            f"launch.robomaker.simulation_application: the application is in"
            f" {app_match.group(1)} but the jobs would run in {region}; a simulation job"
            " can only use an application of its own region"
        )
    if not re.fullmatch(r"\$LATEST|[0-9]+", robomaker.application_version):
        problems.append(
            f"launch.robomaker.application_version: {robomaker.application_version!r};"
            " expected $LATEST or a version number"
        )
    if robomaker.security_groups and not robomaker.subnets:
        # vpcConfig requires subnets (securityGroups is optional); dropping the groups
        # silently would launch the jobs outside the VPC the user meant.
        problems.append(
            "launch.robomaker.security_groups: set launch.robomaker.subnets too;"
            " vpcConfig requires subnets"
        )
    if not region:
        problems.append("region: empty; set launch.sagemaker.region or AWS_REGION")
    if not layout.prefix.strip("/"):
        # SAGEMAKER_SHARED_S3_PREFIX is an environment variable, and those must not be
        # empty; the simulation application also expects its files under a prefix.
        problems.append(
            f"launch.s3: s3://{layout.bucket} has no key prefix; use s3://BUCKET/PREFIX"
        )
    if account_id is not None:
        account = account_id
        if not account:
            problems.append("account_id: empty (leave it out to use the role's account)")
    else:
        account = role_match.group(1) if role_match else ""
    return role, application, account, problems


def _training_job_name(base: str, now: datetime) -> str:
    """Returns ``<base>-<UTC yyyymmddHHMMSS>`` fitted to SageMaker's job-name pattern."""
    stamp = now.astimezone(UTC).strftime(_JOB_TIME_FORMAT)
    # Pattern ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}: only letters, digits and dashes, no
    # leading or trailing dash, at most 63 characters in all.
    cleaned = re.sub(r"[^a-zA-Z0-9-]+", "-", base).strip("-")
    cleaned = cleaned[: _JOB_NAME_MAX - len(stamp) - 1].rstrip("-") or "deepracer"
    return f"{cleaned}-{stamp}"


def _tag(text: str) -> str:
    return _TAG_UNSAFE.sub("-", text)[:256]


def _environment(
    experiment: ExperimentConfig,
    layout: ArtifactLayout,
    settings: _Settings,
    world: str,
    index: int,
) -> dict[str, str]:
    """Returns the seed's environment variables for the world at ``index``."""
    several = len(experiment.worlds) > 1
    params_key = layout.training_params_key(index + 1 if several else None)
    env = {
        "WORLD_NAME": simapp_world_name(world),
        "SAGEMAKER_SHARED_S3_BUCKET": layout.bucket,
        "SAGEMAKER_SHARED_S3_PREFIX": layout.prefix.strip("/"),
        "TRAINING_JOB_ARN": settings.training_job,
        "APP_REGION": settings.region,
        "METRIC_NAME": METRIC_NAME,
        "METRIC_NAMESPACE": METRIC_NAMESPACE,
        "REWARD_FILE_S3_KEY": layout.reward_key,
        "MODEL_METADATA_FILE_S3_KEY": layout.model_metadata_key,
        "METRICS_S3_BUCKET": layout.bucket,
        # The seed writes "<bucket>/training_metrics.json" here, which is not a key;
        # one file per job keeps the workers from overwriting each other's metrics.
        "METRICS_S3_OBJECT_KEY": layout.key("metrics", f"TrainingMetrics-{index}.json"),
        "TARGET_REWARD_SCORE": "None",
        "NUMBER_OF_EPISODES": "0",
        "ROBOMAKER_SIMULATION_JOB_ACCOUNT_ID": settings.account_id,
        "ROLLOUT_IDX": str(index),
        "S3_YAML_NAME": PurePosixPath(params_key).name,
    }
    stream = experiment.launch.robomaker.kinesis_video_stream
    if stream:
        env["KINESIS_VIDEO_STREAM_NAME"] = stream
    return env


def _request(
    experiment: ExperimentConfig,
    layout: ArtifactLayout,
    settings: _Settings,
    world: str,
    index: int,
    token: str,
) -> dict[str, Any]:
    robomaker = experiment.launch.robomaker
    request: dict[str, Any] = {
        "iamRole": settings.role,
        "clientRequestToken": token,
        # ceil: any positive number of minutes stays a positive number of seconds.
        "maxJobDurationInSeconds": math.ceil(robomaker.max_job_minutes * 60),
        "failureBehavior": experiment.launch.failure_behavior,
        "simulationApplications": [
            {
                "application": settings.application,
                "applicationVersion": robomaker.application_version,
                "launchConfig": {
                    "packageName": PACKAGE_NAME,
                    "launchFile": LAUNCH_FILE,
                    "environmentVariables": _environment(
                        experiment, layout, settings, world, index
                    ),
                },
            }
        ],
    }
    if robomaker.subnets:
        vpc: dict[str, Any] = {"subnets": list(robomaker.subnets)}
        if robomaker.security_groups:
            vpc["securityGroups"] = list(robomaker.security_groups)
        vpc["assignPublicIp"] = robomaker.assign_public_ip
        request["vpcConfig"] = vpc
    request["tags"] = {**settings.tags, "deepracer:world": _tag(simapp_world_name(world))}
    return request


def _default_token() -> str:
    # uuid4 is random, so two jobs built in the same microsecond still differ (the
    # seed's timestamp token could collide); its 36 characters of hex digits and dashes
    # fit the model's [a-zA-Z0-9_\-=]* and 64-character limit.
    return str(uuid.uuid4())


def simulation_job_requests(
    experiment: ExperimentConfig,
    layout: ArtifactLayout,
    *,
    region: str,
    training_job: str | None = None,
    account_id: str | None = None,
    token: Callable[[], str] | None = None,
) -> list[dict[str, Any]]:
    """Builds one ``create_simulation_job`` request per world of the experiment.

    Each request is the keyword arguments the boto3 call took. The simulation
    environment variables are the seed's, pointing at the uploaded files of
    ``layout``; every request is checked with :func:`validate_simulation_job_request`.

    Args:
        experiment: The experiment; its ``launch.robomaker`` section, the role of
            ``launch.sagemaker`` and ``launch.failure_behavior`` are read.
        layout: Where the experiment was (or will be) uploaded.
        region: The AWS region of the jobs (APP_REGION).
        training_job: TRAINING_JOB_ARN; defaults to ``launch.robomaker.training_job``
            or ``<job_prefix or experiment name>-<UTC yyyymmddHHMMSS>``.
        account_id: ROBOMAKER_SIMULATION_JOB_ACCOUNT_ID; defaults to the role's account.
        token: Makes each clientRequestToken; defaults to a random UUID.

    Returns:
        The requests, in the order of ``experiment.worlds``.

    Raises:
        ConfigError: The role or the simulation application is missing or malformed,
            or a request would not satisfy the service model.
        NotSimappTrack: A world's track is not one of the simulation application's
            (see :func:`deepracer.simapp.simapp_world_name`).
    """
    role, application, account, problems = _config_settings(
        experiment, layout, region=region, account_id=account_id
    )
    if problems:
        raise ConfigError("cannot build RoboMaker requests:\n  " + "\n  ".join(problems))
    launch = experiment.launch
    job = (
        training_job
        or launch.robomaker.training_job
        or _training_job_name(launch.sagemaker.job_prefix or experiment.name, datetime.now(UTC))
    )
    settings = _Settings(
        role=role,
        application=application,
        account_id=account,
        region=region,
        training_job=job,
        tags={"deepracer:experiment": _tag(experiment.name)},
    )
    make_token = token or _default_token
    requests = [
        _request(experiment, layout, settings, world, index, make_token())
        for index, world in enumerate(experiment.worlds)
    ]
    for world, request in zip(experiment.worlds, requests, strict=True):
        problems = _request_problems(request)
        if problems:
            raise ConfigError(
                f"the RoboMaker request for world {world!r} does not satisfy"
                " CreateSimulationJob:\n  " + "\n  ".join(problems)
            )
    return requests


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"not JSON serialisable: {_type_name(value)}")


def format_requests(requests: Sequence[Mapping[str, Any]]) -> str:
    """Returns the requests as a JSON array (indent 2), for ``--dry-run``."""
    return json.dumps([dict(r) for r in requests], indent=2, default=_jsonable)


def submit(requests: Sequence[Mapping[str, Any]]) -> NoReturn:
    """Refuses to submit: AWS RoboMaker is retired.

    Args:
        requests: The requests that would have been submitted.

    Raises:
        DeepRacerError: Always, with :data:`RETIRED_MESSAGE`.
    """
    raise DeepRacerError(f"{RETIRED_MESSAGE} ({len(requests)} request(s) not submitted.)")
