"""Worlds: a track plus the surface and noise it is driven with (``envs/*.yaml``).

A world file names its track (resolved through the track search path, see
:mod:`deepracer.tracks`) and the physical settings that differ between the seed's
``reinvent_base``, ``reinvent_carpet``, ``reinvent_concrete`` and ``reinvent_wood``.
Where no world file exists, a track name is a world too, as ``WORLD_NAME`` is in
DeepRacer: the default world on that track (base surface, Gazebo's friction, the
seed's action noise).

Contents:
    SurfaceConfig, NoiseConfig, RandomizationConfig, WorldConfig: the typed world schema
        (a world's race type and its objects: :mod:`deepracer.envs.objects`).
    load_world: a world file, a shipped world name or a track name to a WorldConfig.
    world_file: the world file a name resolves to, or None for a default world.
    default_world: the default world on a track.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from deepracer.config.checks import at_least, between, positive
from deepracer.config.loader import from_mapping, load_yaml
from deepracer.config.resources import available, resolve
from deepracer.envs.objects import RACE_TYPES, HeadToBotConfig, ObjectAvoidanceConfig
from deepracer.errors import ConfigError, TrackError, suggest
from deepracer.rendering.scene import SceneConfig

__all__ = [
    "MATERIALS",
    "NoiseConfig",
    "RandomizationConfig",
    "SurfaceConfig",
    "WorldConfig",
    "default_world",
    "load_world",
    "world_file",
]

MATERIALS = ("base", "carpet", "concrete", "wood", "brick", "asphalt")
"""Floor materials a world may name (the camera issue gives each its texture)."""


@dataclass(frozen=True, kw_only=True)
class SurfaceConfig:
    """The floor the track is laid on."""

    material: str = field(
        default="base",
        metadata={"check": lambda m: None if m in MATERIALS else "one of " + ", ".join(MATERIALS)},
    )
    """Floor material name."""
    friction: float = field(default=0.5, metadata={"check": positive})
    """Tyre friction coefficient mu; grip limit = mu * g (Gazebo's wheels: 0.5)."""


@dataclass(frozen=True, kw_only=True)
class NoiseConfig:
    """Action noise, as in the seed's ``deepracer_racetrack_env.py``.

    Each step the commanded steering gets ``+ steering_std * N(0, 1)`` radians and
    the commanded speed ``+ speed_std * N(0, 1)`` m/s, before the hard clip.
    """

    enabled: bool = True
    """Turn all action noise on or off."""
    steering_std: float = field(default=0.01, metadata={"check": at_least(0)})
    """Standard deviation of the steering noise [rad]."""
    speed_std: float = field(default=0.1, metadata={"check": at_least(0)})
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
    pixel_noise_std: float = field(default=0.0, metadata={"check": at_least(0)})
    """Gaussian sensor noise per pixel and frame [grey levels of 255]."""
    camera_height_jitter: float = field(default=0.0, metadata={"check": at_least(0)})
    """Camera height varies uniformly by +- this per episode [m]."""
    camera_pitch_jitter_deg: float = field(default=0.0, metadata={"check": at_least(0)})
    """Camera pitch varies uniformly by +- this per episode [deg]."""
    part_colors: float = field(default=0.0, metadata={"check": between(0, 1)})
    """Each channel of each part's colour (road, lines, centre line, field, each wall,
    sky) is scaled by a factor drawn from ``1 +- this`` per episode [-], as the
    simapp's domain randomisation recolours the world's parts."""


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
    scene: SceneConfig = field(default_factory=SceneConfig)
    """The hall the camera sees: field, walls, exposure, sky."""
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    """Action noise."""
    randomization: RandomizationConfig = field(default_factory=RandomizationConfig)
    """Per-episode domain randomisation (off by default)."""
    vehicle: str = ""
    """Vehicle profile the car drives with here (``vehicles/<name>.yaml`` or a path);
    empty for the default (see :mod:`deepracer.physics.profiles`)."""
    race_type: str = field(
        default="TIME_TRIAL",
        metadata={
            "check": lambda r: None if r in RACE_TYPES else "one of " + ", ".join(RACE_TYPES)
        },
    )
    """The simapp's ``RACE_TYPE``: ``TIME_TRIAL``, ``OBJECT_AVOIDANCE`` (static boxes)
    or ``HEAD_TO_BOT`` (bot cars)."""
    object_avoidance: ObjectAvoidanceConfig | None = None
    """The obstacles of an ``OBJECT_AVOIDANCE`` world (omitted: DRfC's defaults)."""
    head_to_bot: HeadToBotConfig | None = None
    """The bot cars of a ``HEAD_TO_BOT`` world (omitted: DRfC's defaults)."""

    def __post_init__(self) -> None:
        for name, race in (
            ("object_avoidance", "OBJECT_AVOIDANCE"),
            ("head_to_bot", "HEAD_TO_BOT"),
        ):
            if getattr(self, name) is not None and self.race_type != race:
                # A ValueError: the loader puts the world file's name in front.
                raise ValueError(
                    f"{name}: given, but race_type is {self.race_type}; set race_type:"
                    f" {race} or remove the section"
                )
        if self.vehicle:
            from deepracer.physics.profiles import load_profile

            try:
                load_profile(self.vehicle)
            except ConfigError as exc:
                # A ValueError: the loader puts the world file's name in front.
                raise ValueError(f"vehicle: {exc}") from None

    @property
    def obstacles(self) -> ObjectAvoidanceConfig | None:
        """The obstacle settings when the race type has obstacles, else None."""
        if self.race_type != "OBJECT_AVOIDANCE":
            return None
        return self.object_avoidance or ObjectAvoidanceConfig()

    @property
    def bot_cars(self) -> HeadToBotConfig | None:
        """The bot-car settings when the race type has bot cars, else None."""
        if self.race_type != "HEAD_TO_BOT":
            return None
        return self.head_to_bot or HeadToBotConfig()


def world_file(name_or_path: str | Path) -> Path | None:
    """Returns the world file ``name_or_path`` resolves to, or None if there is none.

    None means :func:`load_world` would give a track's default world (or fail).
    """
    path = Path(name_or_path)
    if path.suffix == ".npy":
        return None  # a route file's path: its track's default world
    try:
        return resolve("envs", name_or_path)
    except ConfigError:
        return None


def default_world(track: str | Path) -> WorldConfig:
    """Returns the default world on ``track``: base surface, friction 0.5, seed noise.

    Args:
        track: A track name or route-file path (see :func:`deepracer.tracks.get_track`).

    Raises:
        TrackError: No such track.
    """
    from deepracer.tracks import get_track
    from deepracer.tracks.catalog import console_name

    resolved = get_track(track)
    text = str(track)
    label = console_name(resolved.name)
    where = f"{resolved.name} ({label})" if label else resolved.name
    surface, noise = SurfaceConfig(), NoiseConfig()
    return WorldConfig(
        track=text,
        name=Path(text).stem if text.endswith(".npy") else text,
        description=(
            f"default world on track {where}: {surface.material} surface, friction"
            f" {surface.friction:g}, action noise {noise.steering_std:g} rad and"
            f" {noise.speed_std:g} m/s"
        ),
        surface=surface,
        noise=noise,
    )


def load_world(name_or_path: str | Path) -> WorldConfig:
    """Loads a world: a YAML path, a shipped world name (``envs/<name>.yaml``) or a track.

    A name with no world file that names a track (any shipped DeepRacer track, a route
    file on ``DEEPRACER_TRACKS_PATH``, a built-in) gives :func:`default_world`.

    Raises:
        ConfigError: The file is invalid (the message names the file and the field),
            or nothing of that name exists (the message suggests the closest names).
    """
    path = world_file(name_or_path)
    if path is None:
        text = str(name_or_path)
        if Path(text).suffix not in (".yaml", ".yml"):
            try:
                return default_world(text)
            except TrackError:
                if _names_a_track(text):
                    raise  # the track exists but its route file is invalid: say why
        raise ConfigError(_unknown_world(text))
    data = load_yaml(path)
    data.setdefault("name", path.stem)
    return from_mapping(WorldConfig, data, source=str(path))


def _names_a_track(text: str) -> bool:
    from deepracer.tracks import list_tracks

    return Path(text).is_file() or text in list_tracks()


def _unknown_world(text: str) -> str:
    from deepracer.tracks import list_tracks

    names = [*available("envs"), *list_tracks()]
    return (
        f"world {text!r}: no world file of that name (envs/ or a path) and no track of"
        f" that name.{suggest(Path(text).stem, names, n=3)} Any track name is a world"
        " (`deepracer tracks list`); shipped worlds: " + ", ".join(available("envs"))
    )
