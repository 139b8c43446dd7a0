"""Finding and loading what a training run produced.

Contents:
    resolve_model: a run directory or a model file to ``(model file, run directory)``.
    run_setup: the env config, world and algorithm a run's model is driven with.
    load_policy: load a stable-baselines3 model file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deepracer.errors import DeepRacerError

__all__ = ["load_policy", "resolve_model", "run_setup"]


def resolve_model(target: Path) -> tuple[Path, Path]:
    """Returns ``(model file, run directory)`` of a run directory or a model file.

    A run directory's ``best.zip`` (the console evaluates its best model) wins over
    its final ``model.zip``.
    """
    if target.is_dir():
        for name in ("best.zip", "model.zip"):
            if (target / name).is_file():
                return target / name, target
        raise DeepRacerError(
            f"{target} has no best.zip or model.zip: pass a run directory that"
            " `deepracer train` wrote, or the path of a model .zip"
        )
    if target.is_file():
        return target, target.parent
    raise DeepRacerError(f"no such run directory or model file: {target}")


def run_setup(run_dir: Path, world: str | None, max_steps: int) -> tuple[Any, str, str]:
    """Returns the env config, world and algorithm to drive a run's model with.

    A run directory written by ``deepracer train`` holds its experiment and
    model_metadata.json: the model is driven with exactly that observation and action
    space. A bare model file gets the quickstart's setting (state observation, default
    actions, PPO).
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
    import yaml

    from deepracer.envs.model_metadata import load_model_metadata
    from deepracer.training.experiment import env_config, experiment_from_mapping
    from deepracer.training.presets import load_preset

    experiment = experiment_from_mapping(yaml.safe_load(saved.read_text()), source=str(saved))
    metadata = load_model_metadata(run_dir / "model_metadata.json")
    name = world or experiment.eval.world or experiment.worlds[0]
    env_cfg = env_config(experiment, name, action_space=metadata.action_space, evaluation=True)
    env_cfg = replace(env_cfg, episode=replace(env_cfg.episode, max_steps=max_steps))
    return env_cfg, name, load_preset(experiment.preset).algorithm


def load_policy(path: Path, algorithm: str) -> Any:
    """Loads a stable-baselines3 PPO or SAC model from ``path``.

    Raises:
        DeepRacerError: stable-baselines3 is missing or the file is not such a model.
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
            f"{path}: cannot load a {algorithm.upper()} model from it ({exc})"
        ) from None
