"""Object avoidance and head-to-bot: the simapp's settings, object placement and bot cars.

The rules are the DeepRacer simapp's (``aws-deepracer-community/deepracer-simapp``,
``bundle/markov``, read at commit 01f5f015): ``agent_ctrl/obstacles_agent_ctrl.py``
(``ObstaclesCtrl``), ``agent_ctrl/bot_cars_agent_ctrl.py`` (``BotCarsCtrl``),
``track_geom/track_data.py`` (the lanes), ``track_geom/spline/`` (bot-car paths);
the defaults are DeepRacer for Cloud's ``defaults/template-run.env``. Randomness comes
from a numpy ``Generator`` instead of Python's ``random``: the same draws from the
same distributions, in the same order, so a seed fixes a layout.

A *lane* is the simapp's: the centre line of one half of the road, each of its points
halfway between a centre-line point and the border point on the same row. Lane ``1``
is the inner lane, ``-1`` the outer (``OBJECT_POSITIONS``' convention).

Contents:
    ObjectAvoidanceConfig, HeadToBotConfig: the settings, with the simapp's names.
    RaceSettings, race_settings: DRfC (``DR_OA_*``, ``DR_H2B_*``) or simapp names to them.
    simapp_race_params: them back to the simapp's names, as DRfC writes them.
    drfc_run_env: the simapp's names as DRfC ``run.env`` lines (``DR_*``).
    OBSTACLE_TYPES, OBSTACLE_SIZES, RACE_TYPES, INNER_LANE, OUTER_LANE: constants.
    lane_lines: a track's inner and outer lanes.
    ObjectPlacement, place_obstacles, obstacle_objects: where the obstacles go.
    simapp_obstacle_gap: the simapp's obstacle spacing, episode by episode.
    check_fits: the error when the objects do not fit at their minimum distance.
    closest_object, training_start_pose, reset_pose, MercyReset, CLOSEST_OBJ_GAP,
        RESET_BEHIND_DIST: where the car starts and is put back near objects.
    BotCars: bot cars that follow their lanes and change lanes over time.
    Footprint, SceneObject, BOX_FOOTPRINT, BOT_CAR_FOOTPRINT: see
        :mod:`deepracer.rewards.objects`.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, get_args, get_origin, get_type_hints

import numpy as np
from numpy.typing import NDArray

from deepracer.config.checks import at_least, positive
from deepracer.errors import ConfigError, suggest
from deepracer.rewards.objects import (
    BOT_CAR_FOOTPRINT,
    BOT_CAR_Z,
    BOX_FOOTPRINT,
    OBSTACLE_Z,
    Footprint,
    SceneObject,
    simapp_lines,
)
from deepracer.tracks import Track

__all__ = [
    "BOT_CAR_FOOTPRINT",
    "BOX_FOOTPRINT",
    "CLOSEST_OBJ_GAP",
    "INNER_LANE",
    "OBSTACLE_SIZES",
    "OBSTACLE_TYPES",
    "OUTER_LANE",
    "RACE_TYPES",
    "RESET_BEHIND_DIST",
    "BotCars",
    "Footprint",
    "HeadToBotConfig",
    "MercyReset",
    "ObjectAvoidanceConfig",
    "ObjectPlacement",
    "RaceSettings",
    "SceneObject",
    "check_fits",
    "closest_object",
    "drfc_run_env",
    "lane_lines",
    "obstacle_objects",
    "place_obstacles",
    "race_settings",
    "reset_pose",
    "simapp_obstacle_gap",
    "simapp_race_params",
    "training_start_pose",
]

FloatArray = NDArray[np.float64]
ObstacleType = Literal["box_obstacle", "deepracer_box_obstacle", "amazon_box_obstacle"]

OBSTACLE_TYPES: tuple[str, ...] = get_args(ObstacleType)
"""``OBSTACLE_TYPE`` values (``agent_ctrl/constants.py`` ``OBSTACLE_TYPE_LIST``)."""
OBSTACLE_SIZES: dict[str, tuple[float, float, float]] = {
    "box_obstacle": (0.4, 0.3, 0.25),
    "deepracer_box_obstacle": (0.36, 0.265, 0.24),
    "amazon_box_obstacle": (0.4, 0.3, 0.25),
}
"""What each obstacle type looks like: (along the lane, across it, height) [m].

``models/<type>/model.sdf``: the box's ``<size>``; for the two textured boxes the
``<scale>`` of their mesh, read as a size (their meshes are not in the repository
unpacked; the Amazon box's scale equals the plain box's size). Collisions and the
camera test use :data:`BOX_FOOTPRINT` for all three."""
RACE_TYPES = ("TIME_TRIAL", "OBJECT_AVOIDANCE", "HEAD_TO_BOT")
"""``RACE_TYPE`` values simulated here (``reset/constants.py`` ``RaceType`` also has
``HEAD_TO_MODEL`` and ``F1``)."""
INNER_LANE = 1
"""``OBJECT_POSITIONS``' lane number of the inner lane."""
OUTER_LANE = -1
"""``OBJECT_POSITIONS``' lane number of the outer lane."""
_FINISH_GAP = 1.0  # [m] the simapp spreads objects up to 1 m before the line's end
_DIST_THRESHOLD = 0.02  # [m] track_geom/constants.py DIST_THRESHOLD (lane changes)
_SPLINE_DEGREE = 3  # track_geom/constants.py SPLINE_DEGREE


def _check_positions(value: tuple[tuple[float, int], ...]) -> str | None:
    expected = (
        "[progress, lane] pairs, progress a fraction of the lap in [0, 1) (the simapp"
        " multiplies it by the track length: 0.25, not 25) and lane 1 (inner) or -1 (outer)"
    )
    for i, (progress, lane) in enumerate(value):
        if not 0.0 <= progress < 1.0:
            return f"{expected}; item {i} has progress {progress:g}"
        if lane not in (INNER_LANE, OUTER_LANE):
            return f"{expected}; item {i} has lane {lane}"
    return None


def _check_obstacle_type(value: str) -> str | None:
    if value in OBSTACLE_TYPES:
        return None
    return "one of " + ", ".join(OBSTACLE_TYPES) + "." + suggest(value, OBSTACLE_TYPES)


def _check_fields(config: object) -> None:
    """Runs every field's ``check`` (the loader runs them on files; this on direct use)."""
    for f in dataclasses.fields(config):  # type: ignore[arg-type]
        check = f.metadata.get("check")
        value = getattr(config, f.name)
        problem = check(value) if check is not None else None
        if problem:
            raise ValueError(f"{f.name}: expected {problem}, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class ObjectAvoidanceConfig:
    """Object avoidance: static obstacles (``ObstaclesCtrl.__init__``'s settings).

    Defaults are DRfC's ``template-run.env`` (``DR_OA_*``); the simapp's own, for a
    key its YAML lacks, differ only in ``number_of_obstacles`` (0).

    Example:
        >>> ObjectAvoidanceConfig(number_of_obstacles=3).obstacle_count
        3
        >>> ObjectAvoidanceConfig(object_positions=((0.25, 1), (0.5, -1))).obstacle_count
        2
    """

    number_of_obstacles: int = field(default=6, metadata={"check": at_least(0, "an integer")})
    """``NUMBER_OF_OBSTACLES``: how many obstacles (ignored with ``object_positions``)."""
    min_distance_between_obstacles: float = field(default=2.0, metadata={"check": at_least(0)})
    """``MIN_DISTANCE_BETWEEN_OBSTACLES`` [% of the centre-line length]: the current
    simapp converts it (``(value / 100) * length``); simapps before October 2024 and
    DRfC's reference read it as metres."""
    randomize_obstacle_locations: bool = False
    """``RANDOMIZE_OBSTACLE_LOCATIONS``: perturb the positions and draw the lanes at
    every reset instead of spacing evenly in alternating lanes."""
    obstacle_type: ObstacleType = field(
        default="box_obstacle", metadata={"check": _check_obstacle_type}
    )
    """``OBSTACLE_TYPE``: the box's look (see :data:`OBSTACLE_SIZES`)."""
    is_obstacle_bot_car: bool = False
    """``IS_OBSTACLE_BOT_CAR``: show the obstacles as parked cars (a car's footprint)."""
    object_positions: tuple[tuple[float, int], ...] = field(
        default=(), metadata={"check": _check_positions}
    )
    """``OBJECT_POSITIONS``: fixed ``[progress, lane]`` pairs, progress a fraction of
    the lap in [0, 1), lane 1 (inner) or -1 (outer); when given they set the number
    of obstacles and turn randomisation off."""

    def __post_init__(self) -> None:
        _check_fields(self)

    @property
    def obstacle_count(self) -> int:
        """The number of obstacles the simapp spawns (``object_positions`` win)."""
        return len(self.object_positions) if self.object_positions else self.number_of_obstacles

    @property
    def footprint(self) -> Footprint:
        """The obstacles' collision rectangle (a box's, or a car's)."""
        return BOT_CAR_FOOTPRINT if self.is_obstacle_bot_car else BOX_FOOTPRINT


@dataclass(frozen=True, kw_only=True)
class HeadToBotConfig:
    """Head-to-bot: bot cars driving their lanes (``BotCarsCtrl.__init__``'s settings).

    Defaults are DRfC's ``template-run.env`` (``DR_H2B_*``); the simapp's own differ
    in ``number_of_bot_cars`` (0) and ``penalty_seconds`` (2.0).

    Example:
        >>> HeadToBotConfig().lane_change_duration
        5.0
    """

    number_of_bot_cars: int = field(default=3, metadata={"check": at_least(0, "an integer")})
    """``NUMBER_OF_BOT_CARS``."""
    min_distance_between_bot_cars: float = field(default=2.0, metadata={"check": at_least(0)})
    """``MIN_DISTANCE_BETWEEN_BOT_CARS`` [m] (metres here: the simapp converts only the
    obstacles' distance from percent)."""
    randomize_bot_car_locations: bool = False
    """``RANDOMIZE_BOT_CAR_LOCATIONS``: perturb the start positions and draw the lanes."""
    bot_car_speed: float = field(default=0.2, metadata={"check": positive})
    """``BOT_CAR_SPEED`` [m/s of centre-line distance]. Must be > 0: the simapp divides
    the lane-change distance by it."""
    is_lane_change: bool = False
    """``IS_LANE_CHANGE``: bot cars switch lanes now and then."""
    lower_lane_change_time: float = field(default=3.0, metadata={"check": at_least(0)})
    """``LOWER_LANE_CHANGE_TIME`` [s]: least time on a lane before changing."""
    upper_lane_change_time: float = field(default=5.0, metadata={"check": at_least(0)})
    """``UPPER_LANE_CHANGE_TIME`` [s]: most time on a lane before changing."""
    lane_change_distance: float = field(default=1.0, metadata={"check": positive})
    """``LANE_CHANGE_DISTANCE`` [m of centre line] a lane change takes."""
    penalty_seconds: float = field(default=5.0, metadata={"check": at_least(0)})
    """``PENALTY_SECONDS`` [s] (DRfC: ``DR_H2B_BOT_CAR_PENALTY``): how long all bot cars
    stop after one runs into the racecar from behind."""

    def __post_init__(self) -> None:
        _check_fields(self)
        if self.lower_lane_change_time > self.upper_lane_change_time:
            raise ValueError(
                f"lower_lane_change_time: expected at most upper_lane_change_time"
                f" ({self.upper_lane_change_time:g} s), got {self.lower_lane_change_time:g} s"
            )

    @property
    def lane_change_duration(self) -> float:
        """Seconds a lane change takes: distance / speed (``BotCarsCtrl.__init__``)."""
        return self.lane_change_distance / self.bot_car_speed


# -- settings by the simapp's and DRfC's names ------------------------------------------

_OA_NAMES = {
    "NUMBER_OF_OBSTACLES": "number_of_obstacles",
    "MIN_DISTANCE_BETWEEN_OBSTACLES": "min_distance_between_obstacles",
    "RANDOMIZE_OBSTACLE_LOCATIONS": "randomize_obstacle_locations",
    "OBSTACLE_TYPE": "obstacle_type",
    "IS_OBSTACLE_BOT_CAR": "is_obstacle_bot_car",
    "OBJECT_POSITIONS": "object_positions",
}
_H2B_NAMES = {
    "NUMBER_OF_BOT_CARS": "number_of_bot_cars",
    "MIN_DISTANCE_BETWEEN_BOT_CARS": "min_distance_between_bot_cars",
    "RANDOMIZE_BOT_CAR_LOCATIONS": "randomize_bot_car_locations",
    "BOT_CAR_SPEED": "bot_car_speed",
    "IS_LANE_CHANGE": "is_lane_change",
    "LOWER_LANE_CHANGE_TIME": "lower_lane_change_time",
    "UPPER_LANE_CHANGE_TIME": "upper_lane_change_time",
    "LANE_CHANGE_DISTANCE": "lane_change_distance",
    "PENALTY_SECONDS": "penalty_seconds",
}
# DRfC's scripts/training/prepare-config.py: DR_OA_<name>, DR_H2B_<name>, and the
# penalty under its own name.
_DRFC_NAMES = {
    "DR_RACE_TYPE": "RACE_TYPE",
    **{f"DR_OA_{name}": name for name in _OA_NAMES},
    **{f"DR_H2B_{name}": name for name in _H2B_NAMES if name != "PENALTY_SECONDS"},
    "DR_H2B_BOT_CAR_PENALTY": "PENALTY_SECONDS",
}


class RaceSettings(NamedTuple):
    """A race type and its object settings, from :func:`race_settings`.

    Attributes:
        race_type: One of :data:`RACE_TYPES`.
        object_avoidance: The obstacles, or None for none.
        head_to_bot: The bot cars, or None for none.
    """

    race_type: str
    object_avoidance: ObjectAvoidanceConfig | None
    head_to_bot: HeadToBotConfig | None


def race_settings(settings: Mapping[str, Any], *, source: str = "<settings>") -> RaceSettings:
    """Reads the race type and object settings from DRfC or simapp names.

    ``settings`` is a DRfC ``run.env`` (``DR_RACE_TYPE``, ``DR_OA_*``, ``DR_H2B_*``,
    values as strings) or a simapp training/evaluation YAML (``RACE_TYPE``,
    ``NUMBER_OF_OBSTACLES``, ...), other keys ignored. As in each:

    * DRfC's ``prepare-config.py`` passes on only the section of ``DR_RACE_TYPE``
      (``DR_OA_*`` for ``OBJECT_AVOIDANCE``, ``DR_H2B_*`` for ``HEAD_TO_BOT``);
    * the simapp reads its names whatever the race type (``ObstaclesCtrl`` and
      ``BotCarsCtrl`` are always created), so a simapp name makes its section.

    Missing settings take the config's defaults. ``OBJECT_POSITIONS`` is a YAML list
    of ``"progress,lane"`` strings (or pairs), or DRfC's one string ``"0.23,-1;0.46,1"``.
    Booleans are ``true``/``false`` in any case (the simapp's ``str2bool``), numbers
    as ``int()``/``float()`` read them.

    Args:
        settings: The mapping.
        source: Names it in error messages.

    Raises:
        ConfigError: A misspelled ``DR_OA_*``/``DR_H2B_*`` key (with the closest
            name), a value that does not parse or validate (naming the key as
            written), an unsupported race type, or one setting given by both names
            with different values.

    Example:
        >>> race_settings({"DR_RACE_TYPE": "HEAD_TO_BOT", "DR_H2B_BOT_CAR_SPEED": "0.5"})
        ... # doctest: +ELLIPSIS
        RaceSettings(race_type='HEAD_TO_BOT', object_avoidance=None, head_to_bot=...)
    """
    found: dict[str, tuple[str, Any]] = {}  # simapp name -> (key as written, value)
    drfc: set[str] = set()
    for key, value in settings.items():
        name = str(key)
        if name.startswith(("DR_OA_", "DR_H2B_")) or name == "DR_RACE_TYPE":
            if name not in _DRFC_NAMES:
                raise ConfigError(
                    f"{source}: unknown key {name!r}.{suggest(name, _DRFC_NAMES)} Object"
                    f" settings: {', '.join(sorted(_DRFC_NAMES))}"
                )
            drfc.add(_DRFC_NAMES[name])
            name = _DRFC_NAMES[name]
        elif name != "RACE_TYPE" and name not in _OA_NAMES and name not in _H2B_NAMES:
            continue
        if name in found and found[name][1] != value:
            raise ConfigError(
                f"{source}: {found[name][0]} and {key} name the same setting with different"
                f" values ({found[name][1]!r} and {value!r}); give one"
            )
        found[name] = (str(key), value)
    race_type = str(found.get("RACE_TYPE", ("", "TIME_TRIAL"))[1]).strip().upper()
    if race_type not in RACE_TYPES:
        written = found["RACE_TYPE"][0]
        raise ConfigError(
            f"{source}: {written}: expected one of {', '.join(RACE_TYPES)}, got"
            f" {found['RACE_TYPE'][1]!r}.{suggest(race_type, RACE_TYPES)}"
        )

    def section(names: Mapping[str, str], active: str) -> dict[str, tuple[str, Any]]:
        return {
            name: found[name]
            for name in names
            if name in found and (name not in drfc or race_type == active)
        }

    oa = section(_OA_NAMES, "OBJECT_AVOIDANCE")
    h2b = section(_H2B_NAMES, "HEAD_TO_BOT")
    object_avoidance = (
        _build(ObjectAvoidanceConfig, _OA_NAMES, oa, source)
        if oa or race_type == "OBJECT_AVOIDANCE"
        else None
    )
    head_to_bot = (
        _build(HeadToBotConfig, _H2B_NAMES, h2b, source)
        if h2b or race_type == "HEAD_TO_BOT"
        else None
    )
    return RaceSettings(race_type, object_avoidance, head_to_bot)


def simapp_race_params(
    race_type: str,
    object_avoidance: ObjectAvoidanceConfig | None,
    head_to_bot: HeadToBotConfig | None,
) -> dict[str, str | list[str]]:
    """The race type and its settings by the simapp's names, as DRfC writes them.

    DRfC's ``prepare-config.py`` writes ``RACE_TYPE`` and only the section of that race
    type, every value a string (booleans ``true``/``false``, which the simapp's
    ``str2bool`` reads in any case) and ``OBJECT_POSITIONS`` as a list of
    ``"progress,lane"`` strings, whose count overrides ``NUMBER_OF_OBSTACLES``.
    :func:`race_settings` reads the result back to the same settings.

    Example:
        >>> simapp_race_params("HEAD_TO_BOT", None, HeadToBotConfig())["BOT_CAR_SPEED"]
        '0.2'
    """

    def text(value: Any) -> str | list[str]:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            return f"{value:g}"
        if isinstance(value, tuple):
            return [f"{progress:g},{lane}" for progress, lane in value]
        return str(value)

    params: dict[str, str | list[str]] = {"RACE_TYPE": race_type}
    sections: list[tuple[Any, Mapping[str, str]]] = []
    if race_type == "OBJECT_AVOIDANCE" and object_avoidance is not None:
        sections.append((object_avoidance, _OA_NAMES))
    if race_type == "HEAD_TO_BOT" and head_to_bot is not None:
        sections.append((head_to_bot, _H2B_NAMES))
    for config, names in sections:
        for name, attr in names.items():
            value = getattr(config, attr)
            if name == "OBJECT_POSITIONS" and not value:
                continue  # DRfC leaves the key out without positions
            params[name] = text(value)
    if object_avoidance is not None and object_avoidance.object_positions:
        params["NUMBER_OF_OBSTACLES"] = str(len(object_avoidance.object_positions))
    return params


def drfc_run_env(params: Mapping[str, str | list[str]]) -> str:
    """``run.env`` lines for simapp settings: what a DRfC user merges into theirs.

    ``WORLD_NAME``, ``RACE_TYPE`` and the race's section (from
    :func:`simapp_race_params`) under DRfC's names (``DR_WORLD_NAME``,
    ``DR_RACE_TYPE``, ``DR_OA_*``, ``DR_H2B_*``); ``OBJECT_POSITIONS`` as DRfC's one
    string ``"0.23,-1;0.46,1"``, left empty without positions so that a merged file
    keeps none of its own. :func:`race_settings` reads the lines back.

    Example:
        >>> print(drfc_run_env({"WORLD_NAME": "reinvent_base", "RACE_TYPE": "TIME_TRIAL"}))
        DR_WORLD_NAME=reinvent_base
        DR_RACE_TYPE=TIME_TRIAL
        <BLANKLINE>
    """
    drfc = {name: key for key, name in _DRFC_NAMES.items()}
    drfc["WORLD_NAME"] = "DR_WORLD_NAME"
    values = dict(params)
    if values.get("RACE_TYPE") == "OBJECT_AVOIDANCE":
        values.setdefault("OBJECT_POSITIONS", [])
    lines = []
    for name in ("WORLD_NAME", "RACE_TYPE", *_OA_NAMES, *_H2B_NAMES):
        if name not in values:
            continue
        value = values[name]
        text = ";".join(value) if isinstance(value, list) else value
        lines.append(f"{drfc[name]}={text}\n")
    return "".join(lines)


def _build(
    cls: type[Any], names: Mapping[str, str], given: Mapping[str, tuple[str, Any]], source: str
) -> Any:
    """Parses ``given`` (simapp name -> (key, value)) into ``cls``, naming keys in errors."""
    hints = get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    written = {names[name]: key for name, (key, _) in given.items()}
    for name, (key, value) in given.items():
        attr = names[name]
        try:
            kwargs[attr] = _parse(hints[attr], value)
        except ValueError as exc:
            raise ConfigError(f"{source}: {key}: {exc}") from None
    try:
        return cls(**kwargs)
    except ValueError as exc:
        attr, _, problem = str(exc).partition(": ")
        key = written.get(attr, attr)
        raise ConfigError(f"{source}: {key}: {problem}") from None


def _parse(annotation: Any, value: Any) -> Any:
    """One setting's value, from a string (an env file) or a YAML value."""
    if annotation is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "false"):
            return text == "true"
        raise ValueError(f"expected true or false, got {value!r}")
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise ValueError(f"expected an integer, got {value!r}") from None
    if annotation is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        try:
            number = float(str(value).strip())
        except ValueError:
            raise ValueError(f"expected a number, got {value!r}") from None
        if not math.isfinite(number):
            raise ValueError(f"expected a finite number, got {value!r}")
        return number
    if get_origin(annotation) is tuple:
        return _parse_positions(value)
    return str(value).strip()  # the obstacle type; the config checks its value


def _parse_positions(value: Any) -> tuple[tuple[float, int], ...]:
    """``OBJECT_POSITIONS``: ``"p,l;p,l"`` (DRfC), a list of ``"p,l"`` or of pairs."""
    expected = 'expected "progress,lane" items such as "0.23,-1;0.46,1"'
    if value is None:
        return ()
    if isinstance(value, str):
        # DRfC strips stray quotes before splitting (prepare-config.py).
        text = value.replace('"', "").strip()
        items: list[Any] = [part for part in text.split(";") if part.strip()] if text else []
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise ValueError(f"{expected}, got {value!r}")
    pairs = []
    for item in items:
        parts = item.split(",") if isinstance(item, str) else item
        if not isinstance(parts, list | tuple) or len(parts) != 2:
            raise ValueError(f"{expected}, got {item!r}")
        try:
            progress, lane = float(str(parts[0]).strip()), int(str(parts[1]).strip())
        except ValueError:
            raise ValueError(f"{expected}, got {item!r}") from None
        pairs.append((progress, lane))
    return tuple(pairs)


# -- lanes and placement ----------------------------------------------------------------


def lane_lines(track: Track) -> tuple[FloatArray, FloatArray]:
    """Returns the inner and outer lanes' points, (N, 2) each, in the driving direction.

    ``TrackData.__init__``: each lane point is the mean of a centre-line point and
    the inner (outer) border point on the same route row.
    """
    lanes = _lanes(track)
    return lanes[INNER_LANE].points, lanes[OUTER_LANE].points


class _Lane(NamedTuple):
    """A lane as the simapp's ``TrackLine``: the shapely line, its points and ndists."""

    line: Any
    points: FloatArray
    ndists: list[float]


_LANES: weakref.WeakKeyDictionary[Track, dict[int, _Lane]] = weakref.WeakKeyDictionary()


_CENTER = 0  # the centre line's key among the lanes


def _lanes(track: Track) -> dict[int, _Lane]:
    """Both lanes of ``track`` keyed by lane number, and the centre line as 0 (cached)."""
    lanes = _LANES.get(track)
    if lanes is None:
        import shapely

        lines = simapp_lines(track)
        lanes = {}
        for lane_id, line in (
            (INNER_LANE, lines.inner_lane),
            (OUTER_LANE, lines.outer_lane),
            (_CENTER, lines.center),
        ):
            points = np.asarray(line.coords, dtype=np.float64)
            # TrackLine.ndists: each waypoint's normalised projection, then 1.0.
            ndists = shapely.line_locate_point(line, shapely.points(points[:-1]), normalized=True)
            lanes[lane_id] = _Lane(line, points, [*ndists.tolist(), 1.0])
        _LANES[track] = lanes
    return lanes


class ObjectPlacement(NamedTuple):
    """Where one object was placed.

    Attributes:
        x: Position x [m].
        y: Position y [m].
        heading: Yaw [rad], along its lane.
        lane: :data:`INNER_LANE` or :data:`OUTER_LANE`.
        distance: The centre-line arc length it was placed at [m]; divided by the
            track length, the ``progress`` of ``OBJECT_POSITIONS``.
    """

    x: float
    y: float
    heading: float
    lane: int
    distance: float


def check_fits(
    count: int, min_distance: float, track: Track, *, what: str, setting: str, shown: str
) -> None:
    """Raises ConfigError if ``count`` objects do not fit ``min_distance`` apart.

    The simapp spreads them from ``min_distance`` to 1 m before the end of the centre
    line (``np.linspace(min_dist, length - 1.0, n)``, ``_compute_obstacle_poses``), so
    they fit iff ``count * min_distance <= length - 1`` (it places them anyway, closer).

    Args:
        count: Number of objects.
        min_distance: Their minimum spacing [m].
        track: The track.
        what: ``"obstacles"`` or ``"bot cars"``.
        setting: The count's field name, for the message.
        shown: The minimum distance as the user wrote it, for the message.
    """
    room = track.length - _FINISH_GAP
    if count == 0 or count * min_distance <= room + 1e-9:
        return
    most = max(0, math.floor(room / min_distance + 1e-9)) if min_distance > 0 else 0
    raise ConfigError(
        f"{setting}: {count} {what} at least {shown} apart do not fit on track"
        f" {track.name!r}: its centre line is {track.length:.2f} m and the simapp spreads"
        f" them from {min_distance:.2f} m to {_FINISH_GAP:g} m before its end, room for"
        f" {most}; lower {setting} or the minimum distance"
    )


def _spread(
    count: int, min_distance: float, track: Track, randomize: bool, rng: np.random.Generator
) -> tuple[list[float], list[int]]:
    """Centre-line distances and lanes, as ``_compute_obstacle_poses``.

    ``_compute_bot_car_initial_states`` runs the same algorithm. Evenly spaced from
    ``min_distance`` to 1 m before the end, lanes alternating from the inner one; or,
    randomised, each object in a shuffled order moved uniformly within its neighbours'
    current positions +- ``min_distance`` (kept if that range is empty), then a fair
    coin for each lane in object order.
    """
    start, end = min_distance, track.length - _FINISH_GAP
    dists = np.linspace(start, end, count)
    if not randomize:
        return dists.tolist(), [OUTER_LANE if i % 2 else INNER_LANE for i in range(count)]
    for i in rng.permutation(count):
        lo = start if i == 0 else dists[i - 1] + min_distance
        hi = end if i == count - 1 else dists[i + 1] - min_distance
        if lo < hi:
            dists[i] = rng.uniform(lo, hi)
    lanes = [OUTER_LANE if rng.integers(2) else INNER_LANE for _ in range(count)]
    return dists.tolist(), lanes


def _find_prev_next(ndists: Sequence[float], value: float) -> tuple[int, int]:
    """``track_geom/utils.py`` ``find_prev_next``: bisect right, wrapping at both ends."""
    nxt = bisect.bisect_right(ndists, value)
    prev = nxt - 1
    if prev == -1:
        prev = len(ndists) - 1
    if nxt == len(ndists):
        nxt = 0
    return prev, nxt


def _lane_pose(lane: _Lane, s: float, *, forward: bool = False) -> tuple[float, float, float]:
    """``TrackLine.interpolate_pose`` at arc length ``s`` [m].

    With the default central difference the yaw points from the waypoint before ``s``
    to the one after it (the segment's direction; at exactly the line's end, last to
    first waypoint, as the simapp); with ``forward`` from the point itself to the
    waypoint after it (``FiniteDifference.FORWARD_DIFFERENCE``, used for car poses).
    A negative ``s`` counts back from the end, as shapely's ``interpolate``.
    """
    import shapely

    point = shapely.line_interpolate_point(lane.line, s)
    prev, nxt = _find_prev_next(lane.ndists, s / lane.line.length)
    x0, y0 = (point.x, point.y) if forward else lane.points[prev]
    x1, y1 = lane.points[nxt]
    return float(point.x), float(point.y), math.atan2(y1 - y0, x1 - x0)


def simapp_obstacle_gap(config: ObjectAvoidanceConfig, track: Track, episode: int) -> float:
    """The obstacle spacing [m] the simapp uses in its ``episode``-th episode (from 0).

    ``_compute_obstacle_poses`` overwrites ``self.min_obstacle_dist`` with
    ``(min_obstacle_dist / 100) * length`` each time it runs: once when
    ``ObstaclesCtrl`` is built, then at every ``reset_agent``. Episode ``e`` so uses
    ``value * (length / 100) ** (e + 2)``: on a DeepRacer track (shorter than
    100 m) the spacing shrinks towards 0 within a few episodes. :func:`place_obstacles`
    converts once (the evident intent) unless given this.

    Example:
        >>> from deepracer.tracks import get_track
        >>> config = ObjectAvoidanceConfig()  # 2 % on the 17.7 m re:Invent 2018 track
        >>> [round(simapp_obstacle_gap(config, get_track("reinvent_base"), e), 4) for e in (0, 1)]
        [0.0627, 0.0111]
    """
    return config.min_distance_between_obstacles * (track.length / 100.0) ** (episode + 2)


def place_obstacles(
    config: ObjectAvoidanceConfig,
    track: Track,
    rng: np.random.Generator,
    *,
    min_distance: float | None = None,
) -> list[ObjectPlacement]:
    """Places the obstacles for one episode, as ``ObstaclesCtrl._compute_obstacle_poses``.

    ``object_positions`` put obstacle ``i`` at ``progress * length`` of the centre line
    in its lane. Otherwise :func:`check_fits`, then the spread of ``_spread``. Each
    obstacle sits at the point of its lane nearest that centre-line point, facing
    along the lane (``lane.interpolate_pose(lane.project(centre.interpolate(d)))``).

    Args:
        config: The settings.
        track: The track in its driving direction.
        rng: Draws the randomised layout (unused otherwise).
        min_distance: The minimum spacing [m]; default ``min_distance_between_obstacles``
            percent of the centre line, converted once. The simapp converts the value
            it already converted again at every layout (see
            :func:`simapp_obstacle_gap`); pass that to lay out as it does.

    Raises:
        ConfigError: The obstacles do not fit (see :func:`check_fits`).
    """
    import shapely

    lanes, center = _lanes(track), simapp_lines(track).center
    if config.object_positions:
        dists = [progress * track.length for progress, _ in config.object_positions]
        lane_ids = [lane for _, lane in config.object_positions]
    else:
        percent = config.min_distance_between_obstacles
        gap = percent / 100.0 * track.length if min_distance is None else min_distance
        check_fits(
            config.number_of_obstacles,
            gap,
            track,
            what="obstacles",
            setting="number_of_obstacles",
            shown=f"{gap:.2f} m" if min_distance is not None else f"{percent:g}% of the lap",
        )
        dists, lane_ids = _spread(
            config.number_of_obstacles, gap, track, config.randomize_obstacle_locations, rng
        )
    placements = []
    for dist, lane_id in zip(dists, lane_ids, strict=True):
        lane = lanes[lane_id]
        on_centre = shapely.line_interpolate_point(center, dist)
        x, y, yaw = _lane_pose(lane, float(shapely.line_locate_point(lane.line, on_centre)))
        placements.append(ObjectPlacement(x, y, yaw, lane_id, float(dist)))
    return placements


def obstacle_objects(
    config: ObjectAvoidanceConfig, placements: Sequence[ObjectPlacement]
) -> list[SceneObject]:
    """The obstacles as scene objects: a box's or a car's footprint and height.

    ``ObstaclesCtrl``: ``OBSTACLE_Z`` for a box, ``BOT_CAR_Z`` for a parked car.
    """
    z = BOT_CAR_Z if config.is_obstacle_bot_car else OBSTACLE_Z
    return [SceneObject(p.x, p.y, p.heading, "obstacle", config.footprint, z) for p in placements]


# -- where the car starts and resets near objects ---------------------------------------

CLOSEST_OBJ_GAP = 1.0
"""[m] An object this close along the centre line moves the car's start or reset
(``agent_ctrl/constants.py`` ``CLOSEST_OBJ_GAP``)."""
RESET_BEHIND_DIST = 1.0
"""[m] How far behind the obstacle it crashed into the car is put back
(``DEFAULT_RESET_BEHIND_DIST``, the simapp's ``RESET_BEHIND_DIST``)."""


def closest_object(
    track: Track, dist: float, objects: Sequence[SceneObject], *, kind: str | None = None
) -> tuple[int, float] | None:
    """The object nearest ``dist`` along the centre line, if within 1 m.

    ``RolloutCtrl._get_closest_obj``: the gap is ``abs(object_dist - dist) % length``,
    so an object just over the finish line from ``dist`` is a lap away, not near.

    Args:
        track: The track in its driving direction.
        dist: A centre-line distance [m].
        objects: The objects, in the simapp's order (the first of equal gaps wins).
        kind: Only objects of this kind (``"obstacle"`` after a crash).

    Returns:
        ``(index, object_dist)``, or None when no object is within
        :data:`CLOSEST_OBJ_GAP`.
    """
    import shapely

    center = simapp_lines(track).center
    found, gap = None, CLOSEST_OBJ_GAP
    for index, obj in enumerate(objects):
        if kind is not None and obj.kind != kind:
            continue
        object_dist = float(shapely.line_locate_point(center, shapely.Point(obj.x, obj.y)))
        object_gap = abs(object_dist - dist) % track.length
        if object_gap < gap:
            found, gap = (index, object_dist), object_gap
    return found


def _is_inner(track: Track, obj: SceneObject) -> bool:
    """``_is_obstacle_inner``: nearer the inner border than the outer one.

    Both measured to the border points nearest the centre-line point nearest the
    object (``TrackData.get_nearest_points``).
    """
    import shapely

    lines = simapp_lines(track)
    point = shapely.Point(obj.x, obj.y)
    on_centre = shapely.line_interpolate_point(
        lines.center,
        shapely.line_locate_point(lines.center, point, normalized=True),
        normalized=True,
    )
    near_in = shapely.line_interpolate_point(
        lines.inner_border, shapely.line_locate_point(lines.inner_border, on_centre)
    )
    near_out = shapely.line_interpolate_point(
        lines.outer_border, shapely.line_locate_point(lines.outer_border, on_centre)
    )
    return bool(point.distance(near_in) < point.distance(near_out))


def _lane_poses_at(track: Track, dist: float) -> dict[int, tuple[float, float, float]]:
    """``_get_reset_poses``: the centre-line pose at ``dist`` and each lane's beside it.

    All with forward-difference yaws; a lane's point is the one nearest the
    centre-line point.
    """
    import shapely

    lanes = _lanes(track)
    x, y, yaw = _lane_pose(lanes[_CENTER], dist, forward=True)
    poses = {_CENTER: (x, y, yaw)}
    for lane_id in (INNER_LANE, OUTER_LANE):
        s = float(shapely.line_locate_point(lanes[lane_id].line, shapely.Point(x, y)))
        poses[lane_id] = _lane_pose(lanes[lane_id], s, forward=True)
    return poses


def training_start_pose(
    track: Track, start_dist: float, objects: Sequence[SceneObject]
) -> tuple[float, float, float]:
    """Where a training episode starts, as ``RolloutCtrl._get_car_start_model_state``.

    On the centre line at ``start_dist`` (forward-difference yaw), unless an object
    of any kind is within :data:`CLOSEST_OBJ_GAP` (:func:`closest_object`): then in
    the lane away from it, beside that centre-line point. (An evaluation starts on
    the centre line regardless.)

    The simapp resets the car before the obstacles and bot cars
    (``DeepRacerRacetrackEnv._restart_environment_episode``: trainable agents
    first), so it avoids the objects where the last episode left them; pass those
    to match it, or the new layout to avoid what the car will meet.

    Args:
        track: The track in its driving direction.
        start_dist: ``(start_ndist + start offset) * length`` [m].
        objects: Obstacles and bot cars.

    Returns:
        The car origin ``(x, y, yaw)``.
    """
    poses = _lane_poses_at(track, start_dist)
    near = closest_object(track, start_dist, objects)
    if near is None:
        return poses[_CENTER]
    return poses[OUTER_LANE] if _is_inner(track, objects[near[0]]) else poses[INNER_LANE]


@dataclass
class MercyReset:
    """The simapp's ``ENABLE_MERCY_RESET`` rule and its ``obstacle_crash_counter``.

    ``RolloutCtrl._get_car_reset_model_state`` under the flag: each reset near an
    obstacle counts, 1 for a new obstacle, one more for the same one; on reaching
    ``max_resets_after_crash`` the car goes ``reset_ahead_dist`` past the obstacle and
    the count starts again from 0. The count is the simtrace's
    ``obstacle_crash_counter`` (0 at each episode's start).

    Args:
        reset_ahead_dist: The simapp's ``RESET_AHEAD_DIST`` [m].
        max_resets_after_crash: ``MAX_RESETS_AFTER_CRASH``.

    Example:
        >>> mercy = MercyReset(1.0, 3)
        >>> [mercy.shift(0, 1.0) for _ in range(4)], mercy.count
        ([-1.0, -1.0, 1.0, -1.0], 1)
    """

    reset_ahead_dist: float
    max_resets_after_crash: int
    obstacle: int | None = None
    count: int = 0

    def shift(self, obstacle: int, reset_behind_dist: float) -> float:
        """Where along the centre line from ``obstacle`` this reset puts the car [m]."""
        if obstacle != self.obstacle:
            self.obstacle, self.count = obstacle, 1
        else:
            self.count += 1
        if self.count == self.max_resets_after_crash:
            self.count = 0
            return self.reset_ahead_dist
        return -reset_behind_dist


def reset_pose(
    track: Track,
    spawn_dist: float,
    objects: Sequence[SceneObject],
    car_pose: tuple[float, float, float],
    *,
    reset_behind_dist: float = RESET_BEHIND_DIST,
    mercy: MercyReset | None = None,
) -> tuple[float, float, float]:
    """Where the car is put back after a crash into an obstacle or going off the track.

    ``RolloutCtrl._get_car_reset_model_state``: with an obstacle within
    :data:`CLOSEST_OBJ_GAP` of ``spawn_dist``, ``reset_behind_dist`` behind it (with
    ``mercy``, every ``max_resets_after_crash``-th time in a row past it) in the other
    lane; otherwise at ``spawn_dist`` in the lane nearer the car. The simapp computes
    ``spawn_dist`` from the progress (a crash: this step's, off the track: the
    previous step's) times the length / 100.

    Args:
        track: The track in its driving direction.
        spawn_dist: The centre-line distance to reset at [m].
        objects: Obstacles and bot cars (only obstacles move the reset).
        car_pose: The car origin before the reset, to pick the nearer lane.
        reset_behind_dist: The simapp's ``RESET_BEHIND_DIST`` [m].
        mercy: The episode's ``ENABLE_MERCY_RESET`` state (updated), or None: off.

    Returns:
        The car origin ``(x, y, yaw)`` to reset to.
    """
    near = closest_object(track, spawn_dist, objects, kind="obstacle")
    if near is not None:
        index, object_dist = near
        shift = -reset_behind_dist if mercy is None else mercy.shift(index, reset_behind_dist)
        poses = _lane_poses_at(track, object_dist + shift)
        return poses[OUTER_LANE] if _is_inner(track, objects[index]) else poses[INNER_LANE]
    poses = _lane_poses_at(track, spawn_dist)
    x, y, _ = car_pose
    inner, outer = poses[INNER_LANE], poses[OUTER_LANE]
    # pose_distance: the nearer lane pose wins, a tie goes to the outer lane.
    closer = math.hypot(inner[0] - x, inner[1] - y) < math.hypot(outer[0] - x, outer[1] - y)
    return inner if closer else outer


# -- bot cars ---------------------------------------------------------------------------


class _PathSpline:
    """A parametric cubic B-spline over centre-line distance (``AbstractSpline``)."""

    def __init__(self, tck: Any, track_length: float) -> None:
        self.tck = tck
        knots = tck[0]
        self._lo = float(knots[_SPLINE_DEGREE])
        self._hi = float(knots[-_SPLINE_DEGREE - 1])
        self._track_length = track_length

    def eval(self, dist: float) -> tuple[float, float, float, float]:
        """``AbstractSpline.eval_spline``: ``(x, y, dx/ds, dy/ds)`` at centre distance ``dist``.

        A distance outside the spline's range is moved a lap towards it, then clamped.
        """
        from scipy.interpolate import spalde

        if dist < self._lo:
            dist += self._track_length
        if dist > self._hi:
            dist -= self._track_length
        xs, ys = spalde(max(self._lo, min(dist, self._hi)), self.tck)
        return float(xs[0]), float(ys[0]), float(xs[1]), float(ys[1])


class _LaneSpline(NamedTuple):
    """A lane's points, their centre-line distances and its spline (``TrackSpline.lane``)."""

    points: FloatArray
    dists: list[float]
    spline: _PathSpline


def _lane_spline(track: Track, lane: _Lane) -> _LaneSpline:
    """``TrackSpline._build_spline``: the lane through its points by centre distance.

    Each lane point's parameter is its projection on the centre line, made monotonic
    at the start and the end of the lap; the ends are pinned at 0 and the length
    (periodic for a loop).
    """
    import shapely
    from scipy.interpolate import splprep

    length, center = track.length, simapp_lines(track).center
    dists = shapely.line_locate_point(center, shapely.points(lane.points)).tolist()
    for i in range(len(dists)):
        if dists[i] < 0.5 * length:
            break
        dists[i] -= length
    for i in range(len(dists) - 1, 0, -1):
        if dists[i] > 0.5 * length:
            break
        dists[i] += length
    u, first = np.unique(dists, return_index=True)
    x = lane.points.T[:, first]
    ends = np.asarray(center.coords)[[0, -1]]
    if u[0] > 0.0:
        nearest = shapely.line_locate_point(lane.line, shapely.Point(ends[0]))
        x[:, 0] = shapely.line_interpolate_point(lane.line, nearest).coords[0]
        u[0] = 0.0
    if u[-1] < length:
        nearest = shapely.line_locate_point(lane.line, shapely.Point(ends[1]))
        x[:, -1] = shapely.line_interpolate_point(lane.line, nearest).coords[0]
        u[-1] = length
    if track.is_loop:
        x[:, -1] = x[:, 0]
        tck, _ = splprep(x, u=u, k=_SPLINE_DEGREE, s=0, per=1)
    else:
        tck, _ = splprep(x, u=u, k=_SPLINE_DEGREE, s=0)
    return _LaneSpline(lane.points, dists, _PathSpline(tck, length))


def _lane_change_spline(
    track: Track,
    start: _LaneSpline,
    end: _LaneSpline,
    current_dist: float,
    start_dist: float,
    end_dist: float,
) -> _PathSpline:
    """``LaneChangeSpline._build_spline``: from ``start`` to ``end`` lane.

    Through the last 3 start-lane points before the bot car up to ``start_dist``, the
    start lane's point at ``start_dist``, the end lane's at ``end_dist`` and 3 end-lane
    points after it, parameterised by centre distance (shifted a lap where it wraps).
    """
    from scipy.interpolate import splprep

    length = track.length
    start_point = start.spline.eval(start_dist)[:2]
    end_point = end.spline.eval(end_dist)[:2]
    end_offset = 0.0 if start_dist < end_dist else length
    current_prev = bisect.bisect_left(start.dists, current_dist) - 1
    start_prev = bisect.bisect_left(start.dists, start_dist) - 1
    end_next = bisect.bisect_right(end.dists, end_dist)
    num_start, num_end = len(start.points), len(end.points)
    if track.is_loop:
        num_start -= 1
        num_end -= 1
    start_0, start_1 = (current_prev - 3) % num_start, start_prev
    end_0, end_1 = end_next, (end_next + 3) % num_end
    if start_0 < start_1:
        start_indices = list(range(start_0, start_1 + 1))
        start_offsets = [0.0] * len(start_indices)
    else:
        tail, head = list(range(start_0, num_start)), list(range(start_1 + 1))
        start_indices = tail + head
        start_offsets = [-length] * len(tail) + [0.0] * len(head)
    if end_0 < end_1:
        end_indices = list(range(end_0, end_1 + 1))
        end_offsets = [end_offset] * len(end_indices)
    else:
        tail, head = list(range(end_0, num_end)), list(range(end_1 + 1))
        end_indices = tail + head
        end_offsets = [end_offset] * len(tail) + [end_offset + length] * len(head)
    # Drop a lane point within DIST_THRESHOLD of the change's own start or end point.
    if math.dist(start.points[start_indices[-1]], start_point) < _DIST_THRESHOLD:
        start_indices.pop()
        start_offsets.pop()
    if math.dist(end.points[end_indices[0]], end_point) < _DIST_THRESHOLD:
        end_indices.pop(0)
        end_offsets.pop(0)
    u = np.hstack(
        (
            np.asarray(start.dists)[start_indices] + np.asarray(start_offsets),
            start_dist,
            end_dist + end_offset,
            np.asarray(end.dists)[end_indices] + np.asarray(end_offsets),
        )
    )
    x = np.hstack(
        (
            start.points[start_indices].T,
            np.reshape(start_point, (2, 1)),
            np.reshape(end_point, (2, 1)),
            end.points[end_indices].T,
        )
    )
    u, first = np.unique(u, return_index=True)
    tck, _ = splprep(x[:, first], u=u, k=_SPLINE_DEGREE, s=0)
    return _PathSpline(tck, length)


class BotCars:
    """Bot cars driving their lanes, as ``BotCarsCtrl``.

    A bot car's centre-line distance is ``(start + speed * t) % length``, ``t`` the
    seconds since the reset less the bot cars' pauses (``_get_dist_from_sim_time``);
    its pose is its current spline at that distance, facing along the spline
    (``_compute_bot_car_poses``). With ``is_lane_change``, each bot car keeps its lane
    for a time drawn uniformly in [lower, upper] s, then moves to the other lane over
    ``lane_change_distance`` of centre line, and draws again
    (``_compute_bot_car_lane_changes``). After :meth:`penalize` every bot car stands
    still for ``penalty_seconds`` and then carries on from where it stopped.

    Poses are evaluated at the time each :meth:`step` reaches. The simapp samples them
    when the step's action is sent and leaves them still for the first step after a
    reset (its prepare phase) and until the pause has run out at a step's end, so its
    poses may lag these by up to one step. Its reward params and crash test lag one
    more: ``TrackData`` learns the new poses in ``BotCarsCtrl.update_agent``, which
    runs after the racecar's (``DeepRacerRacetrackEnv._update_state``), so they see
    the bot cars where they were the step before (the camera sees them where they are).

    Args:
        config: The settings.
        track: The track in its driving direction.

    Raises:
        ConfigError: The bot cars do not fit at their minimum distance.

    Example:
        >>> from deepracer.tracks import get_track
        >>> cars = BotCars(HeadToBotConfig(number_of_bot_cars=2), get_track("straight"))
        >>> [round(car.x, 2) for car in cars.reset(np.random.default_rng(0))]
        [2.0, 5.0]
        >>> [round(car.x, 2) for car in cars.step(1.0)]
        [2.2, 5.2]
    """

    def __init__(self, config: HeadToBotConfig, track: Track) -> None:
        check_fits(
            config.number_of_bot_cars,
            config.min_distance_between_bot_cars,
            track,
            what="bot cars",
            setting="number_of_bot_cars",
            shown=f"{config.min_distance_between_bot_cars:g} m",
        )
        self.config = config
        self.track = track
        self._lanes = {
            lane_id: _lane_spline(track, _lanes(track)[lane_id])
            for lane_id in (INNER_LANE, OUTER_LANE)
        }
        self._rng = np.random.default_rng(0)
        self._starts: list[float] = []
        self._lane_ids: list[int] = []
        self._paths: list[_PathSpline] = []
        self._change_end: list[float] = []
        self._time = 0.0
        self._crashes = 0
        self._pause_left = 0.0
        self._objects: list[SceneObject] = []

    @property
    def time(self) -> float:
        """Seconds since the reset [s]."""
        return self._time

    @property
    def lanes(self) -> list[int]:
        """Each bot car's lane: the one it drives, or during a change the one it left."""
        return list(self._lane_ids)

    @property
    def objects(self) -> list[SceneObject]:
        """The bot cars at the current time."""
        return list(self._objects)

    @property
    def paused(self) -> bool:
        """The bot cars are standing still after :meth:`penalize`."""
        return self._pause_left > 0.0

    def distance(self, index: int, t: float | None = None) -> float:
        """Bot car ``index``'s centre-line distance at time ``t`` (default: now) [m]."""
        t = self._time if t is None else t
        cfg = self.config
        moving = max(t - self._crashes * cfg.penalty_seconds, 0.0)
        return (self._starts[index] + moving * cfg.bot_car_speed) % self.track.length

    def reset(self, rng: np.random.Generator) -> list[SceneObject]:
        """Places the bot cars for a new episode (``_compute_bot_car_initial_states``).

        Start distances and lanes as the obstacles' (``_spread``) with the minimum
        distance in metres; ``rng`` also draws the lane-change times of this episode.

        Returns:
            The bot cars at time 0.
        """
        cfg = self.config
        self._rng = rng
        self._starts, self._lane_ids = _spread(
            cfg.number_of_bot_cars,
            cfg.min_distance_between_bot_cars,
            self.track,
            cfg.randomize_bot_car_locations,
            rng,
        )
        self._paths = [self._lanes[lane].spline for lane in self._lane_ids]
        # 0.0 means "no change scheduled yet": the first step schedules one.
        self._change_end = [0.0 if cfg.is_lane_change else math.inf] * cfg.number_of_bot_cars
        self._time, self._crashes, self._pause_left = 0.0, 0, 0.0
        self._objects = self._poses()
        return self.objects

    def step(self, dt: float) -> list[SceneObject]:
        """Advances ``dt`` seconds and returns the bot cars then.

        While paused the bot cars keep their poses; otherwise any lane change due is
        scheduled first (``send_action`` in the run phase), then the poses are computed.
        """
        self._time += dt
        if self._pause_left > 0.0:
            self._pause_left -= dt
            if self._pause_left > 0.0:
                return self.objects
            self._pause_left = 0.0
        self._schedule_lane_changes()
        self._objects = self._poses()
        return self.objects

    def penalize(self) -> None:
        """A bot car ran into the racecar from behind: all stop for ``penalty_seconds``.

        ``BotCarsCtrl.judge_action`` (only while running, so a crash during the pause
        adds nothing): the crash count grows, which holds every bot car's distance,
        and the scheduled lane changes move ``penalty_seconds`` later.
        """
        if self._pause_left > 0.0:
            return
        penalty = self.config.penalty_seconds
        self._change_end = [t + penalty for t in self._change_end]
        self._crashes += 1
        self._pause_left = penalty

    def _schedule_lane_changes(self) -> None:
        """``_compute_bot_car_lane_changes`` at the current time."""
        cfg, now = self.config, self._time
        duration = cfg.lane_change_duration
        for i, end_time in enumerate(self._change_end):
            if now < end_time:
                continue
            if end_time > 0.0:  # the last change is over: the car is on the other lane
                self._lane_ids[i] = -self._lane_ids[i]
            start_lane, end_lane = self._lanes[self._lane_ids[i]], self._lanes[-self._lane_ids[i]]
            end_time = now + self._rng.uniform(
                cfg.lower_lane_change_time, cfg.upper_lane_change_time
            )
            end_time += duration
            self._change_end[i] = end_time
            self._paths[i] = _lane_change_spline(
                self.track,
                start_lane,
                end_lane,
                self.distance(i),
                self.distance(i, end_time - duration),
                self.distance(i, end_time),
            )

    def _poses(self) -> list[SceneObject]:
        objects = []
        for i, path in enumerate(self._paths):
            x, y, dx, dy = path.eval(self.distance(i))
            objects.append(
                SceneObject(x, y, math.atan2(dy, dx), "bot_car", BOT_CAR_FOOTPRINT, BOT_CAR_Z)
            )
        return objects
