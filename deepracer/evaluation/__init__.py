"""Evaluation of trained policies.

Contents:
    TrialResult, run_trials: greedy trials from the start line (see
        :mod:`deepracer.evaluation.greedy`).
"""

from __future__ import annotations

from deepracer.evaluation.greedy import TrialResult, run_trials

__all__ = ["TrialResult", "run_trials"]
