"""Where the SQL runs: DuckDB in-process (local) and Amazon Athena (AWS).

:class:`DuckDbEngine` reads the partition files with ``read_json`` and the explicit
column types of the table DDL, so a field that is missing or empty in every record
still has its declared type; a stream without files becomes an empty table of the
same columns. :class:`AthenaEngine` runs each statement with
``start_query_execution``, polls ``get_query_execution`` until it ends, and pages
through ``get_query_results``.

Both answer a :class:`ResultTable`.

Contents:
    ResultTable: column names and rows, with CSV and JSON writers.
    DuckDbEngine: DuckDB with Presto's URL functions registered.
    AthenaEngine: Athena through boto3.
    duckdb_table_sql: the statement that exposes a stream's files as a DuckDB table.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepracer.cloud import aws
from deepracer.errors import DeepRacerError
from deepracer.plugins.social_analytics.sql import (
    TableSchema,
    url_extract_host,
    url_extract_path,
)

__all__ = ["AthenaEngine", "DuckDbEngine", "ResultTable", "duckdb_table_sql"]


@dataclass
class ResultTable:
    """A query's answer.

    Attributes:
        columns: Column names.
        rows: One tuple per row.
    """

    columns: list[str]
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    def records(self) -> list[dict[str, Any]]:
        """The rows as column -> value mappings."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def column(self, name: str) -> list[Any]:
        """One column's values."""
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def to_csv(self) -> str:
        """CSV with a header; lists and structs as JSON, NULL as an empty cell."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow([_cell(v) for v in row])
        return buffer.getvalue()

    def to_json(self) -> dict[str, Any]:
        """``{"columns": [...], "rows": [{column: value}, ...]}``."""
        return {"columns": list(self.columns), "rows": self.records()}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def duckdb_table_sql(schema: TableSchema, files: Sequence[Path], *, gzip: bool) -> str:
    """The DuckDB statement that makes ``schema.name`` from a stream's files.

    Args:
        schema: The table (its DDL's columns).
        files: The partition files, newline-delimited JSON (gzip when ``gzip``).
        gzip: Whether the files are gzip-compressed.

    Returns:
        ``CREATE TABLE ... AS SELECT * FROM read_json([...], columns={...})`` (read
        once, not once per query), or, with no files, a ``CREATE TABLE`` of the same
        columns and no rows.
    """
    if not files:
        columns = ",\n  ".join(f"{_quote(c.name)} {c.duckdb}" for c in schema.columns)
        return f"CREATE TABLE {_quote(schema.name)} (\n  {columns}\n)"
    paths = ",\n    ".join(_literal(str(p)) for p in files)
    types = ",\n    ".join(f"{_literal(c.name)}: {_literal(c.duckdb)}" for c in schema.columns)
    return (
        f"CREATE TABLE {_quote(schema.name)} AS\nSELECT *\nFROM read_json(\n"
        f"  [\n    {paths}\n  ],\n"
        f"  columns = {{\n    {types}\n  }},\n  format = 'newline_delimited',\n"
        f"  compression = {_literal('gzip' if gzip else 'none')}\n)"
    )


class DuckDbEngine:
    """An in-memory DuckDB with ``url_extract_host`` and ``url_extract_path``.

    Raises:
        DeepRacerError: duckdb is not installed.
    """

    name = "duckdb"

    def __init__(self) -> None:
        try:
            import duckdb
        except ImportError:
            raise DeepRacerError(
                "social_analytics queries need duckdb and sqlglot: pip install 'deepracer[social]'"
            ) from None
        self._duckdb = duckdb
        self.connection: Any = duckdb.connect(":memory:")
        varchar = duckdb.sqltypes.VARCHAR
        for udf in (url_extract_host, url_extract_path):
            self.connection.create_function(udf.__name__, udf, [varchar], varchar)

    def search_from(self, folder: Path) -> None:
        """Resolves relative file paths in later statements against ``folder``."""
        self.execute(f"SET file_search_path = {_literal(str(folder))}")

    def execute(self, sql: str) -> ResultTable:
        """Runs one statement; a query's rows come back, a DDL statement's none.

        Raises:
            DeepRacerError: DuckDB rejects the statement (the message names it).
        """
        try:
            cursor = self.connection.execute(sql)
            description = cursor.description
            if not description:
                return ResultTable([])
            rows = [tuple(row) for row in cursor.fetchall()]
        except self._duckdb.Error as exc:
            first = " ".join(sql.split())[:100]
            raise DeepRacerError(f"DuckDB: {exc} (in: {first} ...)") from None
        return ResultTable([d[0] for d in description], rows)

    def close(self) -> None:
        """Closes the connection."""
        self.connection.close()


_ATHENA_INTS = frozenset({"tinyint", "smallint", "integer", "int", "bigint"})
_ATHENA_FLOATS = frozenset({"double", "float", "real"})


def _athena_value(text: str | None, athena_type: str) -> Any:
    """One ``VarCharValue`` in the column's type (arrays and rows stay text)."""
    if text is None:
        return None
    if athena_type in _ATHENA_INTS:
        return int(text)
    if athena_type in _ATHENA_FLOATS:
        return float(text)
    if athena_type == "boolean":
        return text.lower() == "true"
    return text


class AthenaEngine:
    """Athena statements through boto3, waited for and paged through.

    Args:
        client: A boto3 ``athena`` client.
        database: The database of ``QueryExecutionContext``.
        workgroup: The workgroup.
        output: The ``s3://`` result location.
        poll_seconds: Pause between ``get_query_execution`` calls.
        timeout_s: How long one statement may run before it is stopped.
        sleep: The pause function (tests pass a no-op).
    """

    name = "athena"

    def __init__(
        self,
        client: Any,
        *,
        database: str,
        workgroup: str,
        output: str,
        poll_seconds: float = 1.0,
        timeout_s: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.database = database
        self.workgroup = workgroup
        self.output = output
        self.poll_seconds = poll_seconds
        self.timeout_s = timeout_s
        self.sleep = sleep
        self.executions: list[str] = []

    def start(self, sql: str, *, with_database: bool = True) -> str:
        """Starts one statement; its execution id."""
        request: dict[str, Any] = {
            "QueryString": sql,
            "ResultConfiguration": {"OutputLocation": self.output},
            "WorkGroup": self.workgroup,
        }
        if with_database:
            request["QueryExecutionContext"] = {"Database": self.database}
        with aws.aws_errors("athena.start_query_execution"):
            execution_id = str(self.client.start_query_execution(**request)["QueryExecutionId"])
        self.executions.append(execution_id)
        return execution_id

    def wait(self, execution_id: str, sql: str) -> None:
        """Polls until the statement succeeds.

        Raises:
            DeepRacerError: It failed, was cancelled, or ran past the timeout (then it
                is stopped); the message has Athena's reason and the statement.
        """
        deadline = time.monotonic() + self.timeout_s
        first = " ".join(sql.split())[:100]
        while True:
            with aws.aws_errors("athena.get_query_execution", subject=f"query {execution_id}"):
                status = self.client.get_query_execution(QueryExecutionId=execution_id)
            state = status["QueryExecution"]["Status"]
            if state["State"] == "SUCCEEDED":
                return
            if state["State"] in ("FAILED", "CANCELLED"):
                reason = state.get("StateChangeReason", "no reason given")
                raise DeepRacerError(
                    f"Athena {state['State'].lower()} {execution_id}: {reason} (in: {first} ...)"
                )
            if time.monotonic() > deadline:
                with aws.aws_errors("athena.stop_query_execution", subject=f"query {execution_id}"):
                    self.client.stop_query_execution(QueryExecutionId=execution_id)
                raise DeepRacerError(
                    f"Athena {execution_id} ran over {self.timeout_s:g} s and was stopped"
                    f" (in: {first} ...); raise social_analytics.query_timeout_minutes"
                )
            self.sleep(self.poll_seconds)

    def results(self, execution_id: str) -> ResultTable:
        """All result pages of a finished statement (the header row dropped)."""
        columns: list[str] = []
        types: list[str] = []
        rows: list[tuple[Any, ...]] = []
        token: str | None = None
        first_page = True
        while True:
            request: dict[str, Any] = {"QueryExecutionId": execution_id, "MaxResults": 1000}
            if token:
                request["NextToken"] = token
            with aws.aws_errors("athena.get_query_results", subject=f"query {execution_id}"):
                page = self.client.get_query_results(**request)
            result = page["ResultSet"]
            if first_page:
                info = result.get("ResultSetMetadata", {}).get("ColumnInfo", [])
                columns = [str(c["Name"]) for c in info]
                types = [str(c.get("Type", "varchar")).lower() for c in info]
            for i, row in enumerate(result.get("Rows", [])):
                values = [cell.get("VarCharValue") for cell in row.get("Data", [])]
                # A SELECT's first row repeats the column names.
                if first_page and i == 0 and values == columns:
                    continue
                rows.append(tuple(_athena_value(v, t) for v, t in zip(values, types, strict=False)))
            first_page = False
            token = page.get("NextToken")
            if not token:
                return ResultTable(columns, rows)

    def execute(self, sql: str, *, with_database: bool = True) -> ResultTable:
        """Starts, waits for and reads one statement."""
        execution_id = self.start(sql, with_database=with_database)
        self.wait(execution_id, sql)
        return self.results(execution_id)
