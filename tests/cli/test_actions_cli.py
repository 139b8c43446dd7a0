"""Tests for ``deepracer actions generate|show|validate|list``, run in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deepracer.cli import main
from deepracer.envs.model_metadata import load_model_metadata


def test_generate_default_reproduces_the_seed_with_a_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["actions", "generate"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert len(doc["action_space"]) == 15
    assert {a["speed"] for a in doc["action_space"]} == {4, 6, 8}
    assert doc["action_space"][14] == {"steering_angle": 30, "speed": 8, "index": 14}
    assert doc["sensor"] == ["FRONT_FACING_CAMERA"] and doc["version"] == "5"
    assert "warning: speeds above 4 m/s (6, 8) are clipped" in captured.err
    assert "validate" in captured.err


def test_generate_seed_style_to_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "model_metadata.json"
    argv = ["actions", "generate", "--min-speed", "0.5", "--max-speed", "1.5"]
    argv += ["--speed-resolution", "0.5", "--steering-resolution", "30", "--out", str(out)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # in range: no warning
    assert f"wrote {out} (9 actions)" in captured.out
    meta = load_model_metadata(out)
    assert meta.to_dict() == json.loads(out.read_text())
    assert [(a["steering_angle"], a["speed"]) for a in meta.action_space][:4] == [
        (-30, 0.5),
        (0, 0.5),
        (30, 0.5),
        (-30, 1.0),
    ]
    assert out.read_text().endswith("}\n")


def test_generate_console_style(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["actions", "generate", "--style", "console", "--max-speed", "3", "--speed-levels", "3"]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["action_space"]) == 15
    assert {a["speed"] for a in doc["action_space"]} == {1.0, 2.0, 3.0}
    assert {a["steering_angle"] for a in doc["action_space"]} == {-30, -15, 0, 15, 30}


def test_generate_console_default_is_the_shipped_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["actions", "generate", "--style", "console"]) == 0
    generated = json.loads(capsys.readouterr().out)
    assert generated == load_model_metadata("console_default").to_dict()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--style", "console", "--min-speed", "1"], "--min-speed: not used by --style console"),
        (["--steering-levels", "3"], "--steering-levels: not used by --style seed"),
        (["--speed-resolution", "0"], "speed_resolution"),
        (["--min-speed", "3", "--max-speed", "1"], "min_speed"),
        (["--style", "console", "--speed-levels", "1.5"], "must be integers"),
        (["--style", "console", "--steering-levels", "0"], "steering_levels"),
    ],
)
def test_generate_bad_arguments_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["actions", "generate", *argv]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


def test_generate_non_number_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["actions", "generate", "--min-speed", "fast"]) == 2
    assert "expected a number" in capsys.readouterr().err


def test_show_discrete(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["actions", "show", "seed_5_actions"]) == 0
    out = capsys.readouterr().out
    assert "seed_5_actions.json" in out
    assert "discrete (5 actions)" in out
    assert "FRONT_FACING_CAMERA (observation: camera)" in out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] == ["3"]]
    assert rows == [["3", "15", "0.8"]]


def test_show_continuous_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cont.json"
    space = {"steering_angle": {"low": -20, "high": 20}, "speed": {"low": 1, "high": 2.5}}
    path.write_text(
        json.dumps(
            {
                "action_space": space,
                "action_space_type": "continuous",
                "sensor": ["FRONT_FACING_CAMERA", "LIDAR"],
                "version": "5",
            }
        )
    )
    assert main(["actions", "show", str(path)]) == 0
    out = capsys.readouterr().out
    assert "continuous" in out and "observation: camera, lidar" in out
    assert "lidar_config:" in out and "num_sectors 8" in out
    speed = next(line for line in out.splitlines() if line.startswith("speed"))
    assert speed.split()[-2:] == ["1", "2.5"]


def test_validate_ok_and_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["actions", "validate", "continuous"]) == 0
    assert "valid (continuous" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"action_space": [{"steering_angle": 0, "speed": 6}]}))
    assert main(["actions", "validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}: action_space[0].speed: must lie in [0.1, 4] m/s")


def test_validate_rejects_the_seed_generators_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "seed.json"
    assert main(["actions", "generate", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["actions", "validate", str(out)]) == 2
    assert "action_space[5].speed" in capsys.readouterr().err  # the first 6 m/s action


def test_validate_invalid_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"action_space": [}')
    assert main(["actions", "validate", str(bad)]) == 2
    assert "not valid JSON at line 1, column 19" in capsys.readouterr().err


def test_validate_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["actions", "validate", "no_such_space"]) == 2
    assert "console_default" in capsys.readouterr().err  # lists the shipped names


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["actions", "list"]) == 0
    out = capsys.readouterr().out
    names = {line.split()[0] for line in out.splitlines()[2:]}
    assert {"console_default", "continuous", "seed_10_state", "seed_5_actions"} <= names


def test_actions_without_subcommand_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["actions"]) == 2
    assert "generate" in capsys.readouterr().err


def test_duplicate_actions_are_valid_but_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "twice.json"
    actions = [
        {"steering_angle": 0, "speed": 1.0},
        {"steering_angle": 30, "speed": 1.0},
        {"steering_angle": 0.0, "speed": 1},
        {"steering_angle": 30, "speed": 1.0},
        {"steering_angle": -30, "speed": 2.0},
    ]
    path.write_text(json.dumps({"action_space": actions}))
    assert main(["actions", "validate", str(path)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"warning: {path}: action_space: actions 0, 2 are the same command (steering 0 deg,"
        " speed 1 m/s); the policy splits its choice between them",
        f"warning: {path}: action_space: actions 1, 3 are the same command (steering 30 deg,"
        " speed 1 m/s); the policy splits its choice between them",
    ]
    assert main(["actions", "validate", "console_default"]) == 0
    assert capsys.readouterr().err == ""
