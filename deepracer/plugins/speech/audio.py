"""16-bit mono PCM audio: WAV files, resampling and the structural checks.

There is no objective quality measure for synthetic speech offline, so the checks
are structural: a RIFF/WAVE header with the expected sample rate, a duration that
fits the word count at a plausible speaking rate, and an RMS level above a floor
(not silence).

Contents:
    Audio: int16 samples with their sample rate.
    wav_bytes, read_wav: to and from WAV (RIFF) bytes.
    resample: polyphase resampling to another rate.
    silence: a run of zeros.
    AudioCheck, check_audio: the structural checks.
"""

from __future__ import annotations

import io
import math
import wave
from dataclasses import dataclass
from typing import Any

import numpy as np

from deepracer.errors import DeepRacerError

__all__ = ["Audio", "AudioCheck", "check_audio", "read_wav", "resample", "silence", "wav_bytes"]


@dataclass(frozen=True)
class Audio:
    """Mono 16-bit audio.

    Attributes:
        samples: int16 samples.
        rate: Samples per second.
    """

    samples: Any  # np.ndarray of int16
    rate: int

    @property
    def seconds(self) -> float:
        """Duration [s]."""
        return len(self.samples) / self.rate

    @property
    def rms(self) -> float:
        """Root-mean-square level, full scale = 1."""
        if len(self.samples) == 0:
            return 0.0
        x = self.samples.astype(np.float64) / 32768.0
        return float(np.sqrt(np.mean(x * x)))

    @classmethod
    def from_pcm(cls, data: bytes, rate: int) -> Audio:
        """Raw 16-bit little-endian mono PCM (Polly's ``pcm`` output)."""
        usable = len(data) - len(data) % 2
        return cls(np.frombuffer(data[:usable], dtype="<i2").astype(np.int16), rate)

    def __add__(self, other: Audio) -> Audio:
        if other.rate != self.rate:
            raise ValueError(f"cannot join {self.rate} Hz and {other.rate} Hz audio")
        return Audio(np.concatenate([self.samples, other.samples]), self.rate)


def silence(seconds: float, rate: int) -> Audio:
    """``seconds`` of zeros."""
    return Audio(np.zeros(round(seconds * rate), dtype=np.int16), rate)


def wav_bytes(audio: Audio) -> bytes:
    """A RIFF/WAVE file: PCM, 16-bit, mono."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(audio.rate)
        out.writeframes(np.asarray(audio.samples, dtype="<i2").tobytes())
    return buffer.getvalue()


def read_wav(data: bytes, *, source: str = "WAV") -> Audio:
    """Reads 16-bit PCM WAV bytes (mono, or the first channel).

    Raises:
        DeepRacerError: Not a RIFF/WAVE file, or not 16-bit PCM.
    """
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise DeepRacerError(f"{source}: not a RIFF/WAVE file")
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            if wav.getsampwidth() != 2:
                raise DeepRacerError(f"{source}: {8 * wav.getsampwidth()}-bit, expected 16-bit")
            frames = wav.readframes(wav.getnframes())
            channels, rate = wav.getnchannels(), wav.getframerate()
    except (wave.Error, EOFError) as exc:
        raise DeepRacerError(f"{source}: unreadable WAV ({exc})") from None
    samples = np.frombuffer(frames, dtype="<i2").astype(np.int16)[::channels]
    return Audio(samples, rate)


def resample(audio: Audio, rate: int) -> Audio:
    """The audio at another sample rate (polyphase filter; deterministic)."""
    if rate == audio.rate:
        return audio
    from scipy.signal import resample_poly

    g = math.gcd(rate, audio.rate)
    y = resample_poly(audio.samples.astype(np.float64), rate // g, audio.rate // g)
    return Audio(np.clip(np.round(y), -32768, 32767).astype(np.int16), rate)


@dataclass(frozen=True)
class AudioCheck:
    """One structural check of the audio.

    Attributes:
        name: What was checked.
        passed: Whether it passed.
        detail: The measured value against the expectation.
    """

    name: str
    passed: bool
    detail: str


def check_audio(
    data: bytes,
    *,
    rate: int,
    words: int,
    pause_s: float,
    wpm_band: tuple[float, float],
    rms_floor: float,
) -> list[AudioCheck]:
    """The structural checks of a WAV file.

    Args:
        data: The WAV bytes.
        rate: The sample rate it should have.
        words: Words spoken (the document's word count).
        pause_s: Requested break time, taken out of the duration before the
            speaking rate is computed.
        wpm_band: Plausible words per minute (low, high).
        rms_floor: The lowest RMS level (full scale = 1) that is not silence.
    """
    riff = data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    checks = [AudioCheck("RIFF/WAVE header", riff, f"{data[:4]!r}...{data[8:12]!r}")]
    try:
        audio = read_wav(data)
    except DeepRacerError as exc:
        return [*checks, AudioCheck("readable 16-bit PCM", False, str(exc))]
    checks.append(AudioCheck("sample rate", audio.rate == rate, f"{audio.rate} Hz (want {rate})"))
    speaking = audio.seconds - pause_s
    wpm = words * 60.0 / speaking if speaking > 0 else math.inf
    low, high = wpm_band
    checks.append(
        AudioCheck(
            "duration fits the words",
            low <= wpm <= high,
            f"{audio.seconds:.2f} s for {words} words = {wpm:.0f} words/min"
            f" (want {low:g}-{high:g}) after {pause_s:.2f} s of breaks",
        )
    )
    checks.append(
        AudioCheck(
            "not silence", audio.rms >= rms_floor, f"RMS {audio.rms:.4f} (floor {rms_floor})"
        )
    )
    return checks
