"""Run logs in the DeepRacer formats.

Contents:
    SIMTRACE_COLUMNS, simtrace_row, SimtraceWriter, RecordSimtrace, read_simtrace:
        the simtrace CSV; see :mod:`deepracer.logs.simtrace`.
"""

from __future__ import annotations

from deepracer.logs.simtrace import (
    SIMTRACE_COLUMNS,
    RecordSimtrace,
    SimtraceWriter,
    read_simtrace,
    simtrace_row,
)

__all__ = [
    "SIMTRACE_COLUMNS",
    "RecordSimtrace",
    "SimtraceWriter",
    "read_simtrace",
    "simtrace_row",
]
