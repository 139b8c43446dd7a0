"""Shared fixtures: the AWS DeepRacer route files shipped with the package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deepracer.tracks.catalog import ROUTES_DIR

CLOSED_TRACKS = (
    "reinvent_base",
    "reInvent2019_track",
    "reInvent2019_wide",
    "Oval_track",
    "Bowtie_track",
)


@pytest.fixture
def routes() -> Path:
    """The folder of shipped route files (every name in it resolves with no setup)."""
    return ROUTES_DIR


@pytest.fixture(autouse=True)
def _no_user_tracks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see the shipped tracks only, whatever the developer's shell exports."""
    monkeypatch.delenv("DEEPRACER_TRACKS_PATH", raising=False)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Under CI, a skipped test fails the run: the suite must need nothing outside it."""
    skipped = terminalreporter.stats.get("skipped", [])
    if os.environ.get("CI") and skipped:
        terminalreporter.write_line(
            f"CI: {len(skipped)} test(s) skipped; the default run must skip none", red=True
        )
        terminalreporter._session.exitstatus = pytest.ExitCode.TESTS_FAILED
