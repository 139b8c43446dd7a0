"""Car physics: vehicle parameters and pure dynamics functions.

Contents:
    VehicleParams: geometry, limits and response of the DeepRacer car.
    CarState, rest_state, step, step_batch: the car with lagging steering and speed.
    car_points: the origin, model point and wheel centres of a car pose.
"""

from __future__ import annotations

import math

from deepracer.physics.kinematic import STATE_SIZE, CarState, rest_state, step, step_batch
from deepracer.physics.vehicle import GRAVITY, VehicleParams

__all__ = [
    "GRAVITY",
    "STATE_SIZE",
    "CarState",
    "VehicleParams",
    "car_points",
    "rest_state",
    "step",
    "step_batch",
]


def car_points(
    x: float, y: float, yaw: float, params: VehicleParams
) -> tuple[tuple[float, float], tuple[float, float], list[tuple[float, float]]]:
    """Returns the car origin, the model point and the four wheel centres.

    Args:
        x: Rear-axle x [m].
        y: Rear-axle y [m].
        yaw: Heading [rad].
        params: Vehicle parameters.

    Returns:
        ``(origin, model_point, wheels)``; wheels are left-rear, left-front,
        right-rear, right-front, as the simapp's link names.
    """
    c, s = math.cos(yaw), math.sin(yaw)
    ox, oy = x + params.rear_axle_offset * c, y + params.rear_axle_offset * s
    mx, my = ox + params.model_point_offset * c, oy + params.model_point_offset * s
    fx, fy = x + params.wheelbase * c, y + params.wheelbase * s
    hr, hf = 0.5 * params.track_rear, 0.5 * params.track_front
    wheels = [
        (x - hr * s, y + hr * c),
        (fx - hf * s, fy + hf * c),
        (x + hr * s, y - hr * c),
        (fx + hf * s, fy - hf * c),
    ]
    return (ox, oy), (mx, my), wheels
