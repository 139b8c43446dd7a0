"""The package's import structure: no cycles, no upward imports, no core -> plugins.

Every import counts, the lazy ones inside functions included (an import that runs
only sometimes is still a dependency); imports under ``if TYPE_CHECKING:`` do not.
The graph is built by grimp from the source, nothing is imported.

The layers, lowest first, are :data:`LAYERS`: a module may import its own package,
and any package of a lower layer; packages that share a layer are independent of
each other. The command layer (``*.commands`` modules, ``deepracer.cli``,
``__main__`` modules, and the ``if __name__ == "__main__":`` block of any module:
what runs only as a program) sits on top of everything and may import anything, but
nothing below imports it.
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
from pathlib import Path

import grimp
import pytest

PACKAGE = "deepracer"

LAYERS: tuple[tuple[str, ...], ...] = (
    # Plumbing with no deepracer imports, then what only needs it.
    ("errors", "io", "tables"),
    ("config",),
    # The world: tracks, logs, the car, its compiled kernels, pictures and rewards.
    ("tracks", "logs"),
    ("physics",),
    ("accel",),
    ("rendering", "rewards"),
    # The gymnasium environment, and the package facade that registers it.
    ("envs",),
    ("",),
    # What a run is made of: racing lines, the experiment file, presets and networks.
    ("raceline", "experiment", "models"),
    # The simulation application's files, written from an experiment.
    ("simapp",),
    # The run directory and its signature, then what drives a run's model, then what
    # trains one.
    ("runs",),
    ("trust",),
    ("evaluation",),
    ("training",),
    # Consumers of finished runs, the cloud, and the plugins on top.
    ("analysis", "export", "sweep"),
    ("cloud",),
    ("plugins",),
    # The dashboard reads every kind of run, the plugins' included.
    ("ui",),
)
"""Subpackages (and top-level modules) of ``deepracer``, lowest layer first; ``""`` is
the package itself (``deepracer/__init__.py``: the public facade)."""


def _is_command(module: str) -> bool:
    """Is ``module`` in the command layer, which may import anything?"""
    parts = module.split(".")
    return "commands" in parts or parts[-1] == "__main__" or module == f"{PACKAGE}.cli"


def _name(layer_entry: str) -> str:
    return f"{PACKAGE}.{layer_entry}" if layer_entry else PACKAGE


def _owner(module: str) -> str:
    """The entry of :data:`LAYERS` that ``module`` belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _layer_of() -> dict[str, int]:
    return {entry: i for i, layer in enumerate(LAYERS) for entry in layer}


def _source(module: str) -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    assert spec is not None and spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*module.split(".")[1:])
    module_file = path.with_suffix(".py")  # a data folder may share a module's name
    return module_file if module_file.is_file() else path / "__init__.py"


def _script_lines(module: str) -> set[int]:
    """The lines of ``module``'s ``if __name__ == "__main__":`` blocks."""
    text = _source(module).read_text(encoding="utf-8")
    if "__main__" not in text:
        return set()
    return {
        line
        for node in ast.parse(text).body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "__name__ == '__main__'"
        for line in range(node.lineno, (node.end_lineno or node.lineno) + 1)
    }


def _build() -> grimp.ImportGraph:
    # No cache: a stale one would hide the very import a test is about.
    graph = grimp.build_graph(PACKAGE, exclude_type_checking_imports=True, cache_dir=None)
    # A module's ``__main__`` block belongs to the command layer: it runs only when
    # the module is the program (``python -m``), never when the module is imported.
    for module in sorted(graph.modules):
        script = _script_lines(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module) if script else ()):
            details = graph.get_import_details(importer=module, imported=imported)
            if details and all(detail["line_number"] in script for detail in details):
                graph.remove_import(importer=module, imported=imported)
    return graph


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    """Every module of the package, the command layer included."""
    return _build()


@pytest.fixture(scope="module")
def core_graph() -> grimp.ImportGraph:
    """The package without its command layer."""
    core = _build()
    for module in sorted(core.modules):
        if _is_command(module):
            core.remove_module(module)
    return core


def _where(graph: grimp.ImportGraph, importer: str, imported: str) -> str:
    details = graph.get_import_details(importer=importer, imported=imported)
    if not details:
        return f"{importer} -> {imported}"
    first = details[0]
    return f"{importer}:{first['line_number']} {first['line_contents']!r}"


def _chain_text(graph: grimp.ImportGraph, chain: tuple[str, ...]) -> str:
    links = [_where(graph, a, b) for a, b in itertools.pairwise(chain)]
    return " -> ".join(chain) + "\n      " + "\n      ".join(links)


def test_the_layers_name_every_part_of_the_package(graph: grimp.ImportGraph) -> None:
    layer_of = _layer_of()
    entries = [entry for layer in LAYERS for entry in layer]
    assert len(entries) == len(set(entries)), "a package appears in two layers"
    unplaced = sorted({_owner(m) for m in graph.modules if not _is_command(m)} - set(layer_of))
    assert not unplaced, f"put these in a layer of tests/test_imports.py: {unplaced}"
    missing = sorted(_name(e) for e in entries if _name(e) not in graph.modules)
    assert not missing, f"LAYERS names what the package no longer has: {missing}"


def test_no_module_imports_lead_back_to_it(graph: grimp.ImportGraph) -> None:
    cycles: dict[frozenset[str], tuple[str, ...]] = {}
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                cycle = (importer, *back)
                cycles.setdefault(frozenset(cycle), cycle)
    assert not cycles, "import cycles:\n" + "\n".join(
        "  " + _chain_text(graph, cycle) for cycle in cycles.values()
    )


def _modules(graph: grimp.ImportGraph, entry: str) -> list[str]:
    """The modules of one entry of :data:`LAYERS` (the root: just ``deepracer``)."""
    name = _name(entry)
    return sorted({name} | (graph.find_descendants(name) if entry else set()))


def _shortest_chain(graph: grimp.ImportGraph, lower: str, upper: str) -> tuple[str, ...] | None:
    """The shortest import chain from a module of ``lower`` to one of ``upper``."""
    if lower and upper:
        return graph.find_shortest_chain(
            importer=_name(lower), imported=_name(upper), as_packages=True
        )
    # The root package holds every other entry: compare its own module alone.
    chains = [
        graph.find_shortest_chain(importer=importer, imported=imported)
        for importer in _modules(graph, lower)
        for imported in _modules(graph, upper)
    ]
    found = [chain for chain in chains if chain is not None]
    return min(found, key=len) if found else None


def test_no_layer_imports_a_higher_one_or_a_sibling(core_graph: grimp.ImportGraph) -> None:
    layer_of = _layer_of()
    entries = [entry for layer in LAYERS for entry in layer]
    problems = []
    for lower in entries:
        for upper in entries:
            if lower == upper or layer_of[lower] > layer_of[upper]:
                continue
            chain = _shortest_chain(core_graph, lower, upper)
            if chain is not None:
                how = "a sibling" if layer_of[lower] == layer_of[upper] else "a higher layer"
                problems.append(
                    f"  {_name(lower)} imports {how}, {_name(upper)}:\n    "
                    + _chain_text(core_graph, chain)
                )
    assert not problems, "upward imports (see LAYERS in tests/test_imports.py):\n" + "\n".join(
        problems
    )


def test_nothing_below_the_command_layer_imports_it(graph: grimp.ImportGraph) -> None:
    commands = sorted(m for m in graph.modules if _is_command(m))
    problems = []
    for module in commands:
        for importer in sorted(graph.find_modules_that_directly_import(module)):
            if not _is_command(importer):
                problems.append("  " + _where(graph, importer, module))
    assert not problems, "core modules importing command modules:\n" + "\n".join(problems)


def test_the_core_never_imports_a_plugin(graph: grimp.ImportGraph) -> None:
    # Through the full graph: a core module that reaches a plugin through a command
    # module still loads the plugin (``evaluate --announce`` is a hook the speech
    # plugin registers, not an import of it).
    plugins = sorted({f"{PACKAGE}.plugins"} | graph.find_descendants(f"{PACKAGE}.plugins"))
    users = graph.find_downstream_modules(f"{PACKAGE}.plugins", as_package=True)
    core = sorted(m for m in users - set(plugins) if not _is_command(m))
    problems = []
    for module in core:
        chains = [graph.find_shortest_chain(importer=module, imported=p) for p in plugins]
        chain = min((c for c in chains if c is not None), key=len)
        problems.append("  " + _chain_text(graph, chain))
    assert not problems, "core modules that import plugins:\n" + "\n".join(problems)
