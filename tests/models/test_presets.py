"""Presets: loading, validation, schedules, models for real env spaces, DeepRacer export."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")

import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common.distributions import (
    CategoricalDistribution,
    DiagGaussianDistribution,
    SquashedDiagGaussianDistribution,
)
from stable_baselines3.common.vec_env import DummyVecEnv
from torch import nn

from deepracer.config.resources import available
from deepracer.envs import RacingEnv
from deepracer.errors import ConfigError
from deepracer.models.networks import NETWORKS, DeepRacerCNN
from deepracer.models.presets import (
    ConstantSchedule,
    LinearSchedule,
    PresetConfig,
    build_model,
    load_preset,
    policy_name,
    to_deepracer_hyperparameters,
)

CONTINUOUS = {"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 0.5, "high": 3}}
TINY_PPO = {"n_steps": 32, "batch_size": 32, "n_epochs": 1}
TINY_SAC = {"buffer_size": 256, "learning_starts": 32, "batch_size": 16}

SHIPPED = (
    "attention_cnn",
    "attention_lidar",
    "camera_ppo",
    "deepracer_ppo",
    "quickstart_ppo",
    "sac_continuous",
)


@pytest.fixture(autouse=True)
def one_thread() -> Any:
    threads = th.get_num_threads()
    th.set_num_threads(1)  # as the trainer runs; also keeps the suite fast on 2 cores
    yield
    th.set_num_threads(threads)


def make_env(observation: Any, *, continuous: bool = False, n: int = 2) -> DummyVecEnv:
    cfg: dict[str, Any] = {"world": "oval", "observation": observation}
    if continuous:
        cfg["action_space"] = CONTINUOUS
    return DummyVecEnv([lambda: RacingEnv(cfg) for _ in range(n)])


def preset(**kwargs: Any) -> PresetConfig:
    kwargs.setdefault("algorithm", "ppo")
    kwargs.setdefault("network", "mlp")
    kwargs.setdefault("n_envs", 2)
    kwargs.setdefault(
        "hyperparameters", dict(TINY_PPO if kwargs["algorithm"] == "ppo" else TINY_SAC)
    )
    return PresetConfig(**kwargs)


# ---------------------------------------------------------------------------- loading


def test_every_shipped_preset_loads() -> None:
    assert set(SHIPPED) <= set(available("presets"))
    for name in available("presets"):
        p = load_preset(name)
        assert p.network in NETWORKS and p.description and p.observation
        assert p.n_envs >= 1


def test_load_preset_by_path_and_errors_name_file_and_field(tmp_path: Path) -> None:
    good = tmp_path / "mine.yaml"
    good.write_text(
        "algorithm: ppo\nnetwork: mlp\nhyperparameters: {n_steps: 64, batch_size: 64}\n"
    )
    assert load_preset(good).hyperparameters == {"n_steps": 64, "batch_size": 64}
    bad = tmp_path / "bad.yaml"
    bad.write_text("algorithm: ppo\nnetwork: mlp\nhyperparameters: {n_step: 64}\n")
    with pytest.raises(ConfigError) as err:
        load_preset(bad)
    assert str(err.value).startswith(f"{bad}: hyperparameters.n_step: unknown PPO hyperparameter")
    assert "Did you mean 'n_steps'?" in str(err.value)
    bad.write_text("algoritm: ppo\nnetwork: mlp\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: unknown key 'algoritm'.*'algorithm'"):
        load_preset(bad)
    bad.write_text("algorithm: a2c\nnetwork: mlp\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: algorithm: expected one of 'ppo', 'sac'"):
        load_preset(bad)
    bad.write_text("algorithm: ppo\nnetwork: deepracer_shalow\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: network: .*Did you mean 'deepracer_shallow'"):
        load_preset(bad)
    bad.write_text("algorithm: ppo\nnetwork: deepracer_shallow\nobservation: state\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: observation: network 'deepracer_shallow'"):
        load_preset(bad)
    with pytest.raises(ConfigError, match=r"Did you mean 'quickstart_ppo'"):
        load_preset("quickstart_pp")


# ------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "key", ["policy", "env", "seed", "device", "tensorboard_log", "verbose", "policy_kwargs"]
)
def test_trainer_keys_are_rejected(key: str) -> None:
    with pytest.raises(ConfigError, match=f"hyperparameters.{key}: set by the trainer"):
        preset(hyperparameters={key: 1})


def test_hyperparameter_keys_follow_the_constructor() -> None:
    with pytest.raises(ConfigError, match=r"unknown PPO hyperparameter.*Did you mean 'n_epochs'"):
        preset(hyperparameters={"n_epoch": 4})
    with pytest.raises(ConfigError, match=r"hyperparameters.buffer_size: unknown PPO"):
        preset(hyperparameters={"buffer_size": 1000})
    with pytest.raises(ConfigError, match=r"unknown SAC hyperparameter.*'gradient_steps'"):
        preset(algorithm="sac", hyperparameters={"gradient_step": 4})
    with pytest.raises(ConfigError, match=r"hyperparameters.n_steps: expected int, got '512'"):
        preset(hyperparameters={"n_steps": "512"})
    with pytest.raises(ConfigError, match=r"hyperparameters.gamma: expected float"):
        preset(hyperparameters={**TINY_PPO, "gamma": True})
    with pytest.raises(ConfigError, match=r"not settable from a preset"):
        preset(algorithm="sac", hyperparameters={"action_noise": None})
    sac = preset(
        algorithm="sac", hyperparameters={"train_freq": [1, "episode"], "ent_coef": "auto"}
    )
    assert sac.algorithm_kwargs() == {"train_freq": (1, "episode"), "ent_coef": "auto"}


def test_batch_size_must_divide_the_rollout() -> None:
    with pytest.raises(ConfigError, match=r"must divide the rollout of n_steps x n_envs = 100 x 2"):
        preset(hyperparameters={"n_steps": 100, "batch_size": 64})
    assert preset(hyperparameters={"n_steps": 96, "batch_size": 64}, n_envs=2)


def test_policy_kwargs_validation() -> None:
    p = preset(policy_kwargs={"activation_fn": "relu", "net_arch": {"pi": [32], "vf": [16]}})
    assert p.extra_policy_kwargs() == {
        "activation_fn": nn.ReLU,
        "net_arch": {"pi": [32], "vf": [16]},
    }
    assert (
        preset(policy_kwargs={"optimizer_class": "adamw"}).extra_policy_kwargs()["optimizer_class"]
        is th.optim.AdamW
    )
    with pytest.raises(ConfigError, match=r"activation_fn: .*Did you mean 'relu'"):
        preset(policy_kwargs={"activation_fn": "rleu"})
    with pytest.raises(ConfigError, match=r"unknown PPO policy argument.*'ortho_init'"):
        preset(policy_kwargs={"orth_init": False})
    with pytest.raises(ConfigError, match=r"set by the network"):
        preset(policy_kwargs={"features_extractor_class": "NatureCNN"})
    with pytest.raises(ConfigError, match=r"unknown tower 'vf' for SAC.*Valid towers: pi, qf"):
        preset(algorithm="sac", policy_kwargs={"net_arch": {"pi": [64], "vf": [64]}})
    with pytest.raises(ConfigError, match=r"layer sizes"):
        preset(policy_kwargs={"net_arch": [64, 0]})
    with pytest.raises(ConfigError, match=r"share_features_extractor: expected bool"):
        preset(policy_kwargs={"share_features_extractor": "no"})


# -------------------------------------------------------------------------- schedules


def test_schedules_are_structured_data() -> None:
    p = preset(
        hyperparameters={
            **TINY_PPO,
            "learning_rate": {"schedule": "linear", "start": 3.0e-4, "end": 0.0},
            "clip_range": {"schedule": "linear", "start": 0.3, "end": 0.1, "end_fraction": 0.5},
            "clip_range_vf": {"schedule": "constant", "value": 0.2},
        }
    )
    kwargs = p.algorithm_kwargs()
    lr, clip, clip_vf = kwargs["learning_rate"], kwargs["clip_range"], kwargs["clip_range_vf"]
    assert lr == LinearSchedule(3.0e-4, 0.0)
    assert (lr(1.0), lr(0.5), lr(0.0)) == pytest.approx((3.0e-4, 1.5e-4, 0.0))
    assert (clip(1.0), clip(0.75), clip(0.5), clip(0.0)) == pytest.approx((0.3, 0.2, 0.1, 0.1))
    assert clip_vf == ConstantSchedule(0.2) and clip_vf(0.3) == 0.2
    assert (
        preset(hyperparameters={**TINY_PPO, "learning_rate": 1e-3}).algorithm_kwargs()[
            "learning_rate"
        ]
        == 1e-3
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("lin_3e-4", "expected float | Callable"),  # strings are never evaluated
        ({"schedule": "linaer", "start": 1, "end": 0}, "Did you mean 'linear'"),
        ({"schedule": "linear", "start": 1}, "a linear schedule needs end"),
        ({"schedule": "linear", "start": 1, "end": 0, "stop": 2}, "unknown key 'stop'"),
        ({"schedule": "linear", "start": "1", "end": 0}, "learning_rate.start: expected a number"),
        ({"schedule": "linear", "start": 1, "end": 0, "end_fraction": 0}, "end_fraction"),
    ],
)
def test_bad_schedules(value: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        preset(hyperparameters={**TINY_PPO, "learning_rate": value})


def test_schedule_only_where_the_constructor_takes_one() -> None:
    with pytest.raises(ConfigError, match=r"n_epochs: PPO takes no schedule"):
        preset(hyperparameters={**TINY_PPO, "n_epochs": {"schedule": "constant", "value": 3}})


# ---------------------------------------------------------------------------- models


@pytest.mark.parametrize("tensorboard", [False, True])
def test_learning_leaves_nothing_in_the_temporary_directory(
    tensorboard: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.delenv("SB3_LOGDIR", raising=False)
    board = tmp_path / "board"
    model: Any = build_model(
        preset(), make_env("state"), seed=0, tensorboard_log=str(board) if tensorboard else None
    )
    model.learn(total_timesteps=64)
    # stable-baselines3's own logger would leave an empty SB3-<time> folder per learn.
    assert [p.name for p in temp.iterdir() if p.name.startswith("SB3")] == []
    # TensorBoard, when asked for, still gets its run folder.
    assert sorted(p.name for p in board.glob("*")) == (["PPO_1"] if tensorboard else [])


@pytest.mark.parametrize(
    ("observation", "algorithm", "network", "continuous", "policy"),
    [
        ("state", "ppo", "mlp", False, "MlpPolicy"),
        ("state", "ppo", "mlp", True, "MlpPolicy"),
        ("lidar", "ppo", "attention_lidar", False, "MlpPolicy"),
        ("sector_lidar", "ppo", "mlp", False, "MlpPolicy"),
        ("camera", "ppo", "deepracer_shallow", False, "CnnPolicy"),
        (("camera", "state"), "ppo", "deepracer_shallow", True, "MultiInputPolicy"),
        (("lidar", "state"), "ppo", "attention_lidar", False, "MultiInputPolicy"),
        ("stereo_camera", "ppo", "deepracer_deep", False, "CnnPolicy"),
        ("camera", "ppo", "attention_cnn", False, "CnnPolicy"),
        ("state", "sac", "mlp", True, "MlpPolicy"),
    ],
)
def test_build_model_learns_on_real_env_spaces(
    observation: Any, algorithm: str, network: str, continuous: bool, policy: str
) -> None:
    env = make_env(observation, continuous=continuous)
    assert policy_name(env.observation_space) == policy
    model: Any = build_model(preset(algorithm=algorithm, network=network), env, seed=0)
    assert type(model).__name__ == algorithm.upper()
    model.learn(total_timesteps=64)
    assert model.num_timesteps >= 64
    raw, _ = RacingEnv(
        {"world": "oval", "observation": observation}
        | ({"action_space": CONTINUOUS} if continuous else {})
    ).reset(seed=1)
    action, _ = model.predict(raw, deterministic=True)  # channel-last as the env gives it
    assert env.action_space.contains(np.asarray(action, dtype=env.action_space.dtype))
    dist = model.policy.action_dist if algorithm == "ppo" else model.actor.action_dist
    if continuous:
        assert isinstance(dist, DiagGaussianDistribution | SquashedDiagGaussianDistribution)
    else:
        assert (
            isinstance(dist, CategoricalDistribution) and model.policy.action_net.out_features == 10
        )


def test_sac_on_camera_forward_pass() -> None:
    env = make_env("camera", continuous=True, n=1)
    model: Any = build_model(
        preset(algorithm="sac", network="deepracer_shallow", n_envs=1), env, seed=0
    )
    assert isinstance(model.actor.features_extractor, DeepRacerCNN)
    raw, _ = RacingEnv(
        {"world": "oval", "observation": "camera", "action_space": CONTINUOUS}
    ).reset(seed=0)
    action, _ = model.predict(raw, deterministic=True)
    assert action.shape == (2,) and np.all(np.abs(action) <= 1.0)


def test_sac_with_discrete_actions_is_refused_before_training() -> None:
    with pytest.raises(ConfigError, match=r"SAC needs a continuous action space.*Discrete\(10\)"):
        build_model(preset(algorithm="sac"), make_env("state"), seed=0)


def test_cnn_on_state_is_refused_naming_network_and_observation() -> None:
    with pytest.raises(ConfigError) as err:
        build_model(preset(network="deepracer_shallow"), make_env("state"), seed=0)
    assert "'deepracer_shallow'" in str(err.value) and "observation 'state'" in str(err.value)
    with pytest.raises(ConfigError, match=r"'attention_lidar'.*observation 'state'"):
        build_model(preset(network="attention_lidar"), make_env("state"), seed=0)


def test_bad_extractor_kwargs_are_refused() -> None:
    p = preset(
        network="deepracer_shallow",
        policy_kwargs={"features_extractor_kwargs": {"varient": "deep"}},
    )
    with pytest.raises(ConfigError, match=r"unknown DeepRacerCNN argument.*Did you mean 'variant'"):
        build_model(p, make_env("camera"), seed=0)


def test_deepracer_ppo_has_separate_towers_and_adam_eps() -> None:
    shipped = load_preset("deepracer_ppo")
    p = PresetConfig(
        algorithm="ppo",
        network=shipped.network,
        hyperparameters={**shipped.hyperparameters, "n_steps": 32},
        policy_kwargs=shipped.policy_kwargs,
        n_envs=2,
    )
    model: Any = build_model(p, make_env("camera"), seed=0)
    policy = model.policy
    assert policy.pi_features_extractor is not policy.vf_features_extractor
    assert isinstance(policy.pi_features_extractor, DeepRacerCNN)
    assert [
        m.out_features for m in policy.mlp_extractor.policy_net if isinstance(m, nn.Linear)
    ] == [512]
    assert [m.out_features for m in policy.mlp_extractor.value_net if isinstance(m, nn.Linear)] == [
        512
    ]
    assert policy.optimizer.defaults["eps"] == 1e-5
    assert model.gamma == 0.999 and model.n_epochs == 10 and model.batch_size == 64


def test_model_with_schedule_saves_and_loads(tmp_path: Path) -> None:
    p = preset(
        hyperparameters={
            **TINY_PPO,
            "learning_rate": {"schedule": "linear", "start": 1e-3, "end": 0},
        }
    )
    model = build_model(p, make_env("state"), seed=0)
    model.learn(64)
    model.save(tmp_path / "model.zip")
    loaded = PPO.load(tmp_path / "model.zip", device="cpu")
    assert loaded.learning_rate == LinearSchedule(1e-3, 0.0)


# ------------------------------------------------------------------------- DeepRacer


def test_deepracer_hyperparameters_of_the_console_preset() -> None:
    hp = to_deepracer_hyperparameters(load_preset("deepracer_ppo"))
    assert hp["lr"] == 0.0003
    assert hp["batch_size"] == 64
    assert hp["num_epochs"] == 10
    assert hp["discount_factor"] == 0.999
    assert hp["beta_entropy"] == 0.01
    assert hp["num_episodes_between_training"] == 20
    assert hp["loss_type"] == "mean squared error"
    assert hp["exploration_type"] == "categorical"
    assert set(hp) == {
        "batch_size",
        "beta_entropy",
        "discount_factor",
        "e_greedy_value",
        "epsilon_steps",
        "exploration_type",
        "loss_type",
        "lr",
        "num_episodes_between_training",
        "num_epochs",
        "stack_size",
        "term_cond_avg_score",
        "term_cond_max_episodes",
        "sac_alpha",
    }


def test_deepracer_hyperparameters_of_sac_and_schedules() -> None:
    hp = to_deepracer_hyperparameters(load_preset("sac_continuous"), stack_size=2)
    assert hp["sac_alpha"] == 0.2 and hp["num_episodes_between_training"] == 1
    assert hp["batch_size"] == 64 and hp["stack_size"] == 2
    with pytest.raises(ConfigError, match=r"fixed alpha"):
        to_deepracer_hyperparameters(preset(algorithm="sac", hyperparameters={"ent_coef": "auto"}))
    scheduled = preset(
        hyperparameters={
            **TINY_PPO,
            "learning_rate": {"schedule": "linear", "start": 5e-4, "end": 0},
        }
    )
    hp = to_deepracer_hyperparameters(scheduled)
    assert hp["lr"] == 5e-4 and hp["num_epochs"] == 1 and hp["discount_factor"] == 0.99
