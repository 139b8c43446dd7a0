"""Resuming a damaged run: the previous checkpoint, or one clear error; a full disk."""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("stable_baselines3")

from deepracer.cli import main
from deepracer.errors import DeepRacerError
from deepracer.training import checkpoints
from deepracer.training.trainer import train
from tests.training.test_trainer import TINY, TINY_PPO, tiny_run

# 768 steps in 3 rollouts of 256 and a checkpoint after each: two are kept.
SHORT = ["train.total_timesteps=768", "train.checkpoint_every=256", "train.eval_every=256"]


@pytest.fixture(scope="module")
def stopped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run trained to 768 of what will be 1280 steps (a resume has work to do)."""
    run = tmp_path_factory.mktemp("stopped") / "run"
    tiny_run(run, *SHORT)
    return run


def _copy(stopped: Path, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(stopped, run)
    # Give the resumed run a larger budget than the first session had.
    saved = run / "experiment.yaml"
    saved.write_text(saved.read_text().replace("total_timesteps: 768", "total_timesteps: 1280"))
    return run


def _pointers(run: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    folder = run / "checkpoints"
    latest = json.loads((folder / "latest.json").read_text())
    previous = json.loads((folder / "previous.json").read_text())
    return latest, previous


def _resume(run: Path) -> tuple[int, str]:
    said: list[str] = []
    try:
        train(None, run, resume=True, argv=["pytest"], echo=said.append)
    except DeepRacerError as exc:
        return 2, str(exc)
    return 0, "\n".join(said)


def _episodes_once(run: Path) -> None:
    rows = json.loads((run / "training_metrics.json").read_text())["metrics"]
    training = [r for r in rows if r["phase"] == "training"]
    assert [r["episode"] for r in training] == list(range(1, len(training) + 1))


def test_the_two_newest_checkpoints_are_kept(stopped: Path) -> None:
    latest, previous = _pointers(stopped)
    assert (latest["timesteps"], previous["timesteps"]) == (768, 512)
    models = sorted(p.name for p in (stopped / "checkpoints").glob("model_*.zip"))
    assert models == ["model_512.zip", "model_768.zip"]


@pytest.mark.parametrize("damage", ["model", "pointer"])
def test_a_damaged_newest_checkpoint_falls_back_to_the_one_before(
    stopped: Path, tmp_path: Path, damage: str
) -> None:
    run = _copy(stopped, tmp_path)
    latest, _ = _pointers(run)
    if damage == "model":
        model = run / latest["model"]
        model.write_bytes(model.read_bytes()[:-300])  # the last write lost
    else:
        (run / "checkpoints" / "latest.json").write_text('{"model": "checkp')
    status, said = _resume(run)
    assert status == 0, said
    assert "resuming from the checkpoint before it (512 steps)" in said
    assert json.loads((run / "checkpoints" / "latest.json").read_text())["timesteps"] >= 1280
    _episodes_once(run)


def test_no_usable_checkpoint_is_one_error_naming_each_problem(
    stopped: Path, tmp_path: Path
) -> None:
    run = _copy(stopped, tmp_path)
    latest, previous = _pointers(run)
    (run / latest["model"]).write_bytes(b"PK not a zip")
    (run / previous["model"]).unlink()
    status, message = _resume(run)
    assert status == 2
    assert "no usable checkpoint to resume from" in message
    assert "model_768.zip is not a readable model file" in message
    assert "model_512.zip, which is missing" in message


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("training_metrics.json", "training_metrics.json: not valid JSON"),
        ("evaluations.json", "evaluations.json: cannot read it as JSON"),
        ("experiment.yaml", "experiment.yaml: invalid YAML"),
    ],
)
def test_a_damaged_run_file_is_one_clear_error(
    stopped: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, expected: str
) -> None:
    run = _copy(stopped, tmp_path)
    path = run / name
    text = path.read_text()
    path.write_text(text[: len(text) // 2] + ("\n  - [" if name.endswith(".yaml") else ""))
    assert main(["train", "--resume", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expected in err and "Traceback" not in err


def test_ctrl_c_before_the_first_step_is_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reward = tmp_path / "interrupted.py"
    reward.write_text(
        "import os, signal\n\n\ndef reward_function(params):\n"
        "    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C during the very first step\n"
        "    return 1.0\n"
    )
    out = tmp_path / "run"
    args = ["train", "quickstart", "--out", str(out), "--set", f"reward={reward}"]
    for item in [f"preset={TINY_PPO}", *TINY]:
        args += ["--set", item]
    assert main(args) == 130
    err = capsys.readouterr().err
    assert "interrupted before the first step" in err and "Traceback" not in err
    assert not (out / "checkpoints").exists()


def test_a_full_disk_stops_with_one_error_and_the_run_resumes(
    stopped: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _copy(stopped, tmp_path)
    write = checkpoints.atomic_write_text

    def full(path: Path, text: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(checkpoints, "atomic_write_text", full)
    status, message = _resume(run)
    assert status == 2
    assert "the disk is full (No space left on device); training stopped" in message
    assert f"--resume {run}" in message
    monkeypatch.setattr(checkpoints, "atomic_write_text", write)
    assert not list(run.rglob(".*.tmp*"))  # no half-written file left
    status, said = _resume(run)
    assert status == 0, said
    _episodes_once(run)


def _simtrace_episodes(run: Path) -> list[int]:
    from deepracer.logs import read_simtrace

    episodes: list[int] = []
    files = (run / "training-simtrace").glob("*-iteration.csv")
    for file in sorted(files, key=lambda f: int(f.name.split("-")[0])):
        episodes += sorted({int(row["episode"]) for row in read_simtrace(file)})
    return episodes


def test_a_resume_trains_exactly_to_the_budget_and_keeps_every_episode_once(
    stopped: Path, tmp_path: Path
) -> None:
    run = _copy(stopped, tmp_path)
    before = json.loads((run / "training_metrics.json").read_text())["metrics"]
    status, said = _resume(run)
    assert status == 0, said
    latest, previous = _pointers(run)
    # 768 steps were done; two more rollouts of 2 x 128 reach the 1280 budget exactly.
    assert (latest["timesteps"], previous["timesteps"]) == (1280, 1024)
    rows = json.loads((run / "training_metrics.json").read_text())["metrics"]
    assert rows[: len(before)] == before
    _episodes_once(run)
    # Every recorded episode has its steps in exactly one simtrace file, the first
    # session's iterations included.
    training = [r["episode"] - 1 for r in rows if r["phase"] == "training"]
    assert _simtrace_episodes(run) == training  # the simtrace counts from 0


def test_a_model_save_that_fails_leaves_the_old_file_whole(tmp_path: Path) -> None:
    from deepracer.training.checkpoints import save_model

    target = tmp_path / "best.zip"
    target.write_bytes(b"the previous best model")

    class DiskFillsUp:
        def save(self, path: Path) -> None:
            Path(path).write_bytes(b"half a mod")
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError):
        save_model(DiskFillsUp(), target)
    assert target.read_bytes() == b"the previous best model"
    assert [p.name for p in tmp_path.iterdir()] == ["best.zip"]


# -- the checkpoint files, one rule at a time ---------------------------------------------


def _model_zip(path: Path, *, policy: bytes = b"weights") -> None:
    import zipfile

    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("policy.pth", policy)
        archive.writestr("data", "{}")


def _pointer(run: Path, name: str, steps: int, **changes: Any) -> None:
    record = {"model": f"checkpoints/model_{steps}.zip", "timesteps": steps, "iteration": 1,
              "episodes": 2, "wall_seconds": 1.0, **changes}  # fmt: skip
    (run / "checkpoints").mkdir(parents=True, exist_ok=True)
    (run / "checkpoints" / name).write_text(json.dumps(record))


def _read(run: Path) -> tuple[checkpoints.Checkpoint | None, list[str]]:
    said: list[str] = []
    return checkpoints.read_checkpoint(run, said.append), said


def test_write_checkpoint_moves_the_pointers_and_keeps_two_models(tmp_path: Path) -> None:
    for steps in (256, 512, 768):
        record = checkpoints.Checkpoint(f"checkpoints/model_{steps}.zip", steps, 1, 1)
        checkpoints.write_checkpoint(tmp_path, record, lambda path: _model_zip(path))
    latest, previous = _pointers(tmp_path)
    assert (latest["timesteps"], previous["timesteps"]) == (768, 512)
    folder = tmp_path / "checkpoints"
    assert sorted(p.name for p in folder.glob("model_*.zip")) == ["model_512.zip", "model_768.zip"]
    # Readable by people too: both pointers are indented JSON ending in a newline.
    for name in ("latest.json", "previous.json"):
        text = (folder / name).read_text()
        assert text.startswith('{\n  "model": ') and text.endswith("}\n")
    # A damaged latest.json is not copied into previous.json.
    (folder / "latest.json").write_text("{damaged")
    record = checkpoints.Checkpoint("checkpoints/model_1024.zip", 1024, 1, 1)
    checkpoints.write_checkpoint(tmp_path, record, lambda path: _model_zip(path))
    assert json.loads((folder / "previous.json").read_text())["timesteps"] == 512
    assert json.loads((folder / "latest.json").read_text())["timesteps"] == 1024


def test_read_checkpoint_uses_previous_when_latest_is_missing(tmp_path: Path) -> None:
    _pointer(tmp_path, "previous.json", 512)
    _model_zip(tmp_path / "checkpoints" / "model_512.zip")
    record, said = _read(tmp_path)
    assert record is not None and record.timesteps == 512 and said == []
    assert _read(tmp_path / "empty") == (None, [])  # no pointers at all: start over


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"timesteps": True}, 'field "timesteps" is True; expected int'),
        ({"episodes": "2"}, "field \"episodes\" is '2'; expected int"),
        ({"model": None}, 'field "model" is None; expected str'),
        ({"wall_seconds": "1"}, "field \"wall_seconds\" is '1'; expected a number"),
    ],
)
def test_a_pointer_with_a_wrong_field_is_passed_over(
    tmp_path: Path, changes: dict[str, Any], problem: str
) -> None:
    _pointer(tmp_path, "latest.json", 768, **changes)
    _pointer(tmp_path, "previous.json", 512)
    _model_zip(tmp_path / "checkpoints" / "model_768.zip")
    _model_zip(tmp_path / "checkpoints" / "model_512.zip")
    record, said = _read(tmp_path)
    assert record is not None and record.timesteps == 512
    assert said == [
        f"note: {tmp_path / 'checkpoints' / 'latest.json'}: {problem}; resuming from the"
        " checkpoint before it (512 steps)"
    ]


def test_a_model_that_fails_its_check_is_named(tmp_path: Path) -> None:
    import zipfile

    folder = tmp_path / "checkpoints"
    _pointer(tmp_path, "latest.json", 768)
    _model_zip(folder / "model_768.zip", policy=b"x" * 4000)
    data = bytearray((folder / "model_768.zip").read_bytes())
    at = data.index(b"x" * 100)
    data[at + 50] = ord("y")  # a flipped byte inside policy.pth: its CRC fails
    (folder / "model_768.zip").write_bytes(bytes(data))
    _pointer(tmp_path, "previous.json", 512)
    with zipfile.ZipFile(folder / "model_512.zip", "w") as archive:
        archive.writestr("data", "{}")  # no weights at all
    with pytest.raises(DeepRacerError) as info:
        _read(tmp_path)
    assert str(info.value) == (
        f"{folder}: no usable checkpoint to resume from: {folder / 'model_768.zip'} is damaged"
        f" (policy.pth fails its check); {folder / 'model_512.zip'} is damaged (policy.pth"
        " fails its check). Start a new run, or restore the files from a copy"
    )


def test_clean_partial_files_removes_only_what_a_kill_left(tmp_path: Path) -> None:
    (tmp_path / "checkpoints").mkdir()
    for name in (".training_metrics.json.abc123", "checkpoints/.model_512.tmp.zip"):
        (tmp_path / name).write_text("half")
    for name in (".lock", "training_metrics.json", "notes.v2.txt"):
        (tmp_path / name).write_text("keep")
    (tmp_path / ".hidden.dir").mkdir()
    checkpoints.clean_partial_files(tmp_path)
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert left == [".hidden.dir", ".lock", "checkpoints", "notes.v2.txt", "training_metrics.json"]


def test_save_model_makes_folders_and_keeps_the_first_error(tmp_path: Path) -> None:
    class Writes:
        def save(self, path: Path) -> None:
            Path(path).write_bytes(b"model")

    target = tmp_path / "a" / "b" / "model.zip"
    checkpoints.save_model(Writes(), target)
    assert target.read_bytes() == b"model" and [p.name for p in target.parent.iterdir()] == [
        "model.zip"
    ]

    class FailsFirst:
        def save(self, path: Path) -> None:
            raise OSError(errno.EIO, "input/output error")  # before any byte is written

    with pytest.raises(OSError, match="input/output error"):
        checkpoints.save_model(FailsFirst(), tmp_path / "other.zip")


def test_resume_messages_and_the_changed_reward_note(
    stopped: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deepracer.trust import CONFIG_DIR_ENV, run_is_trusted, sign_run

    with pytest.raises(DeepRacerError) as info:
        checkpoints.resumed_experiment(tmp_path, print, trust_reward=False)
    assert str(info.value) == f"{tmp_path}: not a run directory (no experiment.yaml) to resume"

    run = _copy(stopped, tmp_path)
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "another-machine"))
    with pytest.raises(DeepRacerError) as info:
        checkpoints.resumed_experiment(run, print, trust_reward=False)
    assert str(info.value) == (
        f"{run}: not created on this machine (or its reward_function.py changed since), and"
        " resuming imports that file, which runs its code; pass --trust-reward if you trust it"
    )
    said: list[str] = []
    checkpoints.resumed_experiment(run, said.append, trust_reward=True)
    assert run_is_trusted(run) and said == []  # trusting it signs it; the reward is unchanged

    # The experiment names a reward file of its own: changed since, it is reported.
    mine = tmp_path / "mine.py"
    mine.write_text("def reward_function(params):\n    return 1.0\n")
    saved = run / "experiment.yaml"
    text = saved.read_text()
    saved.write_text(text.replace("reward: speed_progress", f"reward: {mine}"))
    (run / "reward_function.py").write_text(mine.read_text())
    sign_run(run)  # the copy changed with it: this machine's again
    checkpoints.resumed_experiment(run, said.append, trust_reward=False)
    assert said == []
    mine.write_text("def reward_function(params):\n    return 2.0\n")
    experiment = checkpoints.resumed_experiment(run, said.append, trust_reward=False)
    assert experiment.reward == str(run / "reward_function.py")
    assert said == [
        f"note: {mine} changed since this run started; the run goes on with the reward it"
        f" started with ({run / 'reward_function.py'}). Start a new run to train the new one."
    ]
    mine.unlink()  # gone: nothing to compare, nothing said
    checkpoints.resumed_experiment(run, said.append, trust_reward=False)
    assert len(said) == 1
    (run / "reward_function.py").unlink()
    with pytest.raises(DeepRacerError) as info:
        checkpoints.resumed_experiment(run, said.append, trust_reward=True)
    assert str(info.value) == (
        f"{run / 'reward_function.py'}: missing; a run keeps the reward function it trains with"
        " there and resumes with it"
    )
    (run / "reward_function.py").write_text(mine.read_text() if mine.exists() else "x = 1\n")
    saved.write_text(saved.read_text() + "unknown_key: 1\n")
    with pytest.raises(DeepRacerError, match=rf"^{saved}: unknown key 'unknown_key'"):
        checkpoints.resumed_experiment(run, said.append, trust_reward=True)
