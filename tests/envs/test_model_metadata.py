"""Tests for deepracer.envs.model_metadata: parsing, validation, writing, generators."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

from deepracer.config.resources import available, data_dir
from deepracer.envs.action import ContinuousActions, DiscreteActions
from deepracer.envs.model_metadata import (
    SENSOR_TO_OBSERVATION,
    ModelMetadata,
    generate_console_style,
    generate_seed_style,
    load_model_metadata,
    model_metadata_dict,
    observation_to_sensors,
    parse_model_metadata,
    range_warnings,
    write_model_metadata,
)
from deepracer.envs.observation import OBSERVATIONS
from deepracer.errors import ConfigError

SHIPPED = (
    "console_default",
    "continuous",
    "seed_10_state",
    "seed_5_actions",
    "two_speed_five_steer",
)
FIVE_STEER = [-30, -15, 0, 15, 30]


def _discrete(n: int = 3) -> list[dict[str, Any]]:
    return [{"steering_angle": -30 + 30 * i, "speed": 1.0} for i in range(n)]


def _full(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "action_space": _discrete(),
        "sensor": ["FRONT_FACING_CAMERA"],
        "neural_network": "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
        "training_algorithm": "clipped_ppo",
        "action_space_type": "discrete",
        "version": "5",
    }
    data.update(overrides)
    return data


def _continuous(**overrides: Any) -> dict[str, Any]:
    space = {"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 0.5, "high": 3.0}}
    return _full(**{"action_space": space, "action_space_type": "continuous", **overrides})


def _error(data: Any, source: str = "my/model_metadata.json") -> str:
    with pytest.raises(ConfigError) as info:
        parse_model_metadata(data, source=source)
    message = str(info.value)
    assert message.startswith(source), message  # every message names the file
    return message


# -- shipped files ------------------------------------------------------------------


def test_every_shipped_file_is_listed_and_valid() -> None:
    assert set(SHIPPED) <= set(available("actions"))
    for name in SHIPPED:
        meta = load_model_metadata(name)
        assert meta.sensor == ("FRONT_FACING_CAMERA",)
        assert meta.observation == "camera"
        assert meta.version == "5"
        assert meta.training_algorithm == "clipped_ppo"


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_file_round_trips(name: str, tmp_path: Path) -> None:
    path = data_dir("actions") / f"{name}.json"
    meta = load_model_metadata(path)
    assert meta.to_dict() == json.loads(path.read_text())
    out = tmp_path / "model_metadata.json"
    write_model_metadata(out, meta)
    assert out.read_text() == path.read_text()  # the shipped files are written this way
    assert load_model_metadata(out) == meta


def test_seed_5_actions_is_the_seed_example() -> None:
    meta = load_model_metadata("seed_5_actions")
    assert meta.action_space == [{"steering_angle": s, "speed": 0.8} for s in FIVE_STEER]
    assert json.loads((data_dir("actions") / "seed_5_actions.json").read_text())["action_space"][
        3
    ] == {"steering_angle": 15, "speed": 0.8, "index": 3}


def test_shipped_action_spaces() -> None:
    console = load_model_metadata("console_default").action_type()
    assert isinstance(console, DiscreteActions)
    # The console's order: steering outer loop, speed inner loop.
    assert console.actions[:3] == ((-30.0, 0.5), (-30.0, 1.0), (-15.0, 0.5))
    assert sorted(console.actions) == sorted((s, v) for s in FIVE_STEER for v in (0.5, 1.0))
    ten = load_model_metadata("seed_10_state")
    assert ten.num_actions == 10
    assert [(a["steering_angle"], a["speed"]) for a in ten.action_space] == [
        (s, v) for v in (0.4, 0.8) for s in FIVE_STEER
    ]
    fast = load_model_metadata("two_speed_five_steer").action_type()
    assert isinstance(fast, DiscreteActions)
    assert {v for _, v in fast.actions} == {1.5, 3.0}
    cont = load_model_metadata("continuous")
    assert cont.num_actions is None
    acts = cont.action_type()
    assert isinstance(acts, ContinuousActions)
    assert acts.steering == (-30.0, 30.0) and acts.speed == (0.5, 3.0)
    assert isinstance(acts.space(), gym.spaces.Box)


# -- defaults -----------------------------------------------------------------------


def test_defaults_for_absent_keys_follow_the_simapp() -> None:
    meta = parse_model_metadata({"action_space": _discrete()}, source="f.json")
    assert meta.action_space_type == "discrete"
    assert meta.training_algorithm == "clipped_ppo"
    assert meta.neural_network == "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW"
    assert meta.sensor == ("observation",)  # no version, no sensor: simapp version 1
    assert meta.version == "1"
    assert meta.observation == "camera"
    assert meta.lidar_config is None
    assert meta.lidar_settings == {
        "num_sectors": 8,
        "num_values_per_sector": 8,
        "clipping_dist": 2.0,
    }
    with_sensor = parse_model_metadata(
        {"action_space": _discrete(), "sensor": ["FRONT_FACING_CAMERA", "LIDAR"]}, source="f"
    )
    assert with_sensor.version == "2"  # sensor present without version: version 2
    assert with_sensor.observation == ("camera", "lidar")


def test_dataclass_defaults() -> None:
    meta = ModelMetadata(action_space=_discrete(2))
    assert meta.sensor == ("FRONT_FACING_CAMERA",)
    assert meta.version == "5" and meta.simapp_version == 5.0
    assert meta.num_actions == 2
    assert meta.to_dict() == {
        "action_space": [
            {"steering_angle": -30, "speed": 1.0, "index": 0},
            {"steering_angle": 0, "speed": 1.0, "index": 1},
        ],
        "sensor": ["FRONT_FACING_CAMERA"],
        "neural_network": "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
        "training_algorithm": "clipped_ppo",
        "action_space_type": "discrete",
        "version": "5",
    }


def test_version_keeps_the_files_value() -> None:
    assert parse_model_metadata(_full(version=4), source="f").to_dict()["version"] == 4
    assert parse_model_metadata(_full(version="3.0"), source="f").simapp_version == 3.0


def test_index_keys_are_checked_and_dropped() -> None:
    entries = [{"index": i, **a} for i, a in enumerate(_discrete())]
    meta = parse_model_metadata(_full(action_space=entries), source="f")
    assert meta.action_space == _discrete()


def test_case_of_options_is_ignored_as_in_the_simapp() -> None:
    meta = parse_model_metadata(
        _continuous(training_algorithm=" SAC ", action_space_type="Continuous"), source="f"
    )
    assert meta.training_algorithm == "sac" and meta.action_space_type == "continuous"


def test_lidar_config_and_sensors() -> None:
    meta = parse_model_metadata(
        _full(
            sensor=["STEREO_CAMERAS", "DISCRETIZED_SECTOR_LIDAR"],
            lidar_config={"num_sectors": 16, "clipping_dist": 1.5},
        ),
        source="f",
    )
    assert meta.observation == ("stereo_camera", "discretized_sector_lidar")
    assert meta.lidar_settings == {
        "num_sectors": 16,
        "num_values_per_sector": 8,
        "clipping_dist": 1.5,
    }
    assert meta.to_dict()["lidar_config"] == {"num_sectors": 16, "clipping_dist": 1.5}


def test_replace_revalidates() -> None:
    meta = ModelMetadata(action_space=_discrete())
    assert dataclasses.replace(meta, sensor=("LEFT_CAMERA", "SECTOR_LIDAR")).observation == (
        "camera",
        "sector_lidar",
    )
    with pytest.raises(ConfigError, match="exactly one camera"):
        dataclasses.replace(meta, sensor=("LIDAR",))


# -- validation: one ConfigError naming the file and entry ---------------------------


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        (_full(sensors=["LIDAR"]), ["unknown key", "'sensors'", "Did you mean 'sensor'?"]),
        ({"sensor": ["FRONT_FACING_CAMERA"]}, ["action_space: missing"]),
        (
            _full(action_space=[*_discrete(3), {"steering_angle": 0, "speed": 5}]),
            ["action_space[3].speed", "[0.1, 4]", "got 5"],
        ),
        (
            _full(action_space=[{"steering_angle": -31, "speed": 1}]),
            ["action_space[0].steering_angle", "[-30, 30]", "got -31"],
        ),
        (
            _full(action_space=[{"steering_angle": "left", "speed": 1}]),
            ["action_space[0].steering_angle", "finite number", "'left'"],
        ),
        (_full(action_space=[{"speed": 1}]), ["action_space[0]", "missing 'steering_angle'"]),
        (
            _full(action_space=[{"steering_angle": 0, "speed": 1, "sped": 2}]),
            ["action_space[0]", "unknown key 'sped'", "Did you mean 'speed'?"],
        ),
        (
            _full(
                action_space=[
                    {"steering_angle": 0, "speed": 1, "index": 0},
                    {"steering_angle": 0, "speed": 2, "index": 2},
                ]
            ),
            ["action_space[1].index", "must equal the entry's position 1", "got 2"],
        ),
        (_full(action_space=[]), ["action_space", ">= 1 action"]),
        (_full(action_space="fast"), ["action_space", "a string"]),
        (
            _continuous(
                action_space={
                    "steering_angle": {"low": 10, "high": -10},
                    "speed": {"low": 1, "high": 2},
                }
            ),
            ["action_space.steering_angle", "low < high", "low=10, high=-10"],
        ),
        (
            _continuous(
                action_space={
                    "steering_angle": {"low": -30, "high": 30},
                    "speed": {"low": 1, "high": 4.5},
                }
            ),
            ["action_space.speed", "<= 4 m/s", "high=4.5"],
        ),
        (
            _continuous(action_space={"steering_angle": {"low": -30, "high": 30}}),
            ["action_space.speed", "expected"],
        ),
        (
            _full(
                action_space={
                    "steering_angle": {"low": -30, "high": 30},
                    "speed": {"low": 1, "high": 2},
                }
            ),
            ["action_space_type", "continuous"],
        ),
        (
            {
                "action_space": {
                    "steering_angle": {"low": -30, "high": 30},
                    "speed": {"low": 1, "high": 2},
                }
            },
            ["action_space_type", "default when absent", '"continuous"'],
        ),
        (
            _full(action_space_type="continuous"),
            ["action_space_type: continuous", "list of discrete"],
        ),
        (_full(action_space_type="discret"), ["action_space_type", "Did you mean 'discrete'?"]),
        (_full(training_algorithm="sac"), ["training_algorithm: sac", "continuous"]),
        (_full(training_algorithm="ppo"), ["training_algorithm", "'ppo'", "clipped_ppo"]),
        (_full(sensor=["LIDAR"]), ["sensor", "exactly one camera", "got 0"]),
        (
            _full(sensor=["FRONT_FACING_CAMERA", "LEFT_CAMERA"]),
            ["sensor", "exactly one camera", "got 2"],
        ),
        (
            _full(sensor=["FRONT_FACING_CAMERA", "LIDAR", "SECTOR_LIDAR"]),
            ["sensor", "at most one lidar", "'LIDAR', 'SECTOR_LIDAR'"],
        ),
        (
            _full(sensor=["FRONT_FACNG_CAMERA"]),
            ["sensor", "'FRONT_FACNG_CAMERA'", "Did you mean 'FRONT_FACING_CAMERA'?"],
        ),
        (_full(sensor="FRONT_FACING_CAMERA"), ["sensor", "list of sensor names"]),
        ({"action_space": _discrete(), "version": "5"}, ["sensor: missing", "version 2"]),
        (
            _full(version="1", sensor=["FRONT_FACING_CAMERA", "LIDAR"]),
            ["sensor", "below version 2"],
        ),
        (_full(version="five"), ["version", "'five'"]),
        (
            _full(neural_network="DEEP_CONVOLUTIONAL_NETWORK_SHALOW"),
            ["neural_network", "Did you mean 'DEEP_CONVOLUTIONAL_NETWORK_SHALLOW'?"],
        ),
        (_full(lidar_config={"num_sectors": 5}), ["lidar_config.num_sectors", "divide", "got 5"]),
        (
            _full(lidar_config={"num_values_per_sector": 0}),
            ["lidar_config.num_values_per_sector", ">= 1"],
        ),
        (
            _full(lidar_config={"clipping_dist": 0.1}),
            ["lidar_config.clipping_dist", "[0.15, 12]", "got 0.1"],
        ),
        (
            _full(lidar_config={"num_sector": 8}),
            ["lidar_config", "'num_sector'", "Did you mean 'num_sectors'?"],
        ),
        (_full(lidar_config=[8]), ["lidar_config", "expected an object"]),
        ([1, 2], ["expected a JSON object"]),
    ],
)
def test_each_rule_gives_one_clear_error(data: Any, fragments: list[str]) -> None:
    message = _error(data)
    for fragment in fragments:
        assert fragment in message, message


def test_unknown_keys_are_all_named() -> None:
    message = _error(_full(actionspace=[], sensors=[]))
    assert "'actionspace'" in message and "'sensors'" in message
    assert "Did you mean 'action_space'?" in message


def test_bools_are_not_numbers() -> None:
    assert "finite number" in _error(_full(action_space=[{"steering_angle": True, "speed": 1}]))


def test_construction_validates_too() -> None:
    with pytest.raises(ConfigError, match=r"^model_metadata: action_space\[0\]\.speed"):
        ModelMetadata(action_space=[{"steering_angle": 0, "speed": 0.05}])


def test_load_reports_json_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "action_space": [\n    {"steering_angle": 0, "speed": 1,}\n  ]\n}\n')
    with pytest.raises(ConfigError) as info:
        load_model_metadata(path)
    message = str(info.value)
    assert str(path) in message and "not valid JSON" in message and "line 3" in message


def test_load_rejects_duplicate_keys(tmp_path: Path) -> None:
    path = tmp_path / "dup.json"
    path.write_text('{"action_space": [{"steering_angle": 0, "speed": 1, "speed": 2}]}')
    with pytest.raises(ConfigError, match="'speed' appears twice"):
        load_model_metadata(path)


def test_load_unknown_name_lists_shipped() -> None:
    with pytest.raises(ConfigError, match="console_default"):
        load_model_metadata("console_defualt")


def test_load_error_names_file_and_entry(tmp_path: Path) -> None:
    path = tmp_path / "model_metadata.json"
    data = _full(action_space=[*_discrete(3), {"steering_angle": 0, "speed": 9}])
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=rf"^{path}: action_space\[3\]\.speed: must lie"):
        load_model_metadata(path)


def test_load_yaml(tmp_path: Path) -> None:
    path = tmp_path / "space.yaml"
    path.write_text("action_space:\n  - {steering_angle: 0, speed: 1}\nsensor: [LEFT_CAMERA]\n")
    meta = load_model_metadata(path)
    assert meta.sensor == ("LEFT_CAMERA",) and meta.num_actions == 1


def test_write_is_pretty_json_with_newline(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "model_metadata.json"
    write_model_metadata(out, ModelMetadata(action_space=_discrete()))
    text = out.read_text()
    assert text.endswith("}\n") and text.startswith('{\n    "action_space"')
    assert not list(out.parent.glob(".*"))  # no temporary file left behind


def test_model_metadata_dict_does_not_validate() -> None:
    doc = model_metadata_dict([{"steering_angle": 0, "speed": 8}])
    assert doc["action_space"] == [{"steering_angle": 0, "speed": 8, "index": 0}]
    assert doc["version"] == "5"


# -- sensors <-> observations -------------------------------------------------------


def test_sensor_mapping_targets_real_observations() -> None:
    assert set(SENSOR_TO_OBSERVATION.values()) <= set(OBSERVATIONS)
    assert SENSOR_TO_OBSERVATION["observation"] == "camera"
    assert SENSOR_TO_OBSERVATION["LEFT_CAMERA"] == "camera"


def test_observation_to_sensors() -> None:
    assert observation_to_sensors("camera") == ["FRONT_FACING_CAMERA"]
    assert observation_to_sensors(("stereo_camera", "lidar")) == ["STEREO_CAMERAS", "LIDAR"]
    assert observation_to_sensors("state") == []
    assert observation_to_sensors(["camera", "state"]) == ["FRONT_FACING_CAMERA"]
    for name in OBSERVATIONS:  # every observation type has an answer
        observation_to_sensors(name)
    with pytest.raises(ConfigError, match="Did you mean 'camera'"):
        observation_to_sensors("camra")


# -- generators ---------------------------------------------------------------------


def test_seed_generator_reproduces_the_notebook() -> None:
    acts = generate_seed_style(
        min_speed=4,
        max_speed=8,
        speed_resolution=2,
        min_steering=-30,
        max_steering=30,
        steering_resolution=15,
    )
    assert acts == [
        {"steering_angle": s, "speed": v, "index": 5 * i + j}
        for i, v in enumerate((4, 6, 8))
        for j, s in enumerate(FIVE_STEER)
    ]
    assert all(type(a["speed"]) is int and type(a["steering_angle"]) is int for a in acts)
    assert range_warnings(acts) == [
        "speeds above 4 m/s (6, 8) are clipped to 4 m/s by the simulator"
    ]


def test_seed_generator_has_no_drift() -> None:
    acts = generate_seed_style(
        min_speed=0.5,
        max_speed=1.5,
        speed_resolution=0.1,
        min_steering=-30,
        max_steering=30,
        steering_resolution=30,
    )
    speeds = sorted({a["speed"] for a in acts})
    assert speeds == [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5]
    assert len(acts) == 33 and [a["index"] for a in acts] == list(range(33))
    assert {a["steering_angle"] for a in acts} == {-30, 0, 30}  # int inputs stay ints
    small = generate_seed_style(
        min_speed=0.1,
        max_speed=0.3,
        speed_resolution=0.1,
        min_steering=-0.3,
        max_steering=0.3,
        steering_resolution=0.1,
    )
    assert sorted({a["steering_angle"] for a in small}) == [-0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3]
    assert "-0.0" not in json.dumps(small)
    assert range_warnings(small) == []


def test_console_generator_matches_the_console_formula() -> None:
    acts = generate_console_style(max_steering=30, steering_levels=5, max_speed=1, speed_levels=2)
    assert [(a["steering_angle"], a["speed"]) for a in acts] == [
        (float(s), v) for s in FIVE_STEER for v in (0.5, 1.0)
    ]
    assert [a["index"] for a in acts] == list(range(10))
    seven = generate_console_style(max_steering=30, steering_levels=7, max_speed=1, speed_levels=3)
    assert sorted({a["steering_angle"] for a in seven}) == [
        -30.0,
        -20.0,
        -10.0,
        0.0,
        10.0,
        20.0,
        30.0,
    ]
    assert sorted({a["speed"] for a in seven}) == [0.333333, 0.666667, 1.0]
    one = generate_console_style(max_steering=20, steering_levels=1, max_speed=2, speed_levels=1)
    assert one == [{"steering_angle": 0.0, "speed": 2.0, "index": 0}]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"speed_resolution": 0}, "speed_resolution"),
        ({"steering_resolution": -15}, "steering_resolution"),
        ({"min_speed": 2, "max_speed": 1}, "min_speed"),
        ({"max_speed": float("nan")}, "max_speed"),
        ({"speed_resolution": 1e-5, "max_speed": 4}, "more than 10000"),
    ],
)
def test_seed_generator_rejects_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {
        "min_speed": 1,
        "max_speed": 2,
        "speed_resolution": 1,
        "min_steering": -30,
        "max_steering": 30,
        "steering_resolution": 15,
    }
    with pytest.raises(ValueError, match=match):  # ConfigError is a ValueError
        generate_seed_style(**{**args, **kwargs})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"steering_levels": 0}, "steering_levels"),
        ({"speed_levels": 1.5}, "speed_levels"),
        ({"max_speed": 0}, "max_speed"),
        ({"max_steering": -30}, "max_steering"),
    ],
)
def test_console_generator_rejects_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {
        "max_steering": 30,
        "steering_levels": 5,
        "max_speed": 1,
        "speed_levels": 2,
    }
    with pytest.raises(ConfigError, match=match):
        generate_console_style(**{**args, **kwargs})


def test_range_warnings_cover_every_limit() -> None:
    lines = range_warnings(
        [{"steering_angle": 45, "speed": 0.05}, {"steering_angle": 0, "speed": 1}]
    )
    assert len(lines) == 2
    assert "below 0.1 m/s (0.05)" in lines[0] and "beyond ±30 degrees (45)" in lines[1]
