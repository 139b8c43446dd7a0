"""The training images' Dockerfiles agree with the package (Docker cannot run here)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from deepracer.config.resources import DATA_KINDS

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.gpu"])
def test_dockerfile_installs_the_package_and_runs_our_entry_point(name: str) -> None:
    text = (ROOT / "docker" / name).read_text()
    entry = re.search(r"^ENTRYPOINT (\[.*\])$", text, re.MULTILINE)
    assert entry is not None
    (script,) = json.loads(entry.group(1))
    target = PYPROJECT["project"]["scripts"][script]
    assert target == "deepracer.cloud.container:main"
    for source in re.findall(r"^COPY (\S+(?: \S+)*) \S+$", text, re.MULTILINE):
        for path in source.split():
            assert (ROOT / path).exists(), f"{name}: COPY {path}"
    for data in DATA_KINDS:
        assert f"COPY {data} ./{data}" in text  # force-included into the wheel
    extras = re.search(r'"\.\[([a-z,]+)\]"', text)
    assert extras is not None
    assert set(extras.group(1).split(",")) <= set(PYPROJECT["project"]["optional-dependencies"])
    assert {"train", "aws"} <= set(extras.group(1).split(","))


def test_the_gpu_base_torch_is_inside_our_cap() -> None:
    text = (ROOT / "docker" / "Dockerfile.gpu").read_text()
    base = re.search(r"^FROM pytorch/pytorch:(\d+)\.(\d+)\.\d+-cuda", text, re.MULTILINE)
    assert base is not None
    version = (int(base.group(1)), int(base.group(2)))
    (torch,) = [d for d in PYPROJECT["project"]["optional-dependencies"]["train"] if "torch" in d]
    low, high = re.findall(r"(\d+)\.(\d+)", torch)
    assert (int(low[0]), int(low[1])) <= version < (int(high[0]), int(high[1]))


def test_the_cpu_image_never_pulls_cuda_torch() -> None:
    assert "download.pytorch.org/whl/cpu" in (ROOT / "docker" / "Dockerfile").read_text()


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.gpu"])
def test_the_images_install_the_locked_versions(name: str) -> None:
    text = (ROOT / "docker" / name).read_text()
    assert re.search(r"^COPY .*\bconstraints\.txt\b.* \./$", text, re.MULTILINE)
    (install,) = re.findall(r"^RUN (.*?pip install .*?)$", text, re.MULTILINE | re.DOTALL)
    assert "PIP_CONSTRAINT=" in install
    # The GPU image keeps its base's CUDA torch: the lock's CPU torch is left out there.
    assert ("grep -v '^torch==' constraints.txt" in install) == name.endswith(".gpu")
