"""The plots written at the end of a training run.

Contents:
    training_plot: track with the evaluation laps, training curves, evaluation history.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from deepracer.envs import EnvConfig, RacingEnv
from deepracer.evaluation import TrialResult
from deepracer.io import atomic_write_bytes
from deepracer.runs.evaluations import PeriodicEvaluation
from deepracer.runs.layout import RunFiles

__all__ = ["training_plot"]


def _moving_mean(values: list[float], window: int) -> tuple[np.ndarray, np.ndarray]:
    window = max(1, min(window, len(values)))
    smooth = np.convolve(values, np.ones(window) / window, mode="valid")
    return np.arange(window - 1, len(values)), smooth


def training_plot(
    out: Path,
    eval_config: EnvConfig,
    trials: list[TrialResult],
    rows: list[dict[str, Any]],
    evaluations: Sequence[PeriodicEvaluation],
) -> Path:
    """Writes ``training.png`` into the run directory; returns its path.

    Args:
        out: The run directory.
        eval_config: The evaluation env (for the track).
        trials: The final greedy trials (their paths are drawn).
        rows: The training metrics rows.
        evaluations: The periodic greedy evaluations.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    track = RacingEnv(eval_config).track
    w = track.waypoints_array
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    ax = axes[0]
    if track.is_loop:
        ax.fill(w[:, 4], w[:, 5], color="0.85", zorder=0)
        ax.fill(w[:, 2], w[:, 3], color="white", zorder=1)
    ax.plot(w[:, 2], w[:, 3], color="0.4", lw=0.8)
    ax.plot(w[:, 4], w[:, 5], color="0.4", lw=0.8)
    ax.plot(w[:, 0], w[:, 1], "k--", lw=0.6)
    for t in trials:
        xy = np.asarray(t.path)
        label = f"trial {t.trial}: {t.status}, {t.progress:.0f} %"
        if t.lap_time is not None:
            label += f", {t.lap_time:.2f} s"
        ax.plot(xy[:, 0], xy[:, 1], lw=1.4, zorder=3, label=label)
    ax.set_aspect("equal")
    ax.set_title(f"greedy evaluation on {track.name}")
    if trials:  # none when the time budget cut the final evaluation short
        ax.legend(loc="best", fontsize=7)

    ax = axes[1]
    if rows:
        progress = [float(r["completion_percentage"]) for r in rows]
        x, smooth = _moving_mean(progress, len(progress) // 20 or 1)
        ax.plot(progress, color="0.75", lw=0.6, label="episode progress %")
        ax.plot(x, smooth, lw=2, label="moving mean")
        laps = [100.0 * (r["episode_status"] == "Lap complete") for r in rows]
        x, lap_rate = _moving_mean(laps, len(laps) // 20 or 1)
        ax.plot(x, lap_rate, lw=1.5, label="lap completion %")
    ax.set_xlabel("training episode")
    ax.set_ylim(0, 105)
    ax.set_title("training")
    if rows:
        ax.legend(loc="best", fontsize=7)

    ax = axes[2]
    if evaluations:
        steps = [e.timesteps for e in evaluations]
        ax.plot(steps, [e.mean_progress for e in evaluations], "o-", label="mean progress %")
        twin = ax.twinx()
        laps = [(e.timesteps, e.best_lap_time) for e in evaluations if e.best_lap_time]
        if laps:
            twin.plot(*zip(*laps, strict=True), "s-", color="tab:red", label="best lap [s]")
            twin.set_ylabel("best lap time [s]")
    ax.set_xlabel("environment steps")
    ax.set_ylim(0, 105)
    ax.set_title("greedy evaluations")
    if evaluations:
        ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    path = RunFiles(out).plot
    atomic_write_bytes(path, buffer.getvalue())
    return path
