"""The ``social_analytics:`` section of a social_analytics experiment (no heavy imports).

Contents:
    SocialAnalyticsConfig: the input files, the enrichment (Rekognition-shaped labels,
        local face detection, sentiment), the Firehose-style partitioning, the celebrity
        the article's last query looks for, and the AWS names of ``backend: aws``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from deepracer.plugins.kit import between, language_code, s3_uri_or_empty

__all__ = ["SocialAnalyticsConfig"]


def _extensions(value: tuple[str, ...]) -> str | None:
    if not value:
        return "at least one file extension (e.g. .jpg)"
    bad = [v for v in value if not re.fullmatch(r"\.[A-Za-z0-9]{1,8}", v)]
    return f"extensions like '.jpg' (not {bad[0]!r})" if bad else None


def _lexicon(value: dict[str, float]) -> str | None:
    bad = [k for k, v in value.items() if not k.strip() or not -4.0 <= v <= 4.0]
    return f"words mapped to VADER valences from -4 to 4 (not {bad[0]!r})" if bad else None


def _celebrity(value: str) -> str | None:
    ok = re.fullmatch(r"[\w .'\-]{1,100}", value) and value.strip()
    return None if ok else "a name of letters, spaces, dots, hyphens and apostrophes"


def _stream_prefix(value: str) -> str | None:
    # Firehose names: 1-64 of [a-zA-Z0-9_.-]; we append "-media_rekognition" (18 characters).
    ok = re.fullmatch(r"[A-Za-z0-9_.\-]{1,46}", value)
    return None if ok else "1-46 letters, digits, '_', '.' or '-' (Firehose stream names)"


def _athena_name(value: str) -> str | None:
    ok = re.fullmatch(r"[a-z0-9_]{1,255}", value)
    return None if ok else "lower-case letters, digits and '_' (an Athena database name)"


def _workgroup(value: str) -> str | None:
    ok = re.fullmatch(r"[A-Za-z0-9._\-]{1,128}", value)
    return None if ok else "an Athena workgroup name"


@dataclass(frozen=True, kw_only=True)
class SocialAnalyticsConfig:
    """Tweets with photos, enriched and queried with the article's Athena SQL."""

    tweets: str = ""
    """Tweets, one Twitter API v1.1 JSON object per line; empty: the shipped fixtures
    (``experiments/data/social_analytics/tweets.jsonl``)."""
    rekognition_fixtures: str = ""
    """backend local: JSON of Rekognition answers per image file name (``detect_labels``,
    ``detect_moderation_labels``, ``detect_text``, ``detect_faces``,
    ``recognize_celebrities``, each shaped exactly like the API's response); empty: the
    shipped ``rekognition.json``."""
    images: str = ""
    """A folder searched first for each photo's file name (e.g. ``page.png``); names not
    found there are scikit-image's bundled pictures (``astronaut.png``, ``coffee.jpg``,
    ``lfw_grid.png``, ...), rendered as PNG or JPEG by the extension. Empty: bundled only."""
    photo_extensions: tuple[str, ...] = field(
        default=(".jpg", ".jpeg", ".png"), metadata={"check": _extensions}
    )
    """Photos analysed: ``type: photo`` media whose URL ends in one of these (the article:
    JPG or PNG)."""
    max_labels: int = field(default=20, metadata={"check": between(1, 1000)})
    """``detect_labels`` MaxLabels (also applied to the fixtures)."""
    min_confidence: float = field(default=50.0, metadata={"check": between(0, 100)})
    """MinConfidence of ``detect_labels`` and ``detect_moderation_labels`` [%] (also
    applied to the fixtures)."""
    detector: Literal["haar", "lbp"] = "haar"
    """Local face detector of the face_anonymizer plugin: ``haar`` (OpenCV 4) or ``lbp``
    (scikit-image); haar falls back to lbp without OpenCV."""
    min_face: int = field(default=32, metadata={"check": between(8, 4096)})
    """Smallest face side the local detector searches for [px]."""
    min_neighbors: int = field(default=5, metadata={"check": between(1, 50)})
    """Raw detections the local detector needs to accept a face."""
    sentiment_lexicon: dict[str, float] = field(default_factory=dict, metadata={"check": _lexicon})
    """backend local: extra VADER words -> valence (-4 to 4); none by default."""
    mixed_share: float = field(default=0.15, metadata={"check": between(0, 1)})
    """backend local: VADER ``pos`` and ``neg`` both at least this make a tweet MIXED."""
    language: str = field(default="en", metadata={"check": language_code})
    """backend aws: the language Comprehend is told (the article collected English only)."""
    buffer_records: int = field(default=500, metadata={"check": between(1, 100_000)})
    """Records per partition file at most (a Firehose buffer)."""
    buffer_seconds: int = field(default=300, metadata={"check": between(60, 900)})
    """Tweet-time span of one partition file [s] (Firehose's buffer interval, 60-900)."""
    compression: Literal["none", "gzip"] = "none"
    """Partition files as plain newline-delimited JSON or gzip (``.gz``)."""
    celebrity: str = field(default="John Doe", metadata={"check": _celebrity})
    """The article's last query: images of this celebrity (named in the tweet text, or
    recognized with MatchConfidence > 75)."""
    report_rows: int = field(default=12, metadata={"check": between(1, 1000)})
    """Rows of each query result shown in report.md (the files have them all)."""
    stream_prefix: str = field(default="social-analytics", metadata={"check": _stream_prefix})
    """backend aws: Firehose streams ``<prefix>-tweets``, ``<prefix>-media_rekognition``,
    ``<prefix>-tweet_sentiments``."""
    create_streams: bool = True
    """backend aws: create missing streams (DirectPut to ``aws.s3``/<table>/, role
    ``aws.role``); existing streams are used with their own S3 destination."""
    delivery_wait_minutes: float = field(default=10.0, metadata={"check": between(0.1, 60)})
    """backend aws: how long to wait for Firehose to deliver the records to S3."""
    athena_database: str = field(default="socialanalytics", metadata={"check": _athena_name})
    """backend aws: the Athena (Glue) database of the tables and views."""
    athena_workgroup: str = field(default="primary", metadata={"check": _workgroup})
    """backend aws: the Athena workgroup."""
    athena_output: str = field(default="", metadata={"check": s3_uri_or_empty})
    """backend aws: query result location; empty: ``<aws.s3>/athena-results/``."""
    query_timeout_minutes: float = field(default=5.0, metadata={"check": between(0.1, 60)})
    """backend aws: how long one Athena statement may run."""
    poll_seconds: float = field(default=1.0, metadata={"check": between(0, 60)})
    """backend aws: pause between ``get_query_execution`` and S3 delivery polls."""
