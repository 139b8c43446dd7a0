"""The delivery bot's dialog logic, independent of the Lex wire format.

One user turn (:class:`Turn`, read from a V1 or V2 event by ``wire``) and its
sentiment become one :class:`Decision`:

1. The sentiment is Lex's (the event's ``sentimentResponse``) or, when Lex's
   sentiment analysis is off, the hook's own scorer's (VADER or Comprehend).
2. Its Negative score is added to the per-intent aggregates of the conversation,
   kept as JSON in the session attribute ``sentimentByIntent``.
3. A turn is *negative* when its Negative score is above the apology threshold;
   ``negativeStreak`` counts negative turns in a row.
4. Negative above the hand-over threshold, or ``k`` negative turns in a row, offers
   the agent: ConfirmIntent ``AgentHandover`` (the interrupted intent is kept in
   ``resumeIntent``, so a "no" carries on where the user was).
5. Otherwise the intent runs (elicit the missing slot, or close with the answer),
   its message prefixed with "Apologies for the inconvenience." on a negative turn.

Session attributes are strings (Lex requires it), so numbers and aggregates are
written as text and JSON. Everything here is pure: same turn, same decision.

Contents:
    EventError: a malformed event or session attribute, naming the field.
    INTENT_SLOTS: the bot's intents and their slots, in elicitation order.
    COMPREHEND_THRESHOLDS, VADER_THRESHOLDS: default thresholds per score scale.
    Policy: thresholds, k and the delivery table.
    Turn: one user turn in neutral form.
    Decision: what the bot answers, and why.
    decide: a turn (and a scorer for turns without Lex sentiment) to a decision.
    aggregates: the ``sentimentByIntent`` attribute read back.
    APOLOGY: the apology prefix.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from deepracer.errors import DeepRacerError, suggest
from deepracer.plugins.sentiment import Sentiment

__all__ = [
    "APOLOGY",
    "ATTR_AGGREGATES",
    "ATTR_RESUME",
    "ATTR_STREAK",
    "COMPREHEND_THRESHOLDS",
    "INTENT_SLOTS",
    "SCORE_KEYS",
    "VADER_THRESHOLDS",
    "Action",
    "Confirmation",
    "Decision",
    "EventError",
    "Policy",
    "Scorer",
    "Turn",
    "aggregates",
    "check_intent",
    "decide",
]

Action = Literal["ElicitSlot", "ConfirmIntent", "Close"]
Confirmation = Literal["None", "Confirmed", "Denied"]
Scorer = Callable[[str], Sentiment]
"""Scores one transcript (``LocalSentiment`` or ``ComprehendSentiment``)."""

INTENT_SLOTS: dict[str, tuple[str, ...]] = {
    "CheckDeliveryStatus": ("trackingNumber",),
    "ChangeDeliveryDate": ("trackingNumber", "deliveryDate"),
    "AgentHandover": (),
    # Lex's built-in fallback: what the user says that matches no intent ("thanks").
    "FallbackIntent": (),
}
"""The bot's intents and their slots, in the order they are elicited."""

APOLOGY = "Apologies for the inconvenience."
ATTR_STREAK = "negativeStreak"
ATTR_AGGREGATES = "sentimentByIntent"
ATTR_RESUME = "resumeIntent"
ATTR_DELIVERY = "delivery:"  # + tracking number: a date changed in this session
SCORE_KEYS = ("Positive", "Negative", "Neutral", "Mixed")


class EventError(DeepRacerError, ValueError):
    """A Lex event that cannot be answered: one message naming the field.

    Attributes:
        field: The dotted path of the bad field (``currentIntent.name``, ...).
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


COMPREHEND_THRESHOLDS = (0.5, 0.8)
"""Apology and hand-over thresholds for Comprehend's scores (Lex's ``sentimentResponse``
is Comprehend's): the article's sample first message (Negative 0.63) gets an apology,
not an agent. The article names its thresholds but gives no values; these are ours."""
VADER_THRESHOLDS = (0.2, 0.45)
"""The same for VADER, whose Negative (a share of words) runs lower on the same text."""


@dataclass(frozen=True)
class Policy:
    """The dialog hook's settings (default thresholds: :data:`COMPREHEND_THRESHOLDS`).

    Attributes:
        apology_threshold: Negative above this: apologise; the turn is negative.
        handover_threshold: Negative above this: offer the agent.
        handover_turns: k negative turns in a row also offer the agent (0: never).
        deliveries: Tracking number -> delivery date.
    """

    apology_threshold: float = COMPREHEND_THRESHOLDS[0]
    handover_threshold: float = COMPREHEND_THRESHOLDS[1]
    handover_turns: int = 3
    deliveries: Mapping[str, str] = field(
        default_factory=lambda: {"48213": "2019-11-27", "51377": "2019-12-02"}
    )

    def __post_init__(self) -> None:
        if not 0 <= self.apology_threshold < self.handover_threshold <= 1:
            raise ValueError(
                "expected 0 <= apology_threshold < handover_threshold <= 1, got"
                f" {self.apology_threshold:g} and {self.handover_threshold:g}"
            )
        if self.handover_turns < 0:
            raise ValueError(f"handover_turns: expected >= 0, got {self.handover_turns}")


@dataclass(frozen=True)
class Turn:
    """One user turn, whichever Lex version sent it.

    Attributes:
        version: ``v1`` or ``v2``.
        intent: The recognised intent (one of :data:`INTENT_SLOTS`).
        slots: Slot -> value (None: not filled yet).
        confirmation: The user's answer to a ConfirmIntent (``None`` if none).
        transcript: What the user said (``inputTranscript``).
        attributes: Session attributes (strings).
        sentiment: Lex's sentiment of the turn, or None when Lex sent none.
    """

    version: Literal["v1", "v2"]
    intent: str
    slots: Mapping[str, str | None]
    confirmation: Confirmation
    transcript: str | None
    attributes: Mapping[str, str]
    sentiment: Sentiment | None


@dataclass(frozen=True)
class Decision:
    """The bot's answer to one turn.

    Attributes:
        action: ElicitSlot, ConfirmIntent or Close.
        intent: The intent the answer is about (AgentHandover for an offer).
        slots: That intent's slots.
        slot_to_elicit: The slot asked for (ElicitSlot).
        message: What the bot says.
        fulfillment: ``Fulfilled`` or ``Failed`` (Close).
        attributes: The session attributes to send back.
        sentiment: The turn's sentiment.
        sentiment_source: ``lex`` (from the event) or ``hook`` (scored here).
        apology: The message starts with :data:`APOLOGY`.
        handover: Why the agent was offered: ``threshold``, ``streak``, ``asked``
            (the user asked for one); empty if not offered.
        streak: Negative turns in a row after this turn.
    """

    action: Action
    intent: str
    slots: dict[str, str | None]
    slot_to_elicit: str | None
    message: str
    fulfillment: Literal["Fulfilled", "Failed"] | None
    attributes: dict[str, str]
    sentiment: Sentiment
    sentiment_source: Literal["lex", "hook"]
    apology: bool
    handover: Literal["", "threshold", "streak", "asked"]
    streak: int


def check_intent(name: Any, where: str) -> str:
    """The intent name, or an :class:`EventError` for an unknown or missing one."""
    if not isinstance(name, str) or not name:
        raise EventError(where, f"expected an intent name, got {name!r}")
    if name not in INTENT_SLOTS:
        known = list(INTENT_SLOTS)
        raise EventError(
            where, f"unknown intent {name!r}.{suggest(name, known)} Known: {', '.join(known)}"
        )
    return name


def _streak(attributes: Mapping[str, str]) -> int:
    text = attributes.get(ATTR_STREAK, "0")
    if not text.isdigit():
        raise EventError(
            f"sessionAttributes.{ATTR_STREAK}", f"expected a whole number >= 0, got {text!r}"
        )
    return int(text)


def aggregates(attributes: Mapping[str, str]) -> dict[str, dict[str, float]]:
    """The ``sentimentByIntent`` attribute: intent -> {turns, Positive, ...} (sums).

    Raises:
        EventError: The attribute is not a JSON object of intent -> numbers.
    """
    text = attributes.get(ATTR_AGGREGATES)
    if text is None:
        return {}
    where = f"sessionAttributes.{ATTR_AGGREGATES}"
    try:
        data = json.loads(text)
    except ValueError:
        raise EventError(where, f"expected JSON, got {text[:80]!r}") from None
    if not isinstance(data, dict):
        raise EventError(where, "expected a JSON object of intent -> sums")
    out: dict[str, dict[str, float]] = {}
    for intent, sums in data.items():
        if not isinstance(sums, dict) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in sums.values()
        ):
            raise EventError(f"{where}.{intent}", f"expected numbers, got {sums!r}")
        out[str(intent)] = {str(k): float(v) for k, v in sums.items()}
    return out


def _resume(attributes: Mapping[str, str]) -> tuple[str, dict[str, str | None]] | None:
    text = attributes.get(ATTR_RESUME)
    if not text:
        return None
    where = f"sessionAttributes.{ATTR_RESUME}"
    try:
        data = json.loads(text)
    except ValueError:
        raise EventError(where, f"expected JSON, got {text[:80]!r}") from None
    if not isinstance(data, dict) or not isinstance(data.get("slots", {}), dict):
        raise EventError(where, 'expected {"intent": NAME, "slots": {...}}')
    intent = check_intent(data.get("intent"), f"{where}.intent")
    slots = {str(k): (None if v is None else str(v)) for k, v in data.get("slots", {}).items()}
    return intent, slots


@dataclass
class _Reply:
    action: Action
    intent: str
    slots: dict[str, str | None]
    message: str
    slot_to_elicit: str | None = None
    fulfillment: Literal["Fulfilled", "Failed"] | None = None


def _delivery_date(number: str, attributes: Mapping[str, str], policy: Policy) -> str | None:
    # A date changed earlier in this session wins over the table.
    return attributes.get(ATTR_DELIVERY + number) or policy.deliveries.get(number)


def _run_intent(
    intent: str,
    slots: dict[str, str | None],
    sentiment: Sentiment,
    attributes: dict[str, str],
    policy: Policy,
) -> _Reply:
    """The intent's own logic: elicit what is missing, or answer and close."""
    slots = {name: slots.get(name) for name in INTENT_SLOTS[intent]}
    if intent == "FallbackIntent":
        if sentiment.label == "POSITIVE":  # "thanks" after an answer
            return _Reply("Close", intent, slots, "Glad I could help.", fulfillment="Fulfilled")
        return _Reply(
            "Close",
            intent,
            slots,
            "I can only check where a parcel is or change its delivery date.",
            fulfillment="Failed",
        )
    number = slots.get("trackingNumber")
    if not number:
        ask = "Can I get your tracking number?"
        if intent == "ChangeDeliveryDate":
            ask = "Which parcel is it? Can I get your tracking number?"
        return _Reply("ElicitSlot", intent, slots, ask, slot_to_elicit="trackingNumber")
    date = _delivery_date(number, attributes, policy)
    if date is None:
        slots["trackingNumber"] = None
        return _Reply(
            "ElicitSlot",
            intent,
            slots,
            f"I can't find a parcel with tracking number {number}. Could you check the number?",
            slot_to_elicit="trackingNumber",
        )
    if intent == "CheckDeliveryStatus":
        return _Reply(
            "Close",
            intent,
            slots,
            f"Got it. Parcel {number} should reach your home address on {date}.",
            fulfillment="Fulfilled",
        )
    new_date = slots.get("deliveryDate")
    if not new_date:
        return _Reply(
            "ElicitSlot",
            intent,
            slots,
            f"Parcel {number} is due on {date}. Which day would suit you better?",
            slot_to_elicit="deliveryDate",
        )
    attributes[ATTR_DELIVERY + number] = new_date
    return _Reply(
        "Close",
        intent,
        slots,
        f"Done. Parcel {number} will now arrive on {new_date}.",
        fulfillment="Fulfilled",
    )


def _add(
    sums: dict[str, dict[str, float]], intent: str, sentiment: Sentiment
) -> dict[str, dict[str, float]]:
    entry = dict(sums.get(intent, {}))
    entry["turns"] = entry.get("turns", 0.0) + 1
    for key in SCORE_KEYS:
        # Rounded so the attribute stays short and identical across runs and formats.
        entry[key] = round(entry.get(key, 0.0) + float(sentiment.scores.get(key, 0.0)), 6)
    return {**sums, intent: entry}


def decide(turn: Turn, score: Scorer | None, policy: Policy) -> Decision:
    """The bot's answer to one turn.

    Args:
        turn: The user turn.
        score: Scores the transcript when the event carried no sentiment (Lex's
            sentiment analysis off); may be None when every event carries one.
        policy: Thresholds, k and the delivery table.

    Raises:
        EventError: A session attribute is malformed, or the event has no
            sentiment and no transcript (or no scorer) to compute one.
    """
    attributes = dict(turn.attributes)
    streak = _streak(attributes)
    sums = aggregates(attributes)
    resume = _resume(attributes)
    sentiment = turn.sentiment
    source: Literal["lex", "hook"] = "lex"
    if sentiment is None:
        if turn.transcript is None:
            raise EventError("inputTranscript", "missing, and the event has no sentimentResponse")
        if score is None:
            raise EventError("sentimentResponse", "missing, and no sentiment scorer was given")
        sentiment, source = score(turn.transcript), "hook"
    negative = sentiment.negative
    sums = _add(sums, turn.intent, sentiment)
    attributes[ATTR_AGGREGATES] = json.dumps(
        {k: {**v, "turns": int(v["turns"])} for k, v in sums.items()}, sort_keys=True
    )
    is_negative = negative > policy.apology_threshold
    streak = streak + 1 if is_negative else 0
    handover: Literal["", "threshold", "streak", "asked"] = ""
    if turn.intent != "AgentHandover":
        if negative > policy.handover_threshold:
            handover = "threshold"
        elif policy.handover_turns and streak >= policy.handover_turns:
            handover = "streak"
    if handover or (turn.intent == "AgentHandover" and turn.confirmation == "None"):
        if handover:  # offered by us: remember where the user was
            attributes[ATTR_RESUME] = json.dumps(
                {"intent": turn.intent, "slots": dict(turn.slots)}, sort_keys=True
            )
        else:
            handover = "asked"
        attributes[ATTR_STREAK] = "0"  # a "no" starts a fresh count
        question = "Would you like me to connect you with an agent?"
        apology = handover != "asked" or is_negative
        return Decision(
            action="ConfirmIntent",
            intent="AgentHandover",
            slots={},
            slot_to_elicit=None,
            message=f"{APOLOGY} {question}" if apology else question,
            fulfillment=None,
            attributes=attributes,
            sentiment=sentiment,
            sentiment_source=source,
            apology=apology,
            handover=handover,
            streak=0,
        )
    if turn.intent == "AgentHandover":  # the user's answer to the offer
        attributes.pop(ATTR_RESUME, None)
        streak = 0
        if turn.confirmation == "Confirmed":
            reply = _Reply(
                "Close", "AgentHandover", {}, "Connecting you with an agent now.", None, "Fulfilled"
            )
        elif resume is not None:  # declined: carry on with what the user was doing
            reply = _run_intent(resume[0], resume[1], sentiment, attributes, policy)
        else:
            reply = _Reply(
                "Close", "AgentHandover", {}, "All right. I'm here if you need me.", None, "Failed"
            )
    else:
        reply = _run_intent(turn.intent, dict(turn.slots), sentiment, attributes, policy)
    attributes[ATTR_STREAK] = str(streak)
    return Decision(
        action=reply.action,
        intent=reply.intent,
        slots=reply.slots,
        slot_to_elicit=reply.slot_to_elicit,
        message=f"{APOLOGY} {reply.message}" if is_negative else reply.message,
        fulfillment=reply.fulfillment,
        attributes=attributes,
        sentiment=sentiment,
        sentiment_source=source,
        apology=is_negative,
        handover="",
        streak=streak,
    )
