"""Replaying logs through the car: the errors measure what they claim to.

The logs here are written by the package's own car from known commands, so the
replay must find (almost) no error with the car that wrote them and a clear one with
another; a straight drive at constant speed is what constant velocity predicts
exactly.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from deepracer.cli import main
from deepracer.errors import DeepRacerError
from deepracer.logs.logset import REQUIRED_COLUMNS, LogEpisode, LogSet
from deepracer.physics import VehicleParams, rest_state, step
from deepracer.physics.profiles import VehicleProfile, save_profile
from deepracer.physics.replay import replay_errors

# A car like the Gazebo one: lagging steering and speed, a control delay.
CAR = VehicleParams(
    steering_time_constant=0.25,
    effective_wheelbase=0.22,
    speed_time_constant=0.1,
    grip_scale=0.9,
    control_delay=1 / 60,
    traction_limit=False,
)
KINEMATIC = VehicleParams()
BACK = CAR.rear_axle_offset + CAR.model_point_offset
FRICTION = 0.5


def logged(
    commands: list[tuple[float, float]],
    *,
    car: VehicleParams = CAR,
    seed: int = 0,
    v0: float = 1.0,
) -> LogEpisode:
    """An episode ``car`` drives: row i logs the pose and command i.

    Steps last 1/15 s give or take the jitter real logs show.
    """
    rng = np.random.default_rng(seed)
    state = rest_state(0.0, 0.0, 0.3, v0)
    t, rows = 20.0, []
    for steer, speed in commands:
        x, y, yaw = state[:3]
        rows.append((t, x + BACK * math.cos(yaw), y + BACK * math.sin(yaw), yaw))
        dt = 1 / 15 + rng.uniform(-0.015, 0.015)
        state = step(state, steer, speed, car, dt, FRICTION)
        t += dt
    t_, x_, y_, yaw_ = (np.array(c) for c in zip(*rows, strict=True))
    return LogEpisode(
        source="synthetic:0",
        track_len=17.7,
        t=t_,
        x=x_,
        y=y_,
        yaw=np.unwrap(yaw_),
        steer=np.array([c[0] for c in commands]),
        throttle=np.array([c[1] for c in commands]),
        status=("in_progress",) * len(commands),
    )


def weaving(n: int, seed: int = 1) -> list[tuple[float, float]]:
    """Steering held for a few steps at a time, speeds from 0.8 to 2 m/s."""
    rng = np.random.default_rng(seed)
    out: list[tuple[float, float]] = []
    while len(out) < n:
        steer = math.radians(rng.uniform(-25.0, 25.0))
        speed = rng.uniform(0.8, 2.0)
        out += [(steer, speed)] * int(rng.integers(3, 9))
    return out[:n]


def test_the_cars_own_log_replays_with_almost_no_error() -> None:
    logs = LogSet([logged(weaving(120)), logged(weaving(90, seed=2), seed=3)], [], track_len=17.7)
    errors = replay_errors(logs, CAR, friction=FRICTION)
    assert errors.horizons == (1, 15, 45)
    # Starts run from the second row to the one h rows before the end.
    assert errors.starts == (118 + 88, 104 + 74, 74 + 44)
    # Only the starting speed, estimated from two logged poses while the car speeds up
    # or slows down, differs from the car's own (its steering state is warmed up from
    # the commands before): millimetres, against decimetres.
    assert max(errors.model_cm) < 2.0, errors
    assert min(errors.constant_velocity_cm[1:]) > 20 * max(errors.model_cm), errors


@pytest.mark.parametrize(
    "other",
    [
        KINEMATIC,
        dataclasses.replace(CAR, control_delay=0.0),
        dataclasses.replace(CAR, steering_time_constant=0.1),
    ],
    ids=["kinematic", "no delay", "faster steering"],
)
def test_only_the_car_that_drove_the_log_replays_it(other: VehicleParams) -> None:
    logs = LogSet([logged(weaving(150)), logged(weaving(150, 4))], [], track_len=17.7)
    right = replay_errors(logs, CAR, friction=FRICTION)
    wrong = replay_errors(logs, other, friction=FRICTION)
    assert max(right.model_cm) < 2.0, right
    assert wrong.model_cm[1] > 3 * right.model_cm[1], (wrong, right)
    assert right.starts == wrong.starts


def test_a_straight_drive_at_constant_speed_is_what_constant_velocity_predicts() -> None:
    logs = LogSet([logged([(0.0, 1.0)] * 60, v0=1.0)] * 2, [], track_len=17.7)  # already at speed
    errors = replay_errors(logs, CAR, horizons=(1, 15), friction=FRICTION)
    assert errors.constant_velocity_cm == pytest.approx((0.0, 0.0), abs=1e-9)
    assert errors.model_cm == pytest.approx((0.0, 0.0), abs=1e-9)


def test_the_table_and_the_result_line() -> None:
    logs = LogSet([logged(weaving(60)), logged(weaving(60, 5))], [], track_len=17.7)
    errors = replay_errors(logs, CAR, friction=FRICTION)
    m, c = errors.model_cm, errors.constant_velocity_cm
    assert errors.result_line() == (
        f"RESULT err_1step_cm={m[0]:.1f} err_15_cm={m[1]:.1f} err_45_cm={m[2]:.1f}"
        f" cv_15_cm={c[1]:.1f}"
    )
    lines = errors.table().splitlines()
    assert lines[0].split() == ["horizon", "steps", "model", "cm", "const.", "vel.", "cm"]
    assert lines[2].split() == ["15", str(errors.starts[1]), f"{m[1]:.1f}", f"{c[1]:.1f}"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizons": (0, 15)}, r"replay horizons must be >= 1 steps, got \(0, 15\)"),
        ({"horizons": ()}, r"replay horizons must be >= 1 steps, got \(\)"),
        ({"horizons": (1, 80)}, "no episode of the logs is long enough to replay 80 steps"),
    ],
)
def test_bad_settings_and_short_logs(kwargs: dict[str, object], message: str) -> None:
    logs = LogSet([logged(weaving(40)), logged(weaving(40, 6))], [], track_len=17.7)
    with pytest.raises(DeepRacerError, match=message):
        replay_errors(logs, CAR, **kwargs)  # type: ignore[arg-type]


def _write_simtrace(path: Path, episodes: list[LogEpisode]) -> None:
    lines = [",".join(REQUIRED_COLUMNS)]
    for number, e in enumerate(episodes):
        for i in range(len(e)):
            values = (e.x[i], e.y[i], np.degrees(e.yaw[i]), np.degrees(e.steer[i]), e.throttle[i])
            text = ",".join(repr(float(v)) for v in values)
            lines.append(f"{number},{i + 1},{text},{e.track_len},{float(e.t[i])!r},{e.status[i]}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def test_the_replay_command_reads_a_log_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    episodes = [logged(weaving(80)), logged(weaving(80, 7))]
    _write_simtrace(tmp_path / "logs/training-simtrace/0-iteration.csv", episodes)
    save_profile(VehicleProfile(name="mine", params=CAR), tmp_path / "mine.yaml")
    assert main(["replay", str(tmp_path / "logs"), "--vehicle", str(tmp_path / "mine.yaml")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "1 simtrace file(s), 2 episodes, 160 steps on a 17.700 m track"
    assert out[1] == "replayed with vehicle profile 'mine', surface friction 0.5"
    expected = replay_errors(LogSet(episodes, [], track_len=17.7), CAR, friction=FRICTION)
    # The CSV holds each float exactly (repr), so the replay sees the same numbers.
    assert out[-1] == expected.result_line()
    assert float(out[-1].split()[2].split("=")[1]) < 2.0  # err_15_cm: its own car


def test_the_replay_command_defaults_to_the_default_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_simtrace(tmp_path / "0-iteration.csv", [logged(weaving(60)), logged(weaving(60, 8))])
    assert main(["replay", str(tmp_path)]) == 0
    assert "replayed with vehicle profile 'deepracer-on-aws'" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--friction", "0"], "error: --friction must be > 0, got 0.0"),
        (["--vehicle", "kinematc"], "Did you mean 'kinematic'?"),
    ],
)
def test_the_replay_command_refuses_bad_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    _write_simtrace(tmp_path / "0-iteration.csv", [logged(weaving(60)), logged(weaving(60, 8))])
    assert main(["replay", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and message in err
