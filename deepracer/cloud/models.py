"""DeepRacer models in S3, fetched for ``deepracer import``.

A deepracer-for-cloud or DeepRacer on AWS model prefix (``s3://bucket/rl-deepracer-
sagemaker/``) holds ``model/model_<N>.pb``, ``model/deepracer_checkpoints.json``,
``model/model_metadata.json`` and ``reward_function.py``, next to Coach checkpoints
(``model/<N>_Step-<steps>.ckpt.*``, gigabytes), metrics and training settings that an
import does not read. Only the files :func:`deepracer.export.importing.wanted_file`
names are downloaded; the listing's sizes are checked against the import's caps
before any download.

Contents:
    fetch_model_prefix: a model prefix (or a model archive object) into a folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from deepracer.cloud.storage import ObjectInfo, Storage, StorageError, open_storage, parse_s3_uri
from deepracer.errors import DeepRacerError
from deepracer.export.importing import MAX_FILE, MAX_TOTAL, wanted_file

__all__ = ["fetch_model_prefix"]

_ARCHIVES = (".tar.gz", ".tgz", ".tar")
_EXPECTED = (
    "expected a DeepRacer model prefix (deepracer-for-cloud or DeepRacer on AWS) holding"
    " model/model_<N>.pb and model/model_metadata.json, or a model .tar.gz object"
)


def fetch_model_prefix(
    uri: str,
    dest: Path,
    *,
    storage: Storage | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    echo: Callable[[str], None] = print,
) -> Path:
    """Downloads what an import reads of a model prefix into ``dest``.

    Keys keep their path relative to the prefix. An object whose key is the URI itself
    and ends in ``.tar.gz`` / ``.tgz`` / ``.tar`` (a console download copied to S3) is
    downloaded whole instead.

    Args:
        uri: ``s3://bucket/prefix`` of the model (a trailing ``/`` is optional).
        dest: The local folder (created if missing); nothing is written outside it.
        storage: The bucket's storage (default: opened from ``uri``, ``region`` and
            ``endpoint_url``).
        region: The AWS region (None lets boto3 decide).
        endpoint_url: An S3-compatible server's URL.
        echo: Receives one line per downloaded object, and one on what was left.

    Returns:
        The source to import: ``dest``, or the downloaded archive in it.

    Raises:
        ConfigError: ``uri`` is not an S3 URI.
        StorageError: A key to download would land outside ``dest`` (checked before
            anything is written), or listing or downloading failed.
        DeepRacerError: Nothing is stored under the prefix, no frozen graph (``.pb``)
            is, or the files are larger than an import reads.
    """
    bucket, prefix = parse_s3_uri(uri)
    if storage is None:
        storage, _ = open_storage(f"s3://{bucket}", region=region, endpoint_url=endpoint_url)
    dest = Path(dest)
    start = f"{prefix}/" if prefix else ""
    listed = [info for info in storage.list(start) if not info.key.endswith("/")]
    if not listed and prefix.endswith(_ARCHIVES):
        archive = [info for info in storage.list(prefix) if info.key == prefix]
        if archive:
            return _fetch_archive(storage, uri, archive[0], dest, echo)
    if not listed:
        raise DeepRacerError(f"{uri}: nothing is stored under this prefix; {_EXPECTED}")
    wanted = [(info, info.key[len(start) :]) for info in listed if wanted_file(info.key)]
    if not any(relative.endswith(".pb") for _, relative in wanted):
        raise DeepRacerError(
            f"{uri}: no frozen graph (.pb) among its {len(listed)} objects; {_EXPECTED}"
        )
    targets: list[tuple[str, Path]] = []
    total = 0
    for info, relative in wanted:
        parts = relative.split("/")
        if "\\" in relative or "\0" in relative or any(p in ("", ".", "..") for p in parts):
            raise StorageError(
                f"{storage.url(info.key)}: refusing to download a key with an empty, '.' or"
                f" '..' part (it would land outside {dest})"
            )
        total += info.size
        if info.size > MAX_FILE:
            raise DeepRacerError(
                f"{storage.url(info.key)}: larger than any model file ({info.size:,} bytes)"
            )
        if total > MAX_TOTAL:
            raise DeepRacerError(
                f"{uri}: the files an import reads come to more than {MAX_TOTAL:,} bytes"
            )
        targets.append((info.key, dest.joinpath(*parts)))
    for key, path in targets:
        storage.get_file(key, path)
        echo(f"fetched {storage.url(key)}")
    left = len(listed) - len(targets)
    if left:
        echo(f"not fetched: {left} objects under {uri} that an import does not read")
    return dest


def _fetch_archive(
    storage: Storage, uri: str, info: ObjectInfo, dest: Path, echo: Callable[[str], None]
) -> Path:
    """Downloads one model archive object into ``dest``, under its own file name."""
    if info.size > MAX_TOTAL:
        raise DeepRacerError(f"{uri}: larger than any model archive ({info.size:,} bytes)")
    path = dest / info.key.rsplit("/", 1)[-1]
    storage.get_file(info.key, path)
    echo(f"fetched {uri}")
    return path
