"""Sweep files: validation names the file and the field; trials are planned the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from deepracer.errors import ConfigError
from deepracer.sweep.config import find_sweep, load_sweep, trial_name, trial_overrides
from deepracer.sweep.trials import plan_trials


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def test_the_shipped_sweep_plans_four_reward_trials() -> None:
    sweep, base = load_sweep("quickstart_rewards")
    assert base.name == "quickstart" and base.train.max_minutes == 3
    planned = plan_trials(sweep)
    assert [p["params"]["reward"] for p in planned] == [
        "speed_progress", "centerline", "waypoint_direction", "steering_penalty"
    ]  # fmt: skip
    assert len({p["name"] for p in planned}) == 4
    assert planned == plan_trials(sweep)  # a rerun finds the same trials


def test_random_draws_are_seeded_and_names_differ(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "experiment: quickstart\ngrid:\n  reward: [centerline, speed_progress]\n"
        "random:\n  train.seed: {randint: [0, 100]}\n"
        "  env.episode.max_steps: {choice: [500, 1000]}\nsamples: 3\nseed: 4\n",
    )
    sweep, _ = load_sweep(path)
    first = plan_trials(sweep)
    assert len(first) == 6 and first == plan_trials(sweep)
    assert len({p["name"] for p in first}) == 6
    seeds = [p["params"]["train.seed"] for p in first]
    assert all(0 <= s < 100 for s in seeds) and len(set(seeds)) > 1
    other, _ = load_sweep(_write(tmp_path, path.read_text().replace("seed: 4", "seed: 5")))
    assert plan_trials(other) != first
    overrides = trial_overrides(sweep, first[0]["params"])
    assert overrides[0].startswith("env.episode.max_steps=") and "reward=" in overrides[1]


def test_repeats_of_a_grid_point_get_their_own_directories() -> None:
    assert trial_name({"reward": "a"}, 0) != trial_name({"reward": "a"}, 1)
    assert trial_name({"reward": "a"}) == trial_name({"reward": "a"})
    name = trial_name({"reward": "../x/../../evil", "lr": 0.000123456})
    assert "/" not in name and name.startswith("lr=0.000123,reward=evil")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("experiment: quickstart\ngrd: {reward: [a]}\n", r"s\.yaml.*grd.*Did you mean 'grid'"),
        ("experiment: quickstart\n", r"s\.yaml: nothing varies"),
        ("grid: {reward: [centerline]}\n", r"s\.yaml: experiment: give the base experiment"),
        (
            "experiment: quickstart\ngrid: {reward: [centerline, no_such_reward]}\n",
            r"s\.yaml: .*no_such_reward",
        ),
        (
            "experiment: quickstart\ngrid: {train.total_timestep: [1000]}\n",
            r"s\.yaml: .*total_timestep.*Did you mean 'total_timesteps'",
        ),
        (
            "experiment: quickstart\nrandom: {train.seed: {randint: [5, 5]}}\n",
            r"random\.train\.seed\.randint: expected \[low, high\] with low < high",
        ),
        (
            "experiment: quickstart\nrandom: {train.seed: {randint: [0, 5], choice: [1]}}\n",
            r"random\.train\.seed: give exactly one of",
        ),
        (
            "experiment: quickstart\nsearch: optuna\ngrid: {reward: [centerline]}\n",
            r"grid: search optuna draws every key",
        ),
        (
            "experiment: quickstart\ngrid: {train.eval_trials: [0]}\n",
            r"s\.yaml: .*eval_trials",
        ),
        ("experiment: quickstart\nname: ../up\ngrid: {reward: [centerline]}\n", r"not a plain"),
    ],
)
def test_bad_sweeps_name_the_file_and_the_field(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_sweep(_write(tmp_path, text))


def test_an_unknown_sweep_lists_the_shipped_ones() -> None:
    with pytest.raises(ConfigError, match=r"quickstart_reward:.*quickstart_rewards"):
        find_sweep("quickstart_reward")
