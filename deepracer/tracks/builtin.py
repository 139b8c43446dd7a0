"""Built-in parametric tracks in the AWS DeepRacer route-file format.

Every function returns a float64 array of shape (N, 6): centre line x, y, inner
border x, y, outer border x, y, in metres. A closed loop repeats its first row at the
end; an open track does not. Loops run counter-clockwise, so the inner border is the
left-hand one; on the open straight the inner border is also the left (+y) one, as in
the simapp's ``Straight_track.npy``.

Contents:
    oval: a stadium (two straights joined by two semicircles), centred on the origin.
    kidney: a bean-shaped loop with one concave (right-hand) section.
    straight: an open straight along +x from the origin.
    BUILTIN_TRACKS: track name -> zero-argument factory using the defaults.
    route_from_centerline: add borders at +-width/2 to a sampled centre line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["BUILTIN_TRACKS", "kidney", "oval", "route_from_centerline", "straight"]

FloatArray = NDArray[np.float64]

# A primitive of a piecewise path: (arc length in m, signed curvature in 1/m; > 0 = left).
_Segment = tuple[float, float]


def route_from_centerline(centre: ArrayLike, width: float, *, closed: bool) -> FloatArray:
    """Builds a route array from centre-line points by offsetting +-width/2 along the normal.

    The normal is the unit left normal of the central-difference tangent (wrapping
    around for a closed loop, one-sided at the ends of an open line), so each border
    point lies exactly width/2 from its centre point.

    Args:
        centre: (M, 2) centre-line points in metres, without a repeated closing point.
        width: road width in metres (> 0).
        closed: True for a loop; the first row is then repeated at the end.

    Returns:
        (M + 1, 6) array for a loop, (M, 6) for an open line: centre, inner (left)
        border, outer (right) border.

    Raises:
        ValueError: if the points or the width are unusable.
    """
    pts = np.asarray(centre, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3:
        raise ValueError(f"centre must be (M>=3, 2) points, got shape {pts.shape}")
    if not (math.isfinite(width) and width > 0.0):
        raise ValueError(f"width must be a positive number of metres, got {width!r}")
    if closed:
        tangent = np.roll(pts, -1, axis=0) - np.roll(pts, 1, axis=0)
    else:
        tangent = np.gradient(pts, axis=0)
    norm = np.hypot(tangent[:, 0], tangent[:, 1])
    if not np.all(norm > 0.0):
        raise ValueError("centre has repeated points; its tangent is undefined there")
    left = np.column_stack((-tangent[:, 1], tangent[:, 0])) / norm[:, None]
    half = 0.5 * width
    route = np.hstack((pts, pts + half * left, pts - half * left))
    if closed:
        route = np.vstack((route, route[:1]))
    return route


def _sample_path(
    segments: Sequence[_Segment], spacing: float, start: tuple[float, float]
) -> FloatArray:
    """Samples a closed path of straights and arcs at uniform arc-length steps.

    The path starts at ``start`` heading +x; points are exact positions on the path
    (not interpolated), so spacing is uniform up to the chord/arc difference.

    Args:
        segments: (length m, signed curvature 1/m) primitives, in driving order.
        spacing: target distance between consecutive points in metres.
        start: (x, y) of the first point in metres.

    Returns:
        (M, 2) points without a repeated closing point.
    """
    lengths = np.array([seg[0] for seg in segments], dtype=np.float64)
    kappas = np.array([seg[1] for seg in segments], dtype=np.float64)
    # Position and heading at the start of each primitive.
    starts = np.empty((len(segments) + 1, 2))
    headings = np.empty(len(segments) + 1)
    starts[0] = start
    headings[0] = 0.0
    for j, (seg_len, kappa) in enumerate(segments):
        starts[j + 1], headings[j + 1] = _advance(starts[j], headings[j], seg_len, kappa)
    # A parameter set that does not close would silently make a broken loop.
    if np.hypot(*(starts[-1] - starts[0])) > 1e-9 or abs(headings[-1] - 2.0 * math.pi) > 1e-9:
        raise AssertionError("internal error: path primitives do not close")

    total = float(lengths.sum())
    n = max(8, round(total / spacing))
    s = np.arange(n) * (total / n)
    bounds = np.concatenate(([0.0], np.cumsum(lengths)))
    idx = np.clip(np.searchsorted(bounds, s, side="right") - 1, 0, len(segments) - 1)
    u = s - bounds[idx]
    h0 = headings[idx]
    k = kappas[idx]
    is_arc = k != 0.0
    # Safe divisor: straights use the limit u*(cos h0, sin h0) instead.
    k_safe = np.where(is_arc, k, 1.0)
    dx = np.where(is_arc, (np.sin(h0 + k * u) - np.sin(h0)) / k_safe, u * np.cos(h0))
    dy = np.where(is_arc, (np.cos(h0) - np.cos(h0 + k * u)) / k_safe, u * np.sin(h0))
    points: FloatArray = starts[idx] + np.column_stack((dx, dy))
    return points


def _advance(
    pos: FloatArray, heading: float, seg_len: float, kappa: float
) -> tuple[FloatArray, float]:
    """Returns position and heading after driving one primitive."""
    if kappa == 0.0:
        step = seg_len * np.array([math.cos(heading), math.sin(heading)])
    else:
        h1 = heading + kappa * seg_len
        step = np.array(
            [
                (math.sin(h1) - math.sin(heading)) / kappa,
                (math.cos(heading) - math.cos(h1)) / kappa,
            ]
        )
    return pos + step, heading + kappa * seg_len


def _check_width_spacing(width: float, spacing: float) -> None:
    """Raises ValueError unless width and spacing are positive finite numbers."""
    if not (math.isfinite(width) and width > 0.0):
        raise ValueError(f"width must be a positive number of metres, got width={width!r}")
    if not (math.isfinite(spacing) and spacing > 0.0):
        raise ValueError(f"spacing must be a positive number of metres, got spacing={spacing!r}")


def oval(
    *, straight: float = 4.0, radius: float = 1.5, width: float = 0.76, spacing: float = 0.1
) -> FloatArray:
    """Returns a counter-clockwise stadium track centred on the origin.

    The loop starts in the middle of the bottom straight, at (0, -radius), heading +x.
    Centre-line length is 2*straight + 2*pi*radius.

    Args:
        straight: length of each straight in metres (>= 0).
        radius: centre-line radius of the two semicircles in metres (> width/2).
        width: road width in metres.
        spacing: target waypoint spacing in metres.

    Returns:
        (N, 6) closed route array (first row == last row).

    Raises:
        ValueError: if an argument is out of range.
    """
    _check_width_spacing(width, spacing)
    if not (math.isfinite(straight) and straight >= 0.0):
        raise ValueError(f"straight must be >= 0 m, got straight={straight!r}")
    if not (math.isfinite(radius) and radius > 0.5 * width):
        raise ValueError(
            f"radius must exceed width/2 so the inner border does not fold, "
            f"got radius={radius!r}, width={width!r}"
        )
    half_turn = (math.pi * radius, 1.0 / radius)
    segments: list[_Segment] = [
        (0.5 * straight, 0.0),
        half_turn,
        (straight, 0.0),
        half_turn,
        (0.5 * straight, 0.0),
    ]
    # Zero-length straights are harmless for sampling but pointless.
    segments = [seg for seg in segments if seg[0] > 0.0]
    centre = _sample_path(segments, spacing, (0.0, -radius))
    return route_from_centerline(centre, width, closed=True)


def kidney(
    *,
    straight: float = 4.0,
    radius: float = 1.3,
    dent_radius: float = 0.9,
    dent_angle: float = 45.0,
    width: float = 0.76,
    spacing: float = 0.1,
) -> FloatArray:
    """Returns a counter-clockwise kidney (bean) track, symmetric about the y axis.

    Driving order: bottom straight heading +x, a left turn of 180 + dent_angle degrees,
    a short straight, a right turn of 2*dent_angle degrees through the top-centre dent,
    a short straight, another left turn, back to the start at the origin. With the
    defaults the centre line is about 16.9 m long, its tightest corner is the 0.9 m
    radius dent, and the dent's centre line sits about 1.5 m above the bottom straight.

    Args:
        straight: length of the bottom straight in metres.
        radius: centre-line radius of the two left turns in metres.
        dent_radius: centre-line radius of the right turn in metres.
        dent_angle: half the right turn's angle in degrees (0 < dent_angle < 90).
        width: road width in metres.
        spacing: target waypoint spacing in metres.

    Returns:
        (N, 6) closed route array (first row == last row).

    Raises:
        ValueError: if an argument is out of range or the shape would not be a valid
            road (folded border, negative link straight, dent touching the bottom
            straight).
    """
    _check_width_spacing(width, spacing)
    half_w = 0.5 * width
    for name, value in (("radius", radius), ("dent_radius", dent_radius)):
        if not (math.isfinite(value) and value > half_w):
            raise ValueError(
                f"{name} must exceed width/2 so a border does not fold, "
                f"got {name}={value!r}, width={width!r}"
            )
    if not (math.isfinite(dent_angle) and 0.0 < dent_angle < 90.0):
        raise ValueError(f"dent_angle must be in (0, 90) degrees, got dent_angle={dent_angle!r}")
    if not (math.isfinite(straight) and straight > 0.0):
        raise ValueError(f"straight must be > 0 m, got straight={straight!r}")
    beta = math.radians(dent_angle)
    half = 0.5 * straight
    # The link straight makes the path return to x = 0 at the top centre.
    link = (half - (radius + dent_radius) * math.sin(beta)) / math.cos(beta)
    if link < 0.0:
        raise ValueError(
            f"straight={straight!r} is too short for radius={radius!r}, "
            f"dent_radius={dent_radius!r}, dent_angle={dent_angle!r}"
        )
    dent_y = radius * (1.0 + math.cos(beta)) - link * math.sin(beta)
    dent_y -= dent_radius * (1.0 - math.cos(beta))
    # The dent's lower border must clear the bottom straight's upper border.
    if dent_y - width < 0.3:
        raise ValueError(
            f"the dent comes within 0.3 m of the bottom straight; reduce dent_angle "
            f"or dent_radius (radius={radius!r}, dent_radius={dent_radius!r}, "
            f"dent_angle={dent_angle!r}, straight={straight!r}, width={width!r})"
        )
    left_turn = (radius * (math.pi + beta), 1.0 / radius)
    dent = (dent_radius * 2.0 * beta, -1.0 / dent_radius)
    segments: list[_Segment] = [
        (half, 0.0),
        left_turn,
        (link, 0.0),
        dent,
        (link, 0.0),
        left_turn,
        (half, 0.0),
    ]
    segments = [seg for seg in segments if seg[0] > 0.0]
    centre = _sample_path(segments, spacing, (0.0, 0.0))
    return route_from_centerline(centre, width, closed=True)


def straight(*, length: float = 6.0, width: float = 0.61, spacing: float = 0.25) -> FloatArray:
    """Returns an open straight track along +x starting at the origin.

    Args:
        length: centre-line length in metres (> 0).
        width: road width in metres.
        spacing: target waypoint spacing in metres; the actual spacing is
            length / round(length / spacing).

    Returns:
        (N, 6) open route array (first row != last row); inner border at +y, outer
        at -y.

    Raises:
        ValueError: if an argument is out of range.
    """
    _check_width_spacing(width, spacing)
    if not (math.isfinite(length) and length > 0.0):
        raise ValueError(f"length must be > 0 m, got length={length!r}")
    # At least 2 segments: route_from_centerline needs 3 points.
    n = max(2, round(length / spacing))
    x = np.linspace(0.0, length, n + 1)
    centre = np.column_stack((x, np.zeros_like(x)))
    return route_from_centerline(centre, width, closed=False)


BUILTIN_TRACKS: dict[str, Callable[[], FloatArray]] = {
    "oval": oval,
    "kidney": kidney,
    "straight": straight,
}
