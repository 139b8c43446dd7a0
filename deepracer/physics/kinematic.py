"""Kinematic bicycle with a speed lag and a grip limit, as pure functions.

State vector ``(x, y, yaw, v)``:
    x, y: rear-axle centre in the world frame [m];
    yaw: heading, counter-clockwise from +x [rad];
    v: rear-axle speed, the speed the wheel controllers drive [m/s].

Control ``(steer, v_cmd)``: front-wheel angle [rad] (both front wheels get the same
angle, as in the simapp) and commanded speed [m/s], both already clipped.

Per sub-step of length h:
    1. The speed follows the command with a first-order lag of time constant tau,
       integrated exactly: ``v += (v_cmd - v) * (1 - exp(-h / tau))``, with the change
       capped at ``mu * g * h`` (traction limit).
    2. The commanded path curvature ``tan(steer) / wheelbase`` is capped at
       ``mu * g / v^2``: beyond the grip limit the car cannot follow the steering and
       runs wide (understeer), so a steady corner at speed v has radius
       ``max(wheelbase / tan(steer), v^2 / (mu * g))``.
    3. The rear axle moves along an exact circular arc of that curvature.

Reference: Rajamani, *Vehicle Dynamics and Control*, 2nd ed., sec. 2.2 (kinematic
bicycle about the rear axle).

Contents:
    step: one control step of one car, in plain floats.
    step_batch: the same for N cars at once, in numpy (same results).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from deepracer.physics.vehicle import GRAVITY, VehicleParams

__all__ = ["CarState", "step", "step_batch"]

CarState = tuple[float, float, float, float]
"""``(x, y, yaw, v)`` of the rear axle; see the module docstring."""


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
        state: ``(x, y, yaw, v)`` before the step.
        steer: Front-wheel angle [rad].
        v_cmd: Commanded speed [m/s].
        params: Vehicle parameters.
        dt: Control step [s] (1/15 s in DeepRacer).
        friction: Tyre-road friction coefficient mu (the world's surface).

    Returns:
        The state after the step.
    """
    x, y, yaw, v = state
    n = params.substeps
    h = dt / n
    grip = friction * GRAVITY
    alpha = 1.0 - math.exp(-h / params.speed_time_constant)
    dv_max = grip * h
    kappa_cmd = math.tan(steer) / params.wheelbase
    for _ in range(n):
        dv = (v_cmd - v) * alpha
        dv = dv_max if dv > dv_max else (-dv_max if dv < -dv_max else dv)
        v_new = v + dv
        v_mid = 0.5 * (v + v_new)
        ds = v_mid * h
        kappa = kappa_cmd
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
    return x, y, yaw, v


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
        state: (N, 4) states ``(x, y, yaw, v)``.
        steer: (N,) front-wheel angles [rad].
        v_cmd: (N,) commanded speeds [m/s].
        params: Vehicle parameters.
        dt: Control step [s]: one for all cars, or (N,) (replays of real logs).
        friction: Scalar or (N,) friction coefficients mu.

    Returns:
        The (N, 4) states after the step (a new array).
    """
    out = np.array(state, dtype=np.float64, copy=True)
    x, y, yaw, v = (out[:, i].copy() for i in range(4))
    n = params.substeps
    h = np.asarray(dt, dtype=np.float64) / n
    grip = np.asarray(friction, dtype=np.float64) * GRAVITY
    alpha = 1.0 - np.exp(-h / params.speed_time_constant)
    dv_max = grip * h
    kappa_cmd = np.tan(steer) / params.wheelbase
    for _ in range(n):
        dv = np.clip((v_cmd - v) * alpha, -dv_max, dv_max)
        v_new = v + dv
        v_mid = 0.5 * (v + v_new)
        ds = v_mid * h
        with np.errstate(divide="ignore"):
            kappa_max = np.where(v_mid > 0.0, grip / (v_mid * v_mid), np.inf)
        kappa = np.clip(kappa_cmd, -kappa_max, kappa_max)
        half = 0.5 * kappa * ds
        small = np.abs(half) <= 1e-9
        safe = np.where(small, 1.0, half)
        chord = ds * np.where(small, 1.0 - half * half / 6.0, np.sin(safe) / safe)
        x += chord * np.cos(yaw + half)
        y += chord * np.sin(yaw + half)
        yaw += 2.0 * half
        v = v_new
    out[:, 0], out[:, 1], out[:, 2], out[:, 3] = x, y, np.arctan2(np.sin(yaw), np.cos(yaw)), v
    return out
