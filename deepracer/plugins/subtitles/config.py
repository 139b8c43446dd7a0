"""The ``subtitles:`` section of an experiment file (no heavy imports).

The style limits default to the Netflix English Timed Text Style Guide: 42 characters
per line, 2 lines, 5/6 s to 7 s per cue, 17 characters per second (adult
programmes), 2 frames between cues, in-times within 3 frames of the audio.

Contents:
    SegmentWeights: the look-ahead segmenter's soft costs.
    SubtitlesConfig: the typed section.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from deepracer.plugins.kit import between, s3_uri_or_empty
from deepracer.plugins.subtitles.timing import FRAME_RATES, to_fraction

__all__ = ["SegmentWeights", "SubtitlesConfig"]

_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
_NAME = re.compile(r"^[A-Za-z0-9_.\-]{0,100}$")
_JOB = re.compile(r"^[0-9a-zA-Z._\-]{0,200}$")


def _seconds(low: float, high: float) -> Callable[[float | str], str | None]:
    def check(value: float | str) -> str | None:
        try:
            seconds = to_fraction(value)
        except ValueError:
            return "seconds as a number or a fraction such as 5/6"
        if low <= seconds <= high:
            return None
        return f"seconds from {low:g} to {high:g} (a number or a fraction such as 5/6)"

    return check


def _fps(value: float) -> str | None:
    return None if format(value, "g") in FRAME_RATES else "one of " + ", ".join(FRAME_RATES)


def _json_path(value: str) -> str | None:
    if value == "" or (value.endswith(".json") and "\n" not in value):
        return None
    return "a path to a .json file, or empty for the default"


def _file_stem(value: str) -> str | None:
    return None if _NAME.match(value) else "letters, digits, '.', '_' or '-' (or empty)"


def _languages(value: list[str]) -> str | None:
    bad = [v for v in value if not _LANGUAGE.match(v)]
    if bad:
        return f"language codes such as 'de' or 'pt-BR' (not {bad[0]!r})"
    return None if len(set(value)) == len(value) else "language codes without repeats"


def _language(value: str) -> str | None:
    return None if _LANGUAGE.match(value) else "a language code such as 'en' or 'pt-BR'"


def _names(value: list[str]) -> str | None:
    if all(len(v.split()) >= 2 for v in value):
        return None
    return "names of two or more words, such as 'Sofia Marchetti'"


def _job(value: str) -> str | None:
    return None if _JOB.match(value) else "letters, digits, '.', '_' or '-' (200 at most)"


def _transcribe_language(value: str) -> str | None:
    ok = re.match(r"^[a-z]{2}-[A-Z]{2}$", value)
    return None if ok else "a Transcribe language code such as 'en-US'"


@dataclass(frozen=True, kw_only=True)
class SegmentWeights:
    """Soft costs of the look-ahead segmenter (hard rules cost 1000 per violation)."""

    cue: float = field(default=1.0, metadata={"check": between(0, 100)})
    """Cost of each cue: more makes fewer, fuller cues."""
    cps: float = field(default=4.0, metadata={"check": between(0, 100)})
    """Cost of reading speed above ``cps_comfort``, squared and scaled to the limit."""
    cps_comfort: float = field(default=13.0, metadata={"check": between(1, 40)})
    """[chars/s] Reading speed that costs nothing; above it the cost grows to the limit."""
    short: float = field(default=4.0, metadata={"check": between(0, 100)})
    """Cost of a cue shown for less than ``short_seconds`` (linear in the shortfall)."""
    short_seconds: float = field(default=1.5, metadata={"check": between(0, 7)})
    """[s] Display time below which a cue counts as short (orphans such as "read them.")."""
    balance: float = field(default=1.0, metadata={"check": between(0, 100)})
    """Cost of two-line cues with unequal lines (per line width of difference)."""
    breaks: float = field(default=1.0, metadata={"check": between(0, 100)})
    """Multiplies the break-point costs (after punctuation cheapest, mid-phrase dearest)."""
    pause: float = field(default=2.0, metadata={"check": between(0, 100)})
    """Cost per second of silence inside a cue (beyond 0.3 s)."""


@dataclass(frozen=True, kw_only=True)
class SubtitlesConfig:
    """Frame-accurate SRT/WebVTT from an Amazon Transcribe transcript, translated."""

    transcript: str = field(default="", metadata={"check": _json_path})
    """Amazon Transcribe batch JSON; empty: the shipped sample (a race commentary)."""
    name: str = field(default="", metadata={"check": _file_stem})
    """Output file stem (``NAME.srt``); empty: the transcript file's stem."""
    fps: float = field(default=25.0, metadata={"check": _fps})
    """Video frame rate every time snaps to (29.97 is exactly 30000/1001)."""
    max_chars_per_line: int = field(default=42, metadata={"check": between(10, 80)})
    """Characters per line, at most (Netflix: 42)."""
    max_lines: int = field(default=2, metadata={"check": between(1, 2)})
    """Lines per cue, at most (Netflix: 2)."""
    min_duration: float | str = field(default="5/6", metadata={"check": _seconds(0.1, 5)})
    """[s] Shortest cue, a number or a fraction (Netflix: 5/6 s, 20 frames at 24 fps)."""
    max_duration: float | str = field(default=7, metadata={"check": _seconds(1, 20)})
    """[s] Longest cue (Netflix: 7 s)."""
    max_cps: float = field(default=17.0, metadata={"check": between(5, 40)})
    """[chars/s] Reading speed, at most (Netflix adult: 17; children's: 13)."""
    min_gap_frames: int = field(default=2, metadata={"check": between(0, 24)})
    """[frames] Gap between consecutive cues, at least (Netflix: 2)."""
    close_gap: float | str = field(default="0.5", metadata={"check": _seconds(0, 3)})
    """[s] Gaps shorter than this are closed to the minimum gap (Netflix: 12 frames at 24)."""
    max_linger: float | str = field(default="0.5", metadata={"check": _seconds(0, 3)})
    """[s] How long a cue may stay up after its speech ends to ease reading speed."""
    sync_tolerance_frames: int = field(default=3, metadata={"check": between(0, 24)})
    """[frames] In-time (and trimmed out-time) distance from the audio, at most (Netflix: 3)."""
    max_pause: float = field(default=1.5, metadata={"check": between(0.2, 10)})
    """[s] A silence this long always ends a cue (no text over long silence)."""
    names: list[str] = field(default_factory=list, metadata={"check": _names})
    """Names never split across lines or cues, beside those found in the transcript."""
    overlaps: Literal["error", "clip"] = "error"
    """Words overlapping the previous word: stop with an error, or clip the previous word's
    end to this word's start and report each repair (``end < start`` is always an error)."""
    low_confidence: float = field(default=0.75, metadata={"check": between(0, 1)})
    """Words Transcribe is less sure of than this are listed in the report."""
    segmenter: Literal["lookahead", "greedy"] = "lookahead"
    """Which segmentation is written (the other is always measured beside it)."""
    weights: SegmentWeights = field(default_factory=SegmentWeights)
    """Soft costs of the look-ahead segmenter."""
    source_language: str = field(default="en", metadata={"check": _language})
    """Language of the transcript (Amazon Translate's source code)."""
    target_languages: list[str] = field(
        default_factory=lambda: ["de"], metadata={"check": _languages}
    )
    """Languages to translate into; each gets its own SRT and WebVTT."""
    translator: Literal["auto", "memory", "passthrough", "aws"] = "auto"
    """``memory``: an offline stub (sentences looked up in ``translation_memory``, others
    passed through); ``passthrough``: source text unchanged (labelled); ``aws``: Amazon
    Translate, one call per sentence; ``auto``: aws on backend aws, memory otherwise."""
    translation_memory: str = field(default="", metadata={"check": _json_path})
    """Sentence translations for the memory stub; empty: ``STEM.translations.json`` beside
    the transcript, if there is one."""
    media_uri: str = field(default="", metadata={"check": s3_uri_or_empty})
    """Backend aws: s3:// audio or video to transcribe first; empty: use ``transcript``."""
    language_code: str = field(default="en-US", metadata={"check": _transcribe_language})
    """Backend aws: Transcribe's language of the media."""
    max_speakers: int = field(default=2, metadata={"check": between(0, 30)})
    """Backend aws: speaker labels for up to this many speakers (0 or 1: none)."""
    job_name: str = field(default="", metadata={"check": _job})
    """Backend aws: the transcription job's name; empty: a UTC time stamp."""
    poll_seconds: float = field(default=10.0, metadata={"check": between(0, 600)})
    """Backend aws: seconds between ``get_transcription_job`` polls."""
    timeout_minutes: float = field(default=60.0, metadata={"check": between(0.1, 24 * 60)})
    """Backend aws: give up waiting for the transcription job after this long."""
