"""Frame-accurate timing: integer frames, exact rational frame rates, one conversion.

Every cue time is a whole frame number. Seconds from the transcript are exact
fractions (``Fraction("12.345")``), frame rates are exact fractions (29.97 is
``30000/1001``), and a frame becomes milliseconds once, at the writer, with exact
rational arithmetic. Floats never touch a time, so 29.97 fps cannot drift.

The millisecond rounding rule. SRT and WebVTT hold whole milliseconds, while frame
``n`` of 29.97 fps video is presented at ``n * 1001 / 30 ms``, not a whole number.
A player shows a cue on the frames whose presentation time ``t`` satisfies
``start <= t < end``. Writing ``ms = floor(n * 1000 / fps)`` (the last whole
millisecond at or before the frame) makes the cue appear exactly on frame ``n``: the
previous frame is more than one millisecond earlier, so it is still before ``ms``.
Rounding to the nearest millisecond (what ``pysubs2.time.frames_to_ms`` does) puts
a third of the 29.97 fps frames a fraction of a millisecond *after* the frame, so
a cue starts and ends one frame late there. The inverse is
``frame = ceil(ms * fps / 1000)``, and ``ms_to_frame(frame_to_ms(n)) == n`` for every
``n`` and every supported rate (tested).

Contents:
    FRAME_RATES: the supported rates by their usual names.
    frame_rate: a configured rate (24, 25, 29.97, ...) as an exact fraction.
    to_fraction: a duration written as "5/6", "0.5" or a number, exactly.
    parse_seconds: a transcript time string, exactly (None when not a number).
    frame_floor, frame_ceil: the frame a time falls in, and the first at or after it.
    frames_for: how many frames a duration needs (rounded up).
    frame_to_ms, ms_to_frame: the one conversion, and its inverse.
    format_srt_time, format_vtt_time: ``HH:MM:SS,mmm`` and ``HH:MM:SS.mmm``.
    parse_clock: either format back to milliseconds.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

__all__ = [
    "FRAME_RATES",
    "format_srt_time",
    "format_vtt_time",
    "frame_ceil",
    "frame_floor",
    "frame_rate",
    "frame_to_ms",
    "frames_for",
    "ms_to_frame",
    "parse_clock",
    "parse_seconds",
    "to_fraction",
]

FRAME_RATES: dict[str, Fraction] = {
    "23.976": Fraction(24000, 1001),
    "24": Fraction(24),
    "25": Fraction(25),
    "29.97": Fraction(30000, 1001),
    "30": Fraction(30),
    "50": Fraction(50),
    "59.94": Fraction(60000, 1001),
    "60": Fraction(60),
}
"""Exact frame rates by the name a configuration writes (NTSC rates are N*1000/1001)."""

_CLOCK = re.compile(r"^(?:(\d+):)?(\d{2}):(\d{2})[.,](\d{3})$")


def frame_rate(value: float | str) -> Fraction:
    """Returns a configured frame rate as an exact fraction.

    Args:
        value: ``24``, ``25``, ``29.97``, ... (a number or its string).

    Raises:
        ValueError: Not one of :data:`FRAME_RATES`.
    """
    key = format(float(value), "g")
    if key not in FRAME_RATES:
        raise ValueError(f"frame rate {value!r}: expected one of {', '.join(FRAME_RATES)}")
    return FRAME_RATES[key]


def to_fraction(value: float | str) -> Fraction:
    """Returns a duration written as ``"5/6"``, ``"0.5"``, ``7`` or ``0.5`` exactly.

    Floats go through their shortest decimal representation, so ``0.1`` is 1/10.

    Raises:
        ValueError: Not a finite number or fraction.
    """
    text = value if isinstance(value, str) else repr(float(value))
    try:
        result = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{value!r} is not a number or fraction such as 5/6") from None
    return result


def parse_seconds(text: object) -> Fraction | None:
    """Returns a transcript time string (``"12.345"``) as exact seconds, or None.

    None means "not a finite decimal number"; the caller names the item.
    """
    if not isinstance(text, str):
        return None
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    return Fraction(number)


def frame_floor(seconds: Fraction, fps: Fraction) -> int:
    """The frame whose interval ``[n/fps, (n+1)/fps)`` contains ``seconds``."""
    return math.floor(seconds * fps)


def frame_ceil(seconds: Fraction, fps: Fraction) -> int:
    """The first frame starting at or after ``seconds``."""
    return math.ceil(seconds * fps)


def frames_for(seconds: Fraction, fps: Fraction) -> int:
    """How many whole frames last at least ``seconds`` (e.g. 5/6 s at 25 fps: 21)."""
    return math.ceil(seconds * fps)


def frame_to_ms(frame: int, fps: Fraction) -> int:
    """Frame number to whole milliseconds: the last millisecond at or before the frame.

    See the module docstring for why this is ``floor`` and not round-to-nearest.
    """
    return math.floor(Fraction(frame * 1000) / fps)


def ms_to_frame(ms: int, fps: Fraction) -> int:
    """Milliseconds to the first frame presented at or after them (inverse of the above)."""
    return math.ceil(Fraction(ms) * fps / 1000)


def _clock(ms: int, separator: str) -> str:
    if ms < 0:
        raise ValueError(f"negative time {ms} ms")
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def format_srt_time(ms: int) -> str:
    """``HH:MM:SS,mmm`` (SRT)."""
    return _clock(ms, ",")


def format_vtt_time(ms: int) -> str:
    """``HH:MM:SS.mmm`` (WebVTT; the hours are always written)."""
    return _clock(ms, ".")


def parse_clock(text: str) -> int:
    """``[HH:]MM:SS.mmm`` or ``HH:MM:SS,mmm`` to milliseconds.

    Raises:
        ValueError: Not a time stamp.
    """
    match = _CLOCK.match(text.strip())
    if match is None:
        raise ValueError(f"not a subtitle time stamp: {text!r}")
    hours, minutes, seconds, millis = match.groups()
    return ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis)
