"""Tests for ``deepracer.envs.compare`` and ``deepracer camera compare``.

The reference frames are synthetic: our own camera at 640 x 480 and a known pose,
saved as a BGR PNG, so the car's preprocessing brings them back to (nearly) our
160 x 120 render and the search must find that pose again.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from deepracer.cli import main
from deepracer.envs.camera import CameraConfig
from deepracer.envs.compare import match, real_frame, render_pose, search_pose, side_by_side
from deepracer.errors import DeepRacerError
from deepracer.tracks import get_track

cv2 = pytest.importorskip("cv2")
pytest.importorskip("skimage")

WORLD = "reinvent_base"
# A coarse grid keeps a search to a few seconds; the beam still finds the pose.
COARSE = {"station_step": 0.25, "lateral_step": 0.25, "heading_step_deg": 15.0}


def _pose(s: float, lateral: float, turn_deg: float) -> tuple[float, float, float]:
    """A pose ``lateral`` m left of the centre line at arc length s, turned from it."""
    x, y, heading = get_track(WORLD).pose_at(s)
    yaw = math.remainder(heading + math.radians(turn_deg), math.tau)
    return x - lateral * math.sin(heading), y + lateral * math.cos(heading), yaw


def _camera_png(path: Path, pose: tuple[float, float, float]) -> Path:
    """Writes the 640 x 480 BGR frame our camera sees at ``pose``, as the simulator's."""
    big = replace(CameraConfig(), width=640, height=480)
    grey = render_pose(WORLD, *pose, camera=big)
    assert cv2.imwrite(str(path), np.repeat(grey[..., None], 3, axis=2))
    return path


@pytest.fixture(scope="module")
def frame_png(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[float, float, float]]:
    pose = _pose(3.3, -0.15, -20.0)
    return _camera_png(tmp_path_factory.mktemp("frames") / "frame.png", pose), pose


def test_the_cars_preprocessing_of_our_frame_is_our_small_render(
    frame_png: tuple[Path, tuple[float, float, float]],
) -> None:
    path, pose = frame_png
    frame = real_frame(path)
    assert frame.shape == (120, 160) and frame.dtype == np.uint8
    render = render_pose(WORLD, *pose)
    assert render.shape == (120, 160) and render.dtype == np.uint8
    assert np.array_equal(render, render_pose(WORLD, *pose))  # no noise
    scores = match(frame, render)
    assert scores.mae < 2.0 and scores.ssim > 0.95
    assert match(render, render).mae == 0.0 and match(render, render).ssim == pytest.approx(1.0)


@pytest.mark.slow  # for time: hundreds of renders (the CLI test below searches too)
def test_search_pose_finds_the_pose_a_frame_was_taken_at(
    frame_png: tuple[Path, tuple[float, float, float]],
) -> None:
    path, (x, y, yaw) = frame_png
    found = search_pose(real_frame(path), WORLD, max_heading_deg=30.0, beam=600, **COARSE)
    assert math.hypot(found.x - x, found.y - y) < 0.02
    assert abs(math.degrees(math.remainder(found.yaw - yaw, math.tau))) < 1.0
    assert found.mae < 2.0 and found.ssim > 0.95
    assert np.array_equal(found.render, render_pose(WORLD, found.x, found.y, found.yaw))


def test_an_alpha_channel_is_dropped(tmp_path: Path) -> None:
    bgr = np.zeros((48, 64, 3), dtype=np.uint8)
    bgr[:, :32] = (255, 0, 0)  # blue left half
    bgra = np.dstack([bgr, np.full((48, 64), 255, dtype=np.uint8)])
    cv2.imwrite(str(tmp_path / "bgr.png"), bgr)
    cv2.imwrite(str(tmp_path / "bgra.png"), bgra)
    frame = real_frame(tmp_path / "bgra.png")
    assert np.array_equal(frame, real_frame(tmp_path / "bgr.png"))
    assert frame[0, 0] == 29 and frame[0, -1] == 0  # BGR2GRAY weighs blue 0.114


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.png", None, "no such file"),
        ("text.png", b"not a picture", "not an image file OpenCV can read"),
        (
            "grey.png",
            "grey",
            r"a camera frame is 8-bit BGR \(3 channels\), this image has 1 channel",
        ),
    ],
)
def test_a_frame_that_is_not_a_colour_image_is_named(
    tmp_path: Path, name: str, content: bytes | str | None, message: str
) -> None:
    path = tmp_path / name
    if content == "grey":
        cv2.imwrite(str(path), np.zeros((48, 64), dtype=np.uint8))
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(DeepRacerError, match=rf"{re.escape(str(path))}: {message}"):
        real_frame(path)


def test_frames_of_different_sizes_are_refused() -> None:
    with pytest.raises(DeepRacerError, match="same size"):
        match(np.zeros((120, 160), np.uint8), np.zeros((60, 80), np.uint8))


def test_side_by_side_writes_three_upscaled_panels_and_a_label_row(tmp_path: Path) -> None:
    frame = np.full((120, 160), 200, dtype=np.uint8)
    render = np.full((120, 160), 50, dtype=np.uint8)
    path = side_by_side(frame, render, tmp_path / "pair.png")
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert image.shape == (24 + 360, 3 * 480)
    body = image[24:]
    assert (body[:, :480] == 200).all() and (body[:, 480:960] == 50).all()
    assert (body[:, 960:] == 150).all()  # |200 - 50|
    assert image[:24].max() == 255  # the labels


def test_the_cli_prints_the_pose_and_scores_and_writes_the_png(
    frame_png: tuple[Path, tuple[float, float, float]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, (x, y, _) = frame_png
    out = tmp_path / "out"
    argv = ["camera", "compare", str(path), "--world", WORLD, "--out", str(out)]
    assert main([*argv, "--step", "0.25", "--heading-step", "15"]) == 0
    printed = capsys.readouterr().out
    line = re.search(
        r"frame\.png: x (\S+) m, y (\S+) m, yaw (\S+) deg; MAE (\S+), SSIM (\S+) \((\S+) s\)"
        r" -> (.+)$",
        printed,
        re.MULTILINE,
    )
    assert line is not None, printed
    assert math.hypot(float(line[1]) - x, float(line[2]) - y) < 0.05
    assert float(line[4]) < 2.0 and float(line[5]) > 0.95
    assert Path(line[7]) == out / "frame.png" and (out / "frame.png").is_file()


def test_the_cli_checks_every_frame_before_searching(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.png"
    assert main(["camera", "compare", str(missing), "--out", str(tmp_path / "out")]) == 2
    assert f"error: {missing}: no such file" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
