"""The vectorised env matches independent single envs, including autoreset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from deepracer import accel
from deepracer.envs import RacingEnv
from deepracer.envs.vector import RacingVectorEnv
from deepracer.errors import RewardFunctionError

CONFIG: dict[str, Any] = {"world": "kidney", "episode": {"max_steps": 150}}


@pytest.fixture(params=["numpy", "numba"], autouse=True)
def kernels(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs every test with the numpy path and, when numba is installed, the kernels."""
    if request.param == "numba":
        if accel.numba is None:
            pytest.skip("numba is not installed (the fast extra)")
        monkeypatch.setattr(accel, "ENABLED", True)
    else:
        monkeypatch.setattr(accel, "ENABLED", False)
    return str(request.param)


def singles(n: int, config: dict[str, Any], worlds: list[str] | None = None) -> SyncVectorEnv:
    def make(i: int) -> Any:
        cfg = dict(config)
        if worlds:
            cfg["world"] = worlds[i % len(worlds)]
        return lambda: RacingEnv(cfg)

    return SyncVectorEnv(
        [make(i) for i in range(n)], autoreset_mode=AutoresetMode.NEXT_STEP, copy=True
    )


def compare(
    config: dict[str, Any], n: int = 5, steps: int = 400, worlds: list[str] | None = None
) -> int:
    """Runs both with the same seeds and actions; returns the number of episode ends."""
    reference = singles(n, config, worlds)
    batched = RacingVectorEnv(n, config, worlds=worlds)
    obs_a, info_a = reference.reset(seed=7)
    obs_b, info_b = batched.reset(seed=7)
    np.testing.assert_allclose(obs_a, obs_b, atol=1e-5)
    rng = np.random.default_rng(0)
    ends = 0
    for _ in range(steps):
        actions = _actions(rng, reference, n)
        obs_a, rew_a, term_a, trunc_a, info_a = reference.step(actions)
        obs_b, rew_b, term_b, trunc_b, info_b = batched.step(actions)
        np.testing.assert_array_equal(term_a, term_b)
        np.testing.assert_array_equal(trunc_a, trunc_b)
        np.testing.assert_allclose(rew_a, rew_b, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(obs_a, obs_b, atol=1e-5)
        assert list(info_a["episode_status"]) == list(info_b["episode_status"])
        np.testing.assert_allclose(info_a["params"]["progress"], info_b["progress"], atol=1e-9)
        np.testing.assert_array_equal(info_a["episode_index"], info_b["episode_index"])
        ends += int(np.sum(term_a | trunc_a))
    return ends


def _actions(rng: np.random.Generator, env: SyncVectorEnv, n: int) -> Any:
    space = env.single_action_space
    if hasattr(space, "n"):
        # Mostly straight-ish actions so cars drive a while before leaving the road.
        return rng.choice([2, 3, 4, 5, 6, 7], size=n)
    return rng.uniform(-1, 1, size=(n, 2)).astype(np.float32)


def test_matches_single_envs_with_autoreset() -> None:
    assert compare(CONFIG) > 5  # several episodes ended and were reset


def test_matches_with_continuous_actions_and_randomization(tmp_path: Path) -> None:
    world = tmp_path / "w.yaml"
    world.write_text(
        "track: oval\nrandomization:\n  friction_scale: [0.7, 1.2]\n  battery: [0.8, 1.0]\n"
    )
    config = {
        "world": str(world),
        "action_space": {
            "steering_angle": {"low": -30.0, "high": 30.0},
            "speed": {"low": 0.5, "high": 2.0},
        },
        "start": {"alternate_direction": True},
        "episode": {"max_steps": 120},
    }
    assert compare(config, n=4, steps=300) > 3


@pytest.mark.parametrize("vehicle", ["kinematic", "console-2022"])
def test_matches_with_each_car_and_the_legacy_state_vector(vehicle: str) -> None:
    config = {**CONFIG, "vehicle": vehicle, "state": {"steering_command": False}}
    assert RacingVectorEnv(2, config).single_observation_space.shape == (15,)
    assert compare(config, n=3, steps=200) > 0


def test_cars_spread_over_several_worlds() -> None:
    worlds = ["oval", "kidney", "generated_1"]
    compare({"episode": {"max_steps": 100}}, n=6, steps=250, worlds=worlds)
    env = RacingVectorEnv(6, {}, worlds=worlds)
    env.reset(seed=0)
    assert [env.tracks[t].name for t in env._track_of] == [
        "oval",
        "kidney",
        "generated-1",
    ] * 2


def test_batched_reward_agrees_with_per_car_reward() -> None:
    config = {"world": "kidney", "reward": "centerline", "episode": {"max_steps": 200}}
    per_car = RacingVectorEnv(8, config, reward_function_batch=None)
    per_car.reward_function_batch = None  # force the per-car path
    batched = RacingVectorEnv(8, config)
    assert batched.reward_function_batch is not None  # centerline.py defines one
    per_car.reset(seed=3)
    batched.reset(seed=3)
    rng = np.random.default_rng(1)
    for _ in range(300):
        actions = rng.integers(10, size=8)
        _, r_a, *_ = per_car.step(actions)
        _, r_b, *_ = batched.step(actions)
        np.testing.assert_allclose(r_a, r_b)


def test_bad_batched_reward_names_the_car_and_value() -> None:
    def batch(params: dict[str, Any]) -> Any:
        out = np.ones(len(params["x"]))
        out[2] = np.nan
        return out

    env = RacingVectorEnv(4, {"world": "oval"}, reward_function_batch=batch)
    env.reset(seed=0)
    with pytest.raises(RewardFunctionError, match=r"nan for car 2 at step 2"):
        env.step(np.zeros(4, dtype=int))
    env = RacingVectorEnv(4, {"world": "oval"}, reward_function_batch=lambda p: np.ones(3))
    env.reset(seed=0)
    with pytest.raises(RewardFunctionError, match=r"shape \(3,\)"):
        env.step(np.zeros(4, dtype=int))


def test_lidar_and_dict_observations_match() -> None:
    for observation in ("lidar", "sector_lidar"):
        reference = singles(3, {"world": "oval", "observation": observation})
        batched = RacingVectorEnv(3, {"world": "oval", "observation": observation})
        a, _ = reference.reset(seed=1)
        b, _ = batched.reset(seed=1)
        for _ in range(40):
            np.testing.assert_allclose(a, b, atol=1e-5)
            actions = np.array([4, 5, 6])
            a, *_ = reference.step(actions)
            b, *_ = batched.step(actions)


def test_camera_observations_match_single_envs(tmp_path: Path) -> None:
    world = tmp_path / "w.yaml"
    world.write_text(
        "track: oval\nsurface:\n  material: wood\nrandomization:\n  brightness: [0.7, 1.3]\n"
        "  pixel_noise_std: 3.0\n  camera_pitch_jitter_deg: 2.0\n"
    )
    config = {"world": str(world), "observation": ("camera", "state"), "episode": {"max_steps": 30}}
    reference = singles(3, config)
    batched = RacingVectorEnv(3, config)
    a, _ = reference.reset(seed=4)
    b, _ = batched.reset(seed=4)
    for step in range(45):  # crosses an autoreset
        np.testing.assert_array_equal(a["camera"], b["camera"])
        np.testing.assert_allclose(a["state"], b["state"], atol=1e-5)
        actions = np.array([4, 5, 6]) if step % 2 else np.array([5, 5, 7])
        a, *_ = reference.step(actions)
        b, *_ = batched.step(actions)


def test_gymnasium_make_vec_gives_the_vector_env() -> None:
    import gymnasium as gym

    import deepracer  # noqa: F401  (registers the id)

    made = gym.make_vec(
        "DeepRacer/TimeTrial-v0",
        num_envs=3,
        vectorization_mode="vector_entry_point",
        config=CONFIG,
    )
    assert isinstance(made, RacingVectorEnv) and made.num_envs == 3
    direct = RacingVectorEnv(3, CONFIG)
    obs_a, _ = made.reset(seed=5)
    obs_b, _ = direct.reset(seed=5)
    rng = np.random.default_rng(1)
    for _ in range(50):
        actions = rng.integers(0, made.single_action_space.n, size=3)  # type: ignore[attr-defined]
        obs_a, rew_a, *_ = made.step(actions)
        obs_b, rew_b, *_ = direct.step(actions)
        np.testing.assert_array_equal(obs_a, obs_b)
        np.testing.assert_array_equal(rew_a, rew_b)
