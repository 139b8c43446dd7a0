"""Obstacles and bot cars in the camera: placement, occlusion, parallax, faces, speed paths."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from deepracer import accel
from deepracer.envs.camera import CameraConfig
from deepracer.rendering import camera
from deepracer.rendering import objects as ob
from deepracer.rendering import scene as sc
from deepracer.rendering.camera import GroundRays, TrackTexture, ground_rays, render, track_texture
from deepracer.rendering.objects import ObjectBoxes, object_boxes
from deepracer.rewards.objects import (
    BOT_CAR_FOOTPRINT,
    BOT_CAR_Z,
    BOX_FOOTPRINT,
    OBSTACLE_Z,
    SceneObject,
)
from deepracer.tracks import get_track

CAR = (1.0, 0.0, 0.0)
"""The car origin on the straight's centre line, heading down the road (+x)."""
PART_TABLE = (np.arange(256) // sc.LEVELS).astype(np.uint8)
"""A code table that draws each ray's part index instead of its grey level (0-9)."""
FACE_LEVELS = (200, 210, 220, 230, 240, 250)
"""Grey levels that tell the faces apart (and from every part under PART_TABLE)."""


@pytest.fixture(scope="module")
def straight() -> TrackTexture:
    return track_texture(get_track("straight"))


def lens(
    pitch_deg: float = 15.0, lateral: float = 0.0, cfg: CameraConfig | None = None
) -> GroundRays:
    """One ray per pixel, so every pixel is exactly one ray's colour."""
    cfg = cfg or CameraConfig()
    return ground_rays(
        cfg,
        height=cfg.mount_height,
        pitch_rad=math.radians(pitch_deg),
        lateral_offset=lateral,
        supersample=1,
    )


def box(
    x: float,
    y: float,
    heading: float = 0.0,
    size: tuple[float, float, float] = (0.4, 0.3, 0.225),
    levels: tuple[int, ...] = FACE_LEVELS,
    bottom: float = 0.0,
) -> ObjectBoxes:
    """One box standing on the floor: (length along heading, width, top) [m]."""
    length, width, top = size
    c, s = math.cos(heading), math.sin(heading)
    return ObjectBoxes(
        np.array([[x, y, c, s, 0.5 * length, 0.5 * width, bottom, top]]),
        np.array([levels], dtype=np.int64),
    )


def both(*parts: ObjectBoxes) -> ObjectBoxes:
    return ObjectBoxes(np.vstack([p.boxes for p in parts]), np.vstack([p.levels for p in parts]))


def frame(
    tex: TrackTexture,
    rays: GroundRays,
    objects: ObjectBoxes | None = None,
    table: np.ndarray | None = PART_TABLE,
    pose: tuple[float, float, float] = CAR,
) -> np.ndarray:
    """A frame; by default of part indices (0-9), so the FACE_LEVELS stand out."""
    return render(tex, rays, pose[:2], pose[2], table, objects)


def test_a_box_ahead_covers_the_road_from_its_near_edge_up(straight: TrackTexture) -> None:
    rays = lens()
    obstacle = SceneObject(2.0, 0.0, 0.0, "obstacle", BOX_FOOTPRINT, OBSTACLE_Z)  # 1 m ahead
    boxes = object_boxes([obstacle])
    parts = frame(straight, rays)
    before, after = frame(straight, rays, table=None), frame(straight, rays, boxes, None)
    shown = after == boxes.levels[0, ob.BACK]  # the face towards the car
    changed = after != before
    assert changed.sum() > 1500
    assert np.array_equal(changed, shown)  # nothing but the box's back face is new
    assert (parts[changed] == sc.ROAD).sum() > 600  # ... over the road
    # Centred on the lens's axis: the image's middle columns.
    cols = np.nonzero(shown.any(axis=0))[0]
    assert abs(0.5 * (cols[0] + cols[-1]) - 79.5) <= 0.5
    # Its bottom edge is the last row whose floor point lies beyond the near face
    # (0.8 m ahead of the car origin); the near road below stays as it was.
    x_floor, _, hit = rays.floor_points()
    beyond = np.nonzero(hit[:, 80] & (x_floor[:, 80] >= 0.8))[0]
    rows = np.nonzero(shown[:, 80])[0]
    assert rows[-1] == beyond[-1]
    assert not changed[rows[-1] + 1 :].any()
    # The lens (0.126 m) is below the box's top (0.225 m): the box rises past the
    # horizon (row 26), and its top face is not seen (only the back face is new).
    assert rows[0] < 20


@pytest.mark.parametrize(
    ("x", "y"),
    [(0.0, 0.0), (-1.0, 0.3), (1.5, 1.5), (1.2, -1.0), (1.3, 0.0)],
    ids=["behind", "behind-left", "left", "right", "around-the-lens"],
)
def test_a_box_out_of_view_changes_nothing(straight: TrackTexture, x: float, y: float) -> None:
    # The lens is at x = 1.145: "around-the-lens" puts it inside a box, which it
    # sees through (as a renderer that culls back faces does).
    rays = lens()
    before = frame(straight, rays)
    after = frame(straight, rays, box(x, y))
    assert np.array_equal(after, before)


def test_a_box_hides_the_dashes_behind_it(straight: TrackTexture) -> None:
    rays = lens()
    parts = frame(straight, rays)
    after = frame(straight, rays, box(1.9, 0.0, size=(0.2, 0.2, 0.3)))
    dashes = parts == sc.CENTER_LINE
    hidden = dashes & (after >= FACE_LEVELS[0])
    assert hidden.sum() > 20
    assert np.all(after[hidden] == FACE_LEVELS[ob.BACK])
    # Dashes in front of the box still show.
    assert (dashes & (after == sc.CENTER_LINE)).sum() > 20


def test_a_nearer_box_hides_a_farther_one(straight: TrackTexture) -> None:
    rays = lens()
    near = box(1.8, 0.0, size=(0.2, 0.2, 0.1), levels=(100,) * 6)
    far = box(2.6, 0.0, size=(0.4, 0.6, 0.5), levels=(150,) * 6)
    for objects in (both(near, far), both(far, near)):  # in either order
        img = frame(straight, rays, objects)
        alone = frame(straight, rays, far)
        near_px = frame(straight, rays, near) == 100
        assert near_px.sum() > 100
        assert np.all(img[near_px] == 100)  # the near box wins where both are
        assert np.sum(alone[near_px] == 150) > 100  # ... and the far one was there
        assert np.sum(img == 150) > 500  # the far one shows around it


def test_faces_are_the_ones_turned_to_the_lens(straight: TrackTexture) -> None:
    # Looking down on a low box from above shows its top; turned 45 degrees it
    # shows two sides.
    rays = lens()
    low = frame(straight, rays, box(1.9, 0.0, size=(0.3, 0.3, 0.05)))
    assert np.sum(low == FACE_LEVELS[ob.TOP]) > 100
    assert np.sum(low == FACE_LEVELS[ob.BACK]) > 20
    assert not np.isin(low, [FACE_LEVELS[f] for f in (ob.FRONT, ob.BOTTOM)]).any()
    turned = frame(straight, rays, box(2.0, 0.0, heading=math.pi / 4))
    left_of_box, right_of_box = turned[:, :80], turned[:, 80:]
    # Turned left, it shows its back on the right of the image, its left side on the left.
    assert np.sum(right_of_box == FACE_LEVELS[ob.BACK]) > 200
    assert np.sum(left_of_box == FACE_LEVELS[ob.LEFT]) > 200
    assert not np.isin(turned, [FACE_LEVELS[f] for f in (ob.FRONT, ob.RIGHT)]).any()


def test_stereo_lenses_see_a_box_at_different_columns(straight: TrackTexture) -> None:
    boxes = box(2.0, 0.0)
    centres = []
    for lateral in (0.03, -0.03):  # left lens, right lens
        shown = frame(straight, lens(lateral=lateral), boxes) >= FACE_LEVELS[0]
        cols = np.nonzero(shown.any(axis=0))[0]
        centres.append(0.5 * (cols[0] + cols[-1]))
    left, right = centres
    # 0.06 m of baseline at 0.655 m: about 11.5 px of disparity at fx = 126 px.
    fx = 80.0 / math.tan(0.5 * CameraConfig().horizontal_fov)
    assert right < left
    assert left - right == pytest.approx(fx * 0.06 / 0.655, abs=1.0)


@pytest.mark.parametrize("distance", [0.8, 1.5, 3.0])
def test_box_width_in_pixels_follows_the_pinhole(straight: TrackTexture, distance: float) -> None:
    # Level camera, odd width: the optical axis runs through pixel 80's centre.
    cfg = CameraConfig(width=161, height=121)
    rays = lens(pitch_deg=0.0, cfg=cfg)
    width = 0.3
    face = distance - 0.2  # the back face, from the lens
    lens_x = CAR[0] + cfg.mount_forward
    img = frame(straight, rays, box(lens_x + face + 0.2, 0.0, size=(0.4, width, 0.225)))
    fx = 0.5 * cfg.width / math.tan(0.5 * cfg.horizontal_fov)
    across = np.sum(img[60] == FACE_LEVELS[ob.BACK])
    assert across == pytest.approx(fx * width / face, abs=1.0)


def test_a_bot_car_is_darker_than_a_brown_box(straight: TrackTexture) -> None:
    # Facing -x, the car sees the sunlit faces.
    pose = (5.0, 0.0, math.pi)
    rays = lens()
    seen = {}
    for kind, footprint, z in (
        ("obstacle", BOX_FOOTPRINT, OBSTACLE_Z),
        ("bot_car", BOT_CAR_FOOTPRINT, BOT_CAR_Z),
    ):
        boxes = object_boxes([SceneObject(4.0, 0.0, math.pi, kind, footprint, z)])
        img = frame(straight, rays, boxes, None, pose)
        drawn = img != frame(straight, rays, table=None, pose=pose)
        assert drawn.sum() > 500
        seen[kind] = float(img[drawn].mean())
    assert seen["bot_car"] < seen["obstacle"] - 10


def test_face_levels_are_the_walls_lighting_on_the_models_colours() -> None:
    scene = sc.SceneConfig()
    obstacle = SceneObject(2.0, 1.0, 0.7, "obstacle", BOX_FOOTPRINT, OBSTACLE_Z)
    boxes = object_boxes([obstacle], scene=scene)
    c, s = math.cos(0.7), math.sin(0.7)
    turn = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    centre = np.array([2.0, 1.0, 0.1125])  # drawn from the floor to 0.225 m
    half = np.array([0.2, 0.15, 0.1125])
    local = [(0, 0, 1), (0, 0, -1), (1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0)]  # FACES
    brown = np.array([0.482, 0.38, 0.309]) * 255
    for face, n in enumerate(np.array(local, dtype=float)):
        normal, point = turn @ n, centre + turn @ (half * n)
        light = sum(lt.shade(tuple(point), tuple(normal)) for lt in sc.REINVENT_LIGHTS)
        # The ambient light on top, scaled so that a face looking up is lit as the floor.
        up = sum(lt.shade(tuple(point), (0.0, 0.0, 1.0)) for lt in sc.REINVENT_LIGHTS)
        light = (light + 0.5) * up / (up + 0.5)
        expected = round(float(sc._luma(np.clip(scene.exposure * light * brown, 0, 255))))
        assert boxes.levels[0, face] == expected, ob.FACES[face]
    assert boxes.levels[0, ob.TOP] > boxes.levels[0, ob.FRONT] > boxes.levels[0, ob.BACK]
    assert 0 < boxes.levels[0, ob.BOTTOM] < boxes.levels[0, ob.BACK]  # ambient light only
    dim = camera.lighting_table(brightness=0.5)
    assert dim is not None
    assert np.array_equal(object_boxes([obstacle], scene=scene, lighting=dim).levels,
                          dim[boxes.levels])  # fmt: skip


def test_shapes_follow_the_simapp_models() -> None:
    plain, deepracer_box, amazon = (
        object_boxes([SceneObject(0, 0, 0, "obstacle", BOX_FOOTPRINT, OBSTACLE_Z)], {"obstacle": t})
        for t in ("box_obstacle", "deepracer_box_obstacle", "amazon_box_obstacle")
    )
    # Centred on the pose height 0.1, drawn from the floor up.
    assert plain.boxes[0, 4:].tolist() == pytest.approx([0.2, 0.15, 0.0, 0.225])
    assert deepracer_box.boxes[0, 4:].tolist() == pytest.approx([0.18, 0.1325, 0.0, 0.22])
    assert amazon.boxes[0, 4:].tolist() == pytest.approx([0.2, 0.15, 0.0, 0.225])
    # The cardboard box is lighter than the brown one, the blue DeepRacer box darker.
    assert amazon.levels[0, ob.TOP] > plain.levels[0, ob.TOP] > deepracer_box.levels[0, ob.TOP]
    car = object_boxes([SceneObject(0, 0, 0, "bot_car", BOT_CAR_FOOTPRINT, BOT_CAR_Z)])
    assert len(car) == 6  # two body boxes and four wheels
    lo = car.boxes[:, :2] - car.boxes[:, 4:6]
    hi = car.boxes[:, :2] + car.boxes[:, 4:6]
    # The body's bounding box is about the collision footprint's (0.32 x 0.20 m).
    assert hi[:, 0].max() - lo[:, 0].min() == pytest.approx(BOT_CAR_FOOTPRINT.length, abs=0.01)
    assert hi[:, 1].max() - lo[:, 1].min() == pytest.approx(BOT_CAR_FOOTPRINT.width, abs=0.01)
    assert car.boxes[:, 6].min() == 0.0 and car.boxes[:, 7].max() == pytest.approx(0.2108)


def random_boxes(rng: np.random.Generator, poses: np.ndarray, n: int) -> ObjectBoxes:
    """Boxes around the poses: ahead, beside, behind, around the lens, tall and lifted."""
    out = []
    for _ in range(n):
        x, y, yaw = poses[rng.integers(len(poses))]
        ahead, left = rng.uniform(-1.0, 4.0), rng.uniform(-1.5, 1.5)
        heading = yaw if rng.random() < 0.3 else rng.uniform(-math.pi, math.pi)
        bottom = 0.0 if rng.random() < 0.7 else rng.uniform(0.0, 0.1)
        out.append(
            box(
                x + ahead * math.cos(yaw) - left * math.sin(yaw),
                y + ahead * math.sin(yaw) + left * math.cos(yaw),
                heading,
                (rng.uniform(0.05, 0.6), rng.uniform(0.05, 0.6), rng.uniform(0.05, 0.4)),
                tuple(int(v) for v in rng.integers(0, 256, 6)),
                bottom,
            )
        )
    return both(*out)


_box_spans = camera._box_spans


def every_ray(*args: Any) -> tuple[np.ndarray, np.ndarray]:
    """:func:`camera._box_spans`, with every box's block the whole frame."""
    local, spans = _box_spans(*args)
    vrow, ucol = args[3], args[4]
    spans[:] = (0, len(vrow), 0, len(ucol))
    return local, spans


@pytest.mark.parametrize(("lateral", "supersample"), [(0.0, 1), (0.03, 2), (-0.03, 2)])
def test_compiled_kernel_and_numpy_agree_with_objects(
    lateral: float, supersample: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without numba the kernel runs as plain Python: still compared, on small frames.
    track = get_track("reinvent_base")
    tex = track_texture(track)
    cfg = (
        CameraConfig(width=161, height=121) if accel.ENABLED else CameraConfig(width=25, height=19)
    )
    rng = np.random.default_rng([int(1000 * (lateral + 1)), supersample])
    poses = []
    for s in rng.uniform(0.0, track.center.length, 8):
        x, y, yaw = track.pose_at(float(s))
        poses.append((x, y, yaw + rng.normal(0.0, 0.2)))
    poses_arr = np.array(poses)
    objects = both(random_boxes(rng, poses_arr, 24), box(*poses_arr[0, :2], poses_arr[0, 2]))
    for pitch in (15.0, -5.0):
        rays = ground_rays(cfg, height=0.126, pitch_rad=math.radians(pitch),
                           lateral_offset=lateral, supersample=supersample)  # fmt: skip
        expected = camera._render_numpy(tex, rays, poses_arr, tex.table, objects)
        got = np.empty_like(expected)
        accel.camera_frames(
            tex.codes,
            (tex.x0, tex.y0, 1.0 / tex.resolution),
            tex.table,
            (rays.ahead, rays.drop, rays.left, rays.supersample, rays.max_distance),
            poses_arr,
            (rays.mount_forward, rays.lateral_offset, rays.camera_height),
            (np.asarray(tex.rectangle), tex.wall_height, sc.WALLS[0], sc.LEVELS,
             sc.code(sc.SKY), sc.BEYOND * sc.LEVELS),
            got,
            (objects.boxes, objects.levels, rays.pitch),
        )  # fmt: skip
        assert np.array_equal(got, expected), pitch
        plain = camera._render_numpy(tex, rays, poses_arr, tex.table)
        assert np.mean(expected != plain) > 0.05  # the boxes are in the frames
        # Culling only skips rays that miss: testing every ray gives the same frames.
        with monkeypatch.context() as patch:
            patch.setattr(camera, "_box_spans", every_ray)
            unculled = camera._render_numpy(tex, rays, poses_arr[:2], tex.table, objects)
        assert np.array_equal(unculled, expected[:2]), pitch


def test_render_batch_and_no_objects(straight: TrackTexture) -> None:
    rays = lens()
    poses = np.array([CAR, (1.2, 0.1, 0.1), (0.8, -0.1, -0.1)])
    boxes = box(2.0, 0.0)
    batch = camera.render_batch(straight, rays, poses, PART_TABLE, boxes)
    for pose, img in zip(poses, batch, strict=True):
        assert np.array_equal(img, frame(straight, rays, boxes, pose=tuple(pose)))
    empty = object_boxes([])
    assert len(empty) == 0
    assert np.array_equal(frame(straight, rays, empty), frame(straight, rays))
    with pytest.raises(ValueError, match="levels"):
        ObjectBoxes(np.zeros((2, 8)), np.zeros((1, 6)))
