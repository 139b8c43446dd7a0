"""The environment: laps, failure statuses, params semantics and determinism."""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import deepracer
from deepracer.envs import RacingEnv
from deepracer.errors import ConfigError
from deepracer.rewards.params import PARAM_KEYS
from tests.conftest import CLOSED_TRACKS
from tests.envs.drivers import CONTINUOUS, pure_pursuit, run_episode, to_action

gym.register_envs(deepracer)


def make(world: str | dict[str, Any], **config: Any) -> RacingEnv:
    cfg = {"world": world, "action_space": CONTINUOUS, "start": {"round_robin_advance": 0.0}}
    cfg.update(config)
    return RacingEnv(cfg)


def inline_world(track: str) -> dict[str, Any]:
    return {"track": track, "name": track}


def assert_lap(infos: list[dict[str, Any]]) -> None:
    statuses = [i["episode_status"] for i in infos]
    assert statuses[0] == "prepare"
    assert statuses[-1] == "lap_complete", statuses[-5:]
    assert set(statuses[1:-1]) == {"in_progress"}
    progress = [i["params"]["progress"] for i in infos]
    assert progress[-1] == 100.0
    assert max(progress[:-1]) < 100.0


@pytest.mark.parametrize("name", CLOSED_TRACKS)
def test_pure_pursuit_laps_every_real_track(name: str) -> None:
    assert_lap(run_episode(make(inline_world(name)), pure_pursuit))


@pytest.mark.parametrize("name", ["oval", "kidney", "generated-1", "generated-2", "generated-3"])
def test_pure_pursuit_laps_builtin_and_generated_tracks(name: str) -> None:
    assert_lap(run_episode(make(inline_world(name)), pure_pursuit))


def test_lap_from_a_round_robin_start_wraps_progress() -> None:
    env = make("oval", start={"offset": 0.6, "round_robin_advance": 0.05})
    infos = run_episode(env, pure_pursuit)
    assert_lap(infos)
    xs = [i["params"]["progress"] for i in infos[1:]]
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(xs))


def test_first_step_progress_is_the_front_offset() -> None:
    env = make("reinvent_base")
    _, info = env.reset(seed=0)
    expected = 100 * 0.14 / 17.709
    assert info["params"]["progress"] == pytest.approx(expected, abs=0.02)
    assert info["params"]["steps"] == 1 and info["episode_status"] == "prepare"
    *_, info = env.step(to_action(0.0, 1.0))
    params = info["params"]
    assert params["steps"] == 2  # the reward function first sees step 2, at the start pose
    assert params["progress"] == pytest.approx(expected, abs=0.02)
    assert params["x"] == pytest.approx(3.0597 + 0.14, abs=1e-3)
    assert params["track_length"] == pytest.approx(17.709, abs=1e-3)


def test_driving_off_the_road_ends_off_track() -> None:
    infos = run_episode(make("oval"), lambda env: to_action(-30.0, 1.0))
    last = infos[-1]
    assert last["episode_status"] == "off_track"
    assert last["params"]["is_offtrack"] and not last["params"]["all_wheels_on_track"]
    assert all(i["episode_status"] == "in_progress" for i in infos[1:-1])


def test_driving_backwards_ends_reversed() -> None:
    # 1.07 m wide: room for the ideal car's U-turn (the Gazebo car turns wider).
    env = make(inline_world("reInvent2019_wide"), vehicle="kinematic")

    def u_turn_then_follow_backwards(env: RacingEnv) -> list[float]:
        x, y, yaw = env.car_state[:3]
        s, _, _ = env.track.center.project([[x, y]])
        track_yaw = env.track.heading_at(s)[0]
        if np.cos(yaw - track_yaw) > -0.9:
            return to_action(30.0, 0.3)
        return pure_pursuit_reverse(env)

    def pure_pursuit_reverse(env: RacingEnv) -> list[float]:
        x, y, yaw = env.car_state[:3]
        s, _, _ = env.track.center.project([[x, y]])
        tx, ty = env.track.point_at(s - 0.45)[0]
        alpha = np.arctan2(ty - y, tx - x) - yaw
        steer = np.degrees(np.arctan2(2 * 0.164 * np.sin(alpha), 0.45))
        return to_action(float(np.clip(steer, -30, 30)), 1.0)

    infos = run_episode(env, u_turn_then_follow_backwards, options={"start_ndist": 0.0})
    assert infos[-1]["episode_status"] == "reversed"
    progress = [i["params"]["progress"] for i in infos[-16:]]
    assert all(b < a for a, b in itertools.pairwise(progress))


def test_step_cap_truncates_with_time_up() -> None:
    env = make("oval", episode={"max_steps": 20})
    env.reset(seed=0)
    for _ in range(18):
        _, _, terminated, truncated, info = env.step(pure_pursuit(env))
        assert not (terminated or truncated)
    _, _, terminated, truncated, info = env.step(pure_pursuit(env))
    assert truncated and not terminated and info["episode_status"] == "time_up"
    with pytest.raises(RuntimeError, match="reset"):
        env.step(pure_pursuit(env))


def test_time_limit_truncates() -> None:
    env = make("oval", episode={"time_limit": 1.0})
    infos = run_episode(env, pure_pursuit)
    assert infos[-1]["episode_status"] == "time_up"
    assert infos[-1]["sim_time"] == pytest.approx(1.0, abs=1.0 / 15 + 1e-9)


def test_params_have_every_key_with_simapp_types() -> None:
    env = make("oval")
    _, info = env.reset(seed=0)
    for _ in range(5):
        *_, info = env.step(pure_pursuit(env))
    params = info["params"]
    assert tuple(params) == PARAM_KEYS
    assert isinstance(params["steps"], int)
    assert -180.0 < params["heading"] <= 180.0
    assert params["waypoints"][0] == params["waypoints"][-1]
    assert all(isinstance(p, tuple) for p in params["waypoints"])
    assert params["closest_objects"] == [0, 0] and params["objects_location"] == []
    assert params["speed"] == pytest.approx(1.2) and params["is_reversed"] is False


def test_commanded_action_is_reported_not_the_noisy_one() -> None:
    env = RacingEnv({"world": "oval"})  # default discrete space, noise on
    env.reset(seed=0)
    *_, info = env.step(3)  # steering -15 deg at 1.0 m/s in the default space
    assert info["params"]["steering_angle"] == -15.0
    assert info["params"]["speed"] == 1.0
    assert info["action"] == "3"


def test_training_start_points_advance_five_percent() -> None:
    env = RacingEnv({"world": "oval"})
    starts = []
    env.reset(seed=0)
    for _ in range(3):
        x, y, *_ = env.car_state
        s, _, _ = env.track.center.project([[x, y]])
        starts.append(float(s[0]) / env.track.length)
        env.reset()
    assert np.mod(np.diff(starts), 1.0) == pytest.approx([0.05, 0.05], abs=0.01)


def test_alternate_direction_flips_the_track() -> None:
    env = RacingEnv({"world": "oval", "start": {"alternate_direction": True}})
    _, first = env.reset(seed=0)
    _, second = env.reset()
    assert first["params"]["is_reversed"] is False
    assert second["params"]["is_reversed"] is True
    assert second["params"]["waypoints"] == first["params"]["waypoints"][::-1]


@pytest.mark.parametrize(
    "observation",
    ["state", "lidar", "sector_lidar", "discretized_sector_lidar", ("state", "lidar")],
)
def test_check_env_passes(observation: str | tuple[str, ...]) -> None:
    env = gym.make(
        "DeepRacer/TimeTrial-v0",
        config={"world": "oval", "observation": observation},
        disable_env_checker=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)


def test_registration_is_idempotent() -> None:
    from deepracer.envs import _register_envs

    _register_envs()
    _register_envs()
    assert "DeepRacer/TimeTrial-v0" in gym.registry


def test_same_seed_same_trajectory() -> None:
    def rollout() -> list[Any]:
        env = RacingEnv({"world": "kidney", "observation": ("state", "lidar")})
        obs, info = env.reset(seed=123)
        out: list[Any] = [obs, info]
        rng = np.random.default_rng(5)
        for _ in range(300):
            obs, reward, terminated, truncated, info = env.step(int(rng.integers(10)))
            out += [obs, reward, terminated, truncated, info]
            if terminated or truncated:
                obs, info = env.reset()
                out += [obs, info]
        return out

    first, second = rollout(), rollout()
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        if isinstance(a, dict) and "state" in a:
            for key in a:
                np.testing.assert_array_equal(a[key], b[key])
        else:
            assert a == b


def test_different_seeds_give_different_noise() -> None:
    def final_x(seed: int) -> float:
        env = RacingEnv({"world": "oval"})
        env.reset(seed=seed)
        for _ in range(30):
            env.step(4)
        return env.car_state[0]

    assert final_x(1) != final_x(2)


def test_unknown_config_key_is_one_clear_error() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'obsrvation'.*Did you mean 'observation'"):
        RacingEnv({"world": "oval", "obsrvation": "state"})
    with pytest.raises(ConfigError, match=r"unknown type 'lidr'.*Did you mean 'lidar'"):
        RacingEnv({"world": "oval", "observation": "lidr"})
    with pytest.raises(ConfigError, match=r"episode.max_steps: expected an integer > 0"):
        RacingEnv({"world": "oval", "episode": {"max_steps": 0}})


def test_immobilized_after_fifteen_still_steps() -> None:
    # Our car never crawls below 0.3 mm per step (min speed 0.1 m/s), so raise the
    # threshold to exercise the rule: 15 "still" steps end the episode.
    env = make("oval", episode={"immobilized_distance": 1.0})
    infos = run_episode(env, pure_pursuit)
    assert infos[-1]["episode_status"] == "immobilized"
    assert infos[-1]["params"]["steps"] == 16


def test_compiled_and_python_paths_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    from deepracer import accel

    if accel.numba is None:
        pytest.skip("numba is not installed (the fast extra)")

    def rollout(compiled: bool) -> list[Any]:
        monkeypatch.setattr(accel, "ENABLED", compiled)
        env = RacingEnv({"world": "kidney"})
        obs, info = env.reset(seed=11)
        out: list[Any] = [(obs, info["params"])]
        rng = np.random.default_rng(2)
        for _ in range(400):
            obs, reward, terminated, truncated, info = env.step(int(rng.integers(10)))
            out.append((obs, info["params"], reward, terminated, truncated))
            if terminated or truncated:
                obs, info = env.reset()
                out.append((obs, info["params"]))
        return out

    compiled, python = rollout(True), rollout(False)
    assert len(compiled) == len(python)
    for a, b in zip(compiled, python, strict=True):
        np.testing.assert_allclose(a[0], b[0], atol=1e-5)
        for key in ("x", "y", "progress", "distance_from_center", "track_width"):
            assert a[1][key] == pytest.approx(b[1][key], abs=1e-9)
        assert a[1]["closest_waypoints"] == b[1]["closest_waypoints"]
        if len(a) > 2:  # a step: reward, terminated, truncated
            assert a[2] == pytest.approx(b[2])
            assert a[3:] == b[3:]


def test_resets_put_the_car_back_on_the_lane_with_a_time_penalty() -> None:
    env = make("oval", episode={"resets": 3, "reset_penalty": 2.0})
    infos = run_episode(env, lambda env: to_action(-30.0, 1.0))
    statuses = [i["episode_status"] for i in infos]
    assert statuses.count("off_track") == 4  # three put back, the fourth ends it
    assert infos[-1]["episode_status"] == "off_track" and infos[-1]["reset_count"] == 3
    failures = [i for i, s in enumerate(statuses) if s == "off_track"]
    for k in failures[:-1]:  # after each put-back: on the road, progress kept, clock +2 s
        after = infos[k + 1]
        assert after["params"]["all_wheels_on_track"]
        assert after["params"]["progress"] >= infos[k]["params"]["progress"] - 1.0
        assert after["sim_time"] == pytest.approx(infos[k]["sim_time"] + 2.0)
        assert after["params"]["distance_from_center"] == pytest.approx(
            0.25 * after["params"]["track_width"], abs=0.16
        )


def test_vector_env_refuses_resets() -> None:
    from deepracer.envs.vector import RacingVectorEnv

    with pytest.raises(ConfigError, match=r"episode\.resets"):
        RacingVectorEnv(2, {"world": "oval", "episode": {"resets": 1}})
