"""The object-avoiding expert: it passes boxes and bot cars on re:Invent 2018."""

from __future__ import annotations

import pytest

from deepracer.envs import RacingEnv
from deepracer.raceline.avoid import ObjectAvoider
from deepracer.rewards.objects import BOX_FOOTPRINT, SceneObject
from deepracer.tracks import get_track

CONTINUOUS = {"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 0.5, "high": 2.0}}


def _laps(world: str, episodes: int) -> dict[str, int]:
    env = RacingEnv({"world": world, "action_space": CONTINUOUS})
    driver = ObjectAvoider(env.track, env.vehicle)
    outcomes: dict[str, int] = {}
    env.reset(seed=0)
    for _ in range(episodes):
        env.reset()  # round-robin starts, a new layout each time
        driver.reset()
        while True:
            steer, speed = driver.command(env.car_state, env.objects)
            action = [steer / 30.0, (speed - 0.5) / 1.5 * 2.0 - 1.0]
            _, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                break
        status = info["episode_status"]
        outcomes[status] = outcomes.get(status, 0) + 1
    return outcomes


@pytest.mark.parametrize(
    ("world", "least"), [("reinvent_object_avoidance", 9), ("reinvent_head_to_bot", 9)]
)
def test_the_expert_laps_among_objects(world: str, least: int) -> None:
    outcomes = _laps(world, 10)
    assert outcomes.get("lap_complete", 0) >= least, outcomes


def test_it_takes_the_lane_away_from_the_next_object() -> None:
    from deepracer.physics.profiles import default_vehicle

    track = get_track("straight")
    driver = ObjectAvoider(track, default_vehicle())
    right = SceneObject(1.0, -0.15, 0.0, "obstacle", BOX_FOOTPRINT, 0.1)
    far = SceneObject(3.0, 0.15, 0.0, "obstacle", BOX_FOOTPRINT, 0.1)
    steer, _ = driver.command((0.0, 0.0, 0.0, 1.0), [right, far])
    assert steer > 0  # left, away from the near box; the far one does not count yet
    driver.reset()
    steer, _ = driver.command((0.0, 0.0, 0.0, 1.0), [far])
    assert steer > 0  # nothing within 2 m: it keeps the (left) lane it starts nearer


def test_the_horizon_lets_the_next_box_decide() -> None:
    from dataclasses import replace

    from deepracer.envs import load_world
    from deepracer.envs.objects import ObjectAvoidanceConfig
    from deepracer.raceline.avoid import DEFAULT_HORIZON, horizon_for

    world = load_world("reinvent_object_avoidance")
    track = get_track(world.track)
    # 12 % of the lap apart: the next box comes within reach only once the passed one
    # is 0.45 m behind the car.
    assert horizon_for(world, track) == pytest.approx(0.12 * track.length - 0.45)
    far_apart = replace(
        world,
        object_avoidance=ObjectAvoidanceConfig(object_positions=((0.2, 1), (0.7, -1))),
    )
    assert horizon_for(far_apart, track) == DEFAULT_HORIZON  # 8.9 m apart: no need to wait
    close = replace(
        world, object_avoidance=ObjectAvoidanceConfig(object_positions=((0.2, 1), (0.3, -1)))
    )
    assert horizon_for(close, track) == pytest.approx(0.1 * track.length - 0.45)
    assert horizon_for(load_world("reinvent_head_to_bot"), track) == DEFAULT_HORIZON


def test_with_a_camera_it_ignores_boxes_out_of_view() -> None:
    from deepracer.physics.profiles import default_vehicle
    from deepracer.rewards.objects import CameraFrustum

    track = get_track("straight")
    left = SceneObject(1.2, 0.15, 0.0, "obstacle", BOX_FOOTPRINT, 0.1)
    turned = (0.0, 0.0, -0.9, 1.0)  # 52 degrees right: the box is out of view
    ahead = (0.0, 0.0, 0.0, 1.0)
    blind = ObjectAvoider(track, default_vehicle(), camera=CameraFrustum())
    sighted = ObjectAvoider(track, default_vehicle())
    blind.command(turned, [left])
    sighted.command(turned, [left])
    # Without a camera it picked the right lane, away from the box; with one it kept
    # the (left) lane it started nearer, as a policy that sees only frames would.
    assert blind.command(ahead, [])[0] > 0 > sighted.command(ahead, [])[0]
    blind.reset()
    assert blind.command(ahead, [left])[0] < 0  # in view: it swerves right as well


def test_it_holds_its_side_lane_of_the_road_width_out() -> None:
    from deepracer.physics.profiles import default_vehicle
    from deepracer.raceline.avoid import DEFAULT_LANE

    track = get_track("straight")
    width = track.locate((1.0, 0.0)).width
    on_its_side = (0.0, DEFAULT_LANE * width, 0.0, 1.0)  # left of centre, heading along
    steer, _ = ObjectAvoider(track, default_vehicle()).command(on_its_side, [])
    assert steer == pytest.approx(0.0, abs=0.5)  # already where it drives
    # In the simapp's lanes (a quarter of the width out) it would steer back inwards.
    inner, _ = ObjectAvoider(track, default_vehicle(), lane=0.25).command(on_its_side, [])
    assert inner < -1.0
