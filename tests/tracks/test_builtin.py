"""Tests for deepracer.tracks.builtin: route format, geometry and argument checks."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from shapely.geometry import LinearRing, LineString, Point, Polygon

from deepracer.tracks.builtin import (
    BUILTIN_TRACKS,
    kidney,
    oval,
    route_from_centerline,
    straight,
)
from deepracer.tracks.catalog import ROUTES_DIR
from deepracer.tracks.generator import check_route, curvature

LOOPS: dict[str, Callable[[], np.ndarray]] = {"oval": oval, "kidney": kidney}


def signed_area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


def seg_lengths(points: np.ndarray) -> np.ndarray:
    lengths: np.ndarray = np.hypot(*np.diff(points, axis=0).T)
    return lengths


def test_registry_keys_and_factories() -> None:
    assert set(BUILTIN_TRACKS) == {"oval", "kidney", "straight"}
    for name, factory in BUILTIN_TRACKS.items():
        route = factory()
        assert route.dtype == np.float64, name
        assert route.ndim == 2 and route.shape[1] == 6, name
        assert np.all(np.isfinite(route)), name
    assert np.array_equal(BUILTIN_TRACKS["oval"](), oval())


@pytest.mark.parametrize("name", sorted(LOOPS))
def test_loop_is_closed_ccw_and_valid(name: str) -> None:
    route = LOOPS[name]()
    centre, inner, outer = route[:, 0:2], route[:, 2:4], route[:, 4:6]
    assert np.array_equal(route[0], route[-1])
    assert signed_area(centre) > 0.0
    for ring in (centre, inner, outer):
        assert LinearRing(ring).is_simple
    assert Polygon(outer, [inner]).is_valid
    loop = Polygon(centre)
    assert all(loop.contains(Point(p)) for p in inner[:-1])
    assert not any(loop.contains(Point(p)) for p in outer[:-1])
    assert check_route(route) == []


@pytest.mark.parametrize("name", sorted(LOOPS))
def test_loop_borders_are_width_apart(name: str) -> None:
    route = LOOPS[name]()
    centre, inner, outer = route[:, 0:2], route[:, 2:4], route[:, 4:6]
    np.testing.assert_allclose(np.hypot(*(inner - centre).T), 0.38, rtol=1e-9)
    np.testing.assert_allclose(np.hypot(*(outer - centre).T), 0.38, rtol=1e-9)
    outer_line = LineString(outer)
    nearest = np.array([outer_line.distance(Point(p)) for p in inner])
    np.testing.assert_allclose(nearest, 0.76, rtol=0.01)


@pytest.mark.parametrize("name", sorted(LOOPS))
def test_loop_spacing_is_uniform(name: str) -> None:
    seg = seg_lengths(LOOPS[name]()[:, 0:2])
    assert seg.min() > 0.0
    assert seg.max() / seg.min() < 1.01
    assert abs(seg.mean() - 0.1) < 0.005


def test_oval_shape() -> None:
    route = oval(straight=4.0, radius=1.5, width=0.76, spacing=0.1)
    centre = route[:, 0:2]
    assert seg_lengths(centre).sum() == pytest.approx(8.0 + 3.0 * math.pi, rel=1e-3)
    np.testing.assert_allclose(centre[0], [0.0, -1.5], atol=1e-12)
    # Heading +x at the start, and the start is mid-straight (both neighbours on it).
    assert centre[1, 0] > centre[0, 0]
    assert centre[1, 1] == pytest.approx(-1.5) and centre[-2, 1] == pytest.approx(-1.5)
    np.testing.assert_allclose(centre[:, 0].min(), -3.5, atol=1e-3)
    np.testing.assert_allclose(centre[:, 1].max(), 1.5, atol=1e-3)
    radius = 1.0 / np.abs(curvature(centre)).max()
    assert radius == pytest.approx(1.5, rel=1e-3)


def test_oval_arguments_change_geometry() -> None:
    route = oval(straight=2.0, radius=2.0, width=1.0, spacing=0.2)
    length = seg_lengths(route[:, 0:2]).sum()
    assert length == pytest.approx(4.0 + 4.0 * math.pi, rel=1e-3)
    np.testing.assert_allclose(np.hypot(*(route[:, 2:4] - route[:, 4:6]).T), 1.0)
    circle = oval(straight=0.0, radius=1.0)
    np.testing.assert_allclose(np.hypot(*circle[:, 0:2].T), 1.0, atol=1e-12)


def test_kidney_has_left_and_right_turns() -> None:
    route = kidney()
    centre = route[:, 0:2]
    kappa = curvature(centre)
    assert kappa.max() > 0.5 and kappa.min() < -0.5
    # Tightest corner respects the car's envelope (>= ~0.6 m on the centre line).
    assert 1.0 / np.abs(kappa).max() >= 0.6
    length = seg_lengths(centre).sum()
    assert 15.0 <= length <= 25.0
    width = np.hypot(*(route[:, 2:4] - route[:, 4:6]).T)
    assert 0.76 - 1e-9 <= width.mean() <= 1.07
    # Starts on the straight: no curvature around the first waypoint.
    np.testing.assert_allclose(kappa[[0, 1, -2]], 0.0, atol=1e-9)
    assert centre[1, 0] > centre[0, 0]
    # The right turn does not bring the road near the opposite straight.
    assert Polygon(route[:, 4:6], [route[:, 2:4]]).is_valid


def test_straight_matches_simapp_convention() -> None:
    route = straight()
    assert route.shape == (25, 6)
    assert not np.array_equal(route[0], route[-1])
    np.testing.assert_allclose(route[0, 0:2], [0.0, 0.0])
    np.testing.assert_allclose(route[-1, 0:2], [6.0, 0.0])
    np.testing.assert_allclose(route[:, 3], 0.305)
    np.testing.assert_allclose(route[:, 5], -0.305)
    np.testing.assert_allclose(route[:, 2], route[:, 0])
    np.testing.assert_allclose(seg_lengths(route[:, 0:2]), 0.25)


def test_straight_inner_side_matches_simapp_file() -> None:
    ref = np.load(ROUTES_DIR / "Straight_track.npy")
    ref_left = np.sign(ref[0, 3] - ref[0, 1])
    ours = straight()
    assert np.sign(ours[0, 3] - ours[0, 1]) == ref_left


def test_route_from_centerline_offsets_exactly() -> None:
    theta = np.linspace(0.0, 2.0 * math.pi, 50, endpoint=False)
    circle = np.column_stack((np.cos(theta), np.sin(theta)))
    route = route_from_centerline(circle, 0.5, closed=True)
    assert route.shape == (51, 6)
    np.testing.assert_allclose(np.hypot(*route[:-1, 2:4].T), 0.75)
    np.testing.assert_allclose(np.hypot(*route[:-1, 4:6].T), 1.25)


@pytest.mark.parametrize(
    ("factory", "kwargs", "match"),
    [
        (oval, {"width": 0.0}, "width"),
        (oval, {"spacing": -0.1}, "spacing"),
        (oval, {"radius": 0.3}, "radius"),
        (oval, {"straight": -1.0}, "straight"),
        (oval, {"width": math.nan}, "width"),
        (kidney, {"dent_angle": 95.0}, "dent_angle"),
        (kidney, {"dent_radius": 0.2}, "dent_radius"),
        (kidney, {"straight": 1.0}, "too short"),
        (kidney, {"straight": 5.0}, "dent"),
        (straight, {"length": 0.0}, "length"),
        (straight, {"spacing": 0.0}, "spacing"),
    ],
)
def test_bad_arguments_raise(
    factory: Callable[..., np.ndarray], kwargs: dict[str, float], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        factory(**kwargs)
