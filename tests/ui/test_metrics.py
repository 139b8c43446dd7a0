"""``training_metrics.json`` read incrementally: always what a full read gives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from deepracer.ui.metrics import Episodes, MetricsReader, downsample


def _rows(first: int, count: int, *, evaluation_every: int = 0) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for episode in range(first, first + count):
        rows.append({
            "reward_score": episode * 3 % 17, "episode": episode, "trial": 1,
            "phase": "training", "completion_percentage": episode * 7 % 101,
            "episode_status": "Lap complete" if episode % 5 == 0 else "Off track",
        })  # fmt: skip
        if evaluation_every and episode % evaluation_every == 0:
            rows.append({
                "episode": episode, "phase": "evaluation", "completion_percentage": 50,
                "elapsed_time_in_milliseconds": 9000, "episode_status": "Off track",
            })  # fmt: skip
    return rows


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    # As the trainer writes it: the whole document, the list first (see TrainingLog).
    document = {"metrics": rows, "version": 2.0, "best_model_metric": "progress"}
    path.write_text(json.dumps(document) + "\n")


def _expected(rows: list[dict[str, Any]]) -> list[tuple[int, float, float]]:
    return [
        (r["episode"], r["completion_percentage"], float(r["episode_status"] == "Lap complete"))
        for r in rows
        if r["phase"] == "training"
    ]


def _got(episodes: Episodes) -> list[tuple[int, float, float]]:
    return list(
        zip(
            episodes.episode.tolist(),
            episodes.progress.tolist(),
            episodes.lap.tolist(),
            strict=True,
        )
    )


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=6))
def test_appended_iterations_read_as_a_fresh_read_would(
    tmp_path_factory: Any, growth: list[int]
) -> None:
    path = tmp_path_factory.mktemp("metrics") / "training_metrics.json"
    reader = MetricsReader(path)
    rows: list[dict[str, Any]] = []
    for added in growth:
        rows += _rows(len([r for r in rows if r["phase"] == "training"]) + 1, added,
                      evaluation_every=7)  # fmt: skip
        _write(path, rows)
        assert _got(reader.read()) == _expected(rows)
        assert reader.warnings == []
    assert len(reader.read().evaluations) == sum(r["phase"] == "evaluation" for r in rows)


def test_a_resume_that_cut_the_log_back_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "training_metrics.json"
    reader = MetricsReader(path)
    rows = _rows(1, 300)
    _write(path, rows)
    assert len(reader.read()) == 300
    rows = rows[:120] + _rows(121, 5)  # resumed from a checkpoint at episode 120
    for row in rows[120:]:
        row["reward_score"] = 99
    _write(path, rows)
    episodes = reader.read()
    assert _got(episodes) == _expected(rows) and episodes.reward[-1] == 99


def test_a_truncated_file_gives_the_rows_before_the_cut_and_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "training_metrics.json"
    rows = _rows(1, 100)
    _write(path, rows)
    text = path.read_text()
    path.write_text(text[: text.index('"episode": 61,')])  # cut inside row 61
    reader = MetricsReader(path)
    assert _got(reader.read()) == _expected(rows[:60])
    assert "ends in the middle of its metrics list" in reader.warnings[0]
    _write(path, rows)  # the writer finishes: the whole log, no warning
    assert _got(reader.read()) == _expected(rows) and reader.warnings == []
    path.write_text("not json")
    assert len(MetricsReader(path).read()) == 0
    reader = MetricsReader(path)
    reader.read()
    assert reader.warnings and "not valid JSON" in reader.warnings[0]


def test_another_writers_layout_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "training_metrics.json"
    rows = _rows(1, 30)
    path.write_text(json.dumps({"version": "2", "metrics": rows}, indent=4))
    reader = MetricsReader(path)
    assert _got(reader.read()) == _expected(rows)
    rows += _rows(31, 3)
    path.write_text(json.dumps({"version": "2", "metrics": rows}, indent=4))
    assert _got(reader.read()) == _expected(rows)


def test_downsample_averages_buckets_and_keeps_short_series() -> None:
    episodes = Episodes(
        np.arange(1, 11), np.arange(10.0), np.arange(10.0) * 10, np.array([0.0, 1.0] * 5)
    )
    assert downsample(episodes, 20)[1] is episodes
    bucket, points = downsample(episodes, 4)
    assert bucket == 3
    assert points.episode.tolist() == [3, 6, 9, 10]
    assert points.reward.tolist() == [1.0, 4.0, 7.0, 9.0]
    assert points.lap.tolist() == [1 / 3, 2 / 3, 1 / 3, 1.0]
    assert episodes.after(8).episode.tolist() == [9, 10]
    assert episodes.tail(2).episode.tolist() == [9, 10]
