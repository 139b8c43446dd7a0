"""The local engine: espeak-ng from the ``espeakng-loader`` wheel.

``espeakng-loader`` (PyPI) ships ``libespeak-ng.so`` and ``espeak-ng-data``, so the
engine installs with pip and runs offline. The ctypes binding is
:mod:`~deepracer.plugins.speech.libespeak`: espeak-ng keeps global state and is not
thread-safe, so calls are serialized by a lock and the library is initialized once
per process, and by default each synthesis runs in a fresh worker process (the
state it carries from one synthesis to the next moves the audio by a few samples;
a fresh process makes the same input give the same bytes).

Polly's SSML is not espeak's. The local engine keeps ``speak``, ``break``,
``prosody``, ``emphasis``, ``say-as``, ``sub``, ``p`` and ``s`` and drops every other
tag (``amazon:domain`` among them: **espeak has no conversational style**), keeping
the text inside. Voices map to espeak voices: Joanna -> ``en-us+f3``, Matthew ->
``en-us``.

Breaks: espeak renders ``<break time>`` as the pause at that boundary, replacing
the punctuation's own pause (measured: a 500 ms break adds about 0.13 s after a
full stop, 0.35 s after a comma, 0.40 s between words). With ``breaks="exact"`` (the
default) timed breaks are taken out of espeak's input and exactly that much
silence is inserted where the next word starts, so a break *adds* its time, as the
SSML specification says ("a pause to be inserted").

Word marks come from espeak's word events (a 1-based character position in its
input, tags included, and a length in characters), mapped back to byte offsets in
the validated document.

Contents:
    LOCAL_VOICES, LOCAL_TAGS: the voice map and the tags espeak keeps.
    LocalSpeech: audio, word marks and what was dropped.
    synthesize_chunk: one chunk to audio and word marks (source offsets).
    to_local_ssml: what espeak is given for an SSML document.
"""

from __future__ import annotations

import bisect
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from deepracer.errors import DeepRacerError
from deepracer.plugins.speech import libespeak
from deepracer.plugins.speech.audio import Audio
from deepracer.plugins.speech.marks import SpeechMark
from deepracer.plugins.speech.split import Chunk
from deepracer.plugins.speech.ssml import Token, break_seconds, decode_text, tokenize

__all__ = ["LOCAL_TAGS", "LOCAL_VOICES", "LocalSpeech", "synthesize_chunk", "to_local_ssml"]

LOCAL_VOICES = {"Joanna": "en-us+f3", "Matthew": "en-us"}
"""Polly voice -> espeak-ng voice (``+f3``: a female variant in ``voices/!v``)."""
LOCAL_TAGS = frozenset({"speak", "break", "prosody", "emphasis", "say-as", "sub", "p", "s"})
"""Tags espeak-ng is given; the others are dropped, their text kept."""

_FADE_S = 0.004  # fades around an inserted silence, against clicks
_WORKER_TIMEOUT_S = 300.0


def _raw(text: str, voice: str, wpm: int, seed: int, isolate: bool) -> libespeak.Raw:
    """One espeak-ng synthesis: in a fresh worker process, or here under the lock."""
    if not isolate:
        try:
            return libespeak.synthesize(text, voice, wpm, seed)
        except libespeak.EngineError as exc:
            raise DeepRacerError(str(exc)) from None
    request = {"text": text, "voice": voice, "wpm": wpm, "seed": seed}
    try:
        # -P: the worker's folder must not shadow standard modules on sys.path.
        done = subprocess.run(
            [sys.executable, "-P", libespeak.__file__],
            input=json.dumps(request).encode("utf-8"),
            capture_output=True,
            timeout=_WORKER_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DeepRacerError(f"espeak-ng worker: no answer in {_WORKER_TIMEOUT_S:g} s") from None
    if done.returncode != 0:
        problem = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DeepRacerError(
            f"espeak-ng worker failed (exit {done.returncode}): {problem[-1] if problem else ''}"
        )
    head, _, pcm = done.stdout.partition(b"\n")
    header = json.loads(head)
    if len(pcm) != header["bytes"]:
        raise DeepRacerError(f"espeak-ng worker: {len(pcm)} bytes, announced {header['bytes']}")
    words = [(int(p), int(n), int(s)) for p, n, s in header["words"]]
    return libespeak.Raw(int(header["rate"]), pcm, words)


@dataclass(frozen=True)
class LocalSpeech:
    """The local engine's output for one chunk.

    Attributes:
        audio: The samples (espeak-ng's rate, 22,050 Hz).
        words: Word marks, time from the chunk's start, offsets in the source.
        dropped: Tags dropped for espeak, with counts.
        inserted_s: Silence inserted for timed breaks [s].
        local_ssml: What espeak-ng was given.
    """

    audio: Audio
    words: list[SpeechMark]
    dropped: dict[str, int]
    inserted_s: float
    local_ssml: str


@dataclass
class _Piece:
    """A text token in espeak's input: where it is there and in the chunk."""

    at: int  # character offset in espeak's input
    token: Token  # offsets in the chunk


def _sanitize(
    ssml: str, breaks: Literal["exact", "espeak"]
) -> tuple[str, list[_Piece], list[tuple[int, float]], dict[str, int]]:
    """The input for espeak, its text pieces, the removed timed breaks, the dropped tags."""
    parts: list[str] = []
    pieces: list[_Piece] = []
    timed: list[tuple[int, float]] = []
    dropped: dict[str, int] = {}
    length = 0
    for token in tokenize(ssml):
        if token.kind == "other":
            continue
        if token.kind in ("open", "empty", "close") and token.name not in LOCAL_TAGS:
            if token.kind != "close":
                dropped[token.name] = dropped.get(token.name, 0) + 1
            continue
        if token.kind == "empty" and token.name == "break" and breaks == "exact":
            seconds = break_seconds(token.attribute("time") or "")
            if seconds is not None:
                timed.append((length, seconds))
                continue
        raw = token.raw
        if token.kind == "text":
            pieces.append(_Piece(length, token))
            # SSML whitespace is insignificant, but espeak pauses for a paragraph at a
            # blank line; spaces keep every character position.
            raw = raw.translate(_SPACES)
        parts.append(raw)
        length += len(raw)
    return "".join(parts), pieces, timed, dropped


_SPACES = str.maketrans("\n\r\t", "   ")
_ENTITY_AT = re.compile(r"&[#\w]*;")
_ENTITY_END = re.compile(r"&[#\w]*;$")
_TRAILING = frozenset(".,!?;:\"')]}")


def _word_mark(
    position: int, length: int, pieces: list[_Piece], starts: list[int], chunk: Chunk
) -> tuple[int, int, str] | None:
    """A word event (1-based character, length) to source (start, end, value)."""
    p = position - 1
    k = bisect.bisect_right(starts, p) - 1
    if k < 0 or p >= pieces[k].at + len(pieces[k].token.raw):
        k += 1  # in a tag: the word is the next text
        if k >= len(pieces):
            return None
        p = pieces[k].at
    raw = pieces[k].token.raw
    i = p - pieces[k].at
    # espeak reports an entity (&amp;) at its last character; start at its '&'.
    amp = raw.rfind("&", 0, i + 1)
    if amp >= 0:
        match = _ENTITY_AT.match(raw, amp)
        if match and match.start() <= i < match.end():
            i = amp
    j, counted = i, 0
    while j < len(raw) and counted < max(length, 1):
        match = _ENTITY_AT.match(raw, j)
        j = match.end() if match and raw[j] == "&" else j + 1
        counted += 1
    # espeak's length sometimes takes in the punctuation after the word ("Zoë."
    # before a tag); Polly's word marks do not.
    while j > i + 1 and raw[j - 1] in _TRAILING and _ENTITY_END.search(raw[i:j]) is None:
        j -= 1
    byte = pieces[k].token.byte
    start = chunk.to_source(byte + len(raw[:i].encode("utf-8")))
    end = chunk.to_source(byte + len(raw[:j].encode("utf-8")))
    return start, end, decode_text(raw[i:j])


def _insert_silences(
    samples: Any, cuts: list[tuple[int, float]], rate: int
) -> tuple[Any, list[tuple[int, int]]]:
    """Inserts silence at sample positions; returns the samples and (at, added) pairs."""
    fade = int(_FADE_S * rate)
    out = samples.astype(np.float64)
    added: list[tuple[int, int]] = []
    shift = 0
    for at, seconds in sorted(cuts):
        n = round(seconds * rate)
        where = at + shift
        # Short fades either side, so a cut between voiced sounds does not click.
        a = max(where - fade, 0)
        out[a:where] *= np.linspace(1.0, 0.0, where - a, endpoint=False)
        b = min(where + fade, len(out))
        out[where:b] *= np.linspace(0.0, 1.0, b - where, endpoint=False)
        out = np.concatenate([out[:where], np.zeros(n), out[where:]])
        added.append((at, n))
        shift += n
    return np.round(out).astype(np.int16), added


def to_local_ssml(ssml: str, breaks: Literal["exact", "espeak"] = "exact") -> str:
    """What espeak-ng is given for ``ssml``.

    Tags it does not honour are removed (with ``exact``, timed breaks too), and
    newlines become spaces.
    """
    return _sanitize(ssml, breaks)[0]


def synthesize_chunk(
    chunk: Chunk,
    voice: str,
    *,
    wpm: int = 175,
    breaks: Literal["exact", "espeak"] = "exact",
    isolate: bool = True,
    seed: int = 0,
) -> LocalSpeech:
    """Speaks one chunk with espeak-ng.

    Args:
        chunk: From :func:`~deepracer.plugins.speech.split.split_ssml`.
        voice: ``Joanna`` or ``Matthew`` (mapped by :data:`LOCAL_VOICES`).
        wpm: espeak's speaking rate [words/min] (its default is 175).
        breaks: ``exact`` inserts each timed break's silence; ``espeak`` leaves
            breaks to espeak (which replaces the punctuation pause).
        isolate: Synthesize in a fresh worker process (byte-identical audio for the
            same input); False: in this process under a lock (about 70 ms faster per
            call; espeak's carried-over state moves the audio by a few samples).
        seed: Seeds espeak-ng's noise generator.

    Raises:
        DeepRacerError: espeakng-loader missing, an unknown voice, or a failed call.
    """
    if voice not in LOCAL_VOICES:
        raise DeepRacerError(f"voice {voice!r}: the local engine speaks {', '.join(LOCAL_VOICES)}")
    text, pieces, timed, dropped = _sanitize(chunk.ssml, breaks)
    raw = _raw(text, LOCAL_VOICES[voice], wpm, seed, isolate)
    rate = raw.rate
    samples = np.frombuffer(raw.pcm, dtype="<i2").astype(np.int16)
    words = sorted(raw.words, key=lambda w: w[2])
    # A timed break's silence goes where the first word after it starts.
    cuts = []
    for at, seconds in timed:
        after = [s for pos, _, s in words if pos - 1 >= at]
        cuts.append((min(after) if after else len(samples), seconds))
    samples, added = _insert_silences(samples, cuts, rate)
    starts = [p.at for p in pieces]
    marks: list[SpeechMark] = []
    seen: set[int] = set()
    for position, length, sample in words:
        if position in seen:  # espeak repeats the position for <sub> and say-as parts
            continue
        seen.add(position)
        found = _word_mark(position, length, pieces, starts, chunk)
        if found is None or not found[2].strip():
            continue
        shifted = sample + sum(n for at, n in added if at <= sample)
        marks.append(SpeechMark(round(shifted * 1000 / rate), "word", *found))
    return LocalSpeech(
        audio=Audio(samples, rate),
        words=marks,
        dropped=dropped,
        inserted_s=sum(n for _, n in added) / rate,
        local_ssml=text,
    )
