"""An experiment to the files a training job reads, and a trained run back.

:func:`experiment_files` turns an experiment into the layout of
:mod:`deepracer.cloud.layout`: the three ``custom_files`` deepracer-for-cloud and
DeepRacer on AWS read, one ``training_params*.yaml`` per world, and a
self-contained copy of the experiment for our training image (the reward, action
space and preset it names become the uploaded files; worlds and route files that do
not ship with the package are uploaded too). :func:`upload_experiment` writes them
through a :class:`~deepracer.cloud.storage.Storage`, manifest last.
:func:`download_run` brings a job's ``model.tar.gz`` (or a run directory stored
under a prefix) back into a local run directory that ``deepracer evaluate``
accepts.

Contents:
    experiment_files: the upload's files (key -> bytes).
    training_params: one world's ``training_params.yaml`` mapping.
    localize_experiment: point an uploaded experiment's relative names at folders.
    upload_experiment: write an experiment's files to storage.
    download_run: fetch a trained run into a local run directory.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from deepracer import __version__
from deepracer.cloud.layout import CUSTOM_FILES_CHANNEL, ArtifactLayout
from deepracer.cloud.storage import Storage, StorageError, download_prefix, upload_files
from deepracer.config.loader import load_yaml, to_mapping
from deepracer.config.resources import available, resolve
from deepracer.errors import DeepRacerError
from deepracer.experiment import ExperimentConfig, dump_experiment, env_config
from deepracer.runs.layout import RunFiles

__all__ = [
    "download_run",
    "experiment_files",
    "localize_experiment",
    "training_params",
    "upload_experiment",
]

# Relative names inside an upload: what the uploaded experiment.yaml refers to.
REWARD_FILE = f"{CUSTOM_FILES_CHANNEL}/reward_function.py"
METADATA_FILE = f"{CUSTOM_FILES_CHANNEL}/model_metadata.json"
PRESET_FILE = "deepracer/preset.yaml"
WORLDS_DIR = "deepracer/worlds"
TRACKS_DIR = "deepracer/tracks"
MODEL_ARCHIVE = "model.tar.gz"


def _world_files(world: str) -> tuple[str, dict[str, bytes]]:
    """A world's name in the upload, and the world/route files to upload for it."""
    from deepracer.envs.world import load_world, world_file
    from deepracer.tracks import get_track
    from deepracer.tracks.catalog import is_shipped

    config = load_world(world)
    files: dict[str, bytes] = {}
    track = get_track(config.track)
    track_name = config.track
    if not track.source.startswith("builtin:") and not is_shipped(track.source):
        # A route file found on DEEPRACER_TRACKS_PATH or given as a path: the job's
        # machine has neither, so the file travels with the experiment.
        track_name = Path(track.source).stem
        files[f"{TRACKS_DIR}/{track_name}.npy"] = Path(track.source).read_bytes()
    source = world_file(world)
    if track_name == config.track and (source is None or world in available("envs")):
        # A shipped world, or a track name (DeepRacer's own WORLD_NAME) that the job's
        # machine resolves to the same default world.
        return world, files
    name = Path(world).stem
    data = load_yaml(source) if source is not None else {"description": config.description}
    data["track"] = track_name
    files[f"{WORLDS_DIR}/{name}.yaml"] = yaml.safe_dump(data, sort_keys=False).encode()
    return f"{WORLDS_DIR}/{name}.yaml", files


def training_params(
    experiment: ExperimentConfig,
    layout: ArtifactLayout,
    world: str,
    *,
    region: str,
    workers: int,
) -> dict[str, str]:
    """One world's ``training_params.yaml`` as deepracer-for-cloud writes it.

    Values are strings, as DRfC's ``prepare-config.py`` quotes them all.
    ``NUMBER_OF_EPISODES`` 0 means "train until stopped"; the start settings come
    from the experiment's ``env.start`` section.
    """
    start = env_config(experiment, experiment.worlds[0]).start
    return {
        "AWS_REGION": region,
        "JOB_TYPE": "TRAINING",
        "RACE_TYPE": "TIME_TRIAL",
        "WORLD_NAME": Path(world).stem,
        "REWARD_FILE_S3_KEY": layout.reward_key,
        "MODEL_METADATA_FILE_S3_KEY": layout.model_metadata_key,
        "SAGEMAKER_SHARED_S3_BUCKET": layout.bucket,
        "SAGEMAKER_SHARED_S3_PREFIX": layout.prefix,
        "METRICS_S3_BUCKET": layout.bucket,
        "METRICS_S3_OBJECT_KEY": layout.key("metrics", "TrainingMetrics.json"),
        "SIMTRACE_S3_BUCKET": layout.bucket,
        "SIMTRACE_S3_PREFIX": layout.prefix,
        "NUMBER_OF_EPISODES": "0",
        "NUM_WORKERS": str(workers),
        "MULTI_CONFIG": "True" if workers > 1 else "False",
        "CAR_NAME": experiment.name,
        "DISPLAY_NAME": experiment.name,
        "RACER_NAME": experiment.name,
        "BODY_SHELL_TYPE": "deepracer",
        "CHANGE_START_POSITION": "true" if start.round_robin_advance > 0 else "false",
        "ROUND_ROBIN_ADVANCE_DIST": f"{start.round_robin_advance:g}",
        "START_POSITION_OFFSET": f"{start.offset:g}",
        "ALTERNATE_DRIVING_DIRECTION": "true" if start.alternate_direction else "false",
        "MIN_EVAL_TRIALS": str(experiment.eval.trials),
    }


def _yaml_strings(mapping: Mapping[str, str]) -> bytes:
    # DRfC dumps every value single-quoted; readers then never guess a type.
    text = yaml.safe_dump(dict(mapping), default_flow_style=False, default_style="'")
    return ("---\n" + text).encode()


def experiment_files(
    experiment: ExperimentConfig, layout: ArtifactLayout, *, region: str = "us-east-1"
) -> dict[str, bytes]:
    """Returns every file of the upload, keyed by its object key under the layout.

    Raises:
        DeepRacerError: A file the experiment names is missing or invalid (checked as
            ``deepracer train`` checks it).
    """
    from deepracer.models.presets import load_preset, to_deepracer_hyperparameters
    from deepracer.rewards import load_reward_function
    from deepracer.training.trainer import run_model_metadata

    preset_path = resolve("presets", experiment.preset)
    preset = load_preset(preset_path)
    metadata = run_model_metadata(experiment, preset)
    reward = load_reward_function(experiment.reward)
    if reward.source_text is None:
        raise DeepRacerError(f"{experiment.reward}: the reward function has no source file")
    hyperparameters = to_deepracer_hyperparameters(preset)

    files: dict[str, bytes] = {}
    worlds: list[str] = []
    for world in experiment.worlds:
        name, extra = _world_files(world)
        worlds.append(name)
        files.update({layout.key(k): v for k, v in extra.items()})
    eval_world = experiment.eval.world
    if eval_world is not None:
        eval_world, extra = _world_files(eval_world)
        files.update({layout.key(k): v for k, v in extra.items()})
    uploaded = replace(
        experiment,
        worlds=tuple(worlds),
        reward=REWARD_FILE,
        action_space=METADATA_FILE,
        preset=PRESET_FILE,
        eval=replace(experiment.eval, world=eval_world),
    )
    source = reward.source_text.encode()
    files[layout.reward_key] = source
    files[layout.key("reward_function.py")] = source  # the console kept this copy too
    files[layout.model_metadata_key] = (json.dumps(metadata.to_dict(), indent=4) + "\n").encode()
    files[layout.hyperparameters_key] = (json.dumps(hyperparameters, indent=2) + "\n").encode()
    files[layout.key(PRESET_FILE)] = preset_path.read_bytes()
    files[layout.experiment_key] = dump_experiment(uploaded).encode()
    several = len(experiment.worlds) > 1
    for i, world in enumerate(experiment.worlds, start=1):
        params = training_params(
            experiment, layout, world, region=region, workers=len(experiment.worlds)
        )
        if i == 1:
            files[layout.training_params_key()] = _yaml_strings(params)
        if several:
            files[layout.training_params_key(i)] = _yaml_strings(params)
    return files


def localize_experiment(data: dict[str, Any], folders: Mapping[str, Path]) -> dict[str, Any]:
    """Points an uploaded experiment's relative file names at local folders.

    Args:
        data: The uploaded experiment mapping; its names are relative to the upload
            prefix (``custom_files/reward_function.py``, ``deepracer/preset.yaml``).
        folders: Where each top-level folder of the upload is here: ``custom_files``
            and ``deepracer`` (in a training container, the two input channels).

    Names that are not files in those folders (shipped rewards, presets, worlds) stay.
    """
    out = dict(data)

    def local(name: Any) -> Any:
        if not isinstance(name, str) or "/" not in name:
            return name
        top, _, rest = name.partition("/")
        if top in folders and (folders[top] / rest).is_file():
            return str(folders[top] / rest)
        return name

    for key in ("reward", "action_space", "preset"):
        if key in out:
            out[key] = local(out[key])
    worlds = out.get("worlds")
    if isinstance(worlds, list):
        out["worlds"] = [local(w) for w in worlds]
    evaluation = out.get("eval")
    if isinstance(evaluation, dict) and evaluation.get("world") is not None:
        out["eval"] = {**evaluation, "world": local(evaluation["world"])}
    return out


def upload_experiment(
    experiment: ExperimentConfig,
    storage: Storage,
    layout: ArtifactLayout,
    *,
    region: str = "us-east-1",
    echo: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Uploads an experiment's files, verified, with the manifest written last.

    A reward file that DeepRacer on AWS would refuse (imports outside its allowlist,
    forbidden builtins or strings; :mod:`deepracer.rewards.allowlist`) is uploaded as
    it is, with one warning per reason through ``echo``.

    Returns:
        The manifest.

    Raises:
        DeepRacerError: An invalid experiment (nothing is uploaded) or a failed upload
            (no manifest is written, so the upload never counts as complete).
    """
    from deepracer.rewards.allowlist import console_rejections

    files = experiment_files(experiment, layout, region=region)
    if echo is not None:
        for problem in console_rejections(files[layout.reward_key].decode()):
            echo(f"warning: {experiment.reward}: DeepRacer on AWS would reject it: {problem}")
    extra = {
        "experiment": experiment.name,
        "worlds": list(experiment.worlds),
        "deepracer_version": __version__,
        "layout": {"bucket": layout.bucket, "prefix": layout.prefix},
        "resolved_experiment": to_mapping(experiment),
    }
    return upload_files(storage, files, manifest_key=layout.manifest_key, extra=extra, echo=echo)


# -- download ---------------------------------------------------------------------------


def _is_run(folder: Path) -> bool:
    files = RunFiles(folder)
    return files.is_run() and (
        files.final_model.is_file()
        or files.best_model.is_file()
        or (files.checkpoints / "latest.json").is_file()
    )


def _fetch_and_extract(storage: Storage, key: str, dest: Path) -> None:
    """Streams an archive to disk next to ``dest`` and unpacks it into ``dest``."""
    source = storage.url(key)
    archive = dest.parent / f"{dest.name}.{MODEL_ARCHIVE}"
    storage.get_file(key, archive)
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            # The "data" filter refuses absolute paths, links out of dest and devices.
            tar.extractall(dest, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DeepRacerError(f"{source}: not a readable model archive ({exc})") from None
    finally:
        archive.unlink(missing_ok=True)


def _model_archives(storage: Storage, prefix: str) -> list[str]:
    # Listed as a folder: "runs/mine" must not reach the jobs under "runs/mine-old".
    folder = prefix.strip("/")
    keys = (o.key for o in storage.list(f"{folder}/" if folder else ""))
    return [key for key in keys if key.endswith(f"/output/{MODEL_ARCHIVE}")]


def download_run(
    storage: Storage,
    key: str,
    run_dir: Path,
    *,
    echo: Callable[[str], None] | None = None,
) -> Path:
    """Fetches a trained run into ``run_dir`` (new or empty).

    ``key`` is a ``model.tar.gz`` (a SageMaker job's output), or a prefix holding one
    job's output or a run directory's files. The run is assembled in a temporary
    folder next to ``run_dir`` and renamed into place only when complete.

    Returns:
        ``run_dir``.

    Raises:
        DeepRacerError: ``run_dir`` is not empty, nothing or several models match, or
            what was fetched is not a deepracer run (a console or deepracer-for-cloud
            model holds TensorFlow checkpoints, which this package cannot drive).
    """
    say = echo or (lambda line: None)
    if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
        raise DeepRacerError(f"{run_dir}: exists and is not empty; choose a new run directory")
    where = storage.url(key)
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{run_dir.name}.", dir=run_dir.parent))
    try:
        if key.endswith(".tar.gz") or key.endswith(".tgz"):
            say(f"downloading {where}")
            _fetch_and_extract(storage, key, staging)
        else:
            archives = _model_archives(storage, key)
            if len(archives) > 1:
                names = ", ".join(a.split("/")[-3] for a in archives)
                raise DeepRacerError(
                    f"{where}: holds the models of several jobs ({names}); name one with"
                    " --job NAME or give its model.tar.gz"
                )
            if archives:
                say(f"downloading {storage.url(archives[0])}")
                _fetch_and_extract(storage, archives[0], staging)
            else:
                say(f"downloading the files under {where}")
                # Keys are checked before anything is written: one with '..', an empty
                # part or an absolute path would land outside the run directory.
                if not download_prefix(storage, key, staging, shown_as=run_dir):
                    raise StorageError(f"{where}: nothing stored there")
        if not _is_run(staging):
            found = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())
            raise DeepRacerError(
                f"{where}: not a deepracer run (expected experiment.yaml with model.zip,"
                f" best.zip or checkpoints/; found {', '.join(found[:8]) or 'nothing'}). A"
                " DeepRacer console or deepracer-for-cloud model holds TensorFlow"
                " checkpoints, which deepracer cannot evaluate"
            )
        if run_dir.exists():
            run_dir.rmdir()
        os.replace(staging, run_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return run_dir
