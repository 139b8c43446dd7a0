"""The sentiment_bot plugin: the article's conversation, both Lex formats, bad events, AWS.

Reference (the article): the delivery conversation apologises on its first turn
("... It's so late.") and not on "Great, thanks."; a very negative message hands
over to an agent. The fixtures under ``fixtures/sentiment_bot/`` are our own events
in the shapes Lex sends (V1's multi-line score string with a Java-style exponent).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("vaderSentiment")

from deepracer.cli import main as cli
from deepracer.errors import ConfigError, DeepRacerError
from deepracer.plugins import AwsConfig, PluginExperiment, load_plugin_experiment, run_experiment
from deepracer.plugins.sentiment import LocalSentiment, Sentiment
from deepracer.plugins.sentiment_bot import SentimentBotConfig, plugin
from deepracer.plugins.sentiment_bot.batch import run_events
from deepracer.plugins.sentiment_bot.dialog import (
    COMPREHEND_THRESHOLDS,
    VADER_THRESHOLDS,
    EventError,
    Policy,
)
from deepracer.plugins.sentiment_bot.hook import (
    handle,
    handle_v1,
    handle_v2,
    lambda_handler,
    policy_from_env,
    respond,
)
from deepracer.plugins.sentiment_bot.script import load_script, play, v1_event, v2_event
from deepracer.plugins.sentiment_bot.wire import format_score_string, parse_score_string
from tests.cloud.conftest import aws_env, mock_aws  # noqa: F401
from tests.plugins.helpers import offline, read_metrics

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENT = ROOT / "experiments" / "sentiment_bot.yaml"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "sentiment_bot"
POLICY = Policy(*VADER_THRESHOLDS)  # for turns scored by VADER


def _fixture(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / name).read_text()))


def _scores(negative: float) -> Sentiment:
    rest = (1.0 - negative) / 2
    label: Any = "NEGATIVE" if negative > 0.5 else "NEUTRAL"
    return Sentiment(label, {"Positive": rest, "Negative": negative, "Neutral": rest, "Mixed": 0.0})


def _v1(intent: str = "CheckDeliveryStatus", **kwargs: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "user": "u",
        "text": "Where is my parcel?",
        "intent": intent,
        "slots": {"trackingNumber": None} if intent == "CheckDeliveryStatus" else {},
        "confirmation": "None",
        "attributes": {},
        "sentiment": _scores(0.0),
    }
    args.update(kwargs)
    return v1_event(**args)


@pytest.fixture(scope="module")
def scorer() -> LocalSentiment:
    return LocalSentiment()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The shipped experiment through the CLI, with every socket refused."""
    out = tmp_path_factory.mktemp("bot") / "run"
    with offline():
        assert cli(["run", str(EXPERIMENT), "--out", str(out)]) == 0
    yield out


# -- the article's reference -------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("lex_sentiment", [True, False])
def test_the_articles_conversation_apologises_on_turn_one_only(
    scorer: LocalSentiment, version: Any, lex_sentiment: bool
) -> None:
    article = load_script().conversations[0]
    assert article.reference
    first, second, thanks = play(article, version, scorer, POLICY, lex_sentiment=lex_sentiment)
    assert first.decision.action == "ElicitSlot"
    assert first.decision.slot_to_elicit == "trackingNumber"
    assert first.decision.message.startswith("Apologies for the inconvenience.")
    assert first.decision.sentiment.label == "NEGATIVE"
    assert first.decision.sentiment_source == ("lex" if lex_sentiment else "hook")
    assert second.decision.action == "Close" and "2019-11-27" in second.decision.message
    assert not second.decision.apology and not thanks.decision.apology
    assert thanks.decision.sentiment.label == "POSITIVE"


def test_without_the_domain_lexicon_turn_one_gets_no_apology() -> None:
    article = load_script().conversations[0]
    first = play(article, "v1", LocalSentiment(lexicon={}), POLICY)[0]
    assert first.decision.sentiment.label == "NEUTRAL" and not first.decision.apology


def test_v1_and_v2_decide_the_same_for_every_scripted_turn(scorer: LocalSentiment) -> None:
    for conversation in load_script().conversations:
        for a, b in zip(
            play(conversation, "v1", scorer, POLICY),
            play(conversation, "v2", scorer, POLICY),
            strict=True,
        ):
            assert a.decision == replace(b.decision, sentiment=a.decision.sentiment)
            assert a.decision.sentiment.scores == b.decision.sentiment.scores


# -- wire formats --------------------------------------------------------------------------


def test_the_v1_score_string_is_parsed_with_a_regex_not_json() -> None:
    text = _fixture("v1_event.json")["sentimentResponse"]["sentimentScore"]
    with pytest.raises(ValueError):
        json.loads(text)  # unquoted keys: not JSON
    assert parse_score_string(text) == {
        "Positive": 0.0071,
        "Negative": 0.612,
        "Neutral": 0.3808,
        "Mixed": 1.3e-5,
    }
    compact = "{Positive: 0.02,Negative: 0.58,Neutral: 0.32,Mixed: 0.06}"
    assert parse_score_string(compact)["Negative"] == 0.58
    assert parse_score_string("{mixed: 0, NEUTRAL: 1, negative: 0., positive: .0}")["Neutral"] == 1
    scores = {"Positive": 0.1, "Negative": 2.6722797e-05, "Neutral": 0.3, "Mixed": 1 / 3}
    assert parse_score_string(format_score_string(scores)) == scores  # exact round trip


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{Positive: high, Negative: 0.5, Neutral: 0.5, Mixed: 0}", "cannot parse"),
        ("{Positive: 0.1, Negative: 0.8, Neutral: 0.1}", "no Mixed"),
        ("{Positive: 0.1, Negative: 0.8, Neutral: 0.1, Mixed: 0} trailing", "cannot parse"),
        ("{Positive: 0.1, Negative: 0.8, Negative: 0.1, Mixed: 0}", "repeated key"),
        ("{Positive: 0.1, Angry: 0.8, Neutral: 0.1, Mixed: 0}", "unknown key"),
        ("{Positive: 0.1, Negative: 1.8, Neutral: 0.1, Mixed: 0}", "from 0 to 1"),
        ("", "cannot parse"),
    ],
)
def test_a_score_string_that_does_not_parse_names_the_field(text: str, problem: str) -> None:
    event = _fixture("v1_event.json")
    event["sentimentResponse"]["sentimentScore"] = text
    with pytest.raises(EventError, match=problem) as info:
        handle_v1(event, None)
    assert info.value.field.startswith("sentimentResponse.sentimentScore")


def test_handle_v1_answers_the_fixture_event_with_an_apology() -> None:
    response = handle_v1(_fixture("v1_event.json"), None)  # Lex's sentiment: no scorer needed
    action = response["dialogAction"]
    assert action["type"] == "ElicitSlot" and action["slotToElicit"] == "trackingNumber"
    assert action["intentName"] == "CheckDeliveryStatus"
    assert action["message"] == {
        "contentType": "PlainText",
        "content": "Apologies for the inconvenience. Can I get your tracking number?",
    }
    attributes = response["sessionAttributes"]
    assert attributes["negativeStreak"] == "1"
    sums = json.loads(attributes["sentimentByIntent"])["CheckDeliveryStatus"]
    assert sums["turns"] == 1 and sums["Negative"] == pytest.approx(0.612)


def test_handle_v2_answers_the_fixture_event_in_v2_shape() -> None:
    event = _fixture("v2_event.json")
    response = handle_v2(event, None)
    state = response["sessionState"]
    assert state["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "trackingNumber"}
    assert state["intent"]["name"] == "CheckDeliveryStatus"
    assert state["intent"]["state"] == "InProgress"
    assert response["messages"][0]["content"].startswith("Apologies for the inconvenience.")
    assert state["sessionAttributes"]["negativeStreak"] == "1"
    # The interpretation of the session's intent carries the sentiment, not the fallback's.
    assert respond(event, None).decision.sentiment.negative == pytest.approx(0.612)


def test_v2_slot_objects_are_read_and_sent_back() -> None:
    event = v2_event(
        user="u",
        text="48213.",
        intent="CheckDeliveryStatus",
        slots={"trackingNumber": "48213"},
        confirmation="None",
        attributes={},
        sentiment=_scores(0.0),
    )
    event["sessionState"]["intent"]["slots"]["trackingNumber"]["value"]["interpretedValue"] = (
        "48213"
    )
    event["sessionState"]["intent"]["slots"]["trackingNumber"]["value"]["originalValue"] = (
        "4 8 2 1 3"
    )
    response = handle(event, None)
    assert response["sessionState"]["dialogAction"]["type"] == "Close"
    assert response["sessionState"]["intent"]["state"] == "Fulfilled"
    slot = response["sessionState"]["intent"]["slots"]["trackingNumber"]
    assert slot["value"]["originalValue"] == "4 8 2 1 3"  # the event's own object, unchanged


# -- the dialog logic ----------------------------------------------------------------------


def test_a_very_negative_turn_offers_the_agent_and_a_no_carries_on() -> None:
    event = _v1(slots={"trackingNumber": "48213"}, sentiment=_scores(0.9))
    offer = handle_v1(event, None)
    action = offer["dialogAction"]
    assert action["type"] == "ConfirmIntent" and action["intentName"] == "AgentHandover"
    assert action["slots"] == {}
    assert action["message"]["content"].startswith("Apologies for the inconvenience.")
    attributes = offer["sessionAttributes"]
    assert json.loads(attributes["resumeIntent"])["intent"] == "CheckDeliveryStatus"
    denied = _v1("AgentHandover", confirmation="Denied", attributes=attributes)
    answer = handle_v1(denied, None)["dialogAction"]
    assert answer["type"] == "Close" and "2019-11-27" in answer["message"]["content"]
    confirmed = _v1("AgentHandover", confirmation="Confirmed", attributes=attributes)
    answer = handle_v1(confirmed, None)["dialogAction"]
    assert answer == {
        "type": "Close",
        "fulfillmentState": "Fulfilled",
        "message": {"contentType": "PlainText", "content": "Connecting you with an agent now."},
    }


def test_asking_for_an_agent_is_confirmed_without_an_apology() -> None:
    exchange = respond(_v1("AgentHandover", slots={}), None)
    assert exchange.decision.handover == "asked" and not exchange.decision.apology
    assert exchange.response["dialogAction"]["type"] == "ConfirmIntent"
    assert "resumeIntent" not in exchange.response["sessionAttributes"]
    # A "no" with nothing to resume closes politely.
    no = _v1("AgentHandover", slots={}, confirmation="Denied")
    assert handle_v1(no, None)["dialogAction"]["fulfillmentState"] == "Failed"


def test_k_negative_turns_in_a_row_offer_the_agent() -> None:
    mild = _scores(0.6)  # above the apology threshold, below the hand-over one
    before = {"negativeStreak": "2"}
    offer = handle_v1(_v1(sentiment=mild, attributes=before), None)["dialogAction"]
    assert offer["type"] == "ConfirmIntent"
    assert respond(_v1(sentiment=mild, attributes=before), None).decision.handover == "streak"
    # A calm turn resets the streak; k = 0 turns the rule off.
    calm = handle_v1(_v1(sentiment=_scores(0.0), attributes=before), None)
    assert calm["sessionAttributes"]["negativeStreak"] == "0"
    off = Policy(handover_turns=0)
    answer = handle_v1(_v1(sentiment=mild, attributes={"negativeStreak": "9"}), None, off)
    assert answer["dialogAction"]["type"] == "ElicitSlot"
    assert answer["sessionAttributes"]["negativeStreak"] == "10"


def test_thresholds_are_strict_and_change_date_is_kept_in_the_session() -> None:
    assert Policy().apology_threshold == COMPREHEND_THRESHOLDS[0]  # Lex's scores by default
    at = _v1(sentiment=_scores(COMPREHEND_THRESHOLDS[0]))
    assert not respond(at, None).decision.apology  # "above", as the article's `>`
    change = _v1(
        "ChangeDeliveryDate",
        slots={"trackingNumber": "48213", "deliveryDate": "2019-12-06"},
    )
    done = handle_v1(change, None)
    assert done["dialogAction"]["message"]["content"].endswith("arrive on 2019-12-06.")
    check = _v1(slots={"trackingNumber": "48213"}, attributes=done["sessionAttributes"])
    assert "2019-12-06" in handle_v1(check, None)["dialogAction"]["message"]["content"]


def test_the_hook_scores_events_without_lex_sentiment(scorer: LocalSentiment) -> None:
    event = _v1(text="Where is my parcel? It's so late.", sentiment=None)
    exchange = respond(event, scorer, POLICY)
    assert exchange.decision.sentiment_source == "hook" and exchange.decision.apology
    with pytest.raises(EventError, match=r"^sentimentResponse: missing, and no sentiment scorer"):
        handle_v1(event, None)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda e: e.pop("currentIntent"), "currentIntent", "missing"),
        (
            lambda e: e["currentIntent"].update(name="CheckDeliveryStatuss"),
            "currentIntent.name",
            "Did you mean 'CheckDeliveryStatus'",
        ),
        (lambda e: e["currentIntent"].update(name="OrderPizza"), "currentIntent.name", "Known:"),
        (
            lambda e: e["currentIntent"]["slots"].update(trackingNumber=48213),
            "currentIntent.slots.trackingNumber",
            "a string or null",
        ),
        (
            lambda e: e["currentIntent"].update(confirmationStatus="Maybe"),
            "currentIntent.confirmationStatus",
            "Confirmed",
        ),
        (
            lambda e: e.update(sessionAttributes={"negativeStreak": 2}),
            "sessionAttributes.negativeStreak",
            "attributes are strings",
        ),
        (
            lambda e: e.update(sessionAttributes={"negativeStreak": "two"}),
            "sessionAttributes.negativeStreak",
            "whole number",
        ),
        (
            lambda e: e.update(sessionAttributes={"sentimentByIntent": "{oops"}),
            "sessionAttributes.sentimentByIntent",
            "expected JSON",
        ),
        (
            lambda e: e["sentimentResponse"].update(sentimentLabel="ANGRY"),
            "sentimentResponse.sentimentLabel",
            "NEGATIVE",
        ),
        (
            lambda e: e["sentimentResponse"].pop("sentimentScore"),
            "sentimentResponse.sentimentScore",
            "missing",
        ),
    ],
)
def test_a_malformed_v1_event_gets_one_error_naming_the_field(
    change: Any, field: str, message: str
) -> None:
    event = _fixture("v1_event.json")
    change(event)
    with pytest.raises(EventError, match=message) as info:
        handle_v1(event, LocalSentiment())
    assert info.value.field == field and str(info.value).startswith(f"{field}: ")
    assert isinstance(info.value, DeepRacerError)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e.pop("sessionState"), "sessionState"),
        (lambda e: e["sessionState"].pop("intent"), "sessionState.intent"),
        (lambda e: e["sessionState"]["intent"].update(name="Nope"), "sessionState.intent.name"),
        (
            lambda e: e["sessionState"]["intent"]["slots"].update(trackingNumber="48213"),
            "sessionState.intent.slots.trackingNumber",
        ),
        (
            lambda e: e["interpretations"][0]["sentimentResponse"]["sentimentScore"].pop(
                "negative"
            ),
            "interpretations[0].sentimentResponse.sentimentScore.negative",
        ),
        (lambda e: e.update(interpretations={}), "interpretations"),
    ],
)
def test_a_malformed_v2_event_gets_one_error_naming_the_field(change: Any, field: str) -> None:
    event = _fixture("v2_event.json")
    change(event)
    with pytest.raises(EventError) as info:
        handle_v2(event, None)
    assert info.value.field == field


def test_an_event_of_neither_version_is_refused() -> None:
    with pytest.raises(EventError, match=r"^event: not a Lex event"):
        handle({"hello": "world"}, None)
    with pytest.raises(EventError, match=r"^event: expected a JSON object"):
        handle([1, 2], None)  # type: ignore[arg-type]


# -- the Lambda ------------------------------------------------------------------------------


def test_lambda_handler_detects_the_version_and_reads_its_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    v1 = lambda_handler(_fixture("v1_event.json"), None)
    assert v1["dialogAction"]["type"] == "ElicitSlot"
    v2 = lambda_handler(_fixture("v2_event.json"), None)
    assert v2["sessionState"]["dialogAction"]["type"] == "ElicitSlot"
    monkeypatch.setenv("HANDOVER_THRESHOLD", "0.6")
    assert lambda_handler(_fixture("v1_event.json"), None)["dialogAction"]["type"] == (
        "ConfirmIntent"
    )
    # Without Lex's sentiment, the local scorer (built on first need) scores it.
    monkeypatch.setenv("SENTIMENT_SCORER", "local")
    quiet = _fixture("v1_event.json")
    quiet.pop("sentimentResponse")
    assert "Apologies" in lambda_handler(quiet, None)["dialogAction"]["message"]["content"]
    monkeypatch.setenv("HANDOVER_THRESHOLD", "high")
    with pytest.raises(DeepRacerError, match="HANDOVER_THRESHOLD: expected a number"):
        lambda_handler(quiet, None)


def test_the_lambdas_comprehend_client_comes_from_the_aws_layer(
    mock_aws: None,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from deepracer.plugins.sentiment_bot import hook

    monkeypatch.setattr(hook, "_scorers", {})
    monkeypatch.delenv("SENTIMENT_SCORER", raising=False)  # comprehend, the default
    quiet = _fixture("v1_event.json")
    quiet.pop("sentimentResponse")
    assert lambda_handler(quiet, None)["dialogAction"]["type"]  # moto's Comprehend answered
    client = hook._scorers["comprehend"].client  # type: ignore[attr-defined]
    assert client.meta.region_name == "us-east-1"  # AWS_REGION, as in a Lambda
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 6}


def test_policy_from_env_refuses_bad_values() -> None:
    assert policy_from_env({}) == Policy()
    assert policy_from_env({"SENTIMENT_SCORER": "local"}) == Policy(*VADER_THRESHOLDS)
    with pytest.raises(DeepRacerError, match="SENTIMENT_SCORER: expected comprehend or local"):
        policy_from_env({"SENTIMENT_SCORER": "vader"})
    assert policy_from_env({"DELIVERIES": '{"1": "today"}'}).deliveries == {"1": "today"}
    with pytest.raises(DeepRacerError, match="HANDOVER_TURNS"):
        policy_from_env({"HANDOVER_TURNS": "2.5"})
    with pytest.raises(DeepRacerError, match="apology_threshold < handover_threshold"):
        policy_from_env({"APOLOGY_THRESHOLD": "0.7", "HANDOVER_THRESHOLD": "0.5"})
    with pytest.raises(DeepRacerError, match="DELIVERIES"):
        policy_from_env({"DELIVERIES": "[1]"})


# -- batches ----------------------------------------------------------------------------------


def test_a_batch_skips_and_reports_bad_lines_and_answers_the_rest(
    tmp_path: Path, scorer: LocalSentiment
) -> None:
    outcome = run_events(FIXTURES / "events.jsonl", tmp_path, scorer, POLICY)
    assert outcome.lines == 8 and outcome.answered == 3  # line 4 is blank
    assert [e["line"] for e in outcome.errors] == [5, 6, 7, 8, 9]
    assert [e["field"] for e in outcome.errors] == [
        "event",
        "currentIntent.name",
        "sentimentResponse.sentimentScore",
        "sessionState",
        "currentIntent",
    ]
    assert outcome.errors[1]["error"].startswith("line 6: currentIntent.name: unknown intent")
    rows = [json.loads(x) for x in outcome.output.read_text().splitlines()]
    assert [r["line"] for r in rows] == [1, 2, 3, 5, 6, 7, 8, 9]
    assert [r.get("version") for r in rows[:3]] == ["v1", "v1", "v2"]
    assert outcome.exchanges[1][1].decision.sentiment_source == "hook"


def test_a_missing_events_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sentiment_bot.events: .*nope.jsonl: file not found"):
        run_events(tmp_path / "nope.jsonl", tmp_path, None, POLICY)


# -- configuration and scripts ----------------------------------------------------------------


def test_config_checks_name_the_field(tmp_path: Path) -> None:
    def load(**section: Any) -> Any:
        path = tmp_path / "e.yaml"
        path.write_text(json.dumps({"kind": "sentiment_bot", "sentiment_bot": section}))
        return load_plugin_experiment(path)

    with pytest.raises(
        ConfigError, match=r"sentiment_bot: handover_threshold \(0.3\) must be above"
    ):
        load(apology_threshold=0.4, handover_threshold=0.3)
    with pytest.raises(ConfigError, match=r"sentiment_bot.lexicon: expected VADER valences"):
        load(lexicon={"late": -9})
    with pytest.raises(ConfigError, match=r"sentiment_bot.lexicon: expected single words"):
        load(lexicon={"so late": -1})
    with pytest.raises(ConfigError, match=r"sentiment_bot.apology_threshold: expected a number"):
        load(apology_threshold=1.5)
    with pytest.raises(ConfigError, match=r"Did you mean 'handover_turns'"):
        load(handover_turn=2)
    with pytest.raises(ConfigError, match=r"sentiment_bot.wire_format: expected one of"):
        load(wire_format="v3")


def test_a_bad_script_names_the_file_and_the_turn() -> None:
    with pytest.raises(ConfigError, match=r"bad_script.yaml: conversations\[0\].turns\[1\].intent"):
        load_script(FIXTURES / "bad_script.yaml")


def test_listing_plugins_imports_neither_the_hook_nor_vader() -> None:
    code = (
        "import sys, deepracer.plugins.sentiment_bot as b; "
        "assert b.plugin.name == 'sentiment_bot'; "
        "assert 'vaderSentiment' not in sys.modules; "
        "assert 'deepracer.plugins.sentiment_bot.hook' not in sys.modules; "
        "assert callable(b.handle_v1)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# -- the experiment ---------------------------------------------------------------------------


def test_the_shipped_experiment_runs_offline_and_reports(run_dir: Path) -> None:
    for name in (
        "report.md",
        "metrics.json",
        "negative_scores.png",
        "turns.json",
        "conversation_v1.jsonl",
        "conversation_v2.jsonl",
        "demo_events.jsonl",
        "demo_events.out.jsonl",
        "events_errors.json",
    ):
        assert (run_dir / name).stat().st_size > 0, name
    m = read_metrics(run_dir)
    assert m["reference_turn1_apology"] == 1 and m["reference_thanks_apology"] == 0
    assert m["reference_ok"] == 1 and m["expectations_met"] == m["expectations_checked"] == 12
    assert m["handovers_threshold"] == 1 and m["handovers_streak"] == 1
    assert m["apologies"] == 3 and m["v1_v2_mismatches"] == 0
    assert m["negative_mean_ChangeDeliveryDate"] > m["negative_mean_CheckDeliveryStatus"] > 0
    assert m["reference_turn1_negative_without_lexicon"] == 0
    assert m["events_skipped"] == 6 and m["events_answered"] == m["events_lines"] - 6
    report = (run_dir / "report.md").read_text()
    assert '| Apology on "Great, thanks." | no (0) | 0 |' in report
    assert "The article's expected behaviour is reproduced." in report
    assert "line 11: sentimentResponse.sentimentScore: cannot parse" in report


def test_the_run_is_deterministic(run_dir: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    assert (
        cli(["run", str(EXPERIMENT), "--out", str(again), "--set", 'sentiment_bot.events=""']) == 0
    )
    assert (again / "turns.json").read_text() == (run_dir / "turns.json").read_text()
    for name in ("conversation_v1.jsonl", "conversation_v2.jsonl"):
        assert (again / name).read_bytes() == (run_dir / name).read_bytes()
    first, second = read_metrics(run_dir), read_metrics(again)
    same = set(first) & set(second) - {"seconds"}
    assert {k: first[k] for k in same} == {k: second[k] for k in same}


def test_lex_sentiment_off_gives_the_same_turns(run_dir: Path, tmp_path: Path) -> None:
    experiment, found = load_plugin_experiment(
        EXPERIMENT, ["sentiment_bot.lex_sentiment=false", 'sentiment_bot.events=""']
    )
    result = run_experiment(experiment, found, tmp_path / "quiet", echo=lambda _: None)
    assert result.metrics["hook_scored_turns"] == result.metrics["turns"] == 12
    rows = json.loads((tmp_path / "quiet" / "turns.json").read_text())
    expected = json.loads((run_dir / "turns.json").read_text())
    assert [r["message"] for r in rows] == [r["message"] for r in expected]


def test_backend_aws_scores_with_comprehend(mock_aws: None, tmp_path: Path) -> None:  # noqa: F811
    experiment = PluginExperiment(
        kind="sentiment_bot",
        name="bot-aws",
        backend="aws",
        aws=AwsConfig(region="us-east-1"),
        section=SentimentBotConfig(wire_format="v2", events=str(FIXTURES / "events.jsonl")),
    )
    result = run_experiment(experiment, plugin, tmp_path / "aws", echo=lambda _: None)
    m = result.metrics
    assert m["turns"] == 12 and m["events_answered"] == 3 and m["events_skipped"] == 5
    assert "Amazon Comprehend detect_sentiment" in result.report
    assert "reference_turn1_negative_without_lexicon" not in m  # VADER only
