"""Experiment files: what an empty or unreadable one says."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deepracer.cli import main
from deepracer.errors import ConfigError
from deepracer.experiment import load_experiment


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_an_empty_experiment_file_is_an_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"exp\.yaml: the experiment file is empty; an experi"):
        load_experiment(path)
    with pytest.raises(ConfigError, match="is empty"):  # also when --set would fill it in
        load_experiment(path, ["worlds=oval"])


@pytest.mark.parametrize("where", [os.devnull, "folder"])
def test_a_path_that_is_not_a_regular_file_says_so(tmp_path: Path, where: str) -> None:
    path = Path(where) if where == os.devnull else tmp_path
    with pytest.raises(ConfigError, match=rf"^{path}: not a regular file .* an experiment file"):
        load_experiment(path)


def test_the_cli_refuses_an_empty_experiment_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exp.yaml").write_text("")
    assert main(["train", "exp.yaml"]) == 2
    assert "the experiment file is empty" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["exp.yaml"]  # no run directory


def test_bad_input_found_after_the_run_directory_is_claimed_leaves_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["train", "quickstart", "--set", "reward=missing_reward.py"]) == 2
    assert "missing_reward.py" in capsys.readouterr().err
    assert list((tmp_path / "runs").iterdir()) == []
