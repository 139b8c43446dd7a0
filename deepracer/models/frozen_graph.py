"""A DeepRacer TensorFlow-1 frozen graph (``model.pb``) as a policy this simulator drives.

Models trained in the console, deepracer-for-cloud or DeepRacer on AWS, and the car
files :mod:`deepracer.export.car` writes, are Coach frozen graphs: one camera input
``main_level/agent/{main|policy}/online/network_0/<SENSOR>/<SENSOR>`` fed frames at
0-255, and the head the car reads (``.../ppo_head_0/policy``: action probabilities or
the continuous action; ``.../sac_policy_head_0/policy``: the continuous action).

A graph is data, but running it runs its operations, and TensorFlow has operations that
read and write files. So a graph is loaded as the part that computes the head from
the input only (everything else, such as Coach's training ops, is cut away), and that
part may use only the arithmetic a policy network needs (:data:`ALLOWED_OPS`); device
placements (``/device:GPU:0``) are cleared. Anything else is refused before TensorFlow
sees it.

Contents:
    ALLOWED_OPS: the operations an imported policy graph may use.
    GraphInfo, inspect_graph: what a graph takes and gives.
    FrozenGraphPolicy: ``predict`` over a frozen graph, as stable-baselines3's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from deepracer.errors import DeepRacerError

__all__ = ["ALLOWED_OPS", "FrozenGraphPolicy", "GraphInfo", "inspect_graph"]

ALLOWED_OPS = frozenset(
    {
        "Add", "AddV2", "BiasAdd", "ConcatV2", "Const", "Conv2D", "Elu", "ExpandDims",
        "Fill", "FusedBatchNorm", "FusedBatchNormV3", "Identity", "LeakyRelu", "Log",
        "MatMul", "Maximum", "MaxPool", "Mean", "Minimum", "Mul", "Neg", "Pack",
        "Placeholder", "RealDiv", "Relu", "Relu6", "Reshape", "Rsqrt", "Shape",
        "Sigmoid", "Softmax", "Sqrt", "Square", "Squeeze", "StopGradient",
        "StridedSlice", "Sub", "Sum", "Tanh", "Transpose",
    }
)  # fmt: skip
"""Arithmetic only: no file, queue, string or Python operations."""

_INPUT = re.compile(r"main_level/agent/(main|policy)/online/network_0/(\w+)/\2")
_OUTPUTS = (
    "main_level/agent/main/online/network_1/ppo_head_0/policy",
    "main_level/agent/policy/online/network_0/sac_policy_head_0/policy",
)
_MAX_GRAPH = 1 << 30
"""The largest graph accepted [bytes]: DeepRacer's networks take a few to 100 MB."""


@dataclass(frozen=True)
class GraphInfo:
    """What a frozen graph takes and gives.

    Attributes:
        input_name: The camera input's name.
        sensor: The sensor in it (``FRONT_FACING_CAMERA``, ``STEREO_CAMERAS``, ...).
        input_shape: ``(height, width, channels)`` of one frame.
        output_name: The head's name.
        algorithm: ``ppo`` or ``sac`` (from the head).
        outputs: The head's width (actions, or 2 for a continuous action).
    """

    input_name: str
    sensor: str
    input_shape: tuple[int, int, int]
    output_name: str
    algorithm: str
    outputs: int


def _tensorflow() -> Any:
    try:
        import tensorflow as tf
    except ImportError:
        raise DeepRacerError(
            "DeepRacer models are TensorFlow graphs: pip install 'deepracer[car]' (tensorflow-cpu)"
        ) from None
    return tf


def _policy_graph(tf: Any, data: bytes, source: str) -> tuple[Any, GraphInfo]:
    """The part of the graph that computes the head from the input, checked."""
    if len(data) > _MAX_GRAPH:
        raise DeepRacerError(f"{source}: {len(data):,} bytes, more than any policy graph")
    graph_def = tf.compat.v1.GraphDef()
    try:
        graph_def.ParseFromString(data)
    except Exception as exc:  # protobuf's DecodeError and friends
        raise DeepRacerError(f"{source}: not a TensorFlow GraphDef ({exc})") from None
    names = {node.name: node for node in graph_def.node}
    inputs = [n for n in names if _INPUT.fullmatch(n) and names[n].op == "Placeholder"]
    outputs = [n for n in _OUTPUTS if n in names]
    if len(inputs) != 1 or len(outputs) != 1:
        raise DeepRacerError(
            f"{source}: expected one camera input main_level/agent/<main|policy>/online/"
            f"network_0/<SENSOR>/<SENSOR> and one head ({' or '.join(_OUTPUTS)}); found"
            f" inputs {inputs or 'none'} and heads {outputs or 'none'}"
        )
    # Only what the head needs: Coach's training and summary ops are cut away here.
    graph_def = tf.compat.v1.graph_util.extract_sub_graph(graph_def, outputs)
    refused = sorted({node.op for node in graph_def.node} - ALLOWED_OPS)
    if refused:
        raise DeepRacerError(
            f"{source}: the policy graph uses operations a policy network does not need"
            f" ({', '.join(refused)}); it is not run"
        )
    for node in graph_def.node:
        node.device = ""  # a graph saved on a GPU machine names /device:GPU:0
    placeholders = [n.name for n in graph_def.node if n.op == "Placeholder"]
    if placeholders != inputs:
        raise DeepRacerError(f"{source}: the head needs other inputs too ({placeholders})")
    match = _INPUT.fullmatch(inputs[0])
    assert match is not None
    dims = [d.size for d in names[inputs[0]].attr["shape"].shape.dim]
    if len(dims) != 4 or min(dims[1:]) < 1:
        raise DeepRacerError(f"{source}: the input {inputs[0]} has shape {dims}, not [N, H, W, C]")
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def, name="")
    width = graph.get_tensor_by_name(f"{outputs[0]}:0").shape[-1]
    info = GraphInfo(
        input_name=inputs[0],
        sensor=match.group(2),
        input_shape=(dims[1], dims[2], dims[3]),
        output_name=outputs[0],
        algorithm="sac" if "sac_policy_head" in outputs[0] else "ppo",
        outputs=int(width) if width is not None else 0,
    )
    return graph, info


def inspect_graph(data: bytes, source: str = "model.pb") -> GraphInfo:
    """What a frozen graph takes and gives (its policy part checked as for driving).

    Raises:
        DeepRacerError: Not a GraphDef, no Coach input and head, operations outside
            :data:`ALLOWED_OPS`, or tensorflow-cpu missing.
    """
    return _policy_graph(_tensorflow(), data, source)[1]


class FrozenGraphPolicy:
    """Drives a DeepRacer frozen graph with stable-baselines3's ``predict``.

    Discrete heads give action probabilities: ``deterministic`` takes the most
    likely action (the console's evaluation), else one is sampled. Continuous heads
    give the action in [-1, 1], clipped as the car clips it.

    Args:
        data: The ``model.pb`` bytes.
        discrete: Whether the model's action space is discrete.
        source: Named in errors.
        seed: Seeds sampling.

    Raises:
        DeepRacerError: See :func:`inspect_graph`.
    """

    def __init__(self, data: bytes, *, discrete: bool, source: str = "model.pb", seed: int = 0):
        tf = _tensorflow()
        self._graph, self.info = _policy_graph(tf, data, source)
        self.discrete = discrete
        self._session = tf.compat.v1.Session(graph=self._graph)
        self._input = self._graph.get_tensor_by_name(f"{self.info.input_name}:0")
        self._output = self._graph.get_tensor_by_name(f"{self.info.output_name}:0")
        self._random = np.random.default_rng(seed)

    def outputs(self, frames: NDArray[Any]) -> NDArray[np.float32]:
        """The head's values for frames (N, H, W, C) at 0-255."""
        feed = np.asarray(frames, dtype=np.float32)
        return np.asarray(self._session.run(self._output, {self._input: feed}), np.float32)

    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = False,
    ) -> tuple[Any, None]:
        """The action for one observation (H, W, C) or a batch (N, H, W, C)."""
        frames = np.asarray(observation)
        single = frames.ndim == 3
        values = self.outputs(frames[None] if single else frames)
        if self.discrete:
            if deterministic:
                actions: Any = values.argmax(axis=1)
            else:
                p = values / values.sum(axis=1, keepdims=True)
                actions = np.array([self._random.choice(len(row), p=row) for row in p])
        else:
            actions = np.clip(values, -1.0, 1.0)
        return (actions[0] if single else actions), None
