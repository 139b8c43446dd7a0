"""The DeepRacer reward ``params`` dict, with the simapp's semantics.

Every key the simapp passes is always present (object keys keep their defaults
when there are no objects). Where the AWS documentation and the simapp code differ,
the code wins:

* ``x, y`` is the *model point*, 0.14 m ahead of the car origin along its heading;
* ``speed`` and ``steering_angle`` are the commanded action, not measured values;
* ``heading`` is in degrees, in (-180, 180];
* ``waypoints`` is the centre line with the loop's closing point (reversed when
  driving against the file order);
* ``progress`` is 0-100 from the episode's start point and wraps at the finish line;
* ``is_offtrack`` means no wheel centre is on the road; ``all_wheels_on_track`` means
  all four are;
* ``sim_time`` is simulated seconds since the episode started (the simapp passes
  Gazebo's clock, whose origin is arbitrary; differences agree).

Contents:
    PARAM_KEYS: every key, in the simapp's ``RewardParam`` order.
    RewardParams: the TypedDict of the params.
    compute_progress: the simapp's progress with finish-line wrap.
    build_params: assemble the dict.
"""

from __future__ import annotations

from typing import Any, TypedDict

from deepracer.tracks import Track, TrackPoint

__all__ = ["PARAM_KEYS", "RewardParams", "build_params", "compute_progress"]


class RewardParams(TypedDict):
    """The reward function's input; see the module docstring for semantics."""

    all_wheels_on_track: bool
    x: float
    y: float
    heading: float
    distance_from_center: float
    projection_distance: float
    progress: float
    steps: int
    speed: float
    steering_angle: float
    track_width: float
    track_length: float
    waypoints: list[tuple[float, float]]
    closest_waypoints: list[int]
    is_left_of_center: bool
    is_reversed: bool
    is_crashed: bool
    is_offtrack: bool
    closest_objects: list[int]
    objects_location: list[list[float]]
    objects_left_of_center: list[bool]
    object_in_camera: bool
    objects_speed: list[float]
    objects_heading: list[float]
    objects_distance_from_center: list[float]
    objects_distance: list[float]
    sim_time: float


PARAM_KEYS: tuple[str, ...] = tuple(RewardParams.__annotations__)


def compute_progress(delta_ndist: float, prev_progress: float) -> float:
    """Returns the progress [%] with the simapp's finish-line corrections.

    Args:
        delta_ndist: Normalised distance of the car minus that of the start point.
        prev_progress: Progress at the previous step [%].
    """
    progress = 100.0 * delta_ndist
    if progress <= 0.0:  # the start point lies after the file's start line
        progress += 100.0
    if prev_progress > progress + 50.0:  # crossed the finish line forwards
        progress += 100.0
    if progress > prev_progress + 50.0:  # crossed it backwards
        progress -= 100.0
    return min(progress, 100.0)


def build_params(
    *,
    track: Track,
    where: TrackPoint,
    model_point: tuple[float, float],
    heading_deg: float,
    steering_deg: float,
    speed: float,
    steps: int,
    progress: float,
    all_wheels_on_track: bool,
    any_wheel_on_track: bool,
    sim_time: float,
    is_crashed: bool = False,
) -> dict[str, Any]:
    """Assembles the params dict for one step.

    Args:
        track: The track, in the driving direction.
        where: ``track.locate(model_point)``.
        model_point: The point 0.14 m ahead of the car origin [m].
        heading_deg: Car heading in (-180, 180] [deg].
        steering_deg: Commanded steering [deg].
        speed: Commanded speed [m/s].
        steps: Step count including the prepare step.
        progress: Progress from :func:`compute_progress` [%].
        all_wheels_on_track: All four wheel centres are on the road.
        any_wheel_on_track: At least one wheel centre is on the road.
        sim_time: Simulated seconds since the episode started.
        is_crashed: The crash flag (no objects yet: always False).
    """
    return {
        "all_wheels_on_track": all_wheels_on_track,
        "x": model_point[0],
        "y": model_point[1],
        "heading": heading_deg,
        "distance_from_center": where.distance_from_center,
        "projection_distance": where.s,
        "progress": progress,
        "steps": steps,
        "speed": speed,
        "steering_angle": steering_deg,
        "track_width": where.width,
        "track_length": track.length,
        "waypoints": list(track.waypoints),
        "closest_waypoints": [where.prev_index, where.next_index],
        "is_left_of_center": where.is_left_of_center,
        "is_reversed": track.reverse,
        "is_crashed": is_crashed,
        "is_offtrack": not any_wheel_on_track,
        "closest_objects": [0, 0],
        "objects_location": [],
        "objects_left_of_center": [],
        "object_in_camera": False,
        "objects_speed": [],
        "objects_heading": [],
        "objects_distance_from_center": [],
        "objects_distance": [],
        "sim_time": sim_time,
    }
