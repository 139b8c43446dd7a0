"""Camera observation speed with objects in view, against none, in one process.

Usage: python benchmarks/camera_objects.py [--quick] [--steps N]

Times ``CameraObservation.observe`` (160 x 120, 2 x 2 sub-samples, the default camera)
on re:Invent 2018 along a straight, the car moving 1 cm per step, with:

* no objects (the baseline);
* 6 box obstacles 0.8-3.6 m ahead, alternating lanes (static, as in object avoidance);
* 6 bot cars at the same places, moved 1 cm per step like the car (their boxes and
  face shading are recomputed every step, as in head-to-bot);
* the stereo camera with the 6 boxes.

Prints steps/s and the ratio to the baseline, then one ``RESULT name=value ...`` line.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

from deepracer.envs.camera import CameraObservation, StereoCameraObservation
from deepracer.envs.view import CarView, EpisodeVariation
from deepracer.envs.world import load_world
from deepracer.physics import car_points
from deepracer.physics.profiles import resolve_vehicle
from deepracer.rewards.objects import (
    BOT_CAR_FOOTPRINT,
    BOT_CAR_Z,
    BOX_FOOTPRINT,
    OBSTACLE_Z,
    SceneObject,
)
from deepracer.tracks import get_track

AHEAD = (0.8, 1.3, 1.8, 2.4, 3.0, 3.6)
"""Distances of the six objects ahead of the car along the centre line [m]."""
LANE = 0.15
"""Objects alternate this far left and right of the centre line [m]."""


def views(steps: int, kind: Literal["obstacle", "bot_car"] | None) -> list[CarView]:
    """One CarView per step along re:Invent 2018's first straight, with six objects."""
    world = load_world("reinvent_base")
    track = get_track(world.track)
    vehicle = resolve_vehicle(None, world.vehicle)
    out = []
    for i in range(steps):
        s = 0.5 + 0.01 * (i % 100)
        x, y, yaw = track.pose_at(s)
        objects: list[SceneObject] = []
        if kind is not None:
            moved = 0.01 * (i % 100) if kind == "bot_car" else 0.0
            for j, ahead in enumerate(AHEAD):
                ox, oy, heading = track.pose_at(s - 0.01 * (i % 100) + moved + ahead)
                side = LANE if j % 2 == 0 else -LANE
                ox, oy = ox - side * math.sin(heading), oy + side * math.cos(heading)
                footprint = BOT_CAR_FOOTPRINT if kind == "bot_car" else BOX_FOOTPRINT
                z = BOT_CAR_Z if kind == "bot_car" else OBSTACLE_Z
                objects.append(SceneObject(ox, oy, heading, kind, footprint, z))
        (rx, ry), (mx, my), _ = car_points(0.0, 0.0, yaw, vehicle)
        out.append(
            CarView(
                track=track,
                x=x - rx,
                y=y - ry,
                yaw=yaw,
                speed=1.0,
                steering=0.0,
                steering_cmd=0.0,
                origin=(x, y),
                where=track.locate((x - rx + mx, y - ry + my)),
                vehicle=vehicle,
                objects=tuple(objects),
            )
        )
    return out


def rate(observation: CameraObservation, cars: Sequence[CarView], rounds: int) -> float:
    """Best of ``rounds`` timings of observing every view once [steps/s]."""
    world = replace(load_world("reinvent_base"), race_type="OBJECT_AVOIDANCE")
    observation.reset(world, EpisodeVariation(friction=1.0), None)
    for car in cars[:20]:  # compile and warm caches
        observation.observe(car)
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        for car in cars:
            observation.observe(car)
        best = max(best, len(cars) / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (noisier)")
    parser.add_argument("--steps", type=int, default=2000, help="steps per timing")
    args = parser.parse_args()
    steps = args.steps // 4 if args.quick else args.steps
    rounds = 3
    results: dict[str, float] = {}
    plain, boxes, cars = views(steps, None), views(steps, "obstacle"), views(steps, "bot_car")
    results["camera_steps_per_s"] = rate(CameraObservation(), plain, rounds)
    results["camera_6_boxes_steps_per_s"] = rate(CameraObservation(), boxes, rounds)
    results["camera_6_bot_cars_steps_per_s"] = rate(CameraObservation(), cars, rounds)
    results["stereo_steps_per_s"] = rate(StereoCameraObservation(), plain, rounds)
    results["stereo_6_boxes_steps_per_s"] = rate(StereoCameraObservation(), boxes, rounds)
    for key, value in results.items():
        base = results["stereo_steps_per_s" if key.startswith("stereo") else "camera_steps_per_s"]
        print(f"{key:>32}: {value:10,.0f}   ({value / base:5.2f} x no objects)")
    print("RESULT " + " ".join(f"{k}={v:.0f}" for k, v in results.items()))


if __name__ == "__main__":
    main()
