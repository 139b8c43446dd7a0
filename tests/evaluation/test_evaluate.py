"""Console-style evaluation: trials, resets, time trials, DeepRacer evaluation_metrics.json,
and one clear error for each bad input."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from deepracer.envs import EnvConfig, RacingEnv
from deepracer.errors import DeepRacerError
from deepracer.evaluation.evaluate import evaluate
from deepracer.logs import read_simtrace
from deepracer.physics.profiles import default_vehicle
from tests.envs.drivers import CONTINUOUS, to_action

KEYS = {
    "completion_percentage",
    "metric_time",
    "start_time",
    "elapsed_time_in_milliseconds",
    "episode_status",
    "crash_count",
    "immobilized_count",
    "off_track_count",
    "reversed_count",
    "reset_count",
    "trial",
}


class HardRight:
    """A deliberately bad policy: full right lock at 1 m/s (index 1 is -30 deg, 1 m/s)."""

    def predict(self, obs: Any, deterministic: bool = True) -> tuple[int, None]:
        return 1, None


def test_bad_policy_is_put_back_exactly_three_times(tmp_path: Path) -> None:
    records = evaluate(HardRight(), EnvConfig(world="oval"), tmp_path, trials=2, resets=3)
    for r in records:
        assert r.status == "off_track" and r.resets == 3 and r.off_track == 4
    document = json.loads((tmp_path / "evaluation_metrics.json").read_text())
    assert "version" not in document
    rows = document["metrics"]
    assert [r["trial"] for r in rows] == [1, 2]
    assert all(set(r) == KEYS for r in rows)
    assert rows[0]["reset_count"] == 3 and rows[0]["episode_status"] == "Off track"
    # Three 2 s penalties land in the trial's time.
    assert rows[0]["elapsed_time_in_milliseconds"] >= 6000
    trace = read_simtrace(tmp_path / "evaluation-simtrace" / "0-iteration.csv")
    assert sum(r["episode_status"] == "off_track" for r in trace) == 8


def test_mercy_resets_get_a_trial_past_a_blocked_road(tmp_path: Path) -> None:
    class Straight:
        def predict(self, obs: Any, deterministic: bool = True) -> tuple[int, None]:
            return 0, None

    # Boxes in both lanes 3 m on: every reset behind them ends in the other one.
    world = {
        "track": "straight",
        "race_type": "OBJECT_AVOIDANCE",
        "object_avoidance": {"object_positions": [[0.5, 1], [0.5, -1]]},
    }
    straight = [{"steering_angle": 0.0, "speed": 1.0}]
    config = RacingEnv({"world": world, "action_space": straight}).config  # validated
    (stuck,) = evaluate(Straight(), config, tmp_path / "a", trials=1, resets=5)
    assert (stuck.status, stuck.crashed) == ("crashed", 6)
    (passed,) = evaluate(Straight(), config, tmp_path / "b", trials=1, resets=5, mercy_reset=True)
    assert (passed.status, passed.resets, passed.crashed) == ("lap_complete", 3, 3)
    trace = read_simtrace(tmp_path / "b" / "evaluation-simtrace" / "0-iteration.csv")
    assert max(int(row["obstacle_crash_counter"]) for row in trace) == 2


def test_without_resets_a_failure_ends_the_trial(tmp_path: Path) -> None:
    (record,) = evaluate(HardRight(), EnvConfig(world="oval"), tmp_path, trials=1)
    assert record.resets == 0 and record.off_track == 1 and record.progress < 100


class Pursuit:
    """Pure pursuit of the state observation's 0.5 m look-ahead point at 1.5 m/s."""

    def predict(self, obs: Any, deterministic: bool = True) -> tuple[Any, None]:
        x, y = float(obs[8]), float(obs[9])  # the point in the car frame, / 0.5 m
        alpha = math.atan2(y, x)
        wheelbase = default_vehicle().effective_wheelbase
        steer = math.degrees(math.atan2(2.0 * wheelbase * math.sin(alpha), 0.5 * math.hypot(x, y)))
        action = to_action(max(-30.0, min(30.0, steer)), 1.5)
        return np.array(action, dtype=np.float32), None


def test_time_trial_counts_laps_and_writes_one_row_per_lap(tmp_path: Path) -> None:
    config = EnvConfig(world="oval", action_space=CONTINUOUS)
    records = evaluate(Pursuit(), config, tmp_path, trials=2, time_limit=40.0)
    for r in records:
        assert r.status == "time_up" and r.resets == 0
        assert r.lap_time == pytest.approx(40.0, abs=config.dt + 1e-9)
        assert len(r.lap_times) == 3 and all(10.0 < t < 13.0 for t in r.lap_times)
        assert r.best_lap == min(r.lap_times)
        assert [lap.trial for lap in r.laps] == [1, 2, 3, 4]
        assert sum(lap.lap_time for lap in r.laps) == pytest.approx(r.lap_time)
        assert 0.0 < r.laps[-1].progress < 100.0 and r.laps[-1].status == "time_up"
    rows = json.loads((tmp_path / "evaluation_metrics.json").read_text())["metrics"]
    assert all(set(row) == KEYS for row in rows)
    assert [row["trial"] for row in rows] == list(range(1, 9))
    statuses = ["Lap complete"] * 3 + ["Time up"]
    assert [row["episode_status"] for row in rows] == statuses * 2
    assert [row["completion_percentage"] for row in rows][:3] == [100] * 3
    laps = [lap for r in records for lap in r.laps]
    assert [row["elapsed_time_in_milliseconds"] for row in rows] == [
        round(lap.lap_time * 1000) for lap in laps
    ]
    trace = read_simtrace(tmp_path / "evaluation-simtrace" / "0-iteration.csv")
    assert sum(r["episode_status"] == "lap_complete" for r in trace) == 6


def test_time_trial_ends_early_after_the_last_reset(tmp_path: Path) -> None:
    (record,) = evaluate(
        HardRight(), EnvConfig(world="oval"), tmp_path, trials=1, resets=2, time_limit=60.0
    )
    assert record.status == "off_track" and record.resets == 2 and record.off_track == 3
    assert record.lap_times == () and record.best_lap is None
    assert 4.0 < record.lap_time < 60.0
    (row,) = json.loads((tmp_path / "evaluation_metrics.json").read_text())["metrics"]
    assert row["episode_status"] == "Off track" and row["reset_count"] == 2
    assert row["elapsed_time_in_milliseconds"] == round(record.lap_time * 1000)


def test_time_limit_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(DeepRacerError, match="time_limit"):
        evaluate(HardRight(), EnvConfig(world="oval"), tmp_path, time_limit=0.0)


# -- a trained run, and what the CLI makes of it and of broken copies -----------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("stable_baselines3")
    from tests.training.test_trainer import tiny_run

    run = tmp_path_factory.mktemp("trained") / "run"
    tiny_run(run)
    return run


def copy_run(trained: Path, dest: Path, *, models: bool = True) -> Path:
    """Copies what evaluating a run reads; without ``models`` only the checkpoint."""
    dest.mkdir()
    for name in ("experiment.yaml", "model/model_metadata.json"):
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(trained / name, dest / name)
    shutil.copytree(trained / "checkpoints", dest / "checkpoints")
    if models:
        shutil.copy(trained / "best.zip", dest / "best.zip")
    return dest


def cli(*argv: str | Path) -> int:
    from deepracer.cli import main

    return main([str(a) for a in argv])


def test_cli_evaluates_a_run(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "eval"
    assert cli("evaluate", trained, "--resets", "3", "--out", out) == 0
    printed = capsys.readouterr().out
    assert "best.zip" in printed and "off-track" in printed
    rows = json.loads((out / "evaluation_metrics.json").read_text())["metrics"]
    assert len(rows) == 3 and all(r["reset_count"] <= 3 for r in rows)
    comparison = json.loads((out / "raceline_comparison.json").read_text())
    line = comparison["raceline"]
    assert line["lower_bound"] < line["lap_time"] < line["standing_lap_time"]
    assert "race line" in printed and "lower bound" in printed
    assert cli("evaluate", tmp_path / "missing") == 2


def test_a_race_line_that_cannot_be_found_does_not_fail_the_evaluation(
    trained: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import deepracer.raceline
    from deepracer.errors import TrackError

    def no_line(*args: object, **kwargs: object) -> None:
        raise TrackError("oval: no race line passes the exact on-track check")

    monkeypatch.setattr(deepracer.raceline, "raceline_for_world", no_line)
    out = tmp_path / "eval"
    assert cli("evaluate", trained, "--trials", "1", "--out", out) == 0
    assert "no race line comparison: oval" in capsys.readouterr().out
    assert (out / "evaluation_metrics.json").is_file()
    assert not (out / "raceline_comparison.json").exists()


def test_laps_are_compared_with_the_race_line() -> None:
    from types import SimpleNamespace

    from deepracer.envs.model_metadata import load_model_metadata
    from deepracer.evaluation.evaluate import TrialRecord, lap_ratios, top_speed

    line = SimpleNamespace(standing_lap_time=5.0, lap_time=4.0, lower_bound=2.0)

    def record(status: str, time: float, laps: tuple[TrialRecord, ...] = ()) -> TrialRecord:
        return TrialRecord(1, status, 100.0, time, 0, 0, 0, 0, 0.0, 1.0, laps)

    race = lap_ratios([record("lap_complete", 6.0), record("off_track", 3.0)], line)
    assert [(r["lap"], r["ratio_to_raceline"], r["ratio_to_lower_bound"]) for r in race] == [
        (1, 1.2, 3.0)
    ]
    laps = (record("lap_complete", 6.0), record("lap_complete", 4.4), record("time_up", 1.0))
    timed = lap_ratios([record("time_up", 11.4, laps)], line)
    # The first lap starts from standstill, the second is a flying lap.
    assert [r["ratio_to_raceline"] for r in timed] == [1.2, 1.1]
    assert top_speed(EnvConfig(action_space=CONTINUOUS)) == 4.0
    two_speeds = load_model_metadata("two_speed_five_steer").action_space
    assert top_speed(EnvConfig(action_space=two_speeds)) == 3.0


def test_cli_time_trial(trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "eval"
    argv: list[str | Path] = ["--time-limit", "15", "--trials", "2", "--resets", "1", "--out", out]
    assert cli("evaluate", trained, *argv) == 0
    printed = capsys.readouterr().out
    assert "2 time trials of 15 s, 1 resets" in printed
    assert "best lap s" in printed and "mean lap s" in printed and "final status" in printed
    rows = json.loads((out / "evaluation_metrics.json").read_text())["metrics"]
    assert rows[-1]["episode_status"] != "Lap complete"
    assert [r["trial"] for r in rows] == list(range(1, len(rows) + 1))
    assert cli("evaluate", trained, "--time-limit", "0") == 2
    assert "--time-limit must be > 0" in capsys.readouterr().err


def test_crashed_run_is_evaluated_from_its_last_checkpoint(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = copy_run(trained, tmp_path / "run", models=False)
    assert cli("evaluate", run, "--trials", "1", "--out", tmp_path / "eval") == 0
    printed = capsys.readouterr().out
    assert "note:" in printed and "checkpoints/model_" in printed
    # A checkpoint passed by path is driven with its run's setup.
    model = run / json.loads((run / "checkpoints" / "latest.json").read_text())["model"]
    assert cli("evaluate", model, "--trials", "1", "--out", tmp_path / "eval2") == 0


@pytest.mark.parametrize(
    ("latest", "expected"),
    [
        ('{"model": ', "not valid JSON at line 1"),
        ('{"steps": 3}', 'field "model" is missing'),
        ('{"model": "checkpoints/model_9.zip"}', "checkpoints/model_9.zip, which is not a file"),
        ("\x9c\xff", "cannot read it as JSON"),
    ],
)
def test_broken_latest_checkpoint_is_one_clear_error(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], latest: str, expected: str
) -> None:
    run = copy_run(trained, tmp_path / "run", models=False)
    (run / "checkpoints" / "latest.json").write_bytes(latest.encode("latin-1"))
    assert cli("evaluate", run) == 2
    err = capsys.readouterr().err
    assert f"{run / 'checkpoints' / 'latest.json'}:" in err and expected in err


def test_run_without_any_model_names_what_it_looked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("evaluate", tmp_path) == 2
    err = capsys.readouterr().err
    assert all(name in err for name in ("best.zip", "model.zip", "checkpoints/latest.json"))


def _five_actions(metadata: dict[str, Any]) -> None:
    metadata["action_space"] = metadata["action_space"][:5]


def _continuous(metadata: dict[str, Any]) -> None:
    metadata["action_space"] = {
        "steering_angle": {"low": -30.0, "high": 30.0},
        "speed": {"low": 0.5, "high": 3.0},
    }
    metadata["action_space_type"] = "continuous"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (_five_actions, "action_space has 5 discrete actions (Discrete(5)), but the model"),
        (_continuous, "action_space has a continuous action space"),
    ],
)
def test_metadata_that_does_not_match_the_model_is_one_clear_error(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: Any, expected: str
) -> None:
    run = copy_run(trained, tmp_path / "run")
    path = run / "model" / "model_metadata.json"
    metadata = json.loads(path.read_text())
    edit(metadata)
    path.write_text(json.dumps(metadata))
    assert cli("evaluate", run) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: ") and expected in err
    assert "expects 10 discrete actions" in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"action_space": [', "not valid JSON at line 2"),
        ('{"sensor": ["FRONT_FACING_CAMERA"]}', "action_space: missing"),
        (None, "missing; a run directory holds"),
    ],
)
def test_broken_metadata_is_one_clear_error(
    trained: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str | None,
    expected: str,
) -> None:
    run = copy_run(trained, tmp_path / "run")
    path = run / "model" / "model_metadata.json"
    if text is None:
        path.unlink()
    else:
        path.write_text(text + "\n")
    assert cli("evaluate", run) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: ") and expected in err


def test_observation_that_does_not_match_the_model_is_one_clear_error(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = copy_run(trained, tmp_path / "run")
    saved = run / "experiment.yaml"
    saved.write_text(saved.read_text().replace("observation: state", "observation: lidar"))
    assert cli("evaluate", run) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {saved}: observation 'lidar' gives") and "expects" in err


@pytest.mark.parametrize("damage", ["truncated", "random", "empty"])
def test_corrupt_model_is_one_clear_error(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    from deepracer.evaluation.runs import load_policy, run_setup

    run = copy_run(trained, tmp_path / "run")
    model = run / "best.zip"
    data = model.read_bytes()
    broken = {
        "truncated": data[: len(data) // 2],
        "random": np.random.default_rng(0).bytes(4096),
        "empty": b"",
    }[damage]
    model.write_bytes(broken)
    with pytest.raises(DeepRacerError, match=r"best\.zip: cannot load a PPO model"):
        load_policy(model, run_setup(run, None, 10), run)
    assert cli("evaluate", run) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {model}: cannot load a PPO model") and "corrupt" in err


def test_model_of_another_algorithm_is_one_clear_error(trained: Path, tmp_path: Path) -> None:
    from deepracer.evaluation.runs import load_policy, run_setup

    run = copy_run(trained, tmp_path / "run")
    (run / "preset.yaml").write_text(
        "algorithm: sac\nnetwork: mlp\nn_envs: 1\nhyperparameters: {}\n"
    )
    metadata = json.loads((run / "model" / "model_metadata.json").read_text())
    metadata["action_space"] = {
        "steering_angle": {"low": -30.0, "high": 30.0},
        "speed": {"low": 0.5, "high": 3.0},
    }
    metadata["action_space_type"] = "continuous"
    (run / "model" / "model_metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(DeepRacerError, match=r"cannot load a SAC model from it: its weights"):
        load_policy(run / "best.zip", run_setup(run, None, 10), run)
