"""Speech marks in Polly's format: one JSON object a line.

Polly's ``SpeechMarkTypes=["sentence", "word"]`` answer is JSON lines such as
``{"time": 6, "type": "word", "start": 7, "end": 12, "value": "Hello"}``: ``time``
in milliseconds from the start of the audio, ``start``/``end`` byte offsets into
the input text (here: the validated SSML document). The local engine produces the
same lines from espeak-ng's word events.

Contents:
    MARK_TYPES: the kinds written (word, sentence).
    SpeechMark: one mark.
    parse_marks: Polly's JSON lines to marks (one clear error for a bad line).
    marks_to_jsonl: marks to JSON lines.
    sentence_marks: sentence marks timed by the first word mark inside each.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from deepracer.errors import DeepRacerError

__all__ = ["MARK_TYPES", "SpeechMark", "marks_to_jsonl", "parse_marks", "sentence_marks"]

MARK_TYPES: tuple[str, ...] = ("word", "sentence")


@dataclass(frozen=True)
class SpeechMark:
    """One speech mark.

    Attributes:
        time: Milliseconds from the start of the audio.
        type: ``word`` or ``sentence`` (Polly also has ``ssml`` and ``viseme``).
        start: Byte offset of its first byte in the input text.
        end: Byte offset just past it.
        value: The word or sentence.
    """

    time: int
    type: str
    start: int
    end: int
    value: str

    def shifted(self, ms: int, offset: int | None = None) -> SpeechMark:
        """The mark later by ``ms`` and, optionally, at a new byte ``offset``."""
        if offset is None:
            return replace(self, time=self.time + ms)
        return replace(self, time=self.time + ms, start=offset, end=offset + self.end - self.start)

    def to_json(self) -> str:
        """The mark as one JSON line, keys in Polly's order."""
        return json.dumps(
            {
                "time": self.time,
                "type": self.type,
                "start": self.start,
                "end": self.end,
                "value": self.value,
            },
            ensure_ascii=False,
        )


def parse_marks(text: str | bytes, *, source: str = "speech marks") -> list[SpeechMark]:
    """Reads Polly's speech-mark JSON lines.

    Raises:
        DeepRacerError: A line that is not JSON or lacks a field, naming the line.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise DeepRacerError(f"{source}: not UTF-8 text") from None
    marks = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            mark = SpeechMark(
                time=int(data["time"]),
                type=str(data["type"]),
                start=int(data["start"]),
                end=int(data["end"]),
                value=str(data["value"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            problem = f"missing {exc}" if isinstance(exc, KeyError) else "not a speech mark"
            raise DeepRacerError(f"{source}: line {number}: {problem}: {line[:80]!r}") from None
        marks.append(mark)
    return marks


def marks_to_jsonl(marks: Iterable[SpeechMark]) -> str:
    """JSON lines, one mark each, in time order (sentences before their first word)."""
    order = {"sentence": 0, "word": 1}
    ranked = sorted(marks, key=lambda m: (m.time, order.get(m.type, 2), m.start))
    return "".join(m.to_json() + "\n" for m in ranked)


def sentence_marks(
    words: Sequence[SpeechMark], sentences: Iterable[tuple[int, int, str]]
) -> list[SpeechMark]:
    """Sentence marks timed by the first word mark that starts inside each sentence.

    Args:
        words: Word marks (source offsets).
        sentences: ``(start, end, value)`` of each sentence in source offsets.

    Returns:
        One mark per sentence that has a word mark; sentences without one (all
        their words inside tags the engine does not mark) are left out.
    """
    ordered = sorted(words, key=lambda w: w.start)
    starts = [w.start for w in ordered]
    marks = []
    for start, end, value in sentences:
        first = bisect.bisect_left(starts, start)
        last = bisect.bisect_left(starts, end)
        if last > first:
            time = min(w.time for w in ordered[first:last])
            marks.append(SpeechMark(time, "sentence", start, end, value))
    return marks
