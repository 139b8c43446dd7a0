"""Planar geometry on polylines, vectorised over query points.

These are the few primitives the simulator needs, written in numpy so one call
handles one point or thousands. They reproduce what the DeepRacer simapp computes
with shapely (``LineString.project``/``interpolate``, ``Polygon.contains``), which
the tests check against shapely itself.

Contents:
    Polyline: an open or closed polyline with arc-length projection and interpolation.
    points_in_ring: even-odd point-in-polygon test against one closed ring.
    signed_area: the shoelace area of a ring (positive when counter-clockwise).
    first_crossing: two segments of a polyline that cross, if any.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["Polyline", "first_crossing", "points_in_ring", "signed_area"]

FloatArray = NDArray[np.float64]


class Polyline:
    """A polyline with arc-length queries.

    Args:
        points: (M, 2) vertices in metres. A closed polyline repeats its first vertex
            at the end, as DeepRacer route files do.

    Attributes:
        points: (M, 2) vertices (read-only).
        starts: (M-1, 2) segment start points.
        vectors: (M-1, 2) segment vectors.
        seg_lengths: (M-1,) segment lengths in metres.
        cumulative: (M,) arc length at each vertex; ``cumulative[-1]`` is the length.
        length: total length in metres.

    Example:
        >>> line = Polyline([[0.0, 0.0], [2.0, 0.0], [2.0, 1.0]])
        >>> float(line.length)
        3.0
        >>> s, nearest, dist = line.project([[1.0, 0.5]])
        >>> float(s[0]), float(dist[0])
        (1.0, 0.5)
    """

    def __init__(self, points: ArrayLike) -> None:
        pts = np.array(points, dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 2:
            raise ValueError(f"a polyline needs (M>=2, 2) points, got shape {pts.shape}")
        pts.setflags(write=False)
        self.points: FloatArray = pts
        self.starts: FloatArray = pts[:-1]
        self.vectors: FloatArray = np.diff(pts, axis=0)
        len2 = np.einsum("ij,ij->i", self.vectors, self.vectors)
        self._len2: FloatArray = len2
        # Zero-length segments (kept only in legacy mode) must not divide by zero.
        self._inv_len2: FloatArray = np.divide(1.0, len2, out=np.zeros_like(len2), where=len2 > 0.0)
        self.seg_lengths: FloatArray = np.sqrt(len2)
        self.cumulative: FloatArray = np.concatenate(([0.0], np.cumsum(self.seg_lengths)))
        self.length: float = float(self.cumulative[-1])
        # Plain-float copies for the scalar fast paths.
        self.cumulative_list: list[float] = self.cumulative.tolist()
        self.seg_length_list: list[float] = self.seg_lengths.tolist()

    def project(self, points: ArrayLike) -> tuple[FloatArray, FloatArray, NDArray[np.intp]]:
        """Projects points onto the polyline.

        Ties go to the earliest segment, as in shapely's ``project``.

        Args:
            points: (K, 2) query points.

        Returns:
            ``(s, nearest, segment)``: arc length of the nearest point (K,), the nearest
            point itself (K, 2) and the index of its segment (K,).
        """
        p = np.asarray(points, dtype=np.float64).reshape(-1, 1, 2)
        w = p - self.starts  # (K, M-1, 2)
        t = np.einsum("kmi,mi->km", w, self.vectors) * self._inv_len2
        np.clip(t, 0.0, 1.0, out=t)
        offset = w - t[..., None] * self.vectors
        d2 = np.einsum("kmi,kmi->km", offset, offset)
        seg = np.argmin(d2, axis=1)
        rows = np.arange(len(seg))
        t_best = t[rows, seg]
        s = self.cumulative[seg] + t_best * self.seg_lengths[seg]
        nearest = self.starts[seg] + t_best[:, None] * self.vectors[seg]
        return s, nearest, seg

    def distance(self, points: ArrayLike) -> FloatArray:
        """Returns the distance (K,) from each point to the polyline."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        _, nearest, _ = self.project(p)
        return np.asarray(np.hypot(*(p - nearest).T), dtype=np.float64)

    def interpolate(self, s: ArrayLike) -> FloatArray:
        """Returns the points (K, 2) at arc lengths ``s``, clipped to [0, length]."""
        s_arr = np.clip(np.asarray(s, dtype=np.float64).reshape(-1), 0.0, self.length)
        seg = np.searchsorted(self.cumulative, s_arr, side="right") - 1
        seg = np.clip(seg, 0, len(self.starts) - 1)
        local = s_arr - self.cumulative[seg]
        t = np.divide(
            local,
            self.seg_lengths[seg],
            out=np.zeros_like(local),
            where=self.seg_lengths[seg] > 0,
        )
        return np.asarray(self.starts[seg] + t[:, None] * self.vectors[seg], dtype=np.float64)

    def segment_at(self, s: ArrayLike) -> NDArray[np.intp]:
        """Returns the index (K,) of the segment containing each arc length."""
        s_arr = np.clip(np.asarray(s, dtype=np.float64).reshape(-1), 0.0, self.length)
        seg = np.searchsorted(self.cumulative, s_arr, side="right") - 1
        return np.clip(seg, 0, len(self.starts) - 1)


def points_in_ring(points: ArrayLike, ring: ArrayLike) -> NDArray[np.bool_]:
    """Even-odd test of points against a closed ring.

    Points exactly on an edge may fall either way, as for any floating-point test.

    Args:
        points: (K, 2) query points.
        ring: (M, 2) ring vertices; the closing vertex may be repeated or not.

    Returns:
        (K,) booleans, True where the point lies inside the ring.
    """
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    v = np.asarray(ring, dtype=np.float64)
    a = v
    b = np.roll(v, -1, axis=0)
    px = p[:, 0:1]
    py = p[:, 1:2]
    ay, by = a[:, 1], b[:, 1]
    straddles = (ay > py) != (by > py)  # (K, M)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = a[:, 0] + (py - ay) * (b[:, 0] - a[:, 0]) / (by - ay)
    crossings = np.count_nonzero(straddles & (px < x_cross), axis=1)
    return np.asarray(crossings % 2 == 1)


def signed_area(ring: ArrayLike) -> float:
    """Returns the shoelace area of a ring (m^2): positive when counter-clockwise."""
    v = np.asarray(ring, dtype=np.float64)
    x, y = v[:, 0], v[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def first_crossing(points: ArrayLike, *, closed: bool) -> tuple[int, int] | None:
    """Returns the first pair of segments ``(i, j)``, ``i < j``, that cross or touch.

    Neighbouring segments share a vertex and are not compared (nor the last and the
    first of a closed polyline). Zero-length segments must have been dropped.

    Args:
        points: (M, 2) vertices; a closed polyline repeats its first vertex at the end.
        closed: Whether the last segment joins the first.

    Returns:
        ``(i, j)`` of segments ``points[i] -> points[i + 1]`` and ``points[j] ->
        points[j + 1]``; None for a simple polyline.
    """
    v = np.asarray(points, dtype=np.float64)
    a, b = v[:-1], v[1:]
    n = len(a)
    i, j = np.triu_indices(n, k=2)
    if closed:
        keep = ~((i == 0) & (j == n - 1))
        i, j = i[keep], j[keep]

    def orient(p: FloatArray, q: FloatArray, r: FloatArray) -> FloatArray:
        cross = (q[:, 0] - p[:, 0]) * (r[:, 1] - p[:, 1]) - (q[:, 1] - p[:, 1]) * (
            r[:, 0] - p[:, 0]
        )
        return np.asarray(np.sign(cross))

    def within(p: FloatArray, q: FloatArray, r: FloatArray) -> NDArray[np.bool_]:
        # r lies in the bounding box of p-q (used where the three are collinear).
        return np.asarray(
            (np.minimum(p[:, 0], q[:, 0]) <= r[:, 0])
            & (r[:, 0] <= np.maximum(p[:, 0], q[:, 0]))
            & (np.minimum(p[:, 1], q[:, 1]) <= r[:, 1])
            & (r[:, 1] <= np.maximum(p[:, 1], q[:, 1]))
        )

    p1, p2, q1, q2 = a[i], b[i], a[j], b[j]
    o1, o2 = orient(p1, p2, q1), orient(p1, p2, q2)
    o3, o4 = orient(q1, q2, p1), orient(q1, q2, p2)
    hit = (o1 * o2 < 0) & (o3 * o4 < 0)
    hit |= (o1 == 0) & within(p1, p2, q1)
    hit |= (o2 == 0) & within(p1, p2, q2)
    hit |= (o3 == 0) & within(q1, q2, p1)
    hit |= (o4 == 0) & within(q1, q2, p2)
    found = np.flatnonzero(hit)
    return None if found.size == 0 else (int(i[found[0]]), int(j[found[0]]))
