"""Real-simulator log sets: every layout found, units converted, bad logs named."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from deepracer.logs.logset import REQUIRED_COLUMNS, LogError, load_log_set, simtrace_files

HEADER_2022 = (
    "episode,steps,X,Y,yaw,steer,throttle,action,reward,done,all_wheels_on_track,progress,"
    "closest_waypoint,track_len,tstamp,episode_status,pause_duration"
)
HEADER_2026 = HEADER_2022 + ",obstacle_crash_counter,wall_clock"
TRACK = 17.709


def rows(episode: int, n: int, *, t0: float = 20.0, track: float = TRACK) -> list[str]:
    """n rows of a car driving along x at 1 m/s, turning its heading through 180 deg."""
    out = []
    for i in range(n):
        yaw = 170.0 + 2.0 * i  # crosses 180: the log wraps it to -180
        yaw = yaw - 360.0 if yaw > 180.0 else yaw
        status = "prepare" if i == 0 else "in_progress"
        out.append(
            f"{episode},{i + 1}.0,{0.0667 * i},0.5,{yaw},15.0,1.0,3,1.0,False,True,1.0,1,"
            f"{track},{t0 + 0.0667 * i:.4f},{status},0.0"
        )
    return out


def write(path: Path, lines: list[str], header: str = HEADER_2022) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *lines]) + "\n")
    return path


def test_every_layout_is_found_in_iteration_order(tmp_path: Path) -> None:
    console = tmp_path / "console"
    for n in (10, 2, 0):
        write(console / "sim-trace/training/training-simtrace" / f"{n}-iteration.csv", rows(n, 12))
    write(
        console / "sim-trace/evaluation/2022-abc/evaluation-simtrace/0-iteration.csv", rows(0, 12)
    )
    droa = tmp_path / "droa/30wm/sim-trace/training/2026-x-30wm/training-simtrace"
    write(droa / "0-iteration.csv", rows(0, 12))
    write(tmp_path / "console" / "notes.csv", ["not a simtrace"])  # not <N>-iteration.csv
    files = simtrace_files([console, droa / "0-iteration.csv"])
    names = [str(p.relative_to(tmp_path.resolve())) for p in files]
    assert names == [
        "console/sim-trace/evaluation/2022-abc/evaluation-simtrace/0-iteration.csv",
        "console/sim-trace/training/training-simtrace/0-iteration.csv",
        "console/sim-trace/training/training-simtrace/2-iteration.csv",
        "console/sim-trace/training/training-simtrace/10-iteration.csv",
        "droa/30wm/sim-trace/training/2026-x-30wm/training-simtrace/0-iteration.csv",
    ]
    # The same file named twice, through a folder and by itself, is read once.
    assert simtrace_files([console, files[1]]) == files[:4]


def test_episodes_come_as_arrays_in_si_units(tmp_path: Path) -> None:
    file = write(tmp_path / "0-iteration.csv", rows(0, 12) + rows(1, 15, t0=40.0))
    logs = load_log_set([file])
    first, second = logs.episodes
    assert (len(first), len(second)) == (12, 15)
    assert first.source == f"{file.resolve()}:0"
    assert first.track_len == TRACK and logs.track_len == TRACK
    np.testing.assert_allclose(first.t, 20.0 + 0.0667 * np.arange(12), atol=1e-4)
    np.testing.assert_allclose(first.x, 0.0667 * np.arange(12))
    np.testing.assert_allclose(first.y, 0.5)
    # Degrees become radians, and the heading does not jump where the log wraps it.
    np.testing.assert_allclose(first.yaw, np.radians(170.0 + 2.0 * np.arange(12)))
    np.testing.assert_allclose(first.steer, math.radians(15.0))
    np.testing.assert_allclose(first.throttle, 1.0)
    assert first.status == ("prepare",) + ("in_progress",) * 11
    assert logs.summary() == "1 simtrace file(s), 2 episodes, 27 steps on a 17.709 m track"


def test_continuous_action_logs_of_2026_read_alike(tmp_path: Path) -> None:
    lines = [
        line.replace(",3,", ",[15.0 1.0],") + ",0,1773215987.6"
        for line in rows(0, 12) + rows(1, 12)
    ]
    logs = load_log_set([write(tmp_path / "0-iteration.csv", lines, HEADER_2026)])
    assert [len(e) for e in logs.episodes] == [12, 12]


def test_unusable_episodes_are_skipped_and_counted(tmp_path: Path) -> None:
    backwards = rows(3, 12)
    backwards[5], backwards[6] = backwards[6], backwards[5]  # tstamp goes back once
    lines = rows(0, 12) + rows(1, 4) + rows(2, 12) + backwards + rows(0, 12)
    logs = load_log_set([write(tmp_path / "0-iteration.csv", lines)], min_steps=10)
    assert [e.source.rsplit(":", 1)[1] for e in logs.episodes] == ["0", "2"]
    assert logs.skipped == {
        "shorter than 10 steps": 1,
        "tstamp not increasing": 1,
        "episode rows not together": 1,
    }
    assert logs.summary().endswith(
        "; skipped 3 episodes (1 episode rows not together, 1 shorter than 10 steps,"
        " 1 tstamp not increasing)"
    )


def test_paths_that_hold_no_simtrace(tmp_path: Path) -> None:
    with pytest.raises(LogError) as info:
        load_log_set([tmp_path / "nowhere"])
    assert str(info.value) == f"{tmp_path / 'nowhere'}: no such file or folder"
    (tmp_path / "empty").mkdir()
    with pytest.raises(LogError) as info:
        load_log_set([tmp_path / "empty"])
    assert str(info.value) == (
        f"{tmp_path / 'empty'}: no simtrace file (<N>-iteration.csv) under it"
    )


def test_a_file_without_the_columns_is_named_with_them(tmp_path: Path) -> None:
    file = write(tmp_path / "0-iteration.csv", ["0,1,2"], header="episode,steps,X")
    with pytest.raises(LogError) as info:
        load_log_set([file])
    assert str(info.value) == (
        f"{file.resolve()}: not a DeepRacer simtrace: missing column(s) Y, yaw, steer,"
        f" throttle, track_len, tstamp, episode_status (expected at least"
        f" {', '.join(REQUIRED_COLUMNS)})"
    )


@pytest.mark.parametrize("bad", ["abc", "nan", ""])
def test_a_value_that_is_not_a_number_is_named_by_line(tmp_path: Path, bad: str) -> None:
    lines = rows(0, 12)
    fields = lines[4].split(",")
    fields[4] = bad  # yaw
    lines[4] = ",".join(fields)
    file = write(tmp_path / "0-iteration.csv", lines)
    with pytest.raises(LogError) as info:
        load_log_set([file])
    assert str(info.value) == (
        f"{file.resolve()}:6: column 'yaw' is {bad!r}; expected a finite number"
    )


def test_logs_of_two_tracks_are_refused(tmp_path: Path) -> None:
    a = write(tmp_path / "a/0-iteration.csv", rows(0, 12) + rows(1, 12))
    b = write(tmp_path / "b/0-iteration.csv", rows(0, 12, track=16.598))
    with pytest.raises(LogError) as info:
        load_log_set([tmp_path])
    assert str(info.value) == (
        f"the logs are of 2 tracks (17.709 m in {a.resolve()}; 16.598 m in {b.resolve()}):"
        " they come from different simulator runs, which need not share a car; give one"
        " track's logs at a time"
    )
    # A length that differs by rounding only is the same track.
    write(tmp_path / "b/0-iteration.csv", rows(0, 12, track=TRACK + 0.004))
    assert len(load_log_set([tmp_path]).episodes) == 3


def test_one_usable_episode_is_not_enough(tmp_path: Path) -> None:
    file = write(tmp_path / "0-iteration.csv", rows(0, 12) + rows(1, 3))
    with pytest.raises(LogError) as info:
        load_log_set([file], min_steps=10)
    assert str(info.value) == (
        f"{file}: 1 usable episode(s) in 1 simtrace file(s) (1 shorter than 10 steps);"
        " a car model needs at least 2"
    )
