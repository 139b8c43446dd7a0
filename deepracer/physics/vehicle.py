"""Vehicle parameters of the DeepRacer car.

Geometry comes from the simapp's URDF (``deepracer_single_cam.urdf``): axles at
x = -0.0817 m and +0.0823 m from the chassis origin (wheelbase 0.164 m), wheel
tracks 0.162 m (rear) and 0.159 m (front), wheel friction coefficient 0.5.

Contents:
    VehicleParams: the car's geometry, limits and response, with units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["GRAVITY", "VehicleParams"]

GRAVITY = 9.81
"""Standard gravity [m/s^2]."""


def _positive(value: float) -> str | None:
    return None if value > 0 else "a number > 0"


@dataclass(frozen=True, kw_only=True)
class VehicleParams:
    """Geometry, limits and response of the simulated car.

    The defaults reproduce the DeepRacer car. Grip belongs to the surface, so the
    friction coefficient is a world setting (:class:`deepracer.envs.world.SurfaceConfig`).
    """

    wheelbase: float = field(default=0.164, metadata={"check": _positive})
    """Distance between the rear and the front axle [m]."""
    rear_axle_offset: float = 0.0817
    """Distance from the car origin (``base_link``) back to the rear axle [m]."""
    model_point_offset: float = 0.14
    """The reward params' ``x, y`` lie this far ahead of the car origin [m]."""
    track_rear: float = 0.162
    """Lateral distance between the rear wheel centres [m]."""
    track_front: float = 0.159
    """Lateral distance between the front wheel centres [m]."""
    max_steering_deg: float = field(default=30.0, metadata={"check": _positive})
    """Commanded steering is clipped to +-this [deg] (the simapp's hard clip)."""
    min_speed: float = 0.1
    """Commanded speed is clipped to at least this [m/s] (the simapp's hard clip)."""
    max_speed: float = field(default=4.0, metadata={"check": _positive})
    """Commanded speed is clipped to at most this [m/s] (the simapp's hard clip)."""
    speed_time_constant: float = field(default=0.25, metadata={"check": _positive})
    """First-order lag of the actual speed behind the command [s].

    Our choice: the Gazebo car's wheel velocity controllers (PID effort control at
    60 Hz) need a few frames to reach a new set point; console simtraces show the car
    taking about 0.2-0.3 s to get going. The surface's traction limit (mu * g) also
    caps the acceleration.
    """
    substeps: int = field(default=4, metadata={"check": lambda n: None if n >= 1 else "n >= 1"})
    """Integration sub-steps per control step (4 at 15 Hz = the 60 Hz controller rate)."""

    @property
    def max_steering(self) -> float:
        """Steering clip [rad]."""
        return math.radians(self.max_steering_deg)

    @property
    def min_turning_radius(self) -> float:
        """Rear-axle radius at full steering lock, ignoring grip [m]."""
        return self.wheelbase / math.tan(self.max_steering)
