"""Vehicle profiles: the shipped cars, where an env's car comes from, bad files."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from deepracer.config.resources import available
from deepracer.envs import RacingEnv
from deepracer.envs.vector import RacingVectorEnv
from deepracer.envs.world import WorldConfig
from deepracer.errors import ConfigError
from deepracer.physics import VehicleParams
from deepracer.physics.calibrate import FITTED
from deepracer.physics.profiles import (
    DEFAULT_PROFILE,
    VehicleProfile,
    default_vehicle,
    load_profile,
    resolve_vehicle,
    save_profile,
)


def test_the_shipped_profiles() -> None:
    assert available("vehicles") == ["console-2022", "deepracer-on-aws", "kinematic"]
    assert DEFAULT_PROFILE == "deepracer-on-aws"
    assert load_profile("kinematic").params == dataclasses.replace(
        VehicleParams(), speed_time_constant=0.25
    )
    for name in ("deepracer-on-aws", "console-2022"):
        profile = load_profile(name)
        calibration = profile.calibration
        assert calibration is not None, name
        # Each fitted profile says what it was fitted on and how well it replays it.
        assert calibration.logs and calibration.simapp and calibration.fitted_steps > 1000
        assert set(calibration.uncertainty) == {*FITTED, "control_delay"}
        held, fitted = calibration.errors_cm["held_out"], calibration.errors_cm["fitted"]
        assert held["15"] < 0.5 * calibration.errors_cm["constant_velocity"]["15"]
        assert fitted["15"] < 0.5 * calibration.errors_cm["before"]["15"]
        assert profile.params.steering_time_constant > 0 and not profile.params.traction_limit


def test_a_profile_round_trips(tmp_path: Path) -> None:
    profile = load_profile("console-2022")
    path = save_profile(dataclasses.replace(profile, name="copy"), tmp_path / "copy.yaml")
    again = load_profile(path)
    assert again.params == profile.params and again.calibration == profile.calibration
    assert again.name == "copy"


def test_where_the_car_comes_from(tmp_path: Path) -> None:
    default = default_vehicle()
    assert RacingEnv({"world": "oval"}).vehicle == default
    assert RacingEnv({"world": "oval", "vehicle": "kinematic"}).vehicle == VehicleParams(
        speed_time_constant=0.25
    )
    mine = tmp_path / "slow.yaml"
    save_profile(VehicleProfile(params=VehicleParams(max_speed=2.0)), mine)
    assert RacingEnv({"world": "oval", "vehicle": str(mine)}).vehicle.max_speed == 2.0
    # A mapping overrides a profile's values: its own, else the world's.
    over = RacingEnv({"world": "oval", "vehicle": {"max_speed": 3.0}}).vehicle
    assert over == dataclasses.replace(default, max_speed=3.0)
    world = {"track": "oval", "name": "o", "vehicle": "console-2022"}
    assert RacingEnv({"world": world}).vehicle == load_profile("console-2022").params
    on_world = RacingEnv({"world": world, "vehicle": {"max_speed": 3.0}}).vehicle
    assert on_world == dataclasses.replace(load_profile("console-2022").params, max_speed=3.0)
    named = {"profile": "kinematic", "max_speed": 3.0}
    assert RacingEnv({"world": world, "vehicle": named}).vehicle.steering_time_constant == 0.0


def test_resolve_vehicle_takes_params_as_they_are() -> None:
    car = VehicleParams(max_speed=1.0)
    assert resolve_vehicle(car, "console-2022") is car
    assert resolve_vehicle(None, "") == default_vehicle()


@pytest.mark.parametrize(
    ("vehicle", "message"),
    [
        ("kinematc", "no shipped vehicle of that name. Did you mean 'kinematic'?"),
        ({"max_sped": 3.0}, "vehicle: unknown key 'max_sped'. Did you mean 'max_speed'?"),
        ({"max_speed": "fast"}, "vehicle.max_speed: expected a number, got str 'fast'"),
        ({"profile": 3}, "vehicle.profile: expected a profile name or path"),
        ({"control_delay": 0.5}, "control_delay 0.5 s exceeds one control step"),
    ],
)
def test_bad_vehicles_are_refused(vehicle: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        RacingEnv({"world": "oval", "vehicle": vehicle})


def test_a_bad_profile_file_names_the_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("params:\n  steering_time_constant: -1\n")
    with pytest.raises(ConfigError, match=rf"{path}: params\.steering_time_constant: expected"):
        load_profile(path)
    path.write_text("parms: {}\n")
    with pytest.raises(ConfigError, match=r"unknown key 'parms'\. Did you mean 'params'"):
        load_profile(path)


def test_a_world_naming_an_unknown_profile_is_refused(tmp_path: Path) -> None:
    world = tmp_path / "w.yaml"
    world.write_text("track: oval\nvehicle: nope\n")
    with pytest.raises(ConfigError, match=rf"{world}: vehicle: nope: no such file"):
        RacingEnv({"world": str(world)})


def test_one_vector_env_drives_one_car() -> None:
    worlds = [
        WorldConfig(track="oval", name="a"),
        WorldConfig(track="oval", name="b", vehicle="kinematic"),
    ]
    with pytest.raises(ConfigError, match=r"a \(default\), b \(kinematic\) drive different"):
        RacingVectorEnv(2, {"world": "oval"}, worlds=worlds)
    both = RacingVectorEnv(2, {"world": "oval", "vehicle": "kinematic"}, worlds=worlds)
    assert both.vehicle == load_profile("kinematic").params
