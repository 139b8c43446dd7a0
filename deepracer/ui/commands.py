"""The ``deepracer ui`` subcommand: serve the dashboard of a runs folder.

Contents:
    add_ui: registers the subcommand on the CLI's subparsers.
    serve_options: the host check and token of a ``deepracer ui`` invocation.
"""

from __future__ import annotations

import argparse
import ipaddress
import secrets
import socket
from pathlib import Path
from typing import Any
from urllib.parse import quote

from deepracer.errors import DeepRacerError

__all__ = ["add_ui", "is_loopback", "serve_options"]

_INSTALL = "pip install 'deepracer[ui]'"


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve_options(host: str, token: str | None) -> str | None:
    """The token a server on ``host`` requires: None on loopback unless one is given.

    Raises:
        DeepRacerError: A given token is too short to be a secret.
    """
    if token is not None and len(token) < 16:
        raise DeepRacerError("--token: expected at least 16 characters (or leave it out)")
    if token is None and not is_loopback(host):
        return secrets.token_urlsafe(24)
    return token


def _cmd_ui(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from deepracer.ui.app import create_app
    except ModuleNotFoundError as exc:
        raise DeepRacerError(f"deepracer ui needs {exc.name}: {_INSTALL}") from None
    root = Path(args.runs_dir)
    if not root.is_dir():
        raise DeepRacerError(f"{root}: no such folder; pass the folder your runs are in")
    token = serve_options(args.host, args.token)
    app = create_app(root, token=token)
    # Bound to every address, the machine's name is what another machine browses to.
    host = socket.gethostname() if args.host in ("0.0.0.0", "::") else args.host
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{args.port}/"
    if token is not None:
        url += f"?token={quote(token)}"
        print("anyone who can reach this address and has the token can read these runs")
    print(f"deepracer ui: {root.resolve()} at {url} (Ctrl-C stops)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def add_ui(subparsers: Any) -> None:
    """Registers ``deepracer ui``."""
    parser = subparsers.add_parser(
        "ui",
        help="a dashboard of your runs in the browser (live training, compare, camera)",
        description=(
            "Serves a read-only dashboard of the runs under RUNS_DIR: the runs list, live"
            " training, the track with the latest trajectories, evaluation trials with"
            " the car's camera, and a comparison of runs. It binds to 127.0.0.1; another"
            f" address needs the token it prints. Needs {_INSTALL}."
        ),
    )
    parser.add_argument(
        "runs_dir", nargs="?", default="runs", metavar="RUNS_DIR",
        help="the folder of runs (default: runs)",
    )  # fmt: skip
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--token",
        default=None,
        help="the token to require (default: a new one when --host is not loopback)",
    )
    parser.set_defaults(func=_cmd_ui)
