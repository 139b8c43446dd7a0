"""Reads a run with deepracer-utils' documented calls and prints what it found as JSON.

Runs in deepracer-utils' own venv (its package is also called ``deepracer``), never
with ours on the path: ``python -I client.py RUN TRACKS_DIR TRACK``. Every call is
used as deepracer-utils' README and notebooks use it, on the run as it lies: no
renaming, no patching. A call that fails makes the script fail.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import matplotlib

matplotlib.use("Agg")  # plt.show() does nothing: the plots are built, not shown

from deepracer.logs import (
    AnalysisUtils,
    DeepRacerLog,
    PlottingUtils,
    TrainingMetrics,
)
from deepracer.tracks import TrackIO


def main(run: str, tracks: str, track_name: str) -> dict[str, Any]:
    """The numbers deepracer-utils reads from the run."""
    track = TrackIO(base_path=tracks).load_track(track_name)

    log = DeepRacerLog(run)
    log.load_training_trace()
    df = log.dataframe()
    agg = AnalysisUtils.simulation_agg(df, secondgroup="unique_episode")
    AnalysisUtils.analyze_training_progress(agg, title="training")
    AnalysisUtils.scatter_aggregates(agg, "training")
    best = agg.nlargest(3, "progress")
    PlottingUtils.plot_selected_laps(best, df, track, section_to_plot="unique_episode")
    laps = agg[agg["progress"] == 100]

    metrics = TrainingMetrics(None, fname=f"{run}/training_metrics.json")
    training = metrics.getTraining()
    evaluation_rows = metrics.getEvaluation()

    evaluation = DeepRacerLog(run)
    evaluation.load_evaluation_trace()
    eval_df = evaluation.dataframe()
    PlottingUtils.plot_evaluations(eval_df, track)
    streams = {}
    for stream, trials in eval_df.groupby("stream"):
        trial_agg = AnalysisUtils.simulation_agg(trials, is_eval=True).sort_values("episode")
        streams[str(stream)] = {
            "episodes": [int(e) for e in trial_agg["episode"]],
            "progress": [float(p) for p in trial_agg["progress"]],
            "times": [float(t) for t in trial_agg["time"]],
        }

    return {
        "numeric_columns": all(str(df[c].dtype) != "object" for c in ("x", "y", "progress")),
        "training_steps": len(df),
        "unique_episodes": sorted(int(e) for e in df["unique_episode"].unique()),
        "iterations": sorted(int(i) for i in df["iteration"].unique()),
        "agg_episodes": len(agg),
        "laps": sorted(int(e) for e in laps["unique_episode"]),
        "lap_times": {
            str(int(e)): float(t) for e, t in zip(laps["unique_episode"], laps["time"], strict=True)
        },
        "hyperparameters": log.hyperparameters(),
        "action_space": log.action_space(),
        "agent_and_network": log.agent_and_network(),
        "metrics_episodes": int(training["episode"].max()),
        "metrics_iterations": int(training["iteration"].max()) + 1,
        "metrics_evaluation_rows": len(evaluation_rows),
        "metrics_laps": int(training["complete"].sum()),
        "evaluations": streams,
    }


if __name__ == "__main__":
    found = main(*sys.argv[1:4])
    print()  # deepracer-utils prints as it goes: the answer is the last line
    print(json.dumps(found))
