"""``progress.json``: what a watcher reads of a training, and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deepracer.errors import DeepRacerError
from deepracer.runs.progress import TrainingProgress, read_progress, write_progress


def test_a_progress_record_round_trips_and_a_missing_file_is_none(tmp_path: Path) -> None:
    record = TrainingProgress("training", 2048, 30000, 120, 1850.5, 15.0, 1796600000.25)
    write_progress(tmp_path / "progress.json", record)
    assert read_progress(tmp_path / "progress.json") == record
    assert read_progress(tmp_path / "absent.json") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"state": "running"}, "field state is 'running'; expected one of training, finished"),
        ({"timesteps": -1}, "field timesteps is -1; expected a whole number >= 0"),
        ({"episodes": 1.5}, "field episodes is 1.5; expected a whole number >= 0"),
        ({"steps_per_second": "fast"}, "field steps_per_second is 'fast'; expected a number"),
        ({"updated": None}, "field updated is None; expected a number"),
    ],
)
def test_a_bad_field_is_named(tmp_path: Path, change: dict[str, object], message: str) -> None:
    path = tmp_path / "progress.json"
    good = {"state": "finished", "timesteps": 1, "total_timesteps": 1, "episodes": 1,
            "steps_per_second": 1.0, "eta_seconds": None, "updated": 1.0}  # fmt: skip
    path.write_text(json.dumps({**good, **change}))
    with pytest.raises(DeepRacerError, match=f"^{path}: {message}"):
        read_progress(path)
    path.write_text('{"state": "train')  # half-written by some other tool
    with pytest.raises(DeepRacerError, match="cannot read it as JSON"):
        read_progress(path)
