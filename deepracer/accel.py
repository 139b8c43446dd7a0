"""Optional numba kernels for the hot loops of the simulator.

numba is an optional dependency (the ``fast`` extra). When it is installed, the
vectorised environment runs its per-car geometry, physics and state observation as
compiled loops; without it (or with ``DEEPRACER_DISABLE_NUMBA=1``) the same results
come from the numpy code paths. The kernels do exactly the arithmetic of the
scalar Python functions they mirror (:meth:`SegmentGrid.nearest`,
:meth:`RoadGrid.contains`, :func:`deepracer.physics.step`), so both paths agree to
the last bit or to rounding; the tests compare them.

Contents:
    ENABLED: whether the kernels are used.
    TrackPack: a track's arrays in the layout the kernels read.
    pack_track: build (and cache) the pack of a track.
    locate_cars: geometry of many cars' poses on one track.
    physics_step: the car's dynamics for many cars.
    state_observation: the ``state`` observation for many cars.
    camera_frames: camera frames of a world (floor codes, walls, sky, object boxes)
        for many poses.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from deepracer.tracks import Track

__all__ = [
    "ENABLED",
    "TrackPack",
    "camera_frames",
    "locate_cars",
    "pack_track",
    "physics_step",
    "state_observation",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

numba: Any
try:  # depends on the installed extras
    import numba
except ImportError:
    numba = None
ENABLED = numba is not None and not os.environ.get("DEEPRACER_DISABLE_NUMBA")
"""Whether the vectorised env uses the compiled kernels (read when an env is built)."""


def _jit(fn: Any) -> Any:
    if numba is None:
        return fn
    return numba.njit(cache=True, nogil=True, error_model="numpy")(fn)


class GridPack(NamedTuple):
    """One uniform grid: origin, cell size, shape, CSR candidate lists."""

    x0: float
    y0: float
    cell: float
    nx: int
    ny: int
    offsets: IntArray
    items: IntArray


class TrackPack(NamedTuple):
    """A track's arrays for the kernels (centre, borders, road grid, arc lengths)."""

    center: tuple[Any, ...]
    inner: tuple[Any, ...]
    outer: tuple[Any, ...]
    road: tuple[Any, ...]
    ndists: FloatArray
    cumulative: FloatArray
    seg_lengths: FloatArray
    length: float
    is_loop: bool
    is_ccw: bool


def _csr(rows: list[tuple[int, ...]]) -> tuple[IntArray, IntArray]:
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(r) for r in rows])
    items = np.fromiter((i for r in rows for i in r), dtype=np.int64, count=int(offsets[-1]))
    return offsets, items


def _line_pack(line: Any, grid: Any) -> tuple[Any, ...]:
    g = grid._grid
    offsets, items = _csr(grid._candidates)
    return (
        GridPack(g.x0, g.y0, g.cell, g.nx, g.ny, offsets, items),
        np.ascontiguousarray(grid._starts),
        np.ascontiguousarray(grid._vectors),
        np.ascontiguousarray(grid._inv_len2),
        np.ascontiguousarray(line.cumulative),
        np.ascontiguousarray(line.seg_lengths),
    )


def pack_track(track: Track) -> TrackPack:
    """Returns the kernel layout of ``track`` (built once, kept on the track object)."""
    pack: TrackPack | None = getattr(track, "_accel_pack", None)
    if pack is None:
        road = track._road_grid
        g = road._grid
        offsets, items = _csr(road._edges)
        pack = TrackPack(
            center=_line_pack(track.center, track._center_grid),
            inner=_line_pack(track.inner, track._inner_grid),
            outer=_line_pack(track.outer, track._outer_grid),
            road=(
                GridPack(g.x0, g.y0, g.cell, g.nx, g.ny, offsets, items),
                np.asarray(road._inside_arr, dtype=np.bool_),
                np.ascontiguousarray(road._centers),
                np.ascontiguousarray(road._starts),
                np.ascontiguousarray(road._vectors),
                np.ascontiguousarray(
                    np.vstack(
                        [track._road_outer]
                        + ([] if track._road_hole is None else [track._road_hole])
                    )
                ),
                np.array(
                    [len(track._road_outer)]
                    + ([] if track._road_hole is None else [len(track._road_hole)]),
                    dtype=np.int64,
                ),
            ),
            ndists=np.asarray(track.ndists, dtype=np.float64),
            cumulative=np.ascontiguousarray(track.center.cumulative),
            seg_lengths=np.ascontiguousarray(track.center.seg_lengths),
            length=track.length,
            is_loop=track.is_loop,
            is_ccw=track.is_ccw,
        )
        track._accel_pack = pack  # type: ignore[attr-defined]
    return pack


# -- kernels (numba-compatible Python) ---------------------------------------------------


@_jit
def _closer(x, y, s, starts, vectors, inv, best, best_d2, best_t):
    """Segment ``s`` against the best so far; strict ``<`` keeps the earliest on ties."""
    wx = x - starts[s, 0]
    wy = y - starts[s, 1]
    t = (wx * vectors[s, 0] + wy * vectors[s, 1]) * inv[s]
    t = 0.0 if t < 0.0 else (1.0 if t > 1.0 else t)
    dx = wx - t * vectors[s, 0]
    dy = wy - t * vectors[s, 1]
    d2 = dx * dx + dy * dy
    if d2 < best_d2:
        return s, d2, t
    return best, best_d2, best_t


@_jit
def _nearest(x, y, x0, y0, cell, nx, ny, offsets, items, starts, vectors, inv):
    """Mirrors SegmentGrid.nearest; scans every segment outside the grid."""
    i = math.floor((x - x0) / cell)
    j = math.floor((y - y0) / cell)
    best = -1
    best_d2 = math.inf
    best_t = 0.0
    if 0 <= i < nx and 0 <= j < ny:
        c = i * ny + j
        for k in range(offsets[c], offsets[c + 1]):
            best, best_d2, best_t = _closer(
                x, y, items[k], starts, vectors, inv, best, best_d2, best_t
            )
    else:
        for s in range(starts.shape[0]):
            best, best_d2, best_t = _closer(x, y, s, starts, vectors, inv, best, best_d2, best_t)
    return (
        best,
        best_t,
        starts[best, 0] + best_t * vectors[best, 0],
        starts[best, 1] + best_t * vectors[best, 1],
    )


@_jit
def _in_rings(x, y, rings, sizes):
    """Even-odd test over all rings (the grid's fallback far from the track)."""
    inside = False
    base = 0
    for r in range(sizes.shape[0]):
        m = sizes[r]
        for k in range(m):
            ax, ay = rings[base + k, 0], rings[base + k, 1]
            b = base + (k + 1) % m
            bx, by = rings[b, 0], rings[b, 1]
            if (ay > y) != (by > y):
                xc = ax + (y - ay) * (bx - ax) / (by - ay)
                if x < xc:
                    inside = not inside
        base += m
    return inside


@_jit
def _on_road(
    x, y, x0, y0, cell, nx, ny, offsets, items, inside_cells, centers, starts, vectors, rings, sizes
):
    """Mirrors RoadGrid.contains."""
    i = math.floor((x - x0) / cell)
    j = math.floor((y - y0) / cell)
    if not (0 <= i < nx and 0 <= j < ny):
        return _in_rings(x, y, rings, sizes)
    c = i * ny + j
    inside = inside_cells[c]
    qx = centers[c, 0] - x
    qy = centers[c, 1] - y
    for k in range(offsets[c], offsets[c + 1]):
        e = items[k]
        vx = vectors[e, 0]
        vy = vectors[e, 1]
        denom = qx * vy - qy * vx
        if denom == 0.0:
            continue
        wx = starts[e, 0] - x
        wy = starts[e, 1] - y
        s = (wx * vy - wy * vx) / denom
        u = (wx * qy - wy * qx) / denom
        if 0.0 <= s <= 1.0 and 0.0 <= u < 1.0:
            inside = not inside
    return inside


@_jit
def _locate_kernel(
    cars,
    state,
    rear_offset,
    model_offset,
    wheelbase,
    half_rear,
    half_front,
    cg,
    cs,
    cv,
    ci,
    ccum,
    cseg,
    ig,
    is_,
    iv,
    ii,
    og,
    os_,
    ov,
    oi,
    rg,
    r_inside,
    r_centers,
    r_starts,
    r_vectors,
    r_rings,
    r_sizes,
    ndists,
    length,
    is_ccw,
    out_f,
    out_i,
    out_b,
):
    """Fills geometry rows for the given cars: see locate_cars for the columns."""
    for n in range(cars.shape[0]):
        car = cars[n]
        x = state[car, 0]
        y = state[car, 1]
        yaw = state[car, 2]
        c = math.cos(yaw)
        s = math.sin(yaw)
        ox = x + rear_offset * c
        oy = y + rear_offset * s
        mx = ox + model_offset * c
        my = oy + model_offset * s
        seg, t, cx, cy = _nearest(
            mx, my, cg[0], cg[1], cg[2], cg[3], cg[4], cg[5], cg[6], cs, cv, ci
        )
        arc = ccum[seg] + t * cseg[seg]
        _, _, ix, iy = _nearest(
            cx, cy, ig[0], ig[1], ig[2], ig[3], ig[4], ig[5], ig[6], is_, iv, ii
        )
        _, _, qx, qy = _nearest(
            cx, cy, og[0], og[1], og[2], og[3], og[4], og[5], og[6], os_, ov, oi
        )
        d_in = math.hypot(mx - ix, my - iy)
        d_out = math.hypot(mx - qx, my - qy)
        ndist = arc / length
        nxt = _bisect_right_near(ndists, ndist, seg + 1)
        prev = nxt - 1
        if prev == -1:
            prev = ndists.shape[0] - 1
        if nxt == ndists.shape[0]:
            nxt = 0
        fx = x + wheelbase * c
        fy = y + wheelbase * s
        on_count = 0
        for w in range(4):
            if w == 0:
                px, py = x - half_rear * s, y + half_rear * c
            elif w == 1:
                px, py = fx - half_front * s, fy + half_front * c
            elif w == 2:
                px, py = x + half_rear * s, y - half_rear * c
            else:
                px, py = fx + half_front * s, fy - half_front * c
            if _on_road(
                px,
                py,
                rg[0],
                rg[1],
                rg[2],
                rg[3],
                rg[4],
                rg[5],
                rg[6],
                r_inside,
                r_centers,
                r_starts,
                r_vectors,
                r_rings,
                r_sizes,
            ):
                on_count += 1
        out_f[car, 0] = arc
        out_f[car, 1] = ndist
        out_f[car, 2] = cx
        out_f[car, 3] = cy
        out_f[car, 4] = math.hypot(mx - cx, my - cy)
        out_f[car, 5] = d_in
        out_f[car, 6] = d_out
        out_f[car, 7] = math.hypot(ix - qx, iy - qy)
        out_f[car, 8] = ox
        out_f[car, 9] = oy
        out_f[car, 10] = mx
        out_f[car, 11] = my
        out_i[car, 0] = prev
        out_i[car, 1] = nxt
        out_i[car, 2] = seg
        out_b[car, 0] = (d_in < d_out) != (not is_ccw)
        out_b[car, 1] = on_count == 4
        out_b[car, 2] = on_count == 0


GEOMETRY_FLOATS = (
    "s",
    "ndist",
    "center_x",
    "center_y",
    "distance_from_center",
    "distance_to_inner",
    "distance_to_outer",
    "width",
    "ox",
    "oy",
    "mx",
    "my",
)
"""Column names of ``locate_cars``' float output."""


def locate_cars(
    pack: TrackPack,
    cars: IntArray,
    state: FloatArray,
    vehicle: Any,
    out_f: FloatArray,
    out_i: IntArray,
    out_b: NDArray[np.bool_],
) -> None:
    """Writes the geometry of ``cars`` (rows of ``state``) into the output arrays.

    Columns: ``out_f`` as :data:`GEOMETRY_FLOATS`; ``out_i`` prev/next waypoint;
    ``out_b`` is_left_of_center, all_wheels_on_track, is_offtrack.
    """
    c, inn, out, road = pack.center, pack.inner, pack.outer, pack.road
    _locate_kernel(
        cars,
        state,
        vehicle.rear_axle_offset,
        vehicle.model_point_offset,
        vehicle.wheelbase,
        0.5 * vehicle.track_rear,
        0.5 * vehicle.track_front,
        tuple(c[0]),
        c[1],
        c[2],
        c[3],
        c[4],
        c[5],
        tuple(inn[0]),
        inn[1],
        inn[2],
        inn[3],
        tuple(out[0]),
        out[1],
        out[2],
        out[3],
        tuple(road[0]),
        road[1],
        road[2],
        road[3],
        road[4],
        road[5],
        road[6],
        pack.ndists,
        pack.length,
        pack.is_ccw,
        out_f,
        out_i,
        out_b,
    )


@_jit
def _physics_kernel(
    cars,
    state,
    steer,
    v_cmd,
    friction,
    wheelbase,
    tau_v,
    tau_s,
    substeps,
    delayed,
    dt,
    grip_g,
    traction,
):
    """Mirrors deepracer.physics.step for each listed car, in place."""
    h = dt / substeps
    a_speed = 1.0 - math.exp(-h / tau_v) if tau_v > 0.0 else 1.0
    a_steer = 1.0 - math.exp(-h / tau_s) if tau_s > 0.0 else 1.0
    for n in range(cars.shape[0]):
        car = cars[n]
        x = state[car, 0]
        y = state[car, 1]
        yaw = state[car, 2]
        v = state[car, 3]
        delta = state[car, 4]
        prev_steer = state[car, 5]
        prev_speed = state[car, 6]
        grip = friction[n] * grip_g
        dv_max = grip * h if traction else math.inf
        for j in range(substeps):
            if j < delayed:
                s_cmd = prev_steer
                target = prev_speed
            else:
                s_cmd = steer[n]
                target = v_cmd[n]
            delta += (s_cmd - delta) * a_steer
            dv = (target - v) * a_speed
            dv = dv_max if dv > dv_max else (-dv_max if dv < -dv_max else dv)
            v_new = v + dv
            v_mid = 0.5 * (v + v_new)
            ds = v_mid * h
            kappa = math.tan(delta) / wheelbase
            if v_mid > 0.0:
                kappa_max = grip / (v_mid * v_mid)
                if kappa > kappa_max:
                    kappa = kappa_max
                elif kappa < -kappa_max:
                    kappa = -kappa_max
            half = 0.5 * kappa * ds
            if abs(half) > 1e-9:
                chord = ds * (math.sin(half) / half)
            else:
                chord = ds * (1.0 - half * half / 6.0)
            x += chord * math.cos(yaw + half)
            y += chord * math.sin(yaw + half)
            yaw += 2.0 * half
            v = v_new
        state[car, 0] = x
        state[car, 1] = y
        state[car, 2] = math.atan2(math.sin(yaw), math.cos(yaw))
        state[car, 3] = v
        state[car, 4] = delta
        state[car, 5] = steer[n]
        state[car, 6] = v_cmd[n]


def physics_step(
    cars: IntArray,
    state: FloatArray,
    steer: FloatArray,
    v_cmd: FloatArray,
    friction: FloatArray,
    vehicle: Any,
    dt: float,
) -> None:
    """Advances the listed cars (rows of ``state``) in place; inputs are per listed car."""
    from deepracer.physics import GRAVITY

    _physics_kernel(
        cars,
        state,
        steer,
        v_cmd,
        friction,
        vehicle.effective_wheelbase,
        vehicle.speed_time_constant,
        vehicle.steering_time_constant,
        vehicle.substeps,
        vehicle.delay_substeps(dt),
        dt,
        vehicle.grip_scale * GRAVITY,
        vehicle.traction_limit,
    )


@_jit
def _bisect_right_near(values, x, hint):
    """``bisect_right(values, x)`` found by walking from ``hint`` (an index near it)."""
    n = values.shape[0]
    j = 0 if hint < 0 else (n if hint > n else hint)
    while j < n and values[j] <= x:
        j += 1
    while j > 0 and values[j - 1] > x:
        j -= 1
    return j


@_jit
def _pose_at(cumulative, seg_lengths, starts, vectors, length, is_loop, s, hint):
    if is_loop:
        s = s % length
    seg = _bisect_right_near(cumulative, s, hint) - 1
    last = seg_lengths.shape[0] - 1
    seg = 0 if seg < 0 else (last if seg > last else seg)
    seg_len = seg_lengths[seg]
    t = (s - cumulative[seg]) / seg_len if seg_len > 0.0 else 0.0
    t = 0.0 if t < 0.0 else (1.0 if t > 1.0 else t)
    vx = vectors[seg, 0]
    vy = vectors[seg, 1]
    return starts[seg, 0] + t * vx, starts[seg, 1] + t * vy, math.atan2(vy, vx), seg


@_jit
def _clip3(v):
    return -3.0 if v < -3.0 else (3.0 if v > 3.0 else v)


@_jit
def _state_kernel(
    cars,
    state,
    geo_f,
    segments,
    is_left,
    lookahead,
    model_offset,
    max_speed,
    max_steer,
    cumulative,
    seg_lengths,
    starts,
    vectors,
    length,
    is_loop,
    head,
    out,
):
    for n in range(cars.shape[0]):
        car = cars[n]
        yaw = state[car, 2]
        half = max(0.5 * geo_f[car, 7], 1e-3)
        lateral = geo_f[car, 4] / half
        if not is_left[car]:
            lateral = -lateral
        hint = segments[car] + 1
        _, _, heading, seg = _pose_at(
            cumulative, seg_lengths, starts, vectors, length, is_loop, geo_f[car, 0], hint
        )
        err = yaw - heading
        c = math.cos(yaw)
        s = math.sin(yaw)
        mx = geo_f[car, 8] + model_offset * c
        my = geo_f[car, 9] + model_offset * s
        out[car, 0] = _clip3(state[car, 3] / max_speed)
        out[car, 1] = _clip3(state[car, 4] / max_steer)
        out[car, 2] = _clip3(lateral)
        out[car, 3] = _clip3(math.sin(err))
        out[car, 4] = _clip3(math.cos(err))
        if head == 6:
            out[car, 5] = _clip3(state[car, 5] / max_steer)
        for k in range(lookahead.shape[0]):
            d = lookahead[k]
            # Look-ahead distances increase: continue the walk from the last segment.
            ax, ay, _, seg = _pose_at(
                cumulative,
                seg_lengths,
                starts,
                vectors,
                length,
                is_loop,
                geo_f[car, 0] + d,
                seg + 1,
            )
            dx = ax - mx
            dy = ay - my
            out[car, head + 2 * k] = _clip3((c * dx + s * dy) / d)
            out[car, head + 1 + 2 * k] = _clip3((-s * dx + c * dy) / d)


def state_observation(
    pack: TrackPack,
    cars: IntArray,
    state: FloatArray,
    geo_f: FloatArray,
    segments: IntArray,
    is_left: NDArray[np.bool_],
    lookahead: FloatArray,
    vehicle: Any,
    out: NDArray[np.float32],
    head: int = 6,
) -> None:
    """Writes the ``state`` observation of the listed cars into ``out`` rows.

    ``head`` is 6 with the last steering command as element 5, else 5 without it.
    """
    line = pack.center
    _state_kernel(
        cars,
        state,
        geo_f,
        segments,
        is_left,
        lookahead,
        vehicle.model_point_offset,
        vehicle.max_speed,
        math.radians(vehicle.max_steering_deg),
        pack.cumulative,
        pack.seg_lengths,
        line[1],
        line[2],
        pack.length,
        pack.is_loop,
        head,
        out,
    )


@_jit
def _texel_indices(index, left, lateral, t, col_a, row_a, cs, ss, cols, last_col, last_row):
    """One sub-row's texel (flat) indices: plain arithmetic, so the loop vectorises."""
    for b in range(left.shape[0]):
        fy = lateral + t * left[b]
        colf = min(max(col_a - ss * fy, 0.0), last_col)
        rowf = min(max(row_a + cs * fy, 0.0), last_row)
        index[b] = int(rowf) * cols + int(colf)


@_jit
def _wall_codes(found, left, ax, fall, c, s, limits, headroom, wall_first, levels, sky):
    """One sub-row's wall (or sky) codes, without branches or division.

    The ray leaves the field through the wall whose exit distance ``|n| / |d|`` is
    smaller (compared crosswise), and is below the wall's top there when
    ``fall * |n| / |d|`` exceeds ``height - wall_height``. Wall ``f``'s code is
    ``(wall_first + f) * levels + levels // 2``.
    """
    east, west, north, south = limits
    for b in range(left.shape[0]):
        ay = left[b]
        dx = c * ax - s * ay
        dy = s * ax + c * ay
        nx = east if dx > 0.0 else west
        ny = north if dy > 0.0 else south
        adx, ady = abs(dx), abs(dy)
        by_x = nx * ady < ny * adx
        reach = nx if by_x else ny
        span = adx if by_x else ady
        face = (1 if dx > 0.0 else 0) if by_x else (3 if dy > 0.0 else 2)
        wall = (wall_first + face) * levels + levels // 2
        found[b] = wall if fall * reach > headroom * span else sky


# A box's faces, in the order of its grey levels (deepracer.rendering.objects.FACES).
_TOP, _BOTTOM, _FRONT, _BACK, _LEFT, _RIGHT = 0, 1, 2, 3, 4, 5


@_jit
def _box_spans(boxes, lx, ly, c, s, height, cp, sp, vrow, ucol, local, spans):
    """Each box in the lens frame, and the block of rays its projection can cover.

    ``local[m]`` gets the cosine and sine of box ``m``'s yaw relative to the car, its
    centre along its own length and width axes from the lens, its half length and
    half width, and its bottom and top relative to the lens. ``spans[m]`` gets the
    sub-rows ``[a0, a1)`` and sub-columns ``[b0, b1)`` whose rays point between its
    projected corners, one more each side for rounding: the projection of a box in
    front of the lens lies inside them. A box partly behind the image plane gets
    every ray, one wholly behind it none.
    """
    n_rows = vrow.shape[0]
    n_cols = ucol.shape[0]
    for m in range(boxes.shape[0]):
        rx = boxes[m, 0] - lx
        ry = boxes[m, 1] - ly
        cx = c * rx + s * ry
        cy = c * ry - s * rx
        cr = boxes[m, 2] * c + boxes[m, 3] * s
        sr = boxes[m, 3] * c - boxes[m, 2] * s
        hl = boxes[m, 4]
        hw = boxes[m, 5]
        zlo = boxes[m, 6] - height
        zhi = boxes[m, 7] - height
        local[m, 0] = cr
        local[m, 1] = sr
        local[m, 2] = cx * cr + cy * sr
        local[m, 3] = cy * cr - cx * sr
        local[m, 4] = hl
        local[m, 5] = hw
        local[m, 6] = zlo
        local[m, 7] = zhi
        v_lo, v_hi, u_lo, u_hi = math.inf, -math.inf, math.inf, -math.inf
        behind = 0
        for corner in range(8):
            along = hl if corner & 1 else -hl
            across = hw if corner & 2 else -hw
            z = zhi if corner & 4 else zlo
            x = cx + along * cr - across * sr
            y = cy + along * sr + across * cr
            depth = x * cp - z * sp
            if depth <= 0.0:
                behind += 1
                continue
            v = -(x * sp + z * cp) / depth
            u = -y / depth
            v_lo, v_hi = min(v_lo, v), max(v_hi, v)
            u_lo, u_hi = min(u_lo, u), max(u_hi, u)
        if behind == 8:
            spans[m, 0], spans[m, 1], spans[m, 2], spans[m, 3] = 0, 0, 0, 0
        elif behind > 0:
            spans[m, 0], spans[m, 1], spans[m, 2], spans[m, 3] = 0, n_rows, 0, n_cols
        else:
            spans[m, 0] = max(np.searchsorted(vrow, v_lo) - 1, 0)
            spans[m, 1] = min(np.searchsorted(vrow, v_hi, side="right") + 1, n_rows)
            spans[m, 2] = max(np.searchsorted(ucol, u_lo) - 1, 0)
            spans[m, 3] = min(np.searchsorted(ucol, u_hi, side="right") + 1, n_cols)


@_jit
def _row_hits(a, ax, fall, left, local, spans, best, which):
    """The nearest box face on each ray of sub-row ``a``; True if any ray meets a box.

    Slab test per box, over its block's columns only: the ray's travel per unit
    along the axis is ``(ax, left[b], -fall)``; it is inside the box between the
    largest entry and the smallest exit of the three slabs, and the slab it enters
    last is the face it sees. A nearer hit than ``best[b]`` sets ``best[b]`` and
    ``which[b] = 6 * box + face``; a lens inside a box does not see it. The column
    loop has no branches (a ray parallel to a face gets an infinite or, on the
    face's plane, NaN slab, which the comparisons ignore), so it vectorises.
    """
    hits = 0
    for m in range(local.shape[0]):
        if a < spans[m, 0] or a >= spans[m, 1]:
            continue
        cr, sr, cu, cv = local[m, 0], local[m, 1], local[m, 2], local[m, 3]
        hl, hw, zlo, zhi = local[m, 4], local[m, 5], local[m, 6], local[m, 7]
        if fall > 0.0:
            t0, t1, z_face = -zhi / fall, -zlo / fall, _TOP
        elif fall < 0.0:
            t0, t1, z_face = -zlo / fall, -zhi / fall, _BOTTOM
        elif zlo <= 0.0 <= zhi:
            t0, t1, z_face = -math.inf, math.inf, _TOP
        else:
            continue
        acr = ax * cr
        asr = ax * sr
        u_near, u_far = cu - hl, cu + hl
        v_near, v_far = cv - hw, cv + hw
        first = 6 * m
        # Views from 0, so the indices are known non-negative (no wraparound checks).
        rays = left[spans[m, 2] : spans[m, 3]]
        nearest = best[spans[m, 2] : spans[m, 3]]
        seen = which[spans[m, 2] : spans[m, 3]]
        for j in range(rays.shape[0]):
            ay = rays[j]
            du = acr + ay * sr
            dv = ay * cr - asr
            inv = 1.0 / du
            p = u_near * inv
            q = u_far * inv
            lo = p if p < q else q
            hi = p if p > q else q
            take = lo > t0
            enter = lo if take else t0
            side = _FRONT + (du > 0.0)  # moving ahead it enters through the back
            face = side if take else z_face
            leave = hi if hi < t1 else t1
            inv = 1.0 / dv
            p = v_near * inv
            q = v_far * inv
            lo = p if p < q else q
            hi = p if p > q else q
            take = lo > enter
            enter = lo if take else enter
            side = _LEFT + (dv > 0.0)  # moving left it enters through the right
            face = side if take else face
            leave = hi if hi < leave else leave
            old = nearest[j]
            ok = (enter <= leave) & (enter > 0.0) & (enter < old)
            nearest[j] = enter if ok else old
            seen[j] = first + face if ok else seen[j]
            hits += ok
    return hits > 0


@_jit
def _boxed_rays(acc, index, best, which, shades, flat, table, left, t, room, down, beyond):
    """Adds a sub-row in which some rays meet a box; True if others need the walls.

    A ray that meets a box adds its face's grey level (and clears ``best`` for the
    next sub-row); the others meet the floor as in :func:`_camera_kernel`, one by
    one. On return ``index[b] >= 0`` marks the rays that meet a wall or the sky.
    """
    need_walls = False
    for b in range(left.shape[0]):
        if best[b] < math.inf:
            acc[b] += shades[which[b]]
            best[b] = math.inf
            index[b] = -1
            continue
        if down:
            gy = t * left[b]
            seen = flat[index[b]]
            if gy * gy <= room and seen < beyond:
                acc[b] += table[seen]
                index[b] = -1
                continue
        else:
            index[b] = 0
        need_walls = True
    return need_walls


@_jit
def _camera_kernel(
    codes, x0, y0, inv_res, table, ahead, drop, left, n, max_distance, poses,
    forward, lateral, height, rect, wall_height, wall_first, levels, sky_code, beyond, out,
    boxes, box_levels, cp, sp,
):  # fmt: skip
    k = poses.shape[0]
    rows, cols = codes.shape
    last_row, last_col = rows - 1.0, cols - 1.0
    headroom = height - wall_height
    image_rows = drop.shape[0] // n
    image_cols = left.shape[0] // n
    sub_cols = left.shape[0]
    samples = n * n
    max2 = max_distance * max_distance
    flat = codes.reshape(-1)
    index = np.empty(sub_cols, dtype=np.int64)
    walls = np.empty(sub_cols, dtype=np.int64)
    acc = np.zeros(sub_cols, dtype=np.int64)
    n_boxes = boxes.shape[0]
    local = np.empty((n_boxes, 8))
    spans = np.zeros((n_boxes, 4), dtype=np.int64)
    best = np.full(sub_cols, math.inf)
    which = np.zeros(sub_cols, dtype=np.int64)
    shades = box_levels.reshape(-1)
    vrow = drop * cp - ahead * sp  # each sub-row's tangent below the optical axis
    ucol = -left  # each sub-column's tangent right of it
    for i in range(k):
        px, py, yaw = poses[i, 0], poses[i, 1], poses[i, 2]
        c, s = math.cos(yaw), math.sin(yaw)
        cs, ss = c * inv_res, s * inv_res
        base_col = (px - x0) * inv_res
        base_row = (py - y0) * inv_res
        lx = px + c * forward - s * lateral
        ly = py + s * forward + c * lateral
        limits = (rect[2] - lx, lx - rect[0], rect[3] - ly, ly - rect[1])
        _box_spans(boxes, lx, ly, c, s, height, cp, sp, vrow, ucol, local, spans)
        for r in range(image_rows):
            acc[:] = 0
            for a in range(r * n, r * n + n):
                fall = drop[a]
                ax = ahead[a]
                down = fall > 1e-9
                t = height / fall if down else 0.0
                gx = t * ax
                fx = forward + gx
                room = max2 - gx * gx
                need_walls = not down
                every_wall = not down  # else only the rays whose index is still >= 0
                if down:
                    _texel_indices(
                        index, left, lateral, t, base_col + cs * fx, base_row + ss * fx,
                        cs, ss, cols, last_col, last_row,
                    )  # fmt: skip
                if n_boxes > 0 and _row_hits(a, ax, fall, left, local, spans, best, which):
                    need_walls = _boxed_rays(
                        acc, index, best, which, shades, flat, table, left, t, room, down, beyond
                    )
                    every_wall = False
                elif down:
                    for b in range(sub_cols):
                        gy = t * left[b]
                        seen = flat[index[b]]
                        if gy * gy <= room and seen < beyond:
                            acc[b] += table[seen]
                            index[b] = -1
                        else:
                            need_walls = True
                if need_walls:
                    _wall_codes(
                        walls, left, ax, fall, c, s, limits, headroom, wall_first, levels,
                        sky_code,
                    )  # fmt: skip
                    for b in range(sub_cols):
                        if every_wall or index[b] >= 0:
                            acc[b] += table[walls[b]]
            for q in range(image_cols):
                total = 0
                for b in range(q * n, q * n + n):
                    total += acc[b]
                out[i, r * image_cols + q] = (total + samples // 2) // samples


_NO_BOXES = np.empty((0, 8))
_NO_LEVELS = np.empty((0, 6), dtype=np.int64)


def camera_frames(
    codes: NDArray[np.uint8],
    texture: tuple[float, float, float],
    table: NDArray[np.uint8],
    rays: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], int, float],
    poses: FloatArray,
    lens: tuple[float, float, float],
    walls: tuple[NDArray[np.float64], float, int, int, int, int],
    out: NDArray[np.uint8],
    objects: tuple[FloatArray, IntArray, float] | None = None,
) -> None:
    """Renders camera frames with the compiled loop (see :mod:`deepracer.rendering.camera`).

    Args:
        codes: (rows, cols) texel codes of the floor.
        texture: World (x, y) of texel (0, 0)'s corner [m], and texels per metre.
        table: 256-entry code -> grey level table.
        rays: ``(ahead, drop, left, supersample, max_distance)`` of the camera.
        poses: (k, 3) car origins and headings.
        lens: ``(forward, lateral, height)`` of the lens [m].
        walls: ``(rectangle, wall_height, first_wall_part, levels, sky_code,
            beyond)``: wall ``f`` (west, east, south, north) has code
            ``(first_wall_part + f) * levels + levels // 2``; codes from ``beyond``
            up are floor outside the field.
        out: (k, height * width) uint8, written.
        objects: ``(boxes, levels, pitch)``: (P, 8) world boxes and (P, 6) face grey
            levels (:class:`deepracer.rendering.objects.ObjectBoxes`) and the
            camera's pitch [rad]; a ray that meets a box shows its nearest face.
    """
    x0, y0, inv_res = texture
    ahead, drop, left, n, max_distance = rays
    forward, lateral, height = lens
    rect, wall_height, wall_first, levels, sky_code, beyond = walls
    boxes, box_levels, pitch = (_NO_BOXES, _NO_LEVELS, 0.0) if objects is None else objects
    args = (
        codes, x0, y0, inv_res, table, ahead, drop, left, n, max_distance, poses,
        forward, lateral, height, rect, wall_height, wall_first, levels, sky_code, beyond, out,
        boxes, box_levels, math.cos(pitch), math.sin(pitch),
    )  # fmt: skip
    if numba is None:  # as plain Python the box test divides numpy scalars by zero
        with np.errstate(divide="ignore", invalid="ignore"):
            _camera_kernel(*args)
    else:
        _camera_kernel(*args)
