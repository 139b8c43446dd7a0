"""Tests for deepracer.tracks.generator: determinism, length, validity and errors."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
from shapely.geometry import LinearRing, LineString, Point, Polygon

from deepracer.tracks.builtin import route_from_centerline
from deepracer.tracks.generator import check_route, curvature, generate_track

SEEDS = range(20)
# (length, width, min_radius, spacing) beyond the defaults.
VARIANTS = [
    (30.0, 1.07, 0.6, 0.1),
    (12.0, 0.6, 0.8, 0.1),
    (40.0, 0.76, 1.0, 0.2),
]


@cache
def track(
    seed: int,
    length: float = 20.0,
    width: float = 0.76,
    min_radius: float = 0.6,
    spacing: float = 0.1,
) -> np.ndarray:
    route = generate_track(seed, length=length, width=width, min_radius=min_radius, spacing=spacing)
    route.setflags(write=False)
    return route


def signed_area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


def assert_valid(route: np.ndarray, length: float, width: float, min_radius: float) -> None:
    centre, inner, outer = route[:, 0:2], route[:, 2:4], route[:, 4:6]
    assert route.dtype == np.float64 and route.shape[1] == 6
    assert np.array_equal(route[0], route[-1])
    assert np.all(np.isfinite(route))
    # Length and orientation.
    seg = np.hypot(*np.diff(centre, axis=0).T)
    assert seg.sum() == pytest.approx(length, rel=0.01)
    assert seg.max() / seg.min() < 1.05
    assert signed_area(centre) > 0.0
    # Curvature bound, with the border-fold floor.
    r_min = max(min_radius, width / 2 + 0.05)
    kappa = curvature(centre)
    assert 1.0 / np.abs(kappa).max() >= r_min
    # Starts on a straight-ish stretch.
    assert abs(kappa[0]) <= np.median(np.abs(kappa))
    # Borders exactly +-width/2 from the centre, and width apart as curves.
    np.testing.assert_allclose(np.hypot(*(inner - centre).T), width / 2, rtol=1e-9)
    np.testing.assert_allclose(np.hypot(*(outer - centre).T), width / 2, rtol=1e-9)
    outer_line = LineString(outer)
    nearest = np.array([outer_line.distance(Point(p)) for p in inner[::5]])
    np.testing.assert_allclose(nearest, width, rtol=0.01)
    # Simple rings, a valid road polygon, inner inside and outer outside the centre loop.
    for ring in (centre, inner, outer):
        assert LinearRing(ring).is_simple
    assert Polygon(outer, [inner]).is_valid
    loop = Polygon(centre)
    assert all(loop.contains(Point(p)) for p in inner[:-1:3])
    assert not any(loop.contains(Point(p)) for p in outer[:-1:3])
    # No overlap: points far apart along the loop are far apart in the plane.
    pts = centre[:-1]
    s = np.concatenate(([0.0], np.cumsum(seg)[:-1]))
    along = np.abs(s[:, None] - s[None, :])
    along = np.minimum(along, seg.sum() - along)
    dist = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    far = dist[along > math.pi * width]
    assert far.size == 0 or far.min() >= width + 0.3
    assert check_route(route, min_radius=min_radius) == []


def test_same_seed_is_bit_identical() -> None:
    a = generate_track(7)
    b = generate_track(7)
    assert np.array_equal(a, b)
    assert a.tobytes() == b.tobytes()


def test_different_seeds_differ() -> None:
    routes = [track(seed) for seed in range(5)]
    for i in range(len(routes)):
        for j in range(i + 1, len(routes)):
            assert routes[i].shape != routes[j].shape or not np.allclose(routes[i], routes[j])


def test_arguments_change_the_track() -> None:
    assert not np.array_equal(track(1), track(1, 30.0, 1.07, 0.6, 0.1))


def test_row_count_follows_spacing() -> None:
    assert track(0).shape == (201, 6)
    assert track(0, 40.0, 0.76, 1.0, 0.2).shape == (201, 6)


@pytest.mark.parametrize("seed", SEEDS)
def test_default_tracks_are_valid(seed: int) -> None:
    assert_valid(track(seed), 20.0, 0.76, 0.6)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("seed", range(4))
def test_variant_tracks_are_valid(seed: int, variant: tuple[float, float, float, float]) -> None:
    length, width, min_radius, _spacing = variant
    assert_valid(track(seed, *variant), length, width, min_radius)


def test_some_tracks_have_right_turns() -> None:
    with_right = sum(curvature(track(seed)[:, 0:2]).min() < -0.2 for seed in SEEDS)
    assert with_right >= 10


def test_near_minimum_length_gives_near_circle() -> None:
    # A circle of radius 0.6 m is 3.77 m long; 4 m leaves almost no room for shape.
    route = generate_track(0, length=4.0)
    assert_valid(route, 4.0, 0.76, 0.6)


def test_curvature_of_circle() -> None:
    theta = np.linspace(0.0, 2.0 * math.pi, 64, endpoint=False)
    circle = 2.0 * np.column_stack((np.cos(theta), np.sin(theta)))
    np.testing.assert_allclose(curvature(circle), 0.5)
    np.testing.assert_allclose(curvature(circle[::-1]), -0.5)
    closed = np.vstack((circle, circle[:1]))
    kappa = curvature(closed)
    assert kappa.shape == (65,)
    np.testing.assert_allclose(kappa, 0.5)


def test_check_route_flags_bad_routes() -> None:
    theta = np.linspace(0.0, 2.0 * math.pi, 60, endpoint=False)
    unit = np.column_stack((np.cos(theta), np.sin(theta)))
    tight = route_from_centerline(0.5 * unit, 0.76, closed=True)
    assert any("radius" in p for p in check_route(tight))
    clockwise = route_from_centerline(3.0 * unit[::-1], 0.76, closed=True)
    assert any("counter-clockwise" in p for p in check_route(clockwise))
    # A peanut whose waist is narrower than width + 0.3 m.
    r = 1.0 + 0.85 * np.cos(2.0 * theta)
    peanut = route_from_centerline(3.0 * r[:, None] * unit, 0.76, closed=True)
    assert any("overlaps" in p for p in check_route(peanut, min_radius=0.0))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"width": 0.0}, "width"),
        ({"width": -1.0}, "width"),
        ({"spacing": 0.0}, "spacing"),
        ({"length": math.nan}, "length"),
        ({"length": 3.0, "min_radius": 0.6}, "too short"),
        ({"length": 2.0 * math.pi * 0.5 - 0.01, "min_radius": 0.1, "width": 0.9}, "too short"),
        ({"min_radius": -1.0}, "min_radius"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"spacing": 2.0}, "coarse"),
    ],
)
def test_impossible_arguments_raise(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        generate_track(0, **kwargs)  # type: ignore[arg-type]
    # The message names the argument values.
    assert "length=" in str(info.value) and "width=" in str(info.value)


def test_exhausted_attempts_raise() -> None:
    failures = 0
    for seed in SEEDS:
        try:
            generate_track(seed, max_attempts=1)
        except ValueError as err:
            assert "max_attempts=1" in str(err)
            failures += 1
    assert failures > 0
