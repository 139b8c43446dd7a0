"""Console-style evaluation of a trained model: ``deepracer evaluate``.

N greedy trials from the start line; with ``resets`` a car that fails (off track,
reversed, immobilized) is put back on the nearest lane up to that many times, frozen
for the penalty while the clock runs, then the next failure ends the trial (the
seed's AWS Summit rules use 3). Writes ``evaluation_metrics.json`` in the DeepRacer
schema and the trials' simtrace.

Contents:
    TrialRecord: one trial with its counts.
    evaluate: run the trials and write the files.
    add_evaluate: register the ``deepracer evaluate`` subcommand.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from deepracer.config.loader import from_mapping
from deepracer.envs import EnvConfig, RacingEnv
from deepracer.envs.racing_env import STATUS_DISPLAY_NAMES
from deepracer.errors import DeepRacerError
from deepracer.io import atomic_write_text
from deepracer.logs import RecordSimtrace

__all__ = ["TrialRecord", "add_evaluate", "evaluate"]


@dataclass(frozen=True)
class TrialRecord:
    """One evaluation trial.

    Attributes:
        trial: 1-based trial number.
        status: Final episode status.
        progress: Final progress [%].
        lap_time: Simulated time of the trial [s] (penalties included).
        resets: Times the car was put back.
        off_track: Off-track events (including the final one, if any).
        reversed: Reversed events.
        immobilized: Immobilized events.
        start_time: Wall-clock start [s since the epoch].
        end_time: Wall-clock end [s since the epoch].
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

    def metrics_row(self) -> dict[str, Any]:
        """The trial as a row of DeepRacer's evaluation_metrics.json."""
        return {
            "completion_percentage": int(self.progress),
            "metric_time": round(self.end_time * 1000),
            "start_time": round(self.start_time * 1000),
            "elapsed_time_in_milliseconds": round(self.lap_time * 1000),
            "episode_status": STATUS_DISPLAY_NAMES.get(self.status, self.status),
            "crash_count": 0,
            "immobilized_count": self.immobilized,
            "off_track_count": self.off_track,
            "reversed_count": self.reversed,
            "reset_count": self.resets,
            "trial": self.trial,
        }


def evaluate(
    policy: Any,
    config: EnvConfig,
    out: Path,
    *,
    trials: int = 3,
    resets: int = 0,
    penalty: float = 2.0,
    seed: int = 0,
) -> list[TrialRecord]:
    """Runs greedy trials and writes ``evaluation_metrics.json`` and the simtrace.

    Args:
        policy: A model with ``predict(obs, deterministic=True)``.
        config: The evaluation env config (start line, step cap).
        out: Output folder (created).
        trials: Number of trials.
        resets: Failures the car is put back after in each trial.
        penalty: Seconds frozen after each reset [s].
        seed: Seeds the action noise of the trials.
    """
    config = replace(
        config,
        start=replace(config.start, round_robin_advance=0.0, offset=0.0),
        episode=replace(config.episode, resets=resets, reset_penalty=penalty),
    )
    env = RecordSimtrace(RacingEnv(config), out / "evaluation-simtrace" / "0-iteration.csv")
    records = []
    try:
        for trial in range(1, trials + 1):
            start = time.time()
            obs, info = env.reset(seed=seed + trial)
            counts = {"off_track": 0, "reversed": 0, "immobilized": 0}
            status = info["episode_status"]
            while True:
                action, _ = policy.predict(obs, deterministic=True)
                obs, _, terminated, truncated, info = env.step(action)
                status = info["episode_status"]
                if status in counts:
                    counts[status] += 1
                if terminated or truncated:
                    break
            records.append(
                TrialRecord(
                    trial=trial,
                    status=status,
                    progress=float(info["params"]["progress"]),
                    lap_time=float(info["sim_time"]),
                    resets=int(info["reset_count"]),
                    off_track=counts["off_track"],
                    reversed=counts["reversed"],
                    immobilized=counts["immobilized"],
                    start_time=start,
                    end_time=time.time(),
                )
            )
    finally:
        env.close()
    document = {"metrics": [r.metrics_row() for r in records]}  # no "version": as DeepRacer
    atomic_write_text(out / "evaluation_metrics.json", json.dumps(document, indent=2) + "\n")
    return records


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from deepracer.evaluation.runs import load_policy, resolve_model, run_setup

    for name in ("trials", "max_steps"):
        if getattr(args, name) < 1:
            raise DeepRacerError(f"--{name.replace('_', '-')} must be >= 1")
    if args.resets < 0 or args.off_track_penalty < 0:
        raise DeepRacerError("--resets and --off-track-penalty must be >= 0")
    model_path, run_dir = resolve_model(Path(args.run))
    env_cfg, world, algorithm = run_setup(run_dir, args.world, args.max_steps)
    config = from_mapping(EnvConfig, env_cfg, source=str(model_path))
    policy = load_policy(model_path, algorithm)
    out = Path(args.out) if args.out else run_dir / "evaluations" / time.strftime("%Y%m%d-%H%M%S")
    records = evaluate(
        policy,
        config,
        out,
        trials=args.trials,
        resets=args.resets,
        penalty=args.off_track_penalty,
        seed=args.seed,
    )
    print(f"model {model_path} on {world}: {args.trials} greedy trials, {args.resets} resets")
    print(
        f"{'trial':>5}  {'status':<13} {'progress %':>10} {'time s':>8} {'resets':>6}"
        f" {'off-track':>9}"
    )
    for r in records:
        print(
            f"{r.trial:>5}  {r.status:<13} {r.progress:>10.1f} {r.lap_time:>8.2f}"
            f" {r.resets:>6} {r.off_track:>9}"
        )
    print(f"wrote {out / 'evaluation_metrics.json'} and {out / 'evaluation-simtrace'}")
    return 0


def add_evaluate(subparsers: Any) -> None:
    """Registers ``deepracer evaluate``."""
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate a trained model in console-style greedy trials",
        description=(
            "Drive a run's best model (or a model file) in greedy trials from the start"
            " line, optionally putting the car back after failures with a time penalty,"
            " and write evaluation_metrics.json (DeepRacer schema) and the simtrace."
        ),
    )
    parser.add_argument("run", metavar="RUN_DIR_OR_MODEL")
    parser.add_argument("--world", help="world (default: the run's evaluation world)")
    parser.add_argument("--trials", type=int, default=3, help="trials (default 3)")
    parser.add_argument(
        "--resets", type=int, default=0, help="failures put back per trial (default 0)"
    )
    parser.add_argument(
        "--off-track-penalty",
        type=float,
        default=2.0,
        help="seconds frozen after a reset (default 2, the simapp's OFF_TRACK_PENALTY)",
    )
    parser.add_argument("--max-steps", type=int, default=5000, help="step cap per trial")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="output folder (default: RUN/evaluations/<time>)")
    parser.set_defaults(func=_cmd_evaluate)
