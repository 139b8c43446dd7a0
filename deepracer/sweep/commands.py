"""The ``deepracer sweep`` subcommand.

Contents:
    add_sweep: registers the subcommand on the CLI's subparsers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from deepracer.errors import DeepRacerError

__all__ = ["add_sweep"]


def _cmd_sweep(args: argparse.Namespace) -> int:
    from deepracer.config.resources import resolve
    from deepracer.sweep.config import load_sweep

    sweep, base = load_sweep(args.sweep)
    base_path = resolve("experiments", sweep.experiment).resolve()
    root = Path(args.out) if args.out else Path("sweeps") / sweep.name
    if args.dry_run:
        from deepracer.sweep.trials import plan_trials

        if sweep.search == "optuna":
            print(f"sweep {sweep.name}: Optuna proposes {sweep.samples} trials over"
                  f" {', '.join(sorted(sweep.random))}")  # fmt: skip
        else:
            planned = plan_trials(sweep)
            print(f"sweep {sweep.name}: {len(planned)} trials of {base.name!r} into {root}")
            for trial in planned:
                print(f"  {trial['name']}: {trial['params']}")
        return 0
    try:
        from deepracer.sweep.runner import run_sweep
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("ray"):
            raise
        raise DeepRacerError(
            "deepracer sweep runs on Ray Tune, which is not installed: pip install 'deepracer[ray]'"
        ) from None
    print(f"sweep {sweep.name!r} of {base.name!r} into {root}", file=sys.stderr)
    result = run_sweep(
        sweep,
        base_path,
        root,
        address=args.address,
        echo=lambda line: print(line, flush=True),
        total_timesteps=_longest(sweep, base.train.total_timesteps),
        eval_every=base.train.eval_every,
    )
    best = result.trials[0] if result.trials else None
    print(f"report: {result.report}")
    if best is not None and best.best() is not None:
        print(f"best:   {best.name} ({best.status}), {result.root / 'trials' / best.name}")
    failed = [t for t in result.trials if t.status.startswith("failed")]
    if failed:
        print(f"failed: {', '.join(t.name for t in failed)}", file=sys.stderr)
    return 1 if failed and len(failed) == len(result.trials) else 0


def _longest(sweep: Any, base: int) -> int:
    """The largest step budget any trial may get (the schedulers' horizon)."""
    key = "train.total_timesteps"
    values = [base, *sweep.grid.get(key, [])]
    if key in sweep.random:
        values += sweep.random[key].ends()
    return max(int(v) for v in values)


def add_sweep(subparsers: Any) -> None:
    """Registers ``deepracer sweep``."""
    parser = subparsers.add_parser(
        "sweep",
        help="train many variants of an experiment at once (Ray Tune)",
        description=(
            "Train one experiment with varied values (reward files, any experiment key) as"
            " a sweep on Ray Tune: a grid and random draws, or an Optuna search; trials"
            " run side by side, hopeless ones stop early (ASHA or median rule), each"
            " trial is a normal run directory. Rerunning the command resumes the sweep:"
            " finished trials are not trained again. Needs the ray extra."
        ),
    )
    parser.add_argument("sweep", help="the sweep file (YAML)")
    parser.add_argument("--out", help="sweep directory (default: sweeps/<name>)")
    parser.add_argument(
        "--address",
        help="run on a running Ray cluster: auto or HOST:PORT (default: Ray on this machine)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="check the file and list the trials, run nothing"
    )
    parser.set_defaults(func=_cmd_sweep)
