"""Tests for the ``deepracer`` command line, run in-process through ``main``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import deepracer
from deepracer.cli import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CENTERLINE = Path(__file__).resolve().parents[2] / "rewards" / "centerline.py"


@pytest.fixture(autouse=True)
def _no_tracks_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs every test without the caller's DEEPRACER_TRACKS_PATH."""
    monkeypatch.delenv("DEEPRACER_TRACKS_PATH", raising=False)


def _reward_file(tmp_path: Path, body: str, name: str = "my_reward.py") -> Path:
    path = tmp_path / name
    path.write_text(f"def reward_function(params):\n{body}\n")
    return path


# -- general ------------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"deepracer {deepracer.__version__}"


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "tracks" in err
    assert "check-reward" in err


def test_usage_error_returns_two(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no-such-command"]) == 2
    assert "invalid choice" in capsys.readouterr().err


# -- tracks list --------------------------------------------------------------------


def test_tracks_list_builtin(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tracks", "list"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    for name in ("oval", "kidney", "straight"):
        assert lines[name][-1] == "builtin"  # no console name: the columns shift left
    assert lines["oval"][1:] == ["17.42", "0.760", "0.760", "CCW", "175", "builtin"]
    assert lines["straight"][4] == "open"
    assert "DEEPRACER_TRACKS_PATH is unset" in out


def test_tracks_list_shows_every_shipped_track(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tracks", "list"]) == 0
    out = capsys.readouterr().out
    base = next(line for line in out.splitlines() if line.startswith("reinvent_base "))
    assert base.split() == [
        *["reinvent_base", "re:Invent", "2018", "17.71", "0.762", "0.756", "CCW", "119"],
        "shipped",
    ]
    assert " tracks: 127 shipped AWS DeepRacer route files" in out


def test_tracks_list_json_and_grep(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tracks", "list", "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert len(entries) >= 130
    by_name = {e["name"]: e for e in entries}
    summit = by_name["2022_summit_speedway"]
    assert summit["console_name"] == "RL Speedway" and summit["origin"] == "shipped"
    assert summit["direction"] == "CCW" and summit["is_loop"]
    assert summit["length"] == pytest.approx(25.17, abs=0.005)
    assert by_name["Straight_track"]["direction"] == "open"
    assert by_name["oval"]["console_name"] is None
    assert main(["tracks", "list", "--json", "--grep", "a to z"]) == 0
    names = [e["name"] for e in json.loads(capsys.readouterr().out)]
    assert names == [
        "reInvent2019_wide",
        "reInvent2019_wide_ccw",
        "reInvent2019_wide_cw",
        "reInvent2019_wide_mirrored",
    ]
    assert main(["tracks", "list", "--grep", "^OVAL"]) == 0  # any case, name or console
    rows = [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:] if line]
    assert rows[:2] == ["Oval_track", "oval"]
    assert main(["tracks", "list", "--grep", "("]) == 2
    assert "not a regular expression" in capsys.readouterr().err


def test_tracks_list_search_path(
    routes: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    np.save(tmp_path / "broken.npy", np.zeros((5, 3)))
    np.save(tmp_path / "my_track.npy", np.load(routes / "reinvent_base.npy"))
    monkeypatch.setenv("DEEPRACER_TRACKS_PATH", str(tmp_path))
    assert main(["tracks", "list"]) == 0
    out = capsys.readouterr().out
    mine = next(line for line in out.splitlines() if line.startswith("my_track"))
    expected = ["17.71", "0.762", "0.756", "CCW", "119", str(tmp_path / "my_track.npy")]
    assert mine.split()[1:] == expected
    assert "oval" in out and "reinvent_base" in out
    assert "DEEPRACER_TRACKS_PATH contains:" in out
    assert f"{tmp_path}  (2 route files)" in out
    broken = next(line for line in out.splitlines() if line.startswith("broken"))
    assert "error" in broken
    assert "shape" in broken


# -- tracks show --------------------------------------------------------------------


def test_tracks_show_builtin_default_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["tracks", "show", "oval"]) == 0
    out = capsys.readouterr().out
    assert "length:" in out
    assert "17.423 m" in out
    assert "is_loop:" in out
    assert "zero-length segments dropped: 0" in out
    assert "bounding box:" in out
    assert (tmp_path / "oval.png").read_bytes().startswith(PNG_SIGNATURE)
    assert [p.name for p in tmp_path.iterdir()] == ["oval.png"]  # no temp file left


def test_tracks_show_route_file(
    routes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "plots" / "base.png"
    route = routes / "reinvent_base.npy"
    assert main(["tracks", "show", str(route), "--out", str(out_file)]) == 0
    out = capsys.readouterr().out
    assert "console name:                 re:Invent 2018" in out
    assert "CCW" in out
    rows = len(np.load(route))
    assert f"waypoints:                    {rows}" in out
    assert out_file.read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize(
    ("name", "console", "direction"),
    [
        ("Straight_track", "Straight track", "open"),
        ("2024_reinvent_champ_cw", "Forever Raceway (clockwise)", "CW"),
        ("reInvent2019_wide_mirrored", "A to Z Speedway Mirrored", "CCW"),
    ],
)
def test_tracks_show_a_shipped_track_by_name(
    name: str, console: str, direction: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tracks", "show", name, "--out", str(tmp_path / "t.png")]) == 0
    out = capsys.readouterr().out
    assert f"console name:                 {console}\n" in out
    assert f"direction:                    {direction}\n" in out
    assert (tmp_path / "t.png").read_bytes().startswith(PNG_SIGNATURE)


def test_tracks_show_counts_dropped_segments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t = np.linspace(0.0, 2.0 * np.pi, 41)
    ring = np.c_[np.cos(t), np.sin(t)]
    rows = np.hstack([2.0 * ring, 1.6 * ring, 2.4 * ring])
    rows[-1] = rows[0]  # a loop closes exactly (sin(2 pi) is not 0)
    rows = np.insert(rows, 5, rows[5], axis=0)  # one zero-length segment
    route = tmp_path / "dup.npy"
    np.save(route, rows)
    out_file = tmp_path / "dup.png"
    assert main(["tracks", "show", str(route), "--out", str(out_file), "--reverse"]) == 0
    out = capsys.readouterr().out
    assert "zero-length segments dropped: 1" in out
    assert "CW (reversed)" in out
    assert out_file.read_bytes().startswith(PNG_SIGNATURE)


def test_tracks_show_missing_track(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tracks", "show", "no_such_track", "--out", str(tmp_path / "x.png")]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ")
    assert "no_such_track" in captured.err
    assert "DEEPRACER_TRACKS_PATH" in captured.err
    assert "Traceback" not in captured.err
    assert not (tmp_path / "x.png").exists()


# -- check-reward -------------------------------------------------------------------


def test_check_reward_centerline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-reward", str(CENTERLINE)]) == 0
    out = capsys.readouterr().out
    assert "track:           oval" in out
    assert "min 0.001, mean" in out
    assert "max 1" in out
    assert "on the centre line:        mean 1" in out
    assert "off track (no wheel on):   mean 0.001" in out
    assert "µs" in out


def test_check_reward_shipped_name_and_other_track(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-reward", "centerline", "--track", "straight", "--steps", "10"]) == 0
    assert "straight" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("    return float('nan')", "returned nan (float)"),
        ("    return 'fast'", "returned 'fast' (str)"),
        ("    return 1e9", "returned 1000000000.0 (float)"),
        ("    return None", "returned None (NoneType)"),
    ],
    ids=["nan", "string", "huge", "none"],
)
def test_check_reward_bad_values(
    body: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _reward_file(tmp_path, body)
    assert main(["check-reward", str(path), "--track", "straight"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"error: {path}: reward_function {expected}")
    assert "scripted pose on track 'straight'" in captured.err
    assert "Traceback" not in captured.err


def test_check_reward_raises_shows_user_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = "    speed = params['speed']\n    raise ValueError(f'too slow: {speed}')"
    path = _reward_file(tmp_path, body)
    assert main(["check-reward", str(path), "--track", "straight"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: reward_function raised ValueError: too slow")
    assert "raise ValueError(f'too slow: {speed}')" in err  # the user's line
    assert f'File "{path}", line 3' in err


def test_check_reward_missing_key_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _reward_file(tmp_path, "    return params['no_such_key']")
    assert main(["check-reward", str(path), "--track", "straight"]) == 2
    assert "KeyError" in capsys.readouterr().err


def test_check_reward_load_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    syntax = tmp_path / "syntax.py"
    syntax.write_text("def reward_function(params):\n    return (\n")
    assert main(["check-reward", str(syntax)]) == 2
    assert "syntax error" in capsys.readouterr().err
    assert main(["check-reward", str(tmp_path / "missing.py")]) == 2
    assert "missing.py" in capsys.readouterr().err
    assert main(["check-reward", str(CENTERLINE), "--track", "no_such_track"]) == 2
    assert "DEEPRACER_TRACKS_PATH" in capsys.readouterr().err
    assert main(["check-reward", str(CENTERLINE), "--steps", "1"]) == 2
    assert "--steps must be >= 2" in capsys.readouterr().err


# -- the installed script -----------------------------------------------------------


def test_installed_script_smoke() -> None:
    script = Path(sys.executable).with_name("deepracer")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "deepracer.cli"]
    env = {k: v for k, v in os.environ.items() if k != "DEEPRACER_TRACKS_PATH"}
    result = subprocess.run(
        [*command, "tracks", "show", "missing_track", "--out", os.devnull],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: track 'missing_track' not found")
    listing = subprocess.run(
        [*command, "tracks", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=True,
    )
    assert "oval" in listing.stdout
