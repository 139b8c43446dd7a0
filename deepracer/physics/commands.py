"""``deepracer replay`` and ``deepracer calibrate``: the car against the real simulator.

Contents:
    add_replay: register ``deepracer replay LOGS... [--vehicle P]``.
    add_calibrate: register ``deepracer calibrate LOGS... --out vehicle.yaml``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from deepracer.errors import DeepRacerError

__all__ = ["add_calibrate", "add_replay"]

_LOGS_HELP = (
    "simtrace CSV files or folders holding them (console, DRfC single or multi-worker,"
    " DeepRacer on AWS; training or evaluation)"
)


def _check_friction(value: float) -> None:
    if not value > 0:
        raise DeepRacerError(f"--friction must be > 0, got {value}")


def _cmd_replay(args: argparse.Namespace) -> int:
    from deepracer.logs.logset import load_log_set
    from deepracer.physics.profiles import DEFAULT_PROFILE, load_profile
    from deepracer.physics.replay import replay_errors

    _check_friction(args.friction)
    profile = load_profile(args.vehicle or DEFAULT_PROFILE)
    logs = load_log_set(args.logs)
    print(logs.summary())
    errors = replay_errors(logs, profile.params, friction=args.friction)
    print(f"replayed with vehicle profile {profile.name!r}, surface friction {args.friction:g}")
    print(errors.table())
    print(errors.result_line())
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from deepracer.logs.logset import load_log_set
    from deepracer.physics.calibrate import calibrate, split_episodes
    from deepracer.physics.calibration_plots import write_plots
    from deepracer.physics.profiles import DEFAULT_PROFILE, load_profile, save_profile

    _check_friction(args.friction)
    out = Path(args.out)
    if out.suffix not in (".yaml", ".yml"):
        raise DeepRacerError(f"--out {out}: a vehicle profile is a .yaml file")
    if out.exists() and not args.force:
        raise DeepRacerError(f"--out {out} exists; pass --force to replace it")
    if out.parent.exists() and not out.parent.is_dir():
        raise DeepRacerError(f"--out {out}: {out.parent} is not a folder")
    if args.samples < 100 or args.bootstrap < 0:
        raise DeepRacerError("--samples must be >= 100 and --bootstrap >= 0")
    base = load_profile(args.base or DEFAULT_PROFILE)
    logs = load_log_set(args.logs)
    print(logs.summary())
    result = calibrate(
        logs,
        base=base.params,
        name=args.name or out.stem,
        description=args.description
        or f"fitted by deepracer calibrate on {len(logs.episodes)} episodes of real simulator logs",
        sources=[str(p) for p in args.logs],
        simapp=args.simapp or "",
        holdout=args.holdout,
        seed=args.seed,
        samples=args.samples,
        bootstrap=args.bootstrap,
        friction=args.friction,
        progress=print,
    )
    print(f"before = vehicle profile {base.name!r}")
    print(result.report())
    out.parent.mkdir(parents=True, exist_ok=True)
    save_profile(result.profile, out)
    print(f"wrote {out}")
    if not args.no_plots:
        fit_logs, held = split_episodes(logs, args.holdout, args.seed)
        folder = out.with_name(out.stem + "-plots")
        files = write_plots(fit_logs, held, result.profile.params, base.params, folder)
        print(f"wrote {len(files)} plots to {folder}")
    held_line = result.held_out or result.fitted
    print(held_line.result_line())
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
    replay.add_argument("logs", nargs="+", metavar="LOGS", help=_LOGS_HELP)
    replay.add_argument(
        "--vehicle",
        metavar="PROFILE",
        help="vehicle profile name (vehicles/) or YAML path (default: the default profile)",
    )
    replay.add_argument(
        "--friction",
        type=float,
        default=0.5,
        metavar="MU",
        help="the logs' surface friction coefficient (default: 0.5, Gazebo's wheels)",
    )
    replay.set_defaults(func=_cmd_replay)


def add_calibrate(subparsers: Any) -> None:
    """Registers ``deepracer calibrate``."""
    cal = subparsers.add_parser(
        "calibrate",
        help="fit a vehicle profile to real simulator logs",
        description=(
            "Fit the car's steering lag, effective wheelbase, speed lag, grip and control"
            " delay to the real simulator's simtrace logs, so the local car drives like"
            " the simulator you race in. A share of the episodes is held out to check the"
            " fit; the errors 1, 15 and 45 steps ahead are reported before and after,"
            " beside constant-velocity extrapolation, and plots are written beside the"
            " profile (<out>-plots/). Use the profile with 'vehicle: <path>' in a world or"
            " experiment, or 'deepracer replay --vehicle <path>'."
        ),
    )
    cal.add_argument("logs", nargs="+", metavar="LOGS", help=_LOGS_HELP)
    cal.add_argument("--out", required=True, metavar="FILE", help="the profile to write (.yaml)")
    cal.add_argument("--force", action="store_true", help="replace --out if it exists")
    cal.add_argument("--name", help="profile name (default: the file stem)")
    cal.add_argument("--description", help="one line describing the profile")
    cal.add_argument("--simapp", help="the simulator that wrote the logs, recorded in the profile")
    cal.add_argument(
        "--base",
        metavar="PROFILE",
        help="the car to start from and compare with (default: the default profile)",
    )
    cal.add_argument(
        "--holdout",
        type=float,
        default=0.25,
        metavar="SHARE",
        help="share of the episodes kept out of the fit to check it (default: 0.25)",
    )
    cal.add_argument("--seed", type=int, default=0, help="seed of the hold-out draw and samples")
    cal.add_argument(
        "--samples", type=int, default=3000, help="start rows the fit replays (default: 3000)"
    )
    cal.add_argument(
        "--bootstrap",
        type=int,
        default=10,
        metavar="N",
        help="refits on resampled episodes for the uncertainty (default: 10; 0 = none)",
    )
    cal.add_argument(
        "--friction",
        type=float,
        default=0.5,
        metavar="MU",
        help="the logs' surface friction coefficient (default: 0.5, Gazebo's wheels)",
    )
    cal.add_argument("--no-plots", action="store_true", help="skip the plots")
    cal.set_defaults(func=_cmd_calibrate)
