"""The AWS DeepRacer route files shipped inside the package, and their console names.

``deepracer/tracks/routes/`` holds unmodified copies of all 127 route files of the
simapp (``bundle/routes/<name>.npy``), with the Apache-2.0 ``LICENSE`` they come with,
a ``NOTICE`` naming the source and commit, and ``SOURCE.md`` (provenance and each
file's length, width and direction). This module is the only code that knows where
they lie.

Console names: the names DeepRacer on AWS gives its track ids (the ``TrackId`` enum
of aws-solutions/deepracer-on-aws, ``source/libs/model/src/main/smithy/types/
tracks.smithy``, v1.2.5) in the spelling of deepracer-utils' track list
(aws-deepracer-community/deepracer-utils, ``deepracer/tracks/track_utils.py``), which
also names the older files the enum leaves out. ``_cw``/``_ccw`` files are one
layout driven clockwise or counter-clockwise; their console name is the layout's.

Contents:
    ROUTES_DIR: the folder of shipped route files.
    shipped_route: the shipped file of a track name, if any.
    shipped_names: every shipped track name.
    is_shipped: whether a path is one of the shipped route files.
    console_name: the name the console shows for a track, where known.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["ROUTES_DIR", "console_name", "is_shipped", "shipped_names", "shipped_route"]

ROUTES_DIR = Path(__file__).resolve().parent / "routes"
"""The folder of shipped route files (inside the installed package)."""

_CONSOLE_NAMES: dict[str, str] = {
    # 2024 and 2022 seasons
    "2024_reinvent_champ": "Forever Raceway",
    "2022_reinvent_champ": "2022 re:Invent Championship",
    "2022_october_pro": "Jennens Super Speedway",
    "2022_october_open": "Jennens Family Speedway",
    "2022_september_pro": "Roger Super Raceway",
    "2022_september_open": "Roger Ring",
    "2022_august_pro": "Jochem Highway",
    "2022_august_open": "Jochem Turnpike",
    "2022_july_pro": "DBro Super Raceway",
    "2022_july_open": "DBro Raceway",
    "2022_june_pro": "BreadCentric Speedway",
    "2022_june_open": "BreadCentric Loop",
    "2022_may_pro": "Ross Super Speedway",
    "2022_may_open": "Ross Raceway",
    "2022_april_pro": "Ace Super Speedway",
    "2022_april_open": "Ace Speedway",
    "2022_march_pro": "Rogue Raceway",
    "2022_march_open": "Rogue Circuit",
    "2022_summit_speedway": "RL Speedway",
    "2022_summit_speedway_mini": "RL Speedway Mini",
    # 2021 season
    "caecer_gp": "Vivalas Speedway",
    "caecer_loop": "Vivalas Loop",
    "red_star_pro": "Expedition Super Loop",
    "red_star_open": "Expedition Loop",
    "morgan_pro": "Playa Super Raceway",
    "morgan_open": "Playa Raceway",
    "arctic_pro": "Hot Rod Super Speedway",
    "arctic_open": "Hot Rod Speedway",
    "dubai_pro": "Baja Highway",
    "dubai_open": "Baja Turnpike",
    "hamption_pro": "Kuei Super Raceway",
    "hamption_open": "Kuei Raceway",
    "jyllandsringen_pro": "Cosmic Circuit",
    "jyllandsringen_open": "Cosmic Loop",
    "thunder_hill_pro": "Lars Circuit",
    "thunder_hill_open": "Lars Loop",
    "penbay_pro": "Po-Chun Super Speedway",
    "penbay_open": "Po-Chun Speedway",
    # 2020 season
    "Monaco": "European Seaside Circuit",
    "Monaco_building": "European Seaside Circuit - Buildings",
    "Singapore": "Asia Pacific Bay Loop",
    "Singapore_building": "Asia Pacific Bay Loop - Buildings",
    "Singapore_f1": "Asia Pacific Bay Loop F1",
    "Austin": "American Hills Speedway",
    "Aragon": "Stratus Loop",
    "Belille": "Cumulo Turnpike",
    "Albert": "Yun Speedway",
    "July_2020": "Roger Raceway",
    "FS_June2020": "Fumiaki Loop",
    "Spain_track": "Circuit de Barcelona-Catalunya",
    "Spain_track_f1": "Circuit de Barcelona-Catalunya F1",
    "reInvent2019_track": "Smile Speedway",
    # 2019 and earlier
    "reinvent_base": "re:Invent 2018",
    "reinvent_carpet": "re:Invent 2018 (Carpet)",
    "reinvent_concrete": "re:Invent 2018 (Concrete)",
    "reinvent_wood": "re:Invent 2018 (Wood)",
    "reInvent2019_wide": "A to Z Speedway",
    "reInvent2019_wide_mirrored": "A to Z Speedway Mirrored",
    "AmericasGeneratedInclStart": "Baadal Track",
    "LGSWide": "SOLA Speedway",
    "Vegas_track": "AWS Summit Raceway",
    "Canada_Training": "Toronto Turnpike Training",
    "Mexico_track": "Cumulo Carrera Training",
    "China_track": "Shanghai Sudu Training",
    "New_York_Track": "Empire City Training",
    "Tokyo_Training_track": "Kumo Torakku Training",
    "Virtual_May19_Train_track": "London Loop Training",
    "Bowtie_track": "Bowtie Track",
    "Oval_track": "Oval Track",
    "Straight_track": "Straight track",
    "AWS_track": "AWS Track",
}

_DIRECTIONS = {"_ccw": "counter-clockwise", "_cw": "clockwise"}


@cache
def shipped_names() -> tuple[str, ...]:
    """Returns the names of the shipped route files, sorted."""
    return tuple(sorted(p.stem for p in ROUTES_DIR.glob("*.npy")))


def shipped_route(name: str) -> Path | None:
    """Returns the shipped route file of track ``name``, or None if none is shipped."""
    return ROUTES_DIR / f"{name}.npy" if name in shipped_names() else None


def is_shipped(path: str | Path) -> bool:
    """Tells whether ``path`` is one of the shipped route files."""
    candidate = Path(path).resolve()
    return candidate.parent == ROUTES_DIR and candidate.stem in shipped_names()


def console_name(name: str) -> str | None:
    """Returns the name the console shows for track ``name``, or None if unknown.

    ``_cw``/``_ccw`` files get their layout's name with the direction, e.g.
    ``2022_april_pro_cw`` -> ``Ace Super Speedway (clockwise)``.
    """
    if name in _CONSOLE_NAMES:
        return _CONSOLE_NAMES[name]
    for suffix, direction in _DIRECTIONS.items():
        base = name.removesuffix(suffix)
        if base != name and base in _CONSOLE_NAMES:
            return f"{_CONSOLE_NAMES[base]} ({direction})"
    return None
