"""Offline AWS for the cloud tests: fake credentials, a fixed region, moto."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

REGION = "us-east-1"


class MockGap(AssertionError):
    """moto answered a call with its "Not yet implemented" 404: a gap in the mock."""


@contextmanager
def guarded_mock_aws() -> Iterator[None]:
    """moto's ``mock_aws``, failing loudly on any call moto does not implement.

    moto answers a request it cannot route with a 404 "Not yet implemented", which the
    code under test would report as some service error deep inside a plugin. Here
    that call raises :class:`MockGap` naming the operation and the moto/botocore pair
    (a new botocore can change a service's protocol before moto follows, as 1.44.18
    did to Athena), and the test fails with that message even if the code under test
    caught the error.
    """
    import botocore
    import moto
    from moto.core.botocore_stubber import BotocoreStubber

    gaps: list[str] = []
    answer = BotocoreStubber.__call__

    def checked(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        response = answer(self, event_name, request, **kwargs)
        if (
            response is not None
            and response.status_code == 404
            and response.content == b"Not yet implemented"
        ):
            _, service, operation = event_name.split(".", 2)
            gaps.append(
                f"moto {moto.__version__} does not implement {service} {operation} as"
                f" botocore {botocore.__version__} sends it ({request.method} {request.url})."
                " The suite passes with the versions in constraints.txt: install with"
                " README command 2, or refresh the lock with .ci/lock to versions that work."
            )
            raise MockGap(gaps[-1])
        return response

    try:
        with mock.patch.object(BotocoreStubber, "__call__", checked), moto.mock_aws():
            yield
    finally:
        if gaps:
            pytest.fail(gaps[0], pytrace=False)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region, so nothing can reach a real account."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials anywhere (and no instance metadata to fall back on)."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def mock_aws(aws_env: None) -> Iterator[None]:
    """moto's in-process AWS (S3, SageMaker, CloudWatch Logs, ...), gaps failing loudly."""
    with guarded_mock_aws():
        yield


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """Each backend in turn: a LocalStorage folder, then the test module's ``s3``."""
    from deepracer.cloud.storage import LocalStorage

    if request.param == "local":
        return LocalStorage(tmp_path / "store")
    return request.getfixturevalue("s3")
