"""The ``deepracer train`` and ``deepracer quickstart`` subcommands.

Contents:
    add_train, add_quickstart: register the subcommands on the CLI's subparsers.
    print_summary: the one-screen summary at the end of a run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from deepracer.errors import DeepRacerError
from deepracer.evaluation.commands import add_trust_reward
from deepracer.runs import RunFiles
from deepracer.runs.lock import run_dir_for

__all__ = ["add_quickstart", "add_train", "print_summary"]


def _cmd_train(args: argparse.Namespace) -> int:
    from deepracer.experiment import load_experiment
    from deepracer.training.trainer import train

    if args.resume:
        if args.experiment or args.set:
            raise DeepRacerError(
                "--resume continues a run with its own saved experiment: give no experiment"
                " file and no --set"
            )
        result = train(
            None, Path(args.resume), resume=True, argv=sys.argv, trust_reward=args.trust_reward
        )
    else:
        if not args.experiment:
            raise DeepRacerError("train: give an experiment file (or --resume RUN_DIR)")
        experiment = load_experiment(args.experiment, args.set)
        with run_dir_for(args.out, experiment.name) as out:
            print(f"training {experiment.name!r} into {out}", file=sys.stderr)
            result = train(experiment, out, argv=sys.argv)
    print_summary(result)
    return 0


def add_train(subparsers: Any) -> None:
    """Registers ``deepracer train``."""
    parser = subparsers.add_parser(
        "train",
        help="train a model from an experiment file",
        description=(
            "Train a model from an experiment (experiments/<name>.yaml or a path) into a run"
            " directory with checkpoints, DeepRacer-format metrics and simtrace, the best"
            " model and plots. --resume continues an interrupted run from its last"
            " checkpoint."
        ),
    )
    parser.add_argument("experiment", nargs="?", help="experiment name or YAML path")
    parser.add_argument("--out", help="run directory (default: runs/<name>-<time>)")
    parser.add_argument("--resume", metavar="RUN_DIR", help="continue this run")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override an experiment value (parsed as YAML); repeatable",
    )
    add_trust_reward(parser, "resume a run that was not created on this machine")
    parser.set_defaults(func=_cmd_train)


def _cmd_quickstart(args: argparse.Namespace) -> int:
    from deepracer.experiment import load_experiment
    from deepracer.training.trainer import train

    experiment = load_experiment("quickstart", args.set)
    with run_dir_for(args.out, "quickstart") as out:
        print(f"quickstart: training {experiment.name!r} into {out}", file=sys.stderr)
        result = train(experiment, out, argv=sys.argv)
    print_summary(result)
    compare_and_plot(result)
    return 0


def compare_and_plot(result: Any) -> None:
    """Puts the run's laps beside its world's race line and writes the analysis plots.

    Writes ``raceline.csv`` (which ``deepracer analyze`` draws) and ``analysis/*.png``
    into the run directory.
    """
    from deepracer.analysis import analyze
    from deepracer.envs.config import vehicle_of
    from deepracer.evaluation.evaluate import lap_ratios, top_speed
    from deepracer.evaluation.runs import run_setup
    from deepracer.io import atomic_write_text
    from deepracer.raceline import raceline_for_world, write_csv
    from deepracer.runs import RunFiles
    from deepracer.runs.layout import RACELINE_COMPARISON

    out = result.run_dir
    setup = run_setup(out, None, 1)
    config, world = setup.config, setup.world
    line = raceline_for_world(world, vehicle=vehicle_of(config), v_max=top_speed(config))
    files = RunFiles(out)
    write_csv(line, files.raceline)
    folders = files.evaluation_folders()
    if folders:  # the final evaluation's: its laps against the line, as `evaluate` writes
        summary = {"raceline": line.summary(), "laps": lap_ratios(result.trials, line)}
        atomic_write_text(folders[-1] / RACELINE_COMPARISON, json.dumps(summary, indent=2) + "\n")
    laps = [t.lap_time for t in result.trials if t.lap_time is not None]
    best = (
        f"best lap {min(laps):.2f} s = {min(laps) / line.standing_lap_time:.2f} x"
        if laps
        else "no lap;"
    )
    print(
        f"race line:  {best} the race line's {line.standing_lap_time:.2f} s from a standing"
        f" start ({line.limits.v_max:g} m/s top speed; `deepracer raceline {world}`)"
    )
    analyze(out, echo=lambda line: None)
    print(f"plots:      {files.analysis} (track, iterations, completion, actions, evaluation)")


def add_quickstart(subparsers: Any) -> None:
    """Registers ``deepracer quickstart``."""
    parser = subparsers.add_parser(
        "quickstart",
        help="train the quickstart experiment, evaluate it and plot it",
        description=(
            "The main job on the embedded defaults: trains experiments/quickstart.yaml (PPO"
            " on the state observation on the built-in oval, a few minutes on 2 cores),"
            " evaluates 3 greedy trials, compares the best lap with the race line and"
            " writes training.png and the analysis plots."
        ),
    )
    parser.add_argument("--out", help="run directory (default: runs/quickstart-<time>)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="override"
    )
    parser.set_defaults(func=_cmd_quickstart)


def print_summary(result: Any) -> None:
    """Prints the one-screen summary of a :class:`~deepracer.training.trainer.TrainResult`."""
    out = result.run_dir
    print(f"run:        {out}")
    print(
        f"trained:    {result.timesteps:,} steps, {result.episodes:,} episodes,"
        f" {result.seconds:.0f} s this session (stopped by {result.stopped_by})"
    )
    print(f"throughput: {result.steps_per_second:,.0f} environment steps/s (whole loop)")
    print(f"{'trial':>5}  {'status':<13} {'progress %':>10} {'lap time s':>10} {'steps':>6}")
    for t in result.trials:
        lap = "-" if t.lap_time is None else f"{t.lap_time:.2f}"
        print(f"{t.trial:>5}  {t.status:<13} {t.progress:>10.1f} {lap:>10} {t.steps:>6}")
    files = RunFiles(out)
    print(
        f"files:      {files.final_model}, {files.best_model}, {files.training_metrics},"
        f" {files.plot}"
    )
