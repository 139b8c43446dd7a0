"""``deepracer raceline TRACK``: the race line, its lap time and the lower bound.

Writes ``<track>_raceline.csv`` (columns of :data:`deepracer.raceline.CSV_COLUMNS`),
``<track>_raceline.png`` and ``<track>_raceline.json`` (the figures) into ``--out``,
and with ``--reward FILE.py`` a self-contained reward function that follows the line.

Contents:
    add_raceline: register the subcommand.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from deepracer.errors import DeepRacerError

__all__ = ["add_raceline"]


def _cmd_raceline(args: argparse.Namespace) -> int:
    from deepracer.io import atomic_write_text
    from deepracer.physics.profiles import load_profile, resolve_vehicle
    from deepracer.raceline import CarLimits, compute_raceline, plot_raceline, write_csv
    from deepracer.tracks import get_track

    friction = args.friction
    world_vehicle = ""
    if args.world is not None:
        from deepracer.envs.world import load_world

        world = load_world(args.world)
        friction = world.surface.friction if friction is None else friction
        world_vehicle = world.vehicle
    friction = 0.5 if friction is None else friction
    if friction <= 0 or args.margin < 0 or (args.v_max is not None and args.v_max <= 0):
        raise DeepRacerError("--friction and --v-max must be > 0 and --margin >= 0")
    track = get_track(args.track, reverse=args.reverse)
    if args.vehicle is not None:
        vehicle = load_profile(args.vehicle).params
    else:
        vehicle = resolve_vehicle(None, world_vehicle)
    limits = CarLimits.of(vehicle, friction, args.v_max)
    print(
        f"{track.name}: top speed {limits.v_max:g} m/s, grip {limits.grip:.3g} m/s^2"
        f" (mu {friction:g}), speed lag {limits.tau:g} s,"
        f" steering lag {vehicle.steering_time_constant:g} s,"
        f" min radius {1.0 / limits.kappa_steer:.3f} m; candidates (lap time before ->"
        " after refinement; penalties included before):"
    )
    line = compute_raceline(track, limits, vehicle, margin=args.margin, progress=print)
    out = Path(args.out)
    stem = track.name + ("_reversed" if args.reverse else "") + "_raceline"
    write_csv(line, out / f"{stem}.csv")
    plot_raceline(line, track, out / f"{stem}.png")
    atomic_write_text(out / f"{stem}.json", json.dumps(line.summary(), indent=2) + "\n")
    print(f"race line      {line.lap_time:7.3f} s flying lap, {line.length:.2f} m")
    print(f"standing start {line.standing_lap_time:7.3f} s (how a trial's first lap is timed)")
    print(f"centre line    {line.centerline_time:7.3f} s under the same limits")
    print(f"lower bound    {line.lower_bound:7.3f} s ({line.shortest_length:.2f} m at top speed)")
    print(f"wrote {out / stem}.csv, .png and .json")
    if args.reward:
        from deepracer.raceline.reward import reward_source

        atomic_write_text(Path(args.reward), reward_source(line, track))
        print(f"wrote the reward function {args.reward}")
    return 0


def add_raceline(subparsers: Any) -> None:
    """Registers ``deepracer raceline``."""
    parser = subparsers.add_parser(
        "raceline",
        help="compute a track's minimum-lap-time line and its lap-time bounds",
        description=(
            "Optimise the lap time of a line through a closed track under the"
            " simulator's car limits and off-track rule; write it as CSV, PNG and JSON,"
            " with the centre line's time and a hard lower bound for comparison."
        ),
    )
    parser.add_argument("track", metavar="TRACK", help="track name or route-file path")
    parser.add_argument("--world", help="take the surface friction and car from this world")
    parser.add_argument(
        "--vehicle",
        metavar="PROFILE",
        help="vehicle profile name or path (default: the world's, else the default profile)",
    )
    parser.add_argument(
        "--friction", type=float, help="tyre friction mu (default: the world's, else 0.5)"
    )
    parser.add_argument(
        "--v-max", type=float, help="top speed [m/s] if below the car's 4 m/s (an action cap)"
    )
    parser.add_argument(
        "--margin",
        type=float,
        default=0.0,
        help="stay this much inside the off-track limit [m] (default 0)",
    )
    parser.add_argument("--reverse", action="store_true", help="drive the track clockwise")
    parser.add_argument("--out", default="racelines", help="output folder (default racelines/)")
    parser.add_argument("--reward", metavar="FILE.py", help="also write a reward function")
    parser.set_defaults(func=_cmd_raceline)
