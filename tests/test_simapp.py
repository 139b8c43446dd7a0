"""The simapp's training_params.yaml: WORLD_NAME, every key and DRfC's YAML text."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml

from deepracer.errors import DeepRacerError
from deepracer.experiment import ExperimentConfig, load_experiment
from deepracer.simapp import (
    TRAINING_PARAMS,
    NotSimappTrack,
    S3Keys,
    droa_training_params,
    dump_training_params,
    simapp_world_name,
    training_params,
    training_params_name,
)
from deepracer.tracks.catalog import shipped_names

ROOT = Path(__file__).resolve().parents[1]
KEYS = S3Keys(
    bucket="my-bucket",
    prefix="runs/exp",
    reward="runs/exp/custom_files/reward_function.py",
    model_metadata="runs/exp/custom_files/model_metadata.json",
    metrics="runs/exp/metrics/TrainingMetrics.json",
)

# fast_lap on reinvent_base: DRfC's prepare-config.py defaults (template-run.env) where
# the experiment has nothing to say, the experiment's values where it has.
FAST_LAP = {
    "AWS_REGION": "eu-west-1",
    "JOB_TYPE": "TRAINING",
    "KINESIS_VIDEO_STREAM_NAME": "",
    "METRICS_S3_BUCKET": "my-bucket",
    "METRICS_S3_OBJECT_KEY": "runs/exp/metrics/TrainingMetrics.json",
    "MODEL_METADATA_FILE_S3_KEY": "runs/exp/custom_files/model_metadata.json",
    "REWARD_FILE_S3_KEY": "runs/exp/custom_files/reward_function.py",
    "ROBOMAKER_SIMULATION_JOB_ACCOUNT_ID": "Dummy",
    "NUM_WORKERS": "1",
    "SAGEMAKER_SHARED_S3_BUCKET": "my-bucket",
    "SAGEMAKER_SHARED_S3_PREFIX": "runs/exp",
    "SIMTRACE_S3_BUCKET": "my-bucket",
    "SIMTRACE_S3_PREFIX": "runs/exp",
    "TRAINING_JOB_ARN": "arn:Dummy",
    "BODY_SHELL_TYPE": "deepracer",
    "CAR_COLOR": "Red",
    "CAR_NAME": "fast_lap",
    "RACE_TYPE": "TIME_TRIAL",
    "WORLD_NAME": "reinvent_base",
    "DISPLAY_NAME": "fast_lap",
    "RACER_NAME": "fast_lap",
    "REVERSE_DIR": "false",
    "ALTERNATE_DRIVING_DIRECTION": "false",
    "CHANGE_START_POSITION": "true",
    "ROUND_ROBIN_ADVANCE_DIST": "0.05",
    "START_POSITION_OFFSET": "0",
    "ENABLE_DOMAIN_RANDOMIZATION": "false",
    "MIN_EVAL_TRIALS": "3",
    "CAMERA_MAIN_ENABLE": "True",
    "CAMERA_SUB_ENABLE": "True",
    "BEST_MODEL_METRIC": "progress",
    "ENABLE_EXTRA_KVS_OVERLAY": "False",
    "NUMBER_OF_EPISODES": "0",
}


@pytest.fixture(scope="module")
def fast_lap() -> ExperimentConfig:
    return load_experiment("fast_lap")


def _world(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return str(path)


# -- simapp_world_name --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("world", "name"),
    [
        ("reinvent_base", "reinvent_base"),
        # Shipped worlds on reinvent_base's route keep their own simapp world (floor).
        ("reinvent_wood", "reinvent_wood"),
        (str(ROOT / "envs" / "reinvent_carpet.yaml"), "reinvent_carpet"),
        # Track names are worlds too, as WORLD_NAME is in DeepRacer.
        ("2022_reinvent_champ_cw", "2022_reinvent_champ_cw"),
        ("reInvent2019_track", "reInvent2019_track"),
        ("Oval_track", "Oval_track"),
    ],
)
def test_a_simapp_world_goes_by_its_name(world: str, name: str) -> None:
    assert simapp_world_name(world) == name


def test_a_world_of_ones_own_goes_by_its_routes_name(tmp_path: Path, routes: Path) -> None:
    assert simapp_world_name(_world(tmp_path, "wet", "track: reInvent2019_track\n")) == (
        "reInvent2019_track"
    )
    by_path = _world(tmp_path, "by_path", f"track: {routes / 'Bowtie_track.npy'}\n")
    assert simapp_world_name(by_path) == "Bowtie_track"
    # Named like a simapp world, on another route: the route decides.
    assert simapp_world_name(_world(tmp_path, "reinvent_wood", "track: Oval_track\n")) == (
        "Oval_track"
    )


@pytest.mark.parametrize(
    ("world", "track"),
    [
        ("oval", "oval"),
        ("kidney", "kidney"),
        ("straight", "straight"),
        ("generated_1", "generated-1"),
    ],
)
def test_a_world_on_a_builtin_track_is_refused(world: str, track: str) -> None:
    with pytest.raises(NotSimappTrack) as info:
        simapp_world_name(world)
    assert isinstance(info.value, DeepRacerError)
    assert (info.value.world, info.value.track) == (world, track)
    message = str(info.value)
    assert message.startswith(
        f"world {world!r}: its track {track!r} (a built-in track) is not a DeepRacer"
        " simulator track"
    )
    assert message.endswith(", ".join(shipped_names()))
    assert f"the simulator's {len(shipped_names())} tracks" in message


def test_a_route_file_of_ones_own_is_refused(
    tmp_path: Path, routes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = tmp_path / "my_track.npy"
    np.save(mine, np.load(routes / "Oval_track.npy"))
    with pytest.raises(NotSimappTrack, match=r"\(route file .*my_track\.npy\) is not a"):
        simapp_world_name(str(mine))
    # A route file shadowing a shipped name is not the simapp's track either.
    monkeypatch.setenv("DEEPRACER_TRACKS_PATH", str(tmp_path))
    np.save(tmp_path / "reinvent_base.npy", np.load(routes / "Oval_track.npy"))
    with pytest.raises(NotSimappTrack, match="'reinvent_base'"):
        simapp_world_name("reinvent_base")


# -- training_params ----------------------------------------------------------------------


def test_every_key_with_its_default(fast_lap: ExperimentConfig) -> None:
    params = training_params(fast_lap, "reinvent_base", KEYS, region="eu-west-1", workers=1)
    assert params == FAST_LAP
    assert all(isinstance(v, str) for v in params.values())


def test_several_workers_are_multi_config(fast_lap: ExperimentConfig) -> None:
    for world in ("reinvent_base", "2022_reinvent_champ_ccw", "Oval_track"):
        params = training_params(fast_lap, world, KEYS, region="eu-west-1", workers=3)
        assert params == {
            **FAST_LAP,
            "WORLD_NAME": world,
            "NUM_WORKERS": "3",
            "MULTI_CONFIG": "True",
        }


def test_the_world_and_the_experiment_set_their_keys(tmp_path: Path) -> None:
    experiment = load_experiment(
        "fast_lap",
        ["name=mine", "env.start.round_robin_advance=0", "env.start.offset=0.25",
         "env.start.alternate_direction=true", "train.eval_trials=7"],
    )  # fmt: skip
    reversed_world = _world(tmp_path, "back", "track: reInvent2019_track\nreverse: true\n")
    params = training_params(
        experiment, reversed_world, KEYS, region="us-east-1", workers=1, job_type="EVALUATION"
    )
    assert {k: v for k, v in params.items() if v != FAST_LAP[k]} == {
        "AWS_REGION": "us-east-1",
        "JOB_TYPE": "EVALUATION",
        "CAR_NAME": "mine",
        "DISPLAY_NAME": "mine",
        "RACER_NAME": "mine",
        "WORLD_NAME": "reInvent2019_track",
        "REVERSE_DIR": "true",
        "ALTERNATE_DRIVING_DIRECTION": "true",
        "CHANGE_START_POSITION": "false",
        "ROUND_ROBIN_ADVANCE_DIST": "0",
        "START_POSITION_OFFSET": "0.25",
        "MIN_EVAL_TRIALS": "7",
    }


def test_domain_randomization_follows_the_worlds_camera_factors(
    fast_lap: ExperimentConfig, tmp_path: Path
) -> None:
    def randomizes(world: str) -> str:
        params = training_params(fast_lap, world, KEYS, region="us-east-1", workers=1)
        return params["ENABLE_DOMAIN_RANDOMIZATION"]

    assert randomizes("reinvent_wood") == "true"  # brightness, contrast, gamma, noise
    physical = "track: reinvent_base\nrandomization:\n  friction_scale: [0.9, 1.1]\n"
    assert randomizes(_world(tmp_path, "grip", physical)) == "false"
    visual = "track: reinvent_base\nrandomization:\n  camera_pitch_jitter_deg: 1.0\n"
    assert randomizes(_world(tmp_path, "shaky", visual)) == "true"


def test_a_non_simapp_world_has_no_training_params(fast_lap: ExperimentConfig) -> None:
    with pytest.raises(NotSimappTrack, match="world 'oval'"):
        training_params(fast_lap, "oval", KEYS, region="us-east-1", workers=1)


# -- dump_training_params, names ----------------------------------------------------------


def test_the_dump_is_drfcs_single_quoted_yaml() -> None:
    params = {"WORLD_NAME": "reinvent_base", "NUM_WORKERS": "2", "CAMERA_MAIN_ENABLE": "True",
              "KINESIS_VIDEO_STREAM_NAME": "", "DISPLAY_NAME": "it's mine"}  # fmt: skip
    text = dump_training_params(params).decode()
    assert text == (
        "---\n"
        "'CAMERA_MAIN_ENABLE': 'True'\n"
        "'DISPLAY_NAME': 'it''s mine'\n"
        "'KINESIS_VIDEO_STREAM_NAME': ''\n"
        "'NUM_WORKERS': '2'\n"
        "'WORLD_NAME': 'reinvent_base'\n"
    )
    assert yaml.safe_load(text) == params  # '2' and 'True' stay strings


def test_a_full_mapping_reads_back_the_same(fast_lap: ExperimentConfig) -> None:
    params = training_params(fast_lap, "reinvent_wood", KEYS, region="us-east-1", workers=2)
    text = dump_training_params(params)
    assert text.startswith(b"---\n'ALTERNATE_DRIVING_DIRECTION': 'false'\n")
    assert yaml.safe_load(text) == params


def test_file_names() -> None:
    assert TRAINING_PARAMS == training_params_name() == "training_params.yaml"
    assert training_params_name(2) == "training_params_2.yaml"


def test_droa_names_two_direction_tracks_by_id_and_a_yaml_boolean() -> None:
    params = {"WORLD_NAME": "2022_april_open_cw", "RACE_TYPE": "TIME_TRIAL", "NUM_WORKERS": "1"}
    read = yaml.safe_load(droa_training_params(params))
    assert read["WORLD_NAME"] == "2022_april_open" and read["TRACK_DIRECTION_CLOCKWISE"] is True
    assert read["NUM_WORKERS"] == "1"
    read = yaml.safe_load(droa_training_params({**params, "WORLD_NAME": "2022_april_open_ccw"}))
    assert read["TRACK_DIRECTION_CLOCKWISE"] is False
    read = yaml.safe_load(droa_training_params({**params, "WORLD_NAME": "reinvent_base"}))
    assert read["WORLD_NAME"] == "reinvent_base" and "TRACK_DIRECTION_CLOCKWISE" not in read


# -- race types -------------------------------------------------------------------------


def test_object_avoidance_writes_drfcs_section(fast_lap: ExperimentConfig) -> None:
    from deepracer.envs.objects import race_settings
    from deepracer.envs.world import load_world

    params = training_params(
        fast_lap, "reinvent_object_avoidance", KEYS, region="us-east-1", workers=1
    )
    assert params["WORLD_NAME"] == "reinvent_base"
    section = {k: v for k, v in params.items() if k not in FAST_LAP or k == "RACE_TYPE"}
    assert section == {
        "RACE_TYPE": "OBJECT_AVOIDANCE",
        "NUMBER_OF_OBSTACLES": "6",
        "MIN_DISTANCE_BETWEEN_OBSTACLES": "12",
        "RANDOMIZE_OBSTACLE_LOCATIONS": "true",
        "OBSTACLE_TYPE": "box_obstacle",
        "IS_OBSTACLE_BOT_CAR": "false",
    }
    # The simapp (and our reader) gets the world's settings back from the file.
    read = race_settings(yaml.safe_load(dump_training_params(params)))
    assert read.object_avoidance == load_world("reinvent_object_avoidance").obstacles
    assert read.head_to_bot is None


def test_head_to_bot_writes_drfcs_section(fast_lap: ExperimentConfig) -> None:
    params = training_params(fast_lap, "reinvent_head_to_bot", KEYS, region="us-east-1", workers=1)
    assert params["RACE_TYPE"] == "HEAD_TO_BOT"
    assert params["NUMBER_OF_BOT_CARS"] == "3"
    assert params["BOT_CAR_SPEED"] == "0.2"
    assert params["PENALTY_SECONDS"] == "5"
    assert params["IS_LANE_CHANGE"] == "false"
    assert "NUMBER_OF_OBSTACLES" not in params


def test_object_positions_are_a_list_that_sets_the_count() -> None:
    from deepracer.envs.objects import ObjectAvoidanceConfig, simapp_race_params

    config = ObjectAvoidanceConfig(object_positions=((0.25, 1), (0.5, -1)))
    params = simapp_race_params("OBJECT_AVOIDANCE", config, None)
    assert params["OBJECT_POSITIONS"] == ["0.25,1", "0.5,-1"]
    assert params["NUMBER_OF_OBSTACLES"] == "2"
    droa = yaml.safe_load(droa_training_params({"WORLD_NAME": "reInvent2019_track", **params}))
    # DeepRacer on AWS reads the count as a number and the flags as YAML booleans.
    assert droa["NUMBER_OF_OBSTACLES"] == 2
    assert droa["RANDOMIZE_OBSTACLE_LOCATIONS"] is False
    assert droa["OBJECT_POSITIONS"] == ["0.25,1", "0.5,-1"]


@pytest.mark.parametrize("positions", [(), ((0.25, 1), (0.5, -1))])
def test_drfc_run_env_lines_read_back_to_the_same_race(
    positions: tuple[tuple[float, int], ...],
) -> None:
    from deepracer.envs.objects import (
        ObjectAvoidanceConfig,
        drfc_run_env,
        race_settings,
        simapp_race_params,
    )
    from deepracer.export.importing import _parse_run_env

    config = ObjectAvoidanceConfig(
        min_distance_between_obstacles=12.0,
        randomize_obstacle_locations=True,
        object_positions=positions,
    )
    params = {"WORLD_NAME": "reinvent_base", **simapp_race_params("OBJECT_AVOIDANCE", config, None)}
    lines = drfc_run_env(params)
    settings = _parse_run_env(lines)
    assert settings["DR_WORLD_NAME"] == "reinvent_base"
    # Written empty without positions: a merged run.env keeps none of its own.
    assert settings["DR_OA_OBJECT_POSITIONS"] == ";".join(f"{p:g},{n}" for p, n in positions)
    back = race_settings(settings).object_avoidance
    assert back is not None
    expected = replace(config, number_of_obstacles=len(positions)) if positions else config
    assert back == expected
