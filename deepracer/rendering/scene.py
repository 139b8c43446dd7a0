"""The look of a DeepRacer world: its parts, their textures and colours, and its lights.

The simapp's re:Invent 2018 world (``worlds/reinvent_base.world``, the track model's
Collada mesh ``meshes/reinvent/reinvent_base.dae``) is a flat hall: a green field
rectangle with the road, white border lines and orange centre dashes on it, closed
by four 1 m walls of one dark teal colour, under Gazebo's light grey background.
Every texture is tiled once per metre (the mesh's UVs are its x, y in metres). The
world lights it with a directional "sun" and one point light 15 m above the origin;
the materials have no ambient term. This module turns that into what the camera
renderer needs: one grey level per part, as the car sees it (OpenCV's BGR2GRAY of the
lit colour), and a detail map per textured part (each texel's grey level over its
texture's mean).

Against three real simapp frames (``docs/camera.md``), the world file's lights with
Lambert shading and one exposure factor (fitted on two of the frames) give the walls'
and floor's colours: the sunlit wall at 0.42 of its texture, the floor at 1.08 of
its. The textures' grain is drawn at a quarter of its contrast (fitted likewise).

The floor parts and the walls carry a code per texel or ray (``part * LEVELS + q``,
``q`` the quantised detail), and a 256-entry table maps codes to grey levels: per
episode the table changes (lighting, the parts' colours), never the textures.

Contents:
    PARTS, ROAD, LINE, CENTER_LINE, FIELD, WALLS, SKY, BEYOND: the parts and their
        indices.
    LEVELS, DETAIL, code: detail quantisation and the code of a part's texel.
    Light, REINVENT_LIGHTS: the world's lights.
    SceneConfig: the hall around a track (walls, field, exposure, grain, sky).
    FIELD_TEXTURES: floor material -> the simapp texture of the field.
    gray: OpenCV's BGR2GRAY of RGB values, exactly.
    detail_codes: a part's texture as quantised detail, tiled over world points.
    part_colors: the lit RGB colour of each part.
    code_table: the code -> grey level table for part colours and lighting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from deepracer.config.checks import between, positive

__all__ = [
    "BEYOND",
    "CENTER_LINE",
    "DETAIL",
    "FIELD",
    "FIELD_TEXTURES",
    "LEVELS",
    "LINE",
    "PARTS",
    "REINVENT_LIGHTS",
    "ROAD",
    "SKY",
    "WALLS",
    "Light",
    "SceneConfig",
    "code",
    "code_table",
    "detail_codes",
    "gray",
    "part_colors",
]

TEXTURES_DIR = Path(__file__).resolve().parent / "textures"
"""Reduced copies of the simapp's textures (``NOTICE`` there says which and how)."""

PARTS = (
    "road",
    "line",
    "center_line",
    "field",
    "wall_west",
    "wall_east",
    "wall_south",
    "wall_north",
    "sky",
    "beyond",
)
"""What a ray can see. ``beyond`` marks floor outside the walls: never shown, the
renderer finds the wall (or the sky) in front of it."""
ROAD, LINE, CENTER_LINE, FIELD = 0, 1, 2, 3
WALLS = (4, 5, 6, 7)
"""The walls at the field's west (min x), east (max x), south (min y), north (max y)."""
SKY, BEYOND = 8, 9

LEVELS = 25
"""Detail levels per part: ``q`` in 0..24 stands for ``DETAIL[q]`` times the part's
mean grey level; 10 parts x 25 levels fit one byte."""
DETAIL = np.round(0.4 + 0.05 * np.arange(LEVELS), 6)
"""The detail factor of each level: 0.4 .. 1.6 in steps of 0.05 (1.0 at q = 12)."""
PLAIN = LEVELS // 2
"""The level of detail factor 1: an untextured part."""


def code(part: int, level: int = PLAIN) -> int:
    """The code of a part's texel at a detail level."""
    return part * LEVELS + level


def _rectangle(value: tuple[float, float, float, float] | None) -> str | None:
    if value is None:
        return None
    x0, y0, x1, y1 = value
    return None if x1 > x0 and y1 > y0 else "[x_min, y_min, x_max, y_max] with min < max"


@dataclass(frozen=True)
class Light:
    """A Gazebo light, as the world file gives it.

    Attributes:
        kind: ``directional`` or ``point``.
        diffuse: RGB diffuse colour [0-1].
        direction: Where a directional light shines (x, y, z), any length.
        position: Where a point light is (x, y, z) [m].
        attenuation: Constant, linear and quadratic attenuation of a point light.
        range: Beyond this distance a point light adds nothing [m].
    """

    kind: Literal["directional", "point"]
    diffuse: tuple[float, float, float]
    direction: tuple[float, float, float] = (0.0, 0.0, -1.0)
    position: tuple[float, float, float] = (0.0, 0.0, 0.0)
    attenuation: tuple[float, float, float] = (1.0, 0.0, 0.0)
    range: float = math.inf

    def shade(
        self, point: tuple[float, float, float], normal: tuple[float, float, float]
    ) -> NDArray[np.float64]:
        """Lambert's diffuse RGB at a surface point with the given outward normal."""
        n = np.asarray(normal, dtype=np.float64)
        if self.kind == "directional":
            to_light = -np.asarray(self.direction, dtype=np.float64)
            scale = 1.0
        else:
            to_light = np.asarray(self.position, dtype=np.float64) - np.asarray(point)
            distance = float(np.linalg.norm(to_light))
            if distance > self.range:
                return np.zeros(3)
            constant, linear, quadratic = self.attenuation
            scale = 1.0 / (constant + linear * distance + quadratic * distance * distance)
        cosine = max(0.0, float(n @ to_light) / float(np.linalg.norm(to_light)))
        return np.asarray(self.diffuse, dtype=np.float64) * cosine * scale


REINVENT_LIGHTS = (
    Light("directional", (1.0, 1.0, 0.8), direction=(-0.5, 0.1, -0.9)),
    Light(
        "point",
        (0.225, 0.225, 0.225),
        position=(0.0, 0.0, 15.0),
        attenuation=(0.4, 0.01, 0.0),
        range=50.0,
    ),
)
"""``worlds/reinvent_base.world``: the sun and "Light 1" (the other simapp worlds
light the same way)."""

FIELD_TEXTURES = {
    "base": "grass",
    "carpet": "carpet",
    "concrete": "concrete",
    "wood": "wood",
    "brick": "brick",
    "asphalt": "road",
}
"""Floor material -> the texture of the field around the track (``asphalt``: the
road's own texture, the simapp's nearest)."""


@dataclass(frozen=True, kw_only=True)
class SceneConfig:
    """The hall around a track, as the camera sees it (the simapp's re:Invent 2018 hall).

    Attributes:
        bounds: The field rectangle ``[x_min, y_min, x_max, y_max]`` [m], closed by
            the walls; None puts it ``field_margin`` around the track's borders.
        field_margin: Field around the track's bounding box when ``bounds`` is None
            [m] (re:Invent 2018: 0.91 m).
        wall_height: Height of the walls [m] (the simapp's: 1 m).
        exposure: Factor from Lambert's shading to the frame's colours [-], one
            number for the whole world (fitted to the real frames, see the module).
        texture_contrast: How strongly the textures' grain shows [0-1] (fitted to
            the real frames: at 160 x 120 their grain is finer than the texels we
            draw near the car, so a faint grain matches them best).
        sky_level: Grey level above the walls (Gazebo's background, 0.7 grey).
    """

    bounds: tuple[float, float, float, float] | None = field(
        default=None, metadata={"check": _rectangle}
    )
    field_margin: float = field(default=0.91, metadata={"check": positive})
    wall_height: float = field(default=1.0, metadata={"check": positive})
    exposure: float = field(default=0.86, metadata={"check": positive})
    texture_contrast: float = field(default=0.25, metadata={"check": between(0, 1)})
    sky_level: float = field(default=178.5, metadata={"check": between(0, 255)})

    def rectangle(self, track_points: NDArray[np.float64]) -> tuple[float, float, float, float]:
        """The field rectangle for a track whose border points are ``track_points``."""
        if self.bounds is not None:
            x0, y0, x1, y1 = self.bounds
            return float(x0), float(y0), float(x1), float(y1)
        lo = track_points.min(axis=0) - self.field_margin
        hi = track_points.max(axis=0) + self.field_margin
        return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def gray(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """OpenCV's ``COLOR_BGR2GRAY`` of RGB values (..., 3), bit for bit.

    OpenCV (4.x) computes ``Y = 0.299 R + 0.587 G + 0.114 B`` for 8-bit images in
    15-bit fixed point with round-half-up; this does the same integer arithmetic
    (checked against it on every RGB colour).
    """
    v = np.asarray(rgb, dtype=np.int32)
    y = (v[..., 0] * 9798 + v[..., 1] * 19235 + v[..., 2] * 3735 + 16384) >> 15
    return y.astype(np.uint8)


def _luma(rgb: NDArray[np.float64]) -> NDArray[np.float64]:
    """BGR2GRAY's weights on float colours (before any rounding)."""
    weights = np.array([0.299, 0.587, 0.114])
    out: NDArray[np.float64] = np.asarray(rgb, dtype=np.float64) @ weights
    return out


@lru_cache(maxsize=16)
def _texture(name: str) -> NDArray[np.uint8]:
    """A shipped texture, RGB uint8 (rows = +y, as the world's floor)."""
    from PIL import Image

    path = TEXTURES_DIR / f"{name}.png"
    try:
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGB"), dtype=np.uint8)
    except OSError as exc:
        raise FileNotFoundError(f"{path}: the camera texture is unreadable ({exc})") from None
    rgb: NDArray[np.uint8] = np.ascontiguousarray(pixels[::-1])  # image rows run down, y up
    rgb.setflags(write=False)
    return rgb


def mean_color(name: str) -> NDArray[np.float64]:
    """A texture's mean RGB colour [0-255]."""
    return np.asarray(_texture(name).reshape(-1, 3).mean(axis=0), dtype=np.float64)


@lru_cache(maxsize=16)
def _detail_tile(name: str) -> NDArray[np.uint8]:
    """A texture's detail levels (uint8 0..LEVELS-1), one per texel of its tile."""
    tile = _texture(name)
    ratio = gray(tile).astype(np.float64) / max(1.0, float(_luma(mean_color(name))))
    levels: NDArray[np.uint8] = np.clip(np.rint((ratio - DETAIL[0]) / 0.05), 0, LEVELS - 1).astype(
        np.uint8
    )
    levels.setflags(write=False)
    return levels


def detail_codes(
    name: str, part: int, xs: NDArray[np.floating[Any]], ys: NDArray[np.floating[Any]]
) -> NDArray[np.uint8]:
    """The codes of a part textured with ``name`` at world points, tiled once per metre.

    Args:
        name: A shipped texture (see ``NOTICE``).
        part: The part's index in :data:`PARTS`.
        xs: (C,) world x of the grid columns [m].
        ys: (R,) world y of the grid rows [m].

    Returns:
        (R, C) codes.
    """
    tile = _detail_tile(name)
    size = tile.shape[0]
    cols = np.floor(np.mod(xs, 1.0) * size).astype(np.intp) % size
    rows = np.floor(np.mod(ys, 1.0) * size).astype(np.intp) % size
    return np.asarray(tile[np.ix_(rows, cols)] + np.uint8(part * LEVELS), dtype=np.uint8)


@dataclass(frozen=True)
class _Surface:
    texture: str
    normal: tuple[float, float, float]


def part_colors(
    scene: SceneConfig,
    rectangle: tuple[float, float, float, float],
    material: str = "base",
    lights: tuple[Light, ...] = REINVENT_LIGHTS,
) -> NDArray[np.float64]:
    """The lit RGB colour of every part [0-255, unclipped], shape (len(PARTS), 3).

    Each part is shaded once, at the middle of the field (floor parts) or of its wall,
    half way up: the world's point light varies by a few percent over the hall.
    """
    x0, y0, x1, y1 = rectangle
    cx, cy = 0.5 * (x0 + x1), 0.5 * (y0 + y1)
    up = (0.0, 0.0, 1.0)
    surfaces = {
        ROAD: _Surface("road", up),
        LINE: _Surface("line", up),
        CENTER_LINE: _Surface("center_line", up),
        FIELD: _Surface(FIELD_TEXTURES.get(material, "grass"), up),
    }
    points = {part: (cx, cy, 0.0) for part in surfaces}
    h = 0.5 * scene.wall_height
    # Walls face into the hall.
    for part, point, normal in zip(
        WALLS,
        ((x0, cy, h), (x1, cy, h), (cx, y0, h), (cx, y1, h)),
        ((1.0, 0.0, 0.0), (-1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, -1.0, 0.0)),
        strict=True,
    ):
        surfaces[part] = _Surface("wall", normal)
        points[part] = point
    colors = np.zeros((len(PARTS), 3))
    for part, surface in surfaces.items():
        light = sum((lt.shade(points[part], surface.normal) for lt in lights), np.zeros(3))
        colors[part] = scene.exposure * light * mean_color(surface.texture)
    colors[SKY] = colors[BEYOND] = scene.sky_level
    return colors


def code_table(
    colors: NDArray[np.float64],
    lighting: NDArray[np.uint8] | None = None,
    *,
    texture_contrast: float = 1.0,
) -> NDArray[np.uint8]:
    """The code -> grey level table: each part's grey level times its detail factor.

    Args:
        colors: (len(PARTS), 3) RGB colour per part (:func:`part_colors`, perhaps
            randomised).
        lighting: A 256-entry grey-level map applied last (brightness, contrast,
            gamma; see :func:`deepracer.rendering.camera.lighting_table`).
        texture_contrast: Scales each detail factor's distance from 1 (1: the
            textures as they are, 0: each part one grey).
    """
    levels = _luma(np.clip(colors, 0.0, 255.0))  # (parts,)
    detail = 1.0 + texture_contrast * (DETAIL - 1.0)
    values = levels[:, None] * detail[None, :]  # (parts, LEVELS)
    table = np.zeros(256, dtype=np.uint8)
    table[: len(PARTS) * LEVELS] = np.clip(np.rint(values.reshape(-1)), 0, 255)
    if lighting is not None:
        table = lighting[table]
    return table
