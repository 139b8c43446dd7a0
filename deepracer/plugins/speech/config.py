"""The ``speech:`` section of a speech experiment.

Contents:
    DEFAULT_SSML: the shipped text, a race summary in the conversational style.
    SpeechConfig: the typed section.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from deepracer.plugins.kit import between, interval, positive

__all__ = ["DEFAULT_SSML", "SpeechConfig"]

DEFAULT_SSML = """\
<speak>
<amazon:domain name="conversational">
<p>Hey, that was a great run! Your car finished three laps without leaving the track.</p>
<p>The best lap took eleven point four seconds. <break time="500ms"/>That's only eight
percent slower than the race line.</p>
<p>Want to go faster? <prosody rate="90%">Take it easy on the hairpin</prosody>, and keep
the <sub alias="Proximal Policy Optimization">PPO</sub> learning rate low.</p>
</amazon:domain>
</speak>
"""

_RATES = (8000, 16000, 22050, 24000)


def _voice(value: str) -> str | None:
    return None if value in ("Joanna", "Matthew") else "Joanna or Matthew (conversational voices)"


def _engine(value: str) -> str | None:
    return None if value == "neural" else "neural (the conversational style is neural-only)"


def _rate(value: int | None) -> str | None:
    return None if value is None or value in _RATES else f"null or one of {_RATES}"


def _marks(value: tuple[str, ...]) -> str | None:
    ok = set(value) <= {"word", "sentence"} and len(set(value)) == len(value)
    return None if ok else "a list of distinct kinds among word, sentence"


def _band(value: tuple[float, float]) -> str | None:
    return None if 0 < value[0] < value[1] else "[low, high] with 0 < low < high"


def _tolerance(value: tuple[float, float]) -> str | None:
    return None if 0 < value[0] <= 1 <= value[1] else "[low, high] with 0 < low <= 1 <= high"


@dataclass(frozen=True, kw_only=True)
class SpeechConfig:
    """The ``speech:`` section: what to say, how, and what counts as plausible audio."""

    ssml: str = DEFAULT_SSML
    """An SSML document to speak (used when ``text`` and ``file`` are empty)."""
    text: str = ""
    """Plain text to speak instead, wrapped into SSML (blank lines: paragraphs)."""
    file: str = ""
    """A file to speak instead (``.ssml``/``.xml``: SSML, otherwise plain text),
    relative to the working directory."""
    style: Literal["conversational", "neutral"] = "conversational"
    """``conversational``: the document must hold (plain text gets)
    ``<amazon:domain name="conversational">``; ``neutral``: it must not."""
    voice: str = field(default="Joanna", metadata={"check": _voice})
    """Polly voice: Joanna or Matthew (locally espeak-ng ``en-us+f3`` / ``en-us``)."""
    engine: str = field(default="neural", metadata={"check": _engine})
    """Polly engine; the conversational style needs ``neural``."""
    sample_rate: int | None = field(default=None, metadata={"check": _rate})
    """WAV sample rate [Hz]; null: the engine's (espeak 22050, Polly PCM 16000).
    Polly's PCM has 8000 or 16000; the local engine resamples."""
    mp3: bool = False
    """Also fetch ``speech.mp3`` from Polly (backend aws; no MP3 encoder offline)."""
    mark_types: tuple[str, ...] = field(default=("word", "sentence"), metadata={"check": _marks})
    """Speech marks to write (``speech_marks.jsonl``); [] skips them."""
    max_billed_characters: int = field(
        default=3000, metadata={"check": between(1, 100_000, "an integer")}
    )
    """Billed characters per chunk; capped by Polly's limit for ``polly_mode``
    (3,000 sync, 100,000 task). Smaller values split more (to test splitting)."""
    polly_mode: Literal["sync", "task"] = "sync"
    """``sync``: ``synthesize_speech``; ``task``: ``start_speech_synthesis_task``
    into ``aws.s3`` and polling (backend aws)."""
    poll_seconds: float = field(default=2.0, metadata={"check": positive})
    """Seconds between ``get_speech_synthesis_task`` polls."""
    task_timeout_s: float = field(default=600.0, metadata={"check": positive})
    """Give up on a synthesis task after this long."""
    breaks: Literal["exact", "espeak"] = "exact"
    """Local engine: ``exact`` inserts each timed break's silence; ``espeak`` lets
    espeak pause (it replaces the punctuation pause, so a break adds less)."""
    rate_wpm: int = field(default=175, metadata={"check": between(80, 450, "an integer")})
    """Local engine: espeak-ng's speaking rate [words/min] (its default: 175)."""
    isolate: bool = True
    """Local engine: each synthesis in a fresh process, for byte-identical audio
    (espeak-ng carries state between syntheses); false: faster, in-process."""
    measure_breaks: bool = True
    """Synthesize again without the timed breaks to measure what they add (on
    backend aws this bills the characters twice)."""
    wpm_band: tuple[float, float] = field(default=(100.0, 260.0), metadata={"check": _band})
    """Plausible speaking rate [words/min] for the duration check (breaks excluded)."""
    rms_floor: float = field(
        default=0.01, metadata={"check": interval(0, 1, low_open=True, high_open=True)}
    )
    """Lowest RMS level (full scale 1) that counts as speech, not silence."""
    break_tolerance: tuple[float, float] = field(default=(0.7, 1.4), metadata={"check": _tolerance})
    """What the breaks add, as a share of their requested time, to pass the check
    (0.7-1.4: 0.35-0.7 s for a 500 ms break)."""
