"""Object avoidance and head-to-bot settings, placement and bot cars, against hand values.

The built-in ``straight`` track runs 6 m along +x from the origin, 0.61 m wide, inner
border at +y: its lanes are the lines y = +0.1525 (inner) and y = -0.1525 (outer), and
a centre-line distance is just x. The rectangle (see tests/rewards/test_objects.py)
has 12 m of centre line and lanes 0.15 m in from and out from it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from deepracer.config.loader import from_mapping
from deepracer.envs.objects import (
    BOT_CAR_FOOTPRINT,
    BOX_FOOTPRINT,
    INNER_LANE,
    OUTER_LANE,
    BotCars,
    HeadToBotConfig,
    ObjectAvoidanceConfig,
    SceneObject,
    closest_object,
    lane_lines,
    obstacle_objects,
    place_obstacles,
    race_settings,
    reset_pose,
    simapp_obstacle_gap,
    training_start_pose,
)
from deepracer.errors import ConfigError
from deepracer.tracks import Track, get_track

STRAIGHT = get_track("straight")
OVAL = get_track("oval")
PI = math.pi


def _rectangle() -> Track:
    centre = [(2, 0), (4, 0), (4, 2), (0, 2), (0, 0), (2, 0)]
    inner = [(2, 0.3), (3.7, 0.3), (3.7, 1.7), (0.3, 1.7), (0.3, 0.3), (2, 0.3)]
    outer = [(2, -0.3), (4.3, -0.3), (4.3, 2.3), (-0.3, 2.3), (-0.3, -0.3), (2, -0.3)]
    return Track.from_array(np.hstack([centre, inner, outer]).astype(float), name="rectangle")


RECTANGLE = _rectangle()


# -- settings -----------------------------------------------------------------------------


def test_the_defaults_are_drfcs_template() -> None:
    oa, h2b = ObjectAvoidanceConfig(), HeadToBotConfig()
    assert (oa.number_of_obstacles, oa.min_distance_between_obstacles) == (6, 2.0)
    assert (oa.randomize_obstacle_locations, oa.is_obstacle_bot_car) == (False, False)
    assert (oa.obstacle_type, oa.object_positions) == ("box_obstacle", ())
    assert (h2b.number_of_bot_cars, h2b.min_distance_between_bot_cars, h2b.bot_car_speed) == (
        3,
        2.0,
        0.2,
    )
    assert (h2b.is_lane_change, h2b.randomize_bot_car_locations) == (False, False)
    assert (h2b.lower_lane_change_time, h2b.upper_lane_change_time) == (3.0, 5.0)
    assert (h2b.lane_change_distance, h2b.penalty_seconds) == (1.0, 5.0)
    assert h2b.lane_change_duration == pytest.approx(5.0)  # 1.0 m at 0.2 m/s
    assert oa.footprint == BOX_FOOTPRINT
    assert ObjectAvoidanceConfig(is_obstacle_bot_car=True).footprint == BOT_CAR_FOOTPRINT


def test_object_positions_set_the_count() -> None:
    config = ObjectAvoidanceConfig(number_of_obstacles=6, object_positions=((0.2, 1), (0.7, -1)))
    assert config.obstacle_count == 2


OA, H2B = ObjectAvoidanceConfig, HeadToBotConfig
BAD_SETTINGS = [
    (OA, "number_of_obstacles", -1, "expected an integer >= 0, got -1"),
    (OA, "min_distance_between_obstacles", -2.0, "expected a number >= 0"),
    (OA, "object_positions", ((0.5, 2),), "lane 1 (inner) or -1 (outer); item 0 has lane 2"),
    (OA, "object_positions", ((0.2, 1), (0.4, 0)), "item 1 has lane 0"),
    (OA, "object_positions", ((25.0, 1),), "in [0, 1) (the simapp multiplies it by the"),
    (OA, "object_positions", ((25.0, 1),), "item 0 has progress 25"),
    (OA, "object_positions", ((1.0, 1),), "item 0 has progress 1"),
    (OA, "object_positions", ((-0.1, -1),), "item 0 has progress -0.1"),
    (OA, "obstacle_type", "cardboard_box", "expected one of box_obstacle, deepracer_box_obstacle"),
    (H2B, "bot_car_speed", -0.2, "expected a number > 0, got -0.2"),
    (H2B, "bot_car_speed", 0.0, "expected a number > 0, got 0.0"),
    (H2B, "number_of_bot_cars", -3, "expected an integer >= 0"),
    (H2B, "lower_lane_change_time", 6.0, "expected at most upper_lane_change_time (5 s), got 6 s"),
    (H2B, "lane_change_distance", 0.0, "expected a number > 0"),
    (H2B, "penalty_seconds", -1.0, "expected a number >= 0"),
]


@pytest.mark.parametrize(("cls", "name", "value", "message"), BAD_SETTINGS)
def test_each_bad_setting_gets_one_error_naming_it(
    cls: type, name: str, value: object, message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        cls(**{name: value})
    assert str(caught.value).startswith(f"{name}: ")
    assert message in str(caught.value)


def test_a_world_file_section_is_read_strictly() -> None:
    config = from_mapping(
        ObjectAvoidanceConfig,
        {"number_of_obstacles": 3, "object_positions": [[0.25, 1], [0.5, -1]]},
        source="envs/oa.yaml",
        prefix="objects",
    )
    assert config.object_positions == ((0.25, 1), (0.5, -1))
    with pytest.raises(
        ConfigError,
        match=r"envs/oa.yaml: objects: unknown key 'number_of_obstacle'\. Did you mean "
        r"'number_of_obstacles'\?",
    ):
        from_mapping(
            ObjectAvoidanceConfig,
            {"number_of_obstacle": 3},
            source="envs/oa.yaml",
            prefix="objects",
        )
    with pytest.raises(
        ConfigError, match=r"envs/oa.yaml: objects.bot_car_speed: expected a number > 0, got -1"
    ):
        from_mapping(
            HeadToBotConfig, {"bot_car_speed": -1}, source="envs/oa.yaml", prefix="objects"
        )
    with pytest.raises(
        ConfigError, match=r"objects.obstacle_type: expected one of .*, got 'box'\. Did you mean"
    ):
        from_mapping(
            ObjectAvoidanceConfig, {"obstacle_type": "box"}, source="envs/oa.yaml", prefix="objects"
        )
    with pytest.raises(
        ConfigError, match=r"envs/oa.yaml: objects: lower_lane_change_time: expected at most"
    ):
        from_mapping(
            HeadToBotConfig, {"lower_lane_change_time": 9}, source="envs/oa.yaml", prefix="objects"
        )


# -- DRfC and simapp names ------------------------------------------------------------------


def test_a_drfc_run_env_for_object_avoidance() -> None:
    run_env = {
        "DR_RACE_TYPE": "OBJECT_AVOIDANCE",
        "DR_WORLD_NAME": "reInvent2019_track",  # not an object setting: ignored
        "DR_OA_NUMBER_OF_OBSTACLES": "4",
        "DR_OA_MIN_DISTANCE_BETWEEN_OBSTACLES": "3.5",
        "DR_OA_RANDOMIZE_OBSTACLE_LOCATIONS": "True",
        "DR_OA_IS_OBSTACLE_BOT_CAR": "false",
        "DR_OA_OBSTACLE_TYPE": "amazon_box_obstacle",
        "DR_OA_OBJECT_POSITIONS": "",
        "DR_H2B_BOT_CAR_SPEED": "not read for this race type",
    }
    race = race_settings(run_env)
    assert race.race_type == "OBJECT_AVOIDANCE"
    assert race.object_avoidance == ObjectAvoidanceConfig(
        number_of_obstacles=4,
        min_distance_between_obstacles=3.5,
        randomize_obstacle_locations=True,
        obstacle_type="amazon_box_obstacle",
    )
    assert race.head_to_bot is None


def test_a_drfc_run_env_for_head_to_bot() -> None:
    race = race_settings(
        {
            "DR_RACE_TYPE": "HEAD_TO_BOT",
            "DR_H2B_NUMBER_OF_BOT_CARS": "2",
            "DR_H2B_BOT_CAR_SPEED": "0.5",
            "DR_H2B_IS_LANE_CHANGE": "TRUE",
            "DR_H2B_LOWER_LANE_CHANGE_TIME": "2",
            "DR_H2B_BOT_CAR_PENALTY": "3.0",  # DRfC's name for PENALTY_SECONDS
        }
    )
    assert race.object_avoidance is None
    assert race.head_to_bot == HeadToBotConfig(
        number_of_bot_cars=2,
        bot_car_speed=0.5,
        is_lane_change=True,
        lower_lane_change_time=2.0,
        penalty_seconds=3.0,
    )


def test_a_simapp_yaml_and_drfcs_position_string() -> None:
    race = race_settings(
        {
            "RACE_TYPE": "OBJECT_AVOIDANCE",
            "NUMBER_OF_OBSTACLES": "6",
            "OBJECT_POSITIONS": ["0.23,-1", "0.46,1"],
            "WORLD_NAME": "reinvent_base",
        }
    )
    assert race.object_avoidance is not None
    assert race.object_avoidance.object_positions == ((0.23, -1), (0.46, 1))
    assert race.object_avoidance.obstacle_count == 2
    drfc = race_settings(
        {"DR_RACE_TYPE": "OBJECT_AVOIDANCE", "DR_OA_OBJECT_POSITIONS": '"0.23,-1;0.46,1"'}
    )
    assert drfc.object_avoidance is not None
    assert drfc.object_avoidance.object_positions == ((0.23, -1), (0.46, 1))


def test_a_time_trial_has_no_objects_and_simapp_names_always_count() -> None:
    template = {
        "DR_RACE_TYPE": "TIME_TRIAL",
        "DR_OA_NUMBER_OF_OBSTACLES": "6",
        "DR_H2B_NUMBER_OF_BOT_CARS": "3",
    }
    assert race_settings(template) == ("TIME_TRIAL", None, None)
    assert race_settings({}) == ("TIME_TRIAL", None, None)
    # The simapp spawns obstacles whatever the race type says.
    race = race_settings({"RACE_TYPE": "TIME_TRIAL", "NUMBER_OF_OBSTACLES": 2})
    assert race.object_avoidance == ObjectAvoidanceConfig(number_of_obstacles=2)


BAD_DRFC = [
    (
        {"DR_OA_NUMBER_OF_OBSTACLE": "3"},
        r"run.env: unknown key 'DR_OA_NUMBER_OF_OBSTACLE'\. Did you mean"
        r" 'DR_OA_NUMBER_OF_OBSTACLES'\?",
    ),
    (
        {"DR_RACE_TYPE": "HEAD_TO_BOT", "DR_H2B_BOT_CAR_SPEED": "-1"},
        r"run.env: DR_H2B_BOT_CAR_SPEED: expected a number > 0, got -1",
    ),
    (
        {"DR_RACE_TYPE": "HEAD_TO_BOT", "DR_H2B_BOT_CAR_SPEED": "fast"},
        r"run.env: DR_H2B_BOT_CAR_SPEED: expected a number, got 'fast'",
    ),
    (
        {"DR_RACE_TYPE": "OBJECT_AVOIDANCE", "DR_OA_OBJECT_POSITIONS": "0.2,2"},
        r"run.env: DR_OA_OBJECT_POSITIONS: expected .* item 0 has lane 2",
    ),
    (
        {"DR_RACE_TYPE": "OBJECT_AVOIDANCE", "DR_OA_OBJECT_POSITIONS": "0.2"},
        r"run.env: DR_OA_OBJECT_POSITIONS: expected \"progress,lane\" items",
    ),
    (
        {"DR_RACE_TYPE": "OBJECT_AVOIDANCE", "DR_OA_RANDOMIZE_OBSTACLE_LOCATIONS": "yes"},
        r"DR_OA_RANDOMIZE_OBSTACLE_LOCATIONS: expected true or false, got 'yes'",
    ),
    (
        {"DR_RACE_TYPE": "HEAD_TO_BOT", "DR_H2B_NUMBER_OF_BOT_CARS": "2.5"},
        r"DR_H2B_NUMBER_OF_BOT_CARS: expected an integer, got '2.5'",
    ),
    (
        {"DR_RACE_TYPE": "HEAD_TO_MODEL"},
        r"run.env: DR_RACE_TYPE: expected one of TIME_TRIAL, OBJECT_AVOIDANCE, HEAD_TO_BOT",
    ),
    (
        {"DR_OA_NUMBER_OF_OBSTACLES": "3", "NUMBER_OF_OBSTACLES": "4"},
        r"DR_OA_NUMBER_OF_OBSTACLES and NUMBER_OF_OBSTACLES name the same setting",
    ),
]


@pytest.mark.parametrize(("settings", "message"), BAD_DRFC)
def test_bad_drfc_settings_name_the_key_as_written(settings: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        race_settings(settings, source="run.env")


# -- obstacle placement ----------------------------------------------------------------------


def test_the_lanes_are_halfway_to_each_border() -> None:
    inner, outer = lane_lines(STRAIGHT)
    assert inner[:, 1] == pytest.approx(np.full(len(inner), 0.1525))
    assert outer[:, 1] == pytest.approx(np.full(len(outer), -0.1525))
    assert inner[:, 0] == pytest.approx(np.linspace(0.0, 6.0, 25))


def test_even_placement_alternates_lanes_from_the_inner_one() -> None:
    # 2 % of 6 m = 0.12 m; six obstacles from 0.12 m to 5 m (1 m before the end).
    placed = place_obstacles(ObjectAvoidanceConfig(), STRAIGHT, np.random.default_rng(0))
    expected_x = [0.12, 1.096, 2.072, 3.048, 4.024, 5.0]
    assert [p.distance for p in placed] == pytest.approx(expected_x)
    assert [p.x for p in placed] == pytest.approx(expected_x)
    assert [p.y for p in placed] == pytest.approx([0.1525, -0.1525] * 3)
    assert [p.lane for p in placed] == [INNER_LANE, OUTER_LANE] * 3
    assert [p.heading for p in placed] == pytest.approx([0.0] * 6)


def test_even_placement_on_a_loop_faces_along_each_lane() -> None:
    config = ObjectAvoidanceConfig(number_of_obstacles=3, min_distance_between_obstacles=25.0)
    placed = place_obstacles(config, RECTANGLE, np.random.default_rng(0))
    # 25 % of 12 m = 3 m: at s 3 (right side), 7 (top), 11 (bottom left).
    assert [p.distance for p in placed] == pytest.approx([3.0, 7.0, 11.0])
    assert [(p.x, p.y) for p in placed] == [
        pytest.approx((3.85, 1.0)),  # inner lane, 0.15 m in from x = 4
        pytest.approx((1.0, 2.15)),  # outer lane, 0.15 m out from y = 2
        pytest.approx((1.0, 0.15)),  # inner lane
    ]
    assert [p.heading for p in placed] == pytest.approx([PI / 2, PI, 0.0])


def test_explicit_positions_are_fractions_of_the_lap() -> None:
    config = ObjectAvoidanceConfig(
        object_positions=((0.25, 1), (0.5, -1), (0.95, -1)), randomize_obstacle_locations=True
    )
    placed = place_obstacles(config, RECTANGLE, np.random.default_rng(0))
    assert [p.distance for p in placed] == pytest.approx([3.0, 6.0, 11.4])
    assert [(p.x, p.y) for p in placed] == [
        pytest.approx((3.85, 1.0)),
        pytest.approx((2.0, 2.15)),
        pytest.approx((1.4, -0.15)),
    ]
    assert [p.lane for p in placed] == [1, -1, -1]
    assert [p.heading for p in placed] == pytest.approx([PI / 2, PI, 0.0])
    again = place_obstacles(config, RECTANGLE, np.random.default_rng(99))
    assert again == placed  # fixed positions ignore randomisation


def test_random_placement_keeps_the_minimum_distance_and_is_seeded() -> None:
    config = ObjectAvoidanceConfig(
        randomize_obstacle_locations=True, min_distance_between_obstacles=5.0
    )
    gap = 0.05 * OVAL.length
    layouts = [place_obstacles(config, OVAL, np.random.default_rng(seed)) for seed in range(20)]
    for placed in layouts:
        dists = [p.distance for p in placed]
        assert dists == sorted(dists)
        assert dists[0] >= gap - 1e-9 and dists[-1] <= OVAL.length - 1.0 + 1e-9
        assert min(np.diff(dists)) >= gap - 1e-9
        assert {p.lane for p in placed} <= {INNER_LANE, OUTER_LANE}
    assert place_obstacles(config, OVAL, np.random.default_rng(3)) == layouts[3]
    assert len({tuple(p.distance for p in placed) for placed in layouts}) == 20
    assert {tuple(p.lane for p in placed) for placed in layouts} != {(1, -1) * 3}
    # Each lane is drawn, both lanes turn up across the layouts.
    assert {p.lane for placed in layouts for p in placed} == {INNER_LANE, OUTER_LANE}


def test_randomised_obstacles_sit_on_their_lanes() -> None:
    config = ObjectAvoidanceConfig(randomize_obstacle_locations=True)
    for placed in (place_obstacles(config, STRAIGHT, np.random.default_rng(s)) for s in range(5)):
        assert [p.y for p in placed] == pytest.approx([0.1525 * p.lane for p in placed])
        assert [p.x for p in placed] == pytest.approx([p.distance for p in placed])


def test_too_many_obstacles_for_the_minimum_distance() -> None:
    # 20 % of 6 m = 1.2 m: 6 x 1.2 = 7.2 m, but only 5 m (to 1 m before the end) fit 4.
    config = ObjectAvoidanceConfig(min_distance_between_obstacles=20.0)
    with pytest.raises(
        ConfigError,
        match=r"^number_of_obstacles: 6 obstacles at least 20% of the lap apart do not fit on"
        r" track 'straight'.* room for 4",
    ):
        place_obstacles(config, STRAIGHT, np.random.default_rng(0))
    assert (
        len(
            place_obstacles(
                ObjectAvoidanceConfig(number_of_obstacles=4, min_distance_between_obstacles=20.0),
                STRAIGHT,
                np.random.default_rng(0),
            )
        )
        == 4
    )
    with pytest.raises(
        ConfigError, match=r"^number_of_obstacles: 6 obstacles at least 1.50 m apart"
    ):
        place_obstacles(
            ObjectAvoidanceConfig(), STRAIGHT, np.random.default_rng(0), min_distance=1.5
        )


def test_the_simapps_spacing_shrinks_episode_by_episode() -> None:
    # 2 % converted at construction (0.24 m on 12 m), again for episode 0 (0.0288 m),
    # and again for each later one.
    config = ObjectAvoidanceConfig(number_of_obstacles=3)
    assert simapp_obstacle_gap(config, RECTANGLE, 0) == pytest.approx(0.0288)
    assert simapp_obstacle_gap(config, RECTANGLE, 1) == pytest.approx(0.003456)
    gap = simapp_obstacle_gap(config, RECTANGLE, 0)
    placed = place_obstacles(config, RECTANGLE, np.random.default_rng(0), min_distance=gap)
    assert [p.distance for p in placed] == pytest.approx([0.0288, 5.5144, 11.0])


def test_obstacle_objects_have_the_simapps_sizes_and_heights() -> None:
    placed = place_obstacles(
        ObjectAvoidanceConfig(number_of_obstacles=2), OVAL, np.random.default_rng(0)
    )
    boxes = obstacle_objects(ObjectAvoidanceConfig(), placed)
    assert {(o.kind, o.footprint, o.z) for o in boxes} == {("obstacle", (0.4, 0.5), 0.1)}
    cars = obstacle_objects(ObjectAvoidanceConfig(is_obstacle_bot_car=True), placed)
    assert {(o.kind, o.footprint, o.z) for o in cars} == {("obstacle", (0.1961, 0.32352), 0.0)}
    assert [(o.x, o.y, o.heading) for o in boxes] == [(p.x, p.y, p.heading) for p in placed]


# -- bot cars ---------------------------------------------------------------------------------


def _xy(objects: list) -> list[tuple[float, float]]:
    return [(o.x, o.y) for o in objects]


def test_bot_cars_follow_their_lanes_at_their_speed() -> None:
    config = HeadToBotConfig(number_of_bot_cars=2, bot_car_speed=0.5)
    cars = BotCars(config, STRAIGHT)
    # From 2 m (the minimum distance) to 5 m, inner lane then outer.
    assert _xy(cars.reset(np.random.default_rng(0))) == [
        pytest.approx((2.0, 0.1525)),
        pytest.approx((5.0, -0.1525)),
    ]
    assert cars.lanes == [INNER_LANE, OUTER_LANE]
    assert _xy(cars.step(1.0)) == [pytest.approx((2.5, 0.1525)), pytest.approx((5.5, -0.1525))]
    # 5 + 1.0 m wraps to the start of the centre line (the simapp's % length).
    moved = cars.step(1.0)
    assert _xy(moved) == [pytest.approx((3.0, 0.1525)), pytest.approx((0.0, -0.1525), abs=1e-9)]
    assert [o.heading for o in moved] == pytest.approx([0.0, 0.0], abs=1e-9)
    assert {(o.kind, o.footprint, o.z) for o in moved} == {("bot_car", (0.1961, 0.32352), 0.0)}


def test_bot_cars_go_round_a_loop_in_their_lanes() -> None:
    # The oval: the bottom straight at y = -1.5 from x = -2 to 2 (the start at x = 0),
    # then a half circle of radius 1.5 about (2, 0); lanes 0.19 m in and out.
    config = HeadToBotConfig(
        number_of_bot_cars=1, min_distance_between_bot_cars=1.0, bot_car_speed=1.0
    )
    cars = BotCars(config, OVAL)
    car = cars.reset(np.random.default_rng(0))[0]
    assert (car.x, car.y, car.heading) == pytest.approx((1.0, -1.31, 0.0), abs=1e-3)
    # A quarter circle later (s = 2 + 0.75 pi), level with its centre: inner lane x 3.31.
    car = cars.step(1.0 + 0.75 * PI)[0]
    assert (car.x, car.y, car.heading) == pytest.approx((3.31, 0.0, PI / 2), abs=2e-3)
    # Round the lap and over the line: back where it started.
    car = cars.step(OVAL.length - 1.0 - 0.75 * PI)[0]
    assert (car.x, car.y, car.heading) == pytest.approx((1.0, -1.31, 0.0), abs=1e-3)


def test_a_penalty_stops_every_bot_car_then_they_carry_on() -> None:
    config = HeadToBotConfig(number_of_bot_cars=2, bot_car_speed=0.5, penalty_seconds=5.0)
    cars = BotCars(config, STRAIGHT)
    cars.reset(np.random.default_rng(0))
    cars.step(1.0)
    cars.penalize()
    assert cars.paused
    cars.penalize()  # a second crash during the pause adds nothing
    assert _xy(cars.step(1.0))[0] == pytest.approx((2.5, 0.1525))
    assert _xy(cars.step(3.0))[0] == pytest.approx((2.5, 0.1525))
    # 5 s after the crash the pause is over, and they go on from where they stood.
    assert _xy(cars.step(1.0))[0] == pytest.approx((2.5, 0.1525))
    assert not cars.paused
    assert _xy(cars.step(1.0))[0] == pytest.approx((3.0, 0.1525))
    assert cars.time == pytest.approx(7.0)


def test_a_lane_change_crosses_over_its_distance() -> None:
    # 0.5 m at 0.25 m/s: 2 s to change lanes, after exactly 1 s on a lane.
    config = HeadToBotConfig(
        number_of_bot_cars=1,
        bot_car_speed=0.25,
        is_lane_change=True,
        lower_lane_change_time=1.0,
        upper_lane_change_time=1.0,
        lane_change_distance=0.5,
    )
    cars = BotCars(config, STRAIGHT)
    cars.reset(np.random.default_rng(0))
    track = []
    for _ in range(13):
        car = cars.step(0.5)[0]
        track.append((cars.time, car.x, car.y, cars.lanes[0]))
    by_time = {round(t, 2): (x, y, lane) for t, x, y, lane in track}
    # The first step (t 0.5, s 2.125) schedules a change from s 2.375 (t 1.5) to
    # s 2.875 (t 3.5): the car keeps its lane, crosses, arrives.
    assert by_time[1.0][1] == pytest.approx(0.1525, abs=3e-3)
    assert by_time[1.5][1] == pytest.approx(0.1525, abs=1e-9)  # the change's first point
    assert by_time[2.5][1] == pytest.approx(0.0, abs=1e-3)  # halfway: the centre line
    assert by_time[3.0][1] < 0.0
    assert [lane for *_, lane in track[:6]] == [INNER_LANE] * 6
    # At t 3.5 the change is over: the outer lane is the car's, and the next change
    # (back, from t 4.5 to 6.5) is scheduled.
    assert by_time[3.5][2] == OUTER_LANE
    assert by_time[4.5][1] == pytest.approx(-0.1525, abs=1e-9)
    assert by_time[5.5][1] == pytest.approx(0.0, abs=1e-3)
    assert by_time[6.5][2] == INNER_LANE
    assert [x for _, x, *_ in track] == pytest.approx([2.0 + 0.25 * t for t, *_ in track])


def test_lane_change_times_are_drawn_between_the_bounds() -> None:
    config = HeadToBotConfig(
        number_of_bot_cars=3, is_lane_change=True, bot_car_speed=0.5, lane_change_distance=0.5
    )
    cars = BotCars(config, OVAL)
    cars.reset(np.random.default_rng(5))
    flips: list[list[float]] = [[], [], []]
    lanes = cars.lanes
    for _ in range(600):  # 30 s in steps of 0.05 s
        cars.step(0.05)
        for i, (before, now) in enumerate(zip(lanes, cars.lanes, strict=True)):
            if before != now:
                flips[i].append(cars.time)
        lanes = cars.lanes
    for times in flips:
        # Each lane lasts 3..5 s plus the 1 s change, to within a step.
        gaps = np.diff(times)
        assert len(times) >= 4
        assert gaps.min() >= 4.0 - 1e-9 and gaps.max() <= 6.0 + 0.05 + 1e-9
        assert len(set(np.round(gaps, 6))) > 1  # drawn, not fixed


def test_bot_cars_are_deterministic_per_seed() -> None:
    config = HeadToBotConfig(randomize_bot_car_locations=True, is_lane_change=True)

    def run(seed: int) -> list[tuple[float, ...]]:
        cars = BotCars(config, OVAL)
        out = [tuple(v for o in cars.reset(np.random.default_rng(seed)) for v in o[:3])]
        out += [tuple(v for o in cars.step(1 / 15) for v in o[:3]) for _ in range(150)]
        return out

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_randomised_bot_cars_keep_their_distance() -> None:
    config = HeadToBotConfig(randomize_bot_car_locations=True, min_distance_between_bot_cars=3.0)
    cars = BotCars(config, OVAL)
    for seed in range(10):
        cars.reset(np.random.default_rng(seed))
        starts = [cars.distance(i) for i in range(3)]
        assert starts == sorted(starts)
        assert starts[0] >= 3.0 and starts[-1] <= OVAL.length - 1.0
        assert min(np.diff(starts)) >= 3.0 - 1e-9


def test_too_many_bot_cars_for_the_track() -> None:
    # The DRfC defaults (3 cars, 2 m apart) need 7 m; the straight has 6.
    with pytest.raises(
        ConfigError,
        match=r"^number_of_bot_cars: 3 bot cars at least 2 m apart do not fit on track"
        r" 'straight'.* room for 2",
    ):
        BotCars(HeadToBotConfig(), STRAIGHT)


# -- starts and resets near objects -----------------------------------------------------------


def _box(x: float, y: float) -> SceneObject:
    return SceneObject(x, y, 0.0, "obstacle", BOX_FOOTPRINT, 0.1)


def _bot(x: float, y: float) -> SceneObject:
    return SceneObject(x, y, 0.0, "bot_car", BOT_CAR_FOOTPRINT, 0.0)


def test_the_closest_object_within_a_metre() -> None:
    objects = [_box(2.5, 0.1525), _box(4.0, -0.1525)]
    assert closest_object(STRAIGHT, 2.0, objects) == (0, pytest.approx(2.5))
    assert closest_object(STRAIGHT, 3.4, objects) == (1, pytest.approx(4.0))  # 0.6 vs 0.9
    assert closest_object(STRAIGHT, 0.5, objects) is None  # 2 m away
    assert closest_object(STRAIGHT, 2.0, [_bot(2.3, 0.15)], kind="obstacle") is None


def test_the_gap_does_not_wrap_over_the_finish_line() -> None:
    # abs(11.8 - 0.3) % 12 = 11.5: half a metre apart across the line is "a lap away".
    assert closest_object(RECTANGLE, 0.3, [_box(1.8, 0.15)]) is None
    assert closest_object(RECTANGLE, 11.9, [_box(2.2, 0.15)]) is None
    assert closest_object(RECTANGLE, 11.5, [_box(1.8, 0.15)]) == (0, pytest.approx(11.8))


def test_a_training_start_moves_to_the_lane_away_from_an_object() -> None:
    assert training_start_pose(STRAIGHT, 2.0, []) == pytest.approx((2.0, 0.0, 0.0))
    # An inner-lane box 0.5 m ahead: start in the outer lane, and the other way round.
    assert training_start_pose(STRAIGHT, 2.0, [_box(2.5, 0.1525)]) == pytest.approx(
        (2.0, -0.1525, 0.0)
    )
    assert training_start_pose(STRAIGHT, 2.0, [_bot(1.5, -0.1525)]) == pytest.approx(
        (2.0, 0.1525, 0.0)
    )
    assert training_start_pose(RECTANGLE, 0.0, []) == pytest.approx((2.0, 0.0, 0.0))


def test_a_reset_goes_behind_the_obstacle_in_the_other_lane() -> None:
    box = _box(3.5, 0.1525)
    # 1 m behind the box (s 2.5), in the outer lane.
    assert reset_pose(STRAIGHT, 3.0, [box], (3.2, 0.1, 0.0)) == pytest.approx((2.5, -0.1525, 0.0))
    # No obstacle near: at the spawn distance, in the lane nearer the car.
    assert reset_pose(STRAIGHT, 3.0, [], (3.0, 0.2, 0.3)) == pytest.approx((3.0, 0.1525, 0.0))
    assert reset_pose(STRAIGHT, 3.0, [], (3.0, -0.05, 0.0)) == pytest.approx((3.0, -0.1525, 0.0))
    # A bot car does not move the reset.
    assert reset_pose(STRAIGHT, 3.0, [_bot(3.5, 0.1525)], (3.0, 0.2, 0.0)) == pytest.approx(
        (3.0, 0.1525, 0.0)
    )


def test_a_reset_behind_an_obstacle_just_past_the_line_goes_back_over_it() -> None:
    # The box at s 0.5; 1 m behind it is s -0.5, i.e. 11.5: (1.5, 0) on the centre
    # line, and the outer lane beside it.
    pose = reset_pose(RECTANGLE, 0.3, [_box(2.5, 0.15)], (2.2, 0.1, 0.0))
    assert pose == pytest.approx((1.5, -0.15, 0.0))
