"""A runs folder for the dashboard's tests: one real tiny run and its variants."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from deepracer.runs import RunFiles
from deepracer.runs.layout import RACELINE_COMPARISON

PLUGIN_EXPERIMENT = "name: churn\nplugin: churn\nseed: 0\n"
IMPORTED_EXPERIMENT = """\
description: imported from model.tar.gz
worlds: [reInvent2019_track]
observation: camera
action_space: /elsewhere/model/model_metadata.json
reward: centerline
preset: camera_ppo
"""


def runs_folder(root: Path, trained: Path) -> Path:
    """``root`` with copies of ``trained`` as a run, a sweep trial and a damaged run,
    a plugin run, and an export of each kind in the first run."""
    shutil.copytree(trained, root / "quick")
    shutil.copytree(trained, root / "sweeps" / "rewards" / "trials" / "reward=centerline-1a2b")
    broken = shutil.copytree(trained, root / "broken")
    metrics = RunFiles(broken).training_metrics
    data = metrics.read_bytes()
    metrics.write_bytes(data[: len(data) // 2])  # half-written by a copy that stopped
    RunFiles(broken).evaluations.write_text("[{")
    plugin = root / "churn-20261207-101010"
    plugin.mkdir()
    (plugin / "experiment.yaml").write_text(PLUGIN_EXPERIMENT)
    (plugin / "metrics.json").write_text(json.dumps({"auc": 0.91, "ks": {"score": 0.5}}))
    (plugin / "report.md").write_text("# Churn\n<script>alert(1)</script>\n")
    [folder] = RunFiles(root / "quick").evaluation_folders()
    line = {"standing_lap_time": 9.5, "lap_time": 8.25, "lower_bound": 7.75}
    (folder / RACELINE_COMPARISON).write_text(json.dumps({"raceline": line, "laps": []}))
    exports = RunFiles(root / "quick").exports
    exports.mkdir()
    (exports / "quick-car.tar.gz").write_bytes(b"car archive bytes")
    (exports / "quick-droa").mkdir()
    (exports / "quick-droa" / "model_metadata.json").write_text("{}")
    imported = root / "console-model"  # what `deepracer import` writes, less the graph
    RunFiles(imported).model_metadata.parent.mkdir(parents=True)
    shutil.copy(RunFiles(trained).model_metadata, RunFiles(imported).model_metadata)
    RunFiles(imported).experiment.write_text(IMPORTED_EXPERIMENT)
    RunFiles(imported).imported.write_text(
        json.dumps({"source": "model.tar.gz", "algorithm": "clipped_ppo"})
    )
    drfc = root / "drfc-model"  # a DRfC model folder: metadata and logs, none of ours
    RunFiles(drfc).model_metadata.parent.mkdir(parents=True)
    shutil.copy(RunFiles(trained).model_metadata, RunFiles(drfc).model_metadata)
    shutil.copy(RunFiles(trained).training_metrics, RunFiles(drfc).training_metrics)
    (root / "notes").mkdir()  # a folder that is no run
    (root / "notes" / "todo.txt").write_text("nothing")
    return root
