"""The synthetic listening world: seeded new users and their top genre two months on.

A user has an age (16-74), a gender (3 values), a region (8 values) and a latent
affinity for each of the 12 genres::

    a_k = log popularity_k + age effect_k(age) + gender_k + region_k + N(0, user_noise^2)

At onboarding the user selects ``m`` genres (1-6, drawn independently of taste) by
Gumbel top-``m`` (Plackett-Luce sampling without replacement) on
``(a_k + aspiration * aspirational_k) / selection_temperature``. A high temperature
and the aspiration bonus make selections "aspirational": people tick Classical or
Jazz more often than they end up listening to them. Two months later the top genre is

    argmax_k  a_k + selection_weight * s_k / m^dilution + alias * (R&B selected) [k = Hip-Hop]
              + listen_noise * Gumbel_k

so a single selection weighs more than one of six, and R&B pickers drift to Hip-Hop
(both reported in the article). The label depends on the selections non-additively
(through ``m`` and the argmax) and on demographics that the baseline ignores.

Because every step has a closed form, the Bayes-optimal posterior
``P(top genre | age, gender, region, selections)`` is computable: importance sampling
over the latent noise with the prior as proposal, weighting each draw by the exact
Plackett-Luce probability of the selected *set* (inclusion-exclusion over its
subsets, at most 2^6 terms).

Contents:
    GENRES, GENDERS, REGIONS, AGE_RANGE, MAX_SELECTED: the catalogue.
    WorldParams: the generator's knobs.
    World: the fixed tables (popularity, effects) of one seeded world.
    Users: one sample of users (features and labels), as arrays.
    make_world, sample_users: seeded construction.
    bayes_posterior: the Bayes-optimal class probabilities of users.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "AGE_RANGE",
    "GENDERS",
    "GENRES",
    "MAX_SELECTED",
    "REGIONS",
    "Users",
    "World",
    "WorldParams",
    "bayes_posterior",
    "make_world",
    "sample_users",
]

GENRES: tuple[str, ...] = (
    "Top 40 & Pop",
    "Hip-Hop",
    "R&B",
    "Country",
    "Classic Rock",
    "Alternative",
    "Dance & EDM",
    "News & Talk",
    "Sports",
    "Classical",
    "Jazz",
    "Kids & Family",
)
"""The genres a user can select and listen to (the classes, in this order)."""
GENDERS: tuple[str, ...] = ("female", "male", "unspecified")
"""Gender values a profile may carry."""
REGIONS: tuple[str, ...] = (
    "northeast",
    "mid-atlantic",
    "southeast",
    "great-lakes",
    "plains",
    "south-central",
    "mountain",
    "pacific",
)
"""Region values a profile may carry."""
AGE_RANGE: tuple[int, int] = (16, 74)
"""Youngest and oldest age [years] in the data (and accepted by ``recommend``)."""
MAX_SELECTED = 6
"""Most genres a user selects at onboarding (at least one)."""

_G = {name: i for i, name in enumerate(GENRES)}
# Share of users whose top genre each one is, before demographics (sums to 1).
_POPULARITY = np.array([0.19, 0.13, 0.07, 0.13, 0.10, 0.08, 0.05, 0.08, 0.05, 0.04, 0.04, 0.04])
# Change of affinity per 15 years above 40: the young lean to Pop, Hip-Hop and Dance,
# the old to Classic Rock, News & Talk and Classical (the article's age pattern).
_AGE_SLOPE = np.array([-0.5, -0.7, -0.2, 0.1, 0.6, -0.3, -0.6, 0.7, 0.2, 0.5, 0.4, 0.0])
# Kids & Family peaks with parents' ages (about 28-45): non-monotone in age on purpose.
_KIDS_BUMP = 1.0
# Gender offsets (female, male, unspecified): Sports and News & Talk lean male.
_GENDER = np.zeros((len(GENDERS), len(GENRES)))
for _name, (_f, _m) in {
    "Top 40 & Pop": (0.3, -0.2),
    "R&B": (0.15, -0.1),
    "Classic Rock": (-0.1, 0.2),
    "News & Talk": (-0.2, 0.3),
    "Sports": (-0.4, 0.4),
    "Kids & Family": (0.3, -0.2),
}.items():
    _GENDER[0, _G[_name]], _GENDER[1, _G[_name]] = _f, _m
# Genres people select more often than they listen to them.
_ASPIRATIONAL = np.zeros(len(GENRES))
_ASPIRATIONAL[[_G["Classical"], _G["Jazz"], _G["News & Talk"]]] = 1.0
# How many genres users select (1..6); the article reports about four on average.
_M_PROBS = np.array([0.12, 0.13, 0.17, 0.20, 0.20, 0.18])


@dataclass(frozen=True)
class WorldParams:
    """The generator's knobs (see the module docstring for where each one enters).

    Attributes:
        user_noise: Standard deviation of the per-user, per-genre taste noise.
        selection_temperature: Divides affinity in the onboarding selection; large
            values make selections noisier (more aspirational).
        aspiration: Bonus of aspirational genres (Classical, Jazz, News & Talk) in
            the selection only.
        selection_weight: How much a selection raises listening of that genre.
        dilution: Exponent ``d`` in ``selection_weight / m^d`` (0: every selection
            counts fully however many were made).
        alias: Extra Hip-Hop listening of users who selected R&B.
        listen_noise: Scale of the Gumbel noise in the two-month top genre.
        region_spread: Standard deviation of the seeded region-by-genre offsets.
    """

    user_noise: float = 0.5
    selection_temperature: float = 3.0
    aspiration: float = 1.0
    selection_weight: float = 1.6
    dilution: float = 0.5
    alias: float = 1.0
    listen_noise: float = 0.47
    region_spread: float = 0.3


@dataclass(frozen=True)
class World:
    """The fixed tables of one seeded world.

    Attributes:
        params: The knobs.
        region_offsets: ``(regions, genres)`` affinity offsets.
    """

    params: WorldParams
    region_offsets: NDArray[np.float64]

    def base_affinity(
        self,
        age: NDArray[Any],
        gender: NDArray[Any],
        region: NDArray[Any],
    ) -> NDArray[np.float64]:
        """Affinity before the user noise, ``(users, genres)``.

        Args:
            age: Ages [years].
            gender: Gender codes (indices into ``GENDERS``).
            region: Region codes (indices into ``REGIONS``).
        """
        age = np.asarray(age, dtype=np.float64)[:, None]
        base = np.log(_POPULARITY)[None, :] + _AGE_SLOPE[None, :] * (age - 40.0) / 15.0
        kids = np.zeros(len(GENRES))
        kids[_G["Kids & Family"]] = _KIDS_BUMP
        base = base + kids[None, :] * np.exp(-(((age - 36.0) / 8.0) ** 2))
        return np.asarray(base + _GENDER[gender] + self.region_offsets[region])

    def selection_logits(self, affinity: NDArray[np.float64]) -> NDArray[np.float64]:
        """The Plackett-Luce log-weights of the onboarding selection."""
        p = self.params
        return (affinity + p.aspiration * _ASPIRATIONAL) / p.selection_temperature

    def listening_utility(
        self,
        affinity: NDArray[np.float64],
        selected: NDArray[Any],
    ) -> NDArray[np.float64]:
        """Utility of each genre two months on, before the Gumbel noise.

        Args:
            affinity: ``(..., genres)`` latent affinities.
            selected: ``(..., genres)`` 0/1 selections, broadcastable to ``affinity``.
        """
        p = self.params
        selected = np.asarray(selected, dtype=np.float64)
        m = np.maximum(selected.sum(axis=-1, keepdims=True), 1.0)
        utility = affinity + p.selection_weight * selected / m**p.dilution
        hiphop = np.zeros(len(GENRES))
        hiphop[_G["Hip-Hop"]] = p.alias
        return np.asarray(utility + selected[..., _G["R&B"], None] * hiphop)


@dataclass(frozen=True)
class Users:
    """A sample of users.

    Attributes:
        age: ``(n,)`` integer ages [years].
        gender: ``(n,)`` gender codes.
        region: ``(n,)`` region codes.
        selected: ``(n, genres)`` 0/1 onboarding selections.
        label: ``(n,)`` the top genre two months later (genre index).
    """

    age: NDArray[np.int64]
    gender: NDArray[np.int64]
    region: NDArray[np.int64]
    selected: NDArray[np.int8]
    label: NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.age.shape[0])

    def take(self, index: NDArray[Any]) -> Users:
        """The users at ``index`` (a subset or a permutation)."""
        return Users(
            age=self.age[index],
            gender=self.gender[index],
            region=self.region[index],
            selected=self.selected[index],
            label=self.label[index],
        )

    @property
    def n_selected(self) -> NDArray[np.int64]:
        """``(n,)`` how many genres each user selected."""
        return np.asarray(self.selected.sum(axis=1), dtype=np.int64)


def make_world(params: WorldParams, seed: int) -> World:
    """The world of ``seed``: the knobs plus seeded region offsets."""
    rng = np.random.default_rng([seed, 0])  # its own stream: users never shift the world
    offsets = rng.normal(0.0, params.region_spread, size=(len(REGIONS), len(GENRES)))
    return World(params=params, region_offsets=offsets)


def sample_users(world: World, n: int, seed: int) -> Users:
    """Draws ``n`` users (demographics, selections, two-month top genre).

    Args:
        world: The world.
        n: Number of users.
        seed: Seeds this sample (independent of the world's stream).
    """
    rng = np.random.default_rng([seed, 1])
    low, high = AGE_RANGE
    # Skewed to the young (mean about 38), integer years as typed at onboarding.
    age = np.rint(low + (high - low) * rng.beta(2.0, 3.2, size=n)).astype(np.int64)
    gender = rng.choice(len(GENDERS), size=n, p=[0.48, 0.47, 0.05]).astype(np.int64)
    region = rng.integers(0, len(REGIONS), size=n).astype(np.int64)
    affinity = world.base_affinity(age, gender, region)
    affinity = affinity + rng.normal(0.0, world.params.user_noise, size=affinity.shape)
    m = rng.choice(np.arange(1, MAX_SELECTED + 1), size=n, p=_M_PROBS)
    # Gumbel top-m = Plackett-Luce sampling of m genres without replacement.
    keys = world.selection_logits(affinity) + rng.gumbel(size=affinity.shape)
    order = np.argsort(-keys, axis=1)
    selected = np.zeros(affinity.shape, dtype=np.int8)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(len(GENRES))[None, :].repeat(n, 0), axis=1)
    selected[ranks < m[:, None]] = 1
    utility = world.listening_utility(affinity, selected)
    noise = world.params.listen_noise * rng.gumbel(size=affinity.shape)
    label = np.argmax(utility + noise, axis=1).astype(np.int64)
    return Users(age=age, gender=gender, region=region, selected=selected, label=label)


def _subset_table(m: int) -> tuple[NDArray[Any], NDArray[Any]]:
    """All subsets of ``m`` items as 0/1 rows, and their inclusion-exclusion signs."""
    rows = np.array(list(itertools.product((0, 1), repeat=m)), dtype=np.float64)
    signs = np.where(rows.sum(axis=1) % 2 == 0, 1.0, -1.0)
    return rows, signs


def _set_probability(
    weights: NDArray[np.float64],
    mask: NDArray[Any],
    index: NDArray[np.int64],
) -> NDArray[np.float64]:
    """Plackett-Luce probability that the first ``m`` draws are exactly the set.

    With exponential arrival times ``T_i ~ Exp(w_i)``, the set ``S`` comes first iff
    ``max_{S} T < min_{not S} T``; integrating gives
    ``sum_{A subset S} (-1)^|A| W_out / (W_out + w_A)``.

    Args:
        weights: ``(users, draws, genres)`` positive weights.
        mask: ``(users, genres)`` 0/1 selections, every row with the same ``m``.
        index: ``(users, m)`` the selected genres of each user.
    """
    m = index.shape[1]
    w_in = np.take_along_axis(weights, index[:, None, :], axis=2)  # (u, d, m)
    w_out = (weights * (1.0 - mask[:, None, :])).sum(axis=2, keepdims=True)
    rows, signs = _subset_table(m)
    w_a = w_in @ rows.T  # (u, d, 2^m)
    return np.asarray((signs * (w_out / (w_out + w_a))).sum(axis=2))


def bayes_posterior(
    world: World,
    users: Users,
    *,
    draws: int,
    seed: int,
    chunk: int = 256,
) -> NDArray[np.float64]:
    """The Bayes-optimal ``P(top genre | observed profile)`` of each user.

    Importance sampling over the latent taste noise: ``draws`` prior draws per user,
    each weighted by the exact probability of the user's selected set, averaging the
    closed-form ``softmax(utility / listen_noise)`` of the label.

    Args:
        world: The world the users came from.
        users: The users (labels are not used).
        draws: Prior draws per user (more: closer to the exact posterior).
        seed: Seeds the draws.
        chunk: Users per vectorised block (bounds memory).

    Returns:
        ``(users, genres)`` probabilities, rows summing to 1.
    """
    p = world.params
    rng = np.random.default_rng([seed, 2])
    n, k = users.selected.shape
    out = np.empty((n, k))
    base = world.base_affinity(users.age, users.gender, users.region)
    m_all = users.n_selected
    for m in np.unique(m_all):
        group = np.flatnonzero(m_all == m)
        for start in range(0, group.size, chunk):
            rows = group[start : start + chunk]
            mask = users.selected[rows].astype(np.float64)
            index = np.argsort(-mask, axis=1, kind="stable")[:, :m].astype(np.int64)
            noise = rng.normal(0.0, p.user_noise, size=(rows.size, draws, k))
            affinity = base[rows][:, None, :] + noise
            logits = world.selection_logits(affinity)
            # Scale each draw's weights by its max: the set probability is invariant.
            weights = np.exp(logits - logits.max(axis=2, keepdims=True))
            likelihood = np.clip(_set_probability(weights, mask, index), 0.0, None)
            utility = world.listening_utility(affinity, mask[:, None, :]) / p.listen_noise
            utility -= utility.max(axis=2, keepdims=True)
            soft = np.exp(utility)
            soft /= soft.sum(axis=2, keepdims=True)
            total = likelihood.sum(axis=1, keepdims=True)
            out[rows] = (likelihood[:, :, None] * soft).sum(axis=1) / total
    return out
