"""Camera frames from our simulator, labelled by the bend of the track ahead.

The frames are exactly what a ``RacingEnv`` with ``observation: camera`` gives the
policy: the env is built for the world and its camera observation renders each pose
(160 x 120 grayscale by default). Poses are drawn at random along the track, beside
the centre line and slightly turned, as a driving car would be.

Labelling rule (documented in the report): let ``s`` be where the car's model point
projects on the centre line. The label is the mean signed curvature of the centre
line between ``s + near`` and ``s + far`` (``label_window``), i.e. the change of the
track's heading over that stretch divided by its length, in rad/m, positive turning
left (counter-clockwise):

* ``left`` when it is >= ``turn_above``,
* ``right`` when it is <= ``-turn_above``,
* ``straight`` when its magnitude is <= ``straight_below``,
* otherwise the pose is ambiguous (entering or leaving a bend) and is not used.

The defaults (the first metre ahead, 0.1 and 0.3 rad/m, i.e. radii above 10 m and
below 3.3 m) were chosen because the camera's lower image, where the road is
resolved, shows the first metre or so: labels taken further ahead described bends the
frame barely shows (with the other defaults, 20 ten-shot episodes: 0-1 m 0.94,
0.3-1.5 m 0.82, 0.8-2.5 m 0.68 mean accuracy).

Contents:
    TRACK_CLASSES: ``left``, ``right``, ``straight``.
    FramePlan: the labelled poses before rendering (for plots and the report).
    mean_curvature: the labelling quantity at arc lengths of a track.
    label_curvature: curvatures to class ids (-1: ambiguous).
    render_track_frames: draw, label and render the frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from deepracer.errors import ConfigError

__all__ = [
    "TRACK_CLASSES",
    "FramePlan",
    "label_curvature",
    "mean_curvature",
    "render_track_frames",
]

TRACK_CLASSES = ("left", "right", "straight")
"""Class names of track frames, in class-id order."""


@dataclass
class FramePlan:
    """The drawn candidate poses of one direction, labelled.

    Attributes:
        direction: ``forward`` or ``reverse``.
        track: The :class:`~deepracer.tracks.Track` in that direction.
        s: Arc length of each candidate's projection [m].
        curvature: The labelling curvature of each candidate [rad/m].
        labels: Class id of each candidate (-1: ambiguous).
    """

    direction: str
    track: Any
    s: NDArray[np.float64]
    curvature: NDArray[np.float64]
    labels: NDArray[np.int64]


def mean_curvature(
    track: Any, s: NDArray[np.float64], near: float, far: float
) -> NDArray[np.float64]:
    """The mean signed curvature of the centre line over ``[s + near, s + far]``.

    Args:
        track: A :class:`~deepracer.tracks.Track` (its driving direction counts).
        s: Arc lengths [m].
        near: Start of the window ahead of ``s`` [m].
        far: Its end [m] (> near).

    Returns:
        Heading change over the window / its length [rad/m], left positive. On an open
        track a window past the end reads the last segment's heading.
    """
    start = np.asarray(track.heading_at(s + near), dtype=np.float64)
    end = np.asarray(track.heading_at(s + far), dtype=np.float64)
    # Wrap to (-pi, pi]: the window is short, so the heading turns less than half a
    # revolution over it.
    turn = np.angle(np.exp(1j * (end - start)))
    return np.asarray(turn / (far - near), dtype=np.float64)


def label_curvature(
    curvature: NDArray[np.float64], *, straight_below: float, turn_above: float
) -> NDArray[np.int64]:
    """Class ids of :data:`TRACK_CLASSES` for curvatures; -1 marks the ambiguous band."""
    labels = np.full(curvature.shape, -1, dtype=np.int64)
    labels[curvature >= turn_above] = 0
    labels[curvature <= -turn_above] = 1
    labels[np.abs(curvature) <= straight_below] = 2
    return labels


@dataclass(frozen=True)
class _Pose:
    direction: int  # index into the tracks list
    s: float
    lateral: float
    yaw_offset: float


def render_track_frames(
    *,
    world: str,
    directions: str,
    frames_per_class: int,
    window: tuple[float, float],
    straight_below: float,
    turn_above: float,
    lateral_jitter: float,
    yaw_jitter_deg: float,
    candidates_per_frame: int,
    seed: int,
) -> tuple[NDArray[np.uint8], NDArray[np.int64], list[str], list[FramePlan]]:
    """Draws poses, labels them by the curvature ahead and renders the chosen ones.

    Args:
        world: A world name or YAML path (as in env configs).
        directions: ``both``, ``forward`` or ``reverse``.
        frames_per_class: Frames wanted per class.
        window: ``(near, far)`` of the labelling window [m].
        straight_below: Straight threshold [rad/m].
        turn_above: Turn threshold [rad/m].
        lateral_jitter: Maximum offset from the centre line [m].
        yaw_jitter_deg: Maximum heading offset [deg].
        candidates_per_frame: Candidate poses drawn per frame wanted.
        seed: Seeds poses, the env and its image noise.

    Returns:
        ``(frames (N, H, W) uint8, labels (N,), sources, plans)``: frames grouped by
        class, a source string per frame (direction, arc length, offsets) and the
        labelled candidates of each direction.

    Raises:
        ConfigError: The world does not load, or a class gets fewer frames than
            ``frames_per_class`` needs (a track without right bends driven forward
            only, say); the message says what to change.
    """
    from deepracer.envs.racing_env import RacingEnv
    from deepracer.envs.view import CarView

    env = RacingEnv({"world": world, "observation": "camera"})
    # Resetting once with the seed fixes the camera's episode variation and noise
    # stream; every frame below then resets again (unseeded) so a world with visual
    # domain randomisation gets a fresh draw per frame, as per episode in training.
    env.reset(seed=seed)
    forward = env.track
    tracks = {"forward": [forward], "reverse": [forward.reversed()]}.get(
        directions, [forward, forward.reversed()]
    )
    names = {"forward": ["forward"], "reverse": ["reverse"]}.get(directions, ["forward", "reverse"])
    rng = np.random.default_rng([seed, 1])
    near, far = window
    vehicle = env.vehicle
    total = frames_per_class * len(TRACK_CLASSES) * candidates_per_frame
    per_direction = -(-total // len(tracks))

    poses: list[_Pose] = []
    labels: list[int] = []
    plans: list[FramePlan] = []
    for d, track in enumerate(tracks):
        s = rng.uniform(0.0, track.length, per_direction)
        lateral = rng.uniform(-lateral_jitter, lateral_jitter, per_direction)
        yaw = np.radians(rng.uniform(-yaw_jitter_deg, yaw_jitter_deg, per_direction))
        # Label from where the model point projects, as the car's own track position.
        cx, cy, heading = track.pose_at_batch(s)
        ahead = vehicle.model_point_offset
        model_x = cx - lateral * np.sin(heading) + ahead * np.cos(heading + yaw)
        model_y = cy + lateral * np.cos(heading) + ahead * np.sin(heading + yaw)
        projected = np.asarray(track.locate_batch(model_x, model_y)["s"], dtype=np.float64)
        poses.extend(
            _Pose(d, float(a), float(b), float(c)) for a, b, c in zip(s, lateral, yaw, strict=True)
        )
        curvature = mean_curvature(track, projected, near, far)
        found = label_curvature(curvature, straight_below=straight_below, turn_above=turn_above)
        labels.extend(found.tolist())
        plans.append(FramePlan(names[d], track, projected, curvature, found))

    label_array = np.asarray(labels, dtype=np.int64)
    chosen: list[int] = []
    for c, name in enumerate(TRACK_CLASSES):
        pool = np.flatnonzero(label_array == c)
        if len(pool) < frames_per_class:
            raise ConfigError(
                f"custom_labels: world {world!r} driven {directions} gives {len(pool)}"
                f" {name!r} poses of {len(label_array)} drawn; frames_per_class needs"
                f" {frames_per_class}. Use directions: both, another world, lower"
                " frames_per_class or widen the thresholds (straight_below, turn_above)"
            )
        chosen.extend(sorted(rng.choice(pool, frames_per_class, replace=False).tolist()))

    frames: list[NDArray[np.uint8]] = []
    sources: list[str] = []
    for index in chosen:
        pose = poses[index]
        track = tracks[pose.direction]
        env.reset()
        x, y, car_yaw, origin, model_point = _place(
            track, vehicle, pose.s, pose.lateral, pose.yaw_offset
        )
        view = CarView(
            track=track,
            x=x,
            y=y,
            yaw=car_yaw,
            speed=0.0,
            steering=0.0,
            steering_cmd=0.0,
            origin=origin,
            where=track.locate(model_point),
            vehicle=vehicle,
        )
        frame = np.asarray(env.observation_type.observe(view))
        frames.append(frame[..., -1].astype(np.uint8))
        sources.append(
            f"{world}:{names[pose.direction]}:s={pose.s:.3f}m:lateral={pose.lateral:+.3f}m"
            f":yaw={math.degrees(pose.yaw_offset):+.1f}deg"
        )
    env.close()
    return np.stack(frames), label_array[chosen], sources, plans


def _place(
    track: Any, vehicle: Any, s: float, lateral: float, yaw_offset: float
) -> tuple[float, float, float, tuple[float, float], tuple[float, float]]:
    """A pose whose car origin is ``lateral`` metres left of the centre line at ``s``.

    Returns:
        ``(rear-axle x, rear-axle y, yaw, origin, model point)``, as the env keeps them.
    """
    from deepracer.physics import car_points

    x, y, heading = track.pose_at(s)
    yaw = heading + yaw_offset
    origin_x = x - lateral * math.sin(heading)
    origin_y = y + lateral * math.cos(heading)
    back = vehicle.rear_axle_offset
    rear_x, rear_y = origin_x - back * math.cos(yaw), origin_y - back * math.sin(yaw)
    origin, model_point, _ = car_points(rear_x, rear_y, yaw, vehicle)
    return rear_x, rear_y, yaw, origin, model_point
