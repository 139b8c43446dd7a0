"""Lex V1 and V2 Lambda events and responses, read into and written from our types.

**Lex V1** (the article's; end of support 2025-09-15): the event has
``currentIntent{name, slots, confirmationStatus}``, ``inputTranscript``,
``sessionAttributes`` and, with sentiment analysis on, ``sentimentResponse
{sentimentLabel, sentimentScore}``, where ``sentimentScore`` is *a string with
unquoted keys*, e.g. ``"{Positive: 0.02,Negative: 0.58,Neutral: 0.32,Mixed: 0.06}"``
(possibly over several lines, numbers like ``2.67E-5``). It is not JSON, so it is
read with a regular expression (:func:`parse_score_string`). The response is
``{"sessionAttributes", "dialogAction": {"type": ElicitSlot | ConfirmIntent | Close,
...}}`` with the message inside ``dialogAction``.

**Lex V2**: the event has ``sessionState{intent{name, slots, state,
confirmationState}, sessionAttributes}`` and ``interpretations[]``, each with an
optional ``sentimentResponse{sentiment, sentimentScore{positive, negative, neutral,
mixed}}`` (real JSON numbers). Slots are objects: ``{"value": {"interpretedValue",
"originalValue", ...}}``. The response is ``{"sessionState": {"dialogAction":
{"type", "slotToElicit"}, "intent": {..., "state"}, "sessionAttributes"},
"messages": [...]}``.

Contents:
    detect_version: ``v1`` or ``v2`` from an event's top-level keys.
    parse_score_string: the V1 ``sentimentScore`` string to four scores.
    format_score_string: the inverse (for scripted V1 events).
    parse_v1, parse_v2: an event to a :class:`~.dialog.Turn`.
    render_v1, render_v2: a :class:`~.dialog.Decision` to a response.
    v2_slot: a plain value as a V2 slot object.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Literal, cast

from deepracer.plugins.sentiment import Sentiment
from deepracer.plugins.sentiment_bot.dialog import (
    INTENT_SLOTS,
    SCORE_KEYS,
    Confirmation,
    Decision,
    EventError,
    Turn,
    check_intent,
)

__all__ = [
    "detect_version",
    "format_score_string",
    "parse_score_string",
    "parse_v1",
    "parse_v2",
    "render_v1",
    "render_v2",
    "v2_slot",
]

_LABELS = ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")
_CONFIRMATIONS = ("None", "Confirmed", "Denied")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_ENTRY = rf"\s*([A-Za-z]+)\s*:\s*({_NUMBER})\s*"
_ENTRY_RE = re.compile(_ENTRY)
# The whole string must be entries between braces: trailing junk is an error, not ignored.
_SCORE_RE = re.compile(rf"\s*\{{{_ENTRY}(?:,{_ENTRY})*,?\s*\}}\s*")
_SCORE_SHAPE = "'{Positive: N,Negative: N,Neutral: N,Mixed: N}' with N from 0 to 1"
_V2_MARKERS = ("sessionState", "interpretations", "sessionId", "proposedNextState")
_V1_MARKERS = ("currentIntent", "userId", "outputDialogMode", "recentIntentSummaryView")


def detect_version(event: Any) -> Literal["v1", "v2"]:
    """``v2`` if the event has V2's keys (``sessionState``, ...), ``v1`` if V1's.

    Raises:
        EventError: Not a JSON object, or neither version's keys.
    """
    if not isinstance(event, Mapping):
        raise EventError("event", f"expected a JSON object, got {type(event).__name__}")
    if any(key in event for key in _V2_MARKERS):
        return "v2"
    if any(key in event for key in _V1_MARKERS):
        return "v1"
    raise EventError(
        "event", "not a Lex event: no currentIntent (Lex V1) and no sessionState (Lex V2)"
    )


def _score(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EventError(where, f"expected a number from 0 to 1, got {value!r}")
    number = float(value)
    if not (math.isfinite(number) and 0.0 <= number <= 1.0):
        raise EventError(where, f"expected a number from 0 to 1, got {value!r}")
    return number


def parse_score_string(
    text: Any, where: str = "sentimentResponse.sentimentScore"
) -> dict[str, float]:
    """Lex V1's ``"{Positive: 0.02,Negative: 0.58,...}"`` to ``{"Positive": 0.02, ...}``.

    Keys are matched case-insensitively; all four must be there, once each.

    Raises:
        EventError: Not a string, not that shape, a key missing or repeated, or a
            score outside [0, 1].
    """
    if not isinstance(text, str):
        raise EventError(
            where, f"expected the string Lex V1 sends, {_SCORE_SHAPE}; got {type(text).__name__}"
        )
    if not _SCORE_RE.fullmatch(text):
        raise EventError(where, f"cannot parse {text[:120]!r}: expected {_SCORE_SHAPE}")
    scores: dict[str, float] = {}
    for key, number in _ENTRY_RE.findall(text.strip()[1:-1]):
        name = key.capitalize()
        if name not in SCORE_KEYS or name in scores:
            problem = "repeated" if name in scores else "unknown"
            raise EventError(where, f"{problem} key {key!r} in {text[:120]!r}")
        scores[name] = _score(float(number), f"{where}.{name}")
    missing = [k for k in SCORE_KEYS if k not in scores]
    if missing:
        raise EventError(where, f"no {', '.join(missing)} in {text[:120]!r}")
    return scores


def format_score_string(scores: Mapping[str, float]) -> str:
    """Four scores as Lex V1 writes them (``repr`` floats: parsing gives them back exactly)."""
    return "{" + ",".join(f"{k}: {float(scores[k])!r}" for k in SCORE_KEYS) + "}"


def _label(value: Any, where: str, scores: Mapping[str, float]) -> Any:
    if value is None:  # no label: the highest score's
        return max(SCORE_KEYS, key=lambda k: scores[k]).upper()
    if value not in _LABELS:
        raise EventError(where, f"expected one of {', '.join(_LABELS)}, got {value!r}")
    return value


def _mapping(value: Any, where: str, *, required: bool = False) -> Mapping[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        shown = "missing" if value is None else f"expected an object, got {type(value).__name__}"
        raise EventError(where, shown)
    return value


def _attributes(value: Any, where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, text in _mapping(value, where).items():
        if not isinstance(text, str):
            raise EventError(
                f"{where}.{key}", f"expected a string (Lex attributes are strings), got {text!r}"
            )
        out[str(key)] = text
    return out


def _confirmation(value: Any, where: str) -> Confirmation:
    if value is None:
        return "None"
    if value not in _CONFIRMATIONS:
        raise EventError(where, f"expected one of {', '.join(_CONFIRMATIONS)}, got {value!r}")
    return cast(Confirmation, value)


def _transcript(event: Mapping[str, Any]) -> str | None:
    text = event.get("inputTranscript")
    if text is not None and not isinstance(text, str):
        raise EventError("inputTranscript", f"expected a string, got {type(text).__name__}")
    return text


def parse_v1(event: Any) -> Turn:
    """A Lex V1 Lambda event to a turn.

    Raises:
        EventError: A missing or malformed field (``currentIntent``, its name, a
            slot, ``sessionAttributes``, ``sentimentResponse.sentimentScore``, ...).
    """
    if not isinstance(event, Mapping):
        raise EventError("event", f"expected a JSON object, got {type(event).__name__}")
    if event.get("currentIntent") is None:
        raise EventError("currentIntent", "missing (a Lex V1 event names its intent there)")
    current = _mapping(event["currentIntent"], "currentIntent")
    intent = check_intent(current.get("name"), "currentIntent.name")
    slots: dict[str, str | None] = {}
    for name, value in _mapping(current.get("slots"), "currentIntent.slots").items():
        if value is not None and not isinstance(value, str):
            raise EventError(
                f"currentIntent.slots.{name}", f"expected a string or null, got {value!r}"
            )
        slots[str(name)] = value
    sentiment = None
    if event.get("sentimentResponse") is not None:
        response = _mapping(event["sentimentResponse"], "sentimentResponse")
        if "sentimentScore" not in response:
            raise EventError("sentimentResponse.sentimentScore", "missing")
        scores = parse_score_string(response["sentimentScore"])
        label = _label(response.get("sentimentLabel"), "sentimentResponse.sentimentLabel", scores)
        sentiment = Sentiment(label, scores)
    return Turn(
        version="v1",
        intent=intent,
        slots=slots,
        confirmation=_confirmation(
            current.get("confirmationStatus"), "currentIntent.confirmationStatus"
        ),
        transcript=_transcript(event),
        attributes=_attributes(event.get("sessionAttributes"), "sessionAttributes"),
        sentiment=sentiment,
    )


def _v2_slot_value(value: Any, where: str) -> str | None:
    if value is None:
        return None
    slot = _mapping(value, where)
    inner = slot.get("value")
    if inner is None:
        return None
    inner = _mapping(inner, f"{where}.value")
    for key in ("interpretedValue", "originalValue"):
        text = inner.get(key)
        if text is not None:
            if not isinstance(text, str):
                raise EventError(f"{where}.value.{key}", f"expected a string, got {text!r}")
            return text
    return None


def _intent_name(item: Mapping[str, Any], where: str) -> Any:
    return _mapping(item.get("intent"), f"{where}.intent").get("name")


def _v2_sentiment(event: Mapping[str, Any], intent: str) -> Sentiment | None:
    interpretations = event.get("interpretations")
    if interpretations is None:
        return None
    if not isinstance(interpretations, list):
        raise EventError(
            "interpretations", f"expected a list, got {type(interpretations).__name__}"
        )
    candidates: list[tuple[int, Mapping[str, Any]]] = []
    for i, item in enumerate(interpretations):
        item = _mapping(item, f"interpretations[{i}]", required=True)
        if item.get("sentimentResponse") is not None:
            candidates.append((i, item))
    if not candidates:
        return None
    # Prefer the interpretation of the intent the session is in; else the first.
    i, item = next(
        ((i, it) for i, it in candidates if _intent_name(it, f"interpretations[{i}]") == intent),
        candidates[0],
    )
    where = f"interpretations[{i}].sentimentResponse"
    response = _mapping(item["sentimentResponse"], where)
    raw = _mapping(response.get("sentimentScore"), f"{where}.sentimentScore", required=True)
    scores = {
        key: _score(raw.get(key.lower()), f"{where}.sentimentScore.{key.lower()}")
        for key in SCORE_KEYS
    }
    return Sentiment(_label(response.get("sentiment"), f"{where}.sentiment", scores), scores)


def parse_v2(event: Any) -> Turn:
    """A Lex V2 Lambda event to a turn.

    Raises:
        EventError: A missing or malformed field (``sessionState``, its intent,
            a slot, ``interpretations[i].sentimentResponse``, ...).
    """
    if not isinstance(event, Mapping):
        raise EventError("event", f"expected a JSON object, got {type(event).__name__}")
    if event.get("sessionState") is None:
        raise EventError("sessionState", "missing (a Lex V2 event carries its intent there)")
    state = _mapping(event["sessionState"], "sessionState")
    if state.get("intent") is None:
        raise EventError("sessionState.intent", "missing")
    current = _mapping(state["intent"], "sessionState.intent")
    intent = check_intent(current.get("name"), "sessionState.intent.name")
    slots = {
        str(name): _v2_slot_value(value, f"sessionState.intent.slots.{name}")
        for name, value in _mapping(current.get("slots"), "sessionState.intent.slots").items()
    }
    return Turn(
        version="v2",
        intent=intent,
        slots=slots,
        confirmation=_confirmation(
            current.get("confirmationState"), "sessionState.intent.confirmationState"
        ),
        transcript=_transcript(event),
        attributes=_attributes(state.get("sessionAttributes"), "sessionState.sessionAttributes"),
        sentiment=_v2_sentiment(event, intent),
    )


def _message(text: str) -> dict[str, str]:
    return {"contentType": "PlainText", "content": text}


def render_v1(decision: Decision) -> dict[str, Any]:
    """A decision as a Lex V1 Lambda response."""
    action: dict[str, Any] = {"type": decision.action}
    if decision.action == "Close":
        action["fulfillmentState"] = decision.fulfillment or "Fulfilled"
    else:
        action["intentName"] = decision.intent
        action["slots"] = dict(decision.slots)
        if decision.action == "ElicitSlot":
            action["slotToElicit"] = decision.slot_to_elicit
    action["message"] = _message(decision.message)
    return {"sessionAttributes": dict(decision.attributes), "dialogAction": action}


def v2_slot(value: str | None) -> dict[str, Any] | None:
    """A plain slot value as Lex V2 writes a scalar slot (None stays None)."""
    if value is None:
        return None
    return {
        "shape": "Scalar",
        "value": {"originalValue": value, "interpretedValue": value, "resolvedValues": [value]},
    }


def render_v2(decision: Decision, event: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A decision as a Lex V2 Lambda response.

    Args:
        decision: The bot's answer.
        event: The V2 event it answers: its slot objects are sent back unchanged
            where our value is the same, and its ``activeContexts`` kept.
    """
    state = _mapping((event or {}).get("sessionState"), "sessionState")
    given = _mapping(state.get("intent"), "sessionState.intent")
    given_slots = _mapping(given.get("slots"), "sessionState.intent.slots")
    same_intent = given.get("name") == decision.intent
    slots: dict[str, Any] = {}
    for name in INTENT_SLOTS[decision.intent]:
        value = decision.slots.get(name)
        original = given_slots.get(name) if same_intent else None
        keep = original is not None and _v2_slot_value(original, name) == value
        slots[name] = original if keep else v2_slot(value)
    action: dict[str, Any] = {"type": decision.action}
    if decision.action == "ElicitSlot":
        action["slotToElicit"] = decision.slot_to_elicit
    intent_state = "InProgress" if decision.action != "Close" else decision.fulfillment
    session: dict[str, Any] = {
        "sessionAttributes": dict(decision.attributes),
        "dialogAction": action,
        "intent": {
            "name": decision.intent,
            "slots": slots,
            "state": intent_state or "Fulfilled",
            "confirmationState": "None",
        },
    }
    if state.get("activeContexts"):
        session["activeContexts"] = state["activeContexts"]
    return {"sessionState": session, "messages": [_message(decision.message)]}
