"""Action types: how a policy's action becomes a steering angle and a speed.

Both take the ``action_space`` value of a DeepRacer ``model_metadata.json``:
a list of ``{"steering_angle": deg, "speed": m/s}`` (discrete; the index is the
position) or ``{"steering_angle": {"low", "high"}, "speed": {"low", "high"}}``
(continuous; the policy acts in [-1, 1]^2, rescaled to the bounds as the simapp's
``ScalableBoxActionSpace`` does).

Contents:
    ActionType: the interface.
    DiscreteActions, ContinuousActions: the two DeepRacer action spaces.
    make_action_type: build one from an ``action_space`` value.
    DEFAULT_ACTION_SPACE: the DeepRacer-on-AWS default (5 steering angles x 2 speeds).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

from deepracer.errors import ConfigError

__all__ = [
    "DEFAULT_ACTION_SPACE",
    "ActionType",
    "ContinuousActions",
    "DiscreteActions",
    "make_action_type",
]

MAX_STEERING_DEG = 30.0
MIN_SPEED, MAX_SPEED = 0.1, 4.0

DEFAULT_ACTION_SPACE: list[dict[str, float]] = [
    {"steering_angle": steer, "speed": speed}
    for steer in (-30.0, -15.0, 0.0, 15.0, 30.0)
    for speed in (0.5, 1.0)
]
"""DeepRacer on AWS's default: steering {-30, -15, 0, 15, 30} deg x speed {0.5, 1} m/s, in
its order (steering outer, speed inner; as ``actions/console_default.json``)."""


class ActionType(Protocol):
    """Maps policy actions to ``(steering_deg, speed, simtrace_label)``."""

    def space(self) -> gym.Space[Any]:
        """Returns the gymnasium action space."""
        ...

    def to_command(self, action: Any) -> tuple[float, float, str]:
        """Returns the commanded steering [deg], speed [m/s] and the simtrace label."""
        ...


class DiscreteActions:
    """A DeepRacer discrete action space.

    Args:
        actions: ``(steering_deg, speed)`` per action index.

    Example:
        >>> acts = DiscreteActions([(-30.0, 1.0), (0.0, 2.0)])
        >>> acts.to_command(1)
        (0.0, 2.0, '1')
    """

    def __init__(self, actions: Sequence[tuple[float, float]]) -> None:
        if not actions:
            raise ConfigError("action_space: a discrete action space needs at least one action")
        self.actions = tuple((float(s), float(v)) for s, v in actions)
        self._labels = tuple(str(i) for i in range(len(self.actions)))

    def space(self) -> gym.spaces.Discrete:
        """Returns ``Discrete(n)``."""
        return gym.spaces.Discrete(len(self.actions))

    def to_command(self, action: Any) -> tuple[float, float, str]:
        """Looks up action index ``action``."""
        index = int(action)
        steer, speed = self.actions[index]
        return steer, speed, self._labels[index]


class ContinuousActions:
    """A DeepRacer continuous action space; the policy acts in ``[-1, 1]^2``.

    Args:
        steering: ``(low, high)`` steering bounds [deg].
        speed: ``(low, high)`` speed bounds [m/s].

    Example:
        >>> acts = ContinuousActions(steering=(-30.0, 30.0), speed=(1.0, 3.0))
        >>> acts.to_command([0.5, -1.0])
        (15.0, 1.0, '[15.0 1.0]')
    """

    def __init__(self, *, steering: tuple[float, float], speed: tuple[float, float]) -> None:
        self.steering = (float(steering[0]), float(steering[1]))
        self.speed = (float(speed[0]), float(speed[1]))

    def space(self) -> gym.spaces.Box:
        """Returns ``Box(-1, 1, (2,))``: ``[steering, speed]``."""
        return gym.spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)

    def to_command(self, action: Any) -> tuple[float, float, str]:
        """Rescales ``[steering, speed]`` from [-1, 1] to the bounds."""
        a = np.clip(np.asarray(action, dtype=np.float64).reshape(2), -1.0, 1.0)
        lo_s, hi_s = self.steering
        lo_v, hi_v = self.speed
        steer = lo_s + 0.5 * (float(a[0]) + 1.0) * (hi_s - lo_s)
        speed = lo_v + 0.5 * (float(a[1]) + 1.0) * (hi_v - lo_v)
        return steer, speed, f"[{steer} {speed}]"


def make_action_type(action_space: Any, *, source: str = "action_space") -> ActionType:
    """Builds an action type from a ``model_metadata.json`` ``action_space`` value.

    Args:
        action_space: A list of ``{steering_angle, speed}`` mappings (discrete) or a
            mapping of ``{low, high}`` ranges (continuous).
        source: Names the origin in error messages.

    Raises:
        ConfigError: The value is malformed or out of range (steering -30..30 deg,
            speed 0.1..4 m/s); the message names the entry and the rule.
    """
    if isinstance(action_space, Mapping):
        steering = _range(action_space, "steering_angle", source)
        speed = _range(action_space, "speed", source)
        for key, (lo, hi), (vmin, vmax) in (
            ("steering_angle", steering, (-MAX_STEERING_DEG, MAX_STEERING_DEG)),
            ("speed", speed, (MIN_SPEED, MAX_SPEED)),
        ):
            if not (vmin <= lo < hi <= vmax):
                raise ConfigError(
                    f"{source}: {key}: expected {vmin} <= low < high <= {vmax}, got low={lo},"
                    f" high={hi}"
                )
        extra = set(action_space) - {"steering_angle", "speed"}
        if extra:
            raise ConfigError(f"{source}: unknown continuous action_space key(s) {sorted(extra)}")
        return ContinuousActions(steering=steering, speed=speed)
    if isinstance(action_space, Sequence) and not isinstance(action_space, str):
        actions = []
        for i, entry in enumerate(action_space):
            where = f"{source}[{i}]"
            if not isinstance(entry, Mapping):
                raise ConfigError(f"{where}: expected {{steering_angle, speed}}, got {entry!r}")
            steer_deg = _number(entry, "steering_angle", where)
            speed_mps = _number(entry, "speed", where)
            if abs(steer_deg) > MAX_STEERING_DEG:
                raise ConfigError(
                    f"{where}: steering_angle must lie in [-30, 30] degrees, got {steer_deg}"
                )
            if not MIN_SPEED <= speed_mps <= MAX_SPEED:
                raise ConfigError(f"{where}: speed must lie in [0.1, 4] m/s, got {speed_mps}")
            actions.append((steer_deg, speed_mps))
        return DiscreteActions(actions)
    raise ConfigError(
        f"{source}: expected a list of {{steering_angle, speed}} (discrete) or"
        " {steering_angle: {low, high}, speed: {low, high}} (continuous),"
        f" got {action_space!r}"
    )


def _number(entry: Mapping[str, Any], key: str, where: str) -> float:
    if key not in entry:
        raise ConfigError(f"{where}: missing {key!r}")
    value = entry[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise ConfigError(f"{where}: {key} must be a finite number, got {value!r}")
    return float(value)


def _range(space: Mapping[str, Any], key: str, source: str) -> tuple[float, float]:
    entry = space.get(key)
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{source}: {key}: expected {{low, high}}, got {entry!r}")
    return _number(entry, "low", f"{source}: {key}"), _number(entry, "high", f"{source}: {key}")
