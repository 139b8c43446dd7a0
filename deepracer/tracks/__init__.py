"""Tracks: route files, built-in and generated tracks, and the track search path.

A track name resolves in this order:

1. an existing file path (``path/to/track.npy``);
2. ``<dir>/<name>.npy`` for each directory in ``DEEPRACER_TRACKS_PATH``
   (separated by ``os.pathsep``, like ``PATH``): a user's own tracks come first;
3. the 127 AWS DeepRacer route files shipped with the package
   (:mod:`deepracer.tracks.catalog`);
4. the registry: our built-in tracks (``oval``, ``kidney``, ``straight``), generated
   tracks (``generated-<seed>``), tracks registered with :func:`register_track` and
   plugins in the ``deepracer.tracks`` entry-point group (loaded on first lookup).

Contents:
    Track, TrackPoint, load_route_file: see :mod:`deepracer.tracks.track`.
    get_track: resolve a name or path to a Track (cached).
    list_tracks: every name that resolves, with where it comes from.
    SHIPPED, BUILTIN: the origins of shipped route files and registry tracks.
    register_track: add a track factory to the registry.
    TRACKS_PATH_ENV: the environment variable naming extra track directories.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from deepracer.errors import TrackError, suggest
from deepracer.tracks.catalog import shipped_names, shipped_route
from deepracer.tracks.track import Track, TrackPoint, load_route_file

__all__ = [
    "BUILTIN",
    "SHIPPED",
    "TRACKS_PATH_ENV",
    "Track",
    "TrackPoint",
    "get_track",
    "list_tracks",
    "load_route_file",
    "register_track",
    "track_search_dirs",
]

TRACKS_PATH_ENV = "DEEPRACER_TRACKS_PATH"
SHIPPED = "shipped"
"""The origin :func:`list_tracks` gives a route file shipped with the package."""
BUILTIN = "builtin"
"""The origin :func:`list_tracks` gives a registry track (built-in or plugin)."""
_GENERATED = re.compile(r"^generated-(\d+)$")

TrackFactory = Callable[[], ArrayLike]
_registry: dict[str, TrackFactory] = {}
_plugins_loaded = False


def register_track(name: str, factory: TrackFactory, *, overwrite: bool = False) -> None:
    """Registers a track factory under ``name``.

    Args:
        name: The track name used in world files.
        factory: Returns the (N, 6) route array.
        overwrite: Replace an existing registration instead of raising.

    Raises:
        ValueError: ``name`` is taken and ``overwrite`` is false.
    """
    _load_builtins()
    if name in _registry and not overwrite:
        raise ValueError(f"track {name!r} is already registered")
    _registry[name] = factory
    _cached_registry_track.cache_clear()


def track_search_dirs() -> list[Path]:
    """Returns the directories listed in ``DEEPRACER_TRACKS_PATH``, in order."""
    raw = os.environ.get(TRACKS_PATH_ENV, "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def get_track(name: str | Path, *, sanitize: bool = True, reverse: bool = False) -> Track:
    """Resolves a track name or route-file path.

    Args:
        name: A path to a ``.npy`` route file or a track name (see the module doc).
        sanitize: Drop zero-length centre segments (see :meth:`Track.from_array`).
        reverse: Drive opposite to the waypoint order.

    Raises:
        TrackError: Nothing matches; the message says where it looked and what to do.
    """
    text = str(name)
    path = Path(text).expanduser()
    looks_like_path = path.suffix == ".npy" or os.sep in text or "/" in text
    if looks_like_path:
        if path.is_file():
            return _cached_file_track(str(path.resolve()), sanitize, reverse)
        raise TrackError(f"{path}: route file not found")
    for folder in track_search_dirs():
        candidate = folder / f"{text}.npy"
        if candidate.is_file():
            return _cached_file_track(str(candidate.resolve()), sanitize, reverse)
    shipped = shipped_route(text)
    if shipped is not None:
        return _cached_file_track(str(shipped), sanitize, reverse)
    _load_builtins()
    _load_plugins()
    if text in _registry or _GENERATED.match(text):
        return _cached_registry_track(text, sanitize, reverse)
    searched = ", ".join(str(d) for d in track_search_dirs()) or f"(none: {TRACKS_PATH_ENV} unset)"
    raise TrackError(
        f"track {text!r} not found.{suggest(text, list_tracks(), n=3)} Searched: the"
        f" directories in {TRACKS_PATH_ENV} [{searched}], the {len(shipped_names())} shipped"
        f" DeepRacer tracks and the built-in tracks [{', '.join(sorted(_registry))}]."
        " `deepracer tracks list` shows every name. For a track of your own, put"
        f" {text}.npy (N x 6: centre, inner, outer x/y) in a directory and set"
        f" {TRACKS_PATH_ENV}=/that/directory, or give the file's path."
    )


def list_tracks() -> dict[str, str]:
    """Returns every resolvable track name mapped to its origin.

    The origin is the route file's path for a track found on ``DEEPRACER_TRACKS_PATH``,
    :data:`SHIPPED` for a shipped route file and :data:`BUILTIN` for the registry.
    Names shadow each other in resolution order, so ``get_track(name)`` loads what
    this lists.
    """
    _load_builtins()
    _load_plugins()
    found: dict[str, str] = {}
    for folder in track_search_dirs():
        if folder.is_dir():
            for file in sorted(folder.glob("*.npy")):
                found.setdefault(file.stem, str(file))
    for name in shipped_names():
        found.setdefault(name, SHIPPED)
    for name in sorted(_registry):
        found.setdefault(name, BUILTIN)
    return found


@lru_cache(maxsize=64)
def _cached_file_track(path: str, sanitize: bool, reverse: bool) -> Track:
    return load_route_file(path, sanitize=sanitize, reverse=reverse)


@lru_cache(maxsize=64)
def _cached_registry_track(name: str, sanitize: bool, reverse: bool) -> Track:
    match = _GENERATED.match(name)
    if match:
        from deepracer.tracks.generator import generate_track

        rows: ArrayLike = generate_track(int(match.group(1)))
    else:
        rows = _registry[name]()
    return Track.from_array(
        np.asarray(rows), name=name, source=f"builtin:{name}", sanitize=sanitize, reverse=reverse
    )


def _load_builtins() -> None:
    if _registry:
        return
    from deepracer.tracks.builtin import BUILTIN_TRACKS

    _registry.update(BUILTIN_TRACKS)


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for ep in entry_points(group="deepracer.tracks"):
        _registry.setdefault(ep.name, ep.load())
