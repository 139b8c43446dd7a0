"""Top-down view of a track, the car and its path, rasterised with numpy.

The static track (floor, road, borders, dashed centre line, start line) is drawn once
per renderer; a frame is a copy of that picture with the trajectory, the car and an
optional camera inset on top, a few milliseconds at 640 x 480. Nothing here uses
matplotlib: it takes tens of milliseconds per figure, far too slow for a video.

Image coordinates: ``(col, row)`` with the origin at the top-left corner; pixel
``(c, r)`` covers ``[c, c + 1) x [r, r + 1)``, so ``np.floor`` of
:meth:`TopDownRenderer.world_to_pixel` indexes the image as ``image[row, col]``. The
world's y axis points up the image.

Contents:
    Palette: the colours of a frame.
    TopDownRenderer: pre-renders one track and draws frames of it.
    CAR_LENGTH, CAR_WIDTH: the DeepRacer car's footprint [m].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from deepracer.physics import VehicleParams
from deepracer.tracks import Track

if TYPE_CHECKING:
    from deepracer.rewards.objects import SceneObject

__all__ = ["CAR_LENGTH", "CAR_WIDTH", "Palette", "TopDownRenderer"]

CAR_LENGTH = 0.32
"""Length of the car's footprint [m] (the DeepRacer chassis with its bumpers)."""
CAR_WIDTH = 0.2
"""Width of the car's footprint [m] (over the wheels)."""

Color = tuple[int, int, int]
FloatArray = NDArray[np.float64]
Image = NDArray[np.uint8]

# Drawn widths in metres, with a floor in pixels so a large track stays legible.
_BORDER_WIDTH = (0.05, 1.5)
_CENTER_WIDTH = (0.025, 1.0)
_START_WIDTH = (0.06, 2.0)
_CENTER_DASH = (0.15, 0.15)  # on, off [m]
_TRAJECTORY_RADIUS = 1.2  # [px]
_FRONT_FRACTION = 0.3  # the front part of the car in another colour shows its heading
_INSET_FRACTION = 0.3  # the camera inset's share of the frame width
_INSET_PAD = 6  # [px] from the frame's corner
_ROAD_CHUNK = 65_536  # pixel centres per on-road query, to bound the memory


@dataclass(frozen=True, kw_only=True)
class Palette:
    """RGB colours of a frame."""

    floor: Color = (34, 85, 48)
    road: Color = (96, 96, 96)
    border: Color = (245, 245, 245)
    center: Color = (240, 200, 40)
    start: Color = (220, 40, 40)
    trajectory: Color = (0, 170, 255)
    car: Color = (230, 60, 140)
    car_front: Color = (255, 235, 235)
    obstacle: Color = (123, 97, 79)  # box_obstacle's brown (its model.sdf diffuse)
    bot_car: Color = (40, 40, 40)  # the bot car's body grey
    bot_car_front: Color = (200, 200, 200)
    inset_frame: Color = (15, 15, 15)


class TopDownRenderer:
    """Draws top-down frames of one track.

    Args:
        track: The track; only its geometry is drawn, so either driving direction of
            a track gives the same picture.
        width: Frame width [px].
        height: Frame height [px].
        margin: Floor shown around the track's borders [m].
        rear_axle_offset: Distance from the rear axle (the pose in ``car_state``) to
            the centre of the car's footprint [m].
        palette: The colours.

    A renderer keeps the last trajectory it drew, to add only the new segments next
    time, so use one renderer per env (and thread).

    Example:
        >>> from deepracer.tracks import get_track
        >>> renderer = TopDownRenderer(get_track("oval"), width=320, height=240)
        >>> renderer.frame((0.0, -1.5, 0.0, 0.0), [(-1.0, -1.5), (0.0, -1.5)]).shape
        (240, 320, 3)
    """

    def __init__(
        self,
        track: Track,
        *,
        width: int = 640,
        height: int = 480,
        margin: float = 0.3,
        rear_axle_offset: float = VehicleParams().rear_axle_offset,
        palette: Palette | None = None,
    ) -> None:
        if width < 16 or height < 16:
            raise ValueError(f"the frame must be at least 16 x 16 px, got {width} x {height}")
        if margin < 0.0:
            raise ValueError(f"margin must be >= 0, got {margin}")
        self.track = track
        self.width = width
        self.height = height
        self.rear_axle_offset = rear_axle_offset
        self.palette = palette or Palette()
        rows = track.waypoints_array
        borders = np.vstack([rows[:, 2:4], rows[:, 4:6]])
        lo, hi = borders.min(axis=0) - margin, borders.max(axis=0) + margin
        span = np.maximum(hi - lo, 1e-6)
        self.scale: float = float(min(width / span[0], height / span[1]))
        """Pixels per metre."""
        self._center = (lo + hi) / 2.0
        self._border_lo, self._border_hi = borders.min(axis=0), borders.max(axis=0)
        self.background: Image = self._draw_track()
        """The static track picture (read-only)."""
        self.background.setflags(write=False)
        # The trajectory is drawn incrementally on a copy of the background: an
        # episode's path only grows, so each frame adds its newest segments.
        self._canvas = self.background.copy()
        self._drawn = np.empty((0, 2))
        # Per camera shape: source rows and columns of the scaled inset, its corner.
        self._inset_layout: dict[
            tuple[int, ...], tuple[NDArray[np.intp], NDArray[np.intp], int, int]
        ] = {}

    # -- coordinates -------------------------------------------------------------------

    def world_to_pixel(self, points: ArrayLike) -> FloatArray:
        """Returns image coordinates ``(col, row)`` (N, 2) of world points (N, 2) [m]."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        col = (pts[:, 0] - self._center[0]) * self.scale + 0.5 * self.width
        row = 0.5 * self.height - (pts[:, 1] - self._center[1]) * self.scale
        return np.stack([col, row], axis=1)

    def pixel_to_world(self, pixels: ArrayLike) -> FloatArray:
        """Returns world points (N, 2) [m] of image coordinates ``(col, row)`` (N, 2)."""
        px = np.asarray(pixels, dtype=np.float64).reshape(-1, 2)
        x = (px[:, 0] - 0.5 * self.width) / self.scale + self._center[0]
        y = (0.5 * self.height - px[:, 1]) / self.scale + self._center[1]
        return np.stack([x, y], axis=1)

    # -- frames ------------------------------------------------------------------------

    def frame(
        self,
        car_state: Sequence[float],
        trajectory: ArrayLike,
        camera: NDArray[np.uint8] | None = None,
        objects: Sequence[SceneObject] = (),
    ) -> Image:
        """Draws one frame.

        Args:
            car_state: ``(x, y, yaw, ...)`` of the rear axle [m, m, rad], as
                :attr:`RacingEnv.car_state <deepracer.envs.RacingEnv.car_state>`.
            trajectory: The path so far, (N, 2) world points [m], oldest first (N may
                be 0).
            camera: A camera frame to show in a corner (see :meth:`draw_inset`).
            objects: Obstacles and bot cars (front lighter) to draw, each as the
                rectangle the crash rules test (a box's has 0.1 m of margin).

        Returns:
            A fresh (height, width, 3) uint8 RGB image.
        """
        self._update_trajectory(np.asarray(trajectory, dtype=np.float64).reshape(-1, 2))
        image = self._canvas.copy()
        x, y, yaw = float(car_state[0]), float(car_state[1]), float(car_state[2])
        palette = self.palette
        for obj in objects:
            colors = (
                (palette.bot_car, palette.bot_car_front)
                if obj.kind == "bot_car"
                else (palette.obstacle, palette.obstacle)
            )
            size = (obj.footprint.length, obj.footprint.width)
            self._draw_rectangle(image, obj.x, obj.y, obj.heading, size, colors)
        c, s = math.cos(yaw), math.sin(yaw)
        cx, cy = x + self.rear_axle_offset * c, y + self.rear_axle_offset * s
        self._draw_rectangle(
            image, cx, cy, yaw, (CAR_LENGTH, CAR_WIDTH), (palette.car, palette.car_front)
        )
        if camera is not None:
            self.draw_inset(image, camera)
        return image

    # -- the static track --------------------------------------------------------------

    def _px_width(self, spec: tuple[float, float]) -> float:
        metres, minimum = spec
        return max(metres * self.scale, minimum)

    def _draw_track(self) -> Image:
        pal = self.palette
        image = np.empty((self.height, self.width, 3), dtype=np.uint8)
        image[:] = pal.floor
        image[self._road_mask()] = pal.road
        rows = self.track.waypoints_array
        center = self.world_to_pixel(rows[:, 0:2])
        inner = self.world_to_pixel(rows[:, 2:4])
        outer = self.world_to_pixel(rows[:, 4:6])
        shape = (self.height, self.width)
        dash = (_CENTER_DASH[0] * self.scale, _CENTER_DASH[1] * self.scale)
        # The dashes need a few pixels each to read as dashes; else draw a solid line.
        centre_cov = _polyline_coverage(
            shape, center, 0.5 * self._px_width(_CENTER_WIDTH), dash if dash[0] >= 3.0 else None
        )
        _blend(image, centre_cov, pal.center)
        border_cov = np.maximum(
            _polyline_coverage(shape, inner, 0.5 * self._px_width(_BORDER_WIDTH)),
            _polyline_coverage(shape, outer, 0.5 * self._px_width(_BORDER_WIDTH)),
        )
        _blend(image, border_cov, pal.border)
        start = np.stack([inner[0], outer[0]])
        _blend(
            image, _polyline_coverage(shape, start, 0.5 * self._px_width(_START_WIDTH)), pal.start
        )
        return image

    def _road_mask(self) -> NDArray[np.bool_]:
        """Which pixel centres lie on the road (the simulator's own test)."""
        mask = np.zeros((self.height, self.width), dtype=bool)
        # Only pixels inside the borders' bounding box can be on the road; querying the
        # rest would fall back to the slow exact test far from the track's index grid.
        (c0, r1), (c1, r0) = self.world_to_pixel(np.stack([self._border_lo, self._border_hi]))
        c0, r0 = max(math.floor(c0), 0), max(math.floor(r0), 0)
        c1, r1 = min(math.ceil(c1) + 1, self.width), min(math.ceil(r1) + 1, self.height)
        if c0 >= c1 or r0 >= r1:
            return mask
        rr, cc = np.mgrid[r0:r1, c0:c1]
        pixels = np.stack([cc.ravel() + 0.5, rr.ravel() + 0.5], axis=1)
        world = self.pixel_to_world(pixels)
        inside = np.empty(len(world), dtype=bool)
        for i in range(0, len(world), _ROAD_CHUNK):
            part = world[i : i + _ROAD_CHUNK]
            inside[i : i + _ROAD_CHUNK] = self.track.on_road_batch(
                np.ascontiguousarray(part[:, 0]), np.ascontiguousarray(part[:, 1])
            )
        mask[r0:r1, c0:c1] = inside.reshape(rr.shape)
        return mask

    # -- per frame ---------------------------------------------------------------------

    def _update_trajectory(self, points: FloatArray) -> None:
        done = len(self._drawn)
        if done and len(points) >= done and np.array_equal(points[:done], self._drawn):
            start = done - 1  # the last drawn point starts the first new segment
        else:
            if done >= 2:  # something was drawn: start again from the bare track
                np.copyto(self._canvas, self.background)
            start = 0
        if len(points) - start >= 2:
            _stamp_polyline(
                self._canvas,
                self.world_to_pixel(points[start:]),
                _TRAJECTORY_RADIUS,
                self.palette.trajectory,
            )
        self._drawn = points.copy()

    def _draw_rectangle(
        self,
        image: Image,
        cx: float,
        cy: float,
        yaw: float,
        size: tuple[float, float],
        colors: tuple[Color, Color],
    ) -> None:
        """Draws a rectangle centred at (cx, cy), anti-aliased, in place.

        ``size`` is (length along ``yaw``, width) [m]; ``colors`` (body, front part).
        """
        c, s = math.cos(yaw), math.sin(yaw)
        length, width = size
        ((pc, pr),) = self.world_to_pixel([(cx, cy)])
        reach = 0.5 * math.hypot(length, width) * self.scale + 1.0
        c0, c1 = max(int(pc - reach), 0), min(int(pc + reach) + 1, self.width)
        r0, r1 = max(int(pr - reach), 0), min(int(pr + reach) + 1, self.height)
        if c0 >= c1 or r0 >= r1:
            return
        rr, cc = np.mgrid[r0:r1, c0:c1]
        # Pixel centres in the car's frame [px]: u forward, v left (rows grow downwards).
        dx, dy = cc + 0.5 - pc, pr - (rr + 0.5)
        u, v = dx * c + dy * s, -dx * s + dy * c
        half_l, half_w = 0.5 * length * self.scale, 0.5 * width * self.scale
        # Coverage from the signed distance to the rectangle's edges: anti-aliased edges
        # keep a car of a few pixels from flickering as it turns.
        body = np.clip(np.minimum(half_l - np.abs(u), half_w - np.abs(v)) + 0.5, 0.0, 1.0)
        front_edge = half_l * (1.0 - 2.0 * _FRONT_FRACTION)
        front = body * np.clip(u - front_edge + 0.5, 0.0, 1.0)
        window = image[r0:r1, c0:c1]
        _blend(window, body - front, colors[0])
        _blend(window, front, colors[1])

    def draw_inset(self, image: Image, camera: NDArray[np.uint8]) -> None:
        """Draws a camera frame into a corner of one of this renderer's frames, in place.

        The inset is about a third of the frame wide, scaled nearest-neighbour, in the
        corner that hides the least of the track (top-right on a tie).

        Args:
            image: A (height, width, 3) uint8 frame of this renderer.
            camera: (h, w) or (h, w, c) uint8; c = 3 is RGB, any other c shows the
                last channel in grey (the newest frame of a stacked camera).
        """
        cam = np.asarray(camera)
        if cam.dtype != np.uint8 or cam.ndim not in (2, 3) or cam.shape[0] < 1 or cam.shape[1] < 1:
            raise ValueError(
                f"camera must be an (h, w) or (h, w, c) uint8 array, got {cam.dtype} {cam.shape}"
            )
        if cam.ndim == 3:
            cam = cam if cam.shape[2] == 3 else cam[:, :, -1]
        layout = self._inset_layout.get(cam.shape[:2])
        if layout is None:
            layout = self._inset_layout[cam.shape[:2]] = self._plan_inset(*cam.shape[:2])
        rows, cols, r0, c0 = layout
        out_h, out_w = rows.shape[0], cols.shape[1]
        border = image[max(r0 - 2, 0) : r0 + out_h + 2, max(c0 - 2, 0) : c0 + out_w + 2]
        border[:] = self.palette.inset_frame
        scaled = cam[rows, cols]  # nearest-neighbour scaling as one gather
        target = image[r0 : r0 + out_h, c0 : c0 + out_w]
        target[:] = scaled if scaled.ndim == 3 else scaled[:, :, None]

    def _plan_inset(self, h: int, w: int) -> tuple[NDArray[np.intp], NDArray[np.intp], int, int]:
        """Returns the inset's source rows (H', 1), columns (1, W') and top-left pixel."""
        out_w = max(int(_INSET_FRACTION * self.width), 1)
        out_h = max(round(out_w * h / w), 1)
        if out_h > self.height - 2 * _INSET_PAD:  # a tall image: fit the height instead
            out_h = max(self.height - 2 * _INSET_PAD, 1)
            out_w = max(round(out_h * w / h), 1)
        rows = (np.arange(out_h) * h // out_h)[:, None]
        cols = (np.arange(out_w) * w // out_w)[None, :]
        # The corner that hides the least of the track (top-right on a tie).
        top, left = _INSET_PAD, _INSET_PAD
        bottom = max(self.height - _INSET_PAD - out_h, 0)
        right = max(self.width - _INSET_PAD - out_w, 0)
        off_floor = np.any(self.background != np.asarray(self.palette.floor, np.uint8), axis=2)

        def hidden(corner: tuple[int, int]) -> int:
            r, c = corner
            return int(off_floor[r : r + out_h, c : c + out_w].sum())

        r0, c0 = min([(top, right), (top, left), (bottom, right), (bottom, left)], key=hidden)
        return rows, cols, r0, c0


# -- rasterisation helpers ----------------------------------------------------------------


def _blend(image: Image, coverage: NDArray[np.floating], color: Color) -> None:
    """Paints ``color`` over ``image`` with per-pixel ``coverage`` in [0, 1] (in place)."""
    hit = coverage > 0.0
    if not hit.any():
        return
    alpha = coverage[hit][:, None]
    old = image[hit].astype(np.float32)
    image[hit] = (old + alpha * (np.asarray(color, dtype=np.float32) - old) + 0.5).astype(np.uint8)


def _polyline_coverage(
    shape: tuple[int, int],
    points: FloatArray,
    half_width: float,
    dash: tuple[float, float] | None = None,
) -> NDArray[np.float32]:
    """Anti-aliased coverage (H, W) of a polyline of image points (N, 2) [px].

    Each segment is rasterised in its bounding box by the distance of the pixel
    centres to it, so the cost is the line's area, not the image's times the segments.

    Args:
        shape: ``(height, width)`` of the image.
        points: The polyline's vertices ``(col, row)``.
        half_width: Half the line width [px].
        dash: ``(on, off)`` lengths [px] along the line, or None for a solid line.
    """
    height, width = shape
    coverage = np.zeros(shape, dtype=np.float32)
    starts, vectors = points[:-1], np.diff(points, axis=0)
    lengths = np.hypot(vectors[:, 0], vectors[:, 1])
    along = np.concatenate([[0.0], np.cumsum(lengths)])
    pad = half_width + 1.0
    for i in range(len(starts)):
        (x0, y0), (vx, vy), length = starts[i], vectors[i], lengths[i]
        c0 = max(math.floor(min(x0, x0 + vx) - pad), 0)
        c1 = min(math.ceil(max(x0, x0 + vx) + pad), width)
        r0 = max(math.floor(min(y0, y0 + vy) - pad), 0)
        r1 = min(math.ceil(max(y0, y0 + vy) + pad), height)
        if c0 >= c1 or r0 >= r1:
            continue
        rr, cc = np.mgrid[r0:r1, c0:c1]
        px, py = cc + 0.5 - x0, rr + 0.5 - y0
        if length > 0.0:
            t = np.clip((px * vx + py * vy) / (length * length), 0.0, 1.0)
        else:
            t = np.zeros(px.shape)
        dist = np.hypot(px - t * vx, py - t * vy)
        cov = np.clip(half_width + 0.5 - dist, 0.0, 1.0)
        if dash is not None:
            phase = np.mod(along[i] + t * length, dash[0] + dash[1])
            cov = cov * (phase < dash[0])
        window = coverage[r0:r1, c0:c1]
        np.maximum(window, cov, out=window)
    return coverage


def _stamp_polyline(image: Image, points: FloatArray, radius: float, color: Color) -> None:
    """Draws a polyline of image points (N >= 2, 2) [px] as a chain of small discs.

    Vectorised over all segments (no Python loop), so a path of thousands of points
    costs a few milliseconds.
    """
    starts, vectors = points[:-1], np.diff(points, axis=0)
    lengths = np.hypot(vectors[:, 0], vectors[:, 1])
    # Samples every half pixel; a segment's last sample is the next one's first.
    counts = np.ceil(lengths / 0.5).astype(np.intp) + 1
    seg = np.repeat(np.arange(len(starts)), counts)
    first = np.cumsum(counts) - counts
    t = (np.arange(len(seg)) - first[seg]) / np.maximum(counts[seg] - 1, 1)
    samples = starts[seg] + t[:, None] * vectors[seg]
    cols, rows = np.floor(samples[:, 0]).astype(np.intp), np.floor(samples[:, 1]).astype(np.intp)
    reach = math.ceil(radius)
    dr, dc = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    disc = dr * dr + dc * dc <= radius * radius
    rows = (rows[:, None] + dr[disc][None, :]).ravel()
    cols = (cols[:, None] + dc[disc][None, :]).ravel()
    height, width = image.shape[:2]
    keep = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    image[rows[keep], cols[keep]] = color
