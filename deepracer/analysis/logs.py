"""Reading DeepRacer logs for analysis: simtrace, metrics, action space, race line.

The simtrace reader takes our files and the variants AWS DeepRacer and DeepRacer for
Cloud (DRfC) have written over the years. Each variant is a prefix of
:data:`~deepracer.logs.SIMTRACE_COLUMNS` (:data:`SIMTRACE_VARIANTS`):

* 15 columns: up to ``tstamp`` (2019 simapp);
* 16 columns: adds ``episode_status``;
* 17 columns: adds ``pause_duration`` (console 2022);
* 18 columns: adds ``obstacle_crash_counter``;
* 19 columns: adds ``wall_clock`` (current simapp, ours).

Files with a header row are read by column name (deepracer-utils' renamed names,
``x``, ``steering_angle``, ``speed``..., are accepted too); files without one by
their number of fields. Robomaker logs (``.log``/``.txt``) are read from their
``SIM_TRACE_LOG:`` lines. A continuous action written as ``[steer, speed]`` (a
Python list, whose comma splits the CSV field) is put back together.

Contents:
    SIMTRACE_VARIANTS: column names per supported number of fields.
    Simtrace: the rows of one or more simtrace files, one numpy array per column.
    load_simtrace, load_simtraces, concat_simtraces: read files into a Simtrace.
    EpisodeSummary, summarize_episodes: one record per episode.
    actual_speed: speed of the car from consecutive positions and sim times.
    TrainingEpisode, read_training_metrics: ``training_metrics.json``.
    EvaluationTrial, read_evaluation_metrics: ``evaluation_metrics.json``.
    ActionSpace, read_action_space: the action space of ``model_metadata.json``.
    Raceline, read_raceline: a race-line CSV with ``x``, ``y`` (and ``speed``) columns.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from deepracer.errors import DeepRacerError
from deepracer.logs.simtrace import SIMTRACE_COLUMNS
from deepracer.runs.layout import MODEL_METADATA_NAME, TRAINING_METRICS

__all__ = [
    "SIMTRACE_VARIANTS",
    "ActionSpace",
    "EpisodeSummary",
    "EvaluationTrial",
    "Raceline",
    "Simtrace",
    "TrainingEpisode",
    "actual_speed",
    "concat_simtraces",
    "episodes_on_track",
    "iteration_of",
    "load_simtrace",
    "load_simtraces",
    "read_action_space",
    "read_evaluation_metrics",
    "read_raceline",
    "read_training_metrics",
    "summarize_episodes",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
StrArray = npt.NDArray[np.str_]

SIMTRACE_VARIANTS: dict[int, tuple[str, ...]] = {
    n: SIMTRACE_COLUMNS[:n] for n in (15, 16, 17, 18, 19)
}
"""Column names of a headerless simtrace row, by its number of fields."""

_REQUIRED = SIMTRACE_VARIANTS[15]
# deepracer-utils' DataFrame names, so a CSV exported from its notebooks reads too.
_ALIASES = {
    "x": "X",
    "y": "Y",
    "heading": "yaw",
    "steering_angle": "steer",
    "speed": "throttle",
    "on_track": "all_wheels_on_track",
    "timestamp": "tstamp",
}
_CANONICAL = {name.lower(): name for name in SIMTRACE_COLUMNS} | _ALIASES
_INT_COLUMNS = ("episode", "steps", "closest_waypoint", "obstacle_crash_counter")
_BOOL_COLUMNS = ("done", "all_wheels_on_track")
_TEXT_COLUMNS = ("action", "episode_status")
_MARKER = "SIM_TRACE_LOG:"
_ITERATION_FILE = re.compile(r"^(\d+)-iteration\.csv$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}
_COUNTS = ", ".join(str(n) for n in SIMTRACE_VARIANTS)


@dataclass(frozen=True)
class Simtrace:
    """Simtrace rows, one array per column (row ``i`` of every array is one step).

    Columns a file lacks are filled: ``episode_status`` with ``""``,
    ``pause_duration`` and ``wall_clock`` with NaN, ``obstacle_crash_counter`` with 0.

    Attributes:
        sources: The files read, in order.
        columns: The columns present in every file read.
        part: Index into ``sources`` of each row.
        iteration: Training iteration of each row (from ``N-iteration.csv``, else
            ``episode // episodes_per_iteration``).
        episode, steps, X, Y, yaw, steer, throttle, reward, done, all_wheels_on_track,
        progress, closest_waypoint, track_len, tstamp, episode_status, pause_duration,
        obstacle_crash_counter, wall_clock: The simtrace columns (X, Y [m], yaw and
            steer [deg], throttle = commanded speed [m/s], progress [%], tstamp = sim
            time [s], wall_clock [s since the epoch]).
        action: The discrete action index, or -1 where the action is not an index
            (a continuous action).
        action_text: The ``action`` field as written (``"3"``, ``"[15.0 1.0]"``).
    """

    sources: tuple[str, ...]
    columns: tuple[str, ...]
    part: IntArray
    iteration: IntArray
    episode: IntArray
    steps: IntArray
    X: FloatArray
    Y: FloatArray
    yaw: FloatArray
    steer: FloatArray
    throttle: FloatArray
    action: IntArray
    action_text: StrArray
    reward: FloatArray
    done: BoolArray
    all_wheels_on_track: BoolArray
    progress: FloatArray
    closest_waypoint: IntArray
    track_len: FloatArray
    tstamp: FloatArray
    episode_status: StrArray
    pause_duration: FloatArray
    obstacle_crash_counter: IntArray
    wall_clock: FloatArray

    def __len__(self) -> int:
        return int(self.episode.shape[0])

    def take(self, rows: npt.ArrayLike) -> Simtrace:
        """Returns the rows selected by an index or boolean array."""
        index = np.asarray(rows)
        values = {
            f.name: getattr(self, f.name)[index]
            for f in fields(self)
            if f.name not in ("sources", "columns")
        }
        return Simtrace(sources=self.sources, columns=self.columns, **values)

    def episode_bounds(self) -> list[tuple[int, int]]:
        """Returns ``(start, stop)`` row ranges of the episodes, in file order.

        An episode ends where the file, iteration or episode number changes or the
        step count stops increasing (evaluation trials may share an episode number).
        """
        n = len(self)
        if n == 0:
            return []
        new = np.zeros(n, dtype=bool)
        new[0] = True
        new[1:] = (
            (np.diff(self.part) != 0)
            | (np.diff(self.iteration) != 0)
            | (np.diff(self.episode) != 0)
            | (np.diff(self.steps) <= 0)
        )
        starts = np.flatnonzero(new)
        stops = np.append(starts[1:], n)
        return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


def iteration_of(path: str | Path) -> int | None:
    """Returns N of a ``N-iteration.csv`` file name, or None."""
    match = _ITERATION_FILE.match(Path(path).name)
    return int(match.group(1)) if match else None


def load_simtrace(
    path: str | Path, *, iteration: int | None = None, episodes_per_iteration: int = 20
) -> Simtrace:
    """Reads one simtrace CSV file or Robomaker log.

    Args:
        path: A simtrace CSV (any variant, with or without a header row) or a log
            file with ``SIM_TRACE_LOG:`` lines.
        iteration: The iteration of every row; by default N of an
            ``N-iteration.csv`` name, else ``episode // episodes_per_iteration``.
        episodes_per_iteration: Episodes per iteration for files without one (the
            simapp's ``num_episodes_between_training`` default is 20).

    Raises:
        DeepRacerError: The file cannot be read, a row has a number of fields no
            variant has, or a value does not parse; the message names the file,
            the line and what was expected. A last line that lacks its newline and
            does not parse (torn by an interrupted writer) is dropped instead.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise DeepRacerError(f"{path}: cannot read the simtrace: {exc.strerror}") from exc
    if _MARKER in text:
        lines = [
            (number, line.split(_MARKER, 1)[1].split("\t", 1)[0].strip())
            for number, line in enumerate(text.splitlines(), 1)
            if _MARKER in line
        ]
    else:
        lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), 1)]
    lines = [(number, line) for number, line in lines if line]
    # The number of a last line without its newline: an interrupted writer's torn row.
    torn = len(text.splitlines()) if text and not text.endswith(("\n", "\r")) else None
    columns, rows = _split_rows(path, lines, torn)
    try:
        values = _parse_columns(path, columns, rows)
    except DeepRacerError:
        if not (rows and rows[-1][0] == torn):
            raise
        # A torn last row may end inside a number; any error elsewhere raises again.
        values = _parse_columns(path, columns, rows[:-1])
    if iteration is None:
        iteration = iteration_of(path)
    episode = values["episode"]
    iterations = (
        np.full(len(episode), iteration, dtype=np.int64)
        if iteration is not None
        else episode // max(1, episodes_per_iteration)
    )
    return Simtrace(
        sources=(str(path),),
        columns=columns,
        part=np.zeros(len(episode), dtype=np.int64),
        iteration=iterations,
        **values,
    )


def load_simtraces(paths: Sequence[str | Path], *, episodes_per_iteration: int = 20) -> Simtrace:
    """Reads simtrace files (see :func:`load_simtrace`) into one Simtrace, in order."""
    return concat_simtraces(
        [load_simtrace(p, episodes_per_iteration=episodes_per_iteration) for p in paths]
    )


def concat_simtraces(traces: Sequence[Simtrace]) -> Simtrace:
    """Joins simtraces; ``part`` is renumbered to index the joined ``sources``."""
    if not traces:
        raise ValueError("concat_simtraces needs at least one simtrace")
    if len(traces) == 1:
        return traces[0]
    sources: list[str] = []
    parts = []
    for trace in traces:
        parts.append(trace.part + len(sources))
        sources.extend(trace.sources)
    shared = [c for c in traces[0].columns if all(c in t.columns for t in traces)]
    skip = ("sources", "columns", "part")
    values = {
        f.name: np.concatenate([getattr(t, f.name) for t in traces])
        for f in fields(Simtrace)
        if f.name not in skip
    }
    return Simtrace(
        sources=tuple(sources), columns=tuple(shared), part=np.concatenate(parts), **values
    )


def _merge_brackets(fields_: list[str]) -> list[str]:
    """Rejoins a ``[steer, speed]`` action that the CSV split at its comma."""
    merged: list[str] = []
    pending: str | None = None
    for field_ in fields_:
        if pending is not None:
            pending += "," + field_
            if "]" in field_:
                merged.append(pending)
                pending = None
        elif field_.lstrip().startswith("[") and "]" not in field_:
            pending = field_
        else:
            merged.append(field_)
    if pending is not None:
        merged.append(pending)
    return merged


def _fields(line: str) -> list[str]:
    parts = next(csv.reader([line])) if '"' in line else line.split(",")
    return _merge_brackets(parts) if "[" in line else parts


def _split_rows(
    path: Path, lines: list[tuple[int, str]], torn: int | None
) -> tuple[tuple[str, ...], list[tuple[int, list[str]]]]:
    """Returns the file's column names and its data rows as (line number, fields).

    A row of the wrong length on line ``torn`` (a torn last line) is dropped.
    """
    if not lines:
        raise DeepRacerError(f"{path}: the simtrace is empty (expected simtrace rows)")
    first = _fields(lines[0][1])
    if first[0].strip().lower() == "episode":
        columns = _header_columns(path, lines[0][0], first)
        data = lines[1:]
    else:
        if len(first) not in SIMTRACE_VARIANTS:
            if lines[0][0] == torn:
                return SIMTRACE_VARIANTS[19], []
            raise DeepRacerError(
                f"{path}, line {lines[0][0]}: {len(first)} fields; expected a simtrace"
                f" header row or a row of {_COUNTS} fields (the DeepRacer simtrace"
                f" variants: {', '.join(SIMTRACE_COLUMNS)} or a prefix of it ending at"
                " tstamp or later)"
            )
        columns = SIMTRACE_VARIANTS[len(first)]
        data = lines
    rows = []
    for number, line in data:
        parts = _fields(line)
        if len(parts) != len(columns):
            if number == torn:
                break
            what = "the header's" if data is not lines else "the first row's"
            raise DeepRacerError(
                f"{path}, line {number}: {len(parts)} fields; expected {len(columns)}"
                f" ({what} {', '.join(columns)})"
            )
        rows.append((number, parts))
    return columns, rows


def _header_columns(path: Path, number: int, names: list[str]) -> tuple[str, ...]:
    columns = tuple(_CANONICAL.get(n.strip().lower(), n.strip()) for n in names)
    missing = [c for c in _REQUIRED if c not in columns]
    if missing:
        raise DeepRacerError(
            f"{path}, line {number}: the header lacks {', '.join(missing)}; expected the"
            f" simtrace columns {', '.join(SIMTRACE_COLUMNS)} (the first 15 at least)"
        )
    return columns


def _parse_columns(
    path: Path, columns: tuple[str, ...], rows: list[tuple[int, list[str]]]
) -> dict[str, Any]:
    """Converts the text rows into one typed array per :class:`Simtrace` column."""
    n = len(rows)
    position = {name: i for i, name in enumerate(columns)}
    values: dict[str, Any] = {}
    for name in SIMTRACE_COLUMNS:
        if name not in position:
            values[name] = _absent(name, n)
            continue
        col = position[name]
        texts = [parts[col].strip() for _, parts in rows]
        if name in _TEXT_COLUMNS:
            values[name] = np.array(texts, dtype=np.str_) if texts else np.array([], dtype="<U1")
        elif name in _BOOL_COLUMNS:
            values[name] = np.array(
                [_bool(path, rows[i][0], name, t) for i, t in enumerate(texts)], dtype=bool
            )
        elif name in _INT_COLUMNS:
            values[name] = np.array(
                [_int(path, rows[i][0], name, t) for i, t in enumerate(texts)], dtype=np.int64
            )
        else:
            values[name] = np.array(
                [_float(path, rows[i][0], name, t) for i, t in enumerate(texts)],
                dtype=np.float64,
            )
    text = values.pop("action")
    values["action_text"] = text
    values["action"] = np.array(
        [int(t) if _INTEGER.match(t) else -1 for t in text.tolist()], dtype=np.int64
    )
    return values


def _absent(name: str, n: int) -> Any:
    if name == "episode_status":
        return np.full(n, "", dtype="<U1")
    if name in _INT_COLUMNS:
        return np.zeros(n, dtype=np.int64)
    return np.full(n, np.nan)


def _bad(path: Path, line: int, name: str, text: str, expected: str) -> DeepRacerError:
    return DeepRacerError(f"{path}, line {line}: {name}: expected {expected}, got {text!r}")


def _float(path: Path, line: int, name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise _bad(path, line, name, text, "a number") from None


def _int(path: Path, line: int, name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value.is_integer():
        raise _bad(path, line, name, text, "an integer")
    return int(value)


def _bool(path: Path, line: int, name: str, text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise _bad(path, line, name, text, "True or False")


@dataclass(frozen=True)
class EpisodeSummary:
    """One episode of a simtrace.

    Attributes:
        iteration: Training iteration.
        episode: Episode number as written.
        start: First row in the Simtrace.
        stop: One past the last row.
        steps: Rows of the episode.
        reward: Sum of the rewards.
        progress: Highest progress reached [%].
        time: Sim time from the first row to the last [s].
        status: Final ``episode_status`` (``""`` for 15-column files).
        lap_complete: The lap was finished (status ``lap_complete`` or progress 100).
    """

    iteration: int
    episode: int
    start: int
    stop: int
    steps: int
    reward: float
    progress: float
    time: float
    status: str
    lap_complete: bool


def summarize_episodes(trace: Simtrace) -> list[EpisodeSummary]:
    """Returns one :class:`EpisodeSummary` per episode, in file order."""
    summaries = []
    for start, stop in trace.episode_bounds():
        status = str(trace.episode_status[stop - 1])
        progress = float(np.max(trace.progress[start:stop]))
        summaries.append(
            EpisodeSummary(
                iteration=int(trace.iteration[start]),
                episode=int(trace.episode[start]),
                start=start,
                stop=stop,
                steps=stop - start,
                reward=float(np.sum(trace.reward[start:stop])),
                progress=progress,
                time=float(trace.tstamp[stop - 1] - trace.tstamp[start]),
                status=status,
                lap_complete=status == "lap_complete" or progress >= 100.0 - 1e-6,
            )
        )
    return summaries


def episodes_on_track(
    trace: Simtrace, episodes: Sequence[EpisodeSummary], length: float, tolerance: float = 0.02
) -> list[EpisodeSummary]:
    """Returns the episodes driven on a track of ``length`` [m], by their ``track_len``.

    Multi-world runs write every world's episodes into one simtrace; the track length
    tells them apart.

    Args:
        trace: The simtrace the episodes index into.
        episodes: Episodes of ``trace`` (see :func:`summarize_episodes`).
        length: The track length [m].
        tolerance: Largest relative difference of ``track_len`` from ``length``.
    """
    return [e for e in episodes if abs(trace.track_len[e.start] - length) <= tolerance * length]


def actual_speed(trace: Simtrace) -> FloatArray:
    """Returns the speed of the car at each row from positions and sim times [m/s].

    Row ``i`` gets the distance from row ``i-1`` over the sim time between them;
    the first row of each episode, and rows with no sim time elapsed, get NaN.
    """
    speed = np.full(len(trace), np.nan)
    for start, stop in trace.episode_bounds():
        if stop - start < 2:
            continue
        dist = np.hypot(np.diff(trace.X[start:stop]), np.diff(trace.Y[start:stop]))
        dt = np.diff(trace.tstamp[start:stop])
        with np.errstate(divide="ignore", invalid="ignore"):
            speed[start + 1 : stop] = np.where(dt > 1e-9, dist / dt, np.nan)
    return speed


def _load_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DeepRacerError(f"{path}: cannot read the {what}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise DeepRacerError(
            f"{path}, line {exc.lineno}: not valid JSON ({exc.msg}); expected the {what}"
        ) from exc


def _metrics_rows(path: Path, what: str) -> list[dict[str, Any]]:
    data = _load_json(path, what)
    rows = data.get("metrics") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise DeepRacerError(
            f'{path}: expected the {what} schema {{"metrics": [{{...}}, ...]}} (a JSON'
            " object whose metrics key is a list of objects)"
        )
    return rows


_MISSING: Any = object()


def _field(
    path: Path, index: int, row: dict[str, Any], key: str, kind: type, default: Any = _MISSING
) -> Any:
    """Returns ``row[key]`` as ``kind`` (str, int or float), or ``default`` if absent."""
    value = row.get(key)
    if value is None:
        if default is _MISSING:
            raise DeepRacerError(f"{path}: metrics[{index}]: missing {key!r}")
        return default
    if kind is str:
        return str(value)
    number = math.nan
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        with contextlib.suppress(ValueError):
            number = float(value)
    if not math.isfinite(number) or (kind is int and not number.is_integer()):
        expected = "an integer" if kind is int else "a number"
        raise DeepRacerError(f"{path}: metrics[{index}]: {key}: expected {expected}, got {value!r}")
    return int(number) if kind is int else number


@dataclass(frozen=True)
class TrainingEpisode:
    """One row of ``training_metrics.json`` (DRfC: ``TrainingMetrics.json``).

    Attributes:
        episode: Episode number.
        trial: Trial number within the iteration (0 when absent).
        phase: ``training`` or ``evaluation`` (DRfC interleaves evaluation rows).
        reward_score: Rounded episode reward.
        completion_percentage: Progress at the end [%].
        episode_status: ``Lap complete``, ``Off track``, ...
        elapsed_time_ms: Episode wall-clock duration [ms].
        start_time: Episode start [ms since the epoch].
        metric_time: Episode end [ms since the epoch].
        world_name: Our multi-world runs' world, else None.
    """

    episode: int
    trial: int
    phase: str
    reward_score: float
    completion_percentage: float
    episode_status: str
    elapsed_time_ms: int
    start_time: int
    metric_time: int
    world_name: str | None

    @property
    def lap_complete(self) -> bool:
        """Whether the episode finished the lap."""
        return self.episode_status == "Lap complete" or self.completion_percentage >= 100


def read_training_metrics(path: str | Path) -> list[TrainingEpisode]:
    """Reads a ``training_metrics.json`` in DeepRacer's schema.

    Raises:
        DeepRacerError: Not JSON, not ``{"metrics": [...]}``, or a row lacks
            ``episode``, ``reward_score``, ``completion_percentage`` or
            ``episode_status`` or has a non-numeric value; the message names the row.
    """
    path = Path(path)
    result = []
    for i, row in enumerate(_metrics_rows(path, TRAINING_METRICS)):
        result.append(
            TrainingEpisode(
                episode=_field(path, i, row, "episode", int),
                trial=_field(path, i, row, "trial", int, 0),
                phase=_field(path, i, row, "phase", str, "training"),
                reward_score=_field(path, i, row, "reward_score", float),
                completion_percentage=_field(path, i, row, "completion_percentage", float),
                episode_status=_field(path, i, row, "episode_status", str),
                elapsed_time_ms=_field(path, i, row, "elapsed_time_in_milliseconds", int, 0),
                start_time=_field(path, i, row, "start_time", int, 0),
                metric_time=_field(path, i, row, "metric_time", int, 0),
                world_name=_field(path, i, row, "world_name", str, None),
            )
        )
    return result


@dataclass(frozen=True)
class EvaluationTrial:
    """One row of ``evaluation_metrics.json``.

    Attributes:
        trial: 1-based trial number.
        completion_percentage: Progress at the end [%].
        episode_status: ``Lap complete``, ``Off track``, ...
        elapsed_time_ms: Trial time, penalties included [ms].
        off_track_count, crash_count, immobilized_count, reversed_count, reset_count:
            Event counts of the trial.
    """

    trial: int
    completion_percentage: float
    episode_status: str
    elapsed_time_ms: int
    off_track_count: int
    crash_count: int
    immobilized_count: int
    reversed_count: int
    reset_count: int

    @property
    def lap_complete(self) -> bool:
        """Whether the trial finished the lap."""
        return self.episode_status == "Lap complete" or self.completion_percentage >= 100


def read_evaluation_metrics(path: str | Path) -> list[EvaluationTrial]:
    """Reads an ``evaluation_metrics.json`` in DeepRacer's schema.

    Raises:
        DeepRacerError: Not JSON, not ``{"metrics": [...]}``, or a row lacks
            ``completion_percentage``, ``episode_status`` or
            ``elapsed_time_in_milliseconds``; the message names the row.
    """
    path = Path(path)
    result = []
    for i, row in enumerate(_metrics_rows(path, "evaluation_metrics.json")):
        result.append(
            EvaluationTrial(
                trial=_field(path, i, row, "trial", int, i + 1),
                completion_percentage=_field(path, i, row, "completion_percentage", float),
                episode_status=_field(path, i, row, "episode_status", str),
                elapsed_time_ms=_field(path, i, row, "elapsed_time_in_milliseconds", int),
                off_track_count=_field(path, i, row, "off_track_count", int, 0),
                crash_count=_field(path, i, row, "crash_count", int, 0),
                immobilized_count=_field(path, i, row, "immobilized_count", int, 0),
                reversed_count=_field(path, i, row, "reversed_count", int, 0),
                reset_count=_field(path, i, row, "reset_count", int, 0),
            )
        )
    return result


@dataclass(frozen=True)
class ActionSpace:
    """The action space of a ``model_metadata.json``, read leniently for labels.

    Attributes:
        kind: ``discrete`` or ``continuous``.
        actions: ``(steering_deg, speed)`` per discrete action index; empty if
            continuous.
        steering: ``(low, high)`` steering bounds [deg] of a continuous space.
        speed: ``(low, high)`` speed bounds [m/s] of a continuous space.
    """

    kind: str
    actions: tuple[tuple[float, float], ...] = ()
    steering: tuple[float, float] | None = None
    speed: tuple[float, float] | None = None


def read_action_space(path: str | Path) -> ActionSpace:
    """Reads the action space of a ``model_metadata.json``.

    Unlike :func:`deepracer.envs.model_metadata.load_model_metadata` this checks only
    what the plots use, so console and DRfC files of any version read.

    Raises:
        DeepRacerError: Not JSON, or ``action_space`` is neither a list of
            ``{steering_angle, speed}`` nor ``{steering_angle: {low, high}, speed:
            {low, high}}``.
    """
    path = Path(path)
    data = _load_json(path, MODEL_METADATA_NAME)
    space = data.get("action_space") if isinstance(data, dict) else None
    try:
        if isinstance(space, list) and space:
            if all("index" in a for a in space):
                space = sorted(space, key=lambda a: int(a["index"]))
            actions = tuple((float(a["steering_angle"]), float(a["speed"])) for a in space)
            return ActionSpace(kind="discrete", actions=actions)
        if isinstance(space, dict):
            s, v = space["steering_angle"], space["speed"]
            return ActionSpace(
                kind="continuous",
                steering=(float(s["low"]), float(s["high"])),
                speed=(float(v["low"]), float(v["high"])),
            )
    except (KeyError, TypeError, ValueError):
        pass
    raise DeepRacerError(
        f"{path}: action_space: expected a list of {{steering_angle, speed}} (discrete) or"
        " {steering_angle: {low, high}, speed: {low, high}} (continuous)"
    )


@dataclass(frozen=True)
class Raceline:
    """A race line: points in driving order and, optionally, a planned speed.

    Attributes:
        x: X coordinates [m].
        y: Y coordinates [m].
        speed: Planned speed per point [m/s], or None.
        source: The file it came from.
    """

    x: FloatArray
    y: FloatArray
    speed: FloatArray | None
    source: str


def read_raceline(path: str | Path) -> Raceline:
    """Reads a race-line CSV whose header names ``x`` and ``y`` (and maybe ``speed``).

    The format of ``deepracer raceline`` (:func:`deepracer.raceline.read_csv`); other
    columns are ignored.

    Raises:
        DeepRacerError: The file is missing, its header lacks ``x`` or ``y``, a value
            is not a number or there are fewer than two points.
    """
    from deepracer.raceline import read_csv

    columns = read_csv(path)
    return Raceline(x=columns["x"], y=columns["y"], speed=columns.get("speed"), source=str(path))
