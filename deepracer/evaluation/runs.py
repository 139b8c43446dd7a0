"""Finding and loading what a training run produced.

Every failure is one :class:`~deepracer.errors.DeepRacerError` naming the file, the
field and what was expected: a run directory without a model, a broken
``checkpoints/latest.json``, a missing or invalid ``model_metadata.json``, a model
file that does not load, a model whose spaces differ from the run's metadata.

Contents:
    resolve_model: a run directory or a model file to ``(model file, run directory)``.
    latest_checkpoint: the model file ``checkpoints/latest.json`` names, if any.
    run_setup: the env config, world and algorithm a run's model is driven with.
    run_experiment: a run's experiment, pointed at the run's own reward and preset.
    load_policy: load a stable-baselines3 model file.
    check_policy: the model's action and observation spaces against the env's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deepracer.errors import DeepRacerError

if TYPE_CHECKING:
    import gymnasium as gym

    from deepracer.envs import EnvConfig

__all__ = [
    "check_policy",
    "latest_checkpoint",
    "load_policy",
    "resolve_model",
    "run_experiment",
    "run_setup",
]

_LATEST = Path("checkpoints") / "latest.json"
"""Where ``deepracer train`` points to its last complete checkpoint, in a run."""


def resolve_model(target: Path, *, echo: Callable[[str], None] = print) -> tuple[Path, Path]:
    """Returns ``(model file, run directory)`` of a run directory or a model file.

    A run directory's ``best.zip`` (the console evaluates its best model) wins over
    its final ``model.zip``; a run without either (training crashed or was killed)
    falls back to the checkpoint ``checkpoints/latest.json`` names, with a note. A
    model file inside a run's ``checkpoints/`` belongs to that run.

    Args:
        target: A run directory or a model ``.zip``.
        echo: Receives the note when a checkpoint stands in for the final model.

    Raises:
        DeepRacerError: Nothing to evaluate, or a broken ``checkpoints/latest.json``.
    """
    if target.is_dir():
        for name in ("best.zip", "model.zip"):
            if (target / name).is_file():
                return target / name, target
        checkpoint = latest_checkpoint(target)
        if checkpoint is not None:
            echo(
                f"note: {target} has no best.zip or model.zip (training stopped early?);"
                f" using its last checkpoint {checkpoint}"
            )
            return checkpoint, target
        raise DeepRacerError(
            f"{target}: no best.zip, model.zip or {_LATEST.as_posix()} in this directory:"
            " pass a run directory that `deepracer train` wrote, or the path of a model .zip"
        )
    if target.is_file():
        run = target.parent.parent
        if target.parent.name == "checkpoints" and (run / "experiment.yaml").is_file():
            return target, run
        return target, target.parent
    raise DeepRacerError(f"no such run directory or model file: {target}")


def latest_checkpoint(run_dir: Path) -> Path | None:
    """Returns the model file ``run_dir/checkpoints/latest.json`` names; None without one.

    Raises:
        DeepRacerError: The file is not JSON, lacks a ``model`` path, or names a
            missing file.
    """
    latest = run_dir / _LATEST
    if not latest.is_file():
        return None
    expected = (
        'expected a JSON object whose "model" is the checkpoint\'s model file relative to'
        ' the run directory (e.g. "checkpoints/model_512.zip"), as `deepracer train`'
        " writes it"
    )
    try:
        data = json.loads(latest.read_bytes())
    except json.JSONDecodeError as exc:
        raise DeepRacerError(
            f"{latest}: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg});"
            f" {expected}"
        ) from None
    except (OSError, ValueError) as exc:  # unreadable, or bytes that are no text at all
        raise DeepRacerError(f"{latest}: cannot read it as JSON ({exc}); {expected}") from None
    model = data.get("model") if isinstance(data, dict) else None
    if not isinstance(model, str) or not model:
        found = "missing" if model is None else repr(model)
        raise DeepRacerError(f'{latest}: field "model" is {found}; {expected}')
    path = run_dir / model
    if not path.is_file():
        raise DeepRacerError(
            f'{latest}: field "model" names {model}, which is not a file in {run_dir}'
        )
    return path


def run_setup(run_dir: Path, world: str | None, max_steps: int) -> tuple[Any, str, str]:
    """Returns the env config, world and algorithm to drive a run's model with.

    A run directory written by ``deepracer train`` holds its experiment and
    model_metadata.json: the model is driven with exactly that observation and action
    space. A bare model file gets the quickstart's setting (state observation, default
    actions, PPO).

    Raises:
        DeepRacerError: An invalid ``experiment.yaml``, or a missing or invalid
            ``model_metadata.json``; the message names the file and the field.
    """
    from dataclasses import replace

    saved = run_dir / "experiment.yaml"
    if not saved.is_file():
        name = world or "oval"
        config = {
            "world": name,
            "observation": "state",
            "start": {"round_robin_advance": 0.0},
            "episode": {"max_steps": max_steps},
        }
        return config, name, "ppo"
    from deepracer.envs.model_metadata import load_model_metadata
    from deepracer.training.experiment import env_config
    from deepracer.training.presets import load_preset

    experiment = run_experiment(run_dir)
    metadata_path = run_dir / "model_metadata.json"
    if not metadata_path.is_file():
        raise DeepRacerError(
            f"{metadata_path}: missing; a run directory holds the model's action space"
            " there (`deepracer train` writes it next to experiment.yaml)"
        )
    metadata = load_model_metadata(metadata_path)
    name = world or experiment.eval.world or experiment.worlds[0]
    env_cfg = env_config(experiment, name, action_space=metadata.action_space, evaluation=True)
    env_cfg = replace(env_cfg, episode=replace(env_cfg.episode, max_steps=max_steps))
    return env_cfg, name, load_preset(experiment.preset).algorithm


def run_experiment(run_dir: Path) -> Any:
    """Returns a run's saved experiment, pointed at the run's own file copies.

    The reward function and preset a run trained with are copied into it
    (``reward_function.py``, ``preset.yaml``); they stand in for the names the
    experiment gives, which may be paths that exist only where the run was trained
    (a SageMaker container, another machine).

    Raises:
        DeepRacerError: ``experiment.yaml`` is missing or invalid.
    """
    from dataclasses import replace

    from deepracer.config.loader import load_yaml
    from deepracer.training.experiment import experiment_from_mapping

    saved = run_dir / "experiment.yaml"
    experiment = experiment_from_mapping(load_yaml(saved), source=str(saved))
    changes: dict[str, Any] = {}
    if (run_dir / "reward_function.py").is_file():
        changes["reward"] = str(run_dir / "reward_function.py")
    if (run_dir / "preset.yaml").is_file():
        changes["preset"] = str(run_dir / "preset.yaml")
    return replace(experiment, **changes)


def load_policy(path: Path, algorithm: str) -> Any:
    """Loads a stable-baselines3 PPO or SAC model from ``path``.

    Raises:
        DeepRacerError: stable-baselines3 is missing or the file is not such a model
            (truncated, corrupt, or another algorithm's).
    """
    try:
        from stable_baselines3 import PPO, SAC
    except ImportError:
        raise DeepRacerError(
            "loading a model needs stable-baselines3: pip install 'deepracer[train]'"
        ) from None
    loader: Any = {"ppo": PPO, "sac": SAC}[algorithm]
    try:
        return loader.load(path, device="cpu")
    except Exception as exc:  # a zip of something else fails in many ways; all mean one thing
        raise DeepRacerError(
            f"{path}: cannot load a {algorithm.upper()} model from it ({exc}); expected a"
            " stable-baselines3 model .zip as `deepracer train` saves it (is the file"
            " truncated or corrupt?)"
        ) from None


def check_policy(policy: Any, config: EnvConfig, model_path: Path, run_dir: Path) -> None:
    """Checks that the model acts and observes in the spaces of the env it will drive.

    Args:
        policy: A loaded model with ``action_space`` and ``observation_space``.
        config: The env config from :func:`run_setup`.
        model_path: The model file, for messages.
        run_dir: The run directory, for messages.

    Raises:
        DeepRacerError: The spaces differ: the message names ``model_metadata.json``
            and ``action_space`` (or ``experiment.yaml`` and ``observation``), with
            what it found and what the model expects.
    """
    from deepracer.envs.action import make_action_type
    from deepracer.envs.observation import SensorConfigs, make_observation

    in_run = (run_dir / "experiment.yaml").is_file()
    actions = make_action_type(config.action_space).space()
    if actions != policy.action_space:
        source = (
            f"{run_dir / 'model_metadata.json'}: action_space"
            if in_run
            else f"{model_path}: outside a run directory the model is driven with the"
            " default action_space, which"
        )
        raise DeepRacerError(
            f"{source} has {_describe(actions)}, but the model {model_path} expects"
            f" {_describe(policy.action_space)}; use the model_metadata.json its training"
            " run wrote"
        )
    sensors = SensorConfigs(state=config.state, lidar=config.lidar, camera=config.camera)
    observation = make_observation(config.observation, sensors).space()
    if not _same_observation(observation, policy.observation_space):
        source = (
            f"{run_dir / 'experiment.yaml'}: observation {config.observation!r}"
            if in_run
            else f"{model_path}: outside a run directory the model is driven with the"
            " state observation, which"
        )
        raise DeepRacerError(
            f"{source} gives {observation}, but the model {model_path} expects"
            f" {policy.observation_space}"
        )


def _describe(space: gym.Space[Any]) -> str:
    n = getattr(space, "n", None)
    if n is not None:
        return f"{int(n)} discrete actions (Discrete({int(n)}))"
    shape = getattr(space, "shape", None)
    return f"a continuous action space ({space})" if shape else str(space)


def _same_observation(env_space: Any, model_space: Any) -> bool:
    """Whether a model trained on ``env_space`` has ``model_space``.

    stable-baselines3 stores image spaces channel-first (it transposes the env's
    height x width x channels frames), per key for a Dict space.
    """
    import gymnasium as gym
    import numpy as np

    if env_space == model_space:
        return True
    if isinstance(env_space, gym.spaces.Dict) and isinstance(model_space, gym.spaces.Dict):
        return env_space.keys() == model_space.keys() and all(
            _same_observation(env_space[k], model_space[k]) for k in env_space
        )
    if (
        isinstance(env_space, gym.spaces.Box)
        and isinstance(model_space, gym.spaces.Box)
        and len(env_space.shape) == 3
    ):
        transposed = gym.spaces.Box(
            low=np.transpose(env_space.low, (2, 0, 1)),
            high=np.transpose(env_space.high, (2, 0, 1)),
            dtype=env_space.dtype,
        )
        return bool(transposed == model_space)
    return False
