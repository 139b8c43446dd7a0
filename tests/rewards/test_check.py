"""Tests for the scripted reward check (deepracer.rewards.check)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from deepracer.errors import RewardFunctionError
from deepracer.rewards import RewardFunction
from deepracer.rewards.check import (
    SPEEDS,
    STEERING_ANGLES,
    ScriptedPose,
    check_reward,
    scripted_params,
    scripted_samples,
)
from deepracer.rewards.params import PARAM_KEYS
from deepracer.tracks import Track, get_track

STEPS_MAX = 50

Samples = list[tuple[ScriptedPose, dict[str, Any]]]


@pytest.fixture(scope="module")
def oval() -> Track:
    return get_track("oval")


@pytest.fixture(scope="module")
def samples(oval: Track) -> Samples:
    return list(scripted_samples(oval, steps_max=STEPS_MAX))


def test_every_param_key_in_every_dict(samples: Samples) -> None:
    assert len(samples) > 5000
    for _, params in samples:
        assert tuple(params) == PARAM_KEYS


def test_scripted_params_matches_samples(oval: Track, samples: Samples) -> None:
    params = list(scripted_params(get_track("straight"), steps_max=10))
    assert all(tuple(p) == PARAM_KEYS for p in params)
    first = next(scripted_params(oval, steps_max=STEPS_MAX))
    assert first == samples[0][1]


def test_stations_every_tenth_of_a_metre(oval: Track, samples: Samples) -> None:
    stations = sorted({pose.s for pose, _ in samples})
    assert len(stations) == round(oval.length / 0.1)
    spacing = np.diff(stations)
    assert spacing == pytest.approx(np.full(len(spacing), oval.length / len(stations)))
    assert 0.0 < stations[0] < 0.1
    assert oval.length - 0.1 < stations[-1] < oval.length


def test_centre_poses_sit_on_the_centre_line(samples: Samples) -> None:
    centre = [(pose, p) for pose, p in samples if pose.region == "center"]
    assert centre
    for _, params in centre:
        assert params["distance_from_center"] < 1e-6
        assert params["all_wheels_on_track"]
        assert not params["is_offtrack"]


def test_off_poses_are_off_track(samples: Samples) -> None:
    off = [p for pose, p in samples if pose.region == "off"]
    assert off
    assert all(p["is_offtrack"] for p in off)
    assert all(not p["all_wheels_on_track"] for p in off)


def test_border_poses_have_a_wheel_off(samples: Samples) -> None:
    border = [(pose, p) for pose, p in samples if pose.region == "border"]
    assert border
    for pose, params in border:
        assert not params["all_wheels_on_track"]
        assert params["distance_from_center"] == pytest.approx(abs(pose.lateral), abs=1e-3)


def test_lateral_offset_and_side(samples: Samples) -> None:
    for pose, params in samples:
        if pose.region in ("center", "off"):
            continue
        half = 0.5 * params["track_width"]
        assert params["distance_from_center"] <= abs(pose.lateral) + 1e-9
        assert abs(pose.lateral) <= 1.1 * half + 1e-9
        # Positive offsets are to the left of the driving direction.
        assert params["is_left_of_center"] == (pose.lateral > 0)


def test_headings(oval: Track, samples: Samples) -> None:
    offsets = {pose.heading_offset for pose, _ in samples}
    assert offsets == {0.0, 30.0, -30.0, 180.0}
    for pose, params in samples:
        assert -180.0 < params["heading"] <= 180.0
        direction = math.degrees(float(oval.heading_at([pose.s])[0]))
        delta = (params["heading"] - direction - pose.heading_offset + 180.0) % 360.0 - 180.0
        assert abs(delta) < 1e-9


def test_actions_steps_and_time(samples: Samples) -> None:
    assert {p["steering_angle"] for _, p in samples} == set(STEERING_ANGLES)
    assert {p["speed"] for _, p in samples} == set(SPEEDS)
    combos = {(p["steering_angle"], p["speed"]) for _, p in samples}
    assert len(combos) == len(STEERING_ANGLES) * len(SPEEDS)
    assert {p["steps"] for _, p in samples} == set(range(2, STEPS_MAX + 1))
    for _, params in samples:
        assert params["sim_time"] == pytest.approx((params["steps"] - 2) / 15)


def test_progress_follows_the_station(oval: Track, samples: Samples) -> None:
    for pose, params in samples:
        if pose.region == "center":
            assert params["progress"] == pytest.approx(100.0 * pose.s / oval.length)
        assert -5.0 < params["progress"] <= 100.0


def test_geometry_fields(oval: Track, samples: Samples) -> None:
    _, params = samples[0]
    assert params["track_length"] == oval.length
    assert params["waypoints"] == list(oval.waypoints)
    assert params["is_reversed"] is False
    reversed_params = next(scripted_params(oval.reversed()))
    assert reversed_params["is_reversed"] is True


def test_steps_max_below_two_is_refused(oval: Track) -> None:
    with pytest.raises(ValueError, match="steps_max"):
        next(scripted_params(oval, steps_max=1))


def test_check_reward_report() -> None:
    track = get_track("straight")

    def reward(params: dict[str, Any]) -> float:
        if params["is_offtrack"]:
            return 0.0
        return 1.0 - float(params["distance_from_center"]) / float(params["track_width"])

    report = check_reward(RewardFunction(reward, name="inline"), track, steps_max=20)
    assert report.calls == sum(1 for _ in scripted_params(track, steps_max=20))
    assert report.reward_name == "inline"
    assert report.track_name == "straight"
    assert report.min == 0.0
    assert report.max == pytest.approx(1.0)
    assert report.min < report.mean < report.max
    assert report.mean_center == pytest.approx(1.0)
    assert report.mean_offtrack == 0.0
    assert report.mean_border is not None
    assert 0.4 < report.mean_border < 0.5
    assert report.us_per_call > 0.0


def test_check_reward_names_the_failing_pose() -> None:
    def reward(params: dict[str, Any]) -> float:
        return math.nan if params["is_offtrack"] else 1.0

    with pytest.raises(RewardFunctionError) as info:
        check_reward(RewardFunction(reward, name="nan.py"), get_track("straight"))
    message = str(info.value)
    assert "nan.py: reward_function returned nan" in message
    assert "scripted pose on track 'straight'" in message
    assert "is_offtrack=True" in message
