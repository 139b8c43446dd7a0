"""Seeded procedural closed tracks in the AWS DeepRacer route-file format.

A track is a circle perturbed by a few random Fourier modes in polar form,
r(theta) = R0 * (1 + sum_k a_k cos(k theta + phi_k)) for k = 2..5, resampled uniformly
by arc length, scaled to the requested centre-line length and kept only if it is a
valid road (see :func:`generate_track`). Rejected draws are redrawn with smaller
amplitudes, so the search ends at near-circles, which are valid whenever the
arguments allow any track at all.

Contents:
    generate_track: the seeded generator.
    curvature: signed discrete curvature of a closed polyline.
    check_route: the validity rules, as a list of violated-rule messages.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from numpy.typing import ArrayLike, NDArray

from deepracer.tracks.builtin import route_from_centerline

__all__ = ["check_route", "curvature", "generate_track"]

FloatArray = NDArray[np.float64]

_MODES = np.arange(2, 6)
# Required clearance between far-apart parts of the road, beyond the road width (m).
_CLEARANCE = 0.3
# Extra centre-line radius beyond width/2 so the inner border stays a smooth curve (m).
_FOLD_MARGIN = 0.05
# Pairwise checks are done in row blocks to bound memory on long tracks.
_BLOCK = 256


def curvature(points: ArrayLike) -> FloatArray:
    """Returns the signed curvature of a closed polyline at each vertex, in 1/m.

    Uses the circle through each vertex and its two neighbours (wrapping around), so a
    uniformly sampled circle of radius R gives exactly 1/R. Positive means a left
    turn when the points are traversed in order.

    Args:
        points: (M, 2) vertices in metres. If the last vertex repeats the first (the
            route-file convention) it is treated as the closing point and its value
            equals the first one's.

    Returns:
        (M,) curvatures in 1/m.

    Raises:
        ValueError: if there are fewer than 3 distinct vertices or two consecutive
            vertices coincide.
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"points must have shape (M, 2), got {pts.shape}")
    repeated = len(pts) > 1 and bool(np.array_equal(pts[0], pts[-1]))
    ring = pts[:-1] if repeated else pts
    if len(ring) < 3:
        raise ValueError(f"a closed polyline needs >= 3 distinct vertices, got {len(ring)}")
    back = ring - np.roll(ring, 1, axis=0)
    fwd = np.roll(ring, -1, axis=0) - ring
    chord = fwd + back
    cross = back[:, 0] * fwd[:, 1] - back[:, 1] * fwd[:, 0]
    denom = np.hypot(*back.T) * np.hypot(*fwd.T) * np.hypot(*chord.T)
    if not np.all(denom > 0.0):
        raise ValueError("points has coincident consecutive vertices or a full reversal")
    kappa: FloatArray = 2.0 * cross / denom
    return np.append(kappa, kappa[0]) if repeated else kappa


def check_route(route: ArrayLike, *, min_radius: float = 0.6) -> list[str]:
    """Returns the validity rules a closed route violates (empty if it is valid).

    Rules, with width the mean inner-to-outer distance:

    * the centre line runs counter-clockwise;
    * its minimum radius of curvature is >= max(min_radius, width/2 + 0.05) m;
    * centre points more than pi*width apart along the loop are >= width + 0.3 m
      apart in the plane (the road does not overlap itself);
    * the centre line, inner and outer borders are simple closed curves that do not
      cross one another, the inner border inside the centre loop, the outer outside.

    Args:
        route: (N, 6) closed route array (first row == last row).
        min_radius: minimum centre-line radius of curvature in metres.

    Returns:
        One message per violated rule.
    """
    return list(_iter_problems(np.asarray(route, dtype=np.float64), min_radius))


def _iter_problems(rows: FloatArray, min_radius: float) -> Iterator[str]:
    """Yields violated-rule messages for :func:`check_route`, cheapest checks first."""
    centre, inner, outer = rows[:-1, 0:2], rows[:-1, 2:4], rows[:-1, 4:6]
    width = float(np.mean(np.hypot(*(inner - outer).T)))
    r_min = max(min_radius, 0.5 * width + _FOLD_MARGIN)
    tightest = 1.0 / float(np.max(np.abs(curvature(centre))))
    if tightest < r_min:
        yield f"minimum radius of curvature {tightest:.3f} m < {r_min:.3f} m"
    if _signed_area(centre) <= 0.0:
        yield "centre line is not counter-clockwise"
    gap = _min_far_distance(centre, math.pi * width)
    if gap < width + _CLEARANCE:
        yield f"road overlaps itself: far-apart centre points {gap:.3f} m apart"
    if not np.all(_inside(inner, centre)):
        yield "inner border is not inside the centre loop"
    if np.any(_inside(outer, centre)):
        yield "outer border is not outside the centre loop"
    for name, ring in (("centre line", centre), ("inner border", inner), ("outer border", outer)):
        if _rings_cross(ring, ring, same=True):
            yield f"{name} intersects itself"
    if _rings_cross(centre, inner, same=False) or _rings_cross(centre, outer, same=False):
        yield "a border crosses the centre line"


def generate_track(
    seed: int,
    *,
    length: float = 20.0,
    width: float = 0.76,
    min_radius: float = 0.6,
    spacing: float = 0.1,
    max_attempts: int = 500,
) -> FloatArray:
    """Returns a seeded procedural closed track that passes :func:`check_route`.

    The same seed and arguments always give a bit-identical array. The loop runs
    counter-clockwise around the origin and starts in its straightest stretch.

    Args:
        seed: seed for ``np.random.default_rng`` (>= 0).
        length: centre-line length in metres (matched to within float rounding).
        width: road width in metres.
        min_radius: minimum centre-line radius of curvature in metres; the bound
            used is max(min_radius, width/2 + 0.05).
        spacing: target waypoint spacing in metres; the actual spacing is about
            length / round(length / spacing).
        max_attempts: number of random draws to try before giving up.

    Returns:
        (N, 6) closed route array (first row == last row), N = round(length/spacing) + 1.

    Raises:
        ValueError: if the arguments are out of range, admit no valid track (a
            circle of radius max(min_radius, width/2 + 0.05) is already longer than
            ``length``), or no draw was valid within ``max_attempts``.
    """
    args = (
        f"seed={seed!r}, length={length!r}, width={width!r}, min_radius={min_radius!r}, "
        f"spacing={spacing!r}, max_attempts={max_attempts!r}"
    )
    for name, value in (("length", length), ("width", width), ("spacing", spacing)):
        if not (math.isfinite(value) and value > 0.0):
            raise ValueError(f"{name} must be a positive number of metres ({args})")
    if not (math.isfinite(min_radius) and min_radius >= 0.0):
        raise ValueError(f"min_radius must be >= 0 m ({args})")
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be >= 1 ({args})")
    r_min = max(min_radius, 0.5 * width + _FOLD_MARGIN)
    if length < 2.0 * math.pi * r_min:
        raise ValueError(
            f"length is too short: even a circle of the minimum radius {r_min:.3f} m is "
            f"{2.0 * math.pi * r_min:.3f} m long ({args})"
        )
    n = round(length / spacing)
    if n < 20:
        raise ValueError(f"spacing is too coarse: the loop would have only {n} waypoints ({args})")

    rng = np.random.default_rng(seed)
    # Room for shape: how many times the tightest allowed corner fits in a circle's radius.
    room = length / (2.0 * math.pi * r_min)
    for attempt in range(max_attempts):
        # Shrinking amplitudes guarantee termination on a near-circle when any track fits.
        shrink = 1.0 - attempt / max_attempts
        amps, phases = _draw_modes(rng, room, shrink)
        centre = _polar_loop(amps, phases, n, length)
        if centre is None:
            continue
        route = route_from_centerline(centre, width, closed=True)
        if next(_iter_problems(route, min_radius), None) is not None:
            continue
        start = _straightest_index(centre, spacing)
        return route_from_centerline(np.roll(centre, -start, axis=0), width, closed=True)
    raise ValueError(f"no valid track found within max_attempts ({args})")


def _draw_modes(
    rng: np.random.Generator, room: float, shrink: float
) -> tuple[FloatArray, FloatArray]:
    """Draws Fourier amplitudes and phases for modes 2..5.

    A mode k of amplitude a changes the relative curvature by about a*(k^2 - 1), so the
    curvature budget (room - 1) is split at random among the modes.
    """
    # Beyond a budget of 5 the low modes pinch the loop before corners get tight.
    budget = min(max(room - 1.0, 0.0), 5.0)
    share = rng.dirichlet(np.full(len(_MODES), 0.7))
    scale = rng.uniform(0.6, 1.3)
    amps = scale * shrink * budget * share / (_MODES**2 - 1.0)
    # Large low modes would pinch the loop into a figure eight; cap them.
    amps = np.minimum(amps, 0.35)
    phases = rng.uniform(0.0, 2.0 * math.pi, len(_MODES))
    return amps, phases


def _polar_loop(amps: FloatArray, phases: FloatArray, n: int, length: float) -> FloatArray | None:
    """Samples the polar curve at n points uniform in arc length, scaled to ``length``.

    Returns:
        (n, 2) points without a closing repeat, or None if r(theta) is not positive.
    """
    dense = max(4096, 16 * n)
    theta = np.linspace(0.0, 2.0 * math.pi, dense + 1)
    arg = _MODES[:, None] * theta[None, :] + phases[:, None]
    r = 1.0 + amps @ np.cos(arg)
    if np.min(r) <= 0.1:
        return None
    dr = -(amps * _MODES) @ np.sin(arg)
    speed = np.hypot(r, dr)
    s = np.concatenate(([0.0], np.cumsum(0.5 * (speed[1:] + speed[:-1]) * np.diff(theta))))
    targets = np.arange(n) * (s[-1] / n)
    t = np.interp(targets, s, theta)
    rt = 1.0 + amps @ np.cos(_MODES[:, None] * t[None, :] + phases[:, None])
    pts = np.column_stack((rt * np.cos(t), rt * np.sin(t)))
    # Scale by the polyline (chord) length, which is what route consumers measure.
    closed = np.vstack((pts, pts[:1]))
    poly_len = float(np.sum(np.hypot(*np.diff(closed, axis=0).T)))
    out: FloatArray = pts * (length / poly_len)
    return out


def _straightest_index(centre: FloatArray, spacing: float) -> int:
    """Returns the index where |curvature| averaged over about 1 m of road is smallest."""
    k = np.abs(curvature(centre))
    half = max(1, round(0.5 / spacing))
    window = np.ones(2 * half + 1) / (2 * half + 1)
    padded = np.concatenate((k[-half:], k, k[:half]))
    smooth = np.convolve(padded, window, mode="valid")
    return int(np.argmin(smooth))


def _signed_area(ring: FloatArray) -> float:
    """Returns the shoelace area of a ring without a closing repeat (> 0 if CCW), m^2."""
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def _min_far_distance(ring: FloatArray, min_separation: float) -> float:
    """Returns the least distance between ring points > min_separation apart along it, m."""
    seg = np.hypot(*(np.roll(ring, -1, axis=0) - ring).T)
    s = np.concatenate(([0.0], np.cumsum(seg)[:-1]))
    total = float(seg.sum())
    best = math.inf
    for lo in range(0, len(ring), _BLOCK):
        along = np.abs(s[lo : lo + _BLOCK, None] - s[None, :])
        along = np.minimum(along, total - along)
        diff = ring[lo : lo + _BLOCK, None, :] - ring[None, :, :]
        dist = np.hypot(diff[..., 0], diff[..., 1])
        far = dist[along > min_separation]
        if far.size:
            best = min(best, float(far.min()))
    return best


def _rings_cross(a: FloatArray, b: FloatArray, *, same: bool) -> bool:
    """Tells whether edges of closed rings a and b properly cross.

    With ``same`` (a is b), edges sharing a vertex are skipped. Touching without
    crossing is not detected; it has probability zero for generated curves.
    """
    a0, a1 = a, np.roll(a, -1, axis=0)
    b0, b1 = b, np.roll(b, -1, axis=0)
    n_b = len(b)
    for lo in range(0, len(a), _BLOCK):
        p0, p1 = a0[lo : lo + _BLOCK, None, :], a1[lo : lo + _BLOCK, None, :]
        d1 = _orient(p0, p1, b0[None]) * _orient(p0, p1, b1[None])
        d2 = _orient(b0[None], b1[None], p0) * _orient(b0[None], b1[None], p1)
        hit = (d1 < 0.0) & (d2 < 0.0)
        if same:
            i = np.arange(lo, min(lo + _BLOCK, len(a)))[:, None]
            j = np.arange(n_b)[None, :]
            gap = np.abs(i - j)
            hit &= np.minimum(gap, n_b - gap) > 1
        if hit.any():
            return True
    return False


def _orient(p: FloatArray, q: FloatArray, r: FloatArray) -> FloatArray:
    """Returns the z of (q - p) x (r - p), broadcast over leading axes."""
    out: FloatArray = (q[..., 0] - p[..., 0]) * (r[..., 1] - p[..., 1]) - (
        q[..., 1] - p[..., 1]
    ) * (r[..., 0] - p[..., 0])
    return out


def _inside(points: FloatArray, ring: FloatArray) -> NDArray[np.bool_]:
    """Even-odd point-in-polygon test of points against a ring without closing repeat."""
    x0, y0 = ring[:, 0], ring[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    result = np.zeros(len(points), dtype=bool)
    for lo in range(0, len(points), _BLOCK):
        px = points[lo : lo + _BLOCK, 0:1]
        py = points[lo : lo + _BLOCK, 1:2]
        spans = (y0 > py) != (y1 > py)
        # Where spans is False the denominator may be 0; the value is then unused.
        with np.errstate(divide="ignore", invalid="ignore"):
            x_cross = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
        crossings = np.count_nonzero(spans & (px < x_cross), axis=1)
        result[lo : lo + _BLOCK] = crossings % 2 == 1
    return result
