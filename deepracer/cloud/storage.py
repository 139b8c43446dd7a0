"""Where experiment artifacts are kept: a local folder (the default) or an S3 bucket.

Both backends speak the same small :class:`Storage` protocol with S3's key layout
(``/``-separated keys, see :mod:`deepracer.cloud.layout`), so a local folder is a
drop-in stand-in for a bucket. The S3 backend works with any S3-compatible server
(MinIO, a moto server, ...) through ``endpoint_url``.

boto3 is optional: it is imported inside the S3 code paths only (through the AWS
layer :mod:`deepracer.cloud.aws`, which also classifies S3's errors), so this module
and :class:`LocalStorage` work without it.

Uploads are verified. Local writes go through a temporary file, fsync and a rename.
S3 uploads send ``Content-MD5``, so S3 rejects a body corrupted in transit. They then
compare the stored object's size and ETag with the local data, and retry a mismatch.
A tree of files is uploaded with :func:`upload_files`, which writes a manifest only
after every file has been uploaded. A prefix without a manifest is therefore never
taken for a complete upload.

Contents:
    StorageError: a storage failure a user can cause (missing bucket, credentials, ...).
    parse_s3_uri: ``s3://bucket/prefix`` to ``(bucket, prefix)``.
    ObjectInfo: one stored object's key and size.
    Storage: the protocol both backends implement.
    LocalStorage: a folder on disk.
    S3Storage: an S3 bucket through boto3, with verified uploads.
    open_storage: a location string to a storage and its :class:`ArtifactLayout`.
    upload_files, read_manifest, verify_upload: manifest-based tree uploads.
    download_prefix: every object under a prefix into a folder.
"""

from __future__ import annotations

import base64
import builtins
import contextlib
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PureWindowsPath
from typing import IO, Any, Protocol
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from deepracer.cloud import aws
from deepracer.cloud.layout import ArtifactLayout
from deepracer.errors import ConfigError, DeepRacerError
from deepracer.io import atomic_write

__all__ = [
    "ATTEMPTS",
    "MULTIPART_CHUNK",
    "MULTIPART_THRESHOLD",
    "LocalStorage",
    "ObjectInfo",
    "S3Storage",
    "Storage",
    "StorageError",
    "download_prefix",
    "open_storage",
    "parse_s3_uri",
    "read_manifest",
    "upload_files",
    "verify_upload",
]

MULTIPART_THRESHOLD = 64 * 1024 * 1024
"""Files larger than this (bytes) are uploaded to S3 in parts."""
MULTIPART_CHUNK = 16 * 1024 * 1024
"""The size of one multipart part (bytes); S3 needs at least 5 MiB except for the last."""
ATTEMPTS = 3
"""How many times an upload whose stored copy does not match is tried in all."""
BACKOFF = 0.5
"""Seconds to wait before the second attempt; doubled before each further one."""
MAX_PARTS = 10_000
"""S3's limit on the number of parts of one multipart upload."""

_COPY_CHUNK = 1024 * 1024
_TEMP_SUFFIX = ".dr-tmp"
_S3_EXPECTED = "expected s3://BUCKET/PREFIX"
_BUCKET_CHARS = re.compile(r"[a-z0-9.-]+")
_IPV4 = re.compile(r"\d+\.\d+\.\d+\.\d+")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_CREDENTIAL_HINT = (
    "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws configure`"
)
_BAD_DIGEST = frozenset({"BadDigest", "InvalidDigest"})


class StorageError(DeepRacerError):
    """A storage operation failed for a reason the user can fix (one clear message)."""


class _NotFound(StorageError):
    """The object does not exist (lets ``exists``/``delete``/``read_manifest`` tell)."""


class _Corrupt(StorageError):
    """The stored object does not match what was sent; the upload is worth retrying."""


# --------------------------------------------------------------------------- names


def _bucket_problem(bucket: str) -> str | None:
    """Returns what is wrong with an S3 bucket name, or None when it is valid."""
    if not 3 <= len(bucket) <= 63:
        return "it must have 3 to 63 characters"
    if not _BUCKET_CHARS.fullmatch(bucket):
        return "it may only contain lowercase letters, digits, dots and hyphens"
    if not (bucket[0].isalnum() and bucket[-1].isalnum()):
        return "it must start and end with a letter or digit"
    if ".." in bucket:
        return "it must not contain '..'"
    if _IPV4.fullmatch(bucket):
        return "it must not be an IP address"
    return None


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Splits ``s3://bucket/some/prefix/`` into ``("bucket", "some/prefix")``.

    Args:
        uri: The S3 URI; the prefix may be empty.

    Returns:
        The bucket and the prefix without leading or trailing slashes.

    Raises:
        ConfigError: The URI does not start with ``s3://``, has no bucket, or the
            bucket name breaks S3's naming rules.
    """
    if not uri.startswith("s3://"):
        raise ConfigError(f"{uri!r} is not an S3 URI: {_S3_EXPECTED}")
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    if not bucket:
        raise ConfigError(f"{uri!r} has no bucket name: {_S3_EXPECTED}")
    problem = _bucket_problem(bucket)
    if problem is not None:
        hint = ""
        if _bucket_problem(bucket.lower()) is None:
            hint = f" Did you mean {bucket.lower()!r}?"
        raise ConfigError(
            f"{uri!r}: {bucket!r} is not a valid bucket name ({problem}); {_S3_EXPECTED}.{hint}"
        )
    return bucket, prefix.strip("/")


def _key_parts(key: str) -> builtins.list[str]:
    """Returns the parts of a relative ``/``-separated key, or raises StorageError.

    A key must stay inside the folder it is resolved against: no absolute path, drive,
    backslash, NUL, or empty, ``.`` or ``..`` part.
    """
    parts = key.split("/")
    if (
        not key
        or "\\" in key
        or "\0" in key
        or PureWindowsPath(key).drive
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise StorageError(
            f"invalid key {key!r}: keys are relative '/'-separated paths without "
            "empty, '.' or '..' parts"
        )
    return parts


# --------------------------------------------------------------------------- files


class _ReadFailed(Exception):
    """Reading the source of a copy failed (``error``), not writing its target."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


def _copy(source: IO[bytes], out: IO[bytes]) -> None:
    """Copies ``source`` to ``out``, a failed read raised as :class:`_ReadFailed`."""
    while True:
        try:
            chunk = source.read(_COPY_CHUNK)
        except OSError as exc:
            raise _ReadFailed(exc) from exc
        if not chunk:
            return
        out.write(chunk)


def _atomic_write(path: Path, fill: Callable[[IO[bytes]], object]) -> None:
    """Writes ``path`` whole or not at all (:func:`deepracer.io.atomic_write`).

    Its temporary file ends with ``_TEMP_SUFFIX``, so :func:`_is_temp` can skip one a
    crash left.

    Args:
        path: The destination.
        fill: Writes the content to the open temporary file.
    """
    atomic_write(path, fill, suffix=_TEMP_SUFFIX)


def _is_temp(name: str) -> bool:
    """Whether ``name`` is a temporary file of :func:`_atomic_write` (left by a crash)."""
    return name.startswith(".") and name.endswith(_TEMP_SUFFIX)


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _file_hashes(path: Path) -> tuple[int, str]:
    """Returns the size and SHA-256 hex digest of a local file."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_COPY_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _read_local(path: Path, key: str) -> bytes:
    """Reads a local file that is about to be uploaded as ``key``."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise StorageError(f"cannot read {path} (to upload as {key}): {_why(exc)}") from exc


# --------------------------------------------------------------------------- protocol


@dataclass(frozen=True)
class ObjectInfo:
    """One stored object.

    Attributes:
        key: The object's key.
        size: Its size in bytes.
    """

    key: str
    size: int


class Storage(Protocol):
    """A flat key-to-bytes store with S3's key layout.

    Attributes:
        name: Names the store in messages (``s3://bucket`` or the folder path).
    """

    name: str

    def put_bytes(self, key: str, data: bytes) -> None:
        """Stores ``data`` under ``key`` (verified; replaces an existing object)."""
        ...

    def put_file(self, key: str, path: Path) -> None:
        """Stores the local file ``path`` under ``key`` (verified)."""
        ...

    def get_bytes(self, key: str) -> bytes:
        """Returns the object's content; StorageError naming the key when missing."""
        ...

    def get_file(self, key: str, path: Path) -> None:
        """Writes the object to ``path`` atomically (temporary file and rename)."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        ...

    def list(self, prefix: str) -> builtins.list[ObjectInfo]:
        """Returns every object whose key starts with ``prefix``, sorted by key."""
        ...

    def delete(self, key: str) -> None:
        """Removes the object; a missing one is fine."""
        ...

    def url(self, key: str) -> str:
        """Returns a URL of the object for messages (``s3://...`` or ``file://...``)."""
        ...


# --------------------------------------------------------------------------- local


class LocalStorage:
    """A folder on disk whose files are the objects (``key`` = relative path).

    Writes are atomic (temporary file in the same folder, fsync, ``os.replace``), so a
    crash never leaves a torn file under its final name. The folder is created on the
    first write.

    Attributes:
        root: The folder (absolute).
        name: The folder path, for messages.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().absolute()
        self.name = str(self.root)

    def __repr__(self) -> str:
        return f"LocalStorage({self.name!r})"

    def _path(self, key: str) -> Path:
        try:
            return self.root.joinpath(*_key_parts(key))
        except StorageError as exc:
            raise StorageError(f"{exc} (storage {self.name})") from None

    def _write(self, key: str, fill: Callable[[IO[bytes]], object]) -> None:
        path = self._path(key)
        try:
            _atomic_write(path, fill)
        except OSError as exc:
            raise StorageError(f"cannot write {key} under {self.name}: {_why(exc)}") from exc

    def put_bytes(self, key: str, data: bytes) -> None:
        """Writes ``data`` to the key's file atomically."""
        self._write(key, lambda out: out.write(data))

    def put_file(self, key: str, path: Path) -> None:
        """Copies the local file ``path`` to the key's file atomically."""
        try:
            with Path(path).open("rb") as source:
                self._write(key, lambda out: _copy(source, out))
        except (OSError, _ReadFailed) as exc:  # the source; _write reports the target's
            why = _why(exc.error if isinstance(exc, _ReadFailed) else exc)
            raise StorageError(f"cannot read {path} (to store as {key}): {why}") from exc

    def _open(self, key: str) -> IO[bytes]:
        path = self._path(key)
        try:
            return path.open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise _NotFound(f"{key}: no such object in {self.name}") from None
        except OSError as exc:
            raise StorageError(f"cannot read {key} in {self.name}: {_why(exc)}") from exc

    def get_bytes(self, key: str) -> bytes:
        """Returns the key's file content; StorageError naming the key and root if missing."""
        with self._open(key) as source:
            return source.read()

    def get_file(self, key: str, path: Path) -> None:
        """Copies the key's file to ``path`` atomically."""
        with self._open(key) as source:
            try:
                _atomic_write(Path(path), lambda out: _copy(source, out))
            except _ReadFailed as exc:
                why = _why(exc.error)
                raise StorageError(f"cannot read {key} in {self.name}: {why}") from exc
            except OSError as exc:
                raise StorageError(f"cannot write {path}: {_why(exc)}") from exc

    def exists(self, key: str) -> bool:
        """Whether the key's file exists."""
        return self._path(key).is_file()

    def list(self, prefix: str) -> builtins.list[ObjectInfo]:
        """Returns the files whose key starts with ``prefix`` (recursive, sorted by key).

        Temporary files left by an interrupted write are skipped.
        """
        folder, _, _ = prefix.rpartition("/")
        base = self._path(folder) if folder else self.root
        found: builtins.list[ObjectInfo] = []
        try:
            for dirpath, _dirnames, filenames in os.walk(base):
                for filename in filenames:
                    if _is_temp(filename):
                        continue
                    path = Path(dirpath, filename)
                    key = path.relative_to(self.root).as_posix()
                    if key.startswith(prefix):
                        found.append(ObjectInfo(key, path.stat().st_size))
        except OSError as exc:
            raise StorageError(f"cannot list {prefix!r} in {self.name}: {_why(exc)}") from exc
        return sorted(found, key=lambda info: info.key)

    def delete(self, key: str) -> None:
        """Removes the key's file (a missing one is fine)."""
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot delete {key} in {self.name}: {_why(exc)}") from exc

    def url(self, key: str) -> str:
        """Returns the ``file://`` URL of the key's file."""
        return self._path(key).as_uri()


# --------------------------------------------------------------------------- S3


_NO_S3_CLIENT = "cannot create an S3 client: {error}"
_S3_CLIENT = aws.ClientMessages(
    boto3=f"s3:// storage needs boto3: {aws.AWS_EXTRA}",
    region=_NO_S3_CLIENT,
    profile=_NO_S3_CLIENT,
    service=_NO_S3_CLIENT,
    endpoint="invalid S3 endpoint URL {endpoint_url!r}: {error}",
    other=_NO_S3_CLIENT,
)


def _make_client(region: str | None, endpoint_url: str | None) -> Any:
    """Builds a boto3 S3 client through :func:`deepracer.cloud.aws.client` (5 attempts).

    ``region`` None lets boto3 decide (AWS_DEFAULT_REGION, the AWS configuration).
    """
    # botocore >= 1.36 adds a CRC32 to every upload by default. We send Content-MD5
    # ourselves, and a part with a CRC32 on a multipart upload created without one can
    # be refused ("Checksum Type mismatch"), by S3 and by S3-compatible servers alike.
    # (An older botocore, without the option, never adds one.)
    return aws.client(
        "s3",
        region=region,
        endpoint_url=endpoint_url,
        options={"request_checksum_calculation": "when_required"},
        env_region=False,
        messages=_S3_CLIENT,
        error=StorageError,
    )


def _md5_b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _md5(data: bytes) -> Any:
    return hashlib.md5(data, usedforsecurity=False)


class S3Storage:
    """An S3 bucket (or an S3-compatible server through ``endpoint_url``).

    Every upload is verified: it sends ``Content-MD5`` and then compares the stored
    object's ``ContentLength`` with the local size. It also compares the ETag with the
    MD5, or with the multipart ETag (``md5(part digests)-N``), unless the object is
    KMS-encrypted, because then the ETag is not an MD5. A mismatch is retried
    ``attempts`` times in all, and then raises StorageError. Every boto3 call goes
    through one error translation into StorageError.

    Attributes:
        bucket: The bucket name.
        name: ``s3://bucket``, for messages.
        client: The boto3 S3 client.
        endpoint_url: The custom endpoint, if one was given (named in messages).
        multipart_threshold: Files larger than this (bytes) are uploaded in parts.
        multipart_chunk: The part size (bytes), raised when a file would need more
            than 10,000 parts.
        attempts: How many times a mismatching upload is tried in all.
        sleep: Waits between attempts (``time.sleep``; tests pass a no-op).
    """

    def __init__(
        self,
        bucket: str,
        *,
        client: Any = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        multipart_threshold: int = MULTIPART_THRESHOLD,
        multipart_chunk: int = MULTIPART_CHUNK,
        attempts: int = ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not bucket:
            raise ConfigError(f"S3 storage needs a bucket name; {_S3_EXPECTED}")
        self.bucket = bucket
        self.name = f"s3://{bucket}"
        self.endpoint_url = endpoint_url
        self.client = _make_client(region, endpoint_url) if client is None else client
        self.multipart_threshold = multipart_threshold
        self.multipart_chunk = multipart_chunk
        self.attempts = max(1, attempts)
        self.sleep = sleep

    def __repr__(self) -> str:
        at = f", endpoint_url={self.endpoint_url!r}" if self.endpoint_url else ""
        return f"S3Storage({self.bucket!r}{at})"

    def url(self, key: str) -> str:
        """Returns ``s3://bucket/key``."""
        return f"s3://{self.bucket}/{key}"

    # ---------------------------------------------------------------- errors

    def _translate(self, exc: Exception, key: str | None) -> StorageError | None:
        """Returns the StorageError for a botocore exception, or None for any other.

        Args:
            exc: The exception a boto3 call raised.
            key: The object key, or None for a bucket-level call (list).
        """
        kind = aws.error_kind(exc)  # None without botocore (a fake client) or not botocore's
        if kind is None:
            return None
        target = self.url(key) if key is not None else self.name
        if kind is aws.ErrorKind.NO_CREDENTIALS:
            return StorageError(f"no AWS credentials found (for {target}): {_CREDENTIAL_HINT}")
        if kind is aws.ErrorKind.UNREACHABLE:
            endpoint = aws.endpoint_of(exc, self.endpoint_url or "S3")
            return StorageError(
                f"cannot reach {endpoint} (for {target}): {exc}; check the "
                "endpoint URL and your network"
            )
        if kind.answered:
            return self._translate_client_error(exc, key, target)
        return StorageError(f"{target}: {exc}")

    def _translate_client_error(self, exc: Any, key: str | None, target: str) -> StorageError:
        code = aws.error_code(exc)
        message = aws.error_message(exc, default=code)
        kind = aws.code_kind(code, aws.http_status(exc))
        if code == "NoSuchBucket" or (key is None and kind is aws.ErrorKind.NOT_FOUND):
            at = f" at {self.endpoint_url}" if self.endpoint_url else ""
            flag = f" --endpoint-url {self.endpoint_url}" if self.endpoint_url else ""
            return StorageError(
                f"s3://{self.bucket}: bucket does not exist{at} "
                f"(create it with `aws s3 mb s3://{self.bucket}{flag}`)"
            )
        if kind is aws.ErrorKind.REJECTED_CREDENTIALS:
            return StorageError(
                f"{target}: the AWS credentials were rejected ({code}: {message}); "
                f"{_CREDENTIAL_HINT}"
            )
        if kind is aws.ErrorKind.ACCESS_DENIED:
            return StorageError(
                f"{target}: access denied ({message}); check the IAM permissions of your "
                "AWS credentials and the bucket policy"
            )
        if kind is aws.ErrorKind.NOT_FOUND:
            return _NotFound(f"{target}: no such object")
        if code in _BAD_DIGEST:
            return _Corrupt(f"S3 rejected the body of {target} as corrupted ({code})")
        operation = getattr(exc, "operation_name", "request")
        return StorageError(f"{target}: {operation} failed: {code}: {message}")

    @contextlib.contextmanager
    def _translated(self, key: str | None) -> Iterator[None]:
        """Turns botocore exceptions raised inside the block into StorageError."""
        try:
            yield
        except StorageError:
            raise
        except Exception as exc:
            error = self._translate(exc, key)
            if error is None:
                raise
            raise error from exc

    def _call(self, operation: str, key: str | None, **params: Any) -> Any:
        """Calls ``client.<operation>(**params)`` with its errors translated."""
        with self._translated(key):
            return getattr(self.client, operation)(**params)

    # ---------------------------------------------------------------- uploads

    def _verify(self, key: str, size: int, etag: str) -> str | None:
        """Returns why the stored object does not match, or None when it does."""
        try:
            head = self._call("head_object", key, Bucket=self.bucket, Key=key)
        except _NotFound:
            return "S3 does not list the object after the upload"
        stored_size = head.get("ContentLength")
        if stored_size != size:
            return f"S3 reports {stored_size} bytes, the local data has {size}"
        encryption = str(head.get("ServerSideEncryption") or "")
        stored_etag = str(head.get("ETag", "")).strip('"')
        if not encryption.startswith("aws:kms") and stored_etag != etag:
            return f"S3 reports ETag {stored_etag!r}, the local data has {etag!r}"
        return None

    def _upload_verified(self, key: str, size: int, upload: Callable[[], str]) -> None:
        """Runs ``upload`` (which returns the expected ETag) until the stored copy matches."""
        problem = ""
        for attempt in range(1, self.attempts + 1):
            try:
                etag = upload()
                mismatch = self._verify(key, size, etag)
            except _Corrupt as exc:
                mismatch = str(exc)
            if mismatch is None:
                return
            problem = mismatch
            if attempt < self.attempts:
                self.sleep(BACKOFF * 2 ** (attempt - 1))
        raise StorageError(
            f"{self.url(key)}: the uploaded object does not match the local data after "
            f"{self.attempts} attempts ({problem}); the object is not trustworthy, "
            "upload it again"
        )

    def _put_single(self, key: str, data: bytes) -> str:
        digest = _md5(data)
        self._call(
            "put_object",
            key,
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentMD5=_md5_b64(digest.digest()),
        )
        return str(digest.hexdigest())

    def _put_multipart(self, key: str, path: Path, size: int) -> str:
        """Uploads ``path`` in parts (each with Content-MD5); aborts on any failure.

        Returns:
            The multipart ETag S3 should report: ``md5(part digests)-N``.
        """
        chunk = max(self.multipart_chunk, -(-size // MAX_PARTS))
        created = self._call("create_multipart_upload", key, Bucket=self.bucket, Key=key)
        upload_id = created["UploadId"]
        digests: builtins.list[bytes] = []
        parts: builtins.list[dict[str, Any]] = []
        try:
            with path.open("rb") as source:
                while data := source.read(chunk):
                    digest = _md5(data).digest()
                    number = len(parts) + 1
                    response = self._call(
                        "upload_part",
                        key,
                        Bucket=self.bucket,
                        Key=key,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=data,
                        ContentMD5=_md5_b64(digest),
                    )
                    digests.append(digest)
                    parts.append({"ETag": response["ETag"], "PartNumber": number})
            self._call(
                "complete_multipart_upload",
                key,
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            # An unfinished multipart upload is invisible but billed; drop it.
            with contextlib.suppress(Exception):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise
        return f"{_md5(b''.join(digests)).hexdigest()}-{len(digests)}"

    def put_bytes(self, key: str, data: bytes) -> None:
        """Uploads ``data`` with Content-MD5 and verifies the stored size and ETag."""
        self._upload_verified(key, len(data), lambda: self._put_single(key, data))

    def put_file(self, key: str, path: Path) -> None:
        """Uploads a local file (in parts above ``multipart_threshold``), verified."""
        path = Path(path)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise StorageError(f"cannot read {path} (to upload as {key}): {_why(exc)}") from exc
        if size > self.multipart_threshold:
            self._upload_verified(key, size, lambda: self._put_multipart(key, path, size))
        else:
            data = _read_local(path, key)
            self._upload_verified(key, len(data), lambda: self._put_single(key, data))

    # ---------------------------------------------------------------- reads

    def get_bytes(self, key: str) -> bytes:
        """Downloads the object; StorageError naming the key when it is missing."""
        response = self._call("get_object", key, Bucket=self.bucket, Key=key)
        with self._translated(key):
            return bytes(response["Body"].read())

    def get_file(self, key: str, path: Path) -> None:
        """Downloads the object to ``path`` through a temporary file and a rename."""
        response = self._call("get_object", key, Bucket=self.bucket, Key=key)
        body = response["Body"]
        try:
            with self._translated(key):
                _atomic_write(Path(path), lambda out: shutil.copyfileobj(body, out, _COPY_CHUNK))
        except OSError as exc:
            raise StorageError(f"cannot write {path}: {_why(exc)}") from exc
        finally:
            body.close()

    def exists(self, key: str) -> bool:
        """Whether the object exists (``head_object``)."""
        try:
            self._call("head_object", key, Bucket=self.bucket, Key=key)
        except _NotFound:
            return False
        return True

    def list(self, prefix: str) -> builtins.list[ObjectInfo]:
        """Returns every object whose key starts with ``prefix`` (all pages, sorted)."""
        found: builtins.list[ObjectInfo] = []
        with self._translated(None):
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                found.extend(
                    ObjectInfo(item["Key"], item["Size"]) for item in page.get("Contents", ())
                )
        return sorted(found, key=lambda info: info.key)

    def delete(self, key: str) -> None:
        """Deletes the object (a missing one is fine)."""
        with contextlib.suppress(_NotFound):
            self._call("delete_object", key, Bucket=self.bucket, Key=key)


# --------------------------------------------------------------------------- opening


def open_storage(
    location: str, *, region: str | None = None, endpoint_url: str | None = None
) -> tuple[Storage, ArtifactLayout]:
    """Opens a storage location.

    Args:
        location: ``s3://bucket/prefix``, ``file:///abs/path`` or a folder path.
        region: The AWS region (S3 only; None lets boto3 decide).
        endpoint_url: An S3-compatible server's URL (S3 only).

    Returns:
        The storage and the layout of the upload's keys in it. A folder is the root of
        its storage, with the layout ``ArtifactLayout("", "")``. It is created on the
        first write.

    Raises:
        ConfigError: An invalid S3 URI, a ``file://`` URL with a host, or another scheme.
        StorageError: S3 is asked for but boto3 is missing.
    """
    if location.startswith("s3://"):
        bucket, prefix = parse_s3_uri(location)
        storage = S3Storage(bucket, region=region, endpoint_url=endpoint_url)
        return storage, ArtifactLayout(bucket, prefix)
    expected = "expected s3://BUCKET/PREFIX, file:///ABSOLUTE/PATH or a folder path"
    if location.startswith("file://"):
        parts = urlsplit(location)
        if parts.netloc not in ("", "localhost") or not parts.path:
            raise ConfigError(f"{location!r} is not a local file URL; {expected}")
        return LocalStorage(Path(url2pathname(unquote(parts.path)))), ArtifactLayout("", "")
    if _SCHEME.match(location) or not location.strip():
        raise ConfigError(f"unsupported storage location {location!r}; {expected}")
    return LocalStorage(Path(location)), ArtifactLayout("", "")


# --------------------------------------------------------------------------- manifests


def upload_files(
    storage: Storage,
    files: Mapping[str, bytes | Path],
    *,
    manifest_key: str,
    extra: Mapping[str, Any] | None = None,
    echo: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Uploads files, then a manifest naming them, so a partial upload is recognisable.

    The old manifest is deleted first, so a half-finished re-upload is never taken for
    the complete one before it. The new manifest is written only after every file has
    been uploaded and verified.

    Args:
        storage: Where to upload.
        files: Key to content (bytes) or local file.
        manifest_key: The manifest's key (e.g. :attr:`ArtifactLayout.manifest_key`).
        extra: More top-level manifest fields (not ``files`` or ``created``).
        echo: Called with one line per uploaded object.

    Returns:
        The manifest: ``{"files": {key: {"size", "sha256"}}, "created", **extra}``.

    Raises:
        StorageError: An upload failed (naming its key); no manifest is written.
        ConfigError: ``extra`` redefines ``files`` or ``created``, or ``files``
            contains the manifest key.
    """
    extra = dict(extra or {})
    clashes = sorted({"files", "created"} & extra.keys())
    if clashes:
        raise ConfigError(f"manifest fields {clashes} are written by upload_files itself")
    if manifest_key in files:
        raise ConfigError(f"{manifest_key!r} is the manifest's key; it cannot be uploaded too")
    storage.delete(manifest_key)
    entries: dict[str, dict[str, Any]] = {}
    for key, source in files.items():
        try:
            if isinstance(source, bytes | bytearray):
                data = bytes(source)
                size, sha256 = len(data), hashlib.sha256(data).hexdigest()
                storage.put_bytes(key, data)
            else:
                path = Path(source)
                try:
                    size, sha256 = _file_hashes(path)
                except OSError as exc:
                    raise StorageError(f"cannot read {path}: {_why(exc)}") from exc
                storage.put_file(key, path)
        except StorageError as exc:
            raise StorageError(
                f"upload of {storage.url(key)} failed, so the upload is incomplete and has "
                f"no manifest: {exc}"
            ) from exc
        entries[key] = {"size": size, "sha256": sha256}
        if echo is not None:
            echo(f"uploaded {storage.url(key)} ({size} bytes)")
    created = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    manifest: dict[str, Any] = {"files": dict(sorted(entries.items())), "created": created}
    manifest.update(extra)
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    storage.put_bytes(manifest_key, text.encode("utf-8"))
    if echo is not None:
        echo(f"wrote the manifest {storage.url(manifest_key)}")
    return manifest


def read_manifest(storage: Storage, manifest_key: str) -> dict[str, Any]:
    """Reads and checks an upload manifest.

    Raises:
        StorageError: There is no manifest (not a complete upload), or it is not a JSON
            object whose ``files`` map keys to ``{"size": int, "sha256": str}``.
    """
    where = storage.url(manifest_key)
    try:
        raw = storage.get_bytes(manifest_key)
    except _NotFound:
        raise StorageError(
            f"{where}: not a complete upload (no manifest {manifest_key}); upload it again"
        ) from None
    try:
        manifest = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StorageError(f"{where}: the manifest is not valid JSON ({exc})") from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        raise StorageError(f"{where}: not an upload manifest (no 'files' mapping)")
    for key, entry in files.items():
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("size"), int)
            and not isinstance(entry.get("size"), bool)
            and isinstance(entry.get("sha256"), str)
        ):
            raise StorageError(
                f"{where}: the manifest entry of {key!r} needs an integer 'size' and a "
                "'sha256' string"
            )
    return dict(manifest)


def verify_upload(storage: Storage, manifest_key: str) -> dict[str, Any]:
    """Checks that every file a manifest lists is stored with the listed size.

    One listing of the files' common prefix answers for all of them.

    Returns:
        The manifest.

    Raises:
        StorageError: No valid manifest, or files missing or of another size (all named).
    """
    manifest = read_manifest(storage, manifest_key)
    files: dict[str, dict[str, Any]] = manifest["files"]
    if not files:
        return manifest
    # Keys are compared as strings, the way S3 matches a listing prefix.
    common = os.path.commonprefix(list(files))  # noqa: RUF071
    stored = {info.key: info.size for info in storage.list(common)}
    missing = [key for key in sorted(files) if key not in stored]
    wrong = [
        f"{key} ({stored[key]} bytes, expected {files[key]['size']})"
        for key in sorted(files)
        if key in stored and stored[key] != files[key]["size"]
    ]
    if missing or wrong:
        problems = []
        if missing:
            problems.append(f"missing: {', '.join(missing)}")
        if wrong:
            problems.append(f"wrong size: {', '.join(wrong)}")
        raise StorageError(
            f"{storage.url(manifest_key)}: the upload is damaged ({'; '.join(problems)}); "
            "upload it again"
        )
    return manifest


def download_prefix(
    storage: Storage, prefix: str, dest: Path, *, shown_as: Path | None = None
) -> builtins.list[Path]:
    """Downloads every object under the folder ``prefix`` into ``dest``.

    Keys keep their path relative to ``prefix``; each file is written atomically.
    Folder markers (keys ending in ``/``) are skipped.

    Args:
        storage: Where to read.
        prefix: A key folder (``''`` for everything); a trailing ``/`` is optional.
        dest: The local folder.
        shown_as: The folder to name in messages, where ``dest`` is a staging folder
            that will be renamed to it.

    Returns:
        The written files, in key order.

    Raises:
        StorageError: A key would land outside ``dest`` (checked before anything is
            written), or a download fails.
    """
    folder = prefix.strip("/")
    start = f"{folder}/" if folder else ""
    dest = Path(dest)
    targets: builtins.list[tuple[str, Path]] = []
    for info in storage.list(start):
        if info.key.endswith("/"):
            continue
        relative = info.key[len(start) :]
        try:
            parts = _key_parts(relative)
        except StorageError:
            raise StorageError(
                f"{storage.url(info.key)}: refusing to download a key that would land "
                f"outside {shown_as or dest}"
            ) from None
        targets.append((info.key, dest.joinpath(*parts)))
    for key, path in targets:
        storage.get_file(key, path)
    return [path for _, path in targets]
