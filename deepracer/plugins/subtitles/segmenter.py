"""Cue segmentation with look-ahead (dynamic programming), and the greedy baseline.

A cue is a run of words ``first..last``. Its timing depends only on its own words and
the word after it (whose first frame is the next cue's in-time), so every candidate
cue can be timed, laid out and scored on its own, and the best segmentation of the
whole transcript is a shortest path over break points::

    best[i] = min over j of cost(words i..j-1) + best[j],   best[n] = 0

The cost adds, per cue: 1000 per broken hard rule (a line over the limit, more lines
than allowed, too short, too long, too fast, a gap under the minimum, a break after an
article, inside a name or after a conjunction or preposition), and soft costs: one
per cue, reading speed above a comfortable rate (squared), display time under 1.5 s
(this is what keeps "read them." from being left on its own), unequal lines, where
the line and cue breaks fall, and silence inside the cue. Greedy segmentation fills
each cue as far as it can; it never looks ahead, so the last words of a long
sentence end up alone.

Timing of a cue, in whole frames (``s`` its in-time, ``e`` its out-time, exclusive):

1. ``s`` is the frame the first word starts in; ``e`` the first frame after the last
   word ends;
2. ``e`` grows to the minimum duration, then (by at most ``linger`` frames) to what
   the reading speed needs;
3. a gap to the next cue under ``close_gap`` frames is closed to ``min_gap`` (chained
   cues, as the guide asks), and a gap under ``min_gap`` is made ``min_gap`` by
   ending earlier.

Contents:
    Cue: a timed cue with its lines.
    Segmenter: the look-ahead segmentation, the greedy one, and both scorers.
    GREEDY_PAUSE: the greedy baseline's pause break (0.7 s, as in the facts file).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from deepracer.plugins.subtitles.config import SegmentWeights
from deepracer.plugins.subtitles.style import Language, Style, classify_break, ends_sentence
from deepracer.plugins.subtitles.timing import frame_ceil, frame_floor, frames_for
from deepracer.plugins.subtitles.transcript import Word

__all__ = ["GREEDY_PAUSE", "HARD", "Cue", "Segmenter"]

HARD = 1000.0
"""Cost of each broken hard rule: any number of soft costs is cheaper than one."""
GREEDY_PAUSE = Fraction(7, 10)
"""[s] The greedy baseline ends a cue at a silence this long."""
_FREE_PAUSE = Fraction(3, 10)  # silence inside a cue up to this costs nothing (breaths)
_MID_SENTENCE_CUE = 1.0  # extra break cost when a cue ends inside a sentence
_MID_LINE_SENTENCE = 1.5  # a sentence ending inside a line (not at its end)


@dataclass(frozen=True)
class Cue:
    """A timed cue.

    Attributes:
        first: Index of its first word.
        last: Index after its last word.
        line_ends: Index after the last word of each line (the last is ``last``).
        lines: The lines' text.
        start: In-time, a frame number.
        end: Out-time, the first frame no longer showing it.
        speech_start: Frame the first word starts in.
        speech_end: First frame after the last word ends.
    """

    first: int
    last: int
    line_ends: tuple[int, ...]
    lines: tuple[str, ...]
    start: int
    end: int
    speech_start: int
    speech_end: int

    @property
    def chars(self) -> int:
        """Characters shown: every character of every line (spaces and punctuation)."""
        return sum(len(line) for line in self.lines)

    @property
    def frames(self) -> int:
        """Display time in frames."""
        return self.end - self.start

    def cps(self, fps: Fraction) -> Fraction:
        """Characters per second, exactly."""
        return Fraction(self.chars) * fps / max(self.frames, 1)


@dataclass(frozen=True)
class _Layout:
    line_ends: tuple[int, ...]
    hard: int
    cost: float


class Segmenter:
    """Segments one word list into cues under one style.

    Args:
        words: The words, in order (a transcript's, or a translation's re-timed words).
        style: The limits in frames.
        language: The text's articles and joiners.
        names: Protected word pairs.
        weights: Soft costs of the look-ahead segmentation.
    """

    def __init__(
        self,
        words: Sequence[Word],
        style: Style,
        language: Language,
        names: set[tuple[str, str]],
        weights: SegmentWeights | None = None,
    ) -> None:
        self.words = tuple(words)
        self.style = style
        self.language = language
        self.names = names
        self.weights = weights or SegmentWeights()
        # Prefix sums of word lengths: chars(i, j) in O(1).
        self._prefix = [0, *itertools.accumulate(len(w.text) for w in self.words)]
        self._starts = [frame_floor(w.start, style.fps) for w in self.words]
        self._ends = [frame_ceil(w.end, style.fps) for w in self.words]
        self._breaks = [
            classify_break(a, b, language, names)
            for a, b in zip(self.words, self.words[1:], strict=False)
        ]

    # -- pieces ----------------------------------------------------------------------------

    def chars(self, i: int, j: int) -> int:
        """Characters of words ``i..j-1`` on one line (spaces between words)."""
        return self._prefix[j] - self._prefix[i] + (j - i - 1)

    def timing(self, i: int, j: int) -> tuple[int, int]:
        """In-time and out-time (frames) of a cue of words ``i..j-1`` (see the module)."""
        st = self.style
        s = self._starts[i]
        speech_end = max(self._ends[j - 1], s + 1)
        e = max(speech_end, s + st.min_frames)
        need = s + frames_for(Fraction(self.chars(i, j)) / st.max_cps, st.fps)
        if need > e:
            e = max(e, min(need, speech_end + st.linger, s + st.max_frames))
        if j < len(self.words):
            next_start = self._starts[j]
            gap = next_start - e
            if gap < st.min_gap:
                e = next_start - st.min_gap
            elif gap < st.close_gap:
                e = min(next_start - st.min_gap, max(e, s + st.max_frames))
        return s, max(e, s + 1)

    def _layout(self, i: int, j: int) -> _Layout:
        """Best line breaks for words ``i..j-1``: one line when it fits, else two."""
        st, w = self.style, self.weights
        total = self.chars(i, j)
        if total <= st.max_chars or j - i == 1 or st.max_lines == 1:
            hard = int(total > st.max_chars)
            return _Layout((j,), hard, self._inner_sentence_cost(i, j, ()))
        best: _Layout | None = None
        for k in range(i + 1, j):  # the second line starts at word k
            first, second = self.chars(i, k), self.chars(k, j)
            kind = self._breaks[k - 1]
            hard = int(first > st.max_chars) + int(second > st.max_chars)
            hard += int(kind.rule is not None)
            cost = w.breaks * kind.cost + w.balance * abs(first - second) / st.max_chars
            cost += self._inner_sentence_cost(i, j, (k,))
            candidate = _Layout((k, j), hard, cost)
            if best is None or (candidate.hard, candidate.cost) < (best.hard, best.cost):
                best = candidate
        assert best is not None  # j - i >= 2 here
        return best

    def _inner_sentence_cost(self, i: int, j: int, breaks: tuple[int, ...]) -> float:
        """Sentences ending inside a line read worse than at a line's end."""
        cost = 0.0
        for k in range(i, j - 1):
            if self.words[k].sentence_end and k + 1 not in breaks:
                cost += self.weights.breaks * _MID_LINE_SENTENCE
        return cost

    def build(self, i: int, j: int) -> Cue:
        """The cue of words ``i..j-1``: laid out and timed."""
        layout = self._layout(i, j)
        start, end = self.timing(i, j)
        bounds = (i, *layout.line_ends)
        lines = tuple(
            " ".join(w.text for w in self.words[a:b]) for a, b in itertools.pairwise(bounds)
        )
        return Cue(
            first=i,
            last=j,
            line_ends=layout.line_ends,
            lines=lines,
            start=start,
            end=end,
            speech_start=self._starts[i],
            speech_end=max(self._ends[j - 1], self._starts[i] + 1),
        )

    def cost(self, i: int, j: int) -> float:
        """The cost of a cue of words ``i..j-1`` (hard rules at :data:`HARD` each)."""
        st, w = self.style, self.weights
        layout = self._layout(i, j)
        hard = layout.hard
        soft = w.cue + layout.cost
        s, e = self.timing(i, j)
        frames = e - s
        hard += int(frames < st.min_frames) + int(frames > st.max_frames)
        cps = Fraction(self.chars(i, j)) * st.fps / frames
        hard += int(cps > st.max_cps)
        n = len(self.words)
        if j < n:
            hard += int(self._starts[j] - e < st.min_gap)
            kind = self._breaks[j - 1]
            hard += int(kind.rule is not None)
            soft += w.breaks * kind.cost
            if not ends_sentence(self.words[j - 1], self.words[j]):
                soft += w.breaks * _MID_SENTENCE_CUE
        for k in range(i, j - 1):
            left, right = self.words[k], self.words[k + 1]
            hard += int(left.speaker != right.speaker)
            silence = right.start - left.end
            if silence >= st.max_pause:
                hard += 1
            elif silence > _FREE_PAUSE:
                soft += w.pause * float(silence - _FREE_PAUSE)
        rate = float(cps)
        if rate > w.cps_comfort:
            span = max(float(st.max_cps) - w.cps_comfort, 1.0)
            soft += w.cps * ((rate - w.cps_comfort) / span) ** 2
        shown = float(frames / st.fps)
        if shown < w.short_seconds:
            soft += w.short * (1 - shown / w.short_seconds)
        return HARD * hard + soft

    def _ends_cue(self, j: int) -> bool:
        """Whether a cue must end after word ``j - 1`` (speaker change, long silence)."""
        left, right = self.words[j - 1], self.words[j]
        return left.speaker != right.speaker or right.start - left.end >= self.style.max_pause

    def _candidates(self, i: int) -> range:
        """Ends ``j`` worth trying for a cue starting at word ``i`` (at least ``i + 1``)."""
        st, n = self.style, len(self.words)
        # Bounds that only exclude cues sure to break a hard rule: more characters than
        # full lines (with the spaces at the breaks) can hold, or speech longer than the
        # longest cue even after the most the gap rule can trim (min_gap + 1 frames).
        limit = st.max_chars * st.max_lines + st.max_lines - 1
        longest = st.max_frames + st.min_gap + 1
        j = i + 1
        while j < n and not self._ends_cue(j):
            if self.chars(i, j + 1) > limit:
                break
            if self._ends[j] - self._starts[i] > longest:
                break
            j += 1
        return range(i + 1, j + 1)

    # -- segmentations ---------------------------------------------------------------------

    def lookahead(self) -> list[Cue]:
        """The least-cost segmentation (dynamic programming over break points)."""
        n = len(self.words)
        best = [0.0] * (n + 1)
        choice = [n] * (n + 1)
        for i in range(n - 1, -1, -1):
            best_cost, best_j = float("inf"), i + 1
            for j in self._candidates(i):
                total = self.cost(i, j) + best[j]
                if total < best_cost:  # strict: ties go to the shorter cue, deterministically
                    best_cost, best_j = total, j
            best[i], choice[i] = best_cost, best_j
        cues, i = [], 0
        while i < n:
            cues.append(self.build(i, choice[i]))
            i = choice[i]
        return cues

    def greedy(self) -> list[Cue]:
        """The greedy baseline (no look-ahead).

        Each cue is filled until a sentence end, a 0.7 s silence, a speaker change, two
        full lines or the longest duration.
        """
        st, n = self.style, len(self.words)
        limit = st.max_chars * st.max_lines + st.max_lines - 1
        cues, i = [], 0
        while i < n:
            j = i + 1
            while j < n:
                left, right = self.words[j - 1], self.words[j]
                if ends_sentence(left, right) or right.start - left.end >= GREEDY_PAUSE:
                    break
                if self.chars(i, j + 1) > limit:
                    break
                if right.end - self.words[i].start > Fraction(st.max_frames) / st.fps:
                    break
                j += 1
            cues.append(self.build(i, j))
            i = j
        return cues

    def total_cost(self, cues: Sequence[Cue]) -> float:
        """The look-ahead objective of any segmentation (to compare greedy with it)."""
        return sum(self.cost(c.first, c.last) for c in cues)
