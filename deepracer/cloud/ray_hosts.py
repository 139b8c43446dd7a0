"""A Ray cluster across a SageMaker job's hosts (``launch.sagemaker.instance_count > 1``).

SageMaker starts the same container on every host of a job and describes them in
``/opt/ml/input/config/resourceconfig.json`` (``current_host``, ``hosts``). The first
host of ``hosts`` starts the Ray head and trains: the learner runs there and the
simulation workers (``train.workers.backend: ray``) are Ray actors on every host. The
other hosts join the head as Ray nodes, lend their CPUs, and leave when the head is
gone; they write no model.

The nodes authenticate with the token uploaded beside the experiment
(``deepracer/ray_auth_token``, written by ``deepracer launch`` for a job of several
instances), so only this job's hosts can join or drive the cluster.

Hyperparameters read here: ``ray_port`` (the head's port, default 6379),
``ray_num_cpus`` (CPUs each host lends; default: all) and ``ray_wait_minutes`` (how
long the head waits for the other hosts, and they for the head; default 10).

Contents:
    JobHosts: the job's hosts, from resourceconfig.json.
    RayNodes, CliNodes: how a host starts or joins a Ray node (``ray start``).
    run_head, run_member: the head's and the other hosts' part.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from deepracer.errors import ConfigError, DeepRacerError

__all__ = ["CliNodes", "JobHosts", "RayNodes", "cluster_settings", "run_head", "run_member"]

DEFAULT_PORT = 6379


@dataclass(frozen=True)
class JobHosts:
    """The hosts of one SageMaker job.

    Attributes:
        current: This host's name (``algo-1``...).
        hosts: Every host's name, in SageMaker's order; the first is the Ray head.
    """

    current: str
    hosts: tuple[str, ...]

    @classmethod
    def read(cls, path: Path) -> JobHosts | None:
        """The hosts in ``resourceconfig.json``; None without the file (one host).

        Raises:
            ConfigError: The file is not the JSON SageMaker writes.
        """
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text())
            current, hosts = data["current_host"], data["hosts"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"{path}: expected SageMaker's resource config, a JSON object with"
                f" current_host and hosts ({exc})"
            ) from None
        if not (isinstance(hosts, list) and hosts and all(isinstance(h, str) for h in hosts)):
            raise ConfigError(f"{path}: hosts: expected a list of host names")
        if current not in hosts:
            raise ConfigError(f"{path}: current_host {current!r} is not one of hosts {hosts}")
        return cls(current=current, hosts=tuple(hosts))

    @property
    def head(self) -> str:
        """The host that starts the Ray head and trains."""
        return self.hosts[0]

    @property
    def is_head(self) -> bool:
        """Whether this host is the head."""
        return self.current == self.head


@dataclass(frozen=True)
class ClusterSettings:
    """The job's Ray settings (hyperparameters), checked."""

    port: int = DEFAULT_PORT
    num_cpus: int | None = None
    wait_seconds: float = 600.0
    token: str | None = None


def cluster_settings(hyperparameters: Mapping[str, str], token_file: Path) -> ClusterSettings:
    """Reads ``ray_port``, ``ray_num_cpus``, ``ray_wait_minutes`` and the token file.

    Raises:
        ConfigError: A value is not a number in range.
    """

    def number(key: str, kind: Callable[[str], Any], low: float) -> Any:
        text = hyperparameters[key]
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise ConfigError(f"hyperparameters: {key}: expected a number >= {low}, got {text!r}")
        return value

    token = token_file.read_text().strip() if token_file.is_file() else None
    return ClusterSettings(
        port=number("ray_port", int, 1) if "ray_port" in hyperparameters else DEFAULT_PORT,
        num_cpus=number("ray_num_cpus", int, 1) if "ray_num_cpus" in hyperparameters else None,
        wait_seconds=60.0 * number("ray_wait_minutes", float, 0.1)
        if "ray_wait_minutes" in hyperparameters
        else 600.0,
        token=token or None,
    )


class RayNodes(Protocol):
    """Starts this host's Ray node: the head, or one that joins it."""

    def start_head(self, node_ip: str, port: int, num_cpus: int | None) -> str:
        """Starts the head node; returns the cluster's address (``HOST:PORT``)."""

    def join(self, address: str, node_ip: str, num_cpus: int | None) -> None:
        """Starts a node that joins ``address``; raises when the head cannot be reached."""

    def stop(self) -> None:
        """Stops this host's node."""


class CliNodes:
    """``ray start`` / ``ray stop``: what a host of a real cluster runs."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.env = dict(os.environ if env is None else env)
        self.env.setdefault("RAY_USAGE_STATS_ENABLED", "0")

    def _ray(self, *args: str) -> subprocess.CompletedProcess[str]:
        found = shutil.which("ray", path=str(Path(sys.executable).parent))
        command = [found] if found else [sys.executable, "-m", "ray.scripts.scripts"]
        return subprocess.run(
            [*command, *args], env=self.env, capture_output=True, text=True, check=False
        )

    @staticmethod
    def _cpus(num_cpus: int | None) -> list[str]:
        return [f"--num-cpus={num_cpus}"] if num_cpus is not None else []

    def start_head(self, node_ip: str, port: int, num_cpus: int | None) -> str:  # noqa: D102
        done = self._ray(
            "start", "--head", f"--port={port}", f"--node-ip-address={node_ip}",
            "--include-dashboard=false", "--disable-usage-stats", *self._cpus(num_cpus),
        )  # fmt: skip
        if done.returncode != 0:
            raise DeepRacerError(f"ray start --head failed: {_tail(done)}")
        return f"{node_ip}:{port}"

    def join(self, address: str, node_ip: str, num_cpus: int | None) -> None:  # noqa: D102
        done = self._ray(
            "start", f"--address={address}", f"--node-ip-address={node_ip}",
            "--disable-usage-stats", *self._cpus(num_cpus),
        )  # fmt: skip
        if done.returncode != 0:
            raise ConnectionError(_tail(done))

    def stop(self) -> None:  # noqa: D102
        self._ray("stop", "--force")


def _tail(done: subprocess.CompletedProcess[str]) -> str:
    lines = (done.stderr or done.stdout or "").strip().splitlines()
    return " / ".join(lines[-3:]) or f"exit status {done.returncode}"


@contextmanager
def _token(settings: ClusterSettings) -> Iterator[None]:
    """Ray's token authentication with the job's token, for this process and ``ray``."""
    if settings.token is None:
        yield
        return
    saved = {k: os.environ.get(k) for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    os.environ.update({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": settings.token})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_head(
    hosts: JobHosts,
    settings: ClusterSettings,
    train: Callable[[], Any],
    *,
    nodes: RayNodes | None = None,
    resolve: Callable[[str], str] = socket.gethostbyname,
    say: Callable[[str], None] = print,
) -> Any:
    """Starts the head, waits for the other hosts, runs ``train`` on the cluster.

    ``train`` runs with this process connected to the cluster, so the run's Ray
    workers (``train.workers.backend: ray``) are placed on every host.

    Returns:
        What ``train`` returned.
    """
    with _token(settings):
        # Ray reads its authentication settings when it is first imported: after the
        # token is in the environment.
        import ray

        from deepracer.training.ray_workers import ray_init_kwargs

        nodes = nodes or CliNodes()
        node_ip = resolve(hosts.current)
        address = nodes.start_head(node_ip, settings.port, settings.num_cpus)
        say(f"Ray head on {hosts.current} ({address}); waiting for {len(hosts.hosts) - 1} hosts")
        try:
            kwargs = ray_init_kwargs()
            kwargs.pop("include_dashboard")  # the head node was started without one
            ray.init(address=address, _node_ip_address=node_ip, **kwargs)
            deadline = time.monotonic() + settings.wait_seconds
            while True:
                alive = [n for n in ray.nodes() if n.get("Alive")]
                if len(alive) >= len(hosts.hosts) or time.monotonic() >= deadline:
                    break
                time.sleep(1.0)
            cpus = ray.cluster_resources().get("CPU", 0)
            if len(alive) < len(hosts.hosts):
                say(
                    f"warning: {len(alive)} of {len(hosts.hosts)} hosts joined within"
                    f" {settings.wait_seconds:g} s (ray_wait_minutes); training on those"
                )
            say(f"Ray cluster: {len(alive)} nodes, {cpus:g} CPUs")
            return train()
        finally:
            if ray.is_initialized():
                ray.shutdown()
            nodes.stop()


def run_member(
    hosts: JobHosts,
    settings: ClusterSettings,
    *,
    nodes: RayNodes | None = None,
    resolve: Callable[[str], str] = socket.gethostbyname,
    say: Callable[[str], None] = print,
    poll_seconds: float = 2.0,
) -> None:
    """Joins the head as a Ray node and returns once the head is gone.

    Raises:
        DeepRacerError: The head could not be joined within ``ray_wait_minutes``.
    """
    with _token(settings):
        nodes = nodes or CliNodes()
        head_ip = resolve(hosts.head)
        address = f"{head_ip}:{settings.port}"
        node_ip = resolve(hosts.current)
        deadline = time.monotonic() + settings.wait_seconds
        while True:
            try:
                nodes.join(address, node_ip, settings.num_cpus)
                break
            except ConnectionError as exc:
                if time.monotonic() >= deadline:
                    raise DeepRacerError(
                        f"{hosts.current}: could not join the Ray head {hosts.head} at"
                        f" {address} within {settings.wait_seconds:g} s (ray_wait_minutes):"
                        f" {exc}"
                    ) from None
                time.sleep(min(poll_seconds, 2.0))
        say(f"{hosts.current} joined the Ray head {hosts.head} at {address}")
        try:
            misses = 0
            # The head's port answers while the cluster lives; three misses in a row
            # (not one dropped packet) mean the head finished or died.
            while misses < 3:
                time.sleep(poll_seconds)
                try:
                    with socket.create_connection((head_ip, settings.port), timeout=5):
                        misses = 0
                except OSError:
                    misses += 1
            say(f"the Ray head {hosts.head} is gone; {hosts.current} leaves the cluster")
        finally:
            nodes.stop()
