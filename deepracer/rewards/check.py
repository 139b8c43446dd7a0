"""Check a reward function against scripted poses all over a track.

Before a training run, a reward function should be called on every situation a car
can be in: on the centre line, near and past the borders, off the track, skewed and
driving backwards, slow and fast. :func:`scripted_samples` lists such poses; the params
of each are built by the same code as the environment's (``car_points``,
``Track.locate``, ``Track.on_road``, ``build_params``, ``compute_progress``), so the
reward function sees exactly what it would see in training.

The poses, for every ~0.1 m of centre-line arc length:

* lateral offsets of the model point (the params' ``x, y``) from the centre line of
  0, ±0.25, ±0.5, ±0.75, ±1 (on the border) and ±1.1 × half the track width, plus
  ±(half width + 0.25 m), where (away from other parts of the road) no wheel is on
  the road whatever the heading;
* headings along the track, ±30° to it, and reversed;
* steering angles (-30, -15, 0, 15, 30) and speeds (0.5, 1, 2, 4), cycled through the
  poses so every combination recurs all along the track;
* ``steps`` cycled through 2..steps_max, with ``sim_time`` to match.

Contents:
    ScriptedPose: one scripted pose and the action that goes with it.
    scripted_samples: every scripted pose of a track with its reward params.
    scripted_params: the params alone.
    RewardReport: the figures of one check.
    check_reward: call a reward function on every scripted pose.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from deepracer.errors import RewardFunctionError
from deepracer.physics import VehicleParams, car_points
from deepracer.rewards.loader import RewardFunction
from deepracer.rewards.params import build_params, compute_progress
from deepracer.tracks import Track, TrackPoint

__all__ = [
    "RewardReport",
    "ScriptedPose",
    "check_reward",
    "scripted_params",
    "scripted_samples",
]

STATION_SPACING = 0.1
"""Arc length between two sampled stations on the centre line [m]."""
OFFSETS = (0.0, 0.25, -0.25, 0.5, -0.5, 0.75, -0.75, 1.0, -1.0, 1.1, -1.1)
"""Lateral offsets of the model point, in half track widths (positive: left)."""
OFF_ROAD_MARGIN = 0.25
"""The off-track poses lie this far beyond the border [m]. The car reaches at most
0.19 m back towards the road from its model point (0.22 m to the rear axle at 30°, plus
half the wheel track), so all four wheels are off the road."""
HEADING_OFFSETS = (0.0, 30.0, -30.0, 180.0)
"""Headings relative to the track direction [deg]."""
STEERING_ANGLES = (-30.0, -15.0, 0.0, 15.0, 30.0)
"""Commanded steering angles [deg]."""
SPEEDS = (0.5, 1.0, 2.0, 4.0)
"""Commanded speeds [m/s]."""
DT = 1.0 / 15.0
"""The control step, for ``sim_time`` [s]."""


@dataclass(frozen=True, slots=True)
class ScriptedPose:
    """One scripted pose.

    Attributes:
        s: Arc length of the station on the centre line [m].
        lateral: Offset of the model point from the centre line, positive to the left
            of the driving direction [m].
        region: ``"center"`` (offset 0), ``"road"`` (inside the borders), ``"border"``
            (on or just past a border) or ``"off"`` (all wheels off the road).
        heading_offset: Heading relative to the track direction [deg].
        steering_angle: Commanded steering [deg].
        speed: Commanded speed [m/s].
        steps: The ``steps`` param.
    """

    s: float
    lateral: float
    region: str
    heading_offset: float
    steering_angle: float
    speed: float
    steps: int


def scripted_samples(
    track: Track, *, steps_max: int = 200, vehicle: VehicleParams | None = None
) -> Iterator[tuple[ScriptedPose, dict[str, Any]]]:
    """Yields every scripted pose of ``track`` with its reward params.

    The params are built as the env builds them: the rear-axle state from the pose,
    ``car_points`` for the wheels, ``Track.locate`` of the model point,
    ``Track.on_road`` of the wheels, ``compute_progress`` and ``build_params``.

    Args:
        track: The track, in its driving direction.
        steps_max: The largest ``steps`` value (>= 2).
        vehicle: The car's geometry (the DeepRacer car by default).

    Raises:
        ValueError: ``steps_max`` is below 2.
    """
    if steps_max < 2:
        raise ValueError(f"steps_max must be >= 2 (the first judged step is 2), got {steps_max}")
    vehicle = vehicle or VehicleParams()
    stations = max(1, round(track.length / STATION_SPACING))
    # Mid-station sampling keeps off the start line, where the simapp's progress jumps
    # to 100 %, and off an open track's ends.
    s_all = (np.arange(stations) + 0.5) * (track.length / stations)
    centres = track.point_at(s_all).tolist()
    directions = track.heading_at(s_all).tolist()
    combos = [(steer, speed) for speed in SPEEDS for steer in STEERING_ANGLES]
    # The car state is the rear axle; the model point lies ahead of it by the
    # rear-axle offset plus the model-point offset.
    back = vehicle.rear_axle_offset + vehicle.model_point_offset
    count = 0
    for s, (cx, cy), direction in zip(s_all.tolist(), centres, directions, strict=True):
        centre = track.locate((cx, cy))
        half_width = 0.5 * centre.width
        laterals = [(f * half_width, _region(f)) for f in OFFSETS]
        laterals += [(sign * (half_width + OFF_ROAD_MARGIN), "off") for sign in (1.0, -1.0)]
        # Poses of one station, then one on_road call for all their wheels: the
        # polygon test is per point, so batching changes nothing but the speed.
        batch: list[tuple[ScriptedPose, tuple[float, float], TrackPoint, float]] = []
        wheels: list[tuple[float, float]] = []
        for lateral, region in laterals:
            model_point = (cx - lateral * math.sin(direction), cy + lateral * math.cos(direction))
            # The model point does not depend on the heading, so one locate serves
            # all four headings.
            where = centre if lateral == 0.0 else track.locate(model_point)
            for heading_offset in HEADING_OFFSETS:
                steer, speed = combos[count % len(combos)]
                pose = ScriptedPose(
                    s=s,
                    lateral=lateral,
                    region=region,
                    heading_offset=heading_offset,
                    steering_angle=steer,
                    speed=speed,
                    steps=2 + count % (steps_max - 1),
                )
                count += 1
                yaw = direction + math.radians(heading_offset)
                rear_x = model_point[0] - back * math.cos(yaw)
                rear_y = model_point[1] - back * math.sin(yaw)
                # car_points returns the model point back up to rounding; the nominal
                # one is kept so that x, y and the located geometry agree exactly.
                wheels += car_points(rear_x, rear_y, yaw, vehicle)[2]
                batch.append((pose, model_point, where, yaw))
        on_road = track.on_road(wheels).reshape(-1, 4).tolist()
        for (pose, model_point, where, yaw), wheels_on in zip(batch, on_road, strict=True):
            yield pose, _params(track, pose, model_point, where, yaw, wheels_on)


def _region(fraction: float) -> str:
    if fraction == 0.0:
        return "center"
    return "road" if abs(fraction) < 1.0 else "border"


def _params(
    track: Track,
    pose: ScriptedPose,
    model_point: tuple[float, float],
    where: TrackPoint,
    yaw: float,
    wheels_on_track: list[bool],
) -> dict[str, Any]:
    # The car drove here from the start line, so the previous progress is the
    # station's: the simapp's finish-line corrections then apply as in a real lap.
    progress = compute_progress(where.ndist, 100.0 * pose.s / track.length)
    heading = math.degrees(math.atan2(math.sin(yaw), math.cos(yaw)))
    if heading <= -180.0:
        heading += 360.0
    return build_params(
        track=track,
        where=where,
        model_point=model_point,
        heading_deg=heading,
        steering_deg=pose.steering_angle,
        speed=pose.speed,
        steps=pose.steps,
        progress=progress,
        all_wheels_on_track=all(wheels_on_track),
        any_wheel_on_track=any(wheels_on_track),
        sim_time=(pose.steps - 2) * DT,  # the first judged step (2) is at t = 0
    )


def scripted_params(track: Track, *, steps_max: int = 200) -> Iterator[dict[str, Any]]:
    """Yields the reward params of every scripted pose of ``track``.

    Args:
        track: The track, in its driving direction.
        steps_max: The largest ``steps`` value (>= 2).
    """
    for _, params in scripted_samples(track, steps_max=steps_max):
        yield params


@dataclass(frozen=True, slots=True)
class RewardReport:
    """The figures of one :func:`check_reward` run.

    Attributes:
        reward_name: The reward function's name (its file).
        track_name: The track's name.
        calls: Number of reward function calls.
        min: Smallest reward.
        mean: Mean reward.
        max: Largest reward.
        mean_center: Mean reward on the centre line, or None if there was no such pose.
        mean_border: Mean reward with the model point on or just past a border and a
            wheel still on the road, or None.
        mean_offtrack: Mean reward with no wheel on the road (``is_offtrack``), or None.
        us_per_call: Mean time of one call, including the params copy and the result
            check [µs].
    """

    reward_name: str
    track_name: str
    calls: int
    min: float
    mean: float
    max: float
    mean_center: float | None
    mean_border: float | None
    mean_offtrack: float | None
    us_per_call: float


def check_reward(reward: RewardFunction, track: Track, *, steps_max: int = 200) -> RewardReport:
    """Calls ``reward`` on every scripted pose of ``track`` and summarises the results.

    Args:
        reward: The reward function (it validates every result).
        track: The track, in its driving direction.
        steps_max: The largest ``steps`` value (>= 2).

    Raises:
        RewardFunctionError: The function raised or returned an invalid value; the
            message adds the pose that caused it.
    """
    sums = {"all": 0.0, "center": 0.0, "border": 0.0, "off": 0.0}
    counts = dict.fromkeys(sums, 0)
    low, high = math.inf, -math.inf
    elapsed = 0.0
    for pose, params in scripted_samples(track, steps_max=steps_max):
        start = time.perf_counter()
        try:
            value = reward(params)
        except RewardFunctionError as exc:
            raise RewardFunctionError(f"{exc}\n{_describe(track, pose, params)}") from exc
        elapsed += time.perf_counter() - start
        low, high = min(low, value), max(high, value)
        groups = ["all"]
        if params["is_offtrack"]:
            groups.append("off")
        elif pose.region == "center":
            groups.append("center")
        elif pose.region == "border":
            groups.append("border")
        for group in groups:
            sums[group] += value
            counts[group] += 1

    def mean(group: str) -> float | None:
        return sums[group] / counts[group] if counts[group] else None

    calls = counts["all"]
    return RewardReport(
        reward_name=reward.name,
        track_name=track.name,
        calls=calls,
        min=low,
        mean=sums["all"] / calls,
        max=high,
        mean_center=mean("center"),
        mean_border=mean("border"),
        mean_offtrack=mean("off"),
        us_per_call=1e6 * elapsed / calls,
    )


def _describe(track: Track, pose: ScriptedPose, params: dict[str, Any]) -> str:
    """Says where the failing call happened, for the error message."""
    return (
        f"scripted pose on track {track.name!r}: {pose.region}, {pose.lateral:+.3f} m from the"
        f" centre line at {pose.s:.2f} m, heading {pose.heading_offset:+.0f}° to the track;"
        f" params x={params['x']:.3f}, y={params['y']:.3f}, heading={params['heading']:.1f},"
        f" steering_angle={params['steering_angle']}, speed={params['speed']},"
        f" steps={params['steps']}, progress={params['progress']:.2f},"
        f" is_offtrack={params['is_offtrack']}"
    )
