"""Atomic writes: whole files only, with the permissions a plain write would give."""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path
from typing import IO

import pytest

from deepracer.io import atomic_path, atomic_write, atomic_write_bytes, atomic_write_text


def test_the_file_gets_the_umask_mode_not_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "hello")
        plain = tmp_path / "b.txt"
        plain.write_text("hello")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "a.txt").stat().st_mode)
    assert mode == stat.S_IMODE(plain.stat().st_mode) == 0o644


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "data.bin"
    atomic_write_bytes(target, b"old")

    def broken(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]


# --------------------------------------------------------------------------- one guarantee


def _fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each os.fsync call as "dir" or "file", then lets it through."""
    calls: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        calls.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return calls


def _replaces(monkeypatch: pytest.MonkeyPatch, calls: list[str]) -> None:
    real = os.replace

    def replace(src: str, dst: str) -> None:
        calls.append("replace")
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize("how", ["bytes", "fill", "path"])
def test_file_then_rename_then_folder_are_made_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    calls = _fsyncs(monkeypatch)
    _replaces(monkeypatch, calls)
    target = tmp_path / "new" / "data.bin"
    if how == "bytes":
        atomic_write_bytes(target, b"data")
    elif how == "fill":
        atomic_write(target, lambda out: out.write(b"data"))
    else:
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"data")
    assert calls == ["file", "replace", "dir"]
    assert target.read_bytes() == b"data"
    assert os.listdir(target.parent) == ["data.bin"]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
@pytest.mark.parametrize("how", ["bytes", "path"])
def test_every_writer_gives_the_mode_open_would_give(tmp_path: Path, umask: int, how: str) -> None:
    target = tmp_path / "out.zip"
    old = os.umask(umask)
    try:
        if how == "bytes":
            atomic_write_bytes(target, b"x")
        else:
            with atomic_path(target, suffix=".zip") as tmp:
                assert stat.S_IMODE(tmp.stat().st_mode) == 0o666 & ~umask
                tmp.write_bytes(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_the_temporary_file_is_hidden_beside_the_target_with_the_suffix(tmp_path: Path) -> None:
    target = tmp_path / "clip.mp4"
    with atomic_path(target, suffix=".mp4") as tmp:
        assert tmp.parent == tmp_path
        assert re.fullmatch(r"\.clip\.mp4\..+\.mp4", tmp.name), tmp.name
        assert tmp.exists()
        tmp.write_bytes(b"video")
    during: list[str] = []
    atomic_write(target, lambda out: during.extend(os.listdir(tmp_path)), suffix=".part")
    assert len(during) == 2 and any(re.fullmatch(r"\.clip\.mp4\..+\.part", n) for n in during)


class _Boom(Exception):
    pass


def _fail(how: str, target: Path, error: BaseException) -> None:
    if how == "fill":

        def fill(out: IO[bytes]) -> None:
            out.write(b"half")
            raise error

        atomic_write(target, fill)
    else:
        with atomic_path(target, suffix=".zip") as tmp:
            tmp.write_bytes(b"half")
            raise error


@pytest.mark.parametrize("error", [_Boom("writer failed"), KeyboardInterrupt()])
@pytest.mark.parametrize("how", ["fill", "path"])
def test_a_failing_writer_leaves_the_old_target_and_no_temporary_file(
    tmp_path: Path, how: str, error: BaseException
) -> None:
    target = tmp_path / "model.zip"
    target.write_bytes(b"old")
    with pytest.raises(type(error)):
        _fail(how, target, error)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["model.zip"]


@pytest.mark.parametrize("how", ["fill", "path"])
def test_a_failing_fsync_leaves_the_old_target_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    target = tmp_path / "model.zip"
    target.write_bytes(b"old")

    def fsync(fd: int) -> None:
        raise OSError(errno.EIO, "input/output error")

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OSError, match="input/output error"):
        if how == "fill":
            atomic_write(target, lambda out: out.write(b"new"))
        else:
            with atomic_path(target) as tmp:
                tmp.write_bytes(b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["model.zip"]


def test_a_writer_that_removed_its_file_fails_and_keeps_the_old_target(tmp_path: Path) -> None:
    target = tmp_path / "model.zip"
    target.write_bytes(b"old")
    with pytest.raises(FileNotFoundError), atomic_path(target) as tmp:
        tmp.unlink()
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["model.zip"]


def test_a_folder_that_cannot_be_fsynced_does_not_fail_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.open

    def no_folders(path: str | Path, flags: int, *args: int) -> int:
        if Path(path).is_dir():
            raise PermissionError(errno.EACCES, "folders cannot be opened here")
        return real(path, flags, *args)

    monkeypatch.setattr(os, "open", no_folders)
    atomic_write_text(tmp_path / "a.txt", "é")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "é"
