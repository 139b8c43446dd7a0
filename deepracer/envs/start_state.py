"""Starting an episode from any state: ``reset(options={"state": {...}})``.

The state is given in the simtrace's terms, so a row of a real log can be replayed
as it is: ``x``, ``y`` the point the reward params and the simtrace call the car's
position (the model point) [m], ``yaw`` the heading [deg], ``speed`` [m/s] and
``steering`` the front wheels' actual angle [deg] (the simtrace's ``steer`` is the
command, which a lagging car reaches later). ``x``, ``y`` and ``yaw`` are required;
``speed`` and ``steering`` are 0 by default, and the car starts as if it had been
commanded what it is doing. A state that is not finite, a speed or steering angle
outside the car's range or a pose with no wheel on the road is refused before the
episode changes.

Contents:
    STATE_KEYS: the keys of a start state.
    StartState: a checked start state.
    parse_start_state: checks an options value.
    place_on: the car's physics state on a track, and where its start point is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deepracer.physics import CarState, VehicleParams, car_points, rest_state
from deepracer.tracks import Track

__all__ = ["STATE_KEYS", "StartState", "parse_start_state", "place_on"]

STATE_KEYS = ("x", "y", "yaw", "speed", "steering")
"""``x``, ``y`` [m] (the model point), ``yaw`` [deg], ``speed`` [m/s], ``steering`` [deg]."""


@dataclass(frozen=True)
class StartState:
    """A start state in the simtrace's terms (see the module docstring)."""

    x: float
    y: float
    yaw: float
    speed: float
    steering: float = 0.0

    def car_state(self, vehicle: VehicleParams) -> CarState:
        """The physics state of the car (rear axle) in this state, as if held there."""
        yaw = math.radians(self.yaw)
        back = vehicle.rear_axle_offset + vehicle.model_point_offset
        return rest_state(
            self.x - back * math.cos(yaw),
            self.y - back * math.sin(yaw),
            math.atan2(math.sin(yaw), math.cos(yaw)),
            self.speed,
            math.radians(self.steering),
        )


def parse_start_state(value: Any, vehicle: VehicleParams) -> StartState:
    """Checks the ``state`` reset option.

    Args:
        value: ``{"x": ..., "y": ..., "yaw": ..., "speed": ..., "steering": ...}``.
        vehicle: The car, whose limits bound ``speed`` and ``steering``.

    Raises:
        ValueError: Not a mapping, an unknown or missing key, a value that is not a
            finite number, a speed outside ``[0, max_speed]`` or a steering angle
            beyond ``max_steering_deg``.
    """
    if not isinstance(value, Mapping):
        raise ValueError(
            f"reset option 'state' must be a mapping with keys {list(STATE_KEYS)},"
            f" got {type(value).__name__}"
        )
    unknown = sorted(set(value) - set(STATE_KEYS))
    if unknown:
        raise ValueError(f"reset option 'state': unknown keys {unknown}; valid: {list(STATE_KEYS)}")
    missing = [k for k in STATE_KEYS[:3] if k not in value]
    if missing:
        raise ValueError(f"reset option 'state': missing keys {missing}")
    numbers: dict[str, float] = {}
    for key in STATE_KEYS:
        raw = value.get(key, 0.0)
        number = float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else None
        if number is None or not math.isfinite(number):
            raise ValueError(f"reset option 'state': {key} is {raw!r}; expected a finite number")
        numbers[key] = number
    if not 0.0 <= numbers["speed"] <= vehicle.max_speed:
        raise ValueError(
            f"reset option 'state': speed {numbers['speed']:g} m/s is outside the car's"
            f" 0 to {vehicle.max_speed:g} m/s"
        )
    if abs(numbers["steering"]) > vehicle.max_steering_deg:
        raise ValueError(
            f"reset option 'state': steering {numbers['steering']:g} deg is beyond the car's"
            f" +-{vehicle.max_steering_deg:g} deg"
        )
    return StartState(**numbers)


def place_on(track: Track, state: StartState, vehicle: VehicleParams) -> tuple[CarState, float]:
    """Returns the physics state of ``state`` and the normalised distance of its origin.

    The origin's distance is the episode's start point, as for a normal start.

    Raises:
        ValueError: No wheel of the car is on the road.
    """
    car = state.car_state(vehicle)
    origin, _, wheels = car_points(car[0], car[1], car[2], vehicle)
    if not track.on_road(wheels).any():
        raise ValueError(
            f"reset option 'state' puts the car off the road (x {state.x:g}, y {state.y:g},"
            f" yaw {state.yaw:g} deg): no wheel is on the track"
        )
    return car, track.locate(origin).ndist
