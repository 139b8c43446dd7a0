"""Console-style evaluation: trials, resets, DeepRacer evaluation_metrics.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deepracer.envs import EnvConfig
from deepracer.evaluation.evaluate import evaluate
from deepracer.logs import read_simtrace

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


def test_without_resets_a_failure_ends_the_trial(tmp_path: Path) -> None:
    (record,) = evaluate(HardRight(), EnvConfig(world="oval"), tmp_path, trials=1)
    assert record.resets == 0 and record.off_track == 1 and record.progress < 100


def test_cli_evaluates_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("stable_baselines3")
    from deepracer.cli import main
    from tests.training.test_trainer import tiny_run

    run = tmp_path / "run"
    tiny_run(run)
    out = tmp_path / "eval"
    assert main(["evaluate", str(run), "--resets", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "best.zip" in printed and "off-track" in printed
    rows = json.loads((out / "evaluation_metrics.json").read_text())["metrics"]
    assert len(rows) == 3 and all(r["reset_count"] <= 3 for r in rows)
    assert main(["evaluate", str(tmp_path / "missing")]) == 2
