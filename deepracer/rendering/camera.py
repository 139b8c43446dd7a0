"""First-person grayscale camera images of a flat track, by inverse perspective mapping.

The floor is a plane, so where each pixel's ray meets it depends only on the camera
mounting, not on the car's pose. :func:`ground_rays` computes those floor points
once, in the car frame; a frame is then one rigid 2-D transform of the points by the
car pose and one lookup in a pre-rasterised 1 cm texture of the track
(:class:`TrackTexture`). Rays that miss the floor, or meet it beyond the view
distance, see a uniform background (the sky and the hall's walls).

Frames are grey levels (uint8) standing for DeepRacer's luma
``Y = 0.2989 R + 0.5870 G + 0.1140 B`` of the simulated colours: a near-black road,
white borders, a yellow dashed centre line, a material-dependent floor.

Everything is numpy; buffers are reused per thread, because allocating a fresh
240 kB temporary per operation costs more than the arithmetic (measured: 1.4 ms
against 0.3 ms for a 160 x 120 frame with 2 x 2 sub-samples).

Contents:
    CameraOptics: the camera settings the renderer reads (``CameraConfig`` has them).
    GroundRays, ground_rays: per-pixel floor points of a mounted camera.
    TrackTexture, track_texture: the rasterised track, and a shared cache of them.
    render, render_batch: frames for one pose or many.
    lighting_table, postprocess, apply_lighting: brightness, contrast, gamma, noise.
    ROAD_LEVEL, LINE_LEVEL, CENTER_LINE_LEVEL, BACKGROUND_LEVEL, FLOOR_MATERIALS: the
        grey levels and floor materials.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from deepracer.tracks import Track

__all__ = [
    "BACKGROUND_LEVEL",
    "CENTER_LINE_LEVEL",
    "FLOOR_MATERIALS",
    "LINE_LEVEL",
    "ROAD_LEVEL",
    "CameraOptics",
    "GroundRays",
    "TrackTexture",
    "apply_lighting",
    "ground_rays",
    "lighting_table",
    "postprocess",
    "render",
    "render_batch",
    "track_texture",
]

FloatArray = NDArray[np.float64]
ByteArray = NDArray[np.uint8]

ROAD_LEVEL = 40
"""Grey level of the road surface (the DeepRacer mat is near black)."""
LINE_LEVEL = 235
"""Grey level of the white border lines."""
CENTER_LINE_LEVEL = 175
"""Grey level of the yellow dashed centre line (luma of a saturated yellow)."""
BACKGROUND_LEVEL = 190
"""Grey level of the sky and of everything beyond the floor or the view distance."""

LINE_WIDTH = 0.05
"""Width of the white border lines, centred on the route file's borders [m]."""
CENTER_LINE_WIDTH = 0.03
"""Width of the centre-line dashes [m]."""
DASH_LENGTH = 0.12
"""Length of one centre-line dash [m]; the gaps are as long."""

_SKY_X = np.float32(1.0e6)
# A sky ray is given this car-frame point (x = 1000 km, y = 0): any rotation moves it
# at least 700 km along one texture axis, so the clamped lookup lands on the
# texture's background border. One code path then serves sky and floor.

# Elements per lookup chunk in render_batch: about three float32 and two int32 buffers
# of this size (1.3 MB) stay in L2; larger chunks spill to memory and run slower.
_CHUNK_ELEMENTS = 65536


class CameraOptics(Protocol):
    """The camera settings :func:`ground_rays` reads (``CameraConfig`` provides them)."""

    @property
    def width(self) -> int:
        """Image width [px]."""
        ...

    @property
    def height(self) -> int:
        """Image height [px]."""
        ...

    @property
    def horizontal_fov(self) -> float:
        """Horizontal field of view [rad]."""
        ...

    @property
    def sensor_aspect(self) -> float:
        """Height / width of the simulated sensor (the image is it, resized) [-]."""
        ...

    @property
    def mount_forward(self) -> float:
        """Lens position ahead of the car origin [m]."""
        ...


# -- rays ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class GroundRays:
    """Where each (sub-)pixel's ray meets the floor, in the car frame.

    Pixel rows above ``first_row`` see no floor at all and are not stored. For the
    others, sub-sample ``k`` of pixel ``(row, col)`` is element
    ``[k, (row - first_row) * width + col]`` of ``x``/``y``; sub-samples are a
    ``supersample`` x ``supersample`` grid inside the pixel, row-major.

    Attributes:
        width: Image width [px].
        height: Image height [px]; row 0 is the top of the image.
        supersample: Sub-samples per pixel side (1 = one ray through each centre).
        first_row: First pixel row with a floor sub-sample.
        x: (S, P) float32 floor points ahead of the car origin [m]; sky = 1e6.
        y: (S, P) float32 floor points to the left of the car origin [m]; sky = 0.
        hit: (S, P) bool, True where the ray meets the floor within the view distance.
        camera_height: Lens height above the floor [m].
        pitch: Downward tilt of the optical axis [rad].
        lateral_offset: Lens position to the left of the car's centre line [m].
    """

    width: int
    height: int
    supersample: int
    first_row: int
    x: NDArray[np.float32]
    y: NDArray[np.float32]
    hit: NDArray[np.bool_]
    camera_height: float
    pitch: float
    lateral_offset: float

    @property
    def samples(self) -> int:
        """Sub-samples per pixel (``supersample ** 2``)."""
        return self.supersample * self.supersample


def ground_rays(
    config: CameraOptics,
    *,
    height: float,
    pitch_rad: float,
    lateral_offset: float = 0.0,
    supersample: int = 2,
    max_distance: float = 8.0,
) -> GroundRays:
    """Intersects every (sub-)pixel's ray with the floor, once per mounting.

    A pinhole camera with square sensor pixels: the horizontal field of view spans
    the sensor width and the vertical one follows from ``config.sensor_aspect``, so
    an image size of another aspect is the sensor resized to it (as the simapp
    resizes Gazebo's 640 x 480 to 160 x 120). A pixel's ray makes tangent
    ``u`` right and ``v`` down of the optical axis; with pitch ``p`` (nose down) it
    falls ``sin p + v cos p`` per unit of travel along the axis and meets the floor
    where that has dropped ``height``.

    Args:
        config: Image size, field of view, sensor aspect and the lens's forward
            position ``mount_forward`` [m] ahead of the car origin.
        height: Lens height above the floor [m] (> 0).
        pitch_rad: Downward tilt of the optical axis [rad].
        lateral_offset: Lens position left of the car's centre line [m].
        supersample: Rays per pixel side (>= 1); 2 averages 2 x 2 rays per pixel.
        max_distance: Floor points farther than this from the lens, horizontally,
            show the background [m].

    Returns:
        The rays, with sky and far rays marked in ``hit``.
    """
    if height <= 0.0:
        raise ValueError(f"camera height must be > 0 m, got {height!r}")
    if supersample < 1:
        raise ValueError(f"supersample must be >= 1, got {supersample!r}")
    width, rows = int(config.width), int(config.height)
    tan_h = math.tan(0.5 * config.horizontal_fov)
    fx = 0.5 * width / tan_h
    fy = 0.5 * rows / (tan_h * config.sensor_aspect)
    sub = (np.arange(supersample) + 0.5) / supersample
    # (S, H, W) grids of sub-sample positions, sub-sample index = a * supersample + b.
    row_pos = (np.arange(rows)[None, :] + sub[:, None]).repeat(supersample, axis=0)
    col_pos = np.tile(np.arange(width)[None, :] + sub[:, None], (supersample, 1))
    v = (row_pos[:, :, None] - 0.5 * rows) / fy  # (S, H, 1): down
    u = (col_pos[:, None, :] - 0.5 * width) / fx  # (S, 1, W): right
    sin_p, cos_p = math.sin(pitch_rad), math.cos(pitch_rad)
    drop = sin_p + v * cos_p  # fall per unit along the optical axis
    ahead = cos_p - v * sin_p  # horizontal travel per unit along the axis
    down = drop > 1e-9  # rays at or above the horizon never reach the floor
    t = height / np.where(down, drop, 1.0)
    gx = t * ahead  # (S, H, 1) metres ahead of the lens
    gy = -t * u  # (S, H, W) metres left of the lens
    hit = down & (np.hypot(gx, gy) <= max_distance)
    x = np.where(hit, config.mount_forward + gx, _SKY_X)
    y = np.where(hit, lateral_offset + gy, 0.0)
    any_row = hit.any(axis=(0, 2))
    first = int(np.argmax(any_row)) if any_row.any() else rows
    samples = supersample * supersample
    x32 = np.ascontiguousarray(x[:, first:, :].reshape(samples, -1), dtype=np.float32)
    y32 = np.ascontiguousarray(y[:, first:, :].reshape(samples, -1), dtype=np.float32)
    for arr in (x32, y32):
        arr.setflags(write=False)
    hits = np.ascontiguousarray(hit[:, first:, :].reshape(samples, -1))
    hits.setflags(write=False)
    return GroundRays(
        width=width,
        height=rows,
        supersample=supersample,
        first_row=first,
        x=x32,
        y=y32,
        hit=hits,
        camera_height=float(height),
        pitch=float(pitch_rad),
        lateral_offset=float(lateral_offset),
    )


# -- floor materials ----------------------------------------------------------------

_TILE = 512
# Floor textures repeat every 512 texels (5.12 m): generated once per material, far
# cheaper than noise over a whole 60 m track's box, and not visible at camera range.


def _smooth_noise(rng: np.random.Generator, cells: int, size: int = _TILE) -> FloatArray:
    """Periodic value noise: random values on a ``cells`` grid, smoothly interpolated.

    Periodic so that the tile repeats without seams; unit variance at the grid nodes.
    """
    grid = rng.standard_normal((cells, cells))
    pos = np.arange(size) * cells / size
    i0 = np.floor(pos).astype(np.intp)
    f = pos - i0
    f = f * f * (3.0 - 2.0 * f)  # smoothstep: no visible grid creases
    i0 %= cells
    i1 = (i0 + 1) % cells
    rows = grid[i0] * (1.0 - f)[:, None] + grid[i1] * f[:, None]  # (size, cells)
    return np.asarray(rows[:, i0] * (1.0 - f) + rows[:, i1] * f, dtype=np.float64)


def _floor_base(rng: np.random.Generator) -> FloatArray:
    # Plain mid-dark grey: the simapp's default floor is a uniform matte plane.
    del rng
    return np.full((_TILE, _TILE), 100.0)


def _floor_carpet(rng: np.random.Generator) -> FloatArray:
    # Fine pile: per-texel noise, slightly clumped by a 2 x 2 box, over a faint mottle.
    grain = rng.standard_normal((_TILE, _TILE))
    grain = 0.25 * (grain + np.roll(grain, 1, 0) + np.roll(grain, 1, 1) + np.roll(grain, 1, (0, 1)))
    return 95.0 + 28.0 * grain + 5.0 * _smooth_noise(rng, 32)


def _floor_concrete(rng: np.random.Generator) -> FloatArray:
    # Light grey with large soft blotches and a little sand-like grain.
    return (
        165.0
        + 14.0 * _smooth_noise(rng, 8)
        + 7.0 * _smooth_noise(rng, 48)
        + 4.0 * rng.standard_normal((_TILE, _TILE))
    )


def _floor_wood(rng: np.random.Generator) -> FloatArray:
    # Planks 16 cm wide along x, 1.28 m long with staggered ends, each its own shade,
    # with grain stripes along the plank and dark seams between planks.
    plank_w, plank_l = 16, 128
    rows = np.arange(_TILE)
    plank = rows // plank_w  # (T,)
    n_planks = _TILE // plank_w
    stagger = rng.integers(0, plank_l, n_planks)
    cols = np.arange(_TILE)
    piece = (cols[None, :] + stagger[plank][:, None]) // plank_l  # (T, T)
    shade = rng.uniform(120.0, 165.0, (n_planks, _TILE // plank_l + 1))
    base = shade[plank[:, None], piece]
    warp = 2.0 * _smooth_noise(rng, 16)
    grain = 7.0 * np.sin(2.0 * np.pi * rows[:, None] / 4.3 + warp)
    wood = base + grain + 3.0 * rng.standard_normal((_TILE, _TILE))
    seam_row = (rows % plank_w) == 0
    seam_col = ((cols[None, :] + stagger[plank][:, None]) % plank_l) == 0
    wood[seam_row, :] = 70.0
    wood[seam_col] = 70.0
    return np.asarray(wood, dtype=np.float64)


def _floor_asphalt(rng: np.random.Generator) -> FloatArray:
    # Dark and rough, with light and dark speckles of aggregate.
    floor = 62.0 + 7.0 * rng.standard_normal((_TILE, _TILE)) + 4.0 * _smooth_noise(rng, 24)
    u = rng.random((_TILE, _TILE))
    floor[u < 0.02] += 70.0
    floor[u > 0.98] -= 25.0
    return floor


FLOOR_MATERIALS: dict[str, Callable[[np.random.Generator], FloatArray]] = {
    "base": _floor_base,
    "carpet": _floor_carpet,
    "concrete": _floor_concrete,
    "wood": _floor_wood,
    "asphalt": _floor_asphalt,
}
"""Floor material name -> generator of a periodic 512 x 512 tile of grey levels."""


@lru_cache(maxsize=len(FLOOR_MATERIALS))
def _floor_tile(material: str) -> ByteArray:
    """Returns the material's floor tile (uint8, read-only), from a fixed seed."""
    if material not in FLOOR_MATERIALS:
        raise ValueError(
            f"unknown floor material {material!r}; valid: {', '.join(FLOOR_MATERIALS)}"
        )
    seed = 7919 + list(FLOOR_MATERIALS).index(material)
    tile = np.clip(np.rint(FLOOR_MATERIALS[material](np.random.default_rng(seed))), 0, 255)
    out = tile.astype(np.uint8)
    out.setflags(write=False)
    return out


# -- texture ------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TrackTexture:
    """A track rasterised into grey levels, viewed from above.

    Texel ``pixels[i, j]`` covers world ``x`` in ``[x0 + j r, x0 + (j + 1) r)`` and
    ``y`` in ``[y0 + i r, y0 + (i + 1) r)`` with ``r = resolution``: row 0 is the
    smallest y (a map, not an image). The outermost texels hold
    :data:`BACKGROUND_LEVEL`, so a lookup clamped to the edges reads background.

    Attributes:
        pixels: (rows, cols) uint8 grey levels, read-only and C-contiguous.
        x0: World x of the texture's left edge [m].
        y0: World y of the texture's bottom edge [m].
        resolution: Texel size [m].
        material: The floor material name.
    """

    pixels: ByteArray
    x0: float
    y0: float
    resolution: float
    material: str = "base"

    def __post_init__(self) -> None:
        if self.pixels.ndim != 2 or self.pixels.dtype != np.uint8:
            raise ValueError("pixels must be a 2-D uint8 array")
        if not self.pixels.flags.c_contiguous:
            object.__setattr__(self, "pixels", np.ascontiguousarray(self.pixels))

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)`` of the texture [texels]."""
        rows, cols = self.pixels.shape
        return int(rows), int(cols)

    @property
    def nbytes(self) -> int:
        """Memory held by the texels [bytes]."""
        return int(self.pixels.nbytes)

    @classmethod
    def build(
        cls,
        track: Track,
        material: str = "base",
        *,
        resolution: float = 0.01,
        margin: float = 2.0,
    ) -> TrackTexture:
        """Rasterises a track: floor, road, centre dashes, border lines (in that order).

        The road is the track's road polygon filled scanline by scanline with the
        even-odd rule (the same region ``Track.on_road`` reports); lines are stamped
        segment piece by piece, each piece testing only the texels near it.

        Args:
            track: The track; its driving direction does not matter.
            material: Floor material, a key of :data:`FLOOR_MATERIALS`.
            resolution: Texel size [m].
            margin: Floor shown around the track's bounding box [m]; beyond it the
                camera sees background.
        """
        tile = _floor_tile(material)
        rows_wp = track.waypoints_array
        lo = rows_wp.reshape(-1, 2).min(axis=0) - margin
        hi = rows_wp.reshape(-1, 2).max(axis=0) + margin
        n_cols = math.ceil((hi[0] - lo[0]) / resolution)
        n_rows = math.ceil((hi[1] - lo[1]) / resolution)
        x0, y0 = float(lo[0]), float(lo[1])
        reps = (n_rows // _TILE + 1, n_cols // _TILE + 1)
        pixels = np.tile(tile, reps)[:n_rows, :n_cols].copy()
        grid = _Grid(x0, y0, resolution, n_rows, n_cols)

        centre, inner, outer = rows_wp[:, 0:2], rows_wp[:, 2:4], rows_wp[:, 4:6]
        rings = [outer, inner] if track.is_loop else [np.vstack([outer, inner[::-1], outer[:1]])]
        pixels[_fill_rings(grid, rings)] = ROAD_LEVEL

        length = float(track.center.length)
        period = 2.0 * DASH_LENGTH
        if track.is_loop:  # a whole number of dashes, so the start shows no seam
            period = length / max(1, round(length / period))
        flat = pixels.reshape(-1)
        dashes = _stamp_polyline(grid, centre, 0.5 * CENTER_LINE_WIDTH, dash=(period, 0.5))
        _paint(flat, dashes, CENTER_LINE_LEVEL)
        lines = [inner, outer]
        if not track.is_loop:  # close the road at both ends
            lines += [np.vstack([inner[0], outer[0]]), np.vstack([inner[-1], outer[-1]])]
        stamps = [_stamp_polyline(grid, line, 0.5 * LINE_WIDTH) for line in lines]
        _paint(
            flat,
            (np.concatenate([i for i, _ in stamps]), np.concatenate([a for _, a in stamps])),
            LINE_LEVEL,
        )

        pixels[[0, -1], :] = BACKGROUND_LEVEL
        pixels[:, [0, -1]] = BACKGROUND_LEVEL
        pixels.setflags(write=False)
        return cls(pixels=pixels, x0=x0, y0=y0, resolution=resolution, material=material)

    def lookup(self, points: ArrayLike) -> ByteArray:
        """Returns the texel (K,) under each world point (K, 2) [m]; background outside."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        rows, cols = self.shape
        j = np.floor((p[:, 0] - self.x0) / self.resolution)
        i = np.floor((p[:, 1] - self.y0) / self.resolution)
        inside = (i >= 0) & (i < rows) & (j >= 0) & (j < cols)
        out = np.full(len(p), BACKGROUND_LEVEL, dtype=np.uint8)
        out[inside] = self.pixels[i[inside].astype(np.intp), j[inside].astype(np.intp)]
        return out


@dataclass(frozen=True)
class _Grid:
    """Texel grid geometry used while rasterising."""

    x0: float
    y0: float
    res: float
    rows: int
    cols: int


def _fill_rings(grid: _Grid, rings: Sequence[FloatArray]) -> NDArray[np.bool_]:
    """Returns the texels whose centres lie inside the rings (even-odd rule).

    For every edge, the texel rows whose centre line it crosses (half-open in y, so
    a vertex is counted once) give a crossing x; texels right of an odd number of
    crossings are inside. Crossings are toggles accumulated along each row.
    """
    starts = np.vstack([r[:-1] for r in rings])
    ends = np.vstack([r[1:] for r in rings])
    ya, yb = starts[:, 1], ends[:, 1]
    ylo, yhi = np.minimum(ya, yb), np.maximum(ya, yb)
    jlo = np.ceil((ylo - grid.y0) / grid.res - 0.5).astype(np.intp)
    jhi = np.ceil((yhi - grid.y0) / grid.res - 0.5).astype(np.intp)
    counts = np.maximum(jhi - jlo, 0)
    edge = np.repeat(np.arange(len(starts)), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    row = jlo[edge] + (np.arange(len(edge)) - first)
    yc = grid.y0 + (row + 0.5) * grid.res
    a, b = starts[edge], ends[edge]
    xc = a[:, 0] + (yc - a[:, 1]) * (b[:, 0] - a[:, 0]) / (b[:, 1] - a[:, 1])
    col = np.ceil((xc - grid.x0) / grid.res - 0.5).astype(np.intp)
    keep = (row >= 0) & (row < grid.rows)
    row, col = row[keep], np.clip(col[keep], 0, grid.cols)
    toggles = np.zeros((grid.rows, grid.cols + 1), dtype=np.uint8)
    # Counts wrap at 256 but only their parity matters.
    np.add.at(toggles, (row, col), 1)
    inside = np.cumsum(toggles, axis=1, dtype=np.uint8) & 1
    return np.asarray(inside[:, : grid.cols].astype(bool))


def _stamp_polyline(
    grid: _Grid,
    points: FloatArray,
    half_width: float,
    *,
    dash: tuple[float, float] | None = None,
    piece: float = 0.04,
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Returns the texels a polyline of some width covers, with their coverage.

    Segments are cut into pieces at most ``piece`` long; each piece tests a fixed
    square of texels around itself, so the work is linear in the line length and
    independent of the texture size. Coverage ramps over one texel across each edge:
    near the car one texel spans several pixels, and a soft edge hides its staircase.

    Args:
        grid: The texel grid.
        points: (M, 2) vertices [m].
        half_width: Half the line width [m].
        dash: ``(period, duty)``: draw only where the arc length ``s`` of the nearest
            line point has ``s mod period < duty * period`` (a dashed line) [m, -].
        piece: Longest piece [m].

    Returns:
        ``(flat_index, alpha)``: texels (may repeat; keep the largest alpha) and
        their coverage in (0, 1].
    """
    seg = np.diff(points, axis=0)
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    ok = seg_len > 0.0
    starts, seg, seg_len = points[:-1][ok], seg[ok], seg_len[ok]
    s_start = np.concatenate(([0.0], np.cumsum(seg_len)[:-1]))
    n = np.maximum(np.ceil(seg_len / piece).astype(np.intp), 1)
    owner = np.repeat(np.arange(len(seg)), n)
    k = np.arange(len(owner)) - np.repeat(np.cumsum(n) - n, n)
    frac0 = k / n[owner]
    frac1 = (k + 1) / n[owner]
    p0 = starts[owner] + frac0[:, None] * seg[owner]
    vec = (frac1 - frac0)[:, None] * seg[owner]
    s0 = s_start[owner] + frac0 * seg_len[owner]
    reach = half_width + 0.5 * grid.res  # texels this close are at least partly covered
    size = math.ceil((piece + 2.0 * reach) / grid.res) + 2
    corner = np.minimum(p0, p0 + vec) - reach
    ci = np.floor((corner[:, 0] - grid.x0) / grid.res).astype(np.intp)
    ri = np.floor((corner[:, 1] - grid.y0) / grid.res).astype(np.intp)
    offs = np.arange(size)
    cols = ci[:, None, None] + offs[None, None, :]  # (K, 1, size)
    rows = ri[:, None, None] + offs[None, :, None]  # (K, size, 1)
    cx = grid.x0 + (cols + 0.5) * grid.res - p0[:, 0, None, None]
    cy = grid.y0 + (rows + 0.5) * grid.res - p0[:, 1, None, None]
    vx, vy = vec[:, 0, None, None], vec[:, 1, None, None]
    len2 = vx * vx + vy * vy
    t = np.clip((cx * vx + cy * vy) / len2, 0.0, 1.0)
    dist = np.hypot(cx - t * vx, cy - t * vy)
    alpha = np.clip((half_width - dist) / grid.res + 0.5, 0.0, 1.0)
    if dash is not None:
        period, duty = dash
        on = duty * period
        phase = np.mod(s0[:, None, None] + t * np.sqrt(len2), period)
        depth = np.where(
            phase <= on, np.minimum(phase, on - phase), -np.minimum(phase - on, period - phase)
        )
        alpha *= np.clip(depth / grid.res + 0.5, 0.0, 1.0)
    rows_b, cols_b = np.broadcast_arrays(rows, cols)
    keep = (alpha > 0.0) & (rows_b >= 0) & (rows_b < grid.rows)
    keep &= (cols_b >= 0) & (cols_b < grid.cols)
    return rows_b[keep] * grid.cols + cols_b[keep], alpha[keep]


def _paint(
    flat: ByteArray, stamps: tuple[NDArray[np.intp], NDArray[np.float64]], level: int
) -> None:
    """Blends ``level`` into the texels of ``stamps``, each by its largest coverage."""
    index, alpha = stamps
    order = np.lexsort((alpha, index))  # by texel, then coverage: a group's last is max
    index, alpha = index[order], alpha[order]
    last = np.ones(len(index), dtype=bool)
    last[:-1] = index[1:] != index[:-1]
    index, alpha = index[last], alpha[last]
    flat[index] = np.rint(flat[index] * (1.0 - alpha) + level * alpha).astype(np.uint8)


_TEXTURES: OrderedDict[tuple[str, str, float, float], TrackTexture] = OrderedDict()
_TEXTURES_LOCK = threading.Lock()
_TEXTURES_MAX = 8


def _geometry_key(track: Track) -> str:
    """A digest of the track's geometry, the same for both driving directions."""
    rows = track.waypoints_array
    if track.reverse:
        rows = rows[::-1]
    return hashlib.sha1(np.ascontiguousarray(rows).tobytes(), usedforsecurity=False).hexdigest()


def track_texture(
    track: Track, material: str = "base", *, resolution: float = 0.01, margin: float = 2.0
) -> TrackTexture:
    """Returns the texture of a track, shared by every caller with the same geometry.

    Textures are cached by (track geometry, material, resolution, margin), so all envs
    of a process on one world share one texture; the least recently used of more than
    eight is dropped.

    Args:
        track: The track (either driving direction gives the same texture).
        material: Floor material, a key of :data:`FLOOR_MATERIALS`.
        resolution: Texel size [m].
        margin: Floor around the track's bounding box [m].
    """
    key = (_geometry_key(track), material, float(resolution), float(margin))
    with _TEXTURES_LOCK:
        hit = _TEXTURES.get(key)
        if hit is not None:
            _TEXTURES.move_to_end(key)
            return hit
    texture = TrackTexture.build(track, material, resolution=resolution, margin=margin)
    with _TEXTURES_LOCK:
        texture = _TEXTURES.setdefault(key, texture)
        _TEXTURES.move_to_end(key)
        while len(_TEXTURES) > _TEXTURES_MAX:
            _TEXTURES.popitem(last=False)
    return texture


# -- rendering ----------------------------------------------------------------------

_LOCAL = threading.local()


def _workspace(n: int) -> tuple[NDArray[np.float32], ...]:
    """Returns this thread's float32 scratch buffers (3) of at least ``n`` elements."""
    ws: tuple[NDArray[np.float32], ...] | None = getattr(_LOCAL, "floats", None)
    if ws is None or ws[0].size < n:
        ws = tuple(np.empty(n, dtype=np.float32) for _ in range(3))
        _LOCAL.floats = ws
    return ws


def _int_workspace(n: int) -> tuple[NDArray[np.int32], ...]:
    """Returns this thread's int32 scratch buffers (2) of at least ``n`` elements."""
    ws: tuple[NDArray[np.int32], ...] | None = getattr(_LOCAL, "ints", None)
    if ws is None or ws[0].size < n:
        ws = tuple(np.empty(n, dtype=np.int32) for _ in range(2))
        _LOCAL.ints = ws
    return ws


def _lookup(texture: TrackTexture, rays: GroundRays, poses: FloatArray) -> ByteArray:
    """Returns the texels (k, S, P) seen by the rays from k poses (x, y, yaw)."""
    k = len(poses)
    samples, points = rays.x.shape
    n = k * samples * points
    res = texture.resolution
    rows, cols = texture.shape
    # Pose terms in texel units, so the transform lands directly on texel indices.
    c = (np.cos(poses[:, 2]) / res).astype(np.float32)[:, None]
    s = (np.sin(poses[:, 2]) / res).astype(np.float32)[:, None]
    ox = ((poses[:, 0] - texture.x0) / res).astype(np.float32)[:, None]
    oy = ((poses[:, 1] - texture.y0) / res).astype(np.float32)[:, None]
    fb = _workspace(n)
    col, row, tmp = (b[:n].reshape(k, samples * points) for b in fb)
    ib = _int_workspace(n)
    icol, irow = (b[:n].reshape(k, samples * points) for b in ib)
    x = rays.x.reshape(1, -1)
    y = rays.y.reshape(1, -1)
    np.multiply(x, c, out=col)
    np.multiply(y, s, out=tmp)
    np.subtract(col, tmp, out=col)
    np.add(col, ox, out=col)
    np.multiply(x, s, out=row)
    np.multiply(y, c, out=tmp)
    np.add(row, tmp, out=row)
    np.add(row, oy, out=row)
    # Clamp onto the background border, then truncate (= floor, as all are >= 0).
    np.clip(col, 0, cols - 1, out=col)
    np.clip(row, 0, rows - 1, out=row)
    np.copyto(icol, col, casting="unsafe")
    np.copyto(irow, row, casting="unsafe")
    irow *= cols
    irow += icol
    values = np.take(texture.pixels.reshape(-1), irow)
    return np.asarray(values.reshape(k, samples, points))


def _average(values: ByteArray, rays: GroundRays, out: ByteArray) -> None:
    """Writes the mean of the sub-samples (k, S, P) into ``out`` (k, H, W), rounded."""
    k, samples, _ = values.shape
    out[:, : rays.first_row, :] = BACKGROUND_LEVEL
    body = out[:, rays.first_row :, :].reshape(k, -1)
    if samples == 1:
        body[...] = values[:, 0]
        return
    acc = values[:, 0].astype(np.uint16)
    for i in range(1, samples):
        acc += values[:, i]
    acc += samples // 2
    acc //= samples
    body[...] = acc


def render(
    texture: TrackTexture, rays: GroundRays, pose_xy: Sequence[float], yaw: float
) -> ByteArray:
    """Renders one frame.

    Args:
        texture: The track texture.
        rays: The camera's floor points (car frame).
        pose_xy: Car origin (x, y) in the world [m].
        yaw: Car heading [rad].

    Returns:
        (height, width) uint8 grey levels, row 0 at the top of the image.
    """
    pose = np.array([[float(pose_xy[0]), float(pose_xy[1]), float(yaw)]], dtype=np.float64)
    out = np.empty((1, rays.height, rays.width), dtype=np.uint8)
    _average(_lookup(texture, rays, pose), rays, out)
    frame: ByteArray = out[0]
    return frame


def render_batch(texture: TrackTexture, rays: GroundRays, poses: ArrayLike) -> ByteArray:
    """Renders one frame per pose, in cache-sized chunks of poses.

    Args:
        texture: The track texture.
        rays: The camera's floor points (car frame).
        poses: (N, 3) car origins and headings ``(x [m], y [m], yaw [rad])``.

    Returns:
        (N, height, width) uint8, frame ``i`` equal to ``render`` of pose ``i``.
    """
    p = np.asarray(poses, dtype=np.float64).reshape(-1, 3)
    out = np.empty((len(p), rays.height, rays.width), dtype=np.uint8)
    chunk = max(1, _CHUNK_ELEMENTS // max(1, rays.x.size))
    for i in range(0, len(p), chunk):
        _average(_lookup(texture, rays, p[i : i + chunk]), rays, out[i : i + chunk])
    return out


# -- lighting and noise -------------------------------------------------------------


def lighting_table(
    brightness: float = 1.0, contrast: float = 1.0, gamma: float = 1.0
) -> ByteArray | None:
    """Returns a 256-entry grey-level map for the lighting, or None when it is identity.

    With intensities ``I = level / 255``: ``I * brightness``, then
    ``(I - 0.5) * contrast + 0.5``, clipped to [0, 1], then ``I ** gamma`` (gamma > 1
    darkens the mid-tones), rounded back to levels.

    Args:
        brightness: Intensity factor [-].
        contrast: Factor about mid-grey [-].
        gamma: Exponent on intensities in [0, 1] [-].
    """
    if brightness == 1.0 and contrast == 1.0 and gamma == 1.0:
        return None
    i = np.arange(256, dtype=np.float64) / 255.0
    i = np.clip((i * brightness - 0.5) * contrast + 0.5, 0.0, 1.0) ** gamma
    return np.asarray(np.rint(i * 255.0), dtype=np.uint8)


def postprocess(
    images: ByteArray,
    *,
    table: ByteArray | None = None,
    noise_std: float = 0.0,
    rng: np.random.Generator | None = None,
) -> ByteArray:
    """Applies a lighting table and Gaussian sensor noise; returns a new uint8 array.

    Args:
        images: uint8 images of any shape.
        table: A :func:`lighting_table` result (None = no change).
        noise_std: Standard deviation of the per-pixel noise [grey levels].
        rng: Generator for the noise; required when ``noise_std > 0``, the only
            source of randomness.

    Raises:
        ValueError: ``noise_std`` is negative, or positive without a generator.
    """
    out = table[images] if table is not None else images.copy()
    if noise_std < 0.0:
        raise ValueError(f"noise_std must be >= 0, got {noise_std!r}")
    if noise_std > 0.0:
        if rng is None:
            raise ValueError("pixel noise needs a random generator")
        noisy = rng.standard_normal(out.shape, dtype=np.float32)
        noisy *= np.float32(noise_std)
        noisy += out
        noisy += np.float32(0.5)  # round to nearest on the truncating cast below
        np.clip(noisy, 0.0, 255.0, out=noisy)
        out = noisy.astype(np.uint8)
    return np.asarray(out, dtype=np.uint8)


def apply_lighting(
    images: ByteArray,
    *,
    brightness: float = 1.0,
    contrast: float = 1.0,
    gamma: float = 1.0,
    noise_std: float = 0.0,
    rng: np.random.Generator | None = None,
) -> ByteArray:
    """Brightness, contrast about mid-grey, gamma, then Gaussian noise (see above).

    Args:
        images: uint8 images of any shape.
        brightness: Intensity factor [-].
        contrast: Factor about mid-grey [-].
        gamma: Exponent on intensities in [0, 1] [-].
        noise_std: Per-pixel noise standard deviation [grey levels].
        rng: Generator for the noise (required when ``noise_std > 0``).
    """
    table = lighting_table(brightness, contrast, gamma)
    return postprocess(images, table=table, noise_std=noise_std, rng=rng)
