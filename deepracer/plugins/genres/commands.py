"""``python -m deepracer.plugins.genres.commands RUN_DIR``: serve a genres run over HTTP.

``python -m deepracer.plugins.genres.serve RUN_DIR`` runs the same. Needs the extra
``serve`` (FastAPI and uvicorn); the application is
:func:`deepracer.plugins.genres.serve.create_app`.

Contents:
    main: parse the arguments and serve with uvicorn.
"""

from __future__ import annotations

import argparse
import sys

from deepracer.errors import DeepRacerError

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Serves a run directory on HTTP with uvicorn."""
    from deepracer.plugins.genres.serve import create_app

    parser = argparse.ArgumentParser(description="Serve a genres run over HTTP.")
    parser.add_argument("run_dir", help="a genres run directory")
    parser.add_argument("--engine", choices=("onnx", "lightgbm"), default="onnx")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    try:
        import uvicorn
    except ImportError:
        print("serving needs uvicorn: pip install 'deepracer[serve]'", file=sys.stderr)
        return 2
    try:
        app = create_app(args.run_dir, args.engine)
    except DeepRacerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(app, host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
