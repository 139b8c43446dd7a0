"""The training image's entry point under a simulated SageMaker ``/opt/ml`` tree."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("stable_baselines3")

from deepracer.cli import main as cli
from deepracer.cloud.artifacts import experiment_files
from deepracer.cloud.container import ROOT_ENV, ContainerPaths, run_training
from deepracer.cloud.layout import ArtifactLayout
from deepracer.experiment import load_experiment

ROOT = Path(__file__).resolve().parents[2]
TINY_PPO = ROOT / "tests" / "training" / "tiny_ppo.yaml"
LAYOUT = ArtifactLayout("bucket", "runs/two")


def sagemaker_tree(root: Path, hyperparameters: dict[str, str], *extra: str) -> Path:
    """Lays out /opt/ml as SageMaker does for a job launched from our upload."""
    experiment = load_experiment(
        "two_worlds",
        [f"preset={TINY_PPO}", "train.n_envs=4", "train.eval_trials=1", "eval.trials=1",
         "eval.max_steps=200", "train.checkpoint_every=256", "train.eval_every=512", *extra],
    )  # fmt: skip
    channels = {
        LAYOUT.key("custom_files"): root / "input" / "data" / "custom_files",
        LAYOUT.key("deepracer"): root / "input" / "data" / "experiment",
    }
    for key, data in experiment_files(experiment, LAYOUT).items():
        for prefix, folder in channels.items():
            if key.startswith(prefix + "/"):
                target = folder / key[len(prefix) + 1 :]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
    config = root / "input" / "config" / "hyperparameters.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps(hyperparameters))
    return root


def test_paths_follow_sm_variables(tmp_path: Path) -> None:
    env = {
        ROOT_ENV: str(tmp_path),
        "SM_MODEL_DIR": "/elsewhere/model",
        "SM_CHANNEL_EXPERIMENT": "/data/exp",
        "SM_OUTPUT_DATA_DIR": "/out/data",
    }
    paths = ContainerPaths.from_env(env)
    assert paths.model == Path("/elsewhere/model")
    assert paths.experiment == Path("/data/exp")
    assert paths.custom_files == tmp_path / "input" / "data" / "custom_files"
    assert paths.output == Path("/out")
    assert paths.run_dir == tmp_path / "checkpoints" / "run"


def test_a_job_trains_into_model_dir_and_the_result_evaluates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = sagemaker_tree(
        tmp_path / "ml",
        {"experiment": "experiment.yaml", "train.total_timesteps": "768", "batch_size": "64"},
    )
    lines: list[str] = []
    result = run_training(env={ROOT_ENV: str(root)}, echo=lines.append)
    assert result.timesteps >= 768
    # Each evaluation is followed by the line the job's MetricDefinitions read.
    metric = next(line for line in lines if line.startswith("deepracer-metric"))
    assert re.search(r" eval_progress=[0-9.]+", metric) and " timesteps=" in metric
    assert re.search(r" progress=[0-9.]+", metric)
    model = root / "model"
    for name in ("model.zip", "experiment.yaml", "reward_function.py",
                 "model/model_metadata.json", "ip/hyperparameters.json", "preset.yaml",
                 "training_metrics.json", "workers.json"):  # fmt: skip
        assert (model / name).is_file(), name
    workers = json.loads((model / "workers.json").read_text())["workers"]
    assert [w["world"] for w in workers] == ["oval", "kidney"]
    # The run names container paths; it still evaluates anywhere from its own copies.
    assert "/input/data/" in (model / "experiment.yaml").read_text()
    moved = tmp_path / "moved"
    os.replace(model, moved)
    capsys.readouterr()
    assert cli(["evaluate", str(moved), "--trials", "1", "--max-steps", "100"]) == 0
    assert "trial" in capsys.readouterr().out


def _entry_point(root: Path) -> subprocess.Popen[str]:
    env = {**os.environ, ROOT_ENV: str(root), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "deepracer.cloud.container", "train"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.slow  # for time: two container trainings (the kill -9 resume test stays)
def test_spot_interruption_resumes_from_checkpoints(tmp_path: Path) -> None:
    root = sagemaker_tree(tmp_path / "ml", {"train.total_timesteps": "2048"})
    latest = root / "checkpoints" / "run" / "checkpoints" / "latest.json"
    first = _entry_point(root)
    deadline = time.monotonic() + 120
    while not latest.is_file() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert latest.is_file(), first.communicate()[0]
    first.send_signal(signal.SIGTERM)  # what SageMaker sends when spot capacity goes
    out, _ = first.communicate(timeout=120)
    assert first.returncode == 143, out
    assert "checkpoint written" in out
    stopped_at = json.loads(latest.read_text())["timesteps"]
    assert stopped_at < 2048
    assert not (root / "output" / "failure").exists()

    second = _entry_point(root)  # SageMaker restores /opt/ml/checkpoints and reruns
    out, _ = second.communicate(timeout=300)
    assert second.returncode == 0, out
    assert "resuming" in out
    assert json.loads(latest.read_text())["timesteps"] >= 2048
    assert (root / "model" / "model.zip").is_file()
    commands = (root / "model" / "command.txt").read_text().splitlines()
    assert len(commands) == 2 and commands[1].startswith("resume:")


def test_a_bad_input_writes_output_failure(tmp_path: Path) -> None:
    root = sagemaker_tree(tmp_path / "ml", {"train.total_timesteps": "-5"})
    job = _entry_point(root)
    out, _ = job.communicate(timeout=120)
    assert job.returncode == 2, out
    failure = (root / "output" / "failure").read_text()
    assert "train.total_timesteps" in failure and "> 0" in failure


def test_a_missing_channel_is_named(tmp_path: Path) -> None:
    root = sagemaker_tree(tmp_path / "ml", {})
    for file in sorted((root / "input" / "data" / "custom_files").iterdir()):
        file.unlink()
    (root / "input" / "data" / "custom_files").rmdir()
    job = _entry_point(root)
    out, _ = job.communicate(timeout=120)
    assert job.returncode == 2, out
    assert "custom_files" in (root / "output" / "failure").read_text()
