"""Shared fixtures: the real DeepRacer route files in ../shared/tracks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_TRACKS = Path(__file__).resolve().parents[1].parent / "shared" / "tracks"
CLOSED_TRACKS = (
    "reinvent_base",
    "reInvent2019_track",
    "reInvent2019_wide",
    "Oval_track",
    "Bowtie_track",
)


def _require_shared() -> Path:
    if not SHARED_TRACKS.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"CI must provide the shared route files at {SHARED_TRACKS}")
        pytest.skip(f"the shared route files are not at {SHARED_TRACKS}")
    return SHARED_TRACKS


@pytest.fixture
def shared_tracks(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared route-file folder, also put on DEEPRACER_TRACKS_PATH."""
    folder = _require_shared()
    monkeypatch.setenv("DEEPRACER_TRACKS_PATH", str(folder))
    return folder
