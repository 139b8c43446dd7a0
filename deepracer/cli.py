"""The ``deepracer`` command line.

Every subcommand is a function ``_cmd_<name>(args) -> int`` registered by an
``_add_<name>(subparsers)`` function listed in :data:`_COMMANDS`. A
:class:`~deepracer.errors.DeepRacerError` (bad user input) becomes ``error: <message>``
on stderr and exit status 2, without a traceback; the message of a reward-function
error already carries the user's traceback.

Commands:
    deepracer tracks list [--grep PATTERN] [--json]: every track name (the 127 shipped
        DeepRacer tracks, built-in, a user's own) with its console name and figures.
    deepracer tracks show NAME_OR_PATH [--out FILE.png] [--reverse]: figures and a plot.
    deepracer check-reward FILE [--track T] [--steps N]: call a reward function on
        scripted poses all over a track and report the rewards, after warning about
        what DeepRacer on AWS would reject in the file.
    deepracer render RUN_OR_MODEL --out lap.gif|lap.mp4 [--world W] [--max-steps N]
        [--fps F] [--seed S] [--camera]: drive a trained model for one greedy episode
        and write a top-down video.
    deepracer actions generate|show|validate|list: build and check model_metadata.json.
    deepracer raceline TRACK [--world W] [--friction MU] [--v-max V] [--margin M]
        [--out DIR] [--reward FILE.py]: the minimum-lap-time line and lap-time bounds.
    deepracer analyze RUN_DIR [--out DIR] [--raceline CSV] [--track T] [--episodes K]:
        the log-analysis plots of a run (or of console / deepracer-for-cloud logs).
    deepracer export RUN_DIR_OR_MODEL [--out FILE.tar.gz] [--check N]: the policy as
        ONNX with model_metadata.json and the reward function, checked against torch.
    deepracer upload EXPERIMENT s3://BUCKET/PREFIX: the DeepRacer artifact layout.
    deepracer download SOURCE|--job NAME RUN_DIR: a trained run back, for evaluate.
    deepracer launch EXPERIMENT [--backend local|sagemaker|robomaker] [--dry-run]:
        one worker process per world here, a SageMaker job, or the RoboMaker requests.
    deepracer jobs status|logs|stop: SageMaker training jobs.
    deepracer run EXPERIMENT.yaml: a plugin experiment (``kind: churn`` ...).
    deepracer plugins list: the installed plugin experiments.

Contents:
    main: the console-script entry point.
    build_parser: the argparse parser.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from deepracer.errors import DeepRacerError
from deepracer.physics.commands import add_calibrate, add_replay
from deepracer.tables import format_table
from deepracer.tracks import get_track
from deepracer.tracks.commands import add_tracks

__all__ = ["build_parser", "main"]


def _version() -> str:
    from deepracer import __version__

    return __version__


# -- check-reward -------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.6g}"


def _cmd_check_reward(args: argparse.Namespace) -> int:
    from deepracer.config.resources import resolve
    from deepracer.errors import ConfigError, RewardFunctionError
    from deepracer.rewards import load_reward_function
    from deepracer.rewards.allowlist import console_rejections
    from deepracer.rewards.check import check_reward

    if args.steps < 2:
        raise DeepRacerError(f"--steps must be >= 2 (the first judged step is 2), got {args.steps}")
    try:
        path = resolve("rewards", args.file)
    except ConfigError as exc:
        raise RewardFunctionError(str(exc)) from None
    # Before loading: a file that imports what is not installed here still gets told.
    for problem in console_rejections(path.read_text(encoding="utf-8", errors="replace")):
        print(f"warning: {path}: DeepRacer on AWS would reject it: {problem}", file=sys.stderr)
    reward = load_reward_function(path)
    track = get_track(args.track)
    report = check_reward(reward, track, steps_max=args.steps)
    print(f"reward function: {report.reward_name}")
    print(f"track:           {track.name} ({track.length:.2f} m)")
    print(f"calls:           {report.calls} (all returned finite numbers in range)")
    print(
        f"reward:          min {_fmt(report.min)}, mean {_fmt(report.mean)}, max {_fmt(report.max)}"
    )
    print(f"  on the centre line:        mean {_fmt(report.mean_center)}")
    print(f"  at the border:             mean {_fmt(report.mean_border)}")
    print(f"  off track (no wheel on):   mean {_fmt(report.mean_offtrack)}")
    print(f"time per call:   {report.us_per_call:.1f} µs")
    if report.min == report.max:
        print("note: the reward is the same everywhere, so it cannot teach the car anything")
    elif (
        report.mean_offtrack is not None
        and report.mean_center is not None
        and report.mean_offtrack >= report.mean_center
    ):
        print("note: off-track poses earn as much as centre-line poses on average")
    return 0


def _add_check_reward(subparsers: Any) -> None:
    check = subparsers.add_parser(
        "check-reward",
        help="call a reward function on scripted poses all over a track",
        description=(
            "Load a reward function and call it on scripted poses along the whole track"
            " (on the centre line, towards and past the borders, off the track, skewed"
            " and reversed, at several steering angles and speeds), with the params the"
            " simulator builds. Reports the reward range and the time per call; exits"
            " with status 2 on the first invalid result. Warns first about anything"
            " DeepRacer on AWS would reject: imports other than math, random, numpy,"
            " scipy and shapely, forbidden builtins and strings."
        ),
    )
    check.add_argument("file", metavar="FILE", help="reward file (or a shipped reward's name)")
    check.add_argument(
        "--track", default="oval", metavar="T", help="track name or .npy path (default: oval)"
    )
    check.add_argument(
        "--steps",
        type=int,
        default=200,
        metavar="N",
        help="the steps param cycles through 2..N (default: 200)",
    )
    check.set_defaults(func=_cmd_check_reward)


# -- render -------------------------------------------------------------------------


def _add_evaluate(subparsers: Any) -> None:
    from deepracer.evaluation.evaluate import add_evaluate

    add_evaluate(subparsers)


def _add_analyze(subparsers: Any) -> None:
    from deepracer.analysis import add_analyze

    add_analyze(subparsers)


def _add_export(subparsers: Any) -> None:
    from deepracer.export import add_export

    add_export(subparsers)


def _add_raceline(subparsers: Any) -> None:
    from deepracer.raceline.commands import add_raceline

    add_raceline(subparsers)


def _add_train(subparsers: Any) -> None:
    from deepracer.training.commands import add_train

    add_train(subparsers)


def _add_quickstart(subparsers: Any) -> None:
    from deepracer.training.commands import add_quickstart

    add_quickstart(subparsers)


def _add_plugins(subparsers: Any) -> None:
    from deepracer.plugins.commands import add_plugin_commands

    add_plugin_commands(subparsers)


def _add_cloud(subparsers: Any) -> None:
    from deepracer.cloud.commands import add_cloud_commands

    add_cloud_commands(subparsers)


def _camera_type() -> Any:
    """Returns the camera observation class, or says clearly why it is missing."""
    try:
        from deepracer.envs.camera import CameraObservation
    except ImportError as exc:
        raise DeepRacerError(
            "--camera needs the camera observation (deepracer.envs.camera), which cannot"
            f" be imported here: {exc}"
        ) from None
    return CameraObservation


def _camera_view(camera_type: Any, env: Any, seed: int) -> Callable[[], Any]:
    """Returns a function rendering the car's camera view at the env's current pose.

    The env drives on the ``state`` observation, so the camera is a separate
    observation fed the env's world, this episode's lighting draw and the pose; call
    this after ``env.reset()``.
    """
    camera = camera_type(env.config.camera)
    camera.reset(env.world, env.variation, np.random.default_rng(seed))

    def view() -> Any:
        return camera.observe(env.car_view())

    return view


def _cmd_render(args: argparse.Namespace) -> int:
    from collections.abc import Iterator

    from deepracer.rendering.topdown import TopDownRenderer
    from deepracer.rendering.video import VIDEO_SUFFIXES, write_video

    out = Path(args.out)
    if out.suffix.lower() not in VIDEO_SUFFIXES:
        raise DeepRacerError(f"--out must end in {' or '.join(VIDEO_SUFFIXES)}, got {out.name}")
    if args.max_steps < 1:
        raise DeepRacerError(f"--max-steps must be >= 1, got {args.max_steps}")
    if not args.fps > 0:
        raise DeepRacerError(f"--fps must be > 0, got {args.fps}")
    camera_type = _camera_type() if args.camera else None
    from deepracer.evaluation.runs import load_policy, resolve_model, run_setup

    model_path, run_dir = resolve_model(Path(args.run))
    setup = run_setup(run_dir, args.world, args.max_steps)
    world = setup.world
    model = load_policy(model_path, setup, run_dir)
    # The evaluation env of the run: its observation and actions, from the start line.
    # A video needs no reward, so the run's reward file is never imported here.
    env = setup.env(scored=False, render_mode="rgb_array")
    # env.render() takes no arguments (gymnasium's API): a renderer of the same track
    # draws the camera view into the env's frames.
    inset = TopDownRenderer(env.track) if camera_type is not None else None
    last: dict[str, Any] = {}
    count = 0

    def frames() -> Iterator[Any]:
        nonlocal count
        obs, _ = env.reset(seed=args.seed)
        view = _camera_view(camera_type, env, args.seed) if inset is not None else None
        while True:
            frame = env.render()
            assert frame is not None  # render_mode="rgb_array" always returns a frame
            if inset is not None and view is not None:
                inset.draw_inset(frame, view())
            count += 1
            yield frame
            if last:  # the frame after the final step shows where the episode ended
                return
            action, _ = model.predict(obs, deterministic=True)
            obs, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                last.update(info)

    print(f"driving {model_path} on {world} (greedy, from the start line)...")
    # Frames stream into the writer while the car drives: an episode's RGB frames
    # would take about 1 MB each in memory.
    write_video(frames(), out, fps=args.fps)
    status = last["episode_status"]
    lap = f"{last['sim_time']:.2f} s" if status == "lap_complete" else "-"
    print(f"status:    {status}")
    print(f"progress:  {last['params']['progress']:.1f} %")
    print(f"lap time:  {lap}")
    print(f"steps:     {last['params']['steps']}")
    print(f"wrote {out} ({count} frames at {args.fps:g} fps)")
    return 0


def _add_render(subparsers: Any) -> None:
    render = subparsers.add_parser(
        "render",
        help="drive a trained model for one greedy lap and write a top-down video",
        description=(
            "Load a PPO model (a run directory with model.zip, as `deepracer quickstart`"
            " writes, or a model.zip), drive one greedy episode from the start line on"
            " the state observation and write a top-down video of it (.gif, or .mp4 with"
            " pip install 'deepracer[video]')."
        ),
    )
    render.add_argument("run", metavar="RUN_OR_MODEL", help="run directory or model.zip")
    render.add_argument("--out", required=True, metavar="FILE", help="lap.gif or lap.mp4")
    render.add_argument(
        "--world",
        metavar="W",
        help="world name or YAML path (default: the run's evaluation.json, else oval)",
    )
    render.add_argument(
        "--max-steps", type=int, default=3000, metavar="N", help="step cap (default 3000)"
    )
    render.add_argument("--fps", type=float, default=15.0, help="frames per second (default 15)")
    render.add_argument("--seed", type=int, default=0, metavar="S", help="seed (default 0)")
    render.add_argument(
        "--camera", action="store_true", help="show the car's camera view in a corner"
    )
    render.set_defaults(func=_cmd_render)


# -- actions ------------------------------------------------------------------------

# Defaults per generator style: the seed notebook's script and DeepRacer on AWS's form.
_SEED_DEFAULTS: dict[str, int | float] = {
    "min_speed": 4,
    "max_speed": 8,
    "speed_resolution": 2,
    "min_steering": -30,
    "max_steering": 30,
    "steering_resolution": 15,
}
_CONSOLE_DEFAULTS: dict[str, int | float] = {
    "max_steering": 30,
    "steering_levels": 5,
    "max_speed": 1,
    "speed_levels": 2,
}


def _number_arg(text: str) -> int | float:
    """Parses a number, keeping ints as ints (the seed's generator writes ints then)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _cmd_actions_generate(args: argparse.Namespace) -> int:
    import json

    from deepracer.envs.model_metadata import (
        generate_console_style,
        generate_seed_style,
        model_metadata_dict,
        range_warnings,
    )
    from deepracer.io import atomic_write_text

    defaults = _CONSOLE_DEFAULTS if args.style == "console" else _SEED_DEFAULTS
    given = {k: getattr(args, k) for k in {*_SEED_DEFAULTS, *_CONSOLE_DEFAULTS}}
    stray = [k for k, v in given.items() if v is not None and k not in defaults]
    if stray:
        flags = ", ".join(f"--{k.replace('_', '-')}" for k in sorted(stray))
        raise DeepRacerError(f"{flags}: not used by --style {args.style}")
    values = {k: defaults[k] if given[k] is None else given[k] for k in defaults}
    if args.style == "console":
        steering_levels, speed_levels = values["steering_levels"], values["speed_levels"]
        if not isinstance(steering_levels, int) or not isinstance(speed_levels, int):
            raise DeepRacerError("--steering-levels and --speed-levels must be integers")
        actions = generate_console_style(
            max_steering=values["max_steering"],
            steering_levels=steering_levels,
            max_speed=values["max_speed"],
            speed_levels=speed_levels,
        )
    else:
        actions = generate_seed_style(**values)
    for line in range_warnings(actions):
        print(
            f"warning: {line}; `deepracer actions validate` rejects such a file",
            file=sys.stderr,
        )
    text = json.dumps(model_metadata_dict(actions), indent=4) + "\n"
    if args.out:
        atomic_write_text(args.out, text)
        print(f"wrote {args.out} ({len(actions)} actions)")
    else:
        sys.stdout.write(text)
    return 0


def _cmd_actions_show(args: argparse.Namespace) -> int:
    from deepracer.envs.model_metadata import LIDAR_SENSORS, load_model_metadata

    meta = load_model_metadata(args.file)
    observation = meta.observation
    shown = observation if isinstance(observation, str) else ", ".join(observation)
    size = f" ({meta.num_actions} actions)" if meta.num_actions is not None else ""
    lines = [
        ("source", meta.source),
        ("action_space_type", f"{meta.action_space_type}{size}"),
        ("training_algorithm", meta.training_algorithm),
        ("sensor", f"{', '.join(meta.sensor)} (observation: {shown})"),
        ("neural_network", meta.neural_network),
        ("version", str(meta.version)),
    ]
    if meta.lidar_config is not None or any(s in LIDAR_SENSORS for s in meta.sensor):
        settings = meta.lidar_settings
        lines.append(("lidar_config", ", ".join(f"{k} {v:g}" for k, v in settings.items())))
    pad = max(len(key) for key, _ in lines)
    for key, value in lines:
        print(f"{key + ':':<{pad + 1}} {value}")
    print()
    if isinstance(meta.action_space, list):
        rows = [
            [str(i), f"{a['steering_angle']:g}", f"{a['speed']:g}"]
            for i, a in enumerate(meta.action_space)
        ]
        print(format_table(["index", "steering [deg]", "speed [m/s]"], rows, right={0, 1, 2}))
    else:
        space = meta.action_space
        rows = [
            [name, f"{space[key]['low']:g}", f"{space[key]['high']:g}"]
            for key, name in (("steering_angle", "steering [deg]"), ("speed", "speed [m/s]"))
        ]
        print(format_table(["", "low", "high"], rows, right={1, 2}))
    return 0


def _cmd_actions_validate(args: argparse.Namespace) -> int:
    from deepracer.envs.model_metadata import duplicate_actions, load_model_metadata

    meta = load_model_metadata(args.file)
    size = f"{meta.num_actions} discrete actions" if meta.num_actions else "continuous"
    print(
        f"{meta.source}: valid ({size}, {meta.training_algorithm}, sensor"
        f" {', '.join(meta.sensor)}, version {meta.version})"
    )
    for line in duplicate_actions(meta):
        print(f"warning: {line}", file=sys.stderr)
    return 0


def _cmd_actions_list(args: argparse.Namespace) -> int:
    from deepracer.config.resources import available
    from deepracer.envs.model_metadata import load_model_metadata

    rows: list[list[str]] = []
    for name in available("actions"):
        try:
            meta = load_model_metadata(name)
        except DeepRacerError as exc:  # one broken file must not hide the others
            rows.append([name, "error", "", "", str(exc)])
            continue
        if isinstance(meta.action_space, list):
            speeds = [float(a["speed"]) for a in meta.action_space]
            lo, hi = min(speeds), max(speeds)
        else:
            lo, hi = meta.action_space["speed"]["low"], meta.action_space["speed"]["high"]
        count = "-" if meta.num_actions is None else str(meta.num_actions)
        rows.append(
            [name, meta.action_space_type, count, f"{lo:g}..{hi:g}", ", ".join(meta.sensor)]
        )
    print(format_table(["name", "type", "actions", "speed [m/s]", "sensor"], rows, right={2}))
    return 0


def _add_actions(subparsers: Any) -> None:
    group = subparsers.add_parser(
        "actions",
        help="generate, show and validate action spaces (model_metadata.json)",
        description=(
            "Action spaces in DeepRacer's model_metadata.json format: generate one, show"
            " a file's actions, validate a file, list the shipped ones (actions/)."
        ),
    )
    actions = group.add_subparsers(dest="actions_command", metavar="ACTION")
    gen = actions.add_parser(
        "generate",
        help="generate a discrete action space as a complete model_metadata.json",
        description=(
            "Generate a discrete action space. --style seed (default) is the seed"
            " notebook's script: speeds min..max by resolution (outer loop) x steering"
            " angles min..max by resolution, both ends inclusive; its defaults are the"
            " notebook's (speeds 4, 6, 8 m/s: above the simulator's 4 m/s, so a warning)."
            " --style console is DeepRacer on AWS's form: LEVELS steering angles evenly"
            " spaced in [-max, max] x speeds max*i/LEVELS (defaults 30 deg, 5, 1 m/s, 2)."
            " Writes the whole model_metadata.json (sensor FRONT_FACING_CAMERA, clipped_ppo,"
            ' version "5") to --out, or prints it.'
        ),
    )
    gen.add_argument(
        "--style", choices=("seed", "console"), default="seed", help="generator (default seed)"
    )
    for flag, unit, text in (
        ("--min-speed", "M/S", "seed: first speed (default 4)"),
        ("--max-speed", "M/S", "seed: last speed (default 8); console: top speed (default 1)"),
        ("--speed-resolution", "M/S", "seed: speed step (default 2)"),
        ("--min-steering", "DEG", "seed: first steering angle (default -30)"),
        ("--max-steering", "DEG", "seed: last angle; console: largest angle (default 30)"),
        ("--steering-resolution", "DEG", "seed: steering step (default 15)"),
        ("--steering-levels", "N", "console: number of steering angles (default 5)"),
        ("--speed-levels", "N", "console: number of speeds (default 2)"),
    ):
        gen.add_argument(flag, type=_number_arg, metavar=unit, help=text)
    gen.add_argument("--out", metavar="FILE", help="write here (atomically) instead of stdout")
    gen.set_defaults(func=_cmd_actions_generate)
    show = actions.add_parser(
        "show",
        help="a model_metadata.json's actions as a table, and its other keys",
    )
    show.add_argument("file", metavar="NAME_OR_FILE", help="file, or a shipped name (actions/)")
    show.set_defaults(func=_cmd_actions_show)
    check = actions.add_parser(
        "validate",
        help="check a model_metadata.json (exit 0 if valid, else 2 with the reason)",
    )
    check.add_argument("file", metavar="FILE", help="file, or a shipped name (actions/)")
    check.set_defaults(func=_cmd_actions_validate)
    listing = actions.add_parser("list", help="the shipped action spaces (actions/)")
    listing.set_defaults(func=_cmd_actions_list)
    group.set_defaults(func=lambda _args: _help(group))


# -- the parser ---------------------------------------------------------------------

# Each entry adds one subcommand; later commands (train, evaluate, ...) go here.
_COMMANDS: tuple[Callable[[Any], None], ...] = (
    add_tracks,
    _add_check_reward,
    _add_train,
    _add_quickstart,
    _add_evaluate,
    _add_raceline,
    _add_analyze,
    _add_export,
    _add_render,
    _add_actions,
    _add_cloud,
    _add_plugins,
    add_replay,
    add_calibrate,
)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def build_parser() -> argparse.ArgumentParser:
    """Returns the ``deepracer`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="deepracer",
        description="A local AWS DeepRacer simulator: tracks, reward functions, training.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in _COMMANDS:
        add(subparsers)
    parser.set_defaults(func=lambda _args: _help(parser))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the ``deepracer`` command line; returns the exit status.

    Args:
        argv: The arguments after the program name (``sys.argv[1:]`` if None).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    try:
        status: int = args.func(args)
    except DeepRacerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`deepracer tracks list | head`): say nothing more, and
        # keep Python from complaining when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return status


if __name__ == "__main__":
    sys.exit(main())
