"""Backend ``aws``: Amazon Transcribe of a media file in S3, with its own subtitles.

``start_transcription_job`` asks for the transcript JSON *and* Transcribe's own SRT
and WebVTT (``Subtitles={"Formats": ["srt", "vtt"], "OutputStartIndex": 1}``; the
default start index is 0), written to the experiment's ``aws.s3`` bucket.
``get_transcription_job`` is polled until the job completes or fails; the transcript
and the subtitle files are then read from S3. Transcribe's subtitles are a built-in
oracle: the run checks them with the same rules as ours and reports both. Calls and
their errors go through :mod:`deepracer.cloud.aws` (naming the job or the S3 object).

(Amazon Translate, the other service, is
:class:`~deepracer.plugins.subtitles.translate.AwsTranslator`.)

Contents:
    TranscriptionOutput: what a finished job gave.
    parse_s3_location: an s3:// URI or an S3 https URL to (bucket, key).
    start_request: the ``start_transcription_job`` parameters.
    transcribe_media: start, poll, fetch.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlparse

from deepracer.cloud import aws
from deepracer.errors import DeepRacerError

__all__ = ["TranscriptionOutput", "parse_s3_location", "start_request", "transcribe_media"]

SUBTITLE_FORMATS = ("srt", "vtt")


@dataclass
class TranscriptionOutput:
    """A finished transcription job.

    Attributes:
        job_name: The job.
        transcript: The transcript JSON.
        transcript_uri: Where it was read from.
        subtitles: Transcribe's own subtitle files by format (``srt``, ``vtt``).
        polls: How many ``get_transcription_job`` calls it took.
    """

    job_name: str
    transcript: dict[str, Any]
    transcript_uri: str
    subtitles: dict[str, str] = field(default_factory=dict)
    polls: int = 0


def parse_s3_location(uri: str) -> tuple[str, str]:
    """The ``(bucket, key)`` of an S3 location.

    Accepts ``s3://b/k``, ``https://s3.REGION.amazonaws.com/b/k`` (path style) and
    ``https://b.s3.REGION.amazonaws.com/k`` (virtual-hosted style).

    Raises:
        DeepRacerError: Not an S3 location.
    """
    parsed = urlparse(uri)
    if parsed.scheme == "s3" and parsed.netloc:
        return parsed.netloc, unquote(parsed.path.lstrip("/"))
    host = parsed.netloc.lower()
    if parsed.scheme == "https" and host.endswith(".amazonaws.com"):
        path = unquote(parsed.path.lstrip("/"))
        if host.startswith("s3.") or host.startswith("s3-"):  # path style: /bucket/key
            bucket, _, key = path.partition("/")
            if bucket and key:
                return bucket, key
        elif ".s3." in host or ".s3-" in host:  # virtual-hosted style
            bucket = host.split(".s3")[0]
            if path:
                return bucket, path
    raise DeepRacerError(f"{uri}: not an S3 location (s3://BUCKET/KEY or an S3 https URL)")


def start_request(
    *,
    job_name: str,
    media_uri: str,
    language_code: str,
    output: str,
    max_speakers: int,
) -> dict[str, Any]:
    """The ``start_transcription_job`` parameters.

    Args:
        job_name: The job's name (unique in the account and region).
        media_uri: ``s3://`` audio or video.
        language_code: Its language (``en-US``).
        output: ``s3://BUCKET/PREFIX`` for the transcript and subtitles.
        max_speakers: Speaker labels for up to this many speakers (< 2: none).

    Raises:
        DeepRacerError: ``output`` is not an s3:// location.
    """
    if not output.startswith("s3://"):
        raise DeepRacerError(
            "backend aws with subtitles.media_uri needs aws.s3 (s3://BUCKET/PREFIX) for"
            " Transcribe's output"
        )
    bucket, prefix = parse_s3_location(output)
    prefix = prefix.strip("/")
    request: dict[str, Any] = {
        "TranscriptionJobName": job_name,
        "Media": {"MediaFileUri": media_uri},
        "LanguageCode": language_code,
        "OutputBucketName": bucket,
        "OutputKey": f"{prefix}/{job_name}.json" if prefix else f"{job_name}.json",
        "Subtitles": {"Formats": list(SUBTITLE_FORMATS), "OutputStartIndex": 1},
    }
    if max_speakers >= 2:
        request["Settings"] = {"ShowSpeakerLabels": True, "MaxSpeakerLabels": max_speakers}
    return request


def _read_s3(s3: Any, uri: str) -> str:
    bucket, key = parse_s3_location(uri)
    with aws.aws_errors("s3.get_object", subject=f"reading s3://{bucket}/{key}"):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return bytes(body).decode("utf-8")


def transcribe_media(
    transcribe: Any,
    s3: Any,
    request: dict[str, Any],
    *,
    poll_seconds: float,
    timeout_seconds: float,
    echo: Callable[[str], None] = lambda _: None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> TranscriptionOutput:
    """Starts a transcription job, waits for it, and reads its transcript and subtitles.

    Args:
        transcribe: A boto3 ``transcribe`` client.
        s3: A boto3 ``s3`` client (reads the outputs).
        request: :func:`start_request`'s parameters.
        poll_seconds: Seconds between polls.
        timeout_seconds: Give up after this long (the job keeps running; the message
            says how to look at it).
        echo: Progress lines.
        sleep: Waits between polls (tests pass a no-op).
        clock: Seconds now (tests pass a fake).

    Raises:
        DeepRacerError: The start request was refused, the job failed or timed out, or
            an output could not be read.
    """
    name = request["TranscriptionJobName"]
    subject = f"transcription job {name}"
    aws.call(transcribe.start_transcription_job, subject=subject, **request)
    echo(f"transcription job {name} started")
    started = clock()
    polls = 0
    while True:
        job = aws.call(
            transcribe.get_transcription_job, subject=subject, TranscriptionJobName=name
        )["TranscriptionJob"]
        polls += 1
        status = job.get("TranscriptionJobStatus", "")
        if status == "COMPLETED":
            break
        if status == "FAILED":
            reason = job.get("FailureReason", "no reason given")
            raise DeepRacerError(f"transcription job {name} failed: {reason}")
        if clock() - started > timeout_seconds:
            raise DeepRacerError(
                f"transcription job {name} still {status} after {timeout_seconds:.0f} s; it"
                f" keeps running: aws transcribe get-transcription-job"
                f" --transcription-job-name {name}"
            )
        echo(f"transcription job {name}: {status}")
        sleep(poll_seconds)
    uri = job.get("Transcript", {}).get("TranscriptFileUri", "")
    if not uri:
        raise DeepRacerError(f"transcription job {name} completed without a transcript URI")
    text = _read_s3(s3, uri)
    try:
        transcript = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DeepRacerError(f"{uri}: the transcript is not JSON ({exc.msg})") from None
    subtitles: dict[str, str] = {}
    for sub_uri in job.get("Subtitles", {}).get("SubtitleFileUris", []):
        fmt = sub_uri.rsplit(".", 1)[-1].lower()
        if fmt in SUBTITLE_FORMATS:
            subtitles[fmt] = _read_s3(s3, sub_uri)
    return TranscriptionOutput(name, transcript, uri, subtitles, polls)
