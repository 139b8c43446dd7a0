"""The DeepRacer car as pure functions: a kinematic bicycle behind lagging actuators.

State vector ``(x, y, yaw, v, steer, steer_cmd, v_cmd)``:
    x, y: rear-axle centre in the world frame [m];
    yaw: heading, counter-clockwise from +x [rad];
    v: rear-axle speed, the speed the wheel controllers drive [m/s];
    steer: the actual front-wheel angle, which lags the command [rad];
    steer_cmd, v_cmd: the command in effect when the step starts (the last step's),
        which a control delay keeps acting for a moment [rad, m/s].

Control ``(steer, v_cmd)``: commanded front-wheel angle [rad] (both front wheels get
the same angle, as in the simapp) and commanded speed [m/s], both already clipped.

A step of length dt runs ``n = substeps`` sub-steps of length ``h = dt / n``. The
first ``d = round(control_delay / h)`` of them still use the previous command; then,
per sub-step:
    1. The steering angle follows its command with a first-order lag of time constant
       tau_s, integrated exactly: ``steer += (cmd - steer) * (1 - exp(-h / tau_s))``
       (tau_s = 0: at once).
    2. The speed follows its command the same way with tau_v; with ``traction_limit``
       the change is capped at ``grip * h``, where ``grip = grip_scale * mu * g``.
    3. The path curvature ``tan(steer) / effective_wheelbase`` is capped at
       ``grip / v^2``: beyond the grip limit the car runs wide (understeer).
    4. The rear axle moves along an exact circular arc of that curvature.

So a held steering command ``s`` gives, after the lag, a steady corner of radius
``max(effective_wheelbase / tan(s), v^2 / grip)`` and yaw rate ``v / radius``; a step
change of the command reaches ``1 - exp(-t / tau_s)`` of its size ``t`` seconds after
the delay. With ``tau_s = 0``, no delay and ``effective_wheelbase = wheelbase`` this is
the plain kinematic bicycle (the ``kinematic`` profile).

Reference: Rajamani, *Vehicle Dynamics and Control*, 2nd ed., sec. 2.2 (kinematic
bicycle about the rear axle).

Contents:
    CarState, STATE_SIZE: the state tuple.
    rest_state: a car standing still at a pose.
    step: one control step of one car, in plain floats.
    step_batch: the same for N cars at once, in numpy (same results).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from deepracer.physics.vehicle import GRAVITY, VehicleParams

__all__ = ["STATE_SIZE", "CarState", "rest_state", "step", "step_batch"]

CarState = tuple[float, float, float, float, float, float, float]
"""``(x, y, yaw, v, steer, steer_cmd, v_cmd)``; see the module docstring."""

STATE_SIZE = 7
"""Length of :data:`CarState`."""


def rest_state(x: float, y: float, yaw: float, v: float = 0.0, steer: float = 0.0) -> CarState:
    """Returns the state of a car at a rear-axle pose, its commands matching its motion.

    Args:
        x: Rear-axle x [m].
        y: Rear-axle y [m].
        yaw: Heading [rad].
        v: Speed [m/s].
        steer: Actual steering angle [rad].
    """
    return (x, y, yaw, v, steer, steer, v)


def _lag(time_constant: float, h: float) -> float:
    """Share of the gap to the command closed in ``h`` seconds (1 with no lag)."""
    return 1.0 - math.exp(-h / time_constant) if time_constant > 0.0 else 1.0


def step(
    state: CarState,
    steer: float,
    v_cmd: float,
    params: VehicleParams,
    dt: float,
    friction: float,
) -> CarState:
    """Advances one car by one control step.

    Args:
        state: ``(x, y, yaw, v, steer, steer_cmd, v_cmd)`` before the step.
        steer: Commanded front-wheel angle [rad].
        v_cmd: Commanded speed [m/s].
        params: Vehicle parameters.
        dt: Control step [s] (1/15 s in DeepRacer).
        friction: Tyre-road friction coefficient mu (the world's surface).

    Returns:
        The state after the step; its commands are this step's.
    """
    x, y, yaw, v, delta, prev_steer, prev_speed = state
    n = params.substeps
    h = dt / n
    delayed = params.delay_substeps(dt)
    grip = friction * (params.grip_scale * GRAVITY)
    a_speed = _lag(params.speed_time_constant, h)
    a_steer = _lag(params.steering_time_constant, h)
    dv_max = grip * h if params.traction_limit else math.inf
    for j in range(n):
        s_cmd, target = (prev_steer, prev_speed) if j < delayed else (steer, v_cmd)
        delta += (s_cmd - delta) * a_steer
        dv = (target - v) * a_speed
        dv = dv_max if dv > dv_max else (-dv_max if dv < -dv_max else dv)
        v_new = v + dv
        v_mid = 0.5 * (v + v_new)
        ds = v_mid * h
        kappa = math.tan(delta) / params.effective_wheelbase
        if v_mid > 0.0:
            kappa_max = grip / (v_mid * v_mid)
            if kappa > kappa_max:
                kappa = kappa_max
            elif kappa < -kappa_max:
                kappa = -kappa_max
        half = 0.5 * kappa * ds
        # Chord of the arc: ds * sin(half) / half, heading of the chord: yaw + half.
        chord = ds * (math.sin(half) / half if abs(half) > 1e-9 else 1.0 - half * half / 6.0)
        x += chord * math.cos(yaw + half)
        y += chord * math.sin(yaw + half)
        yaw += 2.0 * half
        v = v_new
    yaw = math.atan2(math.sin(yaw), math.cos(yaw))
    return x, y, yaw, v, delta, steer, v_cmd


def step_batch(
    state: NDArray[np.float64],
    steer: NDArray[np.float64],
    v_cmd: NDArray[np.float64],
    params: VehicleParams,
    dt: NDArray[np.float64] | float,
    friction: NDArray[np.float64] | float,
) -> NDArray[np.float64]:
    """Advances N cars by one control step; same equations as :func:`step`.

    Args:
        state: (N, 7) states ``(x, y, yaw, v, steer, steer_cmd, v_cmd)``.
        steer: (N,) commanded front-wheel angles [rad].
        v_cmd: (N,) commanded speeds [m/s].
        params: Vehicle parameters.
        dt: Control step [s]: one for all cars, or (N,) (replays of real logs).
        friction: Scalar or (N,) friction coefficients mu.

    Returns:
        The (N, 7) states after the step (a new array).
    """
    out = np.array(state, dtype=np.float64, copy=True)
    x, y, yaw, v, delta, prev_steer, prev_speed = (out[:, i].copy() for i in range(STATE_SIZE))
    n = params.substeps
    dt_arr = np.broadcast_to(np.asarray(dt, dtype=np.float64), x.shape)
    h = dt_arr / n
    delayed = np.minimum(np.round(params.control_delay * n / dt_arr), n)
    grip = np.asarray(friction, dtype=np.float64) * (params.grip_scale * GRAVITY)
    tau_v, tau_s = params.speed_time_constant, params.steering_time_constant
    a_speed = 1.0 - np.exp(-h / tau_v) if tau_v > 0.0 else np.ones_like(h)
    a_steer = 1.0 - np.exp(-h / tau_s) if tau_s > 0.0 else np.ones_like(h)
    dv_max = grip * h if params.traction_limit else np.full_like(h, np.inf)
    for j in range(n):
        late = j < delayed
        s_cmd = np.where(late, prev_steer, steer)
        target = np.where(late, prev_speed, v_cmd)
        delta = delta + (s_cmd - delta) * a_steer
        dv = np.clip((target - v) * a_speed, -dv_max, dv_max)
        v_new = v + dv
        v_mid = 0.5 * (v + v_new)
        ds = v_mid * h
        with np.errstate(divide="ignore"):
            kappa_max = np.where(v_mid > 0.0, grip / (v_mid * v_mid), np.inf)
        kappa = np.clip(np.tan(delta) / params.effective_wheelbase, -kappa_max, kappa_max)
        half = 0.5 * kappa * ds
        small = np.abs(half) <= 1e-9
        safe = np.where(small, 1.0, half)
        chord = ds * np.where(small, 1.0 - half * half / 6.0, np.sin(safe) / safe)
        x += chord * np.cos(yaw + half)
        y += chord * np.sin(yaw + half)
        yaw += 2.0 * half
        v = v_new
    out[:, 0], out[:, 1], out[:, 2], out[:, 3] = x, y, np.arctan2(np.sin(yaw), np.cos(yaw)), v
    out[:, 4], out[:, 5], out[:, 6] = delta, steer, v_cmd
    return out
