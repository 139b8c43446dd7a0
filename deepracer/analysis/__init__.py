"""Log analysis: read simtrace and metrics files, and plot them (``deepracer analyze``).

Contents:
    analyze, find_logs, LogFiles: see :mod:`deepracer.analysis.analyze`.
    Simtrace, load_simtrace, load_simtraces, summarize_episodes, actual_speed and the
        metrics, action-space and race-line readers: see :mod:`deepracer.analysis.logs`.
    The plot functions: see :mod:`deepracer.analysis.plots`.
    add_analyze (the ``deepracer analyze`` command): see :mod:`deepracer.analysis.commands`.
"""

from __future__ import annotations

from deepracer.analysis.analyze import LogFiles, analyze, find_logs
from deepracer.analysis.logs import (
    SIMTRACE_VARIANTS,
    ActionSpace,
    EpisodeSummary,
    EvaluationTrial,
    Raceline,
    Simtrace,
    TrainingEpisode,
    actual_speed,
    concat_simtraces,
    episodes_on_track,
    iteration_of,
    load_simtrace,
    load_simtraces,
    read_action_space,
    read_evaluation_metrics,
    read_raceline,
    read_training_metrics,
    summarize_episodes,
)
from deepracer.analysis.plots import (
    EvaluationLap,
    actions_plot,
    completion_plot,
    evaluation_plot,
    iterations_plot,
    track_plot,
)

__all__ = [
    "SIMTRACE_VARIANTS",
    "ActionSpace",
    "EpisodeSummary",
    "EvaluationLap",
    "EvaluationTrial",
    "LogFiles",
    "Raceline",
    "Simtrace",
    "TrainingEpisode",
    "actions_plot",
    "actual_speed",
    "analyze",
    "completion_plot",
    "concat_simtraces",
    "episodes_on_track",
    "evaluation_plot",
    "find_logs",
    "iteration_of",
    "iterations_plot",
    "load_simtrace",
    "load_simtraces",
    "read_action_space",
    "read_evaluation_metrics",
    "read_raceline",
    "read_training_metrics",
    "summarize_episodes",
    "track_plot",
]
