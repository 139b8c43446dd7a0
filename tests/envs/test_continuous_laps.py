"""Continuous laps (the simapp's IS_CONTINUOUS): lap counting, lap times, progress."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from deepracer.envs import RacingEnv
from deepracer.errors import ConfigError
from tests.envs.drivers import CONTINUOUS, pure_pursuit, run_episode, to_action

DT = 1.0 / 15.0


def make(**episode: Any) -> RacingEnv:
    return RacingEnv(
        {
            "world": "oval",
            "action_space": CONTINUOUS,
            "start": {"round_robin_advance": 0.0},
            "episode": episode,
        }
    )


@pytest.fixture(scope="module")
def three_laps() -> list[dict[str, Any]]:
    return run_episode(make(laps=3), pure_pursuit)


def test_three_continuous_laps_end_after_the_third(three_laps: list[dict[str, Any]]) -> None:
    infos = three_laps
    statuses = [i["episode_status"] for i in infos]
    ends = [k for k, s in enumerate(statuses) if s == "lap_complete"]
    assert len(ends) == 3 and ends[-1] == len(infos) - 1
    assert set(statuses[1:]) == {"in_progress", "lap_complete"}
    assert infos[-1]["lap_count"] == 3
    assert infos[0]["lap_count"] == 0 and "lap_time" not in infos[0]
    counts = [i["lap_count"] for i in infos]
    assert all(0 <= b - a <= 1 for a, b in itertools.pairwise(counts))
    for lap, k in enumerate(ends, 1):
        assert infos[k]["params"]["progress"] == 100.0 and infos[k]["lap_count"] == lap
        assert infos[k - 1]["lap_count"] == lap - 1
    assert sum("lap_time" in i for i in infos) == 3


def test_lap_times_are_plausible_and_sum_to_the_sim_time(
    three_laps: list[dict[str, Any]],
) -> None:
    times = [i["lap_time"] for i in three_laps if "lap_time" in i]
    assert sum(times) == pytest.approx(three_laps[-1]["sim_time"])
    # The first lap starts at rest, which the car's quick speed response makes cheap:
    # all three are about equal.
    assert all(10.0 < t < 20.0 for t in times), times
    assert times[1] == pytest.approx(times[0], abs=3 * DT)
    assert times[2] == pytest.approx(times[1], abs=3 * DT)


def test_progress_restarts_after_each_lap_and_never_exceeds_100(
    three_laps: list[dict[str, Any]],
) -> None:
    progress = [i["params"]["progress"] for i in three_laps]
    assert max(progress) == 100.0
    for k, info in enumerate(three_laps[:-1]):
        if info["episode_status"] == "lap_complete":
            # The next lap goes on from the few centimetres past the line.
            assert 0.0 <= progress[k + 1] < 2.0
        else:
            assert progress[k + 1] >= progress[k] - 1e-9


def test_one_lap_is_the_default_and_ends_the_episode() -> None:
    infos = run_episode(make(), pure_pursuit)
    assert [i["episode_status"] for i in infos].count("lap_complete") == 1
    assert infos[-1]["episode_status"] == "lap_complete"
    assert [i["lap_count"] for i in infos[:-1]] == [0] * (len(infos) - 1)
    assert infos[-1]["lap_count"] == 1 and infos[-1]["lap_time"] == infos[-1]["sim_time"]


def test_time_limit_ends_continuous_laps_with_time_up() -> None:
    infos = run_episode(make(laps=100, time_limit=20.0), pure_pursuit)
    assert infos[-1]["episode_status"] == "time_up"
    assert infos[-1]["lap_count"] == 1
    assert infos[-1]["sim_time"] == pytest.approx(20.0, abs=DT + 1e-9)


def test_penalty_lands_in_the_lap_time() -> None:
    env = make(laps=2, resets=1, reset_penalty=2.0)
    _, info = env.reset(seed=0)
    infos = [info]
    while True:  # hard right until put back once, then along the centre line
        action = pure_pursuit(env) if info["reset_count"] else to_action(-30.0, 1.0)
        _, _, terminated, truncated, info = env.step(action)
        infos.append(info)
        if terminated or truncated:
            break
    times = [i["lap_time"] for i in infos if "lap_time" in i]
    assert infos[-1]["episode_status"] == "lap_complete" and len(times) == 2
    assert infos[-1]["reset_count"] == 1
    assert times[0] > times[1] + 2.0
    assert sum(times) == pytest.approx(infos[-1]["sim_time"])


def test_same_seed_same_laps() -> None:
    a = run_episode(make(laps=2), pure_pursuit, seed=3)
    b = run_episode(make(laps=2), pure_pursuit, seed=3)
    assert [i["params"]["x"] for i in a] == [i["params"]["x"] for i in b]
    assert [i.get("lap_time") for i in a] == [i.get("lap_time") for i in b]


def test_laps_must_be_positive() -> None:
    with pytest.raises(ConfigError, match=r"laps"):
        make(laps=0)


def test_vector_env_refuses_continuous_laps() -> None:
    from deepracer.envs.vector import RacingVectorEnv

    with pytest.raises(ConfigError, match=r"episode\.laps"):
        RacingVectorEnv(2, {"world": "oval", "episode": {"laps": 2}})
