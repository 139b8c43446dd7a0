"""Simulator throughput against gymnasium's CarRacing-v3, measured in one process.

Usage: python benchmarks/env_step.py [--quick] [--track NAME]

Measures, on this machine and in this process (resets included, random actions,
trivial reward unless stated):

* gymnasium CarRacing-v3 steps/s (needs the ``bench`` extra: box2d + pygame);
* single RacingEnv steps/s with the ``state``, ``lidar`` and ``camera`` observations;
* RacingVectorEnv car-steps/s for N = 1, 64, 1024 cars with the ``state`` observation,
  with a batched reward and with a per-car Python reward (``rewards/centerline.py``);
* peak resident memory of one process holding 64 camera envs (a child process).

Prints each figure with its ratio to CarRacing-v3 (or to CartPole-v1 when CarRacing is
not installed) and ends with one ``RESULT name=value ...`` line. Runs in about 1-2
minutes, on re:Invent 2018 (``--track`` picks another track by name).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Any

import gymnasium as gym
import numpy as np

import deepracer
from deepracer.envs.vector import RacingVectorEnv
from deepracer.tracks import get_track


def timed(step: Any, reset: Any, steps: int) -> float:
    """Returns calls per second of ``step(i)``; ``reset()`` runs once first, untimed."""
    reset()
    start = time.perf_counter()
    for i in range(steps):
        step(i)
    return steps / (time.perf_counter() - start)


def single_rate(env: gym.Env[Any, Any], steps: int, seed: int = 0) -> float:
    """Steps per second of one env with random actions (resets included)."""
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(steps)]

    def step(i: int) -> None:
        _, _, terminated, truncated, _ = env.step(actions[i])
        if terminated or truncated:
            env.reset()

    return timed(step, lambda: env.reset(seed=seed), steps)


def vector_rate(n: int, world: Any, steps: int, batched: bool) -> float:
    """Car-steps per second of RacingVectorEnv."""
    if batched:
        env = RacingVectorEnv(n, {"world": world}, reward_function_batch=lambda p: np.ones(n))
    else:
        env = RacingVectorEnv(n, {"world": world, "reward": "centerline"})
        env.reward_function_batch = None  # the per-car Python call
    rng = np.random.default_rng(0)
    actions = rng.choice([2, 3, 4, 5, 6, 7], size=(steps, n))  # mostly forwards
    env.reset(seed=0)
    for a in actions[:5]:  # compile and warm caches
        env.step(a)
    return n * timed(lambda i: env.step(actions[i]), lambda: env.reset(seed=0), steps)


CHILD = """
import json, resource, sys
import numpy as np
from deepracer.envs import RacingEnv
envs = [RacingEnv({"world": sys.argv[1], "observation": "camera"}) for _ in range(64)]
for i, env in enumerate(envs):
    env.reset(seed=i)
for _ in range(20):
    for env in envs:
        _, _, te, tr, _ = env.step(env.action_space.sample())
        if te or tr:
            env.reset()
print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
"""


def camera_rss_mb(world: str) -> float:
    """Peak RSS [MB] of a fresh process holding and stepping 64 camera envs."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, world], check=True, capture_output=True, text=True
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (noisier)")
    parser.add_argument("--track", default="reinvent_base")
    args = parser.parse_args()
    scale = 0.25 if args.quick else 1.0
    get_track(args.track)  # an unknown name fails here, with the closest names
    world: Any = {"track": args.track}
    world_name = args.track

    results: dict[str, float] = {}
    try:
        car_racing = gym.make("CarRacing-v3").unwrapped
        results["carracing_steps_per_s"] = single_rate(car_racing, int(600 * scale))
        baseline_name = "carracing_steps_per_s"
    except (ImportError, gym.error.DependencyNotInstalled):
        print("CarRacing-v3 needs the bench extra (pip install 'deepracer[bench]'); using CartPole")
        results["cartpole_steps_per_s"] = single_rate(
            gym.make("CartPole-v1").unwrapped, int(20_000 * scale)
        )
        baseline_name = "cartpole_steps_per_s"

    trivial = lambda params: 1.0  # noqa: E731
    for obs, steps in (("state", 20_000), ("lidar", 5_000), ("camera", 5_000)):
        env = deepracer.RacingEnv({"world": world, "observation": obs}, reward_function=trivial)
        results[f"single_{obs}_steps_per_s"] = single_rate(env, int(steps * scale))

    for n, steps in ((1, 3000), (64, 1000), (1024, 300)):
        results[f"vector{n}_batched_car_steps_per_s"] = vector_rate(
            n, world, int(steps * scale), batched=True
        )
        results[f"vector{n}_percar_car_steps_per_s"] = vector_rate(
            n, world, max(10, int(steps * scale / 4)), batched=False
        )

    results["camera64_peak_rss_mb"] = camera_rss_mb(args.track)  # any track name is a world

    baseline = results[baseline_name]
    print(f"world: {world_name}; baseline: {baseline_name} = {baseline:,.0f}")
    for key, value in results.items():
        ratio = "" if key.endswith("_mb") else f"   ({value / baseline:8.1f} x baseline)"
        print(f"{key:>36}: {value:14,.0f}{ratio}")
    print("RESULT " + " ".join(f"{k}={v:.0f}" for k, v in results.items()))


if __name__ == "__main__":
    main()
