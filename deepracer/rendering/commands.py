"""``deepracer render RUN_OR_MODEL --out lap.gif``: one greedy lap as a top-down video.

Contents:
    add_render: register the subcommand.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from deepracer.errors import DeepRacerError

__all__ = ["add_render"]


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
    import numpy as np

    camera = camera_type(env.config.camera)
    camera.reset(env.world, env.variation, np.random.default_rng(seed))

    def view() -> Any:
        return camera.observe(env.car_view())

    return view


def _cmd_render(args: argparse.Namespace) -> int:
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


def add_render(subparsers: Any) -> None:
    """Registers ``deepracer render``."""
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
