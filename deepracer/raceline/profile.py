"""Lap time of a path under the simulator's car limits: the forward-backward profile.

The car of :mod:`deepracer.physics.kinematic` has three limits a path's speed must
respect, and no others:

* top speed ``v_max`` (the action space's cap, 4 m/s);
* grip: the path curvature at speed v is capped at ``grip_scale * mu * g / v**2``, so a corner of
  curvature kappa is taken at most at ``sqrt(mu * g / |kappa|)``; the steering angle
  caps the curvature itself at ``tan(max_steering) / effective_wheelbase``;
* the steering lag: the steering angle follows its command with time constant
  tau_s, so the path curvature changes at most at about ``kappa_steer / tau_s`` per
  second, and a stretch where the curvature changes by ``dkappa/ds`` per metre is
  driven at most at ``kappa_rate / |dkappa/ds|``;
* the speed lag: speed follows the command with time constant tau, and the change
  is capped at the grip per second for a traction-limited car, so it accelerates at
  most at ``min((v_max - v) / tau, accel)`` and brakes at most at
  ``min((v - v_min) / tau, accel)``. Longitudinal and lateral grip are separate caps
  in the simulator (no friction circle), so they are here.

The profile is the classic one: the speed cap of every point, then a forward pass
that accelerates as hard as the car can and a backward pass that brakes as late as
it can; the lap time sums ``2 ds / (v_i + v_{i+1})``. Speeds are integrated as
``u = v**2`` (``du/ds = 2 a``, which is regular at standstill) with two RK2 steps per
segment. With numba installed the loops are compiled; both paths give the same
numbers.

Contents:
    CarLimits: the limits above, in the units the kernels use.
    curvature: signed curvature and segment lengths of a closed polyline.
    closed_profile: speeds and lap time of a flying lap of a closed path.
    standing_profile: speeds and time of one lap from standstill at point 0.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from deepracer.accel import _jit
from deepracer.physics.vehicle import GRAVITY, VehicleParams

__all__ = ["CarLimits", "closed_profile", "curvature", "standing_profile"]

FloatArray = NDArray[np.float64]


class CarLimits(NamedTuple):
    """What bounds the car's speed on a path.

    Attributes:
        v_max: Top speed [m/s].
        v_min: Lowest commandable speed [m/s] (braking aims at it).
        tau: Speed-lag time constant [s].
        grip: Friction limit ``grip_scale * mu * g`` [m/s^2].
        kappa_steer: Largest path curvature the steering allows [1/m].
        kappa_rate: Fastest change of the path curvature the steering allows [1/(m s)]
            (infinite for steering without lag).
        accel: Cap on speeding up and slowing down [m/s^2]: the grip for a
            traction-limited car, else none (the lag alone).
    """

    v_max: float
    v_min: float
    tau: float
    grip: float
    kappa_steer: float
    kappa_rate: float = math.inf
    accel: float = math.inf

    @classmethod
    def of(cls, vehicle: VehicleParams, friction: float, v_max: float | None = None) -> CarLimits:
        """The limits of ``vehicle`` on a surface with friction ``friction``.

        Args:
            vehicle: The car.
            friction: Tyre friction coefficient mu of the world's surface.
            v_max: Top speed if lower than the car's (an action space's fastest action).
        """
        top = vehicle.max_speed if v_max is None else min(v_max, vehicle.max_speed)
        kappa_steer = 1.0 / vehicle.min_turning_radius
        grip = vehicle.grip_scale * friction * GRAVITY
        tau_s = vehicle.steering_time_constant
        return cls(
            v_max=top,
            v_min=vehicle.min_speed,
            # No lag is the limit of a tiny one: the grip cap then sets the acceleration.
            tau=max(vehicle.speed_time_constant, 1e-9),
            grip=grip,
            kappa_steer=kappa_steer,
            # A full-lock command from straight ahead starts at this rate.
            kappa_rate=kappa_steer / tau_s if tau_s > 0.0 else math.inf,
            accel=grip if vehicle.traction_limit else math.inf,
        )


@_jit
def _curvature(px, py):  # type: ignore[no-untyped-def]
    n = px.shape[0]
    kappa = np.empty(n)
    ds = np.empty(n)
    for i in range(n):
        a = i - 1 if i > 0 else n - 1
        c = i + 1 if i + 1 < n else 0
        ux, uy = px[i] - px[a], py[i] - py[a]
        vx, vy = px[c] - px[i], py[c] - py[i]
        wx, wy = px[c] - px[a], py[c] - py[a]
        lu = math.sqrt(ux * ux + uy * uy)
        lv = math.sqrt(vx * vx + vy * vy)
        lw = math.sqrt(wx * wx + wy * wy)
        denom = lu * lv * lw
        # Menger curvature: 1/R of the circle through three consecutive points.
        kappa[i] = 2.0 * (ux * vy - uy * vx) / denom if denom > 0.0 else 0.0
        ds[i] = lv
    return kappa, ds


def curvature(points: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Signed curvature at each point of a closed polyline and the segment lengths.

    Args:
        points: (N, 2) points; the last connects back to the first.

    Returns:
        ``(kappa, ds)``: curvature [1/m] (positive turning left) and ``ds[i]``, the
        length from point i to point i + 1 [m].
    """
    px = np.ascontiguousarray(points[:, 0], dtype=np.float64)
    py = np.ascontiguousarray(points[:, 1], dtype=np.float64)
    kappa, ds = _curvature(px, py)
    return kappa, ds


@_jit
def _grow(u, ds, target, tau, accel, accelerate):  # type: ignore[no-untyped-def]
    # v**2 after ds of full acceleration (or, backwards in distance, full braking).
    h = 0.5 * ds
    for _ in range(2):
        v = math.sqrt(u)
        a = (target - v) / tau if accelerate else (v - target) / tau
        a = min(max(a, 0.0), accel)
        v_mid = math.sqrt(u + a * h)
        a = (target - v_mid) / tau if accelerate else (v_mid - target) / tau
        a = min(max(a, 0.0), accel)
        u += 2.0 * a * h
    return u


@_jit
def _speed_caps(kappa, ds, v_max, grip, kappa_rate):  # type: ignore[no-untyped-def]
    n = kappa.shape[0]
    cap = np.empty(n)
    for i in range(n):
        k = abs(kappa[i])
        cap[i] = v_max * v_max if k * v_max * v_max <= grip else grip / k
        if kappa_rate < math.inf:
            a = i - 1 if i > 0 else n - 1
            c = i + 1 if i + 1 < n else 0
            span = ds[a] + ds[i]
            change = abs(kappa[c] - kappa[a]) / span if span > 0.0 else 0.0
            if change * math.sqrt(cap[i]) > kappa_rate:
                cap[i] = (kappa_rate / change) ** 2
    return cap


@_jit
def _closed(kappa, ds, v_max, v_min, tau, grip, kappa_rate, accel):  # type: ignore[no-untyped-def]
    n = kappa.shape[0]
    cap = _speed_caps(kappa, ds, v_max, grip, kappa_rate)
    start = 0
    for i in range(n):
        if cap[i] < cap[start]:
            start = i
    # The slowest point's cap holds with equality, so both passes may start there.
    u = np.empty(n)
    u[start] = cap[start]
    for k in range(1, n):
        i = (start + k) % n
        prev = (i - 1) % n
        u[i] = min(cap[i], _grow(u[prev], ds[prev], v_max, tau, accel, True))
    back = cap[start]
    for k in range(1, n):
        i = (start - k) % n
        back = min(u[i], _grow(back, ds[i], v_min, tau, accel, False))
        u[i] = back
    time = 0.0
    for i in range(n):
        j = i + 1 if i + 1 < n else 0
        time += 2.0 * ds[i] / (math.sqrt(u[i]) + math.sqrt(u[j]))
    return np.sqrt(u), time


@_jit
def _standing(kappa, ds, v_max, v_min, tau, grip, kappa_rate, accel):  # type: ignore[no-untyped-def]
    n = kappa.shape[0]
    cap = _speed_caps(kappa, ds, v_max, grip, kappa_rate)
    u = np.empty(n + 1)
    u[0] = 0.0
    for i in range(1, n + 1):
        u[i] = min(cap[i % n], _grow(u[i - 1], ds[i - 1], v_max, tau, accel, True))
    back = u[n]
    for i in range(n - 1, -1, -1):
        back = min(u[i], _grow(back, ds[i], v_min, tau, accel, False))
        u[i] = back
    time = 0.0
    for i in range(n):
        v0, v1 = math.sqrt(u[i]), math.sqrt(u[i + 1])
        time += 2.0 * ds[i] / (v0 + v1) if v0 + v1 > 0.0 else 0.0
    return np.sqrt(u), time


def closed_profile(
    kappa: FloatArray, ds: FloatArray, limits: CarLimits
) -> tuple[FloatArray, float]:
    """Fastest speeds along a closed path driven lap after lap, and the lap time.

    Args:
        kappa: (N,) path curvature at each point [1/m].
        ds: (N,) length from point i to point i + 1 (the last to the first) [m].
        limits: The car's limits.

    Returns:
        ``(speed, lap_time)``: (N,) speeds [m/s] and the flying-lap time [s]. The
        steering cap is not checked here: the solver keeps lines within it.
    """
    speed, time = _closed(np.ascontiguousarray(kappa), np.ascontiguousarray(ds), *_numbers(limits))
    return speed, float(time)


def standing_profile(
    kappa: FloatArray, ds: FloatArray, limits: CarLimits
) -> tuple[FloatArray, float]:
    """Fastest speeds for one lap from standstill at point 0 back to point 0.

    This is how an evaluation trial's lap is timed: the car starts at rest on the
    line. Args as :func:`closed_profile`.

    Returns:
        ``(speed, lap_time)``: (N + 1,) speeds, the last at the finish [m/s], and
        the lap time [s].
    """
    speed, time = _standing(
        np.ascontiguousarray(kappa), np.ascontiguousarray(ds), *_numbers(limits)
    )
    return speed, float(time)


def _numbers(limits: CarLimits) -> tuple[float, float, float, float, float, float]:
    return (
        limits.v_max,
        limits.v_min,
        limits.tau,
        limits.grip,
        limits.kappa_rate,
        limits.accel,
    )
