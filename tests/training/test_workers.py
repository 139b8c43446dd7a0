"""One worker process per world: same trajectories, crashes reported and handled."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")

from deepracer.envs.model_metadata import load_model_metadata
from deepracer.errors import DeepRacerError
from deepracer.experiment import load_experiment
from deepracer.runs.training_log import FinishedEpisode
from deepracer.training.trainer import train
from deepracer.training.workers import WorkerCrashed, WorldWorkers

ROOT = Path(__file__).resolve().parents[2]
TINY_PPO = ROOT / "tests" / "training" / "tiny_ppo.yaml"
TWO_WORLDS = [
    "train.n_envs=4",
    "train.eval_trials=1",
    "eval.trials=1",
    "eval.max_steps=200",
    f"preset={TINY_PPO}",
]


class _Log:
    simtrace = True

    def __init__(self) -> None:
        self.episodes: list[dict[str, Any]] = []

    def complete(self, finished: FinishedEpisode) -> None:
        self.episodes.append({**vars(finished), "rows": len(finished.steps)})


def _workers(tmp_path: Path, *overrides: str) -> WorldWorkers:
    experiment = load_experiment("two_worlds", [*TWO_WORLDS, *overrides])
    action_space = load_model_metadata(experiment.action_space).action_space
    return WorldWorkers(
        experiment,
        action_space,
        4,
        _Log(),
        status_file=tmp_path / "workers.json",
        say=lambda line: None,
    )


def test_cars_alternate_worlds_and_episodes_reach_the_log(tmp_path: Path) -> None:
    env = _workers(tmp_path)
    try:
        assert [w.cars for w in env.workers] == [[0, 2], [1, 3]]
        assert env.get_attr("world") and len(env.get_attr("world")) == 4
        env.seed(3)
        obs = env.reset()
        assert obs.shape == (4, *env.observation_space.shape)
        rng = np.random.default_rng(0)
        dones = 0
        for _ in range(300):
            obs, _rewards, done, infos = env.step(rng.integers(0, env.action_space.n, 4))
            dones += int(done.sum())
            for i in np.flatnonzero(done):
                assert "terminal_observation" in infos[i] and "episode" in infos[i]
        log: _Log = env.log
        assert dones == len(log.episodes) > 0
        assert {e["world"] for e in log.episodes} == {"oval", "kidney"}
        state = json.loads((tmp_path / "workers.json").read_text())
        assert [w["status"] for w in state["workers"]] == ["running", "running"]
    finally:
        env.close()
    state = json.loads((tmp_path / "workers.json").read_text())
    assert [w["status"] for w in state["workers"]] == ["stopped", "stopped"]


def test_a_killed_worker_stops_the_run_under_fail(tmp_path: Path) -> None:
    env = _workers(tmp_path, "launch.failure_behavior=Fail")
    try:
        env.reset()
        actions = np.zeros(4, dtype=np.int64)
        env.step(actions)
        os.kill(env.pids["kidney"], signal.SIGKILL)
        with pytest.raises(WorkerCrashed, match=r"kidney.*killed by SIGKILL.*Fail"):
            env.step(actions)
        state = json.loads((tmp_path / "workers.json").read_text())
        kidney = state["workers"][1]
        assert kidney["status"] == "crashed" and kidney["exit_code"] == -signal.SIGKILL
    finally:
        env.close()


def test_a_killed_worker_restarts_under_continue(tmp_path: Path) -> None:
    reports: list[str] = []
    env = _workers(tmp_path, "launch.failure_behavior=Continue", "launch.max_restarts=1")
    env.say = reports.append
    try:
        env.reset()
        actions = np.zeros(4, dtype=np.int64)
        before, *_ = env.step(actions)
        old = env.pids["oval"]
        os.kill(old, signal.SIGKILL)
        _obs, _, dones, infos = env.step(actions)
        # The oval's cars (0, 2) end their episodes as truncated and start anew.
        assert dones.tolist() == [True, False, True, False]
        for car in (0, 2):
            assert infos[car]["TimeLimit.truncated"] is True
            np.testing.assert_array_equal(infos[car]["terminal_observation"], before[car])
        assert env.pids["oval"] != old
        assert any("died" in r for r in reports) and any("restarted" in r for r in reports)
        env.step(actions)  # the new worker steps
        state = json.loads((tmp_path / "workers.json").read_text())
        assert state["workers"][0]["restarts"] == 1
        # A second crash is one more than max_restarts allows.
        os.kill(env.pids["oval"], signal.SIGKILL)
        with pytest.raises(WorkerCrashed, match="already restarted 1 times"):
            env.step(actions)
    finally:
        env.close()


def test_fewer_cars_than_worlds_is_an_error(tmp_path: Path) -> None:
    experiment = load_experiment("two_worlds", TWO_WORLDS)
    action_space = load_model_metadata(experiment.action_space).action_space
    with pytest.raises(
        DeepRacerError, match=r"n_envs: 1 cars cannot fill 1 worker\(s\) on each of 2"
    ):
        WorldWorkers(experiment, action_space, 1, _Log())


def test_two_workers_per_world_deal_each_worlds_cars(tmp_path: Path) -> None:
    env = _workers(tmp_path, "train.workers.per_world=2")
    try:
        assert [(w.label, w.cars) for w in env.workers] == [
            ("oval#0", [0]), ("oval#1", [2]), ("kidney#0", [1]), ("kidney#1", [3])
        ]  # fmt: skip
        assert set(env.pids) == {"oval#0", "oval#1", "kidney#0", "kidney#1"}
        env.reset()
        obs, *_ = env.step(np.zeros(4, dtype=np.int64))
        assert obs.shape[0] == 4
    finally:
        env.close()
    with pytest.raises(DeepRacerError, match=r"at least 6 cars or lower train.workers.per_world"):
        _workers(tmp_path, "train.workers.per_world=3")


def test_workers_train_exactly_like_one_process(tmp_path: Path) -> None:
    config = load_experiment(
        "two_worlds",
        [*TWO_WORLDS, "train.total_timesteps=1024", "train.checkpoint_every=512",
         "train.eval_every=512"],
    )  # fmt: skip
    train(config, tmp_path / "inline", echo=lambda line: None)
    train(config, tmp_path / "workers", echo=lambda line: None, workers=True)

    def episodes(run: str) -> list[dict[str, Any]]:
        rows = json.loads((tmp_path / run / "training_metrics.json").read_text())["metrics"]
        clock = ("metric_time", "start_time", "elapsed_time_in_milliseconds")
        return [{k: v for k, v in r.items() if k not in clock} for r in rows]

    assert episodes("inline") == episodes("workers") != []
    assert (tmp_path / "workers" / "workers.json").is_file()


def _kill_when_checkpointed(run: Path, world: str) -> threading.Thread:
    def kill() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if (run / "checkpoints" / "latest.json").is_file() and (run / "workers.json").is_file():
                state = json.loads((run / "workers.json").read_text())
                pid = next(w["pid"] for w in state["workers"] if w["world"] == world)
                os.kill(pid, signal.SIGKILL)
                return
            time.sleep(0.05)

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("behavior", ["Fail", "Continue"])
def test_killing_a_worker_mid_run_loses_no_checkpoint(tmp_path: Path, behavior: str) -> None:
    run = tmp_path / "run"
    config = load_experiment(
        "two_worlds",
        [*TWO_WORLDS, "train.total_timesteps=4096", "train.checkpoint_every=512",
         "train.eval_every=4096", f"launch.failure_behavior={behavior}"],
    )  # fmt: skip
    lines: list[str] = []
    killer = _kill_when_checkpointed(run, "kidney")
    if behavior == "Fail":
        with pytest.raises(WorkerCrashed, match="kidney"):
            train(config, run, echo=lines.append, workers=True)
        killer.join()
        latest = json.loads((run / "checkpoints" / "latest.json").read_text())
        assert (run / latest["model"]).is_file() and latest["timesteps"] >= 512
        assert any("checkpoint written" in line for line in lines)
        # The run continues from that checkpoint and finishes.
        result = train(None, run, resume=True, echo=lines.append, workers=True)
        assert result.timesteps >= 4096
    else:
        result = train(config, run, echo=lines.append, workers=True)
        killer.join()
        assert result.timesteps >= 4096
        state = json.loads((run / "workers.json").read_text())
        assert [w["restarts"] for w in state["workers"]] == [0, 1]
    assert any("kidney" in line and "died" in line for line in lines)
    assert (run / "model.zip").is_file()
    metrics = json.loads((run / "training_metrics.json").read_text())["metrics"]
    training = [r["episode"] for r in metrics if r["phase"] == "training"]
    assert training == list(range(1, len(training) + 1))
