"""Camera observations in the env: spaces, determinism, geometry, stacking, randomisation."""

from __future__ import annotations

import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import deepracer
from deepracer.envs import RacingEnv
from deepracer.envs.camera import CameraConfig, CameraObservation, StereoCameraObservation
from deepracer.rendering.camera import LINE_LEVEL, ROAD_LEVEL

gym.register_envs(deepracer)

WHITE = 200  # border lines are 235; nothing else in a base-floor frame is this bright


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
    # The near road fills the bottom of the image, the sky the top.
    bottom = img[-15:]
    assert np.median(bottom) == ROAD_LEVEL
    assert (bottom[:, :30] == ROAD_LEVEL).all() and (bottom[:, -30:] == ROAD_LEVEL).all()
    assert (img[:20] == img[0, 0]).all() and img[0, 0] > ROAD_LEVEL
    assert img.max() <= LINE_LEVEL


def test_lens_height_and_pitch_move_the_picture() -> None:
    base = straight_frame()
    steep = straight_frame(pitch_deg=25.0)
    first_sky = [int(np.argmax(np.any(im != im[0, 0], axis=1))) for im in (base, steep)]
    assert first_sky[1] < first_sky[0]  # the horizon rises out of a steeper view


def road_centroid(img: np.ndarray) -> float:
    _, cols = np.nonzero(img[40:] < 70)
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
    assert road_centroid(left) < centre - 2 < centre + 2 < road_centroid(right)
    wl, wr = left > WHITE, np.fliplr(right > WHITE)
    assert wl.sum() > 100
    assert (wl & wr).sum() / (wl | wr).sum() > 0.8


def test_stereo_lenses_see_the_road_shifted() -> None:
    env = RacingEnv({"world": "straight", "observation": "stereo_camera"})
    obs, _ = env.reset(seed=0, options={"start_ndist": 0.1})
    left, right = obs[..., 0], obs[..., 1]
    assert not np.array_equal(left, right)
    # The left lens sits left of the centre line, so the road appears right of centre.
    assert road_centroid(left) > road_centroid(right)
    # On the centre line of a straight the two views mirror each other.
    assert (left != np.fliplr(right)).mean() < 0.02


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


def test_floor_material_and_camera_jitter_change_the_frames() -> None:
    def first_frame(world: dict[str, Any], seed: int = 0) -> np.ndarray:
        env = RacingEnv({"world": world, "observation": "camera"})
        obs, _ = env.reset(seed=seed, options={"start_ndist": 0.3})
        return np.asarray(obs)

    base = first_frame({"track": "oval", "name": "oval"})
    wood = first_frame({"track": "oval", "name": "oval", "surface": {"material": "wood"}})
    assert not np.array_equal(base, wood)
    road = base == ROAD_LEVEL
    assert np.array_equal(base[road], wood[road])  # the road itself is the same
    jitter = {"camera_height_jitter": 0.02, "camera_pitch_jitter_deg": 3.0}
    shaky = [first_frame(noisy_oval(**jitter), seed) for seed in (1, 2)]
    assert not np.array_equal(shaky[0], shaky[1])
    assert not np.array_equal(shaky[0], first_frame(noisy_oval(), 1))
