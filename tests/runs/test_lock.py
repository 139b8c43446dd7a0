"""Run directories: one per run even in the same second, and one writer at a time."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from deepracer.errors import DeepRacerError
from deepracer.runs.lock import (
    LOCK_FILE,
    RunLock,
    claim_run_dir,
    is_empty_run_dir,
    lock_holder,
    new_run_dir,
    run_dir_for,
)

ROOT = Path(__file__).resolve().parents[2]
HOLD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from deepracer.runs.lock import RunLock
    with RunLock(Path(sys.argv[1])):
        print("held", flush=True)
        time.sleep(60)
    """
)


def test_claims_in_the_same_second_get_their_own_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(time, "strftime", lambda _format: "20261206-120000")  # one second
    first, second, third = (claim_run_dir("quick", tmp_path) for _ in range(3))
    assert (first.name, second.name, third.name) == (
        "quick-20261206-120000",
        "quick-20261206-120000-2",
        "quick-20261206-120000-3",
    )
    assert all(p.is_dir() and is_empty_run_dir(p) for p in (first, second, third))


def test_a_failed_command_leaves_no_empty_run_directory(tmp_path: Path) -> None:
    with pytest.raises(DeepRacerError), new_run_dir("bad", tmp_path) as path, RunLock(path):
        raise DeepRacerError("bad input")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError), new_run_dir("half", tmp_path) as path:
        (path / "experiment.yaml").write_text("x")
        raise RuntimeError("crash after writing")
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # what was written stays
    with run_dir_for(tmp_path / "given", "x") as given:
        assert given == tmp_path / "given" and not given.exists()  # --out is not created


def test_a_second_writer_is_told_the_pid_of_the_first(tmp_path: Path) -> None:
    run = tmp_path / "run"
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(run)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        assert lock_holder(run) == child.pid  # what a dashboard sees, lock untouched
        with pytest.raises(DeepRacerError, match=rf"{run}: run is in use by pid {child.pid} "):
            RunLock(run).acquire()
    finally:
        child.kill()
        child.wait()
    assert lock_holder(run) is None  # the file still names the dead pid
    with RunLock(run):  # a killed holder frees the run at once
        assert (run / LOCK_FILE).read_text() == f"{os.getpid()}\n"
        assert lock_holder(run) == os.getpid()
    assert lock_holder(run) is None and lock_holder(tmp_path / "none") is None


def test_an_out_that_is_a_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("mine")
    with pytest.raises(DeepRacerError, match=r"notes\.txt: is a file, not a run directory"):
        RunLock(path).acquire()
    assert path.read_text() == "mine"
