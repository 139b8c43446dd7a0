"""The hardening issue's hand-made changes, each of which a named test must catch.

An audit once changed one meaningful line at a time in the riskiest modules and found
most changes unnoticed by the suite. This script makes each of those changes again in
a copy of the committed tree, runs the test named for it there, and reports whether
the test fails (the change is caught). Run by ``.ci/mutation audit``; writes
``mutation/audit.txt`` and exits 1 if a change goes unnoticed.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Change:
    """One line changed in ``path`` (``old`` must occur exactly once) and its test."""

    what: str
    path: str
    old: str
    new: str
    test: str


CHANGES = (
    Change(
        "tar extraction trusts the archive",
        "deepracer/cloud/artifacts.py",
        'tar.extractall(dest, filter="data")',
        'tar.extractall(dest, filter="fully_trusted")',
        "tests/cloud/test_artifacts.py::test_the_archive_filter_refuses_links_out_of_the_run",
    ),
    Change(
        "S3 keys joined to the target unchecked (the traversal bug)",
        "deepracer/cloud/storage.py",
        "parts = _key_parts(relative)",
        "parts = [relative]",
        "tests/cloud/test_artifacts.py::test_keys_that_escape_the_run_directory_stop_the_download",
    ),
    Change(
        "resume ignores the checkpoint's steps",
        "deepracer/training/trainer.py",
        'remaining = experiment.train.total_timesteps - (checkpoint["timesteps"] if checkpoint'
        " else 0)",
        "remaining = experiment.train.total_timesteps",
        "tests/training/test_checkpoints.py::"
        "test_a_resume_trains_exactly_to_the_budget_and_keeps_every_episode_once",
    ),
    Change(
        "the run log restarts at iteration 0 on resume",
        "deepracer/training/trainer.py",
        'iteration=checkpoint["iteration"] if checkpoint else 0,',
        "iteration=0,",
        "tests/training/test_checkpoints.py::"
        "test_a_resume_trains_exactly_to_the_budget_and_keeps_every_episode_once",
    ),
    Change(
        "models saved in place, without a temporary file and a rename",
        "deepracer/training/checkpoints.py",
        "        model.save(tmp)\n        os.replace(tmp, path)",
        "        model.save(path)",
        "tests/training/test_checkpoints.py::test_a_model_save_that_fails_leaves_the_old_file_whole",
    ),
    Change(
        "rewards below -1e5 accepted",
        "deepracer/rewards/loader.py",
        "-REWARD_LIMIT <= reward <= REWARD_LIMIT",
        "reward <= REWARD_LIMIT",
        "tests/rewards/test_loader.py::test_rewards_beyond_the_limits_either_way_are_refused",
    ),
    Change(
        "no correction for crossing the finish line backwards",
        "deepracer/rewards/params.py",
        "    if progress > prev_progress + 50.0:  # crossed it backwards\n"
        "        progress -= 100.0\n",
        "",
        "tests/rewards/test_params.py::test_the_simapps_finish_line_rules",
    ),
    Change(
        "the vectorised env's progress without the backward correction",
        "deepracer/envs/vector.py",
        "    p = np.where(p > prev + 50.0, p - 100.0, p)\n",
        "",
        "tests/rewards/test_params.py::test_the_vector_envs_progress_on_the_named_cases",
    ),
)


def _pytest(copy: Path, tests: list[str]) -> subprocess.CompletedProcess[str]:
    """Runs ``tests`` in ``copy``, whose package shadows the installed one."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
        cwd=copy,
        capture_output=True,
        text=True,
        check=False,
    )


def main() -> int:
    """Makes each change in turn and runs its test; 0 when every change is caught."""
    lines = []
    missed = 0
    planted = Path("/tmp/abs.txt")  # the traversal case writes here when unchecked
    planted_before = planted.exists()
    with tempfile.TemporaryDirectory() as work:
        copy = Path(work)
        archive = subprocess.run(
            ["git", "archive", "HEAD"], cwd=REPO, capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(copy)], input=archive.stdout, check=True)
        where = subprocess.run(
            [sys.executable, "-c", "import deepracer; print(deepracer.__file__)"],
            cwd=copy,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not Path(where).is_relative_to(copy):
            print(f"the copy's package is shadowed by {where}")
            return 2
        # Unchanged, every named test passes there: a failure below is the change's.
        tests = sorted({change.test for change in CHANGES})
        baseline = _pytest(copy, tests)
        if baseline.returncode != 0:
            print(baseline.stdout[-3000:])
            print("the named tests fail on the unchanged tree")
            return 2
        for change in CHANGES:
            path = copy / change.path
            original = path.read_text()
            if original.count(change.old) != 1:
                print(f"{change.path}: the line to change is no longer there: {change.old!r}")
                return 2
            path.write_text(original.replace(change.old, change.new))
            try:
                result = _pytest(copy, [change.test])
            finally:
                path.write_text(original)
                if planted.exists() and not planted_before:
                    planted.unlink()
            caught = result.returncode == 1
            missed += not caught
            verdict = "caught" if caught else f"NOT CAUGHT (pytest exit {result.returncode})"
            lines.append(f"{verdict}: {change.what} ({change.path}) by {change.test}")
            print(lines[-1], flush=True)
    (REPO / "mutation").mkdir(exist_ok=True)
    (REPO / "mutation" / "audit.txt").write_text("\n".join(lines) + "\n")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
