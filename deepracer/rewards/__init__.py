"""Reward functions: loading, validating and calling ``reward_function(params)``.

The sample reward functions themselves are user data in the top-level ``rewards/``
folder; this package only runs them.

The ``params`` dict a reward function is called with is built here too
(:mod:`deepracer.rewards.params`), below the environment that fills it in and the
``check-reward`` poses (:mod:`deepracer.rewards.check`) alike.

Contents:
    RewardFunction, load_reward_function, copy_params, REWARD_LIMIT: see
        :mod:`deepracer.rewards.loader`.
    params: the DeepRacer ``params`` dict (:func:`~deepracer.rewards.params.build_params`).
"""

from __future__ import annotations

from deepracer.rewards.loader import (
    REWARD_LIMIT,
    RewardFunction,
    copy_params,
    load_reward_function,
)

__all__ = [
    "REWARD_LIMIT",
    "RewardFunction",
    "copy_params",
    "load_reward_function",
]
