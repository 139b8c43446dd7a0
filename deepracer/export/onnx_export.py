"""A stable-baselines3 policy as an ONNX model, and the check that both act alike.

The ONNX model takes the observation exactly as :class:`~deepracer.envs.RacingEnv`
produces it, with a batch axis in front: camera images as uint8 ``(N, H, W, C)``,
state and lidar vectors as float32, sector lidars as int8, one input per key of a
``Dict`` observation. Everything stable-baselines3 does between the env and the
network happens inside the graph: the channel-first transpose of
``VecTransposeImage``, ``preprocess_obs`` (images / 255, casts) and the features
extractor's handling of each ``Dict`` key.

Outputs (``N`` = batch):

* Discrete actions: ``action`` int64 ``(N,)``, the greedy index into
  ``model_metadata.json``'s ``action_space``, and ``probabilities`` float32
  ``(N, n)``, the policy's softmax.
* Box actions: ``action`` float32 ``(N, 2)``, what ``predict(obs,
  deterministic=True)`` returns (PPO: the Gaussian mean clipped to the action
  bounds; SAC: the tanh-squashed mean rescaled to them), and ``mean`` float32
  ``(N, 2)``, the Gaussian mean before clipping or squashing.

The graph comes from ``torch.onnx.export(dynamo=True)``, the ``torch.export``-based
exporter, torch's default since 2.9; it exports every network in
:mod:`deepracer.models.networks`. The TorchScript exporter (``dynamo=False``) is
deprecated and bakes in the Python branches it cannot trace, which the attention
blocks take (its TracerWarnings).

Contents:
    OPSET: the ONNX opset of exported models.
    CONTINUOUS_TOLERANCE: how far a continuous action may differ in the check.
    OnnxInput: one input of an exported model.
    OnnxPolicy: an exported model with its inputs and outputs.
    require_export_dependencies: clear error when onnx / onnxruntime are missing.
    env_observation_space: the observation space a policy's env produced.
    export_policy: policy -> :class:`OnnxPolicy`.
    ExportCheck: how many observations onnxruntime and torch agree on.
    sample_observations: seeded observations from a space.
    check_export: compare onnxruntime with the torch policy.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import logging
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import gymnasium as gym
import numpy as np
import torch as th
from gymnasium import spaces
from numpy.typing import NDArray
from stable_baselines3.common.policies import BaseModel
from stable_baselines3.common.preprocessing import is_image_space, is_image_space_channels_first
from torch import nn

from deepracer.errors import DeepRacerError

__all__ = [
    "CONTINUOUS_TOLERANCE",
    "OPSET",
    "ExportCheck",
    "OnnxInput",
    "OnnxPolicy",
    "check_export",
    "env_observation_space",
    "export_policy",
    "require_export_dependencies",
    "sample_observations",
    "torch_reference",
]

OPSET = 18
"""ONNX opset of exported models: the oldest the dynamo exporter writes without a
version conversion; onnxruntime and OpenVINO's ``ovc`` read it."""

CONTINUOUS_TOLERANCE = 1e-4
"""Largest ``|onnx - torch|`` of a continuous action component that counts as agreement."""

_TIE = 1e-6
"""Discrete actions whose torch probabilities differ by less than this are a tie:
float rounding may pick either, and either is the policy's greedy choice."""

_EXPORT_PACKAGES = ("onnx", "onnxruntime", "onnxscript")

_ORT_TYPES: dict[str, type[np.generic]] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(uint8)": np.uint8,
    "tensor(int8)": np.int8,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
}
"""onnxruntime's input type names -> numpy dtypes, for clear dtype errors."""

ActionKind = Literal["discrete", "continuous"]


def require_export_dependencies() -> None:
    """Raises a clear error unless onnx, onnxruntime and onnxscript are importable.

    Raises:
        DeepRacerError: One is missing; the message says how to install them.
    """
    missing = [name for name in _EXPORT_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise DeepRacerError(
            f"ONNX export needs {', '.join(_EXPORT_PACKAGES)} (missing: {', '.join(missing)}):"
            " pip install 'deepracer[export]'"
        )


def _onnxruntime() -> Any:
    require_export_dependencies()
    try:
        import onnxruntime
    except ImportError as exc:  # present but broken (e.g. a missing shared library)
        raise DeepRacerError(
            f"cannot import onnxruntime ({exc}): pip install 'deepracer[export]'"
        ) from None
    return onnxruntime


@dataclass(frozen=True)
class OnnxInput:
    """One input of an exported model: one observation, or one key of a Dict.

    Attributes:
        name: The ONNX input name: ``observation``, or ``observation.<key>``.
        key: The Dict key, or None for a single observation.
        shape: Shape of one observation as the env gives it (the ONNX input adds a
            leading batch axis).
        dtype: numpy dtype name (``uint8`` images, ``float32`` vectors, ``int8`` bits).
        image: Whether the graph treats it as an image (channel-last, scaled by 1/255).
    """

    name: str
    key: str | None
    shape: tuple[int, ...]
    dtype: str
    image: bool

    def describe(self) -> dict[str, Any]:
        """Returns the input as a JSON-ready mapping (the archive manifest's layout)."""
        out: dict[str, Any] = {
            "name": self.name,
            "key": self.key,
            "shape": ["batch", *self.shape],
            "dtype": self.dtype,
        }
        if self.image:
            out["layout"] = "NHWC"
            out["scaling"] = "raw 0-255 values; the graph divides by 255"
        return out


@dataclass(frozen=True)
class OnnxPolicy:
    """An exported policy.

    Attributes:
        model: The serialized ONNX ``ModelProto``.
        inputs: The model's inputs, in order.
        outputs: Output names: ``("action", "probabilities")`` or ``("action", "mean")``.
        action_kind: ``discrete`` or ``continuous``.
        num_actions: Discrete actions; None for continuous.
        opset: The ONNX opset.
    """

    model: bytes
    inputs: tuple[OnnxInput, ...]
    outputs: tuple[str, ...]
    action_kind: ActionKind
    num_actions: int | None
    opset: int

    def describe_outputs(self) -> list[dict[str, Any]]:
        """Returns the outputs as JSON-ready mappings (the archive manifest's layout)."""
        if self.action_kind == "discrete":
            return [
                {"name": "action", "shape": ["batch"], "dtype": "int64"},
                {"name": "probabilities", "shape": ["batch", self.num_actions], "dtype": "float32"},
            ]
        return [
            {"name": "action", "shape": ["batch", 2], "dtype": "float32"},
            {"name": "mean", "shape": ["batch", 2], "dtype": "float32"},
        ]


# ------------------------------------------------------------------------ spaces


def _keyed(space: gym.Space[Any]) -> list[tuple[str | None, gym.Space[Any]]]:
    if isinstance(space, spaces.Dict):
        return [(str(k), s) for k, s in space.spaces.items()]
    return [(None, space)]


def _channels_last(space: spaces.Box) -> spaces.Box:
    """The channel-last image space ``VecTransposeImage`` turned into ``space``."""
    return spaces.Box(
        low=np.transpose(space.low, (1, 2, 0)),
        high=np.transpose(space.high, (1, 2, 0)),
        dtype=space.dtype.type,
    )


def env_observation_space(policy_space: gym.Space[Any]) -> gym.Space[Any]:
    """Returns the observation space of the env a policy was trained on.

    stable-baselines3 stores the space its policy sees: a channel-last uint8 image
    from the env (``RacingEnv``'s cameras are all ``(H, W, C)``) appears there
    channel-first, transposed by ``VecTransposeImage``. This undoes that.

    Args:
        policy_space: ``model.observation_space`` of a loaded model.
    """
    if isinstance(policy_space, spaces.Dict):
        return spaces.Dict({k: env_observation_space(s) for k, s in policy_space.spaces.items()})
    if (
        isinstance(policy_space, spaces.Box)
        and is_image_space(policy_space)
        and is_image_space_channels_first(policy_space)
    ):
        return _channels_last(policy_space)
    return policy_space


def _inputs(
    env_space: gym.Space[Any], policy_space: gym.Space[Any]
) -> tuple[tuple[OnnxInput, ...], tuple[bool, ...]]:
    """The ONNX inputs, and per input whether the graph transposes HWC to CHW."""
    env_parts, policy_parts = _keyed(env_space), _keyed(policy_space)
    if [k for k, _ in env_parts] != [k for k, _ in policy_parts]:
        raise DeepRacerError(
            f"observation: the env gives {env_space}, but the model observes {policy_space}"
        )
    inputs: list[OnnxInput] = []
    transposes: list[bool] = []
    for (key, env_sub), (_, policy_sub) in zip(env_parts, policy_parts, strict=True):
        where = "observation" if key is None else f"observation[{key!r}]"
        if not isinstance(env_sub, spaces.Box | spaces.MultiBinary) or env_sub.shape is None:
            raise DeepRacerError(
                f"{where}: ONNX export handles Box and MultiBinary observations, got {env_sub}"
            )
        shape = tuple(int(n) for n in env_sub.shape)
        transpose = False
        if shape != policy_sub.shape:
            transpose = len(shape) == 3 and (shape[2], shape[0], shape[1]) == policy_sub.shape
            if not transpose:
                raise DeepRacerError(
                    f"{where}: the env gives shape {shape}, but the model observes"
                    f" {policy_sub.shape}"
                )
        dtype = env_sub.dtype
        assert dtype is not None  # Box and MultiBinary always have one
        inputs.append(
            OnnxInput(
                name="observation" if key is None else f"observation.{key}",
                key=key,
                shape=shape,
                dtype=np.dtype(dtype).name,
                image=bool(is_image_space(policy_sub)),
            )
        )
        transposes.append(transpose)
    return tuple(inputs), tuple(transposes)


# ------------------------------------------------------------------------- graph


def _algorithm(policy: Any) -> Literal["ppo", "sac"]:
    if hasattr(policy, "actor") and hasattr(policy.actor, "mu"):
        return "sac"
    if hasattr(policy, "action_net") and hasattr(policy, "mlp_extractor"):
        return "ppo"
    raise DeepRacerError(f"ONNX export handles PPO and SAC policies, got {type(policy).__name__}")


class _PolicyGraph(nn.Module):
    """Raw env observations -> (greedy action, probabilities or mean)."""

    def __init__(
        self,
        policy: Any,
        keys: tuple[str | None, ...],
        transposes: tuple[bool, ...],
    ) -> None:
        super().__init__()
        self.policy = policy
        self.keys = keys
        self.transposes = transposes
        self.algorithm = _algorithm(policy)
        space = policy.action_space
        self.discrete = isinstance(space, spaces.Discrete)
        # predict() squashes SAC's actions (and PPO's with squash_output) with tanh and
        # rescales them to the bounds; other Box actions are clipped to the bounds.
        self.squash = bool(policy.squash_output) or self.algorithm == "sac"
        if not self.discrete:
            if not (isinstance(space, spaces.Box) and len(space.shape) == 1):
                raise DeepRacerError(
                    f"ONNX export handles Discrete and 1-D Box actions, got {space}"
                )
            self.register_buffer("low", th.as_tensor(space.low, dtype=th.float32))
            self.register_buffer("high", th.as_tensor(space.high, dtype=th.float32))

    def _observation(self, inputs: Sequence[th.Tensor]) -> th.Tensor | dict[str, th.Tensor]:
        tensors = [
            x.permute(0, 3, 1, 2) if transpose else x
            for x, transpose in zip(inputs, self.transposes, strict=True)
        ]
        if self.keys == (None,):
            return tensors[0]
        return {str(k): x for k, x in zip(self.keys, tensors, strict=True)}

    def forward(self, *inputs: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        """Returns ``(action, probabilities)`` (discrete) or ``(action, mean)``."""
        observation = self._observation(inputs)
        policy = self.policy
        # The policy's own extract_features runs SB3's preprocess_obs (scaling, casts).
        if self.algorithm == "sac":
            actor = policy.actor
            features = actor.extract_features(observation, actor.features_extractor)
            out = cast(th.Tensor, actor.mu(actor.latent_pi(features)))
        else:
            # The base method: the value network's extractor is not needed.
            features = BaseModel.extract_features(policy, observation, policy.pi_features_extractor)
            out = cast(th.Tensor, policy.action_net(policy.mlp_extractor.forward_actor(features)))
        if self.discrete:
            return th.argmax(out, dim=1), th.softmax(out, dim=1)
        low, high = cast(th.Tensor, self.low), cast(th.Tensor, self.high)
        if self.squash:
            action = low + 0.5 * (th.tanh(out) + 1.0) * (high - low)
        else:
            action = th.minimum(th.maximum(out, low), high)
        return action, out


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Silences the exporter's progress lines, log warnings and internal deprecations.

    The exporter logs one warning per torchvision operator it cannot register
    (torchvision is not a dependency) and raises FutureWarnings from torch's own
    modules; none concerns the model being exported.
    """
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _as_batch(observations: Sequence[Any], inputs: Sequence[OnnxInput]) -> list[NDArray[Any]]:
    """Stacks observations into one array per input, in the env's dtypes."""
    if inputs[0].key is None:
        return [np.stack([np.asarray(o, dtype=inputs[0].dtype) for o in observations])]
    return [np.stack([np.asarray(o[i.key], dtype=i.dtype) for o in observations]) for i in inputs]


def export_policy(
    policy: Any,
    observation_space: gym.Space[Any] | None = None,
    *,
    metadata: dict[str, str] | None = None,
) -> OnnxPolicy:
    """Exports a stable-baselines3 PPO or SAC policy to ONNX.

    Args:
        policy: ``model.policy`` of a loaded PPO or SAC model (on the CPU).
        observation_space: The space of the env's observations (default:
            :func:`env_observation_space` of the policy's).
        metadata: Extra ``metadata_props`` written into the model.

    Returns:
        The model, validated by ``onnx.checker``.

    Raises:
        DeepRacerError: Missing export dependencies, an observation or action space
            the export does not handle, or a failed export.
    """
    require_export_dependencies()
    import onnx

    env_space = (
        observation_space
        if observation_space is not None
        else env_observation_space(policy.observation_space)
    )
    inputs, transposes = _inputs(env_space, policy.observation_space)
    policy.set_training_mode(False)
    graph = _PolicyGraph(policy, tuple(i.key for i in inputs), transposes).eval()
    # Two samples: torch.export specializes a dimension it sees as 1.
    example = tuple(
        th.as_tensor(a) for a in _as_batch(sample_observations(copy.deepcopy(env_space), 2), inputs)
    )
    outputs = ("action", "probabilities") if graph.discrete else ("action", "mean")
    batch = th.export.Dim("batch")
    with th.no_grad():
        # A forward pass first: the camera extractors convert their weights to
        # channels-last on their first call; the export then traces the steady state.
        graph(*example)
        try:
            with _quiet_exporter():
                program = th.onnx.export(
                    graph,
                    example,
                    None,
                    input_names=[i.name for i in inputs],
                    output_names=list(outputs),
                    opset_version=OPSET,
                    dynamo=True,
                    dynamic_shapes=(tuple({0: batch} for _ in inputs),),
                    external_data=False,
                    verbose=False,
                )
        except Exception as exc:  # the exporter fails in many ways; all mean one thing
            raise DeepRacerError(
                f"torch.onnx.export failed for this {type(policy).__name__}: {exc}"
            ) from exc
    assert program is not None  # dynamo=True always returns the program
    model = program.model_proto
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    space = policy.action_space
    return OnnxPolicy(
        model=model.SerializeToString(),
        inputs=inputs,
        outputs=outputs,
        action_kind="discrete" if graph.discrete else "continuous",
        num_actions=int(space.n) if graph.discrete else None,
        opset=OPSET,
    )


# ------------------------------------------------------------------------- check


@dataclass(frozen=True)
class ExportCheck:
    """How many observations onnxruntime and the torch policy agree on.

    Attributes:
        samples: Observations compared.
        agreed: Observations with the same action: the same greedy index (or a tie
            of the torch probabilities within 1e-6) for discrete actions, every
            component within :data:`CONTINUOUS_TOLERANCE` for continuous ones.
        max_abs_diff: Largest ``|onnx - torch|`` over the probabilities (discrete)
            or the actions (continuous).
        ties: Discrete disagreements that were ties (counted in ``agreed``).
    """

    samples: int
    agreed: int
    max_abs_diff: float
    ties: int = 0

    @property
    def all_agree(self) -> bool:
        """Whether every observation agreed."""
        return self.agreed == self.samples


def sample_observations(space: gym.Space[Any], count: int, seed: int = 0) -> list[Any]:
    """Returns ``count`` observations drawn from ``space`` with a seeded generator."""
    space.seed(seed)
    return [space.sample() for _ in range(count)]


def torch_reference(policy: Any, batch: Any) -> tuple[NDArray[Any], NDArray[Any] | None]:
    """Greedy actions from ``predict`` and, for discrete actions, the probabilities."""
    actions, _ = policy.predict(batch, deterministic=True)
    if not isinstance(policy.action_space, spaces.Discrete):
        return np.asarray(actions), None
    with th.no_grad():
        tensor, _ = policy.obs_to_tensor(batch)
        probs = policy.get_distribution(tensor).distribution.probs
    return np.asarray(actions), probs.cpu().numpy()


def check_export(
    model: bytes | Path,
    policy: Any,
    observations: Sequence[Any],
) -> ExportCheck:
    """Runs observations through onnxruntime and the torch policy and compares.

    Args:
        model: The ONNX model (bytes or a file) exported from ``policy``.
        policy: The torch policy (``model.policy`` of the loaded model).
        observations: Observations as the env gives them (single, not batched).

    Raises:
        DeepRacerError: Missing export dependencies, or a model whose inputs do not
            fit the observations.
    """
    if not observations:
        return ExportCheck(samples=0, agreed=0, max_abs_diff=0.0)
    ort = _onnxruntime()
    source = model if isinstance(model, bytes) else str(model)
    session = ort.InferenceSession(source, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    first = observations[0]
    keys: list[str | None] = list(first) if isinstance(first, dict) else [None]
    expected = ["observation" if k is None else f"observation.{k}" for k in keys]
    if sorted(names) != sorted(expected):
        raise DeepRacerError(
            f"the ONNX model's inputs are {names}, the observations give {expected}"
        )
    if keys == [None]:
        batch: Any = np.stack([np.asarray(o) for o in observations])
        arrays = {"observation": batch}
    else:
        batch = {str(k): np.stack([np.asarray(o[k]) for o in observations]) for k in keys}
        arrays = {f"observation.{k}": v for k, v in batch.items()}
    for entry in session.get_inputs():
        dtype = _ORT_TYPES.get(entry.type)
        if dtype is not None and arrays[entry.name].dtype != dtype:
            raise DeepRacerError(
                f"ONNX input {entry.name!r} takes {np.dtype(dtype).name}, the observations"
                f" give {arrays[entry.name].dtype}"
            )
    onnx_action, onnx_second = session.run(None, arrays)
    torch_action, torch_probs = torch_reference(policy, batch)
    if torch_probs is None:
        diff = np.abs(onnx_action.astype(np.float64) - torch_action.reshape(onnx_action.shape))
        per_sample = diff.reshape(len(observations), -1).max(axis=1)
        agreed = int(np.count_nonzero(per_sample <= CONTINUOUS_TOLERANCE))
        return ExportCheck(len(observations), agreed, float(per_sample.max()))
    greedy = torch_action.reshape(-1)
    same = onnx_action == greedy
    rows = np.arange(len(observations))
    tie = np.abs(torch_probs[rows, onnx_action] - torch_probs[rows, greedy]) < _TIE
    ties = int(np.count_nonzero(~same & tie))
    max_diff = float(np.abs(onnx_second - torch_probs).max())
    return ExportCheck(len(observations), int(np.count_nonzero(same | tie)), max_diff, ties)
