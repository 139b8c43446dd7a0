"""Running a ``subtitles`` experiment: transcript, cues, files, checks, translations.

1. Read the transcript (backend aws with ``media_uri``: transcribe the media first,
   keeping Transcribe's own SRT and WebVTT as an oracle).
2. Segment the words twice, with look-ahead and greedily, and time every cue in
   whole frames.
3. Write the chosen segmentation as SRT (the ``srt`` library) and WebVTT (ours), read
   both back with ``pysubs2`` and ``webvtt-py``, and check every style rule, frame
   accuracy included.
4. Translate sentence by sentence, re-time each translated sentence over the source
   sentence's speech, segment, write, read back and check again, per language.
5. ``violations.json``, ``rules.md``, ``cues.json``, ``translations.json``,
   ``timeline.png`` and the report.

Contents:
    run: the plugin's entry point, ``run(config, context) -> PluginResult``.
    transcript_path: the configured transcript, or the shipped sample.
    SAMPLE: the shipped sample's path inside the experiments data folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deepracer.config.resources import data_dir
from deepracer.errors import ConfigError
from deepracer.plugins import PluginResult, RunContext
from deepracer.plugins.kit import markdown_table
from deepracer.plugins.subtitles.aws import TranscriptionOutput, start_request, transcribe_media
from deepracer.plugins.subtitles.config import SubtitlesConfig
from deepracer.plugins.subtitles.formats import (
    Event,
    RoundTrip,
    read_back,
    to_events,
    validate,
    write_srt,
    write_vtt,
)
from deepracer.plugins.subtitles.plots import Track, timeline
from deepracer.plugins.subtitles.rules import Check, check_cues, check_written, rules_table
from deepracer.plugins.subtitles.segmenter import Cue, Segmenter
from deepracer.plugins.subtitles.style import Language, Style, find_names, name_pairs
from deepracer.plugins.subtitles.timing import frame_to_ms
from deepracer.plugins.subtitles.transcript import (
    Transcript,
    Word,
    parse_transcript,
    read_transcript,
    split_sentences,
)
from deepracer.plugins.subtitles.translate import (
    AwsTranslator,
    MemoryTranslator,
    PassThrough,
    Translator,
    load_memory,
    retime_sentence,
)

__all__ = ["SAMPLE", "run", "transcript_path"]

SAMPLE = Path("data") / "subtitles_sample.json"
"""The shipped sample, relative to the experiments data folder."""
_LISTED = 12  # violations listed in the report (all go to violations.json)
_SHORT = 1.5  # [s] cues shown for less count as short (the orphan measure)
_TRAILING = ",.;:!?…\"')"  # punctuation attached to a word, dropped when naming it
_COUNTS = {"cues", "orphans", "min_gap_frames", "max_chars_per_line", "max_lines", "violations"}


@dataclass
class _Track:
    """One written subtitle track and its checks."""

    language: str
    tag: str
    title: str
    words: Sequence[Word]
    cues: list[Cue]
    events: list[Event]
    check: Check
    trips: list[RoundTrip]
    files: list[str]


def transcript_path(config: SubtitlesConfig) -> Path:
    """The configured transcript file, or the shipped sample when none is set."""
    if config.transcript:
        return Path(config.transcript).expanduser()
    return data_dir("experiments") / SAMPLE


def _style(config: SubtitlesConfig) -> Style:
    return Style.build(
        fps=config.fps,
        max_chars=config.max_chars_per_line,
        max_lines=config.max_lines,
        min_duration=config.min_duration,
        max_duration=config.max_duration,
        max_cps=config.max_cps,
        min_gap_frames=config.min_gap_frames,
        close_gap=config.close_gap,
        max_linger=config.max_linger,
        sync_tolerance_frames=config.sync_tolerance_frames,
        max_pause=config.max_pause,
    )


def _transcript(
    config: SubtitlesConfig, context: RunContext
) -> tuple[Transcript, str, TranscriptionOutput | None]:
    """The transcript, its display name, and the Transcribe job's output if one ran."""
    if context.backend == "aws" and config.media_uri:
        job = config.job_name or "deepracer-subtitles-" + datetime.now(UTC).strftime(
            "%Y%m%d-%H%M%S"
        )
        request = start_request(
            job_name=job,
            media_uri=config.media_uri,
            language_code=config.language_code,
            output=context.aws.s3,
            max_speakers=config.max_speakers,
        )
        output = transcribe_media(
            context.client("transcribe"),
            context.client("s3"),
            request,
            poll_seconds=config.poll_seconds,
            timeout_seconds=config.timeout_minutes * 60,
            echo=context.echo,
        )
        context.write_json("transcript.json", output.transcript)
        for fmt, text in output.subtitles.items():
            context.write_text(f"transcribe.{fmt}", text)
        transcript = parse_transcript(
            output.transcript, source=output.transcript_uri, overlaps=config.overlaps
        )
        return transcript, job, output
    path = transcript_path(config)
    return read_transcript(path, overlaps=config.overlaps), path.stem, None


def _translator(
    config: SubtitlesConfig, context: RunContext, transcript_file: Path | None
) -> Translator:
    mode = config.translator
    if mode == "auto":
        mode = "aws" if context.backend == "aws" else "memory"
    if mode == "aws":
        if context.backend != "aws":
            raise ConfigError(
                "subtitles.translator: aws calls Amazon Translate and needs backend: aws"
                " (offline: memory or passthrough)"
            )
        return AwsTranslator(context.client("translate"))
    if mode == "passthrough":
        return PassThrough()
    if config.translation_memory:
        return load_memory(Path(config.translation_memory).expanduser())
    if transcript_file is not None:
        default = transcript_file.with_name(transcript_file.stem + ".translations.json")
        if default.is_file():
            return load_memory(default)
    return MemoryTranslator(
        memory={}, note="no translation memory found: every sentence passes through"
    )


def _emit(
    context: RunContext,
    stem: str,
    *,
    language: str,
    tag: str,
    title: str,
    words: Sequence[Word],
    cues: list[Cue],
    style: Style,
    names: set[tuple[str, str]],
    header: str = "",
    notes: Sequence[str] = (),
) -> _Track:
    """Writes one track as SRT and WebVTT, reads both back, checks every rule."""
    events = to_events(cues, style.fps)
    srt_name, vtt_name = f"{stem}.srt", f"{stem}.vtt"
    srt_text = write_srt(events)
    vtt_text = write_vtt(events, header=header, notes=notes)
    context.write_text(srt_name, srt_text)
    context.write_text(vtt_name, vtt_text)
    trips = validate(srt_name, srt_text, "srt", events, style.fps)
    trips += validate(vtt_name, vtt_text, "vtt", events, style.fps)
    check = check_cues(
        cues, words, style, Language.for_code(language), names, reads=[t.times for t in trips]
    )
    return _Track(
        language,
        tag,
        title,
        words,
        cues,
        events,
        check,
        trips,
        [srt_name, vtt_name],
    )


def _short(cues: Sequence[Cue], style: Style, seconds: float) -> int:
    return sum(c.frames < seconds * style.fps for c in cues)


def _key(language: str) -> str:
    return language.replace("-", "_").lower()


def _translated(
    config: SubtitlesConfig,
    context: RunContext,
    stem: str,
    lang: str,
    translator: Translator,
    words: Sequence[Word],
    style: Style,
    names: set[tuple[str, str]],
) -> tuple[_Track, list[dict[str, Any]]]:
    """Translates sentence by sentence, re-times, segments, writes and checks one language.

    Returns:
        The track, and the sentence pairs for ``translations.json``.
    """
    target_words: list[Word] = []
    rows = []
    for sentence in split_sentences(words):
        text = translator.translate(sentence.text, config.source_language, lang)
        target_words += retime_sentence(words[sentence.first : sentence.last], text)
        rows.append(
            {
                "start_s": float(words[sentence.first].start),
                "end_s": float(words[sentence.last - 1].end),
                "speaker": sentence.speaker,
                "source": sentence.text,
                "target": text,
            }
        )
    tag = f"{lang}-x-stub" if translator.stub else lang
    segmenter = Segmenter(target_words, style, Language.for_code(lang), names, config.weights)
    cues = segmenter.lookahead() if config.segmenter == "lookahead" else segmenter.greedy()
    notes = []
    if translator.stub:
        notes.append(f"STUB TRANSLATION, not machine translation: {translator.description}.")
    notes.append(
        f"Translated sentence by sentence ({translator.name}) from {config.source_language};"
        " each sentence re-timed proportionally over the source sentence's speech."
    )
    track = _emit(
        context,
        f"{stem}.{tag}",
        language=lang,
        tag=tag,
        title=f"{tag} ({config.segmenter})",
        words=target_words,
        cues=cues,
        style=style,
        names=names,
        header="stub translation" if translator.stub else "",
        notes=notes,
    )
    return track, rows


def run(config: SubtitlesConfig, context: RunContext) -> PluginResult:
    """Builds, writes, validates and checks the subtitles of one transcript.

    Raises:
        DeepRacerError: Bad transcript (the message names the item), an unreadable
            translation memory, or a failed AWS call.
        ConfigError: ``translator: aws`` without ``backend: aws``.
    """
    style = _style(config)
    # The translator first: a configuration error stops the run before any file is written.
    transcribing = context.backend == "aws" and bool(config.media_uri)
    transcript_file = None if transcribing else transcript_path(config)
    translator = _translator(config, context, transcript_file)
    transcript, default_stem, aws_output = _transcript(config, context)
    stem = config.name or default_stem
    words = list(transcript.words)
    sentences = split_sentences(words)
    source_language = Language.for_code(config.source_language)
    names = find_names(words, source_language) | name_pairs(config.names)
    context.echo(
        f"{transcript.source}: {len(words)} words, {len(sentences)} sentences,"
        f" {len(transcript.speakers)} speakers"
    )

    # -- source track: look-ahead and greedy ----------------------------------------------
    segmenter = Segmenter(words, style, source_language, names, config.weights)
    lookahead, greedy = segmenter.lookahead(), segmenter.greedy()
    chosen, other = (lookahead, greedy) if config.segmenter == "lookahead" else (greedy, lookahead)
    other_name = "greedy" if config.segmenter == "lookahead" else "lookahead"
    source = _emit(
        context,
        stem,
        language=config.source_language,
        tag=config.source_language,
        title=f"{config.source_language} ({config.segmenter})",
        words=words,
        cues=chosen,
        style=style,
        names=names,
    )
    baseline = _emit(
        context,
        f"{stem}.{other_name}",
        language=config.source_language,
        tag=config.source_language,
        title=f"{config.source_language} ({other_name})",
        words=words,
        cues=other,
        style=style,
        names=names,
    )
    context.echo(
        f"{len(chosen)} cues ({config.segmenter}), {source.check.total} violations;"
        f" {other_name}: {len(other)} cues, {baseline.check.total} violations"
    )

    # -- translations, whole sentences ---------------------------------------------------
    targets: list[_Track] = []
    translations: dict[str, list[dict[str, Any]]] = {}
    for lang in config.target_languages:
        track, translations[lang] = _translated(
            config, context, stem, lang, translator, words, style, names
        )
        targets.append(track)
        context.echo(f"{track.tag}: {len(track.cues)} cues, {track.check.total} violations")

    # -- Transcribe's own subtitles (backend aws) -----------------------------------------
    oracle: Check | None = None
    if aws_output and "srt" in aws_output.subtitles:
        parsed = read_back(aws_output.subtitles["srt"], "srt", "pysubs2")
        oracle = check_written(parsed, style)

    # -- files ----------------------------------------------------------------------------
    tracks = [source, baseline, *targets]
    context.write_json("violations.json", _violations(style, tracks, transcript, oracle))
    table = _rules_markdown(source, baseline, targets, oracle)
    context.write_text("rules.md", table)
    context.write_json("cues.json", {t.files[0]: _cues_json(t, style) for t in tracks})
    context.write_json(
        "translations.json",
        {
            "backend": translator.name,
            "stub": translator.stub,
            "description": translator.description,
            "note": getattr(translator, "note", ""),
            "languages": translations,
        },
    )
    figure = timeline(
        [Track(t.title, t.cues, frozenset(v.cue for v in t.check.violations)) for t in tracks],
        words,
        style.fps,
        float(style.max_cps),
    )
    context.save_figure(figure, "timeline.png")

    triple = (source, baseline, targets)
    metrics = _metrics(
        transcript,
        len(sentences),
        style,
        triple,
        (config.segmenter, other_name),
        translator,
        oracle,
    )
    metrics[f"{config.segmenter}_cost"] = round(segmenter.total_cost(chosen), 3)
    metrics[f"{other_name}_cost"] = round(segmenter.total_cost(other), 3)
    report = _report(
        config,
        transcript,
        style,
        stem,
        triple,
        translator,
        (oracle, aws_output),
        metrics,
        table,
        names,
    )
    return PluginResult(metrics=metrics, report=report)


def _violations(
    style: Style, tracks: Sequence[_Track], transcript: Transcript, oracle: Check | None
) -> dict[str, Any]:
    """``violations.json``: per track every rule and violation, the read-backs, repairs."""
    return {
        "style": _style_summary(style),
        "tracks": {
            t.files[0]: {
                "language": t.tag,
                "violations_total": t.check.total,
                "rules": [vars(r) for r in t.check.rows],
                "violations": [vars(v) for v in t.check.violations],
            }
            for t in tracks
        },
        "round_trips": [
            {"file": r.file, "reader": r.reader, "cues": r.cues, "ok": r.ok, "problems": r.problems}
            for t in tracks
            for r in t.trips
        ],
        "transcript_repairs": [vars(r) for r in transcript.repairs],
        "transcribe_own_srt": (
            {
                "rules": [vars(r) for r in oracle.rows],
                "violations": [vars(v) for v in oracle.violations],
            }
            if oracle
            else None
        ),
    }


def _style_summary(style: Style) -> dict[str, Any]:
    return {
        "fps": str(style.fps),
        "max_chars_per_line": style.max_chars,
        "max_lines": style.max_lines,
        "min_frames": style.min_frames,
        "max_frames": style.max_frames,
        "max_cps": float(style.max_cps),
        "min_gap_frames": style.min_gap,
        "close_gap_frames": style.close_gap,
        "linger_frames": style.linger,
        "sync_tolerance_frames": style.sync_tolerance,
        "ms_rounding": "ms = floor(frame * 1000 / fps); frame = ceil(ms * fps / 1000)",
    }


def _cues_json(track: _Track, style: Style) -> list[dict[str, Any]]:
    return [
        {
            "index": e.index,
            "start_frame": c.start,
            "end_frame": c.end,
            "start_ms": e.start_ms,
            "end_ms": e.end_ms,
            "speech_start_frame": c.speech_start,
            "speech_end_frame": c.speech_end,
            "lines": list(c.lines),
            "chars": c.chars,
            "cps": round(float(c.cps(style.fps)), 3),
        }
        for c, e in zip(track.cues, track.events, strict=True)
    ]


def _rules_markdown(
    source: _Track, baseline: _Track, targets: Sequence[_Track], oracle: Check | None
) -> str:
    columns = [(baseline.title, baseline.check.rows)]
    columns += [(t.title, t.check.rows) for t in targets]
    if oracle is not None:
        columns.append(("Transcribe's own SRT", oracle.rows))
    head = f"Rules on `{source.files[0]}` ({source.title}); other tracks beside it.\n\n"
    return head + rules_table(source.check.rows, columns)


def _exact_times(tracks: Sequence[_Track], style: Style) -> tuple[int, int]:
    """Times read back (every file, every reader) equal to our frame times, and all."""
    exact = total = 0
    for track in tracks:
        for trip in track.trips:
            for cue, (start, end) in zip(track.cues, trip.times, strict=False):
                total += 2
                exact += start == frame_to_ms(cue.start, style.fps)
                exact += end == frame_to_ms(cue.end, style.fps)
    return exact, total


def _metrics(
    transcript: Transcript,
    sentences: int,
    style: Style,
    tracks: tuple[_Track, _Track, Sequence[_Track]],
    names: tuple[str, str],
    translator: Translator,
    oracle: Check | None,
) -> dict[str, Any]:
    """Flat numbers for metrics.json (the source track's under their plain names)."""
    source, baseline, targets = tracks
    chosen_name, other_name = names
    words = transcript.words
    start, end = transcript.span
    everything = [source, baseline, *targets]
    trips = [r for t in everything for r in t.trips]
    exact, total = _exact_times(everything, style)
    metrics: dict[str, Any] = {
        "words": len(words),
        "sentences": sentences,
        "speakers": len(transcript.speakers),
        "speech_seconds": round(float(end - start), 3),
        "mean_confidence": round(sum(w.confidence for w in words) / len(words), 4),
        "transcript_repairs": len(transcript.repairs),
        **_measures(source.check),
        "frame_exact_fraction": exact / total if total else 0.0,
        "roundtrip_checks": len(trips),
        "roundtrip_ok": sum(r.ok for r in trips),
        f"{chosen_name}_short_cues": _short(source.cues, style, _SHORT),
        f"{other_name}_cues": len(baseline.cues),
        f"{other_name}_violations": baseline.check.total,
        f"{other_name}_short_cues": _short(baseline.cues, style, _SHORT),
        f"{other_name}_max_cps": round(baseline.check.measures["max_cps"], 4),
        f"{other_name}_orphans": int(baseline.check.measures["orphans"]),
        "languages": 1 + len(targets),
        "translation_stub": int(translator.stub and bool(targets)),
        "translate_calls": translator.calls,
        "violations_total": source.check.total + sum(t.check.total for t in targets),
    }
    source_chars = _chars(words)
    for track in targets:
        key = _key(track.language)
        measures = track.check.measures
        metrics[f"{key}_cues"] = len(track.cues)
        metrics[f"{key}_mean_cps"] = round(measures["mean_cps"], 4)
        metrics[f"{key}_max_cps"] = round(measures["max_cps"], 4)
        metrics[f"{key}_max_chars_per_line"] = int(measures["max_chars_per_line"])
        metrics[f"{key}_violations"] = track.check.total
        metrics[f"{key}_expansion"] = round(_chars(track.words) / source_chars, 4)
        if isinstance(translator, MemoryTranslator):
            metrics[f"{key}_untranslated_sentences"] = len(
                translator.misses.get(track.language, [])
            )
    if oracle is not None:
        metrics["transcribe_cues"] = int(oracle.measures["cues"])
        metrics["transcribe_max_cps"] = round(oracle.measures["max_cps"], 4)
        metrics["transcribe_violations"] = oracle.total
    return metrics


def _measures(check: Check) -> dict[str, int | float]:
    """A check's measures for metrics.json: counts as integers, the rest rounded."""
    return {k: int(v) if k in _COUNTS else round(v, 4) for k, v in check.measures.items()}


def _chars(words: Sequence[Word]) -> int:
    return sum(len(w.text) for w in words) + max(len(words) - 1, 0)


def _violation_lines(track: _Track) -> list[str]:
    lines = [
        f'- cue {v.cue}, {v.rule}: {v.measured} (limit {v.limit}): "{v.text}"'
        for v in track.check.violations[:_LISTED]
    ]
    if len(track.check.violations) > _LISTED:
        lines.append(f"- ... {len(track.check.violations) - _LISTED} more in violations.json")
    return lines


def _report(
    config: SubtitlesConfig,
    transcript: Transcript,
    style: Style,
    stem: str,
    tracks: tuple[_Track, _Track, Sequence[_Track]],
    translator: Translator,
    transcribed: tuple[Check | None, TranscriptionOutput | None],
    metrics: dict[str, Any],
    table: str,
    names: set[tuple[str, str]],
) -> str:
    """The report's body: what ran, the rules table, greedy, read-backs, translation."""
    source, baseline, targets = tracks
    oracle, aws_output = transcribed
    fps = style.fps
    rate = f"{float(fps):g}" if fps.denominator == 1 else f"{float(fps):.3f} ({fps} exactly)"
    start, end = transcript.span
    low = [w for w in transcript.words if w.confidence < config.low_confidence]
    out = [
        "## What ran",
        "",
        f"Transcript `{transcript.source}`"
        + (f" (job `{transcript.job_name}`)" if transcript.job_name else "")
        + f": {metrics['words']} words in {metrics['sentences']} sentences,"
        f" {float(start):.2f} to {float(end):.2f} s, {metrics['speakers']} speaker(s),"
        f" mean confidence {metrics['mean_confidence']:.3f}."
        + (
            f" Below {config.low_confidence:g}: "
            + ", ".join(f"{w.text.rstrip(_TRAILING)} ({w.confidence:.2f})" for w in low[:_LISTED])
            + "."
            if low
            else ""
        ),
        "",
        f"Every time is a whole frame at {rate} fps. Limits (Netflix English Timed Text"
        f" Style Guide): {style.max_chars} characters per line, {style.max_lines} lines,"
        f" {style.min_frames} to {style.max_frames} frames per cue"
        f" ({style.seconds(style.min_frames):.3f} to {style.seconds(style.max_frames):.3f} s),"
        f" {float(style.max_cps):g} characters per second (all characters shown, spaces"
        f" included), {style.min_gap} frames between cues (gaps under {style.close_gap}"
        f" frames closed to {style.min_gap}), in-times within {style.sync_tolerance} frames of"
        " the first word, breaks after punctuation and before conjunctions and prepositions,"
        " never after an article, inside a name or after a conjunction or preposition."
        " A change of speaker always starts a new cue (no two-speaker cues with dashes)."
        " Names kept whole: "
        + (", ".join(" ".join(p) for p in sorted(names)) or "none")
        + ". Nothing is random: the seed is unused and the same transcript gives the same"
        " files.",
        "",
        "Milliseconds are written once, from the frame number with exact fractions:"
        " `ms = floor(frame * 1000 / fps)`, the last millisecond at or before the frame, so a"
        " player showing cues whose `start <= t < end` shows exactly our frames; the inverse"
        " `frame = ceil(ms * fps / 1000)` is checked on every time read back.",
        "",
        "## Rules",
        "",
        table,
        f"Violations on `{source.files[0]}`: **{source.check.total}**."
        + (" Zero, as the guide asks." if source.check.total == 0 else ""),
    ]
    out += _violation_lines(source)
    other = "greedy" if config.segmenter == "lookahead" else "lookahead"
    segmentations = [
        (
            f"{config.segmenter} (written as `{source.files[0]}`)",
            source,
            metrics.get(f"{config.segmenter}_short_cues", 0),
            metrics.get(f"{config.segmenter}_cost", "-"),
        ),
        (
            f"{other} (`{baseline.files[0]}`)",
            baseline,
            metrics.get(f"{other}_short_cues", "-"),
            metrics.get(f"{other}_cost", "-"),
        ),
    ]
    out += [
        "",
        "## Look-ahead against greedy",
        "",
        "Orphans: cues that only finish a sentence begun in the cue before, in under half"
        " a line. Cost: the look-ahead objective (1000 per broken hard rule).",
        "",
        markdown_table(
            [
                "segmentation",
                "cues",
                "violations",
                "orphans",
                "cues under 1.5 s",
                "max cps",
                "cost",
            ],
            [
                (
                    title,
                    len(track.cues),
                    track.check.total,
                    f"{track.check.measures['orphans']:.0f}",
                    short,
                    f"{track.check.measures['max_cps']:.2f}",
                    cost,
                )
                for title, track, short, cost in segmentations
            ],
        ),
        "",
    ]
    tiny = [c for c in baseline.cues if c.frames < _SHORT * fps or c.chars < style.max_chars / 2]
    if tiny and other == "greedy":
        out.append(
            "Greedy's short cues (it fills each cue as far as it can, so a long sentence's"
            " last words are left alone): "
            + "; ".join(f'"{" / ".join(c.lines)}"' for c in tiny[:_LISTED])
            + "."
        )
        out.append("")
    out += _violation_lines(baseline)
    trips = [
        (
            f"`{trip.file}`",
            trip.reader,
            trip.cues,
            "yes" if trip.ok else "NO: " + "; ".join(trip.problems[:3]),
        )
        for track in (source, baseline, *targets)
        for trip in track.trips
    ]
    out += ["", "## Round trips", "", markdown_table(["file", "reader", "cues", "exact"], trips)]
    out += [
        "",
        f"{metrics['roundtrip_ok']} of {metrics['roundtrip_checks']} read-backs exact;"
        f" {metrics['frame_exact_fraction']:.0%} of the times read back are our frame times."
        " SRT is written by `srt`, WebVTT by this plugin; each is read by `pysubs2` and"
        " `webvtt-py`.",
    ]
    differs = _pysubs2_rounding(source, style)
    if differs:
        out.append(
            f"`pysubs2.time.frames_to_ms` (round to nearest) would write {differs} of the"
            f" {2 * len(source.cues)} times differently, each one frame late for a player."
        )
    out += ["", "## Translation", ""]
    if not targets:
        out.append("No target languages.")
    else:
        if translator.stub:
            out.append(
                f"**STUB, not machine translation.** Backend `{translator.name}`:"
                f" {translator.description}. The files carry the private-use language tag"
                " `-x-stub`, their WebVTT header says `stub translation` and a `NOTE` repeats"
                " it. Use `backend: aws` (Amazon Translate) for real translations."
            )
            note = getattr(translator, "note", "")
            if note:
                out.append(f"The memory says: {note}")
        else:
            out.append(f"Backend: {translator.description}; {translator.calls} calls.")
        out += [
            "",
            "Each source sentence is translated whole (never cue by cue); its words are timed"
            " over the source sentence's spoken intervals in proportion to their length and"
            " segmented afresh by the same look-ahead segmenter and rules.",
            "",
        ]
        memory = isinstance(translator, MemoryTranslator)
        header = ["language", "files", "cues", "expansion", "max cps", "max chars/line"]
        header += ["violations", *(["untranslated sentences"] if memory else [])]
        languages: list[list[object]] = []
        for track in targets:
            key = _key(track.language)
            languages.append(
                [
                    track.tag,
                    f"`{track.files[0]}`, `{track.files[1]}`",
                    len(track.cues),
                    f"{metrics[f'{key}_expansion'] - 1:+.0%}",
                    f"{metrics[f'{key}_max_cps']:.2f}",
                    f"{metrics[f'{key}_max_chars_per_line']:.0f}",
                    track.check.total,
                ]
            )
            if memory:
                languages[-1].append(metrics.get(f"{key}_untranslated_sentences", 0))
        out.append(markdown_table(header, languages))
        for track in targets:
            if track.check.violations:
                out += [
                    "",
                    f"{track.tag}: the translation is longer than the speech it covers;"
                    " these cues would need condensing by a subtitler:",
                ]
                out += _violation_lines(track)
    if oracle is not None and aws_output is not None:
        out += [
            "",
            "## Transcribe's own subtitles",
            "",
            f"Job `{aws_output.job_name}` ({aws_output.polls} polls) also wrote SRT and WebVTT"
            f" (`transcribe.srt`, `transcribe.vtt`): {int(oracle.measures['cues'])} cues, max"
            f" {oracle.measures['max_cps']:.2f} cps, {oracle.total} violations of the same"
            " rules (its times are not snapped to frames). They are in the rules table's last"
            " columns.",
        ]
    if transcript.repairs:
        out += ["", "## Transcript repairs (overlaps: clip)", ""]
        out += [
            f"- results.items[{r.item}] ({r.word!r}): {r.field} {r.old} -> {r.new}, {r.reason}"
            for r in transcript.repairs
        ]
    if config.media_uri and aws_output is None:
        out += ["", f"`media_uri` ({config.media_uri}) is used by backend aws only; ignored."]
    out += [
        "",
        "## Files",
        "",
        f"`{stem}.srt`, `{stem}.vtt` (source), "
        + ", ".join(f"`{t.files[0]}`, `{t.files[1]}`" for t in targets)
        + (", " if targets else "")
        + f"`{baseline.files[0]}`, `{baseline.files[1]}` ({other}, for comparison),"
        " `violations.json` (every rule, violation and read-back), `rules.md`, `cues.json`"
        " (frames and milliseconds per cue), `translations.json` (sentence pairs),"
        " `timeline.png` (cues against time at their reading speed).",
    ]
    return "\n".join(out) + "\n"


def _pysubs2_rounding(track: _Track, style: Style) -> int:
    """How many of our times pysubs2's round-to-nearest ``frames_to_ms`` would change."""
    import pysubs2

    fps = float(style.fps)
    frames = [f for c in track.cues for f in (c.start, c.end)]
    return sum(pysubs2.time.frames_to_ms(f, fps) != frame_to_ms(f, style.fps) for f in frames)
