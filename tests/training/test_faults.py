"""kill -9 at seeded moments of a training run: the resume loses and repeats nothing.

Each case kills a training subprocess at the N-th file replacement (``tests/faults``:
the same N always hits the same write), resumes it to the end, and checks that every
episode is recorded exactly once in the metrics and the simtraces, every JSON file
parses, the run trained exactly to its budget and its final model evaluates. The
slow cases also fill a real disk (a small tmpfs, where mount is allowed) at five
different writes and resume once there is room again.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("stable_baselines3")

from deepracer.logs import read_simtrace
from tests.training.test_trainer import TINY, TINY_PPO

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 1024  # four rollouts of 2 envs x 128 steps
SETTINGS = [f"preset={TINY_PPO}", *TINY, f"train.total_timesteps={BUDGET}"]
KILLED = -9


def _run(*args: str, faults: tuple[int, str] = (0, "before")) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tests.faults", str(faults[0]), faults[1], "--", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def _train(out: Path, faults: tuple[int, str] = (0, "before")) -> subprocess.CompletedProcess[str]:
    args = ["train", "quickstart", "--out", str(out)]
    for item in SETTINGS:
        args += ["--set", item]
    return _run(*args, faults=faults)


@pytest.fixture(scope="module")
def replaces(tmp_path_factory: pytest.TempPathFactory) -> int:
    """How many files a whole run of these settings replaces (the range to kill in)."""
    done = _train(tmp_path_factory.mktemp("count") / "run")
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stderr.rsplit("REPLACES ", 1)[1].split()[0])


def _check_whole(out: Path) -> None:
    for path in out.rglob("*.json"):
        json.loads(path.read_text())  # nothing half-written
    rows = json.loads((out / "training_metrics.json").read_text())["metrics"]
    episodes = [r["episode"] for r in rows if r["phase"] == "training"]
    assert episodes == list(range(1, len(episodes) + 1))  # none lost or counted twice
    traced: list[int] = []
    files = (out / "training-simtrace").glob("*-iteration.csv")
    for file in sorted(files, key=lambda f: int(f.name.split("-")[0])):
        traced += sorted({int(row["episode"]) for row in read_simtrace(file)})
    assert traced == [e - 1 for e in episodes]  # the simtrace counts from 0
    latest = json.loads((out / "checkpoints" / "latest.json").read_text())
    assert latest["timesteps"] == BUDGET  # resumed exactly to the budget
    assert not list(out.rglob(".*.tmp*")) and not list(out.rglob(".*.json.*"))


def _kill_and_resume(tmp_path: Path, moment: int, when: str) -> None:
    out = tmp_path / "run"
    killed = _train(out, faults=(moment, when))
    assert killed.returncode == KILLED, killed.stderr[-2000:]
    resumed = _run("train", "--resume", str(out))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    _check_whole(out)
    evaluated = _run("evaluate", str(out), "--trials", "1", "--no-raceline")
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]


def _moments(replaces: int, count: int) -> list[tuple[int, str]]:
    rng = random.Random(14)  # seeded: the same moments every run
    picks = rng.sample(range(2, replaces + 1), count)
    return [(n, rng.choice(["before", "after"])) for n in sorted(picks)]


@pytest.mark.parametrize("case", [0, pytest.param(1, marks=pytest.mark.slow)])
def test_kill_9_at_a_seeded_moment_then_resume(replaces: int, tmp_path: Path, case: int) -> None:
    moment, when = _moments(replaces, 2)[case]
    _kill_and_resume(tmp_path, moment, when)


@pytest.mark.slow
@pytest.mark.parametrize("case", range(10))
def test_kill_9_at_ten_seeded_moments_then_resume(replaces: int, tmp_path: Path, case: int) -> None:
    moment, when = _moments(replaces, 10)[case]
    _kill_and_resume(tmp_path, moment, when)


# -- a disk that really fills up ---------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mounts a tmpfs of a given size (``"600k"``); needs root, as mount(8) does."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        where = tmp_path / "disk"
        where.mkdir(exist_ok=True)
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            pytest.skip(
                f"cannot mount a tmpfs here ({done.stderr.strip()}); the injected ENOSPC"
                " of tests/training/test_checkpoints.py covers a full disk instead"
            )
        mounted.append(where)
        return where

    yield mount
    for where in mounted:
        subprocess.run(["umount", str(where)], check=False)


@pytest.mark.slow
@pytest.mark.parametrize("size", ["300k", "450k", "600k", "800k", "1000k"])
def test_a_disk_that_fills_up_stops_cleanly_and_the_run_resumes(
    small_disk: Callable[[str], Path], size: str
) -> None:
    # A whole run of these settings takes about 1.1 MB: each size fills up at another
    # write (a simtrace, a checkpoint, best.zip, the final files).
    disk = small_disk(size)
    out = disk / "run"
    full = _train(out)
    assert full.returncode == 2, full.stderr[-2000:]
    assert f"{out}: the disk is full (No space left on device); training stopped" in full.stderr
    assert f"--resume {out}" in full.stderr
    assert "Traceback" not in full.stderr
    for path in out.rglob("*.json"):
        json.loads(path.read_text())  # what was written before is whole
    subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
    resumed = _run("train", "--resume", str(out))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    _check_whole(out)
