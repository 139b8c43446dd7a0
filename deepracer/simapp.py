"""The DeepRacer simulation application's ``training_params.yaml``.

The simapp (aws-deepracer-community/deepracer-simapp) reads one YAML file per rollout
worker, named by ``S3_YAML_NAME`` under ``SAGEMAKER_SHARED_S3_PREFIX``;
deepracer-for-cloud (DRfC) writes it with ``scripts/training/prepare-config.py`` and
DeepRacer on AWS reads it back when it imports a model. ``deepracer upload`` and
``deepracer export`` both write it through this module.

Every key and default below was read from DRfC's ``scripts/training/prepare-config.py``
(commit 2eb1a1f, with the ``DR_*`` values of ``defaults/template-run.env``) unless its
comment names another source; the simapp's own ``sample-config/
sample-training_params.yaml`` and its ``bundle/markov`` readers (commit 01f5f01) were
checked for each. Object avoidance and head-to-bot worlds add their race type's
section as prepare-config writes it (:func:`deepracer.envs.objects.simapp_race_params`);
the key for a MinIO endpoint (``S3_ENDPOINT_URL``) is left out.

``WORLD_NAME`` must name one of the simapp's 127 worlds, which are exactly the route
files shipped in :mod:`deepracer.tracks.catalog`; a world on any other track (the
built-in ``oval``, a generated or a user's route file) has no ``WORLD_NAME``.

Contents:
    TRAINING_PARAMS: the file's name.
    training_params_name: the file's name for one of several workers.
    S3Keys: where the simapp finds a model's files.
    NotSimappTrack: the error for a world the simapp cannot load.
    simapp_world_name: an experiment world to the simapp's WORLD_NAME.
    training_params: one world's mapping.
    dump_training_params: the mapping as DRfC's YAML text.
    droa_training_params: the mapping as DeepRacer on AWS's import reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

import yaml

from deepracer.envs.objects import simapp_race_params
from deepracer.envs.world import RandomizationConfig, WorldConfig, load_world
from deepracer.errors import DeepRacerError
from deepracer.experiment import ExperimentConfig, env_config
from deepracer.tracks import get_track
from deepracer.tracks.catalog import is_shipped, shipped_names, shipped_route

__all__ = [
    "RUN_ENV",
    "TRAINING_PARAMS",
    "NotSimappTrack",
    "S3Keys",
    "droa_training_params",
    "dump_training_params",
    "simapp_world_name",
    "training_params",
    "training_params_name",
]

TrainingParams = dict[str, str | list[str]]
"""A ``training_params.yaml`` mapping: strings, and ``OBJECT_POSITIONS``' list."""

TRAINING_PARAMS = "training_params.yaml"
"""The file's name (DRfC's ``DR_LOCAL_S3_TRAINING_PARAMS_FILE`` default)."""

RUN_ENV = "run.env"
"""DRfC's settings file, from which it writes :data:`TRAINING_PARAMS` at each start."""

# The randomisation factors that act on the car, not on what the camera sees.
_PHYSICAL = frozenset({"friction_scale", "battery"})


def training_params_name(index: int | None = None) -> str:
    """Returns :data:`TRAINING_PARAMS`, or worker ``index``'s (1-based) file name.

    DRfC's multi-config training names worker i's file ``training_params_<i>.yaml``.
    """
    return TRAINING_PARAMS if index is None else f"training_params_{index}.yaml"


@dataclass(frozen=True)
class S3Keys:
    """Where the simapp finds a model's files (bucket, prefix and object keys).

    Attributes:
        bucket: The bucket of every key (``SAGEMAKER_SHARED_S3_BUCKET``).
        prefix: The model's prefix (``SAGEMAKER_SHARED_S3_PREFIX``).
        reward: ``REWARD_FILE_S3_KEY``.
        model_metadata: ``MODEL_METADATA_FILE_S3_KEY``.
        metrics: ``METRICS_S3_OBJECT_KEY``.
    """

    bucket: str
    prefix: str
    reward: str
    model_metadata: str
    metrics: str


class NotSimappTrack(DeepRacerError):
    """A world's track is not one of the simapp's, so it has no ``WORLD_NAME``.

    Attributes:
        world: The world as the experiment names it.
        track: The world's track as the world file names it.
    """

    def __init__(self, world: str, track: str, message: str) -> None:
        super().__init__(message)
        self.world = world
        self.track = track


def _shipped_route(world: str, config: WorldConfig) -> Path:
    """The shipped route file a world drives on; raises if it has none."""
    track = get_track(config.track)
    if is_shipped(track.source):
        return Path(track.source)
    origin = (
        "a built-in track" if track.source.startswith("builtin:") else f"route file {track.source}"
    )
    names = shipped_names()
    raise NotSimappTrack(
        world,
        config.track,
        f"world {world!r}: its track {config.track!r} ({origin}) is not a DeepRacer"
        " simulator track, so deepracer-for-cloud, DeepRacer on AWS and RoboMaker cannot"
        f" load it. Their WORLD_NAME is one of the simulator's {len(names)} tracks"
        f" (shipped with deepracer): {', '.join(names)}",
    )


def simapp_world_name(world: str) -> str:
    """Returns the simapp's ``WORLD_NAME`` of an experiment world.

    A world named like a simapp world (``reinvent_wood``, ``envs/reinvent_wood.yaml``)
    keeps that name when it drives the same route, so the simapp picks that world's
    floor; any other world goes by its route file's name, as DeepRacer names worlds.

    Args:
        world: A world name, world file or track name (see
            :func:`deepracer.envs.world.load_world`).

    Raises:
        NotSimappTrack: The world's track is not a shipped route file (a built-in or
            generated track, a route file of one's own, or one shadowing a shipped
            name on ``DEEPRACER_TRACKS_PATH``); the message lists the simapp's tracks.
        DeepRacerError: The world or its track cannot be loaded.
    """
    route = _shipped_route(world, load_world(world))
    own = Path(world).stem
    own_route = shipped_route(own)
    # reinvent_carpet, _concrete and _wood are reinvent_base's route on other floors.
    if own_route is not None and own_route.read_bytes() == route.read_bytes():
        return own
    return route.stem


def _flag(value: bool) -> str:
    # The simapp parses these with markov.utils.str2bool, which ignores case.
    return "true" if value else "false"


def _randomizes_images(config: WorldConfig) -> bool:
    """Does the world randomise what the camera sees (any non-physical factor)?"""
    default = RandomizationConfig()
    return any(
        getattr(config.randomization, f.name) != getattr(default, f.name)
        for f in fields(RandomizationConfig)
        if f.name not in _PHYSICAL
    )


def training_params(
    experiment: ExperimentConfig,
    world: str,
    keys: S3Keys,
    *,
    region: str,
    workers: int,
    job_type: str = "TRAINING",
) -> TrainingParams:
    """One world's ``training_params.yaml`` mapping, all values strings.

    Args:
        experiment: The experiment; its name is the car's, its ``env.start`` section
            gives the start settings and ``train.eval_trials`` MIN_EVAL_TRIALS.
        world: The world this worker drives (see :func:`simapp_world_name`).
        keys: Where the model's files are.
        region: ``AWS_REGION``.
        workers: Rollout workers of the job; above 1, each has its own file
            (:func:`training_params_name`), as DRfC's multi-config training does.
        job_type: ``JOB_TYPE``.

    Raises:
        NotSimappTrack: The world's track is not a simapp track.
    """
    name = simapp_world_name(world)
    config = load_world(world)
    start = env_config(experiment, world).start
    params: TrainingParams = {
        "AWS_REGION": region,
        "JOB_TYPE": job_type,
        # The simapp takes the stream from its environment; DRfC leaves this empty.
        "KINESIS_VIDEO_STREAM_NAME": "",
        "METRICS_S3_BUCKET": keys.bucket,
        "METRICS_S3_OBJECT_KEY": keys.metrics,
        "MODEL_METADATA_FILE_S3_KEY": keys.model_metadata,
        "REWARD_FILE_S3_KEY": keys.reward,
        # DRfC's placeholders; the simapp does not read either from this file.
        "ROBOMAKER_SIMULATION_JOB_ACCOUNT_ID": "Dummy",
        "NUM_WORKERS": str(workers),
        "SAGEMAKER_SHARED_S3_BUCKET": keys.bucket,
        "SAGEMAKER_SHARED_S3_PREFIX": keys.prefix,
        "SIMTRACE_S3_BUCKET": keys.bucket,
        "SIMTRACE_S3_PREFIX": keys.prefix,
        "TRAINING_JOB_ARN": "arn:Dummy",
        "BODY_SHELL_TYPE": "deepracer",
        # Mandatory in the simapp (TRAINING_MANDATORY_YAML_KEY); it paints Black without.
        "CAR_COLOR": "Red",
        "CAR_NAME": experiment.name,
        "WORLD_NAME": name,
        "DISPLAY_NAME": experiment.name,
        "RACER_NAME": experiment.name,
        "REVERSE_DIR": _flag(config.reverse),
        "ALTERNATE_DRIVING_DIRECTION": _flag(start.alternate_direction),
        "CHANGE_START_POSITION": _flag(start.round_robin_advance > 0),
        "ROUND_ROBIN_ADVANCE_DIST": f"{start.round_robin_advance:g}",
        "START_POSITION_OFFSET": f"{start.offset:g}",
        # The simapp's randomisation recolours lights and track (markov/
        # domain_randomizations): the nearest thing to ours of the camera image.
        "ENABLE_DOMAIN_RANDOMIZATION": _flag(_randomizes_images(config)),
        # The greedy episodes after each rollout (rollout_worker.py), as ours between
        # updates.
        "MIN_EVAL_TRIALS": str(experiment.train.eval_trials),
        "CAMERA_MAIN_ENABLE": "True",
        "CAMERA_SUB_ENABLE": "True",
        # Ours keeps best.zip by mean greedy progress too.
        "BEST_MODEL_METRIC": "progress",
        "ENABLE_EXTRA_KVS_OVERLAY": "False",
        # Not DRfC's: the simapp's sample-config/sample-training_params.yaml and the
        # seed's RoboMaker environment; 0 trains until stopped.
        "NUMBER_OF_EPISODES": "0",
    }
    params.update(simapp_race_params(config.race_type, config.obstacles, config.bot_cars))
    if workers > 1:
        # prepare-config.py sets MULTI_CONFIG 'True' before it writes the files of
        # workers 2..n (the first is written before, so lacks it). The simapp reads
        # MULTI_CONFIG only from its environment (docker/files/robomaker/run.sh).
        params["MULTI_CONFIG"] = "True"
    return params


def dump_training_params(params: Mapping[str, str | list[str]]) -> bytes:
    """YAML text as DRfC writes it (every value single-quoted, leading '---').

    Keys are sorted, as ``yaml.dump`` sorts them in prepare-config.py; quoting every
    value keeps readers from guessing types ('0' stays a string, 'True' too).
    """
    text = yaml.safe_dump(
        dict(params), default_flow_style=False, default_style="'", explicit_start=True
    )
    return text.encode()


_DIRECTIONS = {"_cw": True, "_ccw": False}
"""Route file suffixes of the two-direction tracks -> clockwise."""


def _yaml_bool(text: str) -> bool:
    return text == "true"


_DROA_TYPED: dict[str, Callable[[str], int | bool]] = {
    "NUMBER_OF_OBSTACLES": int,
    "RANDOMIZE_OBSTACLE_LOCATIONS": _yaml_bool,
    "IS_OBSTACLE_BOT_CAR": _yaml_bool,
}
"""Object-avoidance keys DeepRacer on AWS reads as YAML numbers and booleans."""


def droa_training_params(params: Mapping[str, str | list[str]]) -> bytes:
    """``training_params.yaml`` for DeepRacer on AWS's model import.

    DeepRacer on AWS names a two-direction track by its id without the route file's
    ``_cw``/``_ccw`` and reads the direction from ``TRACK_DIRECTION_CLOCKWISE``, which
    it compares with a YAML boolean ``true`` (aws-solutions/deepracer-on-aws,
    ``ImportHelper.getTrackConfig``); one-direction tracks get no such key. Its
    ``parseObjectAvoidanceConfig`` takes ``NUMBER_OF_OBSTACLES`` as a number and
    compares ``RANDOMIZE_OBSTACLE_LOCATIONS`` with ``true``, so those are typed too.
    """
    out: dict[str, str | list[str] | bool | int] = dict(params)
    for key, convert in _DROA_TYPED.items():
        value = params.get(key)
        if isinstance(value, str):
            out[key] = convert(value)
    world = str(params["WORLD_NAME"])
    for suffix, clockwise in _DIRECTIONS.items():
        if world.endswith(suffix):
            out["WORLD_NAME"] = world.removesuffix(suffix)
            out["TRACK_DIRECTION_CLOCKWISE"] = clockwise
    text = yaml.safe_dump(out, default_flow_style=False, explicit_start=True)
    return text.encode()
