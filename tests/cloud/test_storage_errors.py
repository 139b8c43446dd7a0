"""Every S3 failure becomes one StorageError, worded exactly: the translation table.

Each row gives the error botocore raises and the whole message the user reads, so a
changed word, a lost hint or a wrong branch fails here (tests/cloud/test_storage.py
drives the same translation through real clients and Stubber).
"""

from __future__ import annotations

import types
from typing import Any

import pytest
from botocore import exceptions as bx

from deepracer.cloud import storage as storage_mod
from deepracer.cloud.storage import S3Storage, StorageError

HINT = "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws configure`"
NO_BUCKET = "s3://bkt: bucket does not exist (create it with `aws s3 mb s3://bkt`)"
DENIED = "check the IAM permissions of your AWS credentials and the bucket policy"


def store(endpoint_url: str | None = None) -> S3Storage:
    return S3Storage("bkt", client=object(), endpoint_url=endpoint_url)


def client_error(code: str | None, message: str | None, status: int | None) -> bx.ClientError:
    response: dict[str, Any] = {}
    if code is not None or message is not None:
        response["Error"] = {
            **({"Code": code} if code is not None else {}),
            **({"Message": message} if message is not None else {}),
        }
    if status is not None:
        response["ResponseMetadata"] = {"HTTPStatusCode": status}
    return bx.ClientError(response, "GetObject")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "message", "status", "key", "expected"),
    [
        ("NoSuchBucket", "gone", 404, "run/x.json", NO_BUCKET),
        # A bucket-level call (key None): a bare 404 or a not-found code is the bucket.
        ("Unknown", "?", 404, None, NO_BUCKET),
        ("NotFound", "?", 400, None, NO_BUCKET),
        (
            "InvalidAccessKeyId",
            "The key is not known",
            403,
            "k",
            f"s3://bkt/k: the AWS credentials were rejected (InvalidAccessKeyId: The key is"
            f" not known); {HINT}",
        ),
        # No message: the code stands in for it.
        (
            "ExpiredToken",
            "",
            400,
            None,
            f"s3://bkt: the AWS credentials were rejected (ExpiredToken: ExpiredToken); {HINT}",
        ),
        ("AllAccessDisabled", "All access disabled", 400, "k", None),
        ("Weird", "Forbidden here", 403, "k", None),
        ("NoSuchKey", "x", 404, "run/x.json", "s3://bkt/run/x.json: no such object"),
        ("Other", "x", 404, "k", "s3://bkt/k: no such object"),
        ("NotFound", "x", 400, "k", "s3://bkt/k: no such object"),
        ("BadDigest", "x", 400, "k", "S3 rejected the body of s3://bkt/k as corrupted (BadDigest)"),
        (
            "InvalidDigest",
            "x",
            400,
            "k",
            "S3 rejected the body of s3://bkt/k as corrupted (InvalidDigest)",
        ),
        (
            "SlowDown",
            "Reduce your rate",
            503,
            "k",
            "s3://bkt/k: GetObject failed: SlowDown: Reduce your rate",
        ),
        # Nothing in the response at all: still one message, not a KeyError.
        (None, None, None, "k", "s3://bkt/k: GetObject failed: : "),
        (
            "InternalError",
            None,
            500,
            "k",
            "s3://bkt/k: GetObject failed: InternalError: InternalError",
        ),
    ],
)
def test_client_errors(
    code: str | None,
    message: str | None,
    status: int | None,
    key: str | None,
    expected: str | None,
) -> None:
    error = store()._translate(client_error(code, message, status), key)
    assert isinstance(error, StorageError)
    if expected is None:  # access denied, by code or by status
        expected = f"s3://bkt/k: access denied ({message}); {DENIED}"
    text = str(error)
    assert text == expected
    assert isinstance(error, storage_mod._NotFound) == text.endswith("no such object")
    assert isinstance(error, storage_mod._Corrupt) == ("as corrupted" in text)


def test_a_missing_bucket_behind_an_endpoint_names_it_twice() -> None:
    error = store("http://minio:9000")._translate(client_error("NoSuchBucket", "", 404), "k")
    assert str(error) == (
        "s3://bkt: bucket does not exist at http://minio:9000 (create it with"
        " `aws s3 mb s3://bkt --endpoint-url http://minio:9000`)"
    )


def test_an_error_without_an_operation_name() -> None:
    exc = types.SimpleNamespace(response={"Error": {"Code": "Teapot", "Message": "short"}})
    error = store()._translate_client_error(exc, "k", "s3://bkt/k")
    assert str(error) == "s3://bkt/k: request failed: Teapot: short"


@pytest.mark.parametrize(
    "exc",
    [bx.NoCredentialsError(), bx.PartialCredentialsError(provider="env", cred_var="SECRET")],
)
def test_missing_credentials(exc: Exception) -> None:
    assert str(store()._translate(exc, "k")) == f"no AWS credentials found (for s3://bkt/k): {HINT}"
    assert str(store()._translate(exc, None)) == f"no AWS credentials found (for s3://bkt): {HINT}"


def test_unreachable_endpoints_name_the_endpoint_or_s3() -> None:
    named = bx.EndpointConnectionError(endpoint_url="http://x:1")
    assert str(store()._translate(named, "k")) == (
        f"cannot reach http://x:1 (for s3://bkt/k): {named}; check the endpoint URL and"
        " your network"
    )
    # The exception names none: the store's endpoint, else plain S3.
    bare = bx.ConnectionError(error="connection refused")
    assert str(store("http://minio:9000")._translate(bare, None)) == (
        f"cannot reach http://minio:9000 (for s3://bkt): {bare}; check the endpoint URL"
        " and your network"
    )
    assert str(store()._translate(bare, None)) == (
        f"cannot reach S3 (for s3://bkt): {bare}; check the endpoint URL and your network"
    )


def test_other_botocore_errors_keep_their_text_and_the_rest_pass_through() -> None:
    exc = bx.ParamValidationError(report="Invalid bucket name")
    assert str(store()._translate(exc, "k")) == f"s3://bkt/k: {exc}"
    assert store()._translate(ValueError("not ours"), "k") is None


@pytest.mark.parametrize(
    ("bucket", "problem"),
    [
        ("ab", "it must have 3 to 63 characters"),
        ("a" * 64, "it must have 3 to 63 characters"),
        ("My_Bucket", "it may only contain lowercase letters, digits, dots and hyphens"),
        ("-bucket", "it must start and end with a letter or digit"),
        ("bucket.", "it must start and end with a letter or digit"),
        ("my..bucket", "it must not contain '..'"),
        ("192.168.1.10", "it must not be an IP address"),
        ("abc", None),  # the shortest name
        ("a" * 63, None),  # the longest
        ("my.bucket-1", None),
    ],
)
def test_bucket_names(bucket: str, problem: str | None) -> None:
    assert storage_mod._bucket_problem(bucket) == problem
