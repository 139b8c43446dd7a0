"""Greedy trials (deepracer.evaluation.greedy): the time budget ends them."""

from __future__ import annotations

import time
from typing import Any

from deepracer.envs import EnvConfig
from deepracer.evaluation import run_trials


class Straight:
    """Drives straight at 1 m/s (index 5 of the default actions: 0 deg, 1 m/s)."""

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, obs: Any, deterministic: bool = True) -> tuple[int, None]:
        self.calls += 1
        return 5, None


class SlowStraight(Straight):
    """Straight, taking 50 ms to decide: the straight track's lap takes ~90 decisions."""

    def predict(self, obs: Any, deterministic: bool = True) -> tuple[int, None]:
        time.sleep(0.05)
        return super().predict(obs, deterministic)


def test_a_trial_running_at_the_deadline_ends_time_up_and_no_other_starts() -> None:
    policy = SlowStraight()
    deadline = time.perf_counter() + 0.5
    results = run_trials(policy, EnvConfig(world="straight"), trials=3, deadline=deadline)
    assert [r.status for r in results] == ["time_up"]
    assert policy.calls < 30  # stopped near the deadline, not at the end of the track
    assert results[0].steps == policy.calls + 1  # the prepare step and one per decision
    assert results[0].lap_time is None and 0 < results[0].progress < 100


def test_no_trial_starts_after_the_deadline() -> None:
    policy = Straight()
    assert run_trials(policy, EnvConfig(world="oval"), trials=2, deadline=0.0) == []
    assert policy.calls == 0


def test_without_a_deadline_every_trial_runs() -> None:
    results = run_trials(Straight(), EnvConfig(world="straight"), trials=2)
    assert len(results) == 2 and all(r.status != "time_up" for r in results)
