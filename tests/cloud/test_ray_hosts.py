"""A SageMaker job of several hosts: a Ray cluster, the head trains, the others lend CPUs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("stable_baselines3")

from deepracer.cloud import ray_hosts
from deepracer.cloud.container import ROOT_ENV, run_training
from deepracer.cloud.layout import RAY_TOKEN_FILE
from deepracer.cloud.ray_hosts import CliNodes, JobHosts, cluster_settings
from deepracer.errors import ConfigError, DeepRacerError
from tests.cloud.test_container import sagemaker_tree


def _resource_config(root: Path, current: str, hosts: list[str]) -> None:
    path = root / "input" / "config" / "resourceconfig.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"current_host": current, "hosts": hosts,
                                "network_interface_name": "eth0"}))  # fmt: skip


def test_the_first_host_is_the_head(tmp_path: Path) -> None:
    _resource_config(tmp_path, "algo-2", ["algo-1", "algo-2"])
    hosts = JobHosts.read(tmp_path / "input" / "config" / "resourceconfig.json")
    assert hosts == JobHosts("algo-2", ("algo-1", "algo-2"))
    assert hosts.head == "algo-1" and not hosts.is_head
    assert JobHosts.read(tmp_path / "missing.json") is None


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[]", "expected SageMaker's resource config"),
        ('{"current_host": "a", "hosts": []}', "hosts: expected a list of host names"),
        ('{"current_host": "c", "hosts": ["a", "b"]}', "current_host 'c' is not one of"),
    ],
)
def test_a_bad_resource_config_names_the_file(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "resourceconfig.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=rf"resourceconfig\.json: {match}"):
        JobHosts.read(path)


def test_cluster_settings_come_from_hyperparameters_and_the_token_file(tmp_path: Path) -> None:
    token = tmp_path / RAY_TOKEN_FILE
    token.write_text("abc123\n")
    settings = cluster_settings(
        {"ray_port": "7000", "ray_num_cpus": "3", "ray_wait_minutes": "0.5"}, token
    )
    assert (settings.port, settings.num_cpus, settings.wait_seconds) == (7000, 3, 30.0)
    assert settings.token == "abc123"
    assert cluster_settings({}, tmp_path / "none").token is None
    with pytest.raises(ConfigError, match=r"hyperparameters: ray_port: expected a number"):
        cluster_settings({"ray_port": "x"}, token)


def test_ray_start_is_asked_for_the_head_and_the_members(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(argv)
        assert kwargs["env"]["RAY_USAGE_STATS_ENABLED"] == "0"
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(ray_hosts.subprocess, "run", run)
    nodes = CliNodes(env={})
    assert nodes.start_head("10.0.0.1", 6379, 4) == "10.0.0.1:6379"
    nodes.join("10.0.0.1:6379", "10.0.0.2", None)
    nodes.stop()
    head, member, stop = (c[c.index("start") :] if "start" in c else c[-2:] for c in calls)
    assert head == [
        "start", "--head", "--port=6379", "--node-ip-address=10.0.0.1",
        "--include-dashboard=false", "--disable-usage-stats", "--num-cpus=4",
    ]  # fmt: skip
    assert member == ["start", "--address=10.0.0.1:6379", "--node-ip-address=10.0.0.2",
                      "--disable-usage-stats"]  # fmt: skip
    assert stop == ["stop", "--force"]


def test_the_jobs_token_reaches_ray_start_and_only_while_the_job_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (The loopback cluster test runs without a token: Ray reads its authentication
    # mode once per process, and the test process imported Ray long before.)
    envs: list[dict[str, str]] = []

    def run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        envs.append(kwargs["env"])
        return subprocess.CompletedProcess(argv, 1, "", "no head yet")

    monkeypatch.setattr(ray_hosts.subprocess, "run", run)
    monkeypatch.delenv("RAY_AUTH_TOKEN", raising=False)
    token = tmp_path / RAY_TOKEN_FILE
    token.write_text("f00d" * 16 + "\n")
    settings = replace(cluster_settings({}, token), wait_seconds=0.0)
    hosts = JobHosts("algo-2", ("algo-1", "algo-2"))
    with pytest.raises(DeepRacerError, match=r"algo-2: could not join the Ray head algo-1"):
        ray_hosts.run_member(hosts, settings, resolve=lambda host: "10.0.0.9", say=print)
    assert envs and all(e["RAY_AUTH_TOKEN"] == "f00d" * 16 for e in envs)
    assert all(e["RAY_AUTH_MODE"] == "token" for e in envs)
    assert "RAY_AUTH_TOKEN" not in os.environ


class _Shared:
    """The loopback cluster both simulated hosts' nodes belong to."""

    def __init__(self) -> None:
        self.cluster: Any = None
        self.up = threading.Event()


class LoopbackNodes:
    """One host's Ray node in a loopback cluster started in this process (cluster_utils)."""

    def __init__(self, shared: _Shared) -> None:
        self.shared = shared
        self.node: Any = None
        self.head = False

    def start_head(self, node_ip: str, port: int, num_cpus: int | None) -> str:
        from ray.cluster_utils import Cluster

        # No exit hooks: they install signal handlers, which only the main thread may.
        self.shared.cluster = Cluster(
            initialize_head=True,
            shutdown_at_exit=False,
            head_node_args={
                "num_cpus": num_cpus,
                "node_ip_address": node_ip,
                "gcs_server_port": port,
                "include_dashboard": False,
            },
        )
        self.head = True
        self.shared.up.set()
        assert self.shared.cluster.address == f"{node_ip}:{port}"
        return str(self.shared.cluster.address)

    def join(self, address: str, node_ip: str, num_cpus: int | None) -> None:
        if not self.shared.up.wait(timeout=1):
            raise ConnectionError("the head is not up yet")
        assert address == self.shared.cluster.address
        self.node = self.shared.cluster.add_node(num_cpus=num_cpus, node_ip_address=node_ip)

    def stop(self) -> None:
        if self.head:
            self.shared.cluster.shutdown()  # the head's stop ends the cluster


@pytest.mark.slow
def test_two_hosts_train_with_a_worker_actor_on_each(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    hosts = ["algo-1", "algo-2"]
    roots = {}
    with socket.socket() as probe:  # a free port on loopback for the head
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for host in hosts:
        hyper = {"train.total_timesteps": "768", "ray_num_cpus": "1", "ray_wait_minutes": "1",
                 "ray_port": str(port)}  # fmt: skip
        root = sagemaker_tree(tmp_path / host, hyper)
        _resource_config(root, host, hosts)
        roots[host] = root
    shared = _Shared()

    def loopback(host: str) -> str:  # algo-1 and algo-2 are both this machine
        assert host in hosts
        return "127.0.0.1"

    member_lines: list[str] = []
    errors: list[BaseException] = []

    def member() -> None:
        try:
            got = run_training(env={ROOT_ENV: str(roots["algo-2"])}, echo=member_lines.append,
                               nodes=LoopbackNodes(shared), resolve=loopback)  # fmt: skip
            assert got is None
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=member)
    thread.start()
    lines: list[str] = []
    try:
        result = run_training(env={ROOT_ENV: str(roots["algo-1"])}, echo=lines.append,
                              nodes=LoopbackNodes(shared), resolve=loopback)  # fmt: skip
    finally:
        thread.join(timeout=60)
    assert not errors, errors
    assert result.timesteps >= 768
    assert any("Ray cluster: 2 nodes, 2 CPUs" in line for line in lines), lines
    assert any("joined the Ray head algo-1" in line for line in member_lines)
    assert any("is gone; algo-2 leaves" in line for line in member_lines)
    run = roots["algo-1"] / "model"
    state = json.loads((run / "workers.json").read_text())
    assert state["backend"] == "ray"
    assert len({w["node_id"] for w in state["workers"]}) == 2  # one actor per host
    assert not (roots["algo-2"] / "model").exists()  # only the head writes the model


def test_an_upload_for_several_instances_carries_a_fresh_token(tmp_path: Path) -> None:
    from deepracer.cloud.artifacts import upload_experiment
    from deepracer.cloud.storage import open_storage
    from deepracer.experiment import load_experiment

    tokens = []
    for count, folder in ((2, "a"), (2, "b"), (1, "c")):
        experiment = load_experiment("two_worlds", [f"launch.sagemaker.instance_count={count}"])
        storage, layout = open_storage(str(tmp_path / folder))
        upload_experiment(experiment, storage, layout)
        token = tmp_path / folder / layout.ray_token_key
        tokens.append(token.read_text().strip() if token.exists() else None)
    assert tokens[0] and tokens[1] and len(tokens[0]) == 64 and tokens[0] != tokens[1]
    assert tokens[2] is None  # one instance: no cluster, no token
