"""Hooks that plugins add to evaluation: ``deepracer evaluate --announce``.

The core never imports a plugin. A plugin that can announce an evaluation registers
an :class:`Announcer` here when its package is imported (the speech plugin does);
``deepracer evaluate --announce`` loads the installed plugins through
:mod:`deepracer.plugins` (their registry and entry points) and uses the first
announcer registered.

Contents:
    Announcer: the hook's type.
    register_announcer, unregister_announcer: add or remove one by name.
    announcers: the registered announcers by name, in registration order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from deepracer.evaluation.evaluate import TrialRecord

__all__ = ["Announcer", "announcers", "register_announcer", "unregister_announcer"]


class Announcer(Protocol):
    """Speaks (or otherwise announces) a finished evaluation.

    Called after the trials with the evaluation's records, its output folder (with
    ``evaluation_metrics.json`` and, unless ``--no-raceline``,
    ``raceline_comparison.json``) and the file ``--announce`` names. Returns the line
    the command prints; raises :class:`~deepracer.errors.DeepRacerError` for what the
    user can fix (a missing engine, an unwritable file).
    """

    def __call__(self, records: Sequence[TrialRecord], out: Path, path: Path) -> str:
        """Announces the evaluation ``records`` written to ``out`` into ``path``."""
        ...


_announcers: dict[str, Announcer] = {}


def register_announcer(name: str, announcer: Announcer) -> None:
    """Registers ``announcer`` under ``name`` (a plugin's name), replacing any of that name."""
    _announcers.pop(name, None)
    _announcers[name] = announcer


def unregister_announcer(name: str) -> None:
    """Removes the announcer registered under ``name``, if any."""
    _announcers.pop(name, None)


def announcers() -> dict[str, Announcer]:
    """The registered announcers by name, in registration order (a copy)."""
    return dict(_announcers)
