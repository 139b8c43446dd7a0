"""Plugin experiments: neighbouring ML workloads run like our racing experiments.

An experiment file with ``kind: NAME`` runs through ``deepracer run FILE.yaml``::

    kind: churn               # the plugin
    name: churn-demo          # default: the file stem
    description: ...
    seed: 0
    backend: local            # local | aws
    aws: {region: us-east-1}  # used by backend aws
    churn:                    # the plugin's own typed section, named after its kind
      customers: 6000

Plugins are found by name in a plain registry: explicit registrations
(:func:`register_plugin`, for code that is not installed) and the entry-point group
``deepracer.experiments`` (our own plugins register there too), loaded on first
lookup. An entry point names a :class:`Plugin` object (or a no-argument callable
returning one). Plugin code imports its heavy dependencies inside ``run``, so
listing plugins never imports them.

Every run writes into a run directory: ``experiment.yaml`` (resolved),
``metrics.json``, the plugin's plots and files, and ``report.md``, which puts the
run's numbers beside the source article's reference numbers.

Contents:
    Plugin, Reference: what a plugin provides; the article's figures.
    AwsConfig, PluginExperiment: the common experiment schema.
    RunContext: what a plugin's ``run`` gets (run directory, seed, backend, writers).
    PluginResult: what it returns.
    register_plugin, get_plugin, available_plugins: the registry.
    load_plugin_experiment: a YAML file (plus overrides) to a typed experiment.
    run_experiment: run one plugin experiment into a run directory.
    ENTRY_POINT_GROUP: ``deepracer.experiments``.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, Literal

import yaml

from deepracer import __version__
from deepracer.config.loader import from_mapping, load_yaml, to_mapping
from deepracer.config.resources import resolve
from deepracer.errors import ConfigError, DeepRacerError, suggest
from deepracer.io import atomic_write_bytes, atomic_write_text
from deepracer.runs.layout import RunFiles

__all__ = [
    "ENTRY_POINT_GROUP",
    "AwsConfig",
    "Plugin",
    "PluginExperiment",
    "PluginResult",
    "Reference",
    "RunContext",
    "available_plugins",
    "get_plugin",
    "load_plugin_experiment",
    "register_plugin",
    "run_experiment",
]

ENTRY_POINT_GROUP = "deepracer.experiments"


@dataclass(frozen=True)
class Reference:
    """One number from the source article, to put beside ours in the report.

    Attributes:
        name: What it measures (e.g. ``"ROC AUC"``).
        value: The article's figure, as the article states it (e.g. ``"0.68"``).
        metric: The key in ``metrics.json`` that measures the same thing, if any.
    """

    name: str
    value: str
    metric: str | None = None


@dataclass(frozen=True)
class Plugin:
    """A plugin experiment.

    Attributes:
        name: The ``kind`` it answers to.
        description: One line for ``deepracer plugins list``.
        config: The frozen dataclass of its section (unknown keys are rejected).
        run: ``run(config, context) -> PluginResult``.
        article: The source article's title (and where it appeared).
        references: The article's figures the report compares with.
        extra: The pip extra with its dependencies (for error messages).
    """

    name: str
    description: str
    config: type[Any]
    run: Callable[[Any, RunContext], PluginResult]
    article: str = ""
    references: tuple[Reference, ...] = ()
    extra: str = ""


@dataclass(frozen=True, kw_only=True)
class AwsConfig:
    """AWS settings of ``backend: aws`` runs."""

    region: str | None = None
    """AWS region; default: the AWS configuration."""
    endpoint_url: str | None = None
    """A non-AWS endpoint (tests, local emulators)."""
    role: str = ""
    """IAM role ARN, for services that need one."""
    s3: str = ""
    """s3://BUCKET/PREFIX for services that read or write S3."""


@dataclass(frozen=True, kw_only=True)
class PluginExperiment:
    """A plugin experiment file, its section not yet typed."""

    kind: str
    """The plugin's name."""
    name: str = ""
    """Experiment name (default: the file stem)."""
    description: str = ""
    """One line for listings."""
    seed: int = 0
    """Seeds data generation, splits and models."""
    backend: Literal["local", "aws"] = "local"
    """``local`` needs no network; ``aws`` calls the article's AWS service."""
    aws: AwsConfig = field(default_factory=AwsConfig)
    """AWS settings (backend aws)."""
    section: Any = None
    """The plugin's typed section (the key named after ``kind``)."""


@dataclass
class PluginResult:
    """What a plugin run produced.

    Attributes:
        metrics: Numbers (and small lists/dicts of numbers) for ``metrics.json``.
        report: The report's body in Markdown (the header and the reference table
            are added by :func:`run_experiment`).
    """

    metrics: dict[str, Any]
    report: str


@dataclass
class RunContext:
    """What a plugin's ``run`` gets.

    Attributes:
        run_dir: The run directory (exists).
        seed: The experiment's seed.
        backend: ``local`` or ``aws``.
        aws: The AWS settings.
        echo: Progress lines go here (default: stderr).
    """

    run_dir: Path
    seed: int
    backend: str
    aws: AwsConfig
    echo: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr))

    def write_json(self, name: str, data: Any) -> Path:
        """Writes ``data`` as indented JSON into the run directory, atomically."""
        path = self.run_dir / name
        atomic_write_text(path, json.dumps(_jsonable(data), indent=2) + "\n")
        return path

    def write_text(self, name: str, text: str) -> Path:
        """Writes a text file into the run directory, atomically."""
        path = self.run_dir / name
        atomic_write_text(path, text)
        return path

    def save_figure(self, figure: Any, name: str) -> Path:
        """Saves a matplotlib figure as PNG into the run directory and closes it."""
        import io

        import matplotlib.pyplot as plt

        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
        plt.close(figure)
        path = self.run_dir / name
        atomic_write_bytes(path, buffer.getvalue())
        return path

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` with the experiment's region and endpoint.

        Made by :func:`deepracer.cloud.aws.client` (standard retries); its setup
        errors name the experiment's ``aws.region`` and ``aws.endpoint_url``.

        Raises:
            DeepRacerError: boto3 missing or no region configured.
        """
        from deepracer.cloud import aws

        messages = aws.ClientMessages(
            region=(
                "no AWS region for {service}: set aws.region in the experiment, or AWS_REGION"
                " (or a region in ~/.aws/config)"
            ),
            endpoint="aws.endpoint_url: {endpoint_url!r} is not a valid URL for {service}: {error}",
        )
        return aws.client(
            service, region=self.aws.region, endpoint_url=self.aws.endpoint_url, messages=messages
        )


# -- registry ----------------------------------------------------------------------------

_registered: dict[str, Callable[[], Plugin]] = {}
_entry_points: dict[str, EntryPoint] | None = None
_loaded: dict[str, Plugin] = {}


def register_plugin(name: str, factory: Plugin | Callable[[], Plugin]) -> None:
    """Registers a plugin that is not installed (e.g. defined in a notebook or test).

    Args:
        name: The ``kind`` experiments use.
        factory: The plugin, or a no-argument callable returning it.
    """
    if isinstance(factory, Plugin):
        plugin = factory
        _registered[name] = lambda: plugin
    else:
        _registered[name] = factory
    _loaded.pop(name, None)


def _installed() -> dict[str, EntryPoint]:
    global _entry_points
    if _entry_points is None:
        _entry_points = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return _entry_points


def available_plugins() -> dict[str, str]:
    """Every plugin name mapped to where it comes from (``registered`` or a module).

    Nothing is imported: entry points are only listed.
    """
    found = {name: ep.value for name, ep in sorted(_installed().items())}
    found.update({name: "registered" for name in sorted(_registered)})
    return found


def get_plugin(name: str) -> Plugin:
    """Loads a plugin by name (registrations win over entry points).

    Raises:
        ConfigError: No such plugin, or its entry point does not load (a missing
            extra, say); the message says which and what to install.
    """
    if name in _loaded:
        return _loaded[name]
    if name in _registered:
        plugin = _registered[name]()
    elif name in _installed():
        ep = _installed()[name]
        try:
            target = ep.load()
        except ImportError as exc:
            raise ConfigError(
                f"plugin {name!r} ({ep.value}) does not import: {exc}. Its dependencies may"
                " be an extra: pip install 'deepracer[plugins]'"
            ) from None
        except Exception as exc:  # a broken third-party package must not stop the others
            raise ConfigError(
                f"plugin {name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}"
            ) from None
        plugin = target if isinstance(target, Plugin) else target()
    else:
        names = sorted(available_plugins())
        raise ConfigError(
            f"kind: no plugin named {name!r}.{suggest(name, names)} Installed:"
            f" {', '.join(names) or '(none)'} (deepracer plugins list)"
        )
    if not isinstance(plugin, Plugin):
        raise ConfigError(f"plugin {name!r}: the entry point gave {plugin!r}, not a Plugin")
    _loaded[name] = plugin
    return plugin


def _reset_registry() -> None:
    """Forgets loaded plugins and entry points (tests that install packages)."""
    global _entry_points
    _entry_points = None
    _loaded.clear()


# -- experiments -------------------------------------------------------------------------

_COMMON = ("kind", "name", "description", "seed", "backend", "aws")


def load_plugin_experiment(
    name_or_path: str | Path, overrides: Sequence[str] = ()
) -> tuple[PluginExperiment, Plugin]:
    """Reads a plugin experiment and types its section with the plugin's config.

    Raises:
        ConfigError: The file, the kind, an override or a value is invalid; the
            message names the file and the field.
    """
    from deepracer.experiment import apply_overrides

    path = resolve("experiments", name_or_path)
    data = load_yaml(path)
    apply_overrides(data, overrides, source=str(path))
    return experiment_from_data(data, source=str(path), default_name=path.stem)


def experiment_from_data(
    data: Mapping[str, Any], *, source: str, default_name: str = "experiment"
) -> tuple[PluginExperiment, Plugin]:
    """Types an already-read plugin experiment mapping (see :func:`load_plugin_experiment`)."""
    data = dict(data)
    kind = data.get("kind")
    if not isinstance(kind, str) or not kind:
        raise ConfigError(
            f"{source}: kind: expected a plugin name (deepracer plugins list); a racing"
            " experiment without kind trains with `deepracer train`"
        )
    try:
        plugin = get_plugin(kind)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    section = data.pop(kind, None) or {}
    unknown = [k for k in data if k not in _COMMON]
    if unknown:
        valid = [*_COMMON, kind]
        raise ConfigError(
            f"{source}: unknown key {unknown[0]!r}.{suggest(unknown[0], valid)} Valid keys:"
            f" {', '.join(valid)}"
        )
    data.setdefault("name", default_name)
    common = from_mapping(PluginExperiment, data, source=source)
    typed = from_mapping(plugin.config, section, source=source, prefix=kind)
    experiment = PluginExperiment(
        kind=common.kind,
        name=common.name,
        description=common.description,
        seed=common.seed,
        backend=common.backend,
        aws=common.aws,
        section=typed,
    )
    return experiment, plugin


def dump_plugin_experiment(experiment: PluginExperiment) -> str:
    """The resolved experiment as YAML, the section under its kind."""
    data = {k: to_mapping(getattr(experiment, k)) for k in _COMMON}
    data[experiment.kind] = to_mapping(experiment.section)
    return yaml.safe_dump(data, sort_keys=False)


def _jsonable(value: Any) -> Any:
    """Numbers, NaN as null, numpy scalars and arrays as plain Python."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy scalar or array
        return _jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _reference_table(plugin: Plugin, metrics: Mapping[str, Any]) -> str:
    if not plugin.references:
        return ""
    rows = ["| measure | article | this run |", "|---|---|---|"]
    for ref in plugin.references:
        ours = metrics.get(ref.metric) if ref.metric else None
        if isinstance(ours, float):
            shown = f"{ours:.3f}"
        elif ours is None:
            shown = "-"
        else:
            shown = str(ours)
        rows.append(f"| {ref.name} | {ref.value} | {shown} |")
    return "\n".join(rows) + "\n"


def run_experiment(
    experiment: PluginExperiment,
    plugin: Plugin,
    run_dir: Path,
    *,
    argv: Sequence[str] | None = None,
    echo: Callable[[str], None] | None = None,
) -> PluginResult:
    """Runs a plugin experiment into ``run_dir`` (new or empty).

    Writes ``experiment.yaml`` and ``command.txt`` first, then whatever the plugin
    writes, then ``metrics.json`` and ``report.md``.

    Raises:
        DeepRacerError: The run directory is not empty, or the plugin reports bad input.
    """
    from deepracer.runs.lock import RunLock, is_empty_run_dir

    with RunLock(run_dir):
        if not is_empty_run_dir(run_dir):
            raise DeepRacerError(
                f"{run_dir}: run directory exists and is not empty; choose another"
            )
        return _run_plugin(experiment, plugin, run_dir, argv, echo)


def _run_plugin(
    experiment: PluginExperiment,
    plugin: Plugin,
    run_dir: Path,
    argv: Sequence[str] | None,
    echo: Callable[[str], None] | None,
) -> PluginResult:
    files = RunFiles(run_dir)
    atomic_write_text(files.experiment, dump_plugin_experiment(experiment))
    atomic_write_text(files.command, " ".join(argv if argv is not None else sys.argv) + "\n")
    context = RunContext(
        run_dir=run_dir,
        seed=experiment.seed,
        backend=experiment.backend,
        aws=experiment.aws,
        echo=echo or (lambda line: print(line, file=sys.stderr, flush=True)),
    )
    started = time.perf_counter()
    result = plugin.run(experiment.section, context)
    seconds = time.perf_counter() - started
    metrics = {**result.metrics, "seconds": round(seconds, 3)}
    document = {
        "experiment": experiment.name,
        "kind": experiment.kind,
        "backend": experiment.backend,
        "seed": experiment.seed,
        "deepracer_version": __version__,
        "metrics": metrics,
    }
    context.write_json("metrics.json", document)
    header = f"# {experiment.name}: {plugin.description}\n\n"
    if plugin.article:
        header += f"Source article: {plugin.article}.\n\n"
    header += (
        f"Backend `{experiment.backend}`, seed {experiment.seed}, {seconds:.1f} s on this"
        " machine.\n\n"
    )
    table = _reference_table(plugin, metrics)
    if table:
        header += "## Against the article\n\n" + table + "\n"
    context.write_text("report.md", header + result.report.rstrip() + "\n")
    return PluginResult(metrics=metrics, report=header + result.report)
