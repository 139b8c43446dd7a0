"""The speech run: validate, split, synthesize, check, measure the breaks, report.

Contents:
    load_input: the configured SSML (inline, plain text or a file) and its name.
    speak_local: chunks through the local engine, joined, with marks.
    without_breaks: a document with its timed breaks taken out.
    waveform_plot: the waveform with the sentence marks.
    run: the plugin's ``run``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from deepracer.errors import DeepRacerError
from deepracer.io import atomic_write_bytes
from deepracer.plugins import PluginResult, RunContext
from deepracer.plugins.kit import markdown_table
from deepracer.plugins.speech.audio import Audio, AudioCheck, check_audio, resample, wav_bytes
from deepracer.plugins.speech.config import SpeechConfig
from deepracer.plugins.speech.marks import SpeechMark, marks_to_jsonl, sentence_marks
from deepracer.plugins.speech.split import SYNC_LIMITS, TASK_LIMITS, Chunk, split_ssml
from deepracer.plugins.speech.ssml import SsmlDocument, build_ssml, tokenize, validate_ssml

__all__ = ["LocalRun", "load_input", "run", "speak_local", "waveform_plot", "without_breaks"]

LOCAL_RATE = 22050
"""espeak-ng's sample rate."""


def load_input(config: SpeechConfig) -> tuple[str, str]:
    """The SSML to speak and the name errors use for it.

    ``file`` wins over ``text``, which wins over ``ssml``.

    Raises:
        DeepRacerError: The file cannot be read, or nothing is configured.
    """
    if config.file:
        path = Path(config.file).expanduser()
        try:
            content = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise DeepRacerError(f"speech.file: cannot read {path} ({exc.strerror})") from None
        if path.suffix.lower() in (".ssml", ".xml"):
            return content, str(path)
        return build_ssml(content, style=config.style), f"{path} (as SSML)"
    if config.text.strip():
        return build_ssml(config.text, style=config.style), "speech.text (as SSML)"
    if config.ssml.strip():
        return config.ssml, "the experiment's speech.ssml"
    raise DeepRacerError("speech: nothing to speak; set ssml, text or file")


def without_breaks(document: SsmlDocument, *, source: str = "ssml") -> SsmlDocument:
    """The document with every timed ``<break>`` taken out (for the break delta)."""
    kept = [
        t.raw
        for t in tokenize(document.text)
        if not (t.kind == "empty" and t.name == "break" and t.attribute("time") is not None)
    ]
    style = "conversational" if document.has_domain else "neutral"
    return validate_ssml("".join(kept), style=style, source=source)


@dataclass
class LocalRun:
    """The local engine's output for all chunks.

    Attributes:
        chunks: Each chunk's audio at the output rate.
        words: Word marks (times in the joined audio, source offsets).
        dropped: Tags dropped for espeak, with counts.
        inserted_s: Silence inserted for timed breaks [s].
    """

    chunks: list[Audio]
    words: list[SpeechMark]
    dropped: dict[str, int]
    inserted_s: float

    @property
    def audio(self) -> Audio:
        """The chunks joined."""
        joined = self.chunks[0]
        for chunk in self.chunks[1:]:
            joined = joined + chunk
        return joined


def speak_local(
    chunks: list[Chunk],
    voice: str,
    *,
    rate: int = LOCAL_RATE,
    wpm: int = 175,
    breaks: Literal["exact", "espeak"] = "exact",
    isolate: bool = True,
    seed: int = 0,
) -> LocalRun:
    """Speaks the chunks with espeak-ng and joins them."""
    from deepracer.plugins.speech.espeak import synthesize_chunk

    audios: list[Audio] = []
    words: list[SpeechMark] = []
    dropped: dict[str, int] = {}
    inserted = 0.0
    offset_ms = 0
    for chunk in chunks:
        spoken = synthesize_chunk(chunk, voice, wpm=wpm, breaks=breaks, isolate=isolate, seed=seed)
        audio = resample(spoken.audio, rate)
        audios.append(audio)
        words.extend(m.shifted(offset_ms) for m in spoken.words)
        for tag, n in spoken.dropped.items():
            dropped[tag] = dropped.get(tag, 0) + n
        inserted += spoken.inserted_s
        offset_ms += round(audio.seconds * 1000)
    return LocalRun(audios, words, dropped, inserted)


def waveform_plot(audio: Audio, sentences: list[SpeechMark], words: list[SpeechMark]) -> Any:
    """The waveform, a line at each sentence mark (with its first words), word ticks."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 3.8))
    ax = fig.subplots()
    t = np.arange(len(audio.samples)) / audio.rate
    ax.plot(t, audio.samples / 32768.0, lw=0.4, color="#1f77b4")
    ax.set_xlim(0, max(audio.seconds, 1e-3))
    ax.set_ylim(-1.05, 1.25)
    for mark in sentences:
        x = mark.time / 1000
        ax.axvline(x, color="#d62728", lw=1.0)
        label = " ".join(mark.value.split()[:3]) + ("..." if len(mark.value.split()) > 3 else "")
        ax.text(x, 1.08, label, fontsize=7, color="#d62728", rotation=0, ha="left", va="bottom")
    for mark in words:
        ax.plot([mark.time / 1000] * 2, [-1.05, -0.97], color="#555555", lw=0.6)
    ax.set_xlabel("time [s]")
    ax.set_ylabel("amplitude (full scale 1)")
    ax.set_title(
        f"speech.wav: {audio.seconds:.2f} s at {audio.rate} Hz; red: sentence marks,"
        " ticks: word marks"
    )
    return fig


def _chunk_limits(config: SpeechConfig, backend: str) -> tuple[int, int]:
    limits = TASK_LIMITS if backend == "aws" and config.polly_mode == "task" else SYNC_LIMITS
    if config.max_billed_characters > limits[0]:
        raise DeepRacerError(
            f"speech.max_billed_characters: {config.max_billed_characters} is over Polly's"
            f" {limits[0]} for polly_mode {config.polly_mode}"
        )
    return config.max_billed_characters, limits[1]


def _preflight(config: SpeechConfig, context: RunContext) -> int:
    """Settings the backend cannot honour, refused before any synthesis; the rate."""
    if context.backend == "local":
        if config.mp3:
            raise DeepRacerError(
                "speech.mp3: MP3 comes from Polly (backend aws); the local engine writes WAV"
            )
        return config.sample_rate or LOCAL_RATE
    rate = config.sample_rate or 16000
    if rate not in (8000, 16000):
        raise DeepRacerError(
            f"speech.sample_rate: Polly's PCM (for the WAV) has 8000 or 16000 Hz, not {rate}"
        )
    if config.polly_mode == "task" and not context.aws.s3:
        raise DeepRacerError("polly_mode task: set aws.s3 (s3://BUCKET/PREFIX) for the outputs")
    return rate


@dataclass
class _Spoken:
    chunks: list[Audio]
    words: list[SpeechMark]
    sentences: list[SpeechMark]
    mp3: list[bytes]
    extra: dict[str, Any]


def _speak(config: SpeechConfig, context: RunContext, chunks: list[Chunk], rate: int) -> _Spoken:
    if context.backend == "local":
        local = speak_local(
            chunks,
            config.voice,
            rate=rate,
            wpm=config.rate_wpm,
            breaks=config.breaks,
            isolate=config.isolate,
            seed=context.seed,
        )
        sentences = sentence_marks(
            local.words, [(s.start, s.end, s.value) for c in chunks for s in c.sentences]
        )
        extra = {
            "dropped_tags": sum(local.dropped.values()),
            "break_inserted_s": round(local.inserted_s, 3),
            "_dropped": local.dropped,
        }
        return _Spoken(local.chunks, local.words, sentences, [], extra)
    from deepracer.plugins.speech.polly import check_polly_voice, synthesize_polly

    polly = context.client("polly")
    check_polly_voice(polly, config.voice, config.engine)
    spoken = synthesize_polly(
        polly,
        chunks,
        voice=config.voice,
        engine=config.engine,
        sample_rate=rate,
        mp3=config.mp3,
        mark_types=config.mark_types,
        mode=config.polly_mode,
        s3_client=context.client("s3") if config.polly_mode == "task" else None,
        s3_uri=context.aws.s3,
        poll_seconds=config.poll_seconds,
        timeout_s=config.task_timeout_s,
        echo=context.echo,
    )
    words = [m for m in spoken.marks if m.type == "word"]
    sentences = [m for m in spoken.marks if m.type == "sentence"]
    extra = {
        "polly_requests": spoken.requests,
        "polly_request_characters": spoken.request_characters,
    }
    return _Spoken(spoken.chunks, words, sentences, spoken.mp3, extra)


def _duration_of(
    config: SpeechConfig,
    context: RunContext,
    document: SsmlDocument,
    rate: int,
    breaks: Literal["exact", "espeak"] | None = None,
) -> float:
    """Seconds of audio for ``document`` (the break measurement's second synthesis).

    ``breaks`` overrides the local engine's break rendering.
    """
    limits = _chunk_limits(config, context.backend)
    chunks = split_ssml(document, max_billed=limits[0], max_total=limits[1])
    if context.backend == "local":
        spoken = speak_local(
            chunks,
            config.voice,
            rate=rate,
            wpm=config.rate_wpm,
            breaks=breaks or config.breaks,
            isolate=config.isolate,
            seed=context.seed,
        )
        return spoken.audio.seconds
    from deepracer.plugins.speech.polly import synthesize_polly

    polly = synthesize_polly(
        context.client("polly"),
        chunks,
        voice=config.voice,
        engine=config.engine,
        sample_rate=rate,
        mark_types=(),
        mode=config.polly_mode,
        s3_client=context.client("s3") if config.polly_mode == "task" else None,
        s3_uri=context.aws.s3,
        poll_seconds=config.poll_seconds,
        timeout_s=config.task_timeout_s,
        echo=context.echo,
    )
    return sum(a.seconds for a in polly.chunks)


def _breaks(
    config: SpeechConfig, context: RunContext, document: SsmlDocument, rate: int, with_s: float
) -> dict[str, float]:
    """What the timed breaks add: the audio with them minus the audio without."""
    requested = sum(b.seconds or 0.0 for b in document.breaks)
    if not config.measure_breaks or requested == 0:
        return {"break_requested_s": round(requested, 3)}
    plain = without_breaks(document, source="ssml without breaks")
    without_s = _duration_of(config, context, plain, rate)
    found = {
        "break_requested_s": round(requested, 3),
        "duration_without_breaks_s": round(without_s, 3),
        "break_delta_s": round(with_s - without_s, 3),
    }
    if context.backend == "local":
        # espeak's own rendering, for the report: it replaces the punctuation pause.
        other: Literal["exact", "espeak"] = "espeak" if config.breaks == "exact" else "exact"
        with_other = _duration_of(config, context, document, rate, breaks=other)
        without_other = _duration_of(config, context, plain, rate, breaks=other)
        found[f"break_delta_{other}_s"] = round(with_other - without_other, 3)
    return found


def _checks_table(checks: list[AudioCheck]) -> str:
    rows = [(c.name, "pass" if c.passed else "FAIL", c.detail) for c in checks]
    return markdown_table(["check", "result", "measured"], rows) + "\n"


def run(config: SpeechConfig, context: RunContext) -> PluginResult:
    """Validates, splits and speaks the configured text; writes audio, marks, plot."""
    started = time.perf_counter()
    text, source = load_input(config)
    document = validate_ssml(
        text, voice=config.voice, engine=config.engine, style=config.style, source=source
    )
    rate = _preflight(config, context)
    max_billed, max_total = _chunk_limits(config, context.backend)
    chunks = split_ssml(document, max_billed=max_billed, max_total=max_total, source=source)
    context.write_text("speech.ssml", document.text)
    context.echo(
        f"speech: {document.billed_characters} billed characters, {document.words} words,"
        f" {len(chunks)} chunk(s), backend {context.backend}, voice {config.voice}"
    )
    synth_started = time.perf_counter()
    spoken = _speak(config, context, chunks, rate)
    synthesis_s = time.perf_counter() - synth_started
    audio = spoken.chunks[0]
    for more in spoken.chunks[1:]:
        audio = audio + more
    data = wav_bytes(audio)
    atomic_write_bytes(context.run_dir / "speech.wav", data)
    if len(chunks) > 1:
        for i, (chunk, part) in enumerate(zip(chunks, spoken.chunks, strict=True), start=1):
            context.write_text(f"speech_chunk{i:03d}.ssml", chunk.ssml)
            atomic_write_bytes(context.run_dir / f"speech_chunk{i:03d}.wav", wav_bytes(part))
    if spoken.mp3:
        atomic_write_bytes(context.run_dir / "speech.mp3", b"".join(spoken.mp3))
    marks = [
        *(spoken.words if "word" in config.mark_types else []),
        *(spoken.sentences if "sentence" in config.mark_types else []),
    ]
    if config.mark_types:
        context.write_text("speech_marks.jsonl", marks_to_jsonl(marks))
    context.save_figure(waveform_plot(audio, spoken.sentences, spoken.words), "waveform.png")

    breaks = _breaks(config, context, document, rate, audio.seconds)
    checks = check_audio(
        data,
        rate=rate,
        words=document.words,
        pause_s=breaks["break_requested_s"],
        wpm_band=config.wpm_band,
        rms_floor=config.rms_floor,
    )
    if "break_delta_s" in breaks:
        low, high = config.break_tolerance
        requested, delta = breaks["break_requested_s"], breaks["break_delta_s"]
        checks.append(
            AudioCheck(
                "breaks add their time",
                low * requested <= delta <= high * requested,
                f"+{delta:.3f} s for {requested:.3f} s requested (want"
                f" {low * requested:.2f}-{high * requested:.2f} s)",
            )
        )
    speaking = audio.seconds - breaks["break_requested_s"]
    dropped = spoken.extra.pop("_dropped", {})
    metrics: dict[str, Any] = {
        "duration_s": round(audio.seconds, 3),
        "sample_rate": audio.rate,
        "chunks": len(chunks),
        "characters_billed": document.billed_characters,
        "characters_total": document.total_characters,
        "max_chunk_billed_characters": max(c.billed for c in chunks),
        "forced_splits": sum(c.forced for c in chunks),
        "words": document.words,
        "words_per_minute": round(document.words * 60 / speaking, 1) if speaking > 0 else None,
        "rms": round(audio.rms, 4),
        **breaks,
        "word_marks": len(spoken.words),
        "sentence_marks": len(spoken.sentences),
        "checks_passed": sum(c.passed for c in checks),
        "checks_total": len(checks),
        "audio_ok": int(all(c.passed for c in checks)),
        "synthesis_s": round(synthesis_s, 3),
        "realtime_factor": round(synthesis_s / audio.seconds, 4) if audio.seconds else None,
        **spoken.extra,
    }
    context.echo(
        f"speech: {audio.seconds:.2f} s of audio, {metrics['checks_passed']}/{len(checks)}"
        f" checks passed, {time.perf_counter() - started:.1f} s"
    )
    report = _report(config, context, document, source, chunks, metrics, checks, dropped)
    return PluginResult(metrics=metrics, report=report)


def _report(
    config: SpeechConfig,
    context: RunContext,
    document: SsmlDocument,
    source: str,
    chunks: list[Chunk],
    metrics: dict[str, Any],
    checks: list[AudioCheck],
    dropped: dict[str, int],
) -> str:
    local = context.backend == "local"
    engine = (
        f"espeak-ng (espeakng-loader), voice {'en-us+f3' if config.voice == 'Joanna' else 'en-us'}"
        f" for {config.voice}, {config.rate_wpm} words/min, breaks {config.breaks}"
        if local
        else f"Amazon Polly, {config.voice}, engine {config.engine}, {config.polly_mode} mode"
    )
    tags = ", ".join(f"{k} x{v}" for k, v in sorted(document.tags.items()))
    lines = [
        "## What was spoken\n",
        f"- Input: {source}, validated for Polly's conversational style (voice"
        f" {config.voice}, engine {config.engine}, style {config.style}); written as"
        " `speech.ssml` (speech marks' byte offsets refer to it).",
        f"- Tags: {tags}.",
        f"- {document.words} words, {document.billed_characters} billed characters (tags"
        f" excluded), {document.total_characters} in all; {len(chunks)}"
        f" chunk{'s' if len(chunks) > 1 else ''} of at most"
        f" {metrics['max_chunk_billed_characters']} billed characters each (limit"
        f" {config.max_billed_characters}), cut at sentence boundaries"
        + (
            f", {metrics['forced_splits']} sentence(s) cut between words"
            if metrics["forced_splits"]
            else ""
        )
        + ".",
        f"- Engine: {engine}.",
        f"- Output: `speech.wav` ({metrics['duration_s']:.2f} s, {metrics['sample_rate']} Hz,"
        " 16-bit mono)"
        + (", `speech.mp3`" if config.mp3 else "")
        + (", `speech_marks.jsonl`" if config.mark_types else "")
        + (", per-chunk `speech_chunkNNN.wav`/`.ssml`" if len(chunks) > 1 else "")
        + ", `waveform.png`.",
        "",
        "## Checks\n",
        _checks_table(checks),
        "## Breaks\n",
    ]
    if "break_delta_s" in metrics:
        paragraph = (
            f"The timed breaks ask for {metrics['break_requested_s']:.3f} s. Synthesized again"
            f" without them the audio lasts {metrics['duration_without_breaks_s']:.3f} s, so"
            f" they add {metrics['break_delta_s']:.3f} s."
        )
        other = next(
            (k for k in metrics if k.startswith("break_delta_") and k != "break_delta_s"), None
        )
        if other:
            mode = other.removeprefix("break_delta_").removesuffix("_s")
            paragraph += (
                f" With `breaks: {mode}` they add {metrics[other]:.3f} s: espeak-ng renders a"
                " break as the pause at that boundary, replacing the pause of the punctuation"
                " before it, so after a full stop a break adds less than its time; `exact`"
                " inserts the break's silence where the next word starts."
            )
        lines += [paragraph, ""]
    else:
        lines.append("Not measured (no timed break, or measure_breaks: false).\n")
    lines.append("## Notes\n")
    if local:
        lines += [
            "- espeak-ng has no conversational style: `<amazon:domain>` and the other"
            " `amazon:` tags are dropped for it"
            + (
                f" ({', '.join(f'{k} x{v}' for k, v in sorted(dropped.items()))})"
                if dropped
                else ""
            )
            + ", so this audio says nothing about the conversational prosody the article"
            " describes. The checks are structural (header, rate, duration for the words,"
            " level, break timing); there is no offline measure of prosody or naturalness.",
            "- Word marks come from espeak-ng's word events; sentence marks are the"
            " splitter's sentences timed by their first word (espeak skips the sentence"
            " event after a `<break>`).",
            "- Since June 2021 Polly's Joanna and Matthew neural voices speak the"
            " conversational style by default; the SSML tag stays valid.",
        ]
    else:
        lines += [
            f"- Polly: {metrics.get('polly_requests', 0)} requests,"
            f" {metrics.get('polly_request_characters', 0)} request characters reported"
            + (
                " (the break measurement bills the text a second time)"
                if "break_delta_s" in metrics
                else ""
            )
            + ".",
            "- The checks are structural; listen to `speech.wav` for the style itself.",
        ]
    return "\n".join(lines) + "\n"
