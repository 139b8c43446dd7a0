"""Translation by sentence, and re-timing translated sentences over the source speech.

Cues are never translated one by one: a cue boundary can fall mid-sentence, and the
target language may order the words differently. Each source sentence is
translated whole; its words are then given times proportional to their length over
the source sentence's *spoken* time (the source words' intervals, silences inside
the sentence skipped), and the target words are segmented into cues afresh with the
same segmenter and rules.

Backends:

- ``aws``: Amazon Translate, one ``translate_text`` call per distinct sentence;
- ``memory`` (offline **stub**, not machine translation): sentences looked up in a
  translation memory written for the transcript (the shipped sample has German,
  written by us); sentences it lacks pass through untranslated and are counted;
- ``passthrough`` (offline **stub**): the source text unchanged.

Stub output is labelled: its language tag gets the private-use suffix ``-x-stub``
(``de-x-stub``), its WebVTT header and a ``NOTE`` say so, and so does the report.

Contents:
    TranslationError: bad memory files and failed service calls.
    Translator: the interface (``translate(text, source, target)``).
    PassThrough, MemoryTranslator, AwsTranslator: the backends.
    load_memory: a translation memory file.
    retime_sentence: a translated sentence's words, timed over the source sentence.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

from deepracer.cloud import aws
from deepracer.errors import DeepRacerError
from deepracer.plugins.subtitles.transcript import Word, is_sentence_end

__all__ = [
    "AwsTranslator",
    "MemoryTranslator",
    "PassThrough",
    "TranslationError",
    "Translator",
    "load_memory",
    "retime_sentence",
]


class TranslationError(DeepRacerError):
    """A translation memory that cannot be read, or a translation call that failed."""


class Translator(Protocol):
    """Translates one sentence.

    Attributes:
        name: The backend (``aws``, ``memory``, ``passthrough``).
        stub: Whether its output is not a real translation (labelled as such).
        description: One line for the report.
        calls: Sentences translated so far (service calls for ``aws``).
    """

    name: str
    stub: bool
    description: str
    calls: int

    def translate(self, text: str, source: str, target: str) -> str:
        """Returns ``text`` in ``target``."""
        ...


@dataclass
class PassThrough:
    """Offline stub: returns the source text unchanged (for plumbing, not translation)."""

    name: str = "passthrough"
    stub: bool = True
    description: str = "offline stub: source text passed through unchanged (NOT a translation)"
    calls: int = 0

    def translate(self, text: str, source: str, target: str) -> str:
        """Returns ``text``."""
        self.calls += 1
        return text


@dataclass
class MemoryTranslator:
    """Offline stub: whole sentences looked up in a translation memory.

    Attributes:
        memory: ``{target language: {source sentence: translation}}``.
        note: The memory's own description (where its translations come from).
        misses: Per target language, source sentences it lacked (passed through).
    """

    memory: Mapping[str, Mapping[str, str]]
    note: str = ""
    name: str = "memory"
    stub: bool = True
    description: str = (
        "offline stub: sentences looked up in a translation memory, missing ones passed"
        " through untranslated (NOT machine translation)"
    )
    calls: int = 0
    misses: dict[str, list[str]] = field(default_factory=dict)

    def translate(self, text: str, source: str, target: str) -> str:
        """The memory's translation of ``text``, or ``text`` itself (counted as a miss)."""
        self.calls += 1
        found = self.memory.get(target, {}).get(" ".join(text.split()))
        if found is None:
            self.misses.setdefault(target, []).append(text)
            return text
        return found


def load_memory(path: str | Path) -> MemoryTranslator:
    """Reads a translation memory: ``{"note": ..., "translations": {lang: {src: tgt}}}``.

    Raises:
        TranslationError: Missing, not JSON, or not of that shape (the message says where).
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TranslationError(f"{path}: translation memory not found") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise TranslationError(f"{path}: cannot read the translation memory: {exc}") from None
    table = data.get("translations") if isinstance(data, Mapping) else None
    if not isinstance(table, Mapping):
        raise TranslationError(f'{path}: expected {{"translations": {{LANG: {{SOURCE: TARGET}}}}}}')
    memory: dict[str, dict[str, str]] = {}
    for lang, pairs in table.items():
        if not isinstance(pairs, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in pairs.items()
        ):
            raise TranslationError(
                f"{path}: translations.{lang}: expected source sentences mapped to non-empty"
                " translations"
            )
        memory[str(lang)] = {" ".join(k.split()): " ".join(v.split()) for k, v in pairs.items()}
    note = data.get("note", "")
    return MemoryTranslator(memory=memory, note=note if isinstance(note, str) else "")


@dataclass
class AwsTranslator:
    """Amazon Translate: ``translate_text`` once per distinct sentence and language.

    Attributes:
        client: A boto3 ``translate`` client.
        cache: Translations already fetched (repeated sentences are not paid twice).
    """

    client: Any
    name: str = "aws"
    stub: bool = False
    description: str = "Amazon Translate (translate_text, one call per sentence)"
    calls: int = 0
    cache: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def translate(self, text: str, source: str, target: str) -> str:
        """Amazon Translate's translation of one sentence.

        Raises:
            TranslationError: The call failed (the message names the sentence).
        """
        key = (text, source, target)
        if key in self.cache:
            return self.cache[key]
        try:
            response = aws.call(
                self.client.translate_text,
                subject=f"{source}->{target}, sentence {text[:60]!r}",
                Text=text,
                SourceLanguageCode=source,
                TargetLanguageCode=target,
            )
        except DeepRacerError as exc:  # the layer's wording, as this module's error type
            raise TranslationError(str(exc)) from exc
        self.calls += 1
        translated = str(response["TranslatedText"]).strip()
        self.cache[key] = translated
        return translated


def _position(
    intervals: Sequence[tuple[Fraction, Fraction]], voiced: Fraction, late: bool
) -> Fraction:
    """Time at ``voiced`` seconds into the spoken intervals.

    At a boundary between two intervals, ``late`` picks the later one's start (for a
    word's start) and otherwise the earlier one's end (for a word's end), so no word
    starts or ends inside a silence.
    """
    elapsed = Fraction(0)
    for k, (start, end) in enumerate(intervals):
        length = end - start
        last = k == len(intervals) - 1
        if voiced < elapsed + length or (voiced == elapsed + length and (not late or last)):
            return start + (voiced - elapsed)
        elapsed += length
    return intervals[-1][1]


def retime_sentence(source: Sequence[Word], text: str, *, sentence_end: bool = True) -> list[Word]:
    """Times the words of a translated sentence over the source sentence's speech.

    Each target word gets the share of the source's spoken time that its characters
    (and the space before it) are of the target sentence; the spoken time is the
    source words' intervals in order, so silences inside the sentence stay silent.

    Args:
        source: The source sentence's words (their times and speaker are used).
        text: The translated sentence.
        sentence_end: Whether the last word ends a sentence.

    Returns:
        The target words (confidence 1, item -1), in order, times within the source
        sentence's span.
    """
    tokens = text.split()
    if not tokens:
        return []
    speaker = source[0].speaker
    intervals = [(w.start, w.end) for w in source if w.end > w.start]
    if not intervals:  # every source word instantaneous: spread over the whole span
        intervals = [(source[0].start, max(source[-1].end, source[0].start))]
    spoken = sum((end - start for start, end in intervals), Fraction(0))
    total = sum(len(t) for t in tokens) + len(tokens) - 1
    words: list[Word] = []
    offset = 0
    for k, token in enumerate(tokens):
        begin, finish = offset, offset + len(token)
        offset = finish + 1
        start = _position(intervals, spoken * Fraction(begin, total), late=True)
        end = _position(intervals, spoken * Fraction(finish, total), late=False)
        words.append(
            Word(
                text=token,
                start=start,
                end=max(end, start),
                speaker=speaker,
                sentence_end=(sentence_end and k == len(tokens) - 1) or is_sentence_end(token),
            )
        )
    return words
