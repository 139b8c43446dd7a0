"""evaluations.json: typed records, written whole, read back with clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deepracer.errors import DeepRacerError
from deepracer.runs.evaluations import PeriodicEvaluation, read_evaluations, write_evaluations

ONE = PeriodicEvaluation(512, 3.5, 20, 61.5, 1, 2, 9.1, 9.1, 40.0)


def test_records_round_trip_in_the_file_order(tmp_path: Path) -> None:
    path = tmp_path / "evaluations.json"
    two = PeriodicEvaluation(1024, 7.0, 41, 100.0, 2, 2, 8.5, 8.7, None)
    write_evaluations(path, [ONE, two])
    assert read_evaluations(path) == [ONE, two]
    first = json.loads(path.read_text())[0]
    assert list(first) == [
        "timesteps", "wall_seconds", "episodes", "mean_progress", "laps_completed",
        "trials", "best_lap_time", "mean_lap_time", "training_progress",
    ]  # fmt: skip


def test_the_best_is_more_progress_then_a_faster_lap() -> None:
    slow = PeriodicEvaluation(1, 0, 0, 100.0, 1, 1, 10.0, 10.0)
    fast = PeriodicEvaluation(2, 0, 0, 100.0, 1, 1, 9.0, 9.0)
    far = PeriodicEvaluation(3, 0, 0, 99.0, 0, 1)
    assert max([slow, fast, far], key=PeriodicEvaluation.score) == fast
    assert far.score() < slow.score()


def test_unknown_fields_are_kept_out_and_missing_ones_named(tmp_path: Path) -> None:
    path = tmp_path / "evaluations.json"
    path.write_text(json.dumps([{**ONE.__dict__, "later_field": 1}]))
    assert read_evaluations(path) == [ONE]
    path.write_text('[{"timesteps": 5}]')
    with pytest.raises(DeepRacerError, match=r"evaluations\.json: an evaluation lacks a field"):
        read_evaluations(path)
    path.write_text('[{"steps": 5}]')
    with pytest.raises(
        DeepRacerError, match=r'expected a JSON list of evaluations with "timesteps"'
    ):
        read_evaluations(path)
