"""The user data folders ship inside the wheel and resolve the same from it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from deepracer.config.resources import DATA_KINDS, available

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
    assert not any(n.endswith(".npy") for n in names)  # route files are never shipped


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
