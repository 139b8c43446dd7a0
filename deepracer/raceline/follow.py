"""A scripted driver that follows a race line: the expert to measure agents against.

Pure pursuit on the line's rear-axle path (the kinematic car's rear axle moves along
its heading, so the classic geometry is exact), with the speed command read ahead by
the speed lag so the car reaches each point's speed on time. It shows what the line's
lap time means in the simulator: the gap between the line and this driver is the cost
of 15 Hz control and the speed lag, and an agent within that gap drives as well as
a hand-written controller that knows the line.

Contents:
    LineFollower: ``command(car_state) -> (steering_deg, speed)``.
"""

from __future__ import annotations

import math

import numpy as np

from deepracer.physics.vehicle import VehicleParams
from deepracer.raceline import RaceLine

__all__ = ["LineFollower"]

# Off the line (at the start, after a slip) the pursuit point moves further ahead, by
# half the distance to the line up to 0.2 m, so the car rejoins the line smoothly
# instead of swerving onto it (tuned on reinvent_base: 19 of 20 round-robin starts lap
# with the world's noise and 21 discrete actions, all 20 on a line computed with a
# 3 cm margin; without it 2 of the 20 crash).
_OFF_FACTOR = 0.5
_OFF_CAP = 0.2  # [m]


class LineFollower:
    """Pure pursuit along a race line with look-ahead speed commands.

    Args:
        line: The race line.
        vehicle: The car (wheelbase, steering and speed limits).
        lookahead: Pursuit distance ``base + gain * speed`` as ``(base [m], gain [s])``.
        speed_scale: Multiplies the line's speeds (below 1 leaves slack for noise).
    """

    def __init__(
        self,
        line: RaceLine,
        vehicle: VehicleParams | None = None,
        *,
        lookahead: tuple[float, float] = (0.2, 0.12),
        speed_scale: float = 1.0,
    ) -> None:
        self.line = line
        self.vehicle = vehicle or VehicleParams()
        self.lookahead = lookahead
        self.speed_scale = speed_scale
        seg = np.linalg.norm(np.roll(line.rear, -1, axis=0) - line.rear, axis=1)
        self._spacing = float(seg.mean())
        self._index: int | None = None

    def reset(self) -> None:
        """Forgets where the car was (call at each episode start)."""
        self._index = None

    def command(self, state: tuple[float, float, float, float]) -> tuple[float, float]:
        """Returns ``(steering_deg, speed)`` for the car's ``(x, y, yaw, v)`` (rear axle)."""
        x, y, yaw, v = state
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
        alpha = math.atan2(ty - y, tx - x) - yaw
        dist = math.hypot(tx - x, ty - y)
        steer = math.degrees(math.atan2(2.0 * self.vehicle.wheelbase * math.sin(alpha), dist))
        limit = self.vehicle.max_steering_deg
        # The speed lag reaches a command after about tau: ask now for the speed due then.
        lead = round(max(v, 0.5) * self.vehicle.speed_time_constant / self._spacing)
        speed = float(self.line.speed[(self._index + lead) % n]) * self.speed_scale
        return max(-limit, min(limit, steer)), speed
