"""Sentiment in Amazon Comprehend's terms, locally with VADER or through Comprehend.

Comprehend's ``detect_sentiment`` answers one of four labels (POSITIVE, NEGATIVE,
NEUTRAL, MIXED) and a score for each. Locally, VADER (the ``vaderSentiment``
package, which ships its lexicon) gives ``pos``, ``neg``, ``neu`` shares and a
``compound`` score in [-1, 1]; we map them to Comprehend's shape:

* MIXED when both ``pos`` and ``neg`` are at least ``mixed_share`` (0.15);
* otherwise POSITIVE when ``compound >= 0.05`` and NEGATIVE when ``compound <= -0.05``
  (VADER's own thresholds), else NEUTRAL;
* scores: Positive = pos, Negative = neg, Neutral = neu, Mixed = 2 min(pos, neg),
  renormalised to sum to 1.

VADER's general lexicon misses service words: "It's so late." scores neutral. A
domain patch (:data:`DELIVERY_LEXICON`, extendable per experiment) adds them. Local
scores are not Comprehend's and no parity is claimed.

Contents:
    Sentiment: one result (label and four scores).
    DELIVERY_LEXICON: the delivery-domain words VADER lacks.
    LocalSentiment: VADER with the mapping above.
    ComprehendSentiment: ``comprehend.detect_sentiment`` through :mod:`deepracer.cloud.aws`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from deepracer.cloud import aws
from deepracer.errors import DeepRacerError

__all__ = ["DELIVERY_LEXICON", "ComprehendSentiment", "LocalSentiment", "Sentiment"]

Label = Literal["POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"]

DELIVERY_LEXICON: dict[str, float] = {
    "late": -1.6,
    "delayed": -1.6,
    "delay": -1.4,
    "overdue": -1.6,
    "missing": -1.5,
    "lost": -1.8,
    "damaged": -2.0,
    "broken": -1.9,
    "wrong": -1.5,
    "refund": -0.6,
    "waiting": -0.8,
    "still": -0.3,
}
"""VADER valences (its scale: about -4 to 4) for delivery complaints it lacks."""


@dataclass(frozen=True)
class Sentiment:
    """One sentiment result in Comprehend's shape.

    Attributes:
        label: POSITIVE, NEGATIVE, NEUTRAL or MIXED.
        scores: ``{"Positive", "Negative", "Neutral", "Mixed"}`` -> [0, 1].
    """

    label: Label
    scores: Mapping[str, float]

    @property
    def negative(self) -> float:
        """The Negative score."""
        return float(self.scores["Negative"])


class LocalSentiment:
    """VADER, patched with a domain lexicon, answering in Comprehend's shape.

    Args:
        lexicon: Extra words -> VADER valence (default: :data:`DELIVERY_LEXICON`).
        mixed_share: ``pos`` and ``neg`` both at least this make the label MIXED.

    Raises:
        DeepRacerError: vaderSentiment is not installed.
    """

    def __init__(
        self, lexicon: Mapping[str, float] | None = None, *, mixed_share: float = 0.15
    ) -> None:
        try:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
        except ImportError:
            raise DeepRacerError(
                "local sentiment needs vaderSentiment: pip install 'deepracer[bot]'"
            ) from None
        self._analyzer: Any = SentimentIntensityAnalyzer()
        words = DELIVERY_LEXICON if lexicon is None else lexicon
        self._analyzer.lexicon.update({k.lower(): float(v) for k, v in words.items()})
        self.mixed_share = mixed_share

    def __call__(self, text: str) -> Sentiment:
        """Scores one text."""
        raw = self._analyzer.polarity_scores(text)
        pos, neg, neu, compound = raw["pos"], raw["neg"], raw["neu"], raw["compound"]
        label: Label
        if pos >= self.mixed_share and neg >= self.mixed_share:
            label = "MIXED"
        elif compound >= 0.05:
            label = "POSITIVE"
        elif compound <= -0.05:
            label = "NEGATIVE"
        else:
            label = "NEUTRAL"
        scores = {"Positive": pos, "Negative": neg, "Neutral": neu, "Mixed": 2 * min(pos, neg)}
        total = sum(scores.values()) or 1.0
        return Sentiment(label, {k: v / total for k, v in scores.items()})


class ComprehendSentiment:
    """``comprehend.detect_sentiment`` for one text at a time.

    Args:
        client: A boto3 Comprehend client.
        language: The language code Comprehend is told.
    """

    def __init__(self, client: Any, *, language: str = "en") -> None:
        self.client = client
        self.language = language

    def __call__(self, text: str) -> Sentiment:
        """Scores one text (an empty text is NEUTRAL without a call: the API refuses it).

        Raises:
            DeepRacerError: The call failed (see :func:`deepracer.cloud.aws.call`).
        """
        if not text.strip():
            return Sentiment("NEUTRAL", {"Positive": 0.0, "Negative": 0.0, "Neutral": 1.0,
                                         "Mixed": 0.0})  # fmt: skip
        response = aws.call(self.client.detect_sentiment, Text=text, LanguageCode=self.language)
        scores = {k: float(v) for k, v in response["SentimentScore"].items()}
        return Sentiment(response["Sentiment"], scores)
