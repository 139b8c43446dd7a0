"""One sentiment_bot experiment: scripted conversations, an events batch, plot, report.

The scripted conversations (built-in: the article's three user messages in our
words, a hand-over, a negative streak, a mistyped number) are played against the
hook in the configured wire format(s), each event built from the previous
response as Lex would. With ``wire_format: both`` the V1 run is the one reported
and the V2 run must decide identically (action, intent, slot, message, session
attributes). The sentiment scorer is VADER with the delivery lexicon
(``backend: local``) or Comprehend's ``detect_sentiment`` (``backend: aws``); each
distinct text is scored once per run.

Outputs in the run directory: ``conversation_v1.jsonl`` / ``conversation_v2.jsonl``
(every event and response), ``turns.json`` (one row per turn), ``negative_scores.png``
(per-turn Negative score with both thresholds), with ``events`` set the batch's
``<stem>.out.jsonl`` and ``events_errors.json`` (and ``demo_events.jsonl`` for
``events: demo``), then ``metrics.json`` and ``report.md``.

Contents:
    run: the plugin's run function.
    TurnRow: one scripted turn's outcome.
    make_policy: the hook's policy from the config (thresholds by scorer scale).
    make_scorer: the run's sentiment scorer (memoised).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from deepracer.errors import ConfigError
from deepracer.plugins import PluginResult, RunContext
from deepracer.plugins.kit import markdown_table
from deepracer.plugins.sentiment import DELIVERY_LEXICON, Sentiment
from deepracer.plugins.sentiment_bot.batch import BatchOutcome, demo_lines, run_events
from deepracer.plugins.sentiment_bot.config import SentimentBotConfig
from deepracer.plugins.sentiment_bot.dialog import (
    COMPREHEND_THRESHOLDS,
    INTENT_SLOTS,
    VADER_THRESHOLDS,
    Policy,
    Scorer,
    aggregates,
)
from deepracer.plugins.sentiment_bot.hook import Exchange
from deepracer.plugins.sentiment_bot.script import (
    Conversation,
    Script,
    ScriptTurn,
    load_script,
    play,
)

__all__ = ["TurnRow", "make_policy", "make_scorer", "run"]

# The source article's numbers and words, for the report.
ARTICLE_TURN1_NEGATIVE = 0.6347739  # its sample event's Negative score (Lex + Comprehend)


@dataclass(frozen=True)
class TurnRow:
    """One scripted turn and the bot's answer.

    Attributes:
        conversation: The conversation's name.
        turn: 1-based turn number.
        text: What the user said.
        intent: The intent Lex recognised.
        label: Sentiment label.
        negative: Negative score.
        source: ``lex`` (in the event) or ``hook`` (scored by the hook).
        action: The dialog action.
        reply_intent: The intent of the answer.
        fulfillment: ``Fulfilled`` or ``Failed`` for a Close, else None.
        apology: The answer apologises.
        handover: Why the agent was offered (``threshold``/``streak``/``asked``), or empty.
        streak: Negative turns in a row after this one.
        message: What the bot said.
        expected: What should happen, in words.
        met: The scripted expectation held (None: nothing to check).
    """

    conversation: str
    turn: int
    text: str
    intent: str
    label: str
    negative: float
    source: str
    action: str
    reply_intent: str
    fulfillment: str | None
    apology: bool
    handover: str
    streak: int
    message: str
    expected: str
    met: bool | None


def make_policy(config: SentimentBotConfig, backend: str) -> Policy:
    """The hook's policy; null thresholds take the scorer's scale (VADER or Comprehend).

    Raises:
        ConfigError: The resolved hand-over threshold is not above the apology one.
    """
    scale = COMPREHEND_THRESHOLDS if backend == "aws" else VADER_THRESHOLDS
    apology = scale[0] if config.apology_threshold is None else config.apology_threshold
    handover = scale[1] if config.handover_threshold is None else config.handover_threshold
    if handover <= apology:
        raise ConfigError(
            f"sentiment_bot.handover_threshold ({handover:g}) must be above"
            f" sentiment_bot.apology_threshold ({apology:g}); null takes"
            f" {scale[0]:g} and {scale[1]:g} with backend {backend}"
        )
    return Policy(
        apology_threshold=apology,
        handover_threshold=handover,
        handover_turns=config.handover_turns,
        deliveries=dict(config.deliveries),
    )


def make_scorer(config: SentimentBotConfig, context: RunContext) -> tuple[Scorer, str]:
    """The run's scorer (memoised: one call per distinct text) and its description."""
    from deepracer.plugins.sentiment import ComprehendSentiment, LocalSentiment

    inner: Scorer
    if context.backend == "aws":
        inner = ComprehendSentiment(context.client("comprehend"), language=config.language)
        name = f"Amazon Comprehend detect_sentiment (LanguageCode {config.language})"
    else:
        words = {**(DELIVERY_LEXICON if config.domain_lexicon else {}), **config.lexicon}
        inner = LocalSentiment(lexicon=words, mixed_share=config.mixed_share)
        patched = "the delivery lexicon" if config.domain_lexicon else "no domain lexicon"
        extra = f" plus {len(config.lexicon)} experiment word(s)" if config.lexicon else ""
        name = f"VADER (vaderSentiment) with {patched}{extra}, mapped to Comprehend's labels"
    cache: dict[str, Sentiment] = {}

    def score(text: str) -> Sentiment:
        if text not in cache:
            cache[text] = inner(text)
        return cache[text]

    return score, name


def _met(turn: ScriptTurn, exchange: Exchange) -> bool | None:
    checks: list[bool] = []
    if turn.expect_action:
        checks.append(exchange.decision.action == turn.expect_action)
    if turn.expect_apology is not None:
        checks.append(exchange.decision.apology == turn.expect_apology)
    return all(checks) if checks else None


def _rows(conversation: Conversation, exchanges: Sequence[Exchange]) -> list[TurnRow]:
    rows = []
    for i, (turn, exchange) in enumerate(zip(conversation.turns, exchanges, strict=True), 1):
        d = exchange.decision
        rows.append(
            TurnRow(
                conversation=conversation.name,
                turn=i,
                text=turn.text,
                intent=turn.intent,
                label=d.sentiment.label,
                negative=round(d.sentiment.negative, 4),
                source=d.sentiment_source,
                action=d.action,
                reply_intent=d.intent,
                fulfillment=d.fulfillment,
                apology=d.apology,
                handover=d.handover,
                streak=d.streak,
                message=d.message,
                expected=turn.expected,
                met=_met(turn, exchange),
            )
        )
    return rows


def _same(a: Exchange, b: Exchange) -> bool:
    x, y = a.decision, b.decision
    keys = ("action", "intent", "slots", "slot_to_elicit", "message", "fulfillment", "attributes")
    return all(getattr(x, k) == getattr(y, k) for k in keys)


def _plot(rows: Sequence[TurnRow], policy: Policy, context: RunContext) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    colours = {"handover": "#c0392b", "apology": "#e67e22", "none": "#95a5a6"}

    def kind(row: TurnRow) -> str:
        if row.handover in ("threshold", "streak"):
            return "handover"
        return "apology" if row.apology else "none"

    fig, ax = plt.subplots(figsize=(max(6.0, 0.55 * len(rows) + 2), 4.2))
    xs = range(len(rows))
    bars = ax.bar(xs, [r.negative for r in rows], color=[colours[kind(r)] for r in rows])
    for bar, row in zip(bars, rows, strict=True):
        if row.handover == "streak":  # offered by the streak rule, not by this score
            bar.set_hatch("//")
    ax.axhline(policy.apology_threshold, color="#e67e22", ls="--", lw=1)
    ax.axhline(policy.handover_threshold, color="#c0392b", ls="--", lw=1)
    ax.text(
        len(rows) - 0.5, policy.apology_threshold, " apology", va="bottom", ha="right", fontsize=8
    )
    ax.text(
        len(rows) - 0.5,
        policy.handover_threshold,
        " hand-over",
        va="bottom",
        ha="right",
        fontsize=8,
    )
    for i in range(1, len(rows)):
        if rows[i].conversation != rows[i - 1].conversation:
            ax.axvline(i - 0.5, color="black", lw=0.6, alpha=0.4)
    ax.set_xticks(list(xs), [f"{r.conversation} {r.turn}" for r in rows], rotation=60, ha="right")
    ax.set_ylabel("Negative score")
    ax.set_ylim(0, max(1.0, *(r.negative for r in rows)) * 1.02)
    ax.set_title("Negative score per user turn, with the hook's thresholds")
    ax.legend(
        handles=[
            Patch(color=colours["handover"], label="agent offered (threshold)"),
            Patch(facecolor=colours["handover"], hatch="//", label="agent offered (streak)"),
            Patch(color=colours["apology"], label="apology"),
            Patch(color=colours["none"], label="plain answer"),
        ],
        loc="upper left",
        fontsize=8,
    )
    context.save_figure(fig, "negative_scores.png")


def _turn_table(rows: Sequence[TurnRow], *, with_conversation: bool) -> str:
    lead = ["conversation", "#"] if with_conversation else ["#"]
    header = [*lead, "user", "intent", "sentiment (Negative)", "action", "bot", "expected", "ok"]
    cells: list[list[object]] = []
    for r in rows:
        action = r.action + (f" {r.reply_intent}" if r.action == "ConfirmIntent" else "")
        if r.handover:
            action += f" ({r.handover})"
        ok = "-" if r.met is None else ("yes" if r.met else "**no**")
        source = "" if r.source == "lex" else ", hook"
        turn: list[object] = [r.conversation, r.turn] if with_conversation else [r.turn]
        sentiment = f"{r.label} ({r.negative:.3f}{source})"
        cells.append([*turn, r.text, r.intent, sentiment, action, r.message, r.expected, ok])
    return markdown_table(header, cells) + "\n"


def _per_intent(played: dict[str, list[Exchange]]) -> dict[str, dict[str, float]]:
    """Per-intent sums over conversations, from each conversation's last session attributes."""
    total: dict[str, dict[str, float]] = {}
    for exchanges in played.values():
        final = aggregates(exchanges[-1].decision.attributes)
        for intent, sums in final.items():
            entry = total.setdefault(intent, {})
            for key, value in sums.items():
                entry[key] = entry.get(key, 0.0) + value
    return total


def _batch(
    config: SentimentBotConfig,
    context: RunContext,
    good: list[Exchange],
    scorer: Scorer,
    policy: Policy,
) -> BatchOutcome | None:
    if not config.events:
        return None
    if config.events == "demo":
        path = context.write_text("demo_events.jsonl", "".join(f"{x}\n" for x in demo_lines(good)))
    else:
        path = Path(config.events)
    outcome = run_events(path, context.run_dir, scorer, policy)
    context.write_json("events_errors.json", outcome.errors)
    context.echo(
        f"events {path.name}: {outcome.answered} of {outcome.lines} answered,"
        f" {len(outcome.errors)} skipped"
    )
    return outcome


@dataclass
class _Results:
    """Everything the metrics and the report are made of."""

    config: SentimentBotConfig
    policy: Policy
    scorer_name: str
    script: Script
    versions: tuple[Literal["v1", "v2"], ...]
    main: dict[str, list[Exchange]]  # the reported version's exchanges per conversation
    rows: list[TurnRow]
    per_intent: dict[str, dict[str, float]]
    mismatches: int
    batch: BatchOutcome | None
    without_lexicon: Sentiment | None

    @property
    def reference(self) -> Conversation | None:
        """The article's conversation, if the script has one."""
        return next((c for c in self.script.conversations if c.reference), None)


def _play_all(
    config: SentimentBotConfig, context: RunContext, scorer: Scorer, policy: Policy, script: Script
) -> tuple[dict[str, dict[str, list[Exchange]]], tuple[Literal["v1", "v2"], ...]]:
    """Every conversation in every configured format; writes ``conversation_<v>.jsonl``."""
    versions: tuple[Literal["v1", "v2"], ...] = (
        ("v1", "v2") if config.wire_format == "both" else (config.wire_format,)
    )
    played: dict[str, dict[str, list[Exchange]]] = {}
    for version in versions:
        played[version] = {
            c.name: play(c, version, scorer, policy, lex_sentiment=config.lex_sentiment)
            for c in script.conversations
        }
        lines = [
            json.dumps(
                {"conversation": name, "turn": i, "event": x.event, "response": x.response},
                sort_keys=True,
            )
            for name, exchanges in played[version].items()
            for i, x in enumerate(exchanges, 1)
        ]
        context.write_text(f"conversation_{version}.jsonl", "".join(f"{x}\n" for x in lines))
    return played, versions


def run(config: SentimentBotConfig, context: RunContext) -> PluginResult:
    """Plays the script, answers the events batch, writes plot and report."""
    policy = make_policy(config, context.backend)
    if config.events not in ("", "demo") and not Path(config.events).is_file():
        # Checked before any work; bad lines inside the file are skipped, not fatal.
        raise ConfigError(f"sentiment_bot.events: {config.events}: file not found")
    scorer, scorer_name = make_scorer(config, context)
    script = load_script(config.script)
    played, versions = _play_all(config, context, scorer, policy, script)
    main = played[versions[0]]
    rows = [r for c in script.conversations for r in _rows(c, main[c.name])]
    context.write_json("turns.json", [asdict(r) for r in rows])
    context.echo(f"{len(rows)} scripted turns in {len(script.conversations)} conversation(s)")
    mismatches = 0
    if len(versions) == 2:
        mismatches = sum(
            not _same(a, b)
            for c in script.conversations
            for a, b in zip(played["v1"][c.name], played["v2"][c.name], strict=True)
        )
    good = [x for v in versions for x in played[v][script.conversations[0].name]]
    batch = _batch(config, context, good, scorer, policy)
    _plot(rows, policy, context)
    results = _Results(
        config=config,
        policy=policy,
        scorer_name=scorer_name,
        script=script,
        versions=versions,
        main=main,
        rows=rows,
        per_intent=_per_intent(main),
        mismatches=mismatches,
        batch=batch,
        without_lexicon=None,
    )
    reference = results.reference
    if context.backend == "local" and config.domain_lexicon and reference is not None:
        from deepracer.plugins.sentiment import LocalSentiment

        # The same first message with VADER unpatched: why the lexicon is there.
        plain = LocalSentiment(lexicon=dict(config.lexicon), mixed_share=config.mixed_share)
        results.without_lexicon = plain(reference.turns[0].text)
    metrics = _metrics(results)
    return PluginResult(metrics=metrics, report=_report(results, metrics))


def _metrics(results: _Results) -> dict[str, Any]:
    rows = results.rows
    checked = [r for r in rows if r.met is not None]
    metrics: dict[str, Any] = {
        "conversations": len(results.script.conversations),
        "turns": len(rows),
        "apologies": sum(r.apology and r.action != "ConfirmIntent" for r in rows),
        "handovers": sum(r.handover in ("threshold", "streak") for r in rows),
        "handovers_threshold": sum(r.handover == "threshold" for r in rows),
        "handovers_streak": sum(r.handover == "streak" for r in rows),
        "handovers_accepted": sum(
            r.reply_intent == "AgentHandover" and r.fulfillment == "Fulfilled" for r in rows
        ),
        "hook_scored_turns": sum(r.source == "hook" for r in rows),
        "expectations_checked": len(checked),
        "expectations_met": sum(bool(r.met) for r in checked),
        "mean_negative": round(sum(r.negative for r in rows) / len(rows), 4),
        "apology_threshold": results.policy.apology_threshold,
        "handover_threshold": results.policy.handover_threshold,
    }
    for intent in INTENT_SLOTS:
        sums = results.per_intent.get(intent)
        if sums and sums.get("turns"):
            metrics[f"negative_mean_{intent}"] = round(sums["Negative"] / sums["turns"], 4)
    if len(results.versions) == 2:
        metrics["v1_v2_mismatches"] = results.mismatches
    reference = results.reference
    if reference is not None:
        ref = [r for r in rows if r.conversation == reference.name]
        metrics["reference_turn1_apology"] = int(ref[0].apology)
        metrics["reference_turn1_negative"] = ref[0].negative
        metrics["reference_thanks_apology"] = int(ref[-1].apology)  # its last turn: thanks
        metrics["reference_ok"] = int(all(r.met is not False for r in ref))
    if results.without_lexicon is not None:
        metrics["reference_turn1_negative_without_lexicon"] = round(
            results.without_lexicon.negative, 4
        )
    if results.batch is not None:
        metrics["events_lines"] = results.batch.lines
        metrics["events_answered"] = results.batch.answered
        metrics["events_skipped"] = len(results.batch.errors)
    return metrics


def _report(results: _Results, metrics: dict[str, Any]) -> str:
    config, policy, rows, script = results.config, results.policy, results.rows, results.script
    versions, outcome, without = results.versions, results.batch, results.without_lexicon
    out: list[str] = []
    formats = " and ".join(f"Lex {v.upper()}" for v in versions)
    where = (
        "each event carries a `sentimentResponse` (Lex's sentiment analysis on), scored by"
        if config.lex_sentiment
        else "events carry no `sentimentResponse` (Lex's sentiment analysis off); the hook"
        " scores each transcript with"
    )
    out.append(
        f"The delivery bot's dialog hook answered {len(rows)} scripted user turns in"
        f" {len(script.conversations)} conversations as {formats} Lambda events; {where}"
        f" {results.scorer_name}. Thresholds on the Negative score: apology above"
        f" {policy.apology_threshold:g}, agent offered above {policy.handover_threshold:g}"
        + (
            f" or after {policy.handover_turns} negative turns in a row"
            if policy.handover_turns
            else ""
        )
        + ".\n"
    )
    reference = results.reference
    if reference is not None:
        out.append("## The article's conversation\n")
        out.append(
            "Our own words for the article's three user messages. The article expects an"
            " apology while asking for the tracking number on the first turn, the delivery"
            " date on the second, and no apology on the thanks.\n"
        )
        ref_rows = [r for r in rows if r.conversation == reference.name]
        out.append(_turn_table(ref_rows, with_conversation=False))
        verdict = "reproduced" if metrics.get("reference_ok") else "**not reproduced**"
        out.append(f"The article's expected behaviour is {verdict}.\n")
    out.append("## All scripted turns\n")
    for c in script.conversations:
        out.append(f"- **{c.name}**: {c.description or '(no description)'}")
    out.append("")
    out.append(_turn_table(rows, with_conversation=True))
    out.append(
        f"{metrics['expectations_met']} of {metrics['expectations_checked']} scripted"
        f" expectations met; {metrics['apologies']} apologies, {metrics['handovers']} agent"
        f" offers ({metrics['handovers_threshold']} by threshold,"
        f" {metrics['handovers_streak']} by streak). `negative_scores.png` shows each turn's"
        " Negative score against both thresholds.\n"
    )
    out.append("## Sentiment per intent\n")
    out.append(
        "Each conversation keeps per-intent sums in the session attribute"
        " `sentimentByIntent` (the article's per-intent, per-conversation aggregate);"
        " summed over conversations:\n"
    )
    intent_rows = []
    for intent, sums in sorted(results.per_intent.items()):
        n = sums.get("turns", 0.0) or 1.0
        turns, negative, positive = (sums.get(k, 0) for k in ("turns", "Negative", "Positive"))
        intent_rows.append((intent, f"{turns:.0f}", f"{negative / n:.3f}", f"{positive / n:.3f}"))
    header = ["intent", "turns", "mean Negative", "mean Positive"]
    out.append(markdown_table(header, intent_rows))
    out.append("")
    out.append("## Wire formats\n")
    if len(versions) == 2:
        agree = (
            "identically"
            if results.mismatches == 0
            else f"differently on **{results.mismatches}** turns"
        )
        out.append(
            f"The same script as Lex V1 and Lex V2 events: the hook decided {agree} (action,"
            " intent, slot, message, session attributes). Every event and response is in"
            " `conversation_v1.jsonl` and `conversation_v2.jsonl`.\n"
        )
    first = results.main[script.conversations[0].name][0]
    out.append(f"The first turn's {first.version.upper()} response:\n")
    out.append("```json\n" + json.dumps(first.response, indent=2) + "\n```\n")
    if outcome is not None:
        out.append("## Events batch\n")
        out.append(
            f"`{Path(outcome.source).name}`: {outcome.lines} events, {outcome.answered}"
            f" answered, {len(outcome.errors)} skipped (responses in"
            f" `{outcome.output.name}`, errors in `events_errors.json`).\n"
        )
        for error in outcome.errors:
            out.append("- " + error["error"].replace("\n", " "))
        out.append("")
    out.append("## What differs from the article\n")
    neg = metrics.get("reference_turn1_negative")
    if neg is not None:
        out.append(
            f"- **Scores are not Comprehend's.** The article's sample event scores its"
            f" first message Negative {ARTICLE_TURN1_NEGATIVE:.2f} (Comprehend inside Lex);"
            f" our scorer gives our first message {neg:.3f}. VADER's Negative is the share"
            " of negative words, so it runs lower than Comprehend's on the same text and the"
            " default thresholds differ by scorer: 0.2 and 0.45 for VADER, 0.5 and 0.8 for"
            " Comprehend (and Lex). No parity is claimed."
        )
    out.append(
        "- **Thresholds are ours.** The article names `RESPONSE_THRESHOLD` and"
        " `AGENT_HANDOVER_THRESHOLD` but gives no values; the streak rule (k negative"
        " turns, counted in session attributes) is our addition."
    )
    if without is not None:
        out.append(
            f"- **The domain lexicon matters.** Without it VADER scores the first message"
            f" {without.label} (Negative {without.negative:.3f}): no apology. VADER also"
            ' misses sarcasm and reads an apologising user ("Sorry, ...") as negative.'
        )
    out.append(
        "- **\"Great, thanks.\"** matches none of the bot's intents; here it reaches Lex's"
        " built-in `FallbackIntent`, which closes politely when the sentiment is positive."
    )
    out.append(
        "- **Hand-over** stops at ConfirmIntent/Close of `AgentHandover`; the Amazon"
        " Connect contact flow that would take the call is not modelled. The delivery"
        ' "database" is the `deliveries` table of the experiment (dates changed in a'
        " conversation live in its session attributes)."
    )
    out.append(
        "- **Lex V1 reached end of support on 2025-09-15**; the article's V1 format is"
        " kept for fidelity, and the same hook speaks V2 (`lambda_handler` detects it)."
    )
    return "\n".join(out) + "\n"
