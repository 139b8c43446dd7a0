"""Camera observations in the env: spaces, determinism, geometry, stacking, randomisation."""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import deepracer
from deepracer.envs import RacingEnv
from deepracer.envs.camera import CameraConfig, CameraObservation, StereoCameraObservation
from deepracer.envs.objects import ObjectAvoidanceConfig
from deepracer.envs.view import CarView, EpisodeVariation
from deepracer.envs.world import WorldConfig, load_world
from deepracer.physics import car_points
from deepracer.physics.profiles import resolve_vehicle
from deepracer.rendering import objects as ob
from deepracer.rendering import scene as sc
from deepracer.rendering.camera import (
    TrackTexture,
    ground_rays,
    lighting_table,
    render,
    track_texture,
)
from deepracer.rendering.objects import object_boxes
from deepracer.rewards.objects import (
    BOT_CAR_FOOTPRINT,
    BOT_CAR_Z,
    BOX_FOOTPRINT,
    OBSTACLE_Z,
    SceneObject,
)
from deepracer.tracks import get_track

gym.register_envs(deepracer)

WHITE = 180
"""Border lines' texels are mostly 187-229; nothing else in a base-floor frame is
this bright (the field and the centre dashes reach 148, the sky is 178)."""


def levels_of(texture: TrackTexture, part: int) -> np.ndarray:
    """The grey levels of a part's texels in a texture, sorted."""
    codes = np.unique(texture.codes[texture.codes // sc.LEVELS == part])
    return np.sort(texture.table[codes])


def level(texture: TrackTexture, part: int) -> int:
    """A part's plain grey level (walls and sky have no texture detail)."""
    return int(texture.table[sc.code(part)])


def road_mask(img: np.ndarray, texture: TrackTexture) -> np.ndarray:
    """Pixels with a grey level of the road (the walls are darker, the rest brighter)."""
    road = levels_of(texture, sc.ROAD)
    return (img >= road[0]) & (img <= road[-1])


def test_white_threshold_separates_the_lines() -> None:
    tex = track_texture(get_track("straight"))
    lines = tex.pixels[tex.codes // sc.LEVELS == sc.LINE]
    assert np.mean(lines > WHITE) > 0.99
    others = [levels_of(tex, part)[-1] for part in (sc.ROAD, sc.CENTER_LINE, sc.FIELD)]
    assert max(*others, level(tex, sc.SKY), *(level(tex, w) for w in sc.WALLS)) < WHITE


@pytest.mark.parametrize("observation", ["camera", "stereo_camera", ("camera", "state")])
def test_check_env_passes(observation: str | tuple[str, ...]) -> None:
    env = gym.make(
        "DeepRacer/TimeTrial-v0",
        config={"world": "oval", "observation": observation},
        disable_env_checker=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)


def test_spaces() -> None:
    cam = CameraObservation(CameraConfig(width=84, height=84, frame_stack=4))
    assert cam.space() == gym.spaces.Box(0, 255, (84, 84, 4), np.uint8)
    stereo = StereoCameraObservation(CameraConfig(frame_stack=2))
    assert stereo.space().shape == (120, 160, 4)
    env = RacingEnv({"world": "oval", "observation": "stereo_camera"})
    obs, _ = env.reset(seed=0)
    assert obs.shape == (120, 160, 2) and obs.dtype == np.uint8


def rollout(world: Any, seed: int, steps: int = 20, **config: Any) -> list[np.ndarray]:
    env = RacingEnv({"world": world, "observation": "camera", **config})
    env.action_space.seed(0)
    obs, _ = env.reset(seed=seed)
    frames = [obs]
    for _ in range(steps):
        obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
        frames.append(obs)
        if terminated or truncated:
            obs, _ = env.reset()
            frames.append(obs)
    return frames


def noisy_oval(**randomization: Any) -> dict[str, Any]:
    return {"track": "oval", "name": "noisy_oval", "randomization": randomization}


def test_frames_are_deterministic_per_seed() -> None:
    a, b = rollout("oval", 7), rollout("oval", 7)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], a[-1])  # the car moved


def test_pixel_noise_and_lighting_follow_the_seed() -> None:
    world = noisy_oval(pixel_noise_std=4.0, brightness=[0.7, 1.3], gamma=[0.8, 1.2])
    a, b = rollout(world, 3, steps=5), rollout(world, 3, steps=5)
    c = rollout(world, 4, steps=5)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])
    clean = rollout("oval", 3, steps=5)
    assert not np.array_equal(a[0], clean[0])
    # The same pose seen twice gets fresh noise each time.
    env = RacingEnv({"world": noisy_oval(pixel_noise_std=4.0), "observation": "camera"})
    first, _ = env.reset(seed=0, options={"start_ndist": 0.3})
    again, _ = env.reset(options={"start_ndist": 0.3})
    diff = first.astype(float) - again
    assert diff.std() == pytest.approx(4.0 * np.sqrt(2), rel=0.1)


def straight_frame(**camera: Any) -> np.ndarray:
    env = RacingEnv({"world": "straight", "observation": "camera", "camera": camera})
    obs, info = env.reset(seed=0, options={"start_ndist": 0.1})
    assert info["params"]["heading"] == pytest.approx(0.0)
    assert info["params"]["distance_from_center"] == pytest.approx(0.0, abs=1e-9)
    return np.asarray(obs[..., 0])


def test_straight_road_is_symmetric_and_converges_to_the_horizon() -> None:
    tex = track_texture(get_track("straight"))
    img = straight_frame()
    h, w = img.shape
    centre = (w - 1) / 2
    rows, lefts, rights = [], [], []
    for r in range(h):
        white = np.flatnonzero(img[r] > WHITE)
        left, right = white[white < centre], white[white > centre]
        if len(left) and len(right) and left[0] > 0 and right[-1] < w - 1:
            rows.append(r)
            lefts.append(left.mean())
            rights.append(right.mean())
    assert len(rows) >= 10
    lefts_a, rights_a = np.array(lefts), np.array(rights)
    # Both lines mirror each other about the image centre ...
    assert np.abs((lefts_a + rights_a) / 2 - centre).max() <= 0.5
    # ... and close in towards the horizon (up the image).
    gap = rights_a - lefts_a
    assert np.all(np.diff(gap) > 0)
    assert gap[0] < 0.5 * gap[-1]
    # The near road fills the bottom of the image ...
    road = levels_of(tex, sc.ROAD)
    bottom = img[-15:]
    assert abs(np.median(bottom) - level(tex, sc.ROAD)) <= 5
    assert road_mask(bottom[:, :30], tex).all() and road_mask(bottom[:, -30:], tex).all()
    assert road[-1] < levels_of(tex, sc.FIELD)[0]
    # ... the far east wall faces the lens, the sky is above it, and the side walls
    # close the view left (north) and right (south).
    assert (img[0, 70:90] == level(tex, sc.SKY)).all()
    assert (img[10:20, 70:90] == level(tex, sc.WALLS[1])).all()
    assert img[0, 0] == level(tex, sc.WALLS[3]) and img[0, -1] == level(tex, sc.WALLS[2])
    assert img.max() <= levels_of(tex, sc.LINE)[-1]


def first_rows(img: np.ndarray, texture: TrackTexture) -> tuple[int, int]:
    """The centre column's last sky row and last row of the (east) wall ahead."""
    col = img[:, img.shape[1] // 2]
    sky = np.flatnonzero(col == level(texture, sc.SKY))
    wall = np.flatnonzero(col == level(texture, sc.WALLS[1]))
    return int(sky.max()) if len(sky) else -1, int(wall.max())


def test_lens_height_and_pitch_move_the_picture() -> None:
    tex = track_texture(get_track("straight"))
    base = first_rows(straight_frame(), tex)
    steep = first_rows(straight_frame(pitch_deg=25.0), tex)
    high = first_rows(straight_frame(mount_height=0.25), tex)
    assert 20 < base[1] < 35  # the wall meets the floor just below the horizon
    # The horizon, and the wall with it, rises out of a steeper view ...
    assert steep[0] < base[0] and steep[1] < base[1] - 10
    # ... and a higher lens sees the floor meet the wall lower and over more of it.
    assert high[0] > base[0] and high[1] > base[1]


def road_centroid(img: np.ndarray, texture: TrackTexture) -> float:
    _, cols = np.nonzero(road_mask(img[40:], texture))
    return float(cols.mean())


@pytest.mark.parametrize("ndist", [0.15, 0.2])
def test_left_and_right_turns_mirror_each_other(ndist: float) -> None:
    # The oval runs counter-clockwise (left turns); reversed, the same place is a right
    # turn, and the oval is symmetric, so the frames are mirror images.
    frames = []
    for reverse in (False, True):
        world = {"track": "oval", "name": "oval", "reverse": reverse}
        env = RacingEnv({"world": world, "observation": "camera"})
        obs, _ = env.reset(seed=0, options={"start_ndist": ndist})
        frames.append(obs[..., 0])
    left, right = frames
    centre = (left.shape[1] - 1) / 2
    tex = track_texture(get_track("oval"))
    assert road_centroid(left, tex) < centre - 2 < centre + 2 < road_centroid(right, tex)
    wl, wr = left > WHITE, np.fliplr(right > WHITE)
    assert wl.sum() > 100
    assert (wl & wr).sum() / (wl | wr).sum() > 0.8


def test_stereo_lenses_see_the_road_shifted() -> None:
    env = RacingEnv({"world": "straight", "observation": "stereo_camera"})
    obs, _ = env.reset(seed=0, options={"start_ndist": 0.1})
    left, right = obs[..., 0], obs[..., 1]
    assert not np.array_equal(left, right)
    tex = track_texture(get_track("straight"))
    # The left lens sits left of the centre line, so the road appears right of centre.
    assert road_centroid(left, tex) > road_centroid(right, tex) + 2
    # On the centre line of a straight the two views mirror each other (the texture's
    # grain and the north and south walls' shades are not mirrored, the shapes are).
    for mask in (lambda im: im > WHITE, lambda im: road_mask(im, tex)):
        a, b = mask(left), np.fliplr(mask(right))
        assert a.sum() > 500
        assert (a & b).sum() / (a | b).sum() > 0.98


def test_frame_stack_fills_on_reset_and_shifts() -> None:
    env = RacingEnv({"world": "oval", "observation": "stereo_camera", "camera": {"frame_stack": 3}})
    obs, _ = env.reset(seed=0)
    assert obs.shape == (120, 160, 6)
    for k in range(1, 3):
        assert np.array_equal(obs[..., 2 * k : 2 * k + 2], obs[..., 0:2])
    prev = obs
    for _ in range(4):
        obs, *_ = env.step(env.action_space.sample())
        assert np.array_equal(obs[..., :4], prev[..., 2:])
        prev = obs
    assert not np.array_equal(obs[..., 4:], obs[..., :2])
    obs.fill(0)  # the returned array is the caller's
    again, *_ = env.step(env.action_space.sample())
    assert again[..., :4].any()


def first_frame(world: dict[str, Any], seed: int = 0) -> tuple[np.ndarray, RacingEnv]:
    env = RacingEnv({"world": world, "observation": "camera"})
    obs, _ = env.reset(seed=seed, options={"start_ndist": 0.3})
    return np.asarray(obs[..., 0]), env


def test_floor_material_changes_only_the_field() -> None:
    base, env = first_frame({"track": "oval", "name": "oval"})
    wood, _ = first_frame({"track": "oval", "name": "oval", "surface": {"material": "wood"}})
    # Which pixels see some field: the env's rays, drawn with a table that marks it.
    cfg = CameraConfig()
    rays = ground_rays(
        cfg,
        height=cfg.mount_height,
        pitch_rad=math.radians(cfg.pitch_deg),
        supersample=cfg.supersample,
        max_distance=cfg.view_distance,
    )
    marks = np.where(np.arange(256) // sc.LEVELS == sc.FIELD, 255, 0).astype(np.uint8)
    car = env.car_view()
    seen = render(track_texture(get_track("oval")), rays, car.origin, car.yaw, marks)
    some, only = seen > 0, seen == 255
    assert only.sum() > 1000 and (~some).sum() > 1000
    # The road, its lines, the walls and the sky are the same on every floor ...
    assert np.array_equal(base[~some], wood[~some])
    # ... the field is the material's (grass at 129, wood panels at 85).
    assert np.abs(base[only].astype(int) - wood[only]).mean() > 20


def test_camera_jitter_changes_the_frames() -> None:
    jitter = {"camera_height_jitter": 0.02, "camera_pitch_jitter_deg": 3.0}
    shaky = [first_frame(noisy_oval(**jitter), seed)[0] for seed in (1, 2)]
    assert not np.array_equal(shaky[0], shaky[1])
    assert not np.array_equal(shaky[0], first_frame(noisy_oval(), 1)[0])


def test_part_colors_noise_and_lighting_are_deterministic_per_seed() -> None:
    world = noisy_oval(
        part_colors=0.3, pixel_noise_std=3.0, brightness=[0.7, 1.3], gamma=[0.8, 1.2]
    )
    a, b = rollout(world, 5, steps=5), rollout(world, 5, steps=5)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    c = rollout(world, 6, steps=5)
    assert all(not np.array_equal(x, y) for x, y in zip(a, c, strict=True))
    assert not np.array_equal(a[0], rollout(noisy_oval(), 5, steps=0)[0])


def straight_episodes(part_colors: float, n: int = 6) -> list[np.ndarray]:
    """First frames of n episodes at the same pose on the straight."""
    world = {"track": "straight", "name": "straight", "randomization": {"part_colors": part_colors}}
    env = RacingEnv({"world": world, "observation": "camera"})
    frames = [env.reset(seed=0, options={"start_ndist": 0.1})[0][..., 0]]
    frames += [env.reset(options={"start_ndist": 0.1})[0][..., 0] for _ in range(n - 1)]
    return [np.asarray(f) for f in frames]


def test_part_colors_change_each_parts_grey_level_per_episode() -> None:
    tex = track_texture(get_track("straight"))
    steady = straight_episodes(0.0, n=3)
    assert all(np.array_equal(steady[0], f) for f in steady[1:])
    frames = straight_episodes(0.3)
    near_road = (slice(-15, None), slice(0, 30))  # only road there (see above)
    sky = (0, slice(70, 90))
    roads = np.array([f[near_road].mean() for f in frames])
    skies = np.array([f[sky].mean() for f in frames])
    nominal_road = steady[0][near_road].mean()
    assert len(set(roads.round(3))) == len(frames)  # a new road colour every episode ...
    assert len(set(skies.round(3))) == len(frames)  # ... and a new sky
    assert np.abs(roads / nominal_road - 1.0).max() > 0.05
    # Each channel varies by at most 30 %, so does the grey level.
    assert (roads / nominal_road > 0.68).all() and (roads / nominal_road < 1.32).all()
    assert (skies / level(tex, sc.SKY) > 0.69).all() and (skies / level(tex, sc.SKY) < 1.31).all()
    # A colour, not noise: every road pixel of a frame scales alike.
    for f in frames:
        ratio = f[near_road] / steady[0][near_road]
        assert ratio.std() < 0.03
    # The picture's geometry stays: where the sky and the east wall were, each frame
    # shows one level per part.
    for part in (sc.SKY, sc.WALLS[1]):
        where = steady[0] == level(tex, part)
        assert where.sum() > 100
        assert all(len(np.unique(f[where])) == 1 for f in frames)


# -- objects --------------------------------------------------------------------------


def car_view(x: float, y: float, yaw: float, objects: tuple[SceneObject, ...] = ()) -> CarView:
    """The car with its origin at (x, y) on the straight, heading ``yaw``."""
    track = get_track("straight")
    vehicle = resolve_vehicle(None)
    (ox, oy), (mx, my), _ = car_points(0.0, 0.0, yaw, vehicle)
    return CarView(
        track=track,
        x=x - ox,
        y=y - oy,
        yaw=yaw,
        speed=0.0,
        steering=0.0,
        steering_cmd=0.0,
        origin=(x, y),
        where=track.locate((x - ox + mx, y - oy + my)),
        vehicle=vehicle,
        objects=objects,
    )


def obstacle_world(**obstacles: Any) -> WorldConfig:
    return replace(
        load_world("straight"),
        race_type="OBJECT_AVOIDANCE",
        object_avoidance=ObjectAvoidanceConfig(**obstacles),
    )


BOX_AHEAD = SceneObject(2.0, 0.0, 0.0, "obstacle", BOX_FOOTPRINT, OBSTACLE_Z)
"""A box obstacle 1 m ahead of a car at (1, 0) heading +x."""


def test_the_camera_draws_obstacles_under_the_episodes_lighting() -> None:
    cam = CameraObservation(CameraConfig(supersample=1))
    level = int(object_boxes([BOX_AHEAD]).levels[0, ob.BACK])  # the face towards the car
    for variation in (
        EpisodeVariation(friction=1.0),
        EpisodeVariation(friction=1.0, brightness=1.4, contrast=1.1, gamma=0.8),
    ):
        cam.reset(obstacle_world(), variation, None)
        plain = cam.observe(car_view(1.0, 0.0, 0.0))[..., 0]
        boxed = cam.observe(car_view(1.0, 0.0, 0.0, (BOX_AHEAD,)))[..., 0]
        again = cam.observe(car_view(1.0, 0.0, 0.0, (BOX_AHEAD,)))[..., 0]
        assert np.array_equal(again, boxed)
        drawn = boxed != plain
        assert drawn.sum() > 1500
        assert drawn[:, 70:90].all(axis=1).sum() > 30  # a solid block in the middle
        lighting = lighting_table(variation.brightness, variation.contrast, variation.gamma)
        expected = level if lighting is None else int(lighting[level])
        assert np.all(boxed[drawn] == expected)
    assert expected != level  # the lighting changed the box too


def test_stereo_cameras_see_an_obstacle_with_parallax() -> None:
    cam = StereoCameraObservation(CameraConfig(supersample=1))
    cam.reset(obstacle_world(), EpisodeVariation(friction=1.0), None)
    plain = cam.observe(car_view(1.0, 0.0, 0.0))
    boxed = cam.observe(car_view(1.0, 0.0, 0.0, (BOX_AHEAD,)))
    centres = []
    for lens in (0, 1):  # left, right
        cols = np.nonzero((boxed[..., lens] != plain[..., lens]).any(axis=0))[0]
        centres.append(0.5 * (cols[0] + cols[-1]))
    # The right lens sees the box further left: 0.06 m at 0.655 m, about 11.5 px.
    assert centres[0] - centres[1] == pytest.approx(11.5, abs=1.5)


def test_the_worlds_obstacle_type_picks_the_look() -> None:
    # Facing -x, the car sees the obstacles' sunlit faces.
    cam = CameraObservation(CameraConfig(supersample=1))
    box = SceneObject(4.0, 0.0, math.pi, "obstacle", BOX_FOOTPRINT, OBSTACLE_Z)
    car = SceneObject(4.0, 0.0, math.pi, "obstacle", BOT_CAR_FOOTPRINT, BOT_CAR_Z)
    seen = {}
    for name, obstacles, scene_object in (
        ("box_obstacle", {}, box),
        ("amazon_box_obstacle", {"obstacle_type": "amazon_box_obstacle"}, box),
        ("deepracer_box_obstacle", {"obstacle_type": "deepracer_box_obstacle"}, box),
        ("bot_car", {"is_obstacle_bot_car": True}, car),
    ):
        cam.reset(obstacle_world(**obstacles), EpisodeVariation(friction=1.0), None)
        plain = cam.observe(car_view(5.0, 0.0, math.pi))[..., 0]
        img = cam.observe(car_view(5.0, 0.0, math.pi, (scene_object,)))[..., 0]
        drawn = img != plain
        seen[name] = (int(drawn.sum()), float(img[drawn].mean()))
    assert seen["amazon_box_obstacle"][1] > seen["box_obstacle"][1] + 20
    assert seen["box_obstacle"][1] > seen["deepracer_box_obstacle"][1] + 5
    assert seen["box_obstacle"][1] > seen["bot_car"][1] + 5
    # The car is narrower and lower than the boxes.
    assert seen["bot_car"][0] < 0.8 * seen["box_obstacle"][0]
