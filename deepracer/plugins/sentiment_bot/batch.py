"""A JSON-lines file of Lex Lambda events, answered as a batch.

Every non-blank line is one event, V1 or V2 (detected per line; each carries its
own session attributes, so lines are independent). The output file
``<input stem>.out.jsonl`` has one line per non-blank input line, in order:
``{"line": N, "version": "v1", "response": {...}}``, or ``{"line": N, "error":
"FIELD: what is wrong"}`` for a line that is not JSON or not a valid event. Bad
lines never stop the batch; :class:`BatchOutcome` lists them.

Contents:
    BatchOutcome: counts, errors and answered exchanges of one batch.
    read_events: a JSON-lines file to (line number, event or None, error or None).
    run_events: answer a JSON-lines file.
    demo_lines: a demo batch (good events plus deliberately bad ones).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepracer.errors import ConfigError
from deepracer.io import atomic_write_text
from deepracer.plugins.sentiment_bot.dialog import EventError, Policy, Scorer
from deepracer.plugins.sentiment_bot.hook import Exchange, respond

__all__ = ["BatchOutcome", "demo_lines", "read_events", "run_events"]


@dataclass
class BatchOutcome:
    """What one batch produced.

    Attributes:
        source: The input file.
        output: The output file (JSON lines).
        lines: Non-blank input lines (events asked for).
        exchanges: (line number, exchange) of each answered event.
        errors: One ``{"line", "field", "error"}`` per skipped line.
    """

    source: str
    output: Path
    lines: int = 0
    exchanges: list[tuple[int, Exchange]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def answered(self) -> int:
        """Events answered."""
        return len(self.exchanges)


def read_events(path: Path) -> list[tuple[int, Any, str | None]]:
    """Reads a JSON-lines file: (line number, parsed value or None, error or None).

    Raises:
        ConfigError: The file cannot be read.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"sentiment_bot.events: {path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"sentiment_bot.events: {path}: cannot read ({exc.strerror})") from None
    rows: list[tuple[int, Any, str | None]] = []
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            rows.append((number, json.loads(raw.decode("utf-8")), None))
        except UnicodeDecodeError:
            rows.append((number, None, "event: not UTF-8 text"))
        except ValueError as exc:
            rows.append((number, None, f"event: not JSON ({exc})"))
    return rows


def run_events(path: Path, out_dir: Path, scorer: Scorer | None, policy: Policy) -> BatchOutcome:
    """Answers every event of a JSON-lines file; bad lines are skipped and reported.

    Args:
        path: The events file.
        out_dir: Where ``<stem>.out.jsonl`` goes.
        scorer: Scores events without a ``sentimentResponse``.
        policy: The hook's settings.

    Raises:
        ConfigError: The file cannot be read (a bad line is not an exception).
    """
    outcome = BatchOutcome(source=str(path), output=out_dir / f"{path.stem}.out.jsonl")
    out: list[str] = []
    for number, event, problem in read_events(path):
        outcome.lines += 1
        if problem is None:
            try:
                exchange = respond(event, scorer, policy)
            except EventError as exc:
                problem, where = str(exc), exc.field
            else:
                outcome.exchanges.append((number, exchange))
                row = {"line": number, "version": exchange.version, "response": exchange.response}
                out.append(json.dumps(row, sort_keys=True))
                continue
        else:
            where = "event"
        outcome.errors.append(
            {"line": number, "field": where, "error": f"line {number}: {problem}"}
        )
        out.append(json.dumps({"line": number, "error": f"line {number}: {problem}"}))
    atomic_write_text(outcome.output, "".join(line + "\n" for line in out))
    return outcome


def demo_lines(good: Sequence[Exchange]) -> list[str]:
    """A demo batch: the given exchanges' events, one without Lex sentiment, bad lines.

    The bad lines (each should be skipped with its field named): not JSON; a V1
    event without ``currentIntent``; a ``sentimentScore`` string that does not
    parse; an unknown intent; a V2 event without ``sessionState``; a JSON array.
    """
    lines = [json.dumps(exchange.event, sort_keys=True) for exchange in good]
    if good:
        # The same first event with Lex sentiment off: the hook scores it itself.
        quiet = json.loads(lines[0])
        quiet.pop("sentimentResponse", None)
        for item in quiet.get("interpretations", []):
            item.pop("sentimentResponse", None)
        lines.append(json.dumps(quiet, sort_keys=True))
        # Lex V1 writes the score string over several lines with Java-style exponents.
        spread = json.loads(lines[0])
        if "sentimentResponse" in spread:
            spread["sentimentResponse"]["sentimentScore"] = (
                "{\n  Positive: 0.0041,\n  Negative: 0.7123,\n"
                "  Neutral: 0.2835,\n  Mixed: 1.4E-5\n}"
            )
            lines.append(json.dumps(spread, sort_keys=True))
    base = {
        "messageVersion": "1.0",
        "invocationSource": "DialogCodeHook",
        "userId": "demo",
        "sessionAttributes": {},
        "inputTranscript": "Where is my parcel?",
    }
    intent = {"name": "CheckDeliveryStatus", "slots": {"trackingNumber": None}}
    bad_score = {"sentimentLabel": "NEGATIVE", "sentimentScore": "{Positive: low, Negative: high}"}
    lines += [
        '{"messageVersion": "1.0", "currentIntent": ',  # cut off: not JSON
        json.dumps(base),  # no currentIntent
        json.dumps({**base, "currentIntent": intent, "sentimentResponse": bad_score}),
        json.dumps({**base, "currentIntent": {"name": "OrderPizza", "slots": {}}}),
        json.dumps({"sessionId": "demo", "inputTranscript": "Hi", "interpretations": []}),
        "[1, 2, 3]",
    ]
    return lines
