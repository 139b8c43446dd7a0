"""The article's Athena SQL, kept as the source, and its DuckDB translation.

The ``sql/`` folder of this package holds every statement in Athena's dialect: the
three tables (``CREATE EXTERNAL TABLE`` over newline-delimited JSON), the three views
the article's queries read (their definitions are not in the article; ours follow its
description) and the queries of its four use cases, re-expressed with the same
meaning. Two changes, both for reproducible tables: equal counts are ordered by name,
and the two queries without ``ORDER BY`` got one.

Locally the statements run on DuckDB after :func:`to_duckdb`: sqlglot parses the
Athena text and writes DuckDB's (``transform`` -> ``list_transform``, ``reduce`` ->
``list_reduce`` with the initial value last, ``cardinality`` -> ``array_length``,
``element_at`` -> ``[1]``, Presto lambdas -> ``lambda x: ...``). DuckDB has no
``url_extract_host`` or ``url_extract_path``; :func:`url_extract_host` and
:func:`url_extract_path` are registered as Python functions with Presto's meaning.

The table DDL is also the schema: :func:`table_schema` reads it (with sqlglot) into
typed columns, which give DuckDB's ``read_json`` its explicit ``columns=`` (so sparse
records keep their types) and let :func:`conform` reject a record that either engine
could not read, before it is written.

Contents:
    Query, TABLES, VIEWS, QUERIES: the catalogue.
    read_sql: one statement's Athena text from the package.
    render: fills a quoted ``'{name}'`` placeholder with a SQL string literal.
    athena_text: a statement as sent to Athena (full-line comments dropped).
    SqlType, Column, TableSchema, table_schema: the DDL as typed columns.
    conform: the first way a JSON value does not fit a column type, or None.
    to_duckdb: the DuckDB translation of an Athena statement.
    url_extract_host, url_extract_path: Presto's URL functions in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal
from urllib.parse import urlsplit

from deepracer.errors import DeepRacerError

__all__ = [
    "QUERIES",
    "TABLES",
    "VIEWS",
    "Column",
    "Query",
    "SqlType",
    "TableSchema",
    "athena_text",
    "conform",
    "read_sql",
    "render",
    "table_schema",
    "to_duckdb",
    "url_extract_host",
    "url_extract_path",
]

SqlKind = Literal["tables", "views", "queries"]


@dataclass(frozen=True)
class Query:
    """One query of the catalogue.

    Attributes:
        name: Its file stem in ``sql/queries/`` and the stem of its outputs.
        title: A heading for the report.
        section: The article's use case (``Buzz``, ``Labels and faces``, ...).
        from_article: False for our own additions.
    """

    name: str
    title: str
    section: str
    from_article: bool = True


TABLES = ("tweets", "media_rekognition", "tweet_sentiments")
"""The tables, one per Firehose stream, in the order they are created."""
VIEWS = ("media_image_labels_query", "media_image_labels_face_query", "celeb_view")
"""The views over ``media_rekognition``, in the order they are created."""
QUERIES = (
    Query("top_domains", "Top linked domains", "Buzz"),
    Query("product_links", "Amazon product links with the photo's first text line", "Buzz"),
    Query("top_labels", "Most common image labels", "Labels and faces"),
    Query(
        "amazon_faces", "Faces in tweets linking to Amazon, with top emotion", "Labels and faces"
    ),
    Query("top_emotions", "Top emotions (confidence > 50)", "Labels and faces"),
    Query("suspect_content", "Suspect content", "Suspect content"),
    Query("celebrity_counts", "Recognitions per celebrity", "Exploring celebrities"),
    Query("celebrity_images", "Images of one celebrity", "Exploring celebrities"),
    Query("sentiment_by_photo", "Sentiment of tweets with and without photos", "Ours", False),
)
"""The queries, in the article's order; the last is ours."""


def read_sql(kind: SqlKind, name: str) -> str:
    """The Athena text of ``sql/<kind>/<name>.sql`` (shipped inside the package)."""
    path = resources.files(__package__) / "sql" / kind / f"{name}.sql"
    return path.read_text(encoding="utf-8")


def render(text: str, **values: str) -> str:
    """Replaces each quoted placeholder ``'{name}'`` with the value as a SQL literal.

    Only quoted placeholders are replaced, and quotes in the value are doubled, so a
    value can never end the literal early.
    """
    for key, value in values.items():
        text = text.replace("'{" + key + "}'", "'" + value.replace("'", "''") + "'")
    return text


def athena_text(text: str) -> str:
    """A statement as sent to Athena: full-line ``--`` comments dropped, no ``;``.

    Athena's DDL parser (Hive) is less forgiving of leading comments than its query
    engine; inline comments after code are kept.
    """
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return "\n".join(lines).strip().rstrip(";")


# -- schema ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SqlType:
    """A column type of the DDL.

    Attributes:
        kind: ``bigint``, ``int``, ``double``, ``boolean``, ``string``, ``array`` or
            ``struct``.
        item: The element type of an array.
        fields: The fields of a struct, in order, names as the JSON spells them.
    """

    kind: str
    item: SqlType | None = None
    fields: tuple[tuple[str, SqlType], ...] = ()


@dataclass(frozen=True)
class Column:
    """One column of a table.

    Attributes:
        name: The column name.
        type: Its type.
        duckdb: Its DuckDB type, for ``read_json(columns=...)``.
    """

    name: str
    type: SqlType
    duckdb: str


@dataclass(frozen=True)
class TableSchema:
    """A table's name and columns, read from its DDL."""

    name: str
    columns: tuple[Column, ...]


_SCALARS = {
    "BIGINT": "bigint",
    "INT": "int",
    "SMALLINT": "int",
    "TINYINT": "int",
    "DOUBLE": "double",
    "FLOAT": "double",
    "DECIMAL": "double",
    "BOOLEAN": "boolean",
    "TEXT": "string",
    "VARCHAR": "string",
    "CHAR": "string",
}


def _sql_type(datatype: Any, where: str) -> SqlType:
    from sqlglot import exp

    name = datatype.this.name
    if name == "ARRAY":
        return SqlType("array", item=_sql_type(datatype.expressions[0], f"{where}[]"))
    if name == "STRUCT":
        fields = []
        for field in datatype.expressions:
            if not isinstance(field, exp.ColumnDef):
                raise DeepRacerError(f"{where}: unexpected struct member {field.sql()}")
            fields.append((field.name, _sql_type(field.args["kind"], f"{where}.{field.name}")))
        return SqlType("struct", fields=tuple(fields))
    if name not in _SCALARS:
        raise DeepRacerError(f"{where}: type {name} is not supported by the record checks")
    return SqlType(_SCALARS[name])


def table_schema(ddl: str) -> TableSchema:
    """Reads a ``CREATE EXTERNAL TABLE`` statement into typed columns.

    Raises:
        DeepRacerError: The statement is not a table definition sqlglot can read (a
            bug in the shipped SQL, not user input).
    """
    import sqlglot
    from sqlglot import exp

    statement = sqlglot.parse_one(ddl, read="athena")
    schema = statement.this
    if not isinstance(statement, exp.Create) or not isinstance(schema, exp.Schema):
        raise DeepRacerError(f"not a CREATE TABLE statement: {ddl[:60]!r}")
    columns = []
    for column in schema.expressions:
        kind = column.args["kind"]
        columns.append(Column(column.name, _sql_type(kind, column.name), kind.sql("duckdb")))
    return TableSchema(schema.this.name, tuple(columns))


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), f"a {type(value).__name__}"
    )


def conform(value: Any, sql_type: SqlType, path: str) -> str | None:
    """The first place ``value`` (parsed JSON) does not fit ``sql_type``, or None.

    Nulls and missing struct fields fit anything; strings accept any scalar (both
    engines convert); numbers and booleans must be JSON numbers and booleans, because
    DuckDB would read ``"yes"`` as true and a string where an array belongs stops
    the whole query.

    Args:
        value: The JSON value.
        sql_type: The column type.
        path: The value's name, for the message (``entities.urls``).
    """
    kind = sql_type.kind
    if value is None:
        return None
    if kind == "struct":
        if not isinstance(value, dict):
            return f"{path}: expected an object, got {_kind(value)}"
        for name, field_type in sql_type.fields:
            problem = conform(value.get(name), field_type, f"{path}.{name}")
            if problem:
                return problem
        return None
    if kind == "array":
        if not isinstance(value, list):
            return f"{path}: expected an array, got {_kind(value)}"
        assert sql_type.item is not None
        for i, item in enumerate(value):
            problem = conform(item, sql_type.item, f"{path}[{i}]")
            if problem:
                return problem
        return None
    if kind == "string":
        ok = isinstance(value, str | int | float | bool)
    elif kind == "boolean":
        ok = isinstance(value, bool)
    elif kind in ("bigint", "int"):
        limit = 2**63 if kind == "bigint" else 2**31
        ok = isinstance(value, int) and not isinstance(value, bool) and -limit <= value < limit
    else:  # double
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    return None if ok else f"{path}: expected {kind}, got {_kind(value)} {str(value)[:40]!r}"


# -- translation -------------------------------------------------------------------------


def _identity(function: Any) -> bool:
    """Whether a sqlglot lambda is ``x -> x``."""
    from sqlglot import exp

    if not isinstance(function, exp.Lambda) or len(function.expressions) != 1:
        return False
    body = function.this
    return (
        isinstance(body, exp.Identifier | exp.Column) and body.name == function.expressions[0].name
    )


def to_duckdb(text: str) -> str:
    """The DuckDB translation of one Athena statement (pretty-printed).

    Presto's 4-argument ``reduce`` has a finishing lambda DuckDB's ``list_reduce``
    lacks; the identity ``s -> s`` (the article's) is dropped, any other is refused
    instead of silently changing the result.

    Raises:
        DeepRacerError: sqlglot cannot parse the statement, or it uses something
            DuckDB cannot express.
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ErrorLevel, SqlglotError

    try:
        statement = sqlglot.parse_one(text, read="athena")
        for node in statement.find_all(exp.Reduce):
            finish = node.args.get("finish")
            if finish is not None:
                if not _identity(finish):
                    raise DeepRacerError(
                        f"reduce with a finishing function other than the identity has no"
                        f" DuckDB translation: {node.sql('athena')[:80]}"
                    )
                node.set("finish", None)
        return statement.sql(dialect="duckdb", pretty=True, unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise DeepRacerError(f"sqlglot cannot translate the statement: {exc}") from None


def url_extract_host(url: str) -> str | None:
    """Presto's ``url_extract_host``: the host as written (case kept), or NULL.

    No user info, no port; an IPv6 host keeps its brackets, as Java's ``URI.getHost``.
    """
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return None
    host = netloc.rpartition("@")[2]
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end > 0 else None
    host = host.partition(":")[0]
    return host or None


def url_extract_path(url: str) -> str | None:
    """Presto's ``url_extract_path``: the path (``/dp/B0...``), or NULL when unparsable."""
    try:
        return urlsplit(url).path
    except ValueError:
        return None
