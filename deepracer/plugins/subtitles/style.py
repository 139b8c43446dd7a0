"""The style guide in frames, and where a line or cue may break.

Limits follow the Netflix English Timed Text Style Guide (42 characters per line, 2
lines, 5/6 s to 7 s, 17 characters per second, 2 frames between cues, in-times within
3 frames of the audio). The break rules follow its line-treatment section: break
after punctuation and before conjunctions and prepositions, never between an
article and its noun or between a first and a last name. A break is classified once
here and used twice: by the segmenter (as a cost) and by the checker (as a rule).

Contents:
    Style: the limits, converted to whole frames at one frame rate.
    Language: articles and "joiners" (conjunctions, prepositions) of a language.
    BreakKind: what breaking between two words costs and which rule it breaks.
    core: a word without surrounding punctuation, lower-cased.
    find_names: capitalised word pairs of a transcript (names never split).
    name_pairs: configured names as protected word pairs.
    classify_break: the cost and rule of breaking between two words.
    ends_sentence: whether a break between two words is a sentence boundary.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

from deepracer.plugins.subtitles.timing import frame_rate, frames_for, to_fraction
from deepracer.plugins.subtitles.transcript import Word

__all__ = [
    "LANGUAGES",
    "BreakKind",
    "Language",
    "Style",
    "classify_break",
    "core",
    "ends_sentence",
    "find_names",
    "name_pairs",
]

_PUNCT = "\"'“”‘’()[]«»¿¡.,;:!?…-–—"
_SOFT_PUNCT = (",", ";", ":", "-", "–", "—", ")", '"', "”", "’")

# Costs of a break between two words, before the segmenter's ``breaks`` weight.
# A sentence end is free; after other punctuation nearly so; before a conjunction or
# preposition (where the guide says to break) cheap; anywhere else mid-phrase dear.
COST_SENTENCE = 0.0
COST_PUNCTUATION = 0.3
COST_BEFORE_JOINER = 1.0
COST_MID_PHRASE = 2.5


@dataclass(frozen=True)
class Style:
    """The style limits in whole frames at one frame rate.

    Attributes:
        fps: Frames per second, exactly (29.97 is 30000/1001).
        max_chars: Characters per line, at most.
        max_lines: Lines per cue, at most.
        min_frames: Shortest cue, in frames (5/6 s at 25 fps: 21).
        max_frames: Longest cue, in frames (7 s at 29.97 fps: 209).
        max_cps: Characters per second, at most, exactly.
        min_gap: Frames between cues, at least.
        close_gap: Gaps shorter than this many frames are closed to ``min_gap``.
        linger: Frames a cue may stay up after its speech to ease reading speed.
        sync_tolerance: Frames an in-time (or a trimmed out-time) may be off the audio.
        max_pause: [s] A silence this long always ends a cue.
    """

    fps: Fraction
    max_chars: int = 42
    max_lines: int = 2
    min_frames: int = 21
    max_frames: int = 175
    max_cps: Fraction = Fraction(17)
    min_gap: int = 2
    close_gap: int = 13
    linger: int = 13
    sync_tolerance: int = 3
    max_pause: Fraction = Fraction(3, 2)

    @classmethod
    def build(
        cls,
        *,
        fps: float | str,
        max_chars: int = 42,
        max_lines: int = 2,
        min_duration: float | str = "5/6",
        max_duration: float | str = 7,
        max_cps: float = 17,
        min_gap_frames: int = 2,
        close_gap: float | str = "0.5",
        max_linger: float | str = "0.5",
        sync_tolerance_frames: int = 3,
        max_pause: float | str = 1.5,
    ) -> Style:
        """Converts limits in seconds to frames at ``fps``.

        The minimum duration rounds up (5/6 s at 25 fps is 20.83 frames: 21) and the
        maximum rounds down (7 s at 29.97 fps is 209.79 frames: 209), so a cue that
        meets the frame limits meets the limits in seconds.
        """
        rate = frame_rate(fps)
        return cls(
            fps=rate,
            max_chars=max_chars,
            max_lines=max_lines,
            min_frames=frames_for(to_fraction(min_duration), rate),
            max_frames=int(to_fraction(max_duration) * rate),
            max_cps=to_fraction(max_cps),
            min_gap=min_gap_frames,
            close_gap=frames_for(to_fraction(close_gap), rate),
            linger=int(to_fraction(max_linger) * rate),
            sync_tolerance=sync_tolerance_frames,
            max_pause=to_fraction(max_pause),
        )

    def seconds(self, frames: int) -> float:
        """Frames as seconds (for display)."""
        return float(frames / self.fps)


@dataclass(frozen=True)
class Language:
    """Words a line or cue must not end on, for one language.

    Attributes:
        code: The language code (``de``, ``pt-BR``).
        articles: Articles: a break right after one splits it from its noun.
        joiners: Conjunctions, prepositions and other clause openers (English "which",
            "how"): break before them, never after.
        known: Whether the word lists exist (other languages get only the name rule).
    """

    code: str
    articles: frozenset[str] = frozenset()
    joiners: frozenset[str] = frozenset()
    known: bool = False

    @classmethod
    def for_code(cls, code: str) -> Language:
        """The rules of ``code`` (by its primary subtag), or none for unknown languages."""
        primary = code.split("-")[0].lower()
        if primary in LANGUAGES:
            articles, joiners = LANGUAGES[primary]
            return cls(code, frozenset(articles.split()), frozenset(joiners.split()), True)
        return cls(code)


LANGUAGES: dict[str, tuple[str, str]] = {
    # Particles that double as prepositions ("next up", "off the line") are left out:
    # ending a line on them is fine.
    "en": (
        "a an the",
        "and but or nor so yet because although though while if when whereas unless"
        " until since that whether than of in on at to for with from by into onto over"
        " under through around about after before behind between across along among"
        " against during without within toward towards per via as how what who whom whose"
        " which where why",
    ),
    "de": (
        "der die das den dem des ein eine einen einem einer eines",
        "und oder aber denn sondern weil dass wenn als ob während damit obwohl in an auf"
        " mit von zu für über unter durch nach bei aus um vor hinter zwischen gegen ohne"
        " bis seit im am zum zur vom beim ins",
    ),
    "es": (
        "el la los las un una unos unas lo",
        "y e o u pero sino porque que si cuando aunque mientras como de del al a en con"
        " por para sin sobre entre hacia hasta desde según tras",
    ),
    "fr": (
        "le la les un une des du au aux",
        "et ou mais donc car que qui si quand comme lorsque de à en dans pour par sur"
        " sous avec sans chez vers entre",
    ),
}
"""Articles and joiners by primary language subtag, space-separated."""


class BreakKind(NamedTuple):
    """Breaking between two words.

    Attributes:
        cost: The soft cost (0 at a sentence end, 2.5 mid-phrase).
        rule: The style rule it breaks (``article``, ``name``, ``dangling``) or None.
    """

    cost: float
    rule: str | None


def core(text: str) -> str:
    """The word without surrounding punctuation, lower-cased (``"Lines,"`` -> ``"lines"``)."""
    return text.strip(_PUNCT).casefold()


def _capitalised(text: str) -> bool:
    stripped = text.strip(_PUNCT)
    return bool(stripped) and stripped[0].isupper() and stripped != "I"


def find_names(words: Sequence[Word], language: Language) -> set[tuple[str, str]]:
    """Word pairs that look like one name: both capitalised, nothing between them.

    ``Sofia Marchetti``, ``Las Vegas`` and ``AWS DeepRacer`` qualify; a sentence's
    capitalised first word only if the next word is capitalised too, and never an
    article (``The Speedway`` is the article rule's business).
    """
    pairs: set[tuple[str, str]] = set()
    for left, right in itertools.pairwise(words):
        if left.sentence_end or left.text != left.text.rstrip(_PUNCT):
            continue
        if core(left.text) in language.articles:
            continue
        if _capitalised(left.text) and _capitalised(right.text):
            pairs.add((core(left.text), core(right.text)))
    return pairs


def name_pairs(names: Iterable[str]) -> set[tuple[str, str]]:
    """Configured names (``"Sofia Marchetti"``) as protected consecutive word pairs."""
    pairs: set[tuple[str, str]] = set()
    for name in names:
        parts = [core(p) for p in name.split()]
        pairs.update(itertools.pairwise(parts))
    return pairs


def ends_sentence(left: Word, right: Word | None) -> bool:
    """Whether the boundary after ``left`` ends a sentence (or the speaker changes)."""
    return right is None or left.sentence_end or left.speaker != right.speaker


def classify_break(
    left: Word, right: Word, language: Language, names: set[tuple[str, str]]
) -> BreakKind:
    """The cost of breaking a line or a cue between ``left`` and ``right``, and its rule.

    Args:
        left: The word before the break.
        right: The word after it.
        language: Articles and joiners of the text's language.
        names: Protected word pairs (see :func:`find_names`).
    """
    if ends_sentence(left, right):
        return BreakKind(COST_SENTENCE, None)
    if left.text.endswith(_SOFT_PUNCT):
        return BreakKind(COST_PUNCTUATION, None)
    word = core(left.text)
    if (word, core(right.text)) in names:
        return BreakKind(COST_MID_PHRASE, "name")
    if word in language.articles:
        return BreakKind(COST_MID_PHRASE, "article")
    if word in language.joiners:
        return BreakKind(COST_MID_PHRASE, "dangling")
    if core(right.text) in language.joiners:
        return BreakKind(COST_BEFORE_JOINER, None)
    return BreakKind(COST_MID_PHRASE, None)
