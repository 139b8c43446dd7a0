"""``training_metrics.json`` as arrays, read again only where it grew.

The trainer (like the simapp) rewrites the whole file at the end of each iteration
with the new rows appended, so a 100,000-episode log is tens of megabytes that change
at the end. :class:`MetricsReader` keeps what it parsed and where the metrics list's
last row ended; when the file changes and the bytes just before that point are the
same, it reads and parses only what follows. Anything else (a resume that cut the
log back, another writer's layout) is a full read.

A file that ends mid-row (cut short by a copy, or half-written by a tool that does
not replace files atomically) gives the rows before the cut and a warning: the page
shows what there is and says what is wrong.

Contents:
    Episodes: the training episodes of a log, one numpy array per field.
    MetricsReader: one run's ``training_metrics.json``, re-read incrementally.
    downsample: bucket means of a series, for a chart of a long log.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Episodes", "MetricsReader", "downsample"]

_METRICS_LIST = re.compile(rb'^\s*\{\s*"metrics"\s*:\s*\[')
"""The file's opening as DeepRacer, DRfC and we write it: the list comes first."""
_CHECK = 256
"""Bytes before the parsed end compared to tell an appended file from a new one."""
_DECODER = json.JSONDecoder()
_LAP = "Lap complete"


@dataclass
class Episodes:
    """Training episodes (``phase: training`` rows) of a log, in file order.

    Attributes:
        episode: Episode numbers (from 1).
        reward: Total rewards.
        progress: Final progress [%].
        lap: 1.0 where the episode completed its lap, else 0.0.
        evaluations: The log's ``phase: evaluation`` rows, as ``(episode, progress,
            elapsed [s], status)``: the periodic greedy trials of a console or DRfC
            run that has no ``evaluations.json``.
    """

    episode: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    reward: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    progress: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    lap: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    evaluations: list[tuple[int, float, float, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.episode)

    def tail(self, count: int) -> Episodes:
        """The last ``count`` episodes."""
        start = max(0, len(self) - count)
        return Episodes(
            self.episode[start:], self.reward[start:], self.progress[start:], self.lap[start:]
        )

    def after(self, since: int) -> Episodes:
        """The episodes numbered above ``since``."""
        start = int(np.searchsorted(self.episode, since, side="right"))
        return Episodes(
            self.episode[start:], self.reward[start:], self.progress[start:], self.lap[start:]
        )


class _Rows:
    """Columns being filled from parsed rows (lists: appends are cheap)."""

    def __init__(self) -> None:
        self.episode: list[int] = []
        self.reward: list[float] = []
        self.progress: list[float] = []
        self.lap: list[float] = []
        self.evaluations: list[tuple[int, float, float, str]] = []
        self.skipped = 0

    def add(self, row: Any) -> None:
        try:
            phase = row.get("phase", "training")
            episode = int(row["episode"])
            progress = float(row["completion_percentage"])
            status = str(row.get("episode_status", ""))
            if phase == "evaluation":
                elapsed = float(row.get("elapsed_time_in_milliseconds", 0)) / 1000.0
                self.evaluations.append((episode, progress, elapsed, status))
                return
            reward = float(row.get("reward_score", 0.0))
        except (AttributeError, KeyError, TypeError, ValueError):
            self.skipped += 1
            return
        self.episode.append(episode)
        self.reward.append(reward)
        self.progress.append(progress)
        self.lap.append(1.0 if status == _LAP else 0.0)


class MetricsReader:
    """One run's ``training_metrics.json``, parsed once and then only where it grew.

    Thread-safe: the server's worker threads share one reader per run.

    Args:
        path: The file.
        run: The run it belongs to: a file that a link leads out of it is not read.
    """

    def __init__(self, path: Path, run: Path | None = None) -> None:
        self.path = Path(path)
        self.run = run
        self.warnings: list[str] = []
        self._lock = threading.Lock()
        self._stat: tuple[int, int, int] | None = None
        self._rows = _Rows()
        self._episodes = Episodes()
        self._end: int | None = None  # byte offset just past the last parsed row
        self._before_end = b""

    def read(self) -> Episodes:
        """The log's episodes now (the cached ones if the file did not change)."""
        with self._lock:
            if self.run is not None and not _inside(self.run, self.path):
                self._reset()
                self._stat = None
                self.warnings = [f"{self.path.name}: a link out of the run; not read"]
                return self._episodes
            try:
                stat = os.stat(self.path)
            except FileNotFoundError:
                self._reset()
                self._stat = None
                return self._episodes
            except OSError as exc:
                self.warnings = [f"{self.path.name}: cannot read it ({exc.strerror})"]
                return self._episodes
            key = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
            if key != self._stat:
                self._stat = key
                self._refresh(stat.st_size)
            return self._episodes

    def _reset(self) -> None:
        self._rows = _Rows()
        self._episodes = Episodes()
        self._end = None
        self._before_end = b""
        self.warnings = []

    def _refresh(self, size: int) -> None:
        try:
            with self.path.open("rb") as handle:
                if self._end is not None and self._end <= size and self._end >= _CHECK:
                    handle.seek(self._end - _CHECK)
                    data = handle.read()
                    if data[:_CHECK] == self._before_end:
                        self._parse_from(data, _CHECK, self._end - _CHECK)
                        return
                    handle.seek(0)
                    data = handle.read()
                else:
                    data = handle.read()
        except OSError as exc:
            self.warnings = [f"{self.path.name}: cannot read it ({exc.strerror})"]
            return
        self._reset()
        opening = _METRICS_LIST.match(data)
        if opening is None:
            self._parse_whole(data)
        elif not self._parse_list(data, opening.end() - 1):
            self._parse_from(data, opening.end(), 0, first=True)

    def _parse_list(self, data: bytes, bracket: int) -> bool:
        """Parses the whole metrics list at once (C speed); False if it is cut short."""
        text = data.decode("utf-8", errors="replace")
        if len(text) != len(data):  # not ASCII: character and byte offsets differ
            return False
        try:
            rows, end = _DECODER.raw_decode(text, bracket)
        except ValueError:
            return False
        for row in rows:
            self._rows.add(row)
        # Resume at the closing bracket: the next rows go in just before it.
        self._end = end - 1
        self._before_end = data[max(0, self._end - _CHECK) : self._end]
        if len(self._before_end) < _CHECK:
            self._end = None
        self.warnings = self._skipped_warning()
        self._publish()
        return True

    def _skipped_warning(self) -> list[str]:
        if not self._rows.skipped:
            return []
        return [
            f"{self.path.name}: {self._rows.skipped} rows without episode,"
            " completion_percentage or reward_score skipped"
        ]

    def _parse_from(self, data: bytes, start: int, offset: int, *, first: bool = False) -> None:
        """Parses rows from ``data[start:]`` (``data`` begins at file byte ``offset``)."""
        text = data[start:].decode("utf-8", errors="replace")
        position = 0
        consumed = 0  # characters of text up to the end of the last complete row
        closed = False
        expect_row = first
        cut = False
        while True:
            while position < len(text) and text[position] in " \t\r\n":
                position += 1
            if position >= len(text):
                cut = True
                break
            char = text[position]
            if char == "]" and (first or not expect_row):
                closed = True
                break
            if char == "," and not expect_row:
                position += 1
                expect_row = True
                continue
            if not expect_row:
                cut = True
                break
            try:
                row, position = _DECODER.raw_decode(text, position)
            except ValueError:
                cut = True
                break
            self._rows.add(row)
            consumed = position
            expect_row = False
            first = False
        done = len(text[:consumed].encode("utf-8"))
        self._end = offset + start + done
        window = data[: start + done]
        self._before_end = window[-_CHECK:] if len(window) >= _CHECK else b""
        warnings = []
        if cut or not closed:
            warnings.append(
                f"{self.path.name}: ends in the middle of its metrics list (truncated or"
                f" half-written); showing the {len(self._rows.episode)} episodes before the cut"
            )
        self.warnings = warnings + self._skipped_warning()
        self._publish()

    def _parse_whole(self, data: bytes) -> None:
        try:
            document = json.loads(data)
        except ValueError as exc:
            self.warnings = [f"{self.path.name}: not valid JSON ({exc})"]
            self._publish()
            return
        rows = document.get("metrics") if isinstance(document, dict) else None
        if not isinstance(rows, list):
            self.warnings = [f'{self.path.name}: expected a JSON object with a "metrics" list']
            self._publish()
            return
        for row in rows:
            self._rows.add(row)
        self._end = None  # not our layout: every change is a full read
        self._publish()

    def _publish(self) -> None:
        rows = self._rows
        self._episodes = Episodes(
            np.asarray(rows.episode, dtype=np.int64),
            np.asarray(rows.reward, dtype=np.float64),
            np.asarray(rows.progress, dtype=np.float64),
            np.asarray(rows.lap, dtype=np.float64),
            list(rows.evaluations),
        )


def _inside(run: Path, path: Path) -> bool:
    return os.path.realpath(path).startswith(os.path.realpath(run) + os.sep)


def downsample(episodes: Episodes, max_points: int) -> tuple[int, Episodes]:
    """Means of ``bucket`` consecutive episodes, so at most ``max_points`` remain.

    Returns:
        ``(bucket, points)``: each point's episode number is its bucket's last; a last,
        partial bucket is averaged over what it has.
    """
    n = len(episodes)
    bucket = max(1, -(-n // max(1, max_points)))
    if bucket == 1:
        return 1, episodes
    ends = np.arange(bucket, n + bucket, bucket).clip(max=n)
    starts = np.arange(0, n, bucket)
    counts = (ends - starts).astype(np.float64)

    def means(values: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.add.reduceat(values, starts) / counts

    return bucket, Episodes(
        episodes.episode[ends - 1],
        means(episodes.reward),
        means(episodes.progress),
        means(episodes.lap),
    )
