"""reset(options={"state": ...}): the car starts exactly where it is put, in both envs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from deepracer import accel
from deepracer.envs import RacingEnv
from deepracer.envs.vector import RacingVectorEnv
from tests.envs.drivers import CONTINUOUS, to_action

CONFIG: dict[str, Any] = {"world": "reinvent_base", "observation": "state"}


@pytest.fixture(params=["numpy", "numba"], autouse=True)
def kernels(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.param == "numba" and accel.numba is None:
        pytest.skip("numba is not installed (the fast extra)")
    monkeypatch.setattr(accel, "ENABLED", request.param == "numba")


def drive(env: RacingEnv, actions: list[int]) -> list[tuple[float, float, float, str]]:
    out = []
    for action in actions:
        _, reward, terminated, truncated, info = env.step(action)
        p = info["params"]
        out.append((p["x"], p["y"], reward, info["episode_status"]))
        if terminated or truncated:
            break
    return out


def test_the_default_start_given_as_a_state_is_the_default_start() -> None:
    env = RacingEnv(CONFIG)
    _, info = env.reset(seed=4)
    p = info["params"]
    actions = [3, 4, 5, 5, 6, 3, 2, 3] * 4
    expected = drive(env, actions)
    _, again = env.reset(seed=4, options={"state": {"x": p["x"], "y": p["y"], "yaw": p["heading"]}})
    assert again["params"] == info["params"]
    assert drive(env, actions) == expected


def test_a_moving_start_drives_on_at_its_speed() -> None:
    env = RacingEnv({**CONFIG, "action_space": CONTINUOUS})
    _, info = env.reset(seed=0)
    p = info["params"]
    moved = []
    for speed in (0.0, 2.0):
        state = {"x": p["x"], "y": p["y"], "yaw": p["heading"], "speed": speed}
        env.reset(options={"state": state})
        hold = to_action(0.0, max(speed, 0.1))  # straight on at the speed it has
        env.step(hold)  # judges the start pose, then drives one step of 1/15 s
        _, _, _, _, after = env.step(hold)  # judges the pose that step reached
        moved.append(np.hypot(after["params"]["x"] - p["x"], after["params"]["y"] - p["y"]))
    # At 2 m/s the car covers 2/15 m (less the action noise); from rest it has only
    # begun to roll.
    assert 0.12 < moved[1] <= 2.0 / 15.0 + 0.01, moved
    assert moved[0] < 0.02, moved


def test_the_vector_env_starts_each_car_where_it_is_put() -> None:
    states = [
        {"x": 2.0, "y": 0.75, "yaw": 4.0, "speed": 1.0},
        {"x": 4.5, "y": 0.8, "yaw": 0.0},
        {"x": 2.0, "y": 0.75, "yaw": 4.0, "speed": 1.0},
    ]
    vector = RacingVectorEnv(3, CONFIG)
    singles = [RacingEnv(CONFIG) for _ in states]
    obs_v, info_v = vector.reset(seed=9, options={"state": states})
    for i, (env, state) in enumerate(zip(singles, states, strict=True)):
        obs, info = env.reset(seed=9 + i, options={"state": state})
        np.testing.assert_allclose(obs_v[i], obs, atol=1e-6)
        assert info_v["progress"][i] == pytest.approx(info["params"]["progress"], abs=1e-9)
    rng = np.random.default_rng(1)
    ended = np.zeros(3, dtype=bool)
    for _ in range(40):
        actions = rng.choice([3, 4, 5, 6], size=3)
        obs_v, rew_v, term_v, trunc_v, _ = vector.step(actions)
        for i, env in enumerate(singles):
            if ended[i]:  # the vector env has restarted that car on its own
                continue
            obs, reward, *_ = env.step(int(actions[i]))
            np.testing.assert_allclose(obs_v[i], obs, atol=1e-5)
            assert rew_v[i] == pytest.approx(reward, rel=1e-9)
        ended |= term_v | trunc_v
    assert not ended.all()  # the comparison ran to the end for some car


def test_one_state_serves_every_car() -> None:
    vector = RacingVectorEnv(2, CONFIG)
    obs, _ = vector.reset(seed=1, options={"state": {"x": 2.0, "y": 0.75, "yaw": 4.0}})
    np.testing.assert_allclose(obs[0], obs[1])


def test_a_start_with_the_wheels_turned_turns_at_once() -> None:
    """The steering state is the car's: a lagging car given it needs no time to turn."""
    env = RacingEnv({**CONFIG, "action_space": CONTINUOUS})
    _, info = env.reset(seed=0)
    p = info["params"]
    turned = []
    for steering in (0.0, 20.0):
        state = {"x": p["x"], "y": p["y"], "yaw": p["heading"], "speed": 1.0}
        env.reset(options={"state": {**state, "steering": steering}})
        assert env.car_state[4] == pytest.approx(np.radians(steering))
        env.step(to_action(20.0, 1.0))
        _, _, _, _, after = env.step(to_action(20.0, 1.0))
        turned.append(after["params"]["heading"] - p["heading"])
    car = env.vehicle
    full = np.degrees(1.0 / 15.0 * np.tan(np.radians(20.0)) / car.effective_wheelbase)
    assert turned[1] == pytest.approx(full, rel=0.1)  # the action noise aside
    assert turned[0] < 0.8 * turned[1]


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"x": 2.0, "y": 0.75}, r"reset option 'state': missing keys \['yaw'\]"),
        (
            {"x": 2.0, "y": 0.75, "yaw": 0.0, "z": 1.0},
            r"reset option 'state': unknown keys \['z'\]; valid: \['x', 'y', 'yaw', 'speed',"
            r" 'steering'\]",
        ),
        (
            {"x": 2.0, "y": 0.75, "yaw": 0.0, "steering": -45},
            r"reset option 'state': steering -45 deg is beyond the car's \+-30 deg",
        ),
        (
            {"x": float("nan"), "y": 0.75, "yaw": 0.0},
            r"reset option 'state': x is nan; expected a finite number",
        ),
        (
            {"x": 2.0, "y": 0.75, "yaw": True},
            r"reset option 'state': yaw is True; expected a finite number",
        ),
        (
            {"x": 2.0, "y": 0.75, "yaw": 0.0, "speed": -1},
            r"reset option 'state': speed -1 m/s is outside the car's 0 to 4 m/s",
        ),
        (
            {"x": 0.0, "y": -3.0, "yaw": 90.0},
            r"reset option 'state' puts the car off the road \(x 0, y -3, yaw 90 deg\): no"
            r" wheel is on the track",
        ),
        ([1, 2], r"reset option 'state' must be a mapping with keys .* got list"),
    ],
)
def test_bad_states_are_refused_and_change_nothing(state: Any, message: str) -> None:
    env, reference = RacingEnv(CONFIG), RacingEnv(CONFIG)
    env.reset(seed=2)
    reference.reset(seed=2)
    with pytest.raises(ValueError, match=message):
        env.reset(options={"state": state})
    env.reset()
    reference.reset()
    assert drive(env, [4, 5, 3] * 5) == drive(reference, [4, 5, 3] * 5)


def test_the_vector_env_names_the_car_of_a_bad_state() -> None:
    vector = RacingVectorEnv(2, CONFIG)
    good = {"x": 2.0, "y": 0.75, "yaw": 4.0}
    with pytest.raises(ValueError, match=r"^car 1: reset option 'state' puts the car off"):
        vector.reset(options={"state": [good, {"x": 0.0, "y": -3.0, "yaw": 0.0}]})
    with pytest.raises(ValueError, match=r"expected one state or 2, got 3"):
        vector.reset(options={"state": [good] * 3})
