"""The social_analytics run: enrich, partition, query, plot and report.

Contents:
    fixture_dir: where the shipped fixtures live.
    run: the plugin's ``run(config, context)``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepracer.config.resources import data_dir
from deepracer.errors import ConfigError, DeepRacerError
from deepracer.plugins import PluginResult, RunContext
from deepracer.plugins.kit import markdown_table
from deepracer.plugins.sentiment import Sentiment
from deepracer.plugins.social_analytics.aws import Destination
from deepracer.plugins.social_analytics.config import SocialAnalyticsConfig
from deepracer.plugins.social_analytics.engines import (
    AthenaEngine,
    DuckDbEngine,
    ResultTable,
    duckdb_table_sql,
)
from deepracer.plugins.social_analytics.firehose import FirehoseSender, PartitionWriter
from deepracer.plugins.social_analytics.images import FaceFinder, ImageStore
from deepracer.plugins.social_analytics.pipeline import Analyzer, Pipeline
from deepracer.plugins.social_analytics.sql import (
    QUERIES,
    TABLES,
    VIEWS,
    TableSchema,
    athena_text,
    read_sql,
    render,
    table_schema,
    to_duckdb,
)
from deepracer.plugins.social_analytics.tweets import iter_tweets

__all__ = ["fixture_dir", "run"]

TWEETS_FILE = "tweets.jsonl"
FIXTURES_FILE = "rekognition.json"
RECORDS = "records"
DUCKDB_HEADER = (
    "-- DuckDB translation of the Athena source (sqlglot). Paths are relative to the run\n"
    "-- directory: run it there, or SET file_search_path to it first.\n"
)
DUCKDB_TABLE_HEADER = (
    "-- The table for DuckDB: the partition files read once, with the column types of the\n"
    "-- Athena DDL. Paths are relative to the run directory: run it there, or SET\n"
    "-- file_search_path to it first.\n"
)
ATHENA_HEADER = (
    "-- Athena (Presto/Trino) source, as shipped in deepracer/plugins/social_analytics/sql/.\n"
)


def fixture_dir() -> Path:
    """``experiments/data/social_analytics`` (in a checkout or inside the wheel)."""
    return data_dir("experiments") / "data" / "social_analytics"


def _file(value: str, default: str, what: str) -> Path:
    path = Path(value).expanduser() if value else fixture_dir() / default
    if not path.is_file():
        raise ConfigError(f"social_analytics.{what}: {path} is not a file")
    return path


@dataclass
class _Sources:
    """The enrichment's answering parties for this backend."""

    sentiment: Callable[[str], Sentiment]
    sentiment_engine: str
    rekognition: Analyzer


def _sources(config: SocialAnalyticsConfig, context: RunContext) -> _Sources:
    from deepracer.plugins.sentiment import ComprehendSentiment, LocalSentiment
    from deepracer.plugins.social_analytics.rekognition import AwsRekognition, FixtureRekognition

    if context.backend == "aws":
        comprehend = ComprehendSentiment(context.client("comprehend"), language=config.language)
        rekognition: Analyzer = AwsRekognition(
            context.client("rekognition"),
            max_labels=config.max_labels,
            min_confidence=config.min_confidence,
        )
        return _Sources(comprehend, "comprehend", rekognition)
    vader = LocalSentiment(dict(config.sentiment_lexicon), mixed_share=config.mixed_share)
    fixtures = _file(config.rekognition_fixtures, FIXTURES_FILE, "rekognition_fixtures")
    rekognition = FixtureRekognition(
        fixtures, max_labels=config.max_labels, min_confidence=config.min_confidence
    )
    return _Sources(vader, "vader", rekognition)


@dataclass
class _AwsSide:
    """The AWS half of a ``backend: aws`` run."""

    sender: FirehoseSender
    destinations: dict[str, Destination]
    before: dict[str, set[str]]
    s3: Any
    delivered: dict[str, list[str]] = field(default_factory=dict)


def _aws_setup(config: SocialAnalyticsConfig, context: RunContext) -> _AwsSide:
    from deepracer.plugins.social_analytics.aws import ensure_streams, list_keys

    firehose = context.client("firehose")
    destinations = ensure_streams(
        firehose,
        TABLES,
        stream_prefix=config.stream_prefix,
        create=config.create_streams,
        s3_uri=context.aws.s3,
        role=context.aws.role,
        gzip_records=config.compression == "gzip",
        poll_seconds=config.poll_seconds,
    )
    s3 = context.client("s3")
    before = {table: list_keys(s3, d) for table, d in destinations.items()}
    sender = FirehoseSender(firehose, {t: d.stream for t, d in destinations.items()})
    for d in destinations.values():
        context.echo(f"social_analytics: {d.table} -> Firehose {d.stream} -> {d.location}")
    return _AwsSide(sender, dict(destinations), before, s3)


def _location(table: str, context: RunContext, side: _AwsSide | None) -> str:
    if side is not None:
        return side.destinations[table].location
    base = context.aws.s3.rstrip("/") if context.aws.s3 else "s3://YOUR-BUCKET/social-analytics"
    return f"{base}/{table}/"


@dataclass
class _Answers:
    """Each query's result from the primary engine (and DuckDB's on AWS)."""

    results: dict[str, ResultTable] = field(default_factory=dict)
    duckdb: dict[str, ResultTable] = field(default_factory=dict)
    athena_statements: int = 0


def _queries(
    config: SocialAnalyticsConfig,
    context: RunContext,
    schemas: dict[str, TableSchema],
    writers: dict[str, PartitionWriter],
    side: _AwsSide | None,
) -> _Answers:
    """Creates the tables and views and runs every query on DuckDB (and Athena)."""
    answers = _Answers()
    duck = DuckDbEngine()
    athena: AthenaEngine | None = None
    if side is not None:
        athena = AthenaEngine(
            context.client("athena"),
            database=config.athena_database,
            workgroup=config.athena_workgroup,
            output=config.athena_output or f"{context.aws.s3.rstrip('/')}/athena-results/",
            poll_seconds=config.poll_seconds,
            timeout_s=config.query_timeout_minutes * 60,
        )
        athena.execute(
            f"CREATE DATABASE IF NOT EXISTS {config.athena_database}", with_database=False
        )
    try:
        # Relative partition paths keep the DuckDB SQL the same in every run directory.
        duck.search_from(context.run_dir)
        for table in TABLES:
            source = render(read_sql("tables", table), location=_location(table, context, side))
            files = [Path(RECORDS) / f.path for f in writers[table].files]
            translated = duckdb_table_sql(schemas[table], files, gzip=config.compression == "gzip")
            _write_sql(context, "tables", table, source, translated)
            duck.execute(translated)
            if athena is not None:
                athena.execute(f"DROP TABLE IF EXISTS {table}")
                athena.execute(athena_text(source))
        for view in VIEWS:
            source = read_sql("views", view)
            translated = to_duckdb(source)
            _write_sql(context, "views", view, source, translated)
            duck.execute(translated)
            if athena is not None:
                athena.execute(athena_text(source))
        for query in QUERIES:
            source = render(read_sql("queries", query.name), celebrity=config.celebrity.lower())
            translated = to_duckdb(source)
            _write_sql(context, "queries", query.name, source, translated)
            local = duck.execute(translated)
            if athena is not None:
                answers.duckdb[query.name] = local
                answers.results[query.name] = athena.execute(athena_text(source))
                _write_result(context, f"{query.name}.duckdb", local)
            else:
                answers.results[query.name] = local
            _write_result(context, query.name, answers.results[query.name])
            rows = len(answers.results[query.name].rows)
            context.echo(f"social_analytics: {query.name}: {rows} row(s)")
    finally:
        duck.close()
    answers.athena_statements = len(athena.executions) if athena is not None else 0
    return answers


def _write_sql(context: RunContext, kind: str, name: str, source: str, translated: str) -> None:
    header = DUCKDB_TABLE_HEADER if kind == "tables" else DUCKDB_HEADER
    context.write_text(f"sql/{kind}/{name}.athena.sql", ATHENA_HEADER + source.rstrip() + "\n")
    context.write_text(f"sql/{kind}/{name}.duckdb.sql", header + translated.rstrip() + ";\n")


def _write_result(context: RunContext, stem: str, table: ResultTable) -> None:
    context.write_text(f"results/{stem}.csv", table.to_csv())
    context.write_json(f"results/{stem}.json", table.to_json())


def _bar_chart(context: RunContext, table: ResultTable, label: str, name: str, title: str) -> bool:
    """A horizontal bar chart of ``count`` by ``label`` (first 15 rows); False if empty."""
    if not table.rows or label not in table.columns or "count" not in table.columns:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    labels = [str(v) for v in table.column(label)][:15]
    counts = [int(v) for v in table.column("count")][:15]
    figure, axes = plt.subplots(figsize=(7, 0.35 * len(labels) + 1.2))
    axes.barh(range(len(labels)), counts, color="#3b75af")
    axes.set_yticks(range(len(labels)), labels)
    axes.invert_yaxis()  # the largest on top, in the query's order
    axes.set_xlabel("count")
    axes.set_title(title)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    context.save_figure(figure, name)
    return True


def _markdown(table: ResultTable, limit: int) -> list[str]:
    if not table.columns:
        return ["(no columns: the engine returned nothing)"]
    if not table.rows:
        return ["(no rows)"]

    def cell(value: Any) -> str:
        text = "NULL" if value is None else _plain(value)
        return text if len(text) <= 60 else text[:57] + "..."

    lines = [markdown_table(table.columns, [[cell(v) for v in row] for row in table.rows[:limit]])]
    if len(table.rows) > limit:
        lines.append(f"\n({len(table.rows) - limit} more rows in the result files)")
    return lines


def _plain(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_plain(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_ABOUT = {
    "top_domains": (
        "The article lists amazon.com, amazon.co.uk and goodreads.com among the top ten."
    ),
    "product_links": (
        "Kept the article's host list as written, including `www.amazon.com.uk` (probably"
        " meant as amazon.co.uk), so links to www.amazon.co.uk are not listed; `amzn.to`"
        " short links have no `/dp/` and drop out too. Added `ORDER BY` for a stable order."
    ),
    "top_labels": (
        "The article: Human and Person far ahead, then Text, Advertisement and Poster."
        " Here the labels are the fixtures' (no offline labeler exists)."
    ),
    "amazon_faces": "The article shows glasses, age range and face position columns of this query.",
    "top_emotions": (
        "The article: CALM the clear winner, then HAPPY. Here the emotions are the fixtures'."
    ),
    "suspect_content": (
        "As in the article, the UNNEST of the tweet's links drops photos of tweets without"
        " links, even when flagged."
    ),
    "celebrity_counts": "An image with several celebrities counts once per celebrity.",
    "celebrity_images": "The article's JohnDoe example; the name is `social_analytics.celebrity`.",
    "sentiment_by_photo": (
        "The sentiment table of the article's earlier post, joined to the photos."
    ),
}


def _report(
    config: SocialAnalyticsConfig,
    context: RunContext,
    pipeline: Pipeline,
    sources: _Sources,
    answers: _Answers,
    metrics: dict[str, Any],
    faces: FaceFinder,
) -> str:
    aws = context.backend == "aws"
    labels_from = "Amazon Rekognition" if aws else "fixtures (`rekognition.json`), not predictions"
    sentiment_from = (
        "Amazon Comprehend detect_sentiment"
        if aws
        else "VADER (local), mapped to Comprehend's labels"
    )
    engines = "Athena (results/*.csv), DuckDB beside it (results/*.duckdb.csv)" if aws else "DuckDB"
    lines = [
        "## Pipeline",
        "",
        f"- Tweets: {metrics['lines']} non-blank lines read, {metrics['tweets']} processed,"
        f" {metrics['tweets_skipped']} skipped (below).",
        f"- Sentiment: {sentiment_from}.",
        f"- Image labels, moderation, text, faces, celebrities: {labels_from}.",
        f"- Local faces: the face_anonymizer detector ({faces.detector}"
        f"{'; ' + faces.note if faces.note else ''}).",
        f"- Records: {metrics['partition_files']} partition files under"
        " `records/<table>/YYYY/MM/DD/HH/`"
        f" ({'gzip' if config.compression == 'gzip' else 'uncompressed'}); partition time is the"
        " tweet's created_at.",
        f"- Queries: {engines}; Athena source and DuckDB translation of each in `sql/`.",
        "",
    ]
    if pipeline.skipped:
        skipped = [(s.line, s.id_str or "-", s.reason.replace("|", "/")) for s in pipeline.skipped]
        lines += ["## Skipped input lines", "", markdown_table(["line", "id_str", "why"], skipped)]
        lines.append("")
    if pipeline.media_notes:
        lines += ["## Media not analysed", ""]
        lines += [
            f"- line {n['line']} (tweet {n['tweetid']}): {n['note']}" for n in pipeline.media_notes
        ]
        lines.append("")
    images: list[list[object]] = []
    for outcome in sorted(pipeline.images.values(), key=lambda o: o.name):
        summary = outcome.summary()
        if outcome.reason:
            images.append([outcome.name, 0, "-", "-", f"skipped: {outcome.reason}", "-"])
            continue
        images.append(
            [
                outcome.name,
                outcome.records,
                len(outcome.local_faces),
                summary["rekognition_faces"],
                ", ".join(summary["labels"][:6]),
                ", ".join(summary["celebrities"]) or "-",
            ]
        )
    header = ["image", "photo records", "local faces", "Rekognition faces", "labels", "celebrities"]
    lines += ["## Images", "", markdown_table(header, images)]
    lines += [
        "",
        f"The local detector found {metrics['faces_local']} face(s) in the distinct images,"
        f" Rekognition's answers hold {metrics['faces_rekognition']};"
        f" {metrics['faces_matched']} local face(s) lie inside a Rekognition face box.",
        "",
        "## The article's queries on these records",
        "",
    ]
    for query in QUERIES:
        table = answers.results[query.name]
        lines += [
            f"### {query.title} (`{query.name}`)",
            "",
            f"{query.section}. {_ABOUT[query.name]} {len(table.rows)} row(s).",
            "",
            *_markdown(table, config.report_rows),
            "",
        ]
        if aws and query.name in answers.duckdb:
            local = len(answers.duckdb[query.name].rows)
            lines += [f"DuckDB on the same records: {local} row(s).", ""]
    counts = pipeline.sentiments
    lines += [
        "## Beside the article",
        "",
        f"- Tweets with an analysed photo: {metrics['tweets_with_photo']} of {metrics['tweets']}"
        f" ({100 * metrics['photo_tweet_share']:.0f} %); the article saw about 5 % (30 % for"
        " other business terms). Our fixtures are chosen to exercise the queries, not to"
        " sample Twitter.",
        f"- Sentiment: {counts['POSITIVE']} positive, {counts['NEGATIVE']} negative,"
        f" {counts['NEUTRAL']} neutral, {counts['MIXED']} mixed ({sources.sentiment_engine}).",
    ]
    if not aws:
        lines += [
            "- Labels, emotions, moderation labels, text lines and celebrities come from the"
            " fixtures, written to look like Rekognition's answers for scikit-image's"
            " pictures; they show that the SQL does what the article says, not what"
            " Rekognition would find. `John Doe` is the article's placeholder name.",
            "- VADER is not Comprehend: `shoot` and `drop` read as negative to it.",
        ]
    lines += [
        "- The views `media_image_labels_query`, `media_image_labels_face_query` and"
        " `celeb_view` are not printed in the article; ours follow its description.",
        "- DuckDB has no `url_extract_host`/`url_extract_path`; Python functions with"
        " Presto's meaning are registered. sqlglot drops `reduce`'s identity finishing"
        " lambda, which DuckDB's `list_reduce` lacks.",
    ]
    return "\n".join(lines) + "\n"


def _metrics(
    pipeline: Pipeline,
    writers: dict[str, PartitionWriter],
    answers: _Answers,
    side: _AwsSide | None,
    seconds: dict[str, float],
) -> dict[str, Any]:
    analysed = [o for o in pipeline.images.values() if o.analysis is not None]
    summaries = [o.summary() for o in analysed]
    metrics: dict[str, Any] = {
        "lines": pipeline.lines,
        "tweets": pipeline.tweets,
        "tweets_skipped": len(pipeline.skipped),
        "tweets_with_photo": pipeline.tweets_with_photo,
        "photo_tweet_share": pipeline.tweets_with_photo / pipeline.tweets
        if pipeline.tweets
        else 0.0,
        "photos": pipeline.photos,
        "media_not_analysed": len(pipeline.media_notes),
        "images": len(pipeline.images),
        "images_analysed": len(analysed),
        "images_skipped": len(pipeline.images) - len(analysed),
        "rekognition_calls": sum(len(s["rekognition_calls"]) for s in summaries),
        "faces_local": sum(len(o.local_faces) for o in analysed),
        "faces_rekognition": sum(s["rekognition_faces"] for s in summaries),
        "faces_matched": sum(s["faces_matched"] for s in summaries),
        "records_tweets": writers["tweets"].records,
        "records_media": writers["media_rekognition"].records,
        "records_sentiment": writers["tweet_sentiments"].records,
        "partition_files": sum(len(w.files) for w in writers.values()),
    }
    for label in ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"):
        metrics[f"sentiment_{label.lower()}"] = pipeline.sentiments[label]
    for name, table in answers.results.items():
        metrics[f"query_{name}_rows"] = len(table.rows)
    for name, table in answers.duckdb.items():
        metrics[f"query_{name}_rows_duckdb"] = len(table.rows)
    if side is not None:
        metrics["firehose_calls"] = side.sender.calls
        metrics["firehose_objects"] = sum(len(keys) for keys in side.delivered.values())
        metrics["athena_statements"] = answers.athena_statements
    metrics.update({k: round(v, 3) for k, v in seconds.items()})
    return metrics


def run(config: SocialAnalyticsConfig, context: RunContext) -> PluginResult:
    """Runs the pipeline into the run directory (see the package docstring).

    Raises:
        ConfigError: An input file is missing or invalid.
        DeepRacerError: A dependency is missing, or AWS refused a call.
    """
    tweets_path = _file(config.tweets, TWEETS_FILE, "tweets")
    if context.backend == "aws" and not (config.athena_output or context.aws.s3):
        raise ConfigError(
            "backend aws: Athena needs a result location: set aws.s3 (s3://BUCKET/PREFIX) or"
            " social_analytics.athena_output"
        )
    folder = Path(config.images).expanduser() if config.images else None
    if folder is not None and not folder.is_dir():
        raise ConfigError(f"social_analytics.images: {folder} is not a folder")
    schemas = {table: table_schema(read_sql("tables", table)) for table in TABLES}
    sources = _sources(config, context)
    faces = FaceFinder.create(config.detector, config.min_face, config.min_neighbors)
    writers = {
        table: PartitionWriter(
            context.run_dir / RECORDS,
            table,
            seed=context.seed,
            buffer_records=config.buffer_records,
            buffer_seconds=config.buffer_seconds,
            compress=config.compression == "gzip",
        )
        for table in TABLES
    }
    side = _aws_setup(config, context) if context.backend == "aws" else None
    pipeline = Pipeline(
        writers=writers,
        schemas=schemas,
        sentiment=sources.sentiment,
        sentiment_engine=sources.sentiment_engine,
        rekognition=sources.rekognition,
        store=ImageStore(folder),
        faces=faces,
        extensions=config.photo_extensions,
        sender=side.sender if side is not None else None,
        echo=context.echo,
    )
    context.echo(f"social_analytics: reading {tweets_path}")
    started = time.perf_counter()
    try:
        for item in iter_tweets(tweets_path):
            pipeline.process(item)
    finally:
        pipeline.close()
    seconds = {"enrich_seconds": time.perf_counter() - started}
    context.write_json("skipped.json", [s.as_dict() for s in pipeline.skipped])
    context.write_json("media_notes.json", pipeline.media_notes)
    context.write_json(
        "images.json", [o.summary() for o in sorted(pipeline.images.values(), key=lambda o: o.name)]
    )
    if side is not None:
        from deepracer.plugins.social_analytics.aws import wait_for_delivery

        side.sender.flush()
        side.delivered = wait_for_delivery(
            side.s3,
            side.destinations,
            side.before,
            side.sender.sent,
            timeout_s=config.delivery_wait_minutes * 60,
            poll_seconds=config.poll_seconds,
            echo=context.echo,
        )
    if pipeline.tweets == 0:
        raise DeepRacerError(
            f"{tweets_path}: no tweet could be processed ({len(pipeline.skipped)} line(s)"
            " skipped, see skipped.json)"
        )
    started = time.perf_counter()
    answers = _queries(config, context, schemas, writers, side)
    seconds["query_seconds"] = time.perf_counter() - started
    _bar_chart(
        context, answers.results["top_domains"], "domain", "top_domains.png", "Top linked domains"
    )
    title = "Top image labels" + (" (fixtures)" if context.backend == "local" else "")
    _bar_chart(context, answers.results["top_labels"], "label_name", "top_labels.png", title)
    metrics = _metrics(pipeline, writers, answers, side, seconds)
    report = _report(config, context, pipeline, sources, answers, metrics, faces)
    return PluginResult(metrics=metrics, report=report)
