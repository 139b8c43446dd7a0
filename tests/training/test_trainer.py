"""Training runs: the run directory, resume after kill -9, several worlds."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

pytest.importorskip("stable_baselines3")

from deepracer.cli import main
from deepracer.envs import RacingEnv
from deepracer.errors import ConfigError, DeepRacerError
from deepracer.evaluation.runs import run_setup
from deepracer.experiment import load_experiment
from deepracer.logs import read_simtrace
from deepracer.runs import RunFiles
from deepracer.runs.progress import read_progress
from deepracer.training.trainer import train

ROOT = Path(__file__).resolve().parents[2]
TINY = [
    "train.total_timesteps=512",
    "train.checkpoint_every=256",
    "train.eval_every=256",
    "train.eval_trials=1",
    "train.n_envs=2",
    "eval.trials=2",
    "eval.max_steps=200",
]
TINY_PPO = ROOT / "tests" / "training" / "tiny_ppo.yaml"


def tiny_run(out: Path, *extra: str, experiment: str = "quickstart") -> Any:
    """Trains a few hundred steps into ``out`` (also used by the render tests)."""
    config = load_experiment(experiment, [*TINY, f"preset={TINY_PPO}", *extra])
    return train(config, out, argv=["pytest"], echo=lambda line: None)


def test_run_directory_holds_everything(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = tiny_run(out)
    for name in (
        "experiment.yaml",
        "command.txt",
        "version.txt",
        "reward_function.py",
        "model/model_metadata.json",
        "ip/hyperparameters.json",
        "training_metrics.json",
        "evaluations.json",
        "best.zip",
        "model.zip",
        "evaluation.json",
        "training.png",
        "checkpoints/latest.json",
    ):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "training_metrics.json").read_text())
    assert metrics["version"] == 2.0 and metrics["best_model_metric"] == "progress"
    rows = [r for r in metrics["metrics"] if r["phase"] == "training"]
    assert [r["episode"] for r in rows] == list(range(1, len(rows) + 1)) and rows
    evaluations = [r for r in metrics["metrics"] if r["phase"] == "evaluation"]
    assert evaluations and all(r["episode"] <= len(rows) for r in evaluations)
    progress = read_progress(out / "progress.json")
    assert progress is not None and progress.state == "finished"
    assert (progress.timesteps, progress.total_timesteps, progress.episodes) == (
        result.timesteps,
        512,
        len(rows),
    )
    assert {
        "reward_score",
        "metric_time",
        "start_time",
        "elapsed_time_in_milliseconds",
        "episode",
        "trial",
        "phase",
        "completion_percentage",
        "episode_status",
    } <= set(rows[0])
    simtrace = sorted((out / "training-simtrace").glob("*-iteration.csv"))
    assert simtrace and simtrace[0].name == "0-iteration.csv"  # from 0, as DRfC
    traced = {int(r["episode"]) for f in simtrace for r in read_simtrace(f)}
    assert traced == {r["episode"] - 1 for r in rows}  # the simtrace counts from 0
    (final,) = out.glob("evaluation-" + "[0-9]" * 14)
    trials = read_simtrace(final / "evaluation-simtrace" / "0-iteration.csv")
    assert sorted({int(r["episode"]) for r in trials}) == [0, 1]  # one number a trial
    assert len(result.trials) == 2 and result.timesteps >= 512
    assert result.steps_per_second == pytest.approx(result.timesteps / result.seconds)
    if importlib.util.find_spec("tensorboard") is not None:
        assert list((out / "tensorboard").rglob("events.out.tfevents*"))
    metadata = json.loads((out / "model" / "model_metadata.json").read_text())
    assert metadata["action_space_type"] == "discrete" and len(metadata["action_space"]) == 10


def test_existing_run_dir_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "something").write_text("x")
    with pytest.raises(DeepRacerError, match="use --resume"):
        tiny_run(out)


def test_resume_continues_to_the_budget(tmp_path: Path) -> None:
    out = tmp_path / "run"
    tiny_run(out)
    config = load_experiment("quickstart", [*TINY, f"preset={TINY_PPO}"])
    assert config.train.total_timesteps == 512
    # A resumed run with a larger budget (edit its saved experiment) trains on.
    saved = out / "experiment.yaml"
    saved.write_text(saved.read_text().replace("total_timesteps: 512", "total_timesteps: 1024"))
    before = json.loads((out / "training_metrics.json").read_text())["metrics"]
    result = train(None, out, resume=True, argv=["pytest"], echo=lambda line: None)
    after = json.loads((out / "training_metrics.json").read_text())["metrics"]
    assert result.timesteps >= 1024
    assert after[: len(before)] == before
    training = [r["episode"] for r in after if r["phase"] == "training"]
    assert training == list(range(1, len(training) + 1))
    assert "resume: pytest" in (out / "command.txt").read_text()


def test_two_worlds_train_one_model(tmp_path: Path) -> None:
    out = tmp_path / "run"
    tiny_run(out, experiment="two_worlds")
    rows = json.loads((out / "training_metrics.json").read_text())["metrics"]
    training = [r for r in rows if r["phase"] == "training"]
    assert {r["world_name"] for r in training} == {"oval", "kidney"}
    # DRfC's multi-worker layout: one simtrace folder per world, numbered 0, 1.
    assert not (out / "training-simtrace").exists()
    for worker, world in enumerate(("oval", "kidney")):
        mine = [r for r in training if r["worker"] == worker]
        assert {r["world_name"] for r in mine} == {world}
        files = list((out / str(worker) / "training-simtrace").glob("*-iteration.csv"))
        traced = {int(r["episode"]) for f in files for r in read_simtrace(f)}
        assert traced == set(range(len(mine)))  # the worker's own count, from 0


def test_bad_experiments_fail_before_training(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'totl_timesteps'.*'total_timesteps'"):
        load_experiment("quickstart", ["train.totl_timesteps=5"])
    with pytest.raises(ConfigError, match=r"env: .*unknown key 'strt'"):
        load_experiment("quickstart", ["env.strt.offset=0.5"])
    with pytest.raises(ConfigError, match="set observation at the top level"):
        load_experiment("quickstart", ["env.observation=lidar"])
    with pytest.raises(ConfigError, match="Did you mean 'console_default'"):
        config = load_experiment("quickstart", ["action_space=console_defalt"])
        train(config, tmp_path / "run", argv=["pytest"])
    assert not (tmp_path / "run").exists()


def test_cli_train_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    args = ["train", "quickstart", "--out", str(out), "--set", f"preset={TINY_PPO}"]
    for item in TINY:
        args += ["--set", item]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "environment steps/s" in printed and "trial" in printed
    assert main(["train", "--resume", str(tmp_path / "nothing")]) == 2
    assert "not a run directory" in capsys.readouterr().err
    assert main(["train", "quickstart", "--set", "train.total_timesteps=-3"]) == 2


def test_any_track_name_trains_as_its_default_world(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    args = ["train", "quickstart", "--out", str(out), "--set", f"preset={TINY_PPO}"]
    for item in [*TINY, "worlds=2022_summit_speedway"]:
        args += ["--set", item]
    assert main(args) == 0
    err = capsys.readouterr().err
    said = "world 2022_summit_speedway: no world file, so the default world on track"
    assert err.count(said) == 1 and "(RL Speedway): base surface, friction 0.5" in err
    assert "worlds:\n- 2022_summit_speedway" in (out / "experiment.yaml").read_text()
    rows = read_simtrace(sorted((out / "training-simtrace").glob("*.csv"))[0])
    assert float(rows[0]["track_len"]) == pytest.approx(25.17, abs=0.01)


def test_a_reward_importing_shapely_and_scipy_trains(tmp_path: Path) -> None:
    reward = tmp_path / "geometry.py"
    reward.write_text(
        "from scipy.spatial.distance import euclidean\n"
        "from shapely.geometry import LineString, Point\n\n\n"
        "def reward_function(params):\n"
        "    line = LineString(params['waypoints'])\n"
        "    off = line.distance(Point(params['x'], params['y']))\n"
        "    return 1.0 / (1.0 + off + euclidean([0, 0], [0, 0]))\n"
    )
    result = tiny_run(tmp_path / "run", f"reward={reward}")
    assert result.episodes > 0
    assert (tmp_path / "run" / "reward_function.py").read_text() == reward.read_text()


def test_cli_quickstart_compares_with_the_race_line_and_plots(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    args = ["quickstart", "--out", str(out), "--set", f"preset={TINY_PPO}"]
    for item in TINY:
        args += ["--set", item]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "the race line's" in printed and "plots:" in printed
    header = (out / "raceline.csv").read_text().splitlines()[0]
    assert header.startswith("distance,x,y,")
    # The final evaluation's laps against the line, as `deepracer evaluate` writes them.
    [folder] = RunFiles(out).evaluation_folders()
    comparison = json.loads((folder / "raceline_comparison.json").read_text())
    line = comparison["raceline"]
    assert line["lower_bound"] < line["lap_time"] < line["standing_lap_time"]
    assert f"the race line's {line['standing_lap_time']:.2f} s" in printed
    assert all(lap["raceline_time"] == line["standing_lap_time"] for lap in comparison["laps"])
    assert {p.name for p in (out / "analysis").glob("*.png")} >= {
        "track.png",
        "iterations.png",
        "actions.png",
    }


def test_imitation_runs_before_learning_and_counts_as_training_time(tmp_path: Path) -> None:
    lines: list[str] = []
    config = load_experiment(
        "quickstart",
        [*TINY, f"preset={TINY_PPO}", "train.imitation_steps=300", "train.imitation_rounds=2"],
    )
    result = train(config, tmp_path / "run", argv=["pytest"], echo=lines.append)
    assert any(line.startswith("imitation: 300 steps of the race-line driver") for line in lines)
    # DAgger: each round the policy drives half as many steps, all fitted with the rest.
    rounds = [line for line in lines if line.startswith("imitation round")]
    assert len(rounds) == 2, lines
    assert "drove 150 steps" in rounds[0] and "fitted on 450 of 450" in rounds[0]
    assert "fitted on 600 of 600" in rounds[1]
    assert result.timesteps >= 512


@pytest.mark.parametrize("where", ["import", "call"])
def test_a_reward_that_calls_sys_exit_fails_train_upload_and_check_reward(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    reward = tmp_path / "quits.py"
    body = "    sys.exit(0)\n    return 1.0\n" if where == "call" else "    return 1.0\n"
    top = "sys.exit(0)\n" if where == "import" else ""
    reward.write_text(f"import sys\n{top}\n\ndef reward_function(params):\n{body}")
    said = "called sys.exit(0)"
    out = tmp_path / "run"
    args = ["train", "quickstart", "--out", str(out), "--set", f"reward={reward}"]
    for item in [f"preset={TINY_PPO}", *TINY]:
        args += ["--set", item]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"error: {reward}" in err and said in err
    assert not (out / "model.zip").exists()
    assert main(["check-reward", str(reward)]) == 2
    assert said in capsys.readouterr().err
    if where == "import":  # upload reads the reward's source by loading it
        assert main(["upload", "quickstart", str(tmp_path / "s"), "--set", f"reward={reward}"]) == 2
        assert said in capsys.readouterr().err


def test_the_time_budget_holds_through_evaluations(tmp_path: Path) -> None:
    said: list[str] = []
    config = load_experiment(
        "quickstart",
        [*TINY, f"preset={TINY_PPO}", "train.total_timesteps=100000", "train.max_minutes=0.0002"],
    )
    result = train(config, tmp_path / "run", argv=["pytest"], echo=said.append)
    assert result.stopped_by == "time" and result.trials == []
    assert any("final evaluation cut short by train.max_minutes: 0 of 2" in s for s in said)
    assert result.timesteps < 2048  # not one more rollout once the budget was spent


def test_the_heartbeat_says_what_runs_when_nothing_moves(monkeypatch: pytest.MonkeyPatch) -> None:
    from deepracer.rewards import loader
    from deepracer.training.trainer import Heartbeat

    said: list[str] = []
    beat = Heartbeat(said.append, every=15.0)
    beat.beat(100.0)
    beat.check(110.0)
    assert said == []
    running = SimpleNamespace(name="rewards/slow.py", _since=time.perf_counter() - 7.0)
    monkeypatch.setattr(loader, "_in_call", [running])
    beat.check(116.0)
    assert said == [
        "still training: nothing new for 16 s; rewards/slow.py has been in one reward_function"
        " call for 7 s"
    ]
    beat.check(120.0)  # said 4 s ago: not again yet
    beat.beat(121.0, "evaluating")
    monkeypatch.setattr(loader, "_in_call", [None])
    beat.check(140.0)
    assert said[1:] == ["still evaluating: nothing new for 19 s"]


def test_training_warns_about_duplicate_actions(tmp_path: Path) -> None:
    actions = tmp_path / "twice.json"
    entries = [{"steering_angle": a, "speed": 1.0} for a in (-30, 0, 30, 0)]
    actions.write_text(json.dumps({"action_space": entries}))
    said: list[str] = []
    config = load_experiment("quickstart", [*TINY, f"preset={TINY_PPO}", f"action_space={actions}"])
    train(config, tmp_path / "run", argv=["pytest"], echo=said.append)
    assert f"warning: {actions}: action_space: actions 1, 3 are the same command" in said[0]


def _train_command(*args: str) -> list[str]:
    command = [sys.executable, "-m", "deepracer.cli", "train", "quickstart"]
    for item in [f"preset={TINY_PPO}", *TINY, *args]:
        command += ["--set", item]
    return command


@pytest.mark.slow  # for time: two trainings (tests/runs/test_lock.py claims in one second)
def test_two_runs_started_in_the_same_second_get_two_directories(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # Both claim runs/quickstart-<second>: the second one gets a "-2" directory.
    children = [
        subprocess.Popen(
            _train_command(),
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for child in children:
        _, err = child.communicate(timeout=300)
        assert child.returncode == 0, err[-2000:]
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 2
    for run in runs:
        assert (run / "evaluation.json").is_file()
        rows = json.loads((run / "training_metrics.json").read_text())["metrics"]
        training = [r["episode"] for r in rows if r["phase"] == "training"]
        assert training == list(range(1, len(training) + 1))


def test_resuming_a_run_that_is_training_names_the_pid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [*_train_command("train.total_timesteps=200000"), "--out", str(out)]
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while not (out / "experiment.yaml").is_file():
            assert child.poll() is None and time.time() < deadline, "training did not start"
            time.sleep(0.05)
        assert main(["train", "--resume", str(out)]) == 2
        assert f"{out}: run is in use by pid {child.pid} " in capsys.readouterr().err
        assert main(["train", "quickstart", "--out", str(out)]) == 2  # nor a new run there
        assert f"in use by pid {child.pid}" in capsys.readouterr().err
    finally:
        child.kill()
        child.wait()


def test_two_resumes_of_one_run_at_once_the_second_names_the_pid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    tiny_run(out)
    saved = out / "experiment.yaml"
    saved.write_text(saved.read_text().replace("total_timesteps: 512", "total_timesteps: 200000"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "deepracer.cli", "train", "--resume", str(out)]
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while "resume: " not in (out / "command.txt").read_text():  # the child holds the run
            assert child.poll() is None and time.time() < deadline, "the resume did not start"
            time.sleep(0.05)
        assert main(["train", "--resume", str(out)]) == 2
        assert f"{out}: run is in use by pid {child.pid} " in capsys.readouterr().err
    finally:
        child.kill()
        child.wait()


@pytest.mark.slow
def test_full_quickstart_laps_three_of_three(tmp_path: Path) -> None:
    assert main(["quickstart", "--out", str(tmp_path / "run")]) == 0
    summary = json.loads((tmp_path / "run" / "evaluation.json").read_text())
    assert [t["status"] for t in summary["trials"]] == ["lap_complete"] * 3


def test_ctrl_c_writes_a_checkpoint(tmp_path: Path) -> None:
    out = tmp_path / "run"
    command = [
        sys.executable, "-m", "deepracer.cli", "train", "quickstart", "--out", str(out),
        "--set", f"preset={TINY_PPO}", "--set", "train.total_timesteps=100000",
        "--set", "train.checkpoint_every=100000", "--set", "train.eval_every=100000",
        "--set", "train.n_envs=2",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    metrics = out / "training_metrics.json"
    deadline = time.time() + 120
    while time.time() < deadline:
        if metrics.is_file() and len(json.loads(metrics.read_text())["metrics"]) > 5:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 130
    assert b"--resume" in process.stderr.read()
    checkpoint = json.loads((out / "checkpoints" / "latest.json").read_text())
    assert checkpoint["timesteps"] > 0
    rows = json.loads(metrics.read_text())["metrics"]
    assert sum(r["phase"] == "training" for r in rows) == checkpoint["episodes"]
    # What a dashboard follows: the run says it was interrupted, where, and no ETA.
    progress = read_progress(out / "progress.json")
    assert progress is not None and progress.state == "interrupted"
    assert (progress.timesteps, progress.episodes) == (
        checkpoint["timesteps"],
        checkpoint["episodes"],
    )
    assert progress.eta_seconds is None and progress.total_timesteps == 100000


def test_a_run_keeps_the_car_it_trained_with(tmp_path: Path) -> None:
    from deepracer.config.loader import load_yaml, to_mapping
    from deepracer.physics.profiles import load_profile

    out = tmp_path / "run"
    tiny_run(out, "env.vehicle=console-2022")
    saved = load_yaml(out / "experiment.yaml")
    assert saved["env"]["vehicle"] == to_mapping(load_profile("console-2022").params)
    setup = run_setup(out, None, 200)
    assert RacingEnv(setup.config).vehicle == load_profile("console-2022").params


def test_a_run_from_before_vehicle_profiles_keeps_its_car_and_observation(
    tmp_path: Path,
) -> None:
    """Such a run names no car: it drove the kinematic car and saw 15 floats."""
    from deepracer.config.loader import load_yaml
    from deepracer.physics.profiles import load_profile

    out = tmp_path / "run"
    tiny_run(out, "env.vehicle=kinematic", "env.state={steering_command: false}")
    saved = load_yaml(out / "experiment.yaml")
    del saved["env"]["vehicle"], saved["env"]["state"]  # what such a run recorded
    (out / "experiment.yaml").write_text(yaml.safe_dump(saved))
    setup = run_setup(out, None, 200)
    env = RacingEnv(setup.config)
    assert env.vehicle == load_profile("kinematic").params
    assert env.observation_space.shape == (15,)
    assert main(["evaluate", str(out), "--trials", "1"]) == 0


def test_worlds_with_different_cars_cannot_train_together(tmp_path: Path) -> None:
    world = tmp_path / "w.yaml"
    world.write_text("track: oval\nvehicle: kinematic\n")
    with pytest.raises(ConfigError, match="drive different vehicles; a run trains one car"):
        tiny_run(tmp_path / "run", f"worlds=[oval, {world}]")
