"""deepracer-utils, the community's log-analysis library, reads our runs as they lie.

deepracer-utils installs a package named ``deepracer`` too, so it runs in its own venv
(built once from ``deepracer_utils/constraints.txt`` and cached; building it needs the
package index), driven by ``deepracer_utils/client.py``. The test trains a short run
(the quickstart) that laps the oval, evaluates it with ``deepracer evaluate``, runs deepracer-utils'
documented calls on the run directory and checks every number it reads against ours:
episodes, iterations, laps, lap times, evaluation trials, hyperparameters, actions.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import venv
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from deepracer.cli import main
from deepracer.experiment import load_experiment
from deepracer.tracks import get_track
from deepracer.training.trainer import train

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent / "deepracer_utils"
CONSTRAINTS = HERE / "constraints.txt"


def _cached_venv() -> Path:
    """deepracer-utils' venv, built once per constraints file (atomically: a build cut
    short is never taken for a finished one)."""
    digest = hashlib.sha256(CONSTRAINTS.read_bytes()).hexdigest()[:12]
    root = Path(os.environ.get("DEEPRACER_TEST_CACHE", Path.home() / ".cache" / "deepracer-tests"))
    target = root / f"deepracer-utils-1.5.6-{digest}"
    python = target / "bin" / "python"
    if python.is_file():
        return python
    building = root / f".{target.name}.{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    venv.EnvBuilder(with_pip=True).create(building)
    subprocess.run(
        [building / "bin" / "python", "-m", "pip", "install", "--quiet", "-c", CONSTRAINTS,
         "deepracer-utils==1.5.6"],
        check=True,
    )  # fmt: skip
    try:
        os.replace(building, target)
    except OSError:  # another session built it meanwhile
        shutil.rmtree(building, ignore_errors=True)
    # A venv's scripts name their own folder; the interpreter link works from anywhere.
    return python


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dru") / "run"
    config = load_experiment("quickstart")  # the README's main job: it laps the oval
    train(config, out, argv=["pytest"], echo=lambda line: None)
    assert main(["evaluate", str(out), "--trials", "3", "--no-raceline"]) == 0
    return out


def _client(run: Path, tracks: Path) -> dict[str, Any]:
    """What deepracer-utils reads from ``run`` (client.py in its own venv)."""
    python = _cached_venv()
    oval = get_track("oval")
    np.save(tracks / "oval.npy", np.hstack([oval.center.points, oval.inner.points,
                                            oval.outer.points]))  # fmt: skip
    done = subprocess.run(
        [python, "-I", HERE / "client.py", run, tracks, "oval"],
        cwd=tracks,
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), "MPLBACKEND": "Agg"},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


@pytest.fixture(scope="module")
def read(run: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _client(run, tmp_path_factory.mktemp("tracks"))


def _our_episodes(run: Path) -> dict[int, list[dict[str, str]]]:
    """Our simtrace rows by episode (file order), from the files we wrote."""
    episodes: dict[int, list[dict[str, str]]] = defaultdict(list)
    for path in (run / "training-simtrace").glob("*-iteration.csv"):
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                episodes[int(row["episode"])].append(row)
    return episodes


def test_training_episodes_and_iterations_are_ours(run: Path, read: dict[str, Any]) -> None:
    rows = json.loads((run / "training_metrics.json").read_text())["metrics"]
    training = [r for r in rows if r["phase"] == "training"]
    per_iteration = json.loads((run / "ip" / "hyperparameters.json").read_text())[
        "num_episodes_between_training"
    ]
    assert read["numeric_columns"]  # no empty file turned the columns into text
    assert read["unique_episodes"] == [r["episode"] - 1 for r in training]
    assert read["agg_episodes"] == len(training) == read["metrics_episodes"]
    iterations = -(-len(training) // per_iteration)
    assert read["iterations"] == list(range(iterations))
    assert read["metrics_iterations"] == iterations
    assert read["training_steps"] == sum(len(e) for e in _our_episodes(run).values())
    evaluations = json.loads((run / "evaluations.json").read_text())
    assert read["metrics_evaluation_rows"] == sum(e["trials"] for e in evaluations) > 0


def test_training_laps_and_lap_times_are_ours(run: Path, read: dict[str, Any]) -> None:
    rows = json.loads((run / "training_metrics.json").read_text())["metrics"]
    laps = [r["episode"] - 1 for r in rows if r["episode_status"] == "Lap complete"
            and r["phase"] == "training"]  # fmt: skip
    assert laps, "the run should lap the oval"
    assert read["laps"] == laps and read["metrics_laps"] == len(laps)
    ours = _our_episodes(run)
    for episode in laps:
        steps = ours[episode]
        lap_time = float(steps[-1]["tstamp"]) - float(steps[0]["tstamp"])
        assert read["lap_times"][str(episode)] == pytest.approx(lap_time, abs=1e-9)


def test_evaluations_are_ours_trial_by_trial(run: Path, read: dict[str, Any]) -> None:
    folders = sorted(run.glob("evaluation-" + "[0-9]" * 14))
    assert len(folders) == 2  # the final evaluation of training, then `deepracer evaluate`
    assert sorted(read["evaluations"]) == [f.name.split("-", 1)[1] for f in folders]
    metrics = json.loads((folders[-1] / "evaluation_metrics.json").read_text())["metrics"]
    mine = read["evaluations"][folders[-1].name.split("-", 1)[1]]
    assert mine["episodes"] == [0, 1, 2]  # one number a trial, as the simapp's
    for trial, progress, seconds in zip(metrics, mine["progress"], mine["times"], strict=True):
        assert int(progress) == trial["completion_percentage"]
        assert round(seconds * 1000) == trial["elapsed_time_in_milliseconds"]
    final = json.loads((run / "evaluation.json").read_text())["trials"]
    first = read["evaluations"][folders[0].name.split("-", 1)[1]]
    assert first["progress"] == pytest.approx([t["progress"] for t in final])


def test_metadata_and_hyperparameters_are_ours(run: Path, read: dict[str, Any]) -> None:
    metadata = json.loads((run / "model" / "model_metadata.json").read_text())
    hyperparameters = json.loads((run / "ip" / "hyperparameters.json").read_text())
    assert read["hyperparameters"] == hyperparameters
    assert read["action_space"] == metadata["action_space"]
    assert read["agent_and_network"]["network"] == metadata["neural_network"]
    assert read["agent_and_network"]["sensor_list"] == metadata["sensor"]


def test_several_worlds_read_as_drfc_workers(tmp_path: Path) -> None:
    out = tmp_path / "run"
    config = load_experiment("two_worlds", ["train.total_timesteps=4096", "train.eval_every=2048"])
    train(config, out, argv=["pytest"], echo=lambda line: None)
    found = _client(out, tmp_path)
    rows = json.loads((out / "training_metrics.json").read_text())["metrics"]
    training = [r for r in rows if r["phase"] == "training"]
    assert found["agg_episodes"] == len(training) == found["metrics_episodes"]
    # DRfC numbers a worker's iteration-i episodes i * (episodes of all workers per
    # iteration) + (the workers before it) + its own index. Our worlds' workers do not
    # wait for each other, so one can be iterations ahead: numbers then skip some
    # values, but each episode keeps its own, and all are counted.
    assert len(found["unique_episodes"]) == len(training)
    steps = 0
    for worker in (0, 1):
        for path in (out / str(worker) / "training-simtrace").glob("*-iteration.csv"):
            with path.open(newline="") as handle:
                steps += sum(1 for _ in csv.DictReader(handle))
    assert found["training_steps"] == steps
