"""The enrichment: each tweet to a tweet record, a sentiment record and photo records.

For each accepted tweet, in input order (the article's Lambda, run in-process):

1. the tweet itself is checked against the ``tweets`` table (a value either engine
   could not read skips the tweet, with the field named);
2. its text is scored for sentiment (VADER locally, Comprehend on AWS);
3. each analysed photo (``type: photo``, a configured extension) is loaded, its faces
   found with the face_anonymizer plugin's detector, and Rekognition asked (fixtures
   locally) under the article's calling rules. Each image is analysed once per run
   and the answers reused for every tweet that carries it (retweets do);
4. the tweet, sentiment and photo records go to the partition writers (and, on AWS,
   to Firehose).

A tweet's records are only handed over once all of them are built, so a failure
part-way through a tweet leaves none of its records behind.

Contents:
    ImageOutcome: what happened to one image (for ``images.json`` and the report).
    Pipeline: the per-tweet enrichment and its counters.
    tweet_record, sentiment_record, media_record: the three record shapes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from deepracer.plugins.sentiment import Sentiment
from deepracer.plugins.social_analytics.firehose import FirehoseSender, PartitionWriter
from deepracer.plugins.social_analytics.images import FaceFinder, Image, ImageStore
from deepracer.plugins.social_analytics.rekognition import Analysis
from deepracer.plugins.social_analytics.sql import TableSchema, conform
from deepracer.plugins.social_analytics.tweets import Photo, Skipped, Tweet, photos_of

__all__ = ["ImageOutcome", "Pipeline", "media_record", "sentiment_record", "tweet_record"]


class Analyzer(Protocol):
    """A Rekognition source (fixtures or the service)."""

    source: str

    def analyze(self, image: Image) -> Analysis | str:
        """The merged answers for one image, or why there are none."""


def tweet_record(tweet: Tweet) -> dict[str, Any]:
    """The ``tweets`` record: the tweet as received (``id`` from ``id_str``)."""
    return tweet.data


def sentiment_record(tweet: Tweet, sentiment: Sentiment, engine: str) -> dict[str, Any]:
    """The ``tweet_sentiments`` record: Comprehend's label and scores for the tweet."""
    scores = sentiment.scores
    return {
        "tweetid": tweet.id,
        "text": tweet.text,
        "sentiment": sentiment.label,
        "sentimentposscore": round(float(scores["Positive"]), 6),
        "sentimentnegscore": round(float(scores["Negative"]), 6),
        "sentimentneuscore": round(float(scores["Neutral"]), 6),
        "sentimentmixedscore": round(float(scores["Mixed"]), 6),
        "engine": engine,
    }


def media_record(
    photo: Photo, outcome: ImageOutcome, analysis: Analysis, detector: str
) -> dict[str, Any]:
    """The ``media_rekognition`` record of one photo of one tweet."""
    return {
        "tweetid": photo.tweet_id,
        "mediaid": photo.media_id,
        "media_url": photo.url,
        "image_name": photo.name,
        "image_width": outcome.width,
        "image_height": outcome.height,
        "image_labels": analysis.image_labels,
        "local_faces": [dict(zip("xywh", box, strict=True)) for box in outcome.local_faces],
        "face_detector": detector,
    }


def _matched(local: list[list[int]], details: list[Any], width: int, height: int) -> int:
    """Local faces whose centre lies inside one of Rekognition's face boxes."""
    boxes = []
    for face in details:
        box = face.get("BoundingBox") if isinstance(face, dict) else None
        if isinstance(box, dict):
            left, top = box.get("Left", 0) * width, box.get("Top", 0) * height
            boxes.append(
                (left, top, left + box.get("Width", 0) * width, top + box.get("Height", 0) * height)
            )
    count = 0
    for x, y, w, h in local:
        cx, cy = x + w / 2, y + h / 2
        if any(x0 <= cx <= x1 and y0 <= cy <= y1 for x0, y0, x1, y1 in boxes):
            count += 1
    return count


@dataclass
class ImageOutcome:
    """One image's outcome, shared by every tweet that carries it.

    Attributes:
        name: The file name.
        origin: Where the bytes came from ('' when not found).
        width: Width [px] (0 when not loaded).
        height: Height [px].
        local_faces: Boxes ``[x, y, w, h]`` of the local detector.
        analysis: Rekognition's merged answers, or None.
        reason: Why the image has no records ('' when it has).
        records: Photo records written with it.
    """

    name: str
    origin: str = ""
    width: int = 0
    height: int = 0
    local_faces: list[list[int]] = field(default_factory=list)
    analysis: Analysis | None = None
    reason: str = ""
    records: int = 0

    def summary(self) -> dict[str, Any]:
        """For ``images.json``."""
        labels = self.analysis.image_labels if self.analysis else {}
        rekognition_faces = len(labels.get("FaceDetails", []))
        return {
            "name": self.name,
            "origin": self.origin,
            "width": self.width,
            "height": self.height,
            "records": self.records,
            "skipped": self.reason or None,
            "local_faces": self.local_faces,
            "rekognition_calls": list(self.analysis.calls) if self.analysis else [],
            "labels": self.analysis.names() if self.analysis else [],
            "moderation_labels": [m.get("Name") for m in labels.get("ModerationLabels", [])],
            "text_lines": [
                t.get("DetectedText")
                for t in labels.get("TextDetections", [])
                if t.get("Type") == "LINE"
            ],
            "rekognition_faces": rekognition_faces,
            "celebrities": [c.get("Name") for c in labels.get("CelebrityFaces", [])],
            "faces_matched": _matched(
                self.local_faces, labels.get("FaceDetails", []), self.width, self.height
            ),
        }


class Pipeline:
    """The per-tweet enrichment (see the module docstring).

    Args:
        writers: Table name -> its partition writer.
        schemas: Table name -> its columns (records are checked against them).
        sentiment: Scores one text.
        sentiment_engine: Names the sentiment source in the records.
        rekognition: The Rekognition source.
        store: Loads images by file name.
        faces: The local face detector.
        extensions: Photo file extensions analysed.
        sender: Also sends every record to Firehose (backend aws), or None.
        echo: Progress lines.
    """

    def __init__(
        self,
        *,
        writers: Mapping[str, PartitionWriter],
        schemas: Mapping[str, TableSchema],
        sentiment: Callable[[str], Sentiment],
        sentiment_engine: str,
        rekognition: Analyzer,
        store: ImageStore,
        faces: FaceFinder,
        extensions: tuple[str, ...],
        sender: FirehoseSender | None = None,
        echo: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.writers = writers
        self.schemas = schemas
        self.sentiment = sentiment
        self.sentiment_engine = sentiment_engine
        self.rekognition = rekognition
        self.store = store
        self.faces = faces
        self.extensions = extensions
        self.sender = sender
        self.echo = echo
        self.lines = 0
        self.tweets = 0
        self.skipped: list[Skipped] = []
        self.media_notes: list[dict[str, Any]] = []
        self.images: dict[str, ImageOutcome] = {}
        self.photos = 0
        self.sentiments: Counter[str] = Counter()
        self.tweets_with_photo = 0

    def _problem(self, table: str, record: Mapping[str, Any]) -> str | None:
        for column in self.schemas[table].columns:
            problem = conform(record.get(column.name), column.type, column.name)
            if problem:
                return f"does not fit the {table} table: {problem}"
        return None

    def _image(self, photo: Photo) -> ImageOutcome:
        outcome = self.images.get(photo.name)
        if outcome is not None:
            return outcome
        outcome = ImageOutcome(photo.name)
        self.images[photo.name] = outcome
        loaded = self.store.load(photo.name)
        if isinstance(loaded, str):
            outcome.reason = loaded
            return outcome
        outcome.origin, outcome.width, outcome.height = loaded.origin, loaded.width, loaded.height
        outcome.local_faces = self.faces.boxes(loaded)
        analysis = self.rekognition.analyze(loaded)
        if isinstance(analysis, str):
            outcome.reason = analysis
        else:
            outcome.analysis = analysis
        self.echo(
            f"social_analytics: {photo.name}: {len(outcome.local_faces)} local face(s),"
            f" {len(analysis.names()) if not isinstance(analysis, str) else 0} label(s)"
        )
        return outcome

    def process(self, item: Tweet | Skipped) -> None:
        """Handles one parsed input line (a Skipped is only recorded)."""
        self.lines += 1
        if isinstance(item, Skipped):
            self.skipped.append(item)
            return
        tweet = item
        record = tweet_record(tweet)
        problem = self._problem("tweets", record)
        if problem:
            self.skipped.append(Skipped(tweet.line, problem, str(tweet.id)))
            return
        sentiment = sentiment_record(tweet, self.sentiment(tweet.text), self.sentiment_engine)
        photos, notes = photos_of(tweet, self.extensions)
        for note in notes:
            self.media_notes.append({"line": tweet.line, "tweetid": str(tweet.id), "note": note})
        media: list[tuple[ImageOutcome, dict[str, Any]]] = []
        for photo in photos:
            self.photos += 1
            outcome = self._image(photo)
            if outcome.analysis is None:
                note = f"{photo.url}: {outcome.reason}"
                self.media_notes.append(
                    {"line": tweet.line, "tweetid": str(tweet.id), "note": note}
                )
                continue
            built = media_record(photo, outcome, outcome.analysis, self.faces.detector)
            problem = self._problem("media_rekognition", built)
            if problem:
                note = f"{photo.url}: {problem}"
                self.media_notes.append(
                    {"line": tweet.line, "tweetid": str(tweet.id), "note": note}
                )
                continue
            media.append((outcome, built))
        # Everything of this tweet is built: hand it over in one go.
        self._emit("tweets", record, tweet)
        self._emit("tweet_sentiments", sentiment, tweet)
        for outcome, built in media:
            outcome.records += 1
            self._emit("media_rekognition", built, tweet)
        self.tweets += 1
        self.tweets_with_photo += bool(media)
        self.sentiments[str(sentiment["sentiment"])] += 1

    def _emit(self, table: str, record: dict[str, Any], tweet: Tweet) -> None:
        self.writers[table].add(record, tweet.created)
        if self.sender is not None:
            self.sender.add(table, record)

    def close(self) -> None:
        """Writes the partly filled buffers (also after an error: finished work stays)."""
        for writer in self.writers.values():
            writer.flush()
