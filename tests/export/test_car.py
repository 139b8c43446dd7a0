"""The car's model: a TensorFlow-1 frozen graph with Coach's names, checked as the car
uses it (TensorFlow, then OpenVINO's FP16 conversion) against the torch policy."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from deepracer.cli import main
from deepracer.export.archive import load_run, run_observations
from deepracer.export.car import (
    CAR_MODEL,
    INPUT_NAME,
    PPO_OUTPUT,
    SAC_OUTPUT,
    car_graph,
    check_car_graph,
    run_car_graph,
)
from deepracer.runs import RunFiles
from tests.training.test_trainer import TINY, tiny_run

# Each DeepRacer CNN at the car's 160 x 120, trained a few steps: the weights need not
# be good, only the policy's own.
FEW = [*TINY, "train.total_timesteps=64", "eval.max_steps=20"]
PPO = """\
description: tiny {network} PPO for the car tests
algorithm: ppo
network: {network}
n_envs: 2
hyperparameters:
  n_steps: 32
  batch_size: 64
  n_epochs: 1
"""
SAC = """\
description: tiny SAC on the camera for the car tests
algorithm: sac
network: deepracer_shallow
n_envs: 2
hyperparameters:
  buffer_size: 200
  learning_starts: 16
  batch_size: 16
  ent_coef: 0.2
"""
CASES = {
    # name: (preset, network, overrides)
    "shallow": (PPO, "deepracer_shallow", []),
    "standard": (PPO, "deepracer_standard", []),
    "deep": (PPO, "deepracer_deep", []),
    "continuous": (PPO, "deepracer_shallow", ["action_space=continuous"]),
    "sac": (SAC, "deepracer_shallow", ["action_space=continuous"]),
    "stereo": (PPO, "deepracer_shallow", ["observation=stereo_camera"]),
    # A lidar beside the camera: the graph takes both, the lidar's values as they come.
    "camera_lidar": (PPO, "deepracer_shallow", ["observation=[camera, lidar]"]),
    "stereo_sector_lidar": (
        PPO,
        "deepracer_deep",
        ["observation=[stereo_camera, sector_lidar]", "action_space=continuous"],
    ),
}


def slim(run: Path) -> Path:
    """Drops what only a resume needs (``model.zip``, ``checkpoints/``) from a test run.

    The exports read ``best.zip``; a camera model with its optimiser is 70 MB a file,
    and the suite's runs kept whole filled a CI machine's disk.
    """
    files = RunFiles(run)
    files.final_model.unlink()
    shutil.rmtree(files.checkpoints)
    return run


class _Runs(dict[str, Path]):
    """The cases' runs, each trained when a test first asks for it (slow cases too)."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root

    def __missing__(self, name: str) -> Path:
        text, network, overrides = CASES[name]
        preset = self.root / f"{name}.yaml"
        preset.write_text(text.format(network=network))
        self[name] = self.root / name
        tiny_run(self[name], f"preset={preset}", *FEW, *overrides, experiment="camera")
        return slim(self[name])


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _Runs(tmp_path_factory.mktemp("car"))


# The larger networks go through the same graph builder as the shallow one, and SAC's
# camera training is the slowest of all: kept out of the default run for time (each is
# a camera training, then TensorFlow and OpenVINO). `pytest -m slow` runs them.
_SLOW_CASES = {"standard", "deep", "stereo_sector_lidar", "sac", "stereo"}


def _cases(names: list[str]) -> list[Any]:
    return [pytest.param(n, marks=pytest.mark.slow) if n in _SLOW_CASES else n for n in names]


@pytest.mark.parametrize("name", _cases(list(CASES)))
def test_tensorflow_and_openvino_give_the_policys_actions(runs: dict[str, Path], name: str) -> None:
    run = load_run(runs[name])
    graph = car_graph(run)
    check = check_car_graph(graph, run.model.policy, run_observations(run, 64, 0))
    assert check.samples == 64 and check.all_agree
    assert check.tensorflow_max_diff < 1e-4  # float32 both: the same network
    # FP16 weights: probabilities within 1e-4, actions in [-1, 1] within 1e-3.
    assert check.openvino_max_diff < (1e-4 if graph.discrete else 1e-3)


@pytest.mark.parametrize(
    ("name", "input_name", "output_name", "shape"),
    [
        ("shallow", INPUT_NAME.format(agent="main", sensor="FRONT_FACING_CAMERA"), PPO_OUTPUT,
         (120, 160, 1)),
        ("continuous", INPUT_NAME.format(agent="main", sensor="FRONT_FACING_CAMERA"),
         PPO_OUTPUT, (120, 160, 1)),
        pytest.param("sac", INPUT_NAME.format(agent="policy", sensor="FRONT_FACING_CAMERA"),
                     SAC_OUTPUT, (120, 160, 1), marks=pytest.mark.slow),
        pytest.param("stereo", INPUT_NAME.format(agent="main", sensor="STEREO_CAMERAS"),
                     PPO_OUTPUT, (120, 160, 2), marks=pytest.mark.slow),
    ],
)  # fmt: skip
def test_each_head_has_the_name_the_car_reads(
    runs: dict[str, Path], name: str, input_name: str, output_name: str, shape: tuple[int, ...]
) -> None:
    graph = car_graph(load_run(runs[name]))
    assert (graph.input_name, graph.output_name, graph.input_shape) == (
        input_name,
        output_name,
        shape,
    )
    assert input_name.endswith(("FRONT_FACING_CAMERA/FRONT_FACING_CAMERA",
                                "STEREO_CAMERAS/STEREO_CAMERAS"))  # fmt: skip


@pytest.mark.parametrize(
    ("name", "camera", "lidar", "size"),
    [("camera_lidar", "FRONT_FACING_CAMERA", "LIDAR", 64),
     pytest.param("stereo_sector_lidar", "STEREO_CAMERAS", "SECTOR_LIDAR", 8,
                  marks=pytest.mark.slow)],
)  # fmt: skip
def test_a_lidar_is_the_graphs_second_input(
    runs: dict[str, Path], name: str, camera: str, lidar: str, size: int
) -> None:
    graph = car_graph(load_run(runs[name]))
    assert graph.input_name == INPUT_NAME.format(agent="main", sensor=camera)
    assert graph.lidar is not None and graph.lidar.size == size
    assert graph.lidar.name == INPUT_NAME.format(agent="main", sensor=lidar)


def test_the_graph_carries_coachs_names_and_the_rescale(runs: dict[str, Path]) -> None:
    import tensorflow as tf

    graph = car_graph(load_run(runs["shallow"]))
    definition = tf.compat.v1.GraphDef()
    definition.ParseFromString(graph.graph_def)
    nodes = {node.name: node for node in definition.node}
    name = INPUT_NAME.format(agent="main", sensor="FRONT_FACING_CAMERA")
    assert graph.input_name == name and nodes[name].op == "Placeholder"
    dims = [d.size for d in nodes[name].attr["shape"].shape.dim]
    assert dims == [-1, 120, 160, 1]
    assert graph.output_name == PPO_OUTPUT and nodes[PPO_OUTPUT].op == "Softmax"
    assert not [n for n in nodes.values() if "Variable" in n.op]  # frozen: constants only
    # The car feeds 0-255: the division by 255 is the graph's first step.
    frames = np.stack(run_observations(load_run(runs["shallow"]), 4, 0)).astype(np.float32)
    assert frames.max() > 1.0
    probabilities = run_car_graph(graph, frames)
    assert probabilities.shape == (4, 10)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_export_format_car_writes_the_cars_archive(
    runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "car.tar.gz"
    assert main(["export", str(runs["shallow"]), "--format", "car", "--out", str(out),
                 "--check", "16"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "TensorFlow picks the policy's action on 16" in printed
    assert "OpenVINO's FP16 IR on 16" in printed
    with tarfile.open(out, "r:gz") as tar:
        members: dict[str, Any] = {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]
    assert sorted(members) == [CAR_MODEL, "model_metadata.json"]
    assert [n for n in members if n.endswith(".pb")] == [CAR_MODEL]  # exactly one graph
    metadata = runs["shallow"] / "model" / "model_metadata.json"
    assert members["model_metadata.json"] == metadata.read_bytes()


def test_a_state_run_is_refused_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    said: list[str] = []
    from deepracer.experiment import load_experiment
    from deepracer.training.trainer import train

    config = load_experiment("quickstart", [*TINY, "train.total_timesteps=64"])
    train(config, tmp_path / "state", argv=["pytest"], echo=said.append)
    note = "note: this model will not run on the physical car: the state observation"
    assert any(line.startswith(note) for line in said)  # said before training
    assert main(["export", str(tmp_path / "state"), "--format", "car"]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'state'}: cannot export for the car: the state observation" in err
    assert not (tmp_path / "state" / "export").exists()


def test_only_a_numerical_tie_counts_as_the_same_action() -> None:
    from deepracer.export.car import _agreed

    probabilities = np.array([[0.5, 0.5 - 5e-5, 0.0], [0.7, 0.2, 0.1], [0.2, 0.3, 0.5]])
    actions = np.array([0, 0, 2])
    assert _agreed(np.array([1, 0, 2]), actions, probabilities) == 3  # a tie, then equal
    assert _agreed(np.array([0, 1, 0]), actions, probabilities) == 1  # 0.2 vs 0.7: no


def test_the_cars_preprocessing_of_a_640x480_frame_gives_the_same_action(
    runs: dict[str, Path],
) -> None:
    """The car resizes its 640 x 480 BGR frame with OpenCV and converts it to gray; our
    env renders 160 x 120 directly. For the same poses both give the same action."""
    from dataclasses import replace

    import cv2

    from deepracer.envs.camera import CameraObservation
    from deepracer.envs.view import EpisodeVariation
    from deepracer.export.car import _agreed

    run = load_run(runs["shallow"])
    graph = car_graph(run)
    env = run.setup.env()
    camera = CameraObservation(replace(env.config.camera, width=640, height=480))
    ours, cars = [], []
    rng = np.random.default_rng(0)
    for episode in range(4):
        observation, _ = env.reset(seed=episode)
        camera.reset(env.world, EpisodeVariation(friction=1.0), None)
        for _ in range(16):
            bgr = np.repeat(camera.observe(env.car_view()), 3, axis=2)  # the camera's frame
            small = cv2.resize(bgr, (160, 120))  # the car's image_process: resize, gray
            cars.append(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)[..., None])
            ours.append(observation)
            observation, _, terminated, truncated, _ = env.step(int(rng.integers(10)))
            if terminated or truncated:
                break
    assert len(ours) >= 32
    pixels = np.abs(np.stack(ours).astype(float) - np.stack(cars)).mean()
    assert pixels < 2.0  # grey levels: the two paths see the same picture
    mine, car = run_car_graph(graph, np.stack(ours)), run_car_graph(graph, np.stack(cars))
    assert np.abs(mine - car).max() < 1e-3
    assert _agreed(car.argmax(1), mine.argmax(1), mine) == len(ours)
