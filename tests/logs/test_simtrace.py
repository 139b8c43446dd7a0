"""Tests for the simtrace CSV writer and the recording wrapper."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from deepracer.envs import RacingEnv
from deepracer.errors import DeepRacerError
from deepracer.logs import (
    SIMTRACE_COLUMNS,
    RecordSimtrace,
    SimtraceWriter,
    read_simtrace,
    simtrace_row,
)

HEADER = (
    "episode,steps,X,Y,yaw,steer,throttle,action,reward,done,all_wheels_on_track,progress,"
    "closest_waypoint,track_len,tstamp,episode_status,pause_duration,obstacle_crash_counter,"
    "wall_clock"
)

CONTINUOUS = {"steering_angle": {"low": -30.0, "high": 30.0}, "speed": {"low": 0.5, "high": 2.0}}


def _drive(
    path: Path, episodes: int, *, seed: int = 0, append: bool = False, **config: Any
) -> list[tuple[dict[str, Any], bool]]:
    """Drives random episodes on the oval, recording; returns every (info, done)."""
    env = RecordSimtrace(RacingEnv({"world": "oval", **config}), path, append=append)
    env.action_space.seed(seed)
    seen: list[tuple[dict[str, Any], bool]] = []
    for episode in range(episodes):
        _, info = env.reset(seed=seed if episode == 0 else None)
        seen.append((info, False))
        done = False
        while not done:
            _, _, terminated, truncated, info = env.step(env.action_space.sample())
            done = terminated or truncated
            seen.append((info, done))
    env.close()
    return seen


def _info(**overrides: Any) -> dict[str, Any]:
    params = {
        "steps": 3,
        "x": 0.1,
        "y": 1.0 / 3.0,
        "heading": -12.5,
        "steering_angle": 15.0,
        "speed": 1.0,
        "all_wheels_on_track": True,
        "progress": 1.25,
        "track_length": 17.42,
    }
    info = {
        "params": params,
        "episode_index": 4,
        "action": "3",
        "reward": 0.5,
        "closest_waypoint": 7,
        "sim_time": 2 / 15,
        "episode_status": "in_progress",
    }
    info.update(overrides)
    return info


def test_columns_are_the_simapp_order() -> None:
    assert ",".join(SIMTRACE_COLUMNS) == HEADER
    assert len(SIMTRACE_COLUMNS) == 19


def test_row_values_and_float_precision() -> None:
    row = simtrace_row(_info(), done=False, wall_clock=123.5)
    assert dict(zip(SIMTRACE_COLUMNS, row, strict=True)) == {
        "episode": 4,
        "steps": 3,
        "X": 0.1,
        "Y": 1.0 / 3.0,
        "yaw": -12.5,
        "steer": 15.0,
        "throttle": 1.0,
        "action": "3",
        "reward": 0.5,
        "done": False,
        "all_wheels_on_track": True,
        "progress": 1.25,
        "closest_waypoint": 7,
        "track_len": 17.42,
        "tstamp": 2 / 15,
        "episode_status": "in_progress",
        "pause_duration": 0.0,
        "obstacle_crash_counter": 0,
        "wall_clock": 123.5,
    }
    assert simtrace_row(_info(pause_duration=0.25), done=True)[16] == 0.25


def test_header_written_once_and_rows_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "simtrace.csv"
    with SimtraceWriter(path) as writer:
        writer.add(_info(), done=False)
        writer.add(_info(action="[15.0 1.0]"), done=True)
    text = path.read_text()
    assert text.splitlines()[0] == HEADER
    assert text.count("episode,") == 1
    rows = read_simtrace(path)
    assert [r["done"] for r in rows] == ["False", "True"]
    assert rows[0]["Y"] == repr(1.0 / 3.0)  # full precision, like the simapp's str()
    assert rows[1]["action"] == "[15.0 1.0]"
    assert '"' not in text  # nothing needed quoting


def test_rows_are_buffered_until_flush(tmp_path: Path) -> None:
    path = tmp_path / "simtrace.csv"
    writer = SimtraceWriter(path)
    writer.add(_info(), done=False)
    assert read_simtrace(path) == []  # only the header is on disk yet
    writer.flush()
    assert len(read_simtrace(path)) == 1
    writer.close()
    writer.close()  # idempotent
    assert writer.closed
    with pytest.raises(ValueError, match="closed"):
        writer.add(_info(), done=False)


def test_action_with_comma_is_quoted(tmp_path: Path) -> None:
    path = tmp_path / "simtrace.csv"
    with SimtraceWriter(path) as writer:
        writer.add(_info(action="[15.0, 1.0]"), done=False)
    assert read_simtrace(path)[0]["action"] == "[15.0, 1.0]"
    assert '"[15.0, 1.0]"' in path.read_text()


def test_recorded_drive_matches_the_infos(tmp_path: Path) -> None:
    path = tmp_path / "simtrace.csv"
    seen = _drive(path, episodes=3, seed=3)
    rows = read_simtrace(path)
    assert path.read_text().splitlines()[0] == HEADER
    assert len(rows) == len(seen)
    for row, (info, done) in zip(rows, seen, strict=True):
        params = info["params"]
        assert list(row) == list(SIMTRACE_COLUMNS)
        assert int(row["episode"]) == info["episode_index"]
        assert int(row["steps"]) == params["steps"]
        assert float(row["X"]) == params["x"]  # exact: floats are written in full
        assert float(row["Y"]) == params["y"]
        assert float(row["yaw"]) == params["heading"]
        assert float(row["steer"]) == params["steering_angle"]
        assert float(row["throttle"]) == params["speed"]
        assert row["action"] == info["action"]
        assert float(row["reward"]) == info["reward"]
        assert row["done"] == str(done)
        assert row["all_wheels_on_track"] == str(params["all_wheels_on_track"])
        assert float(row["progress"]) == params["progress"]
        assert int(row["closest_waypoint"]) == info["closest_waypoint"]
        assert float(row["track_len"]) == params["track_length"]
        assert float(row["tstamp"]) == info["sim_time"]
        assert row["episode_status"] == info["episode_status"]
        assert float(row["pause_duration"]) == 0.0
        assert row["obstacle_crash_counter"] == "0"
        assert float(row["wall_clock"]) > 1e9

    # Split at the prepare rows: each episode counts steps from 1 and ends done.
    starts = [i for i, r in enumerate(rows) if r["episode_status"] == "prepare"]
    assert len(starts) == 3
    assert starts[0] == 0
    for lo, hi in zip(starts, [*starts[1:], len(rows)], strict=True):
        episode = rows[lo:hi]
        assert [int(r["steps"]) for r in episode] == list(range(1, len(episode) + 1))
        assert episode[0]["reward"] == "0.0"
        assert [r["done"] for r in episode] == ["False"] * (len(episode) - 1) + ["True"]
        assert episode[-1]["episode_status"] != "in_progress"
        assert len({r["episode"] for r in episode}) == 1
    assert [rows[i]["episode"] for i in starts] == ["0", "1", "2"]


def test_continuous_action_label(tmp_path: Path) -> None:
    path = tmp_path / "simtrace.csv"
    seen = _drive(path, episodes=1, seed=1, action_space=CONTINUOUS)
    rows = read_simtrace(path)
    for row, (info, _) in zip(rows[1:], seen[1:], strict=True):
        steer, speed = (float(v) for v in row["action"].strip("[]").split(" "))
        assert row["action"] == f"[{steer} {speed}]" == info["action"]
        assert steer == float(row["steer"])
        assert speed == float(row["throttle"])


def test_episode_abandoned_by_reset_is_flushed(tmp_path: Path) -> None:
    path = tmp_path / "simtrace.csv"
    env = RecordSimtrace(RacingEnv({"world": "oval"}), path)
    env.reset(seed=0)
    env.step(2)
    env.step(2)
    env.reset()
    assert [r["steps"] for r in read_simtrace(path)] == ["1", "2", "3"]
    env.close()
    assert len(read_simtrace(path)) == 4  # close flushes the new prepare row


def test_append_keeps_one_header(tmp_path: Path) -> None:
    path = tmp_path / "simtrace.csv"
    first = _drive(path, episodes=1, seed=0)
    second = _drive(path, episodes=2, seed=1, append=True)
    text = path.read_text()
    assert text.count(HEADER) == 1
    assert len(read_simtrace(path)) == len(first) + len(second)


def test_append_repairs_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "simtrace.csv"
    first = _drive(path, episodes=1, seed=0)
    with open(path, "a") as handle:  # a crash in the middle of writing a row
        handle.write("1,2,0.123,4.5,")
    second = _drive(path, episodes=1, seed=1, append=True)
    with open(path, newline="") as handle:
        lines = list(csv.reader(handle))
    assert all(len(line) == len(SIMTRACE_COLUMNS) for line in lines)
    assert len(lines) == 1 + len(first) + len(second)
    assert path.read_text().endswith("\n")


def test_append_to_torn_header_or_empty_or_missing_file(tmp_path: Path) -> None:
    torn = tmp_path / "torn.csv"
    torn.write_text("episode,steps,X")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    missing = tmp_path / "missing.csv"
    for path in (torn, empty, missing):
        with SimtraceWriter(path, append=True) as writer:
            writer.add(_info(), done=True)
        assert path.read_text().splitlines()[0] == HEADER
        assert len(read_simtrace(path)) == 1


def test_append_refuses_a_foreign_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(DeepRacerError, match="not a simtrace"):
        SimtraceWriter(path, append=True)
    assert path.read_text() == "a,b,c\n1,2,3\n"
