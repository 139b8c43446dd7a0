"""Writing videos, and the ``deepracer render`` command on a tiny trained model."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deepracer.cli import main
from deepracer.errors import DeepRacerError
from deepracer.rendering.video import write_video

HAS_FFMPEG = importlib.util.find_spec("imageio_ffmpeg") is not None


def frames(count: int, height: int = 48, width: int = 64) -> list[np.ndarray]:
    """Distinct frames: a bright column moving right over a dark gradient."""
    out = []
    for i in range(count):
        image = np.zeros((height, width, 3), dtype=np.uint8)
        image[:, :, 2] = np.linspace(0, 120, width, dtype=np.uint8)
        image[:, (4 * i) % width] = (250, 240, 10)
        out.append(image)
    return out


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# -- write_video ------------------------------------------------------------------------


def test_gif_round_trip(tmp_path: Path) -> None:
    source = frames(12)
    out = write_video(iter(source), tmp_path / "sub" / "clip.gif", fps=15)
    assert out == tmp_path / "sub" / "clip.gif"
    with Image.open(out) as gif:
        assert gif.n_frames == 12 and gif.size == (64, 48)
        delays = []
        for i in range(gif.n_frames):
            gif.seek(i)
            delays.append(gif.info["duration"])
            back = np.asarray(gif.convert("RGB")).astype(int)
            assert np.abs(back - source[i]).max() <= 16  # palette quantisation
    assert set(delays) <= {60, 70} and sum(delays) == 800  # 12 frames at 15 fps
    assert leftovers(out.parent) == []


def test_gif_reads_back_with_imageio(tmp_path: Path) -> None:
    iio = pytest.importorskip("imageio.v3", reason="imageio is not installed")
    out = write_video(frames(5), tmp_path / "clip.gif")
    assert iio.imread(out, index=None).shape == (5, 48, 64, 3)


def test_grey_frames(tmp_path: Path) -> None:
    grey = [np.full((20, 30), 10 * i, dtype=np.uint8) for i in range(4)]
    with Image.open(write_video(grey, tmp_path / "grey.gif", fps=10)) as gif:
        assert gif.n_frames == 4 and gif.size == (30, 20)


@pytest.mark.skipif(not HAS_FFMPEG, reason="imageio-ffmpeg is not installed")
@pytest.mark.parametrize(("height", "width"), [(48, 64), (49, 65)])
def test_mp4_round_trip(tmp_path: Path, height: int, width: int) -> None:
    import imageio_ffmpeg

    out = write_video(frames(20, height, width), tmp_path / "clip.mp4", fps=15)
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    # Odd sizes are padded by one pixel: H.264 in yuv420p needs even ones.
    assert tuple(meta["size"]) == (width + width % 2, height + height % 2)
    assert meta["fps"] == pytest.approx(15.0)
    assert sum(1 for _ in reader) == 20
    assert leftovers(tmp_path) == []


def test_mp4_without_ffmpeg_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # import raises ImportError
    consumed: list[int] = []

    def lazy() -> Iterator[np.ndarray]:
        consumed.append(1)
        yield from frames(2)

    with pytest.raises(DeepRacerError, match=r"deepracer\[video\]"):
        write_video(lazy(), tmp_path / "clip.mp4")
    assert consumed == []  # the check comes before any frame is made
    assert list(tmp_path.iterdir()) == []


def test_unsupported_suffix(tmp_path: Path) -> None:
    with pytest.raises(DeepRacerError, match=r"\.gif"):
        write_video(frames(2), tmp_path / "clip.avi")


def test_bad_frames(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no frames"):
        write_video([], tmp_path / "a.gif")
    with pytest.raises(ValueError, match="differs"):
        write_video([*frames(2), *frames(1, 24, 32)], tmp_path / "b.gif")
    with pytest.raises(ValueError, match="uint8"):
        write_video([np.zeros((8, 8, 3))], tmp_path / "c.gif")
    with pytest.raises(ValueError, match="fps"):
        write_video(frames(2), tmp_path / "d.gif", fps=0)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    out = tmp_path / "clip.gif"
    out.write_bytes(b"old")

    def broken() -> Iterator[np.ndarray]:
        yield from frames(3)
        raise RuntimeError("the episode crashed")

    with pytest.raises(RuntimeError, match="crashed"):
        write_video(broken(), out)
    assert out.read_bytes() == b"old" and leftovers(tmp_path) == []


# -- deepracer render ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("stable_baselines3")
    from tests.training.test_trainer import tiny_run

    out = tmp_path_factory.mktemp("run") / "run"
    tiny_run(out)
    return out


def test_render_writes_a_gif(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "lap.gif"
    assert main(["render", str(run_dir), "--out", str(out), "--max-steps", "60"]) == 0
    with Image.open(out) as gif:
        # One frame per step plus the start; Pillow merges identical neighbours (the
        # final step judges the pose without moving).
        assert 2 <= gif.n_frames <= 60 and gif.size == (640, 480)
    printed = capsys.readouterr().out
    assert "status:" in printed and "progress:" in printed and "lap time:" in printed
    assert str(out) in printed


def test_render_from_a_model_file(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "lap.gif"
    args = ["render", str(run_dir / "model.zip"), "--out", str(out), "--max-steps", "5"]
    assert main([*args, "--world", "kidney", "--fps", "10"]) == 0
    assert out.stat().st_size > 0


@pytest.mark.skipif(not HAS_FFMPEG, reason="imageio-ffmpeg is not installed")
def test_render_mp4_with_camera(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "lap.mp4"
    args = ["render", str(run_dir), "--out", str(out), "--max-steps", "10", "--camera"]
    assert main(args) == 0 and out.stat().st_size > 0


def test_render_missing_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(tmp_path / "nope"), "--out", str(tmp_path / "a.gif")]) == 2
    assert "no such run directory or model file" in capsys.readouterr().err
    assert main(["render", str(tmp_path), "--out", str(tmp_path / "a.gif")]) == 2
    assert "no best.zip, model.zip or checkpoints/latest.json" in capsys.readouterr().err
    assert not (tmp_path / "a.gif").exists()


def test_render_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(tmp_path), "--out", str(tmp_path / "a.avi")]) == 2
    assert ".gif or .mp4" in capsys.readouterr().err
    assert main(["render", str(tmp_path), "--out", "a.gif", "--max-steps", "0"]) == 2
    assert "--max-steps" in capsys.readouterr().err
