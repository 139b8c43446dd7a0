"""Spoken race summaries: ``deepracer evaluate --announce FILE.wav``.

After an evaluation the best lap, the laps completed and (when the evaluation
compared the laps with the race line) the best ratio to the race line are read
out in a short conversational summary, synthesized with the local engine.

Contents:
    race_summary: the summary text of evaluation trials.
    announce: speak plain text into a WAV file with the local engine.
    announce_evaluation: both, for an evaluation's output folder.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from deepracer.errors import DeepRacerError
from deepracer.io import atomic_write_bytes
from deepracer.runs.layout import RACELINE_COMPARISON

__all__ = ["announce", "announce_evaluation", "race_summary"]


def _laps(record: Any) -> list[float]:
    """Completed lap times of one trial (a time trial's laps, or the race lap)."""
    if getattr(record, "laps", ()):
        return list(record.lap_times)
    return [float(record.lap_time)] if record.status == "lap_complete" else []


def race_summary(records: Sequence[Any], raceline: Mapping[str, Any] | None = None) -> str:
    """A few sentences on evaluation trials.

    Args:
        records: :class:`~deepracer.evaluation.evaluate.TrialRecord` objects.
        raceline: ``raceline_comparison.json`` of the evaluation, if there is one.
    """
    laps = [t for r in records for t in _laps(r)]
    timed = any(getattr(r, "laps", ()) for r in records)
    n = len(records)
    kind = "time trial" if timed else "trial"
    sentences = [f"Evaluation finished: {n} {kind}{'s' if n != 1 else ''}."]
    if not laps:
        best = max((float(r.progress) for r in records), default=0.0)
        sentences.append(f"No lap was completed; the best progress was {best:.0f} percent.")
        return " ".join(sentences)
    if timed:
        sentences.append(f"{len(laps)} lap{'s' if len(laps) != 1 else ''} completed.")
    else:
        done = sum(1 for r in records if r.status == "lap_complete")
        sentences.append(f"{done} of {n} trials completed the lap.")
    sentences.append(f"The best lap took {min(laps):.2f} seconds.")
    rows = (raceline or {}).get("laps", [])
    if rows:
        # The best lap's own ratio: a standing-start lap is compared with the race
        # line's standing-start lap, a flying lap with its flying lap.
        best = min(rows, key=lambda row: row["lap_time"])
        sentences.append(f"That is {best['ratio_to_raceline']:.2f} times the race line's time.")
    return " ".join(sentences)


def announce(text: str, path: Path, *, voice: str = "Joanna") -> float:
    """Speaks plain ``text`` (conversational-style SSML) into a WAV file, locally.

    Returns:
        The audio's duration [s].

    Raises:
        DeepRacerError: The local engine is missing or fails.
    """
    from deepracer.plugins.speech.audio import wav_bytes
    from deepracer.plugins.speech.experiment import speak_local
    from deepracer.plugins.speech.split import TASK_LIMITS, split_ssml
    from deepracer.plugins.speech.ssml import build_ssml, validate_ssml

    document = validate_ssml(build_ssml(text), voice=voice, source="summary")
    chunks = split_ssml(document, max_billed=TASK_LIMITS[0], max_total=TASK_LIMITS[1])
    audio = speak_local(chunks, voice).audio
    try:
        atomic_write_bytes(path, wav_bytes(audio))
    except OSError as exc:
        raise DeepRacerError(f"--announce: cannot write {path} ({exc.strerror})") from None
    return audio.seconds


def announce_evaluation(records: Sequence[Any], out: Path, path: Path) -> str:
    """Speaks the summary of an evaluation written to ``out`` into ``path``.

    Returns:
        A line for the console: the file, its duration and what it says.
    """
    comparison = out / RACELINE_COMPARISON
    raceline = json.loads(comparison.read_text()) if comparison.is_file() else None
    text = race_summary(records, raceline)
    seconds = announce(text, path)
    return f"announced in {path} ({seconds:.1f} s): {text}"
