"""The ``custom_labels:`` section of an experiment file.

Imports nothing heavy: ``deepracer plugins list`` and config validation load it.

Contents:
    DATASETS, DEFAULT_IMAGE_SIZE: the data sources and their feature image sizes.
    CustomLabelsConfig: the typed section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from deepracer.errors import ConfigError
from deepracer.plugins.custom_labels.manifest import check_attribute
from deepracer.plugins.kit import at_least, between, positive

__all__ = ["DATASETS", "DEFAULT_IMAGE_SIZE", "CustomLabelsConfig"]

DATASETS = ("digits", "faces", "track_frames", "manifest")
"""Where the labelled images come from."""

DEFAULT_IMAGE_SIZE: dict[str, tuple[int, int]] = {
    # 8 x 8 digits upsampled to 32 x 32 gives HOG's 8 x 8 cells room: 4 x 4 cells
    # (the facts file's 0.949 configuration).
    "digits": (32, 32),
    "faces": (32, 32),
    # A quarter of the camera's 120 x 160 in each direction keeps the road edges and
    # dashes while making HOG 16x cheaper.
    "track_frames": (60, 80),
    "manifest": (64, 64),
}
"""``(height, width)`` images are resized to before features, per dataset."""

_PROJECT_NAME = re.compile(r"^[a-zA-Z0-9_.\-]{1,200}$")


def _image_size(value: tuple[int, int] | None) -> str | None:
    if value is None or min(value) >= 8:
        return None
    return "[height, width] with both >= 8 pixels (or null for the dataset's default)"


def _window(value: tuple[float, float]) -> str | None:
    near, far = value
    return None if 0 <= near < far else "[near, far] metres with 0 <= near < far"


def _project(value: str) -> str | None:
    if _PROJECT_NAME.match(value):
        return None
    return "1-200 characters from a-z A-Z 0-9 _ . - (a Custom Labels project name)"


@dataclass(frozen=True, kw_only=True)
class CustomLabelsConfig:
    """Few-shot image classification, after Rekognition Custom Labels."""

    dataset: Literal["digits", "faces", "track_frames", "manifest"] = "digits"
    """``digits`` (scikit-learn's 1,797 8x8 digits), ``faces`` (scikit-image's
    lfw_subset: 100 faces, 100 non-faces), ``track_frames`` (our simulator's camera
    frames labelled left/right/straight) or ``manifest`` (your own Ground Truth
    manifest of PNG/JPEG images)."""
    manifest: str = ""
    """The manifest file for ``dataset: manifest`` (relative paths: from the current
    folder). Its ``source-ref`` paths may be relative to the manifest's folder."""
    attribute: str = field(default="label", metadata={"check": check_attribute})
    """The label attribute name read from and written to manifests."""
    shots: int = field(default=10, metadata={"check": at_least(1, "an integer")})
    """Training images per class in an episode (the article: as few as 10)."""
    episodes: int = field(default=20, metadata={"check": at_least(1, "an integer")})
    """Random few-shot episodes; each tests on every image it did not train on."""
    features: Literal["hog", "pixels"] = "hog"
    """``hog``: histograms of oriented gradients; ``pixels``: the resized intensities."""
    classifier: Literal["svm_rbf", "logistic"] = "svm_rbf"
    """``svm_rbf``: an RBF-kernel SVM; ``logistic``: multinomial logistic regression."""
    regularization: float = field(default=1.0, metadata={"check": positive})
    """The classifier's C (inverse regularisation strength) [-]."""
    image_size: tuple[int, int] | None = field(default=None, metadata={"check": _image_size})
    """``[height, width]`` images are resized to before features [px]; null: 32x32 for
    digits and faces, 60x80 for track frames, 64x64 for manifests."""
    hog_cell: int = field(default=8, metadata={"check": at_least(2, "an integer")})
    """HOG cell side [px] (blocks are 2 x 2 cells)."""
    hog_orientations: int = field(default=9, metadata={"check": at_least(2, "an integer")})
    """HOG orientation bins."""
    baseline: bool = True
    """Also run the other feature type (pixels for hog, hog for pixels) on the same
    episodes, for the report's comparison."""
    export_episode: bool = True
    """Write episode 1's training images as PNG files plus a Ground Truth manifest
    (``train_images/``); for ``dataset: manifest`` only the manifest, pointing at
    your files."""
    png_min_side: int = field(default=64, metadata={"check": at_least(1, "an integer")})
    """Exported PNGs are enlarged by a whole factor to at least this side [px]; Custom
    Labels refuses tiny images."""
    world: str = "kidney"
    """``track_frames``: the world (name or YAML path) whose track is photographed."""
    directions: Literal["both", "forward", "reverse"] = "both"
    """``track_frames``: driving directions photographed; ``both`` turns every left
    bend into a right one as well, so the classes are balanced."""
    frames_per_class: int = field(default=100, metadata={"check": at_least(2, "an integer")})
    """``track_frames``: frames rendered per class."""
    label_window: tuple[float, float] = field(default=(0.0, 1.0), metadata={"check": _window})
    """``track_frames``: the stretch of centre line, from the car's projection on it
    [m], whose mean signed curvature labels a frame."""
    straight_below: float = field(default=0.1, metadata={"check": at_least(0)})
    """``track_frames``: |mean curvature| at most this is ``straight`` [rad/m]."""
    turn_above: float = field(default=0.3, metadata={"check": positive})
    """``track_frames``: mean curvature at least this is ``left`` (at most minus this
    ``right``) [rad/m]; frames in between are ambiguous and not used."""
    lateral_jitter: float = field(default=0.1, metadata={"check": at_least(0)})
    """``track_frames``: the car stands up to this far left or right of the centre
    line, uniformly [m]."""
    yaw_jitter_deg: float = field(default=5.0, metadata={"check": at_least(0)})
    """``track_frames``: the car's heading differs from the track's by up to this,
    uniformly [deg]."""
    candidates_per_frame: int = field(default=10, metadata={"check": at_least(1, "an integer")})
    """``track_frames``: poses drawn (and labelled, cheaply) per frame wanted; the
    frames are drawn from them class by class."""
    project_name: str = field(default="deepracer-custom-labels", metadata={"check": _project})
    """Backend aws: the Custom Labels project name prefix (a UTC time stamp is added,
    since a project holds one training dataset); also the manifests' job name."""
    min_confidence: float = field(
        default=0.0, metadata={"check": between(0, 100, "a percentage", interval=True)}
    )
    """Backend aws: ``MinConfidence`` of ``detect_custom_labels`` [%]; 0 returns every
    label, so the best one is always known."""
    max_test_images: int = field(default=60, metadata={"check": at_least(1, "an integer")})
    """Backend aws: test images sent to ``detect_custom_labels`` (each call is billed;
    they are also the model's test dataset)."""
    inference_units: int = field(default=1, metadata={"check": at_least(1, "an integer")})
    """Backend aws: ``MinInferenceUnits`` of the started model (billed per hour)."""
    poll_seconds: float = field(default=60.0, metadata={"check": positive})
    """Backend aws: seconds between status checks of datasets, training and start."""
    timeout_minutes: float = field(default=240.0, metadata={"check": positive})
    """Backend aws: give up waiting for dataset creation or training after this
    [min] (training takes about an hour)."""

    def __post_init__(self) -> None:
        if self.turn_above <= self.straight_below:
            raise ConfigError(
                f"custom_labels: turn_above ({self.turn_above}) must exceed straight_below"
                f" ({self.straight_below}): frames between them are ambiguous"
            )
        if self.dataset == "manifest" and not self.manifest.strip():
            raise ConfigError(
                "custom_labels.manifest: dataset 'manifest' needs the path of a Ground Truth"
                " manifest (JSON lines with source-ref and a label attribute)"
            )

    @property
    def size(self) -> tuple[int, int]:
        """The feature image size: ``image_size`` or the dataset's default."""
        return self.image_size or DEFAULT_IMAGE_SIZE[self.dataset]
