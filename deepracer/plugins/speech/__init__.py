"""Text to speech in Polly's conversational style (the Amazon Polly article).

SSML is built and validated for ``<amazon:domain name="conversational">`` (neural
engine, Joanna or Matthew; anything Polly would refuse is refused here first, with
the line and the tag), split at sentence boundaries within Polly's character
limits, and synthesized either offline with espeak-ng (``espeakng-loader``, driven
through ctypes; it ignores the conversational style) or, with ``backend: aws``,
with Amazon Polly (``synthesize_speech``, or ``start_speech_synthesis_task`` into
S3 with polling). A run writes ``speech.wav`` (and ``speech.mp3`` from Polly),
Polly-format speech marks, the validated SSML, structural audio checks, the
measured effect of ``<break>``, a waveform plot and a report. ``deepracer
evaluate --announce FILE.wav`` uses the local engine for a spoken race summary:
importing this package registers it as the evaluation announcer
(:mod:`deepracer.evaluation.hooks`).

This module stays light: numpy, scipy, matplotlib and espeak-ng load when a run
starts.

Contents:
    SpeechConfig: the ``speech:`` section.
    plugin: the registered :class:`~deepracer.plugins.Plugin`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from deepracer.evaluation.hooks import register_announcer
from deepracer.plugins import Plugin, Reference
from deepracer.plugins.kit import DeferredRun
from deepracer.plugins.speech.config import SpeechConfig

__all__ = ["SpeechConfig", "plugin"]


def _announce(records: Sequence[Any], out: Path, path: Path) -> str:
    """``deepracer evaluate --announce``: the race summary spoken into ``path``."""
    from deepracer.plugins.speech.announce import announce_evaluation

    return announce_evaluation(records, out, path)


register_announcer("speech", _announce)

plugin = Plugin(
    name="speech",
    description="SSML in Polly's conversational style: validate, split, speak (espeak-ng or Polly)",
    config=SpeechConfig,
    run=DeferredRun("deepracer.plugins.speech.experiment"),
    article=(
        '"Engage listeners with Amazon Polly\'s Conversational speaking style voices",'
        " AWS Machine Learning Blog, 2020 (updated June 2021)"
    ),
    references=(
        Reference("Voices with the conversational style", "Matthew and Joanna (US English)"),
        Reference("Engine and text type", "neural, SSML"),
        Reference(
            "Regions (at publication)", "US East (N. Virginia), US West (Oregon), EU (Ireland)"
        ),
        Reference(
            "Billed characters per chunk (Polly quota, not the article: 3,000 sync, 100,000 task)",
            "<= 3000",
            metric="max_chunk_billed_characters",
        ),
        Reference(
            'What <break time="500ms"/> adds [s] (SSML, not the article)',
            "0.5",
            metric="break_delta_s",
        ),
    ),
    extra="speech",
)
