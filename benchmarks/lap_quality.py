"""Lap quality: how close a trained model's lap comes to the race line's.

Usage: python benchmarks/lap_quality.py [--only state|camera] [--minutes M] [--out DIR] [--reuse]

Trains ``experiments/fast_lap.yaml`` (state vector) and
``experiments/fast_lap_camera.yaml`` (160x120 camera) on re:Invent 2018 within
``--minutes`` of training each (default 30, the issue's budget on 2 cores),
evaluates the best model console-style (3 greedy trials from the start line), and
divides the best lap by the race line's lap from a standing start under the same car
limits (``deepracer raceline``). The baseline, run in the same process, is the
scripted :class:`~deepracer.raceline.follow.LineFollower` driving the same world: it
knows the line exactly, so its ratio is what 15 Hz control with the car's lags and the
world's action noise cost. Targets: state <= 1.10, camera <= 1.25.

Ends with one ``RESULT name=value ...`` line.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from deepracer.envs import EnvConfig, RacingEnv
from deepracer.envs.config import vehicle_of
from deepracer.evaluation.evaluate import evaluate, top_speed
from deepracer.evaluation.runs import load_policy, run_setup
from deepracer.experiment import load_experiment
from deepracer.raceline import RaceLine, raceline_for_world
from deepracer.raceline.follow import LineFollower
from deepracer.training.trainer import train

EXPERIMENTS = {"state": "fast_lap", "camera": "fast_lap_camera"}
TARGETS = {"state": 1.10, "camera": 1.25}
CONTINUOUS = {"steering_angle": {"low": -30.0, "high": 30.0}, "speed": {"low": 0.1, "high": 4.0}}


def follower_lap(config: EnvConfig, line: RaceLine, seed: int = 0) -> float:
    """Lap time of the scripted line follower on the world, with its noise [s]."""
    env = RacingEnv(replace(config, action_space=CONTINUOUS, observation="state"))
    follower = LineFollower(line, env.vehicle)
    env.reset(seed=seed)
    while True:
        steer, speed = follower.command(env.car_state)
        action = [steer / 30.0, (speed - 0.1) / 3.9 * 2.0 - 1.0]
        _, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
    if info["episode_status"] != "lap_complete":
        return float("nan")
    return float(info["sim_time"])


def measure(kind: str, minutes: float, out: Path, *, reuse: bool = False) -> dict[str, float]:
    """Trains (unless ``reuse`` and ``out`` holds a finished run), evaluates, compares."""
    name = EXPERIMENTS[kind]
    figures: dict[str, float] = {}
    if not (reuse and (out / "best.zip").is_file()):
        experiment = load_experiment(name, overrides=[f"train.max_minutes={minutes}"])
        result = train(experiment, out, argv=["lap_quality.py"], echo=lambda line: None)
        figures[f"{kind}_train_minutes"] = result.seconds / 60.0
        figures[f"{kind}_train_steps"] = float(result.timesteps)
    setup = run_setup(out, None, 5000)
    config = setup.config
    line = raceline_for_world(setup.world, vehicle=vehicle_of(config), v_max=top_speed(config))
    policy = load_policy(out / "best.zip", setup, out)
    records = evaluate(policy, config, out / "lap_quality", trials=3)
    laps = [r.lap_time for r in records if r.status == "lap_complete"]
    best = min(laps) if laps else float("nan")
    expert = follower_lap(config, line)
    return {
        **figures,
        f"{kind}_laps_of_3": float(len(laps)),
        f"{kind}_best_lap_s": best,
        f"{kind}_raceline_s": line.standing_lap_time,
        f"{kind}_ratio": best / line.standing_lap_time,
        f"{kind}_follower_ratio": expert / line.standing_lap_time,
        f"{kind}_target": TARGETS[kind],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", choices=sorted(EXPERIMENTS))
    parser.add_argument("--minutes", type=float, default=30.0, help="training budget each")
    parser.add_argument("--out", type=Path, help="keep the runs here (default: a temp dir)")
    parser.add_argument(
        "--reuse", action="store_true", help="score runs already trained under --out again"
    )
    args = parser.parse_args()
    kinds = [args.only] if args.only else ["state", "camera"]
    root = args.out or Path(tempfile.mkdtemp(prefix="lap_quality-"))
    results: dict[str, float] = {}
    for kind in kinds:
        print(f"training {EXPERIMENTS[kind]} into {root / kind} ...", file=sys.stderr, flush=True)
        results.update(measure(kind, args.minutes, root / kind, reuse=args.reuse))
    for key, value in results.items():
        print(f"{key:>28}: {value:10.3f}")
    print("RESULT " + " ".join(f"{k}={v:.3f}" for k, v in results.items()))


if __name__ == "__main__":
    main()
