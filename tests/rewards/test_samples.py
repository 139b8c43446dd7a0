"""Tests for the sample reward functions in ``rewards/``.

Each sample is loaded from its file, the way the console runs a pasted reward function,
and fed complete ``params`` dicts built for a car on a circular track.
"""

from __future__ import annotations

import bisect
import copy
import functools
import importlib.util
import itertools
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REWARDS_DIR = Path(__file__).parents[2] / "rewards"

SAMPLES = (
    "centerline",
    "stay_inside_borders",
    "steering_penalty",
    "waypoint_direction",
    "speed_progress",
    "object_avoidance",
)

# Every key of the DeepRacer reward params; the console always passes all of them.
PARAM_KEYS = frozenset(
    {
        "all_wheels_on_track",
        "x",
        "y",
        "heading",
        "distance_from_center",
        "projection_distance",
        "progress",
        "steps",
        "speed",
        "steering_angle",
        "track_width",
        "track_length",
        "waypoints",
        "closest_waypoints",
        "is_left_of_center",
        "is_reversed",
        "is_crashed",
        "is_offtrack",
        "closest_objects",
        "objects_location",
        "objects_left_of_center",
        "object_in_camera",
        "objects_speed",
        "objects_heading",
        "objects_distance_from_center",
        "objects_distance",
        "sim_time",
    }
)

REWARD_MIN, REWARD_MAX = -1e5, 1e5

# -- a circular test track -------------------------------------------------------------

RADIUS = 3.0  # m
TRACK_WIDTH = 0.76  # m, the width of the console's tracks
HALF_WIDTH = TRACK_WIDTH / 2
# Lateral distance from the car's reference point to its wheels. The real car is about
# 0.2 m wide; the wheels are taken to sit at ±0.1 m whatever the heading.
WHEEL_OFFSET = 0.1
STEPS_PER_SECOND = 15.0

_N_SEGMENTS = round(2 * math.pi * RADIUS / 0.2)  # waypoints about 0.2 m apart
# Counter-clockwise centre line; the closing point repeats the first exactly.
WAYPOINTS: list[tuple[float, float]] = [
    (
        RADIUS * math.cos(2 * math.pi * k / _N_SEGMENTS),
        RADIUS * math.sin(2 * math.pi * k / _N_SEGMENTS),
    )
    for k in range(_N_SEGMENTS)
]
WAYPOINTS.append(WAYPOINTS[0])
_CUMULATIVE = [0.0]
for (_ax, _ay), (_bx, _by) in itertools.pairwise(WAYPOINTS):
    _CUMULATIVE.append(_CUMULATIVE[-1] + math.hypot(_bx - _ax, _by - _ay))
TRACK_LENGTH = _CUMULATIVE[-1]
# Normalised arc length of every waypoint, as the simapp's TrackLine.ndists.
_NDISTS = [c / TRACK_LENGTH for c in _CUMULATIVE]


def _prev_next(ndist: float) -> list[int]:
    """[prev, next] waypoint indices around a normalised distance, as the simapp."""
    nxt = bisect.bisect_right(_NDISTS, ndist)
    prev = nxt - 1
    if prev == -1:
        prev = len(_NDISTS) - 1
    if nxt == len(_NDISTS):
        nxt = 0
    return [prev, nxt]


def _segment_direction(i: int) -> float:
    """Direction in degrees of the centre-line segment from waypoint i to i + 1."""
    (ax, ay), (bx, by) = WAYPOINTS[i], WAYPOINTS[i + 1]
    return math.degrees(math.atan2(by - ay, bx - ax))


def _distance_to_segment(px: float, py: float, i: int) -> float:
    (ax, ay), (bx, by) = WAYPOINTS[i], WAYPOINTS[i + 1]
    dx, dy = bx - ax, by - ay
    t = min(max(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy), 0.0), 1.0)
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def _wrap_degrees(angle: float) -> float:
    """Angle folded into (-180, 180]."""
    angle = math.fmod(angle, 360.0)
    if angle <= -180.0:
        angle += 360.0
    elif angle > 180.0:
        angle -= 360.0
    return angle


def make_params(
    *,
    progress: float = 0.0,
    offset: float = 0.0,
    heading_offset: float = 0.0,
    steering_angle: float = 0.0,
    speed: float = 1.0,
    steps: int = 2,
    is_reversed: bool = False,
    is_crashed: bool = False,
) -> dict[str, Any]:
    """Complete reward params for a car on the circular track.

    Args:
        progress: Percent of the lap done; places the car that far along the centre
            line from the first waypoint (100 is back at the start).
        offset: Lateral offset in m from the centre line, + = left of the driving
            direction (towards the middle of the counter-clockwise circle).
        heading_offset: Degrees between the car's heading and the local centre-line
            segment (0 = aligned with the waypoints, 180 = driving the wrong way).
        steering_angle: Commanded steering angle in degrees, + = left.
        speed: Commanded speed in m/s.
        steps: Step counter (the reward function first sees 2).
        is_reversed: The is_reversed flag (the geometry is unchanged).
        is_crashed: The is_crashed flag.
    """
    s = (progress / 100.0 * TRACK_LENGTH) % TRACK_LENGTH
    ndist = s / TRACK_LENGTH
    closest = _prev_next(ndist)
    i = closest[0]  # segment the car is on
    (ax, ay), (bx, by) = WAYPOINTS[i], WAYPOINTS[i + 1]
    seg_len = _CUMULATIVE[i + 1] - _CUMULATIVE[i]
    ux, uy = (bx - ax) / seg_len, (by - ay) / seg_len
    t = s - _CUMULATIVE[i]
    cx, cy = ax + t * ux, ay + t * uy  # point on the centre line
    x, y = cx - offset * uy, cy + offset * ux  # left normal is (-uy, ux)

    # The nearest centre-line point lies on this segment or a neighbour.
    distance_from_center = min(
        _distance_to_segment(x, y, j % _N_SEGMENTS) for j in (i - 1, i, i + 1)
    )
    all_wheels_on_track = distance_from_center + WHEEL_OFFSET <= HALF_WIDTH
    # As the simapp: off track once no wheel is on the track.
    is_offtrack = distance_from_center - WHEEL_OFFSET > HALF_WIDTH

    return {
        "all_wheels_on_track": all_wheels_on_track,
        "x": x,
        "y": y,
        "heading": _wrap_degrees(_segment_direction(i) + heading_offset),
        "distance_from_center": distance_from_center,
        "projection_distance": s,
        "progress": float(progress),
        "steps": steps,
        "speed": float(speed),
        "steering_angle": float(steering_angle),
        "track_width": TRACK_WIDTH,
        "track_length": TRACK_LENGTH,
        "waypoints": list(WAYPOINTS),
        "closest_waypoints": closest,
        "is_left_of_center": offset > 0.0,
        "is_reversed": is_reversed,
        "is_crashed": is_crashed,
        "is_offtrack": is_offtrack,
        # A time trial: no objects on the track.
        "closest_objects": [0, 0],
        "objects_location": [],
        "objects_left_of_center": [],
        "object_in_camera": False,
        "objects_speed": [],
        "objects_heading": [],
        "objects_distance_from_center": [],
        "objects_distance": [],
        "sim_time": steps / STEPS_PER_SECOND,
    }


# -- loading the samples ---------------------------------------------------------------


@functools.cache
def load(path: Path) -> ModuleType:
    """Import a reward file by path, as a standalone module."""
    spec = importlib.util.spec_from_file_location(f"_reward_sample_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reward(name: str, params: dict[str, Any]) -> float:
    return load(REWARDS_DIR / f"{name}.py").reward_function(params)


ALL_REWARD_FILES = sorted(p for p in REWARDS_DIR.glob("*.py") if not p.name.startswith("_"))

# -- the test track helper itself ------------------------------------------------------


def test_helper_fills_every_key_consistently() -> None:
    assert set(make_params()) == PARAM_KEYS
    assert WAYPOINTS[0] == WAYPOINTS[-1]
    assert math.isclose(TRACK_LENGTH, 2 * math.pi * RADIUS, rel_tol=1e-3)
    for progress in (0.0, 12.3, 25.0, 50.0, 74.9, 99.9):
        for offset in (-0.3, 0.0, 0.2):
            p = make_params(progress=progress, offset=offset)
            prev, nxt = p["closest_waypoints"]
            assert nxt == prev + 1
            assert _NDISTS[prev] <= progress / 100 < _NDISTS[nxt]
            assert p["distance_from_center"] == pytest.approx(abs(offset), abs=2e-3)
            # Left of centre on a counter-clockwise circle is towards its middle.
            if offset:
                assert (math.hypot(p["x"], p["y"]) < RADIUS) == p["is_left_of_center"]
            assert -180.0 < p["heading"] <= 180.0
            assert p["projection_distance"] == pytest.approx(progress / 100 * TRACK_LENGTH)
    assert make_params(offset=0.2)["all_wheels_on_track"]
    assert not make_params(offset=0.3)["all_wheels_on_track"]
    assert not make_params(offset=0.3)["is_offtrack"]
    assert make_params(offset=-0.6)["is_offtrack"]
    assert make_params(progress=100.0)["closest_waypoints"] == [0, 1]


# -- every sample ----------------------------------------------------------------------


def test_all_samples_exist() -> None:
    for name in SAMPLES:
        assert (REWARDS_DIR / f"{name}.py").is_file(), name


@pytest.mark.parametrize("path", ALL_REWARD_FILES, ids=lambda p: p.name)
def test_reward_file_is_documented_and_callable(path: Path) -> None:
    module = load(path)
    assert module.__doc__ and module.__doc__.strip(), f"{path.name} has no module docstring"
    assert callable(getattr(module, "reward_function", None)), path.name
    assert module.reward_function.__doc__, f"{path.name}: reward_function has no docstring"


@pytest.mark.parametrize("name", SAMPLES)
def test_returns_float(name: str) -> None:
    assert type(reward(name, make_params())) is float
    assert type(reward(name, make_params(offset=0.6, steering_angle=30))) is float


POSES = list(
    itertools.product(
        (0.0, 0.1, 37.5, 62.5, 99.9, 100.0),  # progress
        (-0.6, -0.38, -0.3, -0.1, 0.0, 0.05, 0.2, 0.33, 0.38, 0.45, 1.0),  # offset
        (0.0, 5.0, 45.0, -90.0, 180.0),  # heading_offset
    )
)
CONTROLS = list(
    itertools.product(
        (-30.0, -15.0, 0.0, 16.0, 30.0),  # steering_angle
        (0.1, 1.0, 2.5, 4.0),  # speed
        (2, 10, 150, 1000),  # steps
    )
)


@pytest.mark.parametrize("name", SAMPLES)
def test_finite_and_bounded_over_sweep(name: str) -> None:
    fn = load(REWARDS_DIR / f"{name}.py").reward_function
    for progress, offset, heading_offset in POSES:
        base = make_params(progress=progress, offset=offset, heading_offset=heading_offset)
        for steering_angle, speed, steps in CONTROLS:
            params = dict(base)
            params.update(
                steering_angle=steering_angle,
                speed=speed,
                steps=steps,
                sim_time=steps / STEPS_PER_SECOND,
            )
            value = fn(params)
            assert isinstance(value, float)
            assert math.isfinite(value), (params, value)
            assert REWARD_MIN <= value <= REWARD_MAX, (params, value)
    for flags in ({"is_reversed": True}, {"is_crashed": True}):
        assert math.isfinite(fn(make_params(**flags)))


@pytest.mark.parametrize("name", SAMPLES)
def test_does_not_mutate_params(name: str) -> None:
    for kwargs in (
        {},
        {"progress": 99.9, "offset": -0.3, "heading_offset": 45.0, "steering_angle": 30.0},
        {"progress": 100.0, "steps": 150, "speed": 4.0},
        {"offset": 0.6, "steps": 1000},
    ):
        params = make_params(**kwargs)
        before = copy.deepcopy(params)
        reward(name, params)
        assert params == before


# -- defining properties of each sample ------------------------------------------------


def test_centerline_bands() -> None:
    values = [reward("centerline", make_params(offset=d)) for d in (0.0, 0.05, 0.15, 0.3)]
    assert values == [1.0, 1.0, 0.5, 0.1]
    # Left and right alike, and non-increasing with the distance from the centre.
    for d in (0.05, 0.15, 0.3):
        assert reward("centerline", make_params(offset=-d)) == reward(
            "centerline", make_params(offset=d)
        )
    offsets = [i * 0.02 for i in range(40)]
    series = [reward("centerline", make_params(offset=d)) for d in offsets]
    assert all(a >= b for a, b in itertools.pairwise(series))
    assert reward("centerline", make_params(offset=0.0)) > reward(
        "centerline", make_params(offset=0.37)
    )
    assert reward("centerline", make_params(offset=0.6)) == 1e-3


def test_stay_inside_borders() -> None:
    assert reward("stay_inside_borders", make_params()) == 1.0
    # Anywhere with all wheels on the track is as good as the centre.
    assert reward("stay_inside_borders", make_params(offset=-0.2)) == 1.0
    assert reward("stay_inside_borders", make_params(offset=0.2)) == 1.0
    # A wheel over the border, or the whole car off the track.
    assert reward("stay_inside_borders", make_params(offset=0.3)) == 1e-3
    assert reward("stay_inside_borders", make_params(offset=-0.6)) == 1e-3
    # All wheels reported on the track, but closer to the border than the margin.
    grazing = make_params(offset=0.35)
    grazing["all_wheels_on_track"] = True
    assert reward("stay_inside_borders", grazing) == 1e-3


def test_steering_penalty() -> None:
    gentle = reward("steering_penalty", make_params(steering_angle=10.0))
    hard = reward("steering_penalty", make_params(steering_angle=20.0))
    assert hard < gentle
    assert hard == pytest.approx(0.8 * gentle)
    assert reward("steering_penalty", make_params(steering_angle=-20.0)) == hard
    # The threshold itself is not penalised.
    assert reward("steering_penalty", make_params(steering_angle=15.0)) == gentle
    assert reward("steering_penalty", make_params(steering_angle=-15.0)) == gentle
    for angle in (0.0, 20.0):
        centre = reward("steering_penalty", make_params(steering_angle=angle))
        border = reward("steering_penalty", make_params(offset=0.3, steering_angle=angle))
        assert centre > border
    assert reward("steering_penalty", make_params(offset=0.6)) == 1e-3
    assert reward("steering_penalty", make_params(offset=0.6, steering_angle=30.0)) <= 1e-3


def test_waypoint_direction_all_round_the_lap() -> None:
    # 40 places round the circle cover every quadrant, including where the track
    # direction crosses ±180 degrees.
    for k in range(40):
        progress = 2.5 * k
        aligned = reward("waypoint_direction", make_params(progress=progress))
        off_45 = reward("waypoint_direction", make_params(progress=progress, heading_offset=45))
        assert aligned == 1.0, progress
        assert off_45 == 0.5, progress
        assert aligned > off_45
        for small in (-5.0, 5.0):
            p = make_params(progress=progress, heading_offset=small)
            assert reward("waypoint_direction", p) == 1.0, (progress, small)
        for big in (-45.0, 180.0):
            p = make_params(progress=progress, heading_offset=big)
            assert reward("waypoint_direction", p) == 0.5, (progress, big)


def test_speed_progress_prefers_fewer_steps() -> None:
    series = [
        reward("speed_progress", make_params(progress=50.0, steps=steps))
        for steps in (50, 100, 150, 300, 600, 1000)
    ]
    assert all(a > b for a, b in itertools.pairwise(series))
    # More progress in the same number of steps is better too.
    assert reward("speed_progress", make_params(progress=60.0, steps=150)) > reward(
        "speed_progress", make_params(progress=40.0, steps=150)
    )


def test_speed_progress_prefers_speed() -> None:
    slow = reward("speed_progress", make_params(progress=20.0, steps=60, speed=1.0))
    fast = reward("speed_progress", make_params(progress=20.0, steps=60, speed=4.0))
    assert fast > slow
    # Still positive while standing still at the start.
    assert reward("speed_progress", make_params(progress=0.0, steps=2, speed=0.0)) > 0.0


def test_speed_progress_lap_bonus() -> None:
    almost = reward("speed_progress", make_params(progress=99.9, steps=300))
    done = reward("speed_progress", make_params(progress=100.0, steps=300))
    assert done > almost + 1.0


def test_speed_progress_off_track() -> None:
    assert reward("speed_progress", make_params(offset=0.6, progress=50.0, steps=10)) == 1e-3
    # A wheel over the border counts as off track for this reward.
    assert reward("speed_progress", make_params(offset=0.3, progress=50.0, steps=10)) == 1e-3
    params = make_params(progress=50.0, steps=10)
    params["is_offtrack"] = True
    assert reward("speed_progress", params) == 1e-3


@pytest.mark.parametrize("steps", [1, 0, -5])
def test_speed_progress_guards_steps(steps: int) -> None:
    value = reward("speed_progress", make_params(progress=100.0, steps=steps, speed=4.0))
    assert math.isfinite(value)
    assert REWARD_MIN <= value <= REWARD_MAX


# -- object_avoidance ------------------------------------------------------------------


def _with_object(params: dict[str, Any], ahead: float, left: bool) -> dict[str, Any]:
    """``params`` with one object ``ahead`` metres straight in front of the car."""
    heading = math.radians(params["heading"])
    x = params["x"] + ahead * math.cos(heading)
    y = params["y"] + ahead * math.sin(heading)
    return {
        **params,
        "closest_objects": [0, 0],
        "objects_location": [[x, y]],
        "objects_left_of_center": [left],
    }


def test_object_avoidance_pays_for_the_free_lane() -> None:
    left = make_params(progress=30.0, offset=0.2)  # left of centre (the inner side)
    assert left["is_left_of_center"]
    blocked = reward("object_avoidance", _with_object(left, 0.5, left=True))
    free = reward("object_avoidance", _with_object(left, 0.5, left=False))
    far = reward("object_avoidance", _with_object(left, 1.5, left=True))
    # Same lane 0.5 m ahead: the object term is halved (2.0 * 0.5 less).
    assert free - blocked == pytest.approx(1.0)
    assert far == pytest.approx(free)
    nearer = reward("object_avoidance", _with_object(left, 0.25, left=True))
    assert nearer < blocked


def test_object_avoidance_without_objects_is_the_road_term() -> None:
    centre = reward("object_avoidance", make_params(progress=30.0))
    assert centre == pytest.approx(3.0)
    assert reward("object_avoidance", make_params(progress=30.0, offset=0.2)) < centre
    assert reward("object_avoidance", make_params(progress=30.0, is_crashed=True)) == 1e-3
