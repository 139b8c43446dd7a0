"""The training image's entry point: ``deepracer-sagemaker train``.

SageMaker starts a training container as ``<image> train`` with this layout (the
role the seed's Dockerfile and ``training_worker.py`` played)::

    /opt/ml/input/config/hyperparameters.json   the job's hyperparameters (strings)
    /opt/ml/input/config/resourceconfig.json    the job's hosts (several: a Ray cluster)
    /opt/ml/input/data/custom_files/            channel: reward, model metadata, ...
    /opt/ml/input/data/experiment/              channel: experiment.yaml, preset, ...
    /opt/ml/checkpoints/                        synced with the job's checkpoint S3 URI
    /opt/ml/model/                              uploaded as model.tar.gz at the end
    /opt/ml/output/failure                      the failure reason, on error

The run directory lives in ``/opt/ml/checkpoints/run``, so everything training
writes (checkpoints, logs, best model) reaches S3 while the job runs; a managed
spot job that is interrupted restarts with that folder restored and resumes from
its last checkpoint. Each world's cars run in their own worker process
(:class:`~deepracer.training.workers.WorldWorkers`), the DeepRacer on AWS pattern of
one simulation per world inside the training job. At the end the run directory is
copied to ``/opt/ml/model``.

Hyperparameters: ``experiment`` names the experiment file in the ``experiment``
channel (default ``experiment.yaml``); a key with a dot is an experiment override
(``train.max_minutes: "50"``, as ``--set``); the other keys (the DeepRacer names
that mirror the preset, DeepRacer on AWS's ``s3_bucket`` and friends) are
informational.

Paths follow the ``SM_*`` variables when set (``SM_MODEL_DIR``, ``SM_CHANNEL_<NAME>``,
``SM_OUTPUT_DATA_DIR``, ``SM_HPS``); ``DEEPRACER_SM_ROOT`` moves the whole
``/opt/ml`` tree (tests use it).

Contents:
    ContainerPaths: where SageMaker put things.
    run_training: train (or resume) the uploaded experiment.
    main: the console script.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepracer.cloud.layout import CUSTOM_FILES_CHANNEL, EXPERIMENT_CHANNEL, EXPERIMENT_FILE
from deepracer.errors import ConfigError, DeepRacerError
from deepracer.rewards.loader import interrupt_by_signal
from deepracer.runs.evaluations import read_evaluations
from deepracer.runs.layout import RunFiles

__all__ = ["ContainerPaths", "main", "run_training"]

ROOT_ENV = "DEEPRACER_SM_ROOT"
RUN_NAME = "run"
_FAILURE_LIMIT = 1024  # SageMaker shows the first 1024 characters as FailureReason


@dataclass(frozen=True)
class ContainerPaths:
    """The SageMaker container folders this job uses."""

    hyperparameters: Path
    resource_config: Path
    custom_files: Path
    experiment: Path
    checkpoints: Path
    model: Path
    output: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ContainerPaths:
        """Reads the layout from ``SM_*`` variables, else under ``$DEEPRACER_SM_ROOT``.

        Args:
            env: The environment (default: ``os.environ``).
        """
        env = os.environ if env is None else env
        root = Path(env.get(ROOT_ENV, "/opt/ml"))
        output_data = env.get("SM_OUTPUT_DATA_DIR")
        data = root / "input" / "data"

        def channel(name: str) -> Path:
            return Path(env.get(f"SM_CHANNEL_{name.upper()}", data / name))

        return cls(
            hyperparameters=root / "input" / "config" / "hyperparameters.json",
            resource_config=root / "input" / "config" / "resourceconfig.json",
            custom_files=channel(CUSTOM_FILES_CHANNEL),
            experiment=channel(EXPERIMENT_CHANNEL),
            checkpoints=root / "checkpoints",
            model=Path(env.get("SM_MODEL_DIR", root / "model")),
            # SM_OUTPUT_DATA_DIR is output/data; the failure file lives in output/.
            output=Path(output_data).parent if output_data else root / "output",
        )

    @property
    def run_dir(self) -> Path:
        """The run directory, inside the synced checkpoint folder."""
        return self.checkpoints / RUN_NAME


def _hyperparameters(paths: ContainerPaths, env: Any) -> dict[str, str]:
    text = env.get("SM_HPS")
    source = "SM_HPS"
    if text is None:
        source = str(paths.hyperparameters)
        try:
            text = paths.hyperparameters.read_text()
        except FileNotFoundError:
            return {}
    try:
        values = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}: not valid JSON ({exc.msg})") from None
    if not isinstance(values, dict):
        raise ConfigError(f"{source}: expected a JSON object of hyperparameters")
    return {str(k): str(v) for k, v in values.items()}


def _check_channels(paths: ContainerPaths) -> None:
    for name, folder in (
        (CUSTOM_FILES_CHANNEL, paths.custom_files),
        (EXPERIMENT_CHANNEL, paths.experiment),
    ):
        if not folder.is_dir():
            raise ConfigError(
                f"{folder}: input channel {name!r} is missing; the training job needs the"
                f" channels {CUSTOM_FILES_CHANNEL!r} and {EXPERIMENT_CHANNEL!r}"
                " (`deepracer launch` sets them)"
            )


def load_job_experiment(paths: ContainerPaths, hyperparameters: dict[str, str]) -> Any:
    """The uploaded experiment with the job's overrides, its files found in the channels.

    Raises:
        ConfigError: The experiment file is missing or invalid.
    """
    from deepracer.cloud.artifacts import TRACKS_DIR, localize_experiment
    from deepracer.config.loader import load_yaml
    from deepracer.experiment import apply_overrides, env_config, experiment_from_mapping
    from deepracer.tracks import TRACKS_PATH_ENV

    _check_channels(paths)
    name = hyperparameters.get("experiment", EXPERIMENT_FILE)
    path = paths.experiment / name
    data = load_yaml(path)
    overrides = [f"{k}={v}" for k, v in sorted(hyperparameters.items()) if "." in k]
    apply_overrides(data, overrides, source=f"{path} (hyperparameters)")
    # The run records these paths; a restarted (spot) job has the same channels.
    data = localize_experiment(
        data, {CUSTOM_FILES_CHANNEL: paths.custom_files, "deepracer": paths.experiment}
    )
    tracks = paths.experiment / TRACKS_DIR.partition("/")[2]
    if tracks.is_dir():
        current = os.environ.get(TRACKS_PATH_ENV, "")
        os.environ[TRACKS_PATH_ENV] = os.pathsep.join(p for p in (str(tracks), current) if p)
    experiment = experiment_from_mapping(data, source=str(path))
    env_config(experiment, experiment.worlds[0], source=str(path))
    return experiment


def _with_metrics(say: Callable[[str], None], run_dir: Path) -> Callable[[str], None]:
    """Adds a metric line after each evaluation, for the job's MetricDefinitions."""
    from deepracer.cloud.sagemaker import format_metric_line
    from deepracer.training.trainer import EVALUATION_LINE

    def echo(line: str) -> None:
        say(line)
        if not line.startswith(EVALUATION_LINE):
            return
        try:
            entry = read_evaluations(RunFiles(run_dir).evaluations)[-1]
        except (DeepRacerError, IndexError):
            return  # a metric line is a nicety; never let it stop training
        seconds = entry.wall_seconds
        say(
            format_metric_line(
                {
                    "timesteps": entry.timesteps,
                    "progress": entry.training_progress,
                    "eval_progress": entry.mean_progress,
                    "mean_lap_time": entry.mean_lap_time,
                    "steps_per_second": entry.timesteps / seconds if seconds > 0 else None,
                }
            )
        )

    return echo


def run_training(
    paths: ContainerPaths | None = None,
    *,
    env: Any = None,
    echo: Callable[[str], None] | None = None,
    nodes: Any = None,
    resolve: Callable[[str], str] | None = None,
) -> Any:
    """Trains (or, after a spot interruption, resumes) the job's experiment.

    On a job of several hosts (:mod:`deepracer.cloud.ray_hosts`), the first host
    starts a Ray cluster and trains with the simulation workers as Ray actors on every
    host; the others join it and return None once it is gone.

    Args:
        paths: The container's folders (default: from the environment).
        env: The environment (default: ``os.environ``).
        echo: Receives the log lines (default: stdout).
        nodes: How this host starts its Ray node (default: ``ray start``).
        resolve: Host name to IP address (default: DNS).

    Returns:
        The :class:`~deepracer.training.trainer.TrainResult`; None on a host that only
        lent its CPUs.
    """
    from deepracer.cloud.layout import RAY_TOKEN_FILE
    from deepracer.cloud.ray_hosts import JobHosts, cluster_settings, run_head, run_member

    env = os.environ if env is None else env
    paths = paths or ContainerPaths.from_env(env)
    say = _with_metrics(echo or (lambda line: print(line, flush=True)), paths.run_dir)
    hyperparameters = _hyperparameters(paths, env)
    hosts = JobHosts.read(paths.resource_config)
    if hosts is None or len(hosts.hosts) == 1:
        return _train_job(paths, hyperparameters, say)
    settings = cluster_settings(hyperparameters, paths.experiment / RAY_TOKEN_FILE)
    options: dict[str, Any] = {"nodes": nodes, "say": say}
    if resolve is not None:
        options["resolve"] = resolve
    if not hosts.is_head:
        run_member(hosts, settings, **options)
        return None
    # The workers become Ray actors, spread over the hosts by Ray.
    hyperparameters.setdefault("train.workers.backend", "ray")
    return run_head(hosts, settings, lambda: _train_job(paths, hyperparameters, say), **options)


def _train_job(
    paths: ContainerPaths, hyperparameters: dict[str, str], say: Callable[[str], None]
) -> Any:
    from deepracer.training.trainer import train

    run_dir = paths.run_dir
    if RunFiles(run_dir).is_run():
        say(f"resuming {run_dir} from its last checkpoint (the job was interrupted)")
        # The job's own run, restored from its checkpoint channel on a new machine:
        # its reward file is the one the user uploaded for this job.
        result = train(None, run_dir, resume=True, argv=["deepracer-sagemaker", "train"],
                       echo=say, workers=True, trust_reward=True)  # fmt: skip
    else:
        experiment = load_job_experiment(paths, hyperparameters)
        say(f"training {experiment.name!r} on {', '.join(experiment.worlds)} into {run_dir}")
        if run_dir.exists():
            shutil.rmtree(run_dir)  # a previous try died before writing anything
        result = train(experiment, run_dir, argv=["deepracer-sagemaker", "train"], echo=say,
                       workers=True)  # fmt: skip
    paths.model.mkdir(parents=True, exist_ok=True)
    shutil.copytree(run_dir, paths.model, dirs_exist_ok=True)
    say(f"model: {paths.model} ({result.timesteps} steps, stopped by {result.stopped_by})")
    return result


def _write_failure(paths: ContainerPaths, message: str) -> None:
    from deepracer.io import atomic_write_text

    with contextlib.suppress(OSError):  # the message still reaches the log
        atomic_write_text(paths.output / "failure", message[:_FAILURE_LIMIT])


def main(argv: Sequence[str] | None = None) -> int:
    """``deepracer-sagemaker train``: what SageMaker runs in the training image."""
    args = list(sys.argv[1:] if argv is None else argv)
    paths = ContainerPaths.from_env()
    if args and args[0] != "train":
        message = f"unsupported command {args[0]!r}: this image only trains (`train`)"
        _write_failure(paths, message)
        print(f"error: {message}", file=sys.stderr)
        return 2
    # SageMaker stops a job (or a spot interruption takes the instance) with SIGTERM
    # and a grace period: the trainer handles it as Ctrl-C and writes a checkpoint.
    previous = signal.signal(signal.SIGTERM, interrupt_by_signal)
    try:
        run_training(paths)
    except KeyboardInterrupt:
        print("stopped: checkpoint written; a restarted job resumes from it", file=sys.stderr)
        return 143
    except DeepRacerError as exc:
        _write_failure(paths, str(exc))
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # anything else is a bug: keep the traceback for the log
        _write_failure(paths, f"{type(exc).__name__}: {exc}")
        traceback.print_exc()
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":
    sys.exit(main())
