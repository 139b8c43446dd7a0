"""SRT and WebVTT writers, and validators that read the files back with other libraries.

SRT is composed by the ``srt`` library; WebVTT is written here (it is a few lines
and lets us put a ``NOTE`` and a header label in the file). Each file is then parsed
back by two libraries that did not write it — ``pysubs2`` and ``webvtt-py`` for
both formats — and every cue's times and lines must come back exactly; the
times must also be frame times under our rounding rule (see
:mod:`~deepracer.plugins.subtitles.timing`).

Contents:
    Event: one cue as written: number, times in milliseconds, lines.
    to_events: timed cues to events (the one frame -> millisecond conversion).
    write_srt, write_vtt: the file text.
    read_back: a file's text parsed by one library, as events.
    RoundTrip: one file read back by one library: what differed.
    validate: a file against its events, by every reader of its format.
    READERS: the libraries that read each format back.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction

from deepracer.plugins.subtitles.segmenter import Cue
from deepracer.plugins.subtitles.timing import (
    format_vtt_time,
    frame_to_ms,
    ms_to_frame,
    parse_clock,
)

__all__ = [
    "READERS",
    "Event",
    "RoundTrip",
    "read_back",
    "to_events",
    "validate",
    "write_srt",
    "write_vtt",
]

READERS: dict[str, tuple[str, ...]] = {
    "srt": ("pysubs2", "webvtt-py"),
    "vtt": ("webvtt-py", "pysubs2"),
}
"""The libraries that read each format back (none of them wrote it)."""


@dataclass(frozen=True)
class Event:
    """One cue as written.

    Attributes:
        index: Its number (1-based).
        start_ms: In-time in milliseconds.
        end_ms: Out-time in milliseconds.
        lines: Its lines.
    """

    index: int
    start_ms: int
    end_ms: int
    lines: tuple[str, ...]


def to_events(cues: Sequence[Cue], fps: Fraction) -> list[Event]:
    """Cues (frames) to events (milliseconds): the only frame-to-time conversion."""
    return [
        Event(n, frame_to_ms(c.start, fps), frame_to_ms(c.end, fps), c.lines)
        for n, c in enumerate(cues, start=1)
    ]


def write_srt(events: Sequence[Event]) -> str:
    """SRT text, composed by the ``srt`` library (numbered from 1)."""
    import srt

    subtitles = [
        srt.Subtitle(
            index=e.index,
            start=timedelta(milliseconds=e.start_ms),
            end=timedelta(milliseconds=e.end_ms),
            content="\n".join(e.lines),
        )
        for e in events
    ]
    text: str = srt.compose(subtitles, reindex=False)
    return text


def _escape(line: str) -> str:
    # WebVTT cue text treats & and < as markup.
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_vtt(events: Sequence[Event], *, header: str = "", notes: Sequence[str] = ()) -> str:
    """WebVTT text: ``WEBVTT`` (plus ``header``), ``NOTE`` blocks, numbered cues.

    Args:
        events: The cues.
        header: Text after ``WEBVTT -`` on the first line (a label such as "stub").
        notes: Comment blocks (no blank lines and no ``-->`` inside).
    """
    out = ["WEBVTT" + (f" - {header}" if header else ""), ""]
    for note in notes:
        clean = " ".join(note.replace("-->", "->").split())
        out += [f"NOTE {clean}", ""]
    for e in events:
        out.append(str(e.index))
        out.append(f"{format_vtt_time(e.start_ms)} --> {format_vtt_time(e.end_ms)}")
        out.extend(_escape(line) for line in e.lines)
        out.append("")
    return "\n".join(out)


def read_back(text: str, fmt: str, reader: str) -> list[tuple[int, int, tuple[str, ...]]]:
    """Parses subtitle text with one library.

    Args:
        text: The file's text.
        fmt: ``srt`` or ``vtt``.
        reader: ``pysubs2`` or ``webvtt-py``.

    Returns:
        ``(start_ms, end_ms, lines)`` per cue, markup entities decoded.
    """
    if reader == "pysubs2":
        import pysubs2

        parsed = pysubs2.SSAFile.from_string(text, format_=fmt)
        return [
            (int(e.start), int(e.end), tuple(html.unescape(e.plaintext).split("\n")))
            for e in parsed.events
        ]
    if reader == "webvtt-py":
        import webvtt

        if fmt == "srt":
            captions = webvtt.from_buffer(io.StringIO(text), format="srt").captions
        else:
            captions = webvtt.from_string(text).captions
        return [
            (parse_clock(c.start), parse_clock(c.end), tuple(html.unescape(c.text).split("\n")))
            for c in captions
        ]
    raise ValueError(f"unknown reader {reader!r}")


@dataclass
class RoundTrip:
    """One file read back by one library.

    Attributes:
        file: The file name.
        reader: The library.
        cues: How many cues it read.
        problems: What differed from what was written (empty: exact).
        times: ``(start_ms, end_ms)`` it read, per cue.
    """

    file: str
    reader: str
    cues: int = 0
    problems: list[str] = field(default_factory=list)
    times: list[tuple[int, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every cue came back exactly."""
        return not self.problems


def validate(
    name: str, text: str, fmt: str, events: Sequence[Event], fps: Fraction
) -> list[RoundTrip]:
    """Reads a written file back with every reader of its format and compares.

    A reader that raises counts as a problem, not a crash: the run reports it.

    Args:
        name: The file name (for the report).
        text: Its text.
        fmt: ``srt`` or ``vtt``.
        events: What was written.
        fps: The frame rate every time must fall on.
    """
    results = []
    for reader in READERS[fmt]:
        trip = RoundTrip(name, reader)
        try:
            parsed = read_back(text, fmt, reader)
        except Exception as exc:  # any parser failure is a finding about our file
            trip.problems.append(f"{reader} could not parse it: {type(exc).__name__}: {exc}")
            results.append(trip)
            continue
        trip.cues = len(parsed)
        trip.times = [(s, e) for s, e, _ in parsed]
        if len(parsed) != len(events):
            trip.problems.append(f"{len(parsed)} cues read, {len(events)} written")
        for event, (start, end, lines) in zip(events, parsed, strict=False):
            if (start, end) != (event.start_ms, event.end_ms):
                trip.problems.append(
                    f"cue {event.index}: times {start}-{end} ms read,"
                    f" {event.start_ms}-{event.end_ms} written"
                )
            if lines != event.lines:
                trip.problems.append(f"cue {event.index}: lines {lines!r} read, {event.lines!r}")
            for ms in (start, end):
                if frame_to_ms(ms_to_frame(ms, fps), fps) != ms:
                    trip.problems.append(f"cue {event.index}: {ms} ms is not a frame time")
        results.append(trip)
    return results
