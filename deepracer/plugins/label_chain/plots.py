"""Figures of a ``label_chain`` run (matplotlib, Agg backend).

Contents:
    labels_by_source_figure: per scenario, each job's output manifest by label source.
    threshold_figure: validation accuracy and coverage against the confidence threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from deepracer.plugins.label_chain.scenarios import ScenarioResult
from deepracer.plugins.label_chain.simulate import RoundStats

__all__ = ["labels_by_source_figure", "threshold_figure"]

_SEGMENTS = (
    ("carried", "labelled before (passed through)", "#9e9e9e"),
    ("human", "people, this job", "#1f77b4"),
    ("machine", "automated labeling, this job", "#ff7f0e"),
    ("failed", "failed", "#d62728"),
    ("unlabeled", "unlabelled", "#f0f0f0"),
)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def labels_by_source_figure(scenarios: Sequence[ScenarioResult]) -> Any:
    """One panel per scenario: a stacked bar per job, its output manifest by source.

    Each bar adds up to every object: labels the job passed through from its input,
    labels it got from people and from the model, failed and unlabelled objects.
    """
    plt = _pyplot()
    count = len(scenarios)
    columns = min(3, count)
    rows = (count + columns - 1) // columns
    figure, axes = plt.subplots(
        rows, columns, figsize=(4.2 * columns, 3.4 * rows), squeeze=False, sharey=True
    )
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    for ax, scenario in zip(axes.flat, scenarios, strict=False):
        bottoms = [0.0] * len(scenario.jobs)
        for key, label, colour in _SEGMENTS:
            values = []
            for job in scenario.jobs:
                result = job.result
                new = {"human": result.human, "machine": result.machine}
                counters = result.counters
                carried = counters.labeled - result.human - result.machine
                values.append(
                    {
                        "carried": carried,
                        "human": new["human"],
                        "machine": new["machine"],
                        "failed": counters.failed,
                        "unlabeled": counters.unlabeled,
                    }[key]
                )
            positions = list(range(len(scenario.jobs)))
            ax.bar(
                positions,
                values,
                bottom=bottoms,
                color=colour,
                edgecolor="#555555",
                linewidth=0.5,
                label=label,
            )
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
        names = [job.role.replace("third-party", "3rd party") for job in scenario.jobs]
        ax.set_xticks(range(len(names)), names, fontsize=8)
        ax.set_title(f"{scenario.number}: {scenario.title}", fontsize=9)
        ax.set_ylabel("objects")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=len(_SEGMENTS), fontsize=8)
    figure.suptitle("Each job's output manifest by label source")
    figure.tight_layout(rect=(0, 0.06, 1, 0.96))
    return figure


def threshold_figure(curves: Sequence[tuple[str, RoundStats]], target: float) -> Any:
    """Validation accuracy and coverage above each threshold, one line per job's round.

    Args:
        curves: ``(label, round)`` pairs of trained rounds (with a curve).
        target: The accuracy the threshold must reach.
    """
    plt = _pyplot()
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(7.5, 6.5), sharex=True)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (label, stats) in enumerate(curves):
        curve = stats.curve
        if curve is None:
            continue
        colour = colours[k % len(colours)]
        top.plot(curve.thresholds, curve.accuracy, color=colour, lw=1.2, label=label)
        bottom.plot(curve.thresholds, curve.coverage, color=colour, lw=1.2)
        if stats.threshold is not None:
            for ax in (top, bottom):
                ax.axvline(stats.threshold, color=colour, ls=":", lw=1)
    top.axhline(target, color="black", ls="--", lw=1, label=f"target {target:.0%}")
    top.set_ylabel("accuracy of validation objects\nat or above the threshold")
    bottom.set_ylabel("share of validation objects\nat or above the threshold")
    bottom.set_xlabel("confidence threshold (dotted: the one chosen)")
    top.legend(fontsize=8, loc="lower right")
    top.set_title("Automated labeling: choosing the threshold on the validation set")
    figure.tight_layout()
    return figure
