"""``deepracer export RUN_DIR_OR_MODEL [--format onnx|car]``: a trained policy, outside.

``onnx`` (the default) packs an ONNX policy with DeepRacer's model files; ``car`` writes
the physical car's archive (:mod:`deepracer.export.car`).

Contents:
    add_export: register the subcommand.
"""

from __future__ import annotations

import argparse
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deepracer.errors import DeepRacerError
from deepracer.evaluation.commands import add_trust_reward
from deepracer.runs import RunFiles

if TYPE_CHECKING:
    from deepracer.export.onnx_export import ExportCheck

__all__ = ["add_export", "add_import"]


def _summary(checks: dict[str, ExportCheck]) -> str:
    parts = [f"{c.agreed}/{c.samples} {name}" for name, c in checks.items() if c.samples]
    worst = max((c.max_abs_diff for c in checks.values() if c.samples), default=0.0)
    ties = sum(c.ties for c in checks.values())
    tie_note = f", {ties} ties" if ties else ""
    return f"{', '.join(parts)} observations agree (max |diff| {worst:.1e}{tie_note})"


def _cmd_export(args: argparse.Namespace) -> int:
    from deepracer.export.archive import check_model, load_run, write_archive
    from deepracer.export.onnx_export import require_export_dependencies

    if args.check < 0:
        raise DeepRacerError(f"--check must be >= 0, got {args.check}")
    if args.format == "car":
        return _export_car(args)
    if args.format in ("droa", "drfc"):
        return _export_folder(args)
    require_export_dependencies()
    run = load_run(Path(args.run), trust_reward=args.trust_reward)
    out, onnx_policy = write_archive(run, Path(args.out) if args.out else None)
    reward = RunFiles(run.run_dir).reward
    if reward.is_file() and not run.reward_trusted:
        print(
            f"note: {reward} is not in the archive: the run was not created"
            " on this machine (or its reward file changed since); --trust-reward puts it in"
        )
    with tarfile.open(out, mode="r:gz") as tar:
        names = tar.getnames()
    inputs = ", ".join(
        f"{i.name} {'x'.join(map(str, i.shape))} {i.dtype}" for i in onnx_policy.inputs
    )
    count = f" {onnx_policy.num_actions}" if onnx_policy.num_actions else ""
    print(
        f"exported {run.model_path} ({run.algorithm.upper()}, {onnx_policy.action_kind}{count}"
        f" actions; input {inputs}; opset {onnx_policy.opset})"
    )
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB): {', '.join(names)}")
    if args.check == 0:
        return 0
    checks = check_model(run, onnx_policy.model, args.check, args.seed)
    agree = all(c.all_agree for c in checks.values())
    print(f"round trip (onnxruntime vs torch): {_summary(checks)}")
    if not agree:
        print("error: the ONNX model and the torch policy disagree", flush=True)
        return 1
    return 0


def _export_car(args: argparse.Namespace) -> int:
    from deepracer.export.archive import load_run, run_observations
    from deepracer.export.car import CAR_MODEL, check_car_graph, write_car_archive

    run = load_run(Path(args.run), trust_reward=args.trust_reward)
    name = run.run_dir.resolve().name
    out = Path(args.out) if args.out else RunFiles(run.run_dir).exports / f"{name}-car.tar.gz"
    graph = write_car_archive(run, out)
    height, width, channels = graph.input_shape
    print(
        f"exported {run.model_path} for the car: {CAR_MODEL} (TensorFlow-1 frozen graph),"
        f" input {graph.input_name} [N, {height}, {width}, {channels}] at 0-255,"
        + (f" {graph.lidar.name} [N, {graph.lidar.size}]," if graph.lidar else "")
        + f" output {graph.output_name}"
    )
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    if args.check == 0:
        return 0
    observations = run_observations(run, args.check, args.seed)
    if not observations:
        print("no check: outside a run directory there are no env observations")
        return 0
    check = check_car_graph(graph, run.model.policy, observations)
    print(
        f"check on {check.samples} env observations: TensorFlow picks the policy's action"
        f" on {check.tensorflow_agreed} (max |diff| {check.tensorflow_max_diff:.1e}),"
        f" OpenVINO's FP16 IR on {check.openvino_agreed}"
        f" (max |diff| {check.openvino_max_diff:.1e})"
    )
    if not check.all_agree:
        print("error: the car's graph and the torch policy disagree", flush=True)
        return 1
    return 0


def _export_folder(args: argparse.Namespace) -> int:
    import numpy as np

    from deepracer.export.archive import load_run, run_observations
    from deepracer.export.coach import (
        COACH_CHECKPOINT,
        MODEL_DIR,
        export_model_folder,
        run_checkpoint,
    )
    from deepracer.export.onnx_export import torch_reference

    run = load_run(Path(args.run), trust_reward=args.trust_reward)
    name = run.run_dir.resolve().name
    out = Path(args.out) if args.out else RunFiles(run.run_dir).exports / f"{name}-{args.format}"
    where = {"droa": "DeepRacer on AWS's model import", "drfc": "a deepracer-for-cloud prefix"}
    out, checkpoint = export_model_folder(run, out, args.format, trust_reward=args.trust_reward)
    print(f"exported {run.model_path} for {where[args.format]}: wrote {out}")
    if args.check == 0:
        return 0
    observations = run_observations(run, args.check, args.seed)
    if not observations or out.name.endswith(".tar.gz"):
        print("no check: it runs on the folder, with the run's env observations")
        return 0
    frames = np.stack(observations)
    prefix = out / MODEL_DIR / (out / MODEL_DIR / COACH_CHECKPOINT).read_text().strip()
    policy, _ = run_checkpoint(prefix, checkpoint.sensor, frames)
    actions, probabilities = torch_reference(run.model.policy, frames)
    if probabilities is not None:  # discrete
        diff = float(np.abs(policy - probabilities).max())
        agreed = int((policy.argmax(1) == actions).sum())
    else:
        diff = float(np.abs(policy - actions).max())
        agreed = int((np.abs(policy - actions).max(1) < 1e-4).sum())
    print(
        f"check: the checkpoint restored into its graph picks the policy's action on"
        f" {agreed} of {len(frames)} env observations (max |diff| {diff:.1e})"
    )
    if agreed != len(frames):
        print("error: the checkpoint and the torch policy disagree", flush=True)
        return 1
    return 0


def add_export(subparsers: Any) -> None:
    """Registers ``deepracer export``."""
    parser = subparsers.add_parser(
        "export",
        help="export a run's policy as ONNX with model_metadata.json in one archive",
        description=(
            "Export a run's best model (or a model file) as an ONNX policy that takes the"
            " raw env observation, packed with model_metadata.json, the reward function,"
            " hyperparameters.json and a manifest into one .tar.gz; then check that"
            " onnxruntime and the torch policy choose the same actions. docs/export.md"
            " says what the car, DeepRacer on AWS and deepracer-for-cloud can import."
        ),
    )
    parser.add_argument("run", metavar="RUN_DIR_OR_MODEL")
    parser.add_argument(
        "--format",
        choices=("onnx", "car", "droa", "drfc"),
        default="onnx",
        help="onnx: an ONNX policy with DeepRacer's model files (default); car: the"
        " physical car's .tar.gz (a TensorFlow-1 frozen graph); droa: DeepRacer on AWS's"
        " import folder (Coach checkpoint, training_params.yaml, ...); drfc: a"
        " deepracer-for-cloud model prefix (car, droa and drfc need deepracer[car])",
    )
    parser.add_argument(
        "--out",
        metavar="PATH",
        help="archive path (default: RUN/export/<run name>.tar.gz, <run name>-car.tar.gz);"
        " droa/drfc: a new folder, or a .tar.gz (default RUN/export/<run name>-<format>)",
    )
    parser.add_argument(
        "--check",
        type=int,
        default=64,
        metavar="N",
        help="compare with torch on N sampled and N env observations (onnxruntime), or on"
        " N env observations (car: TensorFlow and OpenVINO) (default 64; 0 skips)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the check (default 0)")
    add_trust_reward(parser, "put it into the archive")
    parser.set_defaults(func=_cmd_export)


def _cmd_import(args: argparse.Namespace) -> int:
    from deepracer.export.importing import import_model

    if not args.source.startswith("s3://"):
        import_model(Path(args.source), Path(args.run), world=args.world)
        return 0
    import os
    import sys
    import tempfile

    from deepracer.cloud.models import fetch_model_prefix
    from deepracer.runs import is_empty_run_dir

    run = Path(args.run)
    if run.exists() and not is_empty_run_dir(run):  # before a download in vain
        raise DeepRacerError(f"{run}: exists and is not empty; choose a new run directory")
    # As `deepracer download`: AWS_REGION too (botocore reads only AWS_DEFAULT_REGION).
    region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    with tempfile.TemporaryDirectory(prefix="deepracer-import-") as tmp:
        source = fetch_model_prefix(
            args.source,
            Path(tmp),
            region=region,
            endpoint_url=args.endpoint_url,
            echo=lambda line: print(line, file=sys.stderr, flush=True),
        )
        import_model(source, run, world=args.world, label=args.source)
    return 0


def add_import(subparsers: Any) -> None:
    """Registers ``deepracer import``."""
    parser = subparsers.add_parser(
        "import",
        help="a DeepRacer model (car file, console download, DRfC folder or S3 prefix) as a run",
        description=(
            "Import a model trained in the console, deepracer-for-cloud or DeepRacer on"
            " AWS, or a car file, into a new run directory that evaluate, render and"
            " analyze take: its frozen graph (checked: only a policy's operations run),"
            " model_metadata.json and an experiment.yaml that drives it. From an S3"
            " prefix only those files are downloaded, never the Coach checkpoints. Needs"
            " deepracer[car] (tensorflow-cpu); S3 needs deepracer[aws] too."
        ),
    )
    parser.add_argument(
        "source",
        metavar="SOURCE",
        help="a .tar.gz / .tar, a model folder (model/...), or its s3://BUCKET/PREFIX",
    )
    parser.add_argument("run", metavar="RUN_DIR", help="the new run directory")
    parser.add_argument(
        "--world",
        help="world name or YAML path the experiment drives (default: reInvent2019_track)",
    )
    parser.add_argument("--region", help="AWS region of an s3:// SOURCE (default: AWS_REGION)")
    parser.add_argument(
        "--endpoint-url", help="S3-compatible endpoint of an s3:// SOURCE (default: AWS S3)"
    )
    parser.set_defaults(func=_cmd_import)
