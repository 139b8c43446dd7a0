"""Scoring customers through a SageMaker endpoint (``backend: aws``).

The request is the one the SageMaker built-in algorithms and the scikit-learn
container take for CSV: ``invoke_endpoint(EndpointName=..., ContentType="text/csv",
Accept="text/csv", Body=...)`` with one customer per line, the cleaned features in
the order of ``features.json``, no header. Rows go in batches, because one request
carries at most 6 MB. The answer may be CSV or JSON (see :func:`parse_scores`).
AWS errors read as :mod:`deepracer.cloud.aws` words them, prefixed with the endpoint
and its field, ``churn.endpoint_name``.

Contents:
    csv_body: the request body of a feature matrix.
    parse_scores: one churn score per row from a response body.
    score_endpoint: score a matrix through an endpoint, batch by batch.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np
from numpy.typing import NDArray

from deepracer.cloud import aws
from deepracer.errors import DeepRacerError

__all__ = ["csv_body", "parse_scores", "score_endpoint"]

_SPLIT = re.compile(r"[,\s]+")


def csv_body(features: NDArray[np.float64]) -> bytes:
    """One CSV line per row, shortest exact float text, no header."""
    return "\n".join(",".join(repr(float(v)) for v in row) for row in features).encode() + b"\n"


def _as_score(item: Any) -> float:
    """A score from one JSON prediction: a number, [p0, p1] or a mapping."""
    if isinstance(item, dict):
        for key in ("score", "probability", "probabilities", "predicted_probability"):
            if key in item:
                return _as_score(item[key])
        raise ValueError(f"no score, probability or probabilities key in {item!r}")
    if isinstance(item, list):
        if not item:
            raise ValueError("an empty list")
        return _as_score(item[-1])  # the last class is churn (labels 0/1)
    if isinstance(item, bool) or not isinstance(item, int | float):
        raise ValueError(f"{item!r} is not a number")
    return float(item)


def parse_scores(body: bytes, content_type: str, rows: int, endpoint: str) -> NDArray[np.float64]:
    """Reads one churn score per row from an endpoint's answer.

    Accepted: JSON (a list, or ``{"predictions": [...]}``, whose items are numbers,
    ``[p0, p1]`` lists or mappings with ``score``/``probability``/``probabilities``),
    or text with one number per row (separated by commas or line breaks), or one
    ``p0,p1`` line per row.

    Args:
        body: The response body.
        content_type: Its content type.
        rows: How many rows were sent.
        endpoint: The endpoint name, for messages.

    Raises:
        DeepRacerError: The body is not numbers, has the wrong count, or has a
            non-finite score.
    """
    text = body.decode("utf-8", errors="replace").strip()
    shown = text[:80] + ("..." if len(text) > 80 else "")
    try:
        if "json" in content_type.lower() or text[:1] in "[{":
            data = json.loads(text)
            if isinstance(data, dict):
                data = data.get("predictions", data.get("scores"))
            if not isinstance(data, list):
                raise ValueError("no predictions list")
            scores = [_as_score(item) for item in data]
        else:
            lines = [line for line in text.splitlines() if line.strip()]
            cells = [_SPLIT.split(line.strip()) for line in lines]
            if len(lines) == rows and all(len(c) == 2 for c in cells):
                scores = [float(c[-1]) for c in cells]  # p0,p1 per row
            else:
                scores = [float(v) for v in _SPLIT.split(text) if v]
    except ValueError as exc:
        raise DeepRacerError(
            f"endpoint {endpoint}: the answer ({content_type or 'no content type'}) is not"
            f" churn scores ({exc}): {shown!r}. It should hold one number per customer row"
        ) from None
    if len(scores) != rows:
        raise DeepRacerError(
            f"endpoint {endpoint}: sent {rows} rows, got {len(scores)} scores back: {shown!r}"
        )
    if not all(math.isfinite(s) for s in scores):
        raise DeepRacerError(f"endpoint {endpoint}: a score is not a finite number: {shown!r}")
    return np.asarray(scores, dtype=np.float64)


def score_endpoint(
    client: Any, endpoint: str, features: NDArray[np.float64], *, batch: int
) -> NDArray[np.float64]:
    """Scores every row of ``features`` through a SageMaker endpoint.

    Args:
        client: A boto3 ``sagemaker-runtime`` client.
        endpoint: The endpoint name.
        features: The cleaned feature matrix.
        batch: Rows per request.

    Returns:
        One score per row.

    Raises:
        DeepRacerError: AWS refused the call (no credentials, no such endpoint, ...)
            or the answer is not one score per row.
    """
    scores = []
    for start in range(0, len(features), batch):
        part = features[start : start + batch]
        try:
            with aws.aws_errors("sagemaker-runtime.invoke_endpoint"):
                response = client.invoke_endpoint(
                    EndpointName=endpoint,
                    ContentType="text/csv",
                    Accept="text/csv",
                    Body=csv_body(part),
                )
                body = response["Body"].read()
        except DeepRacerError as exc:
            # AWS's own words do not always name the endpoint; the config field does.
            raise type(exc)(f"endpoint {endpoint} (churn.endpoint_name): {exc}") from None
        content_type = str(response.get("ContentType", ""))
        scores.append(parse_scores(body, content_type, len(part), endpoint))
    return np.concatenate(scores) if scores else np.zeros(0)
