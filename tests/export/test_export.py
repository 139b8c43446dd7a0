"""`deepracer export`: ONNX archives of tiny runs, the round trip, and bad inputs."""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import shutil
import sys
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from deepracer.errors import DeepRacerError
from deepracer.export import check_archive, export_run, read_archive
from deepracer.export.commands import add_export
from deepracer.export.onnx_export import (
    check_export,
    env_observation_space,
    export_policy,
    sample_observations,
)
from tests.training.test_trainer import tiny_run

# One rollout, no periodic evaluation, a short final one: a run directory in ~1 s.
FAST = [
    "train.total_timesteps=128",
    "train.eval_every=100000",
    "train.checkpoint_every=100000",
    "train.eval_trials=1",
    "eval.trials=1",
    "eval.max_steps=20",
]
# The SHALLOW CNN on 64 x 48 frames: 512 features instead of 11 264 at 160 x 120,
# so building and exporting the model takes a fraction of the time.
SMALL_CAMERA = ["env.camera.width=64", "env.camera.height=48"]
TINY_CNN = """\
description: tiny camera PPO for tests
algorithm: ppo
network: deepracer_shallow
n_envs: 2
hyperparameters:
  n_steps: 64
  batch_size: 128
  n_epochs: 1
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    preset = root / "tiny_cnn.yaml"
    preset.write_text(TINY_CNN)
    tiny_run(root / "state", *FAST)
    tiny_run(root / "continuous", "action_space=continuous", *FAST)
    tiny_run(root / "camera", f"preset={preset}", *SMALL_CAMERA, *FAST, experiment="camera")
    return {name: root / name for name in ("state", "continuous", "camera")}


@pytest.fixture(scope="module")
def archives(runs: dict[str, Path]) -> dict[str, Path]:
    return {name: export_run(runs[name]) for name in ("camera", "continuous")}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deepracer")
    add_export(parser.add_subparsers())
    return parser


def _copy_run(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("export", "tensorboard"))
    return dst


def test_state_run_exports_through_the_cli(
    runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "state.tar.gz"
    args = _parser().parse_args(["export", str(runs["state"]), "--out", str(out), "--check", "32"])
    assert args.func(args) == 0
    text = capsys.readouterr().out
    assert "32/32 sampled, 32/32 env observations agree" in text
    assert f"wrote {out}" in text
    with tarfile.open(out, "r:gz") as tar:
        names = tar.getnames()
        data = {n: tar.extractfile(n).read() for n in names}  # type: ignore[union-attr]
    assert names == [
        "model.onnx",
        "model_metadata.json",
        "reward_function.py",
        "hyperparameters.json",
        "manifest.json",
    ]
    manifest = json.loads(data["manifest.json"])
    assert set(manifest["members"]) == set(names) - {"manifest.json"}
    for name, entry in manifest["members"].items():
        assert entry["sha256"] == hashlib.sha256(data[name]).hexdigest()
        assert entry["bytes"] == len(data[name])
    metadata = runs["state"] / "model" / "model_metadata.json"
    assert data["model_metadata.json"] == metadata.read_bytes()
    assert data["reward_function.py"] == (runs["state"] / "reward_function.py").read_bytes()
    assert manifest["format"] == "deepracer-export" and manifest["onnx"]["opset"] == 18
    assert manifest["source"]["model"].endswith("best.zip")
    assert manifest["source"]["algorithm"] == "ppo"
    assert manifest["observation"]["type"] == "state"
    assert manifest["observation"]["inputs"] == [
        {"name": "observation", "key": None, "shape": ["batch", 16], "dtype": "float32"}
    ]
    assert manifest["action"]["type"] == "discrete" and manifest["action"]["count"] == 10
    assert [o["name"] for o in manifest["onnx"]["outputs"]] == ["action", "probabilities"]
    hyper = json.loads(data["hyperparameters.json"])
    assert hyper["batch_size"] == 64 and hyper["num_epochs"] == 1


def test_camera_run_takes_raw_uint8_frames(
    runs: dict[str, Path], archives: dict[str, Path]
) -> None:
    path = archives["camera"]
    assert path == runs["camera"] / "export" / "camera.tar.gz"
    members = read_archive(path)
    manifest = json.loads(members["manifest.json"])
    (entry,) = manifest["observation"]["inputs"]
    assert entry["shape"] == ["batch", 48, 64, 1] and entry["dtype"] == "uint8"
    assert entry["layout"] == "NHWC"
    checks = check_archive(path, runs["camera"], samples=32)
    assert checks["sampled"].samples == 32 and checks["sampled"].all_agree
    assert checks["env"].samples == 32 and checks["env"].all_agree


def test_continuous_run_matches_the_clipped_mean(
    runs: dict[str, Path], archives: dict[str, Path]
) -> None:
    path = archives["continuous"]
    assert path == runs["continuous"] / "export" / "continuous.tar.gz"
    manifest = json.loads(read_archive(path)["manifest.json"])
    assert manifest["action"]["type"] == "continuous"
    assert manifest["action"]["speed"] == {"low": 0.5, "high": 3.0}
    assert [o["name"] for o in manifest["onnx"]["outputs"]] == ["action", "mean"]
    checks = check_archive(path, runs["continuous"], samples=64)
    for check in checks.values():
        assert check.samples == 64 and check.all_agree
        assert check.max_abs_diff <= 1e-4


def test_model_zip_outside_a_run(runs: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "bare"
    folder.mkdir()
    shutil.copy(runs["continuous"] / "model.zip", folder / "policy.zip")
    shutil.copy(runs["continuous"] / "model" / "model_metadata.json", folder)
    path = export_run(folder / "policy.zip")
    assert path == folder / "export" / "bare-policy.tar.gz"
    members = read_archive(path)
    assert set(members) == {"model.onnx", "model_metadata.json", "manifest.json"}
    omitted = json.loads(members["manifest.json"])["omitted"]
    assert set(omitted) == {"reward_function.py", "hyperparameters.json"}
    checks = check_archive(path, folder / "policy.zip", samples=16)
    assert checks["sampled"].all_agree and checks["sampled"].samples == 16
    assert checks["env"].samples == 0  # no experiment.yaml: the env is unknown


def test_sac_on_a_dict_observation_squashes_like_predict() -> None:
    from stable_baselines3 import SAC

    from deepracer.envs import EnvConfig, RacingEnv
    from deepracer.envs.camera import CameraConfig
    from deepracer.models.networks import check_network

    env = RacingEnv(
        EnvConfig(
            observation=("camera", "lidar"),
            action_space={
                "steering_angle": {"low": -30.0, "high": 30.0},
                "speed": {"low": 0.5, "high": 3.0},
            },
            camera=CameraConfig(width=64, height=48),
        )
    )
    kwargs = check_network("deepracer_shallow", env.observation_space, algorithm="sac")
    model = SAC("MultiInputPolicy", env, policy_kwargs=kwargs, buffer_size=10, device="cpu")
    # An untrained SAC's means sit near 0; spread them so tanh's squashing matters.
    mu: Any = model.policy.actor.mu
    mu.bias.data.uniform_(-3.0, 3.0)
    exported = export_policy(model.policy)
    assert [i.name for i in exported.inputs] == ["observation.camera", "observation.lidar"]
    space: Any = env_observation_space(model.observation_space)
    assert space["camera"].shape == (48, 64, 1)
    observations = sample_observations(space, 64, seed=1)
    obs, _ = env.reset(seed=0)
    check = check_export(exported.model, model.policy, [*observations, obs])
    assert check.samples == 65 and check.all_agree
    actions, _ = model.predict({k: np.stack([o[k] for o in observations]) for k in space.spaces})
    assert np.abs(actions).max() > 0.9  # some actions reach into the squashed range


def test_run_directory_without_a_model(tmp_path: Path) -> None:
    with pytest.raises(DeepRacerError, match=r"best\.zip") as info:
        export_run(tmp_path)
    assert str(tmp_path) in str(info.value)


def _rewrite_metadata(run: Path, action_space: Any) -> None:
    path = run / "model" / "model_metadata.json"
    data = json.loads(path.read_text())
    data["action_space"] = action_space
    data["action_space_type"] = "continuous" if isinstance(action_space, dict) else "discrete"
    path.write_text(json.dumps(data))


def test_metadata_with_another_action_count(runs: dict[str, Path], tmp_path: Path) -> None:
    run = _copy_run(runs["state"], tmp_path / "run")
    _rewrite_metadata(run, [{"steering_angle": 0, "speed": 1.0}] * 5)
    expected = r"action_space has 5 discrete actions .* expects 10 discrete actions"
    with pytest.raises(DeepRacerError, match=expected) as info:
        export_run(run)
    assert str(info.value).startswith(f"{run / 'model' / 'model_metadata.json'}: ")


def test_metadata_continuous_for_a_discrete_model(runs: dict[str, Path], tmp_path: Path) -> None:
    run = _copy_run(runs["state"], tmp_path / "run")
    _rewrite_metadata(
        run,
        {"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 0.5, "high": 3}},
    )
    expected = r"action_space has a continuous action space .* expects 10 discrete actions"
    with pytest.raises(DeepRacerError, match=expected):
        export_run(run)


def test_metadata_discrete_for_a_continuous_model(runs: dict[str, Path], tmp_path: Path) -> None:
    run = _copy_run(runs["continuous"], tmp_path / "run")
    _rewrite_metadata(run, [{"steering_angle": 0, "speed": 1.0}] * 3)
    expected = r"action_space has 3 discrete actions .* expects a continuous action space"
    with pytest.raises(DeepRacerError, match=expected):
        export_run(run)


def test_corrupt_model_zip(runs: dict[str, Path], tmp_path: Path) -> None:
    run = _copy_run(runs["state"], tmp_path / "run")
    (run / "best.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DeepRacerError, match=r"best\.zip: cannot load a PPO model"):
        export_run(run)
    assert not (run / "export").exists()


def test_missing_onnx_packages_name_the_extra(
    runs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(DeepRacerError, match=r"missing: onnxruntime.*deepracer\[export\]"):
        export_run(runs["state"])


def test_tampered_archive_fails_the_manifest(archives: dict[str, Path], tmp_path: Path) -> None:
    source = archives["continuous"]
    buffer = io.BytesIO()
    with tarfile.open(source, "r:gz") as src, tarfile.open(fileobj=buffer, mode="w:gz") as dst:
        for info in src.getmembers():
            data = src.extractfile(info).read()  # type: ignore[union-attr]
            if info.name == "reward_function.py":
                data += b"\n# edited\n"
                info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    tampered = tmp_path / "tampered.tar.gz"
    tampered.write_bytes(buffer.getvalue())
    with pytest.raises(DeepRacerError, match=r"reward_function\.py: sha256 .* differs"):
        read_archive(tampered)
    (tmp_path / "junk.tar.gz").write_bytes(b"junk")
    with pytest.raises(DeepRacerError, match="not a readable"):
        read_archive(tmp_path / "junk.tar.gz")


def test_out_must_be_a_tar_gz(runs: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(DeepRacerError, match=r"--out must end in \.tar\.gz"):
        export_run(runs["state"], tmp_path / "model.zip")
