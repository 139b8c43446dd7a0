"""What the plugin tests share: no network, experiment files, a run's metrics."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml


def _refuse(*_: Any, **__: Any) -> Any:
    raise OSError("network access in an offline test")


@contextmanager
def offline() -> Iterator[None]:
    """Refuses every socket connection inside the block (a plugin must not download)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", _refuse)
        patch.setattr(socket, "create_connection", _refuse)
        yield


def write_experiment(tmp_path: Path, kind: str, section: dict[str, Any], **common: Any) -> Path:
    """Writes ``exp.yaml``: ``kind``, seed 0 unless given, ``common`` keys, the section."""
    data = {"kind": kind, "seed": common.pop("seed", 0), **common, kind: section}
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def read_metrics(run_dir: Path) -> dict[str, Any]:
    """The ``metrics`` mapping of a run's ``metrics.json``."""
    return dict(json.loads((run_dir / "metrics.json").read_text())["metrics"])


def offline_client(service: str, region: str = "us-east-1") -> Any:
    """A boto3 client for botocore's Stubber: explicit fake keys, so no credential
    lookup happens, and the Stubber answers before anything is signed or sent."""
    import boto3

    return boto3.client(
        service,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
