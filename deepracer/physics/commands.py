"""``deepracer replay LOGS...``: how well the car predicts the real simulator's logs.

Contents:
    add_replay: register the subcommand.
"""

from __future__ import annotations

import argparse
from typing import Any

from deepracer.errors import DeepRacerError

__all__ = ["add_replay"]


def _cmd_replay(args: argparse.Namespace) -> int:
    from deepracer.logs.logset import load_log_set
    from deepracer.physics.replay import replay_errors

    if not args.friction > 0:
        raise DeepRacerError(f"--friction must be > 0, got {args.friction}")
    logs = load_log_set(args.logs)
    print(logs.summary())
    errors = replay_errors(logs, delay=args.delay, friction=args.friction)
    print(f"replayed with a command delay of {args.delay} row(s), friction {args.friction:g}")
    print(errors.table())
    print(errors.result_line())
    return 0


def add_replay(subparsers: Any) -> None:
    """Registers ``deepracer replay``."""
    replay = subparsers.add_parser(
        "replay",
        help="the car's position errors replaying real simulator logs, by horizon",
        description=(
            "Replay the real simulator's simtrace logs through the car: from every logged"
            " row it drives the logged commands for 1, 15 and 45 steps and reports the"
            " mean distance of its model point from the logged one, beside what"
            " constant-velocity extrapolation gives. The last line is"
            " 'RESULT err_1step_cm=... err_15_cm=... err_45_cm=... cv_15_cm=...'."
        ),
    )
    replay.add_argument(
        "logs",
        nargs="+",
        metavar="LOGS",
        help="simtrace CSV files or folders holding them (console, DRfC, DeepRacer on AWS)",
    )
    replay.add_argument(
        "--delay",
        type=int,
        default=0,
        metavar="ROWS",
        help="rows between a logged command and the step it drives (default: 0)",
    )
    replay.add_argument(
        "--friction",
        type=float,
        default=0.5,
        metavar="MU",
        help="the surface's friction coefficient (default: 0.5, Gazebo's wheels)",
    )
    replay.set_defaults(func=_cmd_replay)
