"""Crash-safe file writing.

Contents:
    atomic_write_text, atomic_write_bytes: write through a temporary file and a rename,
        so a reader sees the old file or the new one, never a torn one.
    temporary_beside: the temporary file such writers fill before their rename.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text", "temporary_beside"]


def _umask() -> int:
    # The process umask can only be read by setting it; set it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def temporary_beside(path: Path, suffix: str = "") -> tuple[int, str]:
    """Creates a hidden temporary file in ``path``'s folder, with the mode open() gives.

    Renamed over ``path`` it keeps its mode: ``tempfile.mkstemp`` alone would make
    every file written this way readable by its owner only, whatever the umask.

    Args:
        path: The file the temporary one will replace (its folder must exist).
        suffix: The temporary file's name ends with it.

    Returns:
        The open file descriptor and the temporary file's path, as mkstemp returns them.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
    except BaseException:
        os.close(fd)
        Path(tmp).unlink(missing_ok=True)
        raise
    return fd, tmp


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Writes ``data`` to ``path`` through a temporary file, fsync and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temporary_beside(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Writes UTF-8 ``text`` to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"))
