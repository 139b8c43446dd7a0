"""The labelled image sets few-shot episodes are drawn from.

Every set works offline: two ship inside installed packages, one is rendered by our
simulator and one is the user's manifest of local PNG/JPEG files.

Contents:
    ImageSet: images, labels, class names, where each image came from, problems.
    load_digits: scikit-learn's 8x8 handwritten digits (1,797, 10 classes).
    load_faces: scikit-image's lfw_subset (100 faces, 100 non-faces, 25x25).
    load_track_frames: our camera frames labelled left/right/straight.
    load_manifest_images: the labelled (and unlabelled) images of a manifest.
    load_dataset: the one a config names.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import numpy as np
from numpy.typing import NDArray

from deepracer.errors import ConfigError
from deepracer.plugins.custom_labels.images import ImageFileError, load_image
from deepracer.plugins.custom_labels.manifest import ManifestProblem, read_manifest

if TYPE_CHECKING:
    from deepracer.plugins.custom_labels.config import CustomLabelsConfig
    from deepracer.plugins.custom_labels.track_frames import FramePlan

__all__ = [
    "ImageSet",
    "load_dataset",
    "load_digits",
    "load_faces",
    "load_manifest_images",
    "load_track_frames",
]

Image = NDArray[np.float64]


@dataclass
class ImageSet:
    """Labelled grayscale images.

    Attributes:
        name: The dataset's name.
        images: Grayscale images in [0, 1], each ``(height, width)`` (sizes may differ).
        labels: Class id of each image (an index into ``class_names``).
        class_names: The classes, in id order.
        sources: Where each image came from (an index, a path, a pose).
        description: One Markdown paragraph for the report.
        problems: Manifest lines or images that could not be used, one line each.
        unlabelled: Images without a label (manifest lines without the attribute):
            ``(source-ref, image)`` pairs the final model labels.
        source_refs: The resolved local path of each labelled image, when read from a
            manifest (None otherwise).
        plans: The labelled candidate poses (track frames only).
        manifest_ids: The class id each class had in the source manifest (the first
            one seen), written back in manifests; None: the class index.
    """

    name: str
    images: list[Image]
    labels: NDArray[np.int64]
    class_names: tuple[str, ...]
    sources: list[str]
    description: str
    problems: list[str] = field(default_factory=list)
    unlabelled: list[tuple[str, Image]] = field(default_factory=list)
    source_refs: list[str] | None = None
    plans: list[FramePlan] = field(default_factory=list)
    manifest_ids: tuple[int, ...] | None = None

    def class_id(self, index: int) -> int:
        """The id class ``index`` takes in written manifests."""
        return index if self.manifest_ids is None else self.manifest_ids[index]

    def counts(self) -> dict[str, int]:
        """Images per class name, in class order."""
        found = Counter(self.labels.tolist())
        return {name: found.get(i, 0) for i, name in enumerate(self.class_names)}


def load_digits() -> ImageSet:
    """scikit-learn's digits: 1,797 8x8 images with 17 grey levels, classes 0-9."""
    from sklearn.datasets import load_digits as sk_digits

    data = sk_digits()
    images = [np.asarray(im, dtype=np.float64) / 16.0 for im in data.images]
    return ImageSet(
        name="digits",
        images=images,
        labels=np.asarray(data.target, dtype=np.int64),
        class_names=tuple(str(c) for c in range(10)),
        sources=[f"sklearn digits[{i}]" for i in range(len(images))],
        description=(
            "scikit-learn's bundled handwritten digits (UCI optdigits test set): 1,797"
            " images of 8 x 8 pixels with 17 grey levels, 10 classes of 174-183 images."
        ),
    )


def load_faces() -> ImageSet:
    """scikit-image's lfw_subset: 100 face crops then 100 non-face crops, 25x25."""
    from skimage import data as bundled

    lfw_subset: Any = bundled.lfw_subset  # scikit-image's partial annotations: untyped
    data = np.asarray(lfw_subset(), dtype=np.float64)
    labels = np.r_[np.zeros(100, dtype=np.int64), np.ones(100, dtype=np.int64)]
    return ImageSet(
        name="faces",
        images=list(data),
        labels=labels,
        class_names=("face", "non-face"),
        sources=[f"skimage lfw_subset[{i}]" for i in range(len(data))],
        description=(
            "scikit-image's bundled `lfw_subset`: 200 grayscale 25 x 25 crops, the first"
            " 100 faces from Labeled Faces in the Wild, the last 100 random non-face"
            " patches."
        ),
    )


def load_track_frames(config: CustomLabelsConfig, seed: int) -> ImageSet:
    """Camera frames of our simulator, labelled by the track's curvature ahead."""
    from deepracer.plugins.custom_labels.track_frames import TRACK_CLASSES, render_track_frames

    near, far = config.label_window
    frames, labels, sources, plans = render_track_frames(
        world=config.world,
        directions=config.directions,
        frames_per_class=config.frames_per_class,
        window=config.label_window,
        straight_below=config.straight_below,
        turn_above=config.turn_above,
        lateral_jitter=config.lateral_jitter,
        yaw_jitter_deg=config.yaw_jitter_deg,
        candidates_per_frame=config.candidates_per_frame,
        seed=seed,
    )
    height, width = frames.shape[1:]
    drawn = sum(len(p.labels) for p in plans)
    driven = {"both": "in both directions", "reverse": "in reverse"}.get(
        config.directions, config.directions
    )
    radius = f" (radius >= {1 / config.straight_below:.0f} m)" if config.straight_below > 0 else ""
    ambiguous = sum(int((p.labels < 0).sum()) for p in plans)
    return ImageSet(
        name="track_frames",
        images=[f.astype(np.float64) / 255.0 for f in frames],
        labels=labels,
        class_names=TRACK_CLASSES,
        sources=sources,
        plans=plans,
        description=(
            f"{len(frames)} camera frames ({width} x {height} grayscale, what `RacingEnv`"
            f" with `observation: camera` shows the policy) of world `{config.world}`,"
            f" driven {driven}, {config.frames_per_class} per class. Poses are"
            f" drawn uniformly along the track, up to {config.lateral_jitter:g} m beside"
            f" the centre line and {config.yaw_jitter_deg:g} deg off its heading. **Label"
            " rule:** the mean signed curvature of the centre line from"
            f" {near:g} m to {far:g} m ahead of where the car's model point projects on it"
            " (heading change / distance, left positive) is `left` when >="
            f" {config.turn_above:g} rad/m, `right` when <= -{config.turn_above:g} rad/m,"
            f" `straight` when its magnitude is <= {config.straight_below:g} rad/m{radius};"
            f" poses in between are ambiguous and not used ({ambiguous} of {drawn} drawn"
            " candidates). The window is the stretch the lower half of the frame resolves:"
            " with the defaults otherwise, labels from 0.3-1.5 m ahead gave 0.82 and from"
            " 0.8-2.5 m 0.68 mean accuracy (20 episodes, seed 0), because they describe"
            " bends the frame barely shows."
        ),
    )


def _resolve(source_ref: str, folder: Path) -> Path | None:
    """A local path for a ``source-ref``; None for remote (``s3://``, ``http``) refs."""
    parts = urlsplit(source_ref)
    if parts.scheme == "file":
        return Path(url2pathname(unquote(parts.path)))
    if len(parts.scheme) > 1:  # one letter is a Windows drive, not a scheme
        return None
    path = Path(source_ref).expanduser()
    return path if path.is_absolute() else folder / path


def load_manifest_images(
    path: str | Path, attribute: str, *, max_side: int = 256, log: Any = None
) -> ImageSet:
    """Reads a manifest and its images; bad lines and images become problems.

    Lines with a label under ``attribute`` are the labelled set; lines without it
    are unlabelled and will be labelled by the final model. Classes are identified by
    ``class-name``; their ids are renumbered in order of the manifest's class ids.

    Args:
        path: The manifest file.
        attribute: The label attribute to read.
        max_side: Larger images are shrunk to this side on reading [px] (features use
            a smaller size anyway).
        log: Called with a progress line every 500 images (optional).

    Raises:
        DeepRacerError: The manifest cannot be read.
        ConfigError: No line has a usable label under ``attribute`` (the message lists
            the attributes it has).
    """
    manifest = Path(path)
    records, problems = read_manifest(manifest)
    issues: list[ManifestProblem] = list(problems)
    folder = manifest.parent
    # (source-ref, resolved path, manifest class id, class name, image)
    labelled: list[tuple[str, str, int, str, Image]] = []
    unlabelled: list[tuple[str, Image]] = []
    for count, record in enumerate(records, start=1):
        if log is not None and count % 500 == 0:
            log(f"read {count} of {len(records)} manifest lines")
        ref = record.source_ref
        if ref is None:
            issues.append(ManifestProblem(str(manifest), record.line, "no 'source-ref' image"))
            continue
        local = _resolve(ref, folder)
        if local is None:
            issues.append(
                ManifestProblem(
                    str(manifest),
                    record.line,
                    f"{ref}: a remote object; the local backend reads local files (download"
                    " it, or give a path relative to the manifest)",
                )
            )
            continue
        try:
            image = load_image(local, max_side=max_side)
        except ImageFileError as exc:
            issues.append(ManifestProblem(str(manifest), record.line, str(exc)))
            continue
        label = record.label(attribute)
        if label is None:
            unlabelled.append((ref, image))
        else:
            labelled.append((ref, str(local.resolve()), label.class_id, label.class_name, image))
    if not labelled:
        found = sorted({a for r in records for a in r.labels})
        hint = (
            f" Its label attributes: {', '.join(found)} (set custom_labels.attribute)"
            if found
            else ""
        )
        raise ConfigError(
            f"{manifest}: no usable image is labelled under attribute {attribute!r}"
            f" ({len(records)} lines read, {len(issues)} problems).{hint}"
        )
    # Order classes by the manifest's class ids (then names), so a manifest written
    # by us reads back with the same ids.
    first_id: dict[str, int] = {}
    for _, _, class_id, name, _ in labelled:
        first_id.setdefault(name, class_id)
    class_names = tuple(sorted(first_id, key=lambda n: (first_id[n], n)))
    index = {name: i for i, name in enumerate(class_names)}
    return ImageSet(
        name="manifest",
        images=[item[4] for item in labelled],
        labels=np.asarray([index[item[3]] for item in labelled], dtype=np.int64),
        class_names=class_names,
        sources=[item[0] for item in labelled],
        source_refs=[item[1] for item in labelled],
        manifest_ids=tuple(first_id[name] for name in class_names),
        description=(
            f"The manifest `{manifest}`: {len(labelled)} labelled images under attribute"
            f" `{attribute}` in {len(class_names)} classes, {len(unlabelled)} unlabelled;"
            f" {len(issues)} lines could not be used."
        ),
        problems=[str(p) for p in issues],
        unlabelled=unlabelled,
    )


def load_dataset(config: CustomLabelsConfig, seed: int, *, log: Any = None) -> ImageSet:
    """The image set ``config.dataset`` names."""
    if config.dataset == "digits":
        return load_digits()
    if config.dataset == "faces":
        return load_faces()
    if config.dataset == "track_frames":
        return load_track_frames(config, seed)
    return load_manifest_images(config.manifest, config.attribute, log=log)
