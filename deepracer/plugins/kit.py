"""What every plugin needs: field checks for its config section, report formatting.

Imports nothing heavy (the standard library, :mod:`deepracer.tables` and
:mod:`deepracer.config.checks`): a plugin's config module uses it, and
``deepracer plugins list`` and config validation load those.

The field checks are :mod:`deepracer.config.checks`' (the core's config sections use
the same ones), re-exported here so that a plugin needs only the kit. They follow
:func:`deepracer.config.loader.from_mapping`'s protocol: a field declares
``metadata={"check": fn}``, and ``fn(value)`` returns ``None`` or what was expected,
which the loader puts in its error after the file and the field::

    users: int = field(default=20_000, metadata={"check": at_least(500)})
    # exp.yaml: genres.users: expected a number >= 500, got 10

Contents:
    Check: the type of a field check.
    positive, above, at_least, between, interval, optional: numeric field checks
        (:mod:`deepracer.config.checks`).
    matches: a string field check by regular expression (:mod:`deepracer.config.checks`).
    language_code, s3_uri_or_empty: string checks of AWS settings (a Comprehend
        language, an S3 location).
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

from deepracer.config.checks import (
    Check,
    above,
    at_least,
    between,
    interval,
    matches,
    optional,
    positive,
)
from deepracer.tables import markdown_table

if TYPE_CHECKING:
    from deepracer.plugins import PluginResult, RunContext

__all__ = [
    "Check",
    "DeferredRun",
    "above",
    "at_least",
    "between",
    "interval",
    "language_code",
    "markdown_table",
    "matches",
    "number",
    "optional",
    "percent",
    "positive",
    "s3_uri_or_empty",
]

language_code = matches(r"[a-z]{2}(-[A-Z]{2,4})?", "a language code such as 'en' or 'zh-TW'")
"""Checks a ``LanguageCode`` as Comprehend takes it: ``en``, ``de``, ``zh-TW``, ..."""

s3_uri_or_empty = matches(r"(s3://.*)?", "an s3:// URI (or empty)")
"""Checks an S3 location that may be left empty (for a default): ``s3://BUCKET/KEY``."""


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
