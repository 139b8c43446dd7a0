"""Tests for ``deepracer analyze``: the log readers and the PNGs."""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from deepracer.analysis import (
    SIMTRACE_VARIANTS,
    actual_speed,
    analyze,
    episodes_on_track,
    find_logs,
    load_simtrace,
    load_simtraces,
    read_action_space,
    read_evaluation_metrics,
    read_raceline,
    read_training_metrics,
    summarize_episodes,
)
from deepracer.analysis.commands import add_analyze
from deepracer.errors import DeepRacerError
from deepracer.logs import SIMTRACE_COLUMNS
from deepracer.tracks import get_track

PNGS = ("track.png", "iterations.png", "completion.png", "actions.png", "evaluation.png")
DT = 1.0 / 15.0  # the simapp's step period [s]


def _episode_rows(
    episode: int,
    steps: int,
    *,
    start: int = 0,
    status: str = "off_track",
    continuous: str | None = None,
    t0: float = 0.0,
) -> list[list[str]]:
    """19-field rows of one synthetic episode along the oval's centre line."""
    centre = get_track("oval").waypoints_array[:, 0:2]
    rows = []
    for k in range(steps):
        x, y = centre[(start + k) % (len(centre) - 1)]
        last = k == steps - 1
        speed = 1.0 + 0.5 * (k % 3)
        state = "prepare" if k == 0 else (status if last else "in_progress")
        action = continuous if continuous is not None else str(k % 4)
        rows.append(
            [
                str(episode),
                str(k + 1),
                repr(float(x)),
                repr(float(y)),
                "90.0",
                str(-15.0 + 10.0 * (k % 4)),
                str(speed),
                action,
                "0.0" if k == 0 else "1.5",
                str(last),
                "True",
                str(100.0 if last and status == "lap_complete" else 2.0 * k),
                str(k),
                "17.42",
                repr(t0 + k * DT),
                state,
                "0.0",
                "0",
                repr(1.7e9 + k),
            ]
        )
    return rows


def _write(path: Path, rows: Sequence[Sequence[str]], columns: int, header: bool) -> Path:
    lines = [",".join(SIMTRACE_COLUMNS[:columns])] if header else []
    lines += [",".join(row[:columns]) for row in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def _two_episodes() -> list[list[str]]:
    return _episode_rows(0, 5) + _episode_rows(1, 4, start=10, status="lap_complete")


def _check_png(path: Path) -> None:
    from PIL import Image

    assert path.is_file(), path
    with Image.open(path) as image:
        width, height = image.size
        pixels = np.asarray(image.convert("RGB"))
    assert width >= 600 and height >= 300, (path, image.size)
    assert pixels.std() > 15, path  # not a blank canvas
    packed = (pixels[..., 0].astype(np.int32) << 16) | (pixels[..., 1].astype(np.int32) << 8)
    colours = np.unique(packed | pixels[..., 2])
    assert len(colours) > 100, (path, len(colours))


# -- simtrace variants -----------------------------------------------------------------


def test_variants_are_prefixes_of_our_columns() -> None:
    assert SIMTRACE_VARIANTS[15][-1] == "tstamp"
    assert SIMTRACE_VARIANTS[17][-1] == "pause_duration"
    assert SIMTRACE_VARIANTS[18][-1] == "obstacle_crash_counter"
    assert SIMTRACE_VARIANTS[19] == SIMTRACE_COLUMNS


def test_ours_19_columns_with_header(tmp_path: Path) -> None:
    rows = _two_episodes()
    trace = load_simtrace(_write(tmp_path / "7-iteration.csv", rows, 19, header=True))
    assert len(trace) == 9 and trace.columns == SIMTRACE_COLUMNS
    assert trace.iteration.tolist() == [7] * 9
    assert trace.episode.tolist() == [0] * 5 + [1] * 4
    assert trace.steps.tolist() == [1, 2, 3, 4, 5, 1, 2, 3, 4]
    assert trace.X[1] == float(rows[1][2]) and trace.Y[1] == float(rows[1][3])
    assert trace.steer.tolist()[:3] == [-15.0, -5.0, 5.0]
    assert trace.throttle.tolist()[:3] == [1.0, 1.5, 2.0]
    assert trace.action.tolist()[:4] == [0, 1, 2, 3] and trace.action_text[1] == "1"
    assert trace.done.tolist() == [False] * 4 + [True] + [False] * 3 + [True]
    assert trace.all_wheels_on_track.all()
    assert trace.episode_status[0] == "prepare" and trace.episode_status[-1] == "lap_complete"
    assert trace.tstamp[2] == pytest.approx(2 * DT) and trace.wall_clock[1] == 1.7e9 + 1
    assert trace.closest_waypoint.tolist()[:3] == [0, 1, 2] and trace.track_len[0] == 17.42


def test_console_17_columns_with_header(tmp_path: Path) -> None:
    rows = _two_episodes()
    rows[2][16] = "2.5"
    trace = load_simtrace(_write(tmp_path / "0-iteration.csv", rows, 17, header=True))
    assert trace.columns == SIMTRACE_VARIANTS[17]
    assert trace.pause_duration[2] == 2.5 and trace.pause_duration[0] == 0.0
    assert np.isnan(trace.wall_clock).all() and (trace.obstacle_crash_counter == 0).all()
    assert trace.episode_status[-1] == "lap_complete" and trace.iteration[0] == 0


@pytest.mark.parametrize("columns", [15, 16, 17, 18, 19])
def test_headerless_variants(tmp_path: Path, columns: int) -> None:
    rows = _two_episodes()
    rows[3][17] = "2"
    trace = load_simtrace(_write(tmp_path / "3-iteration.csv", rows, columns, header=False))
    assert trace.columns == SIMTRACE_VARIANTS[columns] and len(trace) == 9
    assert trace.iteration[0] == 3 and trace.progress[-1] == 100.0
    assert trace.tstamp[-1] == pytest.approx(3 * DT)
    assert trace.episode_status[-1] == ("" if columns == 15 else "lap_complete")
    assert trace.obstacle_crash_counter[3] == (2 if columns >= 18 else 0)
    assert np.isnan(trace.wall_clock[0]) == (columns < 19)
    summary = summarize_episodes(trace)
    # 15 columns have no status: the lap is recognised by its progress.
    assert [s.lap_complete for s in summary] == [False, True]


def test_iteration_from_episode_without_iteration_file_name(tmp_path: Path) -> None:
    rows = _episode_rows(3, 3) + _episode_rows(25, 3)
    trace = load_simtrace(_write(tmp_path / "trace.csv", rows, 15, header=False))
    assert trace.iteration.tolist() == [0, 0, 0, 1, 1, 1]
    trace = load_simtrace(tmp_path / "trace.csv", episodes_per_iteration=2)
    assert trace.iteration.tolist() == [1, 1, 1, 12, 12, 12]


def test_robomaker_log_lines(tmp_path: Path) -> None:
    rows = _two_episodes()
    lines = ["[s3] Successfully downloaded model metadata", "Using the following hyper-parameters"]
    for row in rows:
        # The simapp prints rounded values; the logger may append a tab and more.
        lines.append("SIM_TRACE_LOG:" + ",".join(row[:18]) + "\t(logger suffix)")
        lines.append("")
    log = tmp_path / "robomaker.log"
    log.write_text("\n".join(lines) + "\n")
    trace = load_simtrace(log)
    assert len(trace) == 9 and trace.columns == SIMTRACE_VARIANTS[18]
    assert trace.episode_status[-1] == "lap_complete"
    assert trace.X[4] == float(rows[4][2])


def test_continuous_actions(tmp_path: Path) -> None:
    path = tmp_path / "1-iteration.csv"
    rows = _episode_rows(0, 3, continuous="[15.0 1.0]")
    rows += _episode_rows(1, 3, continuous="-1")
    rows += _episode_rows(2, 3, continuous='"[-12.5, 2.0]"')  # quoted by a csv writer
    rows += _episode_rows(3, 3, continuous="[-12.5, 2.0]")  # a list split by the comma
    trace = load_simtrace(_write(path, rows, 19, header=True))
    assert len(trace) == 12 and (trace.action == -1).all()
    assert trace.action_text.tolist()[0] == "[15.0 1.0]" and trace.action_text[3] == "-1"
    assert trace.action_text[6] == "[-12.5, 2.0]" and trace.action_text[9] == "[-12.5, 2.0]"
    assert trace.reward[10] == 1.5 and trace.done[11]
    log = tmp_path / "sim.log"
    log.write_text("".join(f"SIM_TRACE_LOG:{','.join(r[:17])}\n" for r in rows[9:]))
    assert load_simtrace(log).action_text[0] == "[-12.5, 2.0]"


def test_deepracer_utils_column_names(tmp_path: Path) -> None:
    header = SIMTRACE_COLUMNS[:17]
    names = [
        {"X": "x", "Y": "y", "steer": "steering_angle", "throttle": "speed"}.get(h, h)
        for h in header
    ]
    text = ",".join(names) + "\n" + "\n".join(",".join(r[:17]) for r in _two_episodes()) + "\n"
    (tmp_path / "t.csv").write_text(text)
    trace = load_simtrace(tmp_path / "t.csv")
    assert trace.throttle[1] == 1.5 and trace.steer[0] == -15.0


def test_episode_bounds_split_trials_sharing_an_episode_number(tmp_path: Path) -> None:
    rows = _episode_rows(0, 4, status="lap_complete") + _episode_rows(0, 6, status="off_track")
    trace = load_simtrace(_write(tmp_path / "0-iteration.csv", rows, 19, header=True))
    summary = summarize_episodes(trace)
    assert [(s.start, s.stop) for s in summary] == [(0, 4), (4, 10)]
    assert summary[0].lap_complete and summary[0].reward == 4.5
    assert summary[1].status == "off_track" and summary[1].time == pytest.approx(5 * DT)
    assert summary[1].progress == 10.0


def test_actual_speed_from_positions(tmp_path: Path) -> None:
    rows = _episode_rows(0, 5)
    for k, row in enumerate(rows):  # 2 m/s along x
        row[2], row[3], row[14] = str(0.2 * k), "0.0", str(0.1 * k)
    trace = load_simtrace(_write(tmp_path / "1-iteration.csv", rows, 19, header=True))
    speed = actual_speed(trace)
    assert np.isnan(speed[0]) and speed[1:] == pytest.approx([2.0] * 4)


def test_load_simtraces_joins_files(tmp_path: Path) -> None:
    a = _write(tmp_path / "1-iteration.csv", _episode_rows(0, 3), 19, header=True)
    b = _write(tmp_path / "2-iteration.csv", _episode_rows(0, 3), 17, header=False)
    trace = load_simtraces([a, b])
    assert trace.sources == (str(a), str(b)) and trace.part.tolist() == [0] * 3 + [1] * 3
    assert trace.columns == SIMTRACE_VARIANTS[17]
    assert len(summarize_episodes(trace)) == 2


# -- bad input -------------------------------------------------------------------------


def test_unknown_column_count_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.csv", _two_episodes(), 12, header=False)
    with pytest.raises(DeepRacerError, match=r"bad\.csv, line 1: 12 fields.*15, 16, 17, 18, 19"):
        load_simtrace(path)


def test_corrupt_value_names_file_line_and_column(tmp_path: Path) -> None:
    rows = _two_episodes()
    rows[2][2] = "abc"
    path = _write(tmp_path / "4-iteration.csv", rows, 19, header=True)
    with pytest.raises(DeepRacerError, match=r"4-iteration\.csv, line 4: X: expected a number"):
        load_simtrace(path)
    rows = _two_episodes()
    rows[1][9] = "maybe"
    path = _write(tmp_path / "5-iteration.csv", rows, 19, header=True)
    with pytest.raises(DeepRacerError, match=r"line 3: done: expected True or False"):
        load_simtrace(path)


def test_row_with_wrong_field_count(tmp_path: Path) -> None:
    path = _write(tmp_path / "1-iteration.csv", _two_episodes(), 19, header=True)
    lines = path.read_text().splitlines()
    lines[5] = ",".join(lines[5].split(",")[:10])
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DeepRacerError, match=r"line 6: 10 fields; expected 19"):
        load_simtrace(path)
    path.write_text("\n".join(lines[:5]) + "\n")
    headerless = _write(tmp_path / "x.csv", _two_episodes(), 17, header=False)
    text = headerless.read_text().splitlines()
    text[3] += ",0"
    headerless.write_text("\n".join(text) + "\n")
    with pytest.raises(DeepRacerError, match=r"line 4: 18 fields; expected 17"):
        load_simtrace(headerless)


def test_torn_last_line_is_dropped(tmp_path: Path) -> None:
    path = _write(tmp_path / "1-iteration.csv", _two_episodes(), 19, header=True)
    text = path.read_text()
    path.write_text(text[: -len("1700000003.0\n") - 30])  # cut inside the last row
    assert len(load_simtrace(path)) == 8
    rows = _two_episodes()
    rows[-1][18] = "1.7e+09"
    text = _write(path, rows, 19, header=True).read_text()
    path.write_text(text[: -len("+09\n")])  # the last number cut to "1.7e"
    assert len(load_simtrace(path)) == 8
    path.write_text(text.replace("1.7e+09\n", "1.7e9"))  # whole: kept without a newline
    assert len(load_simtrace(path)) == 9


def test_header_without_required_columns(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("episode,steps,X\n0,1,0.5\n")
    with pytest.raises(DeepRacerError, match=r"h\.csv, line 1: the header lacks Y"):
        load_simtrace(tmp_path / "h.csv")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(DeepRacerError, match="empty"):
        load_simtrace(tmp_path / "e.csv")


# -- metrics, action space, race line ---------------------------------------------------


def _training_metrics(path: Path, n: int) -> Path:
    rows = [
        {
            "reward_score": 10 + i,
            "metric_time": 1_700_000_000_000 + 1000 * i,
            "start_time": 1_700_000_000_000 + 1000 * i - 500,
            "elapsed_time_in_milliseconds": 500,
            "episode": i,
            "trial": i % 5 + 1,
            "phase": "training",
            "completion_percentage": 100 if i % 3 == 0 else 40,
            "episode_status": "Lap complete" if i % 3 == 0 else "Off track",
        }
        for i in range(n)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"metrics": rows, "version": 2.0, "best_model_metric": "progress"}))
    return path


def test_read_training_metrics(tmp_path: Path) -> None:
    rows = read_training_metrics(_training_metrics(tmp_path / "m.json", 6))
    assert [r.episode for r in rows] == list(range(6))
    assert rows[0].lap_complete and not rows[1].lap_complete
    assert rows[2].reward_score == 12.0 and rows[0].elapsed_time_ms == 500
    assert rows[0].world_name is None and rows[0].phase == "training"


def test_read_training_metrics_errors(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text('{"metrics": {}}')
    with pytest.raises(DeepRacerError, match=r"m\.json: expected the training_metrics\.json"):
        read_training_metrics(path)
    path.write_text('{"metrics": [{"episode": 0, "reward_score": 1}]}')
    with pytest.raises(DeepRacerError, match=r"metrics\[0\]: missing 'completion_percentage'"):
        read_training_metrics(path)
    path.write_text("{not json")
    with pytest.raises(DeepRacerError, match=r"m\.json, line 1: not valid JSON"):
        read_training_metrics(path)
    row = {"episode": "x", "reward_score": 1, "completion_percentage": 5, "episode_status": "a"}
    path.write_text(json.dumps({"metrics": [row]}))
    with pytest.raises(DeepRacerError, match=r"episode: expected an integer, got 'x'"):
        read_training_metrics(path)


def test_read_evaluation_metrics(tmp_path: Path) -> None:
    row = {
        "completion_percentage": 100,
        "metric_time": 2,
        "start_time": 1,
        "elapsed_time_in_milliseconds": 12345,
        "episode_status": "Lap complete",
        "crash_count": 0,
        "immobilized_count": 0,
        "off_track_count": 2,
        "reversed_count": 0,
        "reset_count": 2,
        "trial": 1,
    }
    (tmp_path / "e.json").write_text(json.dumps({"metrics": [row]}))
    (trial,) = read_evaluation_metrics(tmp_path / "e.json")
    assert trial.lap_complete and trial.elapsed_time_ms == 12345 and trial.off_track_count == 2


def test_read_action_space(tmp_path: Path) -> None:
    path = tmp_path / "model_metadata.json"
    actions = [
        {"steering_angle": 30, "speed": 1.0, "index": 1},
        {"steering_angle": -30, "speed": 2.0, "index": 0},
    ]
    path.write_text(json.dumps({"action_space": actions, "action_space_type": "discrete"}))
    assert read_action_space(path).actions == ((-30.0, 2.0), (30.0, 1.0))
    space = {"steering_angle": {"low": -20, "high": 20}, "speed": {"low": 0.5, "high": 3}}
    path.write_text(json.dumps({"action_space": space}))
    continuous = read_action_space(path)
    assert continuous.kind == "continuous" and continuous.speed == (0.5, 3.0)
    path.write_text(json.dumps({"action_space": 3}))
    with pytest.raises(DeepRacerError, match="action_space: expected"):
        read_action_space(path)


def _raceline_csv(path: Path) -> Path:
    track = get_track("oval")
    centre = track.waypoints_array[:, 0:2] * 0.97
    lines = ["distance,x,y,speed,time,curvature,heading"]
    lines += [f"{i},{x},{y},{1.5 + (i % 7) * 0.2},0,0,0" for i, (x, y) in enumerate(centre)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_read_raceline(tmp_path: Path) -> None:
    line = read_raceline(_raceline_csv(tmp_path / "r.csv"))
    assert line.speed is not None and len(line.x) == len(line.y) == len(line.speed)
    (tmp_path / "xy.csv").write_text("x,y\n0,0\n1,1\n")
    assert read_raceline(tmp_path / "xy.csv").speed is None
    (tmp_path / "bad.csv").write_text("a,b\n0,0\n")
    with pytest.raises(DeepRacerError, match=r"bad\.csv: expected a header row naming"):
        read_raceline(tmp_path / "bad.csv")
    (tmp_path / "bad.csv").write_text("x,y\n0,0\n1,nope\n")
    with pytest.raises(DeepRacerError, match=r"bad\.csv:3: column 'y' expected a number"):
        read_raceline(tmp_path / "bad.csv")


# -- analyze ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real (tiny) training run, shared by the plot tests."""
    pytest.importorskip("stable_baselines3")
    from tests.training.test_trainer import tiny_run

    out = tmp_path_factory.mktemp("analysis") / "run"
    tiny_run(out)
    return out


def test_analyze_a_training_run(run_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    _raceline_csv(run / "raceline.csv")
    # A `deepracer evaluate` folder: newer than the run's own evaluation-simtrace.
    later = run / "evaluations" / "20990101-000000"
    rows = _episode_rows(0, 40, status="lap_complete") + _episode_rows(0, 30, start=20)
    _write(later / "evaluation-simtrace" / "0-iteration.csv", rows, 19, header=True)
    metrics = [
        {"completion_percentage": p, "elapsed_time_in_milliseconds": ms, "episode_status": s}
        for p, ms, s in ((100, 2600, "Lap complete"), (58, 1933, "Off track"))
    ]
    (later / "evaluation_metrics.json").write_text(json.dumps({"metrics": metrics}))
    lines: list[str] = []
    written = analyze(run, episodes=5, echo=lines.append)
    assert [p.name for p in written] == list(PNGS)
    assert all(p.parent == run / "analysis" for p in written)
    for path in written:
        _check_png(path)
    assert not any(line.startswith("skipped") for line in lines)
    assert find_logs(run).evaluation_simtrace[0].is_relative_to(later)
    assert not list((run / "analysis").glob(".*"))  # no temporary files left


def _drfc_folder(root: Path, *, continuous: bool) -> Path:
    action = "[10.0 1.5]" if continuous else None
    for iteration in range(3):
        rows = []
        for e in range(4):
            episode = iteration * 4 + e
            status = "lap_complete" if (episode + iteration) % 3 == 0 else "off_track"
            rows += _episode_rows(episode, 8 + 4 * e, start=5 * e, status=status, continuous=action)
        _write(root / "training-simtrace" / f"{iteration}-iteration.csv", rows, 17, header=True)
    _training_metrics(root / "metrics" / "TrainingMetrics.json", 12)
    if continuous:
        space = {"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 0.5, "high": 3}}
        meta = {"action_space": space, "action_space_type": "continuous"}
        (root / "model").mkdir()
        (root / "model" / "model_metadata.json").write_text(json.dumps(meta))
    return root


def test_analyze_drfc_folder_needs_track(tmp_path: Path) -> None:
    root = _drfc_folder(tmp_path / "drfc", continuous=True)
    lines: list[str] = []
    written = analyze(root, echo=lines.append)
    assert [p.name for p in written] == ["iterations.png", "completion.png", "actions.png"]
    assert "skipped track.png: no track (pass --track NAME_OR_PATH)" in lines
    assert "skipped evaluation.png: no evaluation simtrace" in lines
    for path in written:
        _check_png(path)
    assert not (root / "analysis" / "track.png").exists()


def test_analyze_cli_with_track_and_out_dir(tmp_path: Path) -> None:
    root = _drfc_folder(tmp_path / "drfc", continuous=False)
    parser = argparse.ArgumentParser(prog="deepracer")
    add_analyze(parser.add_subparsers())
    out = tmp_path / "plots"
    args = parser.parse_args(
        ["analyze", str(root), "--out", str(out), "--track", "oval", "--episodes", "3"]
    )
    assert args.func(args) == 0
    names = ["actions.png", "completion.png", "iterations.png", "track.png"]
    assert sorted(p.name for p in out.glob("*.png")) == names
    for name in names:
        _check_png(out / name)
    assert not (root / "analysis").exists()


def test_analyze_robomaker_log_folder(tmp_path: Path) -> None:
    root = tmp_path / "console"
    root.mkdir()
    rows = [r for e in range(6) for r in _episode_rows(e, 10, start=3 * e)]
    (root / "training-robomaker.log").write_text(
        "".join(f"INFO SIM_TRACE_LOG:{','.join(r[:18])}\n" for r in rows)
    )
    lines: list[str] = []
    written = analyze(root, track="oval", echo=lines.append)
    assert [p.name for p in written] == [
        "track.png",
        "iterations.png",
        "completion.png",
        "actions.png",
    ]
    _check_png(written[0])


def test_find_logs_in_console_and_drfc_layouts(tmp_path: Path) -> None:
    rows = _episode_rows(0, 3)
    console = tmp_path / "console"
    training = console / "sim-trace" / "training" / "training-simtrace"
    for n in (10, 2):
        _write(training / f"{n}-iteration.csv", rows, 17, header=True)
    for stamp in ("20240101000000-a", "20240202000000-b"):
        _write(
            console
            / "sim-trace"
            / "evaluation"
            / stamp
            / "evaluation-simtrace"
            / "0-iteration.csv",
            rows,
            17,
            header=True,
        )
    logs = find_logs(console)
    assert [p.name for p in logs.training_simtrace] == ["2-iteration.csv", "10-iteration.csv"]
    assert len(logs.evaluation_simtrace) == 1 and logs.training_metrics is None
    assert "20240202000000-b" in str(logs.evaluation_simtrace[0])  # the newest
    workers = tmp_path / "drfc"
    for worker in ("0", "1"):
        _write(workers / worker / "training-simtrace" / "0-iteration.csv", rows, 19, header=False)
    _training_metrics(workers / "metrics" / "TrainingMetrics.json", 2)
    (workers / "ip").mkdir()
    (workers / "ip" / "hyperparameters.json").write_text('{"num_episodes_between_training": 8}')
    logs = find_logs(workers)
    assert len(logs.training_simtrace) == 2 and logs.episodes_per_iteration == 8
    assert logs.training_metrics == workers / "metrics" / "TrainingMetrics.json"


def test_analyze_metrics_only(tmp_path: Path) -> None:
    _training_metrics(tmp_path / "training_metrics.json", 45)
    lines: list[str] = []
    written = analyze(tmp_path, echo=lines.append)
    assert [p.name for p in written] == ["iterations.png", "completion.png"]
    assert "skipped actions.png: no training simtrace" in lines


def test_analyze_without_logs(tmp_path: Path) -> None:
    with pytest.raises(DeepRacerError, match="found no logs"):
        analyze(tmp_path)
    with pytest.raises(DeepRacerError, match="not a folder"):
        analyze(tmp_path / "missing")
    _training_metrics(tmp_path / "training_metrics.json", 3)
    with pytest.raises(DeepRacerError, match="--episodes must be >= 1"):
        analyze(tmp_path, episodes=0)


def test_episodes_on_track_drops_other_worlds(tmp_path: Path) -> None:
    rows = _episode_rows(0, 10) + _episode_rows(1, 10) + _episode_rows(2, 5)
    for row in rows[10:20]:
        row[13] = "30.0"  # another world's track length
    trace = load_simtrace(_write(tmp_path / "1-iteration.csv", rows, 19, header=True))
    oval = get_track("oval").length
    kept = episodes_on_track(trace, summarize_episodes(trace), oval)
    assert [e.episode for e in kept] == [0, 2]
    assert episodes_on_track(trace, summarize_episodes(trace), 2 * oval) == []
