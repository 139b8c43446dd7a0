"""Worlds: a track plus the surface and noise it is driven with (``envs/*.yaml``).

A world file names its track (resolved through the track search path, see
:mod:`deepracer.tracks`) and the physical settings that differ between the seed's
``reinvent_base``, ``reinvent_carpet``, ``reinvent_concrete`` and ``reinvent_wood``.

Contents:
    SurfaceConfig, NoiseConfig, RandomizationConfig, WorldConfig: the typed world schema.
    load_world: a shipped world name or a YAML path to a WorldConfig.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from deepracer.config.loader import from_mapping, load_yaml
from deepracer.config.resources import resolve

__all__ = [
    "MATERIALS",
    "NoiseConfig",
    "RandomizationConfig",
    "SurfaceConfig",
    "WorldConfig",
    "load_world",
]

MATERIALS = ("base", "carpet", "concrete", "wood", "asphalt")
"""Floor materials a world may name (the camera issue gives each its texture)."""


def _non_negative(value: float) -> str | None:
    return None if value >= 0 else "a number >= 0"


def _positive(value: float) -> str | None:
    return None if value > 0 else "a number > 0"


@dataclass(frozen=True, kw_only=True)
class SurfaceConfig:
    """The floor the track is laid on."""

    material: str = field(
        default="base",
        metadata={"check": lambda m: None if m in MATERIALS else "one of " + ", ".join(MATERIALS)},
    )
    """Floor material name."""
    friction: float = field(default=0.5, metadata={"check": _positive})
    """Tyre friction coefficient mu; grip limit = mu * g (Gazebo's wheels: 0.5)."""


@dataclass(frozen=True, kw_only=True)
class NoiseConfig:
    """Action noise, as in the seed's ``deepracer_racetrack_env.py``.

    Each step the commanded steering gets ``+ steering_std * N(0, 1)`` radians and
    the commanded speed ``+ speed_std * N(0, 1)`` m/s, before the hard clip.
    """

    enabled: bool = True
    """Turn all action noise on or off."""
    steering_std: float = field(default=0.01, metadata={"check": _non_negative})
    """Standard deviation of the steering noise [rad]."""
    speed_std: float = field(default=0.1, metadata={"check": _non_negative})
    """Standard deviation of the speed noise [m/s]."""


def _range(lowest: float, highest: float = float("inf")) -> object:
    def check(value: tuple[float, float]) -> str | None:
        low, high = value
        if lowest <= low <= high <= highest:
            return None
        upper = "" if highest == float("inf") else f" <= {highest}"
        return f"[low, high] with {lowest} <= low <= high{upper}"

    return check


@dataclass(frozen=True, kw_only=True)
class RandomizationConfig:
    """Domain randomisation, drawn once per episode from the env's seed.

    Ranges are ``[low, high]`` and drawn uniformly; ``[1.0, 1.0]`` (the default)
    switches a factor off. Physical factors act on the car; visual ones on camera
    observations only.
    """

    friction_scale: tuple[float, float] = field(default=(1.0, 1.0), metadata={"check": _range(0.1)})
    """Multiplies the surface friction: a damp or dusty floor [-]."""
    battery: tuple[float, float] = field(default=(1.0, 1.0), metadata={"check": _range(0.1, 1.0)})
    """Battery level as a scale on the speed the motor reaches [-]."""
    brightness: tuple[float, float] = field(default=(1.0, 1.0), metadata={"check": _range(0.0)})
    """Multiplies image intensity (lighting) [-]."""
    contrast: tuple[float, float] = field(default=(1.0, 1.0), metadata={"check": _range(0.0)})
    """Scales intensities about mid-grey [-]."""
    gamma: tuple[float, float] = field(default=(1.0, 1.0), metadata={"check": _range(0.05)})
    """Gamma applied to intensities in [0, 1] [-]."""
    pixel_noise_std: float = field(default=0.0, metadata={"check": _non_negative})
    """Gaussian sensor noise per pixel and frame [grey levels of 255]."""
    camera_height_jitter: float = field(default=0.0, metadata={"check": _non_negative})
    """Camera height varies uniformly by +- this per episode [m]."""
    camera_pitch_jitter_deg: float = field(default=0.0, metadata={"check": _non_negative})
    """Camera pitch varies uniformly by +- this per episode [deg]."""


@dataclass(frozen=True, kw_only=True)
class WorldConfig:
    """A world: a track, the direction it is driven and its surface."""

    track: str
    """Track name or route-file path (see :func:`deepracer.tracks.get_track`)."""
    name: str = ""
    """World name; defaults to the file stem."""
    description: str = ""
    """One line for listings."""
    reverse: bool = False
    """Drive against the waypoint order (the simapp's ``REVERSE_DIR``)."""
    legacy_waypoints: bool = False
    """Keep zero-length centre segments, so ``closest_waypoints`` indices match
    simapps before 2026 (the current simapp drops them)."""
    surface: SurfaceConfig = field(default_factory=SurfaceConfig)
    """Floor material and grip."""
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    """Action noise."""
    randomization: RandomizationConfig = field(default_factory=RandomizationConfig)
    """Per-episode domain randomisation (off by default)."""


def load_world(name_or_path: str | Path) -> WorldConfig:
    """Loads a world from a shipped name (``envs/<name>.yaml``) or a YAML path.

    Raises:
        ConfigError: The file is missing or invalid; the message names the file and
            the field.
    """
    path = resolve("envs", name_or_path)
    data = load_yaml(path)
    data.setdefault("name", path.stem)
    return from_mapping(WorldConfig, data, source=str(path))
