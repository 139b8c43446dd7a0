"""deepracer sweep on Ray Tune: trials side by side, a killed trial retried, a rerun resumed."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("stable_baselines3")
pytest.importorskip("ray.tune")

from deepracer.cli import main
from deepracer.runs import RunFiles
from deepracer.runs.lock import LOCK_FILE
from deepracer.sweep.layout import SweepFiles

ROOT = Path(__file__).resolve().parents[2]
TINY_PPO = ROOT / "tests" / "training" / "tiny_ppo.yaml"


def _sweep_file(tmp_path: Path, rewards: list[str], steps: int, scheduler: str) -> Path:
    path = tmp_path / "rewards.yaml"
    path.write_text(
        "experiment: quickstart\n"
        "set:\n"
        f"  train.total_timesteps: {steps}\n"
        "  train.eval_every: 1024\n"
        "  train.checkpoint_every: 1024\n"
        "  train.eval_trials: 1\n"
        "  train.max_minutes: null\n"
        "  eval.trials: 1\n"
        f"  preset: {TINY_PPO}\n"
        f"grid:\n  reward: {json.dumps(rewards)}\n"
        f"scheduler: {scheduler}\n"
        "max_failures: 1\n"
    )
    return path


def _kill_first_checkpointed(trials: Path, killed: list[str]) -> threading.Thread:
    """Kills (SIGKILL) the first trial process that has written a checkpoint."""

    def kill() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            for run in sorted(trials.glob("reward=*")):
                if run.is_dir() and (run / "checkpoints" / "latest.json").is_file():
                    pid = int((run / LOCK_FILE).read_text().strip())
                    os.kill(pid, signal.SIGKILL)
                    killed.append(run.name)
                    return
            time.sleep(0.05)

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def local_ray() -> Iterator[None]:
    """One Ray for a sweep and its rerun (the sweep uses a connection it finds open)."""
    import ray

    from deepracer.training.ray_workers import ray_init_kwargs

    ray.init(num_cpus=2, **ray_init_kwargs())
    try:
        yield
    finally:
        ray.shutdown()


def test_a_killed_trial_is_retried_and_a_rerun_resumes(
    local_ray: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep = _sweep_file(tmp_path, ["speed_progress", "centerline"], 2048, "none")
    out = tmp_path / "out"
    files = SweepFiles(out)
    killed: list[str] = []
    killer = _kill_first_checkpointed(files.trials, killed)
    assert main(["sweep", str(sweep), "--out", str(out)]) == 0
    killer.join()
    assert killed, "no trial reached a checkpoint"
    shown = capsys.readouterr().out
    assert "TERMINATED" in shown and "progress %" in shown  # the live table
    runs = sorted(p for p in files.trials.iterdir() if p.is_dir())
    assert [p.name.split("-")[0] for p in runs] == ["reward=centerline", "reward=speed_progress"]
    for run in runs:
        # Each trial is a whole run: final model, summary, evaluations to the budget.
        summary = json.loads(RunFiles(run).summary.read_text())
        assert summary["timesteps"] >= 2048 and (run / "model.zip").is_file()
    # The killed trial was retried from its checkpoint, not from scratch.
    log = files.trial_log(killed[0]).read_text()
    assert "resuming" in log and "from its last checkpoint" in log
    report = files.report.read_text()
    assert report.count("| finished |") == 2 and files.plot.is_file()
    assert "| 1 | `reward=" in report and "| 2 | `reward=" in report

    # A rerun trains nothing again: every trial is reported from its files.
    stamps = {p: p.stat().st_mtime_ns for run in runs for p in run.rglob("*") if p.is_file()}
    assert main(["sweep", str(sweep), "--out", str(out)]) == 0
    assert "resuming the sweep" in capsys.readouterr().out
    after = {p: p.stat().st_mtime_ns for run in runs for p in run.rglob("*") if p.is_file()}
    changed = [p for p in stamps if after.get(p) != stamps[p] and p.name != LOCK_FILE]
    assert not changed, changed
    assert files.report.read_text().count("| finished |") == 2


def test_a_different_sweep_in_the_same_directory_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    files = SweepFiles(out)
    files.trials.mkdir(parents=True)
    files.sweep.write_text("{}\n")
    sweep = _sweep_file(tmp_path, ["centerline"], 1024, "none")
    assert main(["sweep", str(sweep), "--out", str(out)]) == 2
    assert files.sweep.read_text() == "{}\n"  # left as it was


@pytest.mark.slow
def test_the_shipped_reward_sweep_runs_two_at_a_time_survives_a_kill_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's acceptance: 4 rewards on quickstart, 2 trials at a time on 2 cores."""
    monkeypatch.chdir(tmp_path)
    files = SweepFiles(tmp_path / "sweeps" / "quickstart_rewards")
    killed: list[str] = []
    killer = _kill_first_checkpointed(files.trials, killed)
    assert main(["sweep", "quickstart_rewards"]) == 0
    killer.join()
    assert killed
    shown = capsys.readouterr().out
    # Two trials ran side by side at some point of the live table.
    assert any(block.count(" RUNNING ") == 2 for block in shown.split("trial  "))
    report = files.report.read_text()
    assert report.count("| `reward=") == 4 and "failed" not in report
    assert "resuming" in files.trial_log(killed[0]).read_text()
    assert main(["sweep", "quickstart_rewards"]) == 0
    assert "resuming the sweep" in capsys.readouterr().out


def test_an_optuna_sweep_searches_the_random_keys(tmp_path: Path) -> None:
    from deepracer.sweep.config import load_sweep
    from deepracer.sweep.runner import _search

    path = tmp_path / "o.yaml"
    path.write_text(
        "experiment: quickstart\nsearch: optuna\nsamples: 5\nrandom:\n"
        "  train.seed: {randint: [0, 9]}\n  reward: {choice: [centerline, speed_progress]}\n"
    )
    sweep, _ = load_sweep(path)
    space, searcher = _search(sweep, [])
    assert sorted(space) == ["reward", "train.seed"]
    assert type(searcher).__name__ == "OptunaSearch"
