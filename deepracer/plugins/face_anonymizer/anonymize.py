"""Face anonymization of one image: detect, pad, blur or pixelate; image encoding.

Only the padded face boxes change: the blur reads a margin around each box (so the
box edge blends into its surroundings) but writes inside the box alone, and
pixelation fills each of ``blocks`` x ``blocks`` cells with its mean colour. So an
image encoded losslessly (PNG) is byte-for-byte equal to the input outside the
boxes; JPEG input is re-encoded as JPEG, which changes every pixel a little.

Strength matters: a Gaussian blur with a kernel of a third of the face width, or a
12 x 12 pixelation, leaves the face detectable; a kernel about the face width, or
8 x 8 blocks, does not (plugins-facts §9). The defaults follow that.

Contents:
    Options: how faces are found and hidden.
    Anonymized, anonymize_detailed: anonymize, re-detect, repeat; what was done.
    Decoded: an image decoded from bytes, with the format to write it back in.
    anonymize_image: an RGB/gray uint8 array to (anonymized copy, padded boxes).
    box_mask: the union of boxes as a boolean mask.
    decode_image, encode_image: bytes to array and back, keeping PNG and JPEG.
"""

from __future__ import annotations

import importlib
import io
import itertools
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from deepracer.errors import DeepRacerError
from deepracer.plugins.face_anonymizer.detect import Box, detect_faces, have_opencv

__all__ = [
    "Anonymized",
    "Decoded",
    "ImageError",
    "Options",
    "anonymize_detailed",
    "anonymize_image",
    "box_mask",
    "decode_image",
    "encode_image",
]


class ImageError(DeepRacerError, ValueError):
    """Bytes that are not a readable image, or an array that is not a uint8 image."""


@dataclass(frozen=True, kw_only=True)
class Options:
    """How faces are found and hidden (the plugin's config maps onto these).

    Attributes:
        method: ``blur`` (Gaussian) or ``pixelate``.
        padding: Growth of each face box per side, as a share of its size.
        blocks: Pixelation cells per box side.
        blur_scale: Gaussian kernel size as a multiple of the face width.
        detector: ``haar`` or ``lbp`` (already resolved, see ``resolve_detector``).
        min_face: Smallest face side searched for, in pixels.
        min_neighbors: Raw detections needed to accept a face.
        profile: Also run the Haar profile cascade.
        jpeg_quality: Quality of JPEG output (JPEG input only).
        max_passes: Anonymization passes at most: after each, the detector runs on
            the output and what it still finds is anonymized again.
        detect_max_side: Larger images are searched at this longer side.
    """

    method: Literal["blur", "pixelate"] = "blur"
    padding: float = 0.25
    blocks: int = 8
    blur_scale: float = 1.0
    detector: str = "haar"
    min_face: int = 32
    min_neighbors: int = 5
    profile: bool = True
    jpeg_quality: int = 95
    max_passes: int = 2
    detect_max_side: int = 1024

    def detect(self, image: np.ndarray[Any, Any]) -> list[Box]:
        """The raw (unpadded) face boxes of ``image`` with these settings."""
        return detect_faces(
            image,
            detector=self.detector,
            min_face=self.min_face,
            min_neighbors=self.min_neighbors,
            profile=self.profile,
            max_side=self.detect_max_side,
        )


def _check_array(image: Any) -> np.ndarray[Any, Any]:
    if not isinstance(image, np.ndarray):
        raise ImageError(f"expected a numpy array, got {type(image).__name__}")
    shape_ok = image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))
    if not shape_ok:
        raise ImageError(
            f"expected a (H, W), (H, W, 3) or (H, W, 4) image, got shape {image.shape}"
        )
    if image.dtype != np.uint8:
        raise ImageError(
            f"expected a uint8 image, got {image.dtype} (convert with skimage.util.img_as_ubyte)"
        )
    return image


def _kernel(face_width: int, scale: float) -> int:
    """An odd Gaussian kernel size of about ``scale`` face widths (at least 3)."""
    k = max(3, round(face_width * scale))
    return k if k % 2 else k + 1


def _gaussian(region: np.ndarray[Any, Any], k: int) -> np.ndarray[Any, Any]:
    """Gaussian blur with a k x k kernel; OpenCV when present, else scipy (same sigma)."""
    if have_opencv():
        cv2: Any = importlib.import_module("cv2")
        blurred: Any = cv2.GaussianBlur(region, (k, k), 0, borderType=cv2.BORDER_REFLECT_101)
        return np.asarray(blurred)
    ndimage: Any = importlib.import_module("scipy.ndimage")

    # OpenCV's sigma for a given kernel size when sigma=0 is passed, so the two paths agree.
    sigma = 0.3 * ((k - 1) * 0.5 - 1) + 0.8
    axes = (0, 1)
    smooth: np.ndarray[Any, Any] = ndimage.gaussian_filter(
        region.astype(np.float32), sigma=sigma, truncate=(k // 2) / sigma, mode="mirror", axes=axes
    )
    result: np.ndarray[Any, Any] = np.clip(np.rint(smooth), 0, 255).astype(np.uint8)
    return result


def _blur(out: np.ndarray[Any, Any], box: Box, face_width: int, scale: float) -> None:
    k = _kernel(face_width, scale)
    margin = k // 2
    height, width = out.shape[:2]
    # Read a margin around the box so the blur is not a hard-edged tile, write the box only.
    x0, y0 = max(0, box.x - margin), max(0, box.y - margin)
    x1, y1 = min(width, box.x + box.w + margin), min(height, box.y + box.h + margin)
    region = np.ascontiguousarray(out[y0:y1, x0:x1])
    blurred = _gaussian(region, k)
    dy, dx = box.y - y0, box.x - x0
    out[box.y : box.y + box.h, box.x : box.x + box.w] = blurred[dy : dy + box.h, dx : dx + box.w]


def _pixelate(out: np.ndarray[Any, Any], box: Box, blocks: int) -> None:
    ys = np.unique(np.linspace(box.y, box.y + box.h, blocks + 1).round().astype(int))
    xs = np.unique(np.linspace(box.x, box.x + box.w, blocks + 1).round().astype(int))
    for y0, y1 in itertools.pairwise(ys):
        for x0, x1 in itertools.pairwise(xs):
            cell = out[y0:y1, x0:x1]
            mean = cell.reshape(-1, *cell.shape[2:]).astype(np.float64).mean(axis=0)
            out[y0:y1, x0:x1] = np.rint(mean).astype(np.uint8)


@dataclass(frozen=True)
class Anonymized:
    """What :func:`anonymize_detailed` did to one image.

    Attributes:
        array: The anonymized copy (same shape and dtype as the input).
        faces: The faces found in the input (unpadded boxes).
        boxes: Every padded box that was changed, over all passes.
        passes: Anonymization passes run (1 when the first pass hid every face).
        redetected_first: Faces the detector still found after the first pass.
        remaining: Faces the detector finds in the final output (0 is the goal).
    """

    array: np.ndarray[Any, Any]
    faces: list[Box]
    boxes: list[Box]
    passes: int
    redetected_first: int
    remaining: int


def _hide(
    out: np.ndarray[Any, Any], faces: list[Box], options: Options, strength: int = 1
) -> list[Box]:
    """Anonymizes the padded ``faces`` in ``out`` in place; returns the padded boxes.

    ``strength`` 2, 3, ... halves the pixelation blocks and doubles the blur kernel
    per step: repeating a pass that left a face detectable at the same strength
    rarely helps.
    """
    height, width = out.shape[:2]
    # Colour channels only: an alpha channel would otherwise be blurred too.
    colour = out[..., :3] if out.ndim == 3 else out
    boxes: list[Box] = []
    for face in faces:
        box = face.padded(options.padding, width, height)
        if box.area == 0:
            continue
        if options.method == "pixelate":
            _pixelate(colour, box, max(2, options.blocks >> (strength - 1)))
        else:
            _blur(colour, box, face.w, options.blur_scale * 2 ** (strength - 1))
        boxes.append(box)
    return boxes


def anonymize_detailed(image: np.ndarray[Any, Any], options: Options | None = None) -> Anonymized:
    """Hides every face in ``image``, checks the result with the detector, and repeats.

    Pass 1 anonymizes the faces found in the input. Then the detector runs on the
    output; whatever it still finds is anonymized again in the next pass, with
    half the pixelation blocks or twice the blur kernel, up to
    ``options.max_passes`` passes. A final detection gives ``remaining`` (the
    acceptance check: it should be 0). With ``max_passes: 1`` the check still runs,
    but nothing is done about what it finds.

    Args:
        image: A uint8 gray (H, W), RGB (H, W, 3) or RGBA (H, W, 4) array in RGB
            order (scikit-image, Pillow). An alpha channel is kept as it is.
        options: Detector and anonymization settings (default: :class:`Options`).

    Raises:
        ImageError: ``image`` is not a uint8 image array.
        DeepRacerError: The detector cannot be loaded.
    """
    options = options or Options()
    image = _check_array(image)
    faces = options.detect(image)
    out = image.copy()
    boxes = _hide(out, faces, options)
    passes = 1
    found = options.detect(out) if faces else []
    redetected_first = len(found)
    while found and passes < options.max_passes:
        passes += 1
        boxes += _hide(out, found, options, strength=passes)
        found = options.detect(out)
    return Anonymized(
        array=out,
        faces=faces,
        boxes=boxes,
        passes=passes,
        redetected_first=redetected_first,
        remaining=len(found),
    )


def anonymize_image(
    image: np.ndarray[Any, Any], options: Options | None = None
) -> tuple[np.ndarray[Any, Any], list[Box]]:
    """Hides every face the detector finds in ``image`` (see :func:`anonymize_detailed`).

    Args:
        image: A uint8 gray (H, W), RGB (H, W, 3) or RGBA (H, W, 4) array in RGB
            order (scikit-image, Pillow). An alpha channel is kept as it is.
        options: Detector and anonymization settings (default: :class:`Options`).

    Returns:
        ``(anonymized, boxes)``: a new array of the same shape and dtype, and the
        padded boxes that were changed (pixels outside them are untouched).

    Raises:
        ImageError: ``image`` is not a uint8 image array.
        DeepRacerError: The detector cannot be loaded.
    """
    result = anonymize_detailed(image, options)
    return result.array, result.boxes


def box_mask(shape: tuple[int, ...], boxes: list[Box]) -> np.ndarray[Any, Any]:
    """A boolean (H, W) mask, True inside any of ``boxes``."""
    mask = np.zeros(shape[:2], dtype=bool)
    for box in boxes:
        mask[box.y : box.y + box.h, box.x : box.x + box.w] = True
    return mask


@dataclass(frozen=True)
class Decoded:
    """An image decoded from bytes.

    Attributes:
        array: uint8 (H, W), (H, W, 3) or (H, W, 4), RGB order.
        format: ``PNG`` or ``JPEG``: what :func:`encode_image` writes it back as
            (every other input format comes back as lossless PNG).
        source_format: The format the bytes were in (``PNG``, ``JPEG``, ``GIF``, ...).
    """

    array: np.ndarray[Any, Any]
    format: str
    source_format: str


def decode_image(data: bytes) -> Decoded:
    """Decodes PNG/JPEG/other Pillow-readable bytes into an RGB(A) or gray array.

    The EXIF orientation is applied (the detector needs upright faces), and exotic
    modes are converted: palette and 1-bit images to RGB(A)/gray, 16-bit gray to
    8-bit gray (top byte), anything else (CMYK, 32-bit, float) to 8-bit RGB.

    Raises:
        ImageError: The bytes are not an image Pillow can read (or are too large).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as opened:
            source_format = (opened.format or "PNG").upper()
            opened.load()
            img = ImageOps.exif_transpose(opened)
    # Truncated or corrupt files surface as OSError, SyntaxError (PNG) or EOFError (GIF).
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
    ) as exc:
        reason = "not a readable image" if isinstance(exc, UnidentifiedImageError) else str(exc)
        raise ImageError(f"{reason} ({len(data)} bytes)") from None
    if img.mode.startswith("I;16"):
        # 16-bit gray: keep the top 8 bits (Pillow's convert would clip, not scale).
        wide = np.asarray(img, dtype=np.uint16)
        return Decoded(
            array=(wide >> 8).astype(np.uint8), format="PNG", source_format=source_format
        )
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif img.mode == "1":
        img = img.convert("L")
    elif img.mode == "LA":
        img = img.convert("RGBA")
    elif img.mode not in ("L", "RGB", "RGBA"):
        img = img.convert("RGB")
    array = np.asarray(img, dtype=np.uint8).copy()
    out_format = "JPEG" if source_format == "JPEG" else "PNG"
    return Decoded(array=array, format=out_format, source_format=source_format)


def encode_image(array: np.ndarray[Any, Any], fmt: str = "PNG", *, jpeg_quality: int = 95) -> bytes:
    """Encodes a uint8 array as PNG (lossless) or JPEG, deterministically.

    No metadata is written (no timestamps, no EXIF), so the same array gives the
    same bytes.

    Args:
        array: uint8 (H, W), (H, W, 3) or (H, W, 4), RGB order.
        fmt: ``PNG`` or ``JPEG`` (JPEG drops an alpha channel).
        jpeg_quality: JPEG quality, 1-100.
    """
    from PIL import Image

    array = _check_array(array)
    img = Image.fromarray(array)
    buffer = io.BytesIO()
    if fmt.upper() == "JPEG":
        if img.mode == "RGBA":
            img = img.convert("RGB")
        img.save(buffer, format="JPEG", quality=jpeg_quality)
    else:
        img.save(buffer, format="PNG")
    return buffer.getvalue()
