"""Sentiment in Comprehend's shape: VADER with the delivery lexicon, and Comprehend."""

from __future__ import annotations

import pytest

from deepracer.plugins.sentiment import ComprehendSentiment, LocalSentiment
from tests.cloud.conftest import aws_env, mock_aws  # noqa: F401

pytest.importorskip("vaderSentiment")


def test_the_articles_complaint_is_negative_only_with_the_domain_lexicon() -> None:
    text = "When is my package arriving? It's so late."
    assert LocalSentiment()(text).label == "NEGATIVE"
    assert LocalSentiment(lexicon={})(text).label == "NEUTRAL"  # VADER alone misses "late"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Great, thanks.", "POSITIVE"),
        ("21132.", "NEUTRAL"),
        ("Great driver, terrible box.", "MIXED"),
    ],
)
def test_labels_follow_the_documented_mapping(text: str, label: str) -> None:
    result = LocalSentiment()(text)
    assert result.label == label
    assert set(result.scores) == {"Positive", "Negative", "Neutral", "Mixed"}
    assert sum(result.scores.values()) == pytest.approx(1.0)


def test_comprehend_answers_in_the_same_shape(mock_aws: None) -> None:  # noqa: F811
    import boto3

    result = ComprehendSentiment(boto3.client("comprehend", region_name="us-east-1"))("Fine.")
    assert result.label in {"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"}
    assert set(result.scores) == {"Positive", "Negative", "Neutral", "Mixed"}
    # An empty text never reaches the API (Comprehend refuses it).
    assert ComprehendSentiment(object())("  ").label == "NEUTRAL"
