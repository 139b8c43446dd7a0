"""Field checks for config dataclasses: ``positive``, ``at_least``, ``between``, ...

One home for the small numeric checks every config section declares, the core's
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
    optional: a check that also accepts ``None`` (YAML ``null``).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Check", "above", "at_least", "between", "optional", "positive"]

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
        f"{what} in [{_shown(low)}, {_shown(high)}]"
        if interval
        else f"{what} from {_shown(low)} to {_shown(high)}"
    )

    def check(value: float) -> str | None:
        return None if low <= value <= high else expected

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
