"""Calibration finds the car that wrote a log, and refuses logs it cannot use.

The logs are written by a known car (see ``test_replay.logged``), so the fit must
give its parameters back; real logs are not part of the suite.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from deepracer.cli import main
from deepracer.errors import DeepRacerError
from deepracer.logs.logset import LogSet
from deepracer.physics import VehicleParams
from deepracer.physics.calibrate import FITTED, calibrate, split_episodes
from deepracer.physics.profiles import load_profile
from tests.physics.test_replay import CAR, _write_simtrace, logged, weaving

LOGS = LogSet([logged(weaving(120, s), seed=s) for s in range(8)], [], track_len=17.7)


@pytest.fixture(scope="module")
def fitted() -> object:
    return calibrate(LOGS, base=VehicleParams(), samples=600, bootstrap=0, seed=1)


def test_the_fit_gives_back_the_car_that_drove(fitted: object) -> None:
    car = fitted.profile.params  # type: ignore[attr-defined]
    assert car.control_delay == pytest.approx(CAR.control_delay, abs=1e-4)
    for name in FITTED:
        if name == "grip_scale":
            continue  # weaving at 0.8-2 m/s never reaches the grip limit: not identifiable
        # The start speed is estimated from two logged poses, which blurs the speed lag.
        tolerance = 0.06 if name == "speed_time_constant" else 0.03
        assert getattr(car, name) == pytest.approx(getattr(CAR, name), rel=tolerance), name
    assert not car.traction_limit
    # Its own car replays its logs to millimetres, on episodes it did not see too.
    assert max(fitted.fitted.model_cm) < 2.0  # type: ignore[attr-defined]
    assert max(fitted.held_out.model_cm) < 2.0  # type: ignore[attr-defined]
    assert fitted.before.model_cm[1] > 10 * fitted.fitted.model_cm[1]  # type: ignore[attr-defined]


def test_the_profile_records_what_it_was_fitted_on(fitted: object) -> None:
    calibration = fitted.profile.calibration  # type: ignore[attr-defined]
    assert calibration.held_out_steps + calibration.fitted_steps == 8 * 118
    assert calibration.held_out_steps == 2 * 118  # a quarter of the episodes
    assert set(calibration.errors_cm) == {"before", "fitted", "held_out", "constant_velocity"}
    assert calibration.errors_cm["held_out"]["15"] == round(fitted.held_out.model_cm[1], 1)  # type: ignore[attr-defined]


def test_the_split_is_seeded_and_disjoint() -> None:
    fit, held = split_episodes(LOGS, 0.25, seed=3)
    assert held is not None
    assert len(fit.episodes) == 6 and len(held.episodes) == 2
    ids = {id(e) for e in fit.episodes}
    assert not ids & {id(e) for e in held.episodes}
    again, _ = split_episodes(LOGS, 0.25, seed=3)
    assert [id(e) for e in again.episodes] == [id(e) for e in fit.episodes]
    assert split_episodes(LOGS, 0.0, seed=3) == (LOGS, None)


@pytest.mark.parametrize(
    ("holdout", "episodes", "message"),
    [
        (1.0, 8, r"--holdout must be a fraction in \[0, 1\), got 1.0"),
        (-0.1, 8, r"--holdout must be a fraction in \[0, 1\)"),
        (0.25, 2, "the logs hold 2 usable episodes: too few to hold 1 out"),
    ],
)
def test_bad_splits_are_refused(holdout: float, episodes: int, message: str) -> None:
    logs = dataclasses.replace(LOGS, episodes=LOGS.episodes[:episodes])
    with pytest.raises(DeepRacerError, match=message):
        split_episodes(logs, holdout, seed=0)


def test_the_command_writes_a_profile_the_env_can_drive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_simtrace(tmp_path / "logs/training-simtrace/0-iteration.csv", LOGS.episodes)
    out = tmp_path / "cars/mine.yaml"
    args = ["calibrate", str(tmp_path / "logs"), "--out", str(out), "--samples", "150"]
    assert main([*args, "--bootstrap", "2", "--base", "kinematic"]) == 0
    text = capsys.readouterr().out
    assert "before = vehicle profile 'kinematic'" in text
    assert text.splitlines()[-1].startswith("RESULT err_1step_cm=")
    profile = load_profile(out)
    assert profile.name == "mine"
    assert profile.params.steering_time_constant == pytest.approx(0.25, rel=0.05)
    assert set(profile.calibration.uncertainty) == {*FITTED, "control_delay"}  # type: ignore[union-attr]
    plots = sorted(p.name for p in (tmp_path / "cars/mine-plots").iterdir())
    assert plots == [
        "curvature_vs_steering.png",
        "error_vs_horizon.png",
        "speed_response.png",
        "yaw_rate.png",
    ]
    # An existing profile is never replaced by accident.
    before = out.read_bytes()
    assert main([*args, "--no-plots"]) == 2
    assert "exists; pass --force to replace it" in capsys.readouterr().err
    assert out.read_bytes() == before

    from deepracer.envs import RacingEnv

    env = RacingEnv({"world": "oval", "vehicle": str(out)})
    assert env.vehicle == profile.params


@pytest.mark.parametrize(
    ("write", "message"),
    [
        ("missing", "not a DeepRacer simtrace: missing column(s)"),
        ("one", "a car model needs at least 2"),
    ],
)
def test_the_command_refuses_logs_it_cannot_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], write: str, message: str
) -> None:
    path = tmp_path / "0-iteration.csv"
    if write == "missing":
        _write_simtrace(path, LOGS.episodes[:3])
        lines = path.read_text().splitlines()
        path.write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n")
    else:
        _write_simtrace(path, LOGS.episodes[:1])
    out = tmp_path / "car.yaml"
    assert main(["calibrate", str(tmp_path), "--out", str(out), "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and message in err, err
    assert str(path) in err or write == "one"
    assert not out.exists()
