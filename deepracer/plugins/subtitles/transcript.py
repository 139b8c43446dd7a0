"""Reading an Amazon Transcribe batch transcript into timed words and sentences.

The format (``results.items[]``): a ``pronunciation`` item is a spoken word with
``start_time`` and ``end_time`` as *strings* of seconds and ``alternatives[0]``
holding ``content`` and ``confidence`` (also a string); a ``punctuation`` item has no
times and belongs to the word before it. Newer outputs add ``id``, ``speaker_label``
and ``audio_segments``; speaker labels are used when present (a cue never spans a
change of speaker).

Bad input stops with one :class:`TranscriptError` naming the file, the item
(``results.items[57]``, its ``id`` and word) and the values. The one repair on offer
(``overlaps: clip``): a word that starts before the previous word ends moves the
previous word's end back to its start, recorded as a :class:`Repair`; a word whose
end is before its own start, or that starts before the previous word *starts*, is
always an error.

Contents:
    TranscriptError: bad transcript input.
    Word: one timed word (punctuation attached), or a word of a translated sentence.
    Repair: one change made to the input, for the report.
    Transcript: the words and what was read.
    Sentence: a run of words ending in . ? ! or at a change of speaker.
    parse_transcript, read_transcript: a mapping or a file to a Transcript.
    split_sentences: the sentences of a word list.
    is_sentence_end: whether a word's text ends a sentence.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from deepracer.errors import DeepRacerError
from deepracer.plugins.subtitles.timing import parse_seconds

__all__ = [
    "Repair",
    "Sentence",
    "Transcript",
    "TranscriptError",
    "Word",
    "is_sentence_end",
    "parse_transcript",
    "read_transcript",
    "split_sentences",
]

SENTENCE_END = (".", "?", "!", "…")
"""Punctuation that ends a sentence (a closing quote or bracket may follow it)."""
_CLOSERS = "\"'”’)]»"


class TranscriptError(DeepRacerError, ValueError):
    """A transcript that cannot be read; the message names the item and the values."""


@dataclass(frozen=True)
class Word:
    """One word as shown: its text with punctuation attached, and when it is spoken.

    Attributes:
        text: The word and any punctuation after it (``"lines,"``).
        start: [s] When it starts, exactly.
        end: [s] When it ends, exactly.
        confidence: Transcribe's confidence (1.0 for words of a translation).
        speaker: Speaker label, empty when the transcript has none.
        sentence_end: Whether a sentence ends with this word.
        item: Its index in ``results.items`` (-1 for words of a translation).
    """

    text: str
    start: Fraction
    end: Fraction
    confidence: float = 1.0
    speaker: str = ""
    sentence_end: bool = False
    item: int = -1


@dataclass(frozen=True)
class Repair:
    """A change made to the transcript (``overlaps: clip``).

    Attributes:
        item: The changed item's index in ``results.items``.
        word: Its word.
        field: What changed (``end_time``).
        old: The value read.
        new: The value used.
        reason: Why.
    """

    item: int
    word: str
    field: str
    old: str
    new: str
    reason: str


@dataclass(frozen=True)
class Transcript:
    """A read transcript.

    Attributes:
        words: The timed words, punctuation attached, in order.
        source: Where it came from (for messages).
        job_name: The transcription job's name, if the file has one.
        repairs: Changes made while reading.
        punctuation: How many punctuation items were attached.
    """

    words: tuple[Word, ...]
    source: str
    job_name: str = ""
    repairs: tuple[Repair, ...] = ()
    punctuation: int = 0

    @property
    def speakers(self) -> tuple[str, ...]:
        """The speaker labels, in order of first appearance."""
        return tuple(dict.fromkeys(w.speaker for w in self.words if w.speaker))

    @property
    def span(self) -> tuple[Fraction, Fraction]:
        """[s] From the first word's start to the last word's end."""
        return self.words[0].start, self.words[-1].end


@dataclass(frozen=True)
class Sentence:
    """Words ``first`` to ``last`` (exclusive) of a word list.

    Attributes:
        first: Index of its first word.
        last: Index after its last word.
        text: Its words joined by spaces.
        speaker: Its speaker label (empty when unlabelled).
    """

    first: int
    last: int
    text: str
    speaker: str


def is_sentence_end(text: str) -> bool:
    """Whether ``text`` ends with . ? ! or … (a closing quote or bracket may follow)."""
    return text.rstrip(_CLOSERS).endswith(SENTENCE_END)


def _describe(index: int, item: Mapping[str, Any], word: str = "") -> str:
    label = f"results.items[{index}]"
    if "id" in item:
        label += f" (id {item['id']!r}"
        label += f", {word!r})" if word else ")"
    elif word:
        label += f" ({word!r})"
    return label


def _content(index: int, item: Mapping[str, Any], where: str) -> tuple[str, Mapping[str, Any]]:
    alternatives = item.get("alternatives")
    if not isinstance(alternatives, list) or not alternatives:
        raise TranscriptError(
            f"{where}: {_describe(index, item)}: expected a non-empty 'alternatives' list"
        )
    best = alternatives[0]
    content = best.get("content") if isinstance(best, Mapping) else None
    if not isinstance(content, str) or not content.strip():
        raise TranscriptError(
            f"{where}: {_describe(index, item)}: alternatives[0] has no text 'content'"
        )
    return content.strip(), best


def _time(index: int, item: Mapping[str, Any], key: str, word: str, where: str) -> Fraction:
    raw = item.get(key)
    if raw is None:
        raise TranscriptError(
            f"{where}: {_describe(index, item, word)}: pronunciation item without {key!r}"
        )
    seconds = parse_seconds(raw)
    if seconds is None or seconds < 0:
        raise TranscriptError(
            f"{where}: {_describe(index, item, word)}: {key} {raw!r} is not a number of"
            ' seconds >= 0 (Transcribe writes times as strings such as "1.27")'
        )
    return seconds


def _confidence(index: int, item: Mapping[str, Any], best: Mapping[str, Any], where: str) -> float:
    raw = best.get("confidence", "1.0")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not 0 <= value <= 1:
        word = str(best.get("content", ""))
        raise TranscriptError(
            f"{where}: {_describe(index, item, word)}: confidence {raw!r} is not a number"
            " from 0 to 1"
        )
    return value


def parse_transcript(
    document: Any, *, source: str = "<transcript>", overlaps: Literal["error", "clip"] = "error"
) -> Transcript:
    """Reads a Transcribe batch transcript (already parsed from JSON).

    Args:
        document: The JSON document.
        source: Names the file in messages.
        overlaps: ``error`` stops at a word that starts before the previous word ends;
            ``clip`` ends the previous word there instead and records a :class:`Repair`.

    Raises:
        TranscriptError: Missing ``results.items``, an unknown item type, a word without
            text, a time that is not a number, ``end_time < start_time``, a word that
            starts before the previous word (or, with ``overlaps: error``, before the
            previous word ends), or no words at all. The message names the item.
    """
    results = document.get("results") if isinstance(document, Mapping) else None
    items = results.get("items") if isinstance(results, Mapping) else None
    if not isinstance(items, list):
        raise TranscriptError(
            f"{source}: missing results.items: expected an Amazon Transcribe batch"
            ' transcript ({"results": {"items": [...]}})'
        )
    words: list[Word] = []
    repairs: list[Repair] = []
    pending = ""  # punctuation before the first word (not seen from Transcribe) leads it
    punctuation = 0
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise TranscriptError(f"{source}: results.items[{index}]: expected an object")
        kind = item.get("type")
        content, best = _content(index, item, source)
        if kind == "punctuation":
            punctuation += 1
            if words:
                last = words[-1]
                text = last.text + content
                words[-1] = Word(
                    text,
                    last.start,
                    last.end,
                    last.confidence,
                    last.speaker,
                    is_sentence_end(text),
                    last.item,
                )
            else:
                pending += content
            continue
        if kind != "pronunciation":
            raise TranscriptError(
                f"{source}: {_describe(index, item, content)}: type {kind!r}; expected"
                " 'pronunciation' or 'punctuation'"
            )
        start = _time(index, item, "start_time", content, source)
        end = _time(index, item, "end_time", content, source)
        if end < start:
            raise TranscriptError(
                f"{source}: {_describe(index, item, content)}: end_time {item['end_time']}"
                f" is before start_time {item['start_time']}"
            )
        if words and start < words[-1].end:
            last = words[-1]
            head = (
                f"{source}: {_describe(index, item, content)} starts at {item['start_time']} s,"
                f" before results.items[{last.item}] ({last.text!r}, {float(last.start):.3f}"
                f" to {float(last.end):.3f} s)"
            )
            if start < last.start:
                raise TranscriptError(f"{head} starts: items out of order")
            if overlaps == "error":
                raise TranscriptError(
                    f"{head} ends: overlapping words (set subtitles.overlaps: clip to end the"
                    " earlier word where the later one starts, with each repair reported)"
                )
            repairs.append(
                Repair(
                    item=last.item,
                    word=last.text,
                    field="end_time",
                    old=f"{float(last.end):.3f}",
                    new=str(item["start_time"]),
                    reason=f"overlapped results.items[{index}] ({content!r})",
                )
            )
            words[-1] = Word(
                last.text,
                last.start,
                start,
                last.confidence,
                last.speaker,
                last.sentence_end,
                last.item,
            )
        speaker = item.get("speaker_label", "")
        text = pending + content
        pending = ""
        words.append(
            Word(
                text=text,
                start=start,
                end=end,
                confidence=_confidence(index, item, best, source),
                speaker=speaker if isinstance(speaker, str) else str(speaker),
                sentence_end=is_sentence_end(text),
                item=index,
            )
        )
    if not words:
        raise TranscriptError(f"{source}: results.items has no pronunciation items (no words)")
    job = document.get("jobName", "")
    return Transcript(
        words=tuple(words),
        source=source,
        job_name=job if isinstance(job, str) else "",
        repairs=tuple(repairs),
        punctuation=punctuation,
    )


def read_transcript(
    path: str | Path, *, overlaps: Literal["error", "clip"] = "error"
) -> Transcript:
    """Reads a Transcribe batch transcript file.

    Raises:
        TranscriptError: The file is missing, is not JSON, or is not a valid transcript.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TranscriptError(f"{path}: transcript file not found") from None
    except OSError as exc:
        raise TranscriptError(f"{path}: cannot read the transcript ({exc.strerror})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TranscriptError(
            f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return parse_transcript(document, source=str(path), overlaps=overlaps)


def split_sentences(words: Sequence[Word]) -> list[Sentence]:
    """Splits words into sentences: after . ? ! and wherever the speaker changes.

    A final run without closing punctuation is a sentence too.
    """
    sentences: list[Sentence] = []
    first = 0
    for k, word in enumerate(words):
        last_word = k == len(words) - 1
        if word.sentence_end or last_word or words[k + 1].speaker != word.speaker:
            text = " ".join(w.text for w in words[first : k + 1])
            sentences.append(Sentence(first, k + 1, text, word.speaker))
            first = k + 1
    return sentences
