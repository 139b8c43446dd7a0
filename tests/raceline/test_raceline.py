from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from deepracer.cli import main
from deepracer.envs import EnvConfig, RacingEnv, StartConfig
from deepracer.envs.world import load_world
from deepracer.errors import DeepRacerError, TrackError
from deepracer.physics.kinematic import rest_state, step
from deepracer.physics.profiles import default_vehicle
from deepracer.physics.vehicle import GRAVITY, VehicleParams
from deepracer.raceline import (
    CarLimits,
    RaceLine,
    compute_raceline,
    plot_raceline,
    read_csv,
    write_csv,
)
from deepracer.raceline.follow import LineFollower
from deepracer.raceline.profile import closed_profile, curvature, standing_profile
from deepracer.raceline.reward import reward_source
from deepracer.raceline.solver import build_corridor, wheels_on_road
from deepracer.tracks import get_track
from tests.envs.drivers import CONTINUOUS, pure_pursuit, to_action

CAR = default_vehicle()  # the car every env drives unless told otherwise
LIMITS = CarLimits.of(CAR, 0.5)  # the reinvent_base world's grip
REWARDS = Path(__file__).resolve().parents[2] / "rewards"


def circle(radius: float, count: int = 2000) -> np.ndarray:
    angle = np.linspace(0.0, 2.0 * math.pi, count, endpoint=False)
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)


def test_limits_are_the_simulators() -> None:
    assert LIMITS.grip == pytest.approx(CAR.grip_scale * 0.5 * GRAVITY)
    kappa_steer = math.tan(math.radians(30.0)) / CAR.effective_wheelbase
    assert LIMITS.kappa_steer == pytest.approx(kappa_steer)
    assert LIMITS.kappa_rate == pytest.approx(kappa_steer / CAR.steering_time_constant)
    assert LIMITS.tau == CAR.speed_time_constant
    assert LIMITS.accel == math.inf  # its wheels reach a speed within the lag alone
    assert CarLimits.of(CAR, 0.5, v_max=3.0).v_max == 3.0
    ideal = CarLimits.of(VehicleParams(), 0.5)  # the kinematic car: no steering lag
    assert ideal.kappa_rate == math.inf
    assert ideal.accel == ideal.grip == pytest.approx(0.5 * GRAVITY)


def test_a_lagging_car_enters_a_corner_no_faster_than_its_steering_turns() -> None:
    # A straight into a 1 m circle: the curvature jumps by 1/m within one 2 cm point.
    kappa = np.r_[np.zeros(200), np.ones(200)]
    ds = np.full(400, 0.01)
    fast = LIMITS._replace(grip=1e3, kappa_rate=math.inf)
    speed, _ = closed_profile(kappa, ds, fast)
    assert speed.max() == pytest.approx(CAR.max_speed)  # no grip, no lag: top speed
    slow = fast._replace(kappa_rate=LIMITS.kappa_rate)
    speed, _ = closed_profile(kappa, ds, slow)
    # dkappa/ds = 1 / 0.02 m at both ends of the jump (central differences).
    cap = LIMITS.kappa_rate / 50.0
    assert speed[199] == pytest.approx(cap) and speed[200] == pytest.approx(cap)
    assert speed.max() == pytest.approx(CAR.max_speed)


def test_a_steady_corner_runs_at_the_grip_limit() -> None:
    kappa, ds = curvature(circle(1.0))
    assert kappa == pytest.approx(1.0, rel=1e-4)
    speed, lap = closed_profile(kappa, ds, LIMITS)
    v = math.sqrt(LIMITS.grip * 1.0)
    assert speed == pytest.approx(v, rel=1e-4)
    assert lap == pytest.approx(2.0 * math.pi / v, rel=1e-3)


@pytest.mark.parametrize(
    "vehicle",
    [VehicleParams(), dataclasses.replace(CAR, control_delay=0.0)],
    ids=["kinematic", "default without its delay"],
)
def test_standing_start_matches_the_simulated_car(vehicle: VehicleParams) -> None:
    # A huge circle is a straight for the car: full throttle from rest.
    kappa, ds = curvature(circle(200.0, 40000))  # 3 cm apart
    speed, _ = standing_profile(kappa, ds, CarLimits.of(vehicle, 0.5))
    distance = np.concatenate(([0.0], np.cumsum(ds)))
    state = rest_state(0.0, 0.0, 0.0)
    for _ in range(30):  # 2 s at 15 Hz
        state = step(state, 0.0, vehicle.max_speed, vehicle, 1.0 / 15.0, 0.5)
        # v grows like sqrt(distance) from rest: interpolate v**2, which is smooth.
        expected = math.sqrt(np.interp(state[0], distance, speed**2))
        assert expected == pytest.approx(state[3], rel=0.01, abs=0.01)


@pytest.fixture(scope="module")
def base_line() -> tuple[RaceLine, object]:
    track = get_track("reinvent_base")
    return compute_raceline(track, LIMITS), track


def test_reinvent_base_line_is_closed_on_track_and_beats_the_centre_line(
    base_line: tuple[RaceLine, object],
) -> None:
    line, track = base_line
    gaps = np.linalg.norm(np.roll(line.rear, -1, axis=0) - line.rear, axis=1)
    assert gaps.max() < 0.1  # closed: the last point joins the first like any other
    assert wheels_on_road(track, line.rear, CAR).all()  # the env's own test
    assert line.lap_time < line.centerline_time
    assert line.lower_bound < line.lap_time < line.standing_lap_time
    # The K1999-style candidate is in the search and no candidate beats the winner.
    assert "K1999" in line.candidates
    assert min(after for _, after in line.candidates.values()) == pytest.approx(
        line.lap_time, rel=1e-6
    )


@pytest.mark.parametrize(("speed", "lookahead"), [(1.2, 0.45), (2.0, 0.7)])
def test_the_bound_is_never_beaten_by_pure_pursuit(
    base_line: tuple[RaceLine, object], speed: float, lookahead: float
) -> None:
    line, _ = base_line
    env = RacingEnv(EnvConfig(world="reinvent_base", action_space=CONTINUOUS))
    env.reset(seed=0)
    while True:
        action = pure_pursuit(env, lookahead=lookahead, speed=speed)
        _, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
    assert info["episode_status"] == "lap_complete"
    assert info["sim_time"] > line.lower_bound
    assert info["sim_time"] > line.standing_lap_time  # and the line's own time holds too


def test_following_the_line_in_the_simulator_takes_about_its_lap_time(
    base_line: tuple[RaceLine, object],
) -> None:
    line, _ = base_line
    world = load_world("reinvent_base")
    quiet = dataclasses.replace(
        world, noise=dataclasses.replace(world.noise, steering_std=0.0, speed_std=0.0)
    )
    env = RacingEnv(
        EnvConfig(world=quiet, action_space=CONTINUOUS, start=StartConfig(round_robin_advance=0.0))
    )
    follower = LineFollower(line)
    env.reset(seed=0)
    while True:
        command = follower.command(env.car_state)
        _, _, terminated, truncated, info = env.step(to_action(*command))
        if terminated or truncated:
            break
    assert info["episode_status"] == "lap_complete"
    # The line is feasible: a controller at 15 Hz with the car's lags comes within 10 %
    # (7 % measured from this start).
    assert line.standing_lap_time <= info["sim_time"] <= 1.10 * line.standing_lap_time


def test_csv_png_and_reward_files(tmp_path: Path) -> None:
    track = get_track("oval")
    line = compute_raceline(track, LIMITS, iterations=20)  # the files, not the line
    write_csv(line, tmp_path / "line.csv")
    columns = read_csv(tmp_path / "line.csv")
    assert columns["x"] == pytest.approx(line.model_point[:, 0], abs=1e-4)
    assert columns["speed"] == pytest.approx(line.speed, abs=1e-4)
    assert columns["time"][-1] < line.lap_time
    plot_raceline(line, track, tmp_path / "line.png")
    image = np.asarray(Image.open(tmp_path / "line.png").convert("L"), dtype=np.float64)
    assert image.shape[0] > 300 and image.std() > 10.0
    namespace: dict[str, object] = {}
    exec(compile(reward_source(line, track), "reward.py", "exec"), namespace)
    reward = namespace["reward_function"]
    on_line = {
        "x": float(line.model_point[40, 0]),
        "y": float(line.model_point[40, 1]),
        "speed": float(line.speed[40]),
        "progress": 10.0,
        "steps": 10,
        "track_width": 0.76,
        "closest_waypoints": [int(track.locate(line.model_point[40]).prev_index), 0],
        "waypoints": [tuple(p) for p in track.waypoints],
        "is_offtrack": False,
    }
    off_line = {**on_line, "x": on_line["x"] + 0.15, "speed": 0.5}
    assert reward(on_line) > reward(off_line) > 1e-3  # type: ignore[operator]
    assert reward({**on_line, "is_offtrack": True}) == 1e-3  # type: ignore[operator]
    with pytest.raises(ValueError, match="race line of oval"):
        reward({**on_line, "waypoints": on_line["waypoints"][:-1]})  # type: ignore[operator]


def test_the_shipped_race_line_reward_is_the_generators(base_line: tuple[RaceLine, object]) -> None:
    line, track = base_line
    shipped: dict[str, Any] = {}
    exec((REWARDS / "raceline_reinvent_base.py").read_text(), shipped)
    fresh: dict[str, Any] = {}
    exec(reward_source(line, track), fresh)  # type: ignore[arg-type]
    assert shipped["LINE_AT_WAYPOINT"] == fresh["LINE_AT_WAYPOINT"]
    assert np.allclose(shipped["RACE_LINE"], fresh["RACE_LINE"], atol=0.02)
    assert shipped["LINE_STEPS"] == pytest.approx(fresh["LINE_STEPS"], abs=0.5)


def test_read_csv_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("x,y\n1,2\n3,oops\n")
    with pytest.raises(DeepRacerError, match=r"bad.csv:3: column 'y'"):
        read_csv(path)
    path.write_text("a,b\n1,2\n")
    with pytest.raises(DeepRacerError, match="columns x and y"):
        read_csv(path)


def test_an_open_track_has_no_race_line() -> None:
    with pytest.raises(TrackError, match="closed track"):
        build_corridor(get_track("straight"))


def test_no_room_for_a_line_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["raceline", "oval", "--margin", "0.5", "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: oval: no room for a race line near x") and "lower --margin" in err
    from deepracer.tracks.builtin import route_from_centerline

    t = np.linspace(0.0, 2.0 * math.pi, 100, endpoint=False)
    narrow = route_from_centerline(np.c_[3.0 * np.cos(t), 2.0 * np.sin(t)], 0.1, closed=True)
    np.save(tmp_path / "narrow.npy", narrow)
    assert main(["raceline", str(tmp_path / "narrow.npy"), "--out", str(tmp_path / "b")]) == 2
    assert "error: narrow: no room for a race line" in capsys.readouterr().err


def test_cli_writes_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "lines"
    code = main(["raceline", "oval", "--out", str(out), "--reward", str(tmp_path / "r.py")])
    assert code == 0
    assert "lower bound" in capsys.readouterr().out
    assert {p.name for p in out.iterdir()} == {
        "oval_raceline.csv",
        "oval_raceline.png",
        "oval_raceline.json",
    }
    assert (tmp_path / "r.py").read_text().startswith('"""Follow the race line of oval')


def test_a_slow_car_on_the_kidney_gets_a_line() -> None:
    # At 1 m/s grip never binds: the best line is the shortest one, pressed against
    # its bounds all the way round (this once failed the repair loop).
    vehicle = VehicleParams()
    track = get_track("kidney")
    line = compute_raceline(track, CarLimits.of(vehicle, 0.5, v_max=1.0), vehicle)
    assert wheels_on_road(track, line.rear, vehicle).all()
    assert line.lower_bound < line.lap_time < line.centerline_time
