"""The subtitles run's figure (a matplotlib ``Figure``, no pyplot state).

Contents:
    Track: one subtitle track to draw.
    timeline: per track, each cue as a bar from its in- to its out-time at the height
        of its reading speed, with the limit, and the spoken words underneath.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from deepracer.plugins.subtitles.segmenter import Cue
from deepracer.plugins.subtitles.transcript import Word

__all__ = ["Track", "timeline"]


@dataclass(frozen=True)
class Track:
    """One subtitle track.

    Attributes:
        title: Panel title.
        cues: Its cues.
        flagged: Numbers (1-based) of cues that break a rule.
    """

    title: str
    cues: Sequence[Cue]
    flagged: frozenset[int] = frozenset()


def timeline(tracks: Sequence[Track], words: Sequence[Word], fps: Fraction, max_cps: float) -> Any:
    """Cue timelines with reading speed, one panel per track, sharing the time axis.

    Args:
        tracks: The tracks (source first).
        words: The source words, drawn as ticks under the first panel's cues.
        fps: Frame rate (cue frames to seconds).
        max_cps: The reading-speed limit, drawn as a dashed line.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 1.9 * len(tracks) + 0.6))
    axes = fig.subplots(len(tracks), 1, sharex=True, squeeze=False)[:, 0]
    top = max([max_cps * 1.2] + [float(c.cps(fps)) * 1.1 for t in tracks for c in t.cues])
    for ax, track in zip(axes, tracks, strict=True):
        for n, cue in enumerate(track.cues, start=1):
            start, end = float(cue.start / fps), float(cue.end / fps)
            color = "#d62728" if n in track.flagged else "#1f77b4"
            ax.bar(
                start,
                float(cue.cps(fps)),
                width=end - start,
                align="edge",
                color=color,
                alpha=0.75,
                edgecolor="white",
                linewidth=0.5,
            )
        ax.axhline(max_cps, color="#444444", linestyle="--", linewidth=1)
        ax.text(0.0, max_cps, f" {max_cps:g} cps", va="bottom", fontsize=7, color="#444444")
        ax.set_ylim(-0.12 * top if ax is axes[0] else 0, top)
        ax.set_ylabel("chars/s")
        ax.set_title(f"{track.title}: {len(track.cues)} cues", fontsize=9, loc="left")
        ax.grid(axis="y", alpha=0.3)
    first = axes[0]
    for word in words:
        first.plot(
            [float(word.start), float(word.end)],
            [-0.06 * top] * 2,
            color="#2ca02c",
            linewidth=3,
            solid_capstyle="butt",
        )
    axes[-1].set_xlabel("time [s]   (bars: cues; red: breaks a rule; green ticks: spoken words)")
    fig.tight_layout()
    return fig
