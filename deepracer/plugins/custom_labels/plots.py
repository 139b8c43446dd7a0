"""The run's figures, as matplotlib ``Figure`` objects (no pyplot state).

Contents:
    per_class_figure: mean accuracy per class with its sd over episodes.
    confusion_figure: the row-normalised confusion matrix summed over episodes.
    training_grid_figure: one episode's training images, a row per class.
    episodes_figure: every episode's accuracy, model and baseline.
    track_labels_figure: where on the track each label comes from, and the curvature.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from deepracer.plugins.custom_labels.fewshot import Summary

__all__ = [
    "confusion_figure",
    "episodes_figure",
    "per_class_figure",
    "track_labels_figure",
    "training_grid_figure",
]

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd")


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def per_class_figure(
    names: Sequence[str], main: Summary, label: str, baseline: Summary | None, baseline_label: str
) -> Any:
    """Bars of mean per-class accuracy, error bars one sd over episodes."""
    fig = _figure(max(5.0, 0.7 * len(names) + 2.5), 3.8)
    ax = fig.add_subplot()
    x = np.arange(len(names))
    width = 0.38 if baseline is not None else 0.6
    offset = width / 2 if baseline is not None else 0.0
    ax.bar(x - offset, main.per_class_mean, width, yerr=main.per_class_sd, capsize=3, label=label)
    if baseline is not None:
        ax.bar(
            x + offset,
            baseline.per_class_mean,
            width,
            yerr=baseline.per_class_sd,
            capsize=3,
            label=baseline_label,
            color="#bbbbbb",
        )
    ax.set_xticks(x, list(names), rotation=45 if max(map(len, names)) > 6 else 0)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("test accuracy (recall)")
    ax.set_title("Per-class accuracy, mean ± sd over episodes")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return fig


def confusion_figure(names: Sequence[str], confusion: NDArray[np.int64]) -> Any:
    """Rows: true class; columns: predicted; each row sums to 1."""
    size = max(3.8, 0.55 * len(names) + 2.0)
    fig = _figure(size + 0.8, size)
    ax = fig.add_subplot()
    rates = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    image = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), list(names), rotation=45 if max(map(len, names)) > 3 else 0)
    ax.set_yticks(range(len(names)), list(names))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Confusion (rows sum to 1, all episodes)")
    if len(names) <= 12:
        for (i, j), value in np.ndenumerate(rates):
            colour = "white" if value > 0.6 else "black"
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color=colour)
    fig.colorbar(image, ax=ax, shrink=0.8)
    return fig


def training_grid_figure(
    names: Sequence[str],
    images: Sequence[NDArray[np.float64]],
    labels: NDArray[np.int64],
    train: NDArray[np.int64],
    *,
    title: str,
    max_columns: int = 10,
    max_rows: int = 12,
) -> Any:
    """One episode's training images: a row per class (at most ``max_rows`` rows).

    The tiles are pasted into one mosaic drawn with a single ``imshow``: a hundred
    small axes took seconds to lay out and save.
    """
    rows = [c for c in range(len(names)) if np.any(labels[train] == c)][:max_rows]
    columns = max(1, min(max_columns, max(int(np.sum(labels[train] == c)) for c in rows)))
    shapes = {images[int(i)].shape for i in train}
    tile = shapes.pop() if len(shapes) == 1 else (64, 64)
    gap = max(1, tile[0] // 16)
    height, width = tile[0] + gap, tile[1] + gap
    mosaic = np.ones((len(rows) * height - gap, columns * width - gap))
    for r, c in enumerate(rows):
        for k, index in enumerate(train[labels[train] == c][:columns]):
            mosaic[r * height : r * height + tile[0], k * width : k * width + tile[1]] = _fit(
                images[int(index)], tile
            )
    aspect = mosaic.shape[1] / mosaic.shape[0]
    fig = _figure(min(14.0, 1.5 + 1.1 * len(rows) * aspect), 0.5 + 1.1 * len(rows))
    ax = fig.add_subplot()
    ax.imshow(mosaic, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([r * height + tile[0] / 2 for r in range(len(rows))], [names[c] for c in rows])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(length=0)
    ax.set_title(title, fontsize=10)
    return fig


def _fit(image: NDArray[np.float64], tile: tuple[int, int]) -> NDArray[np.float64]:
    """``image`` resized (nearest neighbour) to ``tile``, for display only."""
    if image.shape == tile:
        return image
    rows = (np.arange(tile[0]) * image.shape[0] // tile[0]).clip(0, image.shape[0] - 1)
    cols = (np.arange(tile[1]) * image.shape[1] // tile[1]).clip(0, image.shape[1] - 1)
    return image[np.ix_(rows, cols)]


def episodes_figure(
    accuracies: Sequence[float],
    label: str,
    baseline: Sequence[float] | None,
    baseline_label: str,
) -> Any:
    """Each episode's accuracy as a dot, the mean as a line."""
    fig = _figure(6.0, 3.4)
    ax = fig.add_subplot()
    x = np.arange(1, len(accuracies) + 1)
    ax.plot(x, accuracies, "o", color=_COLOURS[0], label=label)
    ax.axhline(float(np.mean(accuracies)), color=_COLOURS[0], lw=1)
    if baseline is not None:
        ax.plot(x, baseline, "s", color="#999999", ms=4, label=baseline_label)
        ax.axhline(float(np.mean(baseline)), color="#999999", lw=1, ls="--")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("episode")
    ax.set_ylabel("test accuracy")
    ax.set_title("Accuracy of each few-shot episode (line: mean)")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    return fig


def track_labels_figure(
    plans: Sequence[Any],
    names: Sequence[str],
    *,
    straight_below: float,
    turn_above: float,
) -> Any:
    """Where the labels come from.

    Left: the first direction's track with every drawn pose coloured by its label.
    Right: the labelling curvature against distance along the track, with the
    straight band shaded and the turn thresholds dotted.
    """
    fig = _figure(11.0, 4.2)
    left, right = fig.subplots(1, 2, width_ratios=(1, 1.4))
    first = plans[0]
    track = first.track
    rows = np.asarray(track.waypoints_array)
    for lo in (0, 2, 4):
        left.plot(rows[:, lo], rows[:, lo + 1], color="#888888", lw=0.8 if lo else 0.5)
    order = np.argsort(first.s)
    points = np.asarray(track.point_at(first.s[order]))
    kinds = [*names, "ambiguous"]
    colours = [*_COLOURS[: len(names)], "#cccccc"]
    codes = np.where(first.labels[order] < 0, len(names), first.labels[order])
    for k, (kind, colour) in enumerate(zip(kinds, colours, strict=True)):
        mask = codes == k
        left.scatter(points[mask, 0], points[mask, 1], s=4, color=colour, label=kind)
    left.set_aspect("equal")
    left.set_title(f"{track.name}, {first.direction}: label of each drawn pose")
    left.legend(fontsize=7, markerscale=3, loc="center")
    for plan, style in zip(plans, ("-", "--"), strict=False):
        order = np.argsort(plan.s)
        right.plot(plan.s[order], plan.curvature[order], style, lw=1, label=plan.direction)
    for level in (turn_above, -turn_above):
        right.axhline(level, color=_COLOURS[1], ls=":", lw=1)
    right.axhspan(-straight_below, straight_below, color=_COLOURS[2], alpha=0.15)
    right.set_xlabel("distance along the track (driving direction) [m]")
    right.set_ylabel("mean curvature ahead [rad/m]")
    right.set_title("Labelling curvature (band: straight; dotted: turn thresholds)")
    right.legend(fontsize=8)
    right.grid(alpha=0.3)
    return fig
