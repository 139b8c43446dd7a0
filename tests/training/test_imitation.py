from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from deepracer.envs import EnvConfig
from deepracer.envs.action import make_action_type
from deepracer.envs.model_metadata import load_model_metadata
from deepracer.errors import ConfigError
from deepracer.training.imitation import _to_action, clone, expert_dataset
from tests.envs.drivers import CONTINUOUS


def test_commands_map_to_the_nearest_action() -> None:
    discrete = make_action_type(load_model_metadata("fast_lap").action_space)
    assert discrete.actions[_to_action(discrete, 2.5, 3.9)] == (3.0, 4.0)
    assert discrete.actions[_to_action(discrete, -25.0, 2.2)] == (-30.0, 2.0)
    continuous = make_action_type(CONTINUOUS)
    assert _to_action(continuous, 30.0, 4.0) == pytest.approx([1.0, 1.0])
    assert _to_action(continuous, 0.0, 0.1) == pytest.approx([0.0, -1.0])


def test_the_expert_laps_the_oval_and_cloning_learns_it() -> None:
    pytest.importorskip("stable_baselines3")
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    from deepracer.envs import RacingEnv

    actions = load_model_metadata("fast_lap").action_space
    config = EnvConfig(world="oval", action_space=actions)
    observations, labels, stats = expert_dataset([config], 600, seed=1)
    assert len(observations) == len(labels) == 600
    assert stats["laps"] >= 1 and stats["mean_lap_time"] > 0
    assert stats["expert"] == "race-line driver"
    model = PPO("MlpPolicy", DummyVecEnv([lambda: RacingEnv(config)]), seed=0, device="cpu")
    rate = model.policy.optimizer.param_groups[0]["lr"]
    before = clone(model, observations, labels, epochs=0)
    after = clone(model, observations, labels, epochs=8, batch_size=64, learning_rate=1e-3)
    assert after > before + 0.2
    assert model.policy.optimizer.param_groups[0]["lr"] == rate  # the preset's, back


def test_cloning_needs_ppo() -> None:
    class NoActorCritic:
        policy = object()

    with pytest.raises(ConfigError, match="needs a PPO preset"):
        clone(NoActorCritic(), [np.zeros(3)], [0], epochs=1)


def test_among_objects_the_expert_avoids_them() -> None:
    actions = load_model_metadata("object_avoidance").action_space
    config = EnvConfig(world="reinvent_object_avoidance", action_space=actions)
    _, _, stats = expert_dataset([config], 900, seed=0)
    assert stats["expert"] == "object-avoiding driver"
    assert stats["laps"] >= 2  # about 245 steps a lap


def test_dagger_lets_the_policy_drive_and_the_expert_label() -> None:
    actions = load_model_metadata("fast_lap").action_space
    config = EnvConfig(world="oval", action_space=actions)

    class Straight:
        """Always action 0: full right lock at 2 m/s."""

        def predict(self, obs: Any, deterministic: bool = True) -> tuple[int, None]:
            return 0, None

    _, labels, stats = expert_dataset([config], 300, seed=1, policy=Straight())
    _, expert_labels, expert_stats = expert_dataset([config], 300, seed=1)
    # Turning on full lock it leaves the road fast: many short episodes, no laps ...
    assert stats["episodes"] > 5 * expert_stats["episodes"] and stats["laps"] == 0
    # ... while the expert keeps asking for something else than full lock.
    assert sum(label != 0 for label in labels) > 0.5 * len(labels)
    assert labels != expert_labels
    # The frames where the driver's action was not the expert's are marked.
    assert stats["missed"].tolist() == [label != 0 for label in labels]
    assert not expert_stats["missed"].any() and len(expert_stats["missed"]) == 300


def test_balance_weighs_rare_actions_up() -> None:
    from deepracer.training.imitation import _balance

    assert _balance(np.array([0, 0, 0, 1]), 1.0) == pytest.approx([2 / 3, 2 / 3, 2 / 3, 2])
    assert _balance(np.array([0, 0, 0, 1]), 0.0) == pytest.approx([1, 1, 1, 1])
    assert _balance(np.zeros((4, 2)), 0.5) == pytest.approx([1, 1, 1, 1])  # continuous


@pytest.mark.parametrize(("balance", "chosen"), [(0.0, 0), (2.0, 1)])
def test_a_balanced_clone_picks_the_rare_action(balance: float, chosen: int) -> None:
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    from deepracer.envs import RacingEnv

    config = EnvConfig(world="oval", action_space=load_model_metadata("fast_lap").action_space)
    env = RacingEnv(config)
    obs, _ = env.reset(seed=0)
    model = PPO("MlpPolicy", DummyVecEnv([lambda: env]), seed=0, device="cpu")
    # The same frame labelled 0 four times out of five: the likelihood's best answer
    # is 0, unless the rare label weighs (1/0.2)^2 / (1/0.8)^2 = 16 times as much.
    labels = [0, 0, 0, 0, 1] * 20
    clone(model, [obs] * 100, labels, epochs=30, batch_size=20, learning_rate=3e-3, balance=balance)
    assert int(model.predict(obs, deterministic=True)[0]) == chosen
