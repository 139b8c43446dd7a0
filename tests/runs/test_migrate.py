"""Runs written before the DRfC layout: read as they are, migrated before a resume."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from deepracer.errors import DeepRacerError
from deepracer.logs import SIMTRACE_COLUMNS, read_simtrace
from deepracer.runs import RunFiles
from deepracer.runs.migrate import migrate

HYPERPARAMETERS = {"num_episodes_between_training": 2, "batch_size": 64}


def _legacy_run(root: Path, worlds: list[str]) -> Path:
    """A run as deepracer wrote it before: metadata at the top, simtrace from 1, the
    last file only a header, episodes numbered from 0 in metrics and simtrace."""
    root.mkdir(parents=True)
    (root / "experiment.yaml").write_text("worlds: [oval]\n")
    (root / "model_metadata.json").write_text('{"action_space": []}')
    rows = []
    for episode in range(5):
        rows.append(
            {"episode": episode, "trial": episode % 3 + 1, "phase": "training",
             "world_name": worlds[episode % len(worlds)], "episode_status": "Off track",
             "completion_percentage": episode, "reward_score": 1, "metric_time": 0,
             "start_time": 0, "elapsed_time_in_milliseconds": 0}
        )  # fmt: skip
    (root / "training_metrics.json").write_text(json.dumps({"metrics": rows}))
    folder = root / "training-simtrace"
    folder.mkdir()
    blocks = {1: [0, 1, 2], 2: [3, 4], 3: []}  # the old iterations: by updates, from 1
    for iteration, episodes in blocks.items():
        with (folder / f"{iteration}-iteration.csv").open("w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(SIMTRACE_COLUMNS)
            for episode in episodes:
                for step in range(3):
                    writer.writerow([episode, step, *[0] * (len(SIMTRACE_COLUMNS) - 2)])
    return root


def test_an_older_run_reads_where_it_is(tmp_path: Path) -> None:
    run = _legacy_run(tmp_path / "run", ["oval"])
    files = RunFiles(run)
    assert files.is_legacy() and files.model_metadata == run / "model_metadata.json"
    assert files.is_run()


def test_migration_renumbers_one_world_as_drfc(tmp_path: Path) -> None:
    run = _legacy_run(tmp_path / "run", ["oval"])
    files = RunFiles(run)
    assert migrate(files, hyperparameters=HYPERPARAMETERS, world_names=["oval"])
    assert not files.is_legacy() and (run / "model" / "model_metadata.json").is_file()
    assert json.loads(files.hyperparameters.read_text()) == HYPERPARAMETERS
    names = sorted(p.name for p in (run / "training-simtrace").iterdir())
    assert names == ["0-iteration.csv", "1-iteration.csv", "2-iteration.csv"]  # no empty one
    by_file = [
        sorted({int(r["episode"]) for r in read_simtrace(run / "training-simtrace" / name)})
        for name in names
    ]
    assert by_file == [[0, 1], [2, 3], [4]]
    rows = json.loads(files.training_metrics.read_text())["metrics"]
    assert [(r["episode"], r["trial"]) for r in rows] == [(1, 1), (2, 2), (3, 1), (4, 2), (5, 1)]
    assert not migrate(files, hyperparameters=HYPERPARAMETERS, world_names=["oval"])  # once


def test_migration_splits_several_worlds_into_workers(tmp_path: Path) -> None:
    run = _legacy_run(tmp_path / "run", ["oval", "kidney"])
    migrate(RunFiles(run), hyperparameters=HYPERPARAMETERS, world_names=["oval", "kidney"])
    assert not (run / "training-simtrace").exists()
    oval = read_simtrace(run / "0" / "training-simtrace" / "0-iteration.csv")
    assert sorted({int(r["episode"]) for r in oval}) == [0]  # one episode per block each
    assert sorted(p.name for p in (run / "0" / "training-simtrace").iterdir()) == [
        "0-iteration.csv",
        "1-iteration.csv",
        "2-iteration.csv",
    ]
    assert len(list((run / "1" / "training-simtrace").iterdir())) == 2
    rows = json.loads((run / "training_metrics.json").read_text())["metrics"]
    assert [r["worker"] for r in rows] == [0, 1, 0, 1, 0]


def test_a_migration_cut_short_is_finished_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _legacy_run(tmp_path / "run", ["oval"])
    from deepracer.runs import migrate as module

    def crash(*args: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(module, "_write_simtrace", crash)
    with pytest.raises(OSError):
        migrate(RunFiles(run), hyperparameters=HYPERPARAMETERS, world_names=["oval"])
    assert RunFiles(run).is_legacy()  # not counted as migrated
    monkeypatch.undo()
    assert migrate(RunFiles(run), hyperparameters=HYPERPARAMETERS, world_names=["oval"])
    episodes = [
        int(r["episode"])
        for name in ("0", "1", "2")
        for r in read_simtrace(run / "training-simtrace" / f"{name}-iteration.csv")
    ]
    assert sorted(set(episodes)) == [0, 1, 2, 3, 4] and len(episodes) == 15
    assert not (run / ".legacy-simtrace").exists()


def test_a_damaged_metrics_file_stops_the_migration(tmp_path: Path) -> None:
    run = _legacy_run(tmp_path / "run", ["oval"])
    (run / "training_metrics.json").write_text('{"metr')
    with pytest.raises(DeepRacerError, match=r"training_metrics\.json: not valid JSON"):
        migrate(RunFiles(run), hyperparameters=HYPERPARAMETERS, world_names=["oval"])
    assert RunFiles(run).is_legacy()
    shutil.rmtree(run)


def _make_legacy(run: Path) -> None:
    """Turns a fresh run into one written before the DRfC layout."""
    (run / "model" / "model_metadata.json").rename(run / "model_metadata.json")
    (run / "model").rmdir()
    shutil.rmtree(run / "ip")
    path = run / "training_metrics.json"
    document = json.loads(path.read_text())
    rows = [r for r in document["metrics"] if r["phase"] == "training"]
    for row in rows:
        row["episode"] -= 1
    path.write_text(json.dumps({**document, "metrics": rows}))
    folder = run / "training-simtrace"
    files = sorted(folder.glob("*-iteration.csv"), key=lambda p: -int(p.name.split("-")[0]))
    for file in files:  # from the last, so no name is taken twice
        file.rename(folder / f"{int(file.name.split('-')[0]) + 1}-iteration.csv")
    (folder / f"{len(files) + 1}-iteration.csv").write_text(",".join(SIMTRACE_COLUMNS) + "\n")


def test_an_older_run_evaluates_and_resumes_in_the_new_layout(tmp_path: Path) -> None:
    from deepracer.cli import main
    from deepracer.training.trainer import train
    from tests.training.test_trainer import tiny_run

    run = tmp_path / "run"
    tiny_run(run)
    _make_legacy(run)
    assert main(["evaluate", str(run), "--trials", "1", "--no-raceline"]) == 0  # as it lies
    assert RunFiles(run).is_legacy()
    saved = run / "experiment.yaml"
    saved.write_text(saved.read_text().replace("total_timesteps: 512", "total_timesteps: 1024"))
    said: list[str] = []
    train(None, run, resume=True, argv=["pytest"], echo=said.append)
    assert any("moved to the deepracer-for-cloud layout" in line for line in said)
    assert (run / "model" / "model_metadata.json").is_file() and (run / "ip").is_dir()
    rows = json.loads((run / "training_metrics.json").read_text())["metrics"]
    training = [r["episode"] for r in rows if r["phase"] == "training"]
    assert training == list(range(1, len(training) + 1))
    folder = run / "training-simtrace"
    traced = sorted(
        int(r["episode"]) for f in folder.glob("*.csv") for r in {
            r["episode"]: r for r in read_simtrace(f)}.values()
    )  # fmt: skip
    assert traced == [e - 1 for e in training]
    assert min(int(f.name.split("-")[0]) for f in folder.glob("*.csv")) == 0
    assert all(len(read_simtrace(f)) for f in folder.glob("*.csv"))  # no empty file
