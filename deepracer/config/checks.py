"""Field checks for config dataclasses: ``positive``, ``at_least``, ``between``, ...

One home for the small field checks every config section declares, the core's
(envs, physics, experiment, presets) and the plugins' (re-exported by
:mod:`deepracer.plugins.kit`). Standard library only.

A check follows :func:`deepracer.config.loader.from_mapping`'s protocol: a field
declares ``metadata={"check": fn}``, and ``fn(value)`` returns ``None`` or what was
expected, which the loader puts in its error after the file and the field::

    users: int = field(default=20_000, metadata={"check": at_least(500)})
    # exp.yaml: genres.users: expected a number >= 500, got 10

Contents:
    Check: the type of a field check.
    positive: ``value > 0``.
    above, at_least, between: checks of ``> low``, ``>= low`` and ``low..high``.
    interval: a check of ``low..high`` with either end open (``[0, 1)``, ``(0, 1]``).
    optional: a check that also accepts ``None`` (YAML ``null``).
    matches: a check that a string matches a regular expression as a whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = [
    "Check",
    "above",
    "at_least",
    "between",
    "interval",
    "matches",
    "optional",
    "positive",
]

Check = Callable[[float], str | None]
"""A numeric field check: ``None`` for a good value, else what was expected."""


def _shown(bound: float) -> str:
    return str(bound) if isinstance(bound, int) else f"{bound:g}"


def positive(value: float) -> str | None:
    """Checks ``value > 0``.

    Returns:
        None, or ``"a number > 0"`` (:func:`above` words it for other kinds).
    """
    return None if value > 0 else "a number > 0"


def above(low: float, what: str = "a number") -> Check:
    """A check of ``value > low``.

    Args:
        low: The bound, itself not accepted.
        what: What the field holds, for the message (``"an integer"``).

    Returns:
        A check whose failure reads ``"an integer > 0"`` (``what``, ``>``, ``low``).
    """
    expected = f"{what} > {_shown(low)}"

    def check(value: float) -> str | None:
        return None if value > low else expected

    return check


def at_least(low: float, what: str = "a number") -> Check:
    """A check of ``value >= low``.

    Args:
        low: The smallest value accepted.
        what: What the field holds, for the message (``"an integer"``).

    Returns:
        A check whose failure reads ``"a number >= 500"`` (``what``, ``>=``, ``low``).
    """
    expected = f"{what} >= {_shown(low)}"

    def check(value: float) -> str | None:
        return None if value >= low else expected

    return check


def between(low: float, high: float, what: str = "a number", *, interval: bool = False) -> Check:
    """A check of ``low <= value <= high``.

    Args:
        low: The smallest value accepted.
        high: The largest value accepted.
        what: What the field holds, for the message (``"an integer"``).
        interval: Write the range as ``in [low, high]`` instead of ``from low to high``.

    Returns:
        A check whose failure reads ``"a number from 0.05 to 0.5"``, or with
        ``interval`` ``"an integer in [2, 50]"``.
    """
    expected = (
        _in(what, low, high, low_open=False, high_open=False)
        if interval
        else f"{what} from {_shown(low)} to {_shown(high)}"
    )
    return _range(low, high, expected, low_open=False, high_open=False)


def interval(
    low: float,
    high: float,
    what: str = "a number",
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> Check:
    """A check of ``value`` between ``low`` and ``high``, each end included or not.

    Args:
        low: The lower end.
        high: The upper end.
        what: What the field holds, for the message (``"a probability"``).
        low_open: ``low`` itself is not accepted.
        high_open: ``high`` itself is not accepted.

    Returns:
        A check whose failure writes the interval in standard notation: ``"a number
        in [0, 1)"`` (``high_open``), ``"a number in (0, 1]"`` (``low_open``),
        ``"a number in (0, 1)"`` (both), ``"a number in [0, 1]"`` (neither, as
        ``between(..., interval=True)``).
    """
    expected = _in(what, low, high, low_open=low_open, high_open=high_open)
    return _range(low, high, expected, low_open=low_open, high_open=high_open)


def _in(what: str, low: float, high: float, *, low_open: bool, high_open: bool) -> str:
    left, right = "(" if low_open else "[", ")" if high_open else "]"
    return f"{what} in {left}{_shown(low)}, {_shown(high)}{right}"


def _range(low: float, high: float, expected: str, *, low_open: bool, high_open: bool) -> Check:
    def check(value: float) -> str | None:
        above_low = value > low if low_open else value >= low
        below_high = value < high if high_open else value <= high
        return None if above_low and below_high else expected

    return check


def optional(check: Check) -> Callable[[float | None], str | None]:
    """``check`` for a field that may also be ``None`` (``null`` in the file).

    Args:
        check: The check of a value that is not None.

    Returns:
        A check that accepts None; its failure reads ``check``'s with ``" (or null)"``
        after it: ``"a number > 0 (or null)"``.
    """

    def check_optional(value: float | None) -> str | None:
        if value is None:
            return None
        problem = check(value)
        return None if problem is None else f"{problem} (or null)"

    return check_optional


def matches(pattern: str, what: str) -> Callable[[str], str | None]:
    """A check that a string matches ``pattern`` as a whole (:func:`re.fullmatch`).

    Args:
        pattern: The regular expression (no ``^``/``$`` needed).
        what: What was expected, the whole message (``"a language code such as 'en'"``).

    Returns:
        A check whose failure reads ``what``.
    """
    compiled = re.compile(pattern)

    def check(value: str) -> str | None:
        return None if compiled.fullmatch(value) else what

    return check
