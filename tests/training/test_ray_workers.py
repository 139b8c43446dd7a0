"""train.workers.backend: ray: simulation workers as Ray actors on two loopback nodes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
pytest.importorskip("ray")

import deepracer.training
from deepracer.errors import DeepRacerError
from deepracer.experiment import load_experiment
from deepracer.runs import RunFiles
from deepracer.training.trainer import train
from deepracer.training.workers import WorkerCrashed, WorldWorkers
from tests.ray_cluster import loopback_cluster, ray
from tests.training.test_workers import TWO_WORLDS
from tests.training.test_workers import _workers as local_workers


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A head and a second node, one CPU each: one worker actor fits on each."""
    with loopback_cluster([1, 1]) as running:
        yield running


BUDGET = ("train.total_timesteps=1024", "train.checkpoint_every=512", "train.eval_every=512")


def _ray_overrides(*more: str) -> list[str]:
    return [*TWO_WORLDS, "train.workers.backend=ray", *more]


def _workers(tmp_path: Path, *overrides: str) -> WorldWorkers:
    return local_workers(tmp_path, "train.workers.backend=ray", *overrides)


def _episodes(run: Path) -> list[dict[str, Any]]:
    rows = json.loads((run / "training_metrics.json").read_text())["metrics"]
    clock = ("metric_time", "start_time", "elapsed_time_in_milliseconds")
    return [{k: v for k, v in r.items() if k not in clock} for r in rows]


def test_a_ray_run_trains_exactly_like_one_process_one_actor_per_node(
    cluster: Any, tmp_path: Path
) -> None:
    config = load_experiment(
        "two_worlds",
        _ray_overrides(*BUDGET),
    )
    lines: list[str] = []
    train(config, tmp_path / "ray", echo=lines.append)
    assert any("Ray workers: 2 node(s), 2 CPUs" in line for line in lines)
    state = json.loads((tmp_path / "ray" / "workers.json").read_text())
    assert state["backend"] == "ray"
    workers = state["workers"]
    assert [w["world"] for w in workers] == ["oval", "kidney"]
    # One actor on each node: the learner drove both over Ray.
    assert len({w["node_id"] for w in workers}) == 2
    assert all(w["node_ip"] == "127.0.0.1" and w["status"] == "stopped" for w in workers)
    # The same episodes, metrics and simtrace files as the in-process run.
    inline = load_experiment("two_worlds", [*TWO_WORLDS, *BUDGET])
    train(inline, tmp_path / "inline", echo=lambda line: None)
    assert _episodes(tmp_path / "ray") == _episodes(tmp_path / "inline") != []

    def simtraces(run: Path) -> dict[str, tuple[str, int]]:
        files = RunFiles(run)
        found = [p for w in range(2) for p in files.simtrace_files(w, 2).values()]
        return {
            str(p.relative_to(run)): (
                p.read_text().splitlines()[0],
                len(p.read_text().splitlines()),
            )
            for p in found
        }

    assert simtraces(tmp_path / "ray") == simtraces(tmp_path / "inline") != {}


def _actor_pid(env: WorldWorkers, world: str) -> int:
    pid = env.pids[world]
    assert pid is not None and pid != os.getpid()
    return pid


@pytest.mark.slow
def test_a_killed_actor_stops_the_run_under_fail(cluster: Any, tmp_path: Path) -> None:
    env = _workers(tmp_path, "launch.failure_behavior=Fail")
    try:
        env.reset()
        actions = np.zeros(4, dtype=np.int64)
        env.step(actions)
        os.kill(_actor_pid(env, "kidney"), signal.SIGKILL)
        with pytest.raises(WorkerCrashed, match=r"kidney.*on node 127\.0\.0\.1.*died.*Fail"):
            env.step(actions)
        kidney = json.loads((tmp_path / "workers.json").read_text())["workers"][1]
        assert kidney["status"] == "crashed" and "Ray actor's process died" in kidney["exit_reason"]
    finally:
        env.close()


def test_a_killed_actor_restarts_under_continue(cluster: Any, tmp_path: Path) -> None:
    reports: list[str] = []
    env = _workers(tmp_path, "launch.failure_behavior=Continue", "launch.max_restarts=1")
    env.say = reports.append
    try:
        env.reset()
        actions = np.zeros(4, dtype=np.int64)
        before, *_ = env.step(actions)
        old = _actor_pid(env, "oval")
        os.kill(old, signal.SIGKILL)
        _obs, _, dones, infos = env.step(actions)
        assert dones.tolist() == [True, False, True, False]
        for car in (0, 2):
            assert infos[car]["TimeLimit.truncated"] is True
            np.testing.assert_array_equal(infos[car]["terminal_observation"], before[car])
        assert _actor_pid(env, "oval") != old
        assert any("died" in r for r in reports) and any("restarted" in r for r in reports)
        env.step(actions)
        state = json.loads((tmp_path / "workers.json").read_text())
        assert [w["restarts"] for w in state["workers"]] == [1, 0]
        assert len({w["node_id"] for w in state["workers"]}) == 2
    finally:
        env.close()
    assert not [a for a in ray.util.list_named_actors()]  # nothing left behind by name


def test_the_core_never_imports_ray() -> None:
    code = (
        "import sys, deepracer, deepracer.training.trainer, deepracer.training.workers,"
        " deepracer.cli; sys.exit('ray' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_without_ray_the_ray_backend_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    monkeypatch.delitem(sys.modules, "deepracer.training.ray_workers", raising=False)
    monkeypatch.delattr(deepracer.training, "ray_workers", raising=False)
    with pytest.raises(DeepRacerError, match=r"backend: ray needs Ray.*deepracer\[ray\]"):
        _workers(tmp_path)
