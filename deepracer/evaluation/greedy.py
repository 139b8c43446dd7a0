"""Greedy evaluation trials, as the console runs them after training.

Each trial starts at the start line (no round robin) and drives the policy's most
likely action until the lap is complete or the episode ends otherwise.

Contents:
    TrialResult: one trial.
    run_trials: run N trials of a policy on one world.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from deepracer.envs import EnvConfig, RacingEnv
from deepracer.logs import RecordSimtrace

__all__ = ["Policy", "TrialResult", "run_trials"]


class Policy(Protocol):
    """Anything with stable-baselines3's ``predict``."""

    def predict(
        self,
        observation: Any,
        state: Any = ...,
        episode_start: Any = ...,
        deterministic: bool = ...,
    ) -> tuple[Any, Any]:
        """Returns ``(action, state)``."""
        ...


@dataclass(frozen=True)
class TrialResult:
    """One greedy trial.

    Attributes:
        trial: 1-based trial number.
        status: The final episode status (``lap_complete``, ``off_track``, ...).
        progress: Final progress [%].
        lap_time: Simulated lap time [s] when the lap was completed, else None.
        steps: Steps including the prepare step.
        path: The model point at every step [m].
    """

    trial: int
    status: str
    progress: float
    lap_time: float | None
    steps: int
    path: list[tuple[float, float]] = field(repr=False)


def run_trials(
    policy: Policy,
    config: EnvConfig,
    *,
    trials: int = 3,
    seed: int = 0,
    simtrace: Path | None = None,
    deadline: float | None = None,
) -> list[TrialResult]:
    """Runs greedy trials of ``policy``.

    Args:
        policy: A trained model (``predict(obs, deterministic=True)``).
        config: The env config; its start settings decide where trials start.
        trials: Number of trials.
        seed: Seeds the action noise of the trials.
        simtrace: Write the trials' simtrace CSV here.
        deadline: A ``time.perf_counter()`` value (a time budget's end): a trial
            running then ends with status ``time_up`` and no further trial starts, so
            fewer than ``trials`` results may come back.
    """
    env: Any = RacingEnv(config)
    if simtrace is not None:
        env = RecordSimtrace(env, simtrace, number_episodes=True)
    results = []
    try:
        for trial in range(trials):
            if deadline is not None and time.perf_counter() >= deadline:
                break
            obs, info = env.reset(seed=seed + trial)
            path = [(info["params"]["x"], info["params"]["y"])]
            cut = False
            while True:
                action, _ = policy.predict(obs, deterministic=True)
                obs, _, terminated, truncated, info = env.step(action)
                path.append((info["params"]["x"], info["params"]["y"]))
                if terminated or truncated:
                    break
                if deadline is not None and time.perf_counter() >= deadline:
                    cut = True
                    break
            status = "time_up" if cut else info["episode_status"]
            results.append(
                TrialResult(
                    trial=trial + 1,
                    status=status,
                    progress=float(info["params"]["progress"]),
                    lap_time=float(info["sim_time"]) if status == "lap_complete" else None,
                    steps=int(info["params"]["steps"]),
                    path=path,
                )
            )
    finally:
        env.close()
    return results
