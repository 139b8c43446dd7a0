"""Progress and its finish-line rules, checked directly (not against the vector copy).

The simapp's rule (``compute_current_prog``): progress = 100 x (ndist - start ndist),
plus 100 if that is <= 0 (the start lies after the file's start line), plus 100 when
the car crossed the finish line forwards (previous > current + 50), minus 100 when it
crossed backwards (current > previous + 50), capped at 100.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepracer.envs import RacingEnv
from deepracer.physics import rest_state
from deepracer.rewards.params import compute_progress

ndist = st.floats(min_value=0.0, max_value=1.0, exclude_min=True, exclude_max=True)


@pytest.mark.parametrize(
    ("delta", "previous", "expected"),
    [
        (0.0079, 0.0, 0.79),  # the first step on reinvent_base (0.14 m / 17.709 m)
        (0.5, 49.0, 50.0),  # plain progress
        (-0.25, 70.0, 75.0),  # the start lies after the file's start line
        (0.002, 99.7, 100.0),  # forwards over the finish line: lap complete
        (-0.003, 0.5, -0.3),  # backwards over it from just after the start
        (0.0, 99.9, 100.0),  # exactly on the line, coming from before it
        # The rules' comparisons are strict: a gap of exactly 50 is no crossing...
        (0.2, 70.0, 20.0),  # previous = current + 50: not forwards
        (0.7, 20.0, 70.0),  # current = previous + 50: not backwards
        (0.0, 50.0, 100.0),  # on the start line, previous 50: +100 stands
        # ...and a gap just over 50 is one.
        (0.2, 70.5, 100.0),  # forwards over the line
        (0.705, 20.0, -29.5),  # backwards over it
        (0.005, 50.5, 0.5),  # a small progress is not moved a lap on
    ],
)
def test_the_simapps_finish_line_rules(delta: float, previous: float, expected: float) -> None:
    assert compute_progress(delta, previous) == pytest.approx(expected, abs=1e-9)


@given(st.floats(-1.0, 1.0), st.floats(-100.0, 100.0))
def test_progress_never_exceeds_100(delta: float, previous: float) -> None:
    assert compute_progress(delta, previous) <= 100.0


@given(ndist, st.floats(-49.0, 49.0))
def test_away_from_the_line_progress_is_the_distance_driven(delta: float, drift: float) -> None:
    previous = 100.0 * delta + drift  # the previous step was within half a lap
    assert compute_progress(delta, previous) == pytest.approx(100.0 * delta)


@settings(max_examples=50)
@given(st.floats(0.0, 0.999), st.integers(20, 400))
def test_a_lap_driven_forwards_rises_steadily_to_exactly_100(start: float, steps: int) -> None:
    progress = 0.0
    history = []
    for k in range(1, steps + 1):
        # The last step ends a little past the start (a car does not stop on it).
        position = (start + k / steps + (1e-6 if k == steps else 0.0)) % 1.0
        progress = compute_progress(position - start, progress)
        history.append(progress)
    assert history[-1] == 100.0
    assert all(b > a for a, b in itertools.pairwise(history[:-1]))
    assert max(history[:-1]) < 100.0  # only the last step completes the lap


@given(st.floats(0.0, 0.999), st.floats(0.001, 0.2))
def test_backing_over_the_start_line_is_no_lap(start: float, back: float) -> None:
    ahead = compute_progress(0.001, 0.0)  # a step forwards from the start
    behind = compute_progress(((start - back) % 1.0) - start, ahead)
    assert behind == pytest.approx(-100.0 * back, abs=1e-6)
    assert behind < 50.0  # never "lap complete"


def test_a_car_that_backs_over_the_start_line_does_not_complete_a_lap() -> None:
    env = RacingEnv({"world": "oval", "start": {"round_robin_advance": 0.0}})
    env.reset(seed=0)
    x, y, yaw = env.car_state[:3]
    # Turn the car round on the start line: driving on, it crosses the line backwards.
    # (No public API places a car; this is the state the env integrates from.)
    env._state = rest_state(x, y, yaw + np.pi, 1.0)
    statuses, progress = [], []
    for _ in range(25):
        _, _, terminated, truncated, info = env.step(5)  # straight on at 1 m/s
        statuses.append(info["episode_status"])
        progress.append(info["params"]["progress"])
        if terminated or truncated:
            break
    assert "lap_complete" not in statuses
    assert min(progress) < 0.0 and max(progress) < 50.0


def test_a_time_trial_has_no_objects_and_no_crash() -> None:
    env = RacingEnv({"world": "oval"})
    _, info = env.reset(seed=0)
    *_, info = env.step(5)
    params = info["params"]
    assert params["is_crashed"] is False and params["object_in_camera"] is False
    assert params["closest_objects"] == [0, 0]
    for key in ("objects_location", "objects_left_of_center", "objects_speed",
                "objects_heading", "objects_distance_from_center", "objects_distance"):  # fmt: skip
        assert params[key] == [], key


# -- the vectorised env's copy of the rules -------------------------------------------


@given(
    st.lists(
        st.tuples(
            st.floats(min_value=-1.0, max_value=1.0, allow_nan=False),
            st.floats(min_value=-100.0, max_value=100.0, allow_nan=False),
        ),
        min_size=1,
        max_size=32,
    )
)
@settings(max_examples=300, deadline=None)
def test_the_vector_envs_progress_follows_the_same_rules(pairs: list[tuple[float, float]]) -> None:
    from deepracer.envs.vector import _progress

    delta, previous = (np.array(column) for column in zip(*pairs, strict=True))
    expected = [compute_progress(d, p) for d, p in pairs]
    assert _progress(delta, previous).tolist() == expected


def test_the_vector_envs_progress_on_the_named_cases() -> None:
    from deepracer.envs.vector import _progress

    # The table above, every rule at its boundary (including backwards crossings).
    delta = np.array([0.0079, -0.003, 0.705, 0.7, 0.002])
    previous = np.array([0.0, 0.5, 20.0, 20.0, 99.7])
    assert _progress(delta, previous) == pytest.approx([0.79, -0.3, -29.5, 70.0, 100.0])
