"""Observation types: lidar ranges, sectors and the state vector."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.geometry import LineString

from deepracer.envs import RacingEnv
from deepracer.envs.observation import LidarConfig, ray_cast
from tests.envs.drivers import CONTINUOUS, to_action


def test_ray_cast_matches_shapely() -> None:
    rng = np.random.default_rng(1)
    starts = rng.uniform(-2, 2, (30, 2))
    ends = starts + rng.uniform(-1, 1, (30, 2))
    angles = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    got = ray_cast((0.1, -0.2), angles, starts, ends, 10.0)
    segments = [LineString([a, b]) for a, b in zip(starts, ends, strict=True)]
    for angle, r in zip(angles, got, strict=True):
        ray = LineString([(0.1, -0.2), (0.1 + 10 * math.cos(angle), -0.2 + 10 * math.sin(angle))])
        hits = [ray.intersection(s) for s in segments if ray.intersects(s)]
        dists = [
            LineString([(0.1, -0.2), p.coords[0]]).length for p in hits if p.geom_type == "Point"
        ]
        assert r == pytest.approx(min(dists, default=10.0), abs=1e-9)


def test_lidar_on_the_straight_sees_both_borders() -> None:
    env = RacingEnv({"world": "straight", "observation": "lidar"})
    obs, _ = env.reset(seed=0, options={"start_ndist": 0.3})
    half = 0.61 / 2
    n = len(obs)
    assert obs[n // 4] == pytest.approx(half, abs=1e-4)  # 90 degrees: the left border
    assert obs[3 * n // 4] == pytest.approx(half, abs=1e-4)  # 270 degrees: the right border
    assert obs[0] == pytest.approx(LidarConfig().max_range)  # straight ahead: nothing


def test_sector_lidars_follow_the_ranges() -> None:
    env = RacingEnv({"world": "straight", "observation": ("lidar", "sector_lidar")})
    obs, _ = env.reset(seed=0, options={"start_ndist": 0.3})
    sectors = obs["lidar"].reshape(8, -1).min(axis=1)
    np.testing.assert_array_equal(obs["sector_lidar"], (sectors < 0.5).astype(np.int8))
    assert obs["sector_lidar"][2] == 1  # 90-135 degrees: the left border at 0.305 m


def test_state_vector_on_the_centre_line() -> None:
    env = RacingEnv({"world": "straight", "observation": "state"})
    obs, _ = env.reset(seed=0, options={"start_ndist": 0.2})
    speed, steer, lateral, sin_err, cos_err, steer_cmd = obs[:6]
    assert (speed, steer, steer_cmd) == (0.0, 0.0, 0.0)
    assert lateral == pytest.approx(0.0, abs=1e-6)
    assert (sin_err, cos_err) == pytest.approx((0.0, 1.0), abs=1e-6)
    lookahead = obs[6:].reshape(-1, 2)
    np.testing.assert_allclose(lookahead, [[1.0, 0.0]] * len(lookahead), atol=1e-5)


def test_the_state_vector_shows_the_lagging_steering_and_its_command() -> None:
    env = RacingEnv({"world": "straight", "observation": "state", "action_space": CONTINUOUS})
    env.reset(seed=0, options={"start_ndist": 0.2})
    obs, *_ = env.step(to_action(20.0, 1.0))  # judged at rest, then driven one step
    car = env.vehicle
    assert car.steering_time_constant > 0  # the default car's wheels lag
    actual, command = obs[1], obs[5]
    assert actual == pytest.approx(env.car_state[4] / car.max_steering, abs=1e-6)
    assert command == pytest.approx(env.car_state[5] / car.max_steering, abs=1e-6)
    assert 0.0 < actual < command == pytest.approx(20.0 / 30.0, abs=0.05)  # noise aside


def test_car_view_is_what_the_observations_see() -> None:
    env = RacingEnv({"world": "oval", "observation": "state", "action_space": CONTINUOUS})
    obs, _ = env.reset(seed=3)
    for _ in range(10):
        obs, *_ = env.step(to_action(12.0, 1.5))
    view = env.car_view()
    assert (view.x, view.y, view.yaw, view.speed) == env.car_state[:4]
    np.testing.assert_allclose(env.observation_type.observe(view), obs, atol=1e-6)
