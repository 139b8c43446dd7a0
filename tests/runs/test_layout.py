"""RunFiles: where each file of a run lives, now and in runs written before."""

from __future__ import annotations

import re
from pathlib import Path

from deepracer.runs import RunFiles, episodes_per_worker, evaluation_stamp


def test_the_drfc_model_folder_paths(tmp_path: Path) -> None:
    files = RunFiles(tmp_path)
    assert files.model_metadata == tmp_path / "model" / "model_metadata.json"
    assert files.hyperparameters == tmp_path / "ip" / "hyperparameters.json"
    assert files.simtrace_file(0, 1, 3) == tmp_path / "training-simtrace" / "3-iteration.csv"
    assert files.simtrace_file(1, 2, 0) == tmp_path / "1" / "training-simtrace" / "0-iteration.csv"
    assert not files.is_run() and not files.is_legacy()


def test_an_older_run_keeps_its_metadata_at_the_top(tmp_path: Path) -> None:
    (tmp_path / "model_metadata.json").write_text("{}")
    files = RunFiles(tmp_path)
    assert files.is_legacy() and files.model_metadata == tmp_path / "model_metadata.json"
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model_metadata.json").write_text("{}")
    assert not files.is_legacy()
    assert files.model_metadata == tmp_path / "model" / "model_metadata.json"


def test_simtrace_files_are_listed_by_iteration_number(tmp_path: Path) -> None:
    folder = tmp_path / "training-simtrace"
    folder.mkdir()
    for name in ("10-iteration.csv", "2-iteration.csv", "notes.txt", "x-iteration.csv"):
        (folder / name).write_text("")
    assert list(RunFiles(tmp_path).simtrace_files(0, 1)) == [2, 10]


def test_evaluations_in_the_same_second_get_their_own_folders(tmp_path: Path) -> None:
    files = RunFiles(tmp_path)
    first = files.claim_evaluation_folder(1_800_000_000.0)
    second = files.claim_evaluation_folder(1_800_000_000.0)
    assert first != second and first.is_dir() and second.is_dir()
    for folder in (first, second):
        assert re.fullmatch(r"evaluation-\d{14}", folder.name)  # what deepracer-utils reads
    assert first.name == f"evaluation-{evaluation_stamp(1_800_000_000.0)}"
    assert second.name == f"evaluation-{evaluation_stamp(1_800_000_001.0)}"


def test_an_iteration_is_split_evenly_between_workers() -> None:
    assert episodes_per_worker(20, 1) == 20
    assert episodes_per_worker(20, 3) == 7  # rounded up: every worker does its share
    assert episodes_per_worker(1, 4) == 1
