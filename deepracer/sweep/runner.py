"""Runs a sweep on Ray Tune: each trial a normal training run, scheduled and resumable.

Tune runs the trials (as many at once as the cluster's CPUs allow, or
``max_concurrent``), stops hopeless ones early (ASHA or the median rule on each
periodic evaluation's mean progress) and retries a trial whose process dies
(``max_failures``). Each trial trains into ``trials/<name>/`` with
:func:`deepracer.training.trainer.train`: a retry, or a rerun of the sweep, resumes that
run directory from its last checkpoint, and a trial that finished is reported again
from its files instead of being trained twice.

The trials for ``search: basic`` are drawn here, once and from ``seed`` (the grid
times ``samples`` random draws), so a rerun finds the same trials under the same
names; ``search: optuna`` lets Optuna's TPE sampler propose them, Tune keeping its
state for a rerun.

Only ``deepracer sweep`` imports this module (it needs the ``ray`` extra).

Contents:
    SweepResult: the outcome.
    run_sweep: runs (or resumes) a sweep into a directory.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ray
from ray import tune

from deepracer.errors import ConfigError, DeepRacerError
from deepracer.runs import RunFiles
from deepracer.runs.evaluations import PeriodicEvaluation, read_evaluations
from deepracer.sweep.config import SweepConfig, trial_name, trial_overrides
from deepracer.sweep.layout import SweepFiles
from deepracer.sweep.trials import SweepTrial, collect_trials, plan_trials
from deepracer.training.ray_workers import connect

__all__ = ["SweepResult", "run_sweep"]


@dataclass(frozen=True)
class SweepResult:
    """A sweep's trials, best first, and its report's paths."""

    root: Path
    trials: list[SweepTrial]
    report: Path
    plot: Path


@dataclass(frozen=True)
class _Context:
    """What every trial needs from the driver (shipped through Ray's object store)."""

    sweep: SweepConfig
    base: str
    root: str
    cwd: str


def _metrics(entry: PeriodicEvaluation, name: str) -> dict[str, Any]:
    metrics: dict[str, Any] = {
        "timesteps": entry.timesteps,
        "progress": entry.mean_progress,
        "laps": entry.laps_completed,
        "eval_trials": entry.trials,
        "steps_per_s": entry.timesteps / entry.wall_seconds if entry.wall_seconds > 0 else 0.0,
        "trial_name": name,
    }
    if entry.best_lap_time is not None:
        metrics["best_lap"] = entry.best_lap_time
    return metrics


def _run_trial(config: dict[str, Any], context: _Context) -> None:
    """Tune's trainable: trains (or resumes) one trial's run directory."""
    from deepracer.experiment import load_experiment
    from deepracer.runs.lock import is_empty_run_dir
    from deepracer.runs.reading import latest_checkpoint
    from deepracer.training.trainer import train

    if "trial" in config:
        params, index = config["trial"]["params"], config["trial"]["index"]
    else:  # a searcher's proposal: the keys themselves
        params, index = {k: v for k, v in config.items()}, None
    name = trial_name(params, index)
    if Path(context.cwd).is_dir():
        # Relative paths in the sweep (reward files, presets) mean what they meant
        # where the sweep was started; this process runs only this trial.
        os.chdir(context.cwd)
    files = SweepFiles(Path(context.root))
    run_dir = files.trial(name)
    run = RunFiles(run_dir)

    def report(entry: PeriodicEvaluation) -> None:
        tune.report(_metrics(entry, name))

    if run.summary.is_file():
        # Finished in an earlier sweep run: report what it reached, train nothing.
        for entry in read_evaluations(run.evaluations):
            report(entry)
        return
    log = files.trial_log(name).open("a", buffering=1)
    say: Callable[[str], None] = lambda line: print(line, file=log)  # noqa: E731
    try:
        if run_dir.exists() and latest_checkpoint(run_dir) is not None:
            say(f"resuming {run_dir} from its last checkpoint")
            # The evaluations it already made count for the scheduler too.
            for entry in read_evaluations(run.evaluations) if run.evaluations.is_file() else []:
                report(entry)
            train(None, run_dir, resume=True, echo=say, on_evaluation=report)
            return
        if run_dir.exists() and not is_empty_run_dir(run_dir):
            # Died before its first checkpoint: keep what it wrote, start afresh.
            aside = files.aside(name)
            run_dir.rename(aside)
            say(f"an earlier attempt died before a checkpoint; kept as {aside.name}")
        overrides = [*trial_overrides(context.sweep, params), f"name={json.dumps(name)}"]
        experiment = load_experiment(context.base, overrides)
        train(experiment, run_dir, echo=say, on_evaluation=report)
    finally:
        log.close()


def run_sweep(
    sweep: SweepConfig,
    base: Path,
    root: Path,
    *,
    address: str | None = None,
    echo: Callable[[str], None] = print,
    total_timesteps: int,
    eval_every: int,
) -> SweepResult:
    """Runs a sweep into ``root``, or resumes the one already there.

    Args:
        sweep: The sweep.
        base: The base experiment's file.
        root: The sweep directory.
        address: ``None`` starts Ray on this machine with its cores; ``auto`` or
            ``HOST:PORT`` runs the trials on a running Ray cluster (whose nodes must see
            ``root`` and the experiment's files at the same paths).
        echo: Receives the live table and the report's summary.
        total_timesteps: The trials' step budget (ASHA's last rung).
        eval_every: Steps between a trial's evaluations (the schedulers' grace period).

    Raises:
        ConfigError: ``root`` holds a different sweep.
        DeepRacerError: Ray could not start, or the search needs a missing package.
    """
    from deepracer.sweep.report import write_report

    files = SweepFiles(root.resolve())
    _claim(files, sweep)
    planned = plan_trials(sweep) if sweep.search == "basic" else []
    # Trials read relative paths from the directory the sweep was started in.
    started_ray = connect(address, field="--address", env_vars={"RAY_CHDIR_TO_TRIAL_DIR": "0"})
    try:
        trainable = tune.with_resources(
            tune.with_parameters(
                _run_trial,
                context=_Context(
                    sweep=sweep, base=str(base.resolve()), root=str(files.root), cwd=os.getcwd()
                ),
            ),
            {"cpu": sweep.cpus_per_trial},
        )
        param_space, search_alg = _search(sweep, planned)
        table = _LiveTable(echo, planned)
        tune_config = tune.TuneConfig(
            metric="progress",
            mode="max",
            scheduler=_scheduler(sweep, total_timesteps, eval_every),
            search_alg=search_alg,
            num_samples=sweep.samples if sweep.search == "optuna" else 1,
            max_concurrent_trials=sweep.max_concurrent,
            trial_dirname_creator=lambda trial: trial.trial_id,
        )
        run_config = tune.RunConfig(
            name=files.tune.name,
            storage_path=str(files.root),
            failure_config=tune.FailureConfig(max_failures=sweep.max_failures),
            callbacks=[table],
            verbose=0,
        )
        if tune.Tuner.can_restore(str(files.tune)):
            echo(f"resuming the sweep in {files.root} (finished trials are not trained again)")
            tuner = tune.Tuner.restore(
                str(files.tune),
                trainable,
                resume_unfinished=True,
                resume_errored=True,
                param_space=param_space,
            )
        else:
            tuner = tune.Tuner(
                trainable, param_space=param_space, tune_config=tune_config, run_config=run_config
            )
        grid = tuner.fit()
        statuses = {}
        for i in range(len(grid)):
            result = grid[i]
            config = result.config or {}
            if "trial" in config:
                key = trial_name(config["trial"]["params"], config["trial"]["index"])
                params = config["trial"]["params"]
            else:
                params = dict(config)
                key = trial_name(params)
            statuses[key] = (params, result.error)
        table.flush(force=True)
    finally:
        if started_ray:
            ray.shutdown()
    trials = collect_trials(files, statuses)
    write_report(files, sweep, trials)
    return SweepResult(root=files.root, trials=trials, report=files.report, plot=files.plot)


def _claim(files: SweepFiles, sweep: SweepConfig) -> None:
    """Writes the sweep's copy, or checks that a rerun is the same sweep."""
    from deepracer.config.loader import to_mapping
    from deepracer.io import atomic_write_text

    text = json.dumps(to_mapping(sweep), sort_keys=True, indent=2) + "\n"
    if files.sweep.is_file():
        if files.sweep.read_text() != text:
            raise ConfigError(
                f"{files.sweep}: {files.root} holds a different sweep; rerun it with the same"
                " file, or give another --out"
            )
        return
    files.trials.mkdir(parents=True, exist_ok=True)
    atomic_write_text(files.sweep, text)


def _search(sweep: SweepConfig, planned: list[dict[str, Any]]) -> tuple[dict[str, Any], Any]:
    if sweep.search == "basic":
        return {"trial": tune.grid_search(planned)}, None
    try:
        from ray.tune.search.optuna import OptunaSearch
    except ImportError as exc:
        raise DeepRacerError(
            f"search: optuna needs Optuna ({exc}): pip install 'deepracer[ray]'"
        ) from None
    space: dict[str, Any] = {}
    for key, dist in sweep.random.items():
        kind, value = dist.kind()
        space[key] = {
            "uniform": lambda v: tune.uniform(v[0], v[1]),
            "loguniform": lambda v: tune.loguniform(v[0], v[1]),
            "randint": lambda v: tune.randint(v[0], v[1]),
            "choice": lambda v: tune.choice(list(v)),
        }[kind](value)
    searcher = OptunaSearch(metric="progress", mode="max", seed=sweep.seed)
    return space, searcher


def _scheduler(sweep: SweepConfig, total_timesteps: int, eval_every: int) -> Any:
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, MedianStoppingRule

    grace = sweep.grace_evaluations * eval_every
    if sweep.scheduler == "asha":
        return ASHAScheduler(
            time_attr="timesteps",
            # Beyond the budget: a trial that reaches it finishes its own final files.
            max_t=total_timesteps + max(grace, 1),
            grace_period=grace,
            reduction_factor=2,
        )
    if sweep.scheduler == "median":
        return MedianStoppingRule(time_attr="timesteps", grace_period=grace, min_samples_required=2)
    return FIFOScheduler()


class _LiveTable(tune.Callback):
    """A Tune callback that prints the trials' table as results come in (every 10 s)."""

    def __init__(self, echo: Callable[[str], None], planned: list[dict[str, Any]]) -> None:
        self.echo = echo
        self.rows: dict[str, dict[str, Any]] = {p["name"]: {"status": "PENDING"} for p in planned}
        self.last = 0.0
        self.changed = False

    def _row(self, trial: Any) -> dict[str, Any]:
        config = trial.config or {}
        if "trial" in config:
            name = trial_name(config["trial"]["params"], config["trial"]["index"])
        else:
            name = trial_name(dict(config))
        return self.rows.setdefault(name, {"status": "PENDING"})

    def on_trial_result(
        self, iteration: int, trials: list[Any], trial: Any, result: dict[str, Any], **info: Any
    ) -> None:
        row = self._row(trial)
        row.update(
            {
                k: result.get(k)
                for k in ("timesteps", "progress", "best_lap", "steps_per_s", "laps", "eval_trials")
            }
        )
        row["best_progress"] = max(row.get("best_progress") or 0.0, result.get("progress") or 0.0)
        if result.get("best_lap") is not None:
            row["fastest"] = min(row.get("fastest") or math.inf, result["best_lap"])
        self.changed = True

    def on_step_end(self, iteration: int, trials: list[Any], **info: Any) -> None:
        for trial in trials:
            row = self._row(trial)
            if row.get("status") != trial.status:
                row["status"] = trial.status
                self.changed = True
        self.flush()

    def flush(self, force: bool = False) -> None:
        """Prints the table if something changed and 10 s passed (or ``force``)."""
        now = time.monotonic()
        if not self.changed or (not force and now - self.last < 10.0):
            return
        self.last, self.changed = now, False
        from deepracer.tables import format_table

        header = ["trial", "status", "steps", "progress %", "best %", "best lap s", "steps/s"]
        rows = []
        for name, row in sorted(self.rows.items()):
            fastest = row.get("fastest")
            rows.append(
                [
                    name,
                    str(row.get("status", "")),
                    f"{row['timesteps']:,}" if row.get("timesteps") is not None else "",
                    f"{row['progress']:.1f}" if row.get("progress") is not None else "",
                    f"{row['best_progress']:.1f}" if row.get("best_progress") is not None else "",
                    f"{fastest:.2f}" if fastest is not None and fastest != math.inf else "",
                    f"{row['steps_per_s']:.0f}" if row.get("steps_per_s") is not None else "",
                ]
            )
        self.echo(format_table(header, rows, right={2, 3, 4, 5, 6}))
