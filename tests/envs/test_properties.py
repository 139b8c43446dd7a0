"""Properties the reward params and the action-space generators hold for any input.

The params are checked against shapely (the simapp's geometry library) for car poses
drawn anywhere around a real track; the generators against their definitions.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LinearRing, Point, Polygon

from deepracer.envs.model_metadata import generate_console_style, generate_seed_style
from deepracer.rewards.params import PARAM_KEYS, build_params
from deepracer.tracks import get_track

TRACK = get_track("reInvent2019_track")
ROWS = TRACK.waypoints_array
CENTRE = LinearRing(ROWS[:, 0:2])
ROAD = Polygon(ROWS[:, 4:6], [ROWS[:, 2:4]])

poses = st.tuples(
    st.floats(ROWS[:, 0::2].min() - 0.5, ROWS[:, 0::2].max() + 0.5),
    st.floats(ROWS[:, 1::2].min() - 0.5, ROWS[:, 1::2].max() + 0.5),
    st.floats(-180.0, 180.0, exclude_min=True),
)


@settings(max_examples=150, deadline=None)
@given(poses, st.floats(-30.0, 30.0), st.floats(0.1, 4.0), st.integers(2, 5000))
def test_params_hold_their_invariants_anywhere(
    pose: tuple[float, float, float], steering: float, speed: float, steps: int
) -> None:
    x, y, heading = pose
    where = TRACK.locate((x, y))
    inside = ROAD.contains(Point(x, y))
    params = build_params(
        track=TRACK,
        where=where,
        model_point=(x, y),
        heading_deg=heading,
        steering_deg=steering,
        speed=speed,
        steps=steps,
        progress=50.0,
        all_wheels_on_track=inside,
        any_wheel_on_track=inside,
        sim_time=steps / 15.0,
    )
    assert set(params) == set(PARAM_KEYS)
    assert params["distance_from_center"] == pytest.approx(CENTRE.distance(Point(x, y)), abs=1e-9)
    assert params["track_width"] > 0.5 and params["track_length"] == pytest.approx(CENTRE.length)
    previous, following = params["closest_waypoints"]
    n = len(params["waypoints"])
    assert 0 <= previous < n and 0 <= following < n and following in ((previous + 1) % n, 0)
    assert params["is_offtrack"] == (not inside) and params["all_wheels_on_track"] == inside
    assert (params["x"], params["y"], params["heading"]) == (x, y, heading)
    assert (params["steering_angle"], params["speed"], params["steps"]) == (steering, speed, steps)
    # The projection distance is the arc length of the nearest centre-line point (0 and
    # the track's length are the same point of a loop).
    gap = abs(params["projection_distance"] - CENTRE.project(Point(x, y)))
    assert min(gap, abs(gap - CENTRE.length)) < 1e-6


@given(
    st.floats(1.0, 30.0),
    st.integers(1, 9),
    st.floats(0.1, 4.0),
    st.integers(1, 5),
)
def test_the_console_generator_spans_its_ranges(
    max_steering: float, steering_levels: int, max_speed: float, speed_levels: int
) -> None:
    actions = generate_console_style(
        max_steering=max_steering,
        steering_levels=steering_levels,
        max_speed=max_speed,
        speed_levels=speed_levels,
    )
    assert len(actions) == steering_levels * speed_levels
    pairs = [(a["steering_angle"], a["speed"]) for a in actions]
    assert len(set(pairs)) == len(pairs)  # no command twice
    steers = sorted({s for s, _ in pairs})
    speeds = sorted({v for _, v in pairs})
    assert len(steers) == steering_levels and len(speeds) == speed_levels
    # Values are rounded to 6 decimals, as the console's are.
    assert speeds[-1] == pytest.approx(max_speed, abs=1e-6)
    assert speeds[0] == pytest.approx(max_speed / speed_levels, abs=1e-6)
    if steering_levels > 1:
        assert steers[0] == pytest.approx(-max_steering, abs=1e-6)
        assert steers[-1] == pytest.approx(max_steering, abs=1e-6)
        assert np.allclose(np.diff(steers), 2 * max_steering / (steering_levels - 1), atol=1e-5)
    else:
        assert steers == [0.0]
    # Steering is the outer loop: each angle's speeds follow one another.
    assert [s for s, _ in pairs] == sorted((s for s, _ in pairs), key=steers.index)


@given(
    st.integers(0, 20).map(lambda k: k / 10),
    st.integers(1, 20).map(lambda k: k / 10),
    st.integers(1, 8),
    st.integers(-30, 0),
    st.integers(1, 10),
    st.integers(1, 8),
)
def test_the_seed_generator_steps_without_drift(
    min_speed: float,
    speed_step: float,
    speed_count: int,
    min_steering: int,
    steering_step: int,
    steering_count: int,
) -> None:
    max_speed = round(min_speed + speed_step * (speed_count - 1), 6)
    max_steering = min_steering + steering_step * (steering_count - 1)
    actions = generate_seed_style(
        min_speed=min_speed,
        max_speed=max_speed,
        speed_resolution=speed_step,
        min_steering=min_steering,
        max_steering=max_steering,
        steering_resolution=steering_step,
    )
    assert len(actions) == speed_count * steering_count
    assert [a["index"] for a in actions] == list(range(len(actions)))
    for k, action in enumerate(actions):
        i, j = divmod(k, steering_count)  # speed is the outer loop
        assert action["speed"] == pytest.approx(min_speed + i * speed_step, abs=1e-9)
        assert action["steering_angle"] == min_steering + j * steering_step
        assert isinstance(action["steering_angle"], int)  # int inputs give ints
    assert math.isclose(actions[-1]["speed"], max_speed)
