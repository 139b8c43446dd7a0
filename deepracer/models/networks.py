"""Policy networks: DeepRacer's camera CNNs and attention extractors for stable-baselines3.

A *network* is a name a preset picks (``network: deepracer_shallow``); its entry in
:data:`NETWORKS` turns the env's observation space into stable-baselines3
``policy_kwargs`` (feature extractor, ``net_arch``, activation). The network follows
the chosen observation: :func:`check_network` rejects a combination that cannot work
(a CNN on the ``state`` vector, ``attention_lidar`` without lidar) with a message
naming both.

How DeepRacer's networks map onto stable-baselines3 (facts: the simapp's
``sensors/utils.py::get_front_camera_embedders`` and ``agents/utils.py``):

* Coach's *input embedder* (the conv stack, plus the STANDARD / DEEP dense layers)
  is the features extractor :class:`DeepRacerCNN`: valid padding, ReLU, no batch
  norm or dropout (Coach's ``SCHEME`` embedders use only the conv and dense lists).
* Coach's *middleware* (SHALLOW / STANDARD: FC 512; DEEP: FC 256, 128) is the
  policy's ``net_arch``: ``[512]`` or ``[256, 128]``. A list ``net_arch`` gives the
  policy and the value function a tower each (PPO) or the actor and the critics a
  tower each (SAC), as Coach's ``use_separate_networks_per_head`` does; presets that
  want Coach's separate input embedders too set ``share_features_extractor: false``.
* Images reach the extractor channel-first and scaled to [0, 1]: stable-baselines3
  wraps an env whose uint8 ``(H, W, C)`` image space is channel-last in
  ``VecTransposeImage`` and its ``preprocess_obs`` divides image spaces by 255, as
  Coach's input embedder rescales by 1/255. The extractors also accept channel-last
  spaces and raw uint8 tensors, for use outside stable-baselines3.

Contents:
    CNN_VARIANTS: conv stacks and dense layers of the three DeepRacer CNNs.
    MIDDLEWARE: the ``net_arch`` that stands for each variant's middleware.
    conv_output_shape: (channels, height, width) after a variant's conv stack.
    DeepRacerCNN: SHALLOW / STANDARD / DEEP camera embedders.
    AttentionCNN: SHALLOW convs, then self-attention over the feature-map positions.
    AttentionLidar: self-attention over lidar sectors.
    DeepRacerCombinedExtractor: Dict observations (camera + state, camera + lidar).
    NETWORKS: network name -> ``policy_kwargs`` factory.
    NETWORK_HELP: one line per network, for listings.
    DEEPRACER_NETWORK_NAMES: ``model_metadata.json`` names -> network names.
    check_network: does a network fit an observation space?
    describe_observation: a short human description of an observation space.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast

import gymnasium as gym
import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.preprocessing import (
    is_image_space,
    is_image_space_channels_first,
)
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from deepracer.errors import ConfigError, suggest

__all__ = [
    "CNN_VARIANTS",
    "DEEPRACER_NETWORK_NAMES",
    "MIDDLEWARE",
    "NETWORKS",
    "NETWORK_HELP",
    "AttentionCNN",
    "AttentionLidar",
    "CnnVariant",
    "DeepRacerCNN",
    "DeepRacerCombinedExtractor",
    "NetworkFactory",
    "check_network",
    "conv_output_shape",
    "describe_observation",
]

CnnVariant = Literal["shallow", "standard", "deep"]
Pooling = Literal["mean", "query"]


@dataclass(frozen=True)
class _CnnSpec:
    convs: tuple[tuple[int, int, int], ...]
    """(filters, kernel, stride) per conv layer."""
    dense: tuple[int, ...]
    """Dense layers after the flatten, inside the embedder."""


CNN_VARIANTS: dict[str, _CnnSpec] = {
    "shallow": _CnnSpec(convs=((32, 8, 4), (64, 4, 2), (64, 3, 1)), dense=()),
    "standard": _CnnSpec(convs=((32, 5, 2), (32, 3, 1), (64, 3, 2), (64, 3, 1)), dense=(64,)),
    "deep": _CnnSpec(convs=((32, 8, 4), (32, 4, 2), (64, 4, 2), (64, 3, 1)), dense=(512, 512)),
}
"""DEEP_CONVOLUTIONAL_NETWORK_SHALLOW / _ / _DEEP input embedders (facts file §6.5)."""

MIDDLEWARE: dict[str, list[int]] = {"shallow": [512], "standard": [512], "deep": [256, 128]}
"""Coach's middleware per variant, expressed as a stable-baselines3 ``net_arch``."""

DEEPRACER_NETWORK_NAMES: dict[str, str] = {
    "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW": "deepracer_shallow",
    "DEEP_CONVOLUTIONAL_NETWORK": "deepracer_standard",
    "DEEP_CONVOLUTIONAL_NETWORK_DEEP": "deepracer_deep",
}
"""``model_metadata.json`` ``neural_network`` values -> our network names."""

_LIDAR_TOKENS = 8
"""Lidar sectors the attention sees as tokens (DeepRacer's 8 sectors)."""


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class _ImageLayout:
    channels: int
    height: int
    width: int
    channels_first: bool


def _image_layout(space: gym.Space[Any]) -> _ImageLayout:
    """Reads (C, H, W) from a 3-D Box, channel-first or channel-last as SB3 decides."""
    if not isinstance(space, spaces.Box) or len(space.shape) != 3:
        raise ConfigError(f"expected an image observation (a 3-D Box), got {space}")
    # SB3's own heuristic (the channel axis is the smallest), so that we agree with
    # VecTransposeImage about which spaces it transposes.
    first = bool(is_image_space_channels_first(space))
    shape = space.shape
    if first:
        return _ImageLayout(shape[0], shape[1], shape[2], True)
    return _ImageLayout(shape[2], shape[0], shape[1], False)


def conv_output_shape(variant: str, height: int, width: int) -> tuple[int, int, int]:
    """Returns (channels, height, width) after the conv stack of ``variant``.

    Valid padding: each layer maps a size ``n`` to ``(n - kernel) // stride + 1``.

    Args:
        variant: ``shallow``, ``standard`` or ``deep``.
        height: Input height [px].
        width: Input width [px].

    Raises:
        ConfigError: The image is too small for the stack (a size drops below 1).

    Example:
        >>> conv_output_shape("shallow", 120, 160)
        (64, 11, 16)
    """
    spec = _variant(variant)
    h, w = height, width
    channels = 0
    for i, (filters, kernel, stride) in enumerate(spec.convs):
        if h < kernel or w < kernel:
            raise ConfigError(
                f"a {height}x{width} image is too small for the {variant} CNN: conv layer"
                f" {i + 1} ({kernel}x{kernel}) sees {h}x{w}"
            )
        h, w, channels = (h - kernel) // stride + 1, (w - kernel) // stride + 1, filters
    return channels, h, w


def _variant(variant: str) -> _CnnSpec:
    if variant not in CNN_VARIANTS:
        raise ConfigError(
            f"unknown CNN variant {variant!r}.{suggest(variant, CNN_VARIANTS)}"
            f" Valid variants: {', '.join(CNN_VARIANTS)}"
        )
    return CNN_VARIANTS[variant]


def _conv_stack(in_channels: int, spec: _CnnSpec) -> nn.Sequential:
    layers: list[nn.Module] = []
    for filters, kernel, stride in spec.convs:
        layers += [nn.Conv2d(in_channels, filters, kernel, stride, padding=0), nn.ReLU()]
        in_channels = filters
    return nn.Sequential(*layers)


def _as_nchw(observations: th.Tensor, channels_first: bool) -> th.Tensor:
    """Float NCHW in [0, 1], stored channels-last, from SB3's (float, scaled) or uint8."""
    x = observations
    if x.dtype == th.uint8:
        x = x.float() / 255.0  # SB3's preprocess_obs already did this for its own calls
    if not channels_first:
        x = x.permute(0, 3, 1, 2)  # already channels-last in memory: no copy below
    return x.contiguous(memory_format=th.channels_last)


def _channels_last(convs: nn.Sequential) -> None:
    """Stores the conv weights channels-last (NHWC), once.

    With NHWC inputs and weights oneDNN's CPU convolutions run about 2x faster
    (forward + backward of the SHALLOW stack at 160 x 120, one thread). Done at the
    first forward, not in ``__init__``: SB3's orthogonal init views the weights as
    contiguous matrices, which fails on NHWC storage. ``.data`` is replaced in place,
    so optimizers keep their references.
    """
    layers = [m for m in convs if isinstance(m, nn.Conv2d)]
    if not layers[-1].weight.is_contiguous(memory_format=th.channels_last):
        for conv in layers:
            conv.weight.data = conv.weight.data.contiguous(memory_format=th.channels_last)


def _check_heads(dim: int, num_heads: int) -> None:
    if num_heads < 1 or dim % num_heads:
        raise ConfigError(f"attention: num_heads ({num_heads}) must divide the width ({dim})")


class _SelfAttentionBlock(nn.Module):
    """A post-norm transformer encoder layer over tokens (B, T, D), no dropout."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        _check_heads(dim, num_heads)
        self.attention = nn.MultiheadAttention(dim, num_heads, batch_first=True)
        self.norm1 = nn.LayerNorm(dim)
        self.feed_forward = nn.Sequential(
            nn.Linear(dim, 2 * dim), nn.ReLU(), nn.Linear(2 * dim, dim)
        )
        self.norm2 = nn.LayerNorm(dim)

    def forward(self, tokens: th.Tensor) -> th.Tensor:
        # need_weights=False lets torch take its fused attention path.
        attended, _ = self.attention(tokens, tokens, tokens, need_weights=False)
        tokens = self.norm1(tokens + attended)
        return cast(th.Tensor, self.norm2(tokens + self.feed_forward(tokens)))

    def weights(self, tokens: th.Tensor) -> th.Tensor:
        """Returns the attention weights (B, T, T), averaged over heads."""
        _, weights = self.attention(tokens, tokens, tokens, need_weights=True)
        assert weights is not None  # need_weights=True always returns them
        return cast(th.Tensor, weights)


class _Pool(nn.Module):
    """Tokens (B, T, D) -> (B, D): their mean, or what a learned query attends to."""

    def __init__(self, dim: int, num_heads: int, pooling: str) -> None:
        super().__init__()
        if pooling not in ("mean", "query"):
            raise ConfigError(f"attention: pooling must be 'mean' or 'query', got {pooling!r}")
        self.pooling = pooling
        if pooling == "query":
            self.query = nn.Parameter(th.zeros(1, 1, dim))
            nn.init.normal_(self.query, std=0.02)
            self.attention = nn.MultiheadAttention(dim, num_heads, batch_first=True)

    def forward(self, tokens: th.Tensor) -> th.Tensor:
        if self.pooling == "mean":
            return tokens.mean(dim=1)
        query = self.query.expand(tokens.shape[0], -1, -1)
        pooled, _ = self.attention(query, tokens, tokens, need_weights=False)
        return cast(th.Tensor, pooled.squeeze(1))


def _positions(tokens: int, dim: int) -> nn.Parameter:
    """A learned positional embedding (1, T, D), small random start (as in ViT)."""
    position = nn.Parameter(th.zeros(1, tokens, dim))
    nn.init.normal_(position, std=0.02)
    return position


# ----------------------------------------------------------------------- extractors


class DeepRacerCNN(BaseFeaturesExtractor):
    """DeepRacer's camera input embedder (SHALLOW, STANDARD or DEEP).

    ======== ==================================== ============== ==================
    variant  convs [filters @ kernel / stride]    embedder dense middleware net_arch
    ======== ==================================== ============== ==================
    shallow  32@8/4, 64@4/2, 64@3/1               -              [512]
    standard 32@5/2, 32@3/1, 64@3/2, 64@3/1       64             [512]
    deep     32@8/4, 32@4/2, 64@4/2, 64@3/1       512, 512       [256, 128]
    ======== ==================================== ============== ==================

    Valid padding and ReLU everywhere. ``features_dim`` is the flattened conv output
    for SHALLOW (11 264 = 64 x 11 x 16 at 160 x 120, found with a dummy forward pass)
    and the last dense width otherwise. Any height, width and channel count (frame
    stacks, stereo) works if the stack fits (DEEP needs about 60 x 60 or more).

    Args:
        observation_space: An image Box, (C, H, W) as SB3 hands it over after
            ``VecTransposeImage``, or (H, W, C) as the env gives it.
        variant: ``shallow`` (the console default), ``standard`` or ``deep``.
        middleware: Extra dense ReLU layers at the end of the extractor. With
            ``net_arch: []`` this moves the middleware into the extractor, where
            policy and value share it (when they share the extractor): one
            11 264 x 512 layer instead of two, a CPU saving that departs from
            Coach's separate towers.

    Raises:
        ConfigError: Not an image space, an unknown variant or a too small image.
    """

    def __init__(
        self,
        observation_space: gym.Space[Any],
        *,
        variant: str = "shallow",
        middleware: Sequence[int] = (),
    ) -> None:
        layout = _image_layout(observation_space)
        spec = _variant(variant)
        conv_output_shape(variant, layout.height, layout.width)  # clear error if too small
        if not all(isinstance(n, int) and n >= 1 for n in middleware):
            raise ConfigError(f"middleware: expected layer sizes >= 1, got {list(middleware)}")
        convs = _conv_stack(layout.channels, spec)
        with th.no_grad():
            dummy = th.zeros(1, layout.channels, layout.height, layout.width)
            flat = int(convs(dummy).flatten(1).shape[1])
        dense: list[nn.Module] = []
        width = flat
        for units in (*spec.dense, *middleware):
            dense += [nn.Linear(width, units), nn.ReLU()]
            width = units
        super().__init__(observation_space, features_dim=width)
        self.variant = variant
        self.channels_first = layout.channels_first
        self.flatten_dim = flat
        self.convs = convs
        self.dense = nn.Sequential(nn.Flatten(), *dense)

    def forward(self, observations: th.Tensor) -> th.Tensor:
        """Maps images (B, C, H, W) in [0, 1] (or uint8 / channel-last) to features."""
        _channels_last(self.convs)
        x = _as_nchw(observations, self.channels_first)
        return cast(th.Tensor, self.dense(self.convs(x)))


class AttentionCNN(BaseFeaturesExtractor):
    """SHALLOW convs, then self-attention over the positions of the last feature map.

    The idea of the simapp's ``preset_attention_layer`` preset: each of the
    11 x 16 positions of SHALLOW's 64-channel map (at 160 x 120) is a token, plus a
    learned positional embedding so that *where* something is stays known; one
    transformer layer (multi-head self-attention, feed-forward, layer norms) lets
    every position look at the whole image, and the tokens are pooled to 64 features
    (their mean, or what a learned query attends to).

    Args:
        observation_space: An image Box (see :class:`DeepRacerCNN`).
        num_heads: Attention heads; must divide 64.
        pooling: ``mean`` or ``query``.

    Raises:
        ConfigError: Not an image space, a too small image or bad heads / pooling.
    """

    def __init__(
        self, observation_space: gym.Space[Any], *, num_heads: int = 4, pooling: str = "mean"
    ) -> None:
        layout = _image_layout(observation_space)
        conv_output_shape("shallow", layout.height, layout.width)
        convs = _conv_stack(layout.channels, CNN_VARIANTS["shallow"])
        with th.no_grad():
            fmap = convs(th.zeros(1, layout.channels, layout.height, layout.width))
        dim, h, w = (int(n) for n in fmap.shape[1:])
        super().__init__(observation_space, features_dim=dim)
        self.channels_first = layout.channels_first
        self.grid = (h, w)
        self.convs = convs
        self.position = _positions(h * w, dim)
        self.block = _SelfAttentionBlock(dim, num_heads)
        self.pool = _Pool(dim, num_heads, pooling)

    def tokens(self, observations: th.Tensor) -> th.Tensor:
        """Returns the position-embedded tokens (B, h * w, 64) before attention."""
        _channels_last(self.convs)
        fmap = self.convs(_as_nchw(observations, self.channels_first))
        return cast(th.Tensor, fmap.flatten(2).transpose(1, 2) + self.position)

    def attention_map(self, observations: th.Tensor) -> th.Tensor:
        """Returns how much attention each position receives (B, h, w), for plots."""
        weights = self.block.weights(self.tokens(observations))  # (B, T, T)
        return weights.mean(dim=1).reshape(-1, *self.grid)

    def forward(self, observations: th.Tensor) -> th.Tensor:
        """Maps images to 64 pooled features."""
        return cast(th.Tensor, self.pool(self.block(self.tokens(observations))))


class AttentionLidar(BaseFeaturesExtractor):
    """Self-attention over lidar sectors.

    The ranges (the first ray straight ahead, counter-clockwise, as the ``lidar``
    observation gives them) are divided by the space's upper bound (the clipping
    distance) and grouped into ``num_tokens`` sectors of consecutive rays, the
    grouping of DeepRacer's sector lidars. Each sector is embedded linearly, gets a
    learned positional embedding (which way it faces), goes through one transformer
    layer and the sectors are pooled to ``embed_dim`` features.

    Args:
        observation_space: A 1-D Box of ranges, e.g. ``lidar``'s Box(0.15, 2, (64,)).
        num_tokens: Sectors; must divide the number of rays.
        embed_dim: Token width (= features_dim).
        num_heads: Attention heads; must divide ``embed_dim``.
        pooling: ``mean`` or ``query``.

    Raises:
        ConfigError: Not a 1-D Box, or sizes that do not divide.
    """

    scale: th.Tensor
    """1 / upper bound per ray (a buffer: it moves with the module's device)."""

    def __init__(
        self,
        observation_space: gym.Space[Any],
        *,
        num_tokens: int = _LIDAR_TOKENS,
        embed_dim: int = 32,
        num_heads: int = 4,
        pooling: str = "mean",
    ) -> None:
        problem = _lidar_problem(observation_space, num_tokens)
        if problem:
            raise ConfigError(f"AttentionLidar: {problem}")
        assert isinstance(observation_space, spaces.Box)  # _lidar_problem checked it
        super().__init__(observation_space, features_dim=embed_dim)
        rays = int(observation_space.shape[0])
        high = np.asarray(observation_space.high, dtype=np.float64)
        # Ranges in [0, 1]; an unbounded ray (inf) is left unscaled.
        scale = np.where(np.isfinite(high) & (high > 0), 1.0 / np.where(high > 0, high, 1.0), 1.0)
        self.register_buffer("scale", th.as_tensor(scale, dtype=th.float32))
        self.num_tokens = num_tokens
        self.embed = nn.Linear(rays // num_tokens, embed_dim)
        self.position = _positions(num_tokens, embed_dim)
        self.block = _SelfAttentionBlock(embed_dim, num_heads)
        self.pool = _Pool(embed_dim, num_heads, pooling)

    def tokens(self, observations: th.Tensor) -> th.Tensor:
        """Returns the embedded sector tokens (B, num_tokens, embed_dim)."""
        x = observations.float() * self.scale
        return cast(
            th.Tensor, self.embed(x.reshape(x.shape[0], self.num_tokens, -1)) + self.position
        )

    def attention_map(self, observations: th.Tensor) -> th.Tensor:
        """Returns how much attention each sector receives (B, num_tokens)."""
        return self.block.weights(self.tokens(observations)).mean(dim=1)

    def forward(self, observations: th.Tensor) -> th.Tensor:
        """Maps ranges (B, rays) to pooled features (B, embed_dim)."""
        return cast(th.Tensor, self.pool(self.block(self.tokens(observations))))


class DeepRacerCombinedExtractor(BaseFeaturesExtractor):
    """Dict observations: one extractor per key, features concatenated.

    Like SB3's ``CombinedExtractor`` (which would put NatureCNN on the images), but
    image keys get a DeepRacer CNN or :class:`AttentionCNN`, and the ``lidar`` key
    may get :class:`AttentionLidar`; every other key is flattened. Coach likewise
    concatenates its input embedders before the middleware.

    Args:
        observation_space: A Dict space (keys in the env config's order).
        image: ``shallow``, ``standard``, ``deep`` or ``attention`` for image keys.
        lidar: ``flatten`` or ``attention`` for the ``lidar`` key.

    Raises:
        ConfigError: Not a Dict space, or an unknown ``image`` / ``lidar`` choice.
    """

    def __init__(
        self,
        observation_space: gym.Space[Any],
        *,
        image: str = "shallow",
        lidar: str = "flatten",
    ) -> None:
        if not isinstance(observation_space, spaces.Dict):
            raise ConfigError(
                f"DeepRacerCombinedExtractor needs a Dict space, got {observation_space}"
            )
        if image not in (*CNN_VARIANTS, "attention"):
            raise ConfigError(
                f"image: expected shallow, standard, deep or attention, got {image!r}"
            )
        if lidar not in ("flatten", "attention"):
            raise ConfigError(f"lidar: expected flatten or attention, got {lidar!r}")
        super().__init__(observation_space, features_dim=1)  # set below, once known
        extractors: dict[str, nn.Module] = {}
        total = 0
        for key, sub in observation_space.spaces.items():
            module: nn.Module
            if is_image_space(sub):
                module = (
                    AttentionCNN(sub) if image == "attention" else DeepRacerCNN(sub, variant=image)
                )
                total += cast(BaseFeaturesExtractor, module).features_dim
            elif key == "lidar" and lidar == "attention":
                module = AttentionLidar(sub)
                total += module.features_dim
            else:
                module = nn.Flatten()
                total += int(spaces.flatdim(sub))
            extractors[key] = module
        self.extractors = nn.ModuleDict(extractors)
        self._features_dim = total

    def forward(self, observations: dict[str, th.Tensor]) -> th.Tensor:
        """Concatenates every key's features (B, features_dim)."""
        return th.cat([m(observations[k]) for k, m in self.extractors.items()], dim=1)


# ------------------------------------------------------------------------- registry


class NetworkFactory(Protocol):
    """Turns an observation space into stable-baselines3 ``policy_kwargs``."""

    def __call__(
        self, observation_space: gym.Space[Any], *, algorithm: str = "ppo"
    ) -> dict[str, Any]:
        """Returns ``policy_kwargs``; raises ConfigError if the space does not fit."""
        ...


def _is_image(space: gym.Space[Any]) -> bool:
    return bool(is_image_space(space))


def _has_image(space: gym.Space[Any]) -> bool:
    if isinstance(space, spaces.Dict):
        return any(_is_image(s) for s in space.spaces.values())
    return _is_image(space)


def _lidar_problem(space: gym.Space[Any], num_tokens: int = _LIDAR_TOKENS) -> str | None:
    """Why ``space`` is not a lidar range vector, or None if it looks like one."""
    if not isinstance(space, spaces.Box) or len(space.shape) != 1:
        return f"expected a 1-D Box of lidar ranges, got {space}"
    if not np.issubdtype(space.dtype, np.floating) or np.any(space.low < 0):
        # Ranges are distances: the state vector (low -3) and bits are not.
        return f"expected lidar ranges (floats >= 0), got {space}"
    if num_tokens < 1 or space.shape[0] % num_tokens:
        return f"{num_tokens} sectors must divide the {space.shape[0]} rays"
    return None


def _unfit(name: str, space: gym.Space[Any], reason: str) -> ConfigError:
    return ConfigError(f"network {name!r} does not fit the {describe_observation(space)}: {reason}")


def _mlp(observation_space: gym.Space[Any], *, algorithm: str = "ppo") -> dict[str, Any]:
    if _has_image(observation_space):
        raise _unfit(
            "mlp",
            observation_space,
            "an MLP on raw pixels learns poorly; use deepracer_shallow (or another CNN)",
        )
    if algorithm == "sac":  # SB3's SAC defaults
        return {"net_arch": [256, 256], "activation_fn": nn.ReLU}
    # SB3's PPO defaults: what the quickstart laps the oval with.
    return {"net_arch": [64, 64], "activation_fn": nn.Tanh}


def _camera_kwargs(
    name: str, observation_space: gym.Space[Any], image: str, net_arch: list[int]
) -> dict[str, Any]:
    if not _has_image(observation_space):
        raise _unfit(
            name, observation_space, "it needs a camera observation (camera or stereo_camera)"
        )
    variant = "shallow" if image == "attention" else image
    images = (
        [s for s in observation_space.spaces.values() if _is_image(s)]
        if isinstance(observation_space, spaces.Dict)
        else [observation_space]
    )
    for sub in images:
        layout = _image_layout(sub)
        try:
            conv_output_shape(variant, layout.height, layout.width)
        except ConfigError as exc:
            raise _unfit(name, observation_space, str(exc)) from None
    kwargs: dict[str, Any] = {"net_arch": list(net_arch), "activation_fn": nn.ReLU}
    if isinstance(observation_space, spaces.Dict):
        kwargs["features_extractor_class"] = DeepRacerCombinedExtractor
        kwargs["features_extractor_kwargs"] = {"image": image}
    elif image == "attention":
        kwargs["features_extractor_class"] = AttentionCNN
        kwargs["features_extractor_kwargs"] = {}
    else:
        kwargs["features_extractor_class"] = DeepRacerCNN
        kwargs["features_extractor_kwargs"] = {"variant": image}
    return kwargs


def _deepracer(variant: CnnVariant) -> NetworkFactory:
    def factory(observation_space: gym.Space[Any], *, algorithm: str = "ppo") -> dict[str, Any]:
        return _camera_kwargs(
            f"deepracer_{variant}", observation_space, variant, MIDDLEWARE[variant]
        )

    return factory


def _attention_cnn(observation_space: gym.Space[Any], *, algorithm: str = "ppo") -> dict[str, Any]:
    # The attention replaces SHALLOW's flatten; the middleware stays FC 512.
    return _camera_kwargs("attention_cnn", observation_space, "attention", MIDDLEWARE["shallow"])


def _attention_lidar(
    observation_space: gym.Space[Any], *, algorithm: str = "ppo"
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"net_arch": [64, 64], "activation_fn": nn.ReLU}
    if isinstance(observation_space, spaces.Dict):
        if "lidar" not in observation_space.spaces:
            raise _unfit("attention_lidar", observation_space, "it needs the lidar observation")
        problem = _lidar_problem(observation_space.spaces["lidar"])
        if problem:
            raise _unfit("attention_lidar", observation_space, problem)
        kwargs["features_extractor_class"] = DeepRacerCombinedExtractor
        kwargs["features_extractor_kwargs"] = {"lidar": "attention"}
        if _has_image(observation_space):
            kwargs["net_arch"] = list(MIDDLEWARE["shallow"])
        return kwargs
    problem = _lidar_problem(observation_space)
    if problem:
        raise _unfit(
            "attention_lidar", observation_space, f"it needs the lidar observation; {problem}"
        )
    kwargs["features_extractor_class"] = AttentionLidar
    kwargs["features_extractor_kwargs"] = {}
    return kwargs


NETWORKS: dict[str, NetworkFactory] = {
    "mlp": _mlp,
    "deepracer_shallow": _deepracer("shallow"),
    "deepracer_standard": _deepracer("standard"),
    "deepracer_deep": _deepracer("deep"),
    "attention_cnn": _attention_cnn,
    "attention_lidar": _attention_lidar,
}
"""Network name -> ``factory(observation_space, *, algorithm) -> policy_kwargs``."""

NETWORK_HELP: dict[str, str] = {
    "mlp": "vector observations (state, lidar, sector lidars): a small MLP, SB3's defaults",
    "deepracer_shallow": "camera: the console default DEEP_CONVOLUTIONAL_NETWORK_SHALLOW",
    "deepracer_standard": "camera: DEEP_CONVOLUTIONAL_NETWORK (4 convs, dense 64)",
    "deepracer_deep": "camera: DEEP_CONVOLUTIONAL_NETWORK_DEEP (4 convs, dense 512 x 2)",
    "attention_cnn": "camera: SHALLOW convs + self-attention over positions",
    "attention_lidar": "lidar: self-attention over 8 sectors",
}
"""One line per network: what observation it is for."""

_LIDAR_NETWORKS = frozenset({"attention_lidar"})


def _names(observation: str | Sequence[str] | None) -> tuple[str, ...] | None:
    if observation is None:
        return None
    return (observation,) if isinstance(observation, str) else tuple(observation)


def describe_observation(
    space: gym.Space[Any], observation: str | Sequence[str] | None = None
) -> str:
    """Returns e.g. ``observation 'state' (a vector of 15)`` for error messages.

    Args:
        space: The observation space.
        observation: The env config's observation name(s), when known.
    """
    names = _names(observation)
    label = ""
    if names is not None:
        label = f" {names[0]!r}" if len(names) == 1 else f" {list(names)!r}"
    return f"observation{label} ({_summary(space)})"


def _summary(space: gym.Space[Any]) -> str:
    if isinstance(space, spaces.Dict):
        return "Dict: " + ", ".join(f"{k} {_summary(s)}" for k, s in space.spaces.items())
    if isinstance(space, spaces.Box) and len(space.shape) == 3:
        return f"image {'x'.join(str(n) for n in space.shape)} {space.dtype}"
    if isinstance(space, spaces.Box) and len(space.shape) == 1:
        return f"a vector of {space.shape[0]}"
    if isinstance(space, spaces.MultiBinary):
        return f"{math.prod(np.atleast_1d(space.n))} bits"
    return str(space)


def check_network(
    name: str,
    observation_space: gym.Space[Any],
    *,
    observation: str | Sequence[str] | None = None,
    algorithm: str = "ppo",
) -> dict[str, Any]:
    """Checks that network ``name`` fits the observation; returns its policy_kwargs.

    Args:
        name: A key of :data:`NETWORKS`.
        observation_space: The env's observation space (as the env gives it).
        observation: The env config's observation name(s), when known: they make
            the message clearer and let ``attention_lidar`` insist on ``lidar``.
        algorithm: ``ppo`` or ``sac`` (the MLP's defaults differ).

    Returns:
        The network's stable-baselines3 ``policy_kwargs`` for this space.

    Raises:
        ConfigError: Unknown network, or one that does not fit; the message names
            the network and the observation.
    """
    if name not in NETWORKS:
        raise ConfigError(
            f"unknown network {name!r}.{suggest(name, NETWORKS)}"
            f" Valid networks: {', '.join(NETWORKS)}"
        )
    names = _names(observation)
    if name in _LIDAR_NETWORKS and names is not None and "lidar" not in names:
        raise ConfigError(
            f"network {name!r} does not fit the {describe_observation(observation_space, names)}:"
            " it needs the lidar observation (observation: lidar)"
        )
    try:
        return NETWORKS[name](observation_space, algorithm=algorithm)
    except ConfigError as exc:
        if names is None:
            raise
        # Re-say it with the observation's name, which the factory cannot know.
        message = str(exc).replace(
            describe_observation(observation_space), describe_observation(observation_space, names)
        )
        raise ConfigError(message) from None
