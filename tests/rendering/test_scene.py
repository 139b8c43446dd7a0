"""The look of a world: parts and codes, grey levels, textures, colours and lights."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest
from PIL import Image

from deepracer.envs.world import load_world
from deepracer.rendering import scene as sc
from deepracer.rendering.camera import TrackTexture, track_texture
from deepracer.rendering.scene import Light, SceneConfig
from deepracer.tracks import get_track


def test_gray_is_opencv_bgr2gray_bit_for_bit() -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (512, 512, 3), dtype=np.uint8)
    # Every grey, every primary and the corners of the cube too.
    ramp = np.arange(256, dtype=np.uint8)
    edges = np.stack(
        [np.stack([ramp, ramp, ramp], -1)]
        + [np.stack([ramp * (c == k) for c in range(3)], -1).astype(np.uint8) for k in range(3)]
    )
    for image in (rgb, edges):
        expected = cv2.cvtColor(np.ascontiguousarray(image[..., ::-1]), cv2.COLOR_BGR2GRAY)
        got = sc.gray(image)
        assert got.dtype == np.uint8
        assert np.array_equal(got, expected)
    assert sc.gray(np.array([255, 255, 255], dtype=np.uint8)) == 255


def test_codes_pack_a_part_and_a_detail_level_into_a_byte() -> None:
    assert len(sc.PARTS) * sc.LEVELS <= 256
    assert sc.PARTS[sc.ROAD] == "road" and sc.PARTS[sc.SKY] == "sky"
    assert [sc.PARTS[w] for w in sc.WALLS] == ["wall_west", "wall_east", "wall_south", "wall_north"]
    codes = [sc.code(p, q) for p in range(len(sc.PARTS)) for q in range(sc.LEVELS)]
    assert codes == list(range(len(sc.PARTS) * sc.LEVELS))
    assert sc.code(sc.FIELD) // sc.LEVELS == sc.FIELD
    assert sc.DETAIL[sc.code(sc.FIELD) % sc.LEVELS] == 1.0
    assert sc.DETAIL[0] == pytest.approx(0.4) and sc.DETAIL[-1] == pytest.approx(1.6)


def test_code_table_is_grey_times_detail_then_lighting() -> None:
    colors = np.zeros((len(sc.PARTS), 3))
    colors[sc.ROAD] = (40.0, 53.0, 60.0)
    colors[sc.LINE] = (300.0, 300.0, 300.0)  # clipped to white
    colors[sc.SKY] = 178.5
    table = sc.code_table(colors)
    assert table.shape == (256,) and table.dtype == np.uint8
    road = 0.299 * 40.0 + 0.587 * 53.0 + 0.114 * 60.0
    assert table[sc.code(sc.ROAD)] == round(road)
    assert table[sc.code(sc.ROAD, 0)] == round(0.4 * road)
    assert table[sc.code(sc.LINE)] == 255 and table[sc.code(sc.LINE, 0)] == 102
    assert table[sc.code(sc.FIELD)] == 0
    assert (table[len(sc.PARTS) * sc.LEVELS :] == 0).all()  # no code reaches them
    lighting = (255 - np.arange(256)).astype(np.uint8)
    assert np.array_equal(sc.code_table(colors, lighting), lighting[table])


def test_part_colors_follow_the_lights_and_the_exposure() -> None:
    rect = (0.0, 0.0, 10.0, 6.0)
    colors = sc.part_colors(SceneConfig(), rect)
    assert colors.shape == (len(sc.PARTS), 3)
    assert (colors[sc.SKY] == 178.5).all() and (colors[sc.BEYOND] == 178.5).all()
    brighter = sc.part_colors(SceneConfig(exposure=2 * SceneConfig().exposure), rect)
    floor_and_walls = list(range(sc.SKY))
    assert np.allclose(brighter[floor_and_walls], 2.0 * colors[floor_and_walls])
    # The sun shines down and towards -x: the west wall (facing +x) is the sunlit one.
    walls = sc.gray(np.clip(np.rint(colors[list(sc.WALLS)]), 0, 255).astype(np.uint8))
    assert int(np.argmax(walls)) == 0
    # Without lights only the sky is left.
    dark = sc.part_colors(SceneConfig(), rect, lights=())
    assert (dark[floor_and_walls] == 0.0).all()
    # The field takes the material's texture; the road does not care.
    wood = sc.part_colors(SceneConfig(), rect, "wood")
    assert not np.allclose(wood[sc.FIELD], colors[sc.FIELD])
    assert np.array_equal(wood[sc.ROAD], colors[sc.ROAD])


def test_lights_shade_like_lambert() -> None:
    sun = Light("directional", (1.0, 1.0, 0.8), direction=(0.0, 0.0, -2.0))
    assert np.allclose(sun.shade((5.0, 5.0, 0.0), (0.0, 0.0, 1.0)), (1.0, 1.0, 0.8))
    assert np.allclose(sun.shade((0.0, 0.0, 0.0), (0.0, 0.0, -1.0)), 0.0)  # facing away
    slanted = Light("directional", (1.0, 1.0, 1.0), direction=(-1.0, 0.0, -1.0))
    assert np.allclose(slanted.shade((0, 0, 0), (1.0, 0.0, 0.0)), np.sqrt(0.5))
    lamp = Light(
        "point", (1.0, 1.0, 1.0), position=(0.0, 0.0, 4.0), attenuation=(0.5, 0.25, 0.0), range=6.0
    )
    assert np.allclose(lamp.shade((0.0, 0.0, 0.0), (0.0, 0.0, 1.0)), 1.0 / (0.5 + 0.25 * 4.0))
    assert np.allclose(lamp.shade((3.0, 0.0, 0.0), (0.0, 0.0, 1.0)), 0.8 / (0.5 + 0.25 * 5.0))
    assert np.allclose(lamp.shade((10.0, 0.0, 0.0), (0.0, 0.0, 1.0)), 0.0)  # out of range


def test_scene_rectangle_is_the_bounds_or_a_margin_around_the_track() -> None:
    points = np.array([[0.0, -1.0], [4.0, 2.0], [1.0, 0.5]])
    assert SceneConfig().rectangle(points) == pytest.approx((-0.91, -1.91, 4.91, 2.91))
    assert SceneConfig(field_margin=0.5).rectangle(points) == pytest.approx((-0.5, -1.5, 4.5, 2.5))
    bounds = (-2.0, -3.0, 9.0, 8.0)
    assert SceneConfig(bounds=bounds).rectangle(points) == bounds


def test_detail_codes_tile_once_per_metre() -> None:
    res = 0.005
    xs = 0.3 + (np.arange(300) + 0.5) * res
    ys = -1.2 + (np.arange(250) + 0.5) * res
    codes = sc.detail_codes("road", sc.ROAD, xs, ys)
    assert codes.shape == (250, 300) and codes.dtype == np.uint8
    assert (codes // sc.LEVELS == sc.ROAD).all()
    assert np.array_equal(codes, sc.detail_codes("road", sc.ROAD, xs + 2.0, ys - 3.0))
    assert not np.array_equal(codes, sc.detail_codes("road", sc.ROAD, xs + 0.5, ys))
    # The detail levels average to about the texture's own grey (level PLAIN).
    assert np.mean(sc.DETAIL[codes % sc.LEVELS]) == pytest.approx(1.0, abs=0.05)


def seam_and_inner_steps(
    texture: TrackTexture, part: int, name: str, axis: int
) -> tuple[np.ndarray, np.ndarray]:
    """|grey steps| between neighbouring texels of one part along an axis (1: x, 0: y).

    Returns the steps across a tile edge (the texture's last texel, then its first)
    and those between two neighbouring texels inside a tile.
    """
    size = Image.open(sc.TEXTURES_DIR / f"{name}.png").size[0]
    n = texture.shape[axis]
    centres = (texture.y0, texture.x0)[axis] + (np.arange(n) + 0.5) * texture.resolution
    k = np.floor(np.mod(centres, 1.0) * size).astype(np.intp)  # texel of the tile
    seam = (k[:-1] == size - 1) & (k[1:] == 0)
    inner = k[1:] == k[:-1] + 1
    parts = texture.codes // sc.LEVELS
    pixels = texture.pixels.astype(np.int16)
    if axis == 1:
        both = (parts[:, :-1] == part) & (parts[:, 1:] == part)
        steps = np.abs(np.diff(pixels, axis=1))
        return steps[both & seam[None, :]], steps[both & inner[None, :]]
    both = (parts[:-1] == part) & (parts[1:] == part)
    steps = np.abs(np.diff(pixels, axis=0))
    return steps[both & seam[:, None]], steps[both & inner[:, None]]


@pytest.mark.parametrize(
    ("part", "name"), [(sc.ROAD, "road"), (sc.LINE, "line"), (sc.FIELD, "grass")]
)
def test_textures_tile_without_seams_along_the_track(part: int, name: str) -> None:
    world = load_world("reinvent_base")
    scene = replace(world.scene, texture_contrast=1.0)  # the grain at full strength
    texture = track_texture(get_track(world.track), "base", scene=scene)
    levels = texture.pixels[texture.codes // sc.LEVELS == part]
    assert len(np.unique(levels)) >= 5 and levels.std() > 2.0  # textured, not flat
    for axis in (1, 0):
        seam, inner = seam_and_inner_steps(texture, part, name, axis)
        assert len(seam) > 300 and len(inner) > 10 * len(seam)
        assert seam.mean() <= 1.5 * inner.mean(), (name, axis)
