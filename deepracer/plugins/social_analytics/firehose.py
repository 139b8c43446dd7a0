"""Records delivered the way Firehose delivers them: batched, partitioned by hour.

Firehose buffers a stream's records and writes each buffer as one S3 object,
``<prefix>YYYY/MM/DD/HH/<stream>-<version>-YYYY-MM-DD-HH-MM-SS-<random>``, the
records concatenated as sent (so each must end in a newline for Athena's JSON SerDe).
:class:`PartitionWriter` writes the same layout under a local folder: a buffer closes
when it holds ``buffer_records`` records or its first and newest records are
``buffer_seconds`` apart, and the time in the path is its first record's. Time here is
the tweet's ``created_at`` (Firehose uses arrival time), so the same input gives the
same files; the random part is a UUID derived from the seed, the stream and the
file's sequence number for the same reason.

Each file is written atomically (temporary file, fsync, rename) as soon as its buffer
closes, so a run that stops keeps every file it finished, and no reader ever sees
half a file.

:class:`FirehoseSender` sends records with ``put_record_batch`` (500 records or
4 MiB per call at most) and resends the ones a partial failure names.

Contents:
    STREAM_VERSION: the ``<version>`` in file names.
    WrittenFile: one finished partition file.
    PartitionWriter: one stream's local partition files.
    FirehoseSender: ``put_record_batch`` with retries of failed records.
    encode_record: a record as one newline-terminated JSON line.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from deepracer.cloud import aws
from deepracer.errors import DeepRacerError
from deepracer.io import atomic_write_bytes

__all__ = ["STREAM_VERSION", "FirehoseSender", "PartitionWriter", "WrittenFile", "encode_record"]

STREAM_VERSION = 1
"""The delivery stream version in Firehose's object names."""
BATCH_RECORDS = 500
"""``put_record_batch`` takes at most 500 records ..."""
BATCH_BYTES = 4 * 1024 * 1024
"""... and 4 MiB per call."""
RECORD_BYTES = 1000 * 1024
"""One record is at most 1,000 KiB."""


def encode_record(record: dict[str, Any]) -> bytes:
    """One record as compact UTF-8 JSON ending in a newline (Athena needs one per line)."""
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


@dataclass(frozen=True)
class WrittenFile:
    """One partition file.

    Attributes:
        stream: The stream (table) name.
        path: The file, relative to the writer's root.
        records: Records in it.
        first: The first record's time.
    """

    stream: str
    path: Path
    records: int
    first: datetime


class PartitionWriter:
    """One stream's records as Firehose-style partition files under ``root/stream/``.

    Args:
        root: The folder of all streams (``records/`` in the run directory).
        stream: The stream name (also the table name).
        seed: Seeds the file names' UUIDs.
        buffer_records: Records per file at most.
        buffer_seconds: Record-time span of one file at most [s].
        compress: gzip the files (``.gz``).
    """

    def __init__(
        self,
        root: Path,
        stream: str,
        *,
        seed: int,
        buffer_records: int,
        buffer_seconds: float,
        compress: bool = False,
    ) -> None:
        self.root = root
        self.stream = stream
        self.seed = seed
        self.buffer_records = buffer_records
        self.buffer_seconds = buffer_seconds
        self.compress = compress
        self.files: list[WrittenFile] = []
        self.records = 0
        self._buffer: list[bytes] = []
        self._first: datetime | None = None

    def add(self, record: dict[str, Any], when: datetime) -> None:
        """Buffers one record that arrived at ``when``; may close and write a file."""
        first = self._first
        if first is not None and (
            len(self._buffer) >= self.buffer_records
            or (when - first).total_seconds() >= self.buffer_seconds
            or when < first  # out of order: a new buffer, as a late arrival would get
        ):
            self.flush()
        if self._first is None:
            self._first = when
        self._buffer.append(encode_record(record))
        self.records += 1

    def _uuid(self, index: int) -> uuid.UUID:
        digest = hashlib.sha256(f"{self.seed}:{self.stream}:{index}".encode()).digest()
        return uuid.UUID(bytes=digest[:16], version=4)

    def flush(self) -> WrittenFile | None:
        """Writes the buffer as one file (atomically); None when it is empty."""
        if not self._buffer or self._first is None:
            return None
        first = self._first
        name = (
            f"{self.stream}-{STREAM_VERSION}-{first:%Y-%m-%d-%H-%M-%S}-"
            f"{self._uuid(len(self.files))}{'.gz' if self.compress else ''}"
        )
        relative = Path(
            self.stream, f"{first:%Y}", f"{first:%m}", f"{first:%d}", f"{first:%H}", name
        )
        data = b"".join(self._buffer)
        if self.compress:
            data = gzip.compress(data, mtime=0)  # mtime 0: the same records, the same bytes
        atomic_write_bytes(self.root / relative, data)
        written = WrittenFile(self.stream, relative, len(self._buffer), first)
        self.files.append(written)
        self._buffer = []
        self._first = None
        return written

    def paths(self) -> list[Path]:
        """The finished files, absolute, in writing order."""
        return [self.root / f.path for f in self.files]


class FirehoseSender:
    """Sends records to Firehose delivery streams with ``put_record_batch``.

    Args:
        client: A boto3 ``firehose`` client.
        streams: Table name -> delivery stream name.
        max_attempts: Sends per record before giving up on a partial failure.
        sleep: The pause between attempts (tests pass a no-op).
    """

    def __init__(
        self,
        client: Any,
        streams: dict[str, str],
        *,
        max_attempts: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.streams = streams
        self.max_attempts = max_attempts
        self.sleep = sleep
        self.sent: dict[str, int] = {table: 0 for table in streams}
        self.calls = 0
        self._pending: dict[str, list[bytes]] = {table: [] for table in streams}

    def add(self, table: str, record: dict[str, Any]) -> None:
        """Queues one record of ``table``; sends a batch when one is full.

        Raises:
            DeepRacerError: The record exceeds Firehose's 1,000 KiB, or a batch fails.
        """
        data = encode_record(record)
        if len(data) > RECORD_BYTES:
            raise DeepRacerError(
                f"a {table} record is {len(data)} bytes, over Firehose's {RECORD_BYTES} per record"
            )
        pending = self._pending[table]
        if len(pending) >= BATCH_RECORDS or sum(map(len, pending)) + len(data) > BATCH_BYTES:
            self._send(table)
        self._pending[table].append(data)

    def flush(self) -> None:
        """Sends everything queued."""
        for table in self._pending:
            if self._pending[table]:
                self._send(table)

    def _send(self, table: str) -> None:
        stream = self.streams[table]
        batch = self._pending[table]
        self._pending[table] = []
        for attempt in range(1, self.max_attempts + 1):
            with aws.aws_errors("firehose.put_record_batch", subject=f"Firehose stream {stream}"):
                response = self.client.put_record_batch(
                    DeliveryStreamName=stream, Records=[{"Data": data} for data in batch]
                )
            self.calls += 1
            failed = int(response.get("FailedPutCount", 0))
            answers = response.get("RequestResponses", [])
            if not failed:
                self.sent[table] += len(batch)
                return
            retry = [data for data, r in zip(batch, answers, strict=False) if r.get("ErrorCode")]
            self.sent[table] += len(batch) - len(retry)
            batch = retry
            if attempt < self.max_attempts:
                self.sleep(min(2.0**attempt * 0.1, 5.0))  # Firehose throttles: back off
        codes = sorted({str(r.get("ErrorCode")) for r in answers if r.get("ErrorCode")})
        raise DeepRacerError(
            f"firehose.put_record_batch ({stream}): {len(batch)} records still failed after"
            f" {self.max_attempts} attempts ({', '.join(codes) or 'no error code'})"
        )
