"""Scripted conversations played against the hook, as Lex would send them.

A script lists conversations; each turn says what the user types and what Lex's
language understanding would make of it (the intent, the slots it fills, the
answer to a confirmation prompt). :func:`play` turns each turn into a V1 or V2
Lambda event the way Lex builds the next event from the previous response: the
session attributes come back, and while the bot elicits a slot of an intent the
slots filled so far stay filled. With ``lex_sentiment`` the event carries a
``sentimentResponse`` (Lex's sentiment analysis on), scored here by the run's
scorer; without, the hook scores the transcript itself.

A script file is YAML::

    conversations:
      - name: article
        reference: true           # the source article's conversation
        turns:
          - text: "When is my parcel coming? It's so late."
            intent: CheckDeliveryStatus
            expected: apology, then ask for the tracking number
            expect_action: ElicitSlot
            expect_apology: true
          - {text: "48213.", intent: CheckDeliveryStatus, slots: {trackingNumber: "48213"}}

The built-in script (:data:`BUILTIN_SCRIPT`) is our own text following the
article's flow: its three-message delivery conversation, a very negative opening
that is handed over, a run of mildly negative turns that is handed over by the
streak rule and then declined, and a mistyped tracking number.

Contents:
    ScriptTurn, Conversation, Script: the script's typed form.
    BUILTIN_SCRIPT: the built-in conversations (a mapping, as read from YAML).
    load_script: a script file (or the built-in script) to :class:`Script`.
    v1_event, v2_event: one turn as a Lex V1 / V2 Lambda event.
    play: one conversation to its exchanges.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from deepracer.config.loader import from_mapping, load_yaml
from deepracer.plugins.sentiment import Sentiment
from deepracer.plugins.sentiment_bot.dialog import (
    INTENT_SLOTS,
    Confirmation,
    Decision,
    Policy,
    Scorer,
)
from deepracer.plugins.sentiment_bot.hook import Exchange, respond
from deepracer.plugins.sentiment_bot.wire import format_score_string, v2_slot

__all__ = [
    "BOT_NAME",
    "BUILTIN_SCRIPT",
    "Conversation",
    "Script",
    "ScriptTurn",
    "load_script",
    "play",
    "v1_event",
    "v2_event",
]

BOT_NAME = "DeliveryBot"
IntentName = Literal["CheckDeliveryStatus", "ChangeDeliveryDate", "AgentHandover", "FallbackIntent"]


@dataclass(frozen=True, kw_only=True)
class ScriptTurn:
    """One user turn of a scripted conversation."""

    text: str
    """What the user types (``inputTranscript``)."""
    intent: IntentName
    """The intent Lex recognises."""
    slots: dict[str, str] = field(default_factory=dict)
    """Slot values Lex fills from this turn."""
    confirmation: Literal["None", "Confirmed", "Denied"] = "None"
    """The user's answer to a ConfirmIntent (intent AgentHandover)."""
    expected: str = ""
    """What should happen, in words (the article's expectation, where it has one)."""
    expect_action: Literal["", "ElicitSlot", "ConfirmIntent", "Close"] = ""
    """The dialog action that should answer (empty: not checked)."""
    expect_apology: bool | None = None
    """Whether the answer should apologise (null: not checked)."""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.slots) - set(INTENT_SLOTS[self.intent]))
        if unknown:
            raise ValueError(
                f"slot {unknown[0]!r} is not a slot of {self.intent}"
                f" ({', '.join(INTENT_SLOTS[self.intent]) or 'it has none'})"
            )


@dataclass(frozen=True, kw_only=True)
class Conversation:
    """One scripted conversation."""

    name: str
    """Short name (table rows, plot labels)."""
    turns: tuple[ScriptTurn, ...]
    """The user's turns, in order."""
    user: str = "user-1"
    """``userId`` (V1) / ``sessionId`` (V2)."""
    reference: bool = False
    """The source article's conversation (its expectations are the article's)."""
    description: str = ""
    """One line for the report."""

    def __post_init__(self) -> None:
        if not self.turns:
            raise ValueError(f"conversation {self.name!r} has no turns")


@dataclass(frozen=True, kw_only=True)
class Script:
    """Conversations to play."""

    conversations: tuple[Conversation, ...]
    """At least one; names unique."""

    def __post_init__(self) -> None:
        names = [c.name for c in self.conversations]
        if not names:
            raise ValueError("no conversations")
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"conversation name {repeated[0]!r} is used twice")


BUILTIN_SCRIPT: dict[str, Any] = {
    "conversations": [
        {
            "name": "article",
            "reference": True,
            "description": "the article's delivery-status conversation, in our words",
            "turns": [
                {
                    "text": "When is my parcel coming? It's so late.",
                    "intent": "CheckDeliveryStatus",
                    "expected": "apology, then ask for the tracking number",
                    "expect_action": "ElicitSlot",
                    "expect_apology": True,
                },
                {
                    "text": "48213.",
                    "intent": "CheckDeliveryStatus",
                    "slots": {"trackingNumber": "48213"},
                    "expected": "the delivery date, no apology",
                    "expect_action": "Close",
                    "expect_apology": False,
                },
                {
                    "text": "Great, thanks.",
                    "intent": "FallbackIntent",
                    "expected": "no apology (the article's conversation ends here)",
                    "expect_apology": False,
                },
            ],
        },
        {
            "name": "handover",
            "user": "user-2",
            "description": "a very negative opening: the agent is offered at once",
            "turns": [
                {
                    "text": "Seriously, where is my parcel? So frustrating!",
                    "intent": "CheckDeliveryStatus",
                    "expected": "offer an agent (Negative above the hand-over threshold)",
                    "expect_action": "ConfirmIntent",
                },
                {
                    "text": "Yes, please.",
                    "intent": "AgentHandover",
                    "confirmation": "Confirmed",
                    "expected": "connect to an agent",
                    "expect_action": "Close",
                    "expect_apology": False,
                },
            ],
        },
        {
            "name": "streak",
            "user": "user-3",
            "description": "mild complaints in a row: the streak rule offers an agent",
            "turns": [
                {
                    "text": "I need to move my delivery, it is late.",
                    "intent": "ChangeDeliveryDate",
                    "expected": "apology, ask for the tracking number",
                    "expect_action": "ElicitSlot",
                    "expect_apology": True,
                },
                {
                    "text": "51377. It is already delayed.",
                    "intent": "ChangeDeliveryDate",
                    "slots": {"trackingNumber": "51377"},
                    "expected": "apology, ask for the new date",
                    "expect_action": "ElicitSlot",
                    "expect_apology": True,
                },
                {
                    "text": "Next Friday, since it is always late.",
                    "intent": "ChangeDeliveryDate",
                    "slots": {"deliveryDate": "2019-12-06"},
                    "expected": "third negative turn in a row: offer an agent",
                    "expect_action": "ConfirmIntent",
                },
                {
                    "text": "No, I will wait.",
                    "intent": "AgentHandover",
                    "confirmation": "Denied",
                    "expected": "declined: the date change goes through",
                    "expect_action": "Close",
                    "expect_apology": False,
                },
            ],
        },
        {
            "name": "typo",
            "user": "user-4",
            "description": "a neutral request with a mistyped tracking number",
            "turns": [
                {
                    "text": "Where is my order?",
                    "intent": "CheckDeliveryStatus",
                    "expected": "ask for the tracking number, no apology",
                    "expect_action": "ElicitSlot",
                    "expect_apology": False,
                },
                {
                    "text": "99999.",
                    "intent": "CheckDeliveryStatus",
                    "slots": {"trackingNumber": "99999"},
                    "expected": "unknown number: ask again",
                    "expect_action": "ElicitSlot",
                    "expect_apology": False,
                },
                {
                    "text": "Oops, it is 48213.",
                    "intent": "CheckDeliveryStatus",
                    "slots": {"trackingNumber": "48213"},
                    "expected": "the delivery date",
                    "expect_action": "Close",
                    "expect_apology": False,
                },
            ],
        },
    ]
}
"""The built-in conversations (our own text, following the article's flow)."""


def load_script(path: str | Path | None = None) -> Script:
    """A script file, or the built-in script when ``path`` is empty.

    Raises:
        ConfigError: The file is missing, not YAML, or not a valid script; the
            message names the file and the field (``conversations[0].turns[1].intent``).
    """
    if not path:
        return from_mapping(Script, BUILTIN_SCRIPT, source="built-in script")
    return from_mapping(Script, load_yaml(path), source=str(path))


def v1_event(
    *,
    user: str,
    text: str,
    intent: str,
    slots: Mapping[str, str | None],
    confirmation: Confirmation,
    attributes: Mapping[str, str],
    sentiment: Sentiment | None,
) -> dict[str, Any]:
    """One turn as the Lex V1 Lambda event of a dialog code hook.

    Args:
        user: ``userId``.
        text: ``inputTranscript``.
        intent: ``currentIntent.name``.
        slots: ``currentIntent.slots``.
        confirmation: ``currentIntent.confirmationStatus``.
        attributes: ``sessionAttributes``.
        sentiment: Lex's sentiment (written as V1's score string), or None for none.
    """
    event: dict[str, Any] = {
        "messageVersion": "1.0",
        "invocationSource": "DialogCodeHook",
        "userId": user,
        "sessionAttributes": dict(attributes),
        "requestAttributes": None,
        "bot": {"name": BOT_NAME, "alias": "$LATEST", "version": "$LATEST"},
        "outputDialogMode": "Text",
        "currentIntent": {
            "name": intent,
            "slots": dict(slots),
            "slotDetails": {
                name: None if value is None else {"resolutions": [], "originalValue": value}
                for name, value in slots.items()
            },
            "confirmationStatus": confirmation,
        },
        "inputTranscript": text,
        "recentIntentSummaryView": None,
    }
    if sentiment is not None:
        event["sentimentResponse"] = {
            "sentimentLabel": sentiment.label,
            "sentimentScore": format_score_string(sentiment.scores),
        }
    return event


def v2_event(
    *,
    user: str,
    text: str,
    intent: str,
    slots: Mapping[str, str | None],
    confirmation: Confirmation,
    attributes: Mapping[str, str],
    sentiment: Sentiment | None,
) -> dict[str, Any]:
    """One turn as the Lex V2 Lambda event of a dialog code hook (arguments as :func:`v1_event`)."""
    state_intent = {
        "name": intent,
        "slots": {name: v2_slot(value) for name, value in slots.items()},
        "state": "InProgress",
        "confirmationState": confirmation,
    }
    interpretation: dict[str, Any] = {
        "interpretationSource": "Lex",
        "intent": state_intent,
        "nluConfidence": 1.0,
    }
    if sentiment is not None:
        interpretation["sentimentResponse"] = {
            "sentiment": sentiment.label,
            "sentimentScore": {k.lower(): float(v) for k, v in sentiment.scores.items()},
        }
    return {
        "messageVersion": "1.0",
        "invocationSource": "DialogCodeHook",
        "inputMode": "Text",
        "responseContentType": "text/plain; charset=utf-8",
        "sessionId": user,
        "inputTranscript": text,
        "bot": {
            "id": "DELIVERYBT",
            "name": BOT_NAME,
            "aliasId": "TSTALIASID",
            "aliasName": "TestBotAlias",
            "localeId": "en_US",
            "version": "DRAFT",
        },
        "interpretations": [interpretation],
        "requestAttributes": {},
        "sessionState": {
            "sessionAttributes": dict(attributes),
            "activeContexts": [],
            "intent": state_intent,
        },
    }


def play(
    conversation: Conversation,
    version: Literal["v1", "v2"],
    scorer: Scorer,
    policy: Policy,
    *,
    lex_sentiment: bool = True,
) -> list[Exchange]:
    """Plays one conversation against the hook, each event built from the last answer.

    Args:
        conversation: The scripted turns.
        version: The wire format.
        scorer: The sentiment scorer (writes Lex's ``sentimentResponse`` when
            ``lex_sentiment``; otherwise the hook uses it).
        policy: The hook's settings.
        lex_sentiment: Events carry a ``sentimentResponse``.

    Raises:
        EventError: Only on a bug: scripted events are well formed.
    """
    make = v1_event if version == "v1" else v2_event
    attributes: dict[str, str] = {}
    previous: Decision | None = None
    exchanges: list[Exchange] = []
    for turn in conversation.turns:
        slots: dict[str, str | None] = dict.fromkeys(INTENT_SLOTS[turn.intent])
        if previous is not None and previous.intent == turn.intent and previous.action != "Close":
            # Lex keeps an intent's filled slots while the dialog stays in it.
            slots.update({k: v for k, v in previous.slots.items() if k in slots})
        slots.update(turn.slots)
        event = make(
            user=conversation.user,
            text=turn.text,
            intent=turn.intent,
            slots=slots,
            confirmation=turn.confirmation,
            attributes=attributes,
            sentiment=scorer(turn.text) if lex_sentiment else None,
        )
        exchange = respond(event, scorer, policy, version)
        exchanges.append(exchange)
        attributes = dict(exchange.decision.attributes)
        previous = exchange.decision
    return exchanges
