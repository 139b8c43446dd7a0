"""``deepracer export``: a run's policy as ONNX with DeepRacer's model files, in one archive.

The archive is a gzipped tar with every file at the top level (as the car's model
archive keeps ``model_metadata.json`` there)::

    model.onnx             the greedy policy (see deepracer.export.onnx_export)
    model_metadata.json    the run's action space, sensors and network, as DeepRacer reads it
    reward_function.py     the run's reward function (when the run has one)
    hyperparameters.json   the preset in DeepRacer's names (when it can be expressed)
    manifest.json          inputs, outputs, action mapping, source, sha256 of every member

docs/export.md says how this maps to what the physical car, DeepRacer on AWS and
deepracer-for-cloud import. The torch and ONNX imports happen inside the functions,
so that ``deepracer --help`` stays fast.

Contents:
    ARCHIVE_SUFFIX, MANIFEST, FORMAT, FORMAT_VERSION: the archive's names.
    LoadedRun: a run's model with what the export needs.
    load_run: a run directory or model file -> :class:`LoadedRun`.
    run_observations: observations of the run's env, driven by its policy.
    export_run: write the archive.
    read_archive: an archive's members, checked against the manifest.
    check_archive: onnxruntime on the archive's model vs the torch policy.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deepracer.errors import DeepRacerError
from deepracer.io import atomic_write_bytes
from deepracer.runs.layout import HYPERPARAMETERS_NAME, MODEL_METADATA_NAME, REWARD, RunFiles

if TYPE_CHECKING:
    from deepracer.envs.model_metadata import ModelMetadata
    from deepracer.evaluation.runs import RunSetup
    from deepracer.export.onnx_export import ExportCheck, OnnxPolicy

__all__ = [
    "ARCHIVE_SUFFIX",
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "LoadedRun",
    "check_archive",
    "check_model",
    "export_run",
    "load_run",
    "read_archive",
    "run_observations",
    "tar_gz",
    "write_archive",
]

ARCHIVE_SUFFIX = ".tar.gz"
MANIFEST = "manifest.json"
FORMAT = "deepracer-export"
FORMAT_VERSION = 1
_MODEL = "model.onnx"
_METADATA = MODEL_METADATA_NAME
_REWARD = REWARD
_HYPERPARAMETERS = HYPERPARAMETERS_NAME


@dataclass(frozen=True)
class LoadedRun:
    """A run's model, loaded, with what the export needs.

    Attributes:
        model_path: The model file (``best.zip`` of a run directory, or as given).
        run_dir: The run directory holding ``model_metadata.json``.
        algorithm: ``ppo`` or ``sac``.
        model: The stable-baselines3 model (on the CPU), weights only.
        metadata: The run's ``model_metadata.json``, which the model's weights fit.
        setup: How the run's model is driven; ``setup.in_run`` is False for a folder
            without ``experiment.yaml`` (then no env observations are available).
        observation_space: The env's observation space (the ONNX inputs).
        reward_trusted: Whether the run's ``reward_function.py`` may go into the
            archive: the run was created on this machine, or ``--trust-reward``.
    """

    model_path: Path
    run_dir: Path
    algorithm: str
    model: Any
    metadata: ModelMetadata
    setup: RunSetup
    observation_space: Any
    reward_trusted: bool


def load_run(target: Path, *, trust_reward: bool = False) -> LoadedRun:
    """Loads a run's model (``best.zip`` first) and checks its files against it.

    No code from the run runs: the model loads as weights only
    (:func:`~deepracer.evaluation.runs.load_policy`) and the reward file is not imported.

    Args:
        target: A run directory that ``deepracer train`` wrote, or a model ``.zip``
            whose run directory (as :func:`~deepracer.evaluation.runs.resolve_model`
            finds it) has ``model_metadata.json``.
        trust_reward: Put the run's ``reward_function.py`` into the archive even if
            the run was not created on this machine.

    Raises:
        DeepRacerError: No model, an unloadable model file, a missing or invalid
            ``model_metadata.json``, one whose action space differs from the
            model's, or an experiment whose observation differs from the model's.
    """
    from deepracer.envs.model_metadata import load_model_metadata
    from deepracer.evaluation.runs import load_policy, resolve_model, run_setup
    from deepracer.export.onnx_export import env_observation_space
    from deepracer.trust import run_is_trusted

    model_path, run_dir = resolve_model(target)
    metadata_path = RunFiles(run_dir).model_metadata
    if not metadata_path.is_file():
        raise DeepRacerError(
            f"{run_dir}: no {_METADATA}; the archive needs it to map the model's outputs"
            " to steering angles and speeds (pass a run directory, or write one with"
            " `deepracer actions generate --out`)"
        )
    metadata = load_model_metadata(metadata_path)
    setup = run_setup(run_dir, None, 1000)
    # The network is rebuilt for the actions of model_metadata.json: weights trained
    # for other actions do not load (load_policy says which file disagrees).
    model = load_policy(model_path, setup, run_dir)
    return LoadedRun(
        model_path=model_path,
        run_dir=run_dir,
        algorithm=setup.preset.algorithm,
        model=model,
        metadata=metadata,
        setup=setup,
        observation_space=env_observation_space(model.observation_space),
        reward_trusted=trust_reward or run_is_trusted(run_dir),
    )


def run_observations(run: LoadedRun, count: int, seed: int = 0) -> list[Any]:
    """Returns ``count`` observations of the run's env, driven greedily by its model.

    Empty when the run has no ``experiment.yaml`` (its env is unknown). Episodes
    restart when they end, with the next seed.
    """
    if not run.setup.in_run or count < 1:
        return []
    env = run.setup.env(scored=False)  # observations need no reward
    observations: list[Any] = []
    try:
        obs, _ = env.reset(seed=seed)
        while len(observations) < count:
            observations.append(obs)
            action, _ = run.model.predict(obs, deterministic=True)
            obs, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                seed += 1
                obs, _ = env.reset(seed=seed)
    finally:
        env.close()
    return observations


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hyperparameters(run_dir: Path) -> tuple[bytes | None, str]:
    """The run's preset as DeepRacer's hyperparameters.json, or None and why not."""
    from deepracer.evaluation.runs import run_experiment
    from deepracer.models.presets import load_preset, to_deepracer_hyperparameters

    files = RunFiles(run_dir)
    if files.hyperparameters.is_file():  # what the run wrote when it started
        return files.hyperparameters.read_bytes(), ""
    if not files.is_run():
        return None, f"no {files.experiment.name} names the preset"
    try:
        experiment = run_experiment(run_dir)
        values = to_deepracer_hyperparameters(load_preset(experiment.preset))
    except DeepRacerError as exc:  # e.g. a preset file since moved, SAC's automatic alpha
        return None, str(exc)
    return (json.dumps(values, indent=2) + "\n").encode(), ""


def _action_section(metadata: ModelMetadata) -> dict[str, Any]:
    units = {"steering_angle": "deg", "speed": "m/s"}
    if isinstance(metadata.action_space, list):
        return {
            "type": "discrete",
            "count": len(metadata.action_space),
            "actions": [
                {"index": i, "steering_angle": a["steering_angle"], "speed": a["speed"]}
                for i, a in enumerate(metadata.action_space)
            ],
            "units": units,
            "output": "action is an index into actions (model_metadata.json action_space)",
        }
    ranges = metadata.action_space
    return {
        "type": "continuous",
        "steering_angle": {
            "low": ranges["steering_angle"]["low"],
            "high": ranges["steering_angle"]["high"],
        },
        "speed": {"low": ranges["speed"]["low"], "high": ranges["speed"]["high"]},
        "units": units,
        "output": (
            "action is [steering, speed], each in [-1, 1]; a value v means"
            " low + (v + 1) / 2 * (high - low) of its range"
        ),
    }


def _export_policy(run: LoadedRun) -> OnnxPolicy:
    from deepracer import __version__
    from deepracer.export.onnx_export import export_policy

    metadata = {
        "deepracer.version": __version__,
        "deepracer.action_type": run.metadata.action_space_type,
        "deepracer.model_metadata": json.dumps(run.metadata.to_dict()),
    }
    return export_policy(run.model.policy, run.observation_space, metadata=metadata)


def tar_gz(members: dict[str, bytes]) -> bytes:
    """A gzipped tar of ``members`` (name -> bytes), in the given order."""
    buffer = io.BytesIO()
    now = int(time.time())
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), now, 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _default_out(run: LoadedRun) -> Path:
    name = run.run_dir.resolve().name
    files = RunFiles(run.run_dir)
    if run.model_path not in (files.best_model, files.final_model):
        name = f"{name}-{run.model_path.stem}"
    return files.exports / f"{name}{ARCHIVE_SUFFIX}"


def write_archive(run: LoadedRun, out: Path | None) -> tuple[Path, OnnxPolicy]:
    """Writes the run's export archive (default path if ``out`` is None).

    Returns:
        The archive's path and the ONNX policy in it.
    """
    import torch

    from deepracer import __version__

    out = out if out is not None else _default_out(run)
    if not out.name.endswith(ARCHIVE_SUFFIX):
        raise DeepRacerError(f"--out must end in {ARCHIVE_SUFFIX}, got {out.name}")
    onnx_policy = _export_policy(run)
    members: dict[str, bytes] = {
        _MODEL: onnx_policy.model,
        _METADATA: RunFiles(run.run_dir).model_metadata.read_bytes(),
    }
    omitted: dict[str, str] = {}
    reward = run.run_dir / _REWARD
    if not reward.is_file():
        omitted[_REWARD] = f"{run.run_dir} has no {_REWARD}"
    elif not run.reward_trusted:
        omitted[_REWARD] = (
            f"{reward} comes from a run not created on this machine (or changed since):"
            " export --trust-reward puts it in"
        )
    else:
        members[_REWARD] = reward.read_bytes()
    hyperparameters, why = _hyperparameters(run.run_dir)
    if hyperparameters is not None:
        members[_HYPERPARAMETERS] = hyperparameters
    else:
        omitted[_HYPERPARAMETERS] = why
    observation = run.setup.config.observation if run.setup.in_run else None
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "source": {
            "run": str(run.run_dir.resolve()),
            "model": str(run.model_path.resolve()),
            "model_sha256": _sha256(run.model_path.read_bytes()),
            "algorithm": run.algorithm,
        },
        "observation": {
            "type": list(observation) if isinstance(observation, tuple) else observation,
            "inputs": [i.describe() for i in onnx_policy.inputs],
        },
        "action": _action_section(run.metadata),
        "onnx": {
            "file": _MODEL,
            "opset": onnx_policy.opset,
            "exporter": f"torch {torch.__version__} torch.onnx.export(dynamo=True)",
            "outputs": onnx_policy.describe_outputs(),
        },
        "members": {
            name: {"sha256": _sha256(data), "bytes": len(data)} for name, data in members.items()
        },
        "omitted": omitted,
    }
    members[MANIFEST] = (json.dumps(manifest, indent=2) + "\n").encode()
    atomic_write_bytes(out, tar_gz(members))
    return out, onnx_policy


def export_run(target: Path, out: Path | None = None, *, trust_reward: bool = False) -> Path:
    """Writes a run's policy as ONNX with its DeepRacer files into one archive.

    Args:
        target: A run directory (its ``best.zip`` is exported, as evaluation uses
            it) or a model ``.zip`` (see :func:`load_run`).
        out: The archive path, ending in ``.tar.gz`` (default:
            ``RUN_DIR/export/<run name>.tar.gz``). Written atomically.
        trust_reward: Include the run's ``reward_function.py`` even if the run was not
            created on this machine.

    Returns:
        The archive path.

    Raises:
        DeepRacerError: See :func:`load_run`; also missing export dependencies
            (``pip install 'deepracer[export]'``) or a failed export.
    """
    from deepracer.export.onnx_export import require_export_dependencies

    require_export_dependencies()
    run = load_run(Path(target), trust_reward=trust_reward)
    path, _ = write_archive(run, Path(out) if out is not None else None)
    return path


def read_archive(path: Path) -> dict[str, bytes]:
    """Returns an export archive's members, each checked against the manifest's sha256.

    Raises:
        DeepRacerError: Not a readable archive, no manifest, or a member missing or
            differing from the manifest.
    """
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            for info in tar.getmembers():
                handle = tar.extractfile(info) if info.isfile() else None
                if handle is not None:
                    members[info.name] = handle.read()
    except (OSError, EOFError, tarfile.TarError) as exc:
        raise DeepRacerError(f"{path}: not a readable {ARCHIVE_SUFFIX} archive ({exc})") from None
    if MANIFEST not in members:
        raise DeepRacerError(f"{path}: no {MANIFEST}; not an archive `deepracer export` wrote")
    manifest = json.loads(members[MANIFEST])
    for name, entry in manifest.get("members", {}).items():
        if name not in members:
            raise DeepRacerError(f"{path}: {name}: listed in {MANIFEST} but missing")
        digest = _sha256(members[name])
        if digest != entry["sha256"]:
            raise DeepRacerError(
                f"{path}: {name}: sha256 {digest} differs from the manifest's {entry['sha256']}"
            )
    return members


def check_model(run: LoadedRun, model: bytes, samples: int, seed: int) -> dict[str, ExportCheck]:
    """Compares onnxruntime on ONNX ``model`` with the run's torch policy.

    Args:
        run: The loaded run.
        model: The ONNX model's bytes.
        samples: Observations drawn from the space, and as many from the run's env.
        seed: Seeds the sampling and the env.
    """
    from deepracer.export.onnx_export import check_export, sample_observations

    policy = run.model.policy
    sampled = sample_observations(run.observation_space, samples, seed)
    return {
        "sampled": check_export(model, policy, sampled),
        "env": check_export(model, policy, run_observations(run, samples, seed)),
    }


def check_archive(
    archive: Path, target: Path, *, samples: int = 64, seed: int = 0
) -> dict[str, ExportCheck]:
    """Compares onnxruntime on an archive's ``model.onnx`` with the torch policy.

    Args:
        archive: An archive :func:`export_run` wrote.
        target: The run directory or model file it was exported from.
        samples: Observations drawn from the observation space (seeded), and as
            many from the run's env driven by the policy (none without
            ``experiment.yaml``).
        seed: Seeds the sampling and the env.

    Returns:
        ``{"sampled": ..., "env": ...}``: one :class:`ExportCheck` per source.

    Raises:
        DeepRacerError: See :func:`read_archive` and :func:`load_run`.
    """
    members = read_archive(Path(archive))
    return check_model(load_run(Path(target)), members[_MODEL], samples, seed)
