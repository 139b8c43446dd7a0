"""Route-file loading, validation and geometry against shapely (the simapp's library)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import LinearRing, LineString, Point, Polygon

from deepracer.errors import TrackError
from deepracer.tracks import Track, get_track, list_tracks, load_route_file, register_track
from tests.conftest import CLOSED_TRACKS


def test_reinvent_base_length_matches_console() -> None:
    track = get_track("reinvent_base")
    assert track.length == pytest.approx(17.709, abs=1e-3)
    assert track.is_loop and track.is_ccw
    assert track.num_waypoints == 119


@pytest.mark.parametrize("name", [*CLOSED_TRACKS, "Straight_track"])
def test_length_and_direction_match_shapely(routes: Path, name: str) -> None:
    raw = np.load(routes / f"{name}.npy")
    track = get_track(name)
    line = (LinearRing if track.is_loop else LineString)(track.waypoints_array[:, 0:2])
    assert track.length == pytest.approx(line.length, rel=1e-12)
    assert track.length == pytest.approx(LineString(raw[:, 0:2]).length, rel=1e-12)
    assert track.is_loop == (name != "Straight_track")
    if track.is_loop:
        assert track.is_ccw == line.is_ccw


def test_zero_length_segments_are_dropped_unless_legacy(routes: Path) -> None:
    raw = np.load(routes / "Oval_track.npy")
    assert len(raw) == 102
    assert get_track("Oval_track").num_waypoints == 101
    legacy = get_track("Oval_track", sanitize=False)
    assert legacy.num_waypoints == 102
    assert legacy.length == pytest.approx(get_track("Oval_track").length)


@pytest.mark.parametrize("name", CLOSED_TRACKS)
def test_projection_and_road_test_agree_with_shapely(name: str) -> None:
    track = get_track(name)
    rows = track.waypoints_array
    centre = LinearRing(rows[:, 0:2])
    road = Polygon(rows[:, 4:6], [rows[:, 2:4]])
    rng = np.random.default_rng(0)
    lo, hi = rows[:, 0:2].min(axis=0) - 0.5, rows[:, 0:2].max(axis=0) + 0.5
    points = rng.uniform(lo, hi, size=(400, 2))
    s, _, _ = track.center.project(points)
    inside = track.on_road(points)
    for p, s_i, inside_i in zip(points, s, inside, strict=True):
        assert s_i == pytest.approx(centre.project(Point(p)), abs=1e-9)
        assert inside_i == road.contains(Point(p))
    # Track-width and left/right as the simapp derives them.
    for p in points[:50]:
        where = track.locate(p)
        c = centre.interpolate(centre.project(Point(p)))
        inner = LinearRing(rows[:, 2:4])
        outer = LinearRing(rows[:, 4:6])
        pin = inner.interpolate(inner.project(c))
        pout = outer.interpolate(outer.project(c))
        assert where.width == pytest.approx(pin.distance(pout), abs=1e-9)
        assert where.distance_from_center == pytest.approx(Point(p).distance(c), abs=1e-9)
        left = (Point(p).distance(pin) < Point(p).distance(pout)) ^ (not centre.is_ccw)
        assert where.is_left_of_center == left


def test_prev_next_bisects_and_wraps() -> None:
    track = get_track("reinvent_base")
    assert track.prev_next(0.0) == (0, 1)
    assert track.prev_next(track.ndists[5] + 1e-9) == (5, 6)
    last = track.num_waypoints - 1
    assert track.prev_next(0.99999) == (last - 1, last)
    assert track.prev_next(1.0) == (last, 0)


def test_reversed_track_flips_direction_and_waypoints() -> None:
    track = get_track("reinvent_base")
    back = track.reversed()
    assert back.reverse and not back.is_ccw
    assert back.waypoints == track.waypoints[::-1]
    assert back.length == pytest.approx(track.length)
    p = np.array(track.waypoints[10]) + np.array([0.05, 0.05])
    assert track.locate(p).is_left_of_center != back.locate(p).is_left_of_center


def test_start_pose_faces_along_the_track() -> None:
    track = get_track("reinvent_base")
    x, y, yaw = track.start_pose(0.0)
    (x0, y0), (x1, y1) = track.waypoints[0], track.waypoints[1]
    assert (x, y) == pytest.approx((x0, y0))
    assert yaw == pytest.approx(np.arctan2(y1 - y0, x1 - x0))


def test_builtin_tracks_resolve_without_files() -> None:
    names = list_tracks()
    for name in ("oval", "kidney", "straight"):
        assert names[name] == "builtin"
        track = get_track(name)
        assert track.length > 5.0
    assert not get_track("straight").is_loop
    generated = get_track("generated-7")
    assert generated.is_loop and generated.length == pytest.approx(20.0, rel=0.01)


def test_search_path_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = np.asarray(get_track("oval").waypoints_array) + 100.0
    np.save(tmp_path / "oval.npy", rows)
    monkeypatch.setenv("DEEPRACER_TRACKS_PATH", str(tmp_path))
    track = get_track("oval")  # a route file on the path shadows the built-in
    assert track.waypoints[0][0] > 50.0
    assert list_tracks()["oval"] == str(tmp_path / "oval.npy")


def test_register_track() -> None:
    rows = get_track("oval").waypoints_array * 2.0
    register_track("double_oval_for_test", lambda: rows, overwrite=True)
    assert get_track("double_oval_for_test").length == pytest.approx(2 * get_track("oval").length)
    with pytest.raises(ValueError, match="already registered"):
        register_track("double_oval_for_test", lambda: rows)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((10, 4)), r"shape \(N, 6\).*got shape \(10, 4\)"),
        (np.zeros(6), r"shape \(N, 6\)"),
        (np.array([[0, 0, 0, 1, 0, -1], [1, 0, 1, 1, 1, -1]], dtype=float), "at least 3"),
        (np.array([["a"] * 6] * 4), "numeric"),
    ],
)
def test_bad_arrays_get_one_clear_error(tmp_path: Path, array: np.ndarray, message: str) -> None:
    path = tmp_path / "bad.npy"
    np.save(path, array)
    with pytest.raises(TrackError, match=message) as info:
        load_route_file(path)
    assert str(path) in str(info.value)


def test_nan_rows_are_named(tmp_path: Path) -> None:
    rows = np.array(get_track("oval").waypoints_array)
    rows[3, 2] = np.nan
    np.save(tmp_path / "nan.npy", rows)
    with pytest.raises(TrackError, match=r"rows \[3\] contain NaN"):
        load_route_file(tmp_path / "nan.npy")


def test_missing_file_and_unknown_name(tmp_path: Path) -> None:
    with pytest.raises(TrackError, match="route file not found"):
        get_track(str(tmp_path / "nope.npy"))
    with pytest.raises(TrackError, match="DEEPRACER_TRACKS_PATH") as info:
        get_track("reinvent_bse")
    assert "Did you mean 'reinvent_base'" in str(info.value)
    assert "put reinvent_bse.npy" in str(info.value)


def test_not_a_npy_file(tmp_path: Path) -> None:
    path = tmp_path / "text.npy"
    path.write_text("not numpy")
    with pytest.raises(TrackError, match=r"not a readable \.npy"):
        load_route_file(path)


def test_track_is_immutable() -> None:
    track = get_track("oval")
    with pytest.raises(ValueError):
        track.waypoints_array[0, 0] = 1.0
    assert isinstance(track, Track)


@pytest.mark.parametrize("name", [*CLOSED_TRACKS, "Straight_track"])
def test_single_point_fast_paths_agree_with_shapely(name: str) -> None:
    # One point at a time goes through the grid indexes; far points fall back to a scan.
    track = get_track(name)
    rows = track.waypoints_array
    loop = track.is_loop
    centre = (LinearRing if loop else LineString)(rows[:, 0:2])
    if loop:
        road = Polygon(rows[:, 4:6], [rows[:, 2:4]])
    else:
        road = Polygon(np.vstack([rows[:, 4:6], rows[::-1, 2:4]]))
    rng = np.random.default_rng(42)
    lo, hi = rows[:, 0:2].min(axis=0) - 3.0, rows[:, 0:2].max(axis=0) + 3.0
    near = rows[rng.integers(len(rows), size=1500), 0:2] + rng.normal(0, 0.4, (1500, 2))
    points = np.vstack([near, rng.uniform(lo, hi, size=(300, 2))])
    for p in points:
        assert bool(track.on_road([p])[0]) == road.contains(Point(p))
        where = track.locate(p)
        assert where.s == pytest.approx(centre.project(Point(p)), abs=1e-9)
        assert where.distance_from_center == pytest.approx(centre.distance(Point(p)), abs=1e-9)


@pytest.mark.parametrize(("squeeze", "words"), [(0.0, "coincide"), (0.02, "almost meet")])
def test_a_road_without_room_for_the_car_is_refused(
    tmp_path: Path, squeeze: float, words: str
) -> None:
    rows = np.array(get_track("oval").waypoints_array)
    pinched = rows.copy()
    for i in (7, 8):  # both borders onto the centre line, +- squeeze / 2
        centre, inner, outer = rows[i, 0:2], rows[i, 2:4], rows[i, 4:6]
        toward = (outer - inner) / np.linalg.norm(outer - inner)
        pinched[i, 2:4] = centre - toward * squeeze / 2
        pinched[i, 4:6] = centre + toward * squeeze / 2
    np.save(tmp_path / "pinched.npy", pinched)
    with pytest.raises(TrackError, match=rf"pinched\.npy: rows \[7, 8\] have a road .* {words}"):
        load_route_file(tmp_path / "pinched.npy")
    zero = rows.copy()
    zero[:, 2:4] = zero[:, 0:2]
    zero[:, 4:6] = zero[:, 0:2]
    with pytest.raises(TrackError, match=r"a car needs at least 0\.05 m"):
        Track.from_array(zero, name="zero")


def _figure_eight(points: int = 200) -> np.ndarray:
    from deepracer.tracks.builtin import route_from_centerline

    t = np.linspace(0.0, 2.0 * np.pi, points, endpoint=False)
    x = 4.0 * np.cos(t) / (1.0 + np.sin(t) ** 2)
    y = 4.0 * np.sin(t) * np.cos(t) / (1.0 + np.sin(t) ** 2)
    return route_from_centerline(np.c_[x, y], 0.76, closed=True)


def test_a_figure_eight_is_refused_naming_the_crossing(tmp_path: Path) -> None:
    np.save(tmp_path / "eight.npy", _figure_eight())
    with pytest.raises(TrackError, match=r"eight\.npy: the centre line crosses itself .* near x"):
        load_route_file(tmp_path / "eight.npy")


def test_first_crossing_agrees_with_shapely_on_random_polylines() -> None:
    from deepracer.tracks.geometry import first_crossing

    rng = np.random.default_rng(3)
    simple = crossing = 0
    for _ in range(300):
        n = int(rng.integers(4, 12))
        points = rng.uniform(0.0, 10.0, size=(n, 2))
        closed = bool(rng.integers(0, 2))
        if closed:
            points = np.vstack([points, points[:1]])
        line = (LinearRing if closed else LineString)(points)
        found = first_crossing(points, closed=closed)
        assert (found is None) == line.is_simple
        if found is not None:
            i, j = found
            assert j >= i + 2
            a, b = LineString(points[i : i + 2]), LineString(points[j : j + 2])
            assert a.intersects(b)
            crossing += 1
        else:
            simple += 1
    assert simple > 30 and crossing > 30  # both kinds were tried
