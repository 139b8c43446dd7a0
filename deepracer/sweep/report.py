"""A sweep's ranked report: a Markdown table and a plot of every trial.

Trials rank by their best periodic evaluation: mean greedy progress first, then a
faster mean lap (the console's best-model rule); trials with no evaluation come last.

Contents:
    write_report: writes ``report.md`` and ``report.png`` into the sweep directory.
"""

from __future__ import annotations

import json
from typing import Any

from deepracer.io import atomic_write_text
from deepracer.sweep.config import SweepConfig
from deepracer.sweep.layout import SweepFiles
from deepracer.sweep.trials import SweepTrial
from deepracer.tables import markdown_table

__all__ = ["write_report"]


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def write_report(files: SweepFiles, sweep: SweepConfig, trials: list[SweepTrial]) -> None:
    """Writes the ranked table (``report.md``) and the plot (``report.png``).

    Args:
        files: The sweep directory.
        sweep: The sweep (its name, description and varied keys head the report).
        trials: The trials, best first.
    """
    keys = sorted({k for t in trials for k in t.params})
    header = [
        "rank", "trial", *keys, "status", "best progress %", "laps", "best lap s",
        "at steps", "steps", "steps/s",
    ]  # fmt: skip
    rows = []
    for rank, trial in enumerate(trials, 1):
        best = trial.best()
        last = trial.evaluations[-1] if trial.evaluations else None
        fastest = [e.best_lap_time for e in trial.evaluations if e.best_lap_time is not None]
        rows.append([
            rank,
            f"`{trial.name}`",
            *(_value(trial.params.get(k, "")) for k in keys),
            trial.status,
            f"{best.mean_progress:.1f}" if best else "",
            f"{best.laps_completed}/{best.trials}" if best else "",
            f"{min(fastest):.3f}" if fastest else "",
            f"{best.timesteps:,}" if best else "",
            f"{last.timesteps:,}" if last else "",
            f"{last.timesteps / last.wall_seconds:.0f}" if last and last.wall_seconds > 0 else "",
        ])  # fmt: skip
    lines = [f"# Sweep {sweep.name}", ""]
    if sweep.description:
        lines += [sweep.description, ""]
    lines += [
        f"Base experiment `{sweep.experiment}`; {len(trials)} trials, ranked by their best"
        " periodic evaluation (mean greedy progress, then mean lap time). Each trial is a"
        f" run directory in `{files.trials.name}/`: `deepracer evaluate`, `analyze` and"
        " `train --resume` take it as they take any run.",
        "",
        markdown_table(header, rows),
        "",
        f"![progress and lap time against steps]({files.plot.name})",
        "",
    ]
    _plot(files, trials)
    atomic_write_text(files.report, "\n".join(lines))


def _plot(files: SweepFiles, trials: list[SweepTrial]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    for rank, trial in enumerate(trials, 1):
        if not trial.evaluations:
            continue
        steps = [e.timesteps for e in trial.evaluations]
        label = f"{rank}. {trial.name}"
        (line,) = left.plot(steps, [e.mean_progress for e in trial.evaluations], marker="o",
                            label=label)  # fmt: skip
        laps = [(e.timesteps, e.best_lap_time) for e in trial.evaluations if e.best_lap_time]
        if laps:
            right.plot(*zip(*laps, strict=True), marker="o", color=line.get_color(), label=label)
    left.set(xlabel="training steps", ylabel="greedy evaluation progress [%]", ylim=(0, 105))
    left.set_title("Evaluation progress")
    right.set(xlabel="training steps", ylabel="best lap of the evaluation [s]")
    right.set_title("Lap time (evaluations with a lap)")
    for axis in (left, right):
        axis.grid(alpha=0.3)
    handles, labels = left.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8)
    fig.tight_layout(rect=(0, 0.06 * ((len(handles) + 1) // 2), 1, 1))
    tmp = files.plot.with_name(files.plot.name + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(files.plot)
