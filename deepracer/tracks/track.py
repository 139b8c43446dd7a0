"""DeepRacer tracks: route-file loading, validation and the geometry queries.

A route file (``.npy``) holds a float (N, 6) array: columns 0:2 centre line x, y;
2:4 inner border (the geometric inside of the loop); 4:6 outer border, in metres.
It is a closed loop iff the first row equals the last (the closing point repeats).

Contents:
    Track: an immutable track with the queries the simulator and reward params use.
    TrackPoint: everything the reward params need about one point on a track.
    load_route_file: read and validate a route file into a Track.
    MIN_ROAD_WIDTH: the narrowest road a route file may have.
"""

from __future__ import annotations

import bisect
import math
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from deepracer.errors import TrackError
from deepracer.tracks.geometry import Polyline, first_crossing, points_in_ring, signed_area
from deepracer.tracks.index import RoadGrid, SegmentGrid

__all__ = ["MIN_ROAD_WIDTH", "Track", "TrackPoint", "load_route_file"]

FloatArray = NDArray[np.float64]
MIN_ROAD_WIDTH = 0.05
"""The narrowest road a route file may have at a waypoint [m]. The AWS tracks are at
least 0.60 m wide; a road below 5 cm (borders that coincide, a broken generator) leaves
no room for the car, whose wheels are 0.16 m apart."""


class TrackPoint(NamedTuple):
    """What the DeepRacer reward params need to know about one point.

    A named tuple rather than a frozen dataclass: one is built every simulator step,
    and a tuple builds several times faster.

    Attributes:
        s: Arc length of the nearest centre-line point from the start line [m].
        ndist: ``s / track length``, in [0, 1].
        prev_index: Waypoint index before the point (``closest_waypoints[0]``).
        next_index: Waypoint index after the point (``closest_waypoints[1]``).
        center: Nearest centre-line point (x, y) [m].
        distance_from_center: Distance from the point to ``center`` [m].
        distance_to_inner: Distance to the inner-border point nearest ``center`` [m].
        distance_to_outer: Distance to the outer-border point nearest ``center`` [m].
        width: Distance between those two border points: the local track width [m].
        is_left_of_center: Left of the centre line in the driving direction.
    """

    s: float
    ndist: float
    prev_index: int
    next_index: int
    center: tuple[float, float]
    distance_from_center: float
    distance_to_inner: float
    distance_to_outer: float
    width: float
    is_left_of_center: bool


class Track:
    """An immutable DeepRacer track.

    Build one with :func:`load_route_file`, :meth:`from_array` or
    :func:`deepracer.tracks.get_track`; arrays are read-only.

    Args:
        waypoints: (N, 6) route array, already validated.
        name: Track name (the route file stem for real tracks).
        source: Where it came from (a path or ``builtin:<name>``), for messages.
        reverse: Drive opposite to the file order (the simapp's ``REVERSE_DIR``).

    Example:
        >>> import numpy as np
        >>> t = np.linspace(0, 2 * np.pi, 73)
        >>> ring = lambda r: np.c_[r * np.cos(t), r * np.sin(t)]
        >>> track = Track.from_array(np.hstack([ring(2.0), ring(1.6), ring(2.4)]), name="circle")
        >>> round(track.length, 2), track.is_loop, track.is_ccw
        (12.56, True, True)
    """

    def __init__(
        self, waypoints: FloatArray, *, name: str, source: str, reverse: bool = False
    ) -> None:
        rows = np.array(waypoints, dtype=np.float64)
        self.is_loop: bool = bool(np.array_equal(rows[0], rows[-1]))
        self._forward_rows = rows
        if reverse:
            rows = rows[::-1].copy()
        rows.setflags(write=False)
        self.waypoints_array: FloatArray = rows
        self.name = name
        self.source = source
        self.reverse = reverse
        self.center = Polyline(rows[:, 0:2])
        self.inner = Polyline(rows[:, 2:4])
        self.outer = Polyline(rows[:, 4:6])
        self.length: float = self.center.length
        if self.length <= 0.0:
            raise TrackError(f"{source}: the centre line has zero length")
        # Normalised arc length of every waypoint, as the simapp's TrackLine.ndists:
        # bisect on it gives closest_waypoints.
        self.ndists: list[float] = [*(self.center.cumulative[:-1] / self.length).tolist(), 1.0]
        self._ndists_array = np.array(self.ndists)
        # The simapp treats an open track as counter-clockwise; reversing flips it.
        base_ccw = signed_area(self._forward_rows[:, 0:2]) > 0.0 if self.is_loop else True
        self.is_ccw: bool = base_ccw != reverse
        if self.is_loop:
            self._road_outer: FloatArray = rows[:, 4:6]
            self._road_hole: FloatArray | None = rows[:, 2:4]
        else:
            self._road_outer = np.vstack([rows[:, 4:6], rows[::-1, 2:4]])
            self._road_hole = None
        # The reward params hand out the centre line as a list of tuples; floats in a
        # tuple are immutable, so a shallow list copy is a deep copy.
        self.waypoints: tuple[tuple[float, float], ...] = tuple(
            (float(x), float(y)) for x, y in rows[:, 0:2]
        )

    # -- construction ---------------------------------------------------------------

    @classmethod
    def from_array(
        cls,
        waypoints: ArrayLike,
        *,
        name: str,
        source: str | None = None,
        sanitize: bool = True,
        reverse: bool = False,
    ) -> Track:
        """Validates a route array and builds a track.

        Args:
            waypoints: (N, 6) array: centre, inner and outer border x, y [m].
            name: Track name.
            source: Origin for error messages (defaults to ``name``).
            sanitize: Drop zero-length centre-line segments as the current simapp
                does. ``False`` keeps the file's rows, so ``closest_waypoints`` indices
                match simapps from before 2026.
            reverse: Drive opposite to the file order.

        Raises:
            TrackError: The array has the wrong shape, fewer than 3 points or
                non-finite values.
        """
        where = source or name
        try:
            arr = np.asarray(waypoints)
        except (TypeError, ValueError) as exc:
            raise TrackError(f"{where}: cannot read waypoints as an array ({exc})") from None
        if arr.dtype.kind not in "fiu":
            raise TrackError(f"{where}: expected a numeric array, got dtype {arr.dtype}")
        if arr.ndim != 2 or arr.shape[1] != 6:
            raise TrackError(
                f"{where}: expected an array of shape (N, 6) (centre x, y, inner border x, y,"
                f" outer border x, y in metres), got shape {arr.shape}"
            )
        arr = arr.astype(np.float64)
        bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
        if bad.size:
            raise TrackError(
                f"{where}: rows {bad[:10].tolist()} contain NaN or infinite values;"
                " every waypoint must be finite"
            )
        if sanitize:
            step = np.diff(arr[:, 0:2], axis=0)
            keep = np.concatenate(([True], (step != 0.0).any(axis=1)))
            arr = arr[keep]
        widths = np.hypot(arr[:, 2] - arr[:, 4], arr[:, 3] - arr[:, 5])
        narrow = np.flatnonzero(widths < MIN_ROAD_WIDTH)
        if narrow.size:
            raise TrackError(
                f"{where}: rows {narrow[:10].tolist()} have a road"
                f" {float(widths[narrow[0]]):.3g} m wide (inner and outer border"
                f" {'coincide' if widths[narrow[0]] == 0 else 'almost meet'}); a car needs at"
                f" least {MIN_ROAD_WIDTH:g} m: every episode would end off track at once"
            )
        min_rows = 4 if np.array_equal(arr[0], arr[-1]) else 3
        if len(arr) < min_rows:
            raise TrackError(
                f"{where}: a track needs at least 3 distinct points, got {len(arr)} rows"
                + (" after dropping zero-length segments" if sanitize else "")
            )
        _check_simple(arr, where)
        return cls(arr, name=name, source=where, reverse=reverse)

    def reversed(self) -> Track:
        """Returns the same track driven in the opposite direction."""
        return Track(
            self._forward_rows, name=self.name, source=self.source, reverse=not self.reverse
        )

    # -- queries --------------------------------------------------------------------

    @property
    def num_waypoints(self) -> int:
        """Number of waypoints (rows), including a loop's closing point."""
        return len(self.waypoints)

    def prev_next(self, ndist: float) -> tuple[int, int]:
        """Returns ``[previous, next]`` waypoint indices around a normalised distance.

        Bisects the waypoints' normalised arc lengths and wraps at both ends, exactly
        as the simapp's ``find_prev_next``.
        """
        nxt = bisect.bisect_right(self.ndists, ndist)
        prev = nxt - 1
        if prev == -1:
            prev = len(self.ndists) - 1
        if nxt == len(self.ndists):
            nxt = 0
        return prev, nxt

    def locate(self, point: ArrayLike) -> TrackPoint:
        """Returns the reward-params geometry of one point (the car's model point)."""
        px, py = (float(v) for v in np.asarray(point, dtype=np.float64).reshape(2))
        s, cx, cy = self._project(self.center, self._center_grid, px, py)
        _, ix, iy = self._project(self.inner, self._inner_grid, cx, cy)
        _, ox, oy = self._project(self.outer, self._outer_grid, cx, cy)
        d_in = math.hypot(px - ix, py - iy)
        d_out = math.hypot(px - ox, py - oy)
        ndist = s / self.length
        prev, nxt = self.prev_next(ndist)
        return TrackPoint(
            s=s,
            ndist=ndist,
            prev_index=prev,
            next_index=nxt,
            center=(cx, cy),
            distance_from_center=math.hypot(px - cx, py - cy),
            distance_to_inner=d_in,
            distance_to_outer=d_out,
            width=math.hypot(ix - ox, iy - oy),
            is_left_of_center=(d_in < d_out) != (not self.is_ccw),
        )

    def on_road(self, points: ArrayLike) -> NDArray[np.bool_]:
        """Returns which points lie on the road polygon (K,).

        For a loop the road is the outer border with the inner border as a hole; for
        an open track the polygon formed by both borders, as in the simapp.
        """
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if len(pts) <= 8:  # a car's wheels: the grid answers each in a few microseconds
            grid = self._road_grid
            answers = [grid.contains(float(x), float(y)) for x, y in pts]
            if None not in answers:
                return np.array(answers, dtype=bool)
        inside = points_in_ring(pts, self._road_outer)
        if self._road_hole is not None:
            inside &= ~points_in_ring(pts, self._road_hole)
        return inside

    def locate_batch(self, x: FloatArray, y: FloatArray) -> dict[str, NDArray[Any]]:
        """Returns :meth:`locate` for N points as arrays keyed by TrackPoint field.

        ``center`` becomes ``center_x`` and ``center_y``.
        """
        s, cx, cy = self._project_batch(self.center, self._center_grid, x, y)
        _, ix, iy = self._project_batch(self.inner, self._inner_grid, cx, cy)
        _, ox, oy = self._project_batch(self.outer, self._outer_grid, cx, cy)
        d_in = np.hypot(x - ix, y - iy)
        d_out = np.hypot(x - ox, y - oy)
        ndist = s / self.length
        nxt = np.searchsorted(self._ndists_array, ndist, side="right")
        prev = nxt - 1
        prev[prev == -1] = len(self.ndists) - 1
        nxt[nxt == len(self.ndists)] = 0
        return {
            "s": s,
            "ndist": ndist,
            "prev_index": prev,
            "next_index": nxt,
            "center_x": cx,
            "center_y": cy,
            "distance_from_center": np.hypot(x - cx, y - cy),
            "distance_to_inner": d_in,
            "distance_to_outer": d_out,
            "width": np.hypot(ix - ox, iy - oy),
            "is_left_of_center": (d_in < d_out) != (not self.is_ccw),
        }

    def on_road_batch(self, x: FloatArray, y: FloatArray) -> NDArray[np.bool_]:
        """Returns :meth:`on_road` for N points given as coordinate arrays."""
        inside, valid = self._road_grid.contains_batch(x, y)
        if not valid.all():
            far = ~valid
            inside[far] = self.on_road(np.stack([x[far], y[far]], axis=1))
        return inside

    def pose_at_batch(self, s: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Returns :meth:`pose_at` for an array of arc lengths (any shape)."""
        line = self.center
        if self.is_loop:
            s = np.mod(s, self.length)
        seg = np.searchsorted(line.cumulative, s, side="right") - 1
        seg = np.clip(seg, 0, len(line.seg_lengths) - 1)
        length = line.seg_lengths[seg]
        t = np.divide(s - line.cumulative[seg], length, out=np.zeros_like(s), where=length > 0)
        t = np.clip(t, 0.0, 1.0)
        x0, y0 = line.starts[seg, 0], line.starts[seg, 1]
        vx, vy = line.vectors[seg, 0], line.vectors[seg, 1]
        return x0 + t * vx, y0 + t * vy, np.arctan2(vy, vx)

    @staticmethod
    def _project_batch(
        line: Polyline, grid: SegmentGrid, x: FloatArray, y: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        seg, t, nx, ny, valid = grid.nearest_batch(x, y)
        s = line.cumulative[seg] + t * line.seg_lengths[seg]
        if not valid.all():
            far = ~valid
            s_far, nearest, _ = line.project(np.stack([x[far], y[far]], axis=1))
            s[far], nx[far], ny[far] = s_far, nearest[:, 0], nearest[:, 1]
        return s, nx, ny

    @staticmethod
    def _project(
        line: Polyline, grid: SegmentGrid, x: float, y: float
    ) -> tuple[float, float, float]:
        """Returns ``(s, nearest_x, nearest_y)`` of one point on a polyline."""
        hit = grid.nearest(x, y)
        if hit is None:  # far outside the indexed area: scan every segment
            s_arr, nearest, _ = line.project([[x, y]])
            return float(s_arr[0]), float(nearest[0, 0]), float(nearest[0, 1])
        seg, t, nx, ny = hit
        return line.cumulative_list[seg] + t * line.seg_length_list[seg], nx, ny

    @cached_property
    def _center_grid(self) -> SegmentGrid:
        return SegmentGrid(self.center.starts, self.center.vectors)

    @cached_property
    def _inner_grid(self) -> SegmentGrid:
        return SegmentGrid(self.inner.starts, self.inner.vectors)

    @cached_property
    def _outer_grid(self) -> SegmentGrid:
        return SegmentGrid(self.outer.starts, self.outer.vectors)

    @cached_property
    def _road_grid(self) -> RoadGrid:
        rings = (
            [self._road_outer] if self._road_hole is None else [self._road_outer, self._road_hole]
        )
        return RoadGrid(rings)

    def point_at(self, s: ArrayLike) -> FloatArray:
        """Returns centre-line points (K, 2) at arc lengths ``s`` (wrapped on loops)."""
        return self.center.interpolate(self._wrap(s))

    def pose_at(self, s: float) -> tuple[float, float, float]:
        """Returns the centre-line point and direction ``(x, y, heading)`` at arc length s.

        A scalar version of :meth:`point_at` and :meth:`heading_at`, for one point.
        """
        line = self.center
        if self.is_loop:
            s %= self.length
        cumulative = line.cumulative_list
        seg = bisect.bisect_right(cumulative, s) - 1
        seg = min(max(seg, 0), len(line.seg_length_list) - 1)
        x0, y0 = self.waypoints[seg]
        x1, y1 = self.waypoints[seg + 1]
        length = line.seg_length_list[seg]
        t = (s - cumulative[seg]) / length if length > 0.0 else 0.0
        t = min(max(t, 0.0), 1.0)
        return x0 + t * (x1 - x0), y0 + t * (y1 - y0), math.atan2(y1 - y0, x1 - x0)

    def heading_at(self, s: ArrayLike) -> FloatArray:
        """Returns the centre-line direction (K,) at arc lengths ``s`` [rad]."""
        seg = self.center.segment_at(self._wrap(s))
        v = self.center.vectors[seg]
        return np.asarray(np.arctan2(v[:, 1], v[:, 0]), dtype=np.float64)

    def start_pose(self, ndist: float = 0.0) -> tuple[float, float, float]:
        """Returns the start pose ``(x, y, yaw)`` at a normalised distance on the centre line.

        The yaw points from that point to the next waypoint (the simapp's forward
        difference), so the car faces along the track.
        """
        s = (ndist % 1.0 if self.is_loop else min(max(ndist, 0.0), 1.0)) * self.length
        x, y = self.point_at([s])[0]
        _, nxt = self.prev_next(s / self.length)
        if not self.is_loop and nxt == 0:
            nxt = self.num_waypoints - 1
        tx, ty = self.waypoints[nxt]
        if math.hypot(tx - x, ty - y) < 1e-9:  # exactly on a waypoint: use its segment
            yaw = float(self.heading_at([s])[0])
        else:
            yaw = math.atan2(ty - y, tx - x)
        return float(x), float(y), yaw

    def border_segments(self) -> tuple[FloatArray, FloatArray]:
        """Returns all border segments as ``(starts, ends)``, each (S, 2) [m] (cached)."""
        return self._border_segments

    @cached_property
    def _border_segments(self) -> tuple[FloatArray, FloatArray]:
        starts = np.vstack([self.inner.starts, self.outer.starts])
        ends = starts + np.vstack([self.inner.vectors, self.outer.vectors])
        return starts, ends

    def widths(self) -> FloatArray:
        """Returns the row-wise inner-to-outer distance at every waypoint (N,) [m]."""
        rows = self.waypoints_array
        return np.asarray(np.hypot(*(rows[:, 2:4] - rows[:, 4:6]).T), dtype=np.float64)

    def _wrap(self, s: ArrayLike) -> FloatArray:
        s_arr = np.asarray(s, dtype=np.float64).reshape(-1)
        if self.is_loop:
            return np.asarray(np.mod(s_arr, self.length), dtype=np.float64)
        return s_arr

    def __repr__(self) -> str:
        kind = "loop" if self.is_loop else "open"
        return (
            f"Track({self.name!r}, {kind}, length={self.length:.3f} m,"
            f" waypoints={self.num_waypoints}, reverse={self.reverse})"
        )


def load_route_file(path: str | Path, *, sanitize: bool = True, reverse: bool = False) -> Track:
    """Loads and validates a DeepRacer route file.

    Args:
        path: A ``.npy`` file holding an (N, 6) float array.
        sanitize: Drop zero-length centre segments (see :meth:`Track.from_array`).
        reverse: Drive opposite to the file order.

    Raises:
        TrackError: The file is missing, unreadable or holds an invalid array.
    """
    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise TrackError(f"{path}: route file not found") from None
    except (OSError, ValueError) as exc:
        raise TrackError(f"{path}: not a readable .npy route file ({exc})") from None
    if not isinstance(data, np.ndarray):
        raise TrackError(f"{path}: expected a single array in the .npy file, got an archive")
    return Track.from_array(
        data, name=path.stem, source=str(path), sanitize=sanitize, reverse=reverse
    )


def _check_simple(rows: FloatArray, where: str) -> None:
    """Raises TrackError if the centre line or a border crosses itself.

    A DeepRacer track is a simple loop (or an open strip): the road is the polygon
    between the borders, and a figure-eight has no inside and outside for it.
    """
    # shapely (GEOS) tells simple lines apart in a fraction of a millisecond; only a
    # line that is not simple is searched for its crossing, to name it.
    from shapely.geometry import LinearRing, LineString

    closed = bool(np.array_equal(rows[0], rows[-1]))
    for columns, what in ((slice(0, 2), "centre line"), (slice(2, 4), "inner border"),
                          (slice(4, 6), "outer border")):  # fmt: skip
        points = rows[:, columns]
        keep = np.concatenate(([True], (np.diff(points, axis=0) != 0.0).any(axis=1)))
        points = points[keep]
        if len(points) < (4 if closed else 2):
            continue  # too few distinct points to cross (the row count is checked above)
        if (LinearRing(points) if closed else LineString(points)).is_simple:
            continue
        crossing = first_crossing(points, closed=closed)
        if crossing is not None:
            i, j = crossing
            x, y = points[j]
            raise TrackError(
                f"{where}: the {what} crosses itself (its segments {i} and {j}, near x"
                f" {x:.2f}, y {y:.2f}); a DeepRacer track is a simple loop or strip, and a"
                " figure-eight has no inside and outside for its road"
            )
