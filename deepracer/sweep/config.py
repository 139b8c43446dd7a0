"""Sweep files (``SWEEP.yaml``): a base experiment and the values to vary.

Example::

    experiment: quickstart          # the base experiment (a name or a path)
    set:                            # fixed for every trial
      train.total_timesteps: 20000
    grid:                           # every combination
      reward: [centerline, speed_progress, waypoint_direction, steering_penalty]
    random:                         # drawn per trial (samples draws of the grid)
      train.seed: {randint: [0, 1000]}
    samples: 1
    scheduler: asha                 # stop hopeless trials on evaluation progress

Keys are experiment keys as ``--set`` takes them (``reward``, ``train.seed``,
``env.episode.max_steps``...): every value of the grid, and both ends of every range,
are checked against the experiment schema before anything starts.

Contents:
    Distribution, SweepConfig: the schema.
    find_sweep, load_sweep: a path or shipped name to a file; a file to a SweepConfig.
    trial_overrides, trial_name: a trial's ``--set`` strings and its run directory name.
    grid_points: every combination of the grid.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from deepracer.config.checks import at_least, optional, positive
from deepracer.config.loader import from_mapping, load_yaml
from deepracer.config.resources import data_dir, resolve
from deepracer.errors import ConfigError, suggest
from deepracer.experiment import ExperimentConfig, load_experiment

__all__ = [
    "Distribution",
    "SweepConfig",
    "find_sweep",
    "grid_points",
    "load_sweep",
    "trial_name",
    "trial_overrides",
]


@dataclass(frozen=True, kw_only=True)
class Distribution:
    """One randomly drawn key: exactly one of the fields."""

    uniform: tuple[float, float] | None = None
    """A float drawn uniformly in [low, high]."""
    loguniform: tuple[float, float] | None = None
    """A float drawn uniformly in log space in [low, high] (learning rates)."""
    randint: tuple[int, int] | None = None
    """An integer in [low, high) (seeds)."""
    choice: tuple[Any, ...] | None = None
    """One of the values."""

    def kind(self) -> tuple[str, Any]:
        """The one field set and its value."""
        (only,) = [(k, v) for k, v in vars(self).items() if v is not None]
        return only

    def ends(self) -> list[Any]:
        """Values that must each make a valid experiment (the range's ends, the choices)."""
        kind, value = self.kind()
        if kind == "randint":
            return [value[0], value[1] - 1]
        return list(value)


@dataclass(frozen=True, kw_only=True)
class SweepConfig:
    """A sweep: a base experiment, the values to vary, how to search and schedule."""

    name: str = ""
    """Sweep name (defaults to the file stem); the default output is sweeps/<name>."""
    description: str = ""
    """One line for the report."""
    experiment: str = ""
    """The base experiment: a name in experiments/ or a path."""
    set: dict[str, Any] = field(default_factory=dict)
    """Experiment keys fixed for every trial (``section.key: value``)."""
    grid: dict[str, list[Any]] = field(default_factory=dict)
    """Experiment keys and their values: one trial per combination."""
    random: dict[str, Distribution] = field(default_factory=dict)
    """Experiment keys drawn per trial (uniform, loguniform, randint, choice)."""
    samples: int = field(default=1, metadata={"check": positive})
    """Trials per grid point (each with fresh random draws); with ``search: optuna``
    the number of trials in all."""
    search: Literal["basic", "optuna"] = "basic"
    """``basic``: the grid times random draws; ``optuna``: Optuna's TPE sampler over
    ``random`` (no grid), a budgeted search of ``samples`` trials."""
    scheduler: Literal["asha", "median", "none"] = "asha"
    """Early stopping on evaluation progress: ASHA, the median rule, or none."""
    grace_evaluations: int = field(default=2, metadata={"check": positive})
    """Periodic evaluations every trial gets before the scheduler may stop it."""
    max_concurrent: int | None = field(default=None, metadata={"check": optional(positive)})
    """Trials at once; default: the cluster's CPUs / cpus_per_trial."""
    cpus_per_trial: float = field(default=1.0, metadata={"check": positive})
    """CPUs each trial reserves."""
    max_failures: int = field(default=1, metadata={"check": at_least(0)})
    """Retries of a trial whose process dies; each retry resumes its run directory."""
    seed: int = 0
    """Seeds the random draws and Optuna's sampler."""


def find_sweep(name: str | Path) -> Path:
    """A sweep file: an existing path, or the name of one shipped in experiments/sweeps/.

    Raises:
        ConfigError: Neither; the message lists the shipped sweeps.
    """
    path = Path(name).expanduser()
    if path.is_file():
        return path
    folder = data_dir("experiments") / "sweeps"
    shipped = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
    if path.parent == Path(".") and path.stem in shipped:
        return folder / f"{path.stem}.yaml"
    raise ConfigError(
        f"{name}: no such sweep file, and no shipped sweep of that name."
        f"{suggest(path.stem, shipped)} Shipped sweeps: {', '.join(shipped) or '(none)'}"
    )


def load_sweep(path: str | Path) -> tuple[SweepConfig, ExperimentConfig]:
    """Reads and checks a sweep file, and its base experiment with every value.

    Returns:
        The sweep, its name set, and the base experiment with the fixed ``set`` keys.

    Raises:
        ConfigError: The file, a key or a value is invalid; the message names the file
            and the field.
    """
    source = find_sweep(path)
    data = load_yaml(source)
    if not data:
        raise ConfigError(f"{source}: the sweep file is empty; it names at least its experiment")
    data.setdefault("name", source.stem)
    sweep = from_mapping(SweepConfig, data, source=str(source))
    if not sweep.experiment:
        raise ConfigError(f"{source}: experiment: give the base experiment (a name or a path)")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", sweep.name):
        raise ConfigError(
            f"{source}: name: {sweep.name!r} is not a plain name (letters, digits, . _ -)"
        )
    for key, values in sweep.grid.items():
        if not values:
            raise ConfigError(f"{source}: grid.{key}: give at least one value")
    _check_random(source, sweep)
    both = sorted(set(sweep.grid) & set(sweep.random))
    if both:
        raise ConfigError(f"{source}: {', '.join(both)}: in both grid and random; keep one")
    if sweep.search == "optuna" and sweep.grid:
        raise ConfigError(
            f"{source}: grid: search optuna draws every key; move the grid keys to random as choice"
        )
    if not sweep.grid and not sweep.random:
        raise ConfigError(f"{source}: nothing varies: give grid or random keys")
    base_path = resolve("experiments", sweep.experiment)
    fixed = [_override(k, v) for k, v in sweep.set.items()]
    try:
        base = load_experiment(base_path, fixed)
        _check_files(base)
        # Every value on its own, and every end of every range, must make an experiment.
        for key, values in [*sweep.grid.items(), *((k, d.ends()) for k, d in sweep.random.items())]:
            for value in values:
                _check_files(load_experiment(base_path, [*fixed, _override(key, value)]))
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return sweep, base


def _check_random(source: Path, sweep: SweepConfig) -> None:
    """Each random key has exactly one distribution, with a usable range."""
    for key, dist in sweep.random.items():
        fields = [k for k, v in vars(dist).items() if v is not None]
        if len(fields) != 1:
            raise ConfigError(
                f"{source}: random.{key}: give exactly one of uniform, loguniform, randint,"
                f" choice (got {', '.join(fields) or 'none'})"
            )
        kind, value = dist.kind()
        if kind in ("uniform", "loguniform", "randint") and not value[0] < value[1]:
            raise ConfigError(
                f"{source}: random.{key}.{kind}: expected [low, high] with low < high"
            )
        if kind == "loguniform" and value[0] <= 0:
            raise ConfigError(f"{source}: random.{key}.loguniform: the low end must be above 0")
        if kind == "choice" and not value:
            raise ConfigError(f"{source}: random.{key}.choice: give at least one value")


def _check_files(experiment: ExperimentConfig) -> None:
    """The files a trial reads exist (found now, not minutes into the sweep)."""
    resolve("rewards", experiment.reward)
    resolve("presets", experiment.preset)
    resolve("actions", experiment.action_space)


def _override(key: str, value: Any) -> str:
    # JSON is YAML: the experiment loader parses the value back to the same thing.
    return f"{key}={json.dumps(value)}"


def trial_overrides(sweep: SweepConfig, params: dict[str, Any]) -> list[str]:
    """The ``--set`` strings of one trial: the fixed keys, then its own values."""
    return [_override(k, v) for k, v in [*sweep.set.items(), *sorted(params.items())]]


def trial_name(params: dict[str, Any], index: int | None = None) -> str:
    """A trial's run directory name: readable, and the same for the same values.

    The values (and, for repeated grid points, the sample index) in a short slug,
    then a hash of them all, so two trials never share a directory and a rerun of the
    sweep finds each trial's directory again.
    """
    text = json.dumps({"params": params, "index": index}, sort_keys=True)
    digest = hashlib.sha1(text.encode()).hexdigest()[:8]
    parts = [f"{k.rsplit('.', 1)[-1]}={_short(v)}" for k, v in sorted(params.items())]
    slug = re.sub(r"[^A-Za-z0-9._=,-]+", "_", ",".join(parts))[:60].strip("_") or "trial"
    return f"{slug}-{digest}"


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, str):
        return Path(value).stem if "/" in value else value
    return json.dumps(value)


def grid_points(sweep: SweepConfig) -> list[dict[str, Any]]:
    """Every combination of the grid's values (one empty point without a grid)."""
    keys = sorted(sweep.grid)
    return [
        dict(zip(keys, combo, strict=True))
        for combo in itertools.product(*(sweep.grid[k] for k in keys))
    ]
