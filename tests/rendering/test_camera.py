"""The camera renderer: ray geometry, the track texture, frames, walls, lighting and noise."""

from __future__ import annotations

import math

import numpy as np
import pytest

from deepracer import accel
from deepracer.envs.camera import CameraConfig
from deepracer.envs.world import MATERIALS, load_world
from deepracer.rendering import camera
from deepracer.rendering import scene as sc
from deepracer.rendering.camera import (
    CENTER_LINE_WIDTH,
    DASH_LENGTH,
    LINE_WIDTH,
    GroundRays,
    TrackTexture,
    apply_lighting,
    ground_rays,
    lighting_table,
    postprocess,
    render,
    render_batch,
    track_texture,
)
from deepracer.rendering.scene import SceneConfig
from deepracer.tracks import Track, get_track
from deepracer.tracks.generator import generate_track

# An odd-sized image has a pixel whose centre is exactly on the optical axis.
ODD = CameraConfig(width=161, height=121, supersample=1)

PART_TABLE = (np.arange(256) // sc.LEVELS).astype(np.uint8)
"""A code table that draws each ray's part index instead of its grey level."""


def part_of(codes: np.ndarray) -> np.ndarray:
    return np.asarray(codes, dtype=np.intp) // sc.LEVELS


def focal_rows(cfg: CameraConfig) -> float:
    """The vertical focal length [px] of a camera (square sensor pixels)."""
    tan_h = math.tan(0.5 * cfg.horizontal_fov)
    return 0.5 * cfg.height / (tan_h * cfg.sensor_aspect)


@pytest.mark.parametrize("pitch_deg", [10.0, 15.0, 25.0])
@pytest.mark.parametrize("height", [0.1, 0.126])
def test_centre_pixel_hits_the_floor_height_over_tan_pitch_ahead(
    pitch_deg: float, height: float
) -> None:
    pitch = math.radians(pitch_deg)
    rays = ground_rays(ODD, height=height, pitch_rad=pitch, lateral_offset=0.02, supersample=1)
    row, col = ODD.height // 2, ODD.width // 2
    x, y, hit = rays.floor_points()
    assert hit[row, col]
    assert x[row, col] - ODD.mount_forward == pytest.approx(height / math.tan(pitch), rel=1e-9)
    assert y[row, col] == pytest.approx(0.02, abs=1e-12)
    # Along the optical axis the ray moves straight ahead and falls tan(pitch) per metre.
    assert rays.left[col] == 0.0
    assert rays.drop[row] / rays.ahead[row] == pytest.approx(math.tan(pitch), rel=1e-12)


def test_rays_above_the_horizon_or_beyond_the_view_distance_miss_the_floor() -> None:
    cfg = CameraConfig(supersample=1)
    pitch = math.radians(15.0)
    rays = ground_rays(cfg, height=0.126, pitch_rad=pitch, supersample=1, max_distance=8.0)
    horizon = 0.5 * cfg.height - math.tan(pitch) * focal_rows(cfg)  # image row of the horizon
    assert 20 < horizon < 40  # the horizon sits in the upper third
    x, y, hit = rays.floor_points()
    assert x.shape == y.shape == hit.shape == (cfg.height, cfg.width)
    below = np.arange(cfg.height) + 0.5 > horizon  # pixel centres below the horizon
    assert np.array_equal(rays.drop > 0.0, below)
    assert not hit[~below].any()  # rays above the horizon never meet the floor ...
    assert (x[~below] == 0.0).all() and (y[~below] == 0.0).all()
    assert hit[-1].all()  # ... the bottom row sees floor everywhere ...
    dist = np.hypot(x - cfg.mount_forward, y)
    assert (dist[hit] <= 8.0 + 1e-9).all()
    first = int(np.argmax(below))
    assert not hit[first].all()  # ... and the first row below it is cut by the view distance
    far = ground_rays(cfg, height=0.126, pitch_rad=pitch, supersample=1, max_distance=1e6)
    assert far.floor_points()[2][first].all()
    # Left of the image centre is left of the car, and lower rows are nearer.
    full = hit.all(axis=1)
    assert (y[full][:, : cfg.width // 2] > 0).all()
    assert (y[full][:, cfg.width // 2 :] < 0).all()
    assert np.all(np.diff(x[full][:, 80]) < 0)


def test_supersampled_rays_form_a_grid_of_sub_rows_and_sub_columns() -> None:
    cfg = CameraConfig(width=84, height=84)
    rays = ground_rays(cfg, height=0.126, pitch_rad=0.26, supersample=3)
    assert rays.samples == 9
    assert rays.ahead.shape == rays.drop.shape == (84 * 3,)
    assert rays.left.shape == (84 * 3,)
    assert rays.ahead.dtype == rays.drop.dtype == rays.left.dtype == np.float64
    assert not rays.drop.flags.writeable
    x, y, hit = rays.floor_points()
    assert x.shape == y.shape == hit.shape == (84 * 3, 84 * 3)
    # The middle sub-sample of a pixel is the one ray through its centre.
    single = ground_rays(cfg, height=0.126, pitch_rad=0.26, supersample=1)
    assert np.allclose(rays.drop[1::3], single.drop, rtol=0, atol=1e-12)
    assert np.allclose(rays.left[1::3], single.left, rtol=0, atol=1e-12)
    # Sub-rows run down the image (they fall more), sub-columns to the right.
    assert np.all(np.diff(rays.drop) > 0) and np.all(np.diff(rays.left) < 0)
    with pytest.raises(ValueError, match="height"):
        ground_rays(cfg, height=0.0, pitch_rad=0.26)
    with pytest.raises(ValueError, match="supersample"):
        ground_rays(cfg, height=0.126, pitch_rad=0.26, supersample=0)


def test_upward_camera_sees_only_walls_and_sky() -> None:
    tex = track_texture(get_track("oval"))
    rays = ground_rays(CameraConfig(), height=0.126, pitch_rad=-1.0, supersample=1)
    assert (rays.drop <= 0.0).all()
    assert not rays.floor_points()[2].any()
    parts = render(tex, rays, (0.0, -1.5), 0.0, PART_TABLE)
    assert set(np.unique(parts)) <= {*sc.WALLS, sc.SKY}
    assert (parts[0] == sc.SKY).all()  # steeply up: over the walls
    img = render(tex, rays, (0.0, -1.5), 0.0)
    assert np.array_equal(img, tex.table[parts.astype(np.intp) * sc.LEVELS + sc.PLAIN])
    assert (img[0] == 178).all()  # Gazebo's 0.7 grey background


# -- texture --------------------------------------------------------------------------


def test_texture_codes_at_known_points_of_the_straight() -> None:
    # The straight: centre line y = 0 from x = 0 to 6 m, borders at y = +-0.305 m;
    # border lines fill the road's outer LINE_WIDTH, dashes of DASH_LENGTH every
    # 2 * DASH_LENGTH from x = 0, and the field reaches 0.91 m past the borders.
    tex = TrackTexture.build(get_track("straight"))
    assert tex.rectangle == pytest.approx((-0.91, -1.215, 6.91, 1.215))
    period = 2.0 * DASH_LENGTH
    mid_dash, mid_gap = 29 * period + 0.5 * DASH_LENGTH, 29 * period + 1.5 * DASH_LENGTH
    line_middle = 0.305 - 0.5 * LINE_WIDTH
    points = {
        (mid_dash, 0.0): sc.CENTER_LINE,
        (mid_gap, 0.0): sc.ROAD,
        (mid_dash, CENTER_LINE_WIDTH): sc.ROAD,  # beside the dash
        (3.0, 0.15): sc.ROAD,
        (3.0, -0.2): sc.ROAD,
        (3.0, line_middle): sc.LINE,  # the left border line, inside the road
        (3.0, -line_middle): sc.LINE,
        (3.0, 0.305 - LINE_WIDTH - 0.01): sc.ROAD,  # just inside the line
        (3.0, 0.32): sc.FIELD,  # just outside the road
        (6.0, 0.1): sc.LINE,  # the end line of the open track
        (3.0, 0.9): sc.FIELD,
        (6.5, 0.0): sc.FIELD,  # past the end
        (-0.5, 0.0): sc.FIELD,  # before the start
        (7.0, 0.0): sc.BEYOND,  # behind the east wall
        (3.0, 1.3): sc.BEYOND,  # behind the north wall
        (50.0, 0.0): sc.BEYOND,  # outside the texture
    }
    got = tex.lookup(list(points))
    assert got.dtype == np.uint8
    assert part_of(got).tolist() == list(points.values())
    assert got[-1] == sc.code(sc.BEYOND)
    assert (tex.codes[[0, -1], :] == sc.code(sc.BEYOND)).all()
    assert (tex.codes[:, [0, -1]] == sc.code(sc.BEYOND)).all()
    assert np.array_equal(tex.pixels, tex.table[tex.codes])
    assert tex.colors.shape == (len(sc.PARTS), 3)


def test_texture_table_is_each_parts_grey_times_its_detail() -> None:
    tex = TrackTexture.build(get_track("straight"))
    grey = sc.gray(np.clip(np.rint(tex.colors), 0, 255).astype(np.uint8)).astype(int)
    plain = tex.table[[sc.code(part) for part in range(len(sc.PARTS))]].astype(int)
    assert np.abs(plain - grey).max() <= 1  # BGR2GRAY of each part's lit colour
    # Each part's levels rise with the detail factor (0.4 to 1.6, its distance from 1
    # scaled by the scene's texture contrast) times its grey.
    for part in range(len(sc.PARTS)):
        levels = tex.table[sc.code(part, 0) : sc.code(part, sc.LEVELS - 1) + 1].astype(float)
        assert np.all(np.diff(levels) >= 0)
        detail = 1.0 + tex.texture_contrast * (sc.DETAIL - 1.0)
        expected = np.clip(np.rint(detail * plain[part]), 0, 255)
        assert np.abs(levels - expected).max() <= sc.DETAIL.max() + 0.5
    assert tex.table[sc.code(sc.SKY)] == 178
    # Brightest to darkest: the white lines, the field, the road, the walls.
    assert plain[sc.LINE] > plain[sc.FIELD] > plain[sc.ROAD] > plain[list(sc.WALLS)].max()


def test_texture_road_matches_the_track_road() -> None:
    track = get_track("kidney")
    tex = track_texture(track)
    rng = np.random.default_rng(0)
    lo = track.waypoints_array.reshape(-1, 2).min(axis=0)
    hi = track.waypoints_array.reshape(-1, 2).max(axis=0)
    pts = rng.uniform(lo - 0.5, hi + 0.5, (4000, 2))
    # Away from the border lines (inside the road) and the dashes.
    far = np.minimum(track.inner.distance(pts), track.outer.distance(pts)) > LINE_WIDTH + 0.02
    far &= track.center.distance(pts) > 0.03
    pts = pts[far]
    on = track.on_road(pts)
    parts = part_of(tex.lookup(pts))
    assert (parts[on] == sc.ROAD).all()
    assert (parts[~on] == sc.FIELD).all()
    assert on.sum() > 300 and (~on).sum() > 300


def test_textures_are_cached_per_geometry_material_and_scene() -> None:
    track = get_track("oval")
    base = track_texture(track)
    assert track_texture(track.reversed()) is base
    assert track_texture(track, "base", scene=SceneConfig()) is base
    wood = track_texture(track, "wood")
    assert wood is not base
    assert wood.shape == base.shape
    assert not wood.codes.flags.writeable and not wood.table.flags.writeable
    assert not wood.colors.flags.writeable
    tall = track_texture(track, scene=SceneConfig(wall_height=2.0))
    assert tall is not base and tall.wall_height == 2.0
    wide = track_texture(track, scene=SceneConfig(field_margin=2.0))
    assert wide.shape[0] > base.shape[0] and wide.shape[1] > base.shape[1]


def test_floor_materials_are_deterministic_and_distinct() -> None:
    track = get_track("straight")
    floor = (slice(5, 40), slice(5, 400))  # below the road, inside the field
    levels = {}
    sharp = SceneConfig(texture_contrast=1.0)  # the grain at full strength
    for material in sc.FIELD_TEXTURES:
        a = TrackTexture.build(track, material, scene=sharp)
        b = TrackTexture.build(track, material, scene=sharp)
        assert np.array_equal(a.codes, b.codes) and np.array_equal(a.table, b.table)
        assert (part_of(a.codes[floor]) == sc.FIELD).all()
        patch = a.pixels[floor].astype(float)
        level = int(a.table[sc.code(sc.FIELD)])
        assert patch.mean() == pytest.approx(level, abs=2.0)  # the field's own grey ...
        assert patch.std() > 2.0  # ... textured
        # The road, its lines and the walls do not depend on the floor material.
        for part in (sc.ROAD, sc.LINE, sc.CENTER_LINE, *sc.WALLS, sc.SKY):
            plain = TrackTexture.build(track, scene=sharp).table[sc.code(part)]
            assert a.table[sc.code(part)] == plain
        levels[material] = level
    assert len(set(levels.values())) == len(levels)
    # Asphalt is the road's own texture.
    asphalt = TrackTexture.build(track, "asphalt", scene=sharp)
    assert levels["asphalt"] == asphalt.table[sc.code(sc.ROAD)]
    with pytest.raises(ValueError, match="material"):
        TrackTexture.build(track, "marble")


def test_every_world_material_has_a_floor() -> None:
    assert set(sc.FIELD_TEXTURES) == set(MATERIALS)


def test_a_long_track_texture_stays_small() -> None:
    # Its build time is measured in benchmarks/rendering.py.
    track = Track.from_array(generate_track(3, length=60.0), name="long")
    tex = TrackTexture.build(track, "wood")
    # One byte per texel of the field and a one-texel ring, nothing more ...
    x_min, y_min, x_max, y_max = tex.rectangle
    rows = math.ceil((y_max - y_min) / tex.resolution) + 2
    cols = math.ceil((x_max - x_min) / tex.resolution) + 2
    assert tex.shape == (rows, cols) and tex.nbytes == rows * cols
    # ... which at 5 mm texels is under 20 MB for 60 m of track (8 textures cached).
    assert tex.nbytes < 20e6


# -- rendering ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kidney_texture() -> TrackTexture:
    return track_texture(get_track("kidney"), "carpet")


@pytest.fixture(scope="module")
def rays() -> GroundRays:
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


def moved_texture(
    tex: TrackTexture, codes: np.ndarray, x0: float, y0: float, rectangle: tuple, table: np.ndarray
) -> TrackTexture:
    return TrackTexture(
        codes=np.ascontiguousarray(codes),
        x0=x0,
        y0=y0,
        resolution=tex.resolution,
        rectangle=rectangle,
        wall_height=tex.wall_height,
        texture_contrast=tex.texture_contrast,
        colors=tex.colors,
        table=table,
        material=tex.material,
    )


def test_render_is_invariant_under_a_translation_of_the_world(
    kidney_texture: TrackTexture, rays: GroundRays
) -> None:
    tex = kidney_texture
    x_min, y_min, x_max, y_max = tex.rectangle
    moved = moved_texture(
        tex,
        tex.codes,
        tex.x0 + 3.25,
        tex.y0 - 1.5,
        (x_min + 3.25, y_min - 1.5, x_max + 3.25, y_max - 1.5),
        tex.table,
    )
    for x, y, yaw in poses_on(get_track("kidney"), 5):
        a = render(tex, rays, (x, y), yaw)
        b = render(moved, rays, (x + 3.25, y - 1.5), yaw)
        assert mismatch(a, b) < 0.003  # only texel-boundary rounding may differ
        assert np.abs(a.astype(int) - b).mean() < 0.2


def test_render_is_invariant_under_a_rotation_of_the_world(
    kidney_texture: TrackTexture, rays: GroundRays
) -> None:
    # Rotating the world by +90 degrees maps (x, y) to (-y, x): the texture's rows
    # reversed and transposed, its corner and field moved accordingly, and each wall
    # turned onto the next face (west -> south -> east -> north -> west), so the
    # turned world's faces take the colours of the walls that moved there.
    tex = kidney_texture
    rows = tex.shape[0]
    x_min, y_min, x_max, y_max = tex.rectangle
    west, east, south, north = sc.WALLS
    table = tex.table.copy()
    for new, old in ((south, west), (east, south), (north, east), (west, north)):
        table[sc.code(new, 0) : sc.code(new + 1, 0)] = tex.table[
            sc.code(old, 0) : sc.code(old + 1, 0)
        ]
    turned = moved_texture(
        tex,
        tex.codes[::-1].T,
        -tex.y0 - rows * tex.resolution,
        tex.x0,
        (-y_max, x_min, -y_min, x_max),
        table,
    )
    assert len(set(tex.table[[sc.code(w) for w in sc.WALLS]])) == 4  # the walls differ
    walls_seen = 0
    for x, y, yaw in poses_on(get_track("kidney"), 5, seed=1):
        a = render(tex, rays, (x, y), yaw)
        b = render(turned, rays, (-y, x), yaw + math.pi / 2)
        assert mismatch(a, b) < 0.003
        assert np.abs(a.astype(int) - b).mean() < 0.2
        walls_seen += int(np.isin(render(tex, rays, (x, y), yaw, PART_TABLE), sc.WALLS).sum())
    assert walls_seen > 1000


def test_mirrored_lenses_see_mirrored_parts() -> None:
    # On the centre line of the straight, facing along it, a lens left of the centre
    # sees the mirror image of what a lens as far right sees (north and south walls
    # swapped); only the texture details and the dash ends may break the symmetry.
    tex = track_texture(get_track("straight"))
    cfg = CameraConfig(supersample=1)
    kwargs = {"height": 0.126, "pitch_rad": math.radians(15.0), "supersample": 1}
    left = ground_rays(cfg, lateral_offset=0.03, **kwargs)
    right = ground_rays(cfg, lateral_offset=-0.03, **kwargs)
    a = render(tex, left, (1.0, 0.0), 0.0, PART_TABLE)
    b = render(tex, right, (1.0, 0.0), 0.0, PART_TABLE)
    swap = np.arange(len(sc.PARTS))
    swap[[sc.WALLS[2], sc.WALLS[3]]] = sc.WALLS[3], sc.WALLS[2]
    mirrored = swap[np.fliplr(b)]
    assert {sc.ROAD, sc.LINE, sc.FIELD, sc.SKY, *sc.WALLS[1:]} <= set(np.unique(a))
    assert mismatch(a, mirrored) < 0.01
    assert not np.array_equal(a, b)


def test_walls_appear_above_the_horizon_at_the_expected_rows() -> None:
    # On reinvent_base, the lens d metres from a wall, facing it: in the centre column
    # the wall's base is where the floor d ahead appears (atan(h / d) below the
    # horizontal), its top where the ray has risen to the wall's height at d.
    world = load_world("reinvent_base")
    tex = track_texture(get_track(world.track), "base", scene=world.scene)
    x_min, y_min, x_max, y_max = tex.rectangle
    assert tex.rectangle == pytest.approx(world.scene.bounds)
    cx, cy = 0.5 * (x_min + x_max), 0.5 * (y_min + y_max)
    cfg = ODD
    h, pitch, fy = cfg.mount_height, math.radians(cfg.pitch_deg), focal_rows(cfg)
    rays = ground_rays(cfg, height=h, pitch_rad=pitch, supersample=1)
    west, east, south, north = sc.WALLS
    col = cfg.width // 2
    tops = []
    cases = [
        (east, 0.0, (x_max, cy), 1.0),
        (east, 0.0, (x_max, cy), 2.0),
        (east, 0.0, (x_max, cy), 6.0),
        (east, 0.0, (x_max, cy), 8.0),
        (west, math.pi, (x_min, cy), 7.0),
        (north, 0.5 * math.pi, (cx, y_max), 5.5),
        (south, -0.5 * math.pi, (cx, y_min), 4.0),
    ]

    def row_at(below: float) -> float:
        """The image row whose centre ray runs ``below`` rad under the horizontal."""
        return math.tan(below - pitch) * fy + 0.5 * cfg.height - 0.5

    for wall, yaw, (wx, wy), d in cases:
        c, s = math.cos(yaw), math.sin(yaw)
        lens = (wx - c * d, wy - s * d)  # the lens d in front of the wall
        origin = (lens[0] - c * cfg.mount_forward, lens[1] - s * cfg.mount_forward)
        base = row_at(math.atan2(h, d))
        top = row_at(math.atan2(h - world.scene.wall_height, d))
        parts = render(tex, rays, origin, yaw, PART_TABLE)[:, col]
        grey = render(tex, rays, origin, yaw)[:, col]
        r = np.arange(cfg.height)
        on_wall = (r > top + 1) & (r < base - 1)
        assert on_wall.sum() >= 10
        assert (parts[on_wall] == wall).all(), (wall, d)
        assert (grey[on_wall] == tex.table[sc.code(wall)]).all()
        assert (parts[r > base + 1] <= sc.FIELD).all()  # floor below it
        assert (parts[r < top - 1] == sc.SKY).all()  # sky above it
        assert (grey[r < top - 1] == tex.table[sc.code(sc.SKY)]).all()
        # Only the rows at the computed edges may go either way.
        assert np.isin(parts[(r >= base - 1) & (r <= base + 1)], [wall, *range(4)]).all()
        assert np.isin(parts[(r >= top - 1) & (r <= top + 1)], [wall, sc.SKY]).all()
        tops.append(top)
    assert min(tops) < -1 < 2 < max(tops)  # some views show sky, some only wall
    assert len({tex.table[sc.code(w)] for w in sc.WALLS}) == 4  # each face lit its own way


def render_both(
    tex: TrackTexture, rays: GroundRays, poses: np.ndarray, table: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Frames of the numpy path and of the compiled kernel (or its Python loop)."""
    expected = camera._render_numpy(tex, rays, poses, table)
    got = np.empty_like(expected)
    accel.camera_frames(
        tex.codes,
        (tex.x0, tex.y0, 1.0 / tex.resolution),
        table,
        (rays.ahead, rays.drop, rays.left, rays.supersample, rays.max_distance),
        np.ascontiguousarray(poses, dtype=np.float64),
        (rays.mount_forward, rays.lateral_offset, rays.camera_height),
        (
            np.asarray(tex.rectangle, dtype=np.float64),
            tex.wall_height,
            sc.WALLS[0],
            sc.LEVELS,
            sc.code(sc.SKY),
            sc.BEYOND * sc.LEVELS,
        ),
        got,
    )
    return expected, got


@pytest.mark.parametrize("lateral", [0.0, 0.03, -0.03])
@pytest.mark.parametrize("supersample", [1, 2])
def test_compiled_kernel_and_numpy_give_identical_frames(lateral: float, supersample: int) -> None:
    # Without numba the kernel runs as plain Python: still compared, on small frames.
    world = load_world("reinvent_base")
    track = get_track(world.track)
    tex = track_texture(track, "base", scene=world.scene)
    cfg = CameraConfig() if accel.ENABLED else CameraConfig(width=24, height=18)
    rng = np.random.default_rng([int(1000 * (lateral + 1)), supersample])
    x_min, y_min, x_max, y_max = tex.rectangle
    off_field = np.column_stack(
        [
            rng.uniform(x_min - 2.0, x_max + 2.0, 6),
            rng.choice([y_min - 0.5, y_max + 0.5], 6),
            rng.uniform(-math.pi, math.pi, 6),
        ]
    )
    poses = np.vstack([poses_on(track, 30, seed=supersample), off_field])
    random_table = rng.integers(0, 256, 256, dtype=np.uint8)
    for pitch, distance in ((15.0, 50.0), (25.0, 2.0), (-5.0, 50.0)):
        rays = ground_rays(
            cfg,
            height=0.126,
            pitch_rad=math.radians(pitch),
            lateral_offset=lateral,
            supersample=supersample,
            max_distance=distance,
        )
        for table in (tex.table, random_table):
            expected, got = render_both(tex, rays, poses, table)
            assert np.array_equal(got, expected), (pitch, distance)
        frames = render_batch(tex, rays, poses)
        assert np.array_equal(
            frames.reshape(len(poses), -1), render_both(tex, rays, poses, tex.table)[0]
        )


@pytest.mark.parametrize(("size", "supersample"), [((160, 120), 2), ((84, 84), 1), ((84, 84), 2)])
def test_render_batch_equals_per_pose_render(
    kidney_texture: TrackTexture, size: tuple[int, int], supersample: int
) -> None:
    cfg = CameraConfig(width=size[0], height=size[1])
    rays = ground_rays(cfg, height=0.126, pitch_rad=0.26, supersample=supersample)
    poses = poses_on(get_track("kidney"), 20)  # more than one chunk of poses
    batch = render_batch(kidney_texture, rays, poses)
    assert batch.shape == (20, size[1], size[0]) and batch.dtype == np.uint8
    for pose, frame in zip(poses, batch, strict=True):
        assert np.array_equal(frame, render(kidney_texture, rays, pose[:2], pose[2]))
    table = 255 - kidney_texture.table  # a negative of the default
    inverted = render_batch(kidney_texture, rays, poses[:3], table)
    if supersample == 1:
        assert np.array_equal(inverted, 255 - batch[:3])
    assert np.array_equal(
        inverted[1], render(kidney_texture, rays, poses[1, :2], poses[1, 2], table)
    )


def test_supersampling_averages_the_sub_samples(kidney_texture: TrackTexture) -> None:
    cfg = CameraConfig(width=40, height=30)
    fine = ground_rays(
        CameraConfig(width=80, height=60), height=0.126, pitch_rad=0.26, supersample=1
    )
    coarse = ground_rays(cfg, height=0.126, pitch_rad=0.26, supersample=2)
    for pose in poses_on(get_track("kidney"), 3):
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


def test_lighting_folds_into_the_code_table(kidney_texture: TrackTexture, rays: GroundRays) -> None:
    tex = kidney_texture
    dim = lighting_table(brightness=0.6, gamma=1.2)
    assert dim is not None
    contrast = tex.texture_contrast
    table = sc.code_table(tex.colors, dim, texture_contrast=contrast)
    assert np.array_equal(table, dim[sc.code_table(tex.colors, texture_contrast=contrast)])
    assert np.array_equal(sc.code_table(tex.colors, texture_contrast=contrast), tex.table)
    pose = poses_on(get_track("kidney"), 1)[0]
    lit = render(tex, rays, pose[:2], pose[2], table)
    plain = render(tex, rays, pose[:2], pose[2])
    assert lit.mean() < plain.mean()
    one = ground_rays(CameraConfig(), height=0.126, pitch_rad=0.26, supersample=1)
    # Without averaging, a lit frame is the lighting map of the plain frame.
    assert np.array_equal(
        render(tex, one, pose[:2], pose[2], table), dim[render(tex, one, pose[:2], pose[2])]
    )


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
