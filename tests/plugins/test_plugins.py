"""The plugin system: registry, entry points of an installed package, run directories."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deepracer import plugins
from deepracer.cli import main as cli
from deepracer.errors import ConfigError
from deepracer.plugins import Plugin, PluginResult, Reference, RunContext, register_plugin


@dataclass(frozen=True, kw_only=True)
class CountConfig:
    count: int = 3
    scale: float = 1.0


def _count(config: CountConfig, context: RunContext) -> PluginResult:
    import numpy as np

    values = np.random.default_rng(context.seed).normal(size=config.count) * config.scale
    context.write_json("values.json", values)
    return PluginResult(
        metrics={"mean": float(values.mean()), "count": config.count},
        report="Counted.\n",
    )


COUNTER = Plugin(
    name="counter",
    description="draws numbers",
    config=CountConfig,
    run=_count,
    article="A made-up article",
    references=(Reference("Mean", "0.0", metric="mean"), Reference("Speed", "fast")),
)


@pytest.fixture
def counter() -> Iterator[None]:
    register_plugin("counter", COUNTER)
    yield
    plugins._registered.pop("counter", None)
    plugins._reset_registry()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_a_registered_plugin_runs_into_a_run_directory(counter: None, tmp_path: Path) -> None:
    path = _write(tmp_path, "kind: counter\nseed: 4\ncounter:\n  count: 5\n")
    out = tmp_path / "run"
    assert cli(["run", str(path), "--out", str(out), "--set", "counter.scale=2"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["kind"] == "counter" and metrics["seed"] == 4
    assert metrics["metrics"]["count"] == 5 and "seconds" in metrics["metrics"]
    assert len(json.loads((out / "values.json").read_text())) == 5
    report = (out / "report.md").read_text()
    assert "| Mean | 0.0 |" in report and "| Speed | fast | - |" in report
    assert "A made-up article" in report and "Counted." in report
    resolved = (out / "experiment.yaml").read_text()
    assert "scale: 2" in resolved and "name: exp" in resolved
    # Same seed, same numbers.
    again = tmp_path / "again"
    assert cli(["run", str(path), "--out", str(again), "--set", "counter.scale=2"]) == 0
    assert (again / "values.json").read_text() == (out / "values.json").read_text()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("kind: counter\ncounter:\n  cuont: 3\n", "counter: unknown key 'cuont'. Did you mean"),
        ("kind: counter\nseeed: 3\n", "Did you mean 'seed'?"),
        ("kind: countr\n", "Did you mean 'counter'?"),
        ("worlds: [oval]\n", "deepracer train"),
        ("kind: counter\nbackend: cloud\n", "backend"),
    ],
)
def test_bad_experiments_name_the_field(
    counter: None, tmp_path: Path, text: str, words: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=str(path)) as info:
        plugins.load_plugin_experiment(path)
    assert words in str(info.value)


def test_a_non_empty_run_dir_is_refused(
    counter: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "kind: counter\n")
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert cli(["run", str(path), "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "mine"


DUMMY_PYPROJECT = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "deepracer-dummy-plugin"
version = "0.1.0"

[project.entry-points."deepracer.experiments"]
dummy = "dummy_plugin:plugin"
broken = "dummy_plugin:missing"

[tool.hatch.build.targets.wheel]
packages = ["dummy_plugin"]
"""

DUMMY_MODULE = """
from dataclasses import dataclass

from deepracer.plugins import Plugin, PluginResult


@dataclass(frozen=True, kw_only=True)
class Config:
    word: str = "hello"


def run(config, context):
    context.write_text("word.txt", config.word)
    return PluginResult(metrics={"length": len(config.word)}, report=config.word)


plugin = Plugin(name="dummy", description="a dummy plugin", config=Config, run=run)
"""


def test_an_installed_package_registers_through_entry_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "src"
    (source / "dummy_plugin").mkdir(parents=True)
    (source / "pyproject.toml").write_text(DUMMY_PYPROJECT)
    (source / "dummy_plugin" / "__init__.py").write_text(DUMMY_MODULE)
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--target", str(site), str(source)],
        check=True,
    )  # fmt: skip
    monkeypatch.syspath_prepend(str(site))
    plugins._reset_registry()
    try:
        assert "dummy" in plugins.available_plugins()
        assert "dummy_plugin" not in sys.modules  # listed, not imported
        assert cli(["plugins", "list"]) == 0
        listing = capsys.readouterr().out
        assert "a dummy plugin" in listing
        # One broken package does not hide the others.
        assert "broken" in listing and "failed to load: AttributeError" in listing
        path = _write(tmp_path, "kind: dummy\ndummy:\n  word: racing\n")
        assert cli(["run", str(path), "--out", str(tmp_path / "run")]) == 0
        assert (tmp_path / "run" / "word.txt").read_text() == "racing"
        metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
        assert metrics["metrics"]["length"] == 6
    finally:
        sys.modules.pop("dummy_plugin", None)
        plugins._reset_registry()


def test_the_docs_example_plugin_runs(tmp_path: Path) -> None:
    import re

    text = (Path(__file__).resolve().parents[2] / "docs" / "plugins.md").read_text()
    namespace: dict[str, object] = {}
    exec(compile(re.findall(r"```python\n(.*?)```", text, re.S)[0], "docs", "exec"), namespace)
    register_plugin("echo", namespace["plugin"])  # type: ignore[arg-type]
    try:
        experiment, plugin = plugins.experiment_from_data(
            {"kind": "echo", "echo": {"words": 4}}, source="docs"
        )
        result = plugins.run_experiment(experiment, plugin, tmp_path / "run", argv=["t"])
        assert result.metrics["words"] == 4
        assert (tmp_path / "run" / "words.json").is_file()
    finally:
        plugins._registered.pop("echo", None)
        plugins._reset_registry()


def test_a_context_client_comes_from_the_aws_layer_and_names_aws_region(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("boto3")
    from deepracer.errors import DeepRacerError

    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    context = RunContext(run_dir=tmp_path, seed=0, backend="aws", aws=plugins.AwsConfig())
    with pytest.raises(DeepRacerError, match=r"^no AWS region for comprehend: set aws\.region"):
        context.client("comprehend")
    context.aws = plugins.AwsConfig(region="eu-west-1")
    client = context.client("comprehend")
    assert client.meta.region_name == "eu-west-1"
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 6}
