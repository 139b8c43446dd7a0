"""What the run page draws: the track, trajectories, action usage, trials, camera frames.

Everything comes from the run's files: the world it names (a shipped world by name,
or the run's own ``world.yaml``; a world file elsewhere on disk is not read, so a
downloaded run cannot point the server at files outside the runs folder), its
simtrace files, ``model/model_metadata.json`` and its evaluation folders. A camera
frame is rendered by our camera from a trial's simtrace pose: what the policy saw,
up to the lighting and noise of that episode.

Contents:
    RunWorld, run_world: the world a run drives in, safely resolved.
    track_view: borders, centre line and race line of a run's track.
    trajectories: the latest training episodes' paths and speeds.
    action_usage: how often each action was taken in the latest iterations.
    trial_tables: each evaluation folder's trials with the console's columns.
    TrialPoses, trial_poses: one evaluation trial's poses, for the camera player.
    FrameRenderer: PNG camera frames of trial poses, with the world's camera cached.
"""

from __future__ import annotations

import io
import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deepracer.analysis.logs import (
    Simtrace,
    actual_speed,
    load_simtrace,
    read_action_space,
    read_raceline,
    summarize_episodes,
)
from deepracer.errors import DeepRacerError
from deepracer.runs.layout import EVALUATION_METRICS, EVALUATION_SIMTRACE, RunFiles
from deepracer.ui.catalog import inside
from deepracer.ui.summary import evaluation_folders, raceline_lap, read_json, read_yaml_mapping

__all__ = [
    "FrameRenderer",
    "RunWorld",
    "TrialPoses",
    "action_usage",
    "run_world",
    "track_view",
    "trajectories",
    "trial_poses",
    "trial_tables",
]

_PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
"""A world or track named, not pathed: resolved among the shipped ones."""
_MAX_SAMPLES = 20_000
"""Continuous actions sent for the 2-D histogram, at most."""


class NotAvailable(DeepRacerError):
    """The run lacks what a view needs (no world, no simtrace, no such trial)."""


@dataclass(frozen=True)
class RunWorld:
    """The world a run drives in.

    Attributes:
        spec: What :func:`deepracer.envs.world.load_world` is given (a name or the
            run's own ``world.yaml``).
        config: The loaded world.
    """

    spec: str
    config: Any


def run_world(run: Path) -> RunWorld:
    """The world of a run's evaluation (else its first training world).

    Raises:
        NotAvailable: The run names no world, or one that is a file outside the run.
    """
    from deepracer.envs.world import load_world

    files = RunFiles(run)
    experiment = read_yaml_mapping(run, files.experiment, [])
    evaluation = experiment.get("eval")
    worlds = experiment.get("worlds")
    named = evaluation.get("world") if isinstance(evaluation, dict) else None
    if not named and isinstance(worlds, list) and worlds:
        named = worlds[0]
    if not isinstance(named, str) or not named:
        raise NotAvailable(f"{files.experiment.name}: names no world")
    if _PLAIN_NAME.match(named) and not named.endswith((".yaml", ".yml", ".npy")):
        spec = named
    elif files.imported_world.is_file() and Path(named).name == files.imported_world.name:
        spec = str(inside(run, files.imported_world))
    else:
        raise NotAvailable(
            f"{files.experiment.name}: world {named!r} is a file outside the run; the"
            " dashboard reads only shipped worlds and the run's own world.yaml"
        )
    try:
        return RunWorld(spec, load_world(spec))
    except DeepRacerError as exc:
        raise NotAvailable(str(exc)) from None


def _points(array: Any) -> list[list[float]]:
    return np.round(np.asarray(array, dtype=np.float64), 4).tolist()  # type: ignore[no-any-return]


def track_view(run: Path) -> dict[str, Any]:
    """The run's track: centre, borders and race line (``raceline.csv`` if it has one)."""
    from deepracer.tracks import get_track

    world = run_world(run).config
    track = get_track(world.track, sanitize=not world.legacy_waypoints, reverse=world.reverse)
    files = RunFiles(run)
    line: list[list[float]] | None = None
    if files.raceline.is_file():
        try:
            raceline = read_raceline(inside(run, files.raceline))
            line = _points(np.column_stack([raceline.x, raceline.y]))
        except DeepRacerError:
            line = None
    lap = raceline_lap(run, [])
    return {
        "track": track.name,
        "center": _points(track.center.points),
        "inner": _points(track.inner.points),
        "outer": _points(track.outer.points),
        "raceline": line,
        "raceline_lap": lap,
    }


def _latest_simtraces(run: Path, limit: int) -> list[Path]:
    """The newest training simtrace files (each worker's), newest first, at most ``limit``."""
    files = RunFiles(run)
    folders = [files.simtrace_folder(0, 1)]
    folders += sorted(p / "training-simtrace" for p in run.iterdir() if p.name.isdigit())
    found: list[tuple[int, Path]] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in folder.glob("*-iteration.csv"):
            head = path.name.split("-", 1)[0]
            if head.isdigit():
                found.append((int(head), path))
    found.sort(key=lambda item: (item[0], str(item[1])), reverse=True)
    return [path for _, path in found[:limit]]


def _load(run: Path, path: Path, warnings: list[str]) -> Simtrace | None:
    try:
        return load_simtrace(inside(run, path))
    except DeepRacerError as exc:
        warnings.append(f"{path.parent.name}/{path.name}: {exc}")
        return None


def trajectories(run: Path, episodes: int) -> dict[str, Any]:
    """The last ``episodes`` training episodes: path, actual speed, progress, status."""
    warnings: list[str] = []
    found: list[dict[str, Any]] = []
    sources: list[str] = []
    for path in _latest_simtraces(run, 8):
        trace = _load(run, path, warnings)
        if trace is None or not len(trace):
            continue
        speed = actual_speed(trace)
        summaries = summarize_episodes(trace)
        sources.append(str(path.relative_to(run)))
        for summary in reversed(summaries):
            rows = slice(summary.start, summary.stop)
            found.append(
                {
                    "episode": summary.episode,
                    "x": np.round(trace.X[rows], 3).tolist(),
                    "y": np.round(trace.Y[rows], 3).tolist(),
                    "speed": np.round(np.nan_to_num(speed[rows]), 3).tolist(),
                    "progress": round(summary.progress, 2),
                    "status": summary.status,
                }
            )
            if len(found) >= episodes:
                break
        if len(found) >= episodes:
            break
    found.reverse()
    top = max((max(e["speed"], default=0.0) for e in found), default=0.0)
    return {
        "source": _sources(sources),
        "speed_max": float(top) or 1.0,
        "episodes": found,
        "warnings": warnings,
    }


def _sources(newest_first: list[str]) -> str | None:
    if len(newest_first) <= 2:
        return ", ".join(reversed(newest_first)) or None
    return f"{newest_first[0]} and {len(newest_first) - 1} files before it"


def action_usage(run: Path) -> dict[str, Any]:
    """Actions taken in the latest (up to 4) simtrace files, by index or as samples."""
    files = RunFiles(run)
    warnings: list[str] = []
    try:
        space = read_action_space(inside(run, files.model_metadata))
    except DeepRacerError as exc:
        raise NotAvailable(str(exc)) from None
    traces = [t for p in _latest_simtraces(run, 4) if (t := _load(run, p, warnings)) is not None]
    moving = [t.take(t.episode_status != "prepare") for t in traces]
    if space.kind == "discrete":
        counts = np.zeros(len(space.actions), dtype=np.int64)
        for trace in moving:
            valid = trace.action[(trace.action >= 0) & (trace.action < len(counts))]
            counts += np.bincount(valid, minlength=len(counts))
        actions = [
            {"index": i, "steering_angle": steer, "speed": speed, "count": int(counts[i])}
            for i, (steer, speed) in enumerate(space.actions)
        ]
        return {
            "continuous": False,
            "total": int(counts.sum()),
            "actions": actions,
            "steering": [],
            "speed": [],
            "warnings": warnings,
        }
    steering = np.concatenate([t.steer for t in moving]) if moving else np.zeros(0)
    speed = np.concatenate([t.throttle for t in moving]) if moving else np.zeros(0)
    step = max(1, math.ceil(len(steering) / _MAX_SAMPLES))
    return {
        "continuous": True,
        "total": len(steering),
        "actions": [],
        "steering": np.round(steering[::step], 2).tolist(),
        "speed": np.round(speed[::step], 3).tolist(),
        "warnings": warnings,
    }


def _trial_simtrace(folder: Path) -> Path:
    return folder / EVALUATION_SIMTRACE / "0-iteration.csv"


def _by_trial(trace: Simtrace) -> list[tuple[int, int]]:
    """Row ranges of the trials of an evaluation simtrace, in order."""
    return [(s.start, s.stop) for s in summarize_episodes(trace)]


def trial_tables(run: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Each evaluation folder (newest first) with its trials in the console's columns.

    ``evaluation_metrics.json`` gives the rows where a folder has one; a folder the
    trainer wrote has only its simtrace, whose episodes give them.
    """
    warnings: list[str] = []
    tables = []
    for folder in reversed(evaluation_folders(run)):
        simtrace = _trial_simtrace(folder)
        trace = _load(run, simtrace, warnings) if simtrace.is_file() else None
        frames = [stop - start for start, stop in _by_trial(trace)] if trace else []
        metrics = read_json(run, folder / EVALUATION_METRICS, warnings)
        rows = metrics.get("metrics") if isinstance(metrics, dict) else None
        trials: list[dict[str, Any]] = []
        if isinstance(rows, list):
            for i, row in enumerate(r for r in rows if isinstance(r, dict)):
                trials.append(_console_row(i, row, frames))
        elif trace is not None:
            for i, summary in enumerate(summarize_episodes(trace)):
                trials.append(
                    {
                        "trial": i + 1,
                        "time": round(summary.time, 3),
                        "progress": round(summary.progress, 2),
                        "status": _status_text(summary.status),
                        "off_track": int(summary.status == "off_track"),
                        "off_track_penalty": None,
                        "crashes": int(summary.status == "crashed"),
                        "crash_penalty": None,
                        "resets": 0,
                        "frames": summary.steps,
                    }
                )
        tables.append({"stamp": folder.name.removeprefix("evaluation-"), "trials": trials})
    return tables, warnings


def _console_row(i: int, row: dict[str, Any], frames: list[int]) -> dict[str, Any]:
    def number(key: str) -> float:
        value = row.get(key, 0)
        return float(value) if isinstance(value, int | float) else 0.0

    return {
        "trial": int(number("trial")) or i + 1,
        "time": number("elapsed_time_in_milliseconds") / 1000.0,
        "progress": number("completion_percentage"),
        "status": str(row.get("episode_status", "")),
        "off_track": int(number("off_track_count")),
        "off_track_penalty": None,
        "crashes": int(number("crash_count")),
        "crash_penalty": None,
        "resets": int(number("reset_count")),
        "frames": frames[i] if i < len(frames) else 0,
    }


def _status_text(status: str) -> str:
    from deepracer.envs.racing_env import STATUS_DISPLAY_NAMES

    return STATUS_DISPLAY_NAMES.get(status, status)


@dataclass(frozen=True)
class TrialPoses:
    """One evaluation trial's simtrace poses (model point, heading in degrees)."""

    x: list[float]
    y: list[float]
    yaw: list[float]
    speed: list[float]
    progress: list[float]

    @property
    def frames(self) -> int:
        """Poses in the trial."""
        return len(self.x)


def trial_poses(run: Path, stamp: str, trial: int) -> TrialPoses:
    """The poses of trial ``trial`` (from 1) of ``evaluation-<stamp>``.

    Raises:
        NotAvailable: No such folder, no simtrace in it, or no such trial.
    """
    folder = RunFiles(run).evaluation_folder(stamp)
    if folder not in evaluation_folders(run):
        raise NotAvailable(f"no evaluation folder evaluation-{stamp} in this run")
    path = _trial_simtrace(folder)
    if not path.is_file():
        raise NotAvailable(f"evaluation-{stamp} has no simtrace to replay")
    try:
        trace = load_simtrace(inside(run, path))
    except DeepRacerError as exc:
        raise NotAvailable(str(exc)) from None
    bounds = _by_trial(trace)
    if not 1 <= trial <= len(bounds):
        raise NotAvailable(f"evaluation-{stamp} has {len(bounds)} trials, not {trial}")
    rows = slice(*bounds[trial - 1])
    speed = np.nan_to_num(actual_speed(trace)[rows])
    return TrialPoses(
        x=np.round(trace.X[rows], 4).tolist(),
        y=np.round(trace.Y[rows], 4).tolist(),
        yaw=np.round(trace.yaw[rows], 3).tolist(),
        speed=np.round(speed, 3).tolist(),
        progress=np.round(trace.progress[rows], 2).tolist(),
    )


class FrameRenderer:
    """PNG camera frames of a run's poses; the world's camera is built once per world.

    Args:
        keep: Worlds whose camera (its rasterised floor) stays in memory.
    """

    def __init__(self, keep: int = 4) -> None:
        self.keep = keep
        self._lock = threading.Lock()
        self._render = threading.Lock()
        self._cameras: OrderedDict[str, Any] = OrderedDict()

    def _camera(self, world: RunWorld) -> Any:
        from deepracer.envs.compare import PoseCamera

        with self._lock:
            camera = self._cameras.get(world.spec)
            if camera is not None:
                self._cameras.move_to_end(world.spec)
                return camera
        camera = PoseCamera(world.config, None)
        with self._lock:
            self._cameras[world.spec] = camera
            while len(self._cameras) > self.keep:
                self._cameras.popitem(last=False)
        return camera

    def png(self, run: Path, x: float, y: float, yaw_deg: float) -> bytes:
        """The camera frame at a simtrace pose, as PNG bytes."""
        from PIL import Image

        camera = self._camera(run_world(run))
        with self._render:  # a camera's observation reuses its buffers
            frame = camera.render(x, y, math.radians(yaw_deg), model_point=True)
        buffer = io.BytesIO()
        Image.fromarray(frame).save(buffer, format="PNG")
        return buffer.getvalue()
