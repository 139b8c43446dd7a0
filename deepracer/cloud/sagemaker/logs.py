"""A SageMaker training job's CloudWatch log lines, optionally followed to the end.

Contents:
    LOG_GROUP: the log group of every training job.
    job_logs: echo a job's log lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from deepracer.cloud import aws
from deepracer.cloud.sagemaker.jobs import aws_errors, call, describe_job

__all__ = ["LOG_GROUP", "job_logs"]

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
"""CloudWatch Logs group of every SageMaker training job; streams are ``<job>/<host>-<n>``."""


def _log_streams(logs: Any, name: str) -> list[str]:
    """The job's log streams; [] while neither they nor the log group exist."""
    streams: list[str] = []
    kwargs: dict[str, Any] = {"logGroupName": LOG_GROUP, "logStreamNamePrefix": f"{name}/"}
    with aws_errors("describe_log_streams", name):
        while True:
            try:
                page = logs.describe_log_streams(**kwargs)
            except Exception as exc:
                if aws.error_code(exc) == "ResourceNotFoundException":
                    return []  # no job has logged in this region yet
                raise
            streams.extend(s["logStreamName"] for s in page.get("logStreams", []))
            token = page.get("nextToken")
            if not token or token == kwargs.get("nextToken"):
                return streams
            kwargs["nextToken"] = token


def _drain(
    logs: Any,
    stream: str,
    tokens: dict[str, str | None],
    echo: Callable[[str], None],
    prefix: str,
) -> int:
    """Echoes a stream's events after its saved token; returns how many."""
    count = 0
    token = tokens.get(stream)
    while True:
        kwargs: dict[str, Any] = {
            "logGroupName": LOG_GROUP,
            "logStreamName": stream,
            "startFromHead": True,
        }
        if token:
            kwargs["nextToken"] = token
        page = call(logs.get_log_events, **kwargs)
        for event in page.get("events", []):
            echo(prefix + str(event.get("message", "")).rstrip("\n"))
            count += 1
        new = page.get("nextForwardToken")
        # CloudWatch returns the token it was given once the stream is exhausted.
        done = not new or new == token
        token = new or token
        if done:
            break
    tokens[stream] = token
    return count


def job_logs(
    logs: Any,
    name: str,
    *,
    follow: bool = False,
    sm: Any = None,
    echo: Callable[[str], None] = print,
    poll_seconds: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Echoes a training job's CloudWatch log lines.

    The lines come from the ``/aws/sagemaker/TrainingJobs`` streams named
    ``<name>/...`` (one per instance; with several, each line is prefixed with its
    host). A job that has not logged yet gets a one-line note, not an error.

    Args:
        logs: A boto3 CloudWatch Logs client.
        name: The training job name.
        follow: Keep polling until the job has ended, then drain once more.
        sm: A boto3 SageMaker client; needed with ``follow``.
        echo: Receives each line.
        poll_seconds: Pause between polls when following.
        sleep: The pause function (tests pass a fake).

    Returns:
        The number of log lines echoed (the note not counted).

    Raises:
        ValueError: ``follow`` without ``sm``.
        DeepRacerError: An AWS error.
    """
    if follow and sm is None:
        raise ValueError("job_logs(follow=True) needs the SageMaker client sm")
    tokens: dict[str, str | None] = {}
    lines = 0
    noted = False
    while True:
        # The status is read before draining, so the drain after "ended" is the last.
        ended = follow and describe_job(sm, name).finished
        for stream in _log_streams(logs, name):
            tokens.setdefault(stream, None)
        if not tokens and not noted:
            echo(f"no logs yet for {name}: the job is starting")
            noted = True
        for stream in sorted(tokens):
            host = stream.split("/", 1)[-1]
            prefix = f"[{host}] " if len(tokens) > 1 else ""
            lines += _drain(logs, stream, tokens, echo, prefix)
        if not follow or ended:
            return lines
        sleep(poll_seconds)
