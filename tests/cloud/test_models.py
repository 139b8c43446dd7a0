"""deepracer.cloud.models: ``deepracer import s3://...`` of a DRfC / DeepRacer on AWS prefix."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from deepracer.cli import main
from deepracer.cloud import models
from deepracer.cloud.models import fetch_model_prefix
from deepracer.cloud.storage import S3Storage, StorageError
from deepracer.errors import DeepRacerError
from deepracer.evaluation.runs import load_policy, resolve_model, run_setup
from deepracer.export.archive import load_run, run_observations
from deepracer.export.car import CAR_MODEL
from deepracer.export.onnx_export import torch_reference
from tests.export.test_car import FEW, PPO, slim
from tests.training.test_trainer import tiny_run

BUCKET = "drfc-models"
REGION = "us-east-1"
PREFIX = "rl-deepracer-sagemaker"
URI = f"s3://{BUCKET}/{PREFIX}"
READ = [
    f"{PREFIX}/model/deepracer_checkpoints.json",
    f"{PREFIX}/model/model_3.pb",
    f"{PREFIX}/model/model_7.pb",
    f"{PREFIX}/model/model_metadata.json",
    f"{PREFIX}/reward_function.py",
    f"{PREFIX}/training_params.yaml",
]
"""What an import reads of the prefix :func:`_drfc_prefix` writes."""
REWARD = "def reward_function(params):\n    return 1.0\n"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("s3import")
    preset = root / "shallow.yaml"
    preset.write_text(PPO.format(network="deepracer_shallow"))
    tiny_run(root / "run", f"preset={preset}", *FEW, experiment="camera")
    return slim(root / "run")


@pytest.fixture(scope="module")
def car(trained: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The car file's members: the frozen graph and ``model_metadata.json``."""
    out = tmp_path_factory.mktemp("car") / "car.tar.gz"
    assert main(["export", str(trained), "--format", "car", "--out", str(out), "--check", "0"]) == 0
    with tarfile.open(out, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]


@pytest.fixture
def s3(mock_aws: None) -> S3Storage:
    storage = S3Storage(BUCKET, region=REGION)
    storage.client.create_bucket(Bucket=BUCKET)
    return storage


@pytest.fixture
def fetched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys S3Storage downloads, in order."""
    keys: list[str] = []
    get_file = S3Storage.get_file

    def recording(self: S3Storage, key: str, path: Path) -> None:
        keys.append(key)
        get_file(self, key, path)

    monkeypatch.setattr(S3Storage, "get_file", recording)
    return keys


def _put(s3: S3Storage, objects: dict[str, bytes]) -> None:
    for key, data in objects.items():
        s3.client.put_object(Bucket=BUCKET, Key=key, Body=data)


def _drfc_prefix(s3: S3Storage, car: dict[str, bytes]) -> None:
    """A DRfC model prefix: best checkpoint 7, with what an import must not download."""
    best = {"best_checkpoint": {"name": "7_Step-512.ckpt"}, "last_checkpoint": {"name": "3_Step-1"}}
    _put(
        s3,
        {
            f"{PREFIX}/model/model_7.pb": car[CAR_MODEL],
            f"{PREFIX}/model/model_3.pb": b"not a graph: the best checkpoint is 7",
            f"{PREFIX}/model/model_metadata.json": car["model_metadata.json"],
            f"{PREFIX}/model/deepracer_checkpoints.json": json.dumps(best).encode(),
            f"{PREFIX}/model/.coach_checkpoint": b"7_Step-512.ckpt",
            f"{PREFIX}/model/7_Step-512.ckpt.data-00000-of-00001": b"\0" * 4096,
            f"{PREFIX}/model/7_Step-512.ckpt.index": b"index",
            f"{PREFIX}/model/7_Step-512.ckpt.meta": b"meta",
            f"{PREFIX}/ip/hyperparameters.json": b"{}",
            f"{PREFIX}/reward_function.py": REWARD.encode(),
            f"{PREFIX}/training_params.yaml": b"WORLD_NAME: reInvent2019_track\n",
            f"{PREFIX}/metrics/TrainingMetrics.json": b"{}",
            f"{PREFIX}-old/model/model_9.pb": b"another model's prefix",
        },
    )


def test_a_drfc_prefix_imports_through_the_cli_without_its_checkpoints(
    s3: S3Storage,
    car: dict[str, bytes],
    trained: Path,
    fetched: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _drfc_prefix(s3, car)
    run = tmp_path / "imported"
    assert main(["import", f"{URI}/", str(run), "--world", "oval", "--region", REGION]) == 0
    assert fetched == READ  # no checkpoint or metrics; not the "-old" prefix
    out, err = capsys.readouterr()
    assert f"imported {URI}/ (model/model_7.pb: PPO" in out
    assert f"not fetched: 6 objects under {URI}/ that an import does not read" in err
    provenance = json.loads((run / "imported.json").read_text())
    assert provenance["source"] == f"{URI}/" and provenance["graph"] == "model/model_7.pb"
    assert (run / "reward_function.py").read_text() == REWARD
    model_path, run_dir = resolve_model(run)
    policy = load_policy(model_path, run_setup(run_dir, None, 100), run_dir)
    loaded = load_run(trained)
    frames = np.stack(run_observations(loaded, 16, 0))
    mine, _ = policy.predict(frames, deterministic=True)
    theirs, _ = torch_reference(loaded.model.policy, frames)
    assert (np.asarray(mine) == np.asarray(theirs)).all()
    # A second import into the same run is refused before anything is downloaded.
    assert main(["import", URI, str(run)]) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert fetched == READ


def test_a_model_archive_object_is_fetched_whole(
    s3: S3Storage, car: dict[str, bytes], tmp_path: Path
) -> None:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as tar:
        for name, content in car.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    _put(s3, {"downloads/model.tar.gz": data.getvalue()})
    uri = f"s3://{BUCKET}/downloads/model.tar.gz"
    source = fetch_model_prefix(uri, tmp_path / "fetched", storage=s3, echo=lambda line: None)
    assert source == tmp_path / "fetched" / "model.tar.gz"
    assert source.read_bytes() == data.getvalue()


@pytest.mark.parametrize(
    ("objects", "message", "error"),
    [
        ({}, f"{URI}: nothing is stored under this prefix; expected a DeepRacer", DeepRacerError),
        (
            {"model/model_metadata.json": b"{}", "model/1_Step-9.ckpt.index": b"x"},
            f"{URI}: no frozen graph (.pb) among its 2 objects; expected a DeepRacer",
            DeepRacerError,
        ),
        (
            {"model/model_1.pb": b"x", "model/../../evil.pb": b"x"},
            f"{URI}/model/../../evil.pb: refusing to download a key with an empty, '.' or",
            StorageError,
        ),
        (
            {"model/model_1.pb": b"x", "/model_2.pb": b"x"},
            f"{URI}//model_2.pb: refusing to download a key with an empty, '.' or",
            StorageError,
        ),
        (
            {"model/model_1.pb": b"x" * 11},
            f"{URI}/model/model_1.pb: larger than any model file (11 bytes)",
            DeepRacerError,
        ),
    ],
    ids=["empty", "no graph", "dot-dot", "absolute", "too large"],
)
def test_a_prefix_that_is_no_model_is_one_clear_error_and_writes_nothing(
    s3: S3Storage,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    objects: dict[str, bytes],
    message: str,
    error: type[Exception],
) -> None:
    monkeypatch.setattr(models, "MAX_FILE", 10)
    _put(s3, {f"{PREFIX}/{key}": data for key, data in objects.items()})
    dest = tmp_path / "fetched"
    with pytest.raises(error) as info:
        fetch_model_prefix(URI, dest, storage=s3, echo=lambda line: None)
    assert message in str(info.value)
    assert not dest.exists()


def test_the_import_command_names_the_uri_of_an_empty_prefix(
    s3: S3Storage, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "imported"
    assert main(["import", f"s3://{BUCKET}/nothing", str(run)]) == 2
    assert f"s3://{BUCKET}/nothing: nothing is stored under this prefix" in capsys.readouterr().err
    assert not run.exists()
