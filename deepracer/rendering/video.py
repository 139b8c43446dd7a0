"""Writing frames to an animated GIF or an MP4 video.

GIFs are written with Pillow (a dependency of matplotlib, so always installed); MP4s
with the ffmpeg binary that the ``imageio-ffmpeg`` wheel ships (``pip install
'deepracer[video]'``). Frames are consumed one at a time, so an iterator of frames
never needs a whole episode of RGB images in memory: an MP4 streams them to ffmpeg,
a GIF keeps each as 8-bit palette image (a quarter of the RGB size). Either file is
written to a temporary file in the target directory and renamed into place, so a
reader never sees a half-written video.

Contents:
    write_video: write frames to ``.gif`` or ``.mp4``.
    VIDEO_SUFFIXES: the supported file suffixes.
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
from numpy.typing import NDArray

from deepracer.errors import DeepRacerError
from deepracer.io import atomic_path

__all__ = ["VIDEO_SUFFIXES", "write_video"]

VIDEO_SUFFIXES = (".gif", ".mp4")

_INSTALL_HINT = "pip install 'deepracer[video]'"


def write_video(frames: Iterable[NDArray[np.uint8]], path: str | Path, fps: float = 15) -> Path:
    """Writes frames to an animated GIF or an MP4 video, atomically.

    Args:
        frames: (H, W, 3) RGB or (H, W) grey uint8 images, all of one size; any
            iterable, consumed once.
        path: The output file; its suffix (``.gif`` or ``.mp4``) picks the format.
            Missing parent directories are created.
        fps: Frames per second. A GIF stores delays in hundredths of a second, so
            its per-frame delays alternate to keep the average rate.

    Returns:
        The path written.

    Raises:
        DeepRacerError: An unsupported suffix, or ``imageio-ffmpeg`` missing for
            ``.mp4`` (the message says what to install).
        ValueError: No frames, frames of different sizes or not uint8, or fps <= 0.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise DeepRacerError(
            f"cannot write a video to {path}: the suffix must be one of {', '.join(VIDEO_SUFFIXES)}"
        )
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    # Fail before any frame is made (an episode may be driven to produce them).
    ffmpeg = _import_ffmpeg() if suffix == ".mp4" else None
    with atomic_path(path, suffix=suffix) as tmp:  # the encoder picks its format by suffix
        checked = _checked(frames)
        if ffmpeg is not None:
            _write_mp4(checked, tmp, fps, ffmpeg)
        else:
            _write_gif(checked, tmp, fps)
    return path


def _import_ffmpeg() -> ModuleType:
    # imported by name: imageio-ffmpeg has no type information, and the module
    # object's attributes are then Any to mypy instead of an untyped import.
    try:
        return importlib.import_module("imageio_ffmpeg")
    except ImportError:
        raise DeepRacerError(
            f"writing .mp4 needs imageio-ffmpeg, which is not installed: {_INSTALL_HINT}"
            " (or write a .gif, which needs nothing extra)"
        ) from None


def _checked(frames: Iterable[NDArray[np.uint8]]) -> Iterator[NDArray[np.uint8]]:
    """Yields the frames as (H, W, 3) uint8 arrays, checking they match the first."""
    shape: tuple[int, ...] | None = None
    for index, frame in enumerate(frames):
        image = np.asarray(frame)
        if image.dtype != np.uint8 or image.ndim not in (2, 3):
            raise ValueError(
                f"frame {index}: expected an (H, W, 3) or (H, W) uint8 image,"
                f" got {image.dtype} {image.shape}"
            )
        if image.ndim == 2:
            image = np.repeat(image[:, :, None], 3, axis=2)
        if image.shape[2] != 3:
            raise ValueError(f"frame {index}: expected 3 channels, got shape {image.shape}")
        if shape is None:
            shape = image.shape
        elif image.shape != shape:
            raise ValueError(f"frame {index}: shape {image.shape} differs from the first {shape}")
        yield image
    if shape is None:
        raise ValueError("no frames to write")


def _gif_delays(count: int, fps: float) -> list[int]:
    """Per-frame delays [ms] in whole hundredths of a second that average 1/fps."""
    # Frame i starts at round(i / fps) in centiseconds; a delay is the difference of
    # two starts, so rounding errors never add up. GIF viewers treat a 0 delay as
    # "as slow as they like", hence the 1 cs floor.
    starts = [round(100.0 * i / fps) for i in range(count + 1)]
    return [10 * max(b - a, 1) for a, b in itertools.pairwise(starts)]


def _write_gif(frames: Iterator[NDArray[np.uint8]], path: Path, fps: float) -> None:
    from PIL import Image

    # Each frame gets its own palette: a top-down frame has few colours, so the
    # quantisation is near exact. The fast octree method is about 7x faster than median
    # cut here and (without dithering) off by at most a few levels on blended edges.
    images = [
        Image.fromarray(frame).quantize(
            256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
        )
        for frame in frames
    ]
    images[0].save(
        path,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=_gif_delays(len(images), fps),
        loop=0,
    )


def _write_mp4(
    frames: Iterator[NDArray[np.uint8]], path: Path, fps: float, ffmpeg: ModuleType
) -> None:
    first = next(frames)
    height, width = first.shape[:2]
    # H.264 in yuv420p (the pixel format every player reads) needs even sizes: pad
    # with the edge pixels rather than let ffmpeg rescale the picture.
    pad = ((0, height % 2), (0, width % 2), (0, 0))
    writer = ffmpeg.write_frames(
        str(path),
        (width + width % 2, height + height % 2),
        fps=fps,
        codec="libx264",
        pix_fmt_out="yuv420p",
        quality=7,
        macro_block_size=1,
        ffmpeg_log_level="error",
        output_params=["-movflags", "+faststart"],
    )
    writer.send(None)  # start the generator (and the ffmpeg process)
    try:
        for frame in _chain(first, frames):
            data = np.pad(frame, pad, mode="edge") if any(p[1] for p in pad) else frame
            writer.send(np.ascontiguousarray(data))
    finally:
        writer.close()


def _chain(
    first: NDArray[np.uint8], rest: Iterator[NDArray[np.uint8]]
) -> Iterator[NDArray[np.uint8]]:
    yield first
    yield from rest
