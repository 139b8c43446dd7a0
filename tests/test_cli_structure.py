"""The command line's structure: cli.py only dispatches, each area's commands live in
its ``commands.py``, and the core does not import plugins."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import deepracer

PACKAGE = Path(deepracer.__file__).resolve().parent
CLI = PACKAGE / "cli.py"


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported(tree: ast.Module) -> set[str]:
    """Every module an import statement names (at any depth: lazy imports count)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_cli_is_a_short_dispatcher() -> None:
    lines = CLI.read_text(encoding="utf-8").splitlines()
    assert len(lines) < 160, f"{CLI} has {len(lines)} lines; commands belong in */commands.py"
    tree = ast.parse("\n".join(lines))
    commands = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert not [name for name in commands if name.startswith("_cmd_")]


def test_only_the_cli_and_commands_modules_use_argparse() -> None:
    offenders = [
        str(path.relative_to(PACKAGE.parent))
        for path, tree in _modules()
        if path != CLI and path.name != "commands.py" and "argparse" in _imported(tree)
    ]
    assert offenders == [], "library modules must not define argparse parsers"


def test_the_core_does_not_import_plugin_packages() -> None:
    plugins = PACKAGE / "plugins"
    # The framework (deepracer.plugins and its commands) is core; the plugins are not.
    framework = {"__init__", "commands"}
    packages = (
        {p.stem for p in plugins.iterdir() if p.is_dir() or p.suffix == ".py"}
        - framework
        - {"__pycache__"}
    )
    assert "speech" in packages
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}: {name}"
        for path, tree in _modules()
        if not path.is_relative_to(plugins)
        for name in sorted(_imported(tree))
        if name.startswith("deepracer.plugins.") and name.split(".")[2] in packages
    ]
    assert offenders == []
