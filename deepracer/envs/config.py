"""The environment's typed configuration.

Contents:
    StartConfig: where episodes start.
    EpisodeConfig: episode limits and the simapp's failure rules.
    EnvConfig: everything :class:`deepracer.envs.RacingEnv` is built from.
    vehicle_of: the car an env config drives on a world.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deepracer.config.checks import above, at_least, interval, positive
from deepracer.envs.action import DEFAULT_ACTION_SPACE
from deepracer.envs.camera import CameraConfig
from deepracer.envs.observation import LidarConfig, SensorConfigs, StateConfig
from deepracer.envs.world import WorldConfig, load_world
from deepracer.errors import ConfigError
from deepracer.physics import VehicleParams
from deepracer.physics.profiles import resolve_vehicle

__all__ = ["EnvConfig", "EpisodeConfig", "StartConfig", "sensor_configs", "vehicle_of"]


_fraction = interval(0, 1, "a fraction", high_open=True)
_positive_int = above(0, "an integer")


@dataclass(frozen=True, kw_only=True)
class StartConfig:
    """Start positions, as the simapp's ``CHANGE_START_POSITION`` round robin.

    Episode k (counted from the last ``reset(seed=...)``) starts on the centre line at
    normalised distance ``offset + k * round_robin_advance`` (mod 1). Evaluation uses
    ``round_robin_advance: 0`` so every trial starts at the line.
    """

    offset: float = field(default=0.0, metadata={"check": _fraction})
    """First start point, as a fraction of the track length."""
    round_robin_advance: float = field(default=0.05, metadata={"check": _fraction})
    """Advance of the start point per episode (simapp default 0.05 = 5 %)."""
    alternate_direction: bool = False
    """Flip the driving direction every episode (``ALTERNATE_DRIVING_DIRECTION``)."""


@dataclass(frozen=True, kw_only=True)
class EpisodeConfig:
    """Episode limits and failure rules (the simapp's values by default)."""

    max_steps: int = field(default=10_000, metadata={"check": _positive_int})
    """Steps (including the prepare step) before the episode is truncated (time_up)."""
    time_limit: float | None = None
    """Simulated seconds before the episode is truncated (time_up); None = no limit."""
    reverse_steps: int = field(default=15, metadata={"check": _positive_int})
    """Consecutive steps of decreasing progress that end the episode as reversed."""
    immobilized_steps: int = field(default=15, metadata={"check": _positive_int})
    """Consecutive near-still steps that end the episode as immobilized."""
    immobilized_distance: float = 0.0003
    """A step moving the model point less than this counts as still [m]."""
    resets: int = field(default=0, metadata={"check": at_least(0, "an integer")})
    """Failures (off track, crashed, reversed, immobilized) the car is put back after before one
    ends the episode: the simapp's NUMBER_OF_RESETS (0 in training; race rules use 3)."""
    reset_penalty: float = field(default=0.0, metadata={"check": at_least(0)})
    """Seconds the car stands frozen after a reset while the clock runs, so penalties
    land in the lap time (the simapp's OFF_TRACK_PENALTY) [s]."""
    collision_penalty: float = field(default=0.0, metadata={"check": at_least(0)})
    """Seconds frozen after a reset from a crash into an obstacle or a bot car (the
    simapp's COLLISION_PENALTY: 0 in training, 5 in evaluation) [s]."""
    mercy_reset: bool = False
    """The simapp's ENABLE_MERCY_RESET: a car put back near the same obstacle
    ``max_resets_after_crash`` times in a row goes ``reset_ahead_dist`` past it instead
    of ``reset_behind_dist`` before it, so it cannot crash into one box for ever."""
    reset_behind_dist: float = field(default=1.0, metadata={"check": at_least(0)})
    """How far before an obstacle near the failure the car is put back (the simapp's
    RESET_BEHIND_DIST) [m]."""
    reset_ahead_dist: float = field(default=1.0, metadata={"check": at_least(0)})
    """With ``mercy_reset``: how far past that obstacle (RESET_AHEAD_DIST) [m]."""
    max_resets_after_crash: int = field(default=3, metadata={"check": _positive_int})
    """With ``mercy_reset``: resets near one obstacle in a row before the car goes past
    it (MAX_RESETS_AFTER_CRASH)."""
    laps: int = field(default=1, metadata={"check": _positive_int})
    """Completed laps that end the episode; more than 1 = continuous laps, as the
    simapp's IS_CONTINUOUS: the car drives on over the line and progress restarts."""


@dataclass(frozen=True, kw_only=True)
class EnvConfig:
    """Configuration of one :class:`~deepracer.envs.RacingEnv`.

    Example:
        >>> cfg = EnvConfig(world="oval", observation="lidar")
        >>> cfg.dt
        0.06666666666666667
    """

    world: str | WorldConfig = "oval"
    """World name (``envs/<name>.yaml``), world YAML path, or an inline world."""
    observation: str | tuple[str, ...] = "state"
    """Observation type name, or several names for a Dict observation."""
    action_space: Any = field(default_factory=lambda: list(DEFAULT_ACTION_SPACE))
    """A ``model_metadata.json`` ``action_space`` value (discrete list or continuous ranges)."""
    reward: str = "centerline"
    """Reward file path or shipped reward name (``rewards/<name>.py``)."""
    dt: float = field(default=1.0 / 15.0, metadata={"check": positive})
    """Control step [s]: DeepRacer steps at the camera's 15 Hz."""
    start: StartConfig = field(default_factory=StartConfig)
    """Start positions."""
    episode: EpisodeConfig = field(default_factory=EpisodeConfig)
    """Episode limits and failure rules."""
    vehicle: str | dict[str, Any] | VehicleParams | None = None
    """The car: a vehicle profile name or path, a mapping of parameters on top of its
    ``profile`` key (else the world's profile), or None for the world's profile (see
    :func:`deepracer.physics.profiles.resolve_vehicle`). The world's surface sets
    ``friction``."""
    state: StateConfig = field(default_factory=StateConfig)
    """Settings of the ``state`` observation."""
    lidar: LidarConfig = field(default_factory=LidarConfig)
    """Settings of the lidar observations."""
    camera: CameraConfig = field(default_factory=CameraConfig)
    """Settings of the camera observations."""

    def __post_init__(self) -> None:
        if isinstance(self.vehicle, str | dict):
            resolve_vehicle(self.vehicle)  # an unknown profile or key fails here, early
        elif isinstance(self.vehicle, VehicleParams):
            try:
                self.vehicle.check_step(self.dt)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None


def vehicle_of(config: EnvConfig, world: WorldConfig | None = None) -> VehicleParams:
    """Returns the car of ``config`` on ``world`` (by default the config's own world).

    Raises:
        ConfigError: An unknown profile or key, or a car that cannot run at ``dt``.
    """
    if world is None:
        world = config.world if isinstance(config.world, WorldConfig) else load_world(config.world)
    vehicle = resolve_vehicle(config.vehicle, world.vehicle)
    try:
        vehicle.check_step(config.dt)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return vehicle


def sensor_configs(config: EnvConfig, world: WorldConfig | None = None) -> SensorConfigs:
    """The settings the config's observations are built from, on ``world``.

    A world with obstacles or bot cars adds the objects to the state vector, so the
    observation space depends on the world too (default: the config's own world).
    """
    if world is None:
        world = config.world if isinstance(config.world, WorldConfig) else load_world(config.world)
    return SensorConfigs(
        state=config.state,
        lidar=config.lidar,
        camera=config.camera,
        objects=world.race_type != "TIME_TRIAL",
    )
