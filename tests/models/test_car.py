"""What the physical car can run: the rules the trainer and the car export share."""

from __future__ import annotations

import pytest

from deepracer.models.car import CAR_FRAME, car_problem


def test_a_camera_model_at_160x120_goes_to_the_car() -> None:
    for observation in ("camera", "stereo_camera"):
        for network in ("deepracer_shallow", "deepracer_standard", "deepracer_deep"):
            assert car_problem(observation, network, "ppo") is None
            assert car_problem(observation, network, "ppo", discrete=False) is None
            assert car_problem(observation, network, "sac", discrete=False) is None
    for lidar in ("lidar", "sector_lidar"):
        assert car_problem(("camera", lidar), "deepracer_shallow", "ppo") is None
        assert car_problem(("stereo_camera", lidar), "deepracer_deep", "ppo") is None
    assert CAR_FRAME == (120, 160)


@pytest.mark.parametrize(
    ("args", "kwargs", "reason"),
    [
        (("state", "mlp", "ppo"), {}, "the state observation (exact numbers from the"
         " simulator) does not exist on the physical car"),
        (("lidar", "attention_lidar", "ppo"), {}, "observation 'lidar': the car runs one"
         " camera (camera or stereo_camera), alone or with one lidar (lidar or sector_lidar)"),
        ((("camera", "state"), "deepracer_shallow", "ppo"), {}, "observation ['camera',"
         " 'state']"),
        ((("camera", "lidar", "sector_lidar"), "deepracer_shallow", "ppo"), {},
         "observation ['camera', 'lidar', 'sector_lidar']"),
        (("camera", "attention_cnn", "ppo"), {}, "network 'attention_cnn': the car export"
         " builds the DeepRacer CNNs"),
        (("camera", "deepracer_shallow", "sac"), {}, "SAC takes continuous actions only"),
        (("camera", "deepracer_shallow", "ppo"), {"frame": (48, 64)}, "the camera gives 64x48"
         " frames, the car feeds 160x120"),
    ],
)  # fmt: skip
def test_what_the_car_cannot_run_is_named(
    args: tuple[object, ...], kwargs: dict[str, object], reason: str
) -> None:
    problem = car_problem(*args, **kwargs)  # type: ignore[arg-type]
    assert problem is not None and reason in problem
