"""deepracer import: DeepRacer models from the car, the console or DRfC become runs."""

from __future__ import annotations

import csv
import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from deepracer.cli import main
from deepracer.errors import DeepRacerError
from deepracer.evaluation.runs import load_policy, resolve_model, run_setup
from deepracer.export.archive import load_run, run_observations
from deepracer.export.car import CAR_MODEL
from deepracer.export.importing import import_model
from deepracer.export.onnx_export import torch_reference
from deepracer.models.frozen_graph import inspect_graph
from tests.export.test_car import FEW, PPO, slim
from tests.training.test_trainer import tiny_run


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("import")
    preset = root / "shallow.yaml"
    preset.write_text(PPO.format(network="deepracer_shallow"))
    tiny_run(root / "run", f"preset={preset}", *FEW, experiment="camera")
    return slim(root / "run")


@pytest.fixture(scope="module")
def car_file(trained: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("car") / "car.tar.gz"
    assert main(["export", str(trained), "--format", "car", "--out", str(out), "--check", "0"]) == 0
    return out


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _evaluate(run: Path, out: Path) -> tuple[list[dict[str, object]], list[tuple[str, ...]]]:
    args = ["evaluate", str(run), "--trials", "2", "--max-steps", "60", "--no-raceline"]
    assert main([*args, "--out", str(out), "--seed", "3"]) == 0
    rows = json.loads((out / "evaluation_metrics.json").read_text())["metrics"]
    clock = ("metric_time", "start_time")
    metrics = [{k: v for k, v in r.items() if k not in clock} for r in rows]
    with (out / "evaluation-simtrace" / "0-iteration.csv").open(newline="") as handle:
        trace = [
            (r["episode"], r["steps"], r["X"], r["Y"], r["action"]) for r in csv.DictReader(handle)
        ]
    return metrics, trace


def test_a_car_file_round_trips_to_the_same_actions_and_trials(
    trained: Path, car_file: Path, tmp_path: Path
) -> None:
    run = tmp_path / "imported"
    import_model(car_file, run, world="oval", echo=lambda line: None)
    model_path, run_dir = resolve_model(run)
    assert model_path == run / "model" / "model.pb"
    setup = run_setup(run_dir, None, 100)
    policy = load_policy(model_path, setup, run_dir)
    loaded = load_run(trained)
    frames = np.stack(run_observations(loaded, 64, 0))
    mine, _ = policy.predict(frames, deterministic=True)
    theirs, _ = torch_reference(loaded.model.policy, frames)
    assert (np.asarray(mine) == np.asarray(theirs)).all()
    assert _evaluate(trained, tmp_path / "a") == _evaluate(run, tmp_path / "b")
    provenance = json.loads((run / "imported.json").read_text())
    assert provenance["graph"] == CAR_MODEL and provenance["algorithm"] == "ppo"


def test_a_drfc_model_folder_imports_its_best_checkpoint(
    trained: Path, car_file: Path, tmp_path: Path
) -> None:
    members = _members(car_file)
    folder = tmp_path / "drfc" / "model"
    folder.mkdir(parents=True)
    (folder / "model_7.pb").write_bytes(members[CAR_MODEL])
    (folder / "model_3.pb").write_bytes(b"not a graph: the best checkpoint is 7")
    (folder / "model_metadata.json").write_bytes(members["model_metadata.json"])
    best = {
        "best_checkpoint": {"name": "7_Step-512.ckpt"},
        "last_checkpoint": {"name": "3_Step-1.ckpt"},
    }
    (folder / "deepracer_checkpoints.json").write_text(json.dumps(best))
    (tmp_path / "drfc" / "ip").mkdir()
    run = tmp_path / "imported"
    import_model(tmp_path / "drfc", run, world="oval", echo=lambda line: None)
    assert json.loads((run / "imported.json").read_text())["graph"] == "model/model_7.pb"
    assert _evaluate(trained, tmp_path / "a") == _evaluate(run, tmp_path / "b")


def _graph_with_gpu_placements(graph: bytes) -> bytes:
    import tensorflow as tf

    definition = tf.compat.v1.GraphDef()
    definition.ParseFromString(graph)
    for node in definition.node:
        node.device = "/device:GPU:0"
    return bytes(definition.SerializeToString())


def test_gpu_placements_are_cleared(car_file: Path, tmp_path: Path) -> None:
    members = _members(car_file)
    members[CAR_MODEL] = _graph_with_gpu_placements(members[CAR_MODEL])
    run = tmp_path / "imported"
    import_model(_tar(tmp_path / "gpu.tar.gz", members), run, world="oval", echo=lambda line: None)
    assert main(["evaluate", str(run), "--trials", "1", "--max-steps", "10", "--no-raceline"]) == 0


def _broken(car_file: Path, tmp_path: Path, case: str) -> Path:
    members = _members(car_file)
    graph, metadata = members[CAR_MODEL], members["model_metadata.json"]
    if case == "no graph":
        members = {"model_metadata.json": metadata}
    elif case == "two graphs":
        members = {"a/model.pb": graph, "b/model.pb": graph, "model_metadata.json": metadata}
    elif case == "no metadata":
        members = {CAR_MODEL: graph}
    elif case == "action count":
        data = json.loads(metadata)
        data["action_space"] = data["action_space"][:5]
        members["model_metadata.json"] = json.dumps(data).encode()
    elif case == "traversal":
        members["../outside.txt"] = b"x"
    return _tar(tmp_path / f"{case.replace(' ', '_')}.tar.gz", members)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("no graph", "no frozen graph (.pb)"),
        (
            "two graphs",
            "2 frozen graphs (a/model.pb, b/model.pb) and no deepracer_checkpoints.json",
        ),
        ("no metadata", "no model_metadata.json"),
        ("action count", "model_metadata.json has 5 discrete actions, but the graph's head"),
        ("traversal", "member '../outside.txt' points outside the archive; refused"),
    ],
)
def test_a_malformed_source_is_one_clear_error_and_writes_nothing(
    car_file: Path, tmp_path: Path, case: str, message: str
) -> None:
    source = _broken(car_file, tmp_path, case)
    run = tmp_path / "sub" / "imported"
    with pytest.raises(DeepRacerError) as info:
        import_model(source, run, world="oval", echo=lambda line: None)
    assert message in str(info.value) and str(source) in str(info.value)
    assert not run.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [source.name]  # nothing beside it


def test_a_graph_that_does_more_than_a_policy_is_not_run(car_file: Path) -> None:
    import tensorflow as tf

    graph = _members(car_file)[CAR_MODEL]
    definition = tf.compat.v1.GraphDef()
    definition.ParseFromString(graph)
    head = "main_level/agent/main/online/network_1/ppo_head_0/policy"
    with tf.Graph().as_default() as g:
        tf.import_graph_def(definition, name="")
        probabilities = g.get_tensor_by_name(
            "main_level/agent/main/online/network_1/ppo_head_0/policy_fc/BiasAdd:0"
        )
        secret = tf.cast(tf.strings.length(tf.io.read_file("/etc/hostname")), tf.float32)
        tf.nn.softmax(probabilities + secret, name=head + "_")
    tampered = g.as_graph_def()
    for node in tampered.node:  # the head now reads a file
        if node.name == head:
            node.input[0] = "add"
        if node.name == head + "_":
            node.name = "unused"
    with pytest.raises(
        DeepRacerError, match=r"operations a policy network does not need \(.*ReadFile"
    ):
        inspect_graph(tampered.SerializeToString(), "tampered.pb")


def test_import_command_names_what_it_imported(
    car_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(car_file), str(tmp_path / "run"), "--world", "oval"]) == 0
    out = capsys.readouterr().out
    assert "agent/model.pb: PPO, FRONT_FACING_CAMERA 160x120x1, 10 actions" in out
    assert main(["import", str(car_file), str(tmp_path / "run")]) == 2  # not empty now
    assert "exists and is not empty" in capsys.readouterr().err
