"""Vehicle profiles: the car's response as data (``vehicles/*.yaml``).

A profile names the car's parameters (:class:`~deepracer.physics.VehicleParams`
fields; the rest keep their defaults, the URDF's geometry) and records what it was
fitted on and how well it replays real logs. This module is the only owner of the
file format: worlds, experiments, ``deepracer replay`` and ``deepracer calibrate``
call it.

Shipped profiles:
    deepracer-on-aws: the current simapp (6.x), used by DeepRacer on AWS and
        deepracer-for-cloud; the default.
    console-2022: the retired AWS console's simapp (4.x, 2022).
    kinematic: the ideal kinematic bicycle this project used before calibration.

Where a car comes from: an experiment's ``env.vehicle`` (a profile name or path, or a
mapping of parameters on top of ``profile:``), else the world's ``vehicle``, else
:data:`DEFAULT_PROFILE`.

Contents:
    DEFAULT_PROFILE: the profile used when nothing names one.
    Calibration, VehicleProfile: the typed file.
    load_profile, save_profile: read and write a profile file.
    default_vehicle: the default profile's parameters.
    resolve_vehicle: the car an env gets from its config and world.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from deepracer.config.loader import from_mapping, load_yaml, to_mapping
from deepracer.config.resources import resolve
from deepracer.errors import ConfigError, suggest
from deepracer.io import atomic_write_text
from deepracer.physics.vehicle import VehicleParams

__all__ = [
    "DEFAULT_PROFILE",
    "Calibration",
    "VehicleProfile",
    "default_vehicle",
    "load_profile",
    "resolve_vehicle",
    "save_profile",
]

DEFAULT_PROFILE = "deepracer-on-aws"
"""The shipped profile of the simapp DeepRacer users race in today."""


@dataclass(frozen=True, kw_only=True)
class Calibration:
    """What a profile was fitted on and how well it replays real logs."""

    logs: tuple[str, ...] = ()
    """The log folders or files it was fitted on, as given to ``deepracer calibrate``."""
    simapp: str = ""
    """The simulator that wrote the logs, in words."""
    fitted_steps: int = 0
    """Replay start points of the episodes the fit used."""
    held_out_steps: int = 0
    """Replay start points of the episodes kept aside to check the fit."""
    surface_friction: float = 0.5
    """Friction coefficient of the logs' surface, which ``grip_scale`` is relative to."""
    errors_cm: dict[str, dict[str, float]] = field(default_factory=dict)
    """Mean position error of the model point [cm] by horizon (``1``, ``15``, ``45``
    steps) for: ``fitted`` and ``held_out``, the fitted car on the episodes it was
    fitted on and on those held out; ``before``, the car the fit started from, and
    ``constant_velocity``, extrapolation, both on all the episodes."""
    uncertainty: dict[str, float] = field(default_factory=dict)
    """Standard deviation of each fitted parameter (and the control delay) over refits
    on episodes drawn with replacement."""
    date: str = ""
    """When it was fitted (ISO date)."""


@dataclass(frozen=True, kw_only=True)
class VehicleProfile:
    """A vehicle profile file."""

    name: str = ""
    """Profile name; defaults to the file stem."""
    description: str = ""
    """One line for listings."""
    params: VehicleParams = field(default_factory=VehicleParams)
    """The car (unlisted fields keep their defaults: the URDF's geometry)."""
    calibration: Calibration | None = None
    """Provenance and errors, for fitted profiles."""


@functools.lru_cache(maxsize=32)
def _load_cached(path: Path, mtime_ns: int) -> VehicleProfile:
    data = load_yaml(path)
    data.setdefault("name", path.stem)
    return from_mapping(VehicleProfile, data, source=str(path))


def load_profile(name_or_path: str | Path) -> VehicleProfile:
    """Loads a profile: a YAML path or a shipped name (``vehicles/<name>.yaml``).

    Raises:
        ConfigError: No such profile (the closest names are suggested), or the file
            is invalid (the message names the file and the field).
    """
    path = resolve("vehicles", name_or_path).resolve()
    return _load_cached(path, path.stat().st_mtime_ns)


def save_profile(profile: VehicleProfile, path: str | Path) -> Path:
    """Writes ``profile`` to ``path`` atomically, as :func:`load_profile` reads it.

    Only the parameters that differ from :class:`VehicleParams`'s defaults are written,
    so a profile reads as what makes this car different.
    """
    defaults = VehicleParams()
    params = {
        f.name: getattr(profile.params, f.name)
        for f in dataclasses.fields(VehicleParams)
        if getattr(profile.params, f.name) != getattr(defaults, f.name)
    }
    data: dict[str, Any] = {"name": profile.name, "description": profile.description}
    data["params"] = params
    if profile.calibration is not None:
        data["calibration"] = to_mapping(profile.calibration)
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=100)
    target = Path(path)
    atomic_write_text(target, text)
    return target


def default_vehicle() -> VehicleParams:
    """Returns the car of :data:`DEFAULT_PROFILE`."""
    return load_profile(DEFAULT_PROFILE).params


def resolve_vehicle(
    spec: str | Mapping[str, Any] | VehicleParams | None,
    world_vehicle: str = "",
    *,
    source: str = "env config",
) -> VehicleParams:
    """Returns the car an env drives.

    Args:
        spec: The env config's ``vehicle``: a profile name or path; a mapping of
            :class:`VehicleParams` fields, on top of the profile its ``profile`` key
            names (else the world's); parameters as they are; or None for the world's.
        world_vehicle: The world's ``vehicle`` profile; empty for the default.
        source: Names the config in error messages.

    Raises:
        ConfigError: An unknown profile, key or ill-typed value.
    """
    if isinstance(spec, VehicleParams):
        return spec
    base_name = world_vehicle or DEFAULT_PROFILE
    if spec is None:
        return load_profile(base_name).params
    if isinstance(spec, str):
        return load_profile(spec).params
    overrides = dict(spec)
    profile = overrides.pop("profile", base_name)
    if not isinstance(profile, str):
        raise ConfigError(f"{source}: vehicle.profile: expected a profile name or path")
    base = load_profile(profile).params
    valid = [f.name for f in dataclasses.fields(VehicleParams)]
    for key in overrides:
        if key not in valid:
            raise ConfigError(
                f"{source}: vehicle: unknown key {key!r}.{suggest(str(key), [*valid, 'profile'])}"
                f" Valid keys: profile, {', '.join(sorted(valid))}"
            )
    checked = from_mapping(VehicleParams, overrides, source=source, prefix="vehicle")
    return dataclasses.replace(base, **{k: getattr(checked, k) for k in overrides})
