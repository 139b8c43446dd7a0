"""TrainingLog and EpisodeLogger: DeepRacer's metrics and simtrace, numbered as the simapp does."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from deepracer.envs import RacingEnv
from deepracer.errors import DeepRacerError
from deepracer.evaluation import TrialResult
from deepracer.logs import read_simtrace, simtrace_row
from deepracer.runs.training_log import FinishedEpisode, TrainingLog
from deepracer.training.runlog import EpisodeLogger

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


def new_log(run: Path, *, per_iteration: int = 100, **kwargs: Any) -> TrainingLog:
    """A TrainingLog of ``per_iteration`` episodes per iteration (100: one iteration)."""
    return TrainingLog(run, episodes_per_iteration=per_iteration, **kwargs)


def test_metrics_rows_hold_what_the_episodes_did(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    env = EpisodeLogger(RacingEnv({"world": "oval"}), log, world="oval")
    before = time.time()
    played = _drive(env, 3)
    after = time.time()
    assert log.flush() == 1
    rows = json.loads((tmp_path / "training_metrics.json").read_text())["metrics"]
    assert [r["episode"] for r in rows] == [1, 2, 3]  # the simapp counts from 1
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
    log = new_log(tmp_path)
    env = EpisodeLogger(RacingEnv({"world": "oval"}), log, world="oval")
    played = _drive(env, 2)
    log.flush()
    path = tmp_path / "training-simtrace" / "0-iteration.csv"  # from 0, as DRfC
    assert b"\r\n" not in path.read_bytes()  # plain newlines, as the simapp's CSV
    rows = read_simtrace(path)
    for k, episode in enumerate(played):
        mine = [r for r in rows if int(r["episode"]) == k]
        assert len(mine) == episode["steps"]  # the prepare step and one per action
        assert [r["done"] for r in mine] == ["False"] * (len(mine) - 1) + ["True"]
        assert mine[0]["episode_status"] == "prepare"
        assert sum(float(r["reward"]) for r in mine) == pytest.approx(episode["reward"])


def test_without_simtrace_only_the_metrics_are_written(tmp_path: Path) -> None:
    log = new_log(tmp_path, simtrace=False)
    _drive(EpisodeLogger(RacingEnv({"world": "oval"}), log, world="oval"), 1)
    log.flush()
    assert not (tmp_path / "training-simtrace").exists()
    assert len(json.loads((tmp_path / "training_metrics.json").read_text())["metrics"]) == 1


def _episodes(path: Path) -> list[int]:
    return sorted({int(r["episode"]) for r in read_simtrace(path)})


def test_iterations_are_blocks_of_episodes_from_0_with_no_empty_file(tmp_path: Path) -> None:
    log = new_log(tmp_path, per_iteration=2)
    env = EpisodeLogger(RacingEnv({"world": "oval"}), log, world="oval")
    _drive(env, 3)
    log.flush()
    folder = tmp_path / "training-simtrace"
    assert sorted(p.name for p in folder.iterdir()) == ["0-iteration.csv", "1-iteration.csv"]
    assert _episodes(folder / "0-iteration.csv") == [0, 1]
    assert _episodes(folder / "1-iteration.csv") == [2]  # the open block, whole episodes
    log.flush()  # an iteration without a finished episode writes no empty file
    assert sorted(p.name for p in folder.iterdir()) == ["0-iteration.csv", "1-iteration.csv"]
    _drive(env, 2)
    log.flush()
    assert _episodes(folder / "1-iteration.csv") == [2, 3]
    assert _episodes(folder / "2-iteration.csv") == [4]
    rows = log.rows
    assert [(r["episode"], r["trial"]) for r in rows] == [(1, 1), (2, 2), (3, 1), (4, 2), (5, 1)]


def test_a_resume_cuts_the_logs_back_to_its_checkpoint(tmp_path: Path) -> None:
    log = new_log(tmp_path, per_iteration=2)
    env = EpisodeLogger(RacingEnv({"world": "oval"}), log, world="oval")
    _drive(env, 3)
    log.flush()
    trials = [TrialResult(1, "off_track", 12.0, None, 31, [])]
    log.evaluation(trials, timesteps=300, dt=1 / 15)  # before the checkpoint: stays
    _drive(env, 2)
    log.flush()
    log.evaluation(trials, timesteps=600, dt=1 / 15)  # after it: undone
    # The checkpoint was taken at 300 steps with 3 episodes; what came after is undone.
    resumed = new_log(tmp_path, per_iteration=2, keep_episodes=3, keep_until_steps=300)
    folder = tmp_path / "training-simtrace"
    assert sorted(p.name for p in folder.iterdir()) == ["0-iteration.csv", "1-iteration.csv"]
    assert _episodes(folder / "1-iteration.csv") == [2]
    rows = json.loads((tmp_path / "training_metrics.json").read_text())["metrics"]
    assert [(r["episode"], r["phase"]) for r in rows] == [
        (1, "training"),
        (2, "training"),
        (3, "training"),
        (3, "evaluation"),
    ]
    assert resumed.episodes == 3
    _drive(EpisodeLogger(RacingEnv({"world": "oval"}), resumed, world="oval"), 2)
    assert resumed.flush() == 1
    assert _episodes(folder / "1-iteration.csv") == [2, 3]
    assert _episodes(folder / "2-iteration.csv") == [4]
    assert [(r["episode"], r["trial"]) for r in resumed.rows[-2:]] == [(4, 2), (5, 1)]


def test_a_resume_at_the_end_of_an_iteration_keeps_it_whole(tmp_path: Path) -> None:
    log = new_log(tmp_path, per_iteration=2)
    env = EpisodeLogger(RacingEnv({"world": "oval"}), log, world="oval")
    _drive(env, 3)
    log.flush()
    resumed = new_log(tmp_path, per_iteration=2, keep_episodes=2)
    folder = tmp_path / "training-simtrace"
    assert sorted(p.name for p in folder.iterdir()) == ["0-iteration.csv"]
    _drive(EpisodeLogger(RacingEnv({"world": "oval"}), resumed, world="oval"), 1)
    resumed.flush()
    assert _episodes(folder / "0-iteration.csv") == [0, 1]
    assert _episodes(folder / "1-iteration.csv") == [2]


def test_evaluation_rows_carry_the_last_training_episode(tmp_path: Path) -> None:
    log = new_log(tmp_path, per_iteration=4, simtrace=False)
    for _ in range(3):
        log.complete(
            FinishedEpisode([], reward=1, status="off_track", progress=5, start_time=0.0, world="w")
        )
    log.evaluation(
        [
            TrialResult(1, "lap_complete", 100.0, 9.5, 143, []),
            TrialResult(2, "off_track", 40.0, None, 16, []),
        ],
        timesteps=512,
        dt=0.1,
    )
    rows = json.loads((tmp_path / "training_metrics.json").read_text())["metrics"]
    evaluation = [r for r in rows if r["phase"] == "evaluation"]
    assert [(r["episode"], r["trial"]) for r in evaluation] == [(3, 3), (3, 3)]
    assert [r["episode_status"] for r in evaluation] == ["Lap complete", "Off track"]
    assert [r["elapsed_time_in_milliseconds"] for r in evaluation] == [9500, 1500]
    assert [r["completion_percentage"] for r in evaluation] == [100, 40]
    assert log.episodes == 3 and len(log.recent()) == 3  # training rows only


def test_several_worlds_write_drfc_multi_worker_folders(tmp_path: Path) -> None:
    log = new_log(tmp_path, per_iteration=4, workers=2)  # 2 episodes per worker and block
    for worker in (0, 1, 1, 1, 0):
        row = simtrace_row(RacingEnv({"world": "oval"}).reset(seed=0)[1], done=True)
        finished = FinishedEpisode(
            [row], reward=0, status="off_track", progress=1, start_time=0, world="w", worker=worker
        )
        log.complete(finished)
    log.flush()
    assert not (tmp_path / "training-simtrace").exists()
    assert _episodes(tmp_path / "0" / "training-simtrace" / "0-iteration.csv") == [0, 1]
    assert _episodes(tmp_path / "1" / "training-simtrace" / "0-iteration.csv") == [0, 1]
    assert _episodes(tmp_path / "1" / "training-simtrace" / "1-iteration.csv") == [2]
    assert [r["worker"] for r in log.rows] == [0, 1, 1, 1, 0]
    assert [r["trial"] for r in log.rows] == [1, 2, 3, 4, 1]


def test_a_fresh_log_ignores_an_old_metrics_file(tmp_path: Path) -> None:
    (tmp_path / "training_metrics.json").write_text('{"metrics": [{"epis')  # even a damaged one
    assert new_log(tmp_path).episodes == 0  # keep_episodes 0: nothing is read


class _Clock:
    def __init__(self, *readings: float) -> None:
        self.readings = list(readings)

    def time(self) -> float:
        return self.readings.pop(0)


def test_times_trials_and_statuses_as_deepracer_writes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deepracer.runs import training_log

    monkeypatch.setattr(training_log, "time", _Clock(1000.0025, 1007.5, 1011.25))
    log = new_log(tmp_path)
    for status, start in (("off_track", 1000.0), ("lap_complete", 1003.0)):
        log.complete(
            FinishedEpisode(
                [], reward=1.4, status=status, progress=99.9, start_time=start, world="w"
            )
        )
    log.flush()
    log.complete(
        FinishedEpisode([], reward=-2.6, status="weird", progress=0.5, start_time=1011.0, world="w")
    )
    rows = log.rows
    assert [
        (r["start_time"], r["metric_time"], r["elapsed_time_in_milliseconds"]) for r in rows
    ] == [
        (1000000, 1000002, 3),
        (1003000, 1007500, 4500),
        (1011000, 1011250, 250),
    ]
    assert [r["episode_status"] for r in rows] == ["Off track", "Lap complete", "weird"]
    assert [r["trial"] for r in rows] == [1, 2, 3]  # blocks of episodes, not of updates
    assert [r["reward_score"] for r in rows] == [1, 1, -3]
    assert [r["completion_percentage"] for r in rows] == [99, 99, 0]


def test_recent_gives_the_last_50_by_default(tmp_path: Path) -> None:
    log = new_log(tmp_path, simtrace=False)
    for k in range(60):
        log.complete(
            FinishedEpisode([], reward=k, status="off_track", progress=1, start_time=0.0, world="w")
        )
    assert [r["episode"] for r in log.recent()] == list(range(11, 61))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"metrics": [{"episode": 1, "phase": "training"}]}',
         "the checkpoint counts 2 recorded episodes, the file holds 1; the run's logs were"
         " changed or cut short. Restore them from a copy or start a new run"),
        ('{"metrics": {}}', 'expected a JSON object with a "metrics" list of objects'),
        ("[1, 2]", 'expected a JSON object with a "metrics" list of objects'),
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
        new_log(tmp_path, keep_episodes=2)
    assert str(info.value) == f"{path}: {message}"


def test_an_unreadable_metrics_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "training_metrics.json").write_bytes(b'{"metrics": ["\xff\xfe"]}')  # no UTF-8
    with pytest.raises(DeepRacerError, match=r"training_metrics\.json: cannot read it \("):
        new_log(tmp_path, keep_episodes=1)
