"""Cold-start genre recommendation for new users (the iHeartRadio article).

A seeded synthetic world of new users (age, gender, region and the 1-6 genres they
select at onboarding) and the genre each one listens to most two months later. A
LightGBM multiclass model predicts that genre; its top-3 is compared, paired and
seeded, with the baseline "most popular of the user's selected genres" and with
the Bayes-optimal top-3 of the same users. The model is saved as LightGBM text,
ONNX and a feature mapping, and served in-process by ``recommend(profile)``
(optionally over HTTP with FastAPI, extra ``serve``). ``backend: aws`` also scores
test users on a SageMaker endpoint through ``sagemaker-runtime.invoke_endpoint``.

This module stays light: numpy, LightGBM and onnxruntime load when a run starts or
a recommender is loaded.

Contents:
    GenresConfig: the ``genres:`` section.
    plugin: the registered :class:`~deepracer.plugins.Plugin`.
    load_recommend: ``recommend(profile) -> top-3 genres`` from a run directory.
    Recommender, ProfileError: loaded on first access (from ``.model``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from deepracer.plugins import Plugin, Reference
from deepracer.plugins.genres.config import GenresConfig
from deepracer.plugins.kit import DeferredRun

if TYPE_CHECKING:
    from deepracer.plugins.genres.model import ProfileError, Recommender

__all__ = ["GenresConfig", "ProfileError", "Recommender", "load_recommend", "plugin"]


def load_recommend(
    run_dir: str | Path, engine: Literal["onnx", "lightgbm"] = "onnx"
) -> Callable[[Any], list[str]]:
    """``recommend(profile) -> top-3 genres`` from a genres run directory.

    Args:
        run_dir: The run directory (``features.json``, ``model.onnx``, ``model.txt``).
        engine: ``onnx`` (onnxruntime) or ``lightgbm`` (the Booster); same ranking.

    Raises:
        DeepRacerError: The run directory lacks the model files.
    """
    from deepracer.plugins.genres.model import load_recommend as load

    return load(run_dir, engine)


def __getattr__(name: str) -> Any:
    # Lazy re-exports, so listing plugins never imports numpy or the model code.
    if name in ("Recommender", "ProfileError"):
        from deepracer.plugins.genres import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


plugin = Plugin(
    name="genres",
    description="cold-start genre recommendation: LightGBM top-3 vs selected-genre baseline",
    config=GenresConfig,
    run=DeferredRun("deepracer.plugins.genres.experiment"),
    article=(
        '"Real-time music recommendations for new users with Amazon SageMaker",'
        " AWS Machine Learning Blog (guest post by iHeartRadio), November 2019"
    ),
    references=(
        Reference("Top-3 hit rate of the model", "77 %", metric="top3_hit_rate_model"),
        Reference("Lift over the selected-genre baseline (relative)", "+15 % (0.15)", "top3_lift"),
        Reference("Baseline top-3 hit rate", "about 67 % (77 % / 1.15)", "top3_hit_rate_baseline"),
        Reference("Average model latency [ms]", "about 5 (SageMaker endpoint)", "serve_mean_ms"),
        Reference("Click-through lift in a 10-day A/B test", "+8.7 %"),
    ),
    extra="genres",
)
