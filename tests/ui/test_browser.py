"""The dashboard in a real browser: the system's headless Chromium, driven by Playwright.

Outside the default run (``pytest -m browser``; ``.ci/run`` installs Debian's chromium
and runs them after the README's test command). Playwright never downloads a browser:
it launches ``/usr/bin/chromium`` (or ``$DEEPRACER_CHROMIUM``). With
``DEEPRACER_SCREENSHOTS=docs/ui`` each view's screenshot is written there.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deepracer.runs import RunFiles
from tests.training.test_trainer import ROOT, TINY_PPO

pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    # The machines have no network: Chromium's own background requests would fail.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Runs long enough to lap the oval, so the pages have laps, a race line and trials.
TRAIN = ["train.total_timesteps=12000", "train.eval_every=4000", "train.checkpoint_every=4000"]


def _chromium() -> str:
    path = os.environ.get("DEEPRACER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        pytest.fail(
            f"no Chromium at {path}: install the distribution's package (apt-get install"
            " chromium) or set DEEPRACER_CHROMIUM; the browser tests never download one"
        )
    return path


def _train(out: Path, *overrides: str, wait: bool = True) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "deepracer.cli", "quickstart" if wait else "train"]
    if not wait:
        command.append("quickstart")
    command += ["--out", str(out)]
    for item in overrides:
        command += ["--set", item]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if wait:
        assert process.wait(timeout=600) == 0, process.stderr.read() if process.stderr else ""
    return process


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser") / "runs"
    _train(root / "speed-progress", *TRAIN)
    _train(root / "centerline", *TRAIN, "reward=centerline")
    broken = shutil.copytree(root / "centerline", root / "half-copied")
    metrics = RunFiles(broken).training_metrics
    metrics.write_bytes(metrics.read_bytes()[:-5000])  # a copy that stopped midway
    return root


class _Server:
    """``deepracer ui``'s app on a free loopback port, in a thread of the test process."""

    def __init__(self, root: Path) -> None:
        import uvicorn

        from deepracer.ui.app import create_app

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = uvicorn.Config(
            create_app(root, poll_seconds=0.25), host="127.0.0.1", port=self.port,
            log_level="warning",
        )  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.server.started, "the dashboard did not start"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(runs: Path) -> Iterator[_Server]:
    running = _Server(runs)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.set_default_timeout(30_000)
    yield opened
    context.close()
    assert not errors, errors  # the page ran without a script error


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("DEEPRACER_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(500)  # let the charts finish their transitions
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _until(page: Any, expression: str, timeout: float = 60.0) -> None:
    """Waits until ``expression`` is true in the page.

    Polls with ``page.evaluate``: Playwright's ``wait_for_function`` compiles its
    argument with ``new Function``, which the dashboard's Content-Security-Policy
    (``script-src 'self'``) forbids, and the tests keep that policy on.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout:.0f} s: {expression}")
        page.wait_for_timeout(100)


def test_the_runs_list_shows_every_run_and_filters(server: _Server, page: Any) -> None:
    page.goto(server.url)
    table = page.get_by_test_id("runs-table")
    table.locator('tr[data-run="speed-progress"]').wait_for()
    assert table.locator("tr[data-run]").count() == 3
    damaged = table.locator('tr[data-run="half-copied"]')
    assert "ends in the middle" in damaged.get_by_test_id("run-warning").get_attribute("title")
    row = table.locator('tr[data-run="centerline"]')
    assert row.get_by_test_id("status").inner_text().strip().lower() == "finished"
    _shot(page, "runs")
    page.get_by_test_id("filter").fill("speed")
    _until(page, "document.querySelectorAll('tr[data-run]').length === 1")
    assert table.locator('tr[data-run="speed-progress"]').is_visible()
    assert not row.is_visible()


def _episodes(page: Any) -> int:
    text = page.get_by_test_id("episode-count").inner_text().strip()
    return int(text) if text.isdigit() else -1


def test_a_run_being_trained_updates_while_it_trains(
    server: _Server, runs: Path, page: Any
) -> None:
    out = runs / "live"
    trainer = _train(
        out, f"preset={TINY_PPO}", "train.total_timesteps=1000000", "train.n_envs=2",
        "train.eval_every=20000", "train.checkpoint_every=1000000", wait=False,
    )  # fmt: skip
    try:
        metrics = RunFiles(out).training_metrics
        deadline = time.monotonic() + 120
        while not metrics.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        page.goto(server.url + "#/run/live")
        page.get_by_test_id("training-chart").wait_for()
        _until(page, "document.querySelector('[data-testid=episode-count]').innerText.trim() > 0")
        first = _episodes(page)
        _until(
            page,
            f"Number(document.querySelector('[data-testid=episode-count]').innerText) > {first}",
        )  # grown without a reload: the live stream
        assert page.get_by_test_id("status").first.inner_text().strip().lower() == "training"
        # progress.json's rate and ETA, then the newest simtrace's paths, come in live too.
        _until(page, "/^[0-9]/.test(document.querySelector('[data-testid=eta]').innerText)")
        _until(page, "/^[0-9]/.test(document.querySelector('[data-testid=steps-per-second]')"
                     ".innerText)")  # fmt: skip
        _until(page, "document.querySelectorAll('[data-testid=track-chart] .scatterlayer .trace')"
                     ".length > 5")  # fmt: skip
        _shot(page, "training")
    finally:
        trainer.send_signal(signal.SIGINT)
        trainer.wait(timeout=120)
    _until(
        page,
        "document.querySelector('[data-testid=status]').innerText.toLowerCase().includes('stopped')",
    )


def test_a_run_page_draws_the_track_the_trials_and_the_exports(server: _Server, page: Any) -> None:
    page.goto(server.url + "#/run/centerline")
    for testid in ("training-chart", "evaluation-chart", "track-chart", "actions-chart"):
        page.get_by_test_id(testid).locator(".main-svg").first.wait_for()
    page.get_by_test_id("evaluations").get_by_test_id("play-trial").first.wait_for()
    assert _episodes(page) > 0
    _shot(page, "run")


def test_a_damaged_run_shows_its_warning_and_the_rest_of_its_page(
    server: _Server, page: Any
) -> None:
    page.goto(server.url + "#/run/half-copied")
    warnings = page.get_by_test_id("run-warnings")
    warnings.wait_for()
    assert "training_metrics.json: ends in the middle" in warnings.inner_text()
    for testid in ("training-chart", "track-chart", "actions-chart"):
        page.get_by_test_id(testid).locator(".main-svg").first.wait_for()
    assert _episodes(page) > 0


def test_the_compare_view_overlays_two_runs(server: _Server, page: Any) -> None:
    page.goto(server.url)
    table = page.get_by_test_id("runs-table")
    for name in ("speed-progress", "centerline"):
        table.locator(f'tr[data-run="{name}"] input[type=checkbox]').check()
    page.get_by_test_id("compare-button").click()
    chart = page.get_by_test_id("compare-chart")
    chart.locator(".main-svg").first.wait_for()
    legend = [text.text_content() for text in chart.locator(".legendtext").all()]
    assert {"speed-progress", "centerline"} <= set(legend)
    page.get_by_test_id("compare-track").locator(".main-svg").first.wait_for()
    _shot(page, "compare")


def test_a_trials_camera_view_plays(server: _Server, runs: Path, page: Any) -> None:
    import httpx

    # The centre-line run laps the oval by now: its longest trial goes round the track.
    run = httpx.get(server.url + "api/run", params={"name": "centerline"}).json()
    [folder] = run["trials"]
    longest = max(folder["trials"], key=lambda t: t["frames"])  # the one that went furthest
    url = f"#/run/centerline/trial/{folder['stamp']}/{longest['trial']}"
    page.goto(server.url + url)
    page.get_by_test_id("camera-frame").wait_for()
    page.get_by_test_id("play-button").click()
    last = min(20, longest["frames"] - 1)
    frame = "Number(document.querySelector('[data-testid=camera-frame]').dataset.frame)"
    _until(page, f"{frame} >= {last}")
    size = page.evaluate(
        "(() => { const i = document.querySelector('[data-testid=camera-frame]');"
        " return [i.naturalWidth, i.naturalHeight]; })()"
    )
    assert size == [160, 120]
    _shot(page, "camera")
