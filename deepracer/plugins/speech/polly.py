"""Amazon Polly: the chunks through ``synthesize_speech`` or a synthesis task.

Synchronous (``sync``): one ``synthesize_speech`` call per chunk and output (PCM for
the WAV, MP3 if asked, JSON speech marks). Asynchronous (``task``): one
``start_speech_synthesis_task`` per chunk and output, writing into S3, polled with
``get_speech_synthesis_task`` until ``completed`` (or ``failed``), then read back
from the task's ``OutputUri``. Both send ``TextType="ssml"``, ``Engine="neural"``.

Audio is fetched as PCM (16-bit mono little-endian, 8 or 16 kHz) and wrapped into
WAV here; chunks join end to end. Speech marks come back per chunk: their times
are shifted by the audio before the chunk and their byte offsets mapped from the
chunk's SSML to the validated document. Polly and S3 errors become one
DeepRacerError through :mod:`deepracer.cloud.aws`, naming the call and the chunk.

Contents:
    PollySpeech: the audio, MP3 and marks of all chunks.
    check_polly_voice: ``describe_voices`` says the voice has the neural engine.
    synthesize_polly: the chunks through Polly.
    parse_s3_uri, object_of_uri: S3 locations.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlparse

from deepracer.cloud import aws
from deepracer.errors import DeepRacerError
from deepracer.plugins.speech.audio import Audio
from deepracer.plugins.speech.marks import SpeechMark, parse_marks
from deepracer.plugins.speech.split import Chunk

__all__ = [
    "PollySpeech",
    "check_polly_voice",
    "object_of_uri",
    "parse_s3_uri",
    "synthesize_polly",
]

PCM_RATES = (8000, 16000)
"""Polly's PCM sample rates."""
_EXTENSIONS = {"pcm": "pcm", "mp3": "mp3", "json": "marks"}


@dataclass
class PollySpeech:
    """What Polly returned for all chunks.

    Attributes:
        chunks: Each chunk's audio.
        mp3: Each chunk's MP3 (empty unless asked).
        marks: Speech marks, times from the start of the joined audio, offsets in
            the validated document.
        requests: Polly calls made (tasks count once).
        request_characters: Polly's ``RequestCharacters`` summed (billed).
    """

    chunks: list[Audio] = field(default_factory=list)
    mp3: list[bytes] = field(default_factory=list)
    marks: list[SpeechMark] = field(default_factory=list)
    requests: int = 0
    request_characters: int = 0


def check_polly_voice(client: Any, voice: str, engine: str) -> None:
    """Asks ``describe_voices`` whether ``voice`` speaks with ``engine`` (en-US).

    Raises:
        DeepRacerError: Polly does not list it, or the call failed.
    """
    voices = aws.call(client.describe_voices, LanguageCode="en-US")["Voices"]
    for entry in voices:
        if entry.get("Id") == voice:
            engines = entry.get("SupportedEngines", [])
            if engine not in engines:
                raise DeepRacerError(
                    f"Polly voice {voice}: engines {', '.join(engines)}, not {engine}"
                )
            return
    raise DeepRacerError(f"Polly lists no en-US voice {voice!r} in this region")


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, prefix).

    Raises:
        DeepRacerError: Not an ``s3://`` URI with a bucket.
    """
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise DeepRacerError(f"aws.s3: expected s3://BUCKET/PREFIX, got {uri!r}")
    return parsed.netloc, parsed.path.lstrip("/")


def object_of_uri(uri: str, bucket: str) -> str:
    """The key of a task's ``OutputUri`` in ``bucket`` (path- or virtual-hosted style)."""
    parsed = urlparse(uri)
    path = unquote(parsed.path.lstrip("/"))
    if parsed.scheme == "s3":
        return path
    if parsed.netloc.startswith(bucket + "."):
        return path
    return path[len(bucket) + 1 :] if path.startswith(bucket + "/") else path


@dataclass(frozen=True)
class _Request:
    """One Polly request's settings."""

    voice: str
    engine: str
    output: str  # pcm | mp3 | json
    sample_rate: int | None
    mark_types: tuple[str, ...] = ()

    def params(self, text: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            "Engine": self.engine,
            "OutputFormat": self.output,
            "Text": text,
            "TextType": "ssml",
            "VoiceId": self.voice,
        }
        if self.sample_rate is not None:
            params["SampleRate"] = str(self.sample_rate)
        if self.output == "json":
            params["SpeechMarkTypes"] = list(self.mark_types)
        return params


@dataclass
class _Task:
    """Runs synthesis tasks into S3 and reads them back."""

    client: Any
    s3: Any
    bucket: str
    prefix: str
    poll_seconds: float
    timeout_s: float
    sleep: Callable[[float], None]
    echo: Callable[[str], None]

    def __call__(self, request: _Request, text: str, index: int) -> tuple[bytes, int]:
        params = request.params(text)
        params["OutputS3BucketName"] = self.bucket
        params["OutputS3KeyPrefix"] = f"{self.prefix}chunk{index:03d}-{_EXTENSIONS[request.output]}"
        chunk = f"chunk {index}"
        task = aws.call(self.client.start_speech_synthesis_task, subject=chunk, **params)[
            "SynthesisTask"
        ]
        waited = 0.0
        while task.get("TaskStatus") in ("scheduled", "inProgress"):
            if waited >= self.timeout_s:
                raise DeepRacerError(
                    f"Polly task {task['TaskId']} (chunk {index}) still"
                    f" {task['TaskStatus']} after {self.timeout_s:g} s"
                )
            self.sleep(self.poll_seconds)
            waited += self.poll_seconds
            task = aws.call(
                self.client.get_speech_synthesis_task, subject=chunk, TaskId=task["TaskId"]
            )["SynthesisTask"]
        if task.get("TaskStatus") != "completed":
            raise DeepRacerError(
                f"Polly task {task.get('TaskId')} (chunk {index}) {task.get('TaskStatus')}:"
                f" {task.get('TaskStatusReason', 'no reason given')}"
            )
        key = object_of_uri(task["OutputUri"], self.bucket)
        self.echo(f"speech: chunk {index} {request.output} -> s3://{self.bucket}/{key}")
        with aws.aws_errors("s3.get_object", subject=f"{chunk}: s3://{self.bucket}/{key}"):
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return bytes(body), int(task.get("RequestCharacters", 0))


def _sync(client: Any) -> Callable[[_Request, str, int], tuple[bytes, int]]:
    def call(request: _Request, text: str, index: int) -> tuple[bytes, int]:
        with aws.aws_errors("polly.synthesize_speech", subject=f"chunk {index}"):
            answer = client.synthesize_speech(**request.params(text))
            audio = bytes(answer["AudioStream"].read())
        return audio, int(answer.get("RequestCharacters", 0))

    return call


def synthesize_polly(
    client: Any,
    chunks: Sequence[Chunk],
    *,
    voice: str,
    engine: str = "neural",
    sample_rate: int = 16000,
    mp3: bool = False,
    mark_types: Sequence[str] = ("word", "sentence"),
    mode: str = "sync",
    s3_client: Any = None,
    s3_uri: str = "",
    poll_seconds: float = 2.0,
    timeout_s: float = 600.0,
    sleep: Callable[[float], None] = time.sleep,
    echo: Callable[[str], None] = lambda line: None,
) -> PollySpeech:
    """Synthesizes the chunks with Polly.

    Args:
        client: A boto3 Polly client.
        chunks: From :func:`~deepracer.plugins.speech.split.split_ssml` (within
            the mode's limits).
        voice: Joanna or Matthew.
        engine: neural.
        sample_rate: PCM rate (8000 or 16000).
        mp3: Also fetch MP3.
        mark_types: Speech marks to fetch (none: no marks request).
        mode: ``sync`` or ``task``.
        s3_client: A boto3 S3 client (task mode).
        s3_uri: ``s3://bucket/prefix`` for the task outputs (task mode).
        poll_seconds: Seconds between task polls.
        timeout_s: Give up on a task after this long.
        sleep: Waits between polls (tests pass a no-op).
        echo: Progress lines.

    Raises:
        DeepRacerError: A bad setting, a Polly or S3 error, a failed task, or speech
            marks that do not parse.
    """
    if sample_rate not in PCM_RATES:
        raise DeepRacerError(f"sample_rate: Polly's PCM has {PCM_RATES}, not {sample_rate}")
    call: Callable[[_Request, str, int], tuple[bytes, int]]
    if mode == "task":
        if s3_client is None:
            raise DeepRacerError("polly_mode task needs an S3 client")
        bucket, prefix = parse_s3_uri(s3_uri)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        call = _Task(client, s3_client, bucket, prefix, poll_seconds, timeout_s, sleep, echo)
    elif mode == "sync":
        call = _sync(client)
    else:
        raise DeepRacerError(f"polly_mode: expected sync or task, got {mode!r}")
    result = PollySpeech()
    offset_ms = 0
    for index, chunk in enumerate(chunks, start=1):
        pcm, billed = call(_Request(voice, engine, "pcm", sample_rate), chunk.ssml, index)
        audio = Audio.from_pcm(pcm, sample_rate)
        result.chunks.append(audio)
        result.requests += 1
        result.request_characters += billed
        if mp3:
            data, billed = call(_Request(voice, engine, "mp3", None), chunk.ssml, index)
            result.mp3.append(data)
            result.requests += 1
            result.request_characters += billed
        if mark_types:
            request = _Request(voice, engine, "json", None, tuple(mark_types))
            data, billed = call(request, chunk.ssml, index)
            result.requests += 1
            result.request_characters += billed
            for mark in parse_marks(data, source=f"Polly speech marks (chunk {index})"):
                start = chunk.to_source(mark.start)
                result.marks.append(
                    SpeechMark(
                        mark.time + offset_ms,
                        mark.type,
                        start,
                        chunk.to_source(mark.end),
                        mark.value,
                    )
                )
        offset_ms += round(audio.seconds * 1000)
    return result
