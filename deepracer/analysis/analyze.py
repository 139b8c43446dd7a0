"""``deepracer analyze``: the log-analysis notebooks' plots as PNG files.

Works on a run directory that ``deepracer train`` wrote and on folders of console
or DeepRacer for Cloud (DRfC) logs. Files are looked for in these places (the first
place with files wins):

* training simtrace: ``training-simtrace/*-iteration.csv`` (ours, DRfC),
  ``sim-trace/training/training-simtrace/`` (console download),
  ``*/training-simtrace/`` (DRfC worker folders), ``*-iteration.csv``, then Robomaker
  logs (``*.log``, ``*.txt``, ``logs/training/*.log`` with ``SIM_TRACE_LOG`` lines);
* training metrics: ``training_metrics.json``, ``metrics/TrainingMetrics.json``,
  ``TrainingMetrics.json``;
* evaluation: the newest of ``evaluations/*/`` (``deepracer evaluate``),
  ``evaluation/*/`` (DRfC) and ``sim-trace/evaluation/*/`` (console), each with an
  ``evaluation-simtrace/`` and maybe an ``evaluation_metrics.json``; else the run's
  own ``evaluation-simtrace/``;
* ``model_metadata.json`` or ``model/model_metadata.json`` (action labels);
* ``experiment.yaml`` (the track; other folders need ``--track``).

Contents:
    LogFiles, find_logs: what a folder holds.
    analyze: write the PNGs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepracer.analysis.logs import (
    EpisodeSummary,
    Raceline,
    Simtrace,
    episodes_on_track,
    iteration_of,
    load_simtraces,
    read_action_space,
    read_evaluation_metrics,
    read_raceline,
    read_training_metrics,
    summarize_episodes,
)
from deepracer.analysis.plots import (
    EvaluationLap,
    actions_plot,
    completion_plot,
    evaluation_plot,
    iterations_plot,
    track_plot,
)
from deepracer.errors import DeepRacerError
from deepracer.runs.layout import (
    HYPERPARAMETERS,
    HYPERPARAMETERS_NAME,
    LEGACY_MODEL_METADATA,
    MODEL_METADATA,
    TRAINING_METRICS,
    RunFiles,
)
from deepracer.tracks import Track, get_track

__all__ = ["LogFiles", "analyze", "find_logs"]

_TRAINING_SIMTRACE = (
    "training-simtrace/*-iteration.csv",
    "sim-trace/training/training-simtrace/*-iteration.csv",
    "*/training-simtrace/*-iteration.csv",
    "*-iteration.csv",
)
_ROBOMAKER_LOGS = ("*.log", "*.txt", "logs/training/*.log")
_TRAINING_METRICS = (
    TRAINING_METRICS,
    "metrics/TrainingMetrics.json",
    "TrainingMetrics.json",
)
_EVALUATION_FOLDERS = (
    "evaluation-*",
    "evaluations/*",
    "evaluation/*",
    "sim-trace/evaluation/*",
)
_METADATA = (MODEL_METADATA, LEGACY_MODEL_METADATA)
_HYPERPARAMETERS = (HYPERPARAMETERS, HYPERPARAMETERS_NAME)


@dataclass(frozen=True)
class LogFiles:
    """The log files found in a run directory or log folder.

    Attributes:
        root: The folder searched.
        training_simtrace: Training simtrace files (CSV or Robomaker logs), in
            iteration order.
        training_metrics: ``training_metrics.json`` or DRfC's ``TrainingMetrics.json``.
        evaluation_simtrace: The chosen evaluation's simtrace files.
        evaluation_metrics: That evaluation's ``evaluation_metrics.json``, if any.
        model_metadata: ``model_metadata.json``, if any.
        experiment: ``experiment.yaml`` of a ``deepracer train`` run, if any.
        episodes_per_iteration: From ``hyperparameters.json``, else the simapp's 20.
    """

    root: Path
    training_simtrace: tuple[Path, ...]
    training_metrics: Path | None
    evaluation_simtrace: tuple[Path, ...]
    evaluation_metrics: Path | None
    model_metadata: Path | None
    experiment: Path | None
    episodes_per_iteration: int


def _iteration_order(paths: Sequence[Path]) -> tuple[Path, ...]:
    def key(p: Path) -> tuple[int, str]:
        n = iteration_of(p)
        return (n if n is not None else 1 << 62, str(p))

    return tuple(sorted(paths, key=key))


def _first_file(root: Path, names: Sequence[str]) -> Path | None:
    return next((root / n for n in names if (root / n).is_file()), None)


def _has_marker(path: Path) -> bool:
    marker = b"SIM_TRACE_LOG:"
    tail = b""
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            # The tail of the previous block catches a marker split between two reads.
            if marker in tail + block:
                return True
            tail = block[-len(marker) :]
    return False


def _evaluation(root: Path) -> tuple[tuple[Path, ...], Path | None]:
    """Returns the newest evaluation's simtrace files and metrics file."""
    newest: tuple[float, str, tuple[Path, ...], Path] | None = None
    for pattern in _EVALUATION_FOLDERS:
        for folder in root.glob(pattern):
            files = sorted((folder / "evaluation-simtrace").glob("*-iteration.csv"))
            if files:
                stamp = max(f.stat().st_mtime for f in files)
                if newest is None or (stamp, str(folder)) > newest[:2]:
                    newest = (stamp, str(folder), _iteration_order(files), folder)
    if newest is not None:
        metrics = newest[3] / "evaluation_metrics.json"
        return newest[2], metrics if metrics.is_file() else None
    files = sorted((root / "evaluation-simtrace").glob("*-iteration.csv"))
    metrics = root / "evaluation_metrics.json"
    return _iteration_order(files), metrics if files and metrics.is_file() else None


def _episodes_per_iteration(root: Path) -> int:
    path = _first_file(root, _HYPERPARAMETERS)
    if path is not None:
        try:
            value = json.loads(path.read_text())["num_episodes_between_training"]
            if int(value) >= 1:
                return int(value)
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return 20


def find_logs(root: str | Path) -> LogFiles:
    """Finds the log files in a run directory or console / DRfC log folder.

    Raises:
        DeepRacerError: ``root`` is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise DeepRacerError(f"{root}: not a folder (expected a run directory or log folder)")
    training: tuple[Path, ...] = ()
    for pattern in _TRAINING_SIMTRACE:
        found = [p for p in root.glob(pattern) if p.is_file()]
        if found:
            training = _iteration_order(found)
            break
    if not training:
        logs = [p for pattern in _ROBOMAKER_LOGS for p in sorted(root.glob(pattern))]
        training = tuple(p for p in logs if p.is_file() and _has_marker(p))
    evaluation, evaluation_metrics = _evaluation(root)
    experiment = RunFiles(root).experiment
    return LogFiles(
        root=root,
        training_simtrace=training,
        training_metrics=_first_file(root, _TRAINING_METRICS),
        evaluation_simtrace=evaluation,
        evaluation_metrics=evaluation_metrics,
        model_metadata=_first_file(root, _METADATA),
        experiment=experiment if experiment.is_file() else None,
        episodes_per_iteration=_episodes_per_iteration(root),
    )


def _run_track(experiment: Path) -> Track:
    """Returns the track of a run's evaluation world (else its first world)."""
    import yaml

    from deepracer.envs.world import load_world

    try:
        data = yaml.safe_load(experiment.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DeepRacerError(f"{experiment}: cannot read the experiment: {exc}") from exc
    worlds = data.get("worlds") if isinstance(data, dict) else None
    evaluation = data.get("eval") if isinstance(data, dict) else None
    name = evaluation.get("world") if isinstance(evaluation, dict) else None
    if name is None and isinstance(worlds, list) and worlds:
        name = worlds[0]
    if not isinstance(name, str):
        raise DeepRacerError(f"{experiment}: names no world (expected worlds: [NAME, ...])")
    world = load_world(name)
    return get_track(world.track, sanitize=not world.legacy_waypoints, reverse=world.reverse)


def _rows(episodes: Sequence[EpisodeSummary]) -> np.ndarray:
    if not episodes:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([np.arange(e.start, e.stop) for e in episodes])


def _resolve_track(
    track: str | Path | Track | None, logs: LogFiles, echo: Callable[[str], None]
) -> Track | None:
    if isinstance(track, Track):
        return track
    if track is not None:
        return get_track(track)
    if logs.experiment is None:
        return None
    try:
        return _run_track(logs.experiment)
    except DeepRacerError as exc:
        echo(f"warning: no track for the plots: {exc}")
        return None


def _track_png(
    path: Path,
    track: Track,
    trace: Simtrace,
    summaries: list[EpisodeSummary],
    line: Raceline | None,
    episodes: int,
    echo: Callable[[str], None],
) -> Path:
    chosen = episodes_on_track(trace, summaries, track.length)
    note = ""
    if not chosen:
        echo(
            f"warning: no episode's track_len matches {track.name} ({track.length:.2f} m);"
            " drawing them all"
        )
        chosen = summaries
    elif len(chosen) < len(summaries):
        note = f" (of the {len(chosen)} on this track)"
    chosen = chosen[-episodes:]
    title = f"{track.name}: last {len(chosen)} training episodes{note}"
    return track_plot(path, track, trace.take(_rows(chosen)), raceline=line, title=title)


def _iteration_pngs(
    out: Path, name: str, logs: LogFiles, summaries: list[EpisodeSummary]
) -> list[Path]:
    """Writes iterations.png and completion.png from the simtrace, else the metrics."""
    if summaries:
        iteration = np.array([e.iteration for e in summaries], dtype=np.int64)
        reward = np.array([e.reward for e in summaries])
        progress = np.array([e.progress for e in summaries])
        complete = np.array([e.lap_complete for e in summaries], dtype=bool)
        xlabel, source = "iteration", "training simtrace"
    elif logs.training_metrics is not None:
        rows = [m for m in read_training_metrics(logs.training_metrics) if m.phase == "training"]
        if not rows:
            return []
        per = logs.episodes_per_iteration
        # The metrics hold no iteration: DeepRacer trains after every `per` episodes.
        iteration = np.arange(len(rows), dtype=np.int64) // per
        reward = np.array([m.reward_score for m in rows])
        progress = np.array([m.completion_percentage for m in rows])
        complete = np.array([m.lap_complete for m in rows], dtype=bool)
        xlabel, source = f"iteration ({per} episodes each)", "training metrics"
    else:
        return []
    title = f"{name}: {iteration.size} training episodes ({source})"
    return [
        iterations_plot(
            out / "iterations.png", iteration, reward, progress, title=title, xlabel=xlabel
        ),
        completion_plot(out / "completion.png", iteration, complete, title=title, xlabel=xlabel),
    ]


def _evaluation_png(path: Path, name: str, logs: LogFiles, track: Track | None) -> Path:
    evaluation = load_simtraces(logs.evaluation_simtrace)
    trials = summarize_episodes(evaluation)
    laps = [
        EvaluationLap(k + 1, e.status or "?", e.progress, e.time, e.lap_complete)
        for k, e in enumerate(trials)
    ]
    if logs.evaluation_metrics is not None:
        rows = read_evaluation_metrics(logs.evaluation_metrics)
        # The metrics' times include the reset penalties as the console reports them;
        # trust them only when they describe the same trials as the simtrace.
        if len(rows) == len(trials):
            laps = [
                EvaluationLap(
                    r.trial,
                    r.episode_status,
                    r.completion_percentage,
                    r.elapsed_time_ms / 1000.0,
                    r.lap_complete,
                )
                for r in rows
            ]
    where = logs.evaluation_simtrace[0].parent
    if where.is_relative_to(logs.root):
        where = where.relative_to(logs.root)
    title = f"{name}: evaluation ({where})"
    return evaluation_plot(path, track, evaluation, laps, title=title)


def analyze(
    run_dir: str | Path,
    out_dir: str | Path | None = None,
    raceline: str | Path | None = None,
    track: str | Path | Track | None = None,
    *,
    episodes: int = 20,
    echo: Callable[[str], None] = print,
) -> list[Path]:
    """Writes the analysis PNGs of a run directory or log folder; returns their paths.

    ``track.png`` (last ``episodes`` training episodes on the track, coloured by
    commanded and actual speed, with the race line), ``iterations.png`` (reward and
    progress per iteration), ``completion.png`` (lap completion rate per iteration),
    ``actions.png`` (action usage) and ``evaluation.png`` (evaluation laps). A plot
    whose inputs are absent is skipped, and ``echo`` says so.

    Args:
        run_dir: A ``deepracer train`` run or a folder of console / DRfC logs.
        out_dir: Where the PNGs go; ``run_dir/analysis`` by default.
        raceline: A race-line CSV (header with ``x``, ``y``, optionally ``speed``);
            ``run_dir/raceline.csv`` is used when present.
        track: The track (name, route file or Track); by default the run's
            evaluation world. Log folders other than runs need it for the track plots.
        episodes: Training episodes drawn on ``track.png`` (the last ones).
        echo: Receives one line per file written or plot skipped.

    Raises:
        DeepRacerError: ``run_dir`` holds no logs, ``episodes`` < 1, or a log file,
            the race line or the track cannot be read.
    """
    if episodes < 1:
        raise DeepRacerError("--episodes must be >= 1")
    logs = find_logs(run_dir)
    if not (logs.training_simtrace or logs.training_metrics or logs.evaluation_simtrace):
        raise DeepRacerError(
            f"{logs.root}: found no logs: expected training-simtrace/*-iteration.csv,"
            " *-iteration.csv, training_metrics.json (or metrics/TrainingMetrics.json),"
            " evaluation-simtrace/ or a Robomaker log with SIM_TRACE_LOG lines"
        )
    out = Path(out_dir) if out_dir is not None else logs.root / "analysis"
    the_track = _resolve_track(track, logs, echo)
    if raceline is None and (logs.root / "raceline.csv").is_file():
        raceline = logs.root / "raceline.csv"
    line = read_raceline(raceline) if raceline is not None else None
    space = None
    if logs.model_metadata is not None:
        try:
            space = read_action_space(logs.model_metadata)
        except DeepRacerError as exc:
            echo(f"warning: actions drawn without labels: {exc}")
    name = the_track.name if the_track is not None else logs.root.name
    trace = None
    if logs.training_simtrace:
        trace = load_simtraces(
            logs.training_simtrace, episodes_per_iteration=logs.episodes_per_iteration
        )
    summaries = summarize_episodes(trace) if trace is not None else []
    written: list[Path] = []
    skipped: list[str] = []

    if trace is None or not summaries:
        skipped.append("track.png: no training simtrace")
    elif the_track is None:
        skipped.append("track.png: no track (pass --track NAME_OR_PATH)")
    else:
        written.append(
            _track_png(out / "track.png", the_track, trace, summaries, line, episodes, echo)
        )
    curves = _iteration_pngs(out, name, logs, summaries)
    written += curves
    if not curves:
        skipped += [
            f"{png}: no training simtrace or training metrics"
            for png in ("iterations.png", "completion.png")
        ]
    if trace is not None and len(trace):
        written.append(actions_plot(out / "actions.png", trace, space, title=f"{name}: training"))
    else:
        skipped.append("actions.png: no training simtrace")
    if logs.evaluation_simtrace:
        if the_track is None:
            echo("warning: evaluation.png drawn without the track (pass --track NAME_OR_PATH)")
        written.append(_evaluation_png(out / "evaluation.png", name, logs, the_track))
    else:
        skipped.append("evaluation.png: no evaluation simtrace")

    for path in written:
        echo(f"wrote {path}")
    for reason in skipped:
        echo(f"skipped {reason}")
    return written
