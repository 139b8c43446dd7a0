"""The gymnasium layer: worlds, actions, observations, reward params and the env.

Importing :mod:`deepracer` registers ``DeepRacer/TimeTrial-v0``,
``DeepRacer/ObjectAvoidance-v0`` and ``DeepRacer/HeadToBot-v0`` (idempotently).

Contents:
    RacingEnv, EpisodeStatus: see :mod:`deepracer.envs.racing_env`.
    EnvConfig, StartConfig, EpisodeConfig: see :mod:`deepracer.envs.config`.
    WorldConfig, load_world: see :mod:`deepracer.envs.world`.
    ENV_IDS: the registered environment ids.
"""

from __future__ import annotations

import gymnasium as gym

from deepracer.envs.config import EnvConfig, EpisodeConfig, StartConfig
from deepracer.envs.racing_env import EpisodeStatus, RacingEnv
from deepracer.envs.world import WorldConfig, load_world

__all__ = [
    "ENV_IDS",
    "EnvConfig",
    "EpisodeConfig",
    "EpisodeStatus",
    "RacingEnv",
    "StartConfig",
    "WorldConfig",
    "load_world",
]

ENV_IDS = ("DeepRacer/TimeTrial-v0", "DeepRacer/ObjectAvoidance-v0", "DeepRacer/HeadToBot-v0")


def _register_envs() -> None:
    """Registers the DeepRacer environments with gymnasium; safe to call twice."""
    if "DeepRacer/TimeTrial-v0" not in gym.registry:
        gym.register(
            id="DeepRacer/TimeTrial-v0",
            entry_point="deepracer.envs.racing_env:RacingEnv",
            # gym.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point")
            vector_entry_point="deepracer.envs.vector:RacingVectorEnv",
        )
    # Worlds with objects run one RacingEnv per car (gym.make_vec(..., "sync")).
    races = {
        "DeepRacer/ObjectAvoidance-v0": "deepracer.envs.racing_env:object_avoidance_env",
        "DeepRacer/HeadToBot-v0": "deepracer.envs.racing_env:head_to_bot_env",
    }
    for env_id, entry_point in races.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point)
