"""What observations are computed from: the car now, and this episode's draw.

Both live here, below the observation types and the camera, so neither needs the
other to name them.

Contents:
    CarView: the snapshot of the car an observation is computed from.
    EpisodeVariation: the per-episode draw of domain randomisation.
"""

from __future__ import annotations

from dataclasses import dataclass

from deepracer.physics import VehicleParams
from deepracer.rewards.objects import SceneObject
from deepracer.tracks import Track, TrackPoint

__all__ = ["CarView", "EpisodeVariation"]


@dataclass(frozen=True, slots=True)
class CarView:
    """A snapshot of one car, for observations.

    Attributes:
        track: The track in the driving direction.
        x: Rear-axle x [m].
        y: Rear-axle y [m].
        yaw: Heading [rad].
        speed: Actual speed [m/s].
        steering: Actual steering angle [rad].
        steering_cmd: Last commanded steering, still in flight under a control delay [rad].
        origin: Car origin (x, y) [m].
        where: Track geometry of the model point.
        vehicle: Vehicle parameters.
        objects: The obstacles and bot cars where they are now, in the simapp's order
            (obstacles, then bot cars); empty in a time trial.
    """

    track: Track
    x: float
    y: float
    yaw: float
    speed: float
    steering: float
    steering_cmd: float
    origin: tuple[float, float]
    where: TrackPoint
    vehicle: VehicleParams
    objects: tuple[SceneObject, ...] = ()


@dataclass(frozen=True, slots=True)
class EpisodeVariation:
    """The per-episode draw of domain randomisation (see ``RandomizationConfig``).

    Attributes:
        friction: Friction coefficient of this episode [-].
        speed_scale: Battery level: scale on the speed the motor reaches [-].
        brightness: Image intensity factor [-].
        contrast: Contrast factor about mid-grey [-].
        gamma: Gamma on intensities in [0, 1] [-].
        camera_height_offset: Added to the camera height [m].
        camera_pitch_offset_deg: Added to the camera pitch [deg].
    """

    friction: float
    speed_scale: float = 1.0
    brightness: float = 1.0
    contrast: float = 1.0
    gamma: float = 1.0
    camera_height_offset: float = 0.0
    camera_pitch_offset_deg: float = 0.0
