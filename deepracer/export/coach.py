"""DeepRacer on AWS and deepracer-for-cloud model folders: Coach checkpoints of a run.

DeepRacer on AWS imports a folder (facts: aws-solutions/deepracer-on-aws
``source/docs/import/README.md``)::

    model_metadata.json  reward_function.py  training_params.yaml  hyperparameters.json
    model/.coach_checkpoint                   the checkpoint's name
    model/<N>_Step-<steps>.ckpt.index         Coach's TensorFlow checkpoint
    model/<N>_Step-<steps>.ckpt.data-00000-of-00001
    model/<N>_Step-<steps>.ckpt.meta

deepracer-for-cloud's model prefix (``dr-upload-model``) keeps the same checkpoint in
``model/`` with the frozen graph ``model_<N>.pb``, ``deepracer_checkpoints.json``
(best and last) and ``model_metadata.json`` beside it, and the preset in
``ip/hyperparameters.json``. This module owns both layouts: ``deepracer import``
reads them through the names here.

The checkpoint holds what the simapp's Coach saver saves (the reference: a real
checkpoint's ``.index`` and ``.meta`` in ``../shared/reference/coach-checkpoint``): the
online network's trainable variables, no optimizer slots, no target network. Coach's
clipped PPO has two towers on the same input, each with its own copy of the camera
embedder and middleware::

    main_level/agent/main/online/network_0/<SENSOR>/Conv2d_{0,2,4}/{kernel,bias}
    main_level/agent/main/online/network_0/middleware_fc_embedder/Dense_0/{kernel,bias}
    main_level/agent/main/online/network_0/v_values_head_0/output/{kernel,bias}
    main_level/agent/main/online/network_0/gradients_from_head_0-0_rescalers
    main_level/agent/main/online/network_1/<SENSOR>/Conv2d_{0,2,4}/{kernel,bias}
    main_level/agent/main/online/network_1/middleware_fc_embedder/Dense_0/{kernel,bias}
    main_level/agent/main/online/network_1/ppo_head_0/policy_fc/{kernel,bias}   discrete
    main_level/agent/main/online/network_1/ppo_head_0/policy_mean/{kernel,bias} continuous
    main_level/agent/main/online/network_1/ppo_head_0/policy_log_std            continuous
    main_level/agent/main/online/network_1/gradients_from_head_0-0_rescalers

Our PPO maps onto it layer for layer when it has the simapp's SHALLOW network
(``deepracer_shallow``: the three convolutions, ReLU, then one dense 512 ReLU per
tower): the convolutions (shared by our two towers, as SB3 shares its features
extractor) are written to both towers, our value tower to ``network_0``, our policy
tower and action head to ``network_1``. Other networks are refused: the simapp's
STANDARD uses tanh and DEEP batch norm and dropout, so the simapp would rebuild a
different function than ours from the same ``neural_network`` name. SAC is refused
too (its Coach graph, with Q networks, is not built here).

The ``.meta`` is the inference graph of the two towers over these variables (no
gradients or optimizer), written by TensorFlow's saver: Coach restores a checkpoint
into the graph it builds itself and reads only ``.index``/``.data``.

Contents:
    COACH_CHECKPOINT, CHECKPOINTS_JSON: the folder's bookkeeping files.
    checkpoint_name, frozen_graph_name: ``<N>_Step-<steps>.ckpt``, ``model_<N>.pb``.
    coach_variables: a run's weights under Coach's names.
    write_checkpoint: a Coach checkpoint with TensorFlow's saver.
    run_checkpoint: a checkpoint restored into its ``.meta`` graph, run on frames.
    read_checkpoint: a checkpoint's variables.
    export_model_folder: the DeepRacer on AWS or deepracer-for-cloud folder (or tar.gz).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from deepracer.errors import DeepRacerError

if TYPE_CHECKING:
    from deepracer.export.archive import LoadedRun

__all__ = [
    "CHECKPOINTS_JSON",
    "COACH_CHECKPOINT",
    "FOLDER_FORMATS",
    "MODEL_DIR",
    "CoachCheckpoint",
    "checkpoint_name",
    "coach_variables",
    "export_model_folder",
    "frozen_graph_name",
    "read_checkpoint",
    "run_checkpoint",
    "write_checkpoint",
]

COACH_CHECKPOINT = ".coach_checkpoint"
"""``model/.coach_checkpoint``: the name of the checkpoint to restore."""
CHECKPOINTS_JSON = "deepracer_checkpoints.json"
"""``model/deepracer_checkpoints.json``: the best and the last checkpoint."""
MODEL_DIR = "model"
"""The folder of checkpoints and graphs in both layouts."""
FOLDER_FORMATS = ("droa", "drfc")
"""``droa``: DeepRacer on AWS's import folder; ``drfc``: deepracer-for-cloud's prefix."""
SCOPE = "main_level/agent/main/online"
"""Coach's scope of the online PPO networks."""
_CONV_NAMES = ("Conv2d_0", "Conv2d_2", "Conv2d_4")
"""Coach names layer i of an embedder ``<Type>_<2i>`` (its activation is ``2i + 1``)."""
_MIDDLEWARE_UNITS = 512
"""The simapp's middleware for the SHALLOW network: one dense layer of 512."""
_SENSORS = {"camera": "FRONT_FACING_CAMERA", "stereo_camera": "STEREO_CAMERAS"}


def checkpoint_name(iteration: int, steps: int) -> str:
    """``<N>_Step-<steps>.ckpt``, the simapp's checkpoint prefix."""
    return f"{iteration}_Step-{steps}.ckpt"


def frozen_graph_name(iteration: int) -> str:
    """``model_<N>.pb``, deepracer-for-cloud's frozen graph of checkpoint N."""
    return f"model_{iteration}.pb"


@dataclass(frozen=True)
class CoachCheckpoint:
    """A run's weights as Coach names them.

    Attributes:
        variables: Variable name -> value (float32), in the saver's (sorted) order.
        sensor: The input's name (``FRONT_FACING_CAMERA`` or ``STEREO_CAMERAS``).
        input_shape: (height, width, channels) of one frame.
        discrete: Whether the head is ``policy_fc`` (softmax) or ``policy_mean``.
    """

    variables: dict[str, NDArray[np.float32]]
    sensor: str
    input_shape: tuple[int, int, int]
    discrete: bool


def coach_variables(run: LoadedRun) -> CoachCheckpoint:
    """A loaded run's PPO weights under the names of the simapp's Coach checkpoint.

    Raises:
        DeepRacerError: The run cannot be written as a Coach checkpoint (SAC, not the
            SHALLOW camera network, or its towers are not one dense 512 layer each).
    """
    from torch import nn

    from deepracer.export.car import _conv_layers, _dense_layers, _reorder_flatten
    from deepracer.models.networks import DeepRacerCNN

    where = f"{run.run_dir}: cannot write a Coach checkpoint"
    config = run.setup.config
    if run.algorithm != "ppo":
        raise DeepRacerError(
            f"{where}: {run.algorithm.upper()}; this export writes Coach's clipped PPO"
            " (its SAC graph, with Q networks, is not built here)"
        )
    observation = str(config.observation)
    if observation not in _SENSORS:
        raise DeepRacerError(
            f"{where}: observation {observation!r}; the simapp's camera models take"
            f" {' or '.join(_SENSORS)}"
        )
    policy = run.model.policy
    extractors = {policy.pi_features_extractor, policy.vf_features_extractor}
    for extractor in extractors:
        if not isinstance(extractor, DeepRacerCNN) or extractor.variant != "shallow":
            raise DeepRacerError(
                f"{where}: network {run.setup.preset.network!r}; the simapp rebuilds"
                " DEEP_CONVOLUTIONAL_NETWORK_SHALLOW as ours is (three ReLU convolutions,"
                " dense 512), but its STANDARD uses tanh and its DEEP batch norm and"
                " dropout, so only deepracer_shallow carries over"
            )
    space = run.observation_space
    height, width, channels = (int(n) for n in space.shape)
    discrete = run.metadata.action_space_type == "discrete"
    sensor = _SENSORS[observation]
    variables: dict[str, NDArray[np.float32]] = {}
    towers = (
        ("network_0", policy.vf_features_extractor, policy.mlp_extractor.value_net),
        ("network_1", policy.pi_features_extractor, policy.mlp_extractor.policy_net),
    )
    for network, extractor, tower in towers:
        convs = _conv_layers(extractor)
        modules = [m for m in extractor.dense if not isinstance(m, nn.Flatten)] + list(tower)
        dense = _reorder_flatten(_dense_layers(modules), convs, height, width)
        if (
            len(dense) != 1
            or dense[0].kernel.shape[1] != _MIDDLEWARE_UNITS
            or (dense[0].activation != "relu")
        ):
            shapes = [f"{d.kernel.shape[1]} {d.activation}" for d in dense]
            raise DeepRacerError(
                f"{where}: the {'value' if network == 'network_0' else 'policy'} tower's"
                f" dense layers are {shapes}; the simapp's SHALLOW middleware is one dense"
                f" {_MIDDLEWARE_UNITS} ReLU (the preset's net_arch [512])"
            )
        prefix = f"{SCOPE}/{network}"
        for name, conv in zip(_CONV_NAMES, convs, strict=True):
            variables[f"{prefix}/{sensor}/{name}/kernel"] = conv.kernel
            variables[f"{prefix}/{sensor}/{name}/bias"] = conv.bias
        variables[f"{prefix}/middleware_fc_embedder/Dense_0/kernel"] = dense[0].kernel
        variables[f"{prefix}/middleware_fc_embedder/Dense_0/bias"] = dense[0].bias
        # Coach scales each head's gradient into the middleware by this; 1 = as is.
        variables[f"{prefix}/gradients_from_head_0-0_rescalers"] = np.ones((), np.float32)
    value = _dense_layers([policy.value_net])[0]
    variables[f"{SCOPE}/network_0/v_values_head_0/output/kernel"] = value.kernel
    variables[f"{SCOPE}/network_0/v_values_head_0/output/bias"] = value.bias
    head = _dense_layers([policy.action_net])[0]
    if discrete:
        variables[f"{SCOPE}/network_1/ppo_head_0/policy_fc/kernel"] = head.kernel
        variables[f"{SCOPE}/network_1/ppo_head_0/policy_fc/bias"] = head.bias
    else:
        variables[f"{SCOPE}/network_1/ppo_head_0/policy_mean/kernel"] = head.kernel
        variables[f"{SCOPE}/network_1/ppo_head_0/policy_mean/bias"] = head.bias
        log_std = policy.log_std.detach().cpu().numpy().astype(np.float32)
        variables[f"{SCOPE}/network_1/ppo_head_0/policy_log_std"] = log_std.reshape(1, -1)
    # np.array, not np.ascontiguousarray: that turns the scalar rescalers into shape (1,).
    ordered = {name: np.array(variables[name], np.float32) for name in sorted(variables)}
    return CoachCheckpoint(ordered, sensor, (height, width, channels), discrete)


def write_checkpoint(checkpoint: CoachCheckpoint, prefix: Path) -> list[Path]:
    """Writes ``prefix.index``, ``prefix.data-00000-of-00001`` and ``prefix.meta``.

    The variables are TensorFlow-1 reference variables (``VariableV2``, as Coach's)
    restored by a saver over exactly them; the ``.meta`` graph computes both towers
    (``ppo_head_0/policy`` and ``v_values_head_0/output``) from the input placeholder
    ``network_0/<SENSOR>/<SENSOR>``, with the /255 inside.

    Returns:
        The three files written.
    """
    from deepracer.export.car import _tensorflow

    tf = _tensorflow()
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        # Zero initializers keep the weights out of the .meta graph; they are loaded
        # into the session below, as Coach's graph holds them only in the checkpoint.
        made = {
            name: v1.get_variable(
                name,
                shape=value.shape,
                dtype=tf.float32,
                initializer=v1.zeros_initializer(),
                use_resource=False,
            )
            for name, value in checkpoint.variables.items()
        }
        _inference(tf, checkpoint, made)
        saver = v1.train.Saver(var_list=made, max_to_keep=None, save_relative_paths=True)
        with v1.Session(graph=graph) as session:
            for name, variable in made.items():
                feed = {variable.initial_value: checkpoint.variables[name]}
                session.run(variable.initializer, feed)
            saver.save(session, str(prefix), write_meta_graph=True, write_state=False)
    return [Path(f"{prefix}{suffix}") for suffix in (".index", ".data-00000-of-00001", ".meta")]


def _inference(tf: Any, checkpoint: CoachCheckpoint, made: dict[str, Any]) -> None:
    """Both towers' forward pass over the variables, under Coach's op names."""
    height, width, channels = checkpoint.input_shape
    sensor = checkpoint.sensor
    frames = tf.compat.v1.placeholder(
        tf.float32, [None, height, width, channels], f"{SCOPE}/network_0/{sensor}/{sensor}"
    )
    for network in ("network_0", "network_1"):
        prefix = f"{SCOPE}/{network}"
        x = tf.math.truediv(frames, 255.0, name=f"{prefix}/{sensor}/truediv")
        for i, name in enumerate(_CONV_NAMES):
            scope = f"{prefix}/{sensor}/{name}"
            kernel = made[f"{scope}/kernel"]
            stride = (4, 2, 1)[i]
            x = tf.nn.conv2d(x, kernel, stride, "VALID", name=f"{scope}/Conv2D")
            x = tf.nn.bias_add(x, made[f"{scope}/bias"], name=f"{scope}/BiasAdd")
            x = tf.nn.relu(x, name=f"{prefix}/{sensor}/BatchnormActivationDropout_{2 * i + 1}")
        flat = int(np.prod(x.shape[1:]))
        x = tf.reshape(x, [-1, flat], name=f"{prefix}/{sensor}/Flatten/flatten/Reshape")
        x = tf.nn.relu(_dense(tf, x, made, f"{prefix}/middleware_fc_embedder/Dense_0"))
        if network == "network_0":
            _dense(tf, x, made, f"{prefix}/v_values_head_0/output")
        elif checkpoint.discrete:
            logits = _dense(tf, x, made, f"{prefix}/ppo_head_0/policy_fc")
            tf.nn.softmax(logits, name=f"{prefix}/ppo_head_0/policy")
        else:
            mean = _dense(tf, x, made, f"{prefix}/ppo_head_0/policy_mean")
            tf.identity(mean, name=f"{prefix}/ppo_head_0/policy")


def _dense(tf: Any, x: Any, made: dict[str, Any], scope: str) -> Any:
    product = tf.linalg.matmul(x, made[f"{scope}/kernel"], name=f"{scope}/MatMul")
    return tf.nn.bias_add(product, made[f"{scope}/bias"], name=f"{scope}/BiasAdd")


def run_checkpoint(
    prefix: Path, sensor: str, frames: NDArray[Any]
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Restores a checkpoint into its ``.meta`` graph and runs both towers on frames.

    Args:
        prefix: The checkpoint (``<dir>/<N>_Step-<steps>.ckpt``).
        sensor: The input's name (``FRONT_FACING_CAMERA``, ``STEREO_CAMERAS``).
        frames: (N, H, W, C) at 0-255.

    Returns:
        The policy head's output (probabilities, or the mean action) and the values.

    Raises:
        DeepRacerError: tensorflow-cpu is missing, or the graph lacks Coach's tensors.
    """
    from deepracer.export.car import _tensorflow

    tf = _tensorflow()
    v1 = tf.compat.v1
    with tf.Graph().as_default() as graph, v1.Session(graph=graph) as session:
        saver = v1.train.import_meta_graph(f"{prefix}.meta", clear_devices=True)
        saver.restore(session, str(prefix))
        try:
            inputs = graph.get_tensor_by_name(f"{SCOPE}/network_0/{sensor}/{sensor}:0")
            policy = graph.get_tensor_by_name(f"{SCOPE}/network_1/ppo_head_0/policy:0")
            value = graph.get_tensor_by_name(f"{SCOPE}/network_0/v_values_head_0/output/BiasAdd:0")
        except KeyError as exc:
            raise DeepRacerError(f"{prefix}.meta: lacks a tensor of Coach's graph: {exc}") from None
        out, values = session.run([policy, value], {inputs: np.asarray(frames, np.float32)})
    return np.asarray(out, np.float32), np.asarray(values, np.float32).reshape(-1)


def read_checkpoint(prefix: Path) -> dict[str, NDArray[Any]]:
    """Every variable of a TensorFlow checkpoint (``prefix`` without the suffixes).

    Raises:
        DeepRacerError: tensorflow-cpu is missing, or the checkpoint is unreadable.
    """
    from deepracer.export.car import _tensorflow

    tf = _tensorflow()
    try:
        reader = tf.train.load_checkpoint(str(prefix))
        names = reader.get_variable_to_shape_map()
        return {name: np.asarray(reader.get_tensor(name)) for name in sorted(names)}
    except (tf.errors.OpError, ValueError) as exc:
        raise DeepRacerError(f"{prefix}: not a readable TensorFlow checkpoint ({exc})") from None


# -- the folder ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Position:
    """Where the exported model sits in its run: checkpoint number, steps, progress."""

    iteration: int
    steps: int
    progress: float | None


def _position(run: LoadedRun) -> _Position:
    """The model's iteration and steps, from the periodic evaluation that saved it."""
    from deepracer.runs import RunFiles, episodes_per_iteration
    from deepracer.runs.evaluations import read_evaluations

    files = RunFiles(run.run_dir)
    steps = int(getattr(run.model, "num_timesteps", 0) or 0)
    progress: float | None = None
    episodes = 0
    evaluations = read_evaluations(files.evaluations) if files.evaluations.is_file() else []
    if evaluations:
        if run.model_path.name == files.best_model.name:
            chosen = max(evaluations, key=lambda e: e.score())
        else:
            at = [e for e in evaluations if e.timesteps <= steps] or evaluations
            chosen = at[-1]
        steps, progress, episodes = chosen.timesteps, chosen.mean_progress, chosen.episodes
    iteration = 0
    if episodes and files.hyperparameters.is_file():
        iteration = episodes // episodes_per_iteration(files)
    return _Position(iteration, steps, progress)


def _files(run: LoadedRun, kind: Literal["droa", "drfc"], trust_reward: bool) -> dict[str, bytes]:
    """Every file of the folder but the checkpoint, by relative path."""
    from deepracer.export.archive import _hyperparameters
    from deepracer.export.car import car_graph
    from deepracer.runs import RunFiles
    from deepracer.runs.reading import run_experiment
    from deepracer.simapp import (
        TRAINING_PARAMS,
        S3Keys,
        droa_training_params,
        dump_training_params,
        training_params,
    )

    files = RunFiles(run.run_dir)
    if not files.is_run():
        raise DeepRacerError(
            f"{run.run_dir}: not a run directory; DeepRacer on AWS needs the run's world,"
            " reward and preset (pass a run directory that deepracer train wrote)"
        )
    reward = files.reward
    if not reward.is_file():
        raise DeepRacerError(f"{run.run_dir}: no {reward.name}; DeepRacer on AWS requires it")
    if not (run.reward_trusted or trust_reward):
        raise DeepRacerError(
            f"{reward}: comes from a run not created on this machine (or changed since);"
            " export --trust-reward puts it in"
        )
    hyperparameters, why = _hyperparameters(run.run_dir)
    if hyperparameters is None:
        raise DeepRacerError(f"{run.run_dir}: no hyperparameters.json: {why}")
    experiment = run_experiment(run.run_dir)
    world = experiment.worlds[0]
    if kind == "droa":
        from deepracer.envs.world import load_world

        race_type = load_world(world).race_type
        if race_type not in ("TIME_TRIAL", "OBJECT_AVOIDANCE"):
            raise DeepRacerError(
                f"{run.run_dir}: world {world!r} is a {race_type} race; DeepRacer on AWS"
                " imports time-trial and object-avoidance models only (its ImportHelper"
                " reads any other RACE_TYPE as TIME_TRIAL); use --format drfc"
            )
    name = run.run_dir.resolve().name
    keys = S3Keys(
        bucket="",
        prefix=name,
        reward=f"{name}/reward_function.py",
        model_metadata=f"{name}/model/model_metadata.json",
        metrics=f"{name}/metrics/TrainingMetrics.json",
    )
    params = training_params(experiment, world, keys, region="us-east-1", workers=1)
    metadata = files.model_metadata.read_bytes()
    out = {
        "model_metadata.json": metadata,
        "reward_function.py": reward.read_bytes(),
        TRAINING_PARAMS: (
            droa_training_params(params) if kind == "droa" else dump_training_params(params)
        ),
    }
    if kind == "droa":
        out["hyperparameters.json"] = hyperparameters
    else:
        from deepracer.envs.objects import drfc_run_env
        from deepracer.simapp import RUN_ENV

        out["ip/hyperparameters.json"] = hyperparameters
        out[f"{MODEL_DIR}/model_metadata.json"] = metadata
        # DRfC writes training_params.yaml from its run.env at each start: these lines
        # carry the world and race into the user's.
        out[RUN_ENV] = drfc_run_env(params).encode()
        position = _position(run)
        out[f"{MODEL_DIR}/{frozen_graph_name(position.iteration)}"] = car_graph(run).graph_def
    return out


def _checkpoints_json(name: str, progress: float | None) -> bytes:
    entry = {"name": name, "time_stamp": round(time.time(), 3), "avg_comp_pct": progress or 0.0}
    data = {"best_checkpoint": entry, "last_checkpoint": entry}
    return (json.dumps(data, indent=4) + "\n").encode()


def export_model_folder(
    run: LoadedRun,
    out: Path,
    kind: Literal["droa", "drfc"],
    *,
    trust_reward: bool = False,
) -> tuple[Path, CoachCheckpoint]:
    """Writes a run as DeepRacer on AWS's import folder or deepracer-for-cloud's prefix.

    ``out`` ending in ``.tar.gz`` gets the folder's files tarred (the console's
    "virtual model" download is one); otherwise it is the folder, which must not exist.
    The folder is assembled beside ``out`` and renamed into place, so a failure leaves
    nothing half-written.

    Raises:
        DeepRacerError: A run that cannot go (see :func:`coach_variables`), a world on
            a track no simapp has, a missing reward or preset, or ``out`` exists.
    """
    from deepracer.export.archive import tar_gz
    from deepracer.io import atomic_write_bytes

    if out.exists():
        raise DeepRacerError(f"{out}: exists; choose another --out (nothing is overwritten)")
    checkpoint = coach_variables(run)
    members = _files(run, kind, trust_reward)
    position = _position(run)
    name = checkpoint_name(position.iteration, position.steps)
    members[f"{MODEL_DIR}/{COACH_CHECKPOINT}"] = name.encode()
    if kind == "drfc":
        members[f"{MODEL_DIR}/{CHECKPOINTS_JSON}"] = _checkpoints_json(name, position.progress)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as scratch:
        folder = Path(scratch) / "folder"
        (folder / MODEL_DIR).mkdir(parents=True)
        write_checkpoint(checkpoint, folder / MODEL_DIR / name)
        for relative, data in members.items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        if out.name.endswith(".tar.gz"):
            tarred = {
                p.relative_to(folder).as_posix(): p.read_bytes()
                for p in sorted(folder.rglob("*"))
                if p.is_file()
            }
            atomic_write_bytes(out, tar_gz(tarred))
        else:
            os.replace(folder, out)  # same file system: the folder appears whole
    return out, checkpoint
