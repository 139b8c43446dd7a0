"""Finding and loading what a training run produced.

Every failure is one :class:`~deepracer.errors.DeepRacerError` naming the file, the
field and what was expected: a run directory without a model, a broken
``checkpoints/latest.json``, a missing or invalid ``model_metadata.json``, a model
file that does not load, a model whose weights do not fit the run's files.

Nothing here runs code from a run directory unless it is trusted
(:mod:`deepracer.trust`): models load as weights only, and an untrusted run's reward
file is replaced by a stand-in.

Contents:
    resolve_model: a run directory or a model file to ``(model file, run directory)``.
    latest_checkpoint: the model file ``checkpoints/latest.json`` names, if any.
    RunSetup, run_setup: how a run's model is driven (env, world, preset, reward).
    run_experiment: a run's experiment, pointed at the run's own reward and preset.
    load_policy: a model file's weights in the network the run's files describe.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deepracer.errors import DeepRacerError
from deepracer.runs import RunFiles
from deepracer.runs.reading import (
    LEGACY_VEHICLE,
    latest_checkpoint,
    resolve_model,
    run_experiment,
)

if TYPE_CHECKING:
    import gymnasium as gym

    from deepracer.envs import EnvConfig, RacingEnv
    from deepracer.models.presets import PresetConfig

__all__ = [
    "LEGACY_VEHICLE",
    "RunSetup",
    "latest_checkpoint",
    "load_policy",
    "resolve_model",
    "run_experiment",
    "run_setup",
]


@dataclass(frozen=True)
class RunSetup:
    """How a run's model is driven: its env, world and preset, and whose reward runs.

    Attributes:
        config: The evaluation env config (the run's observation, actions, world).
        world: The world driven.
        preset: The preset whose network the model has.
        untrusted_reward: The reward file that will not be imported (a run this
            machine did not create, without ``--trust-reward``); None when the env may
            import ``config.reward``.
        in_run: Whether the setup comes from the run's ``experiment.yaml`` (False: a
            bare model file, driven with the quickstart's setting).
    """

    config: EnvConfig
    world: str
    preset: PresetConfig
    untrusted_reward: Path | None
    in_run: bool

    def reward_function(self) -> Callable[[dict[str, Any]], float] | None:
        """The stand-in reward for an untrusted run (always 0), else None."""
        return None if self.untrusted_reward is None else _unscored

    def env(self, *, scored: bool = True, **kwargs: Any) -> RacingEnv:
        """Builds the env, with the stand-in reward where the run's may not run.

        Args:
            scored: False for a command that never reads rewards (render): the run's
                reward file is then not imported even when trusted.
            **kwargs: Passed to :class:`~deepracer.envs.RacingEnv`.
        """
        from deepracer.envs import RacingEnv

        reward = self.reward_function() if scored else _unscored
        return RacingEnv(self.config, reward_function=reward, **kwargs)

    def reward_note(self) -> str | None:
        """What to tell the user when the run's reward is not computed."""
        if self.untrusted_reward is None:
            return None
        return (
            f"note: rewards are not computed (reported as 0): {self.untrusted_reward} comes"
            " from a run not created on this machine, or changed since, and importing it"
            " would run its code; pass --trust-reward if you trust it"
        )


def _unscored(params: dict[str, Any]) -> float:
    return 0.0


_BARE_PRESETS = {"ppo": "quickstart_ppo", "sac": "sac_continuous"}
"""The presets a model file outside a run directory is rebuilt with."""


def run_setup(
    run_dir: Path, world: str | None, max_steps: int, *, trust_reward: bool = False
) -> RunSetup:
    """Returns how to drive a run's model.

    A run directory written by ``deepracer train`` holds its experiment, preset and
    model_metadata.json: the model is driven with exactly that observation and action
    space. A bare model file gets the quickstart's setting (state observation, PPO),
    with the actions of a model_metadata.json beside it (SAC if that file says so).

    The run's reward file is imported only if :func:`deepracer.trust.run_is_trusted`
    or ``trust_reward``; otherwise the env gets a stand-in reward of 0.

    Raises:
        DeepRacerError: An invalid ``experiment.yaml`` or preset, or a missing or
            invalid ``model_metadata.json``; the message names the file and the field.
    """
    from deepracer.config.loader import from_mapping
    from deepracer.envs import EnvConfig
    from deepracer.envs.model_metadata import load_model_metadata
    from deepracer.experiment import env_config
    from deepracer.models.presets import load_preset
    from deepracer.trust import run_is_trusted

    files = RunFiles(run_dir)
    metadata_path = files.model_metadata
    if not files.is_run():
        name = world or "oval"
        data: dict[str, Any] = {
            "world": name,
            "observation": "state",
            "start": {"round_robin_advance": 0.0},
            "episode": {"max_steps": max_steps},
        }
        algorithm = "ppo"
        if metadata_path.is_file():
            metadata = load_model_metadata(metadata_path)
            data["action_space"] = metadata.action_space
            algorithm = "sac" if metadata.training_algorithm == "sac" else "ppo"
        config = from_mapping(EnvConfig, data, source=str(run_dir))
        # Shipped files only: nothing of the folder's runs.
        return RunSetup(config, name, load_preset(_BARE_PRESETS[algorithm]), None, False)
    experiment = run_experiment(run_dir)
    if not metadata_path.is_file():
        raise DeepRacerError(
            f"{metadata_path}: missing; a run directory holds the model's action space"
            " there (`deepracer train` writes it)"
        )
    metadata = load_model_metadata(metadata_path)
    name = world or experiment.eval.world or experiment.worlds[0]
    env_cfg = env_config(experiment, name, action_space=metadata.action_space, evaluation=True)
    env_cfg = replace(env_cfg, episode=replace(env_cfg.episode, max_steps=max_steps))
    trusted = trust_reward or run_is_trusted(run_dir)
    untrusted = None if trusted else Path(experiment.reward)
    return RunSetup(env_cfg, name, load_preset(experiment.preset), untrusted, True)


_MAX_WEIGHTS = 1 << 30
"""The largest ``policy.pth`` a model zip may hold [bytes]: our networks take a few MB."""


def load_policy(path: Path, setup: RunSetup, run_dir: Path) -> Any:
    """Loads a model's weights into the network the run's own files describe.

    No code from the model file runs: stable-baselines3's ``load`` unpickles the
    zip's ``data`` entry (cloudpickled schedules, spaces, classes), so a crafted model
    could do anything. Instead the model is rebuilt from the run's preset for the
    run's observation and action spaces (:func:`deepracer.models.presets.
    build_model`), and only the zip's ``policy.pth`` is read, with torch's
    weights-only unpickler, into it.

    An imported DeepRacer model (``model/model.pb``, ``deepracer import``) is a
    TensorFlow frozen graph: it drives through
    :class:`~deepracer.models.frozen_graph.FrozenGraphPolicy`, which checks it first.

    Args:
        path: A stable-baselines3 model ``.zip``, or an imported ``model.pb``.
        setup: The run's setup (:func:`run_setup`).
        run_dir: The run directory, for messages.

    Returns:
        A model whose ``predict`` drives the env of ``setup``.

    Raises:
        DeepRacerError: stable-baselines3 is missing, the file is not such a model
            (truncated, corrupt, another algorithm's), or its weights do not fit the
            run's files: the message says which file and what differs.
    """
    import zipfile

    if path.suffix == ".pb":  # an imported DeepRacer model (deepracer import)
        from deepracer.models.frozen_graph import FrozenGraphPolicy

        discrete = not isinstance(setup.config.action_space, dict)
        return FrozenGraphPolicy(path.read_bytes(), discrete=discrete, source=str(path))
    try:
        import torch
    except ImportError:
        raise DeepRacerError(
            "loading a model needs stable-baselines3: pip install 'deepracer[train]'"
        ) from None
    algorithm = setup.preset.algorithm.upper()
    expected = (
        "expected a stable-baselines3 model .zip as `deepracer train` saves it (is the file"
        " truncated or corrupt?)"
    )
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("policy.pth")
            if info.file_size > _MAX_WEIGHTS:
                raise DeepRacerError(
                    f"{path}: policy.pth holds {info.file_size:,} bytes, more than any"
                    f" network of ours ({_MAX_WEIGHTS:,}); {expected}"
                )
            raw = archive.read(info)
        weights = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except DeepRacerError:
        raise
    except Exception as exc:  # a zip of something else fails in many ways; all mean one thing
        raise DeepRacerError(
            f"{path}: cannot load a {algorithm} model from it ({exc}); {expected}"
        ) from None
    if not isinstance(weights, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in weights.items()
    ):
        raise DeepRacerError(
            f"{path}: cannot load a {algorithm} model from it (policy.pth holds no tensors"
            f" by name); {expected}"
        )
    model = _blank_model(setup)
    _check_weights(weights, model.policy.state_dict(), setup, path, run_dir)
    model.policy.load_state_dict(weights)
    model.policy.set_training_mode(False)
    return model


def _blank_model(setup: RunSetup) -> Any:
    """The run's network, untrained, for the spaces of its env (no env is built)."""
    import gymnasium as gym

    from deepracer.envs.action import make_action_type
    from deepracer.envs.config import sensor_configs
    from deepracer.envs.observation import make_observation
    from deepracer.models.presets import build_model

    config = setup.config
    sensors = sensor_configs(config)

    class Spaces(gym.Env[Any, Any]):
        observation_space = make_observation(config.observation, sensors).space()
        action_space = make_action_type(config.action_space).space()

    # Rollout and replay buffers are sized by these; the network is not.
    small = {"n_steps": 2, "batch_size": 2} if setup.preset.algorithm == "ppo" else {}
    if setup.preset.algorithm == "sac":
        small = {"buffer_size": 1, "learning_starts": 0}
    preset = replace(
        setup.preset, n_envs=1, hyperparameters={**setup.preset.hyperparameters, **small}
    )
    return build_model(preset, Spaces(), seed=0)


_HEADS = ("action_net.weight", "action_net.bias", "log_std", "actor.mu.weight", "actor.mu.bias")
"""The action head's weights: their shapes follow the action space."""


def _check_weights(
    weights: dict[str, Any], mine: dict[str, Any], setup: RunSetup, path: Path, run_dir: Path
) -> None:
    """Raises a DeepRacerError naming the run file that disagrees with the weights."""
    algorithm = setup.preset.algorithm.upper()

    def shape(tensors: dict[str, Any], key: str) -> tuple[int, ...] | None:
        return tuple(tensors[key].shape) if key in tensors else None

    # A head of another size or kind (discrete logits, Gaussian means and log_std) on
    # the same body: the action space differs.
    head_differs = any(shape(weights, k) != shape(mine, k) for k in _HEADS)
    if head_differs and set(mine) - set(_HEADS) <= set(weights):
        source = (
            f"{RunFiles(run_dir).model_metadata}: action_space"
            if setup.in_run
            else f"{path}: outside a run directory the model is driven with the"
            " default action_space (or a model_metadata.json beside it), which"
        )
        raise DeepRacerError(
            f"{source} has {_describe_actions(setup)}, but the model {path} expects"
            f" {_head_description(weights)}; use the model_metadata.json its training run wrote"
        )
    if set(weights) != set(mine):
        missing = sorted(set(mine) - set(weights)) or sorted(set(weights) - set(mine))
        raise DeepRacerError(
            f"{path}: cannot load a {algorithm} model from it: its weights belong to another"
            f" network than the run's preset {setup.preset.network!r} (e.g. {missing[0]}:"
            " another algorithm or network)"
        )
    differ = [k for k in mine if shape(weights, k) != shape(mine, k)]
    if differ:
        key = differ[0]
        source = (
            f"{RunFiles(run_dir).experiment}: observation {setup.config.observation!r}"
            if setup.in_run
            else f"{path}: outside a run directory the model is driven with the state"
            " observation, which"
        )
        raise DeepRacerError(
            f"{source} gives observations the model was not trained on: the model {path}"
            f" expects {key} of shape {list(shape(weights, key) or ())}, this observation"
            f" needs {list(shape(mine, key) or ())}"
        )


def _head_description(weights: dict[str, Any]) -> str:
    if "log_std" in weights or "actor.mu.weight" in weights:
        return "a continuous action space (2 means: steering and speed)"
    n = int(weights["action_net.weight"].shape[0]) if "action_net.weight" in weights else 0
    return f"{n} discrete actions (Discrete({n}))"


def _describe_actions(setup: RunSetup) -> str:
    from deepracer.envs.action import make_action_type

    return _describe(make_action_type(setup.config.action_space).space())


def _describe(space: gym.Space[Any]) -> str:
    n = getattr(space, "n", None)
    if n is not None:
        return f"{int(n)} discrete actions (Discrete({int(n)}))"
    shape = getattr(space, "shape", None)
    return f"a continuous action space ({space})" if shape else str(space)
