"""deepracer.cloud.storage rule by rule: whole messages, retries, part sizes, file names.

tests/cloud/test_storage.py drives round trips through LocalStorage and moto; here each
rule is pinned down exactly: every error text in full, the backoff delays, multipart
part sizes and numbers (botocore's Stubber checks every parameter), the temporary
file of an atomic write, and the manifest's bytes.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import io
import json
import os
import re
import sys
from collections.abc import Iterator
from datetime import datetime, tzinfo
from pathlib import Path
from typing import IO, Any

import pytest
from botocore import exceptions as bx
from botocore.response import StreamingBody
from botocore.stub import Stubber

from deepracer.cloud import storage as storage_mod
from deepracer.cloud.layout import ArtifactLayout
from deepracer.cloud.storage import (
    BACKOFF,
    LocalStorage,
    ObjectInfo,
    S3Storage,
    StorageError,
    download_prefix,
    open_storage,
    parse_s3_uri,
    read_manifest,
    upload_files,
    verify_upload,
)
from deepracer.errors import ConfigError

REGION = "us-east-1"
EXPECTED = "expected s3://BUCKET/PREFIX, file:///ABSOLUTE/PATH or a folder path"
DENIED = "check the IAM permissions of your AWS credentials and the bucket policy"
INVALID_KEY = "keys are relative '/'-separated paths without empty, '.' or '..' parts"


def untrustworthy(key: str, attempts: int, problem: str) -> str:
    """The whole message of an upload whose stored copy never matched."""
    return (
        f"s3://bkt/{key}: the uploaded object does not match the local data after "
        f"{attempts} attempts ({problem}); the object is not trustworthy, upload it again"
    )


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def client(aws_env: None) -> Any:
    """A real boto3 S3 client (fake credentials); tests stub it with Stubber."""
    import boto3

    return boto3.client("s3", region_name=REGION)


@pytest.fixture
def stubber(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stub:
        yield stub


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def s3(client: Any, sleeps: list[float]) -> S3Storage:
    """Bucket ``bkt`` through the stubbed client, one attempt, recording its sleeps."""
    return S3Storage("bkt", client=client, attempts=1, sleep=sleeps.append)


def put_ok(stubber: Stubber, key: str, data: bytes) -> None:
    """Expects one put_object of ``data`` with its Content-MD5, and answers success."""
    stubber.add_response(
        "put_object",
        {"ETag": f'"{md5_hex(data)}"'},
        {"Bucket": "bkt", "Key": key, "Body": data, "ContentMD5": md5_b64(data)},
    )


def head(stubber: Stubber, key: str, response: dict[str, Any]) -> None:
    stubber.add_response("head_object", response, {"Bucket": "bkt", "Key": key})


class BrokenBody:
    """A response body whose connection breaks mid-download."""

    def __init__(self) -> None:
        self.closed = False

    def read(self, amt: int | None = None) -> bytes:
        raise bx.IncompleteReadError(actual_bytes=1, expected_bytes=5)

    def close(self) -> None:
        self.closed = True


# --------------------------------------------------------------------------- names


def test_a_bucket_name_lowercase_cannot_fix_gets_no_hint() -> None:
    with pytest.raises(ConfigError) as info:
        parse_s3_uri("s3://my_bucket/x")
    assert str(info.value) == (
        "'s3://my_bucket/x': 'my_bucket' is not a valid bucket name (it may only contain"
        " lowercase letters, digits, dots and hyphens); expected s3://BUCKET/PREFIX."
    )


def test_parse_s3_uri_strips_only_slashes_from_the_prefix() -> None:
    assert parse_s3_uri("s3://bucket/Xrun/X/") == ("bucket", "Xrun/X")


@pytest.mark.parametrize("key", ["C:x", "C:/x", "a\0b", "run/a\0b"])
def test_keys_with_a_drive_or_nul_are_invalid(tmp_path: Path, key: str) -> None:
    store = LocalStorage(tmp_path)
    with pytest.raises(StorageError) as info:
        store.exists(key)
    assert str(info.value) == f"invalid key {key!r}: {INVALID_KEY} (storage {tmp_path})"


# --------------------------------------------------------------------------- atomic writes


def test_atomic_write_fills_a_hidden_temp_file_beside_the_target(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "model.bin"
    during: list[str] = []

    def fill(out: IO[bytes]) -> None:
        during.extend(os.listdir(target.parent))
        out.write(b"data")

    storage_mod._atomic_write(target, fill)
    assert len(during) == 1
    assert re.fullmatch(r"\.model\.bin\..+\.dr-tmp", during[0]), during
    assert os.listdir(target.parent) == ["model.bin"]
    assert target.read_bytes() == b"data"


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_written_and_downloaded_files_get_the_mode_open_would_give(
    tmp_path: Path, umask: int
) -> None:
    store = LocalStorage(tmp_path / "store")
    previous = os.umask(umask)
    try:
        store.put_bytes("run/model.zip", b"weights")
        store.get_file("run/model.zip", tmp_path / "copy" / "model.zip")
    finally:
        os.umask(previous)
    for path in (tmp_path / "store" / "run" / "model.zip", tmp_path / "copy" / "model.zip"):
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path


def test_a_failing_writer_leaves_nothing_and_reraises(tmp_path: Path) -> None:
    class WriterFailed(Exception):
        pass

    def fill(out: IO[bytes]) -> None:
        out.write(b"partial")
        raise WriterFailed

    with pytest.raises(WriterFailed):
        storage_mod._atomic_write(tmp_path / "model.bin", fill)
    assert os.listdir(tmp_path) == []


def test_writes_work_where_folders_cannot_be_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Syncing the folder after the rename is best effort (Windows cannot open one)."""
    real_open = os.open

    def files_only(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if os.path.isdir(path):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(path, flags, *args, **kwargs)

    store = LocalStorage(tmp_path)
    monkeypatch.setattr(os, "open", files_only)
    store.put_bytes("run/a.txt", b"a")
    monkeypatch.undo()
    assert store.get_bytes("run/a.txt") == b"a"


# --------------------------------------------------------------------------- LocalStorage


def test_local_list_skips_only_hidden_temp_files(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    store.put_bytes(".hidden", b"h")
    store.put_bytes("notes.dr-tmp", b"nn")
    (tmp_path / ".notes.abc.dr-tmp").write_bytes(b"torn")
    assert store.list("") == [ObjectInfo(".hidden", 1), ObjectInfo("notes.dr-tmp", 2)]


def test_local_list_goes_on_after_a_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStorage(tmp_path)
    store.put_bytes("run/a.txt", b"a")
    store.put_bytes("run/b.txt", b"bb")
    (tmp_path / "run" / ".a.txt.abc.dr-tmp").write_bytes(b"torn")
    real_walk = os.walk

    def temp_files_first(top: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for dirpath, dirnames, filenames in real_walk(top, *args, **kwargs):
            yield dirpath, dirnames, sorted(filenames)  # "." sorts before letters

    monkeypatch.setattr(os, "walk", temp_files_first)
    assert store.list("run/") == [ObjectInfo("run/a.txt", 1), ObjectInfo("run/b.txt", 2)]


def test_local_list_names_an_entry_it_cannot_stat(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "store")
    store.put_bytes("run/a.txt", b"a")
    os.symlink(tmp_path / "gone", tmp_path / "store" / "run" / "dangling")
    with pytest.raises(StorageError) as info:
        store.list("run/")
    assert str(info.value) == (
        f"cannot list 'run/' in {tmp_path / 'store'}: No such file or directory"
    )


def test_local_delete_of_a_folder_fails_with_its_reason(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    store.put_bytes("run/a.txt", b"a")
    with pytest.raises(StorageError) as info:
        store.delete("run")
    assert str(info.value) == f"cannot delete run in {tmp_path}: Is a directory"


def test_local_delete_failure_without_errno_keeps_its_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def read_only(self: Path, missing_ok: bool = False) -> None:
        raise OSError("the disk is read-only")

    monkeypatch.setattr(Path, "unlink", read_only)
    with pytest.raises(StorageError) as info:
        LocalStorage(tmp_path).delete("run/a.txt")
    assert str(info.value) == f"cannot delete run/a.txt in {tmp_path}: the disk is read-only"


def test_local_read_failure_other_than_missing_names_key_and_reason(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    store.put_bytes("run/a.txt", b"a")
    key = "run/" + "n" * 300
    with pytest.raises(StorageError) as info:
        store.get_bytes(key)
    assert str(info.value) == f"cannot read {key} in {tmp_path}: File name too long"


def test_local_get_file_names_the_destination_it_cannot_write(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "store")
    store.put_bytes("a.txt", b"a")
    (tmp_path / "file").write_bytes(b"in the way")
    dest = tmp_path / "file" / "a.txt"
    with pytest.raises(StorageError) as info:
        store.get_file("a.txt", dest)
    assert str(info.value) == f"cannot write {dest}: File exists"


# --------------------------------------------------------------------------- S3 client


def test_s3_without_boto3_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("boto3", "boto3.session", "botocore", "botocore.config", "botocore.exceptions"):
        monkeypatch.setitem(sys.modules, name, None)  # makes the import fail
    with pytest.raises(StorageError) as info:
        S3Storage("bkt")
    assert str(info.value) == "s3:// storage needs boto3: pip install 'deepracer[aws]'"


def test_s3_invalid_endpoint_url(aws_env: None) -> None:
    with pytest.raises(StorageError) as info:
        S3Storage("bkt", endpoint_url="not a url")
    assert str(info.value) == "invalid S3 endpoint URL 'not a url': Invalid endpoint: not a url"


def test_s3_client_that_cannot_be_created(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "missing-profile")
    with pytest.raises(StorageError) as info:
        S3Storage("bkt")
    assert str(info.value) == (
        "cannot create an S3 client: The config profile (missing-profile) could not be found"
    )


def test_s3_storage_needs_a_bucket() -> None:
    with pytest.raises(ConfigError) as info:
        S3Storage("", client=object())
    assert str(info.value) == "S3 storage needs a bucket name; expected s3://BUCKET/PREFIX"


def test_s3_repr_names_the_endpoint_only_when_there_is_one() -> None:
    assert repr(S3Storage("bkt", client=object())) == "S3Storage('bkt')"
    assert repr(S3Storage("bkt", client=object(), endpoint_url="http://minio:9000")) == (
        "S3Storage('bkt', endpoint_url='http://minio:9000')"
    )


# --------------------------------------------------------------------------- verified uploads


@pytest.mark.parametrize("attempts", [0, 1])
def test_an_object_missing_after_upload_is_tried_once_with_one_attempt(
    client: Any, stubber: Stubber, attempts: int
) -> None:
    sleeps: list[float] = []
    store = S3Storage("bkt", client=client, attempts=attempts, sleep=sleeps.append)
    put_ok(stubber, "run/k", b"data")
    stubber.add_client_error(
        "head_object", "404", "Not Found", 404, expected_params={"Bucket": "bkt", "Key": "run/k"}
    )
    with pytest.raises(StorageError) as info:
        store.put_bytes("run/k", b"data")
    assert str(info.value) == untrustworthy(
        "run/k", 1, "S3 does not list the object after the upload"
    )
    stubber.assert_no_pending_responses()
    assert sleeps == []


def test_retries_back_off_doubling_then_fail_with_the_last_problem(
    client: Any, stubber: Stubber
) -> None:
    sleeps: list[float] = []
    store = S3Storage("bkt", client=client, attempts=4, sleep=sleeps.append)
    for _ in range(4):
        put_ok(stubber, "k", b"data")
        head(stubber, "k", {"ContentLength": 5, "ETag": f'"{md5_hex(b"data")}"'})
    with pytest.raises(StorageError) as info:
        store.put_bytes("k", b"data")
    assert str(info.value) == untrustworthy("k", 4, "S3 reports 5 bytes, the local data has 4")
    assert sleeps == [BACKOFF, BACKOFF * 2, BACKOFF * 4]
    assert sleeps == [0.5, 1.0, 2.0]
    stubber.assert_no_pending_responses()


def test_a_body_rejected_every_time_names_the_rejection(
    client: Any, stubber: Stubber, sleeps: list[float]
) -> None:
    store = S3Storage("bkt", client=client, attempts=2, sleep=sleeps.append)
    for _ in range(2):
        stubber.add_client_error("put_object", "BadDigest", "corrupted", 400)
    with pytest.raises(StorageError) as info:
        store.put_bytes("k", b"data")
    assert str(info.value) == untrustworthy(
        "k", 2, "S3 rejected the body of s3://bkt/k as corrupted (BadDigest)"
    )
    assert sleeps == [BACKOFF]


@pytest.mark.parametrize(
    ("reported", "shown"),
    [({}, ""), ({"ETag": '"XbadX"'}, "XbadX"), ({"ETag": "plain"}, "plain")],
)
def test_an_etag_mismatch_shows_the_stored_etag_unquoted(
    s3: S3Storage, stubber: Stubber, reported: dict[str, str], shown: str
) -> None:
    put_ok(stubber, "k", b"data")
    head(stubber, "k", {"ContentLength": 4, **reported})
    with pytest.raises(StorageError) as info:
        s3.put_bytes("k", b"data")
    problem = f"S3 reports ETag {shown!r}, the local data has {md5_hex(b'data')!r}"
    assert str(info.value) == untrustworthy("k", 1, problem)


def test_a_file_of_exactly_the_threshold_goes_in_one_put(
    client: Any, stubber: Stubber, tmp_path: Path
) -> None:
    store = S3Storage("bkt", client=client, multipart_threshold=4)
    source = tmp_path / "four.bin"
    source.write_bytes(b"abcd")
    put_ok(stubber, "run/four.bin", b"abcd")
    head(stubber, "run/four.bin", {"ContentLength": 4, "ETag": f'"{md5_hex(b"abcd")}"'})
    store.put_file("run/four.bin", source)
    stubber.assert_no_pending_responses()


def test_s3_put_file_of_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.bin"
    with pytest.raises(StorageError) as info:
        S3Storage("bkt", client=object()).put_file("run/m.bin", path)
    assert str(info.value) == (
        f"cannot read {path} (to upload as run/m.bin): No such file or directory"
    )


def test_s3_put_file_of_a_folder(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as info:
        S3Storage("bkt", client=object()).put_file("run/m.bin", tmp_path)
    assert str(info.value) == f"cannot read {tmp_path} (to upload as run/m.bin): Is a directory"


# --------------------------------------------------------------------------- multipart


def expect_multipart(stubber: Stubber, key: str, parts: list[bytes]) -> None:
    """Expects a whole multipart upload of ``parts`` (numbered from 1) and its check."""
    stubber.add_response(
        "create_multipart_upload", {"UploadId": "up-1"}, {"Bucket": "bkt", "Key": key}
    )
    for number, part in enumerate(parts, start=1):
        stubber.add_response(
            "upload_part",
            {"ETag": f'"etag-{number}"'},
            {
                "Bucket": "bkt",
                "Key": key,
                "UploadId": "up-1",
                "PartNumber": number,
                "Body": part,
                "ContentMD5": md5_b64(part),
            },
        )
    completed = [{"ETag": f'"etag-{n}"', "PartNumber": n} for n in range(1, len(parts) + 1)]
    stubber.add_response(
        "complete_multipart_upload",
        {},
        {"Bucket": "bkt", "Key": key, "UploadId": "up-1", "MultipartUpload": {"Parts": completed}},
    )
    digests = b"".join(hashlib.md5(part).digest() for part in parts)
    etag = f"{hashlib.md5(digests).hexdigest()}-{len(parts)}"
    head(stubber, key, {"ContentLength": sum(map(len, parts)), "ETag": f'"{etag}"'})


def test_multipart_parts_have_the_chunk_size_and_count_from_one(
    client: Any, stubber: Stubber, tmp_path: Path
) -> None:
    store = S3Storage("bkt", client=client, multipart_threshold=4, multipart_chunk=4)
    source = tmp_path / "ten.bin"
    source.write_bytes(b"0123456789")
    expect_multipart(stubber, "run/ten.bin", [b"0123", b"4567", b"89"])
    store.put_file("run/ten.bin", source)
    stubber.assert_no_pending_responses()


def test_multipart_chunk_grows_to_stay_within_max_parts(
    client: Any, stubber: Stubber, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage_mod, "MAX_PARTS", 2)
    store = S3Storage("bkt", client=client, multipart_threshold=4, multipart_chunk=4)
    source = tmp_path / "eleven.bin"
    source.write_bytes(b"0123456789a")
    expect_multipart(stubber, "run/eleven.bin", [b"012345", b"6789a"])  # ceil(11 / 2) == 6
    store.put_file("run/eleven.bin", source)
    stubber.assert_no_pending_responses()


@pytest.fixture
def multipart(client: Any, tmp_path: Path) -> tuple[S3Storage, Path]:
    """A store that uploads the returned 6-byte file in two parts."""
    source = tmp_path / "six.bin"
    source.write_bytes(b"012345")
    return S3Storage("bkt", client=client, multipart_threshold=4, multipart_chunk=4), source


def test_a_refused_multipart_upload_names_the_object(
    multipart: tuple[S3Storage, Path], stubber: Stubber
) -> None:
    store, source = multipart
    stubber.add_client_error("create_multipart_upload", "AccessDenied", "Forbidden", 403)
    with pytest.raises(StorageError) as info:
        store.put_file("run/six.bin", source)
    assert str(info.value) == f"s3://bkt/run/six.bin: access denied (Forbidden); {DENIED}"
    stubber.assert_no_pending_responses()


def test_a_refused_completion_names_the_object_and_aborts(
    multipart: tuple[S3Storage, Path], stubber: Stubber
) -> None:
    store, source = multipart
    key = "run/six.bin"
    stubber.add_response("create_multipart_upload", {"UploadId": "up-1"})
    stubber.add_response("upload_part", {"ETag": '"e1"'})
    stubber.add_response("upload_part", {"ETag": '"e2"'})
    stubber.add_client_error("complete_multipart_upload", "AccessDenied", "Forbidden", 403)
    stubber.add_response(
        "abort_multipart_upload", {}, {"Bucket": "bkt", "Key": key, "UploadId": "up-1"}
    )
    with pytest.raises(StorageError) as info:
        store.put_file(key, source)
    assert str(info.value) == f"s3://bkt/{key}: access denied (Forbidden); {DENIED}"
    stubber.assert_no_pending_responses()


def test_a_failing_abort_does_not_hide_the_upload_error(
    multipart: tuple[S3Storage, Path], stubber: Stubber
) -> None:
    store, source = multipart
    stubber.add_response("create_multipart_upload", {"UploadId": "up-1"})
    stubber.add_client_error("upload_part", "AccessDenied", "Forbidden", 403)
    stubber.add_client_error("abort_multipart_upload", "InternalError", "try again", 500)
    with pytest.raises(StorageError) as info:
        store.put_file("run/six.bin", source)
    assert str(info.value) == f"s3://bkt/run/six.bin: access denied (Forbidden); {DENIED}"
    stubber.assert_no_pending_responses()


# --------------------------------------------------------------------------- S3 object calls


def test_a_refused_put_names_the_object(s3: S3Storage, stubber: Stubber) -> None:
    stubber.add_client_error("put_object", "AccessDenied", "Forbidden", 403)
    with pytest.raises(StorageError) as info:
        s3.put_bytes("run/k", b"data")
    assert str(info.value) == f"s3://bkt/run/k: access denied (Forbidden); {DENIED}"


def test_get_file_of_a_missing_object_names_it(
    s3: S3Storage, stubber: Stubber, tmp_path: Path
) -> None:
    stubber.add_client_error("get_object", "NoSuchKey", "gone", 404)
    with pytest.raises(StorageError) as info:
        s3.get_file("run/x", tmp_path / "x")
    assert str(info.value) == "s3://bkt/run/x: no such object"
    assert os.listdir(tmp_path) == []


def test_a_download_broken_midway_names_the_object(
    s3: S3Storage, stubber: Stubber, tmp_path: Path
) -> None:
    expected = "s3://bkt/run/x: 1 read, but total bytes expected is 5."
    stubber.add_response("get_object", {"Body": BrokenBody()})
    with pytest.raises(StorageError) as info:
        s3.get_bytes("run/x")
    assert str(info.value) == expected

    body = BrokenBody()
    stubber.add_response("get_object", {"Body": body})
    with pytest.raises(StorageError) as info:
        s3.get_file("run/x", tmp_path / "x")
    assert str(info.value) == expected
    assert body.closed
    assert os.listdir(tmp_path) == []


def test_s3_get_file_names_the_destination_it_cannot_write(
    s3: S3Storage, stubber: Stubber, tmp_path: Path
) -> None:
    (tmp_path / "file").write_bytes(b"in the way")
    dest = tmp_path / "file" / "x"
    stubber.add_response("get_object", {"Body": StreamingBody(io.BytesIO(b"x"), 1)})
    with pytest.raises(StorageError) as info:
        s3.get_file("run/x", dest)
    assert str(info.value) == f"cannot write {dest}: File exists"


def test_s3_delete_treats_a_missing_object_as_done_and_names_a_refused_one(
    s3: S3Storage, stubber: Stubber
) -> None:
    stubber.add_client_error(
        "delete_object", "NoSuchKey", "gone", 404, expected_params={"Bucket": "bkt", "Key": "k"}
    )
    stubber.add_client_error("delete_object", "AccessDenied", "Forbidden", 403)
    s3.delete("k")
    with pytest.raises(StorageError) as info:
        s3.delete("k")
    assert str(info.value) == f"s3://bkt/k: access denied (Forbidden); {DENIED}"
    stubber.assert_no_pending_responses()


# --------------------------------------------------------------------------- open_storage


def test_open_storage_passes_the_endpoint_url(aws_env: None) -> None:
    store, layout = open_storage("s3://bucket/runs/a", endpoint_url="http://127.0.0.1:9")
    assert isinstance(store, S3Storage)
    assert store.endpoint_url == "http://127.0.0.1:9"
    assert store.client.meta.endpoint_url == "http://127.0.0.1:9"
    assert layout == ArtifactLayout("bucket", "runs/a")


def test_open_storage_accepts_file_urls_on_localhost(tmp_path: Path) -> None:
    store, layout = open_storage(f"file://localhost{tmp_path}/with%20space")
    assert isinstance(store, LocalStorage)
    assert store.root == tmp_path / "with space"
    assert (layout.bucket, layout.prefix) == ("", "")


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("gs://bucket/x", f"unsupported storage location 'gs://bucket/x'; {EXPECTED}"),
        ("   ", f"unsupported storage location '   '; {EXPECTED}"),
        ("file://host/x", f"'file://host/x' is not a local file URL; {EXPECTED}"),
        ("file://", f"'file://' is not a local file URL; {EXPECTED}"),
    ],
)
def test_open_storage_rejects_with_the_accepted_forms(location: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        open_storage(location)
    assert str(info.value) == expected


# --------------------------------------------------------------------------- manifests


class FrozenDatetime(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> FrozenDatetime:
        return cls(2024, 5, 6, 7, 8, 9, 654321, tzinfo=tz)


def test_upload_files_writes_the_exact_manifest_and_echoes_each_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage_mod, "datetime", FrozenDatetime)
    monkeypatch.setattr(storage_mod, "_COPY_CHUNK", 4)  # hash the file in several chunks
    source = tmp_path / "a.bin"
    source.write_bytes(b"0123456789")
    store = LocalStorage(tmp_path / "store")
    lines: list[str] = []
    manifest = upload_files(
        store,
        {"run/b.txt": b"bee\n", "run/a.bin": source},
        manifest_key="run/upload.json",
        extra={"experiment": "demo", "version": 2},
        echo=lines.append,
    )
    expected = {
        "created": "2024-05-06T07:08:09Z",
        "experiment": "demo",
        "files": {
            "run/a.bin": {
                "sha256": "84d89877f0d4041efb6bf91a16f0248f2fd573e6af05c19f96bedb9f882f7882",
                "size": 10,
            },
            "run/b.txt": {
                "sha256": "c150e5a8a604acebd8d15bd7bf8ea96b2874bdcc91dee6319977d353251283b0",
                "size": 4,
            },
        },
        "version": 2,
    }
    assert manifest == expected
    text = json.dumps(expected, indent=2, sort_keys=True) + "\n"
    assert store.get_bytes("run/upload.json") == text.encode()
    assert lines == [
        f"uploaded {store.url('run/b.txt')} (4 bytes)",
        f"uploaded {store.url('run/a.bin')} (10 bytes)",
        f"wrote the manifest {store.url('run/upload.json')}",
    ]


@pytest.mark.parametrize(
    ("extra", "clashes"),
    [
        ({"created": "yesterday"}, "['created']"),
        ({"files": {}, "created": ""}, "['created', 'files']"),
    ],
)
def test_upload_files_refuses_extra_fields_it_writes_itself(
    tmp_path: Path, extra: dict[str, Any], clashes: str
) -> None:
    with pytest.raises(ConfigError) as info:
        upload_files(LocalStorage(tmp_path), {"a": b"a"}, manifest_key="m.json", extra=extra)
    assert str(info.value) == f"manifest fields {clashes} are written by upload_files itself"


def test_upload_files_names_a_source_it_cannot_read(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "store")
    missing = tmp_path / "missing.bin"
    with pytest.raises(StorageError) as info:
        upload_files(store, {"run/a.bin": missing}, manifest_key="run/upload.json")
    assert str(info.value) == (
        f"upload of {store.url('run/a.bin')} failed, so the upload is incomplete and has no"
        f" manifest: cannot read {missing}: No such file or directory"
    )


def test_read_manifest_without_one(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    with pytest.raises(StorageError) as info:
        read_manifest(store, "run/upload.json")
    assert str(info.value) == (
        f"{store.url('run/upload.json')}: not a complete upload (no manifest run/upload.json);"
        " upload it again"
    )


@pytest.mark.parametrize(
    "entry",
    [
        {"size": True, "sha256": "ab"},
        {"size": 3, "sha256": 5},
        {"size": "3", "sha256": "ab"},
        {"size": 3},
    ],
)
def test_read_manifest_rejects_an_entry(tmp_path: Path, entry: dict[str, Any]) -> None:
    store = LocalStorage(tmp_path)
    store.put_bytes(
        "m.json", json.dumps({"files": {"ok": {"size": 1, "sha256": ""}, "a": entry}}).encode()
    )
    with pytest.raises(StorageError) as info:
        read_manifest(store, "m.json")
    assert str(info.value) == (
        f"{store.url('m.json')}: the manifest entry of 'a' needs an integer 'size' and a"
        " 'sha256' string"
    )


@pytest.fixture
def uploaded(tmp_path: Path) -> LocalStorage:
    """Four files p/a .. p/d of 1 to 4 bytes, uploaded with the manifest p/upload.json."""
    store = LocalStorage(tmp_path)
    files: dict[str, bytes | Path] = {"p/a": b"a", "p/b": b"bb", "p/c": b"ccc", "p/d": b"dddd"}
    upload_files(store, files, manifest_key="p/upload.json")
    return store


def damaged(store: LocalStorage, problems: str) -> str:
    return f"{store.url('p/upload.json')}: the upload is damaged ({problems}); upload it again"


def test_verify_upload_names_every_missing_and_wrong_file(uploaded: LocalStorage) -> None:
    uploaded.delete("p/a")
    uploaded.delete("p/b")
    uploaded.put_bytes("p/c", b"ccccc")
    uploaded.put_bytes("p/d", b"dddddd")
    with pytest.raises(StorageError) as info:
        verify_upload(uploaded, "p/upload.json")
    assert str(info.value) == damaged(
        uploaded,
        "missing: p/a, p/b; wrong size: p/c (5 bytes, expected 3), p/d (6 bytes, expected 4)",
    )


def test_verify_upload_with_only_missing_files(uploaded: LocalStorage) -> None:
    uploaded.delete("p/c")
    with pytest.raises(StorageError) as info:
        verify_upload(uploaded, "p/upload.json")
    assert str(info.value) == damaged(uploaded, "missing: p/c")


def test_verify_upload_with_only_wrong_sizes(uploaded: LocalStorage) -> None:
    uploaded.put_bytes("p/b", b"")
    with pytest.raises(StorageError) as info:
        verify_upload(uploaded, "p/upload.json")
    assert str(info.value) == damaged(uploaded, "wrong size: p/b (0 bytes, expected 2)")


# --------------------------------------------------------------------------- download_prefix


def test_download_prefix_strips_only_slashes(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "store")
    store.put_bytes("runX/a.txt", b"a")
    store.put_bytes("run/b.txt", b"b")
    dest = tmp_path / "dest"
    assert download_prefix(store, "/runX/", dest) == [dest / "a.txt"]
    assert os.listdir(dest) == ["a.txt"]


class _FailingReader(io.BytesIO):
    """A file that gives its first chunk, then fails as a disk with a bad sector does."""

    def __init__(self) -> None:
        super().__init__(b"x" * 10)
        self.calls = 0

    def read(self, size: int | None = -1) -> bytes:
        self.calls += 1
        if self.calls > 1:
            raise OSError(errno.EIO, "Input/output error")
        return super().read(4)


def test_a_source_that_fails_mid_copy_is_a_read_error_and_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStorage(tmp_path / "store")
    source = tmp_path / "model.zip"
    source.write_bytes(b"x" * 10)
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: _FailingReader())
    with pytest.raises(StorageError) as info:
        store.put_file("run/model.zip", source)
    monkeypatch.undo()
    assert str(info.value) == (
        f"cannot read {source} (to store as run/model.zip): Input/output error"
    )
    assert [p for p in (tmp_path / "store").rglob("*") if p.is_file()] == []


def test_a_stored_file_that_fails_mid_copy_is_a_read_error_of_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStorage(tmp_path / "store")
    store.put_bytes("run/model.zip", b"x" * 10)
    monkeypatch.setattr(LocalStorage, "_open", lambda self, key: _FailingReader())
    target = tmp_path / "copy" / "model.zip"
    with pytest.raises(StorageError) as info:
        store.get_file("run/model.zip", target)
    assert str(info.value) == (f"cannot read run/model.zip in {store.name}: Input/output error")
    assert list(target.parent.iterdir()) == []  # no half copy, no temporary file
