"""RacingEnv with obstacles and bot cars: layouts, crashes, resets, params, sensors."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import deepracer  # noqa: F401  (registers the env ids)
from deepracer.envs import RacingEnv
from deepracer.envs.vector import RacingVectorEnv
from deepracer.errors import ConfigError
from deepracer.rewards.objects import object_params

STRAIGHT = [{"steering_angle": 0.0, "speed": 1.0}]


def _oa(positions: list[list[float]], **more: Any) -> dict[str, Any]:
    return {
        "track": "straight",
        "race_type": "OBJECT_AVOIDANCE",
        "object_avoidance": {"object_positions": positions, **more},
    }


def _h2b(**settings: Any) -> dict[str, Any]:
    return {"track": "straight", "race_type": "HEAD_TO_BOT", "head_to_bot": settings}


def _drive(env: RacingEnv, action: Any = 0, limit: int = 2000) -> list[dict[str, Any]]:
    infos = []
    for _ in range(limit):
        _, _, terminated, truncated, info = env.step(action)
        infos.append(info)
        if terminated or truncated:
            break
    return infos


def test_driving_into_a_box_crashes() -> None:
    # Box at 3 m in the left lane (y = +0.1525 on the 0.61 m straight): the car on the
    # centre line overlaps its 0.4 m wide footprint.
    env = RacingEnv({"world": _oa([[0.5, 1]]), "action_space": STRAIGHT})
    _, info = env.reset(seed=0)
    assert [(o.x, o.y) for o in env.objects] == [(3.0, pytest.approx(0.1525))]
    assert info["params"]["objects_location"] == [[3.0, pytest.approx(0.1525)]]
    infos = _drive(env)
    last = infos[-1]
    assert last["episode_status"] == "crashed"
    assert last["params"]["is_crashed"] is True
    assert last["crashed_object"] == "obstacle_0"
    assert last["obstacle_crash_counter"] == 1
    # The car's front corners (0.162 m ahead of the origin) reached the footprint's
    # back edge (3.0 - 0.25 m): the origin is within one step of 2.588 m.
    origin_x = last["params"]["x"] - 0.14
    assert 2.588 - 1.0 / 15.0 - 0.01 < origin_x < 2.588 + 0.01
    assert not any(i["params"]["is_crashed"] for i in infos[:-1])


def test_the_other_lane_passes_and_finishes() -> None:
    # The same box; the car keeps 0.2 m right of centre and passes it.
    env = RacingEnv({"world": _oa([[0.5, 1]]), "action_space": STRAIGHT})
    start = {"state": {"x": 0.2, "y": -0.2, "yaw": 0.0}, "start_ndist": 0.0}
    env.reset(seed=0, options=start)
    infos = _drive(env)
    assert infos[-1]["episode_status"] == "lap_complete"
    assert all(not i["params"]["is_crashed"] for i in infos)


def test_a_crash_in_evaluation_puts_the_car_behind_the_box() -> None:
    env = RacingEnv(
        {
            "world": _oa([[0.5, 1]]),
            "action_space": STRAIGHT,
            "episode": {"resets": 1, "collision_penalty": 5.0, "reset_penalty": 2.0},
        }
    )
    env.reset(seed=0)
    infos = _drive(env)
    crash = next(i for i in infos if i["episode_status"] == "crashed")
    after = infos[infos.index(crash) + 1]
    assert crash["reset_count"] == 1
    # 5 s of collision penalty, not the 2 s off-track one (the put-back step drives not).
    assert after["sim_time"] == pytest.approx(crash["sim_time"] + 5.0)
    # The origin 1 m behind the box (3.0 m) in the other lane (right: y = -0.1525).
    assert after["params"]["y"] == pytest.approx(-0.1525, abs=1e-9)
    assert after["params"]["x"] == pytest.approx(2.0 + 0.14, abs=1e-9)
    assert after["params"]["heading"] == pytest.approx(0.0, abs=1e-9)
    assert infos[-1]["episode_status"] == "lap_complete"
    assert infos[-1]["obstacle_crash_counter"] == 1


@pytest.mark.parametrize("mercy", [False, True])
def test_mercy_resets_put_the_car_past_a_box_it_keeps_hitting(mercy: bool) -> None:
    # Boxes in both lanes at 3 m close the road: each reset 1 m behind them, in the
    # other lane, ends in the other box.
    episode = {"resets": 5, "collision_penalty": 5.0, "mercy_reset": mercy}
    env = RacingEnv(
        {"world": _oa([[0.5, 1], [0.5, -1]]), "action_space": STRAIGHT, "episode": episode}
    )
    env.reset(seed=0)
    infos = _drive(env)
    crashes = [i for i, info in enumerate(infos) if info["episode_status"] == "crashed"]
    put_back = [infos[i + 1] for i in crashes if i + 1 < len(infos)]  # the step after
    if not mercy:
        assert infos[-1]["episode_status"] == "crashed" and infos[-1]["reset_count"] == 5
        assert all(after["params"]["x"] == pytest.approx(2.14, abs=1e-9) for after in put_back)
        assert infos[-1]["obstacle_crash_counter"] == 6  # ours: every crash this episode
        return
    # The simapp's rule: the third reset in a row near the same box goes 1 m past it.
    assert infos[-1]["episode_status"] == "lap_complete" and infos[-1]["reset_count"] == 3
    assert [after["params"]["x"] for after in put_back] == pytest.approx([2.14, 2.14, 4.14])
    assert [after["obstacle_crash_counter"] for after in put_back] == [1, 2, 0]


def test_the_start_moves_to_the_lane_away_from_a_near_box() -> None:
    # A box 0.6 m past the start in the left lane: the car starts in the right lane.
    env = RacingEnv({"world": _oa([[0.1, 1]]), "action_space": STRAIGHT})
    _, info = env.reset(seed=0)
    assert info["params"]["y"] == pytest.approx(-0.1525, abs=1e-6)
    env = RacingEnv({"world": _oa([[0.5, 1]]), "action_space": STRAIGHT})
    _, info = env.reset(seed=0)
    assert info["params"]["y"] == pytest.approx(0.0, abs=1e-9)


def test_params_are_the_simapps_at_every_step() -> None:
    env = RacingEnv({"world": "reinvent_object_avoidance", "action_space": STRAIGHT})
    env.reset(seed=3)
    for info in _drive(env, limit=30):
        params = info["params"]
        x, y = params["x"], params["y"]
        yaw = math.radians(params["heading"])
        origin = (x - 0.14 * math.cos(yaw), y - 0.14 * math.sin(yaw), yaw)
        expected = object_params(env.track, origin, env.objects, model_point=(x, y))
        for key, value in expected.items():
            if key == "objects_location":
                np.testing.assert_allclose(params[key], value, rtol=0, atol=1e-12)
            else:
                assert params[key] == value, key


def test_layouts_are_redrawn_each_reset_and_fixed_by_the_seed() -> None:
    def layouts(seed: int) -> list[list[tuple[float, float]]]:
        env = RacingEnv({"world": "reinvent_object_avoidance"})
        env.reset(seed=seed)
        out = [[(o.x, o.y) for o in env.objects]]
        for _ in range(2):
            env.reset()
            out.append([(o.x, o.y) for o in env.objects])
        return out

    first = layouts(7)
    assert first == layouts(7)
    assert first[0] != first[1] != first[2]
    assert first != layouts(8)
    assert all(len(layout) == 6 for layout in first)


def test_same_seed_same_trajectory_with_bot_cars() -> None:
    def run() -> list[tuple[float, ...]]:
        env = RacingEnv({"world": "reinvent_head_to_bot", "observation": "lidar"})
        env.reset(seed=11)
        env.action_space.seed(11)
        rows = []
        for _ in range(60):
            obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            rows.append((*env.car_state[:3], reward, *[o.x for o in env.objects], *obs[:4]))
            if terminated or truncated:
                env.reset()
        return rows

    assert run() == run()


def test_running_into_a_bot_car_from_behind_crashes() -> None:
    # One bot car at 2 m in the left lane at 0.2 m/s; the car at 1 m/s on the centre.
    world = _h2b(number_of_bot_cars=1, min_distance_between_bot_cars=2.0, bot_car_speed=0.2)
    env = RacingEnv({"world": world, "action_space": STRAIGHT})
    env.reset(seed=0)
    (bot,) = env.objects
    assert (bot.x, bot.kind) == (pytest.approx(2.0), "bot_car")
    infos = _drive(env)
    assert infos[-1]["episode_status"] == "crashed"
    assert infos[-1]["crashed_object"] == "bot_car_0"
    assert infos[-1]["obstacle_crash_counter"] == 0  # counts static obstacles only
    # The bot car drove on meanwhile: 0.2 m/s for the episode's time.
    assert env.objects[0].x == pytest.approx(2.0 + 0.2 * infos[-1]["sim_time"], abs=1e-6)
    assert infos[-1]["params"]["objects_speed"] == [0.2]


def test_a_bot_car_running_into_the_car_stops_the_bot_cars() -> None:
    # The car waits just ahead of a fast bot car: the bot car is to blame.
    world = _h2b(number_of_bot_cars=1, min_distance_between_bot_cars=1.0, bot_car_speed=2.0)
    env = RacingEnv({"world": world, "action_space": [{"steering_angle": 0.0, "speed": 0.1}]})
    env.reset(seed=0, options={"state": {"x": 1.45, "y": 0.1525, "yaw": 0.0}})
    infos = _drive(env, limit=40)
    assert all(i["episode_status"] != "crashed" for i in infos)
    assert all(not i["params"]["is_crashed"] for i in infos)
    stopped = [o.x for o in env.objects]
    env.step(0)
    assert [o.x for o in env.objects] == stopped  # all bot cars wait their 5 s


def test_the_state_vector_ends_with_the_nearest_objects() -> None:
    env = RacingEnv({"world": _oa([[0.5, 1], [0.9, -1]]), "action_space": STRAIGHT})
    obs, _ = env.reset(seed=0)
    assert obs.shape == (20,)  # 16 as in a time trial, then 2 objects x 2
    # The origin starts at x = 0, the model point 0.14 m ahead of it.
    ahead, left = (3.0 - 0.14) / 2.0, 0.1525 / 2.0
    assert obs[-4:-2] == pytest.approx([ahead, left], abs=1e-3)
    assert obs[-2:] == pytest.approx([(5.4 - 0.14) / 2.0, -0.1525 / 2.0], abs=1e-3)
    plain = RacingEnv({"world": "straight", "action_space": STRAIGHT})
    assert plain.reset(seed=0)[0].shape == (16,)


def test_the_lidar_sees_a_box() -> None:
    world = _oa([[0.2, 1]])
    env = RacingEnv({"world": world, "observation": "lidar", "action_space": STRAIGHT})
    env.reset(seed=0, options={"state": {"x": 0.2, "y": 0.1525, "yaw": 0.0}})
    obs = env.step(0)[0]
    # Ray 0 looks straight ahead from the origin: the box's near face is 0.2 m
    # before its centre at 1.2 m (its body is 0.4 m long).
    origin_x = env.car_state[0] + 0.0817
    assert obs[0] == pytest.approx(1.2 - 0.2 - origin_x, abs=1e-4)
    free = RacingEnv({"world": "straight", "observation": "lidar", "action_space": STRAIGHT})
    free.reset(seed=0, options={"state": {"x": 0.2, "y": 0.1525, "yaw": 0.0}})
    assert free.step(0)[0][0] == pytest.approx(2.0)


def test_env_ids_for_the_race_types() -> None:
    env = gym.make("DeepRacer/ObjectAvoidance-v0")
    assert env.unwrapped.world.race_type == "OBJECT_AVOIDANCE"
    env = gym.make("DeepRacer/HeadToBot-v0", config={"observation": "lidar"})
    assert env.unwrapped.world.name == "reinvent_head_to_bot"
    with pytest.raises(ConfigError, match="TIME_TRIAL world; this env id needs race_type"):
        gym.make("DeepRacer/HeadToBot-v0", config={"world": "oval"})


def test_boxes_that_do_not_fit_fail_at_construction() -> None:
    world = {
        "track": "straight",
        "race_type": "OBJECT_AVOIDANCE",
        "object_avoidance": {"number_of_obstacles": 5, "min_distance_between_obstacles": 20},
    }
    with pytest.raises(ConfigError, match="number_of_obstacles: 5 obstacles at least 20%"):
        RacingEnv({"world": world})


def test_the_vector_env_refuses_worlds_with_objects() -> None:
    with pytest.raises(ConfigError, match="reinvent_head_to_bot have obstacles or bot cars"):
        RacingVectorEnv(2, {"world": "reinvent_head_to_bot"})


def test_a_time_trial_is_unchanged() -> None:
    env = RacingEnv({"world": "oval"})
    _, info = env.reset(seed=0)
    assert env.objects == ()
    assert info["params"]["objects_location"] == []
    assert info["obstacle_crash_counter"] == 0
    assert np.all(np.isfinite(env.step(0)[0]))


def test_passing_a_bot_car_counts() -> None:
    # A bot car at 2 m in the left lane at 0.2 m/s; the car passes it in the right lane.
    world = _h2b(number_of_bot_cars=1, min_distance_between_bot_cars=2.0, bot_car_speed=0.2)
    env = RacingEnv({"world": world, "action_space": STRAIGHT})
    start = {"state": {"x": 0.2, "y": -0.15, "yaw": 0.0}, "start_ndist": 0.0}
    _, info = env.reset(seed=0, options=start)
    assert info["passes"] == 0
    infos = _drive(env)
    assert infos[-1]["episode_status"] == "lap_complete"
    passed = next(i for i, info in enumerate(infos) if info["passes"] == 1)
    # The model point goes by the bot car's centre: 2 m + 0.2 m/s x the time so far.
    x = infos[passed]["params"]["x"]
    assert x == pytest.approx(2.0 + 0.2 * infos[passed]["sim_time"], abs=0.1)
    assert infos[-1]["passes"] == 1
