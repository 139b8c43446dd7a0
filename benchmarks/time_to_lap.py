"""Time to the first reliable lap: the real measure of a training setup.

Usage: python benchmarks/time_to_lap.py [--only quickstart|camera] [--out DIR]

Trains ``experiments/quickstart.yaml`` (vector observation) and
``experiments/camera.yaml`` (160x120 camera, DeepRacer SHALLOW CNN) with their own
budgets and reads each run's ``evaluations.json`` (the periodic greedy evaluations,
3 trials from the start line): the wall time and environment steps of training until
the first evaluation with 3/3 completed laps, and the best greedy lap time within the
budget. Targets on 2 cores: vector 3/3 laps within 60 s of training, camera within
10 minutes. Ends with one ``RESULT name=value ...`` line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from deepracer.experiment import load_experiment
from deepracer.training.trainer import train


def measure(name: str, out: Path) -> dict[str, float]:
    """Trains one experiment into ``out``; returns its figures."""
    experiment = load_experiment(name)
    result = train(experiment, out, argv=["time_to_lap.py"], echo=lambda line: None)
    evaluations: list[dict[str, Any]] = json.loads((out / "evaluations.json").read_text())
    first = next((e for e in evaluations if e["laps_completed"] == e["trials"] == 3), None)
    laps = [e["best_lap_time"] for e in evaluations if e["best_lap_time"] is not None]
    final = [t.lap_time for t in result.trials if t.lap_time is not None]
    return {
        f"{name}_seconds_to_3of3": first["wall_seconds"] if first else float("nan"),
        f"{name}_steps_to_3of3": first["timesteps"] if first else float("nan"),
        f"{name}_best_lap_s": min(laps) if laps else float("nan"),
        f"{name}_final_laps_of_3": float(len(final)),
        f"{name}_train_seconds": result.seconds,
        f"{name}_steps_per_s": result.steps_per_second,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", choices=["quickstart", "camera"])
    parser.add_argument("--out", type=Path, help="keep the runs here (default: a temp dir)")
    args = parser.parse_args()
    names = [args.only] if args.only else ["quickstart", "camera"]
    root = args.out or Path(tempfile.mkdtemp(prefix="time_to_lap-"))
    results: dict[str, float] = {}
    for name in names:
        print(f"training {name} into {root / name} ...", file=sys.stderr, flush=True)
        results.update(measure(name, root / name))
    for key, value in results.items():
        print(f"{key:>32}: {value:10.2f}")
    print("RESULT " + " ".join(f"{k}={v:.2f}" for k, v in results.items()))


if __name__ == "__main__":
    main()
