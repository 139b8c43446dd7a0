"""``backend: aws``: Firehose delivery streams into S3, and waiting for the delivery.

One delivery stream per table (``<stream_prefix>-<table>``). A missing stream is
created (``create_streams``) as DirectPut into ``<aws.s3>/<table>/`` with the role
``aws.role`` and the configured compression; an existing one is used as it is, and
its own S3 destination becomes the Athena table's location. Firehose buffers for a
minute or more before it writes, so after sending, the S3 prefixes are polled until
objects that were not there before hold as many records as were sent.

Contents:
    Destination: one stream and where it delivers.
    parse_s3: ``s3://bucket/prefix`` to its parts.
    ensure_streams: the delivery streams, created or described.
    list_keys: the object keys under a destination.
    wait_for_delivery: polls S3 until the sent records are there.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deepracer.cloud import aws
from deepracer.errors import ConfigError, DeepRacerError

__all__ = ["Destination", "ensure_streams", "list_keys", "parse_s3", "wait_for_delivery"]

STREAM_ACTIVE_TIMEOUT_S = 600.0
"""How long a new delivery stream may take to become ACTIVE."""


@dataclass(frozen=True)
class Destination:
    """One delivery stream and its S3 destination.

    Attributes:
        table: The table it feeds.
        stream: The delivery stream name.
        bucket: The destination bucket.
        prefix: The static part of its prefix (before any ``!{...}`` expression),
            ending in ``/`` unless empty.
        created: Whether this run created it.
    """

    table: str
    stream: str
    bucket: str
    prefix: str
    created: bool = False

    @property
    def location(self) -> str:
        """The Athena table location (Athena reads sub-folders too)."""
        return f"s3://{self.bucket}/{self.prefix}"


def parse_s3(uri: str, what: str = "aws.s3") -> tuple[str, str]:
    """``s3://bucket/prefix`` to ``(bucket, prefix)``, the prefix without slashes at the ends.

    Raises:
        ConfigError: Not an s3:// URI with a bucket.
    """
    if not uri.startswith("s3://") or not uri[5:].split("/", 1)[0]:
        raise ConfigError(f"{what}: expected s3://BUCKET/PREFIX, got {uri!r}")
    bucket, _, prefix = uri[5:].partition("/")
    return bucket, prefix.strip("/")


def _static_prefix(prefix: str) -> str:
    static = prefix.split("!{", 1)[0]
    if static and not static.endswith("/"):
        # A partial folder name: the table must start at the folder above it.
        static = static.rsplit("/", 1)[0] + "/" if "/" in static else ""
    return static


def _describe(client: Any, stream: str) -> dict[str, Any] | None:
    with aws.aws_errors("firehose.describe_delivery_stream", subject=f"Firehose stream {stream}"):
        try:
            response: dict[str, Any] = client.describe_delivery_stream(DeliveryStreamName=stream)
        except Exception as exc:
            if aws.error_code(exc) == "ResourceNotFoundException":
                return None
            raise
    return dict(response["DeliveryStreamDescription"])


def _destination(
    table: str, stream: str, description: Mapping[str, Any], created: bool
) -> Destination:
    for destination in description.get("Destinations", []):
        s3 = destination.get("ExtendedS3DestinationDescription") or destination.get(
            "S3DestinationDescription"
        )
        if s3:
            bucket = str(s3["BucketARN"]).rsplit(":", 1)[-1]
            return Destination(table, stream, bucket, _static_prefix(s3.get("Prefix", "")), created)
    raise DeepRacerError(
        f"Firehose stream {stream} does not deliver to S3; Athena needs an S3 destination"
    )


def ensure_streams(
    client: Any,
    tables: Sequence[str],
    *,
    stream_prefix: str,
    create: bool,
    s3_uri: str,
    role: str,
    gzip_records: bool,
    poll_seconds: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Destination]:
    """The delivery stream of each table, created when missing (and allowed).

    Raises:
        ConfigError: A stream is missing and may not be created, or creating one
            lacks ``aws.s3`` or ``aws.role``.
        DeepRacerError: AWS refused a call, or a new stream did not become ACTIVE.
    """
    destinations: dict[str, Destination] = {}
    for table in tables:
        stream = f"{stream_prefix}-{table}"
        description = _describe(client, stream)
        created = False
        if description is None:
            if not create:
                raise ConfigError(
                    f"Firehose stream {stream} does not exist; create it or set"
                    " social_analytics.create_streams: true"
                )
            if not s3_uri or not role:
                raise ConfigError(
                    f"creating Firehose stream {stream} needs aws.s3 (s3://BUCKET/PREFIX) and"
                    " aws.role (a role Firehose may assume to write there)"
                )
            bucket, prefix = parse_s3(s3_uri)
            with aws.aws_errors(
                "firehose.create_delivery_stream", subject=f"Firehose stream {stream}"
            ):
                client.create_delivery_stream(
                    DeliveryStreamName=stream,
                    DeliveryStreamType="DirectPut",
                    ExtendedS3DestinationConfiguration={
                        "RoleARN": role,
                        "BucketARN": f"arn:aws:s3:::{bucket}",
                        "Prefix": f"{prefix}/{table}/" if prefix else f"{table}/",
                        "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60},
                        "CompressionFormat": "GZIP" if gzip_records else "UNCOMPRESSED",
                    },
                )
            created = True
            deadline = time.monotonic() + STREAM_ACTIVE_TIMEOUT_S
            while True:
                description = _describe(client, stream)
                status = description.get("DeliveryStreamStatus") if description else None
                if status == "ACTIVE":
                    break
                if status == "CREATING_FAILED" or time.monotonic() > deadline:
                    raise DeepRacerError(
                        f"Firehose stream {stream} did not become ACTIVE ({status})"
                    )
                sleep(poll_seconds)
        assert description is not None
        destinations[table] = _destination(table, stream, description, created)
    return destinations


def list_keys(s3: Any, destination: Destination) -> set[str]:
    """Every object key under a destination's prefix."""
    keys: set[str] = set()
    location = f"s3://{destination.bucket}/{destination.prefix}"
    with aws.aws_errors("s3.list_objects_v2", subject=location):
        paginator = s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=destination.bucket, Prefix=destination.prefix):
            keys.update(str(item["Key"]) for item in page.get("Contents", []))
    return keys


def _records_in(s3: Any, bucket: str, key: str) -> int:
    with aws.aws_errors("s3.get_object", subject=f"s3://{bucket}/{key}"):
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return sum(1 for line in data.splitlines() if line.strip())


def wait_for_delivery(
    s3: Any,
    destinations: Mapping[str, Destination],
    before: Mapping[str, set[str]],
    sent: Mapping[str, int],
    *,
    timeout_s: float,
    poll_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    echo: Callable[[str], None] = lambda line: None,
) -> dict[str, list[str]]:
    """Polls S3 until the new objects of each stream hold the records sent to it.

    Args:
        s3: A boto3 ``s3`` client.
        destinations: Table -> its stream's destination.
        before: Table -> the keys that were there before sending.
        sent: Table -> records sent.
        timeout_s: How long to wait in all.
        poll_seconds: Pause between polls.
        sleep: The pause function.
        echo: Progress lines.

    Returns:
        Table -> the new object keys.

    Raises:
        DeepRacerError: The records did not all arrive in time (the message says how
            many did).
    """
    deadline = time.monotonic() + timeout_s
    counted: dict[str, dict[str, int]] = {table: {} for table in destinations}
    while True:
        missing = {}
        for table, destination in destinations.items():
            for key in sorted(list_keys(s3, destination) - before[table]):
                if key not in counted[table]:
                    counted[table][key] = _records_in(s3, destination.bucket, key)
            arrived = sum(counted[table].values())
            if arrived < sent[table]:
                missing[table] = (arrived, sent[table])
        if not missing:
            return {table: sorted(keys) for table, keys in counted.items()}
        if time.monotonic() > deadline:
            detail = ", ".join(f"{t}: {a} of {s}" for t, (a, s) in missing.items())
            raise DeepRacerError(
                f"Firehose had not delivered every record to S3 after {timeout_s:g} s ({detail});"
                " raise social_analytics.delivery_wait_minutes or check the streams' error logs"
            )
        echo(f"social_analytics: waiting for Firehose delivery ({len(missing)} stream(s) pending)")
        sleep(poll_seconds)
