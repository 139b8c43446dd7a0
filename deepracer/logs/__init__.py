"""Run logs in the DeepRacer formats.

Contents:
    SIMTRACE_COLUMNS, simtrace_row, SimtraceWriter, RecordSimtrace, read_simtrace:
        the simtrace CSV; see :mod:`deepracer.logs.simtrace`.
    LogSet, LogEpisode, LogError, load_log_set, simtrace_files: the real simulator's
        simtrace logs, read episode by episode; see :mod:`deepracer.logs.logset`.
"""

from __future__ import annotations

from deepracer.logs.logset import LogEpisode, LogError, LogSet, load_log_set, simtrace_files
from deepracer.logs.simtrace import (
    SIMTRACE_COLUMNS,
    RecordSimtrace,
    SimtraceWriter,
    read_simtrace,
    simtrace_row,
)

__all__ = [
    "SIMTRACE_COLUMNS",
    "LogEpisode",
    "LogError",
    "LogSet",
    "RecordSimtrace",
    "SimtraceWriter",
    "load_log_set",
    "read_simtrace",
    "simtrace_files",
    "simtrace_row",
]
