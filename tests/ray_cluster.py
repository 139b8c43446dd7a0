"""A Ray cluster of local nodes on loopback, for the tests of the ``ray`` backend.

Every node is a separate raylet with its own ports on 127.0.0.1, so actors placed on
different nodes run as they would on different machines, and nothing listens beyond
loopback: pytest's environment (pyproject.toml) sets ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``,
which keeps Ray's node addresses on 127.0.0.1, and ``RAY_USAGE_STATS_ENABLED=0``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

ray = pytest.importorskip("ray")

from ray.cluster_utils import Cluster  # noqa: E402

from deepracer.training.ray_workers import ray_init_kwargs  # noqa: E402


@contextlib.contextmanager
def loopback_cluster(cpus: list[int]) -> Iterator[Any]:
    """A head node and more nodes with the given CPUs each, the driver connected."""
    assert not ray.is_initialized(), "a Ray connection is already open"
    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": cpus[0],
            "node_ip_address": "127.0.0.1",
            "include_dashboard": False,
        },
    )
    try:
        for n in cpus[1:]:
            cluster.add_node(num_cpus=n, node_ip_address="127.0.0.1")
        cluster.wait_for_nodes()
        kwargs = ray_init_kwargs()
        kwargs.pop("include_dashboard")
        ray.init(address=cluster.address, _node_ip_address="127.0.0.1", **kwargs)
        nodes = [n for n in ray.nodes() if n["Alive"]]
        assert {n["NodeManagerAddress"] for n in nodes} == {"127.0.0.1"}, nodes
        assert len(nodes) == len(cpus)
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()
