"""The exact rules of deepracer.cloud.artifacts: messages, echo lines, files, manifest.

Every refusal of ``download_run`` is checked word for word, the staging folder is
watched from inside the ``echo`` callback, and the upload's files and manifest fields
are compared with literal values.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from deepracer import __version__
from deepracer.cloud.artifacts import (
    _is_run,
    _world_files,
    download_run,
    experiment_files,
    upload_experiment,
)
from deepracer.cloud.layout import ArtifactLayout
from deepracer.cloud.storage import LocalStorage, S3Storage, Storage
from deepracer.config.loader import to_mapping
from deepracer.errors import DeepRacerError
from deepracer.experiment import ExperimentConfig, load_experiment
from deepracer.simapp import training_params
from tests.test_simapp import FAST_LAP, KEYS

from . import test_artifacts
from .test_artifacts import RUN_FILES, _tarball

# The same S3 bucket as test_artifacts (conftest's ``storage`` asks for ``s3``).
s3 = test_artifacts.s3

NOT_A_RUN = (
    "{where}: not a deepracer run (expected experiment.yaml with model.zip, best.zip or"
    " checkpoints/; found {found}). A DeepRacer console, DeepRacer on AWS or"
    " deepracer-for-cloud model holds a TensorFlow graph: `deepracer import {where} {run}`"
    " makes it a run that evaluate, render and analyze take"
)
LAYOUT = ArtifactLayout("my-bucket", "runs/exp")


def _stored_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# -- download_run: refusals ---------------------------------------------------------------


def test_a_non_empty_run_dir_is_refused_before_anything_is_fetched(
    storage: Storage, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "notes.txt").write_text("mine")
    for name, data in RUN_FILES.items():
        storage.put_bytes(f"runs/mine/{name}", data)
    with pytest.raises(DeepRacerError) as info:
        download_run(storage, "runs/mine", run_dir)
    assert str(info.value) == f"{run_dir}: exists and is not empty; choose a new run directory"
    assert _stored_files(run_dir) == ["notes.txt"]


def test_a_run_dir_that_is_a_file_is_refused(storage: Storage, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.write_text("a file, not a folder")
    for name, data in RUN_FILES.items():
        storage.put_bytes(f"runs/mine/{name}", data)
    with pytest.raises(DeepRacerError) as info:
        download_run(storage, "runs/mine", run_dir)
    assert str(info.value) == f"{run_dir}: exists and is not empty; choose a new run directory"
    assert run_dir.read_text() == "a file, not a folder"


def test_an_empty_existing_run_dir_is_filled(storage: Storage, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    for name, data in RUN_FILES.items():
        storage.put_bytes(f"runs/mine/{name}", data)
    assert download_run(storage, "runs/mine", run_dir) == run_dir
    assert _stored_files(run_dir) == ["experiment.yaml", "model.zip"]
    assert [p.name for p in tmp_path.iterdir() if p.name != "store"] == ["run"]


def test_several_jobs_under_a_prefix_are_named_in_the_whole_message(
    storage: Storage, tmp_path: Path
) -> None:
    for job in ("job-a", "job-b"):
        storage.put_bytes(f"out/{job}/output/model.tar.gz", _tarball(RUN_FILES))
    with pytest.raises(DeepRacerError) as info:
        download_run(storage, "out", tmp_path / "run")
    assert str(info.value) == (
        f"{storage.url('out')}: holds the models of several jobs (job-a, job-b); name one"
        " with --job NAME or give its model.tar.gz"
    )
    assert [p.name for p in tmp_path.iterdir() if p.name != "store"] == []


def test_files_that_are_not_a_run_are_listed_sorted_and_at_most_eight(
    storage: Storage, tmp_path: Path
) -> None:
    names = ["experiment.yaml", *(f"model/part-{i}.ckpt" for i in range(9))]
    for name in reversed(names):
        storage.put_bytes(f"drfc/{name}", b"tf")
    with pytest.raises(DeepRacerError) as info:
        download_run(storage, "drfc", tmp_path / "run")
    shown = "experiment.yaml, " + ", ".join(f"model/part-{i}.ckpt" for i in range(7))
    assert str(info.value) == NOT_A_RUN.format(
        where=storage.url("drfc"), found=shown, run=tmp_path / "run"
    )
    assert [p.name for p in tmp_path.iterdir() if p.name != "store"] == []


def test_a_few_files_that_are_not_a_run_are_all_listed(storage: Storage, tmp_path: Path) -> None:
    storage.put_bytes("drfc/model/model_metadata.json", b"{}")
    storage.put_bytes("drfc/experiment.yaml", b"name: x\n")
    with pytest.raises(DeepRacerError) as info:
        download_run(storage, "drfc", tmp_path / "run")
    found = "experiment.yaml, model/model_metadata.json"
    assert str(info.value) == NOT_A_RUN.format(
        where=storage.url("drfc"), found=found, run=tmp_path / "run"
    )


def test_an_archive_with_no_files_found_nothing(storage: Storage, tmp_path: Path) -> None:
    storage.put_bytes("job/output/model.tar.gz", _tarball({}))
    with pytest.raises(DeepRacerError) as info:
        download_run(storage, "job/output/model.tar.gz", tmp_path / "run")
    where = storage.url("job/output/model.tar.gz")
    assert str(info.value) == NOT_A_RUN.format(where=where, found="nothing", run=tmp_path / "run")
    assert [p.name for p in tmp_path.iterdir() if p.name != "store"] == []


def test_a_corrupt_archive_is_named_by_its_url(storage: Storage, tmp_path: Path) -> None:
    storage.put_bytes("bad/model.tar.gz", b"\x1f\x8b not gzip at all")
    with pytest.raises(DeepRacerError) as info:
        download_run(storage, "bad/model.tar.gz", tmp_path / "run")
    message = str(info.value)
    assert message.startswith(f"{storage.url('bad/model.tar.gz')}: not a readable model archive (")
    assert message.endswith(")")
    assert [p.name for p in tmp_path.iterdir() if p.name != "store"] == []


# -- download_run: the three sources and what echo hears --------------------------------


def test_one_jobs_archive_under_a_prefix_is_downloaded_and_unpacked(
    storage: Storage, tmp_path: Path
) -> None:
    storage.put_bytes("out/job-a/output/model.tar.gz", _tarball(RUN_FILES))
    storage.put_bytes("out/job-a/output/output.tar.gz", b"other outputs, not the model")
    lines: list[str] = []
    run = download_run(storage, "out", tmp_path / "local" / "run", echo=lines.append)
    assert lines == [f"downloading {storage.url('out/job-a/output/model.tar.gz')}"]
    assert _stored_files(run) == ["experiment.yaml", "model.zip"]
    assert (run / "model.zip").read_bytes() == RUN_FILES["model.zip"]
    assert [p.name for p in run.parent.iterdir()] == ["run"]


def test_a_prefix_does_not_reach_the_jobs_of_a_sibling_prefix(
    storage: Storage, tmp_path: Path
) -> None:
    for name, data in RUN_FILES.items():
        storage.put_bytes(f"runs/mine/{name}", data)
    other = {"experiment.yaml": b"name: other\n", "model.zip": b"another model"}
    storage.put_bytes("runs/mine-old/job-x/output/model.tar.gz", _tarball(other))
    lines: list[str] = []
    run = download_run(storage, "runs/mine", tmp_path / "run", echo=lines.append)
    assert lines == [f"downloading the files under {storage.url('runs/mine')}"]
    assert (run / "experiment.yaml").read_bytes() == RUN_FILES["experiment.yaml"]
    assert (run / "model.zip").read_bytes() == RUN_FILES["model.zip"]


def test_a_prefix_is_one_folder(storage: Storage, tmp_path: Path) -> None:
    storage.put_bytes("X/job-a/output/model.tar.gz", _tarball(RUN_FILES))
    storage.put_bytes("Y/job-b/output/model.tar.gz", _tarball(RUN_FILES))
    lines: list[str] = []
    run = download_run(storage, "X", tmp_path / "run", echo=lines.append)
    assert lines == [f"downloading {storage.url('X/job-a/output/model.tar.gz')}"]
    assert _stored_files(run) == ["experiment.yaml", "model.zip"]


@pytest.mark.parametrize("prefix", ["X/", "/X/", " X"])
def test_an_s3_prefix_is_one_folder_however_it_is_written(
    s3: S3Storage, tmp_path: Path, prefix: str
) -> None:
    # S3 keys may hold what local paths cannot (a leading space); slashes round a
    # prefix still name the same folder.
    s3.put_bytes(f"{prefix.strip('/')}/job-a/output/model.tar.gz", _tarball(RUN_FILES))
    s3.put_bytes("Y/job-b/output/model.tar.gz", _tarball(RUN_FILES))
    run = download_run(s3, prefix, tmp_path / "run")
    assert _stored_files(run) == ["experiment.yaml", "model.zip"]


def test_the_whole_bucket_holding_one_job(s3: S3Storage, tmp_path: Path) -> None:
    s3.put_bytes("job-a/output/model.tar.gz", _tarball(RUN_FILES))
    lines: list[str] = []
    run = download_run(s3, "", tmp_path / "run", echo=lines.append)
    assert lines == [f"downloading {s3.url('job-a/output/model.tar.gz')}"]
    assert _stored_files(run) == ["experiment.yaml", "model.zip"]


@pytest.mark.parametrize("name", ["model.tar.gz", "model.tgz"])
def test_a_key_naming_an_archive_is_unpacked(storage: Storage, tmp_path: Path, name: str) -> None:
    storage.put_bytes(f"jobs/{name}", _tarball(RUN_FILES))
    lines: list[str] = []
    run = download_run(storage, f"jobs/{name}", tmp_path / "local" / "run", echo=lines.append)
    assert lines == [f"downloading {storage.url(f'jobs/{name}')}"]
    assert _stored_files(run) == ["experiment.yaml", "model.zip"]
    assert [p.name for p in run.parent.iterdir()] == ["run"]


def test_a_run_under_a_prefix_is_announced_as_files(storage: Storage, tmp_path: Path) -> None:
    for name, data in RUN_FILES.items():
        storage.put_bytes(f"runs/mine/{name}", data)
    lines: list[str] = []
    download_run(storage, "runs/mine", tmp_path / "local" / "run", echo=lines.append)
    assert lines == [f"downloading the files under {storage.url('runs/mine')}"]


@pytest.mark.parametrize("archive", [True, False], ids=["archive", "prefix"])
@pytest.mark.parametrize("is_run", [True, False], ids=["run", "not-a-run"])
def test_the_run_is_staged_next_to_the_run_dir_and_nothing_stays_behind(
    storage: Storage, tmp_path: Path, archive: bool, is_run: bool
) -> None:
    files = RUN_FILES if is_run else {"model/model.pb": b"tf"}
    if archive:
        key = "job/output/model.tar.gz"
        storage.put_bytes(key, _tarball(files))
    else:
        key = "runs/mine"
        for name, data in files.items():
            storage.put_bytes(f"{key}/{name}", data)
    parent = tmp_path / "local"
    seen: list[list[str]] = []

    def watch(line: str) -> None:
        seen.append(sorted(p.name for p in parent.iterdir() if p.is_dir()))

    if is_run:
        download_run(storage, key, parent / "run", echo=watch)
        assert sorted(p.name for p in parent.iterdir()) == ["run"]
    else:
        with pytest.raises(DeepRacerError, match="not a deepracer run"):
            download_run(storage, key, parent / "run", echo=watch)
        assert list(parent.iterdir()) == []
    assert len(seen) == 1 and len(seen[0]) == 1
    assert seen[0][0].startswith(".run.")
    assert len(seen[0][0]) > len(".run.")


# -- what counts as a run ----------------------------------------------------------------


@pytest.mark.parametrize(
    "files",
    [
        ["experiment.yaml", "model.zip"],
        ["experiment.yaml", "best.zip"],
        ["experiment.yaml", "checkpoints/latest.json"],
        ["experiment.yaml", "model.zip", "best.zip", "checkpoints/latest.json"],
    ],
)
def test_experiment_yaml_with_a_model_or_checkpoints_is_a_run(
    tmp_path: Path, files: list[str]
) -> None:
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert _is_run(tmp_path)


@pytest.mark.parametrize(
    "files",
    [
        [],
        ["experiment.yaml"],
        ["model.zip"],
        ["model.zip", "best.zip", "checkpoints/latest.json"],
        ["Experiment.yaml", "model.zip"],
        ["experiment.yaml", "Model.zip"],
        ["experiment.yaml", "BEST.ZIP"],
        ["experiment.yaml", "Checkpoints/latest.json"],
        ["experiment.yaml", "checkpoints/Latest.json"],
        ["experiment.yaml", "latest.json"],
        ["experiment.yaml", "checkpoints/step-100.json"],
    ],
)
def test_anything_else_is_not_a_run(tmp_path: Path, files: list[str]) -> None:
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert not _is_run(tmp_path)


def test_folders_named_like_the_files_do_not_make_a_run(tmp_path: Path) -> None:
    (tmp_path / "experiment.yaml").write_text("name: x\n")
    for name in ("model.zip", "best.zip", "checkpoints/latest.json"):
        (tmp_path / name).mkdir(parents=True)
    assert not _is_run(tmp_path)


# -- upload_experiment --------------------------------------------------------------------


@pytest.fixture(scope="module")
def fast_lap() -> ExperimentConfig:
    return load_experiment("fast_lap")


@pytest.fixture(scope="module")
def two_worlds() -> ExperimentConfig:
    return load_experiment("two_worlds")


def _region_of(store: Storage, layout: ArtifactLayout) -> str:
    params = yaml.safe_load(store.get_bytes(layout.training_params_key()))
    region: str = params["AWS_REGION"]
    return region


def test_the_manifest_records_the_experiment_and_its_layout(
    storage: Storage, fast_lap: ExperimentConfig
) -> None:
    layout = ArtifactLayout("deepracer-artifacts", "runs/exp")
    manifest = upload_experiment(fast_lap, storage, layout)
    extra = {k: v for k, v in manifest.items() if k not in ("files", "created")}
    assert extra == {
        "experiment": "fast_lap",
        "worlds": ["reinvent_base"],
        "deepracer_version": __version__,
        "layout": {"bucket": "deepracer-artifacts", "prefix": "runs/exp"},
        "resolved_experiment": to_mapping(fast_lap),
    }
    resolved = manifest["resolved_experiment"]
    assert (resolved["name"], resolved["worlds"], resolved["reward"]) == (
        "fast_lap",
        ["reinvent_base"],
        "raceline_reinvent_base",
    )
    assert json.loads(storage.get_bytes("runs/exp/upload.json")) == manifest


def test_the_default_region_reaches_training_params(
    tmp_path: Path, fast_lap: ExperimentConfig
) -> None:
    store = LocalStorage(tmp_path / "store")
    upload_experiment(fast_lap, store, LAYOUT)
    assert _region_of(store, LAYOUT) == "us-east-1"


def test_another_region_reaches_training_params(tmp_path: Path, fast_lap: ExperimentConfig) -> None:
    store = LocalStorage(tmp_path / "store")
    upload_experiment(fast_lap, store, LAYOUT, region="eu-west-1")
    assert _region_of(store, LAYOUT) == "eu-west-1"


def test_echo_hears_one_line_per_upload_then_the_manifest(
    tmp_path: Path, fast_lap: ExperimentConfig
) -> None:
    store = LocalStorage(tmp_path / "store")
    lines: list[str] = []
    manifest = upload_experiment(fast_lap, store, LAYOUT, echo=lines.append)
    expected = [
        f"uploaded {store.url(key)} ({len(store.get_bytes(key))} bytes)"
        for key in manifest["files"]
    ]
    assert len(manifest["files"]) == 7
    assert sorted(lines[:-1]) == sorted(expected)
    assert lines[-1] == f"wrote the manifest {store.url('runs/exp/upload.json')}"


# -- experiment_files, training_params, _world_files ------------------------------------

# The layout's bucket and keys are tests.test_simapp's, so its expected mapping holds.
FAST_LAP_PARAMS = FAST_LAP


def test_the_layout_gives_the_simapp_its_keys(fast_lap: ExperimentConfig) -> None:
    files = experiment_files(fast_lap, LAYOUT, region="eu-west-1")
    params = training_params(fast_lap, "reinvent_base", KEYS, region="eu-west-1", workers=1)
    assert params == FAST_LAP_PARAMS
    assert yaml.safe_load(files["runs/exp/training_params.yaml"]) == params


def test_training_params_yaml_is_drfcs_single_quoted_text(fast_lap: ExperimentConfig) -> None:
    files = experiment_files(fast_lap, LAYOUT, region="eu-west-1")
    assert sorted(files) == [
        "runs/exp/custom_files/hyperparameters.json",
        "runs/exp/custom_files/model_metadata.json",
        "runs/exp/custom_files/reward_function.py",
        "runs/exp/deepracer/experiment.yaml",
        "runs/exp/deepracer/preset.yaml",
        "runs/exp/reward_function.py",
        "runs/exp/training_params.yaml",
    ]
    expected = "---\n" + "".join(f"'{k}': '{v}'\n" for k, v in sorted(FAST_LAP_PARAMS.items()))
    assert files["runs/exp/training_params.yaml"].decode() == expected


def _params(experiment: ExperimentConfig, layout: ArtifactLayout) -> dict[str, dict[str, str]]:
    files = experiment_files(experiment, layout)
    return {key: yaml.safe_load(data) for key, data in files.items() if "training_params" in key}


def test_a_two_world_experiment_has_one_training_params_per_world() -> None:
    experiment = load_experiment("two_worlds", ["worlds=[reinvent_base, reinvent_wood]"])
    layout = ArtifactLayout("b", "p")
    params = _params(experiment, layout)
    first = {
        **FAST_LAP_PARAMS,
        "AWS_REGION": "us-east-1",
        "REWARD_FILE_S3_KEY": "p/custom_files/reward_function.py",
        "MODEL_METADATA_FILE_S3_KEY": "p/custom_files/model_metadata.json",
        "SAGEMAKER_SHARED_S3_BUCKET": "b",
        "SAGEMAKER_SHARED_S3_PREFIX": "p",
        "METRICS_S3_BUCKET": "b",
        "METRICS_S3_OBJECT_KEY": "p/metrics/TrainingMetrics.json",
        "SIMTRACE_S3_BUCKET": "b",
        "SIMTRACE_S3_PREFIX": "p",
        "NUM_WORKERS": "2",
        "MULTI_CONFIG": "True",
        "CAR_NAME": "two_worlds",
        "DISPLAY_NAME": "two_worlds",
        "RACER_NAME": "two_worlds",
    }
    second = {**first, "WORLD_NAME": "reinvent_wood", "ENABLE_DOMAIN_RANDOMIZATION": "true"}
    assert params == {
        "p/training_params.yaml": first,
        "p/training_params_1.yaml": first,
        "p/training_params_2.yaml": second,
    }
    files = experiment_files(experiment, layout)
    assert files["p/training_params.yaml"] == files["p/training_params_1.yaml"]
    assert files["p/training_params_2.yaml"].startswith(b"---\n'ALTERNATE_DRIVING_DIRECTION'")


def test_worlds_the_simulator_lacks_get_no_training_params(two_worlds: ExperimentConfig) -> None:
    layout = ArtifactLayout("b", "p")
    assert _params(two_worlds, layout) == {}  # oval and kidney are our built-in tracks
    mixed = load_experiment("two_worlds", ["worlds=[oval, reinvent_base]"])
    params = _params(mixed, layout)
    assert list(params) == ["p/training_params_2.yaml"]
    assert params["p/training_params_2.yaml"]["WORLD_NAME"] == "reinvent_base"
    # Our training image reads the experiment, so the upload is complete for it.
    files = experiment_files(two_worlds, layout)
    assert {"p/deepracer/experiment.yaml", "p/custom_files/reward_function.py"} <= set(files)


def test_upload_warns_of_each_world_without_training_params(tmp_path: Path) -> None:
    mixed = load_experiment("two_worlds", ["worlds=[oval, reinvent_base, kidney]"])
    lines: list[str] = []
    upload_experiment(mixed, LocalStorage(tmp_path / "store"), LAYOUT, echo=lines.append)
    warnings = [line for line in lines if line.startswith("warning:")]
    tail = (
        " (for deepracer-for-cloud / DeepRacer on AWS) {} not written: those load only the"
        " simulator's own tracks (the shipped ones `deepracer tracks list` shows)"
    )
    assert warnings == [
        "warning: oval: track 'oval' is not a DeepRacer simulator track;"
        " training_params.yaml and training_params_1.yaml" + tail.format("are"),
        "warning: kidney: track 'kidney' is not a DeepRacer simulator track;"
        " training_params_3.yaml" + tail.format("is"),
    ]
    assert (tmp_path / "store" / "runs" / "exp" / "training_params_2.yaml").is_file()


@pytest.mark.parametrize("world", ["oval", "reinvent_base", "Oval_track"])
def test_shipped_worlds_and_track_names_go_by_name(world: str) -> None:
    assert _world_files(world) == (world, {})


def test_a_world_file_of_ones_own_travels_with_the_upload(tmp_path: Path) -> None:
    world = tmp_path / "wet_oval.yaml"
    world.write_text(
        "# comments are not uploaded\n"
        "description: the oval, wet\n"
        "track: oval\n"
        "surface:\n"
        "  material: base\n"
        "  friction: 0.3\n"
    )
    assert _world_files(str(world)) == (
        "deepracer/worlds/wet_oval.yaml",
        {
            "deepracer/worlds/wet_oval.yaml": (
                b"description: the oval, wet\ntrack: oval\nsurface:\n  material: base\n"
                b"  friction: 0.3\n"
            )
        },
    )
