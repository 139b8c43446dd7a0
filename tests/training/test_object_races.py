"""Training and evaluation end to end in the object-avoidance and head-to-bot worlds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("stable_baselines3")

from deepracer.cli import main
from deepracer.logs import read_simtrace
from tests.training.test_trainer import tiny_run


@pytest.mark.parametrize("experiment", ["object_avoidance", "head_to_bot"])
def test_a_run_trains_clones_the_expert_and_evaluates(
    experiment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    # The state vector keeps it fast; the shipped experiments use the camera.
    tiny_run(
        out,
        "observation=state",
        "train.imitation_steps=300",
        "train.imitation_epochs=1",
        experiment=experiment,
    )
    # The cloned policy is evaluated before RL changes it.
    evaluations = json.loads((out / "evaluations.json").read_text())
    assert evaluations[0]["timesteps"] == 0
    simtraces = sorted((out / "training-simtrace").glob("*-iteration.csv"))
    rows = [row for path in simtraces for row in read_simtrace(path)]
    assert rows and "obstacle_crash_counter" in rows[0]
    before = {p for p in out.glob("evaluation-*") if p.is_dir()}  # training's own
    code = main(["evaluate", str(out), "--trials", "2", "--resets", "1", "--no-raceline"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "crashes" in printed
    (folder,) = {p for p in out.glob("evaluation-*") if p.is_dir()} - before
    metrics = json.loads((folder / "evaluation_metrics.json").read_text())["metrics"]
    assert len(metrics) == 2 and all("crash_count" in row for row in metrics)
