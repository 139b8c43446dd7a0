"""``deepracer analyze RUN_DIR``: the log-analysis notebooks' plots as PNG files.

Contents:
    add_analyze: register the subcommand.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["add_analyze"]


def _cmd_analyze(args: argparse.Namespace) -> int:
    from deepracer.analysis.analyze import analyze

    analyze(
        Path(args.run),
        out_dir=args.out,
        raceline=args.raceline,
        track=args.track,
        episodes=args.episodes,
    )
    return 0


def add_analyze(subparsers: Any) -> None:
    """Registers ``deepracer analyze``."""
    parser = subparsers.add_parser(
        "analyze",
        help="plot a run's or a console / DRfC log folder's training and evaluation logs",
        description=(
            "Write the log-analysis notebooks' plots as PNG files: the track with the"
            " training trajectories coloured by speed and the race line, reward and"
            " progress per iteration, lap completion rate, action usage and the"
            " evaluation laps. Reads our run directories and console / DeepRacer for"
            " Cloud simtrace files (15-19 columns, with or without header) and"
            " Robomaker logs; plots whose inputs are absent are skipped."
        ),
    )
    parser.add_argument("run", metavar="RUN_DIR", help="a run directory or a log folder")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: RUN_DIR/analysis)")
    parser.add_argument(
        "--raceline",
        metavar="CSV",
        help="race line CSV with x,y (and speed) columns (default: RUN_DIR/raceline.csv)",
    )
    parser.add_argument(
        "--track",
        metavar="NAME_OR_PATH",
        help="track name or route file (default: the run's evaluation world)",
    )
    parser.add_argument(
        "--episodes",
        metavar="K",
        type=int,
        default=20,
        help="training episodes drawn on track.png, the last K (default 20)",
    )
    parser.set_defaults(func=_cmd_analyze)
