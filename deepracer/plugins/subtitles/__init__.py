"""Frame-accurate subtitles from Amazon Transcribe output (the CaptionHub article).

An Amazon Transcribe batch transcript (the shipped sample is our own invented
DeepRacer race commentary) becomes SRT and WebVTT that follow the Netflix English
Timed Text Style Guide: 42 characters per line, 2 lines, 5/6 s to 7 s, 17 characters
per second, 2 frames between cues, breaks after punctuation and before conjunctions
and prepositions, never after an article or inside a name. Every time is a whole
frame at 24, 25 or 29.97 fps (counted as integers, converted to milliseconds once,
exactly). Cues are chosen with look-ahead (dynamic programming over break points),
and the greedy segmentation is measured beside it. Each file is read back with two
libraries that did not write it. Sentences are translated whole and re-timed over
the source speech; offline the translation is a labelled stub, ``backend: aws``
calls Amazon Translate (and Amazon Transcribe, given ``media_uri``).

This module stays light: the run's modules load when a run starts.

Contents:
    SubtitlesConfig: the ``subtitles:`` section.
    plugin: the registered :class:`~deepracer.plugins.Plugin`.
"""

from __future__ import annotations

from deepracer.plugins import Plugin, Reference
from deepracer.plugins.kit import DeferredRun
from deepracer.plugins.subtitles.config import SubtitlesConfig

__all__ = ["SubtitlesConfig", "plugin"]


plugin = Plugin(
    name="subtitles",
    description="frame-accurate SRT/WebVTT from a Transcribe transcript, style-checked, translated",
    config=SubtitlesConfig,
    run=DeferredRun("deepracer.plugins.subtitles.run"),
    article=(
        '"Subtitling videos accurately and easily with CaptionHub and AWS", AWS Machine'
        " Learning Blog (guest post by CaptionHub), 2019"
    ),
    references=(
        Reference(
            'Subtitles timed to the frame ("frame-accurate")',
            "every cue",
            metric="frame_exact_fraction",
        ),
        Reference("Languages (Amazon Translate)", "dozens", metric="languages"),
        Reference("Production increase with speech recognition", "up to 800 %"),
        Reference("Characters per line, at most (Netflix TTSG)", "42", "max_chars_per_line"),
        Reference("Reading speed, at most [chars/s] (Netflix TTSG)", "17", "max_cps"),
        Reference("Gap between cues, at least [frames] (Netflix TTSG)", "2", "min_gap_frames"),
        Reference("Style violations (Netflix TTSG)", "0", metric="violations"),
    ),
    extra="subtitles",
)
