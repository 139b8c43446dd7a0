"""The plots ``deepracer calibrate`` writes beside a fitted profile.

Each compares the real simulator's logs with the fitted car and the car it started
from:
    error_vs_horizon.png: mean position error 1 to 45 steps ahead, fitted and held-out
        episodes, beside constant-velocity extrapolation;
    speed_response.png: commanded, logged and replayed speed over one stretch of driving;
    yaw_rate.png: logged and replayed yaw rate after the steering changes of that stretch;
    curvature_vs_steering.png: path curvature against a steering command held for
        half a second, with each car's steady-state line.

Contents:
    write_plots: writes the four PNG files.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from deepracer.logs.logset import LogSet
from deepracer.physics.replay import ReplayData, initial_states, replay_distances, replay_path
from deepracer.physics.vehicle import VehicleParams

__all__ = ["write_plots"]

_STRETCH = 150  # rows of driving shown (10 s at 15 Hz)
_HELD_ROWS = 8  # a command counts as held after this many rows (about 0.5 s)


def _logged_motion(data: ReplayData) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Speed [m/s] and yaw rate [rad/s] from each row to the next (NaN at episode ends)."""
    dt = np.diff(data.t)
    speed = np.hypot(np.diff(data.x), np.diff(data.y)) / dt
    rate = np.diff(data.yaw) / dt
    ends = data.last[:-1] == np.arange(len(dt))
    speed[ends], rate[ends] = np.nan, np.nan
    return np.append(speed, np.nan), np.append(rate, np.nan)


def _busiest_stretch(data: ReplayData) -> int:
    """A start row whose next rows change the steering most (and are all one episode)."""
    usable = data.starts[data.last[data.starts] - data.starts >= _STRETCH]
    if len(usable) == 0:
        return int(data.starts[0])
    change = np.abs(np.diff(data.steer, append=data.steer[-1]))
    total = np.convolve(change, np.ones(_STRETCH), mode="full")[_STRETCH - 1 :]
    return int(usable[np.argmax(total[usable])])


def write_plots(
    logs: LogSet,
    held_out: LogSet | None,
    fitted: VehicleParams,
    before: VehicleParams,
    out: Path,
    *,
    friction: float = 0.5,
) -> list[Path]:
    """Writes the calibration plots into ``out``.

    Args:
        logs: The episodes the car was fitted on.
        held_out: The held-out episodes, if any.
        fitted: The fitted car.
        before: The car the fit started from.
        out: The folder (created if missing).
        friction: The logs' surface friction coefficient.

    Returns:
        The files written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    data = ReplayData.of(logs)
    written: list[Path] = []

    def save(fig: object, name: str) -> None:
        path = out / name
        fig.savefig(path, dpi=110, bbox_inches="tight")  # type: ignore[attr-defined]
        plt.close(fig)  # type: ignore[arg-type]
        written.append(path)

    horizons = tuple(range(1, 46))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    sets = [("fitted episodes", data)]
    if held_out is not None:
        sets.append(("held-out episodes", ReplayData.of(held_out)))
    for label, replayed in sets:
        for car, name, style in ((fitted, "fitted car", "-"), (before, "before", ":")):
            if name == "before" and label != "fitted episodes":
                continue
            d = replay_distances(replayed, car, replayed.starts, horizons, friction)
            mean = [100 * d[h][0][d[h][2]].mean() for h in horizons]
            ax.plot(horizons, mean, style, label=f"{name}, {label}")
        if label == "fitted episodes":
            cv = [100 * d[h][1][d[h][2]].mean() for h in horizons]
            ax.plot(horizons, cv, "--", color="grey", label="constant velocity")
    ax.set(xlabel="steps ahead (15 per second)", ylabel="mean position error [cm]")
    ax.set_ylim(0, None)
    ax.legend()
    ax.set_title("Replay error of the model point by horizon")
    save(fig, "error_vs_horizon.png")

    start = _busiest_stretch(data)
    paths = {
        name: replay_path(data, car, start, _STRETCH, friction)
        for name, car in (("fitted car", fitted), ("before", before))
    }
    speed, rate = _logged_motion(data)
    rows = np.arange(start, start + len(paths["fitted car"]) - 1)
    t = data.t[rows] - data.t[start]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.step(t, data.throttle[rows], where="post", color="grey", label="command")
    ax.plot(t, speed[rows], "k.-", label="logged")
    for name, states in paths.items():
        ax.plot(t, states[1:, 3], label=name)
    ax.set(xlabel="time [s]", ylabel="speed [m/s]", title="Speed response (replayed open loop)")
    ax.legend()
    save(fig, "speed_response.png")

    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(t, np.degrees(rate[rows]), "k.-", label="logged")
    for name, states in paths.items():
        times = data.t[start : start + len(states)]
        ax.plot(t, np.degrees(np.diff(np.unwrap(states[:, 2])) / np.diff(times)), label=name)
    twin = ax.twinx()
    twin.step(t, np.degrees(data.steer[rows]), where="post", color="grey", alpha=0.5)
    twin.set_ylabel("steering command [deg]", color="grey")
    ax.set(xlabel="time [s]", ylabel="yaw rate [deg/s]", title="Yaw rate after steering changes")
    ax.legend(loc="upper left")
    save(fig, "yaw_rate.png")

    steer = data.steer
    held = np.ones(len(steer), dtype=bool)
    for k in range(1, _HELD_ROWS + 1):
        prev = np.arange(len(steer)) - k
        same = np.abs(steer - steer[np.maximum(prev, 0)]) < math.radians(2)
        held &= (prev >= data.first) & same
    moving = speed > 0.3
    curvature = rate / np.where(moving, speed, np.nan)
    use = held & moving & np.isfinite(rate)
    if use.sum() >= 50:
        angle, what = steer, f"steering command held {_HELD_ROWS} steps [deg]"
    else:  # continuous actions rarely hold: the angle the fitted lag gives instead
        angle = np.full(len(steer), np.nan)
        angle[data.starts] = initial_states(data, data.starts, fitted)[:, 4]
        use = moving & np.isfinite(rate) & np.isfinite(angle)
        what = "steering angle: the commands through the fitted lag [deg]"
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.plot(np.degrees(angle[use]), curvature[use], ".", alpha=0.2, color="k", label="logged")
    grid = np.radians(np.linspace(-30, 30, 61))
    for car, name in ((fitted, "fitted car"), (before, "before")):
        ax.plot(np.degrees(grid), np.tan(grid) / car.effective_wheelbase, label=name)
    ax.set(
        xlabel=what,
        ylabel="path curvature [1/m]",
        title=f"Curvature vs steering ({int(use.sum())} rows)",
        ylim=(-5, 5),
    )
    ax.legend()
    save(fig, "curvature_vs_steering.png")
    return written
