"""The style rules checker: every rule measured on every cue, with its worst value.

:func:`check_cues` measures cues built from words (so it knows where lines and cues
break and can apply the article, name and conjunction rules); :func:`check_written`
measures any parsed subtitle file (Transcribe's own SRT, say) on the rules that need
only times and text. Each returns a :class:`Check`: one :class:`RuleRow` per rule
(its limit, the worst measured value, how many violations) and one
:class:`Violation` per broken rule and cue.

Characters are counted as shown: every character of every line, spaces and
punctuation included, line breaks not (the stricter of the usual counts).

Contents:
    Violation: one broken rule on one cue.
    RuleRow: one row of the rules table.
    Check: a checked subtitle track.
    check_cues: the full rule set on segmented cues.
    check_written: the time and length rules on parsed (start_ms, end_ms, lines).
    rules_table: the rows as a Markdown table.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from deepracer.plugins.kit import markdown_table
from deepracer.plugins.subtitles.segmenter import Cue
from deepracer.plugins.subtitles.style import Language, Style, classify_break
from deepracer.plugins.subtitles.timing import frame_to_ms, ms_to_frame
from deepracer.plugins.subtitles.transcript import Word

__all__ = ["Check", "RuleRow", "Violation", "check_cues", "check_written", "rules_table"]

_BREAK_RULES = {
    "article": "no break between article and noun",
    "name": "no break between first and last name",
    "dangling": "break before conjunctions/prepositions, not after",
}


@dataclass(frozen=True)
class Violation:
    """One broken rule on one cue.

    Attributes:
        rule: The rule's key (``reading_speed``, ``article``...).
        cue: The cue's number (1-based, as written).
        measured: What was measured.
        limit: What the rule allows.
        text: The cue's text (lines joined by `` / ``).
    """

    rule: str
    cue: int
    measured: str
    limit: str
    text: str


@dataclass(frozen=True)
class RuleRow:
    """One rule of the table.

    Attributes:
        key: Short key (``chars_per_line``).
        rule: What it says.
        limit: Its limit, as text.
        worst: The worst measured value, as text.
        violations: How many cues (or lines, or breaks) break it.
        worst_value: The worst value as a number (for metrics; None when not numeric).
    """

    key: str
    rule: str
    limit: str
    worst: str
    violations: int
    worst_value: float | None = None


@dataclass
class Check:
    """A checked subtitle track.

    Attributes:
        rows: The rules table.
        violations: Every violation.
        measures: Summary numbers (cues, mean/max cps, min gap, ...; ``orphans``: cues
            that only finish a sentence begun in the cue before, in under half a line).
    """

    rows: list[RuleRow] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    measures: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Violations of all rules."""
        return sum(row.violations for row in self.rows)

    def add(
        self,
        key: str,
        rule: str,
        limit: str,
        values: Sequence[tuple[int, Any, bool]],
        *,
        worst: Callable[[Sequence[Any]], Any] = max,
        show: Callable[[Any], str] = str,
        texts: Sequence[str] = (),
    ) -> None:
        """Adds a rule from ``(cue number, measured value, broken?)`` triples."""
        measured = [v for _, v, _ in values]
        worst_value = worst(measured) if measured else None
        broken = [(cue, v) for cue, v, bad in values if bad]
        for cue, value in broken:
            text = texts[cue - 1] if 0 < cue <= len(texts) else ""
            self.violations.append(Violation(key, cue, show(value), limit, text))
        number = float(worst_value) if isinstance(worst_value, int | float | Fraction) else None
        self.rows.append(
            RuleRow(
                key=key,
                rule=rule,
                limit=limit,
                worst="-" if worst_value is None else show(worst_value),
                violations=len(broken),
                worst_value=number,
            )
        )


def _seconds(value: Fraction | float) -> str:
    return f"{float(value):.3f} s"


def _cps(value: Fraction | float) -> str:
    return f"{float(value):.2f}"


def _layout_checks(
    check: Check,
    style: Style,
    cues: Sequence[tuple[int, int, Sequence[str]]],
    texts: list[str],
) -> dict[str, float]:
    """Adds the rules that need only frames and text; returns their summary measures.

    Args:
        check: Receives the rules.
        style: The limits.
        cues: ``(start_frame, end_frame, lines)`` per cue, in order (numbered from 1).
        texts: Each cue's text, for the violations.
    """
    fps = style.fps
    numbered = list(enumerate(cues, start=1))
    line_lengths = [
        (n, len(line), len(line) > style.max_chars) for n, (_, _, ls) in numbered for line in ls
    ]
    check.add(
        "chars_per_line", "characters per line", f"<= {style.max_chars}", line_lengths, texts=texts
    )
    check.add(
        "lines_per_cue",
        "lines per cue",
        f"<= {style.max_lines}",
        [(n, len(ls), len(ls) > style.max_lines) for n, (_, _, ls) in numbered],
        texts=texts,
    )
    spans = [(n, e - s) for n, (s, e, _) in numbered]
    check.add(
        "min_duration",
        "cue duration, at least",
        f">= {_seconds(Fraction(style.min_frames) / fps)} ({style.min_frames} frames)",
        [(n, Fraction(f) / fps, f < style.min_frames) for n, f in spans],
        worst=min,
        show=_seconds,
        texts=texts,
    )
    check.add(
        "max_duration",
        "cue duration, at most",
        f"<= {_seconds(Fraction(style.max_frames) / fps)} ({style.max_frames} frames)",
        [(n, Fraction(f) / fps, f > style.max_frames) for n, f in spans],
        show=_seconds,
        texts=texts,
    )
    # Every character shown counts, spaces and punctuation included (as Cue.cps).
    rates = [
        (n, Fraction(sum(len(x) for x in ls)) * fps / max(e - s, 1)) for n, (s, e, ls) in numbered
    ]
    check.add(
        "reading_speed",
        "reading speed [chars/s]",
        f"<= {float(style.max_cps):g}",
        [(n, r, r > style.max_cps) for n, r in rates],
        show=_cps,
        texts=texts,
    )
    gaps = [(n + 1, b[0] - a[1]) for n, (a, b) in enumerate(itertools.pairwise(cues))]
    check.add(
        "min_gap",
        "gap between cues [frames]",
        f">= {style.min_gap}",
        [(n, g, g < style.min_gap) for n, g in gaps],
        worst=min,
        texts=texts,
    )
    cps = [float(r) for _, r in rates]
    durations = [float(Fraction(f) / fps) for _, f in spans]
    return {
        "cues": float(len(cues)),
        "mean_cps": sum(cps) / len(cps) if cps else 0.0,
        "max_cps": max(cps, default=0.0),
        "min_gap_frames": float(min((g for _, g in gaps), default=0)),
        "max_chars_per_line": float(max((v for _, v, _ in line_lengths), default=0)),
        "max_lines": float(max((len(ls) for _, _, ls in cues), default=0)),
        "min_duration_s": min(durations, default=0.0),
        "max_duration_s": max(durations, default=0.0),
    }


def check_cues(
    cues: Sequence[Cue],
    words: Sequence[Word],
    style: Style,
    language: Language,
    names: set[tuple[str, str]],
    reads: Sequence[Sequence[tuple[int, int]]] = (),
) -> Check:
    """Checks every style rule on segmented cues.

    Args:
        cues: The cues, in order.
        words: The words they were built from.
        style: The limits.
        language: Articles and joiners of the text.
        names: Protected word pairs.
        reads: ``(start_ms, end_ms)`` per cue as each reader read the written files
            back; when given, every read must be exactly our frames (frame accuracy).

    Returns:
        The rules table, the violations and summary measures.
    """
    check = Check()
    fps = style.fps
    texts = [" / ".join(c.lines) for c in cues]
    numbered = list(enumerate(cues, start=1))
    layout = _layout_checks(check, style, [(c.start, c.end, c.lines) for c in cues], texts)
    if reads:
        off = []
        for n, cue in numbered:
            times = [read[n - 1] if n <= len(read) else (-1, -1) for read in reads]
            bad = any(
                ms_to_frame(start_ms, fps) != cue.start
                or ms_to_frame(end_ms, fps) != cue.end
                or frame_to_ms(cue.start, fps) != start_ms
                or frame_to_ms(cue.end, fps) != end_ms
                for start_ms, end_ms in times
            )
            off.append((n, int(bad), bad))
        extra = max(len(read) for read in reads) - len(cues)
        if extra > 0:
            off.append((0, extra, True))
        check.add(
            "frame_accurate",
            "times on our frames, read back from the file",
            "0 off-frame cues",
            off,
            worst=sum,
            texts=texts,
        )
    check.add(
        "in_sync",
        "in-time from the first word's frame [frames]",
        f"<= {style.sync_tolerance}",
        [
            (n, abs(c.start - c.speech_start), abs(c.start - c.speech_start) > style.sync_tolerance)
            for n, c in numbered
        ],
        texts=texts,
    )
    early = [(n, max(c.speech_end - c.end, 0)) for n, c in numbered]
    check.add(
        "out_early",
        "out-time before the last word's end [frames]",
        f"<= {style.sync_tolerance}",
        [(n, e, e > style.sync_tolerance) for n, e in early],
        texts=texts,
    )
    hang_limit = max(style.linger, style.close_gap - style.min_gap)
    late = [(n, max(c.end - max(c.speech_end, c.start + style.min_frames), 0)) for n, c in numbered]
    check.add(
        "out_late",
        "out-time after speech (or minimum duration) [frames]",
        f"<= {hang_limit}",
        [(n, h, h > hang_limit) for n, h in late],
        texts=texts,
    )
    breaks: dict[str, list[tuple[int, Any, bool]]] = {rule: [] for rule in _BREAK_RULES}
    for n, cue in numbered:
        # Every line end, and the cue's own end, is a break between two words.
        for end in cue.line_ends:
            if end >= len(words):
                continue
            kind = classify_break(words[end - 1], words[end], language, names)
            for rule in breaks:
                breaks[rule].append((n, int(kind.rule == rule), kind.rule == rule))
    for rule, description in _BREAK_RULES.items():
        check.add(rule, description, "never", breaks[rule], worst=sum, texts=texts)
    speakers = []
    for n, cue in numbered:
        changes = sum(
            words[k].speaker != words[k + 1].speaker for k in range(cue.first, cue.last - 1)
        )
        speakers.append((n, changes, changes > 0))
    check.add(
        "speaker_change", "speaker changes inside a cue", "0", speakers, worst=sum, texts=texts
    )
    orphans = sum(
        k > 0
        and not words[c.first - 1].sentence_end
        and words[c.first - 1].speaker == words[c.first].speaker
        and len(c.lines) == 1
        and c.chars < style.max_chars / 2
        for k, c in enumerate(cues)
    )
    check.measures = {**layout, "orphans": float(orphans), "violations": float(check.total)}
    return check


def check_written(events: Sequence[tuple[int, int, Sequence[str]]], style: Style) -> Check:
    """Checks the rules that need only times and text on a parsed subtitle file.

    Times are turned into frames with :func:`~deepracer.plugins.subtitles.timing.ms_to_frame`
    (exact for a frame-accurate file; within a frame for others, such as Transcribe's
    own SRT), so durations and gaps compare in whole frames as for our cues.

    Args:
        events: ``(start_ms, end_ms, lines)`` per cue, in order.
        style: The limits.
    """
    check = Check()
    fps = style.fps
    texts = [" / ".join(lines) for _, _, lines in events]
    frames = [(ms_to_frame(s, fps), ms_to_frame(e, fps), ls) for s, e, ls in events]
    layout = _layout_checks(check, style, frames, texts)
    numbered = list(enumerate(events, start=1))
    off = []
    for n, (s, e, _) in numbered:
        bad = any(frame_to_ms(ms_to_frame(ms, fps), fps) != ms for ms in (s, e))
        off.append((n, int(bad), bad))
    check.add(
        "frame_accurate",
        "times on frame boundaries (our rounding rule)",
        "0 off-frame cues",
        off,
        worst=sum,
        texts=texts,
    )
    keep = ("cues", "mean_cps", "max_cps", "min_gap_frames", "max_chars_per_line")
    check.measures = {k: layout[k] for k in keep} | {"violations": float(check.total)}
    return check


def rules_table(
    rows: Sequence[RuleRow], columns: Sequence[tuple[str, Sequence[RuleRow]]] = ()
) -> str:
    """The rules as a Markdown table; ``columns`` adds other tracks' worst/violations.

    Args:
        rows: The main track's rows.
        columns: ``(title, rows)`` of other tracks, matched by rule key.
    """
    header = ["rule", "limit", "worst measured", "violations"]
    for title, _ in columns:
        header += [f"{title}: worst", f"{title}: violations"]
    cells: list[list[object]] = []
    for row in rows:
        cells.append([row.rule, row.limit, row.worst, row.violations])
        for _, other in columns:
            match = next((r for r in other if r.key == row.key), None)
            cells[-1] += [match.worst, match.violations] if match else ["-", "-"]
    return markdown_table(header, cells) + "\n"
