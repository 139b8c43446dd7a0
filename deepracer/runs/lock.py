"""Run directories: a fresh one per run, and one writer at a time.

Two commands started in the same second must not share ``runs/<name>-<time>``:
:func:`new_run_dir` claims a directory with an atomic ``mkdir`` and adds ``-2``,
``-3``, ... on a collision. A process that writes a run holds :class:`RunLock`
(an advisory ``flock`` on ``RUN/.lock``, which names its pid), so a second writer,
``train --resume`` of a run still training say, stops with the pid instead of
interleaving with it. The kernel drops the lock when the process dies, ``kill -9``
included, so a crashed run never stays locked.

Contents:
    LOCK_FILE: the lock's file name in a run directory.
    RunLock: hold a run directory for writing.
    claim_run_dir: create a fresh ``runs/<name>-<time>[-k]`` directory.
    new_run_dir: the same, removed again if the command fails before writing to it.
    run_dir_for: ``--out`` as given, else :func:`new_run_dir`.
    is_empty_run_dir: whether a directory holds nothing but a lock file.
    lock_holder: the pid of the process writing a run, without touching its lock.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType

from deepracer.errors import DeepRacerError

__all__ = [
    "LOCK_FILE",
    "RunLock",
    "claim_run_dir",
    "is_empty_run_dir",
    "lock_holder",
    "new_run_dir",
    "run_dir_for",
]

LOCK_FILE = ".lock"
"""Held (``flock``) by the process writing the run; holds that process's pid."""
RUNS = Path("runs")
"""Where runs go when no ``--out`` is given (relative to the working directory)."""


def claim_run_dir(name: str, root: Path = RUNS) -> Path:
    """Creates and returns ``root/<name>-<local time>``, suffixed ``-2``, ... if taken.

    The ``mkdir`` is the claim: of two processes asking in the same second, each
    gets its own directory.
    """
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for k in range(1, 1000):
        path = root / (f"{name}-{stamp}" if k == 1 else f"{name}-{stamp}-{k}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise DeepRacerError(f"{root}: 999 runs named {name}-{stamp} already; choose --out")


@contextmanager
def new_run_dir(name: str, root: Path = RUNS) -> Iterator[Path]:
    """Claims a run directory (:func:`claim_run_dir`) for the body of the block.

    If the block raises while the directory is still empty (bad input is found
    before anything is written), the directory is removed again.
    """
    path = claim_run_dir(name, root)
    try:
        yield path
    except BaseException:
        if is_empty_run_dir(path):
            with suppress(OSError):
                (path / LOCK_FILE).unlink(missing_ok=True)
                path.rmdir()
        raise


@contextmanager
def run_dir_for(out: str | Path | None, name: str) -> Iterator[Path]:
    """The run directory of a command: ``out`` as given, else :func:`new_run_dir`."""
    if out:
        yield Path(out)
        return
    with new_run_dir(name) as path:
        yield path


def is_empty_run_dir(path: Path) -> bool:
    """Tells whether ``path`` is a directory holding nothing but a lock file."""
    return path.is_dir() and all(p.name == LOCK_FILE for p in path.iterdir())


def lock_holder(run_dir: Path) -> int | None:
    """Returns the pid of the live process holding ``run_dir``'s lock, else None.

    Read-only: taking the lock even for a moment could make a trainer starting at that
    instant refuse the run, so a watcher must not. On Linux the kernel's table of
    ``flock`` locks (``/proc/locks``) says whether the lock file is held; elsewhere the
    pid written in the file is checked for a live process.
    """
    path = Path(run_dir) / LOCK_FILE
    try:
        stat = path.stat()
        text = path.read_text(errors="replace").strip()
    except OSError:
        return None
    pid = int(text) if text.isdigit() else None
    try:
        table = Path("/proc/locks").read_text()
    except OSError:
        return pid if pid is not None and _alive(pid) else None
    # Lines read "1: FLOCK  ADVISORY  WRITE 1234 fd:00:5678 0 EOF" (pid, then
    # major:minor:inode in hex, hex, decimal); "->" marks a process waiting for it.
    device = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    for line in table.splitlines():
        fields = line.split()
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == device:
            return int(fields[4]) if fields[4].isdigit() else pid
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


class RunLock:
    """Holds a run directory for writing, or says which process holds it.

    Example:
        >>> with RunLock(run_dir):  # doctest: +SKIP
        ...     train(...)
    """

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Takes the lock (creating the directory if needed).

        Raises:
            DeepRacerError: Another live process holds it; the message names its pid.
        """
        try:
            import fcntl
        except ImportError:  # not POSIX: no advisory locks, run unguarded
            return
        if self.run_dir.exists() and not self.run_dir.is_dir():
            raise DeepRacerError(
                f"{self.run_dir}: is a file, not a run directory; choose another --out"
            )
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DeepRacerError(
                f"{self.run_dir}: cannot create the run directory ({exc.strerror})"
            ) from None
        path = self.run_dir / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DeepRacerError(
                f"{self.run_dir}: run is in use by pid {holder} (another deepracer process is"
                " writing this run); wait for it to finish or stop it first"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Lets the lock go (the file stays; an unlocked file means a free run)."""
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
