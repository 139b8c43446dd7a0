"""Strict YAML -> dataclass loading and the shipped data files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from deepracer.config.loader import from_mapping, load_yaml, to_mapping
from deepracer.config.resources import available, data_dir, resolve
from deepracer.envs import WorldConfig, load_world
from deepracer.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class Inner:
    rate: float = 1.0
    mode: Literal["a", "b"] = "a"


@dataclass(frozen=True, kw_only=True)
class Outer:
    name: str
    count: int = 1
    sizes: tuple[float, ...] = (1.0,)
    inner: Inner = field(default_factory=Inner)
    maybe: float | None = None


def test_builds_nested_and_converts() -> None:
    obj = from_mapping(Outer, {"name": "x", "sizes": [1, 2.5], "inner": {"rate": 2}})
    assert obj == Outer(name="x", sizes=(1.0, 2.5), inner=Inner(rate=2.0))
    assert to_mapping(obj)["inner"] == {"rate": 2.0, "mode": "a"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "x", "cont": 2}, r"src.yaml: unknown key 'cont'. Did you mean 'count'\?"),
        ({"name": "x", "inner": {"rte": 1}}, r"inner: unknown key 'rte'. Did you mean 'rate'"),
        ({"name": "x", "count": "3"}, r"count: expected an integer, got str '3'"),
        ({"name": "x", "count": True}, r"count: expected an integer"),
        ({"name": "x", "inner": {"mode": "c"}}, r"inner.mode: expected one of 'a', 'b'"),
        ({"name": "x", "sizes": [1, "big"]}, r"sizes\[1\]: expected a number"),
        ({"name": "x", "maybe": "no"}, r"maybe: expected a number, got str"),
        ({"name": "x", "inner": {"rate": float("nan")}}, r"expected a finite number"),
        ({}, r"missing required key\(s\): name"),
        (["name"], r"expected a mapping for Outer"),
    ],
)
def test_errors_name_source_field_and_expectation(data: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_mapping(Outer, data, source="src.yaml")


def test_yaml_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("track: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: invalid YAML \(line"):
        load_yaml(bad)
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="expected a mapping at the top level"):
        load_yaml(listing)
    with pytest.raises(ConfigError, match="file not found"):
        load_yaml(tmp_path / "none.yaml")


@pytest.mark.parametrize("name", available("envs"))
def test_every_shipped_world_validates(name: str) -> None:
    world = load_world(name)
    assert isinstance(world, WorldConfig) and world.name == name and world.track


def test_seed_worlds_share_one_geometry_and_differ_in_surface() -> None:
    worlds = [load_world(f"reinvent_{s}") for s in ("base", "carpet", "concrete", "wood")]
    assert {w.track for w in worlds} == {"reinvent_base"}
    assert len({(w.surface.friction, w.noise.speed_std, w.noise.steering_std) for w in worlds}) == 4
    assert len({w.surface.material for w in worlds}) == 4


def test_world_with_unknown_key(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("track: oval\nsurface:\n  frction: 0.4\n")
    with pytest.raises(ConfigError, match=r"w.yaml: surface: unknown key 'frction'.*'friction'"):
        load_world(path)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("track: oval\nnoise:\n  speed_std: -0.1\n", r"noise.speed_std: expected a number >= 0"),
        ("track: oval\nsurface:\n  material: lava\n", r"surface.material: expected one of"),
        ("track: oval\nsurface:\n  friction: 0\n", r"surface.friction: expected a number > 0"),
    ],
)
def test_world_bad_values(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError, match=message):
        load_world(path)


def test_a_world_on_a_missing_track_names_the_closest_tracks(tmp_path: Path) -> None:
    from deepracer.envs import RacingEnv
    from deepracer.errors import TrackError

    world = tmp_path / "w.yaml"
    world.write_text("track: reinvent_bse\n")
    with pytest.raises(TrackError, match=r"'reinvent_bse' not found. Did you mean 'reinvent_base'"):
        RacingEnv({"world": str(world)})
    RacingEnv({"world": "reinvent_wood"})  # every shipped world's track ships too


def test_resources_resolve_names_and_paths(tmp_path: Path) -> None:
    assert resolve("envs", "oval") == data_dir("envs") / "oval.yaml"
    assert resolve("rewards", "centerline.py").name == "centerline.py"
    own = tmp_path / "mine.yaml"
    own.write_text("track: oval\n")
    assert resolve("envs", own) == own
    with pytest.raises(ConfigError, match=r"Did you mean 'oval'"):
        resolve("envs", "ovl")
