"""``custom_labels``: few-shot image classification, after Rekognition Custom Labels.

The article announces a service that trains an image classifier from as few as 10
labelled images per class. This plugin measures what a small local model (HOG
features + an RBF SVM, no downloaded weights) does in that regime: it draws
``episodes`` random ``shots``-per-class training sets, tests each on every other
image and reports mean +- sd. Data: scikit-learn's digits, scikit-image's face /
non-face crops, camera frames of our own simulator labelled left / right / straight
by the curvature of the track ahead, or the user's Ground Truth manifest of PNG/JPEG
files (whose unlabelled lines it then labels). Episode 1's training images are
written as PNG files plus a Ground Truth manifest; ``backend: aws`` trains and tests
the same images with Custom Labels.

Only the config is imported here; the run imports scikit-learn and scikit-image.

Contents:
    plugin: the registered :class:`~deepracer.plugins.Plugin`.
    CustomLabelsConfig: the experiment section (see :mod:`.config`).
    config, manifest, images, datasets, track_frames, fewshot, plots, aws, run:
        the modules.
"""

from __future__ import annotations

from deepracer.plugins import Plugin, Reference
from deepracer.plugins.custom_labels.config import CustomLabelsConfig
from deepracer.plugins.kit import DeferredRun

__all__ = ["CustomLabelsConfig", "plugin"]


plugin = Plugin(
    name="custom_labels",
    description="few-shot image labels (10 per class) with HOG + SVM, as Rekognition Custom Labels",
    config=CustomLabelsConfig,
    run=DeferredRun("deepracer.plugins.custom_labels.run"),
    article=(
        '"Announcing Amazon Rekognition Custom Labels", AWS Machine Learning Blog,'
        " November 2019 (generally available 3 December 2019)"
    ),
    references=(
        Reference("Training images per class", "as few as 10", metric="shots"),
        Reference(
            "Images classified per hour",
            "tens of thousands (managed service, images in S3)",
            metric="images_per_hour",
        ),
        Reference("Classification accuracy", "not given", metric="accuracy_mean"),
    ),
    extra="labels",
)
