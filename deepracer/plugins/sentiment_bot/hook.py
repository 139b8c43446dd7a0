"""The dialog code hook: pure handlers for both Lex versions, and the Lambda entry point.

``handle_v1(event, sentiment)`` and ``handle_v2(event, sentiment)`` answer one event
(``sentiment`` scores the transcript when the event carries no
``sentimentResponse``). ``lambda_handler(event, context)`` detects the version and
answers; deploy it as the bot's Lambda with handler
``deepracer.plugins.sentiment_bot.hook.lambda_handler`` and these environment
variables (all optional):

* ``SENTIMENT_SCORER``: what scores events without Lex's own sentiment (Lex's
  sentiment analysis off): ``comprehend`` (the default; ``comprehend.detect_sentiment``,
  the function's role needs ``comprehend:DetectSentiment``) or ``local`` (VADER with
  the delivery lexicon; bundle ``vaderSentiment``). It is built on first need only;
* ``APOLOGY_THRESHOLD``, ``HANDOVER_THRESHOLD``: on the Negative score; defaults
  0.5 and 0.8 (Comprehend's scale, which Lex's ``sentimentResponse`` also uses), or
  0.2 and 0.45 with ``SENTIMENT_SCORER=local`` (VADER's scale);
* ``HANDOVER_TURNS``: k negative turns in a row that offer an agent (3; 0: off);
* ``DELIVERIES``: a JSON object of tracking number -> date (the "database").

Contents:
    Exchange: one answered event (version, turn, decision, response).
    respond: an event of either version to an :class:`Exchange`.
    handle_v1, handle_v2: an event of that version to its response.
    handle: either version, detected.
    policy_from_env: the Lambda's :class:`~.dialog.Policy` from its environment.
    lambda_handler: the AWS Lambda entry point.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from deepracer.errors import DeepRacerError
from deepracer.plugins.sentiment import Sentiment
from deepracer.plugins.sentiment_bot.dialog import (
    COMPREHEND_THRESHOLDS,
    VADER_THRESHOLDS,
    Decision,
    Policy,
    Scorer,
    Turn,
    decide,
)
from deepracer.plugins.sentiment_bot.wire import (
    detect_version,
    parse_v1,
    parse_v2,
    render_v1,
    render_v2,
)

__all__ = [
    "Exchange",
    "handle",
    "handle_v1",
    "handle_v2",
    "lambda_handler",
    "policy_from_env",
    "respond",
]

DEFAULT_POLICY = Policy()
"""Thresholds for Lex's (Comprehend's) scores, k = 3, the example delivery table."""


@dataclass(frozen=True)
class Exchange:
    """One event and the bot's answer.

    Attributes:
        version: ``v1`` or ``v2``.
        event: The event as received.
        turn: The event, read.
        decision: What the bot decided.
        response: The Lambda response in the event's version.
    """

    version: Literal["v1", "v2"]
    event: Mapping[str, Any]
    turn: Turn
    decision: Decision
    response: dict[str, Any]


def respond(
    event: Any,
    sentiment: Scorer | None,
    policy: Policy = DEFAULT_POLICY,
    version: Literal["v1", "v2"] | None = None,
) -> Exchange:
    """Answers one Lex event.

    Args:
        event: A Lex V1 or V2 Lambda event.
        sentiment: Scores the transcript when the event has no ``sentimentResponse``.
        policy: Thresholds, k and the delivery table.
        version: The event's version; None: detected from its keys.

    Raises:
        EventError: The event is malformed; the message names the field.
    """
    version = version or detect_version(event)
    if version == "v1":
        turn = parse_v1(event)
        decision = decide(turn, sentiment, policy)
        return Exchange(version, event, turn, decision, render_v1(decision))
    turn = parse_v2(event)
    decision = decide(turn, sentiment, policy)
    return Exchange(version, event, turn, decision, render_v2(decision, event))


def handle_v1(
    event: Mapping[str, Any], sentiment: Scorer | None, policy: Policy = DEFAULT_POLICY
) -> dict[str, Any]:
    """A Lex V1 event to its response (``dialogAction`` ElicitSlot/ConfirmIntent/Close).

    Raises:
        EventError: The event is malformed (e.g. no ``currentIntent``).
    """
    return respond(event, sentiment, policy, "v1").response


def handle_v2(
    event: Mapping[str, Any], sentiment: Scorer | None, policy: Policy = DEFAULT_POLICY
) -> dict[str, Any]:
    """A Lex V2 event to its response (``sessionState.dialogAction`` + ``messages``).

    Raises:
        EventError: The event is malformed (e.g. no ``sessionState``).
    """
    return respond(event, sentiment, policy, "v2").response


def handle(
    event: Mapping[str, Any], sentiment: Scorer | None, policy: Policy = DEFAULT_POLICY
) -> dict[str, Any]:
    """An event of either version (detected from its keys) to its response."""
    return respond(event, sentiment, policy).response


def _env_number(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        return float(text)
    except ValueError:
        raise DeepRacerError(f"environment {name}: expected a number, got {text!r}") from None


def policy_from_env(environ: Mapping[str, str] | None = None) -> Policy:
    """The Lambda's policy from ``APOLOGY_THRESHOLD``, ``HANDOVER_*`` and ``DELIVERIES``.

    Raises:
        DeepRacerError: A variable does not parse or is out of range; names it.
    """
    env = os.environ if environ is None else environ
    scale = VADER_THRESHOLDS if _scorer_kind(env) == "local" else COMPREHEND_THRESHOLDS
    apology = _env_number(env, "APOLOGY_THRESHOLD", scale[0])
    handover = _env_number(env, "HANDOVER_THRESHOLD", scale[1])
    turns = _env_number(env, "HANDOVER_TURNS", DEFAULT_POLICY.handover_turns)
    if turns != int(turns):
        raise DeepRacerError(f"environment HANDOVER_TURNS: expected a whole number, got {turns:g}")
    deliveries: Mapping[str, str] = DEFAULT_POLICY.deliveries
    if env.get("DELIVERIES"):
        try:
            table = json.loads(env["DELIVERIES"])
        except ValueError:
            table = None
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise DeepRacerError(
                "environment DELIVERIES: expected a JSON object of tracking number -> date"
            )
        deliveries = {str(k): v for k, v in table.items()}
    try:
        return Policy(apology, handover, int(turns), deliveries)
    except ValueError as exc:
        raise DeepRacerError(f"environment APOLOGY_THRESHOLD/HANDOVER_*: {exc}") from None


def _scorer_kind(environ: Mapping[str, str]) -> str:
    kind = environ.get("SENTIMENT_SCORER", "comprehend") or "comprehend"
    if kind not in ("comprehend", "local"):
        raise DeepRacerError(
            f"environment SENTIMENT_SCORER: expected comprehend or local, got {kind!r}"
        )
    return kind


_scorers: dict[str, Scorer] = {}


def _lambda_scorer(text: str) -> Sentiment:
    # Built on first need and kept while the Lambda container is warm.
    kind = _scorer_kind(os.environ)
    if kind not in _scorers:
        if kind == "comprehend":
            from deepracer.cloud import aws
            from deepracer.plugins.sentiment import ComprehendSentiment

            _scorers[kind] = ComprehendSentiment(aws.client("comprehend"))
        else:
            from deepracer.plugins.sentiment import LocalSentiment

            _scorers[kind] = LocalSentiment()
    return _scorers[kind](text)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The AWS Lambda entry point: a V1 or V2 event to its response.

    Raises:
        EventError: The event is malformed (Lex then reports the Lambda's error).
    """
    del context  # Lex's Lambda context carries nothing the hook needs
    return respond(event, _lambda_scorer, policy_from_env()).response
