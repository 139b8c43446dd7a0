"""``deepracer evaluate RUN_DIR_OR_MODEL``: console-style greedy trials of a trained model.

Contents:
    add_evaluate: register the subcommand.
    add_trust_reward: the ``--trust-reward`` option of the commands that read runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from deepracer.errors import DeepRacerError, TrackError
from deepracer.evaluation.hooks import Announcer, announcers
from deepracer.runs.layout import EVALUATION_METRICS, EVALUATION_SIMTRACE, RunFiles

__all__ = ["add_evaluate", "add_trust_reward"]


def add_trust_reward(parser: argparse.ArgumentParser, purpose: str) -> None:
    """Adds ``--trust-reward`` to a command that reads run directories.

    Args:
        parser: The command's parser.
        purpose: What the command imports the reward for (help text).
    """
    parser.add_argument(
        "--trust-reward",
        action="store_true",
        help=f"import the run's reward_function.py to {purpose} even if the run was not"
        " created on this machine (it is the run's code: only for runs you trust)",
    )


def _load_plugins() -> list[str]:
    """Loads every installed plugin, so that their hooks register; returns the failures."""
    from deepracer.plugins import available_plugins, get_plugin

    problems = []
    for name in available_plugins():
        try:
            get_plugin(name)
        except DeepRacerError as exc:  # one broken plugin must not hide the others
            problems.append(str(exc))
    return problems


def _find_announcer() -> Announcer:
    """The first registered announcer, after loading the plugins if none is yet.

    Raises:
        DeepRacerError: No plugin registers one; the message says which failed to load.
    """
    problems = [] if announcers() else _load_plugins()
    found = announcers()
    if not found:
        failed = f" Plugins that did not load: {'; '.join(problems)}" if problems else ""
        raise DeepRacerError(
            "--announce: no announcer is registered; a plugin registers one when it"
            " loads (the speech plugin does: `deepracer plugins list` shows whether it is"
            f" installed).{failed}"
        )
    return next(iter(found.values()))


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from deepracer.envs.world import load_world
    from deepracer.evaluation.evaluate import compare_with_raceline, evaluate
    from deepracer.evaluation.runs import load_policy, resolve_model, run_setup

    for name in ("trials", "max_steps"):
        if getattr(args, name) < 1:
            raise DeepRacerError(f"--{name.replace('_', '-')} must be >= 1")
    if args.resets < 0 or args.off_track_penalty < 0 or args.collision_penalty < 0:
        raise DeepRacerError("--resets, --off-track-penalty and --collision-penalty must be >= 0")
    if args.time_limit is not None and not args.time_limit > 0:
        raise DeepRacerError(f"--time-limit must be > 0 seconds, got {args.time_limit}")
    # Before the trials: a missing announcer must not cost an evaluation.
    announce = _find_announcer() if args.announce else None
    model_path, run_dir = resolve_model(Path(args.run))
    setup = run_setup(run_dir, args.world, args.max_steps, trust_reward=args.trust_reward)
    config, world = setup.config, setup.world
    policy = load_policy(model_path, setup, run_dir)
    note = setup.reward_note()
    if note:
        print(note)
    # DRfC's evaluation-<YYYYMMDDhhmmss>/ in the run, where deepracer-utils finds it.
    out = Path(args.out) if args.out else RunFiles(run_dir).claim_evaluation_folder()
    records = evaluate(
        policy,
        config,
        out,
        reward_function=setup.reward_function(),
        trials=args.trials,
        resets=args.resets,
        penalty=args.off_track_penalty,
        collision_penalty=args.collision_penalty,
        mercy_reset=args.mercy_reset,
        seed=args.seed,
        time_limit=args.time_limit,
    )
    bots = load_world(world).bot_cars is not None
    passes = f" {'passes':>6}" if bots else ""
    if args.time_limit is None:
        print(f"model {model_path} on {world}: {args.trials} greedy trials, {args.resets} resets")
        print(
            f"{'trial':>5}  {'status':<13} {'progress %':>10} {'time s':>8} {'resets':>6}"
            f" {'off-track':>9} {'crashes':>7}{passes}"
        )
        for r in records:
            print(
                f"{r.trial:>5}  {r.status:<13} {r.progress:>10.1f} {r.lap_time:>8.2f}"
                f" {r.resets:>6} {r.off_track:>9} {r.crashed:>7}"
                + (f" {r.passes:>6}" if bots else "")
            )
    else:
        print(
            f"model {model_path} on {world}: {args.trials} time trials of"
            f" {args.time_limit:g} s, {args.resets} resets"
        )
        print(
            f"{'trial':>5} {'laps':>4} {'best lap s':>10} {'mean lap s':>10} {'resets':>6}"
            f" {'off-track':>9} {'crashes':>7}{passes}  final status"
        )
        for r in records:
            times = r.lap_times
            best = f"{min(times):.2f}" if times else "-"
            mean = f"{sum(times) / len(times):.2f}" if times else "-"
            print(
                f"{r.trial:>5} {len(times):>4} {best:>10} {mean:>10} {r.resets:>6}"
                f" {r.off_track:>9} {r.crashed:>7}"
                + (f" {r.passes:>6}" if bots else "")
                + f"  {r.status}"
            )
    if not args.no_raceline:
        try:
            compare_with_raceline(records, config, world, out)
        except TrackError as exc:
            # The trials are measured and written; a race line the solver cannot
            # find must not turn that into a failed evaluation.
            print(f"no race line comparison: {exc}")
    print(f"wrote {out / EVALUATION_METRICS} and {out / EVALUATION_SIMTRACE}")
    if announce is not None:
        print(announce(records, out, Path(args.announce)))
    return 0


def add_evaluate(subparsers: Any) -> None:
    """Registers ``deepracer evaluate``."""
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate a trained model in console-style greedy trials",
        description=(
            "Drive a run's best model (or a model file) in greedy trials from the start"
            " line, optionally putting the car back after failures with a time penalty,"
            " and write evaluation_metrics.json (DeepRacer schema) and the simtrace."
            " With --time-limit each trial is a time trial of continuous laps."
        ),
    )
    parser.add_argument("run", metavar="RUN_DIR_OR_MODEL")
    parser.add_argument("--world", help="world (default: the run's evaluation world)")
    parser.add_argument("--trials", type=int, default=3, help="trials (default 3)")
    parser.add_argument(
        "--resets", type=int, default=0, help="failures put back per trial (default 0)"
    )
    parser.add_argument(
        "--off-track-penalty",
        type=float,
        default=2.0,
        help="seconds frozen after a reset (default 2, the simapp's OFF_TRACK_PENALTY)",
    )
    parser.add_argument(
        "--collision-penalty",
        type=float,
        default=5.0,
        help="seconds frozen after a reset from a crash into an obstacle or a bot car"
        " (default 5, the simapp's evaluation COLLISION_PENALTY)",
    )
    parser.add_argument(
        "--mercy-reset",
        action="store_true",
        help="the simapp's ENABLE_MERCY_RESET: the third reset in a row near one obstacle"
        " puts the car 1 m past it instead of 1 m before it",
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        metavar="S",
        help="time trial: drive continuous laps for S seconds of simulated time per trial,"
        " counting laps, the best lap and resets (default: race mode, one lap per trial)",
    )
    parser.add_argument(
        "--max-steps",
        type=int,
        default=5000,
        help="step cap per trial in race mode (a time trial ends on its time limit)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", help="output folder (default: RUN/evaluation-<YYYYMMDDhhmmss>, as DRfC)"
    )
    add_trust_reward(parser, "compute rewards for the simtrace")
    parser.add_argument(
        "--no-raceline",
        action="store_true",
        help="skip comparing the laps with the world's race line (it takes a few seconds)",
    )
    parser.add_argument(
        "--announce",
        metavar="FILE.wav",
        help="after the trials, speak a race summary (best lap, laps completed, race-line"
        " ratio) into FILE.wav with the local speech engine (extra: speech)",
    )
    parser.set_defaults(func=_cmd_evaluate)
