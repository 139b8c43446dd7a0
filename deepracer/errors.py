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


def suggest(name: str, candidates: Iterable[str], *, n: int = 1) -> str:
    """Returns a " Did you mean 'x'?" hint for ``name``, or an empty string.

    Matching ignores case, so ``reinvent2019_track`` finds ``reInvent2019_track``.

    Args:
        name: The unknown name the user wrote.
        candidates: The valid names.
        n: Offer up to this many names, closest first.
    """
    by_lower: dict[str, str] = {}
    for candidate in candidates:
        by_lower.setdefault(candidate.lower(), candidate)
    matches = difflib.get_close_matches(name.lower(), list(by_lower), n=n, cutoff=0.6)
    if len(matches) < n and len(name) >= 3:
        # A fragment of a long name ("summit") is far from it by edit ratio.
        matches += [c for c in sorted(by_lower) if name.lower() in c and c not in matches]
    names = [repr(by_lower[m]) for m in matches[:n]]
    if not names:
        return ""
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return f" Did you mean {listed}?"
