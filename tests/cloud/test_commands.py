"""``deepracer upload | download | launch | jobs`` end to end, offline (moto, folders)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
import yaml

pytest.importorskip("stable_baselines3")

from deepracer.cli import main as cli
from deepracer.cloud import robomaker
from tests.training.test_trainer import tiny_run

ROLE = "arn:aws:iam::123456789012:role/DeepRacerSageMakerRole"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/deepracer-train:cpu"
SAGEMAKER = [
    "--set", f"launch.sagemaker.role={ROLE}",
    "--set", f"launch.sagemaker.image={IMAGE}",
    "--set", "launch.sagemaker.region=us-east-1",
]  # fmt: skip


def test_upload_to_a_folder_writes_the_drfc_layout(tmp_path: Path) -> None:
    store = tmp_path / "store"
    worlds = ["--set", "worlds=[reinvent_base, reInvent2019_track]"]
    assert cli(["upload", "two_worlds", str(store), *worlds]) == 0
    for name in (
        "custom_files/reward_function.py",
        "custom_files/model_metadata.json",
        "custom_files/hyperparameters.json",
        "training_params.yaml",
        "training_params_1.yaml",
        "training_params_2.yaml",
        "reward_function.py",
        "deepracer/experiment.yaml",
        "deepracer/preset.yaml",
        "upload.json",
    ):
        assert (store / name).is_file(), name
    params = [yaml.safe_load((store / f"training_params_{i}.yaml").read_text()) for i in (1, 2)]
    assert [p["WORLD_NAME"] for p in params] == ["reinvent_base", "reInvent2019_track"]
    assert all(isinstance(v, str) for p in params for v in p.values())  # DRfC quotes all
    assert params[0]["REWARD_FILE_S3_KEY"] == "custom_files/reward_function.py"
    assert params[0]["NUM_WORKERS"] == "2" and params[0]["MULTI_CONFIG"] == "True"
    hyper = json.loads((store / "custom_files" / "hyperparameters.json").read_text())
    assert {"batch_size", "beta_entropy", "discount_factor", "loss_type", "lr",
            "num_episodes_between_training", "num_epochs"} <= set(hyper)  # fmt: skip
    uploaded = yaml.safe_load((store / "deepracer" / "experiment.yaml").read_text())
    assert uploaded["reward"] == "custom_files/reward_function.py"
    assert uploaded["preset"] == "deepracer/preset.yaml"
    manifest = json.loads((store / "upload.json").read_text())
    assert manifest["experiment"] == "two_worlds"
    assert set(manifest["files"]) == {
        str(p.relative_to(store)) for p in store.rglob("*") if p.is_file()
    } - {"upload.json"}


def test_shipped_tracks_go_by_name_and_a_users_track_travels(
    tmp_path: Path,
    routes: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = tmp_path / "store"
    assert (
        cli(["upload", "fast_lap", str(store), "--set", "worlds=[reinvent_base, Oval_track]"]) == 0
    )
    assert not (store / "deepracer" / "tracks").exists()  # the job's image ships them
    assert not (store / "deepracer" / "worlds").exists()
    names = [yaml.safe_load((store / f"training_params_{i}.yaml").read_text()) for i in (1, 2)]
    assert [p["WORLD_NAME"] for p in names] == ["reinvent_base", "Oval_track"]

    mine = tmp_path / "mine"
    mine.mkdir()
    np.save(mine / "my_track.npy", np.load(routes / "Oval_track.npy"))
    monkeypatch.setenv("DEEPRACER_TRACKS_PATH", str(mine))
    store = tmp_path / "store2"
    capsys.readouterr()
    assert cli(["upload", "fast_lap", str(store), "--set", "worlds=my_track"]) == 0
    # The route file travels; the job's image puts it on its track path. The simulator
    # has no such track, so there is no training_params.yaml (no WORLD_NAME) for it.
    assert (store / "deepracer" / "tracks" / "my_track.npy").is_file()
    assert not (store / "deepracer" / "worlds").exists()
    assert not list(store.glob("training_params*.yaml"))
    assert (
        "warning: my_track: track 'my_track' is not a DeepRacer simulator track;"
        " training_params.yaml (for deepracer-for-cloud / DeepRacer on AWS) is not written"
    ) in capsys.readouterr().err
    uploaded = yaml.safe_load((store / "deepracer" / "experiment.yaml").read_text())
    assert uploaded["worlds"] == ["my_track"]


def test_upload_warns_about_a_reward_deepracer_on_aws_would_reject(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reward = tmp_path / "reward.py"
    reward.write_text("import json\n\n\ndef reward_function(params):\n    return 1.0\n")
    assert cli(["upload", "quickstart", str(tmp_path / "store"), "--set", f"reward={reward}"]) == 0
    err = capsys.readouterr().err
    assert "DeepRacer on AWS would reject it: line 1: imports json" in err
    assert (
        (tmp_path / "store" / "custom_files" / "reward_function.py")
        .read_text()
        .startswith("import json")
    )  # uploaded all the same: DRfC and our image accept it


def test_under_moto_upload_launch_status_download_evaluate(
    mock_aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import boto3

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="deepracer-runs")
    location = "s3://deepracer-runs/quick"
    assert cli(["upload", "quickstart", location]) == 0
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="deepracer-runs")["Contents"]}
    assert "quick/custom_files/reward_function.py" in keys and "quick/upload.json" in keys

    name = "quickstart-acceptance"
    capsys.readouterr()
    assert cli(["launch", "quickstart", "--backend", "sagemaker", "--s3", location,
                "--name", name, *SAGEMAKER]) == 0  # fmt: skip
    assert f"training job: {name}" in capsys.readouterr().out
    sm = boto3.client("sagemaker", region_name="us-east-1")
    job = sm.describe_training_job(TrainingJobName=name)
    assert job["HyperParameters"]["experiment"] == "experiment.yaml"
    assert job["CheckpointConfig"]["S3Uri"] == f"{location}/checkpoints/{name}"

    assert cli(["jobs", "status", "--region", "us-east-1"]) == 0
    listing = capsys.readouterr().out
    assert name in listing
    assert cli(["jobs", "status", name, "--region", "us-east-1"]) == 0
    status = capsys.readouterr().out
    assert "Completed" in status and "model.tar.gz" in status

    # What the job's container would have left: a run directory, tarred by SageMaker.
    run = tmp_path / "trained"
    tiny_run(run)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for path in sorted(run.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(run)), recursive=False)
    bucket, _, key = job["ModelArtifacts"]["S3ModelArtifacts"][len("s3://") :].partition("/")
    s3.put_object(Bucket=bucket, Key=key, Body=archive.getvalue())

    local = tmp_path / "runs" / name
    assert cli(["download", "--job", name, str(local), "--region", "us-east-1"]) == 0
    assert (local / "model.zip").is_file() and (local / "experiment.yaml").is_file()
    capsys.readouterr()
    assert cli(["evaluate", str(local), "--trials", "1", "--max-steps", "100"]) == 0
    assert "trial" in capsys.readouterr().out


def test_download_refuses_a_non_empty_run_dir_and_a_foreign_model(tmp_path: Path) -> None:
    foreign = tmp_path / "model.tar.gz"
    with tarfile.open(foreign, "w:gz") as tar:
        data = b"model_checkpoint_path: model_12.ckpt\n"
        info = tarfile.TarInfo("model/checkpoint")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    assert cli(["download", str(foreign), str(tmp_path / "run")]) == 2
    assert not (tmp_path / "run").exists()  # nothing half-made is left
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".run")]
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("keep me")
    assert cli(["download", str(foreign), str(tmp_path / "busy")]) == 2
    assert (tmp_path / "busy" / "x").read_text() == "keep me"


def test_robomaker_dry_run_prints_four_valid_requests(capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parents[2]
    assert cli(["launch", str(root / "experiments" / "multiworld.yaml"), "--backend",
                "robomaker", "--dry-run"]) == 0  # fmt: skip
    requests = json.loads(capsys.readouterr().out)
    assert len(requests) == 4
    for request in requests:
        robomaker.validate_simulation_job_request(request)
    worlds = [
        r["simulationApplications"][0]["launchConfig"]["environmentVariables"]["WORLD_NAME"]
        for r in requests
    ]
    assert worlds == ["reinvent_base", "reinvent_carpet", "reinvent_concrete", "reinvent_wood"]
    assert len({r["clientRequestToken"] for r in requests}) == 4


def test_robomaker_submit_explains_the_retirement(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["launch", "multiworld", "--backend", "robomaker"]) == 2
    err = capsys.readouterr().err
    assert "2025-09-10" in err and "--backend sagemaker" in err


def test_sagemaker_dry_run_needs_no_credentials(
    no_credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["launch", "multiworld", "--backend", "sagemaker", "--dry-run"]) == 0
    request = json.loads(capsys.readouterr().out)
    assert request["ResourceConfig"]["InstanceType"] == "ml.c5.4xlarge"
    assert request["EnableManagedSpotTraining"] is True


def test_local_dry_run_shows_one_worker_per_world(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["launch", "two_worlds", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "worker 0: world oval, cars [0, 2]" in out
    assert "worker 1: world kidney, cars [1, 3]" in out


# -- one clear error each ------------------------------------------------------------------


def test_missing_credentials(no_credentials: None, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli(["upload", "quickstart", "s3://deepracer-runs/x",
                "--endpoint-url", "http://127.0.0.1:9"])  # fmt: skip
    assert code == 2
    assert "no AWS credentials" in capsys.readouterr().err


def test_a_bucket_that_does_not_exist(mock_aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["upload", "quickstart", "s3://no-such-bucket-here/x"]) == 2
    err = capsys.readouterr().err
    assert "no-such-bucket-here" in err and "does not exist" in err


def test_an_unknown_instance_type(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli(["launch", "quickstart", "--backend", "sagemaker", "--dry-run", "--s3",
                "s3://deepracer-runs/q", *SAGEMAKER,
                "--set", "launch.sagemaker.instance_type=ml.c5.xlarg"])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "launch.sagemaker.instance_type" in err and "Did you mean 'ml.c5.xlarge'" in err


@pytest.mark.parametrize("uri", ["s3:///quick", "s3://"])
def test_an_s3_uri_without_a_bucket(uri: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["upload", "quickstart", uri]) == 2
    err = capsys.readouterr().err
    assert uri in err and "s3://BUCKET" in err


def test_launch_without_an_artifact_location(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["launch", "quickstart", "--backend", "sagemaker", "--dry-run", *SAGEMAKER]) == 2
    assert "launch.s3" in capsys.readouterr().err
