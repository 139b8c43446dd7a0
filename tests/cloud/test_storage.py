"""deepracer.cloud.storage: local and S3 backends, verified uploads, manifests."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from deepracer.cloud.layout import ArtifactLayout
from deepracer.cloud.storage import (
    ATTEMPTS,
    LocalStorage,
    ObjectInfo,
    S3Storage,
    Storage,
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
BUCKET = "deepracer-test"
MIB = 1024 * 1024
REPO = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def sleeps() -> list[float]:
    return []


_SHARED_SESSION: list[Any] = []


@pytest.fixture
def fast_clients(mock_aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hands S3Storage one shared boto3 Session, so S3's service model loads once.

    S3Storage still builds its clients itself (config, endpoint); only the session
    (with the fake credentials of ``aws_env``) is reused across tests. It is created
    under ``mock_aws``, after moto has hooked into botocore, so its clients stay offline.
    """
    import boto3.session

    if not _SHARED_SESSION:
        _SHARED_SESSION.append(boto3.session.Session())
    monkeypatch.setattr(boto3.session, "Session", lambda: _SHARED_SESSION[0])


@pytest.fixture
def s3(mock_aws: None, fast_clients: None, sleeps: list[float]) -> S3Storage:
    storage = S3Storage(BUCKET, region=REGION, sleep=sleeps.append)
    storage.client.create_bucket(Bucket=BUCKET)
    return storage


def _client_error(operation: str, code: str, status: int) -> Exception:
    from botocore.exceptions import ClientError

    error: Exception = ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )
    return error


def _stubbed(aws_env: None) -> Any:
    import boto3

    return boto3.client("s3", region_name=REGION)


# --------------------------------------------------------------------------- parse_s3_uri


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://bucket/some/prefix/", ("bucket", "some/prefix")),
        ("s3://bucket/some/prefix", ("bucket", "some/prefix")),
        ("s3://my.bucket-1", ("my.bucket-1", "")),
        ("s3://bucket/", ("bucket", "")),
        ("s3://bucket//a/b//", ("bucket", "a/b")),
        ("s3://" + "a" * 63 + "/x", ("a" * 63, "x")),
    ],
)
def test_parse_s3_uri(uri: str, expected: tuple[str, str]) -> None:
    assert parse_s3_uri(uri) == expected


@pytest.mark.parametrize(
    "uri",
    [
        "bucket/prefix",
        "http://bucket/prefix",
        "S3://bucket/prefix",
        "s3://",
        "s3:///prefix",
        "s3://ab/x",
        "s3://" + "a" * 64,
        "s3://My-Bucket/x",
        "s3://my_bucket/x",
        "s3://-bucket/x",
        "s3://bucket-/x",
        "s3://a..b/x",
        "s3://192.168.1.10/x",
    ],
)
def test_parse_s3_uri_rejects(uri: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_s3_uri(uri)
    assert repr(uri) in str(info.value)
    assert "expected s3://BUCKET/PREFIX" in str(info.value)


def test_parse_s3_uri_suggests_lowercase() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'my-bucket'"):
        parse_s3_uri("s3://My-Bucket/x")


# --------------------------------------------------------------------------- LocalStorage


def test_local_round_trip(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "store")
    assert not (tmp_path / "store").exists()  # created on the first write
    store.put_bytes("a/b/one.txt", b"one")
    source = tmp_path / "two.bin"
    source.write_bytes(b"\x00" * 1000)
    store.put_file("a/two.bin", source)
    store.put_bytes("ab.txt", b"x")

    assert store.get_bytes("a/b/one.txt") == b"one"
    store.get_file("a/two.bin", tmp_path / "out" / "two.bin")
    assert (tmp_path / "out" / "two.bin").read_bytes() == source.read_bytes()
    assert store.exists("a/two.bin")
    assert not store.exists("a/missing")
    assert not store.exists("a")  # a folder is not an object
    assert store.list("") == [
        ObjectInfo("a/b/one.txt", 3),
        ObjectInfo("a/two.bin", 1000),
        ObjectInfo("ab.txt", 1),
    ]
    assert [o.key for o in store.list("a/")] == ["a/b/one.txt", "a/two.bin"]
    assert [o.key for o in store.list("a")] == ["a/b/one.txt", "a/two.bin", "ab.txt"]
    assert store.list("nothing/here/") == []
    assert store.url("a/two.bin") == (tmp_path / "store" / "a" / "two.bin").as_uri()
    assert store.name == str(tmp_path / "store")

    store.put_bytes("a/b/one.txt", b"replaced")
    assert store.get_bytes("a/b/one.txt") == b"replaced"
    store.delete("a/b/one.txt")
    store.delete("a/b/one.txt")  # missing is fine
    assert not store.exists("a/b/one.txt")


def test_local_missing_key_names_key_and_root(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    for call in (
        lambda: store.get_bytes("x/y.txt"),
        lambda: store.get_file("x/y.txt", tmp_path / "o"),
    ):
        with pytest.raises(StorageError) as info:
            call()
        assert "x/y.txt" in str(info.value)
        assert str(tmp_path) in str(info.value)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "key", ["../escape", "a/../../escape", "/etc/passwd", "", "a//b", "./a", "a/", "a\\..\\b"]
)
def test_local_rejects_escaping_keys(tmp_path: Path, key: str) -> None:
    store = LocalStorage(tmp_path / "root")
    with pytest.raises(StorageError, match="invalid key"):
        store.put_bytes(key, b"x")
    with pytest.raises(StorageError, match="invalid key"):
        store.get_bytes(key)
    with pytest.raises(StorageError, match="invalid key"):
        store.exists(key)
    assert not (tmp_path / "escape").exists()


def test_local_list_rejects_escaping_prefix(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="invalid key"):
        LocalStorage(tmp_path / "root").list("../")


def test_local_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStorage(tmp_path)
    store.put_bytes("run/model.bin", b"old")

    def crash(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(StorageError, match=r"cannot write run/model\.bin"):
        store.put_bytes("run/model.bin", b"new content")
    source = tmp_path / "new.bin"
    source.write_bytes(b"new file")
    with pytest.raises(StorageError):
        store.put_file("run/model.bin", source)
    with pytest.raises(StorageError):
        store.get_file("run/model.bin", tmp_path / "run" / "copy.bin")
    monkeypatch.undo()

    assert store.get_bytes("run/model.bin") == b"old"
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["model.bin"]


def test_local_list_skips_leftover_temp_files(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    store.put_bytes("a/x.txt", b"x")
    (tmp_path / "a" / ".x.txt.abc123.dr-tmp").write_bytes(b"torn")
    assert store.list("") == [ObjectInfo("a/x.txt", 1)]


def test_local_put_file_missing_source(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot read"):
        LocalStorage(tmp_path / "store").put_file("k", tmp_path / "missing.bin")


# --------------------------------------------------------------------------- open_storage


def test_open_storage_local(tmp_path: Path) -> None:
    store, layout = open_storage(str(tmp_path / "a"))
    assert isinstance(store, LocalStorage)
    assert store.root == tmp_path / "a"
    assert layout == ArtifactLayout("", "")

    store, layout = open_storage((tmp_path / "with space").as_uri())
    assert isinstance(store, LocalStorage)
    assert store.root == tmp_path / "with space"
    assert layout == ArtifactLayout("", "")


def test_open_storage_s3(aws_env: None) -> None:
    store, layout = open_storage(
        "s3://bucket/runs/exp1/", region="eu-west-1", endpoint_url="http://127.0.0.1:9"
    )
    assert isinstance(store, S3Storage)
    assert store.bucket == "bucket"
    assert store.name == "s3://bucket"
    assert store.client.meta.region_name == "eu-west-1"
    assert layout == ArtifactLayout("bucket", "runs/exp1")
    assert layout.manifest_key == "runs/exp1/upload.json"


@pytest.mark.parametrize(
    "location", ["gs://bucket/x", "https://example.com/x", "file://host/x", ""]
)
def test_open_storage_rejects(location: str) -> None:
    with pytest.raises(ConfigError, match="expected s3://BUCKET/PREFIX"):
        open_storage(location)


def test_storage_module_works_without_boto3(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["boto3"] = None  # makes `import boto3` fail
        sys.modules["botocore"] = None
        from pathlib import Path
        from deepracer.cloud import storage
        loaded = [m for m, mod in sys.modules.items() if m.startswith("boto") and mod]
        assert not loaded, loaded
        store, _ = storage.open_storage({str(tmp_path)!r})
        store.put_bytes("k/v.txt", b"v")
        assert store.get_bytes("k/v.txt") == b"v"
        try:
            storage.open_storage("s3://bucket/x")
        except storage.StorageError as exc:
            assert "pip install" in str(exc), exc
        else:
            raise AssertionError("S3 without boto3 should fail")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------- S3Storage


def test_s3_round_trip(s3: S3Storage, tmp_path: Path) -> None:
    s3.put_bytes("exp/a.txt", b"hello")
    source = tmp_path / "b.bin"
    source.write_bytes(os.urandom(4096))
    s3.put_file("exp/sub/b.bin", source)
    s3.put_bytes("expx.txt", b"")

    assert s3.get_bytes("exp/a.txt") == b"hello"
    s3.get_file("exp/sub/b.bin", tmp_path / "out" / "b.bin")
    assert (tmp_path / "out" / "b.bin").read_bytes() == source.read_bytes()
    assert s3.exists("exp/a.txt")
    assert not s3.exists("exp/nope")
    assert s3.list("exp/") == [ObjectInfo("exp/a.txt", 5), ObjectInfo("exp/sub/b.bin", 4096)]
    assert [o.key for o in s3.list("")] == ["exp/a.txt", "exp/sub/b.bin", "expx.txt"]
    assert s3.url("exp/a.txt") == f"s3://{BUCKET}/exp/a.txt"

    s3.delete("exp/a.txt")
    s3.delete("exp/a.txt")  # missing is fine
    assert not s3.exists("exp/a.txt")
    with pytest.raises(StorageError, match=f"s3://{BUCKET}/exp/a.txt: no such object"):
        s3.get_bytes("exp/a.txt")


def test_s3_list_paginates(s3: S3Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(5):
        s3.client.put_object(Bucket=BUCKET, Key=f"many/{4 - i}", Body=b"x" * i)
    real_get_paginator = s3.client.get_paginator
    pages: list[int] = []

    class SmallPages:
        def __init__(self, name: str) -> None:
            self.paginator = real_get_paginator(name)

        def paginate(self, **params: Any) -> Any:
            for page in self.paginator.paginate(**params, PaginationConfig={"PageSize": 2}):
                pages.append(page["KeyCount"])
                yield page

    monkeypatch.setattr(s3.client, "get_paginator", SmallPages)
    assert s3.list("many/") == [ObjectInfo(f"many/{i}", 4 - i) for i in range(5)]
    assert pages == [2, 2, 1]


def test_s3_sends_content_md5(s3: S3Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, Any]] = []
    real_put = s3.client.put_object

    def spy(**params: Any) -> Any:
        seen.append(params)
        return real_put(**params)

    monkeypatch.setattr(s3.client, "put_object", spy)
    s3.put_bytes("k", b"payload")
    assert seen[0]["ContentMD5"] == base64.b64encode(hashlib.md5(b"payload").digest()).decode()


def test_s3_multipart_upload_verified_by_etag(
    s3: S3Storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3.multipart_threshold = 5 * MIB
    s3.multipart_chunk = 5 * MIB
    data = os.urandom(11 * MIB)
    source = tmp_path / "model.tar.gz"
    source.write_bytes(data)
    part_md5s: list[str] = []
    real_upload_part = s3.client.upload_part

    def spy(**params: Any) -> Any:
        part_md5s.append(params["ContentMD5"])
        return real_upload_part(**params)

    monkeypatch.setattr(s3.client, "upload_part", spy)
    s3.put_file("runs/model.tar.gz", source)

    assert len(part_md5s) == 3
    digests = [hashlib.md5(data[i : i + 5 * MIB]).digest() for i in range(0, len(data), 5 * MIB)]
    assert part_md5s == [base64.b64encode(d).decode() for d in digests]
    head = s3.client.head_object(Bucket=BUCKET, Key="runs/model.tar.gz")
    assert head["ETag"].strip('"') == hashlib.md5(b"".join(digests)).hexdigest() + "-3"
    assert head["ContentLength"] == len(data)
    assert s3.get_bytes("runs/model.tar.gz") == data


def test_s3_multipart_failure_aborts(
    s3: S3Storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3.multipart_threshold = 5 * MIB
    s3.multipart_chunk = 5 * MIB
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(11 * MIB))
    real_upload_part = s3.client.upload_part

    def flaky(**params: Any) -> Any:
        if params["PartNumber"] == 2:
            raise _client_error("UploadPart", "InternalError", 500)
        return real_upload_part(**params)

    monkeypatch.setattr(s3.client, "upload_part", flaky)
    with pytest.raises(StorageError, match=f"s3://{BUCKET}/big.bin: UploadPart failed"):
        s3.put_file("big.bin", source)
    assert s3.client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    assert not s3.exists("big.bin")


def test_s3_endpoint_url_reaches_client(aws_env: None) -> None:
    store = S3Storage("bucket", endpoint_url="http://127.0.0.1:9")
    assert store.client.meta.endpoint_url == "http://127.0.0.1:9"
    assert store.endpoint_url == "http://127.0.0.1:9"
    retries = store.client.meta.config.retries
    assert retries["mode"] == "standard"
    assert retries["total_max_attempts"] == 6  # botocore counts the first try too
    assert store.client.meta.config.request_checksum_calculation == "when_required"


def _lying_head(
    s3: S3Storage, monkeypatch: pytest.MonkeyPatch, lies: int, **fields: Any
) -> list[int]:
    """Makes the next ``lies`` head_object calls report ``fields``; returns a call counter."""
    real_head = s3.client.head_object
    calls = [0]

    def head(**params: Any) -> Any:
        calls[0] += 1
        response = real_head(**params)
        return {**response, **fields} if calls[0] <= lies else response

    monkeypatch.setattr(s3.client, "head_object", head)
    return calls


@pytest.mark.parametrize(
    "fields", [{"ETag": '"00000000000000000000000000000000"'}, {"ContentLength": 4}]
)
def test_s3_mismatch_is_retried_then_fails(
    s3: S3Storage, monkeypatch: pytest.MonkeyPatch, sleeps: list[float], fields: dict[str, Any]
) -> None:
    calls = _lying_head(s3, monkeypatch, lies=ATTEMPTS, **fields)
    with pytest.raises(StorageError) as info:
        s3.put_bytes("exp/file.txt", b"hello")
    message = str(info.value)
    assert f"s3://{BUCKET}/exp/file.txt" in message
    assert "not trustworthy" in message
    assert f"after {ATTEMPTS} attempts" in message
    assert calls[0] == ATTEMPTS
    assert len(sleeps) == ATTEMPTS - 1


def test_s3_transient_mismatch_succeeds_on_retry(
    s3: S3Storage, monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    calls = _lying_head(s3, monkeypatch, lies=1, ETag='"bad"')
    s3.put_bytes("k", b"hello")
    assert calls[0] == 2
    assert len(sleeps) == 1
    assert s3.get_bytes("k") == b"hello"


def test_s3_multipart_mismatch_is_detected(
    s3: S3Storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3.multipart_threshold = 5 * MIB
    s3.multipart_chunk = 5 * MIB
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(6 * MIB))
    _lying_head(s3, monkeypatch, lies=ATTEMPTS, ETag='"0123-2"')
    with pytest.raises(StorageError, match="not trustworthy"):
        s3.put_file("big.bin", source)


def test_s3_kms_etag_is_not_compared(s3: S3Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _lying_head(s3, monkeypatch, lies=99, ETag='"kms"', ServerSideEncryption="aws:kms")
    s3.put_bytes("k", b"hello")
    assert calls[0] == 1


def test_s3_bad_digest_is_retried(aws_env: None) -> None:
    from botocore.stub import ANY, Stubber

    client = _stubbed(aws_env)
    sleeps: list[float] = []
    store = S3Storage("bucket", client=client, sleep=sleeps.append)
    md5 = hashlib.md5(b"data").hexdigest()
    put = {"Bucket": "bucket", "Key": "k", "Body": b"data", "ContentMD5": ANY}
    with Stubber(client) as stubber:
        stubber.add_client_error("put_object", "BadDigest", "corrupted", 400, expected_params=put)
        stubber.add_response("put_object", {"ETag": f'"{md5}"'}, put)
        stubber.add_response(
            "head_object",
            {"ContentLength": 4, "ETag": f'"{md5}"'},
            {"Bucket": "bucket", "Key": "k"},
        )
        store.put_bytes("k", b"data")
        stubber.assert_no_pending_responses()
    assert len(sleeps) == 1


# --------------------------------------------------------------------------- errors


def test_no_credentials(no_credentials: None) -> None:
    store = S3Storage(BUCKET, endpoint_url="http://127.0.0.1:9")
    for call in (
        lambda: store.put_bytes("k", b"x"),
        lambda: store.list(""),
        lambda: store.get_bytes("k"),
    ):
        with pytest.raises(StorageError) as info:
            call()
        message = str(info.value)
        assert message.startswith("no AWS credentials found")
        assert "AWS_PROFILE" in message
        assert "aws configure" in message


def test_missing_bucket(mock_aws: None, fast_clients: None) -> None:
    store = S3Storage("no-such-bucket-here", region=REGION)
    calls: list[Callable[[], object]] = [
        lambda: store.put_bytes("k", b"x"),
        lambda: store.get_bytes("k"),
        lambda: store.list(""),
    ]
    for call in calls:
        with pytest.raises(StorageError) as info:
            call()
        assert "s3://no-such-bucket-here: bucket does not exist" in str(info.value)
        assert "aws s3 mb s3://no-such-bucket-here" in str(info.value)


def test_missing_bucket_names_endpoint(aws_env: None) -> None:
    from botocore.stub import Stubber

    client = _stubbed(aws_env)
    store = S3Storage("bkt", client=client, endpoint_url="http://minio:9000")
    with Stubber(client) as stubber:
        stubber.add_client_error("list_objects_v2", "NoSuchBucket", "gone", 404)
        with pytest.raises(StorageError) as info:
            store.list("x/")
    message = str(info.value)
    assert "bucket does not exist at http://minio:9000" in message
    assert "--endpoint-url http://minio:9000" in message


@pytest.mark.parametrize(
    ("method", "code", "status", "expected"),
    [
        ("get_object", "AccessDenied", 403, "s3://bkt/run/x.json: access denied"),
        ("get_object", "NoSuchKey", 404, "s3://bkt/run/x.json: no such object"),
        ("get_object", "InvalidAccessKeyId", 403, "the AWS credentials were rejected"),
        ("list_objects_v2", "404", 404, "s3://bkt: bucket does not exist"),
        ("list_objects_v2", "AccessDenied", 403, "s3://bkt: access denied"),
    ],
)
def test_client_errors_are_translated(
    aws_env: None, method: str, code: str, status: int, expected: str
) -> None:
    from botocore.stub import Stubber

    client = _stubbed(aws_env)
    store = S3Storage("bkt", client=client)
    with Stubber(client) as stubber:
        stubber.add_client_error(method, code, code, status)
        with pytest.raises(StorageError, match=expected):
            if method == "get_object":
                store.get_bytes("run/x.json")
            else:
                store.list("run/")


def test_exists_and_delete_treat_404_as_missing(aws_env: None) -> None:
    from botocore.stub import Stubber

    client = _stubbed(aws_env)
    store = S3Storage("bkt", client=client)
    with Stubber(client) as stubber:
        stubber.add_client_error("head_object", "404", "Not Found", 404)
        stubber.add_client_error("head_object", "403", "Forbidden", 403)
        assert not store.exists("k")
        with pytest.raises(StorageError, match="access denied"):
            store.exists("k")


def test_unreachable_endpoint(aws_env: None) -> None:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url="http://127.0.0.1:9",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2),
    )
    store = S3Storage("bkt", client=client, endpoint_url="http://127.0.0.1:9")
    with pytest.raises(StorageError, match=r"cannot reach http://127\.0\.0\.1:9"):
        store.get_bytes("k")


# --------------------------------------------------------------------------- manifests


class FailingStorage:
    """Delegates to a storage but fails its ``fail_at``-th upload."""

    def __init__(self, inner: Storage, fail_at: int) -> None:
        self.inner = inner
        self.name = inner.name
        self.fail_at = fail_at
        self.uploads = 0

    def _count(self, key: str) -> None:
        self.uploads += 1
        if self.uploads == self.fail_at:
            raise StorageError(f"{self.url(key)}: simulated failure")

    def put_bytes(self, key: str, data: bytes) -> None:
        self._count(key)
        self.inner.put_bytes(key, data)

    def put_file(self, key: str, path: Path) -> None:
        self._count(key)
        self.inner.put_file(key, path)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_upload_files_writes_manifest_last(storage: Storage, tmp_path: Path) -> None:
    source = tmp_path / "reward_function.py"
    source.write_text("def reward_function(params):\n    return 1.0\n")
    files: dict[str, bytes | Path] = {
        "exp/custom_files/reward_function.py": source,
        "exp/custom_files/model_metadata.json": b'{"action_space": []}',
        "exp/deepracer/experiment.yaml": b"name: test\n",
    }
    upload_files(storage, files, manifest_key="exp/upload.json")
    assert storage.exists("exp/upload.json")

    failing = FailingStorage(storage, fail_at=2)
    with pytest.raises(StorageError) as info:
        upload_files(failing, files, manifest_key="exp/upload.json")
    assert "exp/custom_files/model_metadata.json" in str(info.value)
    assert failing.uploads == 2  # stopped at the failure
    assert not storage.exists("exp/upload.json")  # the old manifest is gone too
    with pytest.raises(StorageError, match="not a complete upload"):
        verify_upload(storage, "exp/upload.json")

    lines: list[str] = []
    manifest = upload_files(
        storage,
        files,
        manifest_key="exp/upload.json",
        extra={"experiment": "test"},
        echo=lines.append,
    )
    assert len(lines) == 4
    assert manifest["experiment"] == "test"
    assert manifest["created"].endswith("Z")
    assert manifest["files"]["exp/deepracer/experiment.yaml"] == {
        "size": 11,
        "sha256": hashlib.sha256(b"name: test\n").hexdigest(),
    }
    assert manifest["files"]["exp/custom_files/reward_function.py"]["size"] == source.stat().st_size
    assert json.loads(storage.get_bytes("exp/upload.json")) == manifest
    assert read_manifest(storage, "exp/upload.json") == manifest
    assert verify_upload(storage, "exp/upload.json") == manifest

    storage.delete("exp/custom_files/model_metadata.json")
    storage.put_bytes("exp/deepracer/experiment.yaml", b"changed: yes\n")
    with pytest.raises(StorageError) as info:
        verify_upload(storage, "exp/upload.json")
    message = str(info.value)
    assert "missing: exp/custom_files/model_metadata.json" in message
    assert "wrong size: exp/deepracer/experiment.yaml (13 bytes, expected 11)" in message


def test_upload_files_verification_failure_leaves_no_manifest(
    s3: S3Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_head = s3.client.head_object

    def head(**params: Any) -> Any:
        response = real_head(**params)
        return {**response, "ETag": '"bad"'} if params["Key"] == "e/b" else response

    monkeypatch.setattr(s3.client, "head_object", head)
    files: dict[str, bytes | Path] = {"e/a": b"a", "e/b": b"b", "e/c": b"c"}
    with pytest.raises(StorageError, match=r"s3://deepracer-test/e/b.*not trustworthy"):
        upload_files(s3, files, manifest_key="e/upload.json")
    assert not s3.exists("e/upload.json")
    assert not s3.exists("e/c")


def test_upload_files_rejects_clashes(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    with pytest.raises(ConfigError, match="files"):
        upload_files(store, {"a": b"a"}, manifest_key="m.json", extra={"files": {}})
    with pytest.raises(ConfigError, match=r"m\.json"):
        upload_files(store, {"m.json": b"a"}, manifest_key="m.json")


def test_read_manifest_errors(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    with pytest.raises(StorageError, match=r"not a complete upload \(no manifest m\.json\)"):
        read_manifest(store, "m.json")
    store.put_bytes("m.json", b"{not json")
    with pytest.raises(StorageError, match="not valid JSON"):
        read_manifest(store, "m.json")
    store.put_bytes("m.json", b'{"files": {"a": {"size": "3"}}}')
    with pytest.raises(StorageError, match="integer 'size'"):
        read_manifest(store, "m.json")
    store.put_bytes("m.json", b"[]")
    with pytest.raises(StorageError, match="not an upload manifest"):
        read_manifest(store, "m.json")


def test_verify_upload_lists_once(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    upload_files(store, {"p/a/x": b"1", "p/b/y": b"22"}, manifest_key="p/upload.json")
    prefixes: list[str] = []
    real_list = store.list

    def spy(prefix: str) -> list[ObjectInfo]:
        prefixes.append(prefix)
        return real_list(prefix)

    store.list = spy  # type: ignore[method-assign]
    verify_upload(store, "p/upload.json")
    assert prefixes == ["p/"]


# --------------------------------------------------------------------------- download_prefix


def test_download_prefix_round_trip(storage: Storage, tmp_path: Path) -> None:
    storage.put_bytes("run/a.txt", b"a")
    storage.put_bytes("run/sub/deep/b.bin", b"bb")
    storage.put_bytes("runner/c.txt", b"not under run/")
    dest = tmp_path / "dest"
    written = download_prefix(storage, "run", dest)
    assert written == [dest / "a.txt", dest / "sub" / "deep" / "b.bin"]
    assert (dest / "a.txt").read_bytes() == b"a"
    assert (dest / "sub" / "deep" / "b.bin").read_bytes() == b"bb"
    assert not (dest / "c.txt").exists()
    assert download_prefix(storage, "run/", tmp_path / "again") == [
        tmp_path / "again" / "a.txt",
        tmp_path / "again" / "sub" / "deep" / "b.bin",
    ]
    everything = download_prefix(storage, "", tmp_path / "all")
    assert tmp_path / "all" / "runner" / "c.txt" in everything


def test_download_prefix_refuses_escaping_keys(s3: S3Storage, tmp_path: Path) -> None:
    s3.put_bytes("run/ok.txt", b"ok")
    s3.client.put_object(Bucket=BUCKET, Key="run/../../evil.txt", Body=b"evil")
    s3.client.put_object(Bucket=BUCKET, Key="run/folder/", Body=b"")  # a folder marker
    dest = tmp_path / "deep" / "dest"
    with pytest.raises(StorageError, match=r"run/\.\./\.\./evil\.txt: refusing"):
        download_prefix(s3, "run", dest)
    assert not dest.exists()  # nothing was written
    assert not (tmp_path / "evil.txt").exists()

    s3.delete("run/../../evil.txt")
    assert download_prefix(s3, "run", dest) == [dest / "ok.txt"]
