"""Single-env step throughput of RacingEnv, with a same-process baseline.

Usage: python benchmarks/env_step.py [--steps N] [--track NAME]

Measures steps per second (resets included) for the ``state`` and ``lidar``
observations with a trivial reward function and random discrete actions, and the
same loop over gymnasium's CartPole-v1 as a baseline, in this process; prints each
figure with its ratio to the baseline and a final ``RESULT name=value ...`` line.
Uses reinvent_base when DEEPRACER_TRACKS_PATH provides it, else the built-in oval.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import gymnasium as gym
import numpy as np

import deepracer
from deepracer.errors import TrackError
from deepracer.tracks import get_track


def rate(env: gym.Env[Any, Any], steps: int, seed: int = 0) -> float:
    """Returns steps per second of a random-action loop (resets included)."""
    rng = np.random.default_rng(seed)
    n = int(env.action_space.n)  # type: ignore[attr-defined]
    actions = rng.integers(n, size=steps)
    env.reset(seed=seed)
    start = time.perf_counter()
    for a in actions:
        _, _, terminated, truncated, _ = env.step(int(a))
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--track", default="reinvent_base")
    args = parser.parse_args()
    try:
        get_track(args.track)
        world: Any = {"track": args.track}
    except TrackError:
        world = "oval"
    baseline = rate(gym.make("CartPole-v1").unwrapped, args.steps)
    results = {"cartpole_steps_per_s": baseline}
    for obs in ("state", "lidar"):
        env = deepracer.RacingEnv(
            {"world": world, "observation": obs}, reward_function=lambda p: 1.0
        )
        results[f"{obs}_steps_per_s"] = rate(env, args.steps)
    name = world if isinstance(world, str) else world["track"]
    print(f"track: {name}, {args.steps} steps per measurement, trivial reward")
    for key, value in results.items():
        print(f"{key:>24}: {value:10.0f}   ({value / baseline:.3f} x CartPole-v1)")
    print("RESULT " + " ".join(f"{k}={v:.0f}" for k, v in results.items()))


if __name__ == "__main__":
    main()
