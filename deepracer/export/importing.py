"""``deepracer import``: a DeepRacer model from elsewhere, as a run this simulator drives.

Sources:

* a ``.tar.gz`` (or ``.tar``) with one frozen graph (``.pb``) and
  ``model_metadata.json``: the car's file (``deepracer export --format car``), a
  console download, or a deepracer-for-cloud model folder tarred;
* a folder: a deepracer-for-cloud / DeepRacer on AWS model folder (``model/`` with
  ``model_<N>.pb`` files, ``deepracer_checkpoints.json`` naming the best, and
  ``model_metadata.json``), or any folder holding one graph and its metadata;
* an S3 prefix of such a folder: the command fetches the files :func:`wanted_file`
  names into a temporary folder first (:mod:`deepracer.cloud.models`).

Where several graphs come (``model_<N>.pb``), ``deepracer_checkpoints.json``'s best
checkpoint picks one, as DeepRacer evaluates its best model; without it, the choice
is an error that lists them.

The run directory gets the graph (``model/model.pb``), ``model/model_metadata.json``,
an ``experiment.yaml`` that drives it (its observation and actions from the metadata,
a world from ``--world``), the source's ``reward_function.py`` if it has one (never
imported unless ``--trust-reward``: the run is not signed as this machine's), and
``imported.json`` saying where it came from. Without ``--world`` the model drives
the source's own race where it says which: the track of a ``training_params.yaml``'s
``WORLD_NAME`` (the simapp's names) and the race type and objects of that file or of a
deepracer-for-cloud ``run.env`` (``DR_WORLD_NAME``, ``DR_RACE_TYPE``, ``DR_OA_*``,
``DR_H2B_*``), written as the run's ``world.yaml`` when the race has objects.
``deepracer evaluate``, ``render`` and
``analyze`` then take it like any run. The graph runs through TensorFlow, loaded as
:mod:`deepracer.models.frozen_graph` checks it (only a policy's arithmetic; training
ops cut away; GPU placements cleared): no conversion step that could change what it
computes.

Nothing is written unless the whole source checks out, and nothing outside the run
directory: archive members are read into memory by name, and a member with an
absolute path, ``..`` or a link is refused.

Contents:
    import_model: a source into a new run directory.
    wanted_file: whether an import reads a source's file.
    MAX_FILE, MAX_TOTAL: the size caps on what is read.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from deepracer.envs.objects import RaceSettings
from deepracer.errors import ConfigError, DeepRacerError
from deepracer.export.coach import CHECKPOINTS_JSON, frozen_graph_name
from deepracer.io import atomic_write_bytes, atomic_write_text
from deepracer.runs import RunFiles, RunLock, is_empty_run_dir
from deepracer.runs.layout import MODEL_METADATA_NAME, REWARD
from deepracer.simapp import RUN_ENV, TRAINING_PARAMS

__all__ = ["MAX_FILE", "MAX_TOTAL", "import_model", "wanted_file"]


_SENSOR_TO_OBSERVATION = {"FRONT_FACING_CAMERA": "camera", "STEREO_CAMERAS": "stereo_camera"}
MAX_FILE = 1 << 30
"""The largest source file (archive member) read [bytes]."""
MAX_TOTAL = 4 << 30
"""The most an archive may unpack to [bytes]."""
DEFAULT_WORLD = "reInvent2019_track"
"""Where an imported model drives without ``--world``: the console's default track."""


def import_model(
    source: Path,
    run_dir: Path,
    *,
    world: str | None = None,
    label: str | None = None,
    echo: Callable[[str], None] = print,
) -> Path:
    """Imports a DeepRacer model into a new run directory.

    Args:
        source: A ``.tar.gz`` / ``.tar`` or a model folder.
        run_dir: The new run directory (must not exist or be empty).
        world: The world its experiment drives (default :data:`DEFAULT_WORLD`).
        label: Names the source in messages, the experiment's description and
            ``imported.json`` instead of ``source`` (the S3 URI a temporary
            ``source`` folder was fetched from).
        echo: Receives what was imported.

    Returns:
        The run directory.

    Raises:
        DeepRacerError: A source that is not a DeepRacer model (no graph, several
            without a best checkpoint, no or invalid metadata, a graph whose head does
            not fit the metadata's actions, unsafe archive members), or a run
            directory that is not empty.
    """
    from deepracer.envs.model_metadata import parse_model_metadata
    from deepracer.envs.world import load_world
    from deepracer.experiment import dump_experiment, experiment_from_mapping, pin_vehicle
    from deepracer.models.frozen_graph import inspect_graph

    files = _read_source(source)
    shown = label or str(source)
    graph_name, graph = _pick_graph(shown, files)
    metadata_name = _find(files, MODEL_METADATA_NAME)
    if metadata_name is None:
        raise DeepRacerError(
            f"{shown}: no {MODEL_METADATA_NAME}: it says what the graph's outputs mean"
            " (the action space), so a model cannot be driven without it"
        )
    where = f"{shown}:{metadata_name}"
    try:
        raw = json.loads(files[metadata_name])
    except ValueError as exc:
        raise DeepRacerError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise DeepRacerError(f"{where}: expected a JSON object")
    metadata = parse_model_metadata(raw, source=where)
    info = inspect_graph(graph, f"{shown}:{graph_name}")
    discrete = metadata.action_space_type == "discrete"
    expected = len(metadata.action_space) if discrete else 2
    if info.outputs != expected:
        what = f"{expected} discrete actions" if discrete else "a continuous action (2 values)"
        raise DeepRacerError(
            f"{shown}: {metadata_name} has {what}, but the graph's head"
            f" {info.output_name} gives {info.outputs} values"
        )
    if info.sensor not in _SENSOR_TO_OBSERVATION:
        raise DeepRacerError(
            f"{shown}:{graph_name}: its input is {info.sensor}; this simulator drives camera"
            f" models ({', '.join(_SENSOR_TO_OBSERVATION)})"
        )
    if info.sensor not in metadata.sensor:
        raise DeepRacerError(
            f"{shown}: the graph's input is {info.sensor}, {metadata_name} lists"
            f" sensors {list(metadata.sensor)}"
        )
    race = None if world else _source_race(files, shown)
    name = world or (race.world if race is not None and race.world else DEFAULT_WORLD)
    load_world(name)  # a clear error for an unknown world, before anything is written
    world_text = None
    if race is not None and race.settings.race_type != "TIME_TRIAL":
        world_text = _world_yaml(name, race.settings, shown)
    height, width, channels = info.input_shape
    experiment = {
        "description": f"imported from {label or source.name}",
        "worlds": [
            str(RunFiles(run_dir).imported_world.resolve()) if world_text is not None else name
        ],
        "observation": _SENSOR_TO_OBSERVATION[info.sensor],
        "action_space": str(RunFiles(run_dir).model_metadata.resolve()),
        "reward": "centerline",
        "preset": "sac_continuous" if info.algorithm == "sac" else "camera_ppo",
        "env": {"camera": {"width": width, "height": height}},
    }
    with RunLock(run_dir):
        if not is_empty_run_dir(run_dir):
            raise DeepRacerError(f"{run_dir}: exists and is not empty; choose a new run directory")
        out = RunFiles(run_dir)
        out.model_metadata.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out.model_metadata, files[metadata_name])
        atomic_write_bytes(out.frozen_graph, graph)
        reward = _find(files, REWARD)
        if reward is not None:
            atomic_write_bytes(out.reward, files[reward])
            experiment["reward"] = str(out.reward.resolve())
        provenance = {
            "source": shown,
            "graph": graph_name,
            "graph_sha256": hashlib.sha256(graph).hexdigest(),
            "input": info.input_name,
            "input_shape": [height, width, channels],
            "output": info.output_name,
            "algorithm": info.algorithm,
        }
        atomic_write_text(out.imported, json.dumps(provenance, indent=2) + "\n")
        if world_text is not None:
            atomic_write_text(out.imported_world, world_text)
        # The car it drives pinned, as a new run pins it; written last: a run directory
        # counts as a run once its experiment is there.
        config = pin_vehicle(experiment_from_mapping(experiment, source=str(out.experiment)))
        atomic_write_text(out.experiment, dump_experiment(config))
    echo(
        f"imported {shown} ({graph_name}: {info.algorithm.upper()}, {info.sensor}"
        f" {width}x{height}x{channels}, {expected if discrete else 'continuous'} actions)"
        f" into {run_dir}; it drives on {name}"
        + (f" ({race.settings.race_type}, {out.imported_world})" if world_text and race else "")
    )
    if reward is not None:
        echo(
            f"note: {out.reward} comes from the source; it is imported only with"
            " --trust-reward (rewards read 0 without)"
        )
    return run_dir


def wanted_file(name: str) -> bool:
    """Whether an import reads this file: graphs, metadata, checkpoint list, reward.

    A model folder's Coach checkpoints can be gigabytes and are not needed.

    Args:
        name: The file's ``/``-separated path in the source; only its last part counts.

    Returns:
        True for ``*.pb``, ``model_metadata.json``, ``deepracer_checkpoints.json``,
        ``reward_function.py``, ``training_params.yaml`` and ``run.env``.
    """
    base = PurePosixPath(name).name
    return base.endswith(".pb") or base in (
        MODEL_METADATA_NAME,
        CHECKPOINTS_JSON,
        REWARD,
        TRAINING_PARAMS,
        RUN_ENV,
    )


def _read_source(source: Path) -> dict[str, bytes]:
    """The files :func:`wanted_file` names of an archive or folder, by relative POSIX path."""
    if source.is_dir():
        found: dict[str, bytes] = {}
        for path in sorted(source.rglob("*")):
            if path.is_symlink():
                raise DeepRacerError(f"{path}: a link; a model folder holds plain files")
            name = path.relative_to(source).as_posix()
            if path.is_file() and wanted_file(name):
                if path.stat().st_size > MAX_FILE:
                    raise DeepRacerError(f"{path}: larger than any model file")
                found[name] = path.read_bytes()
        return found
    if not source.is_file():
        raise DeepRacerError(f"{source}: no such file or folder")
    try:
        with tarfile.open(source, "r:*") as tar:
            return _read_members(source, tar)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DeepRacerError(f"{source}: not a readable tar archive ({exc})") from None


def _read_members(source: Path, tar: tarfile.TarFile) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    total = 0
    for member in tar.getmembers():
        path = PurePosixPath(member.name)
        if path.is_absolute() or ".." in path.parts:
            raise DeepRacerError(
                f"{source}: member {member.name!r} points outside the archive; refused"
            )
        if member.issym() or member.islnk():
            raise DeepRacerError(f"{source}: member {member.name!r} is a link; refused")
        if not member.isfile() or not wanted_file(member.name):
            continue
        total += member.size
        if member.size > MAX_FILE or total > MAX_TOTAL:
            raise DeepRacerError(f"{source}: member {member.name!r} is larger than any model")
        handle = tar.extractfile(member)
        if handle is None:
            continue
        found[path.as_posix().removeprefix("./")] = handle.read()
    return found


def _find(files: dict[str, bytes], name: str) -> str | None:
    """The shallowest file called ``name`` (a root file wins over one in ``model/``)."""
    hits = sorted((n for n in files if PurePosixPath(n).name == name), key=lambda n: n.count("/"))
    return hits[0] if hits else None


def _pick_graph(source: str, files: dict[str, bytes]) -> tuple[str, bytes]:
    """The one graph, or the best checkpoint's ``model_<N>.pb``."""
    graphs = sorted(n for n in files if n.endswith(".pb"))
    if not graphs:
        raise DeepRacerError(
            f"{source}: no frozen graph (.pb); a DeepRacer model holds one (the car's"
            " agent/model.pb, or deepracer-for-cloud's model/model_<N>.pb)"
        )
    if len(graphs) == 1:
        return graphs[0], files[graphs[0]]
    checkpoints = _find(files, CHECKPOINTS_JSON)
    best = _best_checkpoint(source, files, checkpoints) if checkpoints else None
    if best is not None:
        wanted = [g for g in graphs if PurePosixPath(g).name == frozen_graph_name(int(best))]
        if len(wanted) == 1:
            return wanted[0], files[wanted[0]]
    raise DeepRacerError(
        f"{source}: {len(graphs)} frozen graphs ({', '.join(graphs)}) and no"
        f" {CHECKPOINTS_JSON} best checkpoint naming one of them; the car takes exactly one"
    )


def _best_checkpoint(source: str, files: dict[str, bytes], name: str) -> str | None:
    """``N`` of ``deepracer_checkpoints.json``'s best checkpoint (``N_Step-...``)."""
    try:
        data: Any = json.loads(files[name])
        checkpoint = str(data["best_checkpoint"]["name"])
    except (ValueError, KeyError, TypeError):
        raise DeepRacerError(
            f'{source}:{name}: expected {{"best_checkpoint": {{"name":'
            ' "<N>_Step-<steps>.ckpt", ...}, ...}'
        ) from None
    head = checkpoint.split("_", 1)[0]
    return head if head.isdigit() else None


class _SourceRace(NamedTuple):
    """What a source says about its race: its world (if one we know) and settings."""

    world: str | None
    settings: RaceSettings


def _source_race(files: dict[str, bytes], shown: str) -> _SourceRace | None:
    """The race of a source's ``training_params.yaml`` or ``run.env``, or None.

    Raises:
        DeepRacerError: The file does not parse, or holds a bad race setting (the
            message names the file and the key as written).
    """
    from deepracer.envs.objects import race_settings

    found = [(n, _find(files, n)) for n in (TRAINING_PARAMS, RUN_ENV)]
    for base, name in found:
        if name is None:
            continue
        where = f"{shown}:{name}"
        text = files[name].decode("utf-8", errors="replace")
        settings = _parse_run_env(text) if base == RUN_ENV else _parse_yaml(text, where)
        try:
            race = race_settings(settings, source=where)
        except ConfigError as exc:
            raise DeepRacerError(str(exc)) from None
        track = str(settings.get("WORLD_NAME", settings.get("DR_WORLD_NAME", ""))).strip()
        return _SourceRace(track if _is_world(track) else None, race)
    return None


def _parse_yaml(text: str, where: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DeepRacerError(f"{where}: invalid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise DeepRacerError(f"{where}: expected a mapping of simapp settings")
    return data


def _parse_run_env(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines as DRfC's ``run.env`` has them; comments and blanks skipped."""
    settings = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        settings[key.strip()] = value.split(" #")[0].strip().strip("\"'")
    return settings


def _is_world(name: str) -> bool:
    from deepracer.envs.world import load_world

    if not name:
        return False
    try:
        load_world(name)
    except DeepRacerError:
        return False  # DeepRacer on AWS's track ids without _cw/_ccw, say
    return True


def _world_yaml(name: str, race: RaceSettings, shown: str) -> str:
    """The run's ``world.yaml``: the world ``name`` with the source's race and objects."""
    import yaml

    from deepracer.config.loader import to_mapping
    from deepracer.envs.world import load_world

    base = to_mapping(load_world(name))
    base.update(
        description=f"{base['description'] or name}, with the race settings of {shown}",
        race_type=race.race_type,
        object_avoidance=to_mapping(race.object_avoidance),
        head_to_bot=to_mapping(race.head_to_bot),
    )
    base.pop("name", None)
    for key in ("object_avoidance", "head_to_bot"):
        if base[key] is None:
            del base[key]
    return yaml.safe_dump(base, sort_keys=False)
