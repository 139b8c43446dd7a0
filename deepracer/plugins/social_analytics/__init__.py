"""Social-media images and text, enriched and queried with the article's Athena SQL.

The AWS Machine Learning Blog post "Exploring images on social media using Amazon
Rekognition and Amazon Athena" streams tweets through Kinesis Data Firehose into S3,
has a Lambda call Comprehend (sentiment) and Rekognition (labels, moderation labels,
text, faces, celebrities) for every photo, and explores the JSON with Athena. This
plugin runs the same pipeline over tweet-shaped JSON lines:

* tweets are read and checked; bad lines (not JSON, no ``id_str``, no ``entities``,
  a value the tables cannot hold) are skipped and reported with their line numbers;
* sentiment comes from VADER locally (:class:`deepracer.plugins.sentiment.LocalSentiment`)
  or Comprehend on AWS; faces from the face_anonymizer plugin's detector; labels
  from Rekognition-shaped fixtures locally, or Rekognition on AWS;
* the records are written like Firehose output,
  ``records/<table>/YYYY/MM/DD/HH/<table>-1-<time>-<uuid>``, each file atomically
  (and sent through Firehose on AWS);
* the article's queries, kept in Athena SQL inside this package (``sql/``), run on
  DuckDB after a sqlglot translation, or on Athena on AWS.

This module stays light: DuckDB, sqlglot, OpenCV, VADER and boto3 load when a run starts.

Contents:
    plugin: the registered :class:`~deepracer.plugins.Plugin`.
    SocialAnalyticsConfig: its config section (see ``config``).

Modules:
    config: the typed section. tweets: reading and checking tweets. images: photo
    bytes and local faces. rekognition: fixtures and the service. pipeline: the
    per-tweet enrichment. firehose: partition files and ``put_record_batch``.
    aws: delivery streams and S3 delivery. sql: the SQL catalogue, schema and
    translation. engines: DuckDB and Athena. run: the run, plots and report.
"""

from __future__ import annotations

from deepracer.plugins import Plugin, Reference
from deepracer.plugins.kit import DeferredRun
from deepracer.plugins.social_analytics.config import SocialAnalyticsConfig

__all__ = ["SocialAnalyticsConfig", "plugin"]


plugin = Plugin(
    name="social_analytics",
    description="tweets with photos: sentiment, faces, Rekognition labels, the article's SQL",
    config=SocialAnalyticsConfig,
    run=DeferredRun("deepracer.plugins.social_analytics.run"),
    article=(
        '"Exploring images on social media using Amazon Rekognition and Amazon Athena",'
        " AWS Machine Learning Blog (V. Megler), 2019"
    ),
    references=(
        Reference("Tweets collected", "about 9.5 million in six weeks", metric="tweets"),
        Reference("Photos analysed", "about 0.5 million", metric="records_media"),
        Reference(
            "Share of tweets with photos",
            "about 5 % (about 30 % for other business terms)",
            metric="photo_tweet_share",
        ),
        Reference("Most common image labels", "Human and Person, then Text, Advertisement, Poster"),
        Reference("Most common top emotion", "CALM, then HAPPY"),
    ),
    extra="social",
)
