"""The object reward params and crash rules against values worked out by hand.

The main track is a 4 m x 2 m rectangle (12 m of centre line, 0.6 m wide, driven
counter-clockwise from the middle of its bottom side), where arc lengths, distances
and sides can be read off a sketch:

    s = x - 2 on the bottom right, 2 + y up the right side, 4 + (4 - x) along the
    top, 8 + (2 - y) down the left side, 10 + x on the bottom left.

Five boxes lie on it, listed out of track order to exercise the sorting:

    index  name  (x, y)         lane   s [m]  left of centre
    0      C     (2.0, 2.15)    outer   6     no  (outside the centre ring)
    1      A     (3.0, 0.15)    inner   1     yes
    2      E     (1.0, -0.15)   outer  11     no
    3      B     (4.15, 1.0)    outer   3     no
    4      D     (0.15, 1.0)    inner   9     yes

By arc length they run A(1), B(3), C(0), D(4), E(2). ``object_in_camera`` is the
simapp's: it tests entry ``closest_objects[1]`` of a list that starts with the
racecar, i.e. object ``next - 1`` (the racecar itself when ``next`` is 0), so the
object it tests is: next A -> C, B -> E, C -> the car, D -> B, E -> A. Each expected
camera answer below was reasoned from the sketch and is cross-checked against a
textbook frustum test in the lens frame (:func:`_lens_sees`).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from deepracer.rewards.objects import (
    BOT_CAR_FOOTPRINT,
    BOX_FOOTPRINT,
    OBJECT_PARAM_DEFAULTS,
    CameraFrustum,
    SceneObject,
    bot_car_progress,
    bot_collision_outcome,
    collided_object,
    object_params,
    objects_in_camera,
)
from deepracer.rewards.params import PARAM_KEYS
from deepracer.tracks import Track, get_track

PI = math.pi


def _rectangle() -> Track:
    centre = [(2, 0), (4, 0), (4, 2), (0, 2), (0, 0), (2, 0)]
    inner = [(2, 0.3), (3.7, 0.3), (3.7, 1.7), (0.3, 1.7), (0.3, 0.3), (2, 0.3)]
    outer = [(2, -0.3), (4.3, -0.3), (4.3, 2.3), (-0.3, 2.3), (-0.3, -0.3), (2, -0.3)]
    return Track.from_array(np.hstack([centre, inner, outer]).astype(float), name="rectangle")


RECTANGLE = _rectangle()


def _box(x: float, y: float, heading: float) -> SceneObject:
    return SceneObject(x, y, heading, "obstacle", BOX_FOOTPRINT, 0.1)


C, A, E, B, D = (
    _box(2.0, 2.15, PI),
    _box(3.0, 0.15, 0.0),
    _box(1.0, -0.15, 0.0),
    _box(4.15, 1.0, PI / 2),
    _box(0.15, 1.0, -PI / 2),
)
BOXES = [C, A, E, B, D]

# The boxes' own params, the same at every car pose (read off the sketch).
LOCATIONS = [[2.0, 2.15], [3.0, 0.15], [1.0, -0.15], [4.15, 1.0], [0.15, 1.0]]
LEFT = [False, True, False, False, True]
DISTANCE = [6.0, 1.0, 11.0, 3.0, 9.0]
FROM_CENTER = [0.15] * 5


def _lens_sees(car: tuple[float, float, float], point: tuple[float, float, float]) -> bool:
    """The simapp's mono v3 frustum, written in the lens frame (not as six planes)."""
    x, y, yaw = car
    lens = np.array([x + 0.14529379 * math.cos(yaw), y + 0.14529379 * math.sin(yaw), 0.13032555])
    pitch = 0.2618
    forward = np.array(
        [math.cos(pitch) * math.cos(yaw), math.cos(pitch) * math.sin(yaw), -math.sin(pitch)]
    )
    right = np.array([math.sin(yaw), -math.cos(yaw), 0.0])
    up = np.array(
        [math.sin(pitch) * math.cos(yaw), math.sin(pitch) * math.sin(yaw), math.cos(pitch)]
    )
    d = np.asarray(point) - lens
    f, r, u = d @ forward, d @ right, d @ up
    half = math.tan(1.13 / 2)
    return bool(0.2 < f < 300.0 and abs(r) < f * half and abs(u) < f * half * 0.75)


def _box_seen(
    car: tuple[float, float, float], box: SceneObject, footprint: tuple[float, float]
) -> bool:
    """Any floor corner of the box's rectangle, or its centre, in view."""
    half_width, half_length = 0.5 * footprint[0], 0.5 * footprint[1]
    c, s = math.cos(box.heading), math.sin(box.heading)
    points = [(box.x, box.y)] + [
        (box.x + c * a - s * b, box.y + s * a + c * b)
        for a, b in ((half_length, half_width), (half_length, -half_width),
                     (-half_length, -half_width), (-half_length, half_width))
    ]  # fmt: skip
    return any(_lens_sees(car, (px, py, box.z)) for px, py in points)


# (car origin x, y, yaw), closest_objects, object_in_camera, why
RECTANGLE_POSES = [
    ((2.36, 0.0, 0.0), [2, 1], False, "s 0.5: E behind, A ahead; tests C, up-left behind"),
    ((2.1, 0.0, PI / 2), [2, 1], True, "facing across: tests C, 2.15 m dead ahead (A is not)"),
    ((2.5, 0.15, 0.0), [2, 1], False, "s 0.64: A 0.5 m ahead, but C is what is tested"),
    ((3.36, -0.15, 0.0), [1, 3], False, "s 1.5: tests E, 2.4 m behind"),
    ((3.5, 0.0, PI), [1, 3], True, "driving backwards: tests E, 2.5 m ahead"),
    ((3.6, 0.15, 0.0), [1, 3], False, "s 1.74: tests E behind"),
    ((3.9, -0.1, 2.0), [1, 3], False, "s 1.84 at the corner: E is 66 deg off the axis"),
    ((4.15, 0.5, PI / 2), [1, 3], False, "s 2.64: tests E, behind to the left"),
    ((4.0, 0.96, PI / 2), [3, 0], False, "s 3.1: next is C (index 0): the car itself"),
    ((4.0, 1.5, PI / 2), [3, 0], False, "s 3.64: the car itself"),
    ((3.0, 2.0, PI), [3, 0], False, "s 5.14: C 0.86 m ahead, yet the car is tested"),
    ((2.5, 2.15, PI), [3, 0], False, "s 5.64: the car itself"),
    ((1.5, 1.85, PI), [0, 4], False, "s 6.64: tests B, behind"),
    ((1.0, 2.0, PI), [0, 4], False, "s 7.14: tests B, behind"),
    ((1.0, 2.0, -0.3), [0, 4], True, "s 6.87 looking back: B 3.3 m ahead, 0.4 deg off"),
    ((0.0, 1.6, -PI / 2), [0, 4], False, "s 8.54: tests B, 82 deg to the left"),
    ((0.0, 0.5, -PI / 2), [4, 2], False, "s 9.64: tests A, 83 deg to the left"),
    ((-0.15, 0.3, -PI / 2), [4, 2], False, "s 9.84: tests A, 87 deg to the left"),
    ((0.3, -0.05, 0.05), [4, 2], True, "s 10.44: tests A, 2.7 m ahead"),
    ((0.5, 0.0, 0.0), [4, 2], True, "s 10.64: tests A, 2.5 m ahead"),
    ((1.36, 0.0, 0.0), [2, 1], False, "s 11.5, across the line: next is A; tests C"),
    ((1.86, 0.0, 0.0), [2, 1], False, "model point on the start line: next is A"),
]


@pytest.mark.parametrize(("car", "closest", "in_camera", "why"), RECTANGLE_POSES)
def test_every_object_param_at_placed_poses_on_the_rectangle(
    car: tuple[float, float, float], closest: list[int], in_camera: bool, why: str
) -> None:
    params = object_params(RECTANGLE, car, BOXES)
    assert params["closest_objects"] == closest, why
    assert params["object_in_camera"] is in_camera, why
    tested = None if closest[1] == 0 else BOXES[closest[1] - 1]
    if tested is not None:  # the reasoning agrees with a plain frustum test
        assert _box_seen(car, tested, (0.4, 0.5)) is in_camera, why
    assert np.array(params["objects_location"]) == pytest.approx(np.array(LOCATIONS))
    assert params["objects_left_of_center"] == LEFT
    assert params["objects_distance"] == pytest.approx(DISTANCE)
    assert params["objects_distance_from_center"] == pytest.approx(FROM_CENTER)
    assert params["objects_speed"] == [0.0] * 5  # no bot cars in this world
    assert params["objects_heading"] == [0.0] * 5
    assert set(params) == set(OBJECT_PARAM_DEFAULTS)


def test_the_camera_param_tests_the_object_before_the_next_one() -> None:
    # Facing across the road at s 0.1: the next object A is 90 deg to the right and
    # out of view, C is dead ahead. The simapp's index slip reports C.
    car = (2.1, 0.0, PI / 2)
    assert objects_in_camera(car, BOXES) == [True, False, False, False, False]
    assert object_params(RECTANGLE, car, BOXES)["object_in_camera"] is True
    # Straight behind A in its lane, A is in view but C (tested) is not.
    car = (2.5, 0.15, 0.0)
    assert objects_in_camera(car, BOXES)[1] is True
    assert object_params(RECTANGLE, car, BOXES)["object_in_camera"] is False


def test_a_model_point_level_with_an_object_counts_it_behind() -> None:
    # find_prev_next bisects to the right: an equal arc length is "behind".
    params = object_params(RECTANGLE, (4.0, 0.86, PI / 2), BOXES, model_point=(4.0, 1.0))
    assert params["closest_objects"] == [3, 0]  # B (s 3.0) behind, C ahead


REVERSED = RECTANGLE.reversed()
# Driven clockwise from (2, 0) heading -x: E s 1, D 3, C 6, B 9, A 11; the inner half
# is now on the right, so "left" flips.
REVERSED_POSES = [
    ((1.64, 0.0, PI), [1, 2], False, "s 0.5: A behind (over the line), E ahead; tests A"),
    (
        (3.0, 0.0, PI),
        [1, 2],
        False,
        "s 11.14, on A: next E over the line; A's end is inside the near plane",
    ),
    ((1.0, 2.15, 0.0), [4, 0], False, "s 5.14: D behind, C (index 0) ahead: the car itself"),
    ((4.0, 1.0, -PI / 2), [3, 1], False, "s 9.14: B behind, A ahead; tests C, behind"),
    ((2.7, 0.0, 0.0), [1, 2], True, "s 11.16 facing back: tests A, only a front corner in view"),
]


@pytest.mark.parametrize(("car", "closest", "in_camera", "why"), REVERSED_POSES)
def test_the_params_on_the_track_driven_the_other_way(
    car: tuple[float, float, float], closest: list[int], in_camera: bool, why: str
) -> None:
    params = object_params(REVERSED, car, BOXES)
    assert params["closest_objects"] == closest, why
    assert params["object_in_camera"] is in_camera, why
    assert params["objects_distance"] == pytest.approx([6.0, 11.0, 1.0, 9.0, 3.0])
    assert params["objects_left_of_center"] == [True, False, True, True, False]
    assert params["objects_distance_from_center"] == pytest.approx(FROM_CENTER)


STRAIGHT = get_track("straight")  # 6 m along +x, 0.61 m wide, inner border at +y
STRAIGHT_BOXES = [_box(1.0, 0.1525, 0.0), _box(3.0, -0.1525, 0.0)]
STRAIGHT_POSES = [
    ((0.36, 0.0, 0.0), [1, 0], False, "s 0.5: nothing behind, so the last; tests the car"),
    ((1.5, 0.0, 0.0), [0, 1], False, "s 1.64: tests box 0, behind"),
    ((1.86, 0.0, 0.0), [0, 1], False, "s 2.0: tests box 0, behind"),
    ((2.2, 0.0, PI), [0, 1], True, "s 2.06 facing back: box 0 1.2 m ahead"),
    ((3.5, 0.0, PI), [1, 0], False, "s 3.36, past both: next wraps to box 0 here too"),
    ((4.0, 0.0, PI), [1, 0], False, "s 3.86: the car itself"),
]


@pytest.mark.parametrize(("car", "closest", "in_camera", "why"), STRAIGHT_POSES)
def test_the_params_on_the_open_straight(
    car: tuple[float, float, float], closest: list[int], in_camera: bool, why: str
) -> None:
    params = object_params(STRAIGHT, car, STRAIGHT_BOXES)
    assert params["closest_objects"] == closest, why
    assert params["object_in_camera"] is in_camera, why
    assert params["objects_distance"] == pytest.approx([1.0, 3.0])
    assert params["objects_distance_from_center"] == pytest.approx([0.1525, 0.1525])
    assert params["objects_left_of_center"] == [True, False]


def test_only_the_road_s_inner_half_is_left_of_centre() -> None:
    # The simapp's test is "inside the polygon between the centre line and the inner
    # border": off the road on the inner side is not left, nor is the outer half.
    points = [
        (2.5, 0.2, True),  # inner half of the bottom side
        (2.5, 0.8, False),  # past the inner border: inside the infield
        (2.5, -0.2, False),  # outer half
        (2.5, -0.8, False),  # off the road outside
        (3.9, 1.0, True),  # inner half of the right side
        (0.2, 1.5, True),  # inner half of the left side
    ]
    boxes = [_box(x, y, 0.0) for x, y, _ in points]
    params = object_params(RECTANGLE, (2.36, 0.0, 0.0), boxes)
    assert params["objects_left_of_center"] == [left for *_, left in points]
    assert params["objects_distance_from_center"] == pytest.approx([0.2, 0.8, 0.2, 0.8, 0.1, 0.2])
    assert params["objects_distance"] == pytest.approx([0.5, 0.5, 0.5, 0.5, 3.0, 8.5])


def test_bot_cars_report_speed_and_heading_for_every_object() -> None:
    bots = [SceneObject(o.x, o.y, o.heading, "bot_car", BOT_CAR_FOOTPRINT, 0.0) for o in BOXES]
    params = object_params(RECTANGLE, (2.36, 0.0, 0.0), bots, bot_car_speed=0.2)
    assert params["objects_speed"] == [0.2] * 5
    assert params["objects_heading"] == pytest.approx([PI, 0.0, 0.0, PI / 2, -PI / 2])  # radians
    # With bot cars in the world, static obstacles get a heading and the speed too.
    mixed = object_params(RECTANGLE, (2.36, 0.0, 0.0), [A, bots[3]], bot_car_speed=0.5)
    assert mixed["objects_speed"] == [0.5, 0.5]
    assert mixed["objects_heading"] == pytest.approx([0.0, PI / 2])


def test_no_objects_leave_the_defaults_and_the_defaults_are_not_shared() -> None:
    params = object_params(RECTANGLE, (2.36, 0.0, 0.0), [])
    assert params == {
        "closest_objects": [0, 0],
        "objects_location": [],
        "objects_left_of_center": [],
        "object_in_camera": False,
        "objects_speed": [],
        "objects_heading": [],
        "objects_distance_from_center": [],
        "objects_distance": [],
    }
    params["closest_objects"].append(7)
    assert OBJECT_PARAM_DEFAULTS["closest_objects"] == [0, 0]
    assert set(params) <= set(PARAM_KEYS)


# -- the camera ---------------------------------------------------------------------------


def test_the_frustum_near_plane_hides_what_is_right_under_the_lens() -> None:
    car = (0.0, 0.0, 0.0)
    # 0.36 m ahead at box height: 0.215 m along the v3 lens's axis, past its 0.2 m
    # near plane; the older mount (0.2 m ahead, 0.164 m up) has it at 0.171 m.
    point = [[0.36, 0.0, 0.1]]
    assert CameraFrustum().visible(car, point).tolist() == [True]
    assert CameraFrustum(simapp_version=2.0).visible(car, point).tolist() == [False]
    # 0.3 m ahead: inside neither.
    assert CameraFrustum().visible(car, [[0.3, 0.0, 0.1]]).tolist() == [False]


def test_stereo_lenses_see_a_little_further_to_each_side() -> None:
    car = (0.0, 0.0, 0.0)
    pitch, half = 0.2618, math.tan(1.13 / 2)
    lens = np.array([0.14529379, 0.0, 0.13032555])
    forward = np.array([math.cos(pitch), 0.0, -math.sin(pitch)])
    right = np.array([0.0, -1.0, 0.0])
    # 1 m along the axis and 1 cm right of the mono lens's right edge; the right
    # stereo lens sits 3 cm further right, so the point is 2 cm inside its edge.
    point = lens + forward + right * (half + 0.01)
    assert CameraFrustum().visible(car, [point]).tolist() == [False]
    assert CameraFrustum(stereo=True).visible(car, [point]).tolist() == [True]


def test_objects_in_camera_by_their_own_index() -> None:
    car = (0.5, 0.0, 0.0)  # bottom left, facing +x: E and A ahead, B 15 deg left
    assert objects_in_camera(car, BOXES) == [False, True, True, True, False]
    for box, seen in zip(BOXES, objects_in_camera(car, BOXES), strict=True):
        assert _box_seen(car, box, (0.4, 0.5)) is seen


# -- crashes ------------------------------------------------------------------------------


def test_a_car_corner_inside_a_box_is_a_crash() -> None:
    # The car's rectangle: +-0.16176 m along, +-0.09805 m across its origin. A's box
    # spans x 2.75..3.25, y -0.05..0.35.
    assert collided_object((2.9, 0.15, 0.0), BOXES) == 1  # front corners at x 3.06
    assert collided_object((2.55, 0.15, 0.0), BOXES) is None  # front at x 2.71
    assert collided_object((3.0, -0.25, 0.0), BOXES) is None  # alongside, y up to -0.152
    assert collided_object((3.0, -0.12, 0.0), BOXES) == 1  # y up to -0.022: inside


def test_the_first_object_hit_in_the_simapps_order_is_named() -> None:
    overlapping = [_box(5.0, 5.0, 0.0), _box(0.1, 0.0, 0.0), _box(-0.1, 0.0, 0.0)]
    assert collided_object((0.0, 0.0, 0.0), overlapping) == 1


def test_an_object_corner_in_the_car_side_is_no_crash() -> None:
    # A box turned 45 deg, 0.38 m to the car's left: its lowest corner pokes 3.6 cm
    # into the car's side, but no corner of the car is inside the box, and only the
    # car's corners are tested.
    box = _box(0.0, 0.38, PI / 4)
    # Its corner at local (-0.25, -0.2), turned 45 deg: (-0.035, 0.38 - 0.318).
    c = math.cos(PI / 4)
    lowest = (c * (-0.25 + 0.2), 0.38 + c * (-0.25 - 0.2))
    assert abs(lowest[0]) < 0.16176 and abs(lowest[1]) < 0.09805  # inside the car
    assert collided_object((0.0, 0.0, 0.0), [box]) is None


def test_a_bot_car_uses_the_car_footprint() -> None:
    bot = SceneObject(1.0, 0.0, 0.0, "bot_car", BOT_CAR_FOOTPRINT, 0.0)
    # Nose to tail, 1 cm to the side: the car's front-left corner (x + 0.16176,
    # y + 0.09805) enters the bot car's rear (x from 0.83824, |y| < 0.09805).
    assert collided_object((0.7, -0.01, 0.0), [bot]) == 0
    assert collided_object((0.6, -0.01, 0.0), [bot]) is None
    # Exactly in line, the car's corners lie on the bot car's sides (the same width),
    # and the simapp's strict containment sees no crash.
    assert collided_object((0.7, 0.0, 0.0), [bot]) is None


def test_a_bot_cars_progress_is_its_front_point() -> None:
    # 0.14 m ahead of (2.86, -0.15) is (3.0, -0.15): s 1.0 of 12 m.
    assert bot_car_progress(RECTANGLE, (2.86, -0.15, 0.0)) == pytest.approx(100 / 12)


@pytest.mark.parametrize(
    ("car_progress", "start_ndist", "bot_progress", "outcome"),
    [
        (30.0, 0.0, 40.0, "car"),  # the car runs into the bot car ahead
        (30.0, 0.0, 20.0, "bot_car"),  # the bot car runs into the car from behind
        (30.0, 0.5, 85.0, "car"),  # the car started at half a lap: it is at 80
        (30.0, 0.5, 10.0, "bot_car"),
        (60.0, 0.5, 5.0, "bot_car"),  # (60 + 50) % 100 = 10 > 5
        (25.0, 0.0, 25.0, "none"),
    ],
)
def test_who_is_to_blame_for_a_bot_car_collision(
    car_progress: float, start_ndist: float, bot_progress: float, outcome: str
) -> None:
    assert bot_collision_outcome(car_progress, start_ndist, bot_progress) == outcome


def test_a_time_trials_params_hold_the_same_object_defaults() -> None:
    # build_params spells the defaults out (fresh lists on the hot path); they must be
    # OBJECT_PARAM_DEFAULTS, key by key.
    from deepracer.envs import RacingEnv

    _, info = RacingEnv({"world": "oval"}).reset(seed=0)
    params = info["params"]
    assert {key: params[key] for key in OBJECT_PARAM_DEFAULTS} == OBJECT_PARAM_DEFAULTS
    assert params["is_crashed"] is False
