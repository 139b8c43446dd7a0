"""Crash-safe file writing: a file is written whole or not at all.

Every writer here gives one guarantee, and every file the package writes atomically
goes through one of them:

1. The data goes to a temporary file created beside the target (same folder, so same
   filesystem), named ``.<target name>.<random><suffix>``: hidden, and with a second
   dot, which is what a run's partial-file cleanup looks for. Missing parent folders
   are created.
2. The temporary file has the mode ``open()`` would give a new file (``0o666`` less the
   umask), and the target ends up with it: ``tempfile.mkstemp`` alone would make every
   file owner-only, whatever the umask.
3. The data is fsynced, ``os.replace`` moves the file over the target, and the folder
   is fsynced after the rename, so the new file survives a crash once the call returns.
4. On any failure before the rename (KeyboardInterrupt included) the temporary file is
   removed and the old target, if any, is untouched.

A reader therefore sees the old file or the complete new one, never a torn one. Only a
hard crash (power loss, SIGKILL) can leave a temporary file behind.

Contents:
    atomic_write_bytes, atomic_write_text: write bytes or UTF-8 text.
    atomic_write: write through a callback that fills an open binary file.
    atomic_path: a context manager yielding the temporary path, for writers that
        need a path (a model's ``save``, a video encoder).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

__all__ = ["atomic_path", "atomic_write", "atomic_write_bytes", "atomic_write_text"]


def _umask() -> int:
    # The process umask can only be read by setting it; set it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temporary_beside(path: Path, suffix: str) -> tuple[int, Path]:
    """Creates the hidden temporary file for ``path`` in its folder, with open()'s mode.

    Returns:
        The open file descriptor and the temporary file's path.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
    except BaseException:
        os.close(fd)
        Path(tmp).unlink(missing_ok=True)
        raise
    return fd, Path(tmp)


def _fsync_dir(folder: Path) -> None:
    """Makes a rename in ``folder`` durable (POSIX); a no-op where folders cannot be opened."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | Path, *, suffix: str = "") -> Iterator[Path]:
    """Yields a temporary path to write; on a clean exit it replaces ``path``.

    The temporary file already exists (empty, with the mode ``open()`` would give) when
    the block starts; the block may write it or write over it. After the block the
    file is fsynced, renamed over ``path`` and the folder fsynced; if the block (or any
    of those steps) raises, the temporary file is removed and ``path`` is untouched.
    See the module docstring for the full guarantee.

    Example:
        ``with atomic_path(run / "model.zip", suffix=".zip") as tmp: model.save(tmp)``

    Args:
        path: The file to write (missing parent folders are created).
        suffix: The temporary file's name ends with it, for writers that pick a format
            by the suffix (``.zip``, ``.mp4``) or callers that recognise leftovers.

    Yields:
        The temporary file's path, beside ``path``.
    """
    path = Path(path)
    fd, tmp = _temporary_beside(path, suffix)
    os.close(fd)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_write(
    path: str | Path, fill: Callable[[IO[bytes]], object], *, suffix: str = ""
) -> None:
    """Writes ``path`` with what ``fill`` writes to an open binary file, atomically.

    Args:
        path: The file to write (missing parent folders are created).
        fill: Writes the content to the open temporary file; if it raises, the
            temporary file is removed and ``path`` is untouched.
        suffix: The temporary file's name ends with it (see :func:`atomic_path`).
    """
    path = Path(path)
    fd, tmp = _temporary_beside(path, suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            fill(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Writes ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    atomic_write(path, lambda handle: handle.write(data))


def atomic_write_text(path: str | Path, text: str) -> None:
    """Writes UTF-8 ``text`` to ``path`` atomically (see :func:`atomic_write`)."""
    atomic_write_bytes(path, text.encode("utf-8"))
