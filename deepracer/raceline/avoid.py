"""A scripted driver for object avoidance and head-to-bot: the expert that passes objects.

It drives in one of the simapp's lanes (half way between the centre line and a
border) and pursues a point ahead on it. When an obstacle or a bot car is within
``horizon`` metres ahead along the centre line (or still beside the car), it takes the
lane on the other side of that object; otherwise it keeps the lane it is in. It does
not foresee a bot car's lane change. The
pursuit point is placed ``lookahead`` ahead on the centre line and shifted sideways to
the lane, so a lane change is a smooth swerve, and the speed drops with the steering.

It is the expert that :mod:`deepracer.training.imitation` clones in worlds with
objects (the race-line driver would drive into them).

Contents:
    ObjectAvoider: ``command(car_state, objects) -> (steering_deg, speed)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from deepracer.physics.vehicle import VehicleParams
from deepracer.raceline.follow import pursuit_steering
from deepracer.rewards.objects import SceneObject
from deepracer.tracks import Track

__all__ = ["ObjectAvoider"]

_BESIDE = 0.45  # [m] an object this far behind the car along the line is still beside it
_LANE = 0.25  # the simapp's lanes: a quarter of the road width off the centre line


class ObjectAvoider:
    """Lane-keeping pure pursuit that switches lanes to pass objects.

    Args:
        track: The track in its driving direction.
        vehicle: The car.
        speed: Speed on a straight [m/s].
        lookahead: Pursuit distance ``base + gain * speed`` as ``(base [m], gain [s])``.
        horizon: Objects this far ahead along the centre line make it change lanes [m].
        dt: The control step [s].

    Example:
        >>> from deepracer.physics.profiles import default_vehicle
        >>> from deepracer.rewards.objects import BOX_FOOTPRINT
        >>> from deepracer.tracks import get_track
        >>> driver = ObjectAvoider(get_track("straight"), default_vehicle())
        >>> box = SceneObject(1.0, 0.15, 0.0, "obstacle", BOX_FOOTPRINT, 0.1)  # left lane
        >>> steer, speed = driver.command((0.0, 0.0, 0.0, 0.0), [box])
        >>> steer < 0  # swerves right, away from it
        True
    """

    def __init__(
        self,
        track: Track,
        vehicle: VehicleParams,
        *,
        speed: float = 1.2,
        lookahead: tuple[float, float] = (0.5, 0.15),
        horizon: float = 2.0,
        dt: float = 1.0 / 15.0,
    ) -> None:
        self.track = track
        self.vehicle = vehicle
        self.speed = speed
        self.lookahead = lookahead
        self.horizon = horizon
        self.dt = dt
        self._side = 0.0

    def reset(self) -> None:
        """Forgets the lane (call at each episode start): it starts in the nearer one."""
        self._side = 0.0

    def command(
        self, state: Sequence[float], objects: Sequence[SceneObject]
    ) -> tuple[float, float]:
        """Returns ``(steering_deg, speed)`` for the car's state among ``objects``.

        Args:
            state: The env's ``car_state`` (rear axle ``x, y, yaw, v``, then steering).
            objects: The obstacles and bot cars where they are now.
        """
        x, y, _, v = (float(a) for a in state[:4])
        track = self.track
        s_car, _, _ = track.center.project([[x, y]])
        here = float(s_car[0])
        if self._side == 0.0:
            self._side = 1.0 if self._offset(here, x, y) >= 0.0 else -1.0
        nearest = math.inf
        for obj in objects:
            s_obj, _, _ = track.center.project([[obj.x, obj.y]])
            gap = (
                (float(s_obj[0]) - here) % track.length
                if track.is_loop
                else (float(s_obj[0]) - here)
            )
            if track.is_loop and gap > track.length - _BESIDE:
                gap -= track.length
            if -_BESIDE <= gap <= self.horizon and gap < nearest:
                nearest = gap
                side = self._offset(float(s_obj[0]), obj.x, obj.y)
                self._side = -1.0 if side >= 0.0 else 1.0
        base, gain = self.lookahead
        ahead = here + base + gain * max(v, 0.0)
        cx, cy, heading = track.pose_at(ahead)
        width = track.locate((cx, cy)).width
        shift = self._side * _LANE * width
        target = (cx - shift * math.sin(heading), cy + shift * math.cos(heading))
        # The pose alone, not the wheels' actual angle (state[4]): a command that
        # also undid the steering lag would depend on a state no camera frame shows,
        # and a camera policy could not learn it from frames.
        steer = pursuit_steering(state[:3], target, self.vehicle, self.dt)
        # Slower through a swerve or a bend: half speed at full lock.
        share = abs(steer) / self.vehicle.max_steering_deg
        return steer, self.speed * (1.0 - 0.5 * share)

    def _offset(self, s: float, x: float, y: float) -> float:
        """Signed distance of (x, y) left of the centre line at arc length ``s`` [m]."""
        cx, cy, heading = self.track.pose_at(s)
        return -(x - cx) * math.sin(heading) + (y - cy) * math.cos(heading)
