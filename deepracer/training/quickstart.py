"""The quickstart: train a short PPO run on the built-in oval, evaluate it, plot it.

This is the README's main job on the embedded defaults: the ``state`` observation,
the DeepRacer-on-AWS default discrete action space, the console's default
centre-line reward and stable-baselines3 PPO. The full experiment system (YAML
experiments, presets, resume) builds on the same pieces.

Contents:
    QuickstartConfig: the few knobs of the quickstart.
    TrialResult: one greedy evaluation trial.
    run_quickstart: train, evaluate and write the run directory.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from deepracer.envs import RacingEnv
from deepracer.io import atomic_write_bytes, atomic_write_text
from deepracer.logs import RecordSimtrace
from deepracer.rewards import load_reward_function

__all__ = ["QuickstartConfig", "TrialResult", "run_quickstart"]


@dataclass(frozen=True, kw_only=True)
class QuickstartConfig:
    """Settings of the quickstart run."""

    world: str = "oval"
    """World to train and evaluate on."""
    reward: str = "centerline"
    """Reward function (shipped name or path)."""
    total_timesteps: int = 30_000
    """Environment steps of training."""
    n_envs: int = 4
    """Environments stepped together (in one process: faster than subprocesses on 2 cores)."""
    trials: int = 3
    """Greedy evaluation trials from the start line."""
    seed: int = 0
    """Seed of the networks, the noise and the start points."""
    ppo: dict[str, Any] = field(
        default_factory=lambda: {
            "n_steps": 512,
            "batch_size": 256,
            "n_epochs": 4,
            "learning_rate": 3e-4,
            "gamma": 0.99,
            "gae_lambda": 0.95,
            "ent_coef": 0.01,
            "clip_range": 0.2,
        }
    )
    """stable-baselines3 PPO keyword arguments."""


@dataclass(frozen=True)
class TrialResult:
    """One greedy evaluation trial."""

    trial: int
    status: str
    progress: float
    lap_time: float | None
    steps: int
    path: list[tuple[float, float]]


def _env_config(cfg: QuickstartConfig, *, evaluation: bool) -> dict[str, Any]:
    start = {"round_robin_advance": 0.0} if evaluation else {}
    return {
        "world": cfg.world,
        "observation": "state",
        "reward": cfg.reward,
        "start": start,
        "episode": {"max_steps": 3000},
    }


def evaluate(model: Any, cfg: QuickstartConfig, simtrace: Path) -> list[TrialResult]:
    """Runs greedy trials from the start line, as the console's evaluation does.

    Args:
        model: A trained stable-baselines3 model.
        cfg: The quickstart settings.
        simtrace: Where to write the trials' simtrace CSV.
    """
    env = RecordSimtrace(RacingEnv(_env_config(cfg, evaluation=True)), simtrace)
    results = []
    for trial in range(cfg.trials):
        obs, info = env.reset(seed=cfg.seed + 1000 + trial)
        path = [(info["params"]["x"], info["params"]["y"])]
        while True:
            action, _ = model.predict(obs, deterministic=True)
            obs, _, terminated, truncated, info = env.step(action)
            path.append((info["params"]["x"], info["params"]["y"]))
            if terminated or truncated:
                break
        status = info["episode_status"]
        results.append(
            TrialResult(
                trial=trial + 1,
                status=status,
                progress=float(info["params"]["progress"]),
                lap_time=info["sim_time"] if status == "lap_complete" else None,
                steps=int(info["params"]["steps"]),
                path=path,
            )
        )
    env.close()
    return results


def run_quickstart(out_dir: str | Path, cfg: QuickstartConfig | None = None) -> list[TrialResult]:
    """Trains, evaluates and writes the run directory.

    The directory gets ``model.zip``, ``reward_function.py`` (a copy of the reward),
    ``evaluation.json``, ``evaluation-simtrace/0-iteration.csv`` and ``quickstart.png``.

    Args:
        out_dir: The run directory (created).
        cfg: Settings; the defaults train for about a minute on 2 cores.

    Returns:
        The evaluation trials.
    """
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv

    cfg = cfg or QuickstartConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)  # a small MLP: a second thread costs more in sync than it gains
    monitors = [Monitor(RacingEnv(_env_config(cfg, evaluation=False))) for _ in range(cfg.n_envs)]
    # In-process envs: on 2 cores subprocesses cost more in IPC than they gain.
    vec_env = DummyVecEnv([_returning(m) for m in monitors])
    vec_env.seed(cfg.seed)
    model = PPO("MlpPolicy", vec_env, seed=cfg.seed, verbose=0, device="cpu", **cfg.ppo)
    started = time.perf_counter()
    model.learn(total_timesteps=cfg.total_timesteps)
    train_seconds = time.perf_counter() - started
    model.save(out / "model.zip")
    load_reward_function(cfg.reward).copy_source(out)  # the run stays reproducible
    # Interleave the envs' episodes in the order they finished.
    finished = sorted(
        (t, float(r))
        for m in monitors
        for t, r in zip(m.get_episode_times(), m.get_episode_rewards(), strict=True)
    )
    episode_rewards = [r for _, r in finished]
    trials = evaluate(model, cfg, out / "evaluation-simtrace" / "0-iteration.csv")
    summary = {
        "config": asdict(cfg),
        "train_seconds": train_seconds,
        "train_steps_per_second": cfg.total_timesteps / train_seconds,
        "trials": [{k: v for k, v in asdict(t).items() if k != "path"} for t in trials],
    }
    atomic_write_text(out / "evaluation.json", json.dumps(summary, indent=2) + "\n")
    atomic_write_bytes(out / "quickstart.png", _plot(cfg, trials, episode_rewards))
    return trials


def _returning(env: Any) -> Callable[[], Any]:
    """Returns a factory of an already built env (DummyVecEnv takes factories)."""
    return lambda: env


def _plot(cfg: QuickstartConfig, trials: list[TrialResult], rewards: list[float]) -> bytes:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    env = RacingEnv(_env_config(cfg, evaluation=True))
    rows = env.track.waypoints_array
    fig, (ax_track, ax_reward) = plt.subplots(1, 2, figsize=(12, 5))
    ax_track.fill(rows[:, 4], rows[:, 5], color="0.85", zorder=0)
    ax_track.fill(rows[:, 2], rows[:, 3], color="white", zorder=1)
    ax_track.plot(rows[:, 0], rows[:, 1], "k--", lw=0.8, zorder=2)
    for t in trials:
        xy = np.asarray(t.path)
        label = f"trial {t.trial}: {t.status}, {t.progress:.0f} %"
        if t.lap_time is not None:
            label += f", {t.lap_time:.2f} s"
        ax_track.plot(xy[:, 0], xy[:, 1], lw=1.5, zorder=3, label=label)
    ax_track.set_aspect("equal")
    ax_track.set_title(f"greedy evaluation on {cfg.world}")
    ax_track.legend(loc="upper right", fontsize=8)
    if rewards:
        window = max(1, len(rewards) // 20)
        smooth = np.convolve(rewards, np.ones(window) / window, mode="valid")
        ax_reward.plot(rewards, color="0.7", lw=0.8, label="episode reward")
        ax_reward.plot(np.arange(window - 1, len(rewards)), smooth, lw=2, label="moving mean")
    ax_reward.set_xlabel("training episode")
    ax_reward.set_ylabel("reward")
    ax_reward.set_title("training")
    ax_reward.legend()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()
