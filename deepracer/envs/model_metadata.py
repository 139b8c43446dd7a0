"""DeepRacer ``model_metadata.json``: read, validate, write and generate action spaces.

A ``model_metadata.json`` travels with every DeepRacer model: it maps the policy's
output to steering angles [degrees] and speeds [m/s] and names the sensors, network
and algorithm. This module reads it with the simapp's defaults for absent keys
(``markov/boto/s3/files/model_metadata.py::parse_model_metadata``) but stricter
checks, so a file that validates here also loads in the DeepRacer console, the
simapp and on the car. Every violation raises one :class:`~deepracer.errors.ConfigError`
naming the file, the entry (e.g. ``action_space[3].speed``) and the rule.

Contents:
    SENSOR_TO_OBSERVATION: DeepRacer sensor names -> this simulator's observation names.
    observation_to_sensors: the reverse, for writing the ``sensor`` key.
    ModelMetadata: one validated ``model_metadata.json``.
    parse_model_metadata: a mapping (the parsed JSON) -> :class:`ModelMetadata`.
    load_model_metadata: a file path or a shipped name in ``actions/`` -> :class:`ModelMetadata`.
    write_model_metadata: write one atomically, as pretty JSON.
    model_metadata_dict: the JSON layout of a metadata file, without validating.
    range_warnings: what the simulator would clip in an action space.
    duplicate_actions: the commands a discrete action space lists twice.
    generate_seed_style: the seed notebook's generator (min/max/resolution grids).
    generate_console_style: DeepRacer on AWS's generator (levels up to a maximum).
    CAMERA_SENSORS, LIDAR_SENSORS, NEURAL_NETWORKS, TRAINING_ALGORITHMS,
        ACTION_SPACE_TYPES, TOP_LEVEL_KEYS, LIDAR_CONFIG_DEFAULTS: the valid values.
    DEFAULT_VERSION: the ``version`` written for new files ("5").
    MAX_GENERATED_ACTIONS: the generators' size limit.

Units: steering angles in degrees (positive = left), speeds in m/s, lidar
``clipping_dist`` in metres. Limits (the simapp's clip when it sends commands):
steering -30..30 degrees, speed 0.1..4 m/s.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from deepracer.config import resources
from deepracer.envs.action import (
    MAX_SPEED,
    MAX_STEERING_DEG,
    MIN_SPEED,
    ActionType,
    make_action_type,
)
from deepracer.errors import ConfigError, suggest
from deepracer.io import atomic_write_text

__all__ = [
    "ACTION_SPACE_TYPES",
    "CAMERA_SENSORS",
    "DEFAULT_VERSION",
    "LIDAR_CONFIG_DEFAULTS",
    "LIDAR_SENSORS",
    "MAX_GENERATED_ACTIONS",
    "NEURAL_NETWORKS",
    "SENSOR_TO_OBSERVATION",
    "TOP_LEVEL_KEYS",
    "TRAINING_ALGORITHMS",
    "ModelMetadata",
    "duplicate_actions",
    "generate_console_style",
    "generate_seed_style",
    "load_model_metadata",
    "model_metadata_dict",
    "observation_to_sensors",
    "parse_model_metadata",
    "range_warnings",
    "write_model_metadata",
]

ActionSpaceType = Literal["discrete", "continuous"]
TrainingAlgorithm = Literal["clipped_ppo", "sac"]
NeuralNetwork = Literal[
    "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
    "DEEP_CONVOLUTIONAL_NETWORK",
    "DEEP_CONVOLUTIONAL_NETWORK_DEEP",
]

ACTION_SPACE_TYPES: tuple[ActionSpaceType, ...] = ("discrete", "continuous")
TRAINING_ALGORITHMS: tuple[TrainingAlgorithm, ...] = ("clipped_ppo", "sac")
NEURAL_NETWORKS: tuple[NeuralNetwork, ...] = (
    "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
    "DEEP_CONVOLUTIONAL_NETWORK",
    "DEEP_CONVOLUTIONAL_NETWORK_DEEP",
)
CAMERA_SENSORS = ("observation", "FRONT_FACING_CAMERA", "LEFT_CAMERA", "STEREO_CAMERAS")
"""Camera sensors; a model has exactly one (``observation`` is the pre-v2 name)."""
LIDAR_SENSORS = ("LIDAR", "SECTOR_LIDAR", "DISCRETIZED_SECTOR_LIDAR")
"""Lidar sensors; a model has at most one."""
TOP_LEVEL_KEYS = (
    "action_space",
    "sensor",
    "lidar_config",
    "neural_network",
    "training_algorithm",
    "action_space_type",
    "version",
)
"""The keys of a ``model_metadata.json``, in the order DeepRacer writes them."""
LIDAR_CONFIG_DEFAULTS: dict[str, int | float] = {
    "num_sectors": 8,
    "num_values_per_sector": 8,
    "clipping_dist": 2.0,
}
"""The simapp's ``DiscretizedSectorLidarDefaults`` for absent ``lidar_config`` keys."""

SENSOR_TO_OBSERVATION: dict[str, str] = {
    "observation": "camera",  # the front camera's name before simapp version 2
    "FRONT_FACING_CAMERA": "camera",
    "LEFT_CAMERA": "camera",
    "STEREO_CAMERAS": "stereo_camera",
    "LIDAR": "lidar",
    "SECTOR_LIDAR": "sector_lidar",
    "DISCRETIZED_SECTOR_LIDAR": "discretized_sector_lidar",
}
"""DeepRacer sensor name -> the observation name in :mod:`deepracer.envs.observation`."""

# The reverse mapping; ``state`` (exact car and track numbers) has no DeepRacer sensor.
_OBSERVATION_TO_SENSOR: dict[str, str | None] = {
    "camera": "FRONT_FACING_CAMERA",
    "stereo_camera": "STEREO_CAMERAS",
    "lidar": "LIDAR",
    "sector_lidar": "SECTOR_LIDAR",
    "discretized_sector_lidar": "DISCRETIZED_SECTOR_LIDAR",
    "state": None,
}

DEFAULT_VERSION = "5"
"""The ``version`` DeepRacer for Cloud writes for clipped PPO models."""
_LIDAR_SAMPLES = 64  # the simapp's LIDAR_360_DEGREE_SAMPLE: num_sectors must divide it
_CLIPPING_DIST_RANGE = (0.15, 12.0)  # [m], the simapp's lidar min/max range
_DECIMALS = 6  # generated values are rounded to this to remove float representation noise
MAX_GENERATED_ACTIONS = 10_000
"""Generators refuse larger action spaces (almost surely a mistyped resolution)."""


def observation_to_sensors(observation: str | Sequence[str]) -> list[str]:
    """Returns the DeepRacer ``sensor`` list for this simulator's observation name(s).

    ``camera`` maps to ``FRONT_FACING_CAMERA``. The ``state`` observation (exact
    numbers from the simulator) has no DeepRacer sensor and maps to nothing: a model
    trained on it cannot run on the physical car or in the DeepRacer console. The
    result is not necessarily a valid DeepRacer sensor list: DeepRacer needs exactly
    one camera, so e.g. ``"lidar"`` alone gives ``["LIDAR"]``, which
    :class:`ModelMetadata` rejects.

    Args:
        observation: One observation name or several (a ``Dict`` observation).

    Raises:
        ConfigError: An unknown observation name (with the closest valid one).

    Example:
        >>> observation_to_sensors(("camera", "lidar"))
        ['FRONT_FACING_CAMERA', 'LIDAR']
        >>> observation_to_sensors("state")
        []
    """
    names = [observation] if isinstance(observation, str) else list(observation)
    sensors: list[str] = []
    for name in names:
        if name not in _OBSERVATION_TO_SENSOR:
            raise ConfigError(
                f"observation: unknown type {name!r}.{suggest(name, _OBSERVATION_TO_SENSOR)}"
                f" Valid types: {', '.join(_OBSERVATION_TO_SENSOR)}"
            )
        sensor = _OBSERVATION_TO_SENSOR[name]
        if sensor is not None and sensor not in sensors:
            sensors.append(sensor)
    return sensors


@dataclass(frozen=True)
class ModelMetadata:
    """One validated DeepRacer ``model_metadata.json``.

    Construction validates every field (see :func:`parse_model_metadata` for the
    rules); ``dataclasses.replace`` re-validates.

    Attributes:
        action_space: Discrete: a list of ``{"steering_angle": deg, "speed": m/s}``
            (the action index is the position; ``index`` keys are checked and
            dropped). Continuous: ``{"steering_angle": {"low", "high"}, "speed":
            {"low", "high"}}``. Numbers keep their JSON type (ints stay ints).
        action_space_type: ``discrete`` or ``continuous``; must match ``action_space``.
        training_algorithm: ``clipped_ppo`` or ``sac`` (SAC needs a continuous space).
        sensor: DeepRacer sensor names: one camera, at most one lidar.
        neural_network: The camera network's depth.
        version: The simapp version the file targets, as written (DeepRacer for Cloud
            writes ``"5"``); numbers and numeric strings are accepted.
        lidar_config: ``num_sectors``, ``num_values_per_sector``, ``clipping_dist`` [m]
            overrides, or None when the file has none.
        source: Where the metadata came from, for error messages (not written).

    Example:
        >>> meta = ModelMetadata(action_space=[{"steering_angle": 0, "speed": 1.0}])
        >>> meta.num_actions, meta.observation
        (1, 'camera')
    """

    action_space: list[dict[str, Any]] | dict[str, Any]
    action_space_type: ActionSpaceType = "discrete"
    training_algorithm: TrainingAlgorithm = "clipped_ppo"
    sensor: tuple[str, ...] = ("FRONT_FACING_CAMERA",)
    neural_network: NeuralNetwork = "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW"
    version: str | float = DEFAULT_VERSION
    lidar_config: dict[str, Any] | None = None
    source: str = field(default="model_metadata", compare=False, repr=False)

    def __post_init__(self) -> None:
        src = self.source
        kind = _choice(self.action_space_type, "action_space_type", ACTION_SPACE_TYPES, src)
        object.__setattr__(self, "action_space_type", kind)
        object.__setattr__(self, "action_space", _check_action_space(self.action_space, kind, src))
        algorithm = _choice(self.training_algorithm, "training_algorithm", TRAINING_ALGORITHMS, src)
        if algorithm == "sac" and kind != "continuous":
            raise ConfigError(
                f"{src}: training_algorithm: sac needs a continuous action space"
                ' ("action_space_type": "continuous"); use clipped_ppo for a discrete one'
            )
        object.__setattr__(self, "training_algorithm", algorithm)
        network = self.neural_network
        if network not in NEURAL_NETWORKS:
            raise ConfigError(
                f"{src}: neural_network: unknown network {network!r}."
                f"{suggest(str(network), NEURAL_NETWORKS)} Valid: {', '.join(NEURAL_NETWORKS)}"
            )
        simapp_version = _check_version(self.version, src)
        object.__setattr__(self, "sensor", _check_sensor(self.sensor, simapp_version, src))
        if self.lidar_config is not None:
            object.__setattr__(self, "lidar_config", _check_lidar_config(self.lidar_config, src))

    @property
    def num_actions(self) -> int | None:
        """The number of discrete actions; None for a continuous action space."""
        return len(self.action_space) if isinstance(self.action_space, list) else None

    @property
    def simapp_version(self) -> float:
        """``version`` as the number the simapp compares (e.g. 5.0)."""
        return float(self.version)

    @property
    def observation(self) -> str | tuple[str, ...]:
        """This simulator's observation name(s) for ``sensor``, e.g. ``"camera"``.

        One name for one sensor, else a tuple (camera first, as listed).
        """
        names: list[str] = []
        for sensor in self.sensor:
            name = SENSOR_TO_OBSERVATION[sensor]
            if name not in names:
                names.append(name)
        return names[0] if len(names) == 1 else tuple(names)

    @property
    def lidar_settings(self) -> dict[str, int | float]:
        """``lidar_config`` with the simapp's defaults filled in for absent keys."""
        return {**LIDAR_CONFIG_DEFAULTS, **(self.lidar_config or {})}

    def action_type(self) -> ActionType:
        """Returns the env's action type for ``action_space`` (see :mod:`deepracer.envs.action`)."""
        return make_action_type(self.action_space, source=f"{self.source}: action_space")

    def to_dict(self) -> dict[str, Any]:
        """Returns the JSON layout DeepRacer writes (discrete entries get ``index`` keys)."""
        return model_metadata_dict(
            self.action_space,
            action_space_type=self.action_space_type,
            training_algorithm=self.training_algorithm,
            sensor=self.sensor,
            neural_network=self.neural_network,
            version=self.version,
            lidar_config=self.lidar_config,
        )


def model_metadata_dict(
    action_space: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    *,
    action_space_type: str = "discrete",
    training_algorithm: str = "clipped_ppo",
    sensor: Sequence[str] = ("FRONT_FACING_CAMERA",),
    neural_network: str = "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
    version: str | float = DEFAULT_VERSION,
    lidar_config: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Returns a complete ``model_metadata.json`` mapping, WITHOUT validating it.

    For writing generated action spaces that may break the limits (the CLI warns);
    prefer :meth:`ModelMetadata.to_dict`, which only ever describes valid files.
    Discrete entries are written as ``{"steering_angle", "speed", "index"}`` (the
    console's layout), ``index`` being the position.

    Args:
        action_space: A list of ``{steering_angle, speed}`` or continuous ranges.
        action_space_type: ``discrete`` or ``continuous``.
        training_algorithm: ``clipped_ppo`` or ``sac``.
        sensor: DeepRacer sensor names.
        neural_network: One of :data:`NEURAL_NETWORKS`.
        version: The simapp version.
        lidar_config: Written only when given.
    """
    if isinstance(action_space, Mapping):
        space: Any = {
            key: {"low": action_space[key]["low"], "high": action_space[key]["high"]}
            for key in ("steering_angle", "speed")
        }
    else:
        space = [
            {"steering_angle": entry["steering_angle"], "speed": entry["speed"], "index": i}
            for i, entry in enumerate(action_space)
        ]
    out: dict[str, Any] = {"action_space": space, "sensor": list(sensor)}
    if lidar_config is not None:
        out["lidar_config"] = dict(lidar_config)
    out["neural_network"] = neural_network
    out["training_algorithm"] = training_algorithm
    out["action_space_type"] = action_space_type
    out["version"] = version
    return out


def parse_model_metadata(data: Mapping[str, Any], *, source: str) -> ModelMetadata:
    """Validates a parsed ``model_metadata.json`` and applies DeepRacer's defaults.

    Defaults for absent keys (as the simapp): ``action_space_type`` discrete,
    ``training_algorithm`` clipped_ppo, ``neural_network`` SHALLOW; without
    ``version`` the file is version 2 if it has ``sensor``, else version 1 with
    ``sensor`` ``["observation"]`` (the front camera).

    Rules, each violation one :class:`ConfigError` naming ``source`` and the entry:
    no unknown top-level key; ``action_space`` present; discrete entries with numeric
    ``steering_angle`` in [-30, 30] degrees and ``speed`` in [0.1, 4] m/s (an
    ``index`` must equal the position); continuous ``low < high`` within those
    ranges; ``action_space_type`` agreeing with the shape of ``action_space``;
    ``sac`` only with continuous; exactly one camera sensor among
    :data:`CAMERA_SENSORS` and at most one of :data:`LIDAR_SENSORS`; a known
    ``neural_network``; ``lidar_config`` with ``num_sectors`` dividing 64,
    ``num_values_per_sector`` >= 1 and ``clipping_dist`` in [0.15, 12] m. From
    version 2 on DeepRacer requires ``sensor``; below it DeepRacer ignores ``sensor``
    and uses the front camera, so a stereo camera or lidar there is an error.

    Args:
        data: The parsed JSON.
        source: Names the origin (the file) in error messages.

    Raises:
        ConfigError: The first violation found.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: expected a JSON object at the top level, got {_kind(data)}")
    unknown = [key for key in data if key not in TOP_LEVEL_KEYS]
    if unknown:
        hints = "; ".join(f"{key!r}{suggest(str(key), TOP_LEVEL_KEYS)}" for key in unknown)
        raise ConfigError(
            f"{source}: unknown key(s): {hints} Valid keys: {', '.join(TOP_LEVEL_KEYS)}"
        )
    if "action_space" not in data:
        raise ConfigError(
            f"{source}: action_space: missing; every model_metadata.json needs one (a list of"
            ' {"steering_angle", "speed"} or continuous {"low", "high"} ranges)'
        )
    if "version" in data:
        version = data["version"]
        if "sensor" in data:
            sensor = data["sensor"]
        elif _check_version(version, source) >= 2:
            raise ConfigError(
                f"{source}: sensor: missing; DeepRacer requires it from version 2 on"
                ' (e.g. "sensor": ["FRONT_FACING_CAMERA"])'
            )
        else:
            sensor = ["observation"]
    elif "sensor" in data:
        version, sensor = "2", data["sensor"]
    else:
        version, sensor = "1", ["observation"]
    if isinstance(sensor, str) or not isinstance(sensor, Sequence):
        raise ConfigError(
            f'{source}: sensor: expected a list of sensor names (e.g. ["FRONT_FACING_CAMERA"]),'
            f" got {sensor!r}"
        )
    lidar_config = data.get("lidar_config")
    if "lidar_config" in data and not isinstance(lidar_config, Mapping):
        raise ConfigError(
            f"{source}: lidar_config: expected an object of num_sectors, num_values_per_sector,"
            f" clipping_dist, got {lidar_config!r}"
        )
    return ModelMetadata(
        action_space=data["action_space"],
        action_space_type=data.get("action_space_type", "discrete"),
        training_algorithm=data.get("training_algorithm", "clipped_ppo"),
        sensor=tuple(sensor),
        neural_network=data.get("neural_network", "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW"),
        version=version,
        lidar_config=None if lidar_config is None else dict(lidar_config),
        source=source,
    )


def load_model_metadata(name_or_path: str | Path) -> ModelMetadata:
    """Reads and validates a ``model_metadata.json`` (or a YAML file of the same keys).

    Args:
        name_or_path: A file path, or the name of a shipped file in ``actions/``
            (e.g. ``"console_default"``).

    Raises:
        ConfigError: No such file, invalid JSON (with line and column), or a
            violation of the rules of :func:`parse_model_metadata`.
    """
    path = resources.resolve("actions", name_or_path)
    source = str(path)
    if path.suffix in (".yaml", ".yml"):
        from deepracer.config.loader import load_yaml  # only YAML files need it

        return parse_model_metadata(load_yaml(path), source=source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read file ({exc.strerror})") from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates(source))
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{source}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    return parse_model_metadata(data, source=source)


def write_model_metadata(path: str | Path, metadata: ModelMetadata) -> None:
    """Writes ``metadata`` to ``path`` atomically, as 4-space-indented JSON + newline."""
    atomic_write_text(path, json.dumps(metadata.to_dict(), indent=4) + "\n")


def range_warnings(action_space: Sequence[Mapping[str, Any]]) -> list[str]:
    """Returns what the simulator would clip in a discrete action space, one line each.

    The simapp clips commands to steering [-30, 30] degrees and speed [0.1, 4] m/s;
    a file with such values fails validation. Empty when every action is in range.

    Args:
        action_space: ``{"steering_angle", "speed"}`` entries (numbers).
    """
    speeds = sorted({float(a["speed"]) for a in action_space})
    steers = sorted({float(a["steering_angle"]) for a in action_space})
    lines = []
    fast = [v for v in speeds if v > MAX_SPEED]
    slow = [v for v in speeds if v < MIN_SPEED]
    wide = [s for s in steers if abs(s) > MAX_STEERING_DEG]
    if fast:
        lines.append(
            f"speeds above {MAX_SPEED:g} m/s ({_numbers(fast)}) are clipped to"
            f" {MAX_SPEED:g} m/s by the simulator"
        )
    if slow:
        lines.append(
            f"speeds below {MIN_SPEED:g} m/s ({_numbers(slow)}) are raised to"
            f" {MIN_SPEED:g} m/s by the simulator"
        )
    if wide:
        lines.append(
            f"steering angles beyond ±{MAX_STEERING_DEG:g} degrees ({_numbers(wide)}) are"
            f" clipped to ±{MAX_STEERING_DEG:g} by the simulator"
        )
    return lines


def duplicate_actions(metadata: ModelMetadata) -> list[str]:
    """Returns one line per command a discrete action space lists more than once.

    Duplicates are valid, but the policy spreads its probability over copies of one
    command and the console shows them as different actions.
    """
    if not isinstance(metadata.action_space, list):
        return []
    seen: dict[tuple[float, float], list[int]] = {}
    for i, action in enumerate(metadata.action_space):
        key = (float(action["steering_angle"]), float(action["speed"]))
        seen.setdefault(key, []).append(i)
    return [
        f"{metadata.source}: action_space: actions {', '.join(map(str, indices))} are the same"
        f" command (steering {steer:g} deg, speed {speed:g} m/s); the policy splits its"
        " choice between them"
        for (steer, speed), indices in seen.items()
        if len(indices) > 1
    ]


# -- generators ---------------------------------------------------------------------


def generate_seed_style(
    *,
    min_speed: float,
    max_speed: float,
    speed_resolution: float,
    min_steering: float,
    max_steering: float,
    steering_resolution: float,
) -> list[dict[str, Any]]:
    """The seed notebook's action-space generator, without floating-point drift.

    Speeds ``min_speed, min_speed + speed_resolution, ... <= max_speed`` (outer
    loop) times steering angles ``min_steering, ... <= max_steering`` (inner loop),
    both ends inclusive, each entry with its ``index``. The notebook adds the
    resolution repeatedly, which drifts (0.5 + 0.1 + ... misses 1.5); here value k
    is ``min + k * resolution`` rounded to 6 decimals. A quantity whose three
    inputs are ints gives ints, as the notebook's script does. Values beyond the
    simulator's limits are produced as asked (see :func:`range_warnings`).

    Args:
        min_speed: First speed [m/s].
        max_speed: Last speed, inclusive [m/s].
        speed_resolution: Speed step [m/s], > 0.
        min_steering: First steering angle [degrees].
        max_steering: Last steering angle, inclusive [degrees].
        steering_resolution: Steering step [degrees], > 0.

    Raises:
        ConfigError: A non-finite number, a step <= 0 (or below 1e-6), min > max, or
            more than :data:`MAX_GENERATED_ACTIONS` actions.

    Example:
        >>> acts = generate_seed_style(min_speed=4, max_speed=8, speed_resolution=2,
        ...     min_steering=-30, max_steering=30, steering_resolution=15)
        >>> len(acts), acts[-1]
        (15, {'steering_angle': 30, 'speed': 8, 'index': 14})
    """
    speeds = _grid("speed", min_speed, max_speed, speed_resolution)
    steers = _grid("steering", min_steering, max_steering, steering_resolution)
    _check_count(len(speeds) * len(steers))
    return [
        {"steering_angle": steer, "speed": speed, "index": i * len(steers) + j}
        for i, speed in enumerate(speeds)
        for j, steer in enumerate(steers)
    ]


def generate_console_style(
    *, max_steering: float, steering_levels: int, max_speed: float, speed_levels: int
) -> list[dict[str, Any]]:
    """DeepRacer on AWS's discrete action-space generator (``computeDiscreteActionSpace``).

    ``steering_levels`` angles evenly spaced in ``[-max_steering, max_steering]``
    (outer loop, as the console) times speeds ``max_speed * i / speed_levels`` for
    i = 1..speed_levels (inner loop); floats rounded to 6 decimals. One steering
    level gives 0 degrees (straight); the console's formula would give
    ``-max_steering``, but its UI only offers 3, 5 or 7 levels.

    Args:
        max_steering: Largest steering angle [degrees], > 0 (the console allows 1..30).
        steering_levels: Number of steering angles, >= 1 (the console offers 3, 5, 7).
        max_speed: Largest speed [m/s], > 0 (the console allows 0.1..4).
        speed_levels: Number of speeds, >= 1 (the console offers 1, 2, 3).

    Raises:
        ConfigError: A non-positive maximum, fewer than one level, or more than
            :data:`MAX_GENERATED_ACTIONS` actions.

    Example:
        >>> acts = generate_console_style(max_steering=30, steering_levels=5,
        ...     max_speed=1, speed_levels=2)
        >>> [(a["steering_angle"], a["speed"]) for a in acts[:3]]
        [(-30.0, 0.5), (-30.0, 1.0), (-15.0, 0.5)]
    """
    for name, value in (("max_steering", max_steering), ("max_speed", max_speed)):
        if not _is_number(value) or not value > 0:
            raise ConfigError(f"{name}: expected a finite number > 0, got {value!r}")
    for name, levels in (("steering_levels", steering_levels), ("speed_levels", speed_levels)):
        if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
            raise ConfigError(f"{name}: expected an integer >= 1, got {levels!r}")
    _check_count(steering_levels * speed_levels)
    out: list[dict[str, Any]] = []
    for i in range(steering_levels):
        t = i / (steering_levels - 1) if steering_levels > 1 else 0.5
        steer = _clean(-max_steering * (1.0 - t) + max_steering * t)
        for j in range(1, speed_levels + 1):
            speed = _clean(max_speed * j / speed_levels)
            out.append({"steering_angle": steer, "speed": speed, "index": len(out)})
    return out


# -- validation helpers -------------------------------------------------------------


def _check_action_space(value: Any, kind: str, source: str) -> Any:
    """Validates ``action_space`` against ``action_space_type``; returns a clean copy."""
    is_continuous = isinstance(value, Mapping)
    is_discrete = isinstance(value, Sequence) and not isinstance(value, str)
    if not (is_continuous or is_discrete):
        raise ConfigError(
            f"{source}: action_space: expected a list of {{steering_angle, speed}} (discrete)"
            " or {steering_angle: {low, high}, speed: {low, high}} (continuous),"
            f" got {_kind(value)}"
        )
    if is_continuous and kind == "discrete":
        raise ConfigError(
            f"{source}: action_space_type: discrete (the default when absent) but action_space"
            ' is a {low, high} range mapping; set "action_space_type": "continuous"'
        )
    if is_discrete and kind == "continuous":
        raise ConfigError(
            f"{source}: action_space_type: continuous but action_space is a list of discrete"
            ' actions; set "action_space_type": "discrete" or give {low, high} ranges'
        )
    if is_continuous:
        return _check_continuous(value, source)
    return _check_discrete(value, source)


def _check_discrete(entries: Sequence[Any], source: str) -> list[dict[str, Any]]:
    if not entries:
        raise ConfigError(f"{source}: action_space: a discrete action space needs >= 1 action")
    valid = ("steering_angle", "speed", "index")
    clean: list[dict[str, Any]] = []
    for i, entry in enumerate(entries):
        where = f"{source}: action_space[{i}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(f'{where}: expected {{"steering_angle", "speed"}}, got {entry!r}')
        for key in entry:
            if key not in valid:
                raise ConfigError(
                    f"{where}: unknown key {key!r}.{suggest(str(key), valid)}"
                    f" Valid keys: {', '.join(valid)}"
                )
        steer = _field_number(entry, "steering_angle", where)
        speed = _field_number(entry, "speed", where)
        if not -MAX_STEERING_DEG <= steer <= MAX_STEERING_DEG:
            raise ConfigError(
                f"{where}.steering_angle: must lie in [-30, 30] degrees, got {steer:g}"
            )
        if not MIN_SPEED <= speed <= MAX_SPEED:
            raise ConfigError(
                f"{where}.speed: must lie in [0.1, 4] m/s (the simulator clips it), got {speed:g}"
            )
        if "index" in entry:
            index = entry["index"]
            if isinstance(index, bool) or index != i:
                raise ConfigError(
                    f"{where}.index: must equal the entry's position {i} (DeepRacer numbers"
                    f" actions by position), got {index!r}"
                )
        clean.append({"steering_angle": entry["steering_angle"], "speed": entry["speed"]})
    return clean


def _check_continuous(space: Mapping[str, Any], source: str) -> dict[str, Any]:
    valid = ("steering_angle", "speed")
    for key in space:
        if key not in valid:
            raise ConfigError(
                f"{source}: action_space: unknown key {key!r}.{suggest(str(key), valid)}"
                " A continuous action space has steering_angle and speed"
            )
    limits = {"steering_angle": (-MAX_STEERING_DEG, MAX_STEERING_DEG, "degrees")}
    limits["speed"] = (MIN_SPEED, MAX_SPEED, "m/s")
    clean: dict[str, Any] = {}
    for key, (vmin, vmax, unit) in limits.items():
        where = f"{source}: action_space.{key}"
        bounds = space.get(key)
        if not isinstance(bounds, Mapping):
            raise ConfigError(f'{where}: expected {{"low", "high"}}, got {bounds!r}')
        extra = [k for k in bounds if k not in ("low", "high")]
        if extra:
            raise ConfigError(f"{where}: unknown key {extra[0]!r}; expected low and high")
        low = _field_number(bounds, "low", where)
        high = _field_number(bounds, "high", where)
        if not vmin <= low < high <= vmax:
            raise ConfigError(
                f"{where}: expected {vmin:g} <= low < high <= {vmax:g} {unit},"
                f" got low={low:g}, high={high:g}"
            )
        clean[key] = {"low": bounds["low"], "high": bounds["high"]}
    return clean


def _check_sensor(sensor: Any, simapp_version: float, source: str) -> tuple[str, ...]:
    if isinstance(sensor, str) or not isinstance(sensor, Sequence):
        raise ConfigError(f"{source}: sensor: expected a list of sensor names, got {sensor!r}")
    names = tuple(sensor)
    for name in names:
        if not isinstance(name, str) or name not in SENSOR_TO_OBSERVATION:
            hint = suggest(name, SENSOR_TO_OBSERVATION) if isinstance(name, str) else ""
            raise ConfigError(
                f"{source}: sensor: unknown sensor {name!r}.{hint}"
                f" Valid sensors: {', '.join(SENSOR_TO_OBSERVATION)}"
            )
    cameras = [n for n in names if n in CAMERA_SENSORS]
    if len(cameras) != 1:
        raise ConfigError(
            f"{source}: sensor: needs exactly one camera sensor (one of"
            f" {', '.join(CAMERA_SENSORS)}), got {len(cameras)} in {list(names)}"
        )
    lidars = [n for n in names if n in LIDAR_SENSORS]
    if len(lidars) > 1:
        raise ConfigError(
            f"{source}: sensor: at most one lidar sensor (one of {', '.join(LIDAR_SENSORS)}),"
            f" got {lidars}"
        )
    if simapp_version < 2 and (lidars or cameras[0] == "STEREO_CAMERAS"):
        raise ConfigError(
            f"{source}: sensor: DeepRacer ignores sensor below version 2 and uses the front"
            f" camera only, so {list(names)} would not be used; set version to 2 or more"
            f' (DeepRacer for Cloud writes "{DEFAULT_VERSION}")'
        )
    return names


def _check_lidar_config(config: Any, source: str) -> dict[str, Any]:
    where = f"{source}: lidar_config"
    if not isinstance(config, Mapping):
        raise ConfigError(f"{where}: expected an object, got {config!r}")
    for key in config:
        if key not in LIDAR_CONFIG_DEFAULTS:
            raise ConfigError(
                f"{where}: unknown key {key!r}.{suggest(str(key), LIDAR_CONFIG_DEFAULTS)}"
                f" Valid keys: {', '.join(LIDAR_CONFIG_DEFAULTS)}"
            )
    for key in ("num_sectors", "num_values_per_sector"):
        value = config.get(key, 1)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{where}.{key}: expected an integer >= 1, got {value!r}")
    sectors = config.get("num_sectors")
    if sectors is not None and _LIDAR_SAMPLES % sectors:
        raise ConfigError(
            f"{where}.num_sectors: must divide the lidar's {_LIDAR_SAMPLES} samples"
            f" (1, 2, 4, 8, 16, 32 or 64), got {sectors}"
        )
    if "clipping_dist" in config:
        dist = _field_number(config, "clipping_dist", where)
        lo, hi = _CLIPPING_DIST_RANGE
        if not lo <= dist <= hi:
            raise ConfigError(
                f"{where}.clipping_dist: must lie in [{lo:g}, {hi:g}] m, got {dist:g}"
            )
    return dict(config)


def _check_version(version: Any, source: str) -> float:
    """Returns ``version`` as a number; accepts numbers and numeric strings."""
    number: float | None = None
    if _is_number(version):
        number = float(version)
    elif isinstance(version, str):
        try:
            number = float(version)
        except ValueError:
            number = None
    if number is None or not math.isfinite(number) or number < 1:
        raise ConfigError(
            f'{source}: version: expected a simapp version number >= 1 such as "5", got {version!r}'
        )
    return number


def _choice(value: Any, key: str, choices: Sequence[str], source: str) -> Any:
    """Validates a string option; case and surrounding blanks are ignored, as the simapp."""
    normal = value.lower().strip() if isinstance(value, str) else value
    if normal not in choices:
        raise ConfigError(
            f"{source}: {key}: unknown value {value!r}.{suggest(str(normal), choices)}"
            f" Valid: {', '.join(choices)}"
        )
    return normal


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _field_number(entry: Mapping[str, Any], key: str, where: str) -> float:
    if key not in entry:
        raise ConfigError(f"{where}: missing {key!r}")
    value = entry[key]
    if not _is_number(value):
        raise ConfigError(f"{where}.{key}: must be a finite number, got {value!r}")
    return float(value)


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else type(value).__name__


def _no_duplicates(source: str) -> Any:
    """A ``json`` object hook that rejects repeated keys (JSON keeps only the last)."""

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise ConfigError(f"{source}: key {key!r} appears twice in one object")
            out[key] = value
        return out

    return hook


def _numbers(values: Sequence[float]) -> str:
    return ", ".join(f"{v:g}" for v in values)


# -- generator helpers --------------------------------------------------------------


def _clean(value: float) -> float:
    """Rounds off representation noise; ``+ 0.0`` turns -0.0 into 0.0."""
    return round(value, _DECIMALS) + 0.0


def _grid(name: str, lo: float, hi: float, step: float) -> list[Any]:
    """Returns ``lo, lo + step, ... <= hi``, counting steps instead of summing them."""
    labels = (f"min_{name}", f"max_{name}", f"{name}_resolution")
    for label, value in zip(labels, (lo, hi, step), strict=True):
        if not _is_number(value):
            raise ConfigError(f"{label}: expected a finite number, got {value!r}")
    if step < 10**-_DECIMALS:
        raise ConfigError(f"{labels[2]}: must be >= 1e-06 (and > 0), got {step!r}")
    if lo > hi:
        raise ConfigError(f"{labels[0]} ({lo!r}) must not exceed {labels[1]} ({hi!r})")
    if all(isinstance(v, int) for v in (lo, hi, step)):
        ints = cast(tuple[int, int, int], (lo, hi, step))
        count = (ints[1] - ints[0]) // ints[2] + 1
        _check_count(count)
        return [ints[0] + k * ints[2] for k in range(count)]
    # The tolerance absorbs the representation error of (hi - lo) / step, e.g. the
    # 9.999999999999998 of (1.5 - 0.5) / 0.1, so an intended inclusive end is kept.
    count = math.floor((hi - lo) / step + 1e-9) + 1
    _check_count(count)
    return [_clean(lo + k * step) for k in range(count)]


def _check_count(count: int) -> None:
    if count > MAX_GENERATED_ACTIONS:
        raise ConfigError(
            f"that gives {count} actions, more than {MAX_GENERATED_ACTIONS}: check the"
            " resolutions or levels (every action is one output of the policy network)"
        )
