"""DeepRacer CNNs, attention extractors and the network registry."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("stable_baselines3")

import torch as th
from torch import nn

from deepracer.errors import ConfigError
from deepracer.models.networks import (
    DEEPRACER_NETWORK_NAMES,
    MIDDLEWARE,
    NETWORKS,
    AttentionCNN,
    AttentionLidar,
    DeepRacerCNN,
    DeepRacerCombinedExtractor,
    check_network,
    conv_output_shape,
)


def image(*shape: int) -> gym.spaces.Box:
    return gym.spaces.Box(0, 255, shape=shape, dtype=np.uint8)


STATE = gym.spaces.Box(-3.0, 3.0, shape=(15,), dtype=np.float32)
LIDAR = gym.spaces.Box(0.15, 2.0, shape=(64,), dtype=np.float32)
CAMERA = image(120, 160, 1)


def conv_shapes(model: DeepRacerCNN, height: int, width: int) -> list[tuple[int, ...]]:
    shapes = []
    x = th.zeros(1, 1, height, width)
    for layer in model.convs:
        x = layer(x)
        if isinstance(layer, nn.Conv2d):
            shapes.append(tuple(x.shape[1:]))
    return shapes


def test_shallow_matches_the_simapp_at_160x120() -> None:
    model = DeepRacerCNN(CAMERA, variant="shallow")
    convs = [m for m in model.convs if isinstance(m, nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [
        (32, 8, 4),
        (64, 4, 2),
        (64, 3, 1),
    ]
    assert all(c.padding == (0, 0) for c in convs)  # Keras "valid"
    assert conv_shapes(model, 120, 160) == [(32, 29, 39), (64, 13, 18), (64, 11, 16)]
    assert model.flatten_dim == model.features_dim == 11264 == 64 * 11 * 16
    assert conv_output_shape("shallow", 120, 160) == (64, 11, 16)


@pytest.mark.parametrize(
    ("variant", "shape", "flat", "features"),
    [
        ("shallow", (84, 84, 1), 64 * 7 * 7, 64 * 7 * 7),
        ("standard", (120, 160, 1), 64 * 25 * 35, 64),
        ("standard", (84, 84, 1), 64 * 16 * 16, 64),
        ("deep", (120, 160, 1), 64 * 3 * 6, 512),
        ("deep", (84, 84, 1), 64, 512),
        ("shallow", (120, 160, 2), 11264, 11264),  # stereo
        ("deep", (4, 84, 84), 64, 512),  # channel-first frame stack
    ],
)
def test_variants_sizes(
    variant: str, shape: tuple[int, int, int], flat: int, features: int
) -> None:
    model = DeepRacerCNN(image(*shape), variant=variant)
    assert (model.flatten_dim, model.features_dim) == (flat, features)
    out = model(th.zeros(3, *shape, dtype=th.uint8))
    assert out.shape == (3, features)


def test_middleware_can_live_in_the_extractor() -> None:
    model = DeepRacerCNN(CAMERA, middleware=[512])
    assert model.features_dim == 512
    assert model(th.zeros(2, 120, 160, 1, dtype=th.uint8)).shape == (2, 512)


def test_channel_last_uint8_equals_channel_first_scaled() -> None:
    th.manual_seed(0)
    first = DeepRacerCNN(image(2, 120, 160))
    last = DeepRacerCNN(image(120, 160, 2))
    last.load_state_dict(first.state_dict())
    pixels = th.randint(0, 256, (3, 120, 160, 2), dtype=th.uint8)
    scaled = pixels.permute(0, 3, 1, 2).float() / 255.0  # what SB3 hands over
    assert th.allclose(first(scaled), last(pixels), atol=1e-5)
    assert th.allclose(first(scaled), first(pixels.permute(0, 3, 1, 2)), atol=1e-5)


def test_too_small_image_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"too small for the deep CNN"):
        DeepRacerCNN(image(32, 32, 1), variant="deep")
    with pytest.raises(ConfigError, match=r"unknown CNN variant 'shalow'.*'shallow'"):
        DeepRacerCNN(CAMERA, variant="shalow")


def test_attention_cnn_features() -> None:
    model = AttentionCNN(CAMERA)
    assert model.features_dim == 64 and model.grid == (11, 16)
    batch = th.randint(0, 256, (3, 120, 160, 1), dtype=th.uint8)
    assert model(batch).shape == (3, 64)
    assert model.tokens(batch).shape == (3, 176, 64)
    weights = model.attention_map(batch)
    assert weights.shape == (3, 11, 16)
    assert th.allclose(weights.sum(dim=(1, 2)), th.ones(3), atol=1e-4)
    query = AttentionCNN(image(1, 84, 84), pooling="query", num_heads=8)
    assert query(th.rand(2, 1, 84, 84)).shape == (2, 64)
    with pytest.raises(ConfigError, match=r"num_heads"):
        AttentionCNN(CAMERA, num_heads=3)
    with pytest.raises(ConfigError, match=r"pooling"):
        AttentionCNN(CAMERA, pooling="max")


def test_attention_lidar_features() -> None:
    model = AttentionLidar(LIDAR)
    ranges = th.rand(5, 64) * 1.85 + 0.15
    assert model(ranges).shape == (5, 32) and model.features_dim == 32
    assert model.tokens(ranges).shape == (5, 8, 32)
    assert model.attention_map(ranges).shape == (5, 8)
    wide = AttentionLidar(LIDAR, num_tokens=16, embed_dim=64, pooling="query")
    assert wide(ranges).shape == (5, 64)
    with pytest.raises(ConfigError, match=r"lidar ranges"):
        AttentionLidar(STATE)
    with pytest.raises(ConfigError, match=r"must divide"):
        AttentionLidar(LIDAR, num_tokens=7)


def test_combined_extractor() -> None:
    space = gym.spaces.Dict({"camera": image(1, 120, 160), "state": STATE})
    model = DeepRacerCombinedExtractor(space)
    assert model.features_dim == 11264 + 15
    out = model({"camera": th.rand(2, 1, 120, 160), "state": th.zeros(2, 15)})
    assert out.shape == (2, 11264 + 15)
    lidar = DeepRacerCombinedExtractor(
        gym.spaces.Dict({"lidar": LIDAR, "state": STATE}), lidar="attention"
    )
    assert lidar.features_dim == 32 + 15
    attention = DeepRacerCombinedExtractor(space, image="attention")
    assert attention.features_dim == 64 + 15


def test_registry_policy_kwargs() -> None:
    assert set(NETWORKS) == {
        "mlp",
        "deepracer_shallow",
        "deepracer_standard",
        "deepracer_deep",
        "attention_cnn",
        "attention_lidar",
    }
    assert set(DEEPRACER_NETWORK_NAMES.values()) <= set(NETWORKS)
    assert DEEPRACER_NETWORK_NAMES["DEEP_CONVOLUTIONAL_NETWORK_SHALLOW"] == "deepracer_shallow"
    deep = NETWORKS["deepracer_deep"](CAMERA)
    assert deep["features_extractor_class"] is DeepRacerCNN
    assert deep["features_extractor_kwargs"] == {"variant": "deep"}
    assert deep["net_arch"] == MIDDLEWARE["deep"] == [256, 128]
    assert deep["activation_fn"] is nn.ReLU
    assert NETWORKS["deepracer_shallow"](CAMERA)["net_arch"] == [512]
    both = NETWORKS["deepracer_standard"](gym.spaces.Dict({"camera": CAMERA, "state": STATE}))
    assert both["features_extractor_class"] is DeepRacerCombinedExtractor
    assert NETWORKS["mlp"](STATE)["net_arch"] == [64, 64]
    assert NETWORKS["mlp"](STATE, algorithm="sac")["net_arch"] == [256, 256]
    assert NETWORKS["attention_lidar"](LIDAR)["features_extractor_class"] is AttentionLidar


def test_cnn_on_state_names_network_and_observation() -> None:
    with pytest.raises(ConfigError) as err:
        check_network("deepracer_shallow", STATE, observation="state")
    message = str(err.value)
    assert "'deepracer_shallow'" in message and "'state'" in message
    assert "camera" in message
    with pytest.raises(ConfigError, match=r"'attention_cnn' does not fit .*a vector of 64"):
        check_network("attention_cnn", LIDAR)


def test_attention_lidar_needs_lidar() -> None:
    with pytest.raises(ConfigError, match=r"'attention_lidar'.*'state'.*lidar"):
        check_network("attention_lidar", STATE, observation="state")
    with pytest.raises(ConfigError, match=r"lidar"):
        check_network("attention_lidar", STATE)  # a state-like vector, name unknown
    with pytest.raises(ConfigError, match=r"\['camera', 'state'\].*lidar"):
        check_network(
            "attention_lidar",
            gym.spaces.Dict({"camera": CAMERA, "state": STATE}),
            observation=("camera", "state"),
        )
    with pytest.raises(ConfigError, match=r"'sector_lidar'"):
        check_network("attention_lidar", gym.spaces.MultiBinary(8), observation="sector_lidar")
    assert check_network("attention_lidar", LIDAR, observation="lidar")


def test_mlp_rejects_pixels_and_unknown_names_get_suggestions() -> None:
    with pytest.raises(ConfigError, match=r"'mlp'.*'camera'.*deepracer_shallow"):
        check_network("mlp", CAMERA, observation="camera")
    with pytest.raises(ConfigError, match=r"Did you mean 'deepracer_shallow'"):
        check_network("deepracer_shalow", CAMERA)
    with pytest.raises(ConfigError, match=r"too small"):
        check_network("deepracer_deep", image(40, 40, 1))
    assert check_network("mlp", gym.spaces.MultiBinary(8))["net_arch"] == [64, 64]
