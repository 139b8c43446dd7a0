"""DeepRacer on AWS / deepracer-for-cloud folders: the Coach checkpoint of a run, named
and shaped as a real simapp checkpoint, computing the run's policy and values."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from deepracer.cli import main
from deepracer.errors import DeepRacerError
from deepracer.evaluation.runs import load_policy, resolve_model, run_setup
from deepracer.export.archive import load_run, run_observations
from deepracer.export.coach import (
    CHECKPOINTS_JSON,
    COACH_CHECKPOINT,
    export_model_folder,
    read_checkpoint,
    run_checkpoint,
)
from deepracer.export.importing import import_model
from deepracer.export.onnx_export import torch_reference
from tests.export.test_car import FEW, PPO, slim
from tests.export.test_importing import _evaluate
from tests.training.test_trainer import tiny_run

_ONLINE = "main_level/agent/main/online"
# The variables of the real simapp checkpoint 11_Step-38428.ckpt (SHALLOW, discrete, 9
# actions): its .index as tf.train.list_variables reads it, and its saver's list in the
# .meta (../shared/reference/coach-checkpoint/model). Written out here because the
# tests may not read ../shared.
_TOWER = {
    "FRONT_FACING_CAMERA/Conv2d_0/bias": [32],
    "FRONT_FACING_CAMERA/Conv2d_0/kernel": [8, 8, 1, 32],
    "FRONT_FACING_CAMERA/Conv2d_2/bias": [64],
    "FRONT_FACING_CAMERA/Conv2d_2/kernel": [4, 4, 32, 64],
    "FRONT_FACING_CAMERA/Conv2d_4/bias": [64],
    "FRONT_FACING_CAMERA/Conv2d_4/kernel": [3, 3, 64, 64],
    "gradients_from_head_0-0_rescalers": [],
    "middleware_fc_embedder/Dense_0/bias": [512],
    "middleware_fc_embedder/Dense_0/kernel": [11264, 512],
}
REFERENCE = {
    **{f"{_ONLINE}/network_0/{name}": shape for name, shape in _TOWER.items()},
    f"{_ONLINE}/network_0/v_values_head_0/output/bias": [1],
    f"{_ONLINE}/network_0/v_values_head_0/output/kernel": [512, 1],
    **{f"{_ONLINE}/network_1/{name}": shape for name, shape in _TOWER.items()},
    f"{_ONLINE}/network_1/ppo_head_0/policy_fc/bias": [9],
    f"{_ONLINE}/network_1/ppo_head_0/policy_fc/kernel": [512, 9],
}
# The reference's model_metadata.json action space: three angles by three speeds.
NINE_ACTIONS = {
    "action_space": [
        {"steering_angle": angle, "speed": speed, "index": 3 * i + j}
        for i, angle in enumerate((-30, 0, 30))
        for j, speed in enumerate((1 / 3, 2 / 3, 1))
    ],
    "sensor": ["FRONT_FACING_CAMERA"],
    "neural_network": "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
    "version": "3",
}
DROA_FILES = {
    "model_metadata.json",
    "reward_function.py",
    "training_params.yaml",
    "hyperparameters.json",
    f"model/{COACH_CHECKPOINT}",
}
SIMAPP_WORLD = "worlds=[reinvent_base]"


def _train(root: Path, name: str, network: str, *overrides: str) -> Path:
    preset = root / f"{name}.yaml"
    preset.write_text(PPO.format(network=network))
    tiny_run(root / name, f"preset={preset}", *FEW, *overrides, experiment="camera")
    return slim(root / name)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("coach")
    actions = root / "nine.json"
    actions.write_text(json.dumps(NINE_ACTIONS))
    return {
        "nine": _train(root, "nine", "deepracer_shallow", SIMAPP_WORLD, f"action_space={actions}"),
        "continuous": _train(
            root, "continuous", "deepracer_shallow", SIMAPP_WORLD, "action_space=continuous"
        ),
        "oval": _train(root, "oval", "deepracer_shallow"),
    }


def _prefix(folder: Path) -> Path:
    return folder / "model" / (folder / "model" / COACH_CHECKPOINT).read_text()


def test_droa_folder_has_the_required_files_and_the_reference_checkpoint(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "droa"
    export_model_folder(load_run(runs["nine"]), out, "droa")
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    name = (out / "model" / COACH_CHECKPOINT).read_text()
    assert name.endswith(".ckpt") and "_Step-" in name
    checkpoint = {f"model/{name}.{s}" for s in ("index", "data-00000-of-00001", "meta")}
    assert files == DROA_FILES | checkpoint
    variables = read_checkpoint(_prefix(out))
    assert {k: list(v.shape) for k, v in variables.items()} == REFERENCE
    params = yaml.safe_load((out / "training_params.yaml").read_text())
    assert params["WORLD_NAME"] == "reinvent_base"
    assert all(isinstance(v, str) for v in params.values())
    metadata = json.loads((out / "model_metadata.json").read_text())
    assert len(metadata["action_space"]) == 9
    assert json.loads((out / "hyperparameters.json").read_text())["batch_size"] > 0


def test_the_checkpoint_computes_the_runs_policy_and_values(runs: dict[str, Path]) -> None:
    for name in ("nine", "continuous"):
        run = load_run(runs[name])
        out = runs[name].parent / f"{name}-check"
        _, checkpoint = export_model_folder(run, out, "droa")
        frames = np.stack(run_observations(run, 32, 0))
        policy, values = run_checkpoint(_prefix(out), checkpoint.sensor, frames)
        actions, probabilities = torch_reference(run.model.policy, frames)
        with torch.no_grad():
            obs, _ = run.model.policy.obs_to_tensor(frames)
            expected = run.model.policy.predict_values(obs).numpy().reshape(-1)
        assert np.abs(values - expected).max() < 1e-4
        if checkpoint.discrete:
            assert probabilities is not None and np.abs(policy - probabilities).max() < 1e-5
        else:
            assert np.abs(policy - actions).max() < 1e-5
            variables = read_checkpoint(_prefix(out))
            head = f"{_ONLINE}/network_1/ppo_head_0"
            assert variables[f"{head}/policy_mean/kernel"].shape == (512, 2)
            log_std = run.model.policy.log_std.detach().numpy()
            assert (variables[f"{head}/policy_log_std"] == log_std.reshape(1, 2)).all()


def test_a_drfc_folder_imports_back_to_the_same_trials(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "drfc"
    export_model_folder(load_run(runs["nine"]), out, "drfc")
    best = json.loads((out / "model" / CHECKPOINTS_JSON).read_text())["best_checkpoint"]["name"]
    assert best == (out / "model" / COACH_CHECKPOINT).read_text()
    assert (out / "model" / f"model_{best.split('_')[0]}.pb").is_file()
    assert (out / "ip" / "hyperparameters.json").is_file()
    imported = tmp_path / "imported"
    import_model(out, imported, world="reinvent_base", echo=lambda line: None)
    model_path, run_dir = resolve_model(imported)
    policy = load_policy(model_path, run_setup(run_dir, None, 100), run_dir)
    source = load_run(runs["nine"])
    frames = np.stack(run_observations(source, 64, 0))
    mine, _ = policy.predict(frames, deterministic=True)
    theirs, _ = torch_reference(source.model.policy, frames)
    assert (np.asarray(mine) == np.asarray(theirs)).all()
    assert _evaluate(runs["nine"], tmp_path / "a") == _evaluate(imported, tmp_path / "b")


def test_a_tar_gz_holds_the_folder(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "virtualmodel.tar.gz"
    export_model_folder(load_run(runs["nine"]), out, "droa")
    with tarfile.open(out) as tar:
        names = set(tar.getnames())
    assert names >= DROA_FILES and len(names) == len(DROA_FILES) + 3


def test_a_world_no_simapp_has_is_refused_with_the_list(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "droa"
    with pytest.raises(DeepRacerError, match=r"oval.*reInvent2019_track"):
        export_model_folder(load_run(runs["oval"]), out, "droa")
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_not_overwritten(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "droa"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(DeepRacerError, match="exists"):
        export_model_folder(load_run(runs["nine"]), out, "droa")
    assert (out / "keep.txt").read_text() == "mine"


def test_networks_the_simapp_rebuilds_differently_are_refused(tmp_path: Path) -> None:
    run = _train(tmp_path, "standard", "deepracer_standard", SIMAPP_WORLD)
    with pytest.raises(DeepRacerError, match="STANDARD uses tanh"):
        export_model_folder(load_run(run), tmp_path / "droa", "droa")


def test_the_command_checks_the_checkpoint(
    runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "droa"
    args = ["export", str(runs["nine"]), "--format", "droa", "--out", str(out), "--check", "16"]
    assert main(args) == 0
    assert "on 16 of 16 env observations" in capsys.readouterr().out


@pytest.mark.slow  # for time: a camera training of its own (the race settings' unit tests stay)
def test_head_to_bot_is_refused_for_droa_but_drfc_carries_the_race(tmp_path: Path) -> None:
    from deepracer.envs.world import load_world
    from deepracer.experiment import load_experiment

    run = _train(tmp_path, "h2b", "deepracer_shallow", "worlds=[reinvent_head_to_bot]")
    with pytest.raises(DeepRacerError, match="HEAD_TO_BOT race; DeepRacer on AWS imports"):
        export_model_folder(load_run(run), tmp_path / "droa", "droa")
    folder = tmp_path / "drfc"
    export_model_folder(load_run(run), folder, "drfc")
    params = yaml.safe_load((folder / "training_params.yaml").read_text())
    assert (params["RACE_TYPE"], params["NUMBER_OF_BOT_CARS"]) == ("HEAD_TO_BOT", "3")
    # The run.env lines a DRfC user merges into theirs name the same world and race.
    from deepracer.envs.objects import race_settings
    from deepracer.export.importing import _parse_run_env

    run_env = _parse_run_env((folder / "run.env").read_text())
    assert (run_env["DR_WORLD_NAME"], run_env["DR_H2B_BOT_CAR_SPEED"]) == ("reinvent_base", "0.2")
    assert race_settings(run_env).head_to_bot == load_world("reinvent_head_to_bot").bot_cars
    # Imported back without --world, it drives the same race on the same track.
    back = tmp_path / "back"
    import_model(folder, back, echo=lambda line: None)
    (world,) = load_experiment(str(back / "experiment.yaml")).worlds
    assert Path(world) == (back / "world.yaml").resolve()
    imported = load_world(world)
    original = load_world("reinvent_head_to_bot")
    assert (imported.track, imported.bot_cars) == (original.track, original.bot_cars)
    # A DRfC run.env instead: its DR_* names, values as strings.
    (folder / "training_params.yaml").unlink()
    (folder / "run.env").write_text(
        "DR_WORLD_NAME=reInvent2019_track\nDR_RACE_TYPE=OBJECT_AVOIDANCE  # the race\n"
        "DR_OA_NUMBER_OF_OBSTACLES=3\nDR_OA_OBJECT_POSITIONS=0.2,1;0.5,-1\n"
        "DR_H2B_NUMBER_OF_BOT_CARS=3\n"
    )
    again = tmp_path / "again"
    import_model(folder, again, echo=lambda line: None)
    imported = load_world(str(again / "world.yaml"))
    assert imported.track == "reInvent2019_track" and imported.bot_cars is None
    assert imported.obstacles is not None
    assert imported.obstacles.object_positions == ((0.2, 1), (0.5, -1))
    (folder / "run.env").write_text("DR_RACE_TYPE=OBJECT_AVOIDANCE\nDR_OA_OBJECT_POSITIONS=0.2,3\n")
    with pytest.raises(DeepRacerError, match=r"run.env: DR_OA_OBJECT_POSITIONS: .*lane"):
        import_model(folder, tmp_path / "bad", echo=lambda line: None)
    assert not (tmp_path / "bad").exists()
