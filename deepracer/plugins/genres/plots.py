"""The genres run's figures (matplotlib ``Figure`` objects, no pyplot state).

Contents:
    hit_rate_by_selected: model vs baseline vs Bayes top-3 hit rate per number of
        selected genres.
    popularity_bars: share of users whose top genre each one is, next to how often
        each method puts it first.
    confusion: the model's first choice against the actual top genre (row shares).
    calibration: reliability of the top-1 probability (model and Bayes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["calibration", "confusion", "hit_rate_by_selected", "popularity_bars"]

_COLORS = {"model": "#1f77b4", "baseline": "#ff7f0e", "bayes": "#2ca02c"}


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def hit_rate_by_selected(groups: Mapping[str, Mapping[str, float]]) -> Any:
    """Grouped bars: top-3 hit rate per number of selected genres, per method."""
    fig = _figure(7.5, 4.2)
    ax = fig.subplots()
    keys = list(groups)
    x = np.arange(len(keys))
    methods = ("model", "baseline", "bayes")
    width = 0.27
    for i, method in enumerate(methods):
        values = [groups[k][method] for k in keys]
        ax.bar(x + (i - 1) * width, values, width, label=method, color=_COLORS[method])
    ax.set_xticks(x, [f"{k}\n({int(groups[k]['users'])} users)" for k in keys])
    ax.set_xlabel("genres selected at onboarding")
    ax.set_ylabel("top-3 hit rate")
    ax.set_ylim(0, 1.1)  # headroom for the legend above the bars
    ax.set_title("Top-3 hit rate by number of selected genres (test users)")
    ax.legend(loc="upper center", ncol=3)
    ax.grid(axis="y", alpha=0.3)
    return fig


def popularity_bars(
    genres: Sequence[str],
    labels: NDArray[Any],
    firsts: Mapping[str, NDArray[Any]],
) -> Any:
    """Horizontal bars: actual top-genre shares and each method's first-choice shares."""
    k = len(genres)
    fig = _figure(7.5, 5.0)
    ax = fig.subplots()
    y = np.arange(k)
    series = {"actual top genre": np.bincount(labels, minlength=k) / labels.size}
    series.update(
        {f"{name} first choice": np.bincount(v, minlength=k) / v.size for name, v in firsts.items()}
    )
    height = 0.8 / len(series)
    colors = ["#444444", *(_COLORS.get(name, "#999999") for name in firsts)]
    for i, ((name, shares), color) in enumerate(zip(series.items(), colors, strict=True)):
        ax.barh(y + (i - (len(series) - 1) / 2) * height, shares, height, label=name, color=color)
    ax.set_yticks(y, list(genres))
    ax.invert_yaxis()
    ax.set_xlabel("share of test users")
    ax.set_title("Genre popularity: actual vs first recommendation")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return fig


def confusion(genres: Sequence[str], labels: NDArray[Any], first: NDArray[Any]) -> Any:
    """Heat map of the model's first choice (columns) per actual top genre (rows)."""
    k = len(genres)
    counts = np.zeros((k, k))
    np.add.at(counts, (labels, first), 1.0)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    fig = _figure(7.5, 6.5)
    ax = fig.subplots()
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(np.arange(k), list(genres), rotation=60, ha="right", fontsize=8)
    ax.set_yticks(np.arange(k), list(genres), fontsize=8)
    ax.set_xlabel("model's first choice")
    ax.set_ylabel("actual top genre two months on")
    for i in range(k):
        for j in range(k):
            if shares[i, j] >= 0.05:
                color = "white" if shares[i, j] > 0.5 else "black"
                ax.text(
                    j, i, f"{shares[i, j]:.2f}", ha="center", va="center", fontsize=6, color=color
                )
    fig.colorbar(image, ax=ax, label="share of the row")
    ax.set_title("Confusion of the first choice (row shares)")
    return fig


def calibration(
    labels: NDArray[Any], probabilities: Mapping[str, NDArray[Any]], bins: int = 10
) -> Any:
    """Reliability diagram of the top-1 probability of each method."""
    fig = _figure(5.5, 5.0)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="#888888", linestyle="--", linewidth=1, label="perfect")
    edges = np.linspace(0.0, 1.0, bins + 1)
    for name, proba in probabilities.items():
        first = np.argmax(proba, axis=1)
        confidence = proba[np.arange(first.size), first]
        correct = (first == labels).astype(np.float64)
        which = np.clip(np.digitize(confidence, edges) - 1, 0, bins - 1)
        xs, ys = [], []
        for b in range(bins):
            mask = which == b
            if mask.sum() >= 20:  # skip nearly empty bins: their share is noise
                xs.append(float(confidence[mask].mean()))
                ys.append(float(correct[mask].mean()))
        ax.plot(xs, ys, marker="o", label=name, color=_COLORS.get(name))
    ax.set_xlabel("predicted probability of the first choice")
    ax.set_ylabel("observed share correct")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title("Calibration of the first choice")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    return fig
