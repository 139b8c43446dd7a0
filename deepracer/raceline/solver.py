"""The minimum-lap-time line of a closed track for the simulator's car.

A line is the path of the car's rear axle (the point the kinematic model moves along
its heading, so the path's curvature is exactly what the grip and steering limits
act on), written as lateral offsets ``alpha`` along the normals of a smoothed centre
line sampled every few centimetres. Offsets come from a periodic cubic spline through
knots a quarter metre apart, so every line is smooth.

How far a line may go: the simulator calls the car off track only when no wheel is
on the road, so the rear axle may pass the border by about half the axle track; each
station's bounds start there and the finished line is checked with the track's own
``on_road_batch`` test on the four wheel centres (the exact geometry of the env's
off-track rule), tightening the bounds where a check fails and re-optimising.

Search: several candidates (the shortest line, the minimum-curvature
line, blends of the two, and a K1999-style line that makes curvature vary linearly
between apexes, after Coulom's thesis), each refined by L-BFGS-B on the lap time
itself (the forward-backward profile of :mod:`deepracer.raceline.profile`); the
fastest wins. Minimum curvature alone comes out long on narrow DeepRacer tracks,
which is why the lap time is the objective.

Lower bound: the shortest closed path of the rear axle through a corridor widened by
everything a car could get away with (the farthest wheel's reach, plus half a step
at top speed, since the off-track rule is judged once per step), driven at top speed.
No lap can beat it.

Contents:
    Corridor: the stations, normals and offset bounds of a track.
    build_corridor: the corridor of a closed track.
    LineSolution: one optimised line.
    optimise_line: the fastest line found and the candidates' times.
    lower_bound_length: the shortest closed path through the widened corridor.
    wheels_on_road: the exact on-track check of a line.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from deepracer.accel import ENABLED as _COMPILED
from deepracer.accel import _jit
from deepracer.errors import TrackError
from deepracer.physics.vehicle import VehicleParams
from deepracer.raceline.profile import CarLimits, _closed, _curvature, _numbers, curvature
from deepracer.tracks import Track

__all__ = [
    "Corridor",
    "LineSolution",
    "build_corridor",
    "lower_bound_length",
    "optimise_line",
    "wheels_on_road",
]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Corridor:
    """Where a line may run: stations along a smoothed centre line.

    Attributes:
        center: (N, 2) station points [m].
        normal: (N, 2) unit normals pointing left of the driving direction.
        left: (N,) distance along the normal to the left border [m].
        right: (N,) distance against the normal to the right border [m].
        spacing: Station spacing [m].
    """

    center: FloatArray
    normal: FloatArray
    left: FloatArray
    right: FloatArray
    spacing: float

    def points(self, alpha: FloatArray) -> FloatArray:
        """The (N, 2) points at lateral offsets ``alpha`` (positive = left)."""
        return self.center + alpha[:, None] * self.normal


def build_corridor(track: Track, spacing: float = 0.05) -> Corridor:
    """Samples a closed track every ``spacing`` metres and measures its borders.

    Raises:
        TrackError: The track is not a loop, or a normal misses a border.
    """
    if not track.is_loop:
        raise TrackError(f"{track.name}: a race line needs a closed track (loop)")
    count = max(round(track.length / spacing), 16)
    s = np.linspace(0.0, track.length, count, endpoint=False)
    raw = np.asarray(track.point_at(s), dtype=np.float64)
    # Route files are polylines with a kink at every waypoint; a line built on raw
    # normals would inherit the kinks as curvature spikes, so smooth the reference.
    from scipy.ndimage import gaussian_filter1d

    sigma = max(0.15 / (track.length / count), 1.0)
    center = gaussian_filter1d(raw, sigma, axis=0, mode="wrap")
    tangent = np.roll(center, -1, axis=0) - np.roll(center, 1, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    borders = [track.inner.points, track.outer.points]
    starts = np.concatenate([b[:-1] for b in borders])
    vectors = np.concatenate([np.diff(b, axis=0) for b in borders])
    left, right = _ray_hits(center, normal, starts, vectors)
    if not (np.isfinite(left).all() and np.isfinite(right).all()):
        raise TrackError(f"{track.name}: a normal of the centre line misses the borders")
    return Corridor(center, normal, left, right, track.length / count)


def _ray_hits(
    origin: FloatArray, direction: FloatArray, starts: FloatArray, vectors: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Nearest border crossing ahead of and behind each ray origin [m]."""

    def cross(ax: FloatArray, ay: FloatArray, bx: FloatArray, by: FloatArray) -> FloatArray:
        return ax * by - ay * bx

    ox, oy = origin[:, 0:1], origin[:, 1:2]
    dx, dy = direction[:, 0:1], direction[:, 1:2]
    ax, ay = starts[None, :, 0] - ox, starts[None, :, 1] - oy
    vx, vy = vectors[None, :, 0], vectors[None, :, 1]
    denom = cross(dx, dy, vx, vy)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = cross(ax, ay, vx, vy) / denom
        u = cross(ax, ay, dx, dy) / denom
    hit = (np.abs(denom) > 1e-12) & (u >= 0.0) & (u <= 1.0)
    ahead = np.where(hit & (t > 0.0), t, np.inf).min(axis=1)
    behind = np.where(hit & (t < 0.0), -t, np.inf).min(axis=1)
    return ahead, behind


def wheels_on_road(track: Track, points: FloatArray, vehicle: VehicleParams) -> NDArray[np.bool_]:
    """Whether at least one wheel is on the road at each point of a closed line.

    The car's rear axle is at the point, heading along the line; the wheel centres
    and the road test are the simulator's own (``any_wheel_on_track``).
    """
    ahead = np.roll(points, -1, axis=0) - np.roll(points, 1, axis=0)
    yaw = np.arctan2(ahead[:, 1], ahead[:, 0])
    c, s = np.cos(yaw), np.sin(yaw)
    x, y = points[:, 0], points[:, 1]
    fx, fy = x + vehicle.wheelbase * c, y + vehicle.wheelbase * s
    hr, hf = 0.5 * vehicle.track_rear, 0.5 * vehicle.track_front
    any_on = np.zeros(len(points), dtype=bool)
    for wx, wy in (
        (x - hr * s, y + hr * c),
        (fx - hf * s, fy + hf * c),
        (x + hr * s, y - hr * c),
        (fx + hf * s, fy - hf * c),
    ):
        any_on |= track.on_road_batch(wx, wy)
    return any_on


# -- the lap-time objective -------------------------------------------------------------

# Penalty weights: a line beyond its bounds or tighter than the steering allows is
# not a line; the penalties make such points cost far more than any time they save.
_BOUND_WEIGHT = 1e4  # [s/m^2]
_STEER_WEIGHT = 10.0  # [s m^2]


@_jit
def _objective(alpha, cx, cy, nx, ny, lo, hi, v_max, v_min, tau, grip, k_steer, k_rate, accel):  # type: ignore[no-untyped-def]
    kappa, ds = _curvature(cx + alpha * nx, cy + alpha * ny)
    penalty = 0.0
    for i in range(alpha.shape[0]):
        over = abs(kappa[i]) - k_steer
        if over > 0.0:
            penalty += _STEER_WEIGHT * over * over
        if alpha[i] > hi[i]:
            penalty += _BOUND_WEIGHT * (alpha[i] - hi[i]) ** 2
        elif alpha[i] < lo[i]:
            penalty += _BOUND_WEIGHT * (lo[i] - alpha[i]) ** 2
    _, time = _closed(kappa, ds, v_max, v_min, tau, grip, k_rate, accel)
    return time + penalty


@_jit
def _fd_gradient(  # type: ignore[no-untyped-def]
    x, basis, alpha, cx, cy, nx, ny, lo, hi, v_max, v_min, tau, grip, k_steer, k_rate, accel
):
    base = _objective(
        alpha, cx, cy, nx, ny, lo, hi, v_max, v_min, tau, grip, k_steer, k_rate, accel
    )
    grad = np.empty(x.shape[0])
    h = 1e-6
    for k in range(x.shape[0]):
        shifted = alpha + h * basis[:, k]
        value = _objective(
            shifted, cx, cy, nx, ny, lo, hi, v_max, v_min, tau, grip, k_steer, k_rate, accel
        )
        grad[k] = (value - base) / h
    return base, grad


@dataclass(frozen=True)
class LineSolution:
    """One optimised line.

    Attributes:
        alpha: (N,) lateral offsets of the line at the corridor's stations [m].
        lap_time: Flying-lap time under the car's limits [s].
        candidates: Each candidate's lap time before and after refinement [s].
        tightened: Stations whose bounds the exact wheel check had to tighten.
    """

    alpha: FloatArray
    lap_time: float
    candidates: dict[str, tuple[float, float]]
    tightened: int


class _Problem:
    """The lap-time objective over spline knots, with its bounds."""

    def __init__(
        self,
        corridor: Corridor,
        limits: CarLimits,
        lo: FloatArray,
        hi: FloatArray,
        knot_spacing: float,
    ) -> None:
        from scipy.interpolate import CubicSpline

        n = len(corridor.center)
        knots = max(round(n * corridor.spacing / knot_spacing), 8)
        self.knot_index = np.round(np.linspace(0, n, knots, endpoint=False)).astype(np.int64)
        closed = np.append(self.knot_index, n).astype(np.float64)
        identity = np.vstack([np.eye(knots), np.eye(knots)[:1]])
        spline = CubicSpline(closed, identity, bc_type="periodic", axis=0)
        self.basis = np.ascontiguousarray(spline(np.arange(n, dtype=np.float64)))
        self.corridor = corridor
        self.limits = limits
        self.lo, self.hi = lo, hi
        half = max(len(lo) // knots // 2, 1)
        window = np.arange(-half, half + 1)
        around = (self.knot_index[:, None] + window[None, :]) % n
        # A knot may not go where its neighbourhood may not: the spline between knots
        # then rarely overshoots, and the penalty handles the rest.
        self.knot_bounds = list(zip(lo[around].max(axis=1), hi[around].min(axis=1), strict=True))
        c, nrm = corridor.center, corridor.normal
        self._args = (
            np.ascontiguousarray(c[:, 0]),
            np.ascontiguousarray(c[:, 1]),
            np.ascontiguousarray(nrm[:, 0]),
            np.ascontiguousarray(nrm[:, 1]),
            np.ascontiguousarray(lo),
            np.ascontiguousarray(hi),
            limits.v_max,
            limits.v_min,
            limits.tau,
            limits.grip,
            limits.kappa_steer,
            limits.kappa_rate,
            limits.accel,
        )

    def alpha(self, x: FloatArray) -> FloatArray:
        return self.basis @ x

    def knots_of(self, alpha: FloatArray) -> FloatArray:
        """Least-squares knots of a dense offset profile, clipped to the knot bounds."""
        x, *_ = np.linalg.lstsq(self.basis, alpha, rcond=None)
        lo = np.array([b[0] for b in self.knot_bounds])
        hi = np.array([b[1] for b in self.knot_bounds])
        return np.clip(x, lo, hi)  # type: ignore[no-any-return]

    def time(self, x: FloatArray) -> float:
        return float(_objective(self.alpha(x), *self._args))

    def value_and_grad(self, x: FloatArray) -> tuple[float, FloatArray]:
        value, grad = _fd_gradient(x, self.basis, self.alpha(x), *self._args)
        return float(value), grad

    def refine(self, x0: FloatArray, iterations: int) -> FloatArray:
        from scipy.optimize import minimize

        result = minimize(
            self.value_and_grad,
            x0,
            jac=True,
            method="L-BFGS-B",
            bounds=self.knot_bounds,
            options={"maxiter": iterations, "ftol": 1e-10, "gtol": 1e-7},
        )
        return np.asarray(result.x, dtype=np.float64)


def _quadratic_line(
    corridor: Corridor, problem: _Problem, weights: tuple[float, float]
) -> FloatArray:
    """Knots minimising ``w2 * sum|second difference|^2 + w1 * sum|first difference|^2``.

    ``(1, 0)`` is the minimum-curvature line, ``(0, 1)`` the (squared) shortest one.
    """
    from scipy.optimize import lsq_linear

    c, nrm, basis = corridor.center, corridor.normal, problem.basis
    blocks, targets = [], []
    w_curv, w_len = weights
    for weight, shifts in ((w_curv, (-1, 2, -1)), (w_len, (0, 1, -1))):
        if weight <= 0.0:
            continue
        # difference = sum_j coef_j * (c + alpha n)[i + j - 1], linear in alpha
        const = np.zeros_like(c)
        rows = np.zeros((2, len(c), basis.shape[1]))
        for j, coef in enumerate(shifts):
            if coef == 0:
                continue
            shift = j - 1
            const -= coef * np.roll(c, -shift, axis=0)
            nb = np.roll(nrm, -shift, axis=0)
            bb = np.roll(basis, -shift, axis=0)
            rows[0] += coef * nb[:, 0:1] * bb
            rows[1] += coef * nb[:, 1:2] * bb
        scale = math.sqrt(weight)
        blocks.append(scale * rows.reshape(-1, basis.shape[1]))
        targets.append(scale * const.T.reshape(-1))
    lo = np.array([b[0] for b in problem.knot_bounds])
    hi = np.array([b[1] for b in problem.knot_bounds])
    result = lsq_linear(np.vstack(blocks), np.concatenate(targets), bounds=(lo, hi), method="bvls")
    return np.asarray(result.x, dtype=np.float64)


@_jit
def _k1999_pass(alpha, cx, cy, nx, ny, lo, hi, step, sweeps):  # type: ignore[no-untyped-def]
    n = alpha.shape[0]
    stations = np.arange(0, n, step)
    m = stations.shape[0]
    for _ in range(sweeps):
        for j in range(m):
            i = stations[j]
            a, b = stations[j - 1], stations[(j + 1) % m]
            aa, bb = stations[j - 2], stations[(j + 2) % m]
            k_prev = _menger(cx, cy, nx, ny, alpha, aa, a, i)
            k_next = _menger(cx, cy, nx, ny, alpha, i, b, bb)
            target = 0.5 * (k_prev + k_next)
            here = _menger(cx, cy, nx, ny, alpha, a, i, b)
            old = alpha[i]
            alpha[i] = old + 1e-4
            slope = (_menger(cx, cy, nx, ny, alpha, a, i, b) - here) / 1e-4
            alpha[i] = old
            if abs(slope) > 1e-9:
                alpha[i] = min(max(old + (target - here) / slope, lo[i]), hi[i])
    return alpha


@_jit
def _menger(cx, cy, nx, ny, alpha, a, i, b):  # type: ignore[no-untyped-def]
    ax, ay = cx[a] + alpha[a] * nx[a], cy[a] + alpha[a] * ny[a]
    px, py = cx[i] + alpha[i] * nx[i], cy[i] + alpha[i] * ny[i]
    bx, by = cx[b] + alpha[b] * nx[b], cy[b] + alpha[b] * ny[b]
    ux, uy, vx, vy = px - ax, py - ay, bx - px, by - py
    wx, wy = bx - ax, by - ay
    denom = math.sqrt((ux * ux + uy * uy) * (vx * vx + vy * vy) * (wx * wx + wy * wy))
    return 2.0 * (ux * vy - uy * vx) / denom if denom > 0.0 else 0.0


def _k1999_line(corridor: Corridor, lo: FloatArray, hi: FloatArray) -> FloatArray:
    """Dense offsets of a K1999-style line: curvature linear between apexes.

    Each station moves so its curvature is the mean of its neighbours', within its
    bounds (so apexes touch the borders); coarse station spacings first, then finer,
    because the smoothing spreads slowly at one station's reach.
    """
    c, nrm = corridor.center, corridor.normal
    args = (
        np.ascontiguousarray(c[:, 0]),
        np.ascontiguousarray(c[:, 1]),
        np.ascontiguousarray(nrm[:, 0]),
        np.ascontiguousarray(nrm[:, 1]),
    )
    # Stay a little inside the bounds: the spline fit of the result overshoots.
    inset = 0.02
    low, high = lo + inset, hi - inset
    alpha = np.zeros(len(c))
    for step in (8, 4, 2):
        alpha = _k1999_pass(alpha, *args, low, high, step, 300 if _COMPILED else 60)
        stations = np.arange(0, len(c), step)
        # Fill the stations between the smoothed ones before the next finer pass.
        alpha = np.interp(
            np.arange(len(c)),
            np.append(stations, len(c)),
            np.append(alpha[stations], alpha[0]),
        )
    return alpha


def optimise_line(
    track: Track,
    corridor: Corridor,
    limits: CarLimits,
    vehicle: VehicleParams,
    *,
    margin: float = 0.0,
    knot_spacing: float = 0.25,
    iterations: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> LineSolution:
    """Finds the fastest line: candidates refined on lap time, checked exactly.

    Args:
        track: The track (its road test judges the line).
        corridor: The track's corridor.
        limits: The car's limits.
        vehicle: The car (wheel positions).
        margin: Keep this much further inside than the off-track rule requires [m].
        knot_spacing: Distance between the spline knots of the offsets [m].
        iterations: L-BFGS-B iterations per candidate (default: 200 compiled, 40
            without numba).
        progress: Called with a line of text after each stage.
    """
    say = progress or (lambda _: None)
    reach = 0.5 * min(vehicle.track_rear, vehicle.track_front) - margin
    lo = -(corridor.right + reach)
    hi = corridor.left + reach
    steps = iterations if iterations is not None else (200 if _COMPILED else 40)
    tightened = np.zeros(len(lo), dtype=bool)
    best: tuple[float, FloatArray] | None = None
    candidates: dict[str, tuple[float, float]] = {}
    for attempt in range(12):
        _check_room(track, corridor, lo, hi, margin, tightened)
        problem = _Problem(corridor, limits, lo, hi, knot_spacing)
        starts: dict[str, FloatArray]
        if best is None:
            # The centre line is no start: refined, it stops in a poor local optimum
            # (6.0 s against 5.0 s on reinvent_base) after the most iterations.
            starts = {
                "shortest": _quadratic_line(corridor, problem, (0.0, 1.0)),
                "minimum curvature": _quadratic_line(corridor, problem, (1.0, 0.0)),
                "blend 1:30": _quadratic_line(corridor, problem, (1.0, 30.0)),
                "K1999": problem.knots_of(_k1999_line(corridor, lo, hi)),
            }
        else:
            starts = {"repair": problem.knots_of(best[1])}
        results = []
        for name, x0 in starts.items():
            x = problem.refine(x0, steps)
            before, after = problem.time(x0), problem.time(x)
            if best is None or attempt == 0:
                candidates[name] = (before, after)
                say(f"  {name:<18} {before:7.3f} s -> {after:7.3f} s")
            results.append((after, problem.alpha(x)))
        value, alpha = min(results, key=lambda r: r[0])
        best = (value, alpha)
        on = wheels_on_road(track, corridor.points(alpha), vehicle)
        # The spline may pass a bound between its knots by a hair; a millimetre is
        # far inside what the margin and the wheel check already hold.
        inside = (alpha <= hi + _BOUND_SLACK) & (alpha >= lo - _BOUND_SLACK)
        bad = ~(on & inside)
        if not bad.any():
            kappa, ds = curvature(corridor.points(alpha))
            _, lap = _closed(kappa, ds, *_numbers(limits))
            return LineSolution(alpha, float(lap), candidates, int(tightened.sum()))
        say(f"  tightening {int(bad.sum())} stations the exact wheel check rejects")
        # Pull the bound on the violated side in by 1 cm around each failure.
        step = 0.01
        for i in np.flatnonzero(bad):
            near = np.arange(i - 3, i + 4) % len(lo)
            if alpha[i] > 0.0:
                hi[near] = np.minimum(hi[near], alpha[i] - step)
            else:
                lo[near] = np.maximum(lo[near], alpha[i] + step)
            tightened[near] = True
    raise TrackError(f"{track.name}: no race line passes the exact on-track check after 12 rounds")


_BOUND_SLACK = 1e-3  # [m]
_MIN_ROOM = 0.02
"""The narrowest corridor a line is searched in [m]: less, and the spline's knot
bounds cross (scipy refuses them) or the line has nowhere to go."""


def _check_room(
    track: Track,
    corridor: Corridor,
    lo: FloatArray,
    hi: FloatArray,
    margin: float,
    tightened: NDArray[np.bool_],
) -> None:
    """Raises TrackError where the bounds leave a line no room."""
    room = hi - lo
    k = int(np.argmin(room))
    if room[k] >= _MIN_ROOM:
        return
    width = float(corridor.left[k] + corridor.right[k])
    x, y = corridor.center[k]
    why = (
        "the exact wheel check closed it"
        if tightened[k]
        else f"the rear axle may pass each border by half the wheel track less the"
        f" margin ({margin:g} m)"
    )
    raise TrackError(
        f"{track.name}: no room for a race line near x {x:.2f}, y {y:.2f}: the road is"
        f" {width:.2f} m wide there and {why}, which leaves {max(float(room[k]), 0.0):.3f} m"
        + ("; lower --margin" if margin > 0 else "")
    )


def lower_bound_length(corridor: Corridor, vehicle: VehicleParams, dt: float) -> float:
    """Length of the shortest closed rear-axle path any lap could take [m].

    The corridor is widened by the farthest wheel's reach from the rear axle and by
    half a step at top speed (a step can cut that far between two judged poses). A
    lap crosses every station's cross-section, so the polygon through its crossing
    points is no longer than the lap; the shortest such polygon is found by convex
    minimisation of its length.
    """
    from scipy.optimize import minimize

    reach = math.hypot(vehicle.wheelbase, 0.5 * max(vehicle.track_front, vehicle.track_rear))
    widen = reach + 0.5 * vehicle.max_speed * dt
    lo, hi = -(corridor.right + widen), corridor.left + widen
    c, nrm = corridor.center, corridor.normal

    def length(alpha: FloatArray) -> tuple[float, FloatArray]:
        p = c + alpha[:, None] * nrm
        d = np.roll(p, -1, axis=0) - p
        seg = np.maximum(np.linalg.norm(d, axis=1), 1e-12)
        unit = d / seg[:, None]
        # d/d alpha_i of |p_{i+1} - p_i| + |p_i - p_{i-1}|
        grad = np.einsum("ij,ij->i", nrm, np.roll(unit, 1, axis=0) - unit)
        return float(seg.sum()), grad

    result = minimize(
        length,
        np.zeros(len(c)),
        jac=True,
        method="L-BFGS-B",
        bounds=list(zip(lo, hi, strict=True)),
        options={"maxiter": 3000, "ftol": 1e-12, "gtol": 1e-8},
    )
    return float(result.fun)
