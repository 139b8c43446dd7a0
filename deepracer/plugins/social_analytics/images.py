"""Photo bytes by file name, and local face detection with the face_anonymizer plugin.

No image is downloaded. A photo's file name (the last part of its ``media_url_https``)
is looked up in an optional folder first; otherwise a name whose stem is one of
scikit-image's bundled pictures (``astronaut``, ``camera``, ``coffee``, ``chelsea``,
``rocket``, ``page``, ``lfw_grid``, ... see
:data:`deepracer.plugins.face_anonymizer.sources.BUNDLED`) is rendered from the wheel:
PNG for ``.png``, JPEG (quality 90) for ``.jpg``/``.jpeg``. So fixtures can reference
``astronaut.png`` or ``coffee.jpg`` without shipping binaries, and the bytes are the
same on every run.

Faces are found with ``deepracer.plugins.face_anonymizer.detect.detect_faces``, the
same detector (and fallback) the face_anonymizer plugin uses.

Contents:
    Image: one decoded photo.
    ImageStore: file name -> Image (or why not), from a folder or the bundled pictures.
    FaceFinder: the local face detector with the experiment's settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from deepracer.errors import DeepRacerError

__all__ = ["FaceFinder", "Image", "ImageStore"]

_JPEG = (".jpg", ".jpeg")


@dataclass(frozen=True)
class Image:
    """One photo.

    Attributes:
        name: The file name tweets reference (``coffee.jpg``).
        data: The encoded bytes (what Rekognition is sent).
        array: The decoded uint8 array (RGB, RGBA or gray).
        origin: Where the bytes came from, for the report.
    """

    name: str
    data: bytes
    array: Any
    origin: str

    @property
    def width(self) -> int:
        """Width in pixels."""
        return int(self.array.shape[1])

    @property
    def height(self) -> int:
        """Height in pixels."""
        return int(self.array.shape[0])


class ImageStore:
    """Photos by file name: a folder first, then scikit-image's bundled pictures.

    Args:
        folder: Searched first (None: bundled pictures only).
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder

    def load(self, name: str) -> Image | str:
        """The image called ``name``, or the reason there is none.

        Args:
            name: A file name such as ``page.png`` (no directories).
        """
        from deepracer.plugins.face_anonymizer.anonymize import ImageError, decode_image
        from deepracer.plugins.face_anonymizer.sources import BUNDLED, LFW_GRID, load_source

        if name != PurePosixPath(name).name or name in ("", ".", ".."):
            return f"{name!r} is not a plain file name"
        data: bytes | None = None
        origin = ""
        if self.folder is not None:
            path = self.folder / name
            if path.is_file():
                try:
                    data, origin = path.read_bytes(), str(path)
                except OSError as exc:
                    return f"{path}: cannot read ({exc.strerror})"
        if data is None:
            stem, suffix = PurePosixPath(name).stem, PurePosixPath(name).suffix.lower()
            if stem not in BUNDLED and stem != LFW_GRID:
                where = f"in {self.folder} nor " if self.folder is not None else ""
                return f"no image {name!r} {where}among scikit-image's bundled pictures"
            try:
                source = load_source(f"{stem}:jpeg" if suffix in _JPEG else stem)
            except DeepRacerError as exc:
                return str(exc)
            data, origin = source.data, source.origin
        try:
            decoded = decode_image(data)
        except ImageError as exc:
            return f"{name}: {exc}"
        return Image(name=name, data=data, array=decoded.array, origin=origin)


@dataclass(frozen=True)
class FaceFinder:
    """The face_anonymizer plugin's detector with this experiment's settings.

    Attributes:
        detector: ``haar`` or ``lbp`` (after :func:`resolve_detector`'s fallback).
        min_face: Smallest face side [px].
        min_neighbors: Raw detections needed per face.
        note: Why the detector differs from the one configured, or empty.
    """

    detector: str
    min_face: int
    min_neighbors: int
    note: str = ""

    @classmethod
    def create(cls, detector: str, min_face: int, min_neighbors: int) -> FaceFinder:
        """Resolves ``detector`` (haar falls back to lbp without OpenCV 4)."""
        from deepracer.plugins.face_anonymizer.detect import resolve_detector

        name, note = resolve_detector(detector)
        return cls(name, min_face, min_neighbors, note)

    def boxes(self, image: Image) -> list[list[int]]:
        """The face boxes ``[x, y, w, h]`` in pixels, sorted."""
        from deepracer.plugins.face_anonymizer.detect import detect_faces

        found = detect_faces(
            image.array,
            detector=self.detector,
            min_face=self.min_face,
            min_neighbors=self.min_neighbors,
        )
        return [box.as_list() for box in found]
