"""The plugin kit: field checks, report numbers and tables, deferred runs."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from deepracer.config.loader import from_mapping
from deepracer.errors import ConfigError
from deepracer.plugins import available_plugins, get_plugin
from deepracer.plugins.kit import (
    DeferredRun,
    at_least,
    between,
    markdown_table,
    number,
    percent,
    positive,
)

# --------------------------------------------------------------------------- checks


def test_positive() -> None:
    assert positive(1e-9) is None and positive(3) is None
    assert positive(0) == positive(-1.5) == "a number > 0"


@pytest.mark.parametrize(
    ("check", "good", "bad", "expected"),
    [
        (at_least(500), [500, 501, 1e9], [499, -1], "a number >= 500"),
        (at_least(0), [0, 0.0, 7.5], [-1e-9], "a number >= 0"),
        (at_least(1, "an integer"), [1, 2], [0], "an integer >= 1"),
        (at_least(0.5), [0.5], [0.49], "a number >= 0.5"),
        (between(0.05, 0.5), [0.05, 0.2, 0.5], [0.04, 0.51], "a number from 0.05 to 0.5"),
        (between(2, 1024), [2, 1024], [1, 1025], "a number from 2 to 1024"),
        (
            between(200, 100_000, "an integer", interval=True),
            [200, 100_000],
            [199, 100_001],
            "an integer in [200, 100000]",
        ),
        (between(0.01, 0.5, interval=True), [0.01], [0.6], "a number in [0.01, 0.5]"),
        (between(0, 2_000_000), [1], [-1], "a number from 0 to 2000000"),
    ],
)
def test_checks_accept_the_range_and_say_what_they_expected(
    check: object, good: list[float], bad: list[float], expected: str
) -> None:
    assert callable(check)
    assert all(check(v) is None for v in good)
    assert all(check(v) == expected for v in bad)


@dataclass(frozen=True, kw_only=True)
class _Section:
    users: int = field(default=1000, metadata={"check": at_least(500)})
    share: float = field(default=0.2, metadata={"check": between(0.05, 0.5)})
    folds: int = field(default=10, metadata={"check": between(2, 50, "an integer", interval=True)})
    rate: float = field(default=1.0, metadata={"check": positive})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"users": 10}, "exp.yaml: demo.users: expected a number >= 500, got 10"),
        ({"share": 0.9}, "exp.yaml: demo.share: expected a number from 0.05 to 0.5, got 0.9"),
        ({"folds": 1}, "exp.yaml: demo.folds: expected an integer in [2, 50], got 1"),
        ({"rate": 0}, "exp.yaml: demo.rate: expected a number > 0, got 0"),
    ],
)
def test_the_loader_names_the_file_the_field_and_what_was_expected(
    data: dict[str, float], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        from_mapping(_Section, data, source="exp.yaml", prefix="demo")
    assert str(info.value) == message
    assert from_mapping(_Section, {}, source="exp.yaml", prefix="demo") == _Section()


# --------------------------------------------------------------------------- report numbers


@pytest.mark.parametrize(
    ("value", "digits", "shown"),
    [
        (0.73149, 3, "0.731"),
        (0.25, 4, "0.2500"),
        (12, 3, "12"),
        (2.0, 1, "2.0"),
        (None, 3, "-"),
        (math.nan, 3, "-"),
        (math.inf, 1, "-"),
    ],
)
def test_number(value: float | None, digits: int, shown: str) -> None:
    assert number(value, digits) == shown


def test_number_takes_numpy_floats() -> None:
    np = pytest.importorskip("numpy")
    assert number(np.float64(0.5)) == "0.500" and number(np.float64("nan")) == "-"
    assert percent(np.float64(0.123)) == "12.3 %"


@pytest.mark.parametrize(
    ("value", "digits", "signed", "shown"),
    [
        (0.123, 1, False, "12.3 %"),
        (1, 1, False, "100.0 %"),
        (0.5, 0, False, "50 %"),
        (0.04, 1, True, "+4.0 %"),
        (-0.04, 1, True, "-4.0 %"),
        (None, 1, False, "-"),
        (math.nan, 1, True, "-"),
    ],
)
def test_percent(value: float | None, digits: int, signed: bool, shown: str) -> None:
    assert percent(value, digits, signed=signed) == shown


# --------------------------------------------------------------------------- tables


def test_markdown_table() -> None:
    table = markdown_table(["model", "AUC", "note"], [("logit", 0.7, ""), ["rf", 1, "a|b\nc"]])
    assert table.splitlines() == [
        "| model | AUC | note |",
        "|---|---|---|",
        "| logit | 0.7 | |",
        "| rf | 1 | a\\|b c |",
    ]
    assert markdown_table(["a"], []) == "| a |\n|---|"


def test_a_row_of_the_wrong_width_is_an_error() -> None:
    with pytest.raises(ValueError, match="a row of 1 cells under 2 columns"):
        markdown_table(["a", "b"], [["only one"]])


# --------------------------------------------------------------------------- deferred run


def test_a_deferred_run_imports_its_module_when_called(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "kit_demo_runner.py").write_text(
        "def run(config, context):\n    return (config, context)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "kit_demo_runner", raising=False)
    run = DeferredRun("kit_demo_runner")
    assert "kit_demo_runner" not in sys.modules
    assert run("config", "context") == ("config", "context")  # type: ignore[arg-type]
    assert "kit_demo_runner" in sys.modules
    monkeypatch.delitem(sys.modules, "kit_demo_runner")


@pytest.mark.parametrize("name", sorted(available_plugins()))
def test_every_plugin_defers_to_a_module_that_defines_run(name: str) -> None:
    """A typo in a module name would only show when the experiment runs."""
    plugin = get_plugin(name)
    assert isinstance(plugin.run, DeferredRun), plugin.run
    assert plugin.run.module.startswith(f"deepracer.plugins.{name}.")
    spec = importlib.util.find_spec(plugin.run.module)
    assert spec is not None and spec.origin is not None, plugin.run.module
    assert "\ndef run(" in Path(spec.origin).read_text(encoding="utf-8"), plugin.run.module


def test_listing_plugins_imports_no_heavy_dependency() -> None:
    """The kit and every plugin's package load without their experiment's libraries."""
    code = (
        "import sys, deepracer, deepracer.plugins, deepracer.plugins.kit\n"
        "from deepracer.plugins import available_plugins, get_plugin\n"
        "for name in available_plugins(): get_plugin(name)\n"
        "heavy = ['sklearn', 'torch', 'transformers', 'lightgbm', 'onnxruntime', 'imblearn',"
        " 'skimage', 'cv2', 'boto3', 'vaderSentiment', 'matplotlib', 'pandas', 'duckdb']\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
