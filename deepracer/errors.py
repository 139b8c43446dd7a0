"""Exceptions raised for bad user input.

Every error a user can cause derives from :class:`DeepRacerError`; the CLI prints
these as one clear message (no traceback) and exits with status 2.

Contents:
    DeepRacerError: base class.
    ConfigError: a YAML/JSON file or mapping that does not validate.
    TrackError: a route file or track name that cannot be loaded.
    RewardFunctionError: a reward function that cannot be loaded, raises or
        returns something other than a finite number in range.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "ConfigError",
    "DeepRacerError",
    "RewardFunctionError",
    "TrackError",
    "suggest",
]


class DeepRacerError(Exception):
    """Base class for errors caused by user input (files, names, values)."""


class ConfigError(DeepRacerError, ValueError):
    """A configuration file or mapping is invalid."""


class TrackError(DeepRacerError, ValueError):
    """A track cannot be found or its route file is invalid."""


class RewardFunctionError(DeepRacerError, RuntimeError):
    """A reward function failed to load, raised, or returned an invalid value."""


def suggest(name: str, candidates: Iterable[str]) -> str:
    """Returns a " Did you mean 'x'?" hint for ``name``, or an empty string.

    Args:
        name: The unknown name the user wrote.
        candidates: The valid names.
    """
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" Did you mean {matches[0]!r}?" if matches else ""
