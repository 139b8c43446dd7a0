"""The shipped AWS DeepRacer route files: every one loads and matches its provenance.

The reference figures are the table of ``deepracer/tracks/routes/SOURCE.md``, computed
with numpy from the files when they were copied from the simapp (rows, closed or not,
centre-line length, median width, direction), and shapely, the simapp's own geometry
library; neither comes from our Track code.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import LinearRing, LineString

from deepracer.envs.world import load_world, world_file
from deepracer.errors import ConfigError, TrackError
from deepracer.tracks import SHIPPED, get_track, list_tracks
from deepracer.tracks.catalog import ROUTES_DIR, console_name, is_shipped, shipped_names


def _source_table() -> dict[str, tuple[int, bool, str, str, str]]:
    rows = {}
    for line in (ROUTES_DIR / "SOURCE.md").read_text().splitlines():
        match = re.match(r"^\| (\S+)\.npy \|", line)
        if match:
            _, n, closed, length, width, direction = (c.strip() for c in line.strip("|").split("|"))
            rows[match.group(1)] = (int(n), closed == "yes", length, width, direction)
    return rows


TABLE = _source_table()


def test_all_127_simapp_route_files_ship_with_their_licence() -> None:
    assert len(TABLE) == 127
    assert set(shipped_names()) == set(TABLE)
    assert "Apache License" in (ROUTES_DIR / "LICENSE").read_text()
    notice = (ROUTES_DIR / "NOTICE").read_text()
    assert "deepracer-simapp" in notice and "01f5f015fd852f952b351643898d4beb4f36494b" in notice


@pytest.mark.parametrize("name", sorted(TABLE))
def test_route_file_loads_and_matches_its_provenance(name: str) -> None:
    rows, closed, length, width, direction = TABLE[name]
    raw = np.load(ROUTES_DIR / f"{name}.npy", allow_pickle=False)
    assert raw.shape == (rows, 6)
    track = get_track(name)  # by name, no environment variable
    assert is_shipped(track.source)
    assert track.is_loop == closed == bool(np.all(raw[0] == raw[-1]))
    segments = np.linalg.norm(np.diff(raw[:, 0:2], axis=0), axis=1).sum()
    assert track.length == pytest.approx(segments, rel=1e-12)
    line = (LinearRing if closed else LineString)(raw[:, 0:2])
    assert track.length == pytest.approx(line.length, rel=1e-12)
    assert f"{track.length:.2f}" == length
    widths = np.linalg.norm(raw[:, 2:4] - raw[:, 4:6], axis=1)
    assert f"{np.median(widths):.3f}" == width  # the file is the one SOURCE.md describes
    # Ours drops zero-length segments (as the simapp does), which moves the median a hair.
    assert np.median(track.widths()) == pytest.approx(float(width), abs=2e-3)
    if closed:
        assert ("CCW" if track.is_ccw else "CW") == direction
        assert track.is_ccw == LinearRing(raw[:, 0:2]).is_ccw
    else:
        assert direction == "open"


def test_every_shipped_track_has_a_console_name() -> None:
    assert console_name("reinvent_base") == "re:Invent 2018"
    assert console_name("reInvent2019_wide") == "A to Z Speedway"
    assert console_name("2022_summit_speedway") == "RL Speedway"
    assert console_name("2024_reinvent_champ_cw") == "Forever Raceway (clockwise)"
    assert console_name("2022_april_pro_ccw") == "Ace Super Speedway (counter-clockwise)"
    assert console_name("oval") is None
    assert [n for n in shipped_names() if console_name(n) is None] == []


def test_a_users_route_file_shadows_the_shipped_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = np.load(ROUTES_DIR / "reinvent_base.npy") + 100.0
    np.save(tmp_path / "reinvent_base.npy", rows)
    assert list_tracks()["reinvent_base"] == SHIPPED
    monkeypatch.setenv("DEEPRACER_TRACKS_PATH", str(tmp_path))
    track = get_track("reinvent_base")
    assert track.source == str(tmp_path / "reinvent_base.npy")
    assert track.waypoints[0][0] > 50.0
    assert list_tracks()["reinvent_base"] == str(tmp_path / "reinvent_base.npy")


def test_unknown_track_names_get_the_closest_ones() -> None:
    with pytest.raises(TrackError, match=r"Did you mean '2022_summit_speedway'") as info:
        get_track("summit_speedway")
    assert "deepracer tracks list" in str(info.value)
    with pytest.raises(TrackError, match=r"Did you mean 'reInvent2019_track'"):
        get_track("reinvent2019_track")  # case differs


def test_any_track_name_is_a_world() -> None:
    assert world_file("2022_summit_speedway") is None
    world = load_world("2022_summit_speedway")
    assert (world.name, world.track) == ("2022_summit_speedway", "2022_summit_speedway")
    assert world.surface.material == "base" and world.surface.friction == 0.5
    assert (world.noise.steering_std, world.noise.speed_std) == (0.01, 0.1)
    assert "RL Speedway" in world.description
    by_path = load_world(str(ROUTES_DIR / "reInvent2019_wide.npy"))
    assert by_path.name == "reInvent2019_wide" and "A to Z Speedway" in by_path.description
    # A world file of the same name wins over the track's default world.
    assert world_file("reinvent_base") is not None
    assert load_world("reinvent_base").description.startswith("re:Invent 2018")


def test_an_unknown_world_suggests_worlds_and_tracks() -> None:
    with pytest.raises(ConfigError, match=r"world 'reinvent_bse'.*Did you mean 'reinvent_base'"):
        load_world("reinvent_bse")
    with pytest.raises(ConfigError, match=r"Did you mean '2022_summit_speedway'"):
        load_world("summit_speedway")
    with pytest.raises(ConfigError, match="no world file"):
        load_world("missing_world.yaml")


def test_a_broken_route_file_is_named_not_called_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    np.save(tmp_path / "broken.npy", np.zeros((5, 3)))
    monkeypatch.setenv("DEEPRACER_TRACKS_PATH", str(tmp_path))
    with pytest.raises(TrackError, match=r"broken\.npy.*shape"):
        load_world("broken")
