"""A run from someone else runs none of its code: signatures, weights-only models, rewards.

The crafted run below has a reward file and a model zip that each create a marker
file when their code runs: the reward file at import, the zip's cloudpickled ``data``
entry when stable-baselines3's ``load`` reads it (shown in a child process, so the
test proves the payload is live), and a pickle in ``policy.pth``. Evaluating,
exporting and rendering it must create no marker unless the user passes
``--trust-reward`` (which imports the reward file, and only that).
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("stable_baselines3")

from deepracer.cli import main
from deepracer.errors import DeepRacerError
from deepracer.logs import read_simtrace
from deepracer.trust import CONFIG_DIR_ENV, SIGNATURE_FILE, run_is_trusted, sign_run
from tests.training.test_trainer import tiny_run


class _Payload:
    """Unpickles into ``exec(code)``."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (exec, (self.code,))


def _touch(marker: Path) -> str:
    return f"open({str(marker)!r}, 'a').close()"


@pytest.fixture(scope="module")
def own_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("own") / "run"
    tiny_run(out)
    return out


def _crafted(own_run: Path, dest: Path) -> tuple[Path, Path, Path]:
    """A copy of ``own_run`` as a stranger could ship it; returns (run, 3 markers)."""
    run = dest / "downloaded"
    shutil.copytree(own_run, run, ignore=shutil.ignore_patterns("tensorboard", "evaluations"))
    markers = dest / "reward-ran", dest / "pickle-ran"
    reward = run / "reward_function.py"
    reward.write_text(
        f"{_touch(markers[0])}\n\n\ndef reward_function(params):\n"
        f"    {_touch(markers[0])}\n    return 1.0\n"
    )
    for model in ("best.zip", "model.zip"):
        path = run / model
        with zipfile.ZipFile(path) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
        data = json.loads(members["data"])
        payload = base64.b64encode(pickle.dumps(_Payload(_touch(markers[1])))).decode()
        data["lr_schedule"] = {":type:": "<class 'function'>", ":serialized:": payload}
        members["data"] = json.dumps(data).encode()
        with zipfile.ZipFile(path, "w") as archive:
            for name, blob in members.items():
                archive.writestr(name, blob)
    return run, *markers


def test_a_run_created_here_is_signed_and_a_changed_reward_is_not(
    own_run: Path, tmp_path: Path
) -> None:
    assert run_is_trusted(own_run)
    copy = tmp_path / "copy"
    shutil.copytree(own_run, copy)
    assert run_is_trusted(copy)  # a moved run is still this machine's
    (copy / "reward_function.py").write_text("def reward_function(params):\n    return 2.0\n")
    assert not run_is_trusted(copy)
    (copy / SIGNATURE_FILE).write_text("not json")
    assert not run_is_trusted(copy)
    assert sign_run(copy) and run_is_trusted(copy)


def test_another_machines_key_does_not_verify(
    own_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "elsewhere"))
    assert not run_is_trusted(own_run)
    assert not (tmp_path / "elsewhere").exists()  # checking creates no key
    assert sign_run(own_run.parent / "missing") is False  # nothing to sign
    key = tmp_path / "elsewhere" / "run-signing.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600" and len(key.read_text().strip()) == 64


def test_the_crafted_payload_is_live_under_stable_baselines3(own_run: Path, tmp_path: Path) -> None:
    run, _, pickled = _crafted(own_run, tmp_path)
    code = "from stable_baselines3 import PPO; import sys; PPO.load(sys.argv[1], device='cpu')"
    subprocess.run([sys.executable, "-c", code, str(run / "best.zip")], check=False, timeout=120)
    assert pickled.exists()  # what `deepracer evaluate` used to do with a downloaded run


def test_evaluate_export_and_render_run_no_code_of_an_untrusted_run(
    own_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run, rewarded, pickled = _crafted(own_run, tmp_path)
    assert not run_is_trusted(run)
    out = tmp_path / "eval"
    assert main(["evaluate", str(run), "--trials", "1", "--no-raceline", "--out", str(out)]) == 0
    assert "rewards are not computed (reported as 0)" in capsys.readouterr().out
    rows = read_simtrace(out / "evaluation-simtrace" / "0-iteration.csv")
    assert rows and {float(r["reward"]) for r in rows} == {0.0}
    archive = tmp_path / "x.tar.gz"
    assert main(["export", str(run), "--out", str(archive), "--check", "4"]) == 0
    assert "is not in the archive" in capsys.readouterr().out
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert "reward_function.py" not in names
    assert "--trust-reward" in manifest["omitted"]["reward_function.py"]
    assert main(["render", str(run), "--out", str(tmp_path / "lap.gif"), "--max-steps", "5"]) == 0
    assert not rewarded.exists() and not pickled.exists()

    # Trusting the reward imports the reward file, and only that: the zip stays data.
    assert main(["evaluate", str(run), "--trials", "1", "--no-raceline", "--trust-reward",
                 "--out", str(tmp_path / "eval2")]) == 0  # fmt: skip
    assert rewarded.exists() and not pickled.exists()
    rows = read_simtrace(tmp_path / "eval2" / "evaluation-simtrace" / "0-iteration.csv")
    assert {float(r["reward"]) for r in rows[1:]} == {1.0}


def test_a_trusted_run_computes_rewards_and_exports_its_reward(
    own_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "eval"
    args = ["evaluate", str(own_run), "--trials", "1", "--no-raceline", "--out", str(out)]
    assert main(args) == 0
    assert "not computed" not in capsys.readouterr().out
    rows = read_simtrace(out / "evaluation-simtrace" / "0-iteration.csv")
    assert any(float(r["reward"]) != 0.0 for r in rows)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")  # torch notes the payload's
def test_a_pickle_in_the_weights_is_refused(own_run: Path, tmp_path: Path) -> None:
    from deepracer.evaluation.runs import load_policy, run_setup

    run, _, pickled = _crafted(own_run, tmp_path)
    path = run / "best.zip"
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["policy.pth"] = pickle.dumps(_Payload(_touch(pickled)))
    with zipfile.ZipFile(path, "w") as archive:
        for name, blob in members.items():
            archive.writestr(name, blob)
    with pytest.raises(DeepRacerError, match=r"best\.zip: cannot load a PPO model"):
        load_policy(path, run_setup(run, None, 10), run)
    assert not pickled.exists()


def test_resuming_an_untrusted_run_needs_trust(
    own_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run, rewarded, pickled = _crafted(own_run, tmp_path)
    assert main(["train", "--resume", str(run)]) == 2
    err = capsys.readouterr().err
    assert f"{run}: not created on this machine" in err and "--trust-reward" in err
    assert not rewarded.exists() and not pickled.exists()


def test_signing_survives_a_read_only_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    monkeypatch.setenv(CONFIG_DIR_ENV, str(locked / "deepracer"))
    run = tmp_path / "run"
    run.mkdir()
    (run / "reward_function.py").write_text("def reward_function(params):\n    return 1.0\n")
    if os.geteuid() == 0:  # root writes anywhere: an unwritable place is a file's child
        monkeypatch.setenv(CONFIG_DIR_ENV, str(run / "reward_function.py" / "deepracer"))
    assert sign_run(run) is False
    assert not run_is_trusted(run)
