"""The user data folders ship inside the wheel and resolve the same from it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from deepracer.config.resources import DATA_KINDS, available
from deepracer.tracks.catalog import ROUTES_DIR

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("hatchling")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("deepracer-*.whl")
    return path


def test_wheel_contains_every_data_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for kind in DATA_KINDS:
        for file in (ROOT / kind).iterdir():
            if file.is_file():
                assert f"deepracer/_data/{kind}/{file.name}" in names
    routes = {n for n in names if n.endswith(".npy")}
    assert routes == {f"deepracer/tracks/routes/{p.name}" for p in ROUTES_DIR.glob("*.npy")}
    assert len(routes) == 127
    for notice in ("LICENSE", "NOTICE", "SOURCE.md"):  # Apache-2.0 redistribution terms
        assert f"deepracer/tracks/routes/{notice}" in names
    for page in ("index.html", "app.js", "app.css"):  # `deepracer ui`'s page
        assert f"deepracer/ui/static/{page}" in names


def test_installed_wheel_resolves_the_same_names(wheel: Path, tmp_path: Path) -> None:
    zipfile.ZipFile(wheel).extractall(tmp_path)
    code = (
        "from deepracer.config.resources import available, data_dir;"
        "print(data_dir('envs'));print(','.join(available('envs')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": ""},
        check=True,
        capture_output=True,
        text=True,
    )
    folder, names = result.stdout.splitlines()
    assert Path(folder) == tmp_path / "deepracer" / "_data" / "envs"
    assert names.split(",") == available("envs")


def test_installed_wheel_resolves_every_track_by_name(wheel: Path, tmp_path: Path) -> None:
    zipfile.ZipFile(wheel).extractall(tmp_path)
    code = (
        "from deepracer.tracks import get_track, list_tracks;"
        "t = get_track('2022_summit_speedway');"
        "print(t.source); print(len(list_tracks()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": ""},  # no DEEPRACER_TRACKS_PATH
        check=True,
        capture_output=True,
        text=True,
    )
    source, count = result.stdout.splitlines()
    assert Path(source) == tmp_path / "deepracer" / "tracks" / "routes" / "2022_summit_speedway.npy"
    assert int(count) >= 130
