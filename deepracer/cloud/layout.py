"""Where an uploaded experiment's files live under ``s3://BUCKET/PREFIX``.

The layout is the one deepracer-for-cloud and DeepRacer on AWS read, plus a
``deepracer/`` folder with what our own training image needs::

    PREFIX/custom_files/reward_function.py     the reward function
    PREFIX/custom_files/model_metadata.json    action space, sensor, network
    PREFIX/custom_files/hyperparameters.json   the preset in DeepRacer's terms
    PREFIX/training_params.yaml                the first world's simulation settings
    PREFIX/training_params_<i>.yaml            world i (1-based), when there are several
    PREFIX/reward_function.py                  a copy, as the console kept one
    PREFIX/deepracer/experiment.yaml           the resolved, self-contained experiment
    PREFIX/deepracer/preset.yaml               its preset
    PREFIX/deepracer/worlds/<name>.yaml        world files that do not ship with us
    PREFIX/deepracer/tracks/<name>.npy         route files that do not ship with us
    PREFIX/upload.json                         the manifest, written last
    PREFIX/output/<job>/output/model.tar.gz    a SageMaker job's run directory
    PREFIX/checkpoints/<job>/                  a SageMaker job's checkpoints (spot)

A training job gets two input channels: ``custom_files`` (``PREFIX/custom_files/``)
and ``experiment`` (``PREFIX/deepracer/``); neither overlaps the job's outputs.

Contents:
    ArtifactLayout: the keys of one upload prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CUSTOM_FILES_CHANNEL",
    "EXPERIMENT_CHANNEL",
    "EXPERIMENT_FILE",
    "MANIFEST",
    "RAY_TOKEN_FILE",
    "ArtifactLayout",
]

CUSTOM_FILES_CHANNEL = "custom_files"
"""Input channel (and folder) with the three DeepRacer files."""
EXPERIMENT_CHANNEL = "experiment"
"""Input channel with the ``deepracer/`` folder."""
EXPERIMENT_FILE = "experiment.yaml"
"""The experiment's file name inside the ``deepracer/`` folder."""
MANIFEST = "upload.json"
"""Written after every other file is uploaded and verified."""
RAY_TOKEN_FILE = "ray_auth_token"
"""In the experiment channel: the Ray token a job of several hosts authenticates with."""


def _join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p.strip("/"))


@dataclass(frozen=True)
class ArtifactLayout:
    """The object keys of one upload.

    Attributes:
        bucket: The S3 bucket (or the folder name under a local storage root).
        prefix: The key prefix, without leading or trailing slashes ('' for the root).
    """

    bucket: str
    prefix: str = ""

    def key(self, *parts: str) -> str:
        """Returns the key of ``parts`` under the prefix."""
        return _join(self.prefix, *parts)

    def uri(self, *parts: str) -> str:
        """Returns ``s3://bucket/prefix/parts``."""
        return f"s3://{self.bucket}/{self.key(*parts)}"

    @property
    def reward_key(self) -> str:
        """``custom_files/reward_function.py``."""
        return self.key(CUSTOM_FILES_CHANNEL, "reward_function.py")

    @property
    def model_metadata_key(self) -> str:
        """``custom_files/model_metadata.json``."""
        return self.key(CUSTOM_FILES_CHANNEL, "model_metadata.json")

    @property
    def hyperparameters_key(self) -> str:
        """``custom_files/hyperparameters.json``."""
        return self.key(CUSTOM_FILES_CHANNEL, "hyperparameters.json")

    def training_params_key(self, index: int | None = None) -> str:
        """``training_params.yaml``, or ``training_params_<index>.yaml`` (1-based)."""
        name = "training_params.yaml" if index is None else f"training_params_{index}.yaml"
        return self.key(name)

    @property
    def experiment_key(self) -> str:
        """``deepracer/experiment.yaml``."""
        return self.key("deepracer", EXPERIMENT_FILE)

    @property
    def ray_token_key(self) -> str:
        """``deepracer/ray_auth_token`` (jobs of several instances only)."""
        return self.key("deepracer", RAY_TOKEN_FILE)

    @property
    def manifest_key(self) -> str:
        """``upload.json``."""
        return self.key(MANIFEST)

    @property
    def custom_files_uri(self) -> str:
        """The ``custom_files`` channel's S3 prefix (with a trailing slash)."""
        return self.uri(CUSTOM_FILES_CHANNEL) + "/"

    @property
    def experiment_uri(self) -> str:
        """The ``experiment`` channel's S3 prefix (with a trailing slash)."""
        return self.uri("deepracer") + "/"

    @property
    def output_uri(self) -> str:
        """SageMaker's S3OutputPath."""
        return self.uri("output")

    def checkpoint_uri(self, job_name: str) -> str:
        """The S3 checkpoint location of one training job."""
        return self.uri("checkpoints", job_name)

    def model_artifact_uri(self, job_name: str) -> str:
        """Where SageMaker puts a finished job's ``model.tar.gz``."""
        return self.uri("output", job_name, "output", "model.tar.gz")
