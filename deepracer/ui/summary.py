"""One line of the runs list per run, built from the run's small files and cached.

A summary is rebuilt only when one of the files it reads changes (their stats are its
cache key), so the list of 50 runs costs a few hundred ``stat`` calls once they are
known. Every file that cannot be read becomes a warning of that run, never an error of
the page.

Contents:
    RunSummary: what the list shows of one run.
    SummaryCache: summaries by run, rebuilt when their files change.
    read_yaml_mapping, read_json: the small files, read without raising.
"""

from __future__ import annotations

import json
import math
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from deepracer.runs.evaluations import read_evaluations
from deepracer.runs.layout import EVALUATION_METRICS, RACELINE_COMPARISON, RunFiles
from deepracer.runs.lock import LOCK_FILE, lock_holder
from deepracer.runs.progress import read_progress
from deepracer.trust import run_is_trusted
from deepracer.ui.catalog import OutsideRun, inside

__all__ = [
    "RunSummary",
    "SummaryCache",
    "evaluation_folders",
    "raceline_lap",
    "read_json",
    "read_yaml_mapping",
]

PLUGIN_METRICS = "metrics.json"
PLUGIN_REPORT = "report.md"


@dataclass
class RunSummary:
    """What the runs list shows of one run (``None``: not known for this run)."""

    name: str
    kind: str
    status: str
    world: str | None = None
    observation: str | None = None
    algorithm: str | None = None
    steps: int | None = None
    total_steps: int | None = None
    episodes: int | None = None
    best_progress: float | None = None
    best_lap: float | None = None
    raceline_lap: float | None = None
    lap_ratio: float | None = None
    updated: float = 0.0
    trusted: bool = False
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The summary as the API sends it."""
        return asdict(self)


def read_json(run: Path, path: Path, warnings: list[str]) -> Any:
    """A JSON file of ``run``; None if missing, None and a warning if bad or linked out."""
    try:
        return json.loads(inside(run, path).read_bytes())
    except FileNotFoundError:
        return None
    except OutsideRun as exc:
        warnings.append(str(exc))
        return None
    except (OSError, ValueError) as exc:
        warnings.append(f"{path.name}: cannot read it as JSON ({_short(exc)})")
        return None


def read_yaml_mapping(run: Path, path: Path, warnings: list[str]) -> dict[str, Any]:
    """A YAML file of ``run``: its top-level mapping (``yaml.safe_load``).

    Empty if missing; empty and a warning if bad or linked out of the run.
    """
    try:
        data = yaml.safe_load(inside(run, path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except OutsideRun as exc:
        warnings.append(str(exc))
        return {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        warnings.append(f"{path.name}: cannot read it as YAML ({_short(exc)})")
        return {}
    if not isinstance(data, dict):
        warnings.append(f"{path.name}: expected a mapping at the top")
        return {}
    return data


def evaluation_folders(run: Path) -> list[Path]:
    """The run's ``evaluation-<stamp>`` folders, oldest first (none if unreadable)."""
    try:
        return RunFiles(run).evaluation_folders()
    except OSError:
        return []


def _short(exc: BaseException) -> str:
    text = str(exc).replace("\n", " ")
    return text if len(text) <= 200 else text[:197] + "..."


def _stat_key(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


class SummaryCache:
    """Summaries of runs, rebuilt when a file they read changes.

    Args:
        readers: Gives the shared :class:`MetricsReader` of a run folder.
    """

    def __init__(self, readers: Any) -> None:
        self._readers = readers
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[tuple[Any, ...], RunSummary]] = {}

    def summary(self, name: str, run: Path) -> RunSummary:
        """The run's summary (status is checked on every call: a lock can go any time)."""
        files = RunFiles(run)
        watched = (
            files.experiment,
            files.preset,
            files.progress,
            files.evaluations,
            files.summary,
            files.imported,
            files.training_metrics,
            run / PLUGIN_METRICS,
            files.checkpoints / "latest.json",
        )
        folders = evaluation_folders(run)
        key = (
            str(run),
            *(_stat_key(p) for p in watched),
            *(_stat_key(f / EVALUATION_METRICS) for f in folders),
            *(_stat_key(f / RACELINE_COMPARISON) for f in folders),
        )
        with self._lock:
            cached = self._cache.get(name)
        if cached is None or cached[0] != key:
            summary = self._build(name, run, folders)
            with self._lock:
                self._cache[name] = (key, summary)
        else:
            summary = cached[1]
        summary.status = _status(run, summary)
        return summary

    def _build(self, name: str, run: Path, folders: list[Path]) -> RunSummary:
        files = RunFiles(run)
        warnings: list[str] = []
        experiment = read_yaml_mapping(run, files.experiment, warnings)
        kind = (
            "plugin"
            if "plugin" in experiment
            else "imported"
            if files.imported.is_file()
            else "trained"
            if files.is_run()
            else "logs"
        )
        summary = RunSummary(name=name, kind=kind, status="")
        summary.trusted = run_is_trusted(run)
        if kind == "plugin":
            summary.algorithm = str(experiment.get("plugin"))
            summary.updated = _mtime(run / PLUGIN_METRICS, files.experiment)
            if (run / PLUGIN_METRICS).is_file():
                read_json(run, run / PLUGIN_METRICS, warnings)
            summary.warnings = warnings
            return summary
        worlds = experiment.get("worlds")
        if isinstance(worlds, list) and worlds:
            summary.world = _world_label(worlds[0])
            if len(worlds) > 1:
                summary.world += f" +{len(worlds) - 1}"
        observation = experiment.get("observation")
        if isinstance(observation, list):
            summary.observation = "+".join(str(o) for o in observation)
        elif observation is not None:
            summary.observation = str(observation)
        preset = read_yaml_mapping(run, files.preset, warnings)
        algorithm = preset.get("algorithm") or _imported_algorithm(files, warnings)
        summary.algorithm = str(algorithm) if algorithm else None
        train = experiment.get("train")
        if isinstance(train, dict) and isinstance(train.get("total_timesteps"), int):
            summary.total_steps = int(train["total_timesteps"])
        try:
            progress = read_progress(inside(run, files.progress))
        except Exception as exc:  # any damage: a warning, the rest still shows
            warnings.append(_short(exc))
            progress = None
        if progress is not None:
            summary.steps = progress.timesteps
            summary.total_steps = progress.total_timesteps
            summary.episodes = progress.episodes
        reader = self._readers(run)
        evaluation_rows: list[tuple[int, float, float, str]] = []
        if files.training_metrics.is_file():
            episodes = reader.read()
            warnings.extend(reader.warnings)
            evaluation_rows = episodes.evaluations
            if summary.episodes is None or len(episodes) > summary.episodes:
                summary.episodes = len(episodes)
        self._evaluations(files, folders, summary, warnings)
        if summary.best_progress is None and evaluation_rows:
            # A console or DRfC log folder: its periodic evaluations are metrics rows.
            summary.best_progress = max(row[1] for row in evaluation_rows)
            laps = [row[2] for row in evaluation_rows if row[3] == "Lap complete"]
            if summary.best_lap is not None:
                laps.append(summary.best_lap)
            summary.best_lap = min(laps, default=None)
        summary.raceline_lap = raceline_lap(run, warnings)
        if summary.best_lap is not None and summary.raceline_lap:
            summary.lap_ratio = summary.best_lap / summary.raceline_lap
        summary.updated = _mtime(
            files.training_metrics, files.progress, files.evaluations, files.experiment,
            files.imported, *folders,
        )  # fmt: skip
        summary.warnings = warnings
        return summary

    def _evaluations(
        self, files: RunFiles, folders: list[Path], summary: RunSummary, warnings: list[str]
    ) -> None:
        if files.evaluations.is_file():
            try:
                evaluations = read_evaluations(inside(files.root, files.evaluations))
            except Exception as exc:  # damaged: a warning, the rest still shows
                warnings.append(_short(exc))
                evaluations = []
            if evaluations:
                summary.best_progress = max(e.mean_progress for e in evaluations)
                laps = [e.best_lap_time for e in evaluations if e.best_lap_time is not None]
                summary.best_lap = min(laps) if laps else None
        final = read_json(files.root, files.summary, warnings)
        trials = final.get("trials") if isinstance(final, dict) else None
        for trial in trials if isinstance(trials, list) else []:
            lap = trial.get("lap_time") if isinstance(trial, dict) else None
            if isinstance(lap, int | float) and lap > 0:
                summary.best_lap = lap if summary.best_lap is None else min(summary.best_lap, lap)
        for folder in folders:
            rows = read_json(files.root, folder / EVALUATION_METRICS, warnings)
            rows = rows.get("metrics") if isinstance(rows, dict) else None
            for row in rows if isinstance(rows, list) else []:
                if not isinstance(row, dict):
                    continue
                progress = row.get("completion_percentage")
                if isinstance(progress, int | float):
                    best = summary.best_progress
                    summary.best_progress = max(best, progress) if best is not None else progress
                elapsed = row.get("elapsed_time_in_milliseconds")
                if row.get("episode_status") == "Lap complete" and isinstance(elapsed, int | float):
                    lap = elapsed / 1000.0
                    best_lap = summary.best_lap
                    summary.best_lap = lap if best_lap is None else min(best_lap, lap)


def raceline_lap(run: Path, warnings: list[str]) -> float | None:
    """The race line's standing-start lap of the newest evaluation compared with it."""
    for folder in reversed(evaluation_folders(run)):
        comparison = read_json(run, folder / RACELINE_COMPARISON, warnings)
        line = comparison.get("raceline") if isinstance(comparison, dict) else None
        lap = line.get("standing_lap_time") if isinstance(line, dict) else None
        if isinstance(lap, int | float) and math.isfinite(lap) and lap > 0:
            return float(lap)
    return None


def _world_label(world: Any) -> str:
    text = str(world)
    # An imported run names its world file by absolute path: the stem says enough.
    return Path(text).stem if text.endswith((".yaml", ".yml")) else text


def _imported_algorithm(files: RunFiles, warnings: list[str]) -> str | None:
    data = read_json(files.root, files.imported, warnings) if files.imported.is_file() else None
    value = data.get("algorithm") if isinstance(data, dict) else None
    return str(value) if value else None


def _mtime(*paths: Path) -> float:
    times = []
    for path in paths:
        try:
            times.append(os.stat(path).st_mtime)
        except OSError:
            continue
    return max(times, default=0.0)


def _status(run: Path, summary: RunSummary) -> str:
    """Training (a process holds the lock), finished, stopped, crashed, imported or done."""
    files = RunFiles(run)
    if (run / LOCK_FILE).is_file() and lock_holder(run) is not None:
        return "training"
    if summary.kind == "plugin":
        return "done" if (run / PLUGIN_METRICS).is_file() else "crashed"
    if summary.kind in ("imported", "logs"):
        return summary.kind if summary.kind == "imported" else "finished"
    try:
        progress = read_progress(inside(run, files.progress))
    except Exception:  # already a warning of the summary
        progress = None
    if progress is not None:
        return {"finished": "finished", "training": "crashed"}.get(progress.state, "stopped")
    # Runs from before progress.json: the final summary is written last.
    return "finished" if files.summary.is_file() else "crashed"
