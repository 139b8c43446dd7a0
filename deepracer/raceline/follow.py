"""A scripted driver that follows a race line: the expert to measure agents against.

Pure pursuit on the line's rear-axle path (the car's rear axle moves along its
heading, so the classic geometry is exact, with the car's effective wheelbase), with
the speed command read ahead by the speed lag and the control delay so the car
reaches each point's speed on time. For a car whose steering lags, the command is the
one that brings the actual angle to the pursuit's angle within one step (the inverse
of the lag: a lagging wheel closes only part of the gap per step). A car running wide
of the line lifts off, as a driver would, since the line already uses all the grip.

It shows what the line's lap time means in the simulator: the gap between the line
and this driver is the cost of 15 Hz control and the car's lags, and an agent within
that gap drives as well as a hand-written controller that knows the line.

Contents:
    LineFollower: ``command(car_state) -> (steering_deg, speed)``.
    pursuit_steering: the pure-pursuit steering command towards a point.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from deepracer.physics.profiles import default_vehicle
from deepracer.physics.vehicle import VehicleParams
from deepracer.raceline import RaceLine

__all__ = ["LineFollower", "pursuit_steering"]

# Off the line (at the start, after a slip) the pursuit point moves further ahead, by
# half the distance to the line up to 0.2 m, so the car rejoins the line smoothly
# instead of swerving onto it; beyond 3 cm off, the speed drops by 2 % per cm (to 60 %
# at most). Tuned on reinvent_base, 12 evenly spaced starts with the world's action
# noise and continuous actions: laps completed (mean lap / the line's standing lap)
# kinematic 12/12 (1.045), deepracer-on-aws 12/12 (1.086), console-2022 8/12 (1.099);
# without the lift 11, 7 and 4 of 12.
_OFF_FACTOR = 0.5
_OFF_CAP = 0.2  # [m]
_LIFT_FROM = 0.03  # [m]
_LIFT_RATE = 2.0  # [1/m]
_LIFT_FLOOR = 0.6


class LineFollower:
    """Pure pursuit along a race line with look-ahead speed commands.

    Args:
        line: The race line.
        vehicle: The car (wheelbase, steering and speed limits).
        lookahead: Pursuit distance ``base + gain * speed`` as ``(base [m], gain [s])``.
        speed_scale: Multiplies the line's speeds (below 1 leaves slack for noise).
        dt: The control step [s], for the steering lag's share per step.
    """

    def __init__(
        self,
        line: RaceLine,
        vehicle: VehicleParams | None = None,
        *,
        lookahead: tuple[float, float] = (0.3, 0.12),
        speed_scale: float = 1.0,
        dt: float = 1.0 / 15.0,
    ) -> None:
        self.line = line
        self.dt = dt
        self.vehicle = vehicle or default_vehicle()
        self.lookahead = lookahead
        self.speed_scale = speed_scale
        seg = np.linalg.norm(np.roll(line.rear, -1, axis=0) - line.rear, axis=1)
        self._spacing = float(seg.mean())
        self._index: int | None = None

    def reset(self) -> None:
        """Forgets where the car was (call at each episode start)."""
        self._index = None

    def command(self, state: Sequence[float]) -> tuple[float, float]:
        """Returns ``(steering_deg, speed)`` for the car's state.

        Args:
            state: The env's ``car_state`` (``x, y, yaw, v`` of the rear axle, then the
                steering and the last command); the first four alone drive an ideal car.
        """
        x, y, _, v = (float(a) for a in state[:4])
        path = self.line.rear
        n = len(path)
        # After the first step the car is near where it was: search a window ahead.
        near = np.arange(n) if self._index is None else (self._index + np.arange(-10, 40)) % n
        d2 = (path[near, 0] - x) ** 2 + (path[near, 1] - y) ** 2
        nearest = int(np.argmin(d2))
        self._index = int(near[nearest])
        base, gain = self.lookahead
        off = math.sqrt(float(d2[nearest]))
        ahead = round(
            (base + gain * max(v, 0.0) + min(_OFF_FACTOR * off, _OFF_CAP)) / self._spacing
        )
        tx, ty = path[(self._index + ahead) % n]
        steer = pursuit_steering(state, (float(tx), float(ty)), self.vehicle, self.dt)
        # The speed lag reaches a command after about tau, the delay later still: ask
        # now for the speed due then.
        lag = self.vehicle.speed_time_constant + self.vehicle.control_delay
        lead = round(max(v, 0.5) * lag / self._spacing)
        speed = float(self.line.speed[(self._index + lead) % n]) * self.speed_scale
        speed *= max(_LIFT_FLOOR, 1.0 - _LIFT_RATE * max(off - _LIFT_FROM, 0.0))
        return steer, speed


def pursuit_steering(
    state: Sequence[float], target: tuple[float, float], vehicle: VehicleParams, dt: float
) -> float:
    """The steering command [deg] that pursues ``target`` with the rear axle.

    Pure pursuit with the car's effective wheelbase; for a car whose steering lags,
    the command that brings the actual angle there within one step. Clipped to the
    car's steering limit.

    Args:
        state: The env's ``car_state`` (``x, y, yaw`` of the rear axle first; the
            actual steering angle at index 4, when given, for the lag).
        target: The point to pursue (x, y) [m].
        vehicle: The car.
        dt: The control step [s].
    """
    x, y, yaw = (float(a) for a in state[:3])
    tx, ty = target
    alpha = math.atan2(ty - y, tx - x) - yaw
    dist = math.hypot(tx - x, ty - y)
    steer = math.degrees(math.atan2(2.0 * vehicle.effective_wheelbase * math.sin(alpha), dist))
    tau = vehicle.steering_time_constant
    if tau > 0.0 and len(state) > 4:
        # Ask for more than the pursuit angle, so the wheel is there after a step.
        share = 1.0 - math.exp(-dt / tau)
        actual = math.degrees(float(state[4]))
        steer = actual + (steer - actual) / share
    limit = vehicle.max_steering_deg
    return max(-limit, min(limit, steer))
