"""The quickstart job: a tiny budget in the default suite, the full run as `slow`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("stable_baselines3")

from deepracer.cli import main
from deepracer.logs import read_simtrace
from deepracer.training.quickstart import QuickstartConfig, run_quickstart

PNG = b"\x89PNG\r\n\x1a\n"


def test_tiny_quickstart_writes_the_run(tmp_path: Path) -> None:
    cfg = QuickstartConfig(
        total_timesteps=256,
        n_envs=2,
        trials=2,
        ppo={"n_steps": 128, "batch_size": 64, "n_epochs": 1},
    )
    trials = run_quickstart(tmp_path, cfg)
    assert [t.trial for t in trials] == [1, 2]
    assert all(t.status in {"lap_complete", "off_track", "reversed", "immobilized"} for t in trials)
    summary = json.loads((tmp_path / "evaluation.json").read_text())
    assert len(summary["trials"]) == 2 and summary["train_steps_per_second"] > 0
    assert (tmp_path / "quickstart.png").read_bytes().startswith(PNG)
    assert (tmp_path / "model.zip").stat().st_size > 0
    assert "def reward_function" in (tmp_path / "reward_function.py").read_text()
    rows = read_simtrace(tmp_path / "evaluation-simtrace" / "0-iteration.csv")
    assert {r["episode_status"] for r in rows} >= {"prepare"}
    assert sum(r["done"] == "True" for r in rows) == 2


def test_cli_rejects_bad_steps(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["quickstart", "--steps", "0"]) == 2
    assert "--steps must be >= 1" in capsys.readouterr().err


@pytest.mark.slow
def test_full_quickstart_laps_three_of_three(tmp_path: Path) -> None:
    assert main(["quickstart", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "evaluation.json").read_text())
    assert [t["status"] for t in summary["trials"]] == ["lap_complete"] * 3
