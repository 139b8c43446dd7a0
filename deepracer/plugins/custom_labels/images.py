"""Image files in and out: PNG/JPEG to grayscale arrays, arrays to PNG.

Rekognition Custom Labels takes PNG and JPEG only, so we read those two formats and
refuse the rest with one message that names the file, rather than a decoder's
traceback. Images become grayscale floats in [0, 1]: the local model works on
intensity only (see the plugin's report).

Contents:
    FORMATS: the accepted formats (Pillow's names).
    ImageFileError: a file that is missing or not a PNG/JPEG image.
    decode_image: image bytes to a grayscale array.
    load_image: an image file to a grayscale array.
    png_bytes: a grayscale array to PNG bytes, enlarged to a minimum side.
"""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from deepracer.errors import DeepRacerError

__all__ = ["FORMATS", "ImageFileError", "decode_image", "load_image", "png_bytes"]

FORMATS = ("PNG", "JPEG")
"""Formats Custom Labels trains on and detects in."""
_MAX_PIXELS = 100_000_000
# Pillow's decompression-bomb guard warns at ~89 Mpx; we refuse anything larger than
# this instead, with the file named.


class ImageFileError(DeepRacerError):
    """An image file is missing, unreadable or not a PNG/JPEG image."""


def decode_image(data: bytes, *, name: str, max_side: int | None = None) -> NDArray[np.float64]:
    """Decodes PNG or JPEG bytes into a grayscale array in [0, 1].

    Args:
        data: The file's bytes.
        name: Names the image in errors (its path or URI).
        max_side: Shrink (keeping the aspect ratio) so neither side exceeds this; a
            camera photo as float64 would otherwise take ~100 MB.

    Returns:
        ``(height, width)`` float64; colour is converted with ITU-R 601 luma (Pillow's
        ``L`` mode) and an alpha channel is dropped.

    Raises:
        ImageFileError: Not a PNG/JPEG image, or truncated/corrupt.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = image.format or "unknown"
                if kind not in FORMATS:
                    raise ImageFileError(
                        f"{name}: a {kind} image; expected PNG or JPEG (the formats Custom"
                        " Labels takes)"
                    )
                if image.width * image.height > _MAX_PIXELS:
                    raise ImageFileError(
                        f"{name}: {image.width} x {image.height} pixels is too large"
                        f" (at most {_MAX_PIXELS} pixels)"
                    )
                if max_side is not None and max(image.size) > max_side:
                    image.draft("L", (max_side, max_side))  # JPEG: decode at a lower scale
                gray = image.convert("L")
                if max_side is not None and max(gray.size) > max_side:
                    gray.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
                gray.load()
    except UnidentifiedImageError:
        raise ImageFileError(
            f"{name}: not an image (neither PNG nor JPEG could be read from its {len(data)} bytes)"
        ) from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageFileError(f"{name}: corrupt or truncated image ({exc})") from None
    except Image.DecompressionBombWarning:
        raise ImageFileError(f"{name}: too many pixels to decode safely") from None
    return np.asarray(gray, dtype=np.float64) / 255.0


def load_image(path: str | Path, *, max_side: int | None = None) -> NDArray[np.float64]:
    """Reads a PNG or JPEG file into a grayscale array in [0, 1].

    Args:
        path: The file.
        max_side: See :func:`decode_image`.

    Raises:
        ImageFileError: The file is missing or unreadable, or not a PNG/JPEG image;
            the message names the file.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageFileError(f"{path}: image file not found") from None
    except IsADirectoryError:
        raise ImageFileError(f"{path}: is a folder; expected an image file") from None
    except OSError as exc:
        raise ImageFileError(f"{path}: cannot read image ({exc.strerror})") from None
    return decode_image(data, name=str(path), max_side=max_side)


def png_bytes(image: NDArray[np.floating] | NDArray[np.integer], *, min_side: int = 1) -> bytes:
    """Encodes a grayscale image as an 8-bit PNG.

    Args:
        image: ``(height, width)``; floats are taken as [0, 1], integers as 0..255.
        min_side: The shorter side is enlarged by a whole factor (nearest neighbour, so
            pixels stay crisp) to at least this many pixels. Custom Labels refuses very
            small images; 8 x 8 digits go up as 64 x 64.
    """
    from PIL import Image

    array = np.asarray(image)
    if np.issubdtype(array.dtype, np.floating):
        array = np.clip(np.rint(array * 255.0), 0, 255)
    pixels = array.astype(np.uint8)
    factor = max(1, math.ceil(min_side / max(1, min(pixels.shape[:2]))))
    if factor > 1:
        pixels = np.kron(pixels, np.ones((factor, factor), dtype=np.uint8))
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
