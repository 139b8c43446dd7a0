"""Training presets: algorithm, network and hyperparameters as YAML.

A preset names an algorithm (``ppo`` or ``sac``), a network of
:data:`~deepracer.models.networks.NETWORKS` and the stable-baselines3 constructor
keyword arguments. Everything is checked when the file loads: hyperparameter keys
against the algorithm's constructor (unknown keys get a suggestion), their value
types against its annotations, ``policy_kwargs`` keys against the policy class.
:func:`build_model` then checks the network against the env's observation and the
policy's action head against the env's action space, before any training step.

Schedules are data, never code: ``learning_rate: {schedule: linear, start: 3.0e-4,
end: 0.0}`` (optionally ``end_fraction``) or ``{schedule: constant, value: ...}``,
for the keys whose constructor type accepts a schedule (``learning_rate``,
``clip_range``, ``clip_range_vf``). stable-baselines3 calls a schedule with the
*remaining* progress, 1 at the start of training and 0 at the end.

In ``policy_kwargs``, ``activation_fn`` and ``optimizer_class`` are names
(``relu``, ``tanh``, ``elu``, ``leaky_relu``, ``gelu``, ``silu``; ``adam``,
``adamw``, ``rmsprop``, ``sgd``); ``features_extractor_kwargs`` is merged over the
network's; every other key replaces the network's value (e.g. ``net_arch``).

Contents:
    PresetConfig: one preset.
    LinearSchedule, ConstantSchedule: the schedules a preset can ask for.
    TRAINER_KEYS: constructor arguments the trainer sets, never a preset.
    TYPICAL_EPISODE_STEPS: the episode length used to translate to episodes.
    load_preset: read a shipped preset by name, or a YAML file.
    build_model: the stable-baselines3 model of a preset for an env.
    quiet_logger: a logger that writes no folder, for models without TensorBoard.
    policy_name: ``MlpPolicy`` / ``CnnPolicy`` / ``MultiInputPolicy`` for a space.
    to_deepracer_hyperparameters: the DeepRacer ``hyperparameters.json`` of a preset.
"""

from __future__ import annotations

import inspect
import sys
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import gymnasium as gym
import torch as th
from gymnasium import spaces
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.distributions import (
    CategoricalDistribution,
    DiagGaussianDistribution,
    SquashedDiagGaussianDistribution,
    StateDependentNoiseDistribution,
)
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.sac.policies import SACPolicy
from torch import nn

from deepracer.config.checks import at_least
from deepracer.config.loader import from_mapping, load_yaml
from deepracer.config.resources import resolve
from deepracer.errors import ConfigError, suggest
from deepracer.models.networks import NETWORKS, check_network

__all__ = [
    "TRAINER_KEYS",
    "TYPICAL_EPISODE_STEPS",
    "ConstantSchedule",
    "LinearSchedule",
    "PresetConfig",
    "build_model",
    "load_preset",
    "policy_name",
    "quiet_logger",
    "to_deepracer_hyperparameters",
]

Algorithm = Literal["ppo", "sac"]

_ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"ppo": PPO, "sac": SAC}
_POLICIES: dict[str, type[nn.Module]] = {"ppo": ActorCriticPolicy, "sac": SACPolicy}

TRAINER_KEYS: frozenset[str] = frozenset(
    {"policy", "env", "seed", "device", "tensorboard_log", "verbose", "policy_kwargs"}
)
"""Constructor arguments the trainer passes; a preset's ``hyperparameters`` may not."""

_NOT_FROM_YAML = frozenset(
    {"_init_setup_model", "rollout_buffer_class", "replay_buffer_class", "action_noise"}
)
"""Constructor arguments that take Python objects, which a YAML file cannot hold."""

_POLICY_KEYS_FIXED = frozenset({"observation_space", "action_space", "lr_schedule"})
_NETWORK_OWNED = frozenset({"features_extractor_class"})

TYPICAL_EPISODE_STEPS = 200
"""Steps of a typical training episode, to translate rollout sizes into DeepRacer's
"episodes between training" and back: at 15 Hz an early episode leaves the track
after 20-100 steps and a lap of a console track at 1-2 m/s takes 250-400 steps;
200 is the middle of a run. Only used for that translation."""

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}
_OPTIMIZERS: dict[str, type[th.optim.Optimizer]] = {
    "adam": th.optim.Adam,
    "adamw": th.optim.AdamW,
    "rmsprop": th.optim.RMSprop,
    "sgd": th.optim.SGD,
}
_NAMED_CLASSES: dict[str, dict[str, Any]] = {
    "activation_fn": _ACTIVATIONS,
    "optimizer_class": _OPTIMIZERS,
}


# ------------------------------------------------------------------------ schedules


@dataclass(frozen=True)
class LinearSchedule:
    """From ``start`` (progress_remaining 1) to ``end``, reached at ``end_fraction``.

    A module-level class rather than a closure so that saved models pickle it by
    reference.

    Example:
        >>> LinearSchedule(3e-4, 0.0)(0.5)
        0.00015
    """

    start: float
    end: float
    end_fraction: float = 1.0

    def __call__(self, progress_remaining: float) -> float:
        """Returns the value at ``progress_remaining`` (1 -> 0 over training)."""
        done = 1.0 - progress_remaining
        if done >= self.end_fraction:
            return float(self.end)
        return float(self.start + done * (self.end - self.start) / self.end_fraction)


@dataclass(frozen=True)
class ConstantSchedule:
    """Always ``value`` (the same as writing the number)."""

    value: float

    def __call__(self, progress_remaining: float) -> float:
        """Returns ``value``."""
        return float(self.value)


Schedule = LinearSchedule | ConstantSchedule

_SCHEDULE_KEYS: dict[str, tuple[set[str], set[str]]] = {
    "linear": ({"start", "end"}, {"end_fraction"}),
    "constant": ({"value"}, set()),
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _parse_schedule(value: Mapping[str, Any], where: str) -> Schedule:
    kind = value.get("schedule")
    if kind not in _SCHEDULE_KEYS:
        raise ConfigError(
            f"{where}: expected schedule: linear or constant, got {kind!r}."
            f"{suggest(str(kind), _SCHEDULE_KEYS)}"
        )
    required, optional = _SCHEDULE_KEYS[kind]
    keys = set(value) - {"schedule"}
    for key in sorted(keys - required - optional):
        valid = sorted(required | optional)
        raise ConfigError(
            f"{where}: unknown key {key!r} of a {kind} schedule.{suggest(key, valid)}"
            f" Valid keys: {', '.join(valid)}"
        )
    missing = sorted(required - keys)
    if missing:
        raise ConfigError(f"{where}: a {kind} schedule needs {', '.join(missing)}")
    for key in keys:
        if not _is_number(value[key]):
            raise ConfigError(f"{where}.{key}: expected a number, got {value[key]!r}")
    if kind == "constant":
        return ConstantSchedule(float(value["value"]))
    end_fraction = float(value.get("end_fraction", 1.0))
    if not 0.0 < end_fraction <= 1.0:
        raise ConfigError(
            f"{where}.end_fraction: expected 0 < end_fraction <= 1, got {end_fraction}"
        )
    return LinearSchedule(float(value["start"]), float(value["end"]), end_fraction)


def _is_schedule(value: Any) -> bool:
    return isinstance(value, Mapping) and "schedule" in value


# --------------------------------------------------------------- annotation checks


def _accepts_callable(annotation: Any) -> bool:
    if get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_accepts_callable(a) for a in get_args(annotation))
    return get_origin(annotation) is Callable or annotation is Callable


def _matches(annotation: Any, value: Any) -> bool:
    """Whether a YAML value fits a stable-baselines3 annotation (unknown kinds pass)."""
    origin = get_origin(annotation)
    if annotation is Any or annotation is inspect.Parameter.empty:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_matches(a, value) for a in get_args(annotation))
    if annotation is None or annotation is type(None):
        return value is None
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return _is_number(value)
    if annotation is str:
        return isinstance(value, str)
    if origin is Callable:
        return callable(value)
    if origin is type:
        (base,) = get_args(annotation) or (object,)
        return isinstance(value, type) and issubclass(value, base)
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            return False
        args = get_args(annotation)
        if origin is tuple and args and args[-1] is not Ellipsis:
            return len(value) == len(args) and all(
                _matches(a, v) for a, v in zip(args, value, strict=True)
            )
        return not args or all(_matches(args[0], v) for v in value)
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            return False
        args = get_args(annotation)
        return not args or all(_matches(args[1], v) for v in value.values())
    return True  # torch.device and other kinds YAML cannot express exactly


def _type_name(annotation: Any) -> str:
    text = str(annotation).replace("typing.", "").replace("collections.abc.", "")
    return text.replace("<class '", "").replace("'>", "")


def _parameters(obj: Callable[..., Any]) -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(obj).parameters)


def _algorithm_parameters(algorithm: str) -> dict[str, inspect.Parameter]:
    params = _parameters(_ALGORITHMS[algorithm].__init__)
    params.pop("self", None)
    return params


def _policy_parameters(algorithm: str) -> dict[str, inspect.Parameter]:
    params = _parameters(_POLICIES[algorithm].__init__)
    for key in ("self", *_POLICY_KEYS_FIXED):
        params.pop(key, None)
    return params


# --------------------------------------------------------------------------- preset


@dataclass(frozen=True, kw_only=True)
class PresetConfig:
    """A training preset (one ``presets/*.yaml`` file).

    Example:
        >>> p = PresetConfig(algorithm="ppo", network="mlp", hyperparameters={"n_steps": 256})
        >>> p.algorithm_kwargs()["n_steps"]
        256
    """

    algorithm: Algorithm
    """``ppo`` (discrete or continuous actions) or ``sac`` (continuous only)."""
    network: str
    """A key of :data:`~deepracer.models.networks.NETWORKS`; it must fit the
    observation (a CNN needs the camera, ``attention_lidar`` needs ``lidar``)."""
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments of the stable-baselines3 constructor (PPO or SAC), except
    those in :data:`TRAINER_KEYS`; schedules as ``{schedule: linear, ...}``."""
    policy_kwargs: dict[str, Any] = field(default_factory=dict)
    """Merged over the network's ``policy_kwargs`` (e.g. a ``net_arch`` override)."""
    n_envs: int = field(default=4, metadata={"check": at_least(1, "an integer")})
    """Sub-environments the trainer steps together (one rollout has ``n_steps``
    steps of each)."""
    observation: str | tuple[str, ...] | None = None
    """The observation the preset was tuned for (an env config's ``observation``
    value). Informational: the trainer may default to it; :func:`build_model`
    checks the network against the env's actual observation."""
    description: str = ""
    """One line: what the preset is for."""

    def __post_init__(self) -> None:
        if self.network not in NETWORKS:
            raise ConfigError(
                f"network: unknown network {self.network!r}.{suggest(self.network, NETWORKS)}"
                f" Valid networks: {', '.join(NETWORKS)}"
            )
        self.algorithm_kwargs()  # validates hyperparameters
        self.extra_policy_kwargs()  # validates policy_kwargs
        if self.algorithm == "ppo":
            self._check_ppo_batches()
        if self.observation is not None:
            self._check_observation()

    # The validating converters are methods so that the checks at load time and the
    # values build_model uses can never disagree.
    def algorithm_kwargs(self) -> dict[str, Any]:
        """Returns the constructor keyword arguments, schedules as callables.

        Raises:
            ConfigError: A key the constructor lacks (with a suggestion), one the
                trainer owns, a value of the wrong type or a malformed schedule.
        """
        algo = self.algorithm.upper()
        params = _algorithm_parameters(self.algorithm)
        out: dict[str, Any] = {}
        for key, value in self.hyperparameters.items():
            where = f"hyperparameters.{key}"
            if key in TRAINER_KEYS:
                hint = " (put policy settings in the preset's policy_kwargs)"
                raise ConfigError(
                    f"{where}: set by the trainer, not by a preset"
                    f"{hint if key == 'policy_kwargs' else ''}"
                )
            if key in _NOT_FROM_YAML:
                raise ConfigError(f"{where}: takes a Python object; not settable from a preset")
            if key not in params:
                valid = sorted(set(params) - TRAINER_KEYS - _NOT_FROM_YAML)
                raise ConfigError(
                    f"{where}: unknown {algo} hyperparameter.{suggest(key, valid)}"
                    f" Valid keys: {', '.join(valid)}"
                )
            annotation = params[key].annotation
            if _is_schedule(value):
                if not _accepts_callable(annotation):
                    raise ConfigError(f"{where}: {algo} takes no schedule here, only a value")
                out[key] = _parse_schedule(value, where)
                continue
            if not _matches(annotation, value):
                raise ConfigError(
                    f"{where}: expected {_type_name(annotation)}, got {value!r}"
                    + (" or a {schedule: ...} mapping" if _accepts_callable(annotation) else "")
                )
            # SB3 reads train_freq as (n, unit); YAML only has lists.
            out[key] = tuple(value) if isinstance(value, list) and key == "train_freq" else value
        return out

    def extra_policy_kwargs(self) -> dict[str, Any]:
        """Returns ``policy_kwargs`` with class names turned into classes.

        Raises:
            ConfigError: A key the policy lacks, one the network owns, an unknown
                activation or optimizer name, or a value of the wrong type.
        """
        params = _policy_parameters(self.algorithm)
        out: dict[str, Any] = {}
        for key, value in self.policy_kwargs.items():
            where = f"policy_kwargs.{key}"
            if key in _NETWORK_OWNED:
                raise ConfigError(f"{where}: set by the network; choose another network instead")
            if key not in params:
                valid = sorted(set(params) - _NETWORK_OWNED)
                raise ConfigError(
                    f"{where}: unknown {self.algorithm.upper()} policy argument."
                    f"{suggest(key, valid)} Valid keys: {', '.join(valid)}"
                )
            if key in _NAMED_CLASSES:
                table = _NAMED_CLASSES[key]
                if not isinstance(value, str) or value not in table:
                    raise ConfigError(
                        f"{where}: expected one of {', '.join(table)}, got {value!r}."
                        f"{suggest(str(value), table)}"
                    )
                value = table[value]
            elif key == "net_arch":
                value = self._net_arch(value, where)
            if not _matches(params[key].annotation, value):
                raise ConfigError(
                    f"{where}: expected {_type_name(params[key].annotation)}, got {value!r}"
                )
            out[key] = value
        return out

    def _net_arch(self, value: Any, where: str) -> Any:
        towers = {"ppo": ("pi", "vf"), "sac": ("pi", "qf")}[self.algorithm]
        layers: list[Any]
        if isinstance(value, Mapping):
            for key in value:
                if key not in towers:
                    raise ConfigError(
                        f"{where}: unknown tower {key!r} for {self.algorithm.upper()}."
                        f"{suggest(str(key), towers)} Valid towers: {', '.join(towers)}"
                    )
            layers = [v for v in value.values()]
        else:
            layers = [value]
        for sizes in layers:
            if not isinstance(sizes, list) or not all(
                isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in sizes
            ):
                raise ConfigError(f"{where}: expected lists of layer sizes >= 1, got {value!r}")
        return dict(value) if isinstance(value, Mapping) else list(value)

    def _check_ppo_batches(self) -> None:
        params = _algorithm_parameters("ppo")
        n_steps = int(self.hyperparameters.get("n_steps", params["n_steps"].default))
        batch = int(self.hyperparameters.get("batch_size", params["batch_size"].default))
        rollout = n_steps * self.n_envs
        if batch > rollout or rollout % batch:
            raise ConfigError(
                f"hyperparameters.batch_size: {batch} must divide the rollout of n_steps x"
                f" n_envs = {n_steps} x {self.n_envs} = {rollout} steps (else SB3 drops or"
                " truncates a mini-batch each epoch)"
            )

    def _check_observation(self) -> None:
        from deepracer.envs.observation import SensorConfigs, make_observation

        space = make_observation(self.observation or (), SensorConfigs()).space()
        try:
            check_network(
                self.network, space, observation=self.observation, algorithm=self.algorithm
            )
        except ConfigError as exc:
            raise ConfigError(f"observation: {exc}") from None


# -------------------------------------------------------------------------- loading


def load_preset(name_or_path: str | Path) -> PresetConfig:
    """Reads a preset: a shipped name (``deepracer_ppo``) or a YAML file path.

    Args:
        name_or_path: The stem of a file in ``presets/``, or a path.

    Raises:
        ConfigError: No such preset, or an invalid one; the message names the file
            and the field.
    """
    path = resolve("presets", name_or_path)
    data = load_yaml(path)
    try:
        return from_mapping(PresetConfig, data, source=str(path))
    except ConfigError as exc:
        message = str(exc)
        if message.startswith(f"{path}:"):
            raise
        raise ConfigError(f"{path}: {message}") from None  # a __post_init__ check


# --------------------------------------------------------------------------- models


def policy_name(observation_space: gym.Space[Any]) -> str:
    """Returns the stable-baselines3 policy alias for an observation space.

    ``MultiInputPolicy`` for a Dict, ``CnnPolicy`` for an image SB3 recognises
    (uint8, 0-255, 3-D: it transposes and scales those), else ``MlpPolicy``.
    """
    if isinstance(observation_space, spaces.Dict):
        return "MultiInputPolicy"
    if is_image_space(observation_space):
        return "CnnPolicy"
    return "MlpPolicy"


def _observation_names(env: Any) -> str | tuple[str, ...] | None:
    """The env config's observation name(s) of a RacingEnv (or a VecEnv of them)."""
    config: Any = None
    try:
        if isinstance(env, VecEnv):
            config = env.get_attr("config", [0])[0]
        else:
            config = getattr(getattr(env, "unwrapped", env), "config", None)
    except (AttributeError, IndexError):
        return None
    names = getattr(config, "observation", None)
    if isinstance(names, str) or (
        isinstance(names, tuple) and all(isinstance(n, str) for n in names)
    ):
        return names
    return None


def _merge(network: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(network)
    for key, value in extra.items():
        if key == "features_extractor_kwargs":
            merged[key] = {**network.get(key, {}), **value}
        else:
            merged[key] = value
    return merged


def _check_extractor_kwargs(policy_kwargs: dict[str, Any], network: str) -> None:
    cls = policy_kwargs.get("features_extractor_class")
    extractor_kwargs = policy_kwargs.get("features_extractor_kwargs") or {}
    if cls is None:
        if extractor_kwargs:
            raise ConfigError(
                f"policy_kwargs.features_extractor_kwargs: network {network!r} uses"
                " stable-baselines3's default extractor, which takes none here"
            )
        return
    params = _parameters(cls.__init__)
    valid = [k for k, p in params.items() if k not in ("self", "observation_space")]
    for key in extractor_kwargs:
        if key not in valid:
            raise ConfigError(
                f"policy_kwargs.features_extractor_kwargs.{key}: unknown {cls.__name__}"
                f" argument.{suggest(key, valid)} Valid keys: {', '.join(valid)}"
            )


def build_model(
    preset: PresetConfig,
    env: gym.Env[Any, Any] | VecEnv,
    *,
    seed: int,
    tensorboard_log: str | None = None,
    device: str = "cpu",
    verbose: int = 0,
) -> BaseAlgorithm:
    """Builds the stable-baselines3 model of ``preset`` for ``env``.

    The policy alias follows the observation (:func:`policy_name`), the network's
    ``policy_kwargs`` come from :func:`~deepracer.models.networks.check_network`
    merged with the preset's. Every mismatch is a ConfigError raised before any
    training step: SAC with discrete actions, a network that does not fit the
    observation, or a policy head that does not match the action space
    (``Discrete(n)`` needs a categorical head of n logits, ``Box(2,)`` a Gaussian).
    The env should have ``preset.n_envs`` sub-environments; the trainer builds it.

    Args:
        preset: The preset.
        env: A gymnasium env or a stable-baselines3 VecEnv (e.g. DummyVecEnv of
            RacingEnv); SB3 adds ``VecTransposeImage`` for channel-last images.
        seed: Seed of the networks and the sampling.
        tensorboard_log: TensorBoard folder, or None.
        device: Torch device (``cpu``: our networks are too small to gain from a GPU
            on a 2-core machine's data rates).
        verbose: stable-baselines3 verbosity.

    Returns:
        A PPO or SAC model, not yet trained.

    Raises:
        ConfigError: See above; also settings stable-baselines3 rejects.
    """
    observation_space = env.observation_space
    action_space = env.action_space
    names = _observation_names(env)
    label = f"preset (algorithm {preset.algorithm!r}, network {preset.network!r})"
    if isinstance(action_space, spaces.Discrete):
        if preset.algorithm == "sac":
            raise ConfigError(
                f"{label}: SAC needs a continuous action space, but the env has"
                f" {action_space} (a discrete action_space list). Use a continuous"
                " action_space ({steering_angle: {low, high}, speed: {low, high}}) or a"
                " PPO preset"
            )
    elif not (isinstance(action_space, spaces.Box) and action_space.shape == (2,)):
        raise ConfigError(
            f"{label}: unsupported action space {action_space}; expected Discrete(n) or Box(2,)"
        )
    network_kwargs = check_network(
        preset.network, observation_space, observation=names, algorithm=preset.algorithm
    )
    policy_kwargs = _merge(network_kwargs, preset.extra_policy_kwargs())
    _check_extractor_kwargs(policy_kwargs, preset.network)
    cls = _ALGORITHMS[preset.algorithm]
    try:
        model = cls(
            policy_name(observation_space),
            env,
            seed=seed,
            device=device,
            verbose=verbose,
            tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs,
            **preset.algorithm_kwargs(),
        )
    except (AssertionError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        # SB3 checks its arguments with asserts; say which preset they came from.
        raise ConfigError(f"{label}: stable-baselines3 rejected the settings: {exc}") from exc
    _check_action_head(model, action_space, label)
    if tensorboard_log is None:
        quiet_logger(model, verbose)
    return model


def quiet_logger(model: BaseAlgorithm, verbose: int = 0) -> None:
    """Gives ``model`` a logger without a folder (stdout only when ``verbose``).

    Without TensorBoard, stable-baselines3 would create an empty ``SB3-<time>`` folder
    in the system's temporary directory at every ``learn``.
    """
    from stable_baselines3.common.logger import HumanOutputFormat, KVWriter, Logger

    formats: list[KVWriter] = [HumanOutputFormat(sys.stdout)] if verbose else []
    model.set_logger(Logger(folder=None, output_formats=formats))


def _check_action_head(model: BaseAlgorithm, action_space: gym.Space[Any], label: str) -> None:
    """Raises ConfigError unless the policy's output matches the env's actions."""
    policy: Any = model.policy
    holder = getattr(policy, "actor", policy)  # SAC keeps the distribution on its actor
    dist = getattr(holder, "action_dist", None)
    head = getattr(holder, "action_net", None) or getattr(holder, "mu", None)
    outputs = getattr(head, "out_features", None)
    if isinstance(action_space, spaces.Discrete):
        n = int(action_space.n)
        ok = isinstance(dist, CategoricalDistribution) and dist.action_dim == n and outputs == n
        expected = f"a categorical head of {n} logits"
    else:
        gaussian = (
            DiagGaussianDistribution,
            SquashedDiagGaussianDistribution,
            StateDependentNoiseDistribution,
        )
        size = int((action_space.shape or (0,))[0])
        ok = isinstance(dist, gaussian) and outputs == size
        expected = f"a Gaussian head of {size} means"
    if not ok:
        raise ConfigError(
            f"{label}: the policy's action head ({type(dist).__name__}, {outputs} outputs)"
            f" does not match the env's action space {action_space}: expected {expected}"
        )


# ------------------------------------------------------------------------ DeepRacer


def _value(preset: PresetConfig, key: str) -> Any:
    """A hyperparameter as trained: the preset's, else SB3's constructor default."""
    if key in preset.hyperparameters:
        value = preset.hyperparameters[key]
        if _is_schedule(value):
            schedule = _parse_schedule(value, f"hyperparameters.{key}")
            return schedule(1.0)  # the starting value
        return value
    return _algorithm_parameters(preset.algorithm)[key].default


def to_deepracer_hyperparameters(
    preset: PresetConfig,
    *,
    stack_size: int = 1,
    term_cond_avg_score: float = 100000.0,
    term_cond_max_episodes: int = 100000,
    episode_steps: int = TYPICAL_EPISODE_STEPS,
) -> dict[str, Any]:
    """Returns the DeepRacer ``hyperparameters.json`` equivalent of a preset.

    The keys deepracer-for-cloud and DeepRacer on AWS upload. Values the preset
    does not set come from stable-baselines3's constructor defaults (what training
    used). Mapping:

    * ``batch_size`` <- ``batch_size`` (PPO mini-batch; SAC replay batch).
    * ``beta_entropy`` <- PPO ``ent_coef`` (both scale the entropy bonus of the
      policy loss); SAC: 0.01, the console default (unused by SAC).
    * ``discount_factor`` <- ``gamma``.
    * ``loss_type`` <- ``"mean squared error"``: SB3's value / Q losses are squared
      errors (the simapp also knows ``"huber"``, which SB3 has no switch for).
    * ``lr`` <- ``learning_rate``; a schedule gives its starting value (DeepRacer's
      learning rate is constant).
    * ``num_episodes_between_training`` <- PPO: ``n_steps * n_envs /
      episode_steps`` rounded, at least 1 (the simapp collects whole episodes, SB3
      fixed-length rollouts; the console accepts 5-100); SAC: 1, fixed by the console.
    * ``num_epochs`` <- PPO ``n_epochs`` (console 3-10); SAC: 10, the simapp
      default (unused by SAC).
    * ``e_greedy_value`` 0.05, ``epsilon_steps`` 10000, ``exploration_type``
      ``"categorical"``: the simapp defaults; PPO samples from its policy (the
      ``categorical`` exploration) and these epsilon values only matter for
      ``e-greedy``.
    * ``stack_size`` <- the argument (the camera's ``frame_stack``; the simapp
      parses it but keeps one frame).
    * ``term_cond_avg_score`` / ``term_cond_max_episodes`` <- the arguments; the
      defaults are the simapp's (100000: the job's time limit stops training).
    * ``sac_alpha`` <- SAC ``ent_coef`` (DeepRacer's SAC has a fixed alpha, so an
      ``auto`` coefficient is an error); PPO: 0.2, the simapp default (unused).

    Args:
        preset: The preset.
        stack_size: Frames per camera observation.
        term_cond_avg_score: Stop when the average score reaches this.
        term_cond_max_episodes: Stop after this many episodes.
        episode_steps: Steps of a typical episode, for the PPO episode count.

    Raises:
        ConfigError: SAC with an automatically tuned entropy coefficient.
    """
    ppo = preset.algorithm == "ppo"
    if ppo:
        rollout = int(_value(preset, "n_steps")) * preset.n_envs
        episodes = max(1, round(rollout / episode_steps))
        alpha = 0.2
    else:
        episodes = 1
        alpha_value = _value(preset, "ent_coef")
        if not _is_number(alpha_value):
            raise ConfigError(
                f"hyperparameters.ent_coef: DeepRacer's SAC uses a fixed alpha (sac_alpha);"
                f" {alpha_value!r} (automatic tuning) has no equivalent: set a number"
            )
        alpha = float(alpha_value)
    return {
        "batch_size": int(_value(preset, "batch_size")),
        "beta_entropy": float(_value(preset, "ent_coef")) if ppo else 0.01,
        "discount_factor": float(_value(preset, "gamma")),
        "e_greedy_value": 0.05,
        "epsilon_steps": 10000,
        "exploration_type": "categorical",
        "loss_type": "mean squared error",
        "lr": float(_value(preset, "learning_rate")),
        "num_episodes_between_training": episodes,
        "num_epochs": int(_value(preset, "n_epochs")) if ppo else 10,
        "stack_size": int(stack_size),
        "term_cond_avg_score": float(term_cond_avg_score),
        "term_cond_max_episodes": int(term_cond_max_episodes),
        "sac_alpha": alpha,
    }
