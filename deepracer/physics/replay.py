"""How well a car model predicts the real simulator: replayed log errors by horizon.

From every row of a real log the model starts at the logged pose and speed, is fed
the logged commands for H steps (each step as long as the log's time stamps say),
and the model point it reaches is compared with the logged one, H rows later. The
mean distance over all starting rows is the error at horizon H. Beside it stands
constant-velocity extrapolation from the same rows, the baseline a model must beat.

The speed at a row comes from the previous row (the model point's displacement
along the heading over the time between them), so the first row of an episode (the
car placed at its start) only serves as that previous row. ``delay`` feeds each step
the command logged that many rows earlier, for a control delay: which row's action
drives which step is for the data to say.

Contents:
    ReplayErrors: the errors of a model and of the baseline at each horizon.
    replay_errors: replays a log set through a car model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from deepracer.errors import DeepRacerError
from deepracer.logs.logset import LogSet
from deepracer.physics.kinematic import step_batch
from deepracer.physics.vehicle import VehicleParams

__all__ = ["HORIZONS", "ReplayErrors", "replay_errors"]

HORIZONS = (1, 15, 45)
"""One step, one simulated second, three seconds (at 15 steps per second)."""


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


def replay_errors(
    logs: LogSet,
    params: VehicleParams | None = None,
    *,
    horizons: tuple[int, ...] = HORIZONS,
    delay: int = 0,
    friction: float = 0.5,
) -> ReplayErrors:
    """Replays every row of ``logs`` through the kinematic car; errors by horizon.

    Args:
        logs: The real simulator's logs.
        params: The car (the package's default car if None).
        horizons: Steps ahead to measure, each >= 1.
        delay: Rows between a logged command and the step it drives (>= 0).
        friction: The surface's friction coefficient (0.5: Gazebo's wheels).

    Returns:
        The mean errors of the model and of constant-velocity extrapolation.

    Raises:
        DeepRacerError: A horizon or the delay is out of range, or no episode is
            long enough for the longest horizon.
    """
    p = params or VehicleParams()
    if not horizons or min(horizons) < 1:
        raise DeepRacerError(f"replay horizons must be >= 1 steps, got {horizons}")
    if delay < 0:
        raise DeepRacerError(f"replay delay must be >= 0 rows, got {delay}")
    # All episodes end to end; a start may step up to its episode's last row.
    columns = [(e.t, e.x, e.y, e.yaw, e.steer, e.throttle) for e in logs.episodes]
    t, px, py, yaw, steer_log, speed_log = (np.concatenate(c) for c in zip(*columns, strict=True))
    lengths = np.array([len(e) for e in logs.episodes])
    ends = np.repeat(np.cumsum(lengths) - 1, lengths)  # each row's episode's last row
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    # A start needs a previous row (its speed) and the rows of the delayed commands.
    index = np.arange(len(t))
    starts = index[(index - offsets >= max(1, delay)) & (index < ends)]
    last = ends[starts]

    dt_prev = t[starts] - t[starts - 1]
    vx = (px[starts] - px[starts - 1]) / dt_prev
    vy = (py[starts] - py[starts - 1]) / dt_prev
    back = p.rear_axle_offset + p.model_point_offset
    heading = yaw[starts]
    # The rear axle's speed is the model point's along the heading: turning only adds
    # a sideways part there (the model point lies on the car's axis).
    mid = 0.5 * (heading + yaw[starts - 1])
    state = np.stack(
        [
            px[starts] - back * np.cos(heading),
            py[starts] - back * np.sin(heading),
            heading,
            vx * np.cos(mid) + vy * np.sin(mid),
        ],
        axis=1,
    )
    max_steer = math.radians(p.max_steering_deg)
    errors: dict[int, tuple[float, float, int]] = {}
    for k in range(max(horizons)):
        row = np.minimum(starts + k, last - 1)  # past its episode's end a start idles
        command = row - delay
        state = step_batch(
            state,
            np.clip(steer_log[command], -max_steer, max_steer),
            np.clip(speed_log[command], p.min_speed, p.max_speed),
            p,
            t[row + 1] - t[row],
            friction,
        )
        h = k + 1
        if h not in horizons:
            continue
        done = starts + h <= last
        if not done.any():
            break
        target = starts[done] + h
        mx = state[done, 0] + back * np.cos(state[done, 2])
        my = state[done, 1] + back * np.sin(state[done, 2])
        span = t[target] - t[starts[done]]
        cx = px[starts[done]] + vx[done] * span
        cy = py[starts[done]] + vy[done] * span
        errors[h] = (
            float(np.mean(np.hypot(mx - px[target], my - py[target]))),
            float(np.mean(np.hypot(cx - px[target], cy - py[target]))),
            int(done.sum()),
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
