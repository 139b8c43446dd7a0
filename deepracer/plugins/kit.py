"""What every plugin needs: field checks for its config section, report formatting.

Imports nothing heavy (the standard library and :mod:`deepracer.tables`): a plugin's
config module uses it, and ``deepracer plugins list`` and config validation load
those.

Field checks follow :func:`deepracer.config.loader.from_mapping`'s protocol: a field
declares ``metadata={"check": fn}``, and ``fn(value)`` returns ``None`` or what was
expected, which the loader puts in its error after the file and the field::

    users: int = field(default=20_000, metadata={"check": at_least(500)})
    # exp.yaml: genres.users: expected a number >= 500, got 10

Contents:
    Check: the type of a field check.
    positive, at_least, between: numeric field checks.
    number, percent: a number for a report, ``-`` where there is none.
    markdown_table: a report table (:func:`deepracer.tables.markdown_table`).
    DeferredRun: a plugin's ``run`` that imports its heavy module when first called.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deepracer.tables import markdown_table

if TYPE_CHECKING:
    from deepracer.plugins import PluginResult, RunContext

__all__ = [
    "Check",
    "DeferredRun",
    "at_least",
    "between",
    "markdown_table",
    "number",
    "percent",
    "positive",
]

Check = Callable[[float], str | None]
"""A numeric field check: ``None`` for a good value, else what was expected."""


def _shown(bound: float) -> str:
    return str(bound) if isinstance(bound, int) else f"{bound:g}"


def positive(value: float) -> str | None:
    """Checks ``value > 0``.

    Returns:
        None, or ``"a number > 0"``.
    """
    return None if value > 0 else "a number > 0"


def at_least(low: float, what: str = "a number") -> Check:
    """A check of ``value >= low``.

    Args:
        low: The smallest value accepted.
        what: What the field holds, for the message (``"an integer"``).

    Returns:
        A check whose failure reads ``"a number >= 500"`` (``what``, ``>=``, ``low``).
    """

    def check(value: float) -> str | None:
        return None if value >= low else f"{what} >= {_shown(low)}"

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


def number(value: float | None, digits: int = 3) -> str:
    """A number for a report table: ``-`` for None, NaN or infinity.

    Args:
        value: The number (an int is written whole, a float with ``digits`` decimals).
        digits: Decimals of a float.

    Returns:
        E.g. ``"0.731"``, ``"12"`` or ``"-"``.
    """
    if value is None or not math.isfinite(value):
        return "-"
    return str(value) if isinstance(value, int) else f"{value:.{digits}f}"


def percent(value: float | None, digits: int = 1, *, signed: bool = False) -> str:
    """A fraction as a percentage for a report: ``0.123`` -> ``"12.3 %"``.

    Args:
        value: The fraction (1.0 is 100 %); None, NaN or infinity give ``-``.
        digits: Decimals of the percentage.
        signed: Write a ``+`` before a positive value (a change).

    Returns:
        E.g. ``"12.3 %"``, ``"+4.0 %"`` or ``"-"``.
    """
    if value is None or not math.isfinite(value):
        return "-"
    sign = "+" if signed else ""
    return f"{100 * value:{sign}.{digits}f} %"


@dataclass(frozen=True)
class DeferredRun:
    """A plugin's ``run`` that imports ``module`` and calls its ``run`` when called.

    A plugin's package is imported to list plugins and to check experiment files; its
    heavy dependencies (scikit-learn, torch, ...) are imported by ``module``, so only
    running the experiment imports them::

        plugin = Plugin(..., run=DeferredRun("deepracer.plugins.churn.experiment"))

    Attributes:
        module: The module that defines ``run(config, context) -> PluginResult``.
    """

    module: str

    def __call__(self, config: Any, context: RunContext) -> PluginResult:
        """Imports :attr:`module` (once; Python caches it) and returns its ``run``'s result."""
        run: Callable[[Any, RunContext], PluginResult] = importlib.import_module(self.module).run
        return run(config, context)
