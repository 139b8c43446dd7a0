"""The top-down view: track picture, coordinates, car, path, camera inset, env render()."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import deepracer
from deepracer.envs import RacingEnv
from deepracer.rendering.topdown import CAR_LENGTH, Palette, TopDownRenderer
from deepracer.tracks import Track, get_track

gym.register_envs(deepracer)

PAL = Palette()
OFFSET = 0.0817  # rear axle to the car's centre (the default rear_axle_offset)


@pytest.fixture(scope="module")
def track() -> Track:
    return get_track("oval")


@pytest.fixture(scope="module")
def renderer(track: Track) -> TopDownRenderer:
    return TopDownRenderer(track)


def pixel(image: np.ndarray, renderer: TopDownRenderer, x: float, y: float) -> tuple[int, ...]:
    col, row = np.floor(renderer.world_to_pixel([(x, y)])[0]).astype(int)
    return tuple(int(v) for v in image[row, col])


def rear_axle(x: float, y: float, yaw: float) -> tuple[float, float, float, float]:
    """The car_state whose footprint is centred on (x, y)."""
    return (x - OFFSET * math.cos(yaw), y - OFFSET * math.sin(yaw), yaw, 0.0)


def straight_pose(track: Track) -> tuple[float, float, float]:
    """A pose on the oval's first straight, clear of the start line."""
    x, y, yaw = track.pose_at(0.15 * track.length)
    return x, y, yaw


# -- the static track -----------------------------------------------------------------


def test_frame_shape_and_dtype(renderer: TopDownRenderer, track: Track) -> None:
    image = renderer.frame((0.0, 0.0, 0.0, 0.0), [])
    assert image.shape == (480, 640, 3) and image.dtype == np.uint8
    small = TopDownRenderer(track, width=200, height=100).frame((0.0, 0.0, 0.0), np.empty((0, 2)))
    assert small.shape == (100, 200, 3)


def test_world_pixel_round_trip(renderer: TopDownRenderer) -> None:
    points = np.array([[0.0, 0.0], [1.5, -0.7], [-3.0, 1.2]])
    assert np.allclose(renderer.pixel_to_world(renderer.world_to_pixel(points)), points)
    # y points up the image, x to the right.
    (c0, r0), (c1, r1) = renderer.world_to_pixel([(0.0, 0.0), (1.0, 1.0)])
    assert c1 - c0 == pytest.approx(renderer.scale) and r0 - r1 == pytest.approx(renderer.scale)


def test_track_fits_the_frame_with_the_margin(renderer: TopDownRenderer, track: Track) -> None:
    rows = track.waypoints_array
    px = renderer.world_to_pixel(np.vstack([rows[:, 2:4], rows[:, 4:6]]))
    gap = 0.3 * renderer.scale
    assert px[:, 0].min() >= gap - 1 and px[:, 0].max() <= 640 - gap + 1
    assert px[:, 1].min() >= 0 and px[:, 1].max() <= 480


def test_road_is_grey_on_the_track_and_floor_elsewhere(
    renderer: TopDownRenderer, track: Track
) -> None:
    image = renderer.background
    rows = track.waypoints_array
    for i in (20, 60, 100, 140):  # clear of the start line at row 0
        centre, inner, outer = rows[i, 0:2], rows[i, 2:4], rows[i, 4:6]
        assert pixel(image, renderer, *(0.5 * (centre + inner))) == PAL.road
        assert pixel(image, renderer, *(0.5 * (centre + outer))) == PAL.road
        assert pixel(image, renderer, *(outer + 0.5 * (outer - centre))) == PAL.floor
        assert pixel(image, renderer, *(inner + 0.5 * (inner - centre))) == PAL.floor
        assert pixel(image, renderer, *inner) == PAL.border
        assert pixel(image, renderer, *outer) == PAL.border
    assert pixel(image, renderer, 0.0, 0.0) == PAL.floor  # the infield
    assert tuple(image[0, 0]) == PAL.floor and tuple(image[-1, -1]) == PAL.floor


def test_road_pixels_agree_with_on_road(renderer: TopDownRenderer, track: Track) -> None:
    image = renderer.background.reshape(-1, 3)
    road = np.all(image == PAL.road, axis=1)
    floor = np.all(image == PAL.floor, axis=1)
    assert road.sum() > 10_000 and floor.sum() > 10_000
    # The exact (slow) test on a sample of the pixel centres.
    sample = np.random.default_rng(0).choice(len(image), 20_000, replace=False)
    rows, cols = np.divmod(sample, 640)
    on = track.on_road(renderer.pixel_to_world(np.stack([cols + 0.5, rows + 0.5], axis=1)))
    assert on[road[sample]].all() and not on[floor[sample]].any()


def test_background_has_borders_centre_line_and_start_line(renderer: TopDownRenderer) -> None:
    for colour in (PAL.border, PAL.center, PAL.start):
        assert np.all(renderer.background == colour, axis=2).sum() > 100
    with pytest.raises(ValueError):
        renderer.background[0, 0] = 0  # read-only: frames copy it


# -- per frame ------------------------------------------------------------------------


def test_car_appears_at_its_pose_and_turns_with_yaw(
    renderer: TopDownRenderer, track: Track
) -> None:
    x, y, _ = straight_pose(track)
    ahead, side = 0.4 * CAR_LENGTH, 0.15
    car = {PAL.car, PAL.car_front}
    east = renderer.frame(rear_axle(x, y, 0.0), [])
    assert pixel(east, renderer, x, y) in car
    assert pixel(east, renderer, x + ahead, y) == PAL.car_front  # the front shows the heading
    assert pixel(east, renderer, x - ahead, y) == PAL.car
    assert pixel(east, renderer, x, y + side) not in car
    north = renderer.frame(rear_axle(x, y, math.pi / 2), [])
    assert pixel(north, renderer, x, y + ahead) == PAL.car_front
    assert pixel(north, renderer, x, y - ahead) == PAL.car
    assert pixel(north, renderer, x + ahead, y) not in car
    assert pixel(renderer.frame(rear_axle(x, y, math.pi), []), renderer, x - ahead, y) == (
        PAL.car_front
    )
    far_away = renderer.frame(rear_axle(x + 2.0, y, 0.0), [])
    assert pixel(far_away, renderer, x, y) not in car


def test_car_off_the_frame_is_skipped(renderer: TopDownRenderer) -> None:
    image = renderer.frame((1000.0, 1000.0, 0.3), [])
    assert np.array_equal(image, renderer.background)


def test_trajectory_is_drawn(renderer: TopDownRenderer, track: Track) -> None:
    x, y, yaw = straight_pose(track)
    path = [(x - 1.0 * math.cos(yaw), y - 1.0 * math.sin(yaw)), (x, y)]
    mid = (x - 0.5 * math.cos(yaw), y - 0.5 * math.sin(yaw))
    far = rear_axle(-2.0, 0.0, 0.0)  # the car elsewhere, on the infield
    assert pixel(renderer.frame(far, path), renderer, *mid) == PAL.trajectory
    assert pixel(renderer.frame(far, []), renderer, *mid) != PAL.trajectory


def test_incremental_path_matches_a_fresh_renderer(track: Track) -> None:
    s = np.linspace(0.0, 0.6 * track.length, 80)
    x, y, yaw = track.pose_at_batch(s)
    path = np.stack([x, y], axis=1)
    growing = TopDownRenderer(track, width=320, height=240)
    for i in (1, 2, 10, 11, 40, 80):
        frame = growing.frame((x[i - 1], y[i - 1], yaw[i - 1]), path[:i])
        fresh = TopDownRenderer(track, width=320, height=240)
        assert np.array_equal(frame, fresh.frame((x[i - 1], y[i - 1], yaw[i - 1]), path[:i]))
    # A new episode's shorter path wipes the old one.
    restart = growing.frame((x[0], y[0], yaw[0]), path[:1])
    assert not np.all(restart == PAL.trajectory, axis=2).any()


def test_frames_are_independent_copies(renderer: TopDownRenderer) -> None:
    first = renderer.frame((0.0, 0.0, 0.0), [])
    first[:] = 0
    assert renderer.frame((0.0, 0.0, 0.0), []).any()


def test_camera_inset(renderer: TopDownRenderer, track: Track) -> None:
    state = rear_axle(*straight_pose(track))
    grey = np.full((120, 160), 200, dtype=np.uint8)
    image = renderer.frame(state, [], camera=grey)
    inset = np.all(image == 200, axis=2)
    assert inset.sum() == pytest.approx(192 * 144, rel=0.05)  # 0.3 of the width, same aspect
    rows, cols = np.nonzero(inset)
    assert {rows.min(), cols.min(), rows.max(), cols.max()} & {6, 479 - 6, 639 - 6}  # a corner
    stacked = np.zeros((120, 160, 4), dtype=np.uint8)
    stacked[:, :, -1] = 200  # the newest frame of a stack is shown
    assert np.array_equal(renderer.frame(state, [], camera=stacked), image)
    rgb = np.zeros((60, 80, 3), dtype=np.uint8)
    rgb[:] = (10, 200, 30)
    assert np.all(renderer.frame(state, [], camera=rgb) == (10, 200, 30), axis=2).sum() > 20_000
    with pytest.raises(ValueError, match="uint8"):
        renderer.frame(state, [], camera=np.zeros((120, 160), dtype=np.float32))


# -- RacingEnv.render ---------------------------------------------------------------------


def test_env_renders_rgb_frames() -> None:
    env = RacingEnv(
        {"world": "oval", "start": {"round_robin_advance": 0.0}}, render_mode="rgb_array"
    )
    env.reset(seed=0)
    first = env.render()
    assert first is not None and first.shape == (480, 640, 3) and first.dtype == np.uint8
    for _ in range(30):
        env.step(4)  # straight ahead
    frame = env.render()
    assert frame is not None
    path = np.all(frame == PAL.trajectory, axis=2).sum()
    assert path > 50 and np.all(first == PAL.trajectory, axis=2).sum() < path
    env.reset()
    again = env.render()
    assert again is not None and np.all(again == PAL.trajectory, axis=2).sum() < 30


def test_env_render_through_gym_make() -> None:
    env = gym.make("DeepRacer/TimeTrial-v0", render_mode="rgb_array")
    env.reset(seed=1)
    env.step(env.action_space.sample())
    frame = env.render()
    assert isinstance(frame, np.ndarray) and frame.shape == (480, 640, 3)
    env.close()


def test_env_without_render_mode_renders_nothing() -> None:
    env = RacingEnv({"world": "oval"})
    env.reset(seed=0)
    assert env.render_mode is None and env.render() is None
    assert "rgb_array" in RacingEnv.metadata["render_modes"]


def test_env_rejects_other_render_modes() -> None:
    with pytest.raises(ValueError, match="rgb_array"):
        RacingEnv({"world": "oval"}, render_mode="human")


def test_objects_are_drawn_where_they_are(renderer: TopDownRenderer, track: Track) -> None:
    from deepracer.rewards.objects import BOT_CAR_FOOTPRINT, BOX_FOOTPRINT, SceneObject

    x, y, heading = track.pose_at(2.0)
    bx, by, _ = track.pose_at(4.0)
    box = SceneObject(x, y, heading, "obstacle", BOX_FOOTPRINT, 0.1)
    bot = SceneObject(bx, by, heading, "bot_car", BOT_CAR_FOOTPRINT, 0.0)
    far = (100.0, 100.0, 0.0, 0.0)  # the car off the frame
    image = renderer.frame(far, [], objects=[box, bot])
    plain = renderer.frame(far, [])
    palette = Palette()
    for obj, color in ((box, palette.obstacle), (bot, palette.bot_car)):
        ((c, r),) = np.floor(renderer.world_to_pixel([(obj.x, obj.y)])).astype(int)
        assert tuple(image[r, c]) == color
        assert tuple(plain[r, c]) != color
    # The box is drawn as the 0.5 x 0.4 m rectangle the crash rules test.
    brown = np.all(image == palette.obstacle, axis=2).sum()
    assert brown == pytest.approx(0.5 * 0.4 * renderer.scale**2, rel=0.35)


def test_an_object_race_renders_its_objects() -> None:
    env = RacingEnv({"world": "reinvent_object_avoidance"}, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame is not None
    assert np.all(frame == Palette().obstacle, axis=2).sum() > 6 * 10
