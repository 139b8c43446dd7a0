"""Locate the user-editable data folders shipped with the project.

The top-level folders ``envs/``, ``presets/``, ``actions/``, ``rewards/``,
``experiments/`` and ``vehicles/`` live at the repository root in a checkout and are copied into the
wheel as ``deepracer/_data/<kind>/`` at build time (see ``pyproject.toml``). This
module is the only place that knows both locations, so a name resolves the same
from a checkout, an editable install and an installed wheel.

Contents:
    DATA_KINDS: the data folder names.
    data_dir: the directory holding one kind of data.
    available: names of the shipped files of one kind.
    resolve: an explicit path, or a shipped name, to an existing file.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from deepracer.errors import ConfigError, suggest

__all__ = ["DATA_KINDS", "DataKind", "available", "data_dir", "resolve"]

DataKind = Literal["envs", "presets", "actions", "rewards", "experiments", "vehicles"]
DATA_KINDS: tuple[DataKind, ...] = (
    "envs",
    "presets",
    "actions",
    "rewards",
    "experiments",
    "vehicles",
)

_NOUNS = {
    "envs": "a world file",
    "presets": "a preset file",
    "actions": "an action space file",
    "rewards": "a reward file",
    "experiments": "an experiment file",
    "vehicles": "a vehicle profile",
}
_SUFFIXES: dict[str, tuple[str, ...]] = {
    "envs": (".yaml", ".yml"),
    "presets": (".yaml", ".yml"),
    "actions": (".json", ".yaml", ".yml"),
    "rewards": (".py",),
    "experiments": (".yaml", ".yml"),
    "vehicles": (".yaml", ".yml"),
}


def data_dir(kind: DataKind) -> Path:
    """Returns the folder holding the shipped files of ``kind``.

    Args:
        kind: One of :data:`DATA_KINDS`.
    """
    package = Path(str(resources.files("deepracer")))
    packaged = package / "_data" / kind
    if packaged.is_dir():
        return packaged
    return package.parent / kind  # a checkout or an editable install


def available(kind: DataKind) -> list[str]:
    """Returns the names (file stems) of the shipped files of ``kind``, sorted."""
    folder = data_dir(kind)
    if not folder.is_dir():
        return []
    return sorted(
        p.stem
        for p in folder.iterdir()
        if p.suffix in _SUFFIXES[kind] and not p.name.startswith(("_", "."))
    )


def resolve(kind: DataKind, name: str | Path) -> Path:
    """Turns an explicit path or a shipped name into an existing file.

    An existing path wins; otherwise ``name`` (with or without its suffix) is looked
    up among the shipped files of ``kind``.

    Args:
        kind: One of :data:`DATA_KINDS`.
        name: A path, or the stem of a shipped file (e.g. ``"reinvent_base"``).

    Raises:
        ConfigError: Nothing matches; the message lists what is available.
    """
    path = Path(name).expanduser()
    if path.is_file():
        return path
    if path.exists():
        raise ConfigError(
            f"{path}: not a regular file (a directory, device or pipe); expected"
            f" {_NOUNS[kind]} ({', '.join(_SUFFIXES[kind])})"
        )
    folder = data_dir(kind)
    stem = path.stem if path.suffix in _SUFFIXES[kind] else path.name
    if path.parent == Path(".") or path.parent == Path(""):
        for suffix in _SUFFIXES[kind]:
            candidate = folder / f"{stem}{suffix}"
            if candidate.is_file():
                return candidate
    names = available(kind)
    raise ConfigError(
        f"{name}: no such file, and no shipped {kind[:-1]} of that name.{suggest(stem, names)}"
        f" Shipped {kind}: {', '.join(names) if names else '(none)'}"
    )
