"""Uniform-grid indexes that make single-point track queries exact and cheap.

The simulator asks the same few questions every step for one car: the nearest point
of a polyline and whether four wheel points lie on the road. Scanning every segment
with numpy costs tens of microseconds per question; these indexes narrow each
question to the handful of segments that can matter, decided once per track, and
answer in plain Python.

Both are exact, not approximations:

* :class:`SegmentGrid`: for a cell with centre c and half-diagonal r, a segment whose
  distance from c exceeds the smallest such distance by more than 2r is farther
  from every point of the cell than the nearest segment is, so it is never the
  answer. The remaining candidates are searched in index order, so ties go to the
  earliest segment, as in shapely.
* :class:`RoadGrid`: each cell stores whether its centre is inside (by the even-odd
  rule over all border rings) and the border edges that can cross the cell (those
  within r of its centre). A point's status is the centre's, flipped once per edge
  crossed by the segment from the point to the centre.

Points outside the indexed area fall back to the full numpy scan. Each index also
answers many points at once (``*_batch``) with the candidate lists padded into
arrays, for the vectorised environment.

Contents:
    SegmentGrid: nearest point on a polyline.
    RoadGrid: point-in-road test.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from deepracer.tracks.geometry import points_in_ring

__all__ = ["RoadGrid", "SegmentGrid"]

FloatArray = NDArray[np.float64]

_CHUNK_ELEMENTS = 2_000_000  # cells x segments per numpy block: bounded memory


class _Grid:
    """Cell layout over a bounding box with a margin."""

    def __init__(self, points: FloatArray, cell: float, margin: float) -> None:
        lo = points.min(axis=0) - margin
        hi = points.max(axis=0) + margin
        self.cell = cell
        self.x0, self.y0 = float(lo[0]), float(lo[1])
        self.nx = max(1, math.ceil((hi[0] - lo[0]) / cell))
        self.ny = max(1, math.ceil((hi[1] - lo[1]) / cell))
        self.half_diagonal = cell * math.sqrt(0.5)
        ix, iy = np.meshgrid(np.arange(self.nx), np.arange(self.ny), indexing="ij")
        self.centers: FloatArray = np.stack(
            [
                self.x0 + (ix.reshape(-1) + 0.5) * cell,
                self.y0 + (iy.reshape(-1) + 0.5) * cell,
            ],
            axis=1,
        )

    def cells_of(self, x: FloatArray, y: FloatArray) -> NDArray[np.intp]:
        """Returns flat cell indices (N,), -1 outside the grid."""
        i = np.floor((x - self.x0) / self.cell).astype(np.intp)
        j = np.floor((y - self.y0) / self.cell).astype(np.intp)
        inside = (i >= 0) & (i < self.nx) & (j >= 0) & (j < self.ny)
        return np.where(inside, i * self.ny + j, -1)

    def cell_of(self, x: float, y: float) -> int:
        """Returns the flat cell index of a point, or -1 outside the grid."""
        i = math.floor((x - self.x0) / self.cell)
        j = math.floor((y - self.y0) / self.cell)
        if 0 <= i < self.nx and 0 <= j < self.ny:
            return int(i * self.ny + j)
        return -1


def _segment_distances(
    points: FloatArray, starts: FloatArray, vectors: FloatArray, inv_len2: FloatArray
) -> FloatArray:
    """Distances (P, S) from points to segments."""
    w = points[:, None, :] - starts[None, :, :]
    t = np.clip(np.einsum("psi,si->ps", w, vectors) * inv_len2, 0.0, 1.0)
    off = w - t[..., None] * vectors
    return np.asarray(np.sqrt(np.einsum("psi,psi->ps", off, off)), dtype=np.float64)


def _pad(rows: list[tuple[int, ...]], width: int) -> NDArray[np.intp]:
    """Cuts or pads (with the row's first entry) every row to ``width`` entries."""
    return np.array([(c + (c[0],) * width)[:width] for c in rows], dtype=np.intp)


class SegmentGrid:
    """Exact nearest-segment queries on a polyline.

    Args:
        starts: (S, 2) segment starts.
        vectors: (S, 2) segment vectors.
        cell: Cell size [m].
        margin: Indexed distance beyond the polyline's bounding box [m].
    """

    def __init__(
        self, starts: FloatArray, vectors: FloatArray, *, cell: float = 0.1, margin: float = 2.0
    ) -> None:
        len2 = np.einsum("ij,ij->i", vectors, vectors)
        inv_len2 = np.divide(1.0, len2, out=np.zeros_like(len2), where=len2 > 0.0)
        self._grid = _Grid(np.vstack([starts, starts + vectors]), cell, margin)
        centers = self._grid.centers
        slack = 2.0 * self._grid.half_diagonal + 1e-9
        candidates: list[tuple[int, ...]] = []
        step = max(1, _CHUNK_ELEMENTS // max(1, len(starts)))
        for k in range(0, len(centers), step):
            d = _segment_distances(centers[k : k + step], starts, vectors, inv_len2)
            keep = d <= d.min(axis=1, keepdims=True) + slack
            candidates.extend(tuple(np.flatnonzero(row).tolist()) for row in keep)
        self._candidates = candidates
        # Padded with each row's first (smallest) candidate: a duplicate never wins a
        # strict comparison, so ties still go to the smallest index. Rows are padded to
        # a typical width; the few longer rows (cells near a curve's centre, where many
        # segments are equally far) are answered from a second, wider table.
        lengths = np.array([len(c) for c in candidates])
        width = int(np.percentile(lengths, 95))
        self._padded: NDArray[np.intp] = _pad(candidates, width)
        long_rows = np.flatnonzero(lengths > width)
        self._long_row = np.full(len(candidates), -1, dtype=np.intp)
        self._long_row[long_rows] = np.arange(len(long_rows))
        self._padded_long: NDArray[np.intp] = _pad(
            [candidates[i] for i in long_rows.tolist()] or [(0,)], int(lengths.max())
        )
        self._starts = starts
        self._vectors = vectors
        self._inv_len2 = inv_len2
        self._ax = starts[:, 0].tolist()
        self._ay = starts[:, 1].tolist()
        self._vx = vectors[:, 0].tolist()
        self._vy = vectors[:, 1].tolist()
        self._inv = inv_len2.tolist()

    def nearest(self, x: float, y: float) -> tuple[int, float, float, float] | None:
        """Returns ``(segment, t, nearest_x, nearest_y)``, or None outside the grid."""
        cell = self._grid.cell_of(x, y)
        if cell < 0:
            return None
        best = -1
        best_d2 = math.inf
        best_t = 0.0
        ax, ay, vx, vy, inv = self._ax, self._ay, self._vx, self._vy, self._inv
        for i in self._candidates[cell]:
            wx = x - ax[i]
            wy = y - ay[i]
            t = (wx * vx[i] + wy * vy[i]) * inv[i]
            t = 0.0 if t < 0.0 else (1.0 if t > 1.0 else t)
            dx = wx - t * vx[i]
            dy = wy - t * vy[i]
            d2 = dx * dx + dy * dy
            if d2 < best_d2:
                best, best_d2, best_t = i, d2, t
        return best, best_t, ax[best] + best_t * vx[best], ay[best] + best_t * vy[best]

    def nearest_batch(
        self, x: FloatArray, y: FloatArray
    ) -> tuple[NDArray[np.intp], FloatArray, FloatArray, FloatArray, NDArray[np.bool_]]:
        """Answers :meth:`nearest` for N points at once.

        Returns:
            ``(segment, t, nearest_x, nearest_y, valid)``; rows with ``valid`` False
            lie outside the grid and hold garbage.
        """
        cells = self._grid.cells_of(x, y)
        valid = cells >= 0
        safe = np.where(valid, cells, 0)
        long_row = self._long_row[safe]
        wide = long_row >= 0
        seg, t, nx, ny = self._nearest_among(self._padded[safe], x, y)
        if wide.any():
            seg[wide], t[wide], nx[wide], ny[wide] = self._nearest_among(
                self._padded_long[long_row[wide]], x[wide], y[wide]
            )
        return seg, t, nx, ny, valid

    def _nearest_among(
        self, cand: NDArray[np.intp], x: FloatArray, y: FloatArray
    ) -> tuple[NDArray[np.intp], FloatArray, FloatArray, FloatArray]:
        ax = self._starts[cand, 0]
        ay = self._starts[cand, 1]
        vx = self._vectors[cand, 0]
        vy = self._vectors[cand, 1]
        wx = x[:, None] - ax
        wy = y[:, None] - ay
        t = np.clip((wx * vx + wy * vy) * self._inv_len2[cand], 0.0, 1.0)
        dx = wx - t * vx
        dy = wy - t * vy
        k = np.argmin(dx * dx + dy * dy, axis=1)
        rows = np.arange(len(x))
        seg = cand[rows, k]
        tk = t[rows, k]
        nx = ax[rows, k] + tk * vx[rows, k]
        ny = ay[rows, k] + tk * vy[rows, k]
        return seg, tk, nx, ny


class RoadGrid:
    """Exact even-odd point-in-road test over one or more closed rings.

    Args:
        rings: Closed rings (M, 2) (the closing vertex may repeat); a point is on the
            road when it lies inside an odd number of them.
        cell: Cell size [m].
        margin: Indexed distance beyond the rings' bounding box [m].
    """

    def __init__(self, rings: list[FloatArray], *, cell: float = 0.2, margin: float = 2.0) -> None:
        starts = np.vstack([r for r in rings])
        ends = np.vstack([np.roll(r, -1, axis=0) for r in rings])
        vectors = ends - starts
        len2 = np.einsum("ij,ij->i", vectors, vectors)
        inv_len2 = np.divide(1.0, len2, out=np.zeros_like(len2), where=len2 > 0.0)
        self._grid = _Grid(starts, cell, margin)
        centers = self._grid.centers
        inside = np.zeros(len(centers), dtype=bool)
        for ring in rings:
            inside ^= points_in_ring(centers, ring)
        self._inside = inside.tolist()
        reach = self._grid.half_diagonal + 1e-9
        edges: list[tuple[int, ...]] = []
        step = max(1, _CHUNK_ELEMENTS // max(1, len(starts)))
        for k in range(0, len(centers), step):
            d = _segment_distances(centers[k : k + step], starts, vectors, inv_len2)
            edges.extend(tuple(np.flatnonzero(row).tolist()) for row in d <= reach)
        self._edges = edges
        width = max(1, max(len(e) for e in edges))
        padded = np.full((len(edges), width), -1, dtype=np.intp)
        for row, e in enumerate(edges):
            padded[row, : len(e)] = e
        self._padded: NDArray[np.intp] = padded
        self._inside_arr: NDArray[np.bool_] = inside
        self._centers = centers
        self._starts = starts
        self._vectors = vectors
        self._cx = centers[:, 0].tolist()
        self._cy = centers[:, 1].tolist()
        self._ax = starts[:, 0].tolist()
        self._ay = starts[:, 1].tolist()
        self._vx = vectors[:, 0].tolist()
        self._vy = vectors[:, 1].tolist()

    def contains(self, x: float, y: float) -> bool | None:
        """Returns whether the point is on the road, or None outside the grid."""
        cell = self._grid.cell_of(x, y)
        if cell < 0:
            return None
        inside: bool = self._inside[cell]
        edges = self._edges[cell]
        if not edges:
            return inside
        # Segment p -> c, with c the cell centre: count the edges it crosses, each
        # edge taken half-open [start, end) so a shared vertex counts once.
        px, py = x, y
        qx = self._cx[cell] - x
        qy = self._cy[cell] - y
        ax, ay, vx, vy = self._ax, self._ay, self._vx, self._vy
        for i in edges:
            denom = qx * vy[i] - qy * vx[i]
            if denom == 0.0:
                continue
            wx = ax[i] - px
            wy = ay[i] - py
            s = (wx * vy[i] - wy * vx[i]) / denom  # along p -> c
            u = (wx * qy - wy * qx) / denom  # along the edge
            if 0.0 <= s <= 1.0 and 0.0 <= u < 1.0:
                inside = not inside
        return inside

    def contains_batch(
        self, x: FloatArray, y: FloatArray
    ) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """Answers :meth:`contains` for N points at once.

        Returns:
            ``(inside, valid)``; rows with ``valid`` False lie outside the grid.
        """
        cells = self._grid.cells_of(x, y)
        valid = cells >= 0
        safe = np.where(valid, cells, 0)
        edges = self._padded[safe]  # (N, E), -1 = no edge
        real = edges >= 0
        e = np.where(real, edges, 0)
        qx = (self._centers[safe, 0] - x)[:, None]
        qy = (self._centers[safe, 1] - y)[:, None]
        vx = self._vectors[e, 0]
        vy = self._vectors[e, 1]
        wx = self._starts[e, 0] - x[:, None]
        wy = self._starts[e, 1] - y[:, None]
        denom = qx * vy - qy * vx
        ok = real & (denom != 0.0)
        safe_denom = np.where(ok, denom, 1.0)
        s = (wx * vy - wy * vx) / safe_denom
        u = (wx * qy - wy * qx) / safe_denom
        crossed = ok & (s >= 0.0) & (s <= 1.0) & (u >= 0.0) & (u < 1.0)
        flips = np.count_nonzero(crossed, axis=1) % 2 == 1
        return self._inside_arr[safe] ^ flips, valid
