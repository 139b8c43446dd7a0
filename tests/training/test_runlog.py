"""RunLog and EpisodeLogger: DeepRacer's metrics and simtrace of what really happened."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from deepracer.envs import RacingEnv
from deepracer.errors import DeepRacerError
from deepracer.logs import read_simtrace
from deepracer.training.runlog import EpisodeLogger, RunLog

RIGHT_LOCK = 1  # -30 deg at 1 m/s: off the oval within a few dozen steps


def _drive(env: EpisodeLogger, episodes: int, seed: int = 0) -> list[dict[str, object]]:
    """Plays ``episodes`` episodes; returns each one's steps, reward sum and last info."""
    played = []
    for k in range(episodes):
        env.reset(seed=seed + k)
        rewards, steps = [], 1
        while True:
            _, reward, terminated, truncated, info = env.step(RIGHT_LOCK)
            rewards.append(float(reward))
            steps += 1
            if terminated or truncated:
                break
        played.append({"reward": sum(rewards), "steps": steps, "info": info})
    return played


def test_metrics_rows_hold_what_the_episodes_did(tmp_path: Path) -> None:
    log = RunLog(tmp_path)
    env = EpisodeLogger(RacingEnv({"world": "oval"}), log, world="oval")
    before = time.time()
    played = _drive(env, 3)
    after = time.time()
    assert log.flush() == 1
    rows = json.loads((tmp_path / "training_metrics.json").read_text())["metrics"]
    assert [r["episode"] for r in rows] == [0, 1, 2]
    assert [r["trial"] for r in rows] == [1, 2, 3]  # 1-based within the iteration
    for row, episode in zip(rows, played, strict=True):
        info = episode["info"]
        assert isinstance(info, dict)
        assert row["reward_score"] == round(float(episode["reward"]))  # type: ignore[arg-type]
        assert row["completion_percentage"] == int(info["params"]["progress"])
        assert row["episode_status"] == "Off track" and info["episode_status"] == "off_track"
        assert row["phase"] == "training" and row["world_name"] == "oval"
        # Wall-clock milliseconds since the epoch, as the simapp writes them.
        assert before * 1000 - 1 <= row["start_time"] <= row["metric_time"] <= after * 1000 + 1
        assert (
            abs(row["elapsed_time_in_milliseconds"] - (row["metric_time"] - row["start_time"])) <= 1
        )
    assert log.recent(2) == rows[1:] and log.episodes == 3


def test_the_simtrace_has_every_step_of_every_episode(tmp_path: Path) -> None:
    log = RunLog(tmp_path)
    env = EpisodeLogger(RacingEnv({"world": "oval"}), log, world="oval")
    played = _drive(env, 2)
    log.flush()
    path = tmp_path / "training-simtrace" / "1-iteration.csv"
    assert b"\r\n" not in path.read_bytes()  # plain newlines, as the simapp's CSV
    rows = read_simtrace(path)
    for k, episode in enumerate(played):
        mine = [r for r in rows if int(r["episode"]) == k]
        assert len(mine) == episode["steps"]  # the prepare step and one per action
        assert [r["done"] for r in mine] == ["False"] * (len(mine) - 1) + ["True"]
        assert mine[0]["episode_status"] == "prepare"
        assert sum(float(r["reward"]) for r in mine) == pytest.approx(episode["reward"])


def test_without_simtrace_only_the_metrics_are_written(tmp_path: Path) -> None:
    log = RunLog(tmp_path, simtrace=False)
    _drive(EpisodeLogger(RacingEnv({"world": "oval"}), log, world="oval"), 1)
    log.flush()
    assert not (tmp_path / "training-simtrace").exists()
    assert len(json.loads((tmp_path / "training_metrics.json").read_text())["metrics"]) == 1


def test_a_resume_cuts_the_logs_back_to_its_checkpoint(tmp_path: Path) -> None:
    log = RunLog(tmp_path)
    env = EpisodeLogger(RacingEnv({"world": "oval"}), log, world="oval")
    for _ in range(3):  # three iterations of two episodes
        _drive(env, 2)
        log.flush()
    # The checkpoint was taken after iteration 2 (4 episodes); iteration 3 is undone.
    resumed = RunLog(tmp_path, keep_episodes=4, iteration=2)
    names = sorted(p.name for p in (tmp_path / "training-simtrace").iterdir())
    assert names == ["1-iteration.csv", "2-iteration.csv"]
    rows = json.loads((tmp_path / "training_metrics.json").read_text())["metrics"]
    assert [r["episode"] for r in rows] == [0, 1, 2, 3] and resumed.episodes == 4
    _drive(EpisodeLogger(RacingEnv({"world": "oval"}), resumed, world="oval"), 1)
    assert resumed.flush() == 3
    rows = json.loads((tmp_path / "training_metrics.json").read_text())["metrics"]
    assert rows[-1]["episode"] == 4 and rows[-1]["trial"] == 1


def test_a_fresh_log_ignores_an_old_metrics_file(tmp_path: Path) -> None:
    (tmp_path / "training_metrics.json").write_text('{"metrics": [{"epis')  # even a damaged one
    assert RunLog(tmp_path).episodes == 0  # keep_episodes 0: nothing is read


class _Clock:
    def __init__(self, *readings: float) -> None:
        self.readings = list(readings)

    def time(self) -> float:
        return self.readings.pop(0)


def test_times_trials_and_statuses_as_deepracer_writes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deepracer.training import runlog

    monkeypatch.setattr(runlog, "time", _Clock(1000.0025, 1007.5, 1011.25))
    log = RunLog(tmp_path)
    for status, start in (("off_track", 1000.0), ("lap_complete", 1003.0)):
        log.complete([], reward=1.4, status=status, progress=99.9, start_time=start, world="w")
    log.flush()
    log.complete([], reward=-2.6, status="weird", progress=0.5, start_time=1011.0, world="w")
    rows = log.rows
    assert [
        (r["start_time"], r["metric_time"], r["elapsed_time_in_milliseconds"]) for r in rows
    ] == [
        (1000000, 1000002, 3),
        (1003000, 1007500, 4500),
        (1011000, 1011250, 250),
    ]
    assert [r["episode_status"] for r in rows] == ["Off track", "Lap complete", "weird"]
    assert [r["trial"] for r in rows] == [1, 2, 1]  # counted again after the flush
    assert [r["reward_score"] for r in rows] == [1, 1, -3]
    assert [r["completion_percentage"] for r in rows] == [99, 99, 0]


def test_recent_gives_the_last_50_by_default(tmp_path: Path) -> None:
    log = RunLog(tmp_path, simtrace=False)
    for k in range(60):
        log.complete([], reward=k, status="off_track", progress=1, start_time=0.0, world="w")
    assert [r["episode"] for r in log.recent()] == list(range(10, 60))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"metrics": [{"episode": 0}]}', "the checkpoint counts 2 recorded episodes, the file"
         " holds 1; the run's logs were changed or cut short. Restore them from a copy or"
         " start a new run"),
        ('{"metrics": {}}', 'expected a JSON object with a "metrics" list'),
        ("[1, 2]", 'expected a JSON object with a "metrics" list'),
        ('{"metr', "not valid JSON (line 1, column 2: Unterminated string starting at);"
         " deepracer writes it whole or not at all, so it was damaged afterwards. Restore it"
         " from a copy or start a new run"),
    ],
)  # fmt: skip
def test_a_metrics_file_that_does_not_fit_the_checkpoint_is_named(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "training_metrics.json"
    path.write_text(text)
    with pytest.raises(DeepRacerError) as info:
        RunLog(tmp_path, keep_episodes=2, iteration=1)
    assert str(info.value) == f"{path}: {message}"


def test_an_unreadable_metrics_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "training_metrics.json").write_bytes(b'{"metrics": ["\xff\xfe"]}')  # no UTF-8
    with pytest.raises(DeepRacerError, match=r"training_metrics\.json: cannot read it \("):
        RunLog(tmp_path, keep_episodes=1, iteration=1)
