"""What the physical AWS DeepRacer car can run, so training can say so before it starts.

The car runs one camera model: a TensorFlow-1 frozen graph fed 160 x 120 frames (one
gray channel, or two for the stereo camera), and the lidar's 64 ranges (or 8 sector
flags) when the model has a lidar too. :mod:`deepracer.export.car` builds that graph;
this module holds the rules both it and the trainer check.

Contents:
    CAR_FRAME: (height, width) of the frames the car feeds its model.
    CAR_CAMERAS: our camera observations -> (the car's sensor, its channels).
    CAR_LIDARS: our lidar observations -> the car's sensor.
    car_problem: why a model cannot go to the car, or None.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["CAR_CAMERAS", "CAR_FRAME", "CAR_LIDARS", "CAR_NETWORKS", "car_problem"]

CAR_FRAME = (120, 160)
"""(height, width) of the frames the car feeds its model."""
CAR_CAMERAS = {"camera": ("FRONT_FACING_CAMERA", 1), "stereo_camera": ("STEREO_CAMERAS", 2)}
"""Our camera observations -> (the car's sensor name, its channels)."""
CAR_LIDARS = {"lidar": "LIDAR", "sector_lidar": "SECTOR_LIDAR"}
"""Our lidar observations -> the car's sensor name, beside a camera."""
CAR_NETWORKS = ("deepracer_shallow", "deepracer_standard", "deepracer_deep")
"""The networks the car export builds: the DeepRacer CNNs."""


def car_problem(
    observation: str | Sequence[str],
    network: str,
    algorithm: str,
    *,
    discrete: bool = True,
    frame: tuple[int, int] = CAR_FRAME,
) -> str | None:
    """Why a model with these settings cannot go to the car, or None if it can.

    Args:
        observation: The experiment's observation name(s).
        network: The preset's network.
        algorithm: ``ppo`` or ``sac``.
        discrete: Whether the action space is discrete (PPO either way, SAC continuous).
        frame: (height, width) of the camera frames.
    """
    names = [observation] if isinstance(observation, str) else list(observation)
    if names == ["state"]:
        return (
            "the state observation (exact numbers from the simulator) does not exist on"
            " the physical car, which sees only its camera (and lidar)"
        )
    cameras = [n for n in names if n in CAR_CAMERAS]
    lidars = [n for n in names if n in CAR_LIDARS]
    if len(cameras) != 1 or len(lidars) > 1 or len(names) != len(cameras) + len(lidars):
        shown = names[0] if len(names) == 1 else names
        return (
            f"observation {shown!r}: the car runs one camera ({' or '.join(CAR_CAMERAS)}),"
            f" alone or with one lidar ({' or '.join(CAR_LIDARS)})"
        )
    if network not in CAR_NETWORKS:
        return (
            f"network {network!r}: the car export builds the DeepRacer CNNs"
            f" ({', '.join(CAR_NETWORKS)})"
        )
    if algorithm == "sac" and discrete:
        return "SAC takes continuous actions only"
    if tuple(frame) != CAR_FRAME:
        return (
            f"the camera gives {frame[1]}x{frame[0]} frames, the car feeds"
            f" {CAR_FRAME[1]}x{CAR_FRAME[0]} (env.camera.width/height)"
        )
    return None
