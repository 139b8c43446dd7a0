"""The ``genres:`` section of a genres experiment (no heavy imports).

Contents:
    GenresConfig: data size, generator knobs, LightGBM settings, evaluation and
        serving settings, the SageMaker endpoint of ``backend: aws``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from deepracer.plugins.kit import at_least, between, interval, positive

__all__ = ["GenresConfig"]


@dataclass(frozen=True, kw_only=True)
class GenresConfig:
    """The genres experiment: cold-start top-genre prediction and its serving."""

    users: int = field(default=20_000, metadata={"check": at_least(500)})
    """Synthetic new users, training and test together."""
    test_fraction: float = field(default=0.2, metadata={"check": between(0.05, 0.5)})
    """Share of users held out for the paired comparison."""
    user_noise: float = field(default=0.5, metadata={"check": at_least(0)})
    """Standard deviation of each user's unobserved taste per genre."""
    selection_temperature: float = field(default=3.0, metadata={"check": positive})
    """Divides affinity in the onboarding selection; larger: noisier, more aspirational picks."""
    aspiration: float = field(default=1.0, metadata={"check": at_least(0)})
    """Selection-only bonus of Classical, Jazz and News & Talk (ticked, not listened to)."""
    selection_weight: float = field(default=1.6, metadata={"check": at_least(0)})
    """How much selecting a genre raises listening to it two months on."""
    dilution: float = field(default=0.5, metadata={"check": at_least(0)})
    """Exponent d in selection_weight / m^d: one pick of one counts more than one of six."""
    alias: float = field(default=1.0, metadata={"check": at_least(0)})
    """Extra Hip-Hop listening of users who selected R&B (the article's example)."""
    listen_noise: float = field(default=0.47, metadata={"check": positive})
    """Scale of the Gumbel noise in the two-month top genre."""
    region_spread: float = field(default=0.3, metadata={"check": at_least(0)})
    """Standard deviation of the seeded region-by-genre taste offsets."""
    trees: int = field(default=100, metadata={"check": at_least(1)})
    """LightGBM boosting rounds (one tree per genre each)."""
    learning_rate: float = field(default=0.1, metadata={"check": interval(0, 1, low_open=True)})
    """LightGBM learning rate."""
    num_leaves: int = field(default=15, metadata={"check": between(2, 1024)})
    """LightGBM leaves per tree."""
    min_child_samples: int = field(default=40, metadata={"check": at_least(1)})
    """LightGBM minimum users per leaf."""
    train_threads: int = field(default=1, metadata={"check": at_least(1)})
    """LightGBM training threads (results are reproducible for a fixed count)."""
    bayes_draws: int = field(default=400, metadata={"check": at_least(10)})
    """Prior draws per test user for the Bayes-optimal posterior (importance sampling)."""
    bootstrap: int = field(default=2000, metadata={"check": at_least(100)})
    """Paired bootstrap resamples of the test users."""
    confidence: float = field(
        default=0.95, metadata={"check": interval(0.5, 1, "a confidence level", high_open=True)}
    )
    """Level of the bootstrap confidence intervals."""
    engine: Literal["onnx", "lightgbm"] = "onnx"
    """What ``recommend`` runs in this run's latency check: onnxruntime or the Booster."""
    latency_calls: int = field(default=300, metadata={"check": at_least(0)})
    """Single-request ``recommend`` calls timed per engine (0: skip)."""
    endpoint_name: str = ""
    """SageMaker endpoint scored by ``backend: aws`` (JSON in/out, see the report)."""
    endpoint_batch: int = field(default=50, metadata={"check": between(1, 1000)})
    """Profiles per ``invoke_endpoint`` request (backend aws)."""
    endpoint_users: int = field(default=200, metadata={"check": at_least(1)})
    """Test users sent to the endpoint (backend aws; at most the test set)."""
