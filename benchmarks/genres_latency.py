"""Single-request latency of the genres recommender's serving paths, in one process.

Usage: python benchmarks/genres_latency.py [--quick] [--calls N] [--run-dir DIR]

Trains the model of the shipped ``experiments/genres.yaml`` (about 5 s; or loads the
model of a genres run with ``--run-dir``) and times one new-user profile per call,
cycling through held-out users, for each path:

* ``recommend_onnx``: ``Recommender(engine="onnx").recommend(profile)``: validation,
  encoding, onnxruntime on one thread, top-3. What we serve.
* ``recommend_lightgbm``: the same over the LightGBM Booster (``num_threads=1``).
* ``onnx_row``: onnxruntime alone on a prepared float32 row.
* ``booster_row_1thread``: ``Booster.predict(row, num_threads=1)`` alone.
* ``booster_row_all_threads``: ``Booster.predict(row)`` with OpenMP on every core, as a
  naive server does. **The baseline** the ratios are against.
* ``pandas_row``: a one-row pandas DataFrame into ``Booster.predict`` (only when pandas
  is installed; a common path in notebooks, and a slow one).
* ``http_testclient``: FastAPI's in-process ``TestClient`` posting to ``/recommend``
  (only with the ``serve`` extra). Mostly TestClient overhead, not a network figure.

Prints p50/p99/mean [ms] with ratios to the baseline (value / baseline, so below 1 is
faster) and ends with one ``RESULT name=value ...`` line. The article's figure is
an average of about 5 ms model latency on a SageMaker endpoint.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from deepracer.plugins import load_plugin_experiment
from deepracer.plugins.genres.experiment import make_dataset
from deepracer.plugins.genres.model import (
    FEATURES,
    FeatureMapping,
    Recommender,
    save_model,
    to_onnx,
    train_booster,
    users_to_profiles,
)
from deepracer.plugins.genres.world import GENRES

BASELINE = "booster_row_all_threads"


def timed(
    call: Callable[[int], Any], calls: int, budget_s: float = 8.0, warmup: int = 50
) -> dict[str, float]:
    """p50/p99/mean [ms] of ``call(i)`` after ``warmup`` untimed calls.

    Stops after ``calls`` calls or ``budget_s`` seconds, whichever comes first, so a
    slow path (OpenMP on a single row) does not dominate the benchmark's run time.
    """
    for i in range(warmup):
        call(i)
    times = []
    began = time.perf_counter()
    for i in range(calls):
        start = time.perf_counter()
        call(i)
        times.append(time.perf_counter() - start)
        if start - began > budget_s:
            break
    ms = np.array(times) * 1e3
    return {
        "p50": float(np.percentile(ms, 50)),
        "p99": float(np.percentile(ms, 99)),
        "mean": float(ms.mean()),
        "calls": float(ms.size),
    }


def build_run_dir(folder: Path | None) -> tuple[Path, list[dict[str, Any]]]:
    """The model's run directory and held-out profiles of the shipped experiment.

    Args:
        folder: Where to train and save the model; None: only draw the profiles
            (``--run-dir`` names the model).
    """
    experiment, _ = load_plugin_experiment("genres")
    config = experiment.section
    data = make_dataset(config, experiment.seed)
    shares = np.bincount(data.train.label, minlength=len(GENRES)) / len(data.train)
    mapping = FeatureMapping(popularity=tuple(float(s) for s in shares))
    profiles = users_to_profiles(data.test, mapping)
    if folder is None:
        return Path(), profiles
    x_train = mapping.encode_users(data.train)
    booster = train_booster(
        x_train,
        data.train.label,
        classes=len(GENRES),
        trees=config.trees,
        learning_rate=config.learning_rate,
        num_leaves=config.num_leaves,
        min_child_samples=config.min_child_samples,
        threads=config.train_threads,
        seed=experiment.seed,
    )
    save_model(folder, booster, to_onnx(booster, x_train.shape[1]), mapping)
    return folder, profiles


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 calls per path (noisier)")
    parser.add_argument("--calls", type=int, default=2000, help="timed calls per path")
    parser.add_argument("--run-dir", help="a genres run directory (default: train one)")
    args = parser.parse_args()
    calls = 300 if args.quick else args.calls

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        run_dir, profiles = build_run_dir(None if args.run_dir else Path(tmp))
        if args.run_dir:  # a saved model, timed on the shipped experiment's test users
            run_dir = Path(args.run_dir)
        print(f"model: {run_dir} ready in {time.perf_counter() - started:.1f} s")
        onnx = Recommender.from_run_dir(run_dir, "onnx")
        lgbm = Recommender.from_run_dir(run_dir, "lightgbm")
        booster = lgbm.engine.booster  # type: ignore[attr-defined]
        session = onnx.engine.session  # type: ignore[attr-defined]
        rows = [onnx.mapping.encode_profile(p) for p in profiles[:500]]
        n = len(rows)
        cores = os.cpu_count() or 1

        paths: dict[str, Callable[[int], Any]] = {
            "recommend_onnx": lambda i: onnx.recommend(profiles[i % n]),
            "recommend_lightgbm": lambda i: lgbm.recommend(profiles[i % n]),
            "onnx_row": lambda i: session.run(["probabilities"], {"features": rows[i % n]}),
            "booster_row_1thread": lambda i: booster.predict(rows[i % n], num_threads=1),
            BASELINE: lambda i: booster.predict(rows[i % n], num_threads=cores),
        }
        if importlib.util.find_spec("pandas") is not None:
            pd: Any = importlib.import_module("pandas")  # optional; no stubs needed
            names = list(FEATURES)

            def pandas_row(i: int) -> Any:
                frame = pd.DataFrame(rows[i % n], columns=names)
                return booster.predict(frame, num_threads=1)

            paths["pandas_row"] = pandas_row
        else:
            print("pandas_row: skipped (pandas is not installed)")
        if importlib.util.find_spec("fastapi") is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # TestClient's httpx deprecation note
                from fastapi.testclient import TestClient

            from deepracer.plugins.genres.serve import create_app

            client = TestClient(create_app(run_dir))
            paths["http_testclient"] = lambda i: client.post("/recommend", json=profiles[i % n])
        else:
            print("http_testclient: skipped (pip install 'deepracer[serve]')")

        results = {name: timed(call, calls) for name, call in paths.items()}

    base = results[BASELINE]
    print(f"single-profile calls on {cores} cores; baseline: {BASELINE}")
    print(
        f"{'path':>24}  {'calls':>5}  {'p50 ms':>8}  {'p99 ms':>8}  {'mean ms':>8}"
        "   p50 / base  p99 / base"
    )
    for name, r in results.items():
        print(
            f"{name:>24}  {int(r['calls']):5d}  {r['p50']:8.3f}  {r['p99']:8.3f}  {r['mean']:8.3f}"
            f"   {r['p50'] / base['p50']:9.3f}x  {r['p99'] / base['p99']:9.3f}x"
        )
    print("article: about 5 ms average model latency on a SageMaker endpoint")
    fields = [
        f"{name}_{stat}_ms={r[stat]:.3f}" for name, r in results.items() for stat in ("p50", "p99")
    ]
    print("RESULT " + " ".join(fields))


if __name__ == "__main__":
    main()
