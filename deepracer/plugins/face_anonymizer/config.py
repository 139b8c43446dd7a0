"""The ``face_anonymizer:`` section of an experiment file.

Contents:
    FaceAnonymizerConfig: the typed section (images, batch, detector, anonymization,
        and the SageMaker settings of ``backend: aws``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from deepracer.plugins.kit import between, interval

__all__ = ["FaceAnonymizerConfig"]


def _max_side(value: int) -> str | None:
    return None if value == 0 or value >= 64 else "0 (never shrink) or at least 64 pixels"


def _arn(value: str) -> str | None:
    if not value or re.fullmatch(
        r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/\S+", value
    ):
        return None
    return "an ARN like arn:aws:sagemaker:REGION:ACCOUNT:model-package/NAME (or empty)"


def _sagemaker_name(value: str) -> str | None:
    if re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", value):
        return None
    return "1-63 letters, digits and hyphens, starting with a letter or digit"


def _instance(value: str) -> str | None:
    return (
        None
        if re.fullmatch(r"ml\.[a-z0-9]+\.[a-z0-9]+", value)
        else "an instance type like ml.c5.xlarge"
    )


def _images(value: tuple[str, ...]) -> str | None:
    return (
        None
        if all(isinstance(v, str) and v.strip() for v in value)
        else "a list of non-empty names or paths"
    )


@dataclass(frozen=True, kw_only=True)
class FaceAnonymizerConfig:
    """Face anonymization with the Marketplace model package's contract."""

    images: tuple[str, ...] = field(
        default=("astronaut", "astronaut:jpeg", "camera", "lfw_grid", "coffee", "chelsea"),
        metadata={"check": _images},
    )
    """Pictures sent one per request: scikit-image names that ship in the wheel
    (astronaut, camera, coffee, chelsea, rocket, ...), ``lfw_grid`` (nine LFW faces),
    ``NAME:jpeg`` (a bundled picture encoded as JPEG, to exercise the lossy path), or
    image file paths (relative to the working directory)."""
    batch: str = ""
    """A JSON-lines request file (one request per line), a folder of images, ``demo``
    (a request file with deliberate bad lines, written into the run directory), or
    empty for none. Outputs go to ``batch/`` in the run directory."""
    method: Literal["blur", "pixelate"] = "blur"
    """``blur``: Gaussian blur of the padded face box; ``pixelate``: its mean colour in
    ``blocks`` x ``blocks`` cells."""
    padding: float = field(default=0.25, metadata={"check": between(0.0, 1.0)})
    """Face box growth per side, as a share of its size (0.2-0.25 covers hair and jaw)."""
    blocks: int = field(default=8, metadata={"check": between(2, 64)})
    """Pixelation cells per padded box side (method pixelate); fewer is coarser."""
    blur_scale: float = field(
        default=1.0, metadata={"check": interval(0, 4, "a number of face widths", low_open=True)}
    )
    """Gaussian kernel size in face widths (method blur); a third of the width leaves
    faces detectable."""
    detector: Literal["haar", "lbp"] = "haar"
    """``haar``: OpenCV 4 frontal + profile cascades (falls back to ``lbp`` when OpenCV
    is missing); ``lbp``: scikit-image's frontal LBP cascade."""
    min_face: int = field(default=32, metadata={"check": between(8, 4096)})
    """Smallest face side searched for [px]."""
    min_neighbors: int = field(default=5, metadata={"check": between(1, 50)})
    """Overlapping raw detections needed to accept a face (more: fewer false faces)."""
    profile: bool = True
    """Also run the Haar profile cascade, on the image and its mirror image."""
    max_passes: int = field(default=2, metadata={"check": between(1, 5)})
    """Anonymization passes: after each, the detector checks the output, and what it
    still finds is anonymized again at double strength."""
    detect_max_side: int = field(default=1024, metadata={"check": _max_side})
    """Larger images are searched at this longer side [px] (boxes scaled back); 0 = never."""
    jpeg_quality: int = field(default=95, metadata={"check": between(1, 100)})
    """Quality of JPEG output (JPEG input comes back as JPEG, PNG as PNG)."""
    strength_check: bool = True
    """Also anonymize each face picture once with a weak blur (kernel w/3) and 12 x 12
    pixelation and count the faces the detector still finds."""
    model_package_arn: str = field(default="", metadata={"check": _arn})
    """backend aws: the Marketplace model package ARN (subscribe first; per region)."""
    instance_type: str = field(default="ml.c5.xlarge", metadata={"check": _instance})
    """backend aws: endpoint and transform instance type (the listing's: ml.c5.xlarge)."""
    endpoint_name: str = field(default="face-anonymizer", metadata={"check": _sagemaker_name})
    """backend aws: name of the model, endpoint configuration and endpoint."""
    keep_endpoint: bool = False
    """backend aws: keep the endpoint, its configuration and the model (they cost money
    while they exist); by default all three are deleted at the end."""
    wait_minutes: float = field(default=30.0, metadata={"check": between(0.5, 180)})
    """backend aws: how long to wait for the endpoint or the transform job [min]."""
