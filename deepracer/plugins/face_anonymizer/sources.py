"""Test pictures: images bundled with scikit-image, a grid of LFW faces, or files.

Only pictures inside the scikit-image wheel are offered by name (the others in
``skimage.data`` are downloaded on first use, and runs here stay offline). Of those,
``astronaut`` (a frontal portrait) and ``camera`` (a man in half profile) have
faces; ``coffee``, ``chelsea`` (a cat), ``rocket``, ``coins`` and the rest have none,
though a cascade may see a false face in some of them. ``lfw_grid`` is a 3 x 3 grid
of the first nine Labeled-Faces-in-the-Wild crops from ``skimage.data.lfw_subset()``
(all faces), each 25 x 25 pixels upscaled to 100 x 100: nine faces whose positions
are known. ``NAME:jpeg`` sends a bundled picture as JPEG instead of PNG.

Contents:
    BUNDLED: the scikit-image picture names that ship in the wheel.
    LFW_GRID, LFW_FACES: the grid's name and its number of faces.
    Source: one named picture as encoded bytes.
    load_source: a name or a path to a Source.
    lfw_grid: the LFW grid as an array.
    grid_cells_found: how many of the grid's cells hold a detected face.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deepracer.errors import ConfigError, DeepRacerError

__all__ = [
    "BUNDLED",
    "LFW_FACES",
    "LFW_GRID",
    "Source",
    "grid_cells_found",
    "lfw_grid",
    "load_source",
]

BUNDLED = (
    "astronaut",
    "brick",
    "camera",
    "cat",
    "cell",
    "chelsea",
    "clock",
    "coffee",
    "coins",
    "grass",
    "gravel",
    "horse",
    "hubble_deep_field",
    "immunohistochemistry",
    "logo",
    "microaneurysms",
    "moon",
    "page",
    "retina",
    "rocket",
    "text",
)
"""scikit-image pictures whose files ship in the wheel (no download)."""

JPEG_SOURCE_QUALITY = 90
"""Quality of the ``NAME:jpeg`` test pictures."""
LFW_GRID = "lfw_grid"
LFW_FACES = 9
LFW_CELL = 100


@dataclass(frozen=True)
class Source:
    """One input picture.

    Attributes:
        name: A label for outputs (the scikit-image name or the file stem).
        data: Encoded bytes (PNG for scikit-image pictures, the file's own bytes
            for files).
        origin: Where it came from, for the report.
    """

    name: str
    data: bytes
    origin: str


def _skimage(module: str) -> Any:
    """A scikit-image module, or a DeepRacerError saying how to install it."""
    try:
        return importlib.import_module(f"skimage.{module}")
    except ImportError:
        raise DeepRacerError(
            "the bundled test pictures need scikit-image: pip install 'deepracer[faces]'"
            " (or list image files under images)"
        ) from None


def lfw_grid() -> np.ndarray[Any, Any]:
    """The 300 x 300 gray grid of nine LFW face crops (see the module docstring)."""
    from PIL import Image

    data = _skimage("data")
    crops = np.clip(data.lfw_subset()[:LFW_FACES], 0.0, 1.0)
    tiles = [
        np.asarray(
            Image.fromarray(np.rint(c * 255).astype(np.uint8)).resize(
                (LFW_CELL, LFW_CELL), Image.Resampling.BICUBIC
            )
        )
        for c in crops
    ]
    rows = [np.hstack(tiles[i : i + 3]) for i in range(0, LFW_FACES, 3)]
    return np.vstack(rows)


def grid_cells_found(faces: list[Any]) -> int:
    """Grid cells of :func:`lfw_grid` whose centre region holds a face box's centre."""
    cells = set()
    for box in faces:
        cx, cy = box.x + box.w // 2, box.y + box.h // 2
        cells.add((cy // LFW_CELL, cx // LFW_CELL))
    return len(cells)


def _as_uint8(value: Any) -> np.ndarray[Any, Any]:
    array: np.ndarray[Any, Any] = np.asarray(value)
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    if array.dtype != np.uint8:
        util = _skimage("util")
        return np.asarray(util.img_as_ubyte(array))
    return array


def load_source(name: str, where: str = "images") -> Source:
    """A scikit-image picture name, ``lfw_grid``, or an image file path, as bytes.

    ``NAME:jpeg`` encodes a bundled picture as JPEG (quality 90) instead of PNG.

    Args:
        name: The configured entry.
        where: The config field, for error messages.

    Raises:
        ConfigError: Neither a known name nor a readable file.
    """
    from deepracer.plugins.face_anonymizer.anonymize import encode_image

    base, _, codec = name.partition(":")
    if base == LFW_GRID or base in BUNDLED:
        if codec not in ("", "jpeg"):
            raise ConfigError(f"{where}: {name!r}: the only suffix is ':jpeg', got {codec!r}")
        if base == LFW_GRID:
            array, origin = lfw_grid(), "skimage.data.lfw_subset()[:9] as a 3 x 3 grid"
        else:
            data = _skimage("data")
            array, origin = _as_uint8(getattr(data, base)()), f"skimage.data.{base}()"
        if codec == "jpeg":
            jpeg = encode_image(array, "JPEG", jpeg_quality=JPEG_SOURCE_QUALITY)
            return Source(f"{base}_jpeg", jpeg, f"{origin}, JPEG quality {JPEG_SOURCE_QUALITY}")
        return Source(base, encode_image(array), f"{origin}, PNG")
    path = Path(name).expanduser()
    if not path.is_file():
        raise ConfigError(
            f"{where}: {name!r} is neither a file nor a bundled picture ({LFW_GRID},"
            f" {', '.join(BUNDLED)})"
        )
    try:
        data_bytes = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {path} ({exc.strerror})") from None
    return Source(path.stem, data_bytes, str(path))
