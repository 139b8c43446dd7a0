"""The dashboard's web application: a read-only JSON API, a live stream and the page.

Every route is a GET that reads run files; there is nothing that writes, deletes or
runs anything. Requests name runs by the names :class:`~deepracer.ui.catalog.RunCatalog`
found, and every query value is bounded, so an unknown run, a path in a run name or a
huge value is a 4xx answer with a one-line reason, never a traceback or a file from
elsewhere. Bound to loopback, the app accepts only loopback ``Host`` headers (a web
page elsewhere cannot reach it through DNS rebinding); bound to another address it
requires the token ``deepracer ui`` printed, once as ``?token=`` (then a cookie) or as
``Authorization: Bearer``.

Contents:
    STATIC: the page's files.
    create_app: the FastAPI application for one runs folder.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import tarfile
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from deepracer.errors import DeepRacerError
from deepracer.runs.evaluations import read_evaluations
from deepracer.runs.layout import RunFiles
from deepracer.runs.progress import read_progress
from deepracer.ui.catalog import MAX_NAME, OutsideRun, RunCatalog, UnknownRun, inside
from deepracer.ui.metrics import Episodes, MetricsReader, downsample
from deepracer.ui.summary import PLUGIN_METRICS, PLUGIN_REPORT, SummaryCache, read_json
from deepracer.ui.views import (
    FrameRenderer,
    NotAvailable,
    TrialPoses,
    action_usage,
    track_view,
    trajectories,
    trial_poses,
    trial_tables,
)

__all__ = ["LOOPBACK_HOSTS", "STATIC", "TOKEN_COOKIE", "create_app"]

STATIC = Path(__file__).parent / "static"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
TOKEN_COOKIE = "deepracer_ui_token"
MAX_POINTS = 2_000
"""Training-chart points sent at most (longer logs are averaged in buckets)."""
MAX_LIVE_EPISODES = 5_000
"""New episodes one live event carries at most (more: the page reloads the chart)."""
_REPORT_LIMIT = 200_000
"""Characters of a plugin's report.md sent at most."""
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data: blob:; connect-src 'self'; object-src 'none';"
    " frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_LOG = logging.getLogger("deepracer.ui")

RunName = Annotated[str, Query(min_length=1, max_length=MAX_NAME)]
RunParam = Annotated[str, Query(alias="run", min_length=1, max_length=MAX_NAME)]
Since = Annotated[int, Query(ge=0, le=10**9)]
Stamp = Annotated[str, Query(pattern=r"^\d{14}$")]
Trial = Annotated[int, Query(ge=1, le=10_000)]


class _Dashboard:
    """What the routes share: the catalog, the metrics readers and the caches."""

    def __init__(self, root: Path) -> None:
        self.catalog = RunCatalog(root)
        self._lock = threading.Lock()
        self._readers: dict[Path, MetricsReader] = {}
        self.summaries = SummaryCache(self.reader)
        self.frames = FrameRenderer()
        self._poses: OrderedDict[tuple[Path, str, int, int], TrialPoses] = OrderedDict()

    def reader(self, run: Path) -> MetricsReader:
        with self._lock:
            reader = self._readers.get(run)
            if reader is None:
                reader = self._readers[run] = MetricsReader(RunFiles(run).training_metrics, run)
            return reader

    def poses(self, run: Path, stamp: str, trial: int) -> TrialPoses:
        simtrace = RunFiles(run).evaluation_folder(stamp) / "evaluation-simtrace"
        try:
            changed = (simtrace / "0-iteration.csv").stat().st_mtime_ns
        except OSError:
            changed = 0
        key = (run, stamp, trial, changed)
        with self._lock:
            found = self._poses.get(key)
        if found is None:
            found = trial_poses(run, stamp, trial)
            with self._lock:
                self._poses[key] = found
                while len(self._poses) > 32:
                    self._poses.popitem(last=False)
        return found

    def summary(self, name: str) -> dict[str, Any]:
        return self.summaries.summary(name, self.catalog.path(name)).to_json()


def _series(episodes: Episodes) -> dict[str, Any]:
    return {
        "episode": episodes.episode.tolist(),
        "reward": [round(v, 3) for v in episodes.reward.tolist()],
        "progress": [round(v, 2) for v in episodes.progress.tolist()],
        "lap": [round(v, 3) for v in episodes.lap.tolist()],
    }


def _evaluations(run: Path, warnings: list[str]) -> list[dict[str, Any]]:
    path = RunFiles(run).evaluations
    if not path.is_file():
        return []
    try:
        return [vars(e) for e in read_evaluations(inside(run, path))]
    except DeepRacerError as exc:
        warnings.append(str(exc))
        return []


def _progress(run: Path, warnings: list[str]) -> dict[str, Any] | None:
    try:
        progress = read_progress(inside(run, RunFiles(run).progress))
    except DeepRacerError as exc:
        warnings.append(str(exc))
        return None
    return None if progress is None else vars(progress)


_EXPORT_KINDS = (
    ("-car.tar.gz", "car"),
    ("-droa.tar.gz", "droa"),
    ("-drfc.tar.gz", "drfc"),
    ("-droa", "droa"),
    ("-drfc", "drfc"),
    (".tar.gz", "onnx"),
)
"""``deepracer export``'s default names by format (``--format onnx`` is ``<run>.tar.gz``)."""


def _exports(name: str, run: Path) -> list[dict[str, Any]]:
    """The run's ``export/`` entries: archives as they are, folders as a .tar.gz."""
    folder = RunFiles(run).exports
    if not folder.is_dir() or folder.is_symlink():
        return []
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink() or entry.name.startswith("."):
            continue
        kind = next((k for suffix, k in _EXPORT_KINDS if entry.name.endswith(suffix)), None)
        if kind is None or not (entry.is_file() or entry.is_dir()):
            continue
        try:
            size = entry.stat().st_size if entry.is_file() else _folder_size(entry)
        except OSError:  # `deepracer export` is writing it right now
            continue
        query = f"run={_quote(name)}&file={_quote(entry.name)}"
        found.append(
            {"name": entry.name, "kind": kind, "size": size, "url": f"/api/export?{query}"}
        )
    return found


def _folder_files(folder: Path) -> list[Path]:
    """The files of an export folder, links and what they lead to left out."""
    files = []
    for path in sorted(folder.rglob("*")):
        try:
            if not path.is_symlink() and path.is_file() and inside(folder, path):
                files.append(path)
        except OutsideRun:  # a file under a linked folder
            continue
    return files


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in _folder_files(folder))


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


class _Pipe:
    """A file object whose writes become chunks of a streamed response."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: chunks are taken by the response."""


def _tar_stream(folder: Path) -> Iterator[bytes]:
    """A folder as a streamed .tar.gz of its files (links left out, never followed)."""
    pipe = _Pipe()
    with tarfile.open(fileobj=pipe, mode="w|gz") as tar:  # type: ignore[call-overload]
        for path in _folder_files(folder):
            tar.add(path, arcname=f"{folder.name}/{path.relative_to(folder).as_posix()}")
            yield from pipe.chunks
            pipe.chunks.clear()
    yield from pipe.chunks


def _plotly_js() -> Path | None:
    spec = find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


def create_app(runs_dir: Path, *, token: str | None = None, poll_seconds: float = 0.5) -> FastAPI:
    """The dashboard of the runs under ``runs_dir``.

    Args:
        runs_dir: The runs folder (or one run's folder).
        token: Required on every request when set (``deepracer ui`` sets one when it
            binds to an address other than loopback); None accepts loopback hosts only.
        poll_seconds: How often a live stream looks at the run's files.
    """
    app = FastAPI(title="deepracer ui", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.board = _Dashboard(Path(runs_dir))
    app.state.poll_seconds = poll_seconds
    app.state.plotly = _plotly_js()
    if token is None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(LOOPBACK_HOSTS))
    app.middleware("http")(_guard(token))
    for kind, status in ((UnknownRun, 404), (NotAvailable, 404), (DeepRacerError, 422)):
        app.add_exception_handler(kind, _answer(status))
    app.add_exception_handler(RequestValidationError, _bad_query)
    app.add_exception_handler(Exception, _internal)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


Handler = Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]


def _guard(token: str | None) -> Handler:
    """The middleware: the token (when one is set), then the security headers."""

    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        given = None
        if token is not None:
            header = request.headers.get("authorization", "")
            given = (
                request.query_params.get("token")
                or request.cookies.get(TOKEN_COOKIE)
                or (header[7:] if header.lower().startswith("bearer ") else None)
            )
            if given is None or not hmac.compare_digest(given.encode(), token.encode()):
                return JSONResponse(
                    {"detail": "this dashboard needs the token `deepracer ui` printed"},
                    status_code=401,
                )
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = _CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        if token is not None and request.query_params.get("token") == given:
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        return response

    return guard


def _answer(status: int) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def answer(request: Request, exc: Exception) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=status)

    return answer


async def _bad_query(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors()[:3]:
        where = ".".join(str(part) for part in error.get("loc", ())[1:]) or "request"
        problems.append(f"{where}: {error.get('msg', 'invalid')}")
    return JSONResponse({"detail": "; ".join(problems)}, status_code=400)


async def _internal(request: Request, exc: Exception) -> Response:
    _LOG.exception("deepracer ui: %s failed", request.url.path, exc_info=exc)
    return JSONResponse(
        {"detail": f"internal error ({type(exc).__name__}); the server's log has the rest"},
        status_code=500,
    )


def _board(request: Request) -> _Dashboard:
    board: _Dashboard = request.app.state.board
    return board


router = APIRouter()


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    """The page."""
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/static/vendor/plotly.min.js", include_in_schema=False)
def plotly_js(request: Request) -> Response:
    """Plotly.js, from the installed ``plotly`` package."""
    path: Path | None = request.app.state.plotly
    if path is None:
        raise NotAvailable("plotly is not installed: pip install 'deepracer[ui]'")
    return FileResponse(path, media_type="text/javascript")


@router.get("/api/runs")
def runs(request: Request) -> dict[str, Any]:
    """Every run under the folder, summarised."""
    board = _board(request)
    found = board.catalog.runs()
    summaries = [board.summaries.summary(n, p).to_json() for n, p in found.items()]
    root = board.catalog.root
    warnings = [] if root.is_dir() else [f"{root}: no such folder"]
    return {"root": str(root), "runs": summaries, "warnings": warnings}


@router.get("/api/run")
def run(request: Request, name: RunName) -> dict[str, Any]:
    """One run: summary, progress, periodic evaluations, trials, exports, plugin report."""
    board = _board(request)
    path = board.catalog.path(name)
    warnings: list[str] = []
    trials, trial_warnings = trial_tables(path)
    plugin = None
    summary = board.summary(name)
    if summary["kind"] == "plugin":
        report = ""
        try:
            report = inside(path, path / PLUGIN_REPORT).read_text(errors="replace")
            report = report[:_REPORT_LIMIT]
        except OutsideRun as exc:
            warnings.append(str(exc))
        except OSError:
            warnings.append(f"{PLUGIN_REPORT}: missing")
        metrics = read_json(path, path / PLUGIN_METRICS, warnings)
        plugin = {"metrics": metrics if isinstance(metrics, dict) else {}, "report": report}
    return {
        "summary": summary,
        "progress": _progress(path, warnings),
        "evaluations": _evaluations(path, warnings),
        "trials": trials,
        "exports": _exports(name, path),
        "plugin": plugin,
        "warnings": warnings + trial_warnings,
    }


@router.get("/api/training")
def training(request: Request, name: RunParam, since: Since = 0) -> dict[str, Any]:
    """Training episodes after ``since`` (bucket means when there are many)."""
    board = _board(request)
    reader = board.reader(board.catalog.path(name))
    episodes = reader.read()
    bucket, points = downsample(episodes.after(since), MAX_POINTS)
    return {
        "total": len(episodes),
        "since": since,
        "bucket": bucket,
        **_series(points),
        "warnings": list(reader.warnings),
    }


@router.get("/api/live", response_class=EventSourceResponse)
async def live(
    request: Request, name: RunParam, since: Since = 0
) -> AsyncIterator[ServerSentEvent]:
    """Server-sent ``update`` events as the run's files change.

    Each carries the new episodes, the progress and (when they changed) the periodic
    evaluations; the stream ends once the run stops training.
    """
    board = _board(request)
    path = board.catalog.path(name)
    cursor = since
    seen: tuple[Any, ...] | None = None
    # The response cancels this generator when the page goes: no disconnect check needed.
    while True:
        try:
            state = await run_in_threadpool(_live_state, board, name, path)
        except OSError:  # a file replaced or removed mid-read: look again next time
            if not path.is_dir():
                return  # the run was removed
            _LOG.debug("deepracer ui: %s changed while read", path, exc_info=True)
            await asyncio.sleep(request.app.state.poll_seconds)
            continue
        newer = state.episodes.after(cursor)
        key = (state.progress, state.evaluations_changed, state.folders, state.exports)
        if seen is None or len(newer) or key != seen:
            evaluations_new = seen is None or state.evaluations_changed != seen[1]
            yield ServerSentEvent(
                event="update",
                data={
                    "status": state.status,
                    "episodes": len(state.episodes),
                    "progress": state.progress,
                    "evaluations": state.evaluations if evaluations_new else None,
                    "evaluation_folders": state.folders,
                    "exports": state.exports,
                    "new": {
                        **_series(newer.tail(MAX_LIVE_EPISODES)),
                        "truncated": len(newer) > MAX_LIVE_EPISODES,
                    },
                },
            )
            cursor = int(state.episodes.episode[-1]) if len(state.episodes) else cursor
            seen = key
        if state.status != "training":
            return
        await asyncio.sleep(request.app.state.poll_seconds)


@router.get("/api/track")
def track(request: Request, name: RunParam) -> dict[str, Any]:
    """The run's track and race line (empty, with a note, for a run without a world)."""
    path = _board(request).catalog.path(name)
    try:
        return track_view(path)
    except NotAvailable as exc:
        return {"track": None, "center": [], "inner": [], "outer": [], "raceline": None,
                "raceline_lap": None, "note": str(exc)}  # fmt: skip


@router.get("/api/trajectories")
def paths(
    request: Request, name: RunParam, episodes: Annotated[int, Query(ge=1, le=50)] = 10
) -> dict[str, Any]:
    """The latest training episodes' paths, coloured by speed on the page."""
    return trajectories(_board(request).catalog.path(name), episodes)


@router.get("/api/actions")
def actions(request: Request, name: RunParam) -> dict[str, Any]:
    """How often each action was taken lately (empty, with a note, without an action space)."""
    path = _board(request).catalog.path(name)
    try:
        return action_usage(path)
    except NotAvailable as exc:
        return {"continuous": False, "total": 0, "actions": [], "steering": [], "speed": [],
                "note": str(exc)}  # fmt: skip


@router.get("/api/trial")
def trial(request: Request, name: RunParam, stamp: Stamp, trial: Trial) -> dict[str, Any]:
    """One evaluation trial's poses, for the camera player."""
    board = _board(request)
    path = board.catalog.path(name)
    poses = board.poses(path, stamp, trial)
    return {
        "frames": poses.frames,
        "fps": 15.0,
        "width": 160,
        "height": 120,
        **vars(poses),
        "track": track_view(path),
    }


@router.get("/api/frame")
def frame(
    request: Request,
    name: RunParam,
    stamp: Stamp,
    trial: Trial,
    frame: Annotated[int, Query(ge=0, le=1_000_000)],
) -> Response:
    """The camera frame (PNG) at one pose of a trial."""
    board = _board(request)
    path = board.catalog.path(name)
    poses = board.poses(path, stamp, trial)
    if frame >= poses.frames:
        raise NotAvailable(f"trial {trial} has {poses.frames} frames, not {frame + 1}")
    png = board.frames.png(path, poses.x[frame], poses.y[frame], poses.yaw[frame])
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/api/export")
def export(
    request: Request, name: RunParam, file: Annotated[str, Query(min_length=1, max_length=255)]
) -> Response:
    """A download of one entry of the run's ``export/`` (a folder as a .tar.gz)."""
    path = _board(request).catalog.path(name)
    entry = next((e for e in _exports(name, path) if e["name"] == file), None)
    if entry is None:
        raise NotAvailable(f"no export named {file!r} in this run's export/ folder")
    target = RunFiles(path).exports / entry["name"]
    if target.is_file():
        return FileResponse(target, filename=target.name, media_type="application/gzip")
    return StreamingResponse(
        _tar_stream(target),
        media_type="application/gzip",
        headers={"Content-Disposition": f'attachment; filename="{target.name}.tar.gz"'},
    )


@dataclass(frozen=True)
class _LiveState:
    """What a live event reports of a run, read in a worker thread."""

    status: str
    episodes: Episodes
    progress: dict[str, Any] | None
    evaluations: list[dict[str, Any]]
    evaluations_changed: int
    folders: int
    exports: int


def _live_state(board: _Dashboard, name: str, path: Path) -> _LiveState:
    warnings: list[str] = []
    files = RunFiles(path)
    try:
        changed = files.evaluations.stat().st_mtime_ns
    except OSError:
        changed = 0
    return _LiveState(
        status=board.summaries.summary(name, path).status,
        episodes=board.reader(path).read(),
        progress=_progress(path, warnings),
        evaluations=_evaluations(path, warnings),
        evaluations_changed=changed,
        folders=len(files.evaluation_folders()),
        exports=len(_exports(name, path)),
    )
