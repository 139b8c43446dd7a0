"""The env's commands: action spaces, and our camera against the real simulator's.

``deepracer actions generate|show|validate|list`` handles action spaces
(model_metadata.json); ``deepracer camera compare`` matches real camera frames with
our renders (:mod:`deepracer.envs.compare`).

Contents:
    add_actions: register ``actions`` and its four actions.
    add_camera: register ``camera`` and its ``compare`` action.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

from deepracer.errors import DeepRacerError
from deepracer.tables import format_table

__all__ = ["add_actions", "add_camera"]

# Defaults per generator style: the seed notebook's script and DeepRacer on AWS's form.
_SEED_DEFAULTS: dict[str, int | float] = {
    "min_speed": 4,
    "max_speed": 8,
    "speed_resolution": 2,
    "min_steering": -30,
    "max_steering": 30,
    "steering_resolution": 15,
}
_CONSOLE_DEFAULTS: dict[str, int | float] = {
    "max_steering": 30,
    "steering_levels": 5,
    "max_speed": 1,
    "speed_levels": 2,
}


def _number_arg(text: str) -> int | float:
    """Parses a number, keeping ints as ints (the seed's generator writes ints then)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _cmd_actions_generate(args: argparse.Namespace) -> int:
    import json

    from deepracer.envs.model_metadata import (
        generate_console_style,
        generate_seed_style,
        model_metadata_dict,
        range_warnings,
    )
    from deepracer.io import atomic_write_text

    defaults = _CONSOLE_DEFAULTS if args.style == "console" else _SEED_DEFAULTS
    given = {k: getattr(args, k) for k in {*_SEED_DEFAULTS, *_CONSOLE_DEFAULTS}}
    stray = [k for k, v in given.items() if v is not None and k not in defaults]
    if stray:
        flags = ", ".join(f"--{k.replace('_', '-')}" for k in sorted(stray))
        raise DeepRacerError(f"{flags}: not used by --style {args.style}")
    values = {k: defaults[k] if given[k] is None else given[k] for k in defaults}
    if args.style == "console":
        steering_levels, speed_levels = values["steering_levels"], values["speed_levels"]
        if not isinstance(steering_levels, int) or not isinstance(speed_levels, int):
            raise DeepRacerError("--steering-levels and --speed-levels must be integers")
        actions = generate_console_style(
            max_steering=values["max_steering"],
            steering_levels=steering_levels,
            max_speed=values["max_speed"],
            speed_levels=speed_levels,
        )
    else:
        actions = generate_seed_style(**values)
    for line in range_warnings(actions):
        print(
            f"warning: {line}; `deepracer actions validate` rejects such a file",
            file=sys.stderr,
        )
    text = json.dumps(model_metadata_dict(actions), indent=4) + "\n"
    if args.out:
        atomic_write_text(args.out, text)
        print(f"wrote {args.out} ({len(actions)} actions)")
    else:
        sys.stdout.write(text)
    return 0


def _cmd_actions_show(args: argparse.Namespace) -> int:
    from deepracer.envs.model_metadata import LIDAR_SENSORS, load_model_metadata

    meta = load_model_metadata(args.file)
    observation = meta.observation
    shown = observation if isinstance(observation, str) else ", ".join(observation)
    size = f" ({meta.num_actions} actions)" if meta.num_actions is not None else ""
    lines = [
        ("source", meta.source),
        ("action_space_type", f"{meta.action_space_type}{size}"),
        ("training_algorithm", meta.training_algorithm),
        ("sensor", f"{', '.join(meta.sensor)} (observation: {shown})"),
        ("neural_network", meta.neural_network),
        ("version", str(meta.version)),
    ]
    if meta.lidar_config is not None or any(s in LIDAR_SENSORS for s in meta.sensor):
        settings = meta.lidar_settings
        lines.append(("lidar_config", ", ".join(f"{k} {v:g}" for k, v in settings.items())))
    pad = max(len(key) for key, _ in lines)
    for key, value in lines:
        print(f"{key + ':':<{pad + 1}} {value}")
    print()
    if isinstance(meta.action_space, list):
        rows = [
            [str(i), f"{a['steering_angle']:g}", f"{a['speed']:g}"]
            for i, a in enumerate(meta.action_space)
        ]
        print(format_table(["index", "steering [deg]", "speed [m/s]"], rows, right={0, 1, 2}))
    else:
        space = meta.action_space
        rows = [
            [name, f"{space[key]['low']:g}", f"{space[key]['high']:g}"]
            for key, name in (("steering_angle", "steering [deg]"), ("speed", "speed [m/s]"))
        ]
        print(format_table(["", "low", "high"], rows, right={1, 2}))
    return 0


def _cmd_actions_validate(args: argparse.Namespace) -> int:
    from deepracer.envs.model_metadata import duplicate_actions, load_model_metadata

    meta = load_model_metadata(args.file)
    size = f"{meta.num_actions} discrete actions" if meta.num_actions else "continuous"
    print(
        f"{meta.source}: valid ({size}, {meta.training_algorithm}, sensor"
        f" {', '.join(meta.sensor)}, version {meta.version})"
    )
    for line in duplicate_actions(meta):
        print(f"warning: {line}", file=sys.stderr)
    return 0


def _cmd_actions_list(args: argparse.Namespace) -> int:
    from deepracer.config.resources import available
    from deepracer.envs.model_metadata import load_model_metadata

    rows: list[list[str]] = []
    for name in available("actions"):
        try:
            meta = load_model_metadata(name)
        except DeepRacerError as exc:  # one broken file must not hide the others
            rows.append([name, "error", "", "", str(exc)])
            continue
        if isinstance(meta.action_space, list):
            speeds = [float(a["speed"]) for a in meta.action_space]
            lo, hi = min(speeds), max(speeds)
        else:
            lo, hi = meta.action_space["speed"]["low"], meta.action_space["speed"]["high"]
        count = "-" if meta.num_actions is None else str(meta.num_actions)
        rows.append(
            [name, meta.action_space_type, count, f"{lo:g}..{hi:g}", ", ".join(meta.sensor)]
        )
    print(format_table(["name", "type", "actions", "speed [m/s]", "sensor"], rows, right={2}))
    return 0


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def add_actions(subparsers: Any) -> None:
    """Registers ``deepracer actions`` with ``generate``, ``show``, ``validate``, ``list``."""
    group = subparsers.add_parser(
        "actions",
        help="generate, show and validate action spaces (model_metadata.json)",
        description=(
            "Action spaces in DeepRacer's model_metadata.json format: generate one, show"
            " a file's actions, validate a file, list the shipped ones (actions/)."
        ),
    )
    actions = group.add_subparsers(dest="actions_command", metavar="ACTION")
    gen = actions.add_parser(
        "generate",
        help="generate a discrete action space as a complete model_metadata.json",
        description=(
            "Generate a discrete action space. --style seed (default) is the seed"
            " notebook's script: speeds min..max by resolution (outer loop) x steering"
            " angles min..max by resolution, both ends inclusive; its defaults are the"
            " notebook's (speeds 4, 6, 8 m/s: above the simulator's 4 m/s, so a warning)."
            " --style console is DeepRacer on AWS's form: LEVELS steering angles evenly"
            " spaced in [-max, max] x speeds max*i/LEVELS (defaults 30 deg, 5, 1 m/s, 2)."
            " Writes the whole model_metadata.json (sensor FRONT_FACING_CAMERA, clipped_ppo,"
            ' version "5") to --out, or prints it.'
        ),
    )
    gen.add_argument(
        "--style", choices=("seed", "console"), default="seed", help="generator (default seed)"
    )
    for flag, unit, text in (
        ("--min-speed", "M/S", "seed: first speed (default 4)"),
        ("--max-speed", "M/S", "seed: last speed (default 8); console: top speed (default 1)"),
        ("--speed-resolution", "M/S", "seed: speed step (default 2)"),
        ("--min-steering", "DEG", "seed: first steering angle (default -30)"),
        ("--max-steering", "DEG", "seed: last angle; console: largest angle (default 30)"),
        ("--steering-resolution", "DEG", "seed: steering step (default 15)"),
        ("--steering-levels", "N", "console: number of steering angles (default 5)"),
        ("--speed-levels", "N", "console: number of speeds (default 2)"),
    ):
        gen.add_argument(flag, type=_number_arg, metavar=unit, help=text)
    gen.add_argument("--out", metavar="FILE", help="write here (atomically) instead of stdout")
    gen.set_defaults(func=_cmd_actions_generate)
    show = actions.add_parser(
        "show",
        help="a model_metadata.json's actions as a table, and its other keys",
    )
    show.add_argument("file", metavar="NAME_OR_FILE", help="file, or a shipped name (actions/)")
    show.set_defaults(func=_cmd_actions_show)
    check = actions.add_parser(
        "validate",
        help="check a model_metadata.json (exit 0 if valid, else 2 with the reason)",
    )
    check.add_argument("file", metavar="FILE", help="file, or a shipped name (actions/)")
    check.set_defaults(func=_cmd_actions_validate)
    listing = actions.add_parser("list", help="the shipped action spaces (actions/)")
    listing.set_defaults(func=_cmd_actions_list)
    group.set_defaults(func=lambda _args: _help(group))


def _output_names(frames: list[Path]) -> list[str]:
    """Returns one PNG name per frame: its stem, numbered where stems repeat."""
    stems = [frame.stem for frame in frames]
    return [
        f"{stem}-{i}.png" if stems.count(stem) > 1 else f"{stem}.png"
        for i, stem in enumerate(stems, 1)
    ]


def _cmd_camera_compare(args: argparse.Namespace) -> int:
    from deepracer.envs.compare import real_frame, search_pose, side_by_side

    frames = [Path(name) for name in args.frames]
    images = [real_frame(path) for path in frames]  # every file is readable before the search
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"searching {len(frames)} frame(s) on {args.world}: stations and lateral offsets"
        f" every {args.step:g} m, headings every {args.heading_step:g} deg"
    )
    for path, image, name in zip(frames, images, _output_names(frames), strict=True):
        start = time.perf_counter()
        found = search_pose(
            image,
            args.world,
            station_step=args.step,
            lateral_step=args.step,
            heading_step_deg=args.heading_step,
        )
        seconds = time.perf_counter() - start
        png = side_by_side(image, found.render, out / name)
        print(
            f"{path}: x {found.x:.3f} m, y {found.y:.3f} m, yaw"
            f" {math.degrees(found.yaw):.1f} deg; MAE {found.mae:.2f}, SSIM"
            f" {found.ssim:.3f} ({seconds:.1f} s) -> {png}"
        )
    return 0


def _positive_float(text: str) -> float:
    value = _number_arg(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return float(value)


def add_camera(subparsers: Any) -> None:
    """Registers ``deepracer camera`` with ``compare``."""
    group = subparsers.add_parser(
        "camera",
        help="our camera against the real simulator's",
        description="Our camera renderer against frames of the DeepRacer simulator's camera.",
    )
    actions = group.add_subparsers(dest="camera_command", metavar="ACTION")
    compare = actions.add_parser(
        "compare",
        help="find the car pose whose render best matches a real camera frame, and score it",
        description=(
            "For each frame (a BGR image from the simulator's camera, usually 640 x 480):"
            " reduce it to the car's model input (160 x 120 grey), search the world's"
            " track for the car pose whose render has the lowest mean absolute error,"
            " and print that pose, the MAE and the SSIM. Writes real | render |"
            " difference as OUT/<frame name>.png. About 20-60 s per frame."
        ),
    )
    compare.add_argument("frames", nargs="+", metavar="FRAME", help="camera frame image")
    compare.add_argument(
        "--world", default="reinvent_base", help="world or track (default reinvent_base)"
    )
    compare.add_argument(
        "--out",
        default="camera-compare",
        metavar="DIR",
        help="folder for the side-by-side PNGs (default camera-compare/, created)",
    )
    compare.add_argument(
        "--step",
        type=_positive_float,
        default=0.1,
        metavar="M",
        help="search grid spacing along and across the track (default 0.1)",
    )
    compare.add_argument(
        "--heading-step",
        type=_positive_float,
        default=5.0,
        metavar="DEG",
        help="search grid spacing of headings (default 5)",
    )
    compare.set_defaults(func=_cmd_camera_compare)
    group.set_defaults(func=lambda _args: _help(group))
