"""First-person grayscale camera images of a DeepRacer world, by inverse perspective.

The floor is a plane, so where each pixel's ray meets it depends only on the camera
mounting, not on the car's pose. :func:`ground_rays` computes, once per mounting and
in the car frame, every (sub-)pixel ray's floor point and its horizontal direction and
fall. A frame is then, per ray, one rigid 2-D transform by the car pose and one
lookup in a pre-rasterised 5 mm texture of the floor (:class:`TrackTexture`: the
field, the road, its white border lines and orange centre dashes, each textured with
the simapp's own textures); a ray that meets no floor inside the hall meets one of
its four walls, or passes over them into the sky (an exact ray-rectangle exit, so
the walls occlude the floor behind them). Obstacles and bot cars are upright boxes
(:mod:`deepracer.rendering.objects`): per pose each box is moved into the lens frame
and only the rays inside its projected corners are slab-tested; a ray that meets a
box before the floor shows the nearest box's face.

The texture holds codes, not grey levels (:mod:`deepracer.rendering.scene`): a part
and a quantised texture detail. A 256-entry table turns codes into grey levels (the
car's OpenCV BGR2GRAY of each part's lit colour, times its detail), so per-episode
lighting and part colours change a table, never the texture.

The loop runs compiled (:func:`deepracer.accel.camera_frames`) when numba is
installed, else as numpy; both give the same frames (the tests compare them).

Contents:
    CameraOptics: the camera settings the renderer reads (``CameraConfig`` has them).
    GroundRays, ground_rays: per-ray floor points and directions of a mounted camera.
    TrackTexture, track_texture: the rasterised floor and hall, and a shared cache.
    render, render_batch: frames for one pose or many.
    lighting_table, postprocess, apply_lighting: brightness, contrast, gamma, noise.
    LINE_WIDTH, CENTER_LINE_WIDTH, DASH_LENGTH: the painted lines' geometry.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from deepracer import accel
from deepracer.rendering import objects as ob
from deepracer.rendering import scene as sc
from deepracer.rendering.objects import ObjectBoxes
from deepracer.rendering.scene import SceneConfig
from deepracer.tracks import Track

__all__ = [
    "CENTER_LINE_WIDTH",
    "DASH_LENGTH",
    "LINE_WIDTH",
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

# The painted lines of the simapp's track meshes (meshes/reinvent/reinvent_base.dae,
# measured against the route file): 3 in border lines inside the road, 1 in x 2 in
# centre dashes with 2 in gaps.
LINE_WIDTH = 0.0762
"""Width of the white border lines, inside the road from each route border [m]."""
CENTER_LINE_WIDTH = 0.0254
"""Width of the centre-line dashes [m]."""
DASH_LENGTH = 0.0508
"""Length of one centre-line dash [m]; the gaps are as long."""


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
    """Every (sub-)pixel ray of a mounted camera, in the car frame.

    A pixel's sub-samples are a ``supersample`` x ``supersample`` grid inside it, so
    the rays form a grid of ``height * supersample`` sub-rows by ``width *
    supersample`` sub-columns. Per unit of travel along the optical axis, the ray of
    sub-row ``i`` and sub-column ``j`` moves ``ahead[i]`` forward and ``left[j]`` to
    the left, and falls ``drop[i]``: three short vectors describe them all (and stay
    in the processor's cache while a frame is drawn).

    Attributes:
        width: Image width [px].
        height: Image height [px]; row 0 is the top of the image.
        supersample: Sub-samples per pixel side (1 = one ray through each centre).
        ahead: (height * supersample,) forward travel per unit along the axis.
        drop: (height * supersample,) fall per unit along the axis (<= 0: the ray
            never reaches the floor).
        left: (width * supersample,) leftward travel per unit along the axis.
        camera_height: Lens height above the floor [m].
        pitch: Downward tilt of the optical axis [rad].
        lateral_offset: Lens position to the left of the car's centre line [m].
        mount_forward: Lens position ahead of the car origin [m].
        max_distance: Floor farther than this from the lens is not looked up [m].
    """

    width: int
    height: int
    supersample: int
    ahead: FloatArray
    drop: FloatArray
    left: FloatArray
    camera_height: float
    pitch: float
    lateral_offset: float
    mount_forward: float
    max_distance: float

    @property
    def samples(self) -> int:
        """Sub-samples per pixel (``supersample ** 2``)."""
        return self.supersample * self.supersample

    def floor_points(self) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
        """Where each sub-sample ray meets the floor, in the car frame.

        Returns:
            ``(x, y, hit)``, each (height * supersample, width * supersample): metres
            ahead of and left of the car origin, and whether the ray meets the floor
            within ``max_distance`` (x, y are 0 where it does not).
        """
        down = self.drop > 1e-9
        t = np.where(down, self.camera_height / np.where(down, self.drop, 1.0), 0.0)
        gx = (t * self.ahead)[:, None]
        gy = t[:, None] * self.left[None, :]
        room = self.max_distance * self.max_distance - gx * gx
        hit = down[:, None] & (gy * gy <= room)
        x = np.where(hit, self.mount_forward + gx, 0.0)
        y = np.where(hit, self.lateral_offset + gy, 0.0)
        return x, y, np.asarray(hit)


def ground_rays(
    config: CameraOptics,
    *,
    height: float,
    pitch_rad: float,
    lateral_offset: float = 0.0,
    supersample: int = 2,
    max_distance: float = 50.0,
) -> GroundRays:
    """Computes the rays of a mounted camera, once per mounting.

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
        max_distance: Floor farther than this from the lens, horizontally, is not
            looked up: the ray goes on to the walls or the sky [m].

    Returns:
        The rays.
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
    row_pos = (np.arange(rows)[:, None] + sub[None, :]).reshape(-1)  # sub-rows, top first
    col_pos = (np.arange(width)[:, None] + sub[None, :]).reshape(-1)
    v = (row_pos - 0.5 * rows) / fy  # down
    u = (col_pos - 0.5 * width) / fx  # right
    sin_p, cos_p = math.sin(pitch_rad), math.cos(pitch_rad)

    def frozen(a: NDArray[np.floating[Any]]) -> FloatArray:
        out = np.ascontiguousarray(a, dtype=np.float64)
        out.setflags(write=False)
        return out

    return GroundRays(
        width=width,
        height=rows,
        supersample=supersample,
        ahead=frozen(cos_p - v * sin_p),
        drop=frozen(sin_p + v * cos_p),
        left=frozen(-u),
        camera_height=float(height),
        pitch=float(pitch_rad),
        lateral_offset=float(lateral_offset),
        mount_forward=float(config.mount_forward),
        max_distance=float(max_distance),
    )


# -- texture ------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TrackTexture:
    """A world's floor rasterised into codes, viewed from above, and its hall.

    Texel ``codes[i, j]`` covers world ``x`` in ``[x0 + j r, x0 + (j + 1) r)`` and
    ``y`` in ``[y0 + i r, y0 + (i + 1) r)`` with ``r = resolution``: row 0 is the
    smallest y (a map, not an image). Texels outside the field (and the outermost
    ring, where lookups clamp) hold the ``beyond`` code: rays that land there see the
    wall in front instead.

    Attributes:
        codes: (rows, cols) uint8 codes (:func:`deepracer.rendering.scene.code`),
            read-only and C-contiguous.
        x0: World x of the texture's left edge [m].
        y0: World y of the texture's bottom edge [m].
        resolution: Texel size [m].
        rectangle: The field inside the walls (x_min, y_min, x_max, y_max) [m].
        wall_height: Height of the walls [m].
        texture_contrast: How strongly the textures' grain shows (the scene's).
        colors: (parts, 3) lit RGB colour of each part.
        table: The code -> grey level table of those colours, without randomisation.
        material: The floor material name.
    """

    codes: ByteArray
    x0: float
    y0: float
    resolution: float
    rectangle: tuple[float, float, float, float]
    wall_height: float
    texture_contrast: float
    colors: FloatArray
    table: ByteArray
    material: str = "base"

    def __post_init__(self) -> None:
        if self.codes.ndim != 2 or self.codes.dtype != np.uint8:
            raise ValueError("codes must be a 2-D uint8 array")
        if not self.codes.flags.c_contiguous:
            object.__setattr__(self, "codes", np.ascontiguousarray(self.codes))

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)`` of the texture [texels]."""
        rows, cols = self.codes.shape
        return int(rows), int(cols)

    @property
    def nbytes(self) -> int:
        """Memory held by the texels [bytes]."""
        return int(self.codes.nbytes)

    @property
    def pixels(self) -> ByteArray:
        """The floor's grey levels (the default table applied to the codes)."""
        return np.asarray(self.table[self.codes])

    @classmethod
    def build(
        cls,
        track: Track,
        material: str = "base",
        *,
        scene: SceneConfig | None = None,
        resolution: float = 0.005,
    ) -> TrackTexture:
        """Rasterises a world's floor: field, road, centre dashes, border lines.

        The road is the track's road polygon filled scanline by scanline with the
        even-odd rule (the same region ``Track.on_road`` reports); lines are stamped
        segment piece by piece, each piece testing only the texels near it; a texel
        takes a line's code where the line covers at least half of it.

        Args:
            track: The track; its driving direction does not matter.
            material: Floor material, a key of
                :data:`deepracer.rendering.scene.FIELD_TEXTURES`.
            scene: The hall (default: :class:`SceneConfig`'s).
            resolution: Texel size [m].
        """
        if material not in sc.FIELD_TEXTURES:
            raise ValueError(
                f"unknown floor material {material!r}; valid: {', '.join(sc.FIELD_TEXTURES)}"
            )
        scene = scene or SceneConfig()
        rows_wp = track.waypoints_array
        rect = scene.rectangle(rows_wp[:, 2:6].reshape(-1, 2))
        x0, y0 = rect[0] - resolution, rect[1] - resolution
        n_cols = math.ceil((rect[2] - rect[0]) / resolution) + 2
        n_rows = math.ceil((rect[3] - rect[1]) / resolution) + 2
        grid = _Grid(x0, y0, resolution, n_rows, n_cols)
        xs = x0 + (np.arange(n_cols) + 0.5) * resolution
        ys = y0 + (np.arange(n_rows) + 0.5) * resolution
        codes = sc.detail_codes(sc.FIELD_TEXTURES[material], sc.FIELD, xs, ys)

        centre, inner, outer = rows_wp[:, 0:2], rows_wp[:, 2:4], rows_wp[:, 4:6]
        rings = [outer, inner] if track.is_loop else [np.vstack([outer, inner[::-1], outer[:1]])]
        road = _fill_rings(grid, rings)
        codes[road] = sc.detail_codes("road", sc.ROAD, xs, ys)[road]

        length = float(track.center.length)
        period = 2.0 * DASH_LENGTH
        if track.is_loop:  # a whole number of dashes, so the start shows no seam
            period = length / max(1, round(length / period))
        dashes = _covered(grid, _stamp_polyline(grid, centre, 0.5 * CENTER_LINE_WIDTH,
                                                dash=(period, 0.5)))  # fmt: skip
        codes[dashes] = sc.detail_codes("center_line", sc.CENTER_LINE, xs, ys)[dashes]
        lines = [_inward(inner, centre), _inward(outer, centre)]
        if not track.is_loop:  # close the road at both ends
            lines += [np.vstack([inner[0], outer[0]]), np.vstack([inner[-1], outer[-1]])]
        painted = np.zeros_like(road)
        for line in lines:
            painted |= _covered(grid, _stamp_polyline(grid, line, 0.5 * LINE_WIDTH))
        codes[painted] = sc.detail_codes("line", sc.LINE, xs, ys)[painted]

        outside = ~((xs[None, :] >= rect[0]) & (xs[None, :] < rect[2])
                    & (ys[:, None] >= rect[1]) & (ys[:, None] < rect[3]))  # fmt: skip
        codes[outside] = sc.code(sc.BEYOND)
        codes[[0, -1], :] = sc.code(sc.BEYOND)
        codes[:, [0, -1]] = sc.code(sc.BEYOND)
        codes.setflags(write=False)
        colors = sc.part_colors(scene, rect, material)
        colors.setflags(write=False)
        table = sc.code_table(colors, texture_contrast=scene.texture_contrast)
        table.setflags(write=False)
        return cls(
            codes=codes,
            x0=x0,
            y0=y0,
            resolution=resolution,
            rectangle=rect,
            wall_height=scene.wall_height,
            texture_contrast=scene.texture_contrast,
            colors=colors,
            table=table,
            material=material,
        )

    def lookup(self, points: ArrayLike) -> ByteArray:
        """Returns the code (K,) under each world point (K, 2) [m]; ``beyond`` outside."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        rows, cols = self.shape
        j = np.floor((p[:, 0] - self.x0) / self.resolution)
        i = np.floor((p[:, 1] - self.y0) / self.resolution)
        inside = (i >= 0) & (i < rows) & (j >= 0) & (j < cols)
        out = np.full(len(p), sc.code(sc.BEYOND), dtype=np.uint8)
        out[inside] = self.codes[i[inside].astype(np.intp), j[inside].astype(np.intp)]
        return out


def _inward(border: FloatArray, centre: FloatArray) -> FloatArray:
    """A border moved half a line width towards the centre line: the line's middle."""
    toward = centre - border
    norm = np.maximum(np.hypot(toward[:, 0], toward[:, 1]), 1e-9)[:, None]
    return np.asarray(border + toward / norm * (0.5 * LINE_WIDTH), dtype=np.float64)


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


def _covered(
    grid: _Grid, stamps: tuple[NDArray[np.intp], NDArray[np.float64]]
) -> NDArray[np.bool_]:
    """The texels a stamp covers at least half of, as a (rows, cols) mask."""
    index, alpha = stamps
    mask = np.zeros(grid.rows * grid.cols, dtype=bool)
    mask[index[alpha >= 0.5]] = True
    return mask.reshape(grid.rows, grid.cols)


_TEXTURES: OrderedDict[tuple[str, str, SceneConfig, float], TrackTexture] = OrderedDict()
_TEXTURES_LOCK = threading.Lock()
_TEXTURES_MAX = 8


def _geometry_key(track: Track) -> str:
    """A digest of the track's geometry, the same for both driving directions."""
    rows = track.waypoints_array
    if track.reverse:
        rows = rows[::-1]
    return hashlib.sha1(np.ascontiguousarray(rows).tobytes(), usedforsecurity=False).hexdigest()


def track_texture(
    track: Track,
    material: str = "base",
    *,
    scene: SceneConfig | None = None,
    resolution: float = 0.005,
) -> TrackTexture:
    """Returns the texture of a world, shared by every caller with the same geometry.

    Textures are cached by (track geometry, material, scene, resolution), so all envs
    of a process on one world share one texture; the least recently used of more than
    eight is dropped.

    Args:
        track: The track (either driving direction gives the same texture).
        material: Floor material (see :meth:`TrackTexture.build`).
        scene: The hall (default: :class:`SceneConfig`'s).
        resolution: Texel size [m].
    """
    scene = scene or SceneConfig()
    key = (_geometry_key(track), material, scene, float(resolution))
    with _TEXTURES_LOCK:
        hit = _TEXTURES.get(key)
        if hit is not None:
            _TEXTURES.move_to_end(key)
            return hit
    texture = TrackTexture.build(track, material, scene=scene, resolution=resolution)
    with _TEXTURES_LOCK:
        texture = _TEXTURES.setdefault(key, texture)
        _TEXTURES.move_to_end(key)
        while len(_TEXTURES) > _TEXTURES_MAX:
            _TEXTURES.popitem(last=False)
    return texture


# -- rendering ----------------------------------------------------------------------

_WALL_CODES = np.array([sc.code(w) for w in sc.WALLS], dtype=np.int64)
_SKY_CODE = sc.code(sc.SKY)
_BEYOND_FIRST = sc.BEYOND * sc.LEVELS


def _render_numpy(
    texture: TrackTexture,
    rays: GroundRays,
    poses: FloatArray,
    table: ByteArray,
    objects: ObjectBoxes | None = None,
) -> NDArray[np.uint8]:
    """The compiled loop's arithmetic, vectorised: (k, height * width) grey levels."""
    k = len(poses)
    rows, cols = texture.shape
    fx, fy, hit = rays.floor_points()  # (SR, SC)
    c = np.cos(poses[:, 2])[:, None, None]
    s = np.sin(poses[:, 2])[:, None, None]
    px = poses[:, 0][:, None, None]
    py = poses[:, 1][:, None, None]
    inv = 1.0 / texture.resolution
    cs, ss = c * inv, s * inv
    # Texel coordinates, summed in the compiled loop's order so both round alike.
    col = (((px - texture.x0) * inv) + cs * fx) - ss * fy
    row = (((py - texture.y0) * inv) + ss * fx) + cs * fy
    col = np.clip(col, 0.0, cols - 1.0).astype(np.intp)
    row = np.clip(row, 0.0, rows - 1.0).astype(np.intp)
    seen = texture.codes[row, col]
    floor = hit[None] & (seen < _BEYOND_FIRST)
    lx = px + c * rays.mount_forward - s * rays.lateral_offset
    ly = py + s * rays.mount_forward + c * rays.lateral_offset
    ax = rays.ahead[:, None]
    ay = rays.left[None, :]
    dx = c * ax - s * ay
    dy = s * ax + c * ay
    x_min, y_min, x_max, y_max = texture.rectangle
    nx = np.where(dx > 0.0, x_max - lx, lx - x_min)
    ny = np.where(dy > 0.0, y_max - ly, ly - y_min)
    adx, ady = np.abs(dx), np.abs(dy)
    by_x = nx * ady < ny * adx  # leaves the field through an x wall first
    face = np.where(by_x, np.where(dx > 0.0, 1, 0), np.where(dy > 0.0, 3, 2))
    reach = np.where(by_x, nx, ny)
    span = np.where(by_x, adx, ady)
    headroom = rays.camera_height - texture.wall_height
    wall = rays.drop[None, :, None] * reach > headroom * span
    beyond = np.where(wall, _WALL_CODES[face], _SKY_CODE)
    values = table[np.where(floor, seen, beyond)].astype(np.uint16)  # (k, SR, SC)
    if objects is not None and len(objects):
        nearest, shade = _box_hits(rays, poses, objects)
        values = np.where(nearest < np.inf, shade, values).astype(np.uint16)
    n = rays.supersample
    blocks = values.reshape(k, rays.height, n, rays.width, n).sum(axis=(2, 4), dtype=np.uint16)
    samples = rays.samples
    return np.asarray((blocks + samples // 2) // samples, dtype=np.uint8).reshape(k, -1)


def _box_spans(
    boxes: FloatArray,
    lens: tuple[float, float, float, float, float],
    pitch: tuple[float, float],
    vrow: FloatArray,
    ucol: FloatArray,
) -> tuple[FloatArray, NDArray[np.intp]]:
    """The compiled loop's boxes in the lens frame and their ray blocks, for one pose.

    Args:
        boxes: (P, 8) world boxes (:class:`ObjectBoxes`).
        lens: ``(x, y, cos yaw, sin yaw, height)`` of the lens [m, m, -, -, m].
        pitch: ``(cos, sin)`` of the camera's pitch.
        vrow: (SR,) each sub-row's tangent below the optical axis, ascending.
        ucol: (SC,) each sub-column's tangent right of it, ascending.

    Returns:
        ``(local, spans)``: (P, 8) as :func:`deepracer.accel._box_spans` writes them,
        and (P, 4) sub-rows ``[a0, a1)`` and sub-columns ``[b0, b1)`` to test.
    """
    lx, ly, c, s, height = lens
    cp, sp = pitch
    rx = boxes[:, 0] - lx
    ry = boxes[:, 1] - ly
    cx = c * rx + s * ry
    cy = c * ry - s * rx
    cr = boxes[:, 2] * c + boxes[:, 3] * s
    sr = boxes[:, 3] * c - boxes[:, 2] * s
    hl, hw = boxes[:, 4], boxes[:, 5]
    zlo, zhi = boxes[:, 6] - height, boxes[:, 7] - height
    local = np.column_stack([cr, sr, cx * cr + cy * sr, cy * cr - cx * sr, hl, hw, zlo, zhi])
    corner = np.arange(8)
    along = np.where(corner & 1, hl[:, None], -hl[:, None])  # (P, 8)
    across = np.where(corner & 2, hw[:, None], -hw[:, None])
    z = np.where(corner & 4, zhi[:, None], zlo[:, None])
    x = cx[:, None] + along * cr[:, None] - across * sr[:, None]
    y = cy[:, None] + along * sr[:, None] + across * cr[:, None]
    depth = x * cp - z * sp
    front = depth > 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        v = -(x * sp + z * cp) / depth
        u = -y / depth
    v_lo = np.where(front, v, np.inf).min(axis=1)
    v_hi = np.where(front, v, -np.inf).max(axis=1)
    u_lo = np.where(front, u, np.inf).min(axis=1)
    u_hi = np.where(front, u, -np.inf).max(axis=1)
    n_rows, n_cols = len(vrow), len(ucol)
    spans = np.column_stack(
        [
            np.maximum(np.searchsorted(vrow, v_lo) - 1, 0),
            np.minimum(np.searchsorted(vrow, v_hi, side="right") + 1, n_rows),
            np.maximum(np.searchsorted(ucol, u_lo) - 1, 0),
            np.minimum(np.searchsorted(ucol, u_hi, side="right") + 1, n_cols),
        ]
    )
    behind = 8 - front.sum(axis=1)
    spans[behind == 8] = 0
    spans[(behind > 0) & (behind < 8)] = (0, n_rows, 0, n_cols)
    return local, spans


def _box_hits(
    rays: GroundRays, poses: FloatArray, objects: ObjectBoxes
) -> tuple[FloatArray, NDArray[np.int64]]:
    """The compiled loop's box test, a block of rays per box and pose.

    Returns:
        ``(nearest, shade)``, each (k, SR, SC): the distance along the optical axis
        to the nearest box face each ray meets (inf: none), and that face's grey level.
    """
    k, sub_rows, sub_cols = len(poses), len(rays.ahead), len(rays.left)
    nearest = np.full((k, sub_rows, sub_cols), np.inf)
    shade = np.zeros((k, sub_rows, sub_cols), dtype=np.int64)
    pitch = (math.cos(rays.pitch), math.sin(rays.pitch))
    vrow = rays.drop * pitch[0] - rays.ahead * pitch[1]
    ucol = -rays.left
    for i in range(k):
        px, py, yaw = (float(v) for v in poses[i])
        c, s = math.cos(yaw), math.sin(yaw)
        lx = px + c * rays.mount_forward - s * rays.lateral_offset
        ly = py + s * rays.mount_forward + c * rays.lateral_offset
        local, spans = _box_spans(objects.boxes, (lx, ly, c, s, rays.camera_height), pitch,
                                  vrow, ucol)  # fmt: skip
        for m, (a0, a1, b0, b1) in enumerate(spans):
            if a0 >= a1 or b0 >= b1:
                continue
            enter, face = _slab_block(rays, local[m], (a0, a1, b0, b1))
            block = nearest[i, a0:a1, b0:b1]
            better = enter < block
            block[better] = enter[better]
            shade[i, a0:a1, b0:b1][better] = objects.levels[m, face[better]]
    return nearest, shade


def _slab_block(
    rays: GroundRays, box: FloatArray, span: tuple[int, int, int, int]
) -> tuple[FloatArray, NDArray[np.intp]]:
    """One box's slab test on a block of rays: entry distance (inf: missed) and face."""
    cr, sr, cu, cv, hl, hw, zlo, zhi = (float(v) for v in box)
    a0, a1, b0, b1 = span
    ax = rays.ahead[a0:a1, None]
    fall = rays.drop[a0:a1, None]
    ay = rays.left[None, b0:b1]
    level = zlo <= 0.0 <= zhi  # a level ray runs inside the box's height
    with np.errstate(divide="ignore", invalid="ignore"):
        t0 = np.where(
            fall > 0.0, -zhi / fall, np.where(fall < 0.0, -zlo / fall, -np.inf if level else np.inf)
        )
        t1 = np.where(
            fall > 0.0, -zlo / fall, np.where(fall < 0.0, -zhi / fall, np.inf if level else -np.inf)
        )
        enter = np.broadcast_to(t0, (a1 - a0, b1 - b0))
        leave = np.broadcast_to(t1, enter.shape)
        face = np.broadcast_to(np.where(fall < 0.0, ob.BOTTOM, ob.TOP), enter.shape)
        acr = ax * cr
        asr = ax * sr
        # The compiled loop's comparisons, NaN (a ray on a face's plane) included.
        for d, near, far, first in (
            (acr + ay * sr, cu - hl, cu + hl, ob.FRONT),
            (ay * cr - asr, cv - hw, cv + hw, ob.LEFT),
        ):
            inv = 1.0 / d
            p = near * inv
            q = far * inv
            lo = np.where(p < q, p, q)
            hi = np.where(p > q, p, q)
            take = lo > enter
            enter = np.where(take, lo, enter)
            face = np.where(take, first + (d > 0.0), face)
            leave = np.where(hi < leave, hi, leave)
    missed = ~((enter <= leave) & (enter > 0.0))
    return np.where(missed, np.inf, enter), np.asarray(face, dtype=np.intp)


def _frames(
    texture: TrackTexture,
    rays: GroundRays,
    poses: FloatArray,
    table: ByteArray | None,
    objects: ObjectBoxes | None = None,
) -> NDArray[np.uint8]:
    """(k, height, width) frames of k poses."""
    lut = texture.table if table is None else np.ascontiguousarray(table, dtype=np.uint8)
    boxes = objects if objects is not None and len(objects) else None
    if accel.ENABLED:
        out = np.empty((len(poses), rays.height * rays.width), dtype=np.uint8)
        accel.camera_frames(
            texture.codes,
            (texture.x0, texture.y0, 1.0 / texture.resolution),
            lut,
            (rays.ahead, rays.drop, rays.left, rays.supersample, rays.max_distance),
            np.ascontiguousarray(poses, dtype=np.float64),
            (rays.mount_forward, rays.lateral_offset, rays.camera_height),
            (np.asarray(texture.rectangle, dtype=np.float64), texture.wall_height,
             sc.WALLS[0], sc.LEVELS, _SKY_CODE, _BEYOND_FIRST),
            out,
            None if boxes is None else (boxes.boxes, boxes.levels, rays.pitch),
        )  # fmt: skip
    else:
        out = _render_numpy(texture, rays, poses, lut, boxes)
    return out.reshape(len(poses), rays.height, rays.width)


def render(
    texture: TrackTexture,
    rays: GroundRays,
    pose_xy: Sequence[float],
    yaw: float,
    table: ByteArray | None = None,
    objects: ObjectBoxes | None = None,
) -> ByteArray:
    """Renders one frame.

    Args:
        texture: The world's texture.
        rays: The camera's rays (car frame).
        pose_xy: Car origin (x, y) in the world [m].
        yaw: Car heading [rad].
        table: Code -> grey level table (default: the texture's, no randomisation).
        objects: Obstacles and bot cars (:func:`deepracer.rendering.objects.object_boxes`),
            in the world frame and inside the walls.

    Returns:
        (height, width) uint8 grey levels, row 0 at the top of the image.
    """
    pose = np.array([[float(pose_xy[0]), float(pose_xy[1]), float(yaw)]], dtype=np.float64)
    frame: ByteArray = _frames(texture, rays, pose, table, objects)[0]
    return frame


_CHUNK_POSES = 16
# Poses per numpy chunk: its temporaries are (poses, S, P) float64, 10 MB at 16.


def render_batch(
    texture: TrackTexture,
    rays: GroundRays,
    poses: ArrayLike,
    table: ByteArray | None = None,
    objects: ObjectBoxes | None = None,
) -> ByteArray:
    """Renders one frame per pose.

    Args:
        texture: The world's texture.
        rays: The camera's rays (car frame).
        poses: (N, 3) car origins and headings ``(x [m], y [m], yaw [rad])``.
        table: Code -> grey level table (default: the texture's).
        objects: Obstacles and bot cars, the same for every pose (see :func:`render`).

    Returns:
        (N, height, width) uint8, frame ``i`` equal to ``render`` of pose ``i``.
    """
    p = np.asarray(poses, dtype=np.float64).reshape(-1, 3)
    out = np.empty((len(p), rays.height, rays.width), dtype=np.uint8)
    for i in range(0, len(p), _CHUNK_POSES):
        out[i : i + _CHUNK_POSES] = _frames(texture, rays, p[i : i + _CHUNK_POSES], table, objects)
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
