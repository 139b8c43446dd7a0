"""Observation types: what the policy sees.

Each type is a class with ``space()`` and ``observe(car)``, built from its config;
adding a sensor (the camera) is a new class plus a registry entry. Several names in
an env config give a ``Dict`` observation keyed by name.

Contents:
    CarView, EpisodeVariation: what observations see (from deepracer.envs.view).
    StateConfig, StateObservation: a compact vector a policy learns from quickly.
    LidarConfig, LidarObservation: 64 ranges to the track borders over 360 degrees.
    SectorLidarObservation: 8 binary sectors (the ``SECTOR_LIDAR`` sensor).
    DiscretizedSectorLidarObservation: ``DISCRETIZED_SECTOR_LIDAR``.
    ray_cast: ranges from one point along many rays to a set of segments.
    object_segments: the sides of the objects, for the lidar.
    object_features: the nearest objects in the car's frame, for the state vector.
    OBSERVATIONS: registry of observation types by name.
    make_observation: build a type (or a Dict of types) from names.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from deepracer.config.checks import above, at_least, positive
from deepracer.envs.camera import CameraConfig
from deepracer.envs.view import CarView, EpisodeVariation
from deepracer.errors import ConfigError, suggest
from deepracer.rewards.objects import BOX_FOOTPRINT, Footprint, SceneObject, footprint_corners

__all__ = [
    "OBSERVATIONS",
    "CarView",
    "DiscretizedSectorLidarObservation",
    "EpisodeVariation",
    "LidarConfig",
    "LidarObservation",
    "ObservationType",
    "SectorLidarObservation",
    "SensorConfigs",
    "StateConfig",
    "StateObservation",
    "make_observation",
    "object_features",
    "object_segments",
    "ray_cast",
]


class ObservationType(Protocol):
    """Builds observations from a :class:`CarView`.

    A type may also define ``reset(world, variation, rng)``; the env calls it at
    every reset with the world config, this episode's :class:`EpisodeVariation` and a
    generator reserved for observation noise, before the first ``observe``.
    """

    def space(self) -> gym.Space[Any]:
        """Returns the observation space (fixed for the env's lifetime)."""
        ...

    def observe(self, car: CarView) -> Any:
        """Returns the observation of ``car``; must lie in ``space()``."""
        ...


def _positive_all(values: Sequence[float]) -> str | None:
    return None if values and all(v > 0 for v in values) else "a non-empty list of numbers > 0"


@dataclass(frozen=True, kw_only=True)
class StateConfig:
    """The ``state`` observation."""

    lookahead: tuple[float, ...] = field(
        default=(0.25, 0.5, 1.0, 1.5, 2.0), metadata={"check": _positive_all}
    )
    """Distances ahead along the centre line whose points the policy sees [m]."""
    steering_command: bool = True
    """Include the last steering command (element 5). Runs from before vehicle
    profiles had no such element; they keep their 15 floats."""
    objects: int = field(default=2, metadata={"check": at_least(0, "an integer")})
    """In a world with obstacles or bot cars: how many of the nearest objects the
    vector ends with (2 floats each); a time trial has none."""


_OBJECT_SCALE = 2.0  # [m] object offsets are divided by this, so the clip is at 6 m
_NO_OBJECT = (3.0, 0.0)  # an empty slot: as far ahead as the clip allows


def object_features(car: CarView, slots: int) -> list[float]:
    """The ``slots`` nearest objects, nearest first, as the state vector's last elements.

    Each is the object's centre relative to the model point in the car frame
    (forward, left) divided by 2 m and clipped to [-3, 3]; missing objects read
    ``(3, 0)``.
    """
    c, s = math.cos(car.yaw), math.sin(car.yaw)
    mx = car.origin[0] + car.vehicle.model_point_offset * c
    my = car.origin[1] + car.vehicle.model_point_offset * s
    offsets = []
    for obj in car.objects:
        dx, dy = obj.x - mx, obj.y - my
        offsets.append((dx * dx + dy * dy, (c * dx + s * dy), (-s * dx + c * dy)))
    offsets.sort()
    out: list[float] = []
    for k in range(slots):
        if k < len(offsets):
            _, ahead, left = offsets[k]
            out += [
                min(max(ahead / _OBJECT_SCALE, -3.0), 3.0),
                min(max(left / _OBJECT_SCALE, -3.0), 3.0),
            ]
        else:
            out += list(_NO_OBJECT)
    return out


class StateObservation:
    """A compact vector: speed, steering, lateral offset, heading error, look-ahead.

    Elements (float32, each clipped to [-3, 3]):
        0. actual speed / max speed;
        1. actual steering angle / max steering (it lags the command);
        2. signed distance of the model point from the centre line / half width
           (positive = left of centre, so |value| > 1 is beyond the border);
        3-4. sin and cos of (car heading - centre-line direction);
        5. last commanded steering / max steering: with the actual angle, what the
           car's steering will still do (a lagging, delayed car's hidden state); left
           out with ``steering_command: false``, which shifts the rest down by one;
        6+. for each look-ahead distance d: the centre-line point d metres ahead of the
           model point's projection, in the car frame relative to the model point,
           divided by d (x forward, y left): it encodes the upcoming curvature.
        then, in a world with objects, ``objects`` pairs: :func:`object_features`.

    Args:
        config: The settings.
        with_objects: The world has obstacles or bot cars (adds the object slots).
    """

    def __init__(self, config: StateConfig | None = None, *, with_objects: bool = False) -> None:
        self.config = config or StateConfig()
        self.head = 6 if self.config.steering_command else 5
        """Elements before the look-ahead points."""
        self.object_slots = self.config.objects if with_objects else 0
        """Objects at the end of the vector (0 in a time trial)."""
        self._size = self.head + 2 * len(self.config.lookahead) + 2 * self.object_slots

    def space(self) -> gym.spaces.Box:
        """Returns ``Box(-3, 3, (head + 2 * len(lookahead),), float32)``."""
        return gym.spaces.Box(-3.0, 3.0, shape=(self._size,), dtype=np.float32)

    def observe(self, car: CarView) -> NDArray[np.float32]:
        """Computes the vector (see the class docstring)."""
        track, where, vehicle = car.track, car.where, car.vehicle
        half_width = max(0.5 * where.width, 1e-3)
        lateral = where.distance_from_center / half_width
        if not where.is_left_of_center:
            lateral = -lateral
        err = car.yaw - track.pose_at(where.s)[2]
        c, s = math.cos(car.yaw), math.sin(car.yaw)
        mx = car.origin[0] + vehicle.model_point_offset * c
        my = car.origin[1] + vehicle.model_point_offset * s
        out = [
            car.speed / vehicle.max_speed,
            car.steering / vehicle.max_steering,
            lateral,
            math.sin(err),
            math.cos(err),
        ]
        if self.head == 6:
            out.append(car.steering_cmd / vehicle.max_steering)
        for d in self.config.lookahead:
            ax, ay, _ = track.pose_at(where.s + d)
            dx, dy = ax - mx, ay - my
            out.append((c * dx + s * dy) / d)
            out.append((-s * dx + c * dy) / d)
        if self.object_slots:
            out += object_features(car, self.object_slots)
        return np.array([min(max(v, -3.0), 3.0) for v in out], dtype=np.float32)


@dataclass(frozen=True, kw_only=True)
class LidarConfig:
    """The lidar observations (rays from the car origin to the track borders)."""

    num_rays: int = field(default=64, metadata={"check": above(0, "an integer")})
    """Rays over 360 degrees, the first straight ahead, counter-clockwise (DeepRacer: 64)."""
    min_range: float = field(default=0.15, metadata={"check": at_least(0)})
    """Ranges are clipped to at least this [m] (the DeepRacer lidar's minimum)."""
    max_range: float = field(default=2.0, metadata={"check": positive})
    """Ranges are clipped to at most this [m] (``lidar_config.clipping_dist`` default)."""
    num_sectors: int = 8
    """Sectors for the sector lidars; must divide ``num_rays``."""
    sector_threshold: float = 0.5
    """``SECTOR_LIDAR``: a sector reads 1 when its nearest border is closer [m]."""
    num_values_per_sector: int = 8
    """``DISCRETIZED_SECTOR_LIDAR``: distance levels per sector."""

    def __post_init__(self) -> None:
        if self.max_range <= self.min_range:
            raise ConfigError(f"lidar: max_range ({self.max_range}) must exceed min_range")
        if self.num_sectors <= 0 or self.num_rays % self.num_sectors:
            raise ConfigError(
                f"lidar: num_sectors ({self.num_sectors}) must divide num_rays ({self.num_rays})"
            )


def ray_cast(
    origin: tuple[float, float],
    angles: NDArray[np.float64],
    starts: NDArray[np.float64],
    ends: NDArray[np.float64],
    max_range: float,
) -> NDArray[np.float64]:
    """Returns the distance along each ray to the nearest segment, capped at ``max_range``.

    Args:
        origin: Ray origin (x, y) [m].
        angles: (R,) ray directions [rad], world frame.
        starts: (S, 2) segment start points [m].
        ends: (S, 2) segment end points [m].
        max_range: Distance returned for a ray that hits nothing [m].
    """
    d = np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (R, 2)
    e = ends - starts  # (S, 2)
    w = starts - np.asarray(origin)  # (S, 2)
    denom = d[:, 0:1] * e[:, 1] - d[:, 1:2] * e[:, 0]  # (R, S)
    t_num = w[:, 0] * e[:, 1] - w[:, 1] * e[:, 0]  # (S,)
    u_num = w[:, 0] * d[:, 1:2] - w[:, 1] * d[:, 0:1]  # (R, S)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = t_num / denom
        u = u_num / denom
    hit = (denom != 0.0) & (t >= 0.0) & (u >= 0.0) & (u <= 1.0)
    return np.asarray(np.min(np.where(hit, t, max_range), axis=1, initial=max_range))


def _solid(footprint: Footprint) -> Footprint:
    """An object's body: a box's collision rectangle is its body plus 0.1 m each way."""
    if footprint == BOX_FOOTPRINT:
        return Footprint(footprint.width - 0.1, footprint.length - 0.1)
    return footprint


def object_segments(
    objects: Sequence[SceneObject],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The four sides of each object's body as segments (starts, ends), (4K, 2) each."""
    if not objects:
        empty = np.zeros((0, 2))
        return empty, empty
    corners = np.concatenate(
        [footprint_corners(o.x, o.y, o.heading, _solid(o.footprint)) for o in objects]
    ).reshape(-1, 4, 2)
    return corners.reshape(-1, 2), np.roll(corners, -1, axis=1).reshape(-1, 2)


class LidarObservation:
    """``LIDAR``: ``num_rays`` ranges [m] over 360 degrees, clipped to [min, max].

    Rays stop at the track borders and at the sides of obstacles and bot cars.
    """

    def __init__(self, config: LidarConfig | None = None) -> None:
        self.config = config or LidarConfig()
        self._angles = 2.0 * np.pi * np.arange(self.config.num_rays) / self.config.num_rays

    def space(self) -> gym.spaces.Box:
        """Returns ``Box(min_range, max_range, (num_rays,), float32)``."""
        cfg = self.config
        return gym.spaces.Box(cfg.min_range, cfg.max_range, (cfg.num_rays,), dtype=np.float32)

    def ranges(self, car: CarView) -> NDArray[np.float64]:
        """Returns the clipped ranges (float64)."""
        starts, ends = car.track.border_segments()
        if car.objects:
            more_starts, more_ends = object_segments(car.objects)
            starts, ends = np.vstack([starts, more_starts]), np.vstack([ends, more_ends])
        r = ray_cast(car.origin, car.yaw + self._angles, starts, ends, self.config.max_range)
        return np.clip(r, self.config.min_range, self.config.max_range)

    def observe(self, car: CarView) -> NDArray[np.float32]:
        """Returns the ranges as float32."""
        return self.ranges(car).astype(np.float32)


class SectorLidarObservation:
    """``SECTOR_LIDAR``: one bit per sector, 1 if a border is within the threshold."""

    def __init__(self, config: LidarConfig | None = None) -> None:
        self.config = config or LidarConfig()
        self._lidar = LidarObservation(self.config)

    def space(self) -> gym.spaces.MultiBinary:
        """Returns ``MultiBinary(num_sectors)``."""
        return gym.spaces.MultiBinary(self.config.num_sectors)

    def observe(self, car: CarView) -> NDArray[np.int8]:
        """Returns the sector bits."""
        nearest = self._lidar.ranges(car).reshape(self.config.num_sectors, -1).min(axis=1)
        return np.asarray(nearest < self.config.sector_threshold, dtype=np.int8)


class DiscretizedSectorLidarObservation(SectorLidarObservation):
    """``DISCRETIZED_SECTOR_LIDAR``: per sector, a thermometer code of the distance.

    Bit ``j`` of a sector is 1 when the sector's nearest border is closer than
    ``max_range * (j + 1) / num_values_per_sector``.
    """

    def space(self) -> gym.spaces.MultiBinary:
        """Returns ``MultiBinary(num_sectors * num_values_per_sector)``."""
        return gym.spaces.MultiBinary(self.config.num_sectors * self.config.num_values_per_sector)

    def observe(self, car: CarView) -> NDArray[np.int8]:
        """Returns the flattened sector codes."""
        cfg = self.config
        nearest = self._lidar.ranges(car).reshape(cfg.num_sectors, -1).min(axis=1)
        levels = cfg.max_range * np.arange(1, cfg.num_values_per_sector + 1)
        levels = levels / cfg.num_values_per_sector
        return np.asarray(nearest[:, None] < levels[None, :], dtype=np.int8).reshape(-1)


@dataclass(frozen=True, kw_only=True)
class SensorConfigs:
    """The settings every observation factory receives."""

    state: StateConfig = field(default_factory=StateConfig)
    lidar: LidarConfig = field(default_factory=LidarConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    objects: bool = False
    """The world has obstacles or bot cars."""


ObservationFactory = Callable[[SensorConfigs], ObservationType]


def _camera(configs: SensorConfigs) -> ObservationType:
    from deepracer.envs.camera import CameraObservation

    return CameraObservation(configs.camera)


def _stereo(configs: SensorConfigs) -> ObservationType:
    from deepracer.envs.camera import StereoCameraObservation

    return StereoCameraObservation(configs.camera)


OBSERVATIONS: dict[str, ObservationFactory] = {
    "state": lambda c: StateObservation(c.state, with_objects=c.objects),
    "lidar": lambda c: LidarObservation(c.lidar),
    "sector_lidar": lambda c: SectorLidarObservation(c.lidar),
    "discretized_sector_lidar": lambda c: DiscretizedSectorLidarObservation(c.lidar),
    "camera": _camera,
    "stereo_camera": _stereo,
}
"""Observation types by name; a factory takes the :class:`SensorConfigs`."""


class DictObservation:
    """Several observation types at once, as a ``Dict`` space keyed by name."""

    def __init__(self, parts: dict[str, ObservationType]) -> None:
        self.parts = parts

    def space(self) -> gym.spaces.Dict:
        """Returns the ``Dict`` of the parts' spaces."""
        return gym.spaces.Dict({k: v.space() for k, v in self.parts.items()})

    def reset(self, world: Any, variation: EpisodeVariation, rng: np.random.Generator) -> None:
        """Forwards the reset hook to the parts that have one."""
        for part in self.parts.values():
            hook = getattr(part, "reset", None)
            if hook is not None:
                hook(world, variation, rng)

    def observe(self, car: CarView) -> dict[str, Any]:
        """Returns each part's observation."""
        return {k: v.observe(car) for k, v in self.parts.items()}


def make_observation(names: str | Sequence[str], configs: SensorConfigs) -> ObservationType:
    """Builds the observation type(s) named in an env config.

    Raises:
        ConfigError: An unknown name (with the closest valid one suggested).
    """
    requested = [names] if isinstance(names, str) else list(names)
    if not requested:
        raise ConfigError("observation: name at least one observation type")
    for name in requested:
        if name not in OBSERVATIONS:
            raise ConfigError(
                f"observation: unknown type {name!r}.{suggest(name, OBSERVATIONS)}"
                f" Valid types: {', '.join(OBSERVATIONS)}"
            )
    if len(requested) == 1:
        return OBSERVATIONS[requested[0]](configs)
    return DictObservation({n: OBSERVATIONS[n](configs) for n in requested})
