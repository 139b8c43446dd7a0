"""Shared fixtures: the AWS DeepRacer route files shipped with the package."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from deepracer.tracks.catalog import ROUTES_DIR
from deepracer.trust import CONFIG_DIR_ENV

_CONFIG_DIR = pytest.StashKey[str]()

CLOSED_TRACKS = (
    "reinvent_base",
    "reInvent2019_track",
    "reInvent2019_wide",
    "Oval_track",
    "Bowtie_track",
)


def pytest_configure(config: pytest.Config) -> None:
    """Runs the suite creates are signed with a key of the suite's, not the user's."""
    config.stash[_CONFIG_DIR] = os.environ[CONFIG_DIR_ENV] = tempfile.mkdtemp(
        prefix="deepracer-test-config-"
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(config.stash.get(_CONFIG_DIR, ""), ignore_errors=True)


@pytest.fixture
def routes() -> Path:
    """The folder of shipped route files (every name in it resolves with no setup)."""
    return ROUTES_DIR


@pytest.fixture(autouse=True)
def _python_sigint() -> Iterator[None]:
    """Tests run under Python's own SIGINT handler, whatever runner started them.

    The reward loader tells a real Ctrl-C from a KeyboardInterrupt raised by reward
    code by counting SIGINTs, which it can only do under Python's handler; a runner
    with its own (mutmut has one) would turn every such test into a real interrupt.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if previous is not None:  # None: a handler set outside Python, left alone
            signal.signal(signal.SIGINT, previous)


@pytest.fixture(scope="module", autouse=True)
def _module_temp_cleanup(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Removes the folders a module's shared fixtures made, once its tests passed.

    Trained camera models are 70 MB a file and a run holds three: kept to the end of
    the session, the suite's runs filled a CI machine's disk. Function-scoped
    ``tmp_path`` folders go with ``tmp_path_retention_policy = "failed"``; this does the
    same for ``tmp_path_factory.mktemp`` folders of module-scoped fixtures (no fixture
    of the suite is session-scoped). A module with a failure keeps its folders.
    """
    base = tmp_path_factory.getbasetemp()
    before = set(base.iterdir())
    failed = request.session.testsfailed
    yield
    if request.session.testsfailed == failed:
        for path in set(base.iterdir()) - before:
            shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(autouse=True)
def _no_user_tracks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see the shipped tracks only, whatever the developer's shell exports."""
    monkeypatch.delenv("DEEPRACER_TRACKS_PATH", raising=False)


def _skipped(config: pytest.Config) -> list[pytest.TestReport]:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    return list(reporter.stats.get("skipped", [])) if reporter else []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI, a skipped test fails the run: the suite must need nothing outside it."""
    if os.environ.get("CI") and exitstatus == pytest.ExitCode.OK and _skipped(session.config):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = _skipped(terminalreporter.config)
    if os.environ.get("CI") and skipped:
        terminalreporter.write_line(
            f"CI: {len(skipped)} test(s) skipped, which fails the run: the default run must"
            " skip none (a test may not depend on anything outside the repository)",
            red=True,
        )
