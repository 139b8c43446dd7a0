"""An experiment to the files a training job reads, and a trained run back.

:func:`experiment_files` turns an experiment into the layout of
:mod:`deepracer.cloud.layout`: the three ``custom_files`` deepracer-for-cloud and
DeepRacer on AWS read, one ``training_params*.yaml`` per world the simulator has
(:mod:`deepracer.simapp`; none for a world on our built-in or a user's track), and a
self-contained copy of the experiment for our training image (the reward, action
space and preset it names become the uploaded files; worlds and route files that do
not ship with the package are uploaded too). :func:`upload_experiment` writes them
through a :class:`~deepracer.cloud.storage.Storage`, manifest last.
:func:`download_run` brings a job's ``model.tar.gz`` (or a run directory stored
under a prefix) back into a local run directory that ``deepracer evaluate``
accepts.

Contents:
    experiment_files: the upload's files (key -> bytes).
    localize_experiment: point an uploaded experiment's relative names at folders.
    upload_experiment: write an experiment's files to storage.
    download_run: fetch a trained run into a local run directory.
"""

from __future__ import annotations

import json
import os
import secrets
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
from deepracer.experiment import ExperimentConfig, dump_experiment
from deepracer.runs.layout import RunFiles
from deepracer.simapp import (
    NotSimappTrack,
    S3Keys,
    dump_training_params,
    simapp_world_name,
    training_params,
)

__all__ = [
    "download_run",
    "experiment_files",
    "localize_experiment",
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


def _simapp_keys(layout: ArtifactLayout) -> S3Keys:
    return S3Keys(
        bucket=layout.bucket,
        prefix=layout.prefix,
        reward=layout.reward_key,
        model_metadata=layout.model_metadata_key,
        metrics=layout.key("metrics", "TrainingMetrics.json"),
    )


def _params_keys(layout: ArtifactLayout, index: int, several: bool) -> list[str]:
    """The ``training_params`` keys of world ``index`` (1-based).

    The first world's file is also the plain ``training_params.yaml``.
    """
    keys = [layout.training_params_key()] if index == 1 else []
    return keys + ([layout.training_params_key(index)] if several else [])


def _not_simapp(experiment: ExperimentConfig) -> dict[int, NotSimappTrack]:
    """The worlds (1-based index) whose track the simapp does not have."""
    found: dict[int, NotSimappTrack] = {}
    for i, world in enumerate(experiment.worlds, start=1):
        try:
            simapp_world_name(world)
        except NotSimappTrack as exc:
            found[i] = exc
    return found


def experiment_files(
    experiment: ExperimentConfig, layout: ArtifactLayout, *, region: str = "us-east-1"
) -> dict[str, bytes]:
    """Returns every file of the upload, keyed by its object key under the layout.

    A world whose track the simulator does not have gets no ``training_params*.yaml``:
    it has no ``WORLD_NAME`` (:class:`~deepracer.simapp.NotSimappTrack`).

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
    skipped = _not_simapp(experiment)
    for i, world in enumerate(experiment.worlds, start=1):
        if i in skipped:
            continue  # no WORLD_NAME: upload_experiment warns
        params = training_params(
            experiment,
            world,
            _simapp_keys(layout),
            region=region,
            workers=len(experiment.worlds),
        )
        for key in _params_keys(layout, i, several):
            files[key] = dump_training_params(params)
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
    it is, with one warning per reason through ``echo``; so is each world that gets no
    ``training_params*.yaml`` (see :func:`experiment_files`).

    Returns:
        The manifest.

    Raises:
        DeepRacerError: An invalid experiment (nothing is uploaded) or a failed upload
            (no manifest is written, so the upload never counts as complete).
    """
    from deepracer.rewards.allowlist import console_rejections

    files = experiment_files(experiment, layout, region=region)
    if experiment.launch.sagemaker.instance_count > 1:
        # The job's hosts form a Ray cluster (deepracer.cloud.ray_hosts); its nodes
        # authenticate with this token, new for every upload.
        files[layout.ray_token_key] = (secrets.token_hex(32) + "\n").encode()
    if echo is not None:
        several = len(experiment.worlds) > 1
        for i, exc in _not_simapp(experiment).items():
            names = [k.rsplit("/", 1)[-1] for k in _params_keys(layout, i, several)]
            echo(
                f"warning: {exc.world}: track {exc.track!r} is not a DeepRacer simulator"
                f" track; {' and '.join(names)} (for deepracer-for-cloud / DeepRacer on"
                f" AWS) {'are' if len(names) > 1 else 'is'} not written: those load only"
                " the simulator's own tracks (the shipped ones `deepracer tracks list`"
                " shows)"
            )
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
            model holds a TensorFlow graph: ``deepracer import`` takes those).
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
                " DeepRacer console, DeepRacer on AWS or deepracer-for-cloud model holds a"
                f" TensorFlow graph: `deepracer import {storage.url(key)} {run_dir}` makes it"
                " a run that evaluate, render and analyze take"
            )
        if run_dir.exists():
            run_dir.rmdir()
        os.replace(staging, run_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return run_dir
