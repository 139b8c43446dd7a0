"""Experiment files (``experiments/*.yaml``): everything one training run needs.

An experiment names its worlds, observation, action space, reward function and
preset, and sets the training budget, the evaluation and (for the cloud) the launch
settings. It is read with ``yaml.safe_load`` into frozen dataclasses; unknown keys are
errors that suggest the closest valid key. ``--set section.key=value`` overrides
are applied to the YAML mapping before validation, each value parsed as YAML.

Contents:
    TrainConfig, WorkersConfig, EvalConfig, LaunchConfig, SageMakerConfig, RoboMakerConfig,
        ExperimentConfig: the schema.
    load_experiment: a shipped name or a YAML path (plus overrides) to an ExperimentConfig.
    apply_overrides: ``section.key=value`` strings applied to a mapping.
    env_config: the :class:`~deepracer.envs.EnvConfig` of one world of an experiment.
    dump_experiment, experiment_from_mapping: the resolved copy in a run directory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from deepracer.config.checks import above, at_least, optional, positive
from deepracer.config.loader import from_mapping, load_yaml, to_mapping
from deepracer.config.resources import resolve
from deepracer.envs.config import EnvConfig
from deepracer.errors import ConfigError

__all__ = [
    "EvalConfig",
    "ExperimentConfig",
    "LaunchConfig",
    "RoboMakerConfig",
    "SageMakerConfig",
    "TrainConfig",
    "WorkersConfig",
    "apply_overrides",
    "dump_experiment",
    "env_config",
    "experiment_from_mapping",
    "load_experiment",
]


@dataclass(frozen=True, kw_only=True)
class WorkersConfig:
    """Where the simulation workers run (``train.workers``; see training.workers)."""

    backend: Literal["local", "ray"] = "local"
    """``local``: one process per worker on this machine; ``ray``: one Ray actor per
    worker on any node of a Ray cluster (the ``ray`` extra). ``ray`` (or per_world above
    1) puts the cars in workers even under ``deepracer train``."""
    per_world: int = field(default=1, metadata={"check": positive})
    """Workers per world; each world's cars are dealt among them."""
    address: str | None = None
    """Ray only: ``auto`` or ``HOST:PORT`` of a running cluster; default: start Ray on
    this machine for the run."""
    cpus_per_worker: float = field(default=1.0, metadata={"check": positive})
    """Ray only: CPUs each worker actor reserves (placement on the cluster)."""


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """The training budget and bookkeeping."""

    total_timesteps: int = field(default=30_000, metadata={"check": positive})
    """Environment steps to train for (all sub-environments together)."""
    max_minutes: float | None = field(default=None, metadata={"check": optional(positive)})
    """Wall-clock budget [min]; training stops at whichever limit comes first."""
    n_envs: int | None = field(default=None, metadata={"check": optional(positive)})
    """Sub-environments, spread over the worlds; defaults to the preset's value."""
    seed: int = 0
    """Seeds the networks, the environments and the noise."""
    checkpoint_every: int = field(default=10_000, metadata={"check": positive})
    """Environment steps between checkpoints (taken at the end of an update)."""
    eval_every: int = field(default=10_000, metadata={"check": positive})
    """Environment steps between greedy evaluations (the best one is kept as best.zip)."""
    eval_trials: int = field(default=3, metadata={"check": positive})
    """Greedy trials per periodic evaluation."""
    simtrace: bool = True
    """Write training-simtrace/{N}-iteration.csv files."""
    torch_threads: int = field(default=1, metadata={"check": positive})
    """PyTorch CPU threads (1 is fastest for small networks on 2 cores)."""
    imitation_steps: int = field(default=0, metadata={"check": at_least(0)})
    """Expert steps of the race-line driver to clone before RL (0 = off; PPO only;
    see deepracer.training.imitation). Counts against max_minutes."""
    imitation_epochs: int = field(default=3, metadata={"check": positive})
    """Passes over the expert data."""
    imitation_rounds: int = field(default=0, metadata={"check": at_least(0)})
    """DAgger rounds after the first cloning: the policy drives imitation_steps / 2
    steps labelled by the expert, then it is fitted again (half of imitation_epochs
    passes over the new steps and a fresh sample of the earlier ones)."""
    workers: WorkersConfig = field(default_factory=WorkersConfig)
    """Simulation workers (local processes or Ray actors)."""


@dataclass(frozen=True, kw_only=True)
class EvalConfig:
    """The evaluation at the end of training (and the console-style defaults)."""

    trials: int = field(default=3, metadata={"check": positive})
    """Greedy trials from the start line."""
    world: str | None = None
    """World to evaluate on; defaults to the first training world."""
    max_steps: int = field(default=5_000, metadata={"check": positive})
    """Step cap per trial."""


_minutes = above(0, "a number of minutes")


@dataclass(frozen=True, kw_only=True)
class SageMakerConfig:
    """A SageMaker training job (``deepracer launch --backend sagemaker``).

    The job runs the training image built from ``docker/Dockerfile``, whose entry
    point trains the uploaded experiment with one simulation worker process per world
    (the DeepRacer on AWS pattern).
    """

    region: str | None = None
    """AWS region; defaults to the AWS configuration (AWS_REGION, ~/.aws/config)."""
    role: str = ""
    """ARN of the IAM role SageMaker assumes (arn:aws:iam::ACCOUNT:role/NAME)."""
    image: str = ""
    """Training image URI in ECR (docker/Dockerfile built and pushed)."""
    instance_type: str = "ml.c5.2xlarge"
    """A SageMaker training instance type."""
    instance_count: int = field(default=1, metadata={"check": positive})
    """Instances; above 1 they form a Ray cluster (head on the first host, which trains)
    and the simulation workers run as Ray actors on all of them: raise
    train.workers.per_world so there is a worker for every host's CPUs."""
    volume_gb: int = field(default=30, metadata={"check": positive})
    """EBS volume per instance [GB]."""
    max_run_minutes: float = field(default=60.0, metadata={"check": _minutes})
    """MaxRuntimeInSeconds / 60: the job is stopped after this."""
    spot: bool = False
    """Managed spot training; checkpoints go to S3 so an interrupted job resumes."""
    max_wait_minutes: float | None = field(default=None, metadata={"check": optional(positive)})
    """Spot only: total time including waiting for capacity (default 2 x max_run)."""
    job_prefix: str = ""
    """Training job names are ``<job_prefix>-<UTC time>``; defaults to the experiment name."""
    subnets: tuple[str, ...] = ()
    """VPC subnets for the job (optional; both or neither with security_groups)."""
    security_groups: tuple[str, ...] = ()
    """VPC security groups for the job."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags on the training job."""
    sdk: Literal["boto3", "modeltrainer"] = "boto3"
    """``boto3``: create_training_job directly (aws extra); ``modeltrainer``: through
    the SageMaker Python SDK 3.x ModelTrainer (sagemaker extra)."""


@dataclass(frozen=True, kw_only=True)
class RoboMakerConfig:
    """The seed's per-world RoboMaker simulation jobs.

    Requests only: the service is retired; ``deepracer launch --backend robomaker
    --dry-run`` prints them.
    """

    simulation_application: str = ""
    """ARN of the DeepRacer simulation application."""
    application_version: str = "$LATEST"
    """Version of the simulation application."""
    role: str = ""
    """IAM role ARN the jobs run as; defaults to sagemaker.role (the seed uses one)."""
    max_job_minutes: float = field(default=60.0, metadata={"check": _minutes})
    """maxJobDurationInSeconds / 60."""
    training_job: str = ""
    """TRAINING_JOB_ARN the simulations feed; defaults to a new job name."""
    subnets: tuple[str, ...] = ()
    """VPC subnets (the simulations reach the trainer's Redis through the VPC)."""
    security_groups: tuple[str, ...] = ()
    """VPC security groups."""
    assign_public_ip: bool = True
    """vpcConfig.assignPublicIp."""
    kinesis_video_stream: str = ""
    """KINESIS_VIDEO_STREAM_NAME (empty: none)."""


@dataclass(frozen=True, kw_only=True)
class LaunchConfig:
    """Where and how the experiment runs (``deepracer launch``)."""

    backend: Literal["local", "sagemaker", "robomaker"] = "local"
    """``local``: a learner with one simulation worker process per world on this
    machine; ``sagemaker``: one training job; ``robomaker``: the seed's requests."""
    s3: str = ""
    """Artifact location ``s3://BUCKET/PREFIX`` for uploads and cloud jobs."""
    endpoint_url: str | None = None
    """S3-compatible endpoint (MinIO, moto server); default: AWS S3."""
    failure_behavior: Literal["Fail", "Continue"] = "Fail"
    """When a simulation worker dies: ``Fail`` stops the run (with a checkpoint);
    ``Continue`` restarts the worker, up to max_restarts times per world."""
    max_restarts: int = field(default=3, metadata={"check": at_least(0)})
    """Restarts per world under ``Continue``; one more crash stops the run."""
    worker_timeout: float = field(default=300.0, metadata={"check": positive})
    """Seconds a worker may take to answer one step before it counts as crashed."""
    sagemaker: SageMakerConfig = field(default_factory=SageMakerConfig)
    """SageMaker training job settings."""
    robomaker: RoboMakerConfig = field(default_factory=RoboMakerConfig)
    """RoboMaker simulation job settings (legacy)."""


@dataclass(frozen=True, kw_only=True)
class ExperimentConfig:
    """One training experiment."""

    name: str = ""
    """Experiment name (defaults to the file stem)."""
    description: str = ""
    """One line for listings."""
    worlds: tuple[str, ...] = ("oval",)
    """Worlds to train on; sub-environments are spread over them in order."""
    observation: str | tuple[str, ...] = "state"
    """Observation type name(s) (see deepracer.envs.observation.OBSERVATIONS)."""
    action_space: str = "console_default"
    """A model_metadata.json file: a name in actions/ or a path."""
    reward: str = "centerline"
    """A reward file: a name in rewards/ or a path."""
    preset: str = "quickstart_ppo"
    """A preset: a name in presets/ or a YAML path."""
    env: dict[str, Any] = field(default_factory=dict)
    """Further env settings (start, episode, vehicle, state, lidar, camera, dt)."""
    train: TrainConfig = field(default_factory=TrainConfig)
    """Training budget."""
    eval: EvalConfig = field(default_factory=EvalConfig)
    """Final evaluation."""
    launch: LaunchConfig = field(default_factory=LaunchConfig)
    """Launch settings."""

    def __post_init__(self) -> None:
        if not self.worlds:
            raise ConfigError("worlds: name at least one world")
        reserved = {"world", "observation", "action_space", "reward"} & set(self.env)
        if reserved:
            raise ConfigError(
                f"env: set {', '.join(sorted(reserved))} at the top level of the experiment"
                " (as worlds / observation / action_space / reward), not under env"
            )


def apply_overrides(data: dict[str, Any], overrides: Sequence[str], *, source: str) -> None:
    """Applies ``section.key=value`` overrides to a mapping in place.

    Args:
        data: The experiment mapping read from YAML.
        overrides: Strings like ``train.total_timesteps=5000``; values are parsed as YAML.
        source: Names the origin in error messages.

    Raises:
        ConfigError: An override is not of the form ``path=value``.
    """
    for item in overrides:
        path, sep, text = item.partition("=")
        if not sep or not path:
            raise ConfigError(f"{source}: --set {item!r}: expected section.key=value")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(
                f"{source}: --set {item!r}: value is not valid YAML ({exc})"
            ) from None
        keys = path.split(".")
        node = data
        for key in keys[:-1]:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{source}: --set {item!r}: {key} is not a section")
            node = child
        node[keys[-1]] = value


def load_experiment(name_or_path: str | Path, overrides: Sequence[str] = ()) -> ExperimentConfig:
    """Loads and validates an experiment, including its env section.

    Raises:
        ConfigError: The file or an override is invalid; the message names the file
            and the field.
    """
    path = resolve("experiments", name_or_path)
    data = load_yaml(path)
    if not data:
        # Every key has a default, so an empty file would train something nobody chose.
        raise ConfigError(
            f"{path}: the experiment file is empty; an experiment names at least its"
            " worlds, observation, action_space, reward and preset (see"
            " experiments/quickstart.yaml)"
        )
    apply_overrides(data, overrides, source=str(path))
    data.setdefault("name", path.stem)
    if isinstance(data.get("worlds"), str):
        data["worlds"] = [data["worlds"]]
    experiment = from_mapping(ExperimentConfig, data, source=str(path))
    env_config(experiment, experiment.worlds[0], source=str(path))  # validate env: now
    return experiment


def env_config(
    experiment: ExperimentConfig,
    world: str,
    *,
    action_space: Any = None,
    evaluation: bool = False,
    source: str = "experiment",
) -> EnvConfig:
    """Builds the env config of one world of the experiment.

    Args:
        experiment: The experiment.
        world: The world name or path.
        action_space: The resolved ``action_space`` value (defaults to the env default).
        evaluation: Start every episode at the line (no round robin) with the eval cap.
        source: Names the origin in error messages.
    """
    data: dict[str, Any] = dict(experiment.env)
    data.update(world=world, observation=experiment.observation, reward=experiment.reward)
    if action_space is not None:
        data["action_space"] = action_space
    config = from_mapping(EnvConfig, data, source=f"{source}: env")
    if evaluation:
        config = replace(
            config,
            start=replace(config.start, round_robin_advance=0.0, offset=0.0),
            episode=replace(config.episode, max_steps=experiment.eval.max_steps),
        )
    return config


def pin_vehicle(experiment: ExperimentConfig) -> ExperimentConfig:
    """Returns ``experiment`` with its car written out in full under ``env.vehicle``.

    A run keeps the car it was trained with even if a profile file or the default
    profile changes later: resuming, evaluating and exporting it drive the same car.
    """
    from deepracer.envs.config import vehicle_of

    cars = {world: vehicle_of(env_config(experiment, world)) for world in experiment.worlds}
    car = cars[experiment.worlds[0]]
    if any(other != car for other in cars.values()):
        raise ConfigError(
            f"worlds: {', '.join(experiment.worlds)} drive different vehicles; a run trains"
            " one car (set env.vehicle to choose it)"
        )
    env = {**experiment.env, "vehicle": to_mapping(car)}
    return replace(experiment, env=env)


def dump_experiment(experiment: ExperimentConfig) -> str:
    """Returns the resolved experiment as YAML (written into every run directory)."""
    return yaml.safe_dump(to_mapping(experiment), sort_keys=False)


def experiment_from_mapping(data: Mapping[str, Any], *, source: str) -> ExperimentConfig:
    """Validates an already-resolved experiment mapping (e.g. a run's saved copy)."""
    return from_mapping(ExperimentConfig, dict(data), source=source)
