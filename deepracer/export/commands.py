"""``deepracer export RUN_DIR_OR_MODEL``: the policy as ONNX with DeepRacer's model files.

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

__all__ = ["add_export"]


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
        "--out", metavar="PATH", help="archive path (default: RUN/export/<run name>.tar.gz)"
    )
    parser.add_argument(
        "--check",
        type=int,
        default=64,
        metavar="N",
        help="compare onnxruntime with torch on N sampled and N env observations"
        " (default 64; 0 skips)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the check (default 0)")
    add_trust_reward(parser, "put it into the archive")
    parser.set_defaults(func=_cmd_export)
