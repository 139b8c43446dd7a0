"""The dashboard with 50 runs and a 100,000-episode training log: is an update < 200 ms?

Usage: python benchmarks/ui_dashboard.py [--runs 50] [--episodes 100000] [--updates 10]
       [--browser] [--keep DIR]

Writes a runs folder of ``--runs`` runs (the files a training writes: experiment,
preset, progress, evaluations, an evaluation folder, a training log of 500 episodes),
one of which is "training" (this process holds its lock) with a log of ``--episodes``
episodes, and serves it with ``deepracer ui``'s app on uvicorn over loopback. Then it
appends ``--updates`` iterations of 20 episodes to the big log, rewriting the whole file
as the trainer does, and measures:

* the server: the runs list (first and warm), the big run's training series (first
  read, then each update through the incremental reader) against the baseline of a
  full ``json.loads`` of the same file in this process;
* with ``--browser`` (the system's Chromium through Playwright): the page's own time to
  apply each live update to its charts (``window.__drStats``), the first load of the
  runs list and of the big run's page (Plotly.js included), and a refresh of the list.

Prints one line per measure and a ``RESULT`` line (medians, milliseconds).
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from deepracer.runs import RunFiles, RunLock
from deepracer.runs.evaluations import PeriodicEvaluation, write_evaluations
from deepracer.runs.progress import TrainingProgress, write_progress

EXPERIMENT = "worlds: [oval]\nobservation: state\ntrain:\n  total_timesteps: {steps}\n"
PRESET = "algorithm: ppo\nnetwork: mlp\n"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def _row(episode: int) -> dict[str, Any]:
    return {
        "reward_score": episode % 97, "metric_time": 1796600000000 + episode,
        "start_time": 1796600000000, "elapsed_time_in_milliseconds": 5000,
        "episode": episode, "trial": (episode - 1) % 20 + 1, "phase": "training",
        "completion_percentage": episode * 7 % 101,
        "episode_status": "Lap complete" if episode % 9 == 0 else "Off track",
        "world_name": "oval",
    }  # fmt: skip


def _write_log(path: Path, episodes: int) -> None:
    document = {"metrics": [_row(e) for e in range(1, episodes + 1)], "version": 2.0,
                "best_model_metric": "progress"}  # fmt: skip
    tmp = path.with_name(".training_metrics.json.tmp")
    tmp.write_text(json.dumps(document) + "\n")
    tmp.replace(path)  # whole or not at all, as the trainer writes it


def _write_run(run: Path, episodes: int, state: str) -> None:
    files = RunFiles(run)
    run.mkdir(parents=True)
    files.experiment.write_text(EXPERIMENT.format(steps=episodes * 100))
    files.preset.write_text(PRESET)
    _write_log(files.training_metrics, episodes)
    progress = TrainingProgress(
        state, episodes * 60, episodes * 100, episodes, 1800.0, 30.0, time.time()
    )
    write_progress(files.progress, progress)
    evaluations = [
        PeriodicEvaluation(k * 5000, k * 3.0, k * 50, min(100.0, k * 9.0), 1, 3, 12.0, 12.5)
        for k in range(1, 20)
    ]
    write_evaluations(files.evaluations, evaluations)
    folder = files.claim_evaluation_folder(1796600000.0)
    (folder / "evaluation_metrics.json").write_text(json.dumps({"metrics": [
        {"trial": 1, "completion_percentage": 100, "episode_status": "Lap complete",
         "elapsed_time_in_milliseconds": 11800}]}))  # fmt: skip


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(root: Path) -> tuple[Any, threading.Thread, str]:
    import uvicorn

    from deepracer.ui.app import create_app

    port = _free_port()
    config = uvicorn.Config(create_app(root), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


def _timed(client: httpx.Client, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url)
    response.raise_for_status()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--episodes", type=int, default=100_000)
    parser.add_argument("--updates", type=int, default=10)
    parser.add_argument("--browser", action="store_true")
    parser.add_argument("--keep", type=Path, default=None, help="write the runs here and keep them")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="ui-bench-"))
    big = root / "big-run"
    for k in range(args.runs - 1):
        _write_run(root / f"run-{k:02d}", 500, "finished")
    _write_run(big, args.episodes, "training")
    size = RunFiles(big).training_metrics.stat().st_size / 1e6
    print(f"{args.runs} runs in {root}; big-run's log: {args.episodes:,} episodes, {size:.1f} MB")
    lock = RunLock(big)
    lock.acquire()  # the big run is "training": its page streams
    server, thread, base = _serve(root)
    results: dict[str, float] = {}
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            results["runs_first"] = _timed(client, "/api/runs")
            results["runs_warm"] = statistics.median(_timed(client, "/api/runs") for _ in range(20))
            results["training_first"] = _timed(client, "/api/training?run=big-run")
            episodes = args.episodes
            updates, baseline = [], []
            for _ in range(args.updates):
                episodes += 20
                _write_log(RunFiles(big).training_metrics, episodes)
                updates.append(_timed(client, f"/api/training?run=big-run&since={episodes - 20}"))
                start = time.perf_counter()
                json.loads(RunFiles(big).training_metrics.read_bytes())
                baseline.append((time.perf_counter() - start) * 1000)
            results["update_server"] = statistics.median(updates)
            results["full_parse_baseline"] = statistics.median(baseline)
        if args.browser:
            results.update(_browser(base, big, episodes, args.updates))
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        lock.release()
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    for key, value in results.items():
        print(f"{key:>22}: {value:8.1f} ms")
    ratio = results["update_server"] / results["full_parse_baseline"]
    print(f"an update's server time is {ratio:.3f}x a full parse of the log (same process)")
    print("RESULT " + json.dumps({k: round(v, 1) for k, v in results.items()}))


def _until(page: Any, expression: str, timeout: float = 60.0) -> None:
    """Polls ``expression`` (the page's CSP forbids ``wait_for_function``'s eval)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true after {timeout:.0f} s: {expression}")
        page.wait_for_timeout(20)


def _browser(base: str, big: Path, episodes: int, updates: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    found: dict[str, float] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=CHROMIUM_FLAGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        start = time.perf_counter()
        page.goto(base + "/")
        _until(page, "document.querySelectorAll('tr[data-run]').length > 0")
        found["page_runs_list"] = (time.perf_counter() - start) * 1000
        # The list refreshes every 5 s: one refresh's fetch and JSON parse, in the page.
        refresh = "(async () => { const t = performance.now();"
        refresh += " await (await fetch('/api/runs')).json(); return performance.now() - t; })()"
        found["page_runs_refresh"] = statistics.median(page.evaluate(refresh) for _ in range(10))
        start = time.perf_counter()
        page.goto(base + "/#/run/big-run")
        page.get_by_test_id("training-chart").locator(".main-svg").first.wait_for(timeout=60000)
        found["page_run_first_load"] = (time.perf_counter() - start) * 1000
        _until(page, "window.__drStats && window.__drStats.updates >= 1")
        times = []
        for _ in range(updates):
            seen = page.evaluate("window.__drStats.updates")
            episodes += 20
            _write_log(RunFiles(big).training_metrics, episodes)
            _until(page, f"window.__drStats.updates > {seen}")
            times.append(float(page.evaluate("window.__drStats.lastUpdateMs")))
        found["page_update"] = statistics.median(times)
        found["page_update_max"] = max(times)
        browser.close()
    return found


if __name__ == "__main__":
    main()
