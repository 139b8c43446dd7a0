"""A scripted driver for object avoidance and head-to-bot: the expert that passes objects.

It drives on one side of the road, ``lane`` of the road width off the centre line
(0.3: further out than the simapp's lanes, at a quarter), and pursues a point ahead on
it. When an obstacle or a bot car is within
``horizon`` metres ahead along the centre line (or still beside the car), it takes the
lane on the other side of that object; otherwise it keeps the lane it is in. It does
not foresee a bot car's lane change. The
pursuit point is placed ``lookahead`` ahead on the centre line and shifted sideways to
the lane, so a lane change is a smooth swerve, and the speed drops with the steering.

It is the expert that :mod:`deepracer.training.imitation` clones in worlds with
objects (the race-line driver would drive into them). A camera policy learns only what
its frames show, and a box beside or behind the car is out of view: :func:`horizon_for`
picks a horizon short enough that the next box ahead, not the one being passed, always
decides when to swerve.

Contents:
    ObjectAvoider: ``command(car_state, objects) -> (steering_deg, speed)``.
    horizon_for: the horizon for a world's obstacles.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from deepracer.envs.world import WorldConfig
from deepracer.physics.vehicle import VehicleParams
from deepracer.raceline.follow import pursuit_steering
from deepracer.rewards.objects import CameraFrustum, SceneObject, objects_in_camera
from deepracer.tracks import Track

__all__ = ["DEFAULT_HORIZON", "DEFAULT_LANE", "ObjectAvoider", "horizon_for"]

_BESIDE = 0.45  # [m] an object this far behind the car along the line is still beside it
_SEEN = 0.5  # [m] an object this close ahead is beside the car: seen before, out of view now
DEFAULT_LANE = 0.3
"""Where the driver drives: this share of the road width off the centre line.

The simapp's lanes, where its boxes stand, are at 0.25. A 0.4 m wide box in a lane of
re:Invent 2018's 0.76 m road leaves 8 cm to a 0.2 m car centred in the other lane, and
its corners cut into that in bends. Out at 0.3 (the car's outer wheels on the border)
the camera-limited expert lapped 298 of 300 layouts from the start line, against 261 of
300 at 0.25 (lookahead ``(0.5, 0.1)``; 193 against 160 of 200 from training starts).
"""

DEFAULT_HORIZON = 2.0
"""[m] Objects this far ahead along the centre line make the driver change lanes."""

_SHORTEST_HORIZON = 1.2
"""[m] Below this the car cannot swap lanes before the box at 1.2 m/s."""


def horizon_for(world: WorldConfig, track: Track) -> float:
    """The horizon at which the next box ahead, never the passed one, starts a swerve.

    A box keeps the car in the other lane until it is :data:`_BESIDE` behind. If the
    next box came within the horizon before that, the moment the car swerves would
    depend on a box its camera no longer sees, and a policy cloned from frames would
    learn a blur of the two. So the horizon is the obstacles' smallest spacing less
    that margin, capped at :data:`DEFAULT_HORIZON`. On the shipped re:Invent 2018
    world (12 % of 17.7 m apart) that is 1.68 m: the expert then lapped 555 of 600
    episodes with object_avoidance.json's 14 actions, against 544 of 600 at 2.0 m (both in
    the simapp's lanes, an all-seeing expert).

    Args:
        world: The world; its obstacles, if any, set the spacing.
        track: The world's track (for the spacing in metres).

    Example:
        >>> from deepracer.envs import load_world
        >>> from deepracer.tracks import get_track
        >>> world = load_world("reinvent_object_avoidance")
        >>> round(horizon_for(world, get_track(world.track)), 2)
        1.68
    """
    obstacles = world.obstacles
    if obstacles is None:
        return DEFAULT_HORIZON
    if obstacles.object_positions:
        dists = sorted(progress * track.length for progress, _ in obstacles.object_positions)
        gaps = [b - a for a, b in itertools.pairwise(dists)]
        if track.is_loop and len(dists) > 1:
            gaps.append(dists[0] + track.length - dists[-1])
        spacing = min(gaps, default=math.inf)
    else:
        spacing = obstacles.min_distance_between_obstacles / 100.0 * track.length
    return min(DEFAULT_HORIZON, max(_SHORTEST_HORIZON, spacing - _BESIDE))


class ObjectAvoider:
    """Lane-keeping pure pursuit that switches lanes to pass objects.

    Args:
        track: The track in its driving direction.
        vehicle: The car.
        speed: Speed on a straight [m/s].
        lookahead: Pursuit distance ``base + gain * speed`` as ``(base [m], gain [s])``.
        lane: The side it drives on, as a share of the road width off the centre line.
        horizon: Objects this far ahead along the centre line make it change lanes [m].
        dt: The control step [s].
        camera: The car camera's frustum: objects more than 0.5 m ahead count only
            once it sees them (a cloned camera policy cannot react to the others);
            None: every object counts.

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
        lookahead: tuple[float, float] = (0.5, 0.1),
        lane: float = DEFAULT_LANE,
        horizon: float = DEFAULT_HORIZON,
        dt: float = 1.0 / 15.0,
        camera: CameraFrustum | None = None,
    ) -> None:
        self.track = track
        self.vehicle = vehicle
        self.speed = speed
        self.lookahead = lookahead
        self.lane = lane
        self.horizon = horizon
        self.dt = dt
        self.camera = camera
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
            if not (-_BESIDE <= gap <= self.horizon and gap < nearest):
                continue
            if gap > _SEEN and not self._seen((x, y, float(state[2])), obj):
                continue  # the camera has not shown it yet: a cloned policy could not know
            nearest = gap
            side = self._offset(float(s_obj[0]), obj.x, obj.y)
            self._side = -1.0 if side >= 0.0 else 1.0
        base, gain = self.lookahead
        ahead = here + base + gain * max(v, 0.0)
        cx, cy, heading = track.pose_at(ahead)
        width = track.locate((cx, cy)).width
        shift = self._side * self.lane * width
        target = (cx - shift * math.sin(heading), cy + shift * math.cos(heading))
        # The pose alone, not the wheels' actual angle (state[4]): a command that
        # also undid the steering lag would depend on a state no camera frame shows,
        # and a camera policy could not learn it from frames.
        steer = pursuit_steering(state[:3], target, self.vehicle, self.dt)
        # Slower through a swerve or a bend: half speed at full lock.
        share = abs(steer) / self.vehicle.max_steering_deg
        return steer, self.speed * (1.0 - 0.5 * share)

    def _seen(self, pose: tuple[float, float, float], obj: SceneObject) -> bool:
        """Does the camera (if any) see ``obj`` from ``pose``?"""
        return self.camera is None or objects_in_camera(pose, [obj], self.camera)[0]

    def _offset(self, s: float, x: float, y: float) -> float:
        """Signed distance of (x, y) left of the centre line at arc length ``s`` [m]."""
        cx, cy, heading = self.track.pose_at(s)
        return -(x - cx) * math.sin(heading) + (y - cy) * math.cos(heading)
