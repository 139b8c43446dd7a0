"""How well a car model predicts the real simulator: replayed log errors by horizon.

From every row of a real log the model starts at the logged pose and speed, is fed
the logged commands for H steps (each step as long as the log's time stamps say),
and the model point it reaches is compared with the logged one, H rows later. The
mean distance over all starting rows is the error at horizon H. Beside it stands
constant-velocity extrapolation from the same rows, the baseline a model must beat.

A row logs the pose and the command chosen there, so the command of row r drives the
step from row r to r + 1 (a control delay in the car keeps the previous command for
the first part of it). The speed at a row comes from the previous row (the model
point's displacement along the heading over the time between them), so the first
row of an episode (the car placed at its start) only serves as that previous row.
The car's hidden state, its actual steering angle, comes from driving the commands
of the rows before the start (up to :data:`WARMUP` of them, from the episode's
start at rest).

Contents:
    ReplayData: a log set's rows as flat arrays, ready to replay.
    ReplayErrors: the errors of a model and of the baseline at each horizon.
    replay_errors: replays a log set through a car model.
    replay_distances: the per-start errors, for fitting.
    replay_path: one start's replayed states, for plots.
    initial_states: the car at given rows, its steering state warmed up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from deepracer.errors import DeepRacerError
from deepracer.logs.logset import LogSet
from deepracer.physics.kinematic import STATE_SIZE, step_batch
from deepracer.physics.profiles import default_vehicle
from deepracer.physics.vehicle import VehicleParams

__all__ = [
    "HORIZONS",
    "WARMUP",
    "ReplayData",
    "ReplayErrors",
    "initial_states",
    "replay_distances",
    "replay_errors",
    "replay_path",
]

HORIZONS = (1, 15, 45)
"""One step, one simulated second, three seconds (at 15 steps per second)."""

WARMUP = 30
"""Rows before a start whose commands set the car's steering state (2 s at 15 Hz)."""

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class ReplayData:
    """A log set's episodes end to end, as flat arrays (one element per row).

    Attributes:
        t, x, y, yaw, steer, throttle: The columns (s, m, m, rad, rad, m/s).
        first: The row index of each row's episode's first row.
        last: The row index of each row's episode's last row.
        starts: The rows a replay can start from (a previous row, a next row).
    """

    t: FloatArray
    x: FloatArray
    y: FloatArray
    yaw: FloatArray
    steer: FloatArray
    throttle: FloatArray
    first: IntArray
    last: IntArray
    starts: IntArray

    @classmethod
    def of(cls, logs: LogSet) -> ReplayData:
        """Flattens the episodes of ``logs``."""
        columns = [(e.t, e.x, e.y, e.yaw, e.steer, e.throttle) for e in logs.episodes]
        t, x, y, yaw, steer, throttle = (
            np.concatenate(c).astype(np.float64) for c in zip(*columns, strict=True)
        )
        lengths = np.array([len(e) for e in logs.episodes], dtype=np.int64)
        last = np.repeat(np.cumsum(lengths) - 1, lengths)
        first = np.repeat(np.cumsum(lengths) - lengths, lengths)
        index = np.arange(len(t), dtype=np.int64)
        starts = index[(index > first) & (index < last)]
        return cls(t, x, y, yaw, steer, throttle, first, last, starts)


@dataclass(frozen=True)
class ReplayErrors:
    """Mean position errors of the model point, by horizon.

    Attributes:
        horizons: Steps ahead.
        model_cm: The car model's mean error at each horizon [cm].
        constant_velocity_cm: Constant-velocity extrapolation's [cm].
        starts: How many starting rows each horizon averages over.
    """

    horizons: tuple[int, ...]
    model_cm: tuple[float, ...]
    constant_velocity_cm: tuple[float, ...]
    starts: tuple[int, ...]

    def table(self) -> str:
        """The errors as an aligned text table."""
        lines = [f"{'horizon':>8} {'steps':>8} {'model cm':>10} {'const. vel. cm':>15}"]
        for h, n, m, c in zip(
            self.horizons, self.starts, self.model_cm, self.constant_velocity_cm, strict=True
        ):
            lines.append(f"{h:>8} {n:>8} {m:>10.1f} {c:>15.1f}")
        return "\n".join(lines)

    def result_line(self) -> str:
        """``RESULT err_1step_cm=... err_15_cm=... err_45_cm=... cv_15_cm=...``."""
        parts = [
            f"err_{'1step' if h == 1 else h}_cm={m:.1f}"
            for h, m in zip(self.horizons, self.model_cm, strict=True)
        ]
        if 15 in self.horizons:
            parts.append(f"cv_15_cm={self.constant_velocity_cm[self.horizons.index(15)]:.1f}")
        return "RESULT " + " ".join(parts)


def initial_states(data: ReplayData, starts: IntArray, p: VehicleParams) -> FloatArray:
    """The car at each start: logged pose, speed from the previous row, steering warmed up."""
    back = p.rear_axle_offset + p.model_point_offset
    max_steer = math.radians(p.max_steering_deg)
    # The steering state: drive the commands of up to WARMUP earlier rows from straight
    # ahead (at rest at an episode's start; 2 s is several steering time constants, so
    # where the warm-up starts mid-episode its guess has faded). Only the steering and
    # command columns are kept.
    warm = np.zeros((len(starts), STATE_SIZE))
    for k in range(WARMUP, 0, -1):
        row = starts - k
        on = row >= data.first[starts]
        if not on.any():
            continue
        rows = row[on]
        warm[on] = step_batch(
            warm[on],
            np.clip(data.steer[rows], -max_steer, max_steer),
            np.clip(data.throttle[rows], p.min_speed, p.max_speed),
            p,
            data.t[rows + 1] - data.t[rows],
            0.5,
        )
    dt_prev = data.t[starts] - data.t[starts - 1]
    vx = (data.x[starts] - data.x[starts - 1]) / dt_prev
    vy = (data.y[starts] - data.y[starts - 1]) / dt_prev
    heading = data.yaw[starts]
    # The rear axle's speed is the model point's along the heading: turning only adds
    # a sideways part there (the model point lies on the car's axis).
    mid = 0.5 * (heading + data.yaw[starts - 1])
    state = warm
    state[:, 0] = data.x[starts] - back * np.cos(heading)
    state[:, 1] = data.y[starts] - back * np.sin(heading)
    state[:, 2] = heading
    state[:, 3] = vx * np.cos(mid) + vy * np.sin(mid)
    return state


def replay_distances(
    data: ReplayData,
    params: VehicleParams,
    starts: IntArray,
    horizons: tuple[int, ...],
    friction: float = 0.5,
) -> dict[int, tuple[FloatArray, FloatArray, NDArray[np.bool_]]]:
    """Replays from each start; per-start distances at each horizon.

    Args:
        data: The flattened logs.
        params: The car.
        starts: Rows of ``data.starts`` to replay from.
        horizons: Steps ahead, each >= 1.
        friction: The logs' surface friction coefficient.

    Returns:
        ``{h: (model_m, constant_velocity_m, reached)}``: distances [m] of the model
        point from the logged one ``h`` rows later, and whether the episode lasts that
        long (distances of starts that do not are meaningless).
    """
    p = params
    back = p.rear_axle_offset + p.model_point_offset
    max_steer = math.radians(p.max_steering_deg)
    state = initial_states(data, starts, p)
    last = data.last[starts]
    dt_prev = data.t[starts] - data.t[starts - 1]
    vx = (data.x[starts] - data.x[starts - 1]) / dt_prev
    vy = (data.y[starts] - data.y[starts - 1]) / dt_prev
    out: dict[int, tuple[FloatArray, FloatArray, NDArray[np.bool_]]] = {}
    for k in range(max(horizons)):
        row = np.minimum(starts + k, last - 1)  # past its episode's end a start idles
        state = step_batch(
            state,
            np.clip(data.steer[row], -max_steer, max_steer),
            np.clip(data.throttle[row], p.min_speed, p.max_speed),
            p,
            data.t[row + 1] - data.t[row],
            friction,
        )
        h = k + 1
        if h not in horizons:
            continue
        reached = starts + h <= last
        target = np.minimum(starts + h, last)
        mx = state[:, 0] + back * np.cos(state[:, 2])
        my = state[:, 1] + back * np.sin(state[:, 2])
        span = data.t[target] - data.t[starts]
        cx = data.x[starts] + vx * span
        cy = data.y[starts] + vy * span
        out[h] = (
            np.hypot(mx - data.x[target], my - data.y[target]),
            np.hypot(cx - data.x[target], cy - data.y[target]),
            reached,
        )
    return out


def replay_errors(
    logs: LogSet | ReplayData,
    params: VehicleParams | None = None,
    *,
    horizons: tuple[int, ...] = HORIZONS,
    friction: float = 0.5,
) -> ReplayErrors:
    """Replays every row of ``logs`` through the car; mean errors by horizon.

    Args:
        logs: The real simulator's logs (or their flattened rows).
        params: The car (the default vehicle profile's if None).
        horizons: Steps ahead to measure, each >= 1.
        friction: The surface's friction coefficient (0.5: Gazebo's wheels).

    Returns:
        The mean errors of the model and of constant-velocity extrapolation.

    Raises:
        DeepRacerError: A horizon is out of range, or no episode is long enough for
            the longest horizon.
    """
    p = params or default_vehicle()
    if not horizons or min(horizons) < 1:
        raise DeepRacerError(f"replay horizons must be >= 1 steps, got {horizons}")
    data = logs if isinstance(logs, ReplayData) else ReplayData.of(logs)
    distances = replay_distances(data, p, data.starts, tuple(horizons), friction)
    errors: dict[int, tuple[float, float, int]] = {}
    for h in horizons:
        model, constant, reached = distances[h]
        if reached.any():
            errors[h] = (
                float(np.mean(model[reached])),
                float(np.mean(constant[reached])),
                int(reached.sum()),
            )
    missing = [h for h in horizons if h not in errors]
    if missing:
        raise DeepRacerError(
            f"no episode of the logs is long enough to replay {max(missing)} steps ahead"
        )
    return ReplayErrors(
        horizons=tuple(horizons),
        model_cm=tuple(100.0 * errors[h][0] for h in horizons),
        constant_velocity_cm=tuple(100.0 * errors[h][1] for h in horizons),
        starts=tuple(errors[h][2] for h in horizons),
    )


def replay_path(
    data: ReplayData, params: VehicleParams, start: int, steps: int, friction: float = 0.5
) -> FloatArray:
    """The car's states replaying ``steps`` logged commands from row ``start``.

    Returns:
        (K + 1, 7) states from the start, ``K <= steps`` (the episode may end first).
    """
    p = params
    max_steer = math.radians(p.max_steering_deg)
    state = initial_states(data, np.array([start], dtype=np.int64), p)
    out = [state[0]]
    for row in range(start, min(start + steps, int(data.last[start]))):
        state = step_batch(
            state,
            np.clip(data.steer[row : row + 1], -max_steer, max_steer),
            np.clip(data.throttle[row : row + 1], p.min_speed, p.max_speed),
            p,
            data.t[row + 1] - data.t[row],
            friction,
        )
        out.append(state[0])
    return np.array(out)
