"""The lock: both README set-up commands install from constraints.txt, which covers them.

``constraints.txt`` is written by ``.ci/lock`` from an environment that passed the
suite; the README passes it as ``PIP_CONSTRAINT`` so that pip applies it to the
build back end too. These tests fail when a dependency, an extra or a README command
changes without the lock following.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "constraints.txt"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _readme_commands() -> list[str]:
    lines = (ROOT / "README.md").read_text().splitlines()
    commands = [line for line in lines[:10] if line.startswith("python3 -m venv")]
    assert len(commands) == 2, "README.md must start with the two set-up commands"
    return commands


def _readme_extras() -> set[str]:
    extras: set[str] = set()
    for command in _readme_commands():
        for group in re.findall(r'"\.\[([^\]]*)\]"', command):
            extras.update(e.strip() for e in group.split(","))
    return extras


def _lock() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for number, line in enumerate(LOCK.read_text().splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)", line)
        assert match, f"constraints.txt:{number}: expected NAME==VERSION, got {line!r}"
        name = canonicalize_name(match.group(1))
        assert name not in pins, f"constraints.txt:{number}: {name} pinned twice"
        pins[name] = Version(match.group(2))
    return pins


def test_both_readme_commands_install_from_the_lock() -> None:
    for command in _readme_commands():
        install = command.split("&&")[1].strip()
        assert install.startswith("PIP_CONSTRAINT=constraints.txt .venv/bin/pip install -e"), (
            install
        )
    assert _readme_extras() >= {"train", "fast", "dev"}


def test_every_requirement_the_readme_installs_is_pinned_within_its_range() -> None:
    pins = _lock()
    optional = PROJECT["project"]["optional-dependencies"]
    requirements = list(PROJECT["project"]["dependencies"])
    requirements += PROJECT["build-system"]["requires"]
    for extra in sorted(_readme_extras()):
        assert extra in optional, f"README installs extra {extra!r}, which pyproject lacks"
        requirements += optional[extra]
    for text in requirements:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{text}: not in constraints.txt; refresh it with .ci/lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{text}: constraints.txt pins {pins[name]}, outside the range; run .ci/lock"
        )


def test_the_lock_keeps_torch_on_its_cpu_wheel_and_respects_the_holds() -> None:
    pins = _lock()
    assert pins["torch"] < Version("2.14")
    assert not [n for n in pins if n.startswith("nvidia-")]  # a CUDA build crept in
    for line in (ROOT / ".ci" / "lock-holds.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            hold = Requirement(line)
            pinned = pins[canonicalize_name(hold.name)]
            assert hold.specifier.contains(pinned, prereleases=True), (line, pinned)


def _installed_closure(extras: set[str]) -> dict[str, str]:
    """Every installed distribution ``deepracer[extras]`` needs, with its version."""
    found: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    todo: list[tuple[str, frozenset[str]]] = [("deepracer", frozenset(extras))]
    while todo:
        name, wanted = todo.pop()
        if (canonicalize_name(name), wanted) in seen:
            continue
        seen.add((canonicalize_name(name), wanted))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            pytest.fail(f"{name} is required but not installed: install with README command 2")
        found[canonicalize_name(dist.metadata["Name"])] = dist.version
        for text in dist.requires or []:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker and not any(marker.evaluate({"extra": e}) for e in [*wanted, ""]):
                continue
            todo.append((requirement.name, frozenset(requirement.extras)))
    found.pop("deepracer")
    return found


def test_the_installed_environment_is_the_lock() -> None:
    pins = _lock()
    installed = _installed_closure(_readme_extras())
    missing = sorted(set(installed) - set(pins))
    assert not missing, f"installed but not in constraints.txt: {missing}; run .ci/lock"
    differ = {n: (v, str(pins[n])) for n, v in installed.items() if Version(v) != pins[n]}
    assert not differ, (
        f"installed versions differ from constraints.txt (installed, locked): {differ};"
        " install with README command 2, or refresh the lock with .ci/lock"
    )
