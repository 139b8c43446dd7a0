"""The object reward params and the crash rules, computed as the DeepRacer simapp does.

Everything here follows ``aws-deepracer-community/deepracer-simapp`` (``bundle/markov``,
read at commit 01f5f015): ``track_geom/track_data.py`` (``TrackData``),
``cameras/frustum.py`` (``Frustum``), ``agent_ctrl/rollout_agent_ctrl.py``,
``agent_ctrl/bot_cars_agent_ctrl.py`` and their constants. Objects are given in the
simapp's order: the obstacles, then the bot cars (the order ``TrackData.object_poses``
holds them in, the racecar itself before both).

The simapp's rules, kept as they are for the reward contract (the last two look
like slips in the simapp):

* ``objects_distance`` is each object's arc length along the centre line [m] (not
  normalised), ``objects_distance_from_center`` its distance to the centre line [m];
* ``closest_objects`` brackets the *model point*'s arc length among the objects'
  (``[behind, ahead]``, wrapping around the list), by the centre line, not by
  distance; an object level with the model point counts as behind;
* ``objects_left_of_center`` is "inside the road's inner half" (flipped when driven
  clockwise), so an object off the road on the inner side is not left;
* ``objects_heading`` is in radians (the car's ``heading`` is in degrees), and it and
  ``objects_speed`` are filled only when the world has bot cars; then every object,
  static obstacles included, gets its yaw and the configured bot-car speed;
* ``object_in_camera`` tests the object at index ``closest_objects[1]`` of a list
  that has the racecar at index 0, so it sees the object one *before* the next one
  (and never true when the next object is object 0): :func:`object_params`.

``is_crashed`` comes from :func:`collided_object` and, for a bot car, from
:func:`bot_collision_outcome`.

Contents:
    Footprint, BOX_FOOTPRINT, BOT_CAR_FOOTPRINT, RACECAR_FOOTPRINT: object rectangles.
    OBSTACLE_Z, BOT_CAR_Z, MODEL_POINT_OFFSET: the simapp's heights and model point.
    SceneObject: one object on the track (pose, kind, footprint).
    footprint_corners: the four floor corners of a rectangle.
    collided_object: which object the car crashed into, by the simapp's test.
    bot_car_progress, bot_collision_outcome: who is to blame for a bot-car crash.
    CameraFrustum: the simapp's hard-coded camera frustum(s) for ``object_in_camera``.
    objects_in_camera: which objects the camera sees.
    object_params: the object reward params.
    OBJECT_PARAM_DEFAULTS: their values when there are no objects.
    SimappLines, simapp_lines: a track's lines as the simapp's shapely objects.

The line queries (projection, interpolation, the inner half's polygon) go through
shapely, as the simapp's do: the simapp's lanes pass exactly between two centre-line
segments at many points, where a projection is a tie that only the same arithmetic
breaks the same way.
"""

from __future__ import annotations

import bisect
import functools
import math
import weakref
from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray

from deepracer.tracks import Track

__all__ = [
    "BOT_CAR_FOOTPRINT",
    "BOT_CAR_Z",
    "BOX_FOOTPRINT",
    "MODEL_POINT_OFFSET",
    "OBJECT_PARAM_DEFAULTS",
    "OBSTACLE_Z",
    "RACECAR_FOOTPRINT",
    "CameraFrustum",
    "Footprint",
    "SceneObject",
    "bot_car_progress",
    "bot_collision_outcome",
    "collided_object",
    "footprint_corners",
    "object_params",
    "objects_in_camera",
    "simapp_lines",
]

FloatArray = NDArray[np.float64]
ObjectKind = Literal["obstacle", "bot_car"]


class Footprint(NamedTuple):
    """A floor rectangle centred on an object's origin, as ``ObstacleDimensions``.

    ``TrackData.get_object_bounding_rect`` puts ``width`` across the object's heading
    (its y axis) and ``length`` along it (its x axis).

    Attributes:
        width: Extent across the heading [m].
        length: Extent along the heading [m].
    """

    width: float
    length: float


BOX_FOOTPRINT = Footprint(0.4, 0.5)
"""A box obstacle's collision rectangle (``track_geom/constants.py``
``ObstacleDimensions.BOX_OBSTACLE_DIMENSION = (0.4, 0.5)``): the 0.4 m long, 0.3 m
wide box of ``models/box_obstacle/model.sdf`` with 0.1 m added to each extent. The
constant's comment calls its numbers "Length(x), width(y)", but the bounding
rectangle reads the first across and the second along, which fits the box. All three
obstacle types use it."""
BOT_CAR_FOOTPRINT = Footprint(0.1961, 0.32352)
"""A bot car's rectangle (``ObstacleDimensions.BOT_CAR_DIMENSION``), also used for an
obstacle shown as a car (``IS_OBSTACLE_BOT_CAR``)."""
RACECAR_FOOTPRINT = BOT_CAR_FOOTPRINT
"""The racecar's own rectangle: ``RolloutCtrl.__init__`` registers it with
``BOT_CAR_DIMENSION``, centred on the car origin (not the model point)."""
OBSTACLE_Z = 0.1
"""Height of an obstacle's pose [m] (``agent_ctrl/constants.py`` ``OBSTACLE_Z``);
the camera test uses it for the box's points."""
BOT_CAR_Z = 0.0
"""Height of a bot car's pose [m] (``BOT_CAR_Z``), also an obstacle shown as a car."""
MODEL_POINT_OFFSET = 0.14
"""The model point lies this far ahead of the car origin [m]
(``RELATIVE_POSITION_OF_FRONT_OF_CAR``); bot cars' progress uses it too."""
_CAR_Z = 0.0  # the racecar's pose height: the simapp spawns it at z = 0 on a flat floor


class SceneObject(NamedTuple):
    """One object on the track, as ``TrackData`` holds it (pose and dimensions).

    Attributes:
        x: Origin x [m].
        y: Origin y [m].
        heading: Yaw [rad].
        kind: ``"obstacle"`` (static, named ``obstacle_<i>`` in the simapp) or
            ``"bot_car"`` (``bot_car_<i>``); the crash rules differ.
        footprint: Its floor rectangle.
        z: Height of its pose [m] (:data:`OBSTACLE_Z` or :data:`BOT_CAR_Z`).
    """

    x: float
    y: float
    heading: float
    kind: ObjectKind
    footprint: Footprint
    z: float


Pose2D = tuple[float, float, float]
"""``(x, y, yaw)`` of a car origin [m, m, rad]."""


class SimappLines(NamedTuple):
    """A track's lines as ``TrackData`` builds them (shapely geometries).

    Attributes:
        center: The centre line (a ``LinearRing`` for a loop, else a ``LineString``).
        inner_lane: Halfway between the centre line and the inner border, row by row.
        outer_lane: Halfway between the centre line and the outer border.
        inner_border: The inner border.
        outer_border: The outer border.
        inner_poly: The road's inner half (prepared): for a loop the centre ring with
            the inner border as a hole, for an open track the centre line closed by
            the inner border walked backwards.
    """

    center: Any
    inner_lane: Any
    outer_lane: Any
    inner_border: Any
    outer_border: Any
    inner_poly: Any


_LINES: weakref.WeakKeyDictionary[Track, SimappLines] = weakref.WeakKeyDictionary()


def simapp_lines(track: Track) -> SimappLines:
    """Returns ``track``'s lines in its driving direction (``TrackData.__init__``); cached."""
    lines = _LINES.get(track)
    if lines is None:
        import shapely
        from shapely.geometry import LinearRing, LineString, Polygon

        rows = track.waypoints_array
        line = LinearRing if track.is_loop else LineString
        center = line(rows[:, 0:2])
        if track.is_loop:
            inner_poly = Polygon(center, [LinearRing(rows[:, 2:4])])
        else:
            inner_poly = Polygon(np.vstack([rows[:, 0:2], rows[::-1, 2:4]]))
        shapely.prepare(inner_poly)
        lines = SimappLines(
            center,
            line(0.5 * (rows[:, 2:4] + rows[:, 0:2])),
            line(0.5 * (rows[:, 4:6] + rows[:, 0:2])),
            line(rows[:, 2:4]),
            line(rows[:, 4:6]),
            inner_poly,
        )
        _LINES[track] = lines
    return lines


def footprint_corners(x: float, y: float, heading: float, footprint: Footprint) -> FloatArray:
    """Returns the rectangle's floor corners (4, 2) [m].

    In ``TrackData.get_object_bounding_rect``'s order: front-left, front-right,
    rear-right, rear-left (local ``(+l, +w)``, ``(+l, -w)``, ``(-l, -w)``, ``(-l, +w)``
    with ``l``, ``w`` half the length and width).
    """
    hl, hw = 0.5 * footprint.length, 0.5 * footprint.width
    local = np.array([[hl, hw], [hl, -hw], [-hl, -hw], [-hl, hw]])
    c, s = math.cos(heading), math.sin(heading)
    return np.column_stack(
        (x + c * local[:, 0] - s * local[:, 1], y + s * local[:, 0] + c * local[:, 1])
    )


def collided_object(car_pose: Pose2D, objects: Sequence[SceneObject]) -> int | None:
    """Returns the index of the object the car crashed into, or None.

    ``TrackData.get_collided_object_name``: a crash is a corner of the racecar's
    rectangle (:data:`RACECAR_FOOTPRINT` at the car origin) strictly inside an
    object's rectangle; objects are tried in order and the first one hit is named.
    Only the car's corners are tested, so an object corner poking into the car's
    side is no crash (the box is wider than the car, so a straight hit always is),
    and a car running exactly in line into a bot car (the same width) has its
    corners on the bot car's sides, not inside: no crash until one is off by a hair.
    ``CrashResetRule`` turns a name into the ``crashed`` status.

    Args:
        car_pose: The car origin ``(x, y, yaw)``.
        objects: Obstacles, then bot cars (the simapp's order).
    """
    corners = footprint_corners(*car_pose, RACECAR_FOOTPRINT)
    for index, obj in enumerate(objects):
        # A rectangle contains a point iff the point, in the rectangle's frame, lies
        # strictly within both half extents (shapely's Polygon.contains is strict).
        dx, dy = corners[:, 0] - obj.x, corners[:, 1] - obj.y
        c, s = math.cos(obj.heading), math.sin(obj.heading)
        along, across = c * dx + s * dy, -s * dx + c * dy
        inside = (np.abs(along) < 0.5 * obj.footprint.length) & (
            np.abs(across) < 0.5 * obj.footprint.width
        )
        if bool(inside.any()):
            return index
    return None


def bot_car_progress(track: Track, pose: Pose2D) -> float:
    """Returns a bot car's progress [%] as ``BotCarsCtrl.update_agent`` reports it.

    100 times the normalised centre-line distance of the point
    :data:`MODEL_POINT_OFFSET` ahead of the bot car (its start ndist is 0).
    """
    import shapely

    x, y, yaw = pose
    front = shapely.Point(
        x + MODEL_POINT_OFFSET * math.cos(yaw), y + MODEL_POINT_OFFSET * math.sin(yaw)
    )
    return 100.0 * float(
        shapely.line_locate_point(simapp_lines(track).center, front, normalized=True)
    )


def bot_collision_outcome(
    car_progress: float, car_start_ndist: float, bot_progress: float
) -> Literal["car", "bot_car", "none"]:
    """Returns who pays for a collision between the racecar and a bot car.

    Both progresses are first measured from the start line:
    ``get_normalized_progress`` = ``(progress + 100 * start_ndist) % 100``.

    * ``"car"``: the car is behind (``RolloutCtrl._check_for_episode_termination``:
      car < bot): the crash counts (``crashed`` status, ``is_crashed`` stays true,
      a reset or the end of the episode).
    * ``"bot_car"``: the bot car ran into the car from behind
      (``BotCarsCtrl.judge_action``: car > bot): every bot car stops for
      ``PENALTY_SECONDS`` and the car carries on with ``is_crashed`` false.
    * ``"none"``: equal progress; neither rule fires.

    Args:
        car_progress: The car's ``progress`` param [%].
        car_start_ndist: The episode's start point as a fraction of the lap.
        bot_progress: :func:`bot_car_progress` of the bot car [%].
    """
    car = (car_progress + car_start_ndist * 100.0) % 100.0
    bot = bot_progress % 100.0  # a bot car's start ndist is 0.0
    if car < bot:
        return "car"
    if car > bot:
        return "bot_car"
    return "none"


class CameraFrustum:
    """The simapp's camera frustum(s), hard-coded as in ``cameras/frustum.py``.

    ``Frustum.__init__``: near 0.2 m, far 300 m, horizontal field of view 1.13 rad, a
    480/640 aspect, the lens pitched down 0.2618 rad; lens offsets from the car origin
    ``(0.14529379, 0, 0.13032555)`` m from simapp version 3 on, ``(0.2, 0, 0.164)``
    before, and for ``STEREO_CAMERAS`` two lenses at ``y = -0.03`` and ``+0.03``. A
    point is visible when it lies strictly inside any lens's six planes
    (``Frustum.test_visibility``). The car is taken flat on the floor with its origin
    at z = 0, where the simapp spawns it. These are not the rendering camera's
    settings.

    Args:
        stereo: The model's sensor is ``STEREO_CAMERAS``.
        simapp_version: The model metadata's ``version`` (3.0 and later: the v3 mount).

    Example:
        >>> frustum = CameraFrustum()
        >>> frustum.visible((0.0, 0.0, 0.0), [[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]]).tolist()
        [True, False]
    """

    NEAR = 0.2
    FAR = 300.0
    HORIZONTAL_FOV = 1.13
    VIEW_RATIO = 480.0 / 640.0
    PITCH = 0.2618

    def __init__(self, *, stereo: bool = False, simapp_version: float = 5.0) -> None:
        x, z = (0.14529379, 0.13032555) if simapp_version >= 3.0 else (0.2, 0.164)
        lateral = (-0.03, 0.03) if stereo else (0.0,)
        self.offsets: tuple[tuple[float, float, float], ...] = tuple((x, y, z) for y in lateral)
        # The frustum moves rigidly with the car (a flat floor: only x, y and yaw
        # change), so its planes are built once in the car's frame and the query
        # points are moved into that frame instead.
        lenses = self._planes((0.0, 0.0, 0.0))
        self._normals = [np.array([n for n, _ in planes]).T for planes in lenses]  # (3, 6)
        self._offsets = [np.array([d for _, d in planes]) for planes in lenses]  # (6,)

    def visible(self, car_pose: Pose2D, points: Any) -> NDArray[np.bool_]:
        """Returns which 3-D points (K, 3) [m] some lens sees, with the car at ``car_pose``."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        x, y, yaw = car_pose
        c, s = math.cos(yaw), math.sin(yaw)
        dx, dy = pts[:, 0] - x, pts[:, 1] - y
        local = np.column_stack((c * dx + s * dy, -s * dx + c * dy, pts[:, 2]))
        seen = np.zeros(len(pts), dtype=bool)
        for normals, offsets in zip(self._normals, self._offsets, strict=True):
            seen |= (local @ normals + offsets > 0.0).all(axis=1)
        return seen

    def _planes(self, car_pose: Pose2D) -> list[list[tuple[FloatArray, float]]]:
        """Each lens's six planes ``(normal, offset)``, inside where ``n.p + d > 0``.

        A port of ``Frustum.update`` and ``_calculate_frustum_planes`` (counter-
        clockwise winding) for a car flat on the floor: the lens sits at the car
        origin plus the yaw-rotated offset and looks along the car's yaw, pitched down.
        """
        x, y, yaw = car_pose
        cy, sy = math.cos(yaw), math.sin(yaw)
        cp, sp = math.cos(self.PITCH), math.sin(self.PITCH)
        # euler_to_quaternion(pitch, yaw) applied to GazeboWorld.forward, up and right.
        forward = np.array([cp * cy, cp * sy, -sp])
        up = np.array([sp * cy, sp * sy, cp])
        right = np.array([sy, -cy, 0.0])
        tan_half = math.tan(0.5 * self.HORIZONTAL_FOV)
        near_w = 2.0 * tan_half * self.NEAR
        near_h = near_w * self.VIEW_RATIO
        far_w = 2.0 * tan_half * self.FAR
        far_h = far_w * self.VIEW_RATIO
        lenses = []
        for ox, oy, oz in self.offsets:
            cam = np.array([x + cy * ox - sy * oy, y + sy * ox + cy * oy, _CAR_Z + oz])
            nc, fc = cam + forward * self.NEAR, cam + forward * self.FAR

            def corner(centre: FloatArray, w: float, h: float, u: int, r: int) -> FloatArray:
                return centre + up * (u * h * 0.5) + right * (r * w * 0.5)

            ntl, ntr = corner(nc, near_w, near_h, 1, -1), corner(nc, near_w, near_h, 1, 1)
            nbl, nbr = corner(nc, near_w, near_h, -1, -1), corner(nc, near_w, near_h, -1, 1)
            ftl, ftr = corner(fc, far_w, far_h, 1, -1), corner(fc, far_w, far_h, 1, 1)
            fbl, fbr = corner(fc, far_w, far_h, -1, -1), corner(fc, far_w, far_h, -1, 1)
            triples = (
                (nbl, ntl, nbr),  # near
                (fbr, ftr, fbl),  # far
                (fbl, ftl, nbl),  # left
                (nbr, ntr, fbr),  # right
                (ntr, ntl, ftr),  # top
                (nbr, fbr, nbl),  # bottom
            )
            planes = []
            for p0, p1, p2 in triples:
                normal = np.cross(p1 - p0, p2 - p0)
                normal = normal / np.linalg.norm(normal)
                planes.append((normal, -float(np.dot(normal, p0))))
            lenses.append(planes)
        return lenses


@functools.cache
def _default_frustum() -> CameraFrustum:
    return CameraFrustum()


def _object_points(obj: SceneObject) -> FloatArray:
    """The five points the camera test tries: the floor rectangle's corners, then the origin.

    ``get_objects_in_camera_frustums`` puts the rectangle at the pose's height.
    """
    corners = footprint_corners(obj.x, obj.y, obj.heading, obj.footprint)
    xy = np.vstack([corners, [[obj.x, obj.y]]])
    return np.column_stack((xy, np.full(5, obj.z)))


OBJECT_PARAM_DEFAULTS: dict[str, Any] = {
    "closest_objects": [0, 0],
    "objects_location": [],
    "objects_left_of_center": [],
    "object_in_camera": False,
    "objects_speed": [],
    "objects_heading": [],
    "objects_distance_from_center": [],
    "objects_distance": [],
}
"""The object params with no objects (``RewardParam`` defaults;
``get_object_reward_params`` then returns nothing and they stay)."""


def object_params(
    track: Track,
    car_pose: Pose2D,
    objects: Sequence[SceneObject],
    *,
    bot_car_speed: float | None = None,
    frustum: CameraFrustum | None = None,
    model_point: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """Returns the object reward params, as ``TrackData.get_object_reward_params``.

    Args:
        track: The track in the driving direction (``reverse`` as driven).
        car_pose: The car origin ``(x, y, yaw)`` [m, m, rad].
        objects: Obstacles, then bot cars (the simapp's order), at the poses
            ``TrackData`` holds (for bot cars the step before's: see
            :class:`deepracer.envs.objects.BotCars`).
        bot_car_speed: ``BOT_CAR_SPEED`` when the world has bot cars
            (``NUMBER_OF_BOT_CARS > 0``), else None: then speeds and headings are 0.
        frustum: The camera frustum for ``object_in_camera`` (default: one lens, v3+).
        model_point: The model point; default :data:`MODEL_POINT_OFFSET` ahead of the
            car origin.

    Returns:
        The eight ``objects_*`` / ``closest_objects`` / ``object_in_camera`` keys;
        :data:`OBJECT_PARAM_DEFAULTS` (copied) when there are no objects.
    """
    if not objects:
        return {key: list(value) if isinstance(value, list) else value
                for key, value in OBJECT_PARAM_DEFAULTS.items()}  # fmt: skip
    import shapely

    x, y, yaw = car_pose
    if model_point is None:
        model_point = (
            x + MODEL_POINT_OFFSET * math.cos(yaw),
            y + MODEL_POINT_OFFSET * math.sin(yaw),
        )
    where = _where(track, tuple((o.x, o.y) for o in objects))
    center = simapp_lines(track).center
    model_pdist = float(shapely.line_locate_point(center, shapely.Point(model_point)))
    # Bracket the model point among the objects sorted by arc length (np.argsort's
    # default kind, as the simapp) with find_prev_next: bisect_right, wrapping around.
    nxt = bisect.bisect_right(where.ordered, model_pdist)
    prev = nxt - 1
    if prev == -1:
        prev = len(where.ordered) - 1
    if nxt == len(where.ordered):
        nxt = 0
    prev_index, next_index = where.order[prev], where.order[nxt]
    if bot_car_speed is not None:  # TrackData._is_bot_car_: NUMBER_OF_BOT_CARS > 0
        headings = [float(o.heading) for o in objects]
        speeds = [float(bot_car_speed)] * len(objects)
    else:
        headings = [0.0] * len(objects)
        speeds = [0.0] * len(objects)
    return {
        "closest_objects": [prev_index, next_index],
        "objects_location": [[float(o.x), float(o.y)] for o in objects],
        "objects_left_of_center": list(where.left_of_center),
        "object_in_camera": _next_object_in_camera(
            car_pose, objects, next_index, frustum or _default_frustum()
        ),
        "objects_speed": speeds,
        "objects_heading": headings,
        "objects_distance_from_center": list(where.distance_from_center),
        "objects_distance": list(where.distance),
    }


class _Where(NamedTuple):
    """What the params need of the objects' positions alone (cached: boxes stay put)."""

    distance: tuple[float, ...]
    distance_from_center: tuple[float, ...]
    left_of_center: tuple[bool, ...]
    order: tuple[int, ...]
    ordered: tuple[float, ...]


@functools.lru_cache(maxsize=256)
def _where(track: Track, locations: tuple[tuple[float, float], ...]) -> _Where:
    import shapely

    lines = simapp_lines(track)
    xy = np.array(locations, dtype=np.float64)
    points = shapely.points(xy)
    # center_line.project and .distance: the nearest centre-line point's arc length
    # and how far it is.
    pdists = shapely.line_locate_point(lines.center, points)
    order = np.argsort(pdists)
    # _inner_poly_.contains(p) ^ (not is_ccw)
    inner_half = shapely.contains_xy(lines.inner_poly, xy[:, 0], xy[:, 1])
    return _Where(
        distance=tuple(pdists.tolist()),
        distance_from_center=tuple(shapely.distance(lines.center, points).tolist()),
        left_of_center=tuple(bool(v) != (not track.is_ccw) for v in inner_half),
        order=tuple(int(i) for i in order),
        ordered=tuple(float(pdists[i]) for i in order),
    )


def objects_in_camera(
    car_pose: Pose2D, objects: Sequence[SceneObject], frustum: CameraFrustum | None = None
) -> list[bool]:
    """Returns which objects the camera sees, by the objects' own indices.

    ``TrackData.get_objects_in_camera_frustums``: an object is seen when any of its
    floor rectangle's corners (at its pose's height) or its origin is in a frustum.
    The ``object_in_camera`` param reads this list one place off (see
    :func:`object_params`); this is the list itself, for observations and drawing.
    """
    frustum = frustum or _default_frustum()
    return [bool(frustum.visible(car_pose, _object_points(o)).any()) for o in objects]


def _next_object_in_camera(
    car_pose: Pose2D, objects: Sequence[SceneObject], next_index: int, frustum: CameraFrustum
) -> bool:
    """``object_in_camera`` exactly as the simapp computes it, index slip included.

    ``get_object_reward_params`` compares ``next_object_index`` (an index into the
    objects *without* the racecar) with the indices ``get_objects_in_camera_frustums``
    returns, which enumerate ``object_poses`` *with* the racecar, registered first
    (``RolloutCtrl.__init__`` runs before ``ObstaclesCtrl`` and ``BotCarsCtrl`` in
    ``rollout_worker.py`` and ``evaluation_worker.py``). So the entry tested is the
    racecar's own rectangle when the next object is object 0, else object
    ``next_index - 1``.
    """
    if next_index == 0:
        x, y, yaw = car_pose
        tested = SceneObject(x, y, yaw, "bot_car", RACECAR_FOOTPRINT, _CAR_Z)
    else:
        tested = objects[next_index - 1]
    return bool(frustum.visible(car_pose, _object_points(tested)).any())
