"""The ``sentiment_bot:`` section of an experiment file (no heavy imports).

Contents:
    SentimentBotConfig: thresholds, the hand-over streak, the sentiment scorer's
        lexicon, the wire formats, the conversation script, the events batch and
        the delivery "database".
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from deepracer.plugins.kit import between, language_code, optional

__all__ = ["SentimentBotConfig"]

# VADER's lexicon valences run from about -4 to 4.
_VALENCE = 4.0


_unit_or_none = optional(between(0, 1))


def _lexicon(words: Mapping[str, float]) -> str | None:
    for word, valence in words.items():
        # VADER looks words up one lower-cased token at a time: a phrase never matches.
        if not word or any(c.isspace() for c in word):
            return f"single words (no spaces) as keys; {word!r} is not one"
        if not (math.isfinite(valence) and -_VALENCE <= valence <= _VALENCE):
            return f"VADER valences from -4 to 4; {word!r} has {valence!r}"
    return None


def _deliveries(table: Mapping[str, str]) -> str | None:
    for number, date in table.items():
        if not re.fullmatch(r"[A-Za-z0-9-]{1,40}", number) or not date.strip():
            return f"tracking number -> date entries (letters, digits, '-'); {number!r}: {date!r}"
    return None


@dataclass(frozen=True, kw_only=True)
class SentimentBotConfig:
    """The delivery-status bot: its dialog hook's thresholds and the scripted run."""

    apology_threshold: float | None = field(default=None, metadata={"check": _unit_or_none})
    """A turn whose Negative score is above this gets "Apologies for the inconvenience."
    before the bot's answer, and counts as negative for the hand-over streak. Null:
    0.2 with VADER (backend local), 0.5 with Comprehend (backend aws); VADER's
    Negative is a share of words and runs lower than Comprehend's on the same text."""
    handover_threshold: float | None = field(default=None, metadata={"check": _unit_or_none})
    """A Negative score above this offers an agent: ConfirmIntent AgentHandover. Null:
    0.45 with VADER, 0.8 with Comprehend. Must be above the apology threshold."""
    handover_turns: int = field(default=3, metadata={"check": between(0, 50)})
    """k: this many negative turns in a row (counted in the session attributes) also
    offer the agent; 0 turns the streak rule off."""
    domain_lexicon: bool = True
    """Patch VADER with the delivery lexicon (without it "It's so late." is neutral)."""
    lexicon: dict[str, float] = field(default_factory=dict, metadata={"check": _lexicon})
    """More words -> VADER valence (about -4 to 4), on top of the delivery lexicon."""
    mixed_share: float = field(default=0.15, metadata={"check": between(0.0, 1.0)})
    """VADER's pos and neg shares both at least this make the label MIXED."""
    wire_format: Literal["v1", "v2", "both"] = "both"
    """Lambda event format of the scripted run: Lex V1 (the article's; end of support
    2025-09-15), Lex V2, or both (the report shows V1 and checks V2 decides the same)."""
    lex_sentiment: bool = True
    """Scripted events carry a ``sentimentResponse`` (as Lex does with sentiment
    analysis on, scored here by this run's scorer); false: they carry none and the
    hook scores the transcript itself."""
    script: str = ""
    """A YAML conversation script (see ``script.py``); empty: the built-in script
    (the article's conversation, a hand-over and a negative streak)."""
    events: str = ""
    """A JSON-lines file of Lex Lambda events (V1 or V2, one per line) answered as a
    batch, bad lines skipped and reported; ``demo``: one written from the scripted
    events plus deliberately bad lines; empty: no batch."""
    deliveries: dict[str, str] = field(
        default_factory=lambda: {"48213": "2019-11-27", "51377": "2019-12-02"},
        metadata={"check": _deliveries},
    )
    """The delivery "database": tracking number -> delivery date."""
    language: str = field(default="en", metadata={"check": language_code})
    """LanguageCode sent to Comprehend (backend aws)."""

    def __post_init__(self) -> None:
        # Cross-field rule (the defaults are checked where they are resolved, in run);
        # from_mapping turns the ValueError into a ConfigError.
        low, high = self.apology_threshold, self.handover_threshold
        if low is not None and high is not None and high <= low:
            raise ValueError(
                f"handover_threshold ({high:g}) must be above apology_threshold ({low:g})"
            )
