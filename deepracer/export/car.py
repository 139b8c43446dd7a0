"""The physical car's model: the policy as a TensorFlow-1 frozen graph with Coach's names.

The AWS DeepRacer car loads a ``.tar.gz`` with ``model_metadata.json`` at its root and
one TensorFlow-1 frozen graph (``agent/model.pb``), converts the graph with OpenVINO's
model optimizer and feeds it the camera frame resized to 160 x 120, converted to
grayscale (OpenCV's BGR2GRAY) and left at 0-255 as float32 NHWC: the division by 255
is inside the graph. It finds the tensors by the names Coach gives them (facts:
aws-deepracer-model-optimizer-pkg ``constants.py``, the simapp's Coach graph, and the
real checkpoint in ``../shared/reference/coach-checkpoint``)::

    PPO input   main_level/agent/main/online/network_0/<SENSOR>/<SENSOR>   [N, 120, 160, C]
    PPO output  main_level/agent/main/online/network_1/ppo_head_0/policy
    SAC input   main_level/agent/policy/online/network_0/<SENSOR>/<SENSOR>
    SAC output  main_level/agent/policy/online/network_0/sac_policy_head_0/policy

This module rebuilds a trained policy's forward pass as such a graph, layer by layer,
with the torch weights as constants (so it is frozen by construction): the /255
rescale, the DeepRacer CNN's VALID convolutions and ReLUs, the flatten (the first
dense layer's rows are reordered from torch's C, H, W flattening to TensorFlow's
H, W, C), the dense layers and the action head.

What goes to the car (and what is refused, with the reason):

* Observations: ``camera`` (``FRONT_FACING_CAMERA``, one gray channel) or
  ``stereo_camera`` (``STEREO_CAMERAS``, two), alone or with ``lidar`` (``LIDAR``, the
  64 ranges) or ``sector_lidar`` (``SECTOR_LIDAR``, 8 flags) as a second input
  ``.../network_0/<LIDAR>/<LIDAR>`` of shape [N, values], concatenated with the camera's
  features as our extractor does. The ``state`` vector does not exist on the car, and a
  lidar alone is not a model the car runs.
* Networks: the DeepRacer CNNs (``deepracer_shallow``, ``_standard``, ``_deep``),
  with their middleware in the extractor or in ``net_arch``.
* Algorithm and actions: PPO, discrete (the softmax over the actions) or continuous
  (the action in [-1, 1]); SAC (tanh of the mean): see :func:`car_graph`.
* Frames: 160 x 120, the car's (the rules: :mod:`deepracer.models.car`).

tensorflow-cpu (``pip install 'deepracer[car]'``) builds and checks the graph; the
core never imports it.

Contents:
    CAR_EXTRA: the install hint.
    INPUT_NAME, PPO_OUTPUT, SAC_OUTPUT: Coach's tensor names.
    CAR_MODEL: the graph's place in the car's archive.
    CarGraph: a frozen graph with its tensor names and input shape.
    car_graph: the frozen graph of a loaded run.
    run_car_graph: run a frozen graph with TensorFlow.
    run_openvino: convert a frozen graph with OpenVINO as the car does, and run it.
    CarCheck, check_car_graph: both against the torch policy.
    write_car_archive: the car's ``.tar.gz``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from deepracer.errors import DeepRacerError
from deepracer.models.car import CAR_CAMERAS, CAR_LIDARS, car_problem

if TYPE_CHECKING:
    from deepracer.export.archive import LoadedRun

__all__ = [
    "CAR_EXTRA",
    "CAR_MODEL",
    "INPUT_NAME",
    "PPO_OUTPUT",
    "SAC_OUTPUT",
    "CarCheck",
    "CarGraph",
    "car_graph",
    "check_car_graph",
    "run_car_graph",
    "run_openvino",
    "write_car_archive",
]

CAR_EXTRA = "pip install 'deepracer[car]'"
CAR_MODEL = "agent/model.pb"
"""The frozen graph's place in the car's archive (the car takes the one ``.pb``)."""
INPUT_NAME = "main_level/agent/{agent}/online/network_0/{sensor}/{sensor}"
"""The input placeholder: ``{agent}`` is ``main`` (PPO) or ``policy`` (SAC), ``{sensor}``
the model_metadata.json sensor."""
PPO_OUTPUT = "main_level/agent/main/online/network_1/ppo_head_0/policy"
"""The PPO head: action probabilities (discrete) or the action in [-1, 1] (continuous)."""
SAC_OUTPUT = "main_level/agent/policy/online/network_0/sac_policy_head_0/policy"
"""The SAC head: the action in [-1, 1]."""


@dataclass(frozen=True)
class CarGraph:
    """A frozen TensorFlow-1 graph of a policy, as the car loads it.

    Attributes:
        graph_def: The serialized ``GraphDef`` (the ``model.pb`` bytes).
        input_name: The input placeholder's name.
        output_name: The action probabilities' name.
        input_shape: ``(height, width, channels)`` of one frame.
        discrete: Whether the output is action probabilities (else the action in
            [-1, 1], steering then speed).
        lidar: The lidar input, for a camera + lidar model.
        camera_key: The camera's key in a Dict observation (None for a plain Box).
    """

    graph_def: bytes
    input_name: str
    output_name: str
    input_shape: tuple[int, int, int]
    discrete: bool = True
    lidar: CarInput | None = None
    camera_key: str | None = None

    def feed(self, observations: Any) -> dict[str, NDArray[np.float32]]:
        """Tensor name -> batch, from stacked observations (an array, or a dict by key)."""
        if self.lidar is None:
            frames = observations[self.camera_key] if self.camera_key else observations
            return {f"{self.input_name}:0": np.asarray(frames, np.float32)}
        if not isinstance(observations, dict) or self.camera_key is None:
            raise DeepRacerError("the graph takes a camera and a lidar: pass both by key")
        return {
            f"{self.input_name}:0": np.asarray(observations[self.camera_key], np.float32),
            f"{self.lidar.name}:0": np.asarray(observations[self.lidar.key], np.float32),
        }


@dataclass(frozen=True)
class CarInput:
    """A vector input of a car graph (the lidar's ranges or sector flags).

    Attributes:
        name: The placeholder's name.
        key: The observation's key in our env's Dict observation.
        size: Values per sample.
    """

    name: str
    key: str
    size: int


@dataclass(frozen=True)
class _Conv:
    kernel: NDArray[np.float32]  # (kh, kw, in, out)
    bias: NDArray[np.float32]
    stride: int


@dataclass(frozen=True)
class _Dense:
    kernel: NDArray[np.float32]  # (in, out)
    bias: NDArray[np.float32]
    activation: str | None  # "relu", "tanh" or None


def car_graph(run: LoadedRun) -> CarGraph:
    """Builds the frozen graph of a loaded run's policy for the car.

    The head is the one the car reads for the run's algorithm and actions:

    * discrete PPO: the softmax over the actions (``ppo_head_0/policy``);
    * continuous PPO: the Gaussian's mean, the action in [-1, 1] before the car
      clips it to [-1, 1] and scales it to each action's low..high, as our env does;
    * SAC: ``tanh`` of the mean (``sac_policy_head_0/policy``), the action SAC takes
      greedily: the car's clip then changes nothing and its scaling is ours.

    Raises:
        DeepRacerError: The model cannot go to the car (:func:`car_problem`), or
            tensorflow-cpu is missing.
    """
    config = run.setup.config
    preset = run.setup.preset
    space = run.observation_space
    if hasattr(space, "spaces"):  # a Dict observation: the camera's frames
        space = next((sub for k, sub in space.spaces.items() if k in CAR_CAMERAS), space)
    shape: tuple[int, ...] = tuple(getattr(space, "shape", None) or ())
    frame = (int(shape[0]), int(shape[1])) if len(shape) == 3 else (0, 0)
    discrete = run.metadata.action_space_type == "discrete"
    problem = car_problem(
        config.observation, preset.network, preset.algorithm, discrete=discrete, frame=frame
    )
    if problem is not None:
        raise DeepRacerError(f"{run.run_dir}: cannot export for the car: {problem}")
    names = [config.observation] if isinstance(config.observation, str) else config.observation
    camera_key = next(n for n in names if n in CAR_CAMERAS)
    lidar_key = next((n for n in names if n in CAR_LIDARS), None)
    sensor, channels = CAR_CAMERAS[camera_key]
    sac = preset.algorithm == "sac"
    path = _layers(run.model.policy, sac=sac, camera=camera_key)
    convs = path.convs
    height, width = frame
    if channels != _input_channels(convs):
        raise DeepRacerError(
            f"{run.run_dir}: the model's first convolution takes {_input_channels(convs)}"
            f" channels; the car's {sensor} gives {channels}"
        )
    camera_dense, dense = path.camera_dense, path.dense
    if camera_dense:
        camera_dense = _reorder_flatten(camera_dense, convs, height, width)
    else:  # the camera's flat features go straight into the policy's first dense layer
        first = path.order.index(camera_key) == 0 if path.order else True
        before, after = (0, path.lidar_size) if first else (path.lidar_size, 0)
        dense = _reorder_flatten(dense, convs, height, width, before=before, after=after)
    agent = "policy" if sac else "main"
    network = f"main_level/agent/{agent}/online/network_{0 if sac else 1}"
    input_name = INPUT_NAME.format(agent=agent, sensor=sensor)
    output_name = SAC_OUTPUT if sac else PPO_OUTPUT
    lidar = None
    if lidar_key is not None:
        lidar = CarInput(
            INPUT_NAME.format(agent=agent, sensor=CAR_LIDARS[lidar_key]),
            lidar_key,
            path.lidar_size,
        )
    tf = _tensorflow()
    graph = tf.Graph()
    with graph.as_default():
        frames = tf.compat.v1.placeholder(tf.float32, [None, height, width, channels], input_name)
        scope = f"{network}/{sensor}"
        x = tf.math.truediv(frames, tf.constant(255.0), name=f"{scope}/truediv")
        for i, conv in enumerate(convs):
            name = f"{scope}/Conv2d_{2 * i}"
            x = tf.nn.conv2d(x, tf.constant(conv.kernel), conv.stride, "VALID", name=name)
            x = tf.nn.bias_add(x, tf.constant(conv.bias), name=f"{name}/BiasAdd")
            x = tf.nn.relu(x, name=f"{scope}/BatchnormActivationDropout_{2 * i + 1}_activation")
        flat = int(np.prod(x.shape[1:]))
        x = tf.reshape(x, [-1, flat], name=f"{scope}/Flatten/flatten/Reshape")
        for i, layer in enumerate(camera_dense):
            x = _dense(tf, x, layer, f"{scope}/Dense_{2 * (len(convs) + i)}")
        if lidar is not None:
            ranges = tf.compat.v1.placeholder(tf.float32, [None, lidar.size], lidar.name)
            # Our extractor concatenates in the Dict observation's key order.
            parts = {camera_key: x, lidar.key: ranges}
            x = tf.concat([parts[k] for k in path.order], axis=1, name=f"{network}/concat")
        for i, layer in enumerate(dense):
            x = _dense(tf, x, layer, f"{network}/middleware_fc_embedder/Dense_{i}")
        head_scope = output_name.rsplit("/", 1)[0]
        if discrete:
            logits = _dense(tf, x, path.head, f"{head_scope}/policy_fc")
            tf.nn.softmax(logits, name=output_name)
        elif sac:
            mean = _dense(tf, x, path.head, f"{head_scope}/policy_mean")
            tf.math.tanh(mean, name=output_name)
        else:
            mean = _dense(tf, x, path.head, f"{head_scope}/policy_mean")
            tf.identity(mean, name=output_name)
    return CarGraph(
        graph_def=graph.as_graph_def().SerializeToString(),
        input_name=input_name,
        output_name=output_name,
        input_shape=(height, width, channels),
        discrete=discrete,
        lidar=lidar,
        camera_key=camera_key if len(names) > 1 else None,
    )


def _dense(tf: Any, x: Any, layer: _Dense, name: str) -> Any:
    """``x @ kernel + bias``, then the layer's activation, under ``name``."""
    y = tf.nn.bias_add(
        tf.linalg.matmul(x, tf.constant(layer.kernel), name=f"{name}/MatMul"),
        tf.constant(layer.bias),
        name=f"{name}/BiasAdd",
    )
    return _activate(tf, y, layer.activation, f"{name}/activation")


def run_car_graph(graph: CarGraph, observations: Any) -> NDArray[np.float32]:
    """Runs a frozen car graph with TensorFlow on a batch of observations.

    Args:
        graph: The car graph.
        observations: Frames (N, H, W, C) at 0-255, or for a camera + lidar graph a
            dict of such frames and (N, rays) ranges by observation key.

    Raises:
        DeepRacerError: tensorflow-cpu is missing, or the graph lacks the named tensors.
    """
    tf = _tensorflow()
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(graph.graph_def)
    feed = graph.feed(observations)
    with tf.Graph().as_default() as loaded:
        tf.import_graph_def(graph_def, name="")
        try:
            inputs = {loaded.get_tensor_by_name(name): value for name, value in feed.items()}
            outputs = loaded.get_tensor_by_name(f"{graph.output_name}:0")
        except KeyError as exc:
            raise DeepRacerError(f"the frozen graph lacks a tensor the car needs: {exc}") from None
        with tf.compat.v1.Session(graph=loaded) as session:
            result = session.run(outputs, inputs)
    return np.asarray(result, dtype=np.float32)


def run_openvino(graph: CarGraph, observations: Any, *, fp16: bool = True) -> NDArray[np.float32]:
    """Converts a frozen car graph with OpenVINO, as the car does, and runs it one by one.

    The car's model optimizer converts the graph for one sample (``[1, 120, 160, C]``,
    and ``[1, rays]`` for a lidar) with FP16 weights (``--data_type FP16``).

    Args:
        graph: The car graph.
        observations: As :func:`run_car_graph` takes them.
        fp16: Store the weights as FP16, as the car does (False keeps FP32).

    Raises:
        DeepRacerError: openvino is missing, or cannot convert the graph.
    """
    import tempfile

    try:
        import openvino as ov
    except ImportError:
        raise DeepRacerError(f"checking the car's model needs OpenVINO: {CAR_EXTRA}") from None
    feed = graph.feed(observations)
    shapes = [[1, *value.shape[1:]] for value in feed.values()]
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "model.pb"
        source.write_bytes(graph.graph_def)
        try:
            model = ov.convert_model(
                str(source), input=[(name, shape) for name, shape in zip(feed, shapes, strict=True)]
            )
            if fp16:  # the IR the car keeps: weights stored as FP16
                ov.save_model(model, str(Path(folder) / "model.xml"), compress_to_fp16=True)
                model = ov.Core().read_model(str(Path(folder) / "model.xml"))
            compiled = ov.Core().compile_model(model, "CPU")
        except Exception as exc:  # OpenVINO's errors have no common base class
            raise DeepRacerError(f"OpenVINO cannot convert the car's graph: {exc}") from None
        count = len(next(iter(feed.values())))
        rows = [compiled([value[i : i + 1] for value in feed.values()])[0][0] for i in range(count)]
    return np.asarray(rows, dtype=np.float32)


@dataclass(frozen=True)
class CarCheck:
    """A car graph against the torch policy on the same observations.

    Attributes:
        samples: Observations compared.
        tensorflow_max_diff: Largest difference, TensorFlow vs torch: of an action
            probability (discrete) or of the action in [-1, 1] as the car clips it.
        tensorflow_agreed: Observations where TensorFlow gives the policy's action
            (discrete: the same action, or one the policy rates within :data:`TIE` of
            it; continuous: within :data:`ACTION_TOLERANCE`).
        openvino_max_diff: The same for OpenVINO's FP16 IR.
        openvino_agreed: The same for OpenVINO's FP16 IR.
    """

    samples: int
    tensorflow_max_diff: float
    tensorflow_agreed: int
    openvino_max_diff: float
    openvino_agreed: int

    @property
    def all_agree(self) -> bool:
        """Both give the policy's action on every observation."""
        return self.tensorflow_agreed == self.openvino_agreed == self.samples


TIE = 1e-4
"""Two actions whose torch probabilities differ by less than this are a tie: rounding
(FP16 weights on the car) may pick either, and both count as the policy's choice."""
ACTION_TOLERANCE = 5e-3
"""A continuous action (in [-1, 1]) within this of torch's is the same action: 0.075
deg of steering at +-30 deg; FP16 weights move it by about 1e-3."""


def check_car_graph(graph: CarGraph, policy: Any, observations: Sequence[Any]) -> CarCheck:
    """Runs observations through the graph (TensorFlow and OpenVINO) and the torch policy.

    Args:
        graph: The car graph built from ``policy``.
        policy: The torch policy (``model.policy``).
        observations: Observations as the env gives them: camera frames (H, W, C
            uint8), or dicts of a frame and the lidar's values.
    """
    from deepracer.export.onnx_export import torch_reference

    first = observations[0]
    batch: Any = (
        {key: np.stack([np.asarray(o[key]) for o in observations]) for key in first}
        if isinstance(first, dict)
        else np.stack([np.asarray(o) for o in observations])
    )
    actions, probabilities = torch_reference(policy, batch)
    outputs = {"tensorflow": run_car_graph(graph, batch), "openvino": run_openvino(graph, batch)}
    diffs: dict[str, float] = {}
    agreed: dict[str, int] = {}
    for name, out in outputs.items():
        if graph.discrete:
            if probabilities is None:
                raise DeepRacerError("the graph gives probabilities, the policy's actions are not")
            diffs[name] = float(np.abs(out - probabilities).max())
            agreed[name] = _agreed(out.argmax(1), actions, probabilities)
        else:
            moved = np.abs(np.clip(out, -1.0, 1.0) - np.asarray(actions, dtype=np.float32))
            diffs[name] = float(moved.max())
            agreed[name] = int((moved.max(axis=1) <= ACTION_TOLERANCE).sum())
    return CarCheck(
        samples=len(observations),
        tensorflow_max_diff=diffs["tensorflow"],
        tensorflow_agreed=agreed["tensorflow"],
        openvino_max_diff=diffs["openvino"],
        openvino_agreed=agreed["openvino"],
    )


def _agreed(chosen: NDArray[Any], actions: NDArray[Any], probabilities: NDArray[Any]) -> int:
    rows = np.arange(len(chosen))
    tied = probabilities[rows, chosen] >= probabilities[rows, actions] - TIE
    return int(((chosen == actions) | tied).sum())


def write_car_archive(run: LoadedRun, out: Path) -> CarGraph:
    """Writes the car's ``.tar.gz``: ``model_metadata.json`` and ``agent/model.pb``.

    Returns:
        The graph written.

    Raises:
        DeepRacerError: See :func:`car_graph`.
    """
    from deepracer.export.archive import tar_gz
    from deepracer.io import atomic_write_bytes
    from deepracer.runs import RunFiles

    graph = car_graph(run)
    metadata = RunFiles(run.run_dir).model_metadata
    members = {metadata.name: metadata.read_bytes(), CAR_MODEL: graph.graph_def}
    atomic_write_bytes(out, tar_gz(members))
    return graph


# -- torch modules to layers --------------------------------------------------------------


@dataclass(frozen=True)
class _Path:
    """A policy's path from its inputs to its action head."""

    convs: list[_Conv]
    camera_dense: list[_Dense]  # the camera extractor's own dense layers (STANDARD, DEEP)
    dense: list[_Dense]  # after the features (and the lidar) are concatenated
    head: _Dense  # logits or mean
    order: tuple[str, ...] = ()  # a Dict observation's keys, in the extractor's order
    lidar_size: int = 0


def _layers(policy: Any, *, sac: bool, camera: str) -> _Path:
    """The policy path: conv layers, dense layers, the action head (logits or mean)."""
    from torch import nn

    from deepracer.models.networks import DeepRacerCombinedExtractor

    extractor = policy.actor.features_extractor if sac else policy.pi_features_extractor
    order: tuple[str, ...] = ()
    lidar_size = 0
    if isinstance(extractor, DeepRacerCombinedExtractor):
        order = tuple(extractor.extractors)
        for key, module in extractor.extractors.items():
            if key != camera:
                if not isinstance(module, nn.Flatten):
                    raise DeepRacerError(
                        f"the car export takes the lidar as it comes, this policy has"
                        f" {type(module).__name__} on {key!r}"
                    )
                lidar_size = int(np.prod(policy.observation_space[key].shape))
        extractor = extractor.extractors[camera]
    convs = _conv_layers(extractor)
    camera_dense = _dense_layers([m for m in extractor.dense if not isinstance(m, nn.Flatten)])
    tower = policy.actor.latent_pi if sac else policy.mlp_extractor.policy_net
    head = policy.actor.mu if sac else policy.action_net
    dense = _dense_layers(list(tower))
    if not order:  # one camera: its extractor's dense layers and the tower are one stack
        camera_dense, dense = [], camera_dense + dense
    return _Path(convs, camera_dense, dense, _dense_layers([head])[0], order, lidar_size)


def _conv_layers(extractor: Any) -> list[_Conv]:
    """A DeepRacer CNN's convolutions, kernels as TensorFlow's (kh, kw, in, out)."""
    from torch import nn

    from deepracer.models.networks import DeepRacerCNN

    if not isinstance(extractor, DeepRacerCNN):
        raise DeepRacerError(
            f"the car export builds the DeepRacer CNNs, this policy has {type(extractor).__name__}"
        )
    convs: list[_Conv] = []
    for module in extractor.convs:
        if isinstance(module, nn.Conv2d):
            if module.padding not in (0, (0, 0)) or module.dilation != (1, 1) or module.groups != 1:
                raise DeepRacerError(
                    f"the car export builds VALID, plain convolutions, got {module}"
                )
            weight = module.weight.detach().cpu().numpy().astype(np.float32)
            bias = module.bias.detach().cpu().numpy().astype(np.float32)  # type: ignore[union-attr]
            convs.append(
                _Conv(np.ascontiguousarray(weight.transpose(2, 3, 1, 0)), bias, module.stride[0])
            )
        elif not isinstance(module, nn.ReLU):
            raise DeepRacerError(f"the car export builds conv + ReLU stacks, got {module}")
    return convs


def _dense_layers(modules: Sequence[Any]) -> list[_Dense]:
    from torch import nn

    layers: list[_Dense] = []
    for module in modules:
        if isinstance(module, nn.Linear):
            weight = module.weight.detach().cpu().numpy().astype(np.float32)
            bias = module.bias.detach().cpu().numpy().astype(np.float32)
            layers.append(_Dense(np.ascontiguousarray(weight.T), bias, None))
        elif isinstance(module, nn.ReLU | nn.Tanh) and layers and layers[-1].activation is None:
            kind = "relu" if isinstance(module, nn.ReLU) else "tanh"
            layers[-1] = _Dense(layers[-1].kernel, layers[-1].bias, kind)
        else:
            raise DeepRacerError(f"the car export builds Linear + ReLU/Tanh layers, got {module}")
    return layers


def _input_channels(convs: list[_Conv]) -> int:
    return int(convs[0].kernel.shape[2])


def _reorder_flatten(
    dense: list[_Dense],
    convs: list[_Conv],
    height: int,
    width: int,
    *,
    before: int = 0,
    after: int = 0,
) -> list[_Dense]:
    """Reorders the first dense layer's camera inputs from torch's (C, H, W) to (H, W, C).

    ``before`` and ``after`` inputs (another observation's, concatenated around the
    camera's features) keep their place.
    """
    if not dense:
        return dense
    h, w = height, width
    for conv in convs:
        k = conv.kernel.shape[0]
        h, w = (h - k) // conv.stride + 1, (w - k) // conv.stride + 1
    c = int(convs[-1].kernel.shape[3])
    first = dense[0]
    if first.kernel.shape[0] != before + c * h * w + after:
        raise DeepRacerError(
            f"the first dense layer takes {first.kernel.shape[0]} inputs, the convolutions"
            f" give {c} x {h} x {w} (and {before + after} other inputs)"
        )
    block = first.kernel[before : before + c * h * w]
    rows = block.reshape(c, h, w, -1).transpose(1, 2, 0, 3).reshape(c * h * w, -1)
    kernel = np.concatenate([first.kernel[:before], rows, first.kernel[before + c * h * w :]])
    return [_Dense(np.ascontiguousarray(kernel), first.bias, first.activation), *dense[1:]]


def _activate(tf: Any, x: Any, activation: str | None, name: str) -> Any:
    if activation == "relu":
        return tf.nn.relu(x, name=name)
    if activation == "tanh":
        return tf.math.tanh(x, name=name)
    return x


def _tensorflow() -> Any:
    """TensorFlow, imported when a car export asks for it."""
    try:
        import tensorflow as tf
    except ImportError:
        raise DeepRacerError(
            f"the car's model is a TensorFlow graph: {CAR_EXTRA} (tensorflow-cpu)"
        ) from None
    return tf
