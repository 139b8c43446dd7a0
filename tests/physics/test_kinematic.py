"""Golden values of the kinematic bicycle against closed-form results."""

from __future__ import annotations

import math

import numpy as np
import pytest

from deepracer.physics import GRAVITY, VehicleParams, car_points, step, step_batch

PARAMS = VehicleParams()
DT = 1.0 / 15.0


def drive(steer: float, speed: float, seconds: float, friction: float = 0.5) -> np.ndarray:
    """Returns the rear-axle path (K, 2) after settling at a steady speed."""
    state = (0.0, 0.0, 0.0, speed)  # already at speed: a steady corner
    path = []
    for _ in range(round(seconds / DT)):
        state = step(state, steer, speed, PARAMS, DT, friction)
        path.append(state[:2])
    return np.array(path)


def circle_radius(points: np.ndarray) -> float:
    """Least-squares circle fit (Kasa)."""
    x, y = points[:, 0], points[:, 1]
    a = np.c_[2 * x, 2 * y, np.ones_like(x)]
    (cx, cy, c), *_ = np.linalg.lstsq(a, x**2 + y**2, rcond=None)
    return float(math.sqrt(c + cx**2 + cy**2))


@pytest.mark.parametrize("steer_deg", [5.0, 15.0, 30.0])
def test_steady_circle_below_grip_limit(steer_deg: float) -> None:
    steer = math.radians(steer_deg)
    expected = PARAMS.wheelbase / math.tan(steer)
    speed = 0.5  # v^2 / R well below mu * g for every angle here
    assert speed**2 / expected < 0.5 * GRAVITY
    radius = circle_radius(drive(steer, speed, 10.0))
    assert radius == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(("speed", "friction"), [(3.0, 0.5), (4.0, 0.5), (2.5, 0.3)])
def test_grip_limit_makes_the_car_run_wide(speed: float, friction: float) -> None:
    steer = math.radians(30.0)
    kinematic = PARAMS.wheelbase / math.tan(steer)
    expected = speed**2 / (friction * GRAVITY)
    assert expected > kinematic
    radius = circle_radius(drive(steer, speed, 20.0, friction))
    assert radius == pytest.approx(expected, rel=1e-6)
    assert speed**2 / radius == pytest.approx(friction * GRAVITY, rel=1e-6)


def test_speed_lag_reaches_63_percent_after_one_time_constant() -> None:
    tau = 0.2
    params = VehicleParams(speed_time_constant=tau, substeps=1)
    dt = tau / 20.0
    state = (0.0, 0.0, 0.0, 0.0)
    target = 1.0  # small step: the traction limit (mu * g) does not bind
    for _ in range(20):
        state = step(state, 0.0, target, params, dt, 0.5)
    assert state[3] / target == pytest.approx(1.0 - math.exp(-1.0), rel=1e-9)


def test_traction_limits_acceleration() -> None:
    state = (0.0, 0.0, 0.0, 0.0)
    state = step(state, 0.0, 4.0, PARAMS, DT, 0.5)
    assert state[3] == pytest.approx(0.5 * GRAVITY * DT)


def test_straight_line_distance_matches_speed() -> None:
    state = (1.0, 2.0, math.pi / 2, 2.0)
    x, y, yaw, v = step(state, 0.0, 2.0, PARAMS, DT, 0.5)
    assert (x, yaw, v) == pytest.approx((1.0, math.pi / 2, 2.0))
    assert y == pytest.approx(2.0 + 2.0 * DT)


def test_batch_matches_scalar() -> None:
    rng = np.random.default_rng(3)
    states = np.c_[rng.normal(size=(50, 2)), rng.uniform(-3, 3, 50), rng.uniform(0, 4, 50)]
    steer = rng.uniform(-0.52, 0.52, 50)
    speed = rng.uniform(0.1, 4.0, 50)
    friction = rng.uniform(0.3, 0.8, 50)
    batch = step_batch(states, steer, speed, PARAMS, DT, friction)
    for i in range(50):
        single = step(tuple(states[i]), steer[i], speed[i], PARAMS, DT, friction[i])
        np.testing.assert_allclose(batch[i], single, rtol=1e-12, atol=1e-12)


def test_car_points_geometry() -> None:
    origin, model, wheels = car_points(0.0, 0.0, 0.0, PARAMS)
    assert origin == pytest.approx((PARAMS.rear_axle_offset, 0.0))
    assert model == pytest.approx((PARAMS.rear_axle_offset + 0.14, 0.0))
    left_rear, left_front, right_rear, right_front = wheels
    assert left_rear == pytest.approx((0.0, 0.081))
    assert right_front == pytest.approx((PARAMS.wheelbase, -0.0795))
    assert left_front[1] > 0 > right_rear[1]
