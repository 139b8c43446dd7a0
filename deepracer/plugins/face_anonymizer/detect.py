"""Face detectors whose models ship inside their packages, and face boxes.

Two detectors, neither of which downloads anything:

* ``haar``: OpenCV's Haar cascades from ``cv2.data.haarcascades`` (the frontal
  ``haarcascade_frontalface_default.xml`` plus ``haarcascade_profileface.xml`` run on
  the image and on its mirror image, because that cascade only knows one side).
  OpenCV 5 removed both the class and the XML files, hence the ``<5`` pin.
* ``lbp``: scikit-image's LBP frontal-face cascade
  (``skimage.data.lbp_frontal_face_cascade_filename()``); the fallback when OpenCV
  is not installed. It has no profile model.

Detectors see a grayscale copy of the image. Arrays are RGB throughout (Pillow and
scikit-image order); the conversion names RGB explicitly, because OpenCV's usual
``BGR2GRAY`` on an RGB array would weight red and blue the wrong way round.

Contents:
    Box: a face rectangle in pixels, with padding and overlap helpers.
    DETECTORS: the detector names.
    have_opencv: whether OpenCV (with its cascades) can be imported.
    resolve_detector: the detector to use (``haar`` falls back to ``lbp`` without OpenCV).
    to_gray: an RGB/RGBA/gray uint8 array to a gray uint8 array.
    detect_faces: the merged face boxes of one image.
    merge_boxes: overlapping boxes merged into their union.
"""

from __future__ import annotations

import functools
import importlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from deepracer.errors import DeepRacerError

__all__ = [
    "DETECTORS",
    "Box",
    "detect_faces",
    "have_opencv",
    "merge_boxes",
    "resolve_detector",
    "to_gray",
]

DETECTORS = ("haar", "lbp")
"""The detector names a configuration may use."""

FRONTAL_XML = "haarcascade_frontalface_default.xml"
PROFILE_XML = "haarcascade_profileface.xml"
HAAR_SCALE = 1.1
"""Pyramid step of the Haar cascades (OpenCV's default)."""
LBP_SCALE = 1.2
"""Window growth per step of the LBP cascade (scikit-image's example value)."""
MERGE_OVERLAP = 0.3
"""Boxes whose intersection covers this share of the smaller box are one face."""


@dataclass(frozen=True, order=True)
class Box:
    """A rectangle in pixel coordinates: ``x`` is the column, ``y`` the row.

    Attributes:
        x: Left column.
        y: Top row.
        w: Width in pixels.
        h: Height in pixels.
    """

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        """Width times height."""
        return self.w * self.h

    def padded(self, fraction: float, width: int, height: int) -> Box:
        """The box grown by ``fraction`` of its size on every side, clipped to the image.

        Args:
            fraction: Padding per side as a share of the width (left/right) and the
                height (top/bottom); 0.25 covers hair and jaw.
            width: Image width, for clipping.
            height: Image height, for clipping.
        """
        dx = round(self.w * fraction)
        dy = round(self.h * fraction)
        x0, y0 = max(0, self.x - dx), max(0, self.y - dy)
        x1, y1 = min(width, self.x + self.w + dx), min(height, self.y + self.h + dy)
        return Box(x0, y0, max(0, x1 - x0), max(0, y1 - y0))

    def intersection(self, other: Box) -> int:
        """The area the two boxes share."""
        w = min(self.x + self.w, other.x + other.w) - max(self.x, other.x)
        h = min(self.y + self.h, other.y + other.h) - max(self.y, other.y)
        return max(0, w) * max(0, h)

    def union(self, other: Box) -> Box:
        """The smallest box holding both."""
        x0, y0 = min(self.x, other.x), min(self.y, other.y)
        x1 = max(self.x + self.w, other.x + other.w)
        y1 = max(self.y + self.h, other.y + other.h)
        return Box(x0, y0, x1 - x0, y1 - y0)

    def as_list(self) -> list[int]:
        """``[x, y, w, h]``, for JSON."""
        return [self.x, self.y, self.w, self.h]


def merge_boxes(boxes: list[Box], overlap: float = MERGE_OVERLAP) -> list[Box]:
    """Merges boxes that overlap into their union, until none do.

    The frontal and the two profile passes often find the same face with slightly
    different rectangles; one union box is anonymized once, with one kernel.

    Args:
        boxes: Boxes in any order.
        overlap: Merge when the intersection covers this share of the smaller box.

    Returns:
        The merged boxes, sorted by (x, y, w, h) so the output does not depend on
        the order the detectors reported them in.
    """
    merged = sorted(boxes)
    changed = True
    while changed:
        changed = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                a, b = merged[i], merged[j]
                smaller = min(a.area, b.area)
                if smaller > 0 and a.intersection(b) >= overlap * smaller:
                    merged = sorted([*merged[:i], *merged[i + 1 : j], *merged[j + 1 :], a.union(b)])
                    changed = True
                    break
            if changed:
                break
    return merged


@functools.cache
def have_opencv() -> bool:
    """Whether ``cv2`` imports and ships the Haar cascade files (OpenCV 4.x)."""
    try:
        _haar_cascade(FRONTAL_XML)
    except (ImportError, DeepRacerError):
        return False
    return True


def resolve_detector(name: str) -> tuple[str, str]:
    """The detector to use for ``name``, with a note when it had to fall back.

    Args:
        name: ``haar`` or ``lbp``.

    Returns:
        ``(detector, note)``: ``haar`` becomes ``lbp`` when OpenCV is missing (or is
        5.x without cascades); the note says so, and is empty otherwise.

    Raises:
        DeepRacerError: An unknown detector name.
    """
    if name not in DETECTORS:
        raise DeepRacerError(f"detector: expected one of {', '.join(DETECTORS)}, got {name!r}")
    if name == "haar" and not have_opencv():
        return "lbp", (
            "OpenCV 4.x with its Haar cascades is not installed (OpenCV 5 removed them),"
            " so scikit-image's LBP frontal cascade was used instead"
        )
    return name, ""


@functools.cache
def _haar_cascade(filename: str) -> Any:
    """One loaded Haar cascade (loading the XML takes tens of milliseconds)."""
    # Typed as Any: OpenCV's stubs vary between releases, and 5.x lacks the class.
    cv2: Any = importlib.import_module("cv2")
    if not hasattr(cv2, "CascadeClassifier") or not hasattr(cv2, "data"):
        raise DeepRacerError(
            f"OpenCV {cv2.__version__} has no CascadeClassifier or cascade files;"
            " install opencv-python-headless<5 or use detector: lbp"
        )
    path = f"{cv2.data.haarcascades}{filename}"
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise DeepRacerError(f"OpenCV could not load its cascade {path}; reinstall OpenCV 4.x")
    return cascade


@functools.cache
def _lbp_cascade() -> Any:
    """scikit-image's LBP frontal-face cascade (its XML ships in the wheel)."""
    try:
        data: Any = importlib.import_module("skimage.data")
        feature: Any = importlib.import_module("skimage.feature")
    except ImportError:
        raise DeepRacerError(
            "neither OpenCV 4 nor scikit-image is installed, so there is no face detector:"
            " pip install 'deepracer[faces]'"
        ) from None
    return feature.Cascade(data.lbp_frontal_face_cascade_filename())


def to_gray(image: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """A gray uint8 copy of a gray, RGB or RGBA uint8 image (RGB order, ITU-R 601 weights).

    Computed with numpy, so both detectors see the same gray image whether or not
    OpenCV is installed.
    """
    if image.ndim == 2:
        return image
    rgb = image[..., :3].astype(np.float32)
    gray = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.clip(np.rint(gray), 0, 255).astype(np.uint8)


def _haar(
    gray: np.ndarray[Any, Any], min_face: int, min_neighbors: int, profile: bool
) -> list[Box]:
    size = (min_face, min_face)
    found: list[Box] = []
    frontal = _haar_cascade(FRONTAL_XML)
    rects: Any = frontal.detectMultiScale(gray, HAAR_SCALE, min_neighbors, minSize=size)
    found += [Box(int(x), int(y), int(w), int(h)) for x, y, w, h in rects]
    if profile:
        side = _haar_cascade(PROFILE_XML)
        rects = side.detectMultiScale(gray, HAAR_SCALE, min_neighbors, minSize=size)
        found += [Box(int(x), int(y), int(w), int(h)) for x, y, w, h in rects]
        # The profile cascade knows faces turned one way; the mirror image finds the other.
        width = gray.shape[1]
        mirror = np.ascontiguousarray(gray[:, ::-1])
        rects = side.detectMultiScale(mirror, HAAR_SCALE, min_neighbors, minSize=size)
        found += [Box(width - int(x) - int(w), int(y), int(w), int(h)) for x, y, w, h in rects]
    return found


def _lbp(gray: np.ndarray[Any, Any], min_face: int, min_neighbors: int) -> list[Box]:
    height, width = gray.shape
    if min(height, width) < min_face:
        return []
    found: Any = _lbp_cascade().detect_multi_scale(
        img=gray,
        scale_factor=LBP_SCALE,
        step_ratio=1,
        min_size=(min_face, min_face),
        max_size=(height, width),
        min_neighbor_number=min_neighbors,
    )
    return [Box(int(d["c"]), int(d["r"]), int(d["width"]), int(d["height"])) for d in found]


def _shrink(gray: np.ndarray[Any, Any], max_side: int) -> tuple[np.ndarray[Any, Any], float]:
    """``gray`` downscaled so its longer side is at most ``max_side``, and the factor."""
    height, width = gray.shape
    scale = max(height, width) / max_side if max_side > 0 else 1.0
    if scale <= 1.0:
        return gray, 1.0
    from PIL import Image

    # Area averaging (BOX) keeps faces smooth; Pillow, so this works without OpenCV.
    size = (max(1, round(width / scale)), max(1, round(height / scale)))
    small = Image.fromarray(gray).resize(size, Image.Resampling.BOX)
    return np.asarray(small, dtype=np.uint8), scale


def detect_faces(
    image: np.ndarray[Any, Any],
    *,
    detector: str = "haar",
    min_face: int = 32,
    min_neighbors: int = 5,
    profile: bool = True,
    max_side: int = 1024,
) -> list[Box]:
    """Finds faces in one image.

    Args:
        image: A uint8 gray (H, W), RGB (H, W, 3) or RGBA (H, W, 4) array, RGB order.
        detector: ``haar`` (OpenCV frontal + profile) or ``lbp`` (scikit-image); use
            :func:`resolve_detector` first to fall back when OpenCV is missing.
        min_face: Smallest face side searched for, in pixels of ``image``.
        min_neighbors: Overlapping raw detections needed to accept a face; higher
            means fewer false faces and more missed ones.
        profile: Also run the Haar profile cascade (both directions); ignored by lbp.
        max_side: Larger images are searched at this longer side (boxes are scaled
            back); a cascade's time grows with the pixel count. 0 = never shrink.

    Returns:
        The face boxes in ``image`` pixels, overlapping detections merged, sorted.

    Raises:
        DeepRacerError: The detector is unknown or cannot be loaded.
    """
    gray, scale = _shrink(to_gray(image), max_side)
    small_face = max(1, round(min_face / scale))
    if detector == "haar":
        boxes = _haar(gray, small_face, min_neighbors, profile)
    elif detector == "lbp":
        boxes = _lbp(gray, small_face, min_neighbors)
    else:
        raise DeepRacerError(f"detector: expected one of {', '.join(DETECTORS)}, got {detector!r}")
    if scale != 1.0:
        height, width = image.shape[:2]
        boxes = [_scaled(box, scale, width, height) for box in boxes]
    return merge_boxes(boxes)


def _scaled(box: Box, scale: float, width: int, height: int) -> Box:
    """A box found on the shrunk image, in the original image's pixels (clipped)."""
    x0, y0 = math.floor(box.x * scale), math.floor(box.y * scale)
    x1 = min(width, math.ceil((box.x + box.w) * scale))
    y1 = min(height, math.ceil((box.y + box.h) * scale))
    return Box(x0, y0, x1 - x0, y1 - y0)
