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

from deepracer.config.checks import at_least, positive

__all__ = ["GRAVITY", "VehicleParams"]

GRAVITY = 9.81
"""Standard gravity [m/s^2]."""


@dataclass(frozen=True, kw_only=True)
class VehicleParams:
    """Geometry, limits and response of the simulated car.

    The defaults are the URDF's geometry with an ideal response: steering acts at once
    and fully, as a kinematic bicycle (the ``kinematic`` profile). The Gazebo car does
    not; its fitted response lives in vehicle profiles (:mod:`deepracer.physics.profiles`).
    Grip belongs to the surface, so the friction coefficient is a world setting
    (:class:`deepracer.envs.world.SurfaceConfig`); ``grip_scale`` says how much of it
    the car turns into cornering and traction.
    """

    wheelbase: float = field(default=0.164, metadata={"check": positive})
    """Distance between the rear and the front axle [m]."""
    rear_axle_offset: float = 0.0817
    """Distance from the car origin (``base_link``) back to the rear axle [m]."""
    model_point_offset: float = 0.14
    """The reward params' ``x, y`` lie this far ahead of the car origin [m]."""
    track_rear: float = 0.162
    """Lateral distance between the rear wheel centres [m]."""
    track_front: float = 0.159
    """Lateral distance between the front wheel centres [m]."""
    max_steering_deg: float = field(default=30.0, metadata={"check": positive})
    """Commanded steering is clipped to +-this [deg] (the simapp's hard clip)."""
    min_speed: float = 0.1
    """Commanded speed is clipped to at least this [m/s] (the simapp's hard clip)."""
    max_speed: float = field(default=4.0, metadata={"check": positive})
    """Commanded speed is clipped to at most this [m/s] (the simapp's hard clip)."""
    speed_time_constant: float = field(default=0.25, metadata={"check": at_least(0)})
    """First-order lag of the actual speed behind the command [s]; 0 = none.

    With ``traction_limit`` the grip (``grip_scale * mu * g``) also caps the acceleration.
    """
    traction_limit: bool = True
    """Cap the speed's change at ``grip`` per second (the tyres' longitudinal limit).

    The Gazebo car's wheel controllers reach a new speed within the lag alone, so the
    calibrated profiles turn this off.
    """
    steering_time_constant: float = field(default=0.0, metadata={"check": at_least(0)})
    """First-order lag of the actual steering angle behind the command [s]; 0 = none.

    The Gazebo car's steering hinges are position-controlled joints: after a new
    command the path's curvature builds up over a few tenths of a second.
    """
    effective_wheelbase: float = field(default=0.164, metadata={"check": positive})
    """The wheelbase the steering turns with: path curvature = tan(steering) / this [m].

    The URDF's 0.164 m for an ideal bicycle; the Gazebo car's tyres slip, so it turns
    wider, as a longer car would.
    """
    grip_scale: float = field(default=1.0, metadata={"check": positive})
    """Share of the surface friction the car uses: grip = grip_scale * mu * g [-]."""
    control_delay: float = field(default=0.0, metadata={"check": at_least(0)})
    """Time from a command to the car acting on it [s], at most one control step.

    Applied at sub-step resolution (1/60 s at 4 sub-steps of 1/15 s): the first
    ``round(control_delay / h)`` sub-steps of a step still use the previous command.
    """
    substeps: int = field(default=4, metadata={"check": at_least(1, "an integer")})
    """Integration sub-steps per control step (4 at 15 Hz = the 60 Hz controller rate)."""

    @property
    def max_steering(self) -> float:
        """Steering clip [rad]."""
        return math.radians(self.max_steering_deg)

    @property
    def min_turning_radius(self) -> float:
        """Rear-axle radius at full steering lock, ignoring grip [m]."""
        return self.effective_wheelbase / math.tan(self.max_steering)

    def delay_substeps(self, dt: float) -> int:
        """Sub-steps of a step of ``dt`` seconds that still use the previous command."""
        return min(round(self.control_delay * self.substeps / dt), self.substeps)

    def check_step(self, dt: float) -> None:
        """Raises ValueError if the car cannot run at control step ``dt``.

        Raises:
            ValueError: ``control_delay`` exceeds one control step.
        """
        if self.control_delay > dt * (1.0 + 1e-9):
            raise ValueError(
                f"vehicle: control_delay {self.control_delay:g} s exceeds one control step"
                f" ({dt:g} s); at most one step of delay is modelled"
            )
