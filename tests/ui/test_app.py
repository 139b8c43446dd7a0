"""The dashboard's API on a real (tiny) run and its variants: what each route gives,
live updates from the run's files, and how bad requests and damaged runs are met."""

from __future__ import annotations

import io
import json
import math
import shutil
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from deepracer.runs import RunFiles, RunLock
from deepracer.runs.progress import TrainingProgress, write_progress
from deepracer.runs.training_log import FinishedEpisode, TrainingLog
from deepracer.ui.app import create_app
from tests.ui.runs import runs_folder

LOCAL = "http://127.0.0.1"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("stable_baselines3")
    from tests.training.test_trainer import tiny_run

    base = tmp_path_factory.mktemp("ui")
    tiny_run(base / "trained")
    return runs_folder(base / "runs", base / "trained")


@pytest.fixture(scope="module")
def client(root: Path) -> Iterator[TestClient]:
    with TestClient(create_app(root, poll_seconds=0.05), base_url=LOCAL) as test_client:
        yield test_client


def _get(client: TestClient, url: str, **params: Any) -> Any:
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_runs_list_finds_every_run_and_says_what_is_wrong_with_one(
    client: TestClient, root: Path
) -> None:
    listing = _get(client, "/api/runs")
    runs = {r["name"]: r for r in listing["runs"]}
    assert sorted(runs) == [
        "broken",
        "churn-20261207-101010",
        "console-model",
        "drfc-model",
        "quick",
        "sweeps/rewards/trials/reward=centerline-1a2b",
    ]
    quick = runs["quick"]
    assert (quick["kind"], quick["status"], quick["world"], quick["observation"]) == (
        "trained",
        "finished",
        "oval",
        "state",
    )
    metrics = json.loads(RunFiles(root / "quick").training_metrics.read_text())["metrics"]
    episodes = sum(r["phase"] == "training" for r in metrics)
    evaluations = json.loads(RunFiles(root / "quick").evaluations.read_text())
    assert (quick["steps"], quick["total_steps"], quick["episodes"]) == (512, 512, episodes)
    assert quick["best_progress"] == pytest.approx(max(e["mean_progress"] for e in evaluations))
    assert quick["algorithm"] == "ppo" and quick["trusted"] and not quick["warnings"]
    assert quick["raceline_lap"] == 9.5  # the newest evaluation compared with the line
    imported = runs["console-model"]
    assert (imported["kind"], imported["status"], imported["world"]) == (
        "imported",
        "imported",
        "reInvent2019_track",
    )
    assert imported["algorithm"] == "clipped_ppo" and not imported["trusted"]
    drfc = runs["drfc-model"]  # its evaluations are only the metrics' evaluation rows
    assert (drfc["kind"], drfc["status"], drfc["episodes"]) == ("logs", "finished", episodes)
    rows = [r for r in metrics if r["phase"] == "evaluation"]
    assert drfc["best_progress"] == max(r["completion_percentage"] for r in rows)
    assert runs["churn-20261207-101010"]["kind"] == "plugin"
    assert runs["churn-20261207-101010"]["status"] == "done"
    warnings = " ".join(runs["broken"]["warnings"])
    assert "training_metrics.json: ends in the middle of its metrics list" in warnings
    assert "evaluations.json: cannot read it as JSON" in warnings
    broken = _get(client, "/api/training", run="broken")
    assert 0 < broken["total"] < episodes  # the rows before the cut, and a warning
    assert "ends in the middle" in broken["warnings"][0]


def test_a_run_page_has_evaluations_trials_and_exports(client: TestClient, root: Path) -> None:
    page = _get(client, "/api/run", name="quick")
    assert page["summary"]["name"] == "quick" and page["progress"]["state"] == "finished"
    assert [e["timesteps"] for e in page["evaluations"]] == [256, 512]
    [folder] = page["trials"]
    assert len(folder["stamp"]) == 14 and len(folder["trials"]) == 2  # eval.trials=2
    assert all(t["frames"] > 1 and t["status"] for t in folder["trials"])
    exports = {e["name"]: e for e in page["exports"]}
    assert {n: e["kind"] for n, e in exports.items()} == {
        "quick-car.tar.gz": "car",
        "quick-droa": "droa",
    }
    car = client.get(exports["quick-car.tar.gz"]["url"])
    assert car.status_code == 200 and car.content == b"car archive bytes"
    droa = client.get(exports["quick-droa"]["url"])
    with tarfile.open(fileobj=io.BytesIO(droa.content), mode="r:gz") as tar:
        assert tar.getnames() == ["quick-droa/model_metadata.json"]
    plugin = _get(client, "/api/run", name="churn-20261207-101010")["plugin"]
    assert plugin["metrics"]["auc"] == 0.91
    assert "<script>" in plugin["report"]  # sent as text; the page shows it as text


def test_training_series_are_sent_whole_then_from_an_episode_on(
    client: TestClient, root: Path
) -> None:
    whole = _get(client, "/api/training", run="quick")
    rows = json.loads(RunFiles(root / "quick").training_metrics.read_text())["metrics"]
    training = [r for r in rows if r["phase"] == "training"]
    assert whole["total"] == len(training) and whole["bucket"] == 1
    assert whole["episode"] == [r["episode"] for r in training]
    assert whole["progress"] == [r["completion_percentage"] for r in training]
    assert whole["lap"] == [float(r["episode_status"] == "Lap complete") for r in training]
    later = _get(client, "/api/training", run="quick", since=10)
    assert later["episode"] == whole["episode"][10:]


def test_track_trajectories_and_actions_come_from_the_runs_files(client: TestClient) -> None:
    track = _get(client, "/api/track", run="quick")
    assert track["track"] == "oval" and len(track["inner"]) == len(track["outer"]) > 10
    paths = _get(client, "/api/trajectories", run="quick", episodes=3)
    assert len(paths["episodes"]) == 3 and paths["speed_max"] > 0
    last = paths["episodes"][-1]
    assert len(last["x"]) == len(last["y"]) == len(last["speed"]) > 1
    assert all(0 <= s <= paths["speed_max"] for s in last["speed"])
    actions = _get(client, "/api/actions", run="quick")
    assert not actions["continuous"] and len(actions["actions"]) == 10  # two_speed_five_steer
    assert actions["total"] == sum(a["count"] for a in actions["actions"]) > 0


def test_an_imported_model_without_logs_still_has_its_track_and_actions(
    client: TestClient,
) -> None:
    assert _get(client, "/api/track", run="console-model")["track"] == "reInvent2019_track"
    actions = _get(client, "/api/actions", run="console-model")
    assert len(actions["actions"]) == 10 and actions["total"] == 0  # no simtrace yet
    assert _get(client, "/api/training", run="console-model")["total"] == 0
    assert _get(client, "/api/trajectories", run="console-model")["episodes"] == []
    assert _get(client, "/api/run", name="console-model")["trials"] == []


def test_a_camera_frame_is_our_camera_at_the_trials_pose(client: TestClient, root: Path) -> None:
    from PIL import Image

    from deepracer.envs.compare import PoseCamera

    stamp = _get(client, "/api/run", name="quick")["trials"][0]["stamp"]
    trial = _get(client, "/api/trial", run="quick", stamp=stamp, trial=2)
    assert trial["frames"] == len(trial["x"]) > 3 and trial["fps"] == 15
    camera = PoseCamera("oval", None)
    frames = []
    for index in (0, trial["frames"] - 1):
        response = client.get(
            "/api/frame", params={"run": "quick", "stamp": stamp, "trial": 2, "frame": index}
        )
        assert response.status_code == 200 and response.headers["content-type"] == "image/png"
        image = np.asarray(Image.open(io.BytesIO(response.content)))
        x, y, yaw = trial["x"][index], trial["y"][index], math.radians(trial["yaw"][index])
        expected = camera.render(x, y, yaw, model_point=True)
        assert image.shape == (120, 160) and np.abs(image.astype(int) - expected).mean() < 1.0
        frames.append(image)
    assert not np.array_equal(frames[0], frames[1])  # the car moved
    beyond = client.get(
        "/api/frame", params={"run": "quick", "stamp": stamp, "trial": 2, "frame": 10_000}
    )
    assert beyond.status_code == 404 and "frames, not 10001" in beyond.json()["detail"]


@pytest.mark.parametrize(
    ("url", "status", "detail"),
    [
        ("/api/run?name=nope", 404, "no run named 'nope'"),
        ("/api/run?name=../runs/quick", 404, "no run named '../runs/quick'"),
        ("/api/run?name=%2Fetc%2Fpasswd", 404, "no run named '/etc/passwd'"),
        ("/api/run?name=quick%2F..%2F..%2Fui", 404, "no run named"),
        ("/api/run?name=notes", 404, "no run named 'notes'"),
        ("/api/run?name=" + "a" * 5000, 400, "name: String should have at most 512"),
        ("/api/run", 400, "name: Field required"),
        ("/api/training?run=quick&since=-1", 400, "since: Input should be greater than"),
        ("/api/training?run=quick&since=" + "9" * 400, 400, "since: Input should be"),
        ("/api/training?run=quick&since=1e9999", 400, "since: Input should be a valid integer"),
        ("/api/trajectories?run=quick&episodes=100000", 400, "episodes: Input should be less"),
        ("/api/frame?run=quick&stamp=..%2F..&trial=1&frame=0", 400, "stamp: String should match"),
        ("/api/trial?run=quick&stamp=20000101000000&trial=1", 404, "no evaluation folder"),
        ("/api/export?run=quick&file=..%2F..%2Fexperiment.yaml", 404, "no export named"),
        ("/api/export?run=quick&file=experiment.yaml", 404, "no export named"),
        ("/static/..%2F..%2Fui%2Fapp.py", 404, None),
        ("/static/../app.py", 404, None),
    ],
)
def test_a_bad_request_is_a_4xx_with_a_reason_never_a_file_or_traceback(
    client: TestClient, url: str, status: int, detail: str | None
) -> None:
    response = client.get(url)
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text and "def create_app" not in response.text
    if detail is not None:
        assert detail in response.json()["detail"]


def test_links_out_of_a_run_are_never_followed(tmp_path: Path, root: Path) -> None:
    secret = tmp_path / "credentials"
    secret.write_text('{"aws_secret_access_key": "SECRET-123"}')
    runs = tmp_path / "runs"
    plugin = shutil.copytree(root / "churn-20261207-101010", runs / "plugin")
    (plugin / "report.md").unlink()
    (plugin / "report.md").symlink_to(secret)
    trained = shutil.copytree(root / "quick", runs / "trained", symlinks=True)
    files = RunFiles(trained)
    for path in (files.progress, files.evaluations, files.training_metrics):
        path.unlink()
        path.symlink_to(secret)
    newest = list(files.simtrace_files(0, 1).values())[-1]  # sorted by iteration
    newest.unlink()
    newest.symlink_to(secret)
    (runs / "elsewhere").symlink_to(root / "quick", target_is_directory=True)
    droa = files.exports / "quick-droa"
    (droa / "secret.json").symlink_to(secret)
    (droa / "linked").symlink_to(tmp_path, target_is_directory=True)
    with TestClient(create_app(runs), base_url=LOCAL) as client:
        answers = [
            client.get("/api/runs"),
            client.get("/api/run", params={"name": "plugin"}),
            client.get("/api/run", params={"name": "trained"}),
            client.get("/api/training", params={"run": "trained"}),
            client.get("/api/trajectories", params={"run": "trained"}),
            client.get("/api/actions", params={"run": "trained"}),
        ]
        assert client.get("/api/run", params={"name": "elsewhere"}).status_code == 404
        [folder] = [e for e in answers[2].json()["exports"] if e["name"] == "quick-droa"]
        archive = client.get(folder["url"]).content
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            assert tar.getnames() == ["quick-droa/model_metadata.json"]
    assert all(a.status_code == 200 for a in answers)
    assert not any("SECRET-123" in a.text for a in answers)
    runs_list = {r["name"]: r for r in answers[0].json()["runs"]}
    assert sorted(runs_list) == ["plugin", "trained"]  # the linked folder is not a run
    assert "progress.json: a link out of the run; not read" in runs_list["trained"]["warnings"]
    assert "report.md: a link out of the run; not read" in answers[1].json()["warnings"]
    assert answers[3].json()["total"] == 0
    assert "a link out of the run" in answers[3].json()["warnings"][0]
    assert any("a link out of the run" in w for w in answers[4].json()["warnings"])


def test_the_app_is_read_only_and_answers_loopback_hosts_only(client: TestClient) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert client.request(method, "/api/runs").status_code == 405
    # A page elsewhere that rebinds its own name to 127.0.0.1 sends its own Host.
    assert client.get("/api/runs", headers={"host": "attacker.example"}).status_code == 400
    page = client.get("/")
    assert (
        page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    )
    assert client.get("/static/vendor/plotly.min.js").status_code == 200


def test_off_loopback_every_request_needs_the_token(root: Path) -> None:
    token = "t0ken-of-sixteen-or-more"
    with TestClient(create_app(root, token=token), base_url="http://192.0.2.7") as remote:
        assert remote.get("/api/runs").status_code == 401
        assert remote.get("/", params={"token": "wrong-token-value"}).status_code == 401
        bearer = {"authorization": f"Bearer {token}"}
        assert remote.get("/api/runs", headers=bearer).status_code == 200
        first = remote.get("/", params={"token": token})  # the printed link
        assert first.status_code == 200 and "deepracer_ui_token" in first.headers["set-cookie"]
        assert remote.get("/api/runs").status_code == 200  # the cookie from then on


def _episode(progress: float, status: str = "off_track") -> FinishedEpisode:
    return FinishedEpisode(
        steps=[[0] * 19], reward=progress, status=status, progress=progress,
        start_time=time.time(), world="oval",
    )  # fmt: skip


def _events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    event = None
    for line in lines:
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event == "update":
            yield json.loads(line.split(":", 1)[1])


def test_a_live_run_streams_its_new_episodes_until_it_stops(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "live"
    (run).mkdir(parents=True)
    RunFiles(run).experiment.write_text("worlds: [oval]\nobservation: state\n")
    lock = RunLock(run)
    lock.acquire()
    log = TrainingLog(run, episodes_per_iteration=4, simtrace=False)
    for progress in (10.0, 20.0, 30.0, 40.0):
        log.complete(_episode(progress))
    log.flush()

    def progress(state: str) -> None:
        record = TrainingProgress(state, log.episodes * 10, 100, log.episodes, 50.0, 1.0, 0.0)
        write_progress(RunFiles(run).progress, record)

    progress("training")

    def trainer() -> None:  # one more iteration, then the process ends
        time.sleep(0.3)
        for value in (50.0, 60.0, 70.0, 100.0):
            log.complete(_episode(value, "lap_complete" if value == 100.0 else "off_track"))
        log.flush()
        progress("training")
        time.sleep(0.3)
        progress("finished")
        lock.release()

    app = create_app(tmp_path / "runs", poll_seconds=0.05)
    with TestClient(app, base_url=LOCAL) as client:
        thread = threading.Thread(target=trainer)
        thread.start()
        with client.stream("GET", "/api/live", params={"run": "live", "since": 2}) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            events = list(_events(response.iter_lines()))
        thread.join()
    first, last = events[0], events[-1]
    assert first["status"] == "training" and first["new"]["episode"] == [3, 4]
    assert first["new"]["progress"] == [30.0, 40.0]
    sent = [e for ev in events for e in ev["new"]["episode"]]
    assert sent == [3, 4, 5, 6, 7, 8]  # each episode once, in order
    assert [e for ev in events for e in ev["new"]["lap"]][-1] == 1.0
    assert last["status"] == "finished" and last["episodes"] == 8
    assert last["progress"]["state"] == "finished"
