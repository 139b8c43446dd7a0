"""Behaviour cloning from the race-line driver, before reinforcement learning.

A camera policy learns slowly from reward alone on a CPU (about 60 steps a second
with the console's CNN on 2 cores). The scripted
:class:`~deepracer.raceline.follow.LineFollower` already drives each training world's
race line within a few percent of its lap time, so the policy first imitates it:
drive the expert on the training worlds (with their noise and round-robin starts),
record the observation the policy would see and the expert's command mapped to the
run's action space, and fit the policy's log-likelihood of those actions for a few
epochs. PPO then starts from a car that already laps fast and refines it on the
reward. The value head is not fitted: PPO's first rollouts train it.

In a world with obstacles or bot cars the race line would drive into them: there the
expert is the :class:`~deepracer.raceline.avoid.ObjectAvoider`, which keeps a lane and
swaps lanes to pass the next object.

``train.imitation_steps`` (0 = off) and ``train.imitation_epochs`` in an experiment
switch it on; the time it takes counts against ``train.max_minutes``.
``train.imitation_rounds`` adds DAgger rounds (Ross et al., 2011): the cloned policy
drives, the expert labels every state it reaches, and the policy is fitted again on
all the data, so it learns to recover from its own mistakes, which a driver that
never makes them does not show.

Contents:
    expert_dataset: observations and expert actions from driving the race line.
    clone: fit a stable-baselines3 policy to them.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from deepracer.envs import EnvConfig, RacingEnv
from deepracer.envs.action import ContinuousActions, DiscreteActions, make_action_type
from deepracer.errors import ConfigError

__all__ = [
    "CLONE_BALANCE",
    "CLONE_LEARNING_RATE",
    "EXPERT_MARGIN",
    "OBJECT_EXPERT",
    "clone",
    "expert_dataset",
]

CLONE_LEARNING_RATE = 3e-4
"""Adam's step size for cloning: the console's PPO default, whatever the preset's."""

_AVOID_SPEED = 1.2
"""[m/s] The object avoider's straight-line speed. Told only what the camera sees, as
imitation tells it, with object_avoidance.json's 14 actions on re:Invent 2018 among six
random boxes at least 2.1 m apart: 298 of 300 laps from the start line and 193 of 200
from round-robin starts (in the simapp's lanes, before
:data:`~deepracer.raceline.avoid.DEFAULT_LANE`: 261 of 300 and 160 of 200); among three
bot cars, 100 of 100."""

CLONE_BALANCE = 0.5
"""Each discrete sample weighs ``(1 / frequency of its action) ** CLONE_BALANCE``.

Sharp steering is rare in an expert's drive, and an unweighted clone picks a gentler
action where it is unsure: a car that swerves too little hits the box. Cloning 10,000
steps of the object avoider (object_avoidance experiment), on 3,000 held-out steps the
clone matched the expert's 20 and 30 degree commands 48 % and 32 % of the time
unweighted, 72 % and 53 % with 0.5, at the cost of straight-ahead frames (97 % ->
89 %; all actions: 85.7 % and 86.1 %); with 1.0, 80 % and 62 %, but 79 % straight
ahead and 81.9 % in all. Measured among objects only: the trainer weighs the object
expert's frames (:data:`OBJECT_EXPERT`), not the race-line driver's."""

OBJECT_EXPERT = "object-avoiding driver"
"""``stats["expert"]`` of :func:`expert_dataset` in worlds with objects."""

EXPERT_MARGIN = 0.03
"""The expert drives a line 3 cm inside the off-track limit [m]: on the exact limit a
pure-pursuit car that joins the line at an angle overshoots it off the track."""


def _to_action(actions: Any, steering: float, speed: float) -> Any:
    """The run's action closest to the expert's command."""
    if isinstance(actions, DiscreteActions):
        # Steering errors matter more than speed errors of the same share of the range:
        # weigh a 10 degree steering gap like the whole 4 m/s speed range.
        costs = [
            ((s - steering) / 10.0) ** 2 + ((v - speed) / 4.0) ** 2 for s, v in actions.actions
        ]
        return int(np.argmin(costs))
    if isinstance(actions, ContinuousActions):
        (s_lo, s_hi), (v_lo, v_hi) = actions.steering, actions.speed
        steer = min(max(steering, s_lo), s_hi)
        fast = min(max(speed, v_lo), v_hi)
        return np.array(
            [
                2.0 * (steer - s_lo) / (s_hi - s_lo) - 1.0,
                2.0 * (fast - v_lo) / (v_hi - v_lo) - 1.0,
            ],
            dtype=np.float32,
        )
    raise ConfigError(f"imitation: cannot map commands to a {type(actions).__name__}")


def expert_dataset(
    configs: list[EnvConfig],
    steps: int,
    seed: int = 0,
    *,
    deadline: float | None = None,
    policy: Any = None,
) -> tuple[list[Any], list[Any], dict[str, Any]]:
    """Drives the expert (or a policy) and records ``(observation, expert action)`` pairs.

    Args:
        configs: Training env configs (one per world); the expert drives them in turn,
            one episode at a time, with their noise and start positions.
        steps: Pairs to record in total.
        seed: Seeds the envs.
        deadline: A ``time.perf_counter()`` value: recording stops there with fewer
            pairs (the time budget's end).
        policy: A model with ``predict``: it drives (greedily) and the expert only
            labels what it sees, DAgger's way of collecting the states the cloned
            policy gets itself into; None: the expert drives.

    Returns:
        ``(observations, actions, stats)``; stats hold ``episodes``, ``laps`` and
        ``mean_lap_time`` of the driver, ``expert``, the expert's name, and
        ``missed``, a boolean array: where the driving policy's action was not the
        expert's (all False when the expert drives).
    """
    from deepracer.evaluation.evaluate import top_speed
    from deepracer.raceline import raceline_for_world
    from deepracer.raceline.avoid import ObjectAvoider, horizon_for
    from deepracer.raceline.follow import LineFollower

    observations: list[Any] = []
    labels: list[Any] = []
    missed: list[bool] = []
    laps: list[float] = []
    episodes = 0
    envs = [RacingEnv(config) for config in configs]
    drivers: list[Any] = []
    for env, config in zip(envs, configs, strict=True):
        if env.world.race_type != "TIME_TRIAL":
            fastest = top_speed(config)
            drivers.append(
                ObjectAvoider(
                    env.track,
                    env.vehicle,
                    speed=min(_AVOID_SPEED, fastest),
                    horizon=horizon_for(env.world, env.track),
                    # The policy learns from frames: the expert reacts to what they show.
                    camera=env.camera_frustum,
                )
            )
            continue
        line = raceline_for_world(
            env.world, vehicle=env.vehicle, v_max=top_speed(config), margin=EXPERT_MARGIN
        )
        drivers.append(LineFollower(line, env.vehicle))
    actions = make_action_type(configs[0].action_space)
    try:
        while len(observations) < steps:
            which = episodes % len(envs)
            env, driver = envs[which], drivers[which]
            # Seed each env once: later resets go round the track's start positions.
            obs, _ = env.reset(seed=seed + which) if episodes < len(envs) else env.reset()
            driver.reset()
            avoiding = isinstance(driver, ObjectAvoider)
            if avoiding:
                driver.track = env.track  # this episode's driving direction
            episodes += 1
            while len(observations) < steps:
                if _expired(deadline):
                    steps = len(observations)
                    break
                command = (
                    driver.command(env.car_state, env.objects)
                    if avoiding
                    else driver.command(env.car_state)
                )
                action = _to_action(actions, *command)
                observations.append(obs)
                labels.append(action)
                if policy is not None:
                    label = action
                    action, _ = policy.predict(obs, deterministic=True)
                    missed.append(not np.allclose(action, label, atol=0.1))
                else:
                    missed.append(False)
                obs, _, terminated, truncated, info = env.step(action)
                if terminated or truncated:
                    if info["episode_status"] == "lap_complete":
                        laps.append(float(info["sim_time"]))
                    break
    finally:
        for env in envs:
            env.close()
    avoider = any(isinstance(d, ObjectAvoider) for d in drivers)
    stats: dict[str, Any] = {
        "expert": OBJECT_EXPERT if avoider else "race-line driver",
        "episodes": float(episodes),
        "laps": float(len(laps)),
        "mean_lap_time": float(np.mean(laps)) if laps else math.nan,
        "missed": np.asarray(missed, dtype=bool),
    }
    return observations, labels, stats


def clone(
    model: Any,
    observations: list[Any],
    actions: list[Any],
    *,
    epochs: int,
    batch_size: int = 256,
    seed: int = 0,
    deadline: float | None = None,
    learning_rate: float = CLONE_LEARNING_RATE,
    balance: float = 0.0,
) -> float:
    """Fits ``model.policy`` to the expert's actions by maximum likelihood.

    Args:
        model: A stable-baselines3 PPO model (its policy and optimizer).
        observations: Observations as the env returns them.
        actions: The expert's actions in the env's action space.
        epochs: Passes over the data.
        batch_size: Mini-batch size.
        seed: Seeds the shuffling.
        deadline: A ``time.perf_counter()`` value: fitting stops there (between
            mini-batches).
        learning_rate: The optimizer's step size while cloning (the preset's, which
            may be small for gentle RL, comes back afterwards).
        balance: Weighs discrete samples by their action's inverse frequency to this
            power (see :data:`CLONE_BALANCE`); 0 weighs all the same.

    Returns:
        The share of observations on which the greedy policy now picks the expert's
        action (discrete) or comes within 0.1 of it (continuous).
    """
    import torch

    policy = model.policy
    if not hasattr(policy, "evaluate_actions"):
        raise ConfigError("train.imitation_steps: behaviour cloning needs a PPO preset")
    rng = np.random.default_rng(seed)
    count = len(observations)
    target = np.asarray(actions)
    weights = torch.as_tensor(_balance(target, balance), dtype=torch.float32, device=policy.device)
    optimizer = policy.optimizer
    rates = [group["lr"] for group in optimizer.param_groups]
    for group in optimizer.param_groups:
        group["lr"] = learning_rate
    policy.set_training_mode(True)
    for _ in range(epochs):
        order = rng.permutation(count)
        for start in range(0, count, batch_size):
            if _expired(deadline):
                break
            index = order[start : start + batch_size]
            obs_tensor = _batch(policy, observations, index)
            act_tensor = torch.as_tensor(target[index], device=policy.device)
            _, log_prob, _ = policy.evaluate_actions(obs_tensor, act_tensor)
            loss = -(weights[index] * log_prob).mean()
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), 0.5)
            optimizer.step()
    for group, rate in zip(optimizer.param_groups, rates, strict=True):
        group["lr"] = rate
    policy.set_training_mode(False)
    agreed = 0
    with torch.no_grad():
        for start in range(0, count, batch_size):
            index = np.arange(start, min(start + batch_size, count))
            chosen = policy._predict(_batch(policy, observations, index), deterministic=True)
            chosen = chosen.cpu().numpy()
            if chosen.ndim == 1:
                agreed += int((chosen == target[index]).sum())
            else:
                agreed += int((np.abs(chosen - target[index]).max(axis=1) <= 0.1).sum())
    return agreed / max(count, 1)


def _balance(target: np.ndarray, power: float) -> np.ndarray:
    """Per-sample weights ``(1 / frequency of its action) ** power``, averaging 1.

    Discrete actions only (continuous ones weigh 1): with ``power`` 0 every sample
    counts the same.
    """
    if power == 0.0 or target.ndim != 1:
        return np.ones(len(target))
    _, inverse, counts = np.unique(target, return_inverse=True, return_counts=True)
    weights: np.ndarray = (1.0 / counts[inverse]) ** power
    normalised: np.ndarray = weights / weights.mean()
    return normalised


def _expired(deadline: float | None) -> bool:
    return deadline is not None and time.perf_counter() >= deadline


def _batch(policy: Any, observations: list[Any], index: np.ndarray) -> Any:
    if isinstance(observations[0], dict):
        stacked: Any = {k: np.stack([observations[i][k] for i in index]) for k in observations[0]}
    else:
        stacked = np.stack([observations[i] for i in index])
    tensor, _ = policy.obs_to_tensor(stacked)
    return tensor
