"""A ctypes binding to libespeak-ng (from ``espeakng-loader``), standalone.

This module imports only the standard library and ``espeakng_loader``, so it also
runs as a worker process: ``python -P libespeak.py`` reads one request (JSON on
stdin) and writes one answer (a JSON line, then the raw samples) to stdout.

Why a worker: espeak-ng keeps global state between syntheses (a function-static
pitch-flutter index, among others, that is never reset, not even by
``espeak_Terminate`` + ``espeak_Initialize``), so the same text synthesized twice
in one process comes out a few samples apart. A fresh process per synthesis, with
the noise generator seeded (``espeak_ng_SetRandSeed``; espeak seeds it from the
clock otherwise), gives byte-identical audio for the same input. In-process use is
serialized by a lock, and the library is initialized once per process; it is not
thread-safe.

Contents:
    Raw: samples and word events of one synthesis.
    synthesize: one synthesis in this process (under the lock).
    main: the worker's entry point.
"""

from __future__ import annotations

import ctypes
import json
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EngineError", "Raw", "main", "synthesize"]

# speak_lib.h
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 0x01
_SSML = 0x10
_ENDPAUSE = 0x1000  # a sentence pause at the end, so chunks join like sentences
_RATE = 1  # espeak_PARAMETER espeakRATE
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1


class EngineError(RuntimeError):
    """espeakng-loader is missing, or espeak-ng refused a call."""


class _Event(ctypes.Structure):
    """``espeak_EVENT``."""

    _fields_ = (
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based character in the input, tags included
        ("length", ctypes.c_int),  # characters
        ("audio_position", ctypes.c_int),  # ms
        ("sample", ctypes.c_int),  # samples since the start of this synthesis
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_int64),  # a union: number, name or 8 characters
    )


_Callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass
class Raw:
    """One synthesis.

    Attributes:
        rate: Sample rate [Hz].
        pcm: 16-bit little-endian mono samples.
        words: ``(text_position, length, sample)`` of each word event: espeak's
            1-based character position in its input, the word's length in
            characters, and the sample where it starts.
    """

    rate: int
    pcm: bytes = b""
    words: list[tuple[int, int, int]] = field(default_factory=list)


class _Engine:
    """The process's one espeak-ng instance (use under :data:`_LOCK`)."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError:
            raise EngineError(
                "the local speech engine needs espeakng-loader (espeak-ng with its data):"
                " pip install 'deepracer[speech]'"
            ) from None
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_Callback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.restype = ctypes.c_int
        # espeak-ng seeds its noise generator from the clock; without a fixed seed the
        # same text differs from one second to the next.
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        lib.espeak_ng_SetRandSeed.restype = None
        data = espeakng_loader.get_data_path().encode()
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, _INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise EngineError(f"espeak-ng did not initialize (data {data.decode()!r})")
        self.lib = lib
        self.raw = Raw(rate)
        # Kept referenced: espeak holds the pointer for the life of the process.
        self.callback = _Callback(self._collect)
        self.parts: list[bytes] = []
        lib.espeak_SetSynthCallback(self.callback)

    def _collect(self, wav: Any, count: int, events: Any) -> int:
        if count > 0 and wav:
            self.parts.append(ctypes.string_at(wav, count * 2))
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            event = events[i]
            if event.type == _EVENT_WORD:
                self.raw.words.append((event.text_position, event.length, event.sample))
            i += 1
        return 0  # 0: go on

    def synth(self, text: str, voice: str, wpm: int, seed: int) -> Raw:
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise EngineError(f"espeak-ng has no voice {voice!r}")
        # Global state: set rate and seed on every call, so a call inherits neither.
        self.lib.espeak_SetParameter(_RATE, wpm, 0)
        self.lib.espeak_ng_SetRandSeed(seed)
        self.raw, self.parts = Raw(self.raw.rate), []
        data = text.encode("utf-8")
        flags = _CHARS_UTF8 | _SSML | _ENDPAUSE
        status = self.lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, flags, None, None)
        if status != 0 or self.lib.espeak_Synchronize() != 0:
            raise EngineError(f"espeak-ng failed to synthesize (status {status})")
        self.raw.pcm = b"".join(self.parts)
        return self.raw


_LOCK = threading.Lock()
_ENGINE: _Engine | None = None


def synthesize(text: str, voice: str, wpm: int, seed: int = 0) -> Raw:
    """Speaks espeak-SSML ``text`` in this process (initializing espeak-ng once).

    Args:
        text: espeak-ng's input (SSML it understands).
        voice: An espeak-ng voice name (``en-us``, ``en-us+f3``).
        wpm: Speaking rate [words/min].
        seed: Seeds espeak-ng's noise generator (fricatives, breath).

    Raises:
        EngineError: espeakng-loader missing, an unknown voice, or a failed call.
    """
    global _ENGINE
    with _LOCK:
        if _ENGINE is None:
            _ENGINE = _Engine()
        return _ENGINE.synth(text, voice, wpm, seed)


def main() -> int:
    """Worker: one JSON request ``{"text", "voice", "wpm", "seed"}`` on stdin -> stdout."""
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    try:
        raw = synthesize(
            str(request["text"]), str(request["voice"]), int(request["wpm"]), int(request["seed"])
        )
    except EngineError as exc:
        sys.stderr.write(f"{exc}\n")
        return 3
    header = json.dumps({"rate": raw.rate, "words": raw.words, "bytes": len(raw.pcm)})
    sys.stdout.buffer.write(header.encode("utf-8") + b"\n" + raw.pcm)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
