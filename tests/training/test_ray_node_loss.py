"""A Ray node lost mid-run: its worker is restarted on another node (own module: its
own three-node cluster, while test_ray_workers keeps one for the module)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
pytest.importorskip("ray")

from tests.ray_cluster import loopback_cluster
from tests.training.test_ray_workers import _workers


@pytest.mark.slow
def test_a_lost_node_restarts_its_worker_on_another_under_continue(tmp_path: Path) -> None:
    with loopback_cluster([1, 1, 1]) as three:  # head, two nodes: one spare CPU
        reports: list[str] = []
        env = _workers(tmp_path, "launch.failure_behavior=Continue", "launch.worker_timeout=30")
        env.say = reports.append
        try:
            env.reset()
            actions = np.zeros(4, dtype=np.int64)
            env.step(actions)
            state = json.loads((tmp_path / "workers.json").read_text())
            # The head holds one CPU, so at least one worker runs on another node.
            nodes = {n.node_id: n for n in three.list_all_nodes() if n is not three.head_node}
            index, worker = next((i, w) for i, w in enumerate(state["workers"])
                                 if w["node_id"] in nodes)  # fmt: skip
            three.remove_node(nodes[worker["node_id"]])
            _, _, dones, _ = env.step(actions)
            assert [bool(dones[car]) for car in worker["cars"]] == [True] * len(worker["cars"])
            env.step(actions)
            after = json.loads((tmp_path / "workers.json").read_text())["workers"][index]
            assert after["restarts"] == 1 and after["node_id"] != worker["node_id"]
            assert any("died" in r for r in reports) and any("restarted" in r for r in reports)
        finally:
            env.close()
