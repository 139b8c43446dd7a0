"""Simulation workers as Ray actors: ``train.workers.backend: ray`` (the ``ray`` extra).

Each worker of :class:`~deepracer.training.workers.WorldWorkers` becomes an actor
serving a :class:`~deepracer.training.simulation.Simulation`, placed by Ray on any node
with a free CPU (``train.workers.cpus_per_worker``); the learner stays in the driver.
The commands go over a direct connection to each actor (see :class:`RayLink`), so
every world steps at once as with local processes. Ray never restarts an actor on its
own (``max_restarts=0``): a lost actor or node is reported to :class:`WorldWorkers`,
whose ``launch.failure_behavior`` decides.

Every node runs the simulation from its own installation and reads the experiment's
files (reward, worlds) at the same paths: true on one machine, on SageMaker's hosts
(the same input channels) and on clusters with a shared file system.

Only :mod:`deepracer.training.workers` (and the sweep) import this module, and only
when asked for Ray: the core never imports ``ray``.

Contents:
    RaySession: the connection to Ray (started here or joined) and its actor links.
    RayLink: one worker actor, spoken to like a worker process.
    ray_init_kwargs, connect: the settings every ``ray.init`` of ours uses; connecting.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import socket
import threading
import time
from multiprocessing.connection import Client, Connection, Listener
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError

from deepracer.errors import DeepRacerError
from deepracer.training.simulation import send, serve, start_simulation

__all__ = ["RayLink", "RaySession", "connect", "ray_init_kwargs"]


def ray_init_kwargs() -> dict[str, Any]:
    """What every ``ray.init`` of ours passes: no dashboard, quiet, no usage report."""
    # Ray reports usage to its developers unless told not to; we ask first.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    return {"include_dashboard": False, "logging_level": "warning"}


def connect(
    address: str | None,
    *,
    field: str,
    num_cpus: int | None = None,
    env_vars: dict[str, str] | None = None,
) -> bool:
    """Connects this process to Ray unless it already is.

    Args:
        address: ``None`` starts Ray on this machine; ``auto`` or ``HOST:PORT`` joins a
            running cluster.
        field: Names the setting in the error message.
        num_cpus: CPUs of a Ray started here (default: the machine's).
        env_vars: Environment of every Ray worker process.

    Returns:
        Whether this call connected (the caller then shuts Ray down when done).

    Raises:
        DeepRacerError: Ray could not start or the cluster could not be reached.
    """
    if ray.is_initialized():
        return False
    kwargs = ray_init_kwargs()
    if env_vars:
        kwargs["runtime_env"] = {"env_vars": env_vars}
    if address is None:
        if num_cpus is not None:
            kwargs["num_cpus"] = num_cpus
    else:
        kwargs["address"] = address
    try:
        ray.init(**kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = "on this machine" if address is None else f"at {address}"
        raise DeepRacerError(f"{field}: could not start or reach Ray {where}: {exc}") from None
    return True


@ray.remote(max_restarts=0)
class _SimulationActor:
    """Serves one world's :class:`Simulation` from a Ray worker process."""

    def serve(self, authkey: bytes, args: tuple[Any, ...]) -> dict[str, Any]:
        """Listens for the learner on this node and answers it from a thread.

        Returns:
            Where the actor runs and the address the learner connects to.
        """
        node_ip = ray.util.get_node_ip_address()
        listener = Listener((node_ip, 0), authkey=authkey)
        thread = threading.Thread(
            target=_serve, args=(listener, args), name="deepracer-simulation", daemon=True
        )
        thread.start()
        return {
            "pid": os.getpid(),
            "node_id": ray.get_runtime_context().get_node_id(),
            "node_ip": node_ip,
            "address": listener.address,
        }


def _serve(listener: Listener, args: tuple[Any, ...]) -> None:
    """One learner's connection: the simulation's first reply, then command by command."""
    try:
        conn = listener.accept()
    except (OSError, EOFError):
        return
    finally:
        listener.close()
    _no_delay(conn)
    with conn:
        simulation, reply = start_simulation(*args)
        conn.send(reply)
        if simulation is not None:
            serve(conn, simulation)


def _no_delay(conn: Connection) -> None:
    """Sends each message at once (TCP_NODELAY).

    A large message (a camera observation) goes out as a header and a body; with
    Nagle's algorithm the body waits for the peer's delayed acknowledgement, 40 ms per
    step on Linux.
    """
    with socket.fromfd(conn.fileno(), socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class RayLink:
    """One worker actor, behind the :class:`~deepracer.training.workers.Link` calls.

    Ray places the actor and owns its process; the commands travel over a direct,
    authenticated connection to it (a random key per worker, handed over through Ray).
    An actor call per command would cost about a millisecond of Ray's own round trip,
    twice per vector step: that made the workers five times slower than local
    processes on the state observation (benchmarks/world_workers.py).
    """

    def __init__(self, cpus: float) -> None:
        self.cpus = cpus
        self.actor: Any = None
        self.serving: Any = None
        self.conn: Connection | None = None
        self.node: dict[str, Any] = {}
        self.exit_reason: str | None = None
        self._authkey = b""

    def start(self, name: str, args: tuple[Any, ...]) -> None:  # noqa: D102
        self.kill()
        self._authkey = secrets.token_bytes(32)
        self.actor = _SimulationActor.options(  # type: ignore[attr-defined]
            num_cpus=self.cpus
        ).remote()
        self.serving = self.actor.serve.remote(self._authkey, args)
        self.node, self.exit_reason = {}, None

    def send(self, message: tuple[str, Any]) -> bool:  # noqa: D102
        return send(self.conn, message)

    def receive(self, timeout: float) -> tuple[str, Any]:  # noqa: D102
        deadline = time.monotonic() + timeout
        if self.conn is None:
            crashed = self._connect(timeout)
            if crashed is not None:
                return crashed
        assert self.conn is not None
        try:
            if self.conn.poll(max(0.0, deadline - time.monotonic())):
                reply: tuple[str, Any] = self.conn.recv()
                return reply
            self.exit_reason = f"no answer within {timeout:g} s (launch.worker_timeout)"
        except (EOFError, OSError):
            self.exit_reason = "its connection closed: the Ray actor's process died"
        self.kill()
        return "crashed", self.exit_reason

    def _connect(self, timeout: float) -> tuple[str, Any] | None:
        """Waits for the actor to be placed and serving, then connects to it."""
        try:
            self.node = ray.get(self.serving, timeout=timeout)
            self.conn = Client(tuple(self.node["address"]), authkey=self._authkey)
            _no_delay(self.conn)
        except GetTimeoutError:
            self.kill()
            self.exit_reason = (
                f"not placed or not started within {timeout:g} s: does the cluster have"
                f" {self.cpus:g} free CPU for it?"
            )
            return "crashed", self.exit_reason
        except RayActorError as exc:
            self.exit_reason = _death(exc)
            return "crashed", self.exit_reason
        except (OSError, EOFError) as exc:
            self.kill()
            self.exit_reason = (
                f"could not connect to the actor at {self.node.get('address')}: {exc}"
            )
            return "crashed", self.exit_reason
        return None

    def close(self) -> None:  # noqa: D102
        if self.conn is not None and self.send(("close", None)):
            with contextlib.suppress(EOFError, OSError):
                if self.conn.poll(10):
                    self.conn.recv()
        self.kill()

    def kill(self) -> None:  # noqa: D102
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if self.actor is not None:
            ray.kill(self.actor, no_restart=True)
            self.actor = None

    def where(self) -> str:  # noqa: D102
        pid = self.node.get("pid", "?")
        return f"pid {pid} on node {self.node.get('node_ip', '?')}"

    def state(self) -> dict[str, Any]:  # noqa: D102
        return {
            "pid": self.node.get("pid"),
            "node_id": self.node.get("node_id"),
            "node_ip": self.node.get("node_ip"),
            "exit_reason": self.exit_reason,
        }

    @property
    def pid(self) -> int | None:  # noqa: D102
        pid = self.node.get("pid")
        return int(pid) if pid is not None else None


def _death(exc: RayActorError) -> str:
    """A one-line reason from Ray's (long) actor-death message."""
    text = str(exc)
    for marker in ("killed by", "SIGKILL", "node", "exited", "died"):
        for line in text.splitlines():
            if marker in line and len(line) < 300:
                return f"the Ray actor died: {line.strip()}"
    return "the Ray actor died"


class RaySession:
    """The driver's connection to Ray for one run's workers.

    Args:
        address: ``None`` starts Ray on this machine (stopped again at :meth:`close`);
            ``"auto"`` or ``HOST:PORT`` joins a running cluster. When this process is
            already connected (a sweep trial, a test), that connection is used.
        workers: Actors the run needs (so a Ray started here has CPUs for each).
        cpus: CPUs each actor asks for.

    Raises:
        DeepRacerError: Ray could not start or the cluster could not be reached.
    """

    def __init__(self, address: str | None, *, workers: int, cpus: float) -> None:
        self.cpus = cpus
        # A local Ray gets a CPU per actor even on a smaller machine, as the local
        # backend starts a process per world whatever the cores.
        local_cpus = max(os.cpu_count() or 1, math.ceil(workers * cpus))
        self.started = connect(address, field="train.workers.address", num_cpus=local_cpus)

    def link(self) -> RayLink:
        """A new (not yet started) actor link."""
        return RayLink(self.cpus)

    def describe(self) -> str:
        """One line: the cluster the workers run on."""
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        cpus = ray.cluster_resources().get("CPU", 0)
        return (
            f"Ray workers: {len(nodes)} node(s), {cpus:g} CPUs; each worker asks for"
            f" {self.cpus:g} CPU"
        )

    def close(self) -> None:
        """Disconnects, and stops Ray if this session started it."""
        if self.started and ray.is_initialized():
            ray.shutdown()
        self.started = False
