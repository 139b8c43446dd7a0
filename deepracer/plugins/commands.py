"""``deepracer run`` and ``deepracer plugins list``.

Contents:
    add_plugin_commands: register both on the CLI's subparsers.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["add_plugin_commands"]


def _cmd_run(args: argparse.Namespace) -> int:
    from deepracer.plugins import load_plugin_experiment, run_experiment
    from deepracer.runs.lock import run_dir_for

    experiment, plugin = load_plugin_experiment(args.experiment, args.set)
    with run_dir_for(args.out, experiment.name) as out:
        print(
            f"running {experiment.kind} experiment {experiment.name!r} into {out}",
            file=sys.stderr,
        )
        result = run_experiment(experiment, plugin, out, argv=sys.argv)
    shown = {k: v for k, v in result.metrics.items() if isinstance(v, int | float)}
    for key, value in shown.items():
        print(f"{key:<32} {value:.4g}" if isinstance(value, float) else f"{key:<32} {value}")
    print(f"run:    {out} (metrics.json, report.md and plots)")
    return 0


def _cmd_plugins_list(args: argparse.Namespace) -> int:
    from deepracer.errors import DeepRacerError
    from deepracer.plugins import available_plugins, get_plugin

    found = available_plugins()
    if not found:
        print("no plugins installed")
        return 0
    width = max(len(n) for n in found)
    for name, origin in found.items():
        try:
            description = get_plugin(name).description
        except DeepRacerError as exc:
            description = f"(not loadable: {exc})"
        print(f"{name:<{width}}  {description}  [{origin}]")
    return 0


def add_plugin_commands(subparsers: Any) -> None:
    """Registers ``run`` and ``plugins``."""
    run = subparsers.add_parser(
        "run",
        help="run a plugin experiment (kind: churn, genres, ...)",
        description=(
            "Run an experiment whose YAML names a plugin with `kind:` into a run"
            " directory: the resolved experiment, metrics.json, plots and report.md"
            " beside the source article's figures."
        ),
    )
    run.add_argument("experiment", help="experiment name (experiments/) or YAML path")
    run.add_argument("--out", help="run directory (default: runs/<name>-<time>)")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a value (parsed as YAML), e.g. churn.customers=3000; repeatable",
    )
    run.set_defaults(func=_cmd_run)
    plugins = subparsers.add_parser("plugins", help="the installed plugin experiments")
    actions = plugins.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every plugin: name, description, origin")
    listing.set_defaults(func=_cmd_plugins_list)
