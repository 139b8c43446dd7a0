"""A sentiment-aware delivery bot: the Lex dialog code hook of the AWS ML Blog article.

The bot has the intents ``CheckDeliveryStatus`` (slot ``trackingNumber``),
``ChangeDeliveryDate`` (``trackingNumber``, ``deliveryDate``), ``AgentHandover`` and
Lex's ``FallbackIntent``. Its dialog hook reads the sentiment of every user turn
(Lex's own, or computed by the hook when Lex's sentiment analysis is off: VADER
with a delivery lexicon, or Comprehend): above an apology threshold it prefixes
"Apologies for the inconvenience." to its answer; above a higher hand-over
threshold, or after k negative turns in a row (counted in session attributes), it
offers an agent with ConfirmIntent ``AgentHandover``; per-intent sentiment sums
are kept per conversation. It speaks both Lambda formats: Lex V1 (the article's,
whose ``sentimentScore`` is a string with unquoted keys) and Lex V2.

The experiment plays scripted conversations (the article's, in our words, plus a
hand-over, a negative streak and a mistyped number) and, optionally, a JSON-lines
batch of Lambda events, and reports each turn's sentiment, action and message.

This module stays light: the hook and the run load on first use.

Contents:
    plugin: the registered :class:`~deepracer.plugins.Plugin`.
    SentimentBotConfig: its config section (see ``config``).
    handle_v1, handle_v2, lambda_handler: the hook (from ``hook``; loaded on access).
    EventError, Policy: a malformed event; the hook's settings (from ``dialog``).

Modules:
    config: the typed section. dialog: the version-free dialog logic. wire: V1/V2
    events and responses. hook: the handlers and the Lambda entry point. script:
    scripted conversations played as Lex would. batch: JSON-lines event batches.
    run: the experiment run, plot and report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deepracer.plugins import Plugin, Reference
from deepracer.plugins.kit import DeferredRun
from deepracer.plugins.sentiment_bot.config import SentimentBotConfig

if TYPE_CHECKING:
    from deepracer.plugins.sentiment_bot.dialog import EventError, Policy
    from deepracer.plugins.sentiment_bot.hook import handle_v1, handle_v2, lambda_handler

__all__ = [
    "EventError",
    "Policy",
    "SentimentBotConfig",
    "handle_v1",
    "handle_v2",
    "lambda_handler",
    "plugin",
]

_LAZY = {
    "handle_v1": "hook",
    "handle_v2": "hook",
    "lambda_handler": "hook",
    "EventError": "dialog",
    "Policy": "dialog",
}


def __getattr__(name: str) -> Any:
    # Lazy re-exports, so listing plugins imports none of the hook's modules.
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f"{__name__}.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


plugin = Plugin(
    name="sentiment_bot",
    description="Lex delivery bot whose dialog hook apologises or hands over on negative sentiment",
    config=SentimentBotConfig,
    run=DeferredRun("deepracer.plugins.sentiment_bot.run"),
    article=(
        '"Designing conversational experiences with sentiment analysis in Amazon Lex",'
        " AWS Machine Learning Blog (A. Mishra, K. Cho), November 2019"
    ),
    references=(
        Reference(
            'Apology on turn 1 ("...It\'s so late.")', "yes (1)", metric="reference_turn1_apology"
        ),
        Reference('Apology on "Great, thanks."', "no (0)", metric="reference_thanks_apology"),
        Reference(
            "Negative score of turn 1",
            "0.63 (its sample event: Comprehend in Lex; VADER's scale is lower)",
            metric="reference_turn1_negative",
        ),
        Reference("Article's conversation reproduced", "yes (1)", metric="reference_ok"),
        Reference("Apology / hand-over thresholds", "named, values not stated"),
        Reference("Agent offered on a very negative message", "yes", metric="handovers_threshold"),
    ),
    extra="bot",
)
