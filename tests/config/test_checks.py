"""Field checks (``deepracer.config.checks``): what they accept and how they word a miss."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from deepracer.config.checks import (
    Check,
    above,
    at_least,
    between,
    interval,
    matches,
    optional,
    positive,
)
from deepracer.config.loader import from_mapping
from deepracer.envs.config import EnvConfig, EpisodeConfig, StartConfig
from deepracer.envs.observation import LidarConfig
from deepracer.errors import ConfigError
from deepracer.experiment import SageMakerConfig, TrainConfig
from deepracer.physics import VehicleParams


def test_positive() -> None:
    assert positive(1e-9) is None and positive(3) is None
    assert positive(0) == positive(-1.5) == "a number > 0"


@pytest.mark.parametrize(
    ("check", "good", "bad", "expected"),
    [
        (above(0), [1e-9, 3], [0, -1.5], "a number > 0"),
        (above(0, "an integer"), [1, 2], [0, -1], "an integer > 0"),
        (above(0, "a number of minutes"), [0.5], [0], "a number of minutes > 0"),
        (above(0.25), [0.26], [0.25], "a number > 0.25"),
        (at_least(500), [500, 501, 1e9], [499, -1], "a number >= 500"),
        (at_least(0), [0, 0.0, 7.5], [-1e-9], "a number >= 0"),
        (at_least(1, "an integer"), [1, 2], [0], "an integer >= 1"),
        (at_least(0.5), [0.5], [0.49], "a number >= 0.5"),
        (between(0.05, 0.5), [0.05, 0.2, 0.5], [0.04, 0.51], "a number from 0.05 to 0.5"),
        (between(2, 1024), [2, 1024], [1, 1025], "a number from 2 to 1024"),
        (
            between(200, 100_000, "an integer", interval=True),
            [200, 100_000],
            [199, 100_001],
            "an integer in [200, 100000]",
        ),
        (between(0.01, 0.5, interval=True), [0.01], [0.6], "a number in [0.01, 0.5]"),
        (between(0, 2_000_000), [1], [-1], "a number from 0 to 2000000"),
        (interval(0, 1), [0, 0.5, 1], [-1e-9, 1.01], "a number in [0, 1]"),
        (
            interval(0, 1, "a fraction", high_open=True),
            [0, 0.0, 0.999],
            [1, 1.0, -0.1],
            "a fraction in [0, 1)",
        ),
        (interval(0, 1, low_open=True), [1e-9, 1], [0, 1.5], "a number in (0, 1]"),
        (
            interval(0, 1, "a fraction", low_open=True, high_open=True),
            [0.01, 0.99],
            [0, 1, -2],
            "a fraction in (0, 1)",
        ),
        (
            interval(0.5, 1, "a confidence level", high_open=True),
            [0.5, 0.95],
            [0.49, 1],
            "a confidence level in [0.5, 1)",
        ),
        (interval(0, 4, low_open=True), [0.1, 4], [0, 4.01], "a number in (0, 4]"),
    ],
)
def test_checks_accept_the_range_and_say_what_they_expected(
    check: Check, good: list[float], bad: list[float], expected: str
) -> None:
    assert all(check(v) is None for v in good)
    assert all(check(v) == expected for v in bad)


def test_interval_without_open_ends_is_between_written_as_an_interval() -> None:
    closed, words = interval(2, 50, "an integer"), between(2, 50, "an integer", interval=True)
    assert [closed(v) for v in (1, 2, 50, 51)] == [words(v) for v in (1, 2, 50, 51)]
    assert closed(51) == "an integer in [2, 50]"


def test_matches_checks_the_whole_string() -> None:
    code = matches(r"[a-z]{2}", "a two-letter code")
    assert code("en") is None
    assert code("eng") == code("xen") == code("") == code("EN") == "a two-letter code"
    assert matches(r"(s3://.*)?", "an s3:// URI (or empty)")("") is None


def test_optional_accepts_none_and_says_so() -> None:
    check = optional(positive)
    assert check(None) is None and check(2.5) is None
    assert check(0) == "a number > 0 (or null)"
    assert optional(between(0, 1))(1.5) == "a number from 0 to 1 (or null)"


@dataclass(frozen=True, kw_only=True)
class _Section:
    users: int = field(default=1000, metadata={"check": at_least(500)})
    share: float = field(default=0.2, metadata={"check": between(0.05, 0.5)})
    folds: int = field(default=10, metadata={"check": between(2, 50, "an integer", interval=True)})
    rate: float = field(default=1.0, metadata={"check": positive})
    steps: int = field(default=1, metadata={"check": above(0, "an integer")})
    budget: float | None = field(default=None, metadata={"check": optional(positive)})
    start: float = field(default=0.0, metadata={"check": interval(0, 1, high_open=True)})
    code: str = field(default="en", metadata={"check": matches(r"[a-z]{2}", "a code like en")})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"users": 10}, "exp.yaml: demo.users: expected a number >= 500, got 10"),
        ({"share": 0.9}, "exp.yaml: demo.share: expected a number from 0.05 to 0.5, got 0.9"),
        ({"folds": 1}, "exp.yaml: demo.folds: expected an integer in [2, 50], got 1"),
        ({"rate": 0}, "exp.yaml: demo.rate: expected a number > 0, got 0"),
        ({"steps": 0}, "exp.yaml: demo.steps: expected an integer > 0, got 0"),
        ({"budget": -1}, "exp.yaml: demo.budget: expected a number > 0 (or null), got -1"),
        ({"start": 1}, "exp.yaml: demo.start: expected a number in [0, 1), got 1"),
        ({"code": "EN"}, "exp.yaml: demo.code: expected a code like en, got 'EN'"),
    ],
)
def test_the_loader_names_the_file_the_field_and_what_was_expected(
    data: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        from_mapping(_Section, data, source="exp.yaml", prefix="demo")
    assert str(info.value) == message
    assert from_mapping(_Section, {}, source="exp.yaml", prefix="demo") == _Section()
    assert from_mapping(_Section, {"budget": None}, source="exp.yaml").budget is None


@pytest.mark.parametrize(
    ("cls", "data", "message"),
    [
        (EpisodeConfig, {"max_steps": 0}, "expected an integer > 0, got 0"),
        (EpisodeConfig, {"resets": -1}, "expected an integer >= 0, got -1"),
        (EpisodeConfig, {"reset_penalty": -0.5}, "expected a number >= 0, got -0.5"),
        (EnvConfig, {"dt": 0}, "expected a number > 0, got 0"),
        (LidarConfig, {"num_rays": 0}, "expected an integer > 0, got 0"),
        (LidarConfig, {"min_range": -0.1}, "expected a number >= 0, got -0.1"),
        (VehicleParams, {"wheelbase": 0}, "expected a number > 0, got 0"),
        (VehicleParams, {"speed_time_constant": -1}, "expected a number >= 0, got -1"),
        (VehicleParams, {"substeps": 0}, "expected an integer >= 1, got 0"),
        (StartConfig, {"offset": 1.0}, "expected a fraction in [0, 1), got 1.0"),
        (StartConfig, {"round_robin_advance": -0.05}, "expected a fraction in [0, 1), got -0.05"),
        (TrainConfig, {"imitation_steps": -1}, "expected a number >= 0, got -1"),
        (TrainConfig, {"max_minutes": 0}, "expected a number > 0 (or null), got 0"),
        (SageMakerConfig, {"max_run_minutes": 0}, "expected a number of minutes > 0, got 0"),
    ],
)
def test_core_sections_use_the_shared_checks(
    cls: type[Any], data: dict[str, float], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        from_mapping(cls, data, source="exp.yaml", prefix="s")
    assert str(info.value) == f"exp.yaml: s.{next(iter(data))}: {message}"
