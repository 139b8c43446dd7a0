"""DeepRacer simtrace CSV files: one row per step, as the simapp writes them.

The columns and their order are the simapp's (``SIMTRACE_COLUMNS``), so the usual
log-analysis notebooks read our files unchanged. Values come from the ``info`` dict
of :class:`deepracer.envs.RacingEnv`: reset's info is the ``prepare`` row (reward 0,
done False) and each step's info is one row; the ``episode`` column is
``info["episode_index"]``. Numbers are written with ``str()``,
which for Python floats is the full-precision ``repr``, like the simapp.

Crash safety: rows are buffered and written per episode with one ``write()`` followed
by ``fsync``, so an interrupted run leaves at worst a torn last line, which
:class:`SimtraceWriter` trims away when it appends to the file again.

Contents:
    SIMTRACE_COLUMNS: the column names, in order.
    simtrace_row: one row from an env info dict.
    SimtraceWriter: a buffered, crash-safe simtrace file writer.
    RecordSimtrace: a gymnasium wrapper that records every reset and step.
    read_simtrace: read a simtrace file into dicts of strings.
"""

from __future__ import annotations

import csv
import io
import numbers
import os
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import gymnasium as gym

from deepracer.errors import DeepRacerError

__all__ = [
    "SIMTRACE_COLUMNS",
    "RecordSimtrace",
    "SimtraceWriter",
    "read_simtrace",
    "simtrace_row",
]

SIMTRACE_COLUMNS: tuple[str, ...] = (
    "episode",
    "steps",
    "X",
    "Y",
    "yaw",
    "steer",
    "throttle",
    "action",
    "reward",
    "done",
    "all_wheels_on_track",
    "progress",
    "closest_waypoint",
    "track_len",
    "tstamp",
    "episode_status",
    "pause_duration",
    "obstacle_crash_counter",
    "wall_clock",
)
"""Simtrace column names, in the simapp's order."""

_HEADER = ",".join(SIMTRACE_COLUMNS)


def _plain(value: Any) -> Any:
    """Turns numpy scalars into Python ones so ``str()`` gives the simapp's text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


def simtrace_row(
    info: Mapping[str, Any], *, done: bool, wall_clock: float | None = None
) -> list[Any]:
    """Returns the simtrace row (in :data:`SIMTRACE_COLUMNS` order) of one reset/step.

    Args:
        info: The ``info`` dict of :meth:`RacingEnv.reset` or :meth:`RacingEnv.step`.
        done: Whether the step ended the episode (terminated or truncated).
        wall_clock: Wall-clock time of the step [s since the epoch]; now if None.
    """
    params = info["params"]
    return [
        _plain(info["episode_index"]),
        _plain(params["steps"]),
        _plain(params["x"]),
        _plain(params["y"]),
        _plain(params["heading"]),
        _plain(params["steering_angle"]),
        _plain(params["speed"]),
        str(info["action"]),
        _plain(info["reward"]),
        bool(done),
        bool(params["all_wheels_on_track"]),
        _plain(params["progress"]),
        _plain(info["closest_waypoint"]),
        _plain(params["track_length"]),
        _plain(info["sim_time"]),
        str(info["episode_status"]),
        _plain(info.get("pause_duration", 0.0)),
        _plain(info.get("obstacle_crash_counter", 0)),
        time.time() if wall_clock is None else float(wall_clock),
    ]


class SimtraceWriter:
    """Writes a simtrace CSV file, buffering rows until :meth:`flush`.

    Args:
        path: The CSV file; parent folders are created.
        append: Add to an existing file instead of replacing it. The header is not
            repeated, and a torn last line (a crash in mid-write) is cut off first.

    Raises:
        DeepRacerError: ``append`` is set and the existing file does not start with
            the simtrace header.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "simtrace.csv"
        >>> with SimtraceWriter(path) as writer:
        ...     pass
        >>> path.read_text().startswith("episode,steps,X,Y,yaw")
        True
    """

    def __init__(self, path: str | Path, *, append: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._buffer = io.StringIO()
        # "\n" endings as the simapp (Linux) writes; csv's default would be "\r\n".
        self._csv = csv.writer(self._buffer, lineterminator="\n")
        has_header = append and self.path.exists() and _repair(self.path)
        self._file: BinaryIO | None = open(self.path, "ab" if append else "wb")  # noqa: SIM115
        if not has_header:
            self._buffer.write(_HEADER + "\n")
            self.flush()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._file is None

    def add(self, info: Mapping[str, Any], *, done: bool) -> None:
        """Buffers the row of one reset/step (see :func:`simtrace_row`)."""
        if self._file is None:
            raise ValueError(f"{self.path}: the simtrace writer is closed")
        self._csv.writerow(simtrace_row(info, done=done))

    def flush(self) -> None:
        """Writes the buffered rows with one ``write()``, then flushes and fsyncs."""
        if self._file is None:
            return
        data = self._buffer.getvalue()
        if not data:
            return
        self._file.write(data.encode("utf-8"))
        self._file.flush()
        os.fsync(self._file.fileno())
        self._buffer.seek(0)
        self._buffer.truncate()

    def close(self) -> None:
        """Flushes and closes the file; further calls do nothing."""
        if self._file is None:
            return
        try:
            self.flush()
        finally:
            self._file.close()
            self._file = None

    def __enter__(self) -> SimtraceWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _repair(path: Path) -> bool:
    """Cuts a torn last line off an existing simtrace; returns whether a header remains.

    Raises:
        DeepRacerError: The file's first line is not the simtrace header.
    """
    with open(path, "r+b") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return False
        handle.seek(size - 1)
        if handle.read(1) != b"\n":
            keep = _last_newline_end(handle, size)
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())
            size = keep
        if size == 0:
            return False
        handle.seek(0)
        first = handle.readline().rstrip(b"\r\n").decode("utf-8", errors="replace")
    if first != _HEADER:
        raise DeepRacerError(
            f"{path}: cannot append: the file is not a simtrace (its first line is"
            f" {first[:80]!r}, expected {_HEADER[:40]!r}...)"
        )
    return True


def _last_newline_end(handle: BinaryIO, size: int, chunk: int = 65536) -> int:
    """Returns the offset just after the last newline in the file, or 0 if none."""
    end = size
    while end > 0:
        start = max(0, end - chunk)
        handle.seek(start)
        block = handle.read(end - start)
        idx = block.rfind(b"\n")
        if idx >= 0:
            return start + idx + 1
        end = start
    return 0


class RecordSimtrace(gym.Wrapper[Any, Any, Any, Any]):
    """Records the simtrace of every episode of a :class:`~deepracer.envs.RacingEnv`.

    Writes reset's ``prepare`` row and one row per step, and flushes the file at the
    end of every episode (and when an unfinished episode is abandoned by a reset), so
    the file only ever holds whole episodes.

    Args:
        env: The env (or a wrapper of it) whose infos follow ``RacingEnv``'s.
        path: The simtrace CSV file.
        append: Add to an existing file (see :class:`SimtraceWriter`).
        number_episodes: Number the ``episode`` column by the episodes recorded here
            (0, 1, ...), as the simapp numbers evaluation trials, instead of the env's
            ``episode_index`` (which a seeded reset sets back to 0).
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        path: str | Path,
        append: bool = False,
        *,
        number_episodes: bool = False,
    ) -> None:
        super().__init__(env)
        self.writer = SimtraceWriter(path, append=append)
        self.number_episodes = number_episodes
        self._episodes = -1

    def _add(self, info: dict[str, Any], done: bool) -> None:
        if self.number_episodes:
            info = {**info, "episode_index": self._episodes}
        self.writer.add(info, done=done)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Resets the env and buffers the ``prepare`` row."""
        self.writer.flush()  # an episode abandoned mid-way still gets written whole
        obs, info = self.env.reset(seed=seed, options=options)
        self._episodes += 1
        self._add(info, done=False)
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        """Steps the env, buffers the row and flushes when the episode ends."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        done = bool(terminated or truncated)
        self._add(info, done=done)
        if done:
            self.writer.flush()
        return obs, reward, terminated, truncated, info

    def close(self) -> None:
        """Flushes and closes the simtrace, then closes the env."""
        self.writer.close()
        super().close()


def read_simtrace(path: str | Path) -> list[dict[str, str]]:
    """Reads a simtrace CSV file into one dict of strings per row."""
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
