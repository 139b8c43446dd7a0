"""Golden values of the car's dynamics against closed-form results."""

from __future__ import annotations

import math

import numpy as np
import pytest

from deepracer import accel
from deepracer.physics import (
    GRAVITY,
    STATE_SIZE,
    VehicleParams,
    car_points,
    rest_state,
    step,
    step_batch,
)
from deepracer.physics.profiles import load_profile

PARAMS = VehicleParams()  # the ideal kinematic bicycle
DT = 1.0 / 15.0
LAGGING = VehicleParams(
    steering_time_constant=0.2,
    effective_wheelbase=0.25,
    speed_time_constant=0.1,
    grip_scale=0.8,
    control_delay=DT / 2,
)


def drive(
    steer: float,
    speed: float,
    seconds: float,
    friction: float = 0.5,
    params: VehicleParams = PARAMS,
) -> np.ndarray:
    """Returns the rear-axle path (K, 2) of a car already in its steady corner."""
    state = rest_state(0.0, 0.0, 0.0, speed, steer)
    path = []
    for _ in range(round(seconds / DT)):
        state = step(state, steer, speed, params, DT, friction)
        path.append(state[:2])
    return np.array(path)


def circle_radius(points: np.ndarray) -> float:
    """Least-squares circle fit (Kasa)."""
    x, y = points[:, 0], points[:, 1]
    a = np.c_[2 * x, 2 * y, np.ones_like(x)]
    (cx, cy, c), *_ = np.linalg.lstsq(a, x**2 + y**2, rcond=None)
    return float(math.sqrt(c + cx**2 + cy**2))


@pytest.mark.parametrize("params", [PARAMS, LAGGING], ids=["kinematic", "lagging"])
@pytest.mark.parametrize("steer_deg", [5.0, 15.0, 30.0])
def test_steady_circle_below_grip_limit(steer_deg: float, params: VehicleParams) -> None:
    steer = math.radians(steer_deg)
    expected = params.effective_wheelbase / math.tan(steer)
    speed = 0.5  # v^2 / R well below the grip for every angle here
    assert speed**2 / expected < 0.4 * GRAVITY
    radius = circle_radius(drive(steer, speed, 10.0, params=params))
    assert radius == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(("speed", "friction"), [(3.0, 0.5), (4.0, 0.5), (2.5, 0.3)])
def test_grip_limit_makes_the_car_run_wide(speed: float, friction: float) -> None:
    steer = math.radians(30.0)
    grip = LAGGING.grip_scale * friction * GRAVITY
    expected = speed**2 / grip
    assert expected > LAGGING.min_turning_radius
    radius = circle_radius(drive(steer, speed, 20.0, friction, LAGGING))
    assert radius == pytest.approx(expected, rel=1e-6)
    assert speed**2 / radius == pytest.approx(grip, rel=1e-6)


@pytest.mark.parametrize("name", ["deepracer-on-aws", "console-2022", "kinematic"])
def test_profile_steady_yaw_rate_is_its_closed_form(name: str) -> None:
    """At 30 degrees and 1 m/s: v * tan(30) / L_eff, or grip / v if that binds."""
    car = load_profile(name).params
    speed, steer = 1.0, math.radians(30.0)
    expected = min(
        speed * math.tan(steer) / car.effective_wheelbase, 0.5 * car.grip_scale * GRAVITY
    )
    state = rest_state(0.0, 0.0, 0.0, speed)
    yaws = []
    settle = 40.0 * max(car.steering_time_constant, car.speed_time_constant)  # e^-40 left
    for _ in range(round(settle / DT) + 15):
        state = step(state, steer, speed, car, DT, 0.5)
        yaws.append(state[2])
    rate = np.diff(np.unwrap(yaws))[-15:] / DT
    np.testing.assert_allclose(rate, expected, rtol=1e-9)


def test_steering_step_response_is_first_order_after_the_delay() -> None:
    """The actual angle reaches ``1 - exp(-(t - delay) / tau_s)`` of a step command."""
    params = LAGGING
    h = DT / params.substeps
    delay = params.delay_substeps(DT) * h
    command = math.radians(20.0)
    state = rest_state(0.0, 0.0, 0.0, 1.0)
    for k in range(1, 16):
        state = step(state, command, 1.0, params, DT, 0.5)
        t = k * DT
        expected = command * (1.0 - math.exp(-(t - delay) / params.steering_time_constant))
        assert state[4] == pytest.approx(expected, rel=1e-12)
        assert state[5] == command


def test_control_delay_holds_the_previous_command() -> None:
    """With a whole step of delay a command changes nothing until the next step."""
    params = VehicleParams(control_delay=DT, speed_time_constant=0.0)
    state = rest_state(0.0, 0.0, 0.0, 1.0, math.radians(10.0))
    after = step(state, math.radians(-25.0), 2.0, params, DT, 0.5)
    assert after[4] == pytest.approx(math.radians(10.0))
    assert after[3] == pytest.approx(1.0)
    assert after[5:] == (math.radians(-25.0), 2.0)
    later = step(after, math.radians(-25.0), 2.0, params, DT, 0.5)
    assert later[4] == pytest.approx(math.radians(-25.0))


def test_delay_beyond_one_step_is_refused() -> None:
    with pytest.raises(ValueError, match=r"control_delay 0\.1 s exceeds one control step"):
        VehicleParams(control_delay=0.1).check_step(DT)


def test_speed_lag_reaches_63_percent_after_one_time_constant() -> None:
    tau = 0.2
    params = VehicleParams(speed_time_constant=tau, substeps=1)
    dt = tau / 20.0
    state = rest_state(0.0, 0.0, 0.0)
    target = 1.0  # small step: the traction limit (mu * g) does not bind
    for _ in range(20):
        state = step(state, 0.0, target, params, dt, 0.5)
    assert state[3] / target == pytest.approx(1.0 - math.exp(-1.0), rel=1e-9)


def test_traction_limits_acceleration() -> None:
    state = step(rest_state(0.0, 0.0, 0.0), 0.0, 4.0, LAGGING, DT, 0.5)
    # The first half step still drives the previous command (standstill).
    driven = DT - LAGGING.delay_substeps(DT) * DT / LAGGING.substeps
    assert state[3] == pytest.approx(LAGGING.grip_scale * 0.5 * GRAVITY * driven)


def test_straight_line_distance_matches_speed() -> None:
    state = rest_state(1.0, 2.0, math.pi / 2, 2.0)
    x, y, yaw, v, *_ = step(state, 0.0, 2.0, LAGGING, DT, 0.5)
    assert (x, yaw, v) == pytest.approx((1.0, math.pi / 2, 2.0))
    assert y == pytest.approx(2.0 + 2.0 * DT)


def _random_states(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.c_[
        rng.normal(size=(n, 2)),
        rng.uniform(-3, 3, n),
        rng.uniform(0, 4, n),
        rng.uniform(-0.52, 0.52, (n, 2)),
        rng.uniform(0.1, 4.0, n),
    ]


@pytest.mark.parametrize("params", [PARAMS, LAGGING], ids=["kinematic", "lagging"])
def test_batch_and_compiled_match_scalar(params: VehicleParams) -> None:
    n = 50
    rng = np.random.default_rng(3)
    states = _random_states(n, 4)
    assert states.shape[1] == STATE_SIZE
    steer = rng.uniform(-0.52, 0.52, n)
    speed = rng.uniform(0.1, 4.0, n)
    friction = rng.uniform(0.3, 0.8, n)
    batch = step_batch(states, steer, speed, params, DT, friction)
    compiled = states.copy()  # numba's machine code where installed, else the same Python
    accel.physics_step(np.arange(n), compiled, steer, speed, friction, params, DT)
    for i in range(n):
        single = step(tuple(states[i]), steer[i], speed[i], params, DT, friction[i])  # type: ignore[arg-type]
        np.testing.assert_allclose(batch[i], single, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(compiled[i], single, rtol=1e-12, atol=1e-12)


def test_batch_takes_one_step_length_per_car() -> None:
    states = _random_states(6, 5)
    dt = np.array([0.05, 0.06, DT, 0.07, 0.08, 0.09])
    steer, speed = np.full(6, 0.3), np.full(6, 2.0)
    batch = step_batch(states, steer, speed, LAGGING, dt, 0.5)
    for i in range(6):
        single = step(tuple(states[i]), 0.3, 2.0, LAGGING, float(dt[i]), 0.5)  # type: ignore[arg-type]
        np.testing.assert_allclose(batch[i], single, rtol=1e-12, atol=1e-12)


def test_car_points_geometry() -> None:
    origin, model, wheels = car_points(0.0, 0.0, 0.0, PARAMS)
    assert origin == pytest.approx((PARAMS.rear_axle_offset, 0.0))
    assert model == pytest.approx((PARAMS.rear_axle_offset + 0.14, 0.0))
    left_rear, left_front, right_rear, right_front = wheels
    assert left_rear == pytest.approx((0.0, 0.081))
    assert right_front == pytest.approx((PARAMS.wheelbase, -0.0795))
    assert left_front[1] > 0 > right_rear[1]
