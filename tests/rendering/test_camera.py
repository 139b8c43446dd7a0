"""The camera renderer: ray geometry, the track texture, frames, lighting and noise."""

from __future__ import annotations

import math

import numpy as np
import pytest

from deepracer.envs.camera import CameraConfig
from deepracer.envs.world import MATERIALS
from deepracer.rendering.camera import (
    BACKGROUND_LEVEL,
    CENTER_LINE_LEVEL,
    FLOOR_MATERIALS,
    LINE_LEVEL,
    ROAD_LEVEL,
    TrackTexture,
    apply_lighting,
    ground_rays,
    lighting_table,
    postprocess,
    render,
    render_batch,
    track_texture,
)
from deepracer.tracks import Track, get_track
from deepracer.tracks.generator import generate_track

# An odd-sized image has a pixel whose centre is exactly on the optical axis.
ODD = CameraConfig(width=161, height=121, supersample=1)


def pixel(rays_x: np.ndarray, first_row: int, width: int, row: int, col: int) -> float:
    return float(rays_x[0, (row - first_row) * width + col])


@pytest.mark.parametrize("pitch_deg", [10.0, 15.0, 25.0])
@pytest.mark.parametrize("height", [0.1, 0.126])
def test_centre_pixel_hits_the_floor_height_over_tan_pitch_ahead(
    pitch_deg: float, height: float
) -> None:
    pitch = math.radians(pitch_deg)
    rays = ground_rays(ODD, height=height, pitch_rad=pitch, lateral_offset=0.02, supersample=1)
    row, col = ODD.height // 2, ODD.width // 2
    x = pixel(rays.x, rays.first_row, ODD.width, row, col)
    y = pixel(rays.y, rays.first_row, ODD.width, row, col)
    assert x - ODD.mount_forward == pytest.approx(height / math.tan(pitch), rel=1e-5)
    assert y == pytest.approx(0.02, abs=1e-6)


def test_rays_above_the_horizon_and_beyond_the_view_distance_are_sky() -> None:
    cfg = CameraConfig(supersample=1)
    pitch = math.radians(15.0)
    rays = ground_rays(cfg, height=0.126, pitch_rad=pitch, supersample=1, max_distance=8.0)
    tan_h = math.tan(0.5 * cfg.horizontal_fov)
    fy = 0.5 * cfg.height / (tan_h * cfg.sensor_aspect)
    horizon = 0.5 * cfg.height - math.tan(pitch) * fy  # image row of the horizon
    assert 20 < horizon < 40  # the horizon sits in the upper third
    assert rays.first_row >= horizon
    x = rays.x.reshape(rays.height - rays.first_row, rays.width)
    y = rays.y.reshape(x.shape)
    hit = rays.hit.reshape(x.shape)
    assert hit[-1].all()  # the bottom row sees floor everywhere
    dist = np.hypot(x - cfg.mount_forward, y)
    assert (dist[hit] <= 8.0 + 1e-5).all()
    assert not hit[0].all()  # the first stored row is cut by the view distance
    # Left of the image centre is left of the car, and lower rows are nearer.
    assert (y[hit.all(axis=1)][:, : cfg.width // 2] > 0).all()
    assert np.all(np.diff(x[hit.all(axis=1)][:, 80]) < 0)


def test_supersampled_rays_stack_sub_samples() -> None:
    cfg = CameraConfig(width=84, height=84)
    rays = ground_rays(cfg, height=0.126, pitch_rad=0.26, supersample=3)
    assert rays.samples == 9
    assert rays.x.shape == (9, (84 - rays.first_row) * 84)
    assert rays.x.dtype == np.float32
    with pytest.raises(ValueError, match="height"):
        ground_rays(cfg, height=0.0, pitch_rad=0.26)


def test_upward_camera_sees_only_background() -> None:
    tex = track_texture(get_track("oval"))
    rays = ground_rays(CameraConfig(), height=0.126, pitch_rad=-1.0)
    assert rays.first_row == rays.height
    img = render(tex, rays, (0.0, -1.5), 0.0)
    assert (img == BACKGROUND_LEVEL).all()


# -- texture --------------------------------------------------------------------------


def test_texture_levels_at_known_points_of_the_straight() -> None:
    # The straight: centre line y = 0 from x = 0 to 6 m, 0.61 m wide; dashes of
    # 0.12 m every 0.24 m from x = 0.
    tex = TrackTexture.build(get_track("straight"))
    points = {
        (2.94, 0.0): CENTER_LINE_LEVEL,  # mid-dash
        (3.06, 0.0): ROAD_LEVEL,  # mid-gap
        (3.0, 0.15): ROAD_LEVEL,
        (3.0, -0.2): ROAD_LEVEL,
        (3.0, 0.305): LINE_LEVEL,  # on the left border
        (3.0, -0.305): LINE_LEVEL,
        (6.0, 0.1): LINE_LEVEL,  # the end line of the open track
        (3.0, 0.9): 100,  # the base floor
        (7.0, 0.0): 100,  # past the end
        (50.0, 0.0): BACKGROUND_LEVEL,  # outside the texture
    }
    got = tex.lookup(list(points))
    assert got.tolist() == list(points.values())
    assert (tex.pixels[[0, -1], :] == BACKGROUND_LEVEL).all()
    assert (tex.pixels[:, [0, -1]] == BACKGROUND_LEVEL).all()


def test_texture_road_matches_the_track_road() -> None:
    track = get_track("kidney")
    tex = track_texture(track)
    rng = np.random.default_rng(0)
    lo = track.waypoints_array.reshape(-1, 2).min(axis=0)
    hi = track.waypoints_array.reshape(-1, 2).max(axis=0)
    pts = rng.uniform(lo - 0.5, hi + 0.5, (4000, 2))
    far = np.minimum(track.inner.distance(pts), track.outer.distance(pts)) > 0.04
    far &= track.center.distance(pts) > 0.03  # away from the dashes too
    pts = pts[far]
    on = track.on_road(pts)
    levels = tex.lookup(pts)
    assert (levels[on] == ROAD_LEVEL).all()
    assert (levels[~on] == 100).all()
    assert on.sum() > 300 and (~on).sum() > 300


def test_textures_are_cached_per_geometry_and_material() -> None:
    track = get_track("oval")
    base = track_texture(track)
    assert track_texture(track.reversed()) is base
    wood = track_texture(track, "wood")
    assert wood is not base
    assert wood.shape == base.shape
    assert not wood.pixels.flags.writeable


def test_floor_materials_are_deterministic_and_distinct() -> None:
    track = get_track("straight")
    floor = (slice(5, 40), slice(5, 400))  # below the road, inside the margin
    stats = {}
    for material in FLOOR_MATERIALS:
        a = TrackTexture.build(track, material)
        b = TrackTexture.build(track, material)
        assert np.array_equal(a.pixels, b.pixels)
        patch = a.pixels[floor].astype(float)
        stats[material] = (patch.mean(), patch.std())
    assert stats["base"][1] == 0.0
    assert stats["concrete"][0] > stats["base"][0] > stats["asphalt"][0] > ROAD_LEVEL
    assert min(stats[m][1] for m in ("carpet", "concrete", "wood", "asphalt")) > 3.0
    with pytest.raises(ValueError, match="material"):
        TrackTexture.build(track, "marble")


def test_every_world_material_has_a_floor() -> None:
    assert set(FLOOR_MATERIALS) == set(MATERIALS)


def test_a_long_track_texture_stays_small() -> None:
    # Its build time is measured in benchmarks/rendering.py.
    track = Track.from_array(generate_track(3, length=60.0), name="long")
    tex = TrackTexture.build(track, "wood")
    assert tex.nbytes < 8e6


# -- rendering ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kidney_texture() -> TrackTexture:
    return track_texture(get_track("kidney"), "carpet")


@pytest.fixture(scope="module")
def rays() -> object:
    cfg = CameraConfig()
    return ground_rays(cfg, height=cfg.mount_height, pitch_rad=math.radians(cfg.pitch_deg))


def poses_on(track: Track, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = []
    for nd in rng.uniform(0, 1, n):
        x, y, yaw = track.start_pose(float(nd))
        out.append((x + rng.normal(0, 0.1), y + rng.normal(0, 0.1), yaw + rng.normal(0, 0.3)))
    return np.array(out)


def mismatch(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(a != b))


def test_render_is_invariant_under_a_translation_of_the_world(
    kidney_texture: TrackTexture, rays: object
) -> None:
    tex = kidney_texture
    moved = TrackTexture(
        pixels=tex.pixels, x0=tex.x0 + 3.25, y0=tex.y0 - 1.5, resolution=tex.resolution
    )
    for x, y, yaw in poses_on(get_track("kidney"), 5):
        a = render(tex, rays, (x, y), yaw)  # type: ignore[arg-type]
        b = render(moved, rays, (x + 3.25, y - 1.5), yaw)  # type: ignore[arg-type]
        assert mismatch(a, b) < 0.003  # only texel-boundary rounding may differ
        assert np.abs(a.astype(int) - b).mean() < 0.2


def test_render_is_invariant_under_a_rotation_of_the_world(
    kidney_texture: TrackTexture, rays: object
) -> None:
    # Rotating the world by +90 degrees maps (x, y) to (-y, x): the texture's rows
    # reversed and transposed, its corner moved accordingly.
    tex = kidney_texture
    rows = tex.shape[0]
    turned = TrackTexture(
        pixels=np.ascontiguousarray(tex.pixels[::-1].T),
        x0=-tex.y0 - rows * tex.resolution,
        y0=tex.x0,
        resolution=tex.resolution,
    )
    for x, y, yaw in poses_on(get_track("kidney"), 5, seed=1):
        a = render(tex, rays, (x, y), yaw)  # type: ignore[arg-type]
        b = render(turned, rays, (-y, x), yaw + math.pi / 2)  # type: ignore[arg-type]
        assert mismatch(a, b) < 0.003
        assert np.abs(a.astype(int) - b).mean() < 0.2


@pytest.mark.parametrize(("size", "supersample"), [((160, 120), 2), ((84, 84), 1), ((84, 84), 2)])
def test_render_batch_equals_per_pose_render(
    kidney_texture: TrackTexture, size: tuple[int, int], supersample: int
) -> None:
    cfg = CameraConfig(width=size[0], height=size[1])
    rays = ground_rays(cfg, height=0.126, pitch_rad=0.26, supersample=supersample)
    poses = poses_on(get_track("kidney"), 9)
    batch = render_batch(kidney_texture, rays, poses)
    assert batch.shape == (9, size[1], size[0]) and batch.dtype == np.uint8
    for pose, frame in zip(poses, batch, strict=True):
        assert np.array_equal(frame, render(kidney_texture, rays, pose[:2], pose[2]))


def test_supersampling_averages_the_sub_samples(kidney_texture: TrackTexture) -> None:
    cfg = CameraConfig(width=40, height=30)
    fine = ground_rays(
        CameraConfig(width=80, height=60), height=0.126, pitch_rad=0.26, supersample=1
    )
    coarse = ground_rays(cfg, height=0.126, pitch_rad=0.26, supersample=2)
    pose = poses_on(get_track("kidney"), 1)[0]
    big = render(kidney_texture, fine, pose[:2], pose[2]).astype(np.uint16)
    small = render(kidney_texture, coarse, pose[:2], pose[2])
    expected = (big[0::2, 0::2] + big[0::2, 1::2] + big[1::2, 0::2] + big[1::2, 1::2] + 2) // 4
    assert mismatch(small, expected.astype(np.uint8)) < 0.01


# -- lighting and noise -----------------------------------------------------------------


def test_lighting_table() -> None:
    assert lighting_table() is None
    levels = np.arange(256, dtype=np.uint8)
    dim = lighting_table(brightness=0.5)
    assert dim is not None
    assert dim[200] == 100 and dim[0] == 0
    flat = lighting_table(contrast=0.0)
    assert flat is not None and (flat == 128).all()
    dark = lighting_table(gamma=2.0)
    assert dark is not None
    assert dark[255] == 255 and dark[0] == 0 and dark[128] == round(255 * (128 / 255) ** 2)
    assert np.array_equal(apply_lighting(levels, brightness=0.5), dim[levels])


def test_pixel_noise_comes_only_from_the_generator() -> None:
    img = np.full((120, 160), 100, dtype=np.uint8)
    a = postprocess(img, noise_std=5.0, rng=np.random.default_rng(1))
    b = postprocess(img, noise_std=5.0, rng=np.random.default_rng(1))
    c = postprocess(img, noise_std=5.0, rng=np.random.default_rng(2))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert abs(a.astype(float).mean() - 100.0) < 0.2
    assert a.astype(float).std() == pytest.approx(5.0, rel=0.05)
    clipped = postprocess(
        np.full(1000, 254, np.uint8), noise_std=50.0, rng=np.random.default_rng(0)
    )
    assert clipped.max() == 255
    untouched = postprocess(img)
    assert np.array_equal(untouched, img) and untouched is not img
    with pytest.raises(ValueError, match="generator"):
        postprocess(img, noise_std=1.0)
    with pytest.raises(ValueError, match="noise_std"):
        postprocess(img, noise_std=-1.0, rng=np.random.default_rng(0))
