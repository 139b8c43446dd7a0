"""Scripted drivers for tests (not part of the library API)."""

from __future__ import annotations

import math
from typing import Any

from deepracer.envs import RacingEnv

CONTINUOUS = {"steering_angle": {"low": -30.0, "high": 30.0}, "speed": {"low": 0.1, "high": 4.0}}


def to_action(steer_deg: float, speed: float) -> list[float]:
    """Maps a command to the continuous action in [-1, 1]^2 for CONTINUOUS."""
    return [steer_deg / 30.0, (speed - 0.1) / 3.9 * 2.0 - 1.0]


def pure_pursuit(env: RacingEnv, lookahead: float = 0.45, speed: float = 1.2) -> list[float]:
    """Steers the rear axle towards the centre-line point ``lookahead`` ahead."""
    x, y, yaw = env.car_state[:3]
    track = env.track
    s, _, _ = track.center.project([[x, y]])
    tx, ty = track.point_at(s + lookahead)[0]
    alpha = math.atan2(ty - y, tx - x) - yaw
    dist = math.hypot(tx - x, ty - y)
    wheelbase = env.vehicle.effective_wheelbase
    steer = math.degrees(math.atan2(2.0 * wheelbase * math.sin(alpha), dist))
    return to_action(max(-30.0, min(30.0, steer)), speed)


def run_episode(env: RacingEnv, policy: Any, seed: int = 0, **reset: Any) -> list[dict[str, Any]]:
    """Runs one episode; returns the infos of the reset and of every step."""
    _, info = env.reset(seed=seed, **reset)
    infos = [info]
    while True:
        _, _, terminated, truncated, info = env.step(policy(env))
        infos.append(info)
        if terminated or truncated:
            return infos
