"""The analysis PNGs: track with trajectories, iteration curves, completion, actions, laps.

Every function draws one figure with matplotlib's Agg canvas (no pyplot, so no
global figure state to close) and writes it atomically (a temporary file in the
same folder, then a rename), so a reader never sees a half-written PNG.

Contents:
    EvaluationLap: one evaluation trial as drawn in ``evaluation.png``.
    track_plot: ``track.png``: trajectories coloured by commanded and actual speed.
    iterations_plot: ``iterations.png``: reward and progress per iteration.
    completion_plot: ``completion.png``: lap completion rate per iteration.
    actions_plot: ``actions.png``: action usage histogram.
    evaluation_plot: ``evaluation.png``: evaluation laps and their times.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from deepracer.analysis.logs import ActionSpace, Raceline, Simtrace, actual_speed
from deepracer.io import atomic_write_bytes
from deepracer.tracks import Track

__all__ = [
    "EvaluationLap",
    "actions_plot",
    "completion_plot",
    "evaluation_plot",
    "iterations_plot",
    "track_plot",
]

COMMANDED_LABEL = "commanded speed: throttle column [m/s]"
ACTUAL_LABEL = "actual speed: from X, Y and tstamp [m/s]"
_CMAP = "plasma"
_MAX_TRIAL_PANELS = 4


@dataclass(frozen=True)
class EvaluationLap:
    """One evaluation trial.

    Attributes:
        trial: 1-based trial number.
        status: Final status (``lap_complete``, ``Lap complete``, ``off_track``...).
        progress: Progress reached [%].
        time: Trial time [s].
        lap_complete: Whether the lap was finished.
    """

    trial: int
    status: str
    progress: float
    time: float
    lap_complete: bool


def _figure(width: float, height: float, *, bottom: float = 0.6, wspace: float = 0.3) -> Any:
    """Returns a figure of ``width`` x ``height`` inches with fixed margins [in].

    Fixed margins instead of a layout engine: constrained or tight layout draws the
    figure twice, which doubles the time of every PNG.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(
        left=0.8 / width,
        right=1.0 - 0.25 / width,
        bottom=bottom / height,
        top=1.0 - 0.8 / height,
        wspace=wspace,
    )
    return fig


def _integer_ticks(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _save(fig: Any, path: Path) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def _draw_track(ax: Any, track: Track) -> None:
    """Draws the road (grey between the borders), both borders and the centre line."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    from deepracer.tracks.geometry import signed_area

    rows = track.waypoints_array
    centre, inner, outer = rows[:, 0:2], rows[:, 2:4], rows[:, 4:6]
    if track.is_loop:
        # Filled by the non-zero winding rule: the hole must wind the other way round.
        hole = inner if (signed_area(inner) > 0) != (signed_area(outer) > 0) else inner[::-1]
        codes = [MplPath.MOVETO] + [MplPath.LINETO] * (len(outer) - 1)
        codes += [MplPath.MOVETO] + [MplPath.LINETO] * (len(hole) - 1)
        road = MplPath(np.vstack([outer, hole]), codes)
    else:
        road = MplPath(np.vstack([outer, inner[::-1], outer[:1]]), closed=True)
    ax.add_patch(PathPatch(road, facecolor="0.88", edgecolor="none", zorder=0))
    ax.plot(inner[:, 0], inner[:, 1], color="0.25", lw=1.0, zorder=1)
    ax.plot(outer[:, 0], outer[:, 1], color="0.25", lw=1.0, zorder=1)
    ax.plot(centre[:, 0], centre[:, 1], "--", color="0.55", lw=0.7, zorder=1)
    ax.plot([inner[0, 0], outer[0, 0]], [inner[0, 1], outer[0, 1]], color="tab:red", lw=2, zorder=1)
    ax.set_aspect("equal")
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")


def _panel_height(track: Track | None, width: float) -> float:
    """Returns the figure height [in] that fits a track panel ``width`` inches wide."""
    if track is None:
        return width
    rows = track.waypoints_array
    xy = np.vstack([rows[:, 2:4], rows[:, 4:6]])
    span = np.ptp(xy, axis=0)
    # Axes take ~70 % of a panel's width (colour bar, labels); add the title margins.
    return float(np.clip(0.7 * width * span[1] / max(span[0], 1e-9), 2.5, 9.0)) + 1.6


def _speed_range(*arrays: npt.NDArray[np.float64] | None) -> tuple[float, float]:
    """Returns a shared colour range: 0 to the 99th percentile of all finite speeds."""
    values = [a[np.isfinite(a)] for a in arrays if a is not None]
    finite = np.concatenate(values) if values else np.zeros(0)
    top = float(np.percentile(finite, 99)) if finite.size else 1.0
    return 0.0, max(top, 0.1)


def track_plot(
    path: Path,
    track: Track,
    trace: Simtrace,
    *,
    raceline: Raceline | None = None,
    title: str = "",
) -> Path:
    """Writes ``track.png``: trajectories as points coloured by speed; returns the path.

    One panel per speed: the commanded speed (``throttle`` column) and the actual
    speed derived from consecutive positions and sim times; a third panel shows the
    race line's planned speed when it has one. The race line is drawn on every panel.

    Args:
        path: The PNG file.
        track: The track the trajectories were driven on.
        trace: The rows to draw (whole episodes).
        raceline: A race line to overlay, or None.
        title: The figure title.
    """
    commanded = trace.throttle
    actual = actual_speed(trace)
    planned = raceline.speed if raceline is not None else None
    vmin, vmax = _speed_range(commanded, actual, planned)
    panels: list[tuple[str, npt.NDArray[np.float64] | None]] = [
        (COMMANDED_LABEL, commanded),
        (ACTUAL_LABEL, actual),
    ]
    if planned is not None:
        panels.append(("race line planned speed [m/s]", None))
    fig = _figure(7.0 * len(panels), _panel_height(track, 7.0))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (label, speed) in zip(axes, panels, strict=True):
        _draw_track(ax, track)
        mappable = None
        if speed is not None:
            keep = np.isfinite(speed)
            mappable = ax.scatter(
                trace.X[keep],
                trace.Y[keep],
                c=speed[keep],
                s=5,
                cmap=_CMAP,
                vmin=vmin,
                vmax=vmax,
                zorder=2,
                linewidths=0,
            )
        if raceline is not None:
            x, y = raceline.x, raceline.y
            ax.plot(
                x,
                y,
                color="black",
                lw=1.2,
                zorder=3,
                label=f"race line ({Path(raceline.source).name})",
            )
            if speed is None and raceline.speed is not None:
                mappable = ax.scatter(
                    x, y, c=raceline.speed, s=12, cmap=_CMAP, vmin=vmin, vmax=vmax, zorder=4
                )
            ax.legend(loc="upper right", fontsize=8)
        if mappable is not None:
            fig.colorbar(mappable, ax=ax, label=label, shrink=0.8)
    fig.suptitle(title)
    return _save(fig, path)


def _group(
    iteration: npt.NDArray[np.int64], values: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int64], dict[str, npt.NDArray[np.float64]]]:
    """Returns the sorted iterations and per-iteration mean, median, quartiles of values."""
    keys = np.unique(iteration)
    groups = [values[iteration == k] for k in keys]
    stats = {
        "mean": np.array([g.mean() for g in groups]),
        "median": np.array([np.median(g) for g in groups]),
        "q25": np.array([np.percentile(g, 25) for g in groups]),
        "q75": np.array([np.percentile(g, 75) for g in groups]),
    }
    return keys, stats


def iterations_plot(
    path: Path,
    iteration: npt.NDArray[np.int64],
    reward: npt.NDArray[np.float64],
    progress: npt.NDArray[np.float64],
    *,
    title: str = "",
    xlabel: str = "iteration",
) -> Path:
    """Writes ``iterations.png``: per-iteration episode reward and progress.

    Args:
        path: The PNG file.
        iteration: The iteration of each episode.
        reward: The total reward of each episode.
        progress: The progress of each episode [%].
        title: The figure title.
        xlabel: The x-axis label.
    """
    fig = _figure(13.0, 4.8)
    axes = fig.subplots(1, 2)
    for ax, values, name in (
        (axes[0], reward, "episode reward"),
        (axes[1], progress, "progress [%]"),
    ):
        keys, stats = _group(iteration, values)
        marker = "o" if len(keys) < 30 else None
        ax.fill_between(
            keys, stats["q25"], stats["q75"], color="tab:blue", alpha=0.2, label="25-75 %"
        )
        ax.plot(keys, stats["mean"], marker=marker, color="tab:blue", label="mean")
        ax.plot(keys, stats["median"], marker=marker, color="tab:orange", ls="--", label="median")
        ax.set_xlabel(xlabel)
        _integer_ticks(ax)
        ax.set_ylabel(name)
        ax.set_title(f"{name} per {xlabel.split(' ')[0]}")
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    axes[1].set_ylim(0, 105)
    fig.suptitle(title)
    return _save(fig, path)


def completion_plot(
    path: Path,
    iteration: npt.NDArray[np.int64],
    complete: npt.NDArray[np.bool_],
    *,
    title: str = "",
    xlabel: str = "iteration",
) -> Path:
    """Writes ``completion.png``: the share of episodes that finished the lap.

    Args:
        path: The PNG file.
        iteration: The iteration of each episode.
        complete: Whether each episode finished the lap.
        title: The figure title.
        xlabel: The x-axis label.
    """
    keys = np.unique(iteration)
    rate = np.array([100.0 * complete[iteration == k].mean() for k in keys])
    counts = np.array([int(np.sum(iteration == k)) for k in keys])
    fig = _figure(9.0, 4.8)
    ax = fig.subplots()
    ax.bar(keys, rate, color="tab:green", width=0.8, label="laps completed")
    cumulative = (
        100.0 * np.cumsum([complete[iteration == k].sum() for k in keys]) / np.cumsum(counts)
    )
    ax.plot(keys, cumulative, "k.-", lw=1, label="cumulative")
    ax.set_ylim(0, 105)
    ax.set_xlabel(xlabel)
    _integer_ticks(ax)
    ax.set_ylabel("episodes that completed the lap [%]")
    overall = 100.0 * complete.mean() if complete.size else 0.0
    ax.set_title(f"lap completion: {overall:.1f} % of {complete.size} episodes")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.suptitle(title)
    return _save(fig, path)


def actions_plot(
    path: Path, trace: Simtrace, action_space: ActionSpace | None = None, *, title: str = ""
) -> Path:
    """Writes ``actions.png``: how often each action was taken.

    Discrete spaces get counts per action index (labelled with steering and speed
    when ``action_space`` is known) and, with several iterations, the share of each
    action per iteration; continuous spaces a 2-D histogram of steering and speed.
    The ``prepare`` rows (no action taken yet) are left out.

    Args:
        path: The PNG file.
        trace: The simtrace rows.
        action_space: The model's action space, or None.
        title: The figure title.
    """
    acted = trace.take(trace.episode_status != "prepare")
    if action_space is not None:
        continuous = action_space.kind == "continuous"
    else:
        continuous = bool(len(acted)) and bool(np.all(acted.action < 0))
    if continuous:
        return _continuous_actions(path, acted, action_space, title)
    return _discrete_actions(path, acted, action_space, title)


def _continuous_actions(path: Path, trace: Simtrace, space: ActionSpace | None, title: str) -> Path:
    fig = _figure(8.0, 6.0)
    ax = fig.subplots()
    steer_range = space.steering if space is not None and space.steering else None
    speed_range = space.speed if space is not None and space.speed else None
    hist_range = None
    if steer_range is not None and speed_range is not None:
        hist_range = [list(steer_range), list(speed_range)]
    *_, image = ax.hist2d(
        trace.steer, trace.throttle, bins=(31, 25), range=hist_range, cmap="viridis", cmin=1
    )
    fig.colorbar(image, ax=ax, label="steps")
    ax.set_xlabel("steering angle [deg]")
    ax.set_ylabel("commanded speed [m/s]")
    ax.set_title(f"continuous action usage ({len(trace)} steps)")
    fig.suptitle(title)
    return _save(fig, path)


def _discrete_actions(path: Path, trace: Simtrace, space: ActionSpace | None, title: str) -> Path:
    index = trace.action[trace.action >= 0]
    n = max(
        len(space.actions) if space is not None else 0, int(index.max()) + 1 if index.size else 1
    )
    counts = np.bincount(index, minlength=n)
    iterations = np.unique(trace.iteration[trace.action >= 0])
    two = len(iterations) > 1
    fig = _figure(max(9.0, 0.55 * n + 4) * (1.6 if two else 1.0), 5.6, bottom=1.1)
    axes = fig.subplots(1, 2 if two else 1, squeeze=False)[0]
    labels = [str(i) for i in range(n)]
    if space is not None:
        for i, (steer, speed) in enumerate(space.actions):
            labels[i] = f"{i}\n{steer:g}°\n{speed:g} m/s"
    ax = axes[0]
    ax.bar(np.arange(n), counts, color="tab:blue")
    ax.set_xticks(np.arange(n), labels, fontsize=7 if n > 12 else 8)
    ax.set_xlabel("action (index, steering, speed)" if space is not None else "action index")
    ax.set_ylabel("steps")
    ax.set_title(f"action usage ({index.size} steps)")
    ax.grid(axis="y", alpha=0.3)
    if two:
        its = trace.iteration[trace.action >= 0]
        share = np.array(
            [
                np.bincount(index[its == k], minlength=n) / max(1, np.sum(its == k))
                for k in iterations
            ]
        ).T
        ax = axes[1]
        image = ax.imshow(
            100.0 * share,
            aspect="auto",
            origin="lower",
            cmap="viridis",
            extent=(iterations[0] - 0.5, iterations[-1] + 0.5, -0.5, n - 0.5),
        )
        fig.colorbar(image, ax=ax, label="share of the iteration's steps [%]")
        ax.set_xlabel("iteration")
        _integer_ticks(ax)
        ax.set_ylabel("action index")
        ax.set_title("action usage per iteration")
    fig.suptitle(title)
    return _save(fig, path)


def evaluation_plot(
    path: Path,
    track: Track | None,
    trace: Simtrace,
    laps: Sequence[EvaluationLap],
    *,
    title: str = "",
) -> Path:
    """Writes ``evaluation.png``: each trial's path coloured by speed, and the lap times.

    Up to four trials get a track panel (actual speed, or the commanded speed where
    the sim times do not advance); a bar chart shows every trial's time, green for a
    finished lap.

    Args:
        path: The PNG file.
        track: The track, or None to draw the paths without it.
        trace: The evaluation simtrace rows.
        laps: The trials, in the order of the simtrace's episodes.
        title: The figure title.
    """
    bounds = trace.episode_bounds()
    shown = min(len(bounds), _MAX_TRIAL_PANELS)
    fig = _figure(5.5 * (shown + 1), max(4.5, _panel_height(track, 5.5)))
    axes = fig.subplots(1, shown + 1, squeeze=False)[0]
    speed = actual_speed(trace)
    label = ACTUAL_LABEL
    if not np.any(np.isfinite(speed)):
        speed, label = trace.throttle, COMMANDED_LABEL
    vmin, vmax = _speed_range(speed)
    for k in range(shown):
        ax = axes[k]
        start, stop = bounds[k]
        if track is not None:
            _draw_track(ax, track)
        else:
            ax.set_aspect("equal")
        rows = slice(start, stop)
        keep = np.isfinite(speed[rows])
        mappable = ax.scatter(
            trace.X[rows][keep],
            trace.Y[rows][keep],
            c=speed[rows][keep],
            s=6,
            cmap=_CMAP,
            vmin=vmin,
            vmax=vmax,
            zorder=2,
            linewidths=0,
        )
        lap = laps[k] if k < len(laps) else None
        heading = (
            f"trial {lap.trial}: {lap.status}, {lap.progress:.0f} %" if lap else f"trial {k + 1}"
        )
        ax.set_title(heading, fontsize=10)
        if k == shown - 1:
            # Taken from all trial panels alike, so they keep one size.
            fig.colorbar(mappable, ax=list(axes[:shown]), label=label, shrink=0.8)
    ax = axes[-1]
    if laps:
        trials = [lap.trial for lap in laps]
        times = [lap.time for lap in laps]
        colours = ["tab:green" if lap.lap_complete else "0.6" for lap in laps]
        bars = ax.bar(range(len(laps)), times, color=colours)
        ax.set_xticks(range(len(laps)), [str(t) for t in trials])
        for bar, lap in zip(bars, laps, strict=True):
            text = f"{lap.time:.2f} s" if lap.lap_complete else f"{lap.progress:.0f} %"
            ax.annotate(
                text,
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=8,
            )
        done = [lap.time for lap in laps if lap.lap_complete]
        best = f"best lap {min(done):.2f} s" if done else "no lap completed"
        ax.set_title(f"{sum(1 for lap in laps if lap.lap_complete)}/{len(laps)} laps, {best}")
    ax.set_xlabel("trial")
    ax.set_ylabel("trial time [s] (grey: lap not finished)")
    ax.grid(axis="y", alpha=0.3)
    fig.suptitle(title)
    return _save(fig, path)
