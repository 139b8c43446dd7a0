"""Sets of simtrace logs from the real simulator, read episode by episode.

The DeepRacer console, deepracer-for-cloud (one or several workers), DeepRacer on AWS
and this package all write the same simtrace CSV, ``<N>-iteration.csv``, under
different folders: training in ``training-simtrace/``, evaluations in
``evaluation-simtrace/``, with or without a job or worker folder above them. A log
set is every such file under the paths given, in path and iteration order, cut into
episodes of numeric arrays for fitting and checking a car model.

A file that is not a simtrace (missing columns, a value that is not a number) is an
error naming the file and the line. An episode that cannot serve (too short, its
time stamps not increasing) is skipped and counted. Logs of different tracks are an
error: they come from different runs of the simulator, which need not share a car.

Contents:
    LogEpisode: one episode's poses and commands as arrays.
    LogSet: the usable episodes of a set, the files read and what was skipped.
    simtrace_files: the simtrace files under some paths, in reading order.
    load_log_set: reads and checks a set.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from deepracer.errors import DeepRacerError
from deepracer.logs.simtrace import SIMTRACE_COLUMNS

__all__ = [
    "REQUIRED_COLUMNS",
    "LogEpisode",
    "LogError",
    "LogSet",
    "load_log_set",
    "simtrace_files",
]

_CAR_COLUMNS = {"X", "Y", "yaw", "steer", "throttle", "track_len", "tstamp"}
REQUIRED_COLUMNS = tuple(
    c for c in SIMTRACE_COLUMNS if c in _CAR_COLUMNS | {"episode", "steps", "episode_status"}
)
"""The columns every simtrace since 2020 has, and all a car model needs."""

_NUMERIC = ("steps", "X", "Y", "yaw", "steer", "throttle", "track_len", "tstamp")
_ITERATION = re.compile(r"^(\d+)-iteration\.csv$")
_SAME_TRACK = 0.01  # [m]: track lengths within this are one track


class LogError(DeepRacerError):
    """A log set cannot be read or used."""


@dataclass(frozen=True)
class LogEpisode:
    """One episode of a simtrace: a row per step, as the simulator logged it.

    Each row holds the pose at a step and the action chosen there; which later row
    first shows the action's effect is for the model to find.

    Attributes:
        source: ``<file>:<episode>``, for messages.
        track_len: The track's length [m].
        t: Simulation time stamps [s], increasing.
        x: Model point x [m] (0.14 m ahead of the rear axle's base link).
        y: Model point y [m].
        yaw: Heading [rad], unwrapped (no jumps of 2 pi).
        steer: Commanded steering angle [rad], positive to the left.
        throttle: Commanded speed [m/s].
        status: The ``episode_status`` of each row.
    """

    source: str
    track_len: float
    t: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    yaw: NDArray[np.float64]
    steer: NDArray[np.float64]
    throttle: NDArray[np.float64]
    status: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.t)


@dataclass
class LogSet:
    """The usable episodes of a log set.

    Attributes:
        episodes: In file order, then in the order the file holds them.
        files: The simtrace files read.
        skipped: How many episodes were left out, by reason.
        track_len: The one track's length [m].
    """

    episodes: list[LogEpisode]
    files: list[Path]
    skipped: Counter[str] = field(default_factory=Counter)
    track_len: float = 0.0

    @property
    def steps(self) -> int:
        """Rows in the usable episodes."""
        return sum(len(e) for e in self.episodes)

    def summary(self) -> str:
        """One line: files, episodes, steps and what was skipped."""
        line = (
            f"{len(self.files)} simtrace file(s), {len(self.episodes)} episodes,"
            f" {self.steps} steps on a {self.track_len:.3f} m track"
        )
        if self.skipped:
            reasons = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items()))
            line += f"; skipped {sum(self.skipped.values())} episodes ({reasons})"
        return line


def _order(path: Path) -> tuple[str, int]:
    match = _ITERATION.match(path.name)
    return (str(path.parent), int(match.group(1)) if match else -1)


def simtrace_files(paths: Iterable[str | Path]) -> list[Path]:
    """Returns the simtrace files under ``paths``, each folder in iteration order.

    Args:
        paths: Simtrace CSV files, or folders searched for ``<N>-iteration.csv`` at any
            depth (a console or DRfC log folder, a job's, a run directory).

    Raises:
        LogError: A path does not exist, or a folder holds no simtrace.
    """
    found: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            inside = sorted(
                (p for p in path.rglob("*-iteration.csv") if _ITERATION.match(p.name)),
                key=_order,
            )
            if not inside:
                raise LogError(f"{path}: no simtrace file (<N>-iteration.csv) under it")
            found += inside
        else:
            raise LogError(f"{path}: no such file or folder")
    return list(dict.fromkeys(p.resolve() for p in found))


def _read_rows(path: Path) -> list[dict[str, str]]:
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise LogError(
                    f"{path}: not a DeepRacer simtrace: missing column(s) {', '.join(missing)}"
                    f" (expected at least {', '.join(REQUIRED_COLUMNS)})"
                )
            return list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LogError(f"{path}: cannot read it as a simtrace CSV ({exc})") from None


def _numbers(path: Path, rows: Sequence[dict[str, str]], first_line: int) -> NDArray[np.float64]:
    out = np.empty((len(rows), len(_NUMERIC)))
    for i, row in enumerate(rows):
        for j, column in enumerate(_NUMERIC):
            text = row.get(column)
            try:
                value = float(text) if text is not None else math.nan
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                raise LogError(
                    f"{path}:{first_line + i}: column {column!r} is {text!r}; expected a"
                    " finite number"
                )
            out[i, j] = value
    return out


def _episodes(path: Path, min_steps: int, skipped: Counter[str]) -> list[LogEpisode]:
    rows = _read_rows(path)
    episodes: list[LogEpisode] = []
    seen: set[str] = set()
    start = 0
    while start < len(rows):
        name = rows[start]["episode"]
        end = start
        while end < len(rows) and rows[end]["episode"] == name:
            end += 1
        chunk = rows[start:end]
        line = start + 2  # the header is line 1
        start = end
        if name in seen:  # its rows are not together: the file was appended to twice
            skipped["episode rows not together"] += 1
            continue
        seen.add(name)
        values = _numbers(path, chunk, line)
        if len(chunk) < min_steps:
            skipped[f"shorter than {min_steps} steps"] += 1
            continue
        t = values[:, _NUMERIC.index("tstamp")]
        if np.any(np.diff(t) <= 0):
            skipped["tstamp not increasing"] += 1
            continue
        column = {c: values[:, j] for j, c in enumerate(_NUMERIC)}
        episodes.append(
            LogEpisode(
                source=f"{path}:{name}",
                track_len=float(column["track_len"][0]),
                t=t.copy(),
                x=column["X"].copy(),
                y=column["Y"].copy(),
                yaw=np.unwrap(np.radians(column["yaw"])),
                steer=np.radians(column["steer"]),
                throttle=column["throttle"].copy(),
                status=tuple(r["episode_status"] for r in chunk),
            )
        )
    return episodes


def load_log_set(paths: Iterable[str | Path], *, min_steps: int = 10) -> LogSet:
    """Reads every simtrace under ``paths`` into a checked :class:`LogSet`.

    Args:
        paths: Files or folders (see :func:`simtrace_files`).
        min_steps: Episodes with fewer rows are skipped.

    Returns:
        The usable episodes, with the count of those skipped by reason.

    Raises:
        LogError: A file is not a simtrace, the logs are of several tracks, or fewer
            than two episodes are usable.
    """
    paths = list(paths)
    files = simtrace_files(paths)
    skipped: Counter[str] = Counter()
    episodes: list[LogEpisode] = []
    tracks: dict[float, Path] = {}
    for path in files:
        found = _episodes(path, min_steps, skipped)
        for episode in found:
            if not any(abs(episode.track_len - known) <= _SAME_TRACK for known in tracks):
                tracks[episode.track_len] = path
        episodes += found
    if len(tracks) > 1:
        named = "; ".join(f"{length:.3f} m in {path}" for length, path in tracks.items())
        raise LogError(
            f"the logs are of {len(tracks)} tracks ({named}): they come from different"
            " simulator runs, which need not share a car; give one track's logs at a time"
        )
    where = ", ".join(str(p) for p in paths)
    if len(episodes) < 2:
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(skipped.items())) or "none skipped"
        raise LogError(
            f"{where}: {len(episodes)} usable episode(s) in {len(files)} simtrace file(s)"
            f" ({reasons}); a car model needs at least 2"
        )
    return LogSet(episodes, files, skipped, next(iter(tracks)))
