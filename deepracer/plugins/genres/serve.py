"""Optional HTTP serving of a genres run with FastAPI (extra ``serve``).

Imported only on demand: ``from deepracer.plugins.genres.serve import create_app``.

Routes:
    ``POST /recommend``: one profile -> ``{"genres": [top 3], "engine": ...}``.
    ``GET /ping`` and ``POST /invocations``: the SageMaker container contract, with
        ``{"instances": [profiles]}`` -> ``{"predictions": [[top 3], ...]}`` (what
        ``backend: aws`` sends to an endpoint).
    ``GET /health``: the engine and the known genres, genders and regions.

A bad profile is answered with 422 and ``{"detail": message, "field": name}``; a
body that is not a JSON object with 400. The bodies are validated by the same code
as in-process ``recommend`` (not by a pydantic model), so the messages are the same.

``python -m deepracer.plugins.genres.serve RUN_DIR`` serves a run with uvicorn (the
command is :mod:`deepracer.plugins.genres.commands`).

Contents:
    create_app: the FastAPI application of a run directory.
    parse_body, MAX_BODY: a request body's JSON, within size and depth limits.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the handlers'
# annotations at runtime, and ``Request`` is imported inside ``create_app``.
import json
import sys
from pathlib import Path
from typing import Any, Literal

from deepracer.errors import DeepRacerError
from deepracer.plugins.genres.model import ProfileError, Recommender

__all__ = ["MAX_BODY", "create_app", "parse_body"]


MAX_BODY = 1 << 20
"""The largest request body read [bytes]: a batch of thousands of profiles fits."""


class _TooLarge(ProfileError):
    """A request body over :data:`MAX_BODY` (HTTP 413)."""


def parse_body(raw: bytes) -> Any:
    """A request body's JSON document, or a ProfileError for the ``body`` field.

    Raises:
        ProfileError: Too large (HTTP 413), not JSON, or nested too deeply to parse.
    """
    if len(raw) > MAX_BODY:
        raise _TooLarge("body", f"{len(raw):,} bytes; at most {MAX_BODY:,} are read")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise ProfileError("body", "expected a JSON document") from None
    except RecursionError:  # '[[[[...' deeper than Python's parser recurses
        raise ProfileError("body", "JSON nested too deeply for a profile") from None


def create_app(run_dir: str | Path, engine: Literal["onnx", "lightgbm"] = "onnx") -> Any:
    """A FastAPI application serving the model saved in ``run_dir``.

    Args:
        run_dir: A genres run directory.
        engine: ``onnx`` or ``lightgbm``.

    Raises:
        DeepRacerError: FastAPI is not installed, or the run directory has no model.
    """
    try:
        from fastapi import FastAPI, Request
        from fastapi.responses import JSONResponse
    except ImportError:
        raise DeepRacerError("HTTP serving needs FastAPI: pip install 'deepracer[serve]'") from None

    recommender = Recommender.from_run_dir(run_dir, engine)
    mapping = recommender.mapping
    app = FastAPI(title="deepracer genres", description="top-3 genres for a new user")

    async def _body(request: Request) -> Any:
        return parse_body(await request.body())

    def _error(exc: ProfileError) -> Any:
        status = 413 if isinstance(exc, _TooLarge) else 400 if exc.field == "body" else 422
        return JSONResponse(status_code=status, content={"detail": str(exc), "field": exc.field})

    # Handlers are async so that scoring (about 0.1 ms) runs on the event loop and no
    # thread pool hop is paid per request.
    @app.post("/recommend")
    async def recommend(request: Request) -> Any:
        try:
            profile = await _body(request)
            if not isinstance(profile, dict):
                raise ProfileError("body", "expected a JSON object (one profile)")
            genres = recommender.recommend(profile)
        except ProfileError as exc:
            return _error(exc)
        return {"genres": genres, "engine": recommender.engine.name}

    @app.get("/ping")
    async def ping() -> Any:
        return {"status": "ok"}

    @app.get("/health")
    async def health() -> Any:
        return {
            "status": "ok",
            "engine": recommender.engine.name,
            "genres": list(mapping.genres),
            "genders": list(mapping.genders),
            "regions": list(mapping.regions),
            "age_range": list(mapping.age_range),
        }

    @app.post("/invocations")
    async def invocations(request: Request) -> Any:
        try:
            data = await _body(request)
            instances = data.get("instances") if isinstance(data, dict) else None
            if not isinstance(instances, list):
                raise ProfileError("body", 'expected {"instances": [profile, ...]}')
            predictions = []
            for i, profile in enumerate(instances):
                try:
                    predictions.append(recommender.recommend(profile))
                except ProfileError as exc:
                    raise ProfileError(f"instances[{i}].{exc.field}", exc.reason) from None
        except ProfileError as exc:
            return _error(exc)
        return {"predictions": predictions}

    return app


if __name__ == "__main__":
    from deepracer.plugins.genres.commands import main

    sys.exit(main())
