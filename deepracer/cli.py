"""The ``deepracer`` command line: a dispatcher over the areas' ``commands`` modules.

Each area registers its subcommands with an ``add_<name>(subparsers)`` function in
its own ``commands.py`` (``deepracer <command> --help`` says the rest):

    tracks list|show                    deepracer.tracks.commands
    check-reward                        deepracer.rewards.commands
    train, quickstart                   deepracer.training.commands
    sweep                               deepracer.sweep.commands
    evaluate                            deepracer.evaluation.commands
    raceline                            deepracer.raceline.commands
    analyze                             deepracer.analysis.commands
    export                              deepracer.export.commands
    import                              deepracer.export.commands
    render                              deepracer.rendering.commands
    actions generate|show|validate|list deepracer.envs.commands
    camera compare                      deepracer.envs.commands
    upload, download, launch, jobs      deepracer.cloud.commands
    run, plugins list                   deepracer.plugins.commands
    replay, calibrate                   deepracer.physics.commands
    ui                                  deepracer.ui.commands

A :class:`~deepracer.errors.DeepRacerError` (bad user input) becomes ``error: <message>``
on stderr and exit status 2, without a traceback; the message of a reward-function
error already carries the user's traceback.

Contents:
    main: the console-script entry point.
    build_parser: the argparse parser.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

from deepracer.analysis.commands import add_analyze
from deepracer.cloud.commands import add_cloud_commands
from deepracer.envs.commands import add_actions, add_camera
from deepracer.errors import DeepRacerError
from deepracer.evaluation.commands import add_evaluate
from deepracer.export.commands import add_export, add_import
from deepracer.physics.commands import add_calibrate, add_replay
from deepracer.plugins.commands import add_plugin_commands
from deepracer.raceline.commands import add_raceline
from deepracer.rendering.commands import add_render
from deepracer.rewards.commands import add_check_reward
from deepracer.sweep.commands import add_sweep
from deepracer.tracks.commands import add_tracks
from deepracer.training.commands import add_quickstart, add_train
from deepracer.ui.commands import add_ui

__all__ = ["build_parser", "main"]

# Each entry adds one or more subcommands, in the order ``deepracer --help`` lists them.
_COMMANDS: tuple[Callable[[Any], None], ...] = (
    add_tracks,
    add_check_reward,
    add_train,
    add_quickstart,
    add_sweep,
    add_evaluate,
    add_raceline,
    add_analyze,
    add_export,
    add_import,
    add_render,
    add_actions,
    add_camera,
    add_cloud_commands,
    add_plugin_commands,
    add_replay,
    add_calibrate,
    add_ui,
)


def _version() -> str:
    from deepracer import __version__

    return __version__


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def build_parser() -> argparse.ArgumentParser:
    """Returns the ``deepracer`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="deepracer",
        description="A local AWS DeepRacer simulator: tracks, reward functions, training.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in _COMMANDS:
        add(subparsers)
    parser.set_defaults(func=lambda _args: _help(parser))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the ``deepracer`` command line; returns the exit status.

    Args:
        argv: The arguments after the program name (``sys.argv[1:]`` if None).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    try:
        status: int = args.func(args)
    except DeepRacerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`deepracer tracks list | head`): say nothing more, and
        # keep Python from complaining when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return status


if __name__ == "__main__":
    sys.exit(main())
