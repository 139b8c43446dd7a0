"""``deepracer check-reward FILE``: a reward function called all over a track.

Contents:
    add_check_reward: register the subcommand.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from deepracer.errors import DeepRacerError

__all__ = ["add_check_reward"]


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.6g}"


def _cmd_check_reward(args: argparse.Namespace) -> int:
    from deepracer.config.resources import resolve
    from deepracer.errors import ConfigError, RewardFunctionError
    from deepracer.rewards import load_reward_function
    from deepracer.rewards.allowlist import console_rejections
    from deepracer.rewards.check import check_reward
    from deepracer.tracks import get_track

    if args.steps < 2:
        raise DeepRacerError(f"--steps must be >= 2 (the first judged step is 2), got {args.steps}")
    try:
        path = resolve("rewards", args.file)
    except ConfigError as exc:
        raise RewardFunctionError(str(exc)) from None
    # Before loading: a file that imports what is not installed here still gets told.
    for problem in console_rejections(path.read_text(encoding="utf-8", errors="replace")):
        print(f"warning: {path}: DeepRacer on AWS would reject it: {problem}", file=sys.stderr)
    reward = load_reward_function(path)
    track = get_track(args.track)
    report = check_reward(reward, track, steps_max=args.steps)
    print(f"reward function: {report.reward_name}")
    print(f"track:           {track.name} ({track.length:.2f} m)")
    print(f"calls:           {report.calls} (all returned finite numbers in range)")
    print(
        f"reward:          min {_fmt(report.min)}, mean {_fmt(report.mean)}, max {_fmt(report.max)}"
    )
    print(f"  on the centre line:        mean {_fmt(report.mean_center)}")
    print(f"  at the border:             mean {_fmt(report.mean_border)}")
    print(f"  off track (no wheel on):   mean {_fmt(report.mean_offtrack)}")
    print(f"time per call:   {report.us_per_call:.1f} µs")
    if report.min == report.max:
        print("note: the reward is the same everywhere, so it cannot teach the car anything")
    elif (
        report.mean_offtrack is not None
        and report.mean_center is not None
        and report.mean_offtrack >= report.mean_center
    ):
        print("note: off-track poses earn as much as centre-line poses on average")
    return 0


def add_check_reward(subparsers: Any) -> None:
    """Registers ``deepracer check-reward``."""
    check = subparsers.add_parser(
        "check-reward",
        help="call a reward function on scripted poses all over a track",
        description=(
            "Load a reward function and call it on scripted poses along the whole track"
            " (on the centre line, towards and past the borders, off the track, skewed"
            " and reversed, at several steering angles and speeds), with the params the"
            " simulator builds. Reports the reward range and the time per call; exits"
            " with status 2 on the first invalid result. Warns first about anything"
            " DeepRacer on AWS would reject: imports other than math, random, numpy,"
            " scipy and shapely, forbidden builtins and strings."
        ),
    )
    check.add_argument("file", metavar="FILE", help="reward file (or a shipped reward's name)")
    check.add_argument(
        "--track", default="oval", metavar="T", help="track name or .npy path (default: oval)"
    )
    check.add_argument(
        "--steps",
        type=int,
        default=200,
        metavar="N",
        help="the steps param cycles through 2..N (default: 200)",
    )
    check.set_defaults(func=_cmd_check_reward)
