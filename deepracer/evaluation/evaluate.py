"""Console-style evaluation of a trained model: ``deepracer evaluate``.

Race mode (the default): N greedy trials of one lap each from the start line; with
``resets`` a car that fails (off track, crashed, reversed, immobilized) is put back
on the nearest lane up to that many times, frozen for the penalty while the clock
runs (``collision_penalty`` after a crash, as the simapp's ``COLLISION_PENALTY``),
then the next failure ends the trial (the seed's AWS Summit rules use 3).

Time-trial mode (``time_limit``): each trial drives continuous laps (the simapp's
``IS_CONTINUOUS``) until ``time_limit`` seconds of simulated time have passed,
counting laps, the best lap and resets; a failure beyond ``resets`` ends the trial
early.

Writes ``evaluation_metrics.json`` in the DeepRacer schema and the trials'
simtrace. Race mode writes one row per trial. Time-trial mode writes one row per
lap, as DeepRacer's continuous evaluation does: every completed lap
(``"Lap complete"``, completion 100, the lap's time and the counts during that lap),
then the unfinished last lap of the trial with its final status (``"Time up"``, or
the failure that ended the trial) and progress; ``trial`` numbers these rows 1, 2, ...
through the whole file, so each trial's rows follow the previous trial's.

Contents:
    TrialRecord: one trial (or one lap of a time trial) with its counts.
    evaluate: run the trials and write the files.
    top_speed: the fastest speed an env config's actions command.
    lap_ratios: each lap's time against the race line and the lower bound.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from deepracer.envs import EnvConfig, RacingEnv
from deepracer.envs.racing_env import STATUS_DISPLAY_NAMES
from deepracer.errors import DeepRacerError
from deepracer.io import atomic_write_text
from deepracer.logs import RecordSimtrace
from deepracer.runs.layout import EVALUATION_METRICS, EVALUATION_SIMTRACE, RACELINE_COMPARISON

__all__ = ["TrialRecord", "compare_with_raceline", "evaluate"]

_COUNTED = ("off_track", "crashed", "reversed", "immobilized")
"""Failure statuses counted per trial and per lap."""


@dataclass(frozen=True)
class TrialRecord:
    """One evaluation trial, or one lap of a time trial.

    Attributes:
        trial: 1-based trial number (for a lap: the lap number within its trial).
        status: Final episode status (``lap_complete`` for a completed lap).
        progress: Final progress [%].
        lap_time: Simulated time of the trial or lap [s] (penalties included).
        resets: Times the car was put back.
        off_track: Off-track events (including the final one, if any).
        reversed: Reversed events.
        immobilized: Immobilized events.
        start_time: Wall-clock start [s since the epoch].
        end_time: Wall-clock end [s since the epoch].
        laps: Time-trial mode: the trial's laps in order, the last one unfinished
            unless the trial ended on the line; empty in race mode.
        crashed: Crashes into obstacles or bot cars (including the final one).
        passes: Bot cars overtaken, less those that got ahead again.
    """

    trial: int
    status: str
    progress: float
    lap_time: float
    resets: int
    off_track: int
    reversed: int
    immobilized: int
    start_time: float
    end_time: float
    laps: tuple[TrialRecord, ...] = ()
    crashed: int = 0
    passes: int = 0

    @property
    def lap_times(self) -> tuple[float, ...]:
        """Times of the completed laps of a time trial [s]."""
        return tuple(lap.lap_time for lap in self.laps if lap.status == "lap_complete")

    @property
    def best_lap(self) -> float | None:
        """The fastest completed lap of a time trial [s]; None without one."""
        return min(self.lap_times, default=None)

    def metrics_row(self, trial: int | None = None) -> dict[str, Any]:
        """The trial (or lap) as a row of DeepRacer's evaluation_metrics.json.

        Args:
            trial: The row's ``trial`` number; None = :attr:`trial`.
        """
        return {
            "completion_percentage": int(self.progress),
            "metric_time": round(self.end_time * 1000),
            "start_time": round(self.start_time * 1000),
            "elapsed_time_in_milliseconds": round(self.lap_time * 1000),
            "episode_status": STATUS_DISPLAY_NAMES.get(self.status, self.status),
            "crash_count": self.crashed,
            "immobilized_count": self.immobilized,
            "off_track_count": self.off_track,
            "reversed_count": self.reversed,
            "reset_count": self.resets,
            "trial": self.trial if trial is None else trial,
        }


def evaluate(
    policy: Any,
    config: EnvConfig,
    out: Path,
    *,
    trials: int = 3,
    resets: int = 0,
    penalty: float = 2.0,
    collision_penalty: float = 5.0,
    mercy_reset: bool = False,
    seed: int = 0,
    time_limit: float | None = None,
    reward_function: Callable[[dict[str, Any]], Any] | None = None,
) -> list[TrialRecord]:
    """Runs greedy trials and writes ``evaluation_metrics.json`` and the simtrace.

    Args:
        policy: A model with ``predict(obs, deterministic=True)``.
        config: The evaluation env config (start line, step cap).
        out: Output folder (created).
        trials: Number of trials.
        resets: Failures the car is put back after in each trial.
        penalty: Seconds frozen after each reset [s].
        collision_penalty: Seconds frozen after a reset from a crash [s] (the
            simapp's evaluation default: 5).
        mercy_reset: The simapp's ``ENABLE_MERCY_RESET``: the third reset in a row near
            one obstacle puts the car past it (see
            :class:`~deepracer.envs.objects.MercyReset`); the env config's setting
            holds otherwise.
        seed: Seeds the action noise of the trials.
        time_limit: Time-trial mode: each trial drives continuous laps for this many
            seconds of simulated time [s] (the step cap follows from it); None = race
            mode, one lap per trial.
        reward_function: Called instead of ``config.reward`` (the simtrace's reward
            column), e.g. a stand-in for an untrusted run's reward file.

    Raises:
        DeepRacerError: ``time_limit`` is not > 0.
    """
    episode = replace(
        config.episode,
        resets=resets,
        reset_penalty=penalty,
        collision_penalty=collision_penalty,
        mercy_reset=mercy_reset or config.episode.mercy_reset,
        laps=1,
    )
    if time_limit is not None:
        if not time_limit > 0:
            raise DeepRacerError(f"time_limit must be > 0 seconds, got {time_limit}")
        # Penalties advance the clock, not the steps, and each put-back takes one step
        # without driving: so many steps always outlast the time limit.
        max_steps = math.ceil(time_limit / config.dt) + resets + 16
        # No trial can complete as many laps as it has steps: laps never end it.
        episode = replace(episode, time_limit=time_limit, max_steps=max_steps, laps=max_steps)
    config = replace(
        config, start=replace(config.start, round_robin_advance=0.0, offset=0.0), episode=episode
    )
    env = RecordSimtrace(
        RacingEnv(config, reward_function=reward_function),
        out / EVALUATION_SIMTRACE / "0-iteration.csv",
        number_episodes=True,
    )
    records = []
    try:
        for trial in range(1, trials + 1):
            records.append(_trial(env, policy, trial, seed + trial, timed=time_limit is not None))
    finally:
        env.close()
    if time_limit is None:
        rows = [r.metrics_row() for r in records]
    else:
        laps = [lap for r in records for lap in r.laps]
        rows = [lap.metrics_row(trial=k) for k, lap in enumerate(laps, 1)]
    document = {"metrics": rows}  # no "version": as DeepRacer
    atomic_write_text(out / EVALUATION_METRICS, json.dumps(document, indent=2) + "\n")
    return records


def _trial(env: Any, policy: Any, trial: int, seed: int, *, timed: bool) -> TrialRecord:
    """Drives one greedy trial; ``timed``: records its laps too."""
    start = time.time()
    obs, info = env.reset(seed=seed)
    counts = dict.fromkeys(_COUNTED, 0)
    laps: list[TrialRecord] = []
    lap_counts = dict.fromkeys(_COUNTED, 0)
    lap_wall, lap_sim, lap_resets = start, 0.0, 0
    lap_passes = 0
    while True:
        action, _ = policy.predict(obs, deterministic=True)
        obs, _, terminated, truncated, info = env.step(action)
        status = info["episode_status"]
        if status in counts:
            counts[status] += 1
            lap_counts[status] += 1
        done = terminated or truncated
        if timed and (done or "lap_time" in info):
            now = time.time()
            lap_time = info["lap_time"] if "lap_time" in info else info["sim_time"] - lap_sim
            laps.append(
                TrialRecord(
                    trial=len(laps) + 1,
                    status=status,
                    progress=float(info["params"]["progress"]),
                    lap_time=float(lap_time),
                    resets=int(info["reset_count"]) - lap_resets,
                    off_track=lap_counts["off_track"],
                    crashed=lap_counts["crashed"],
                    passes=int(info["passes"]) - lap_passes,
                    reversed=lap_counts["reversed"],
                    immobilized=lap_counts["immobilized"],
                    start_time=lap_wall,
                    end_time=now,
                )
            )
            lap_counts = dict.fromkeys(_COUNTED, 0)
            lap_wall, lap_sim, lap_resets = now, info["sim_time"], int(info["reset_count"])
            lap_passes = int(info["passes"])
        if done:
            break
    return TrialRecord(
        trial=trial,
        status=status,
        progress=float(info["params"]["progress"]),
        lap_time=float(info["sim_time"]),
        resets=int(info["reset_count"]),
        off_track=counts["off_track"],
        crashed=counts["crashed"],
        passes=int(info["passes"]),
        reversed=counts["reversed"],
        immobilized=counts["immobilized"],
        start_time=start,
        end_time=time.time(),
        laps=tuple(laps),
    )


def top_speed(config: EnvConfig) -> float:
    """The fastest speed the config's action space can command [m/s]."""
    from deepracer.envs.action import ContinuousActions, DiscreteActions, make_action_type
    from deepracer.envs.config import vehicle_of

    actions = make_action_type(config.action_space)
    vehicle = vehicle_of(config)
    if isinstance(actions, DiscreteActions):
        fastest = max(speed for _, speed in actions.actions)
    elif isinstance(actions, ContinuousActions):
        fastest = actions.speed[1]
    else:  # a third-party action type: the car's own cap
        fastest = vehicle.max_speed
    return min(fastest, vehicle.max_speed)


def lap_ratios(records: list[TrialRecord], line: Any) -> list[dict[str, Any]]:
    """Each completed lap's time against the race line's and the lower bound.

    A trial's first lap starts from standstill, so it is compared with the line's
    standing-start lap; later laps of a time trial are flying laps.

    Args:
        records: The trials of :func:`evaluate` (or the trainer's greedy
            :class:`~deepracer.evaluation.greedy.TrialResult`, one lap each).
        line: The :class:`~deepracer.raceline.RaceLine` of the world.
    """
    rows = []
    for record in records:
        laps = (
            record.lap_times
            if getattr(record, "laps", ())
            else ((record.lap_time,) if record.status == "lap_complete" else ())
        )
        for number, lap in enumerate(laps, start=1):
            reference = line.standing_lap_time if number == 1 else line.lap_time
            rows.append(
                {
                    "trial": record.trial,
                    "lap": number,
                    "lap_time": round(lap, 4),
                    "raceline_time": round(reference, 4),
                    "ratio_to_raceline": round(lap / reference, 4),
                    "ratio_to_lower_bound": round(lap / line.lower_bound, 4),
                }
            )
    return rows


def compare_with_raceline(
    records: list[TrialRecord], config: EnvConfig, world: str, out: Path
) -> None:
    """Prints and writes ``raceline_comparison.json``: each lap against the race line."""
    from deepracer.envs.config import vehicle_of
    from deepracer.envs.world import load_world
    from deepracer.raceline import raceline_for_world
    from deepracer.tracks import get_track

    world_config = config.world if not isinstance(config.world, str) else load_world(world)
    track_name = world_config.track
    if not get_track(track_name).is_loop:
        print(f"no race line: {track_name} is not a closed track")
        return
    line = raceline_for_world(
        world_config, vehicle=vehicle_of(config, world_config), v_max=top_speed(config)
    )
    rows = lap_ratios(records, line)
    print(
        f"race line ({line.limits.v_max:g} m/s top speed, grip {line.limits.grip:.3g} m/s^2):"
        f" {line.standing_lap_time:.2f} s from a standing start, {line.lap_time:.2f} s"
        f" flying; lower bound {line.lower_bound:.2f} s"
    )
    for row in rows:
        print(
            f"  trial {row['trial']} lap {row['lap']}: {row['lap_time']:.2f} s ="
            f" {row['ratio_to_raceline']:.3f} x the race line,"
            f" {row['ratio_to_lower_bound']:.3f} x the lower bound"
        )
    summary = {"raceline": line.summary(), "laps": rows}
    atomic_write_text(out / RACELINE_COMPARISON, json.dumps(summary, indent=2) + "\n")
