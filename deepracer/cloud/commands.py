"""``deepracer upload | download | launch | jobs``: the experiment on other machines.

Contents:
    add_cloud_commands: register the four subcommands on the CLI's subparsers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deepracer.errors import ConfigError, DeepRacerError

__all__ = ["add_cloud_commands"]

_BACKENDS = ("local", "sagemaker", "robomaker")


def _note(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _region(experiment: Any = None, given: str | None = None) -> str | None:
    if given:
        return given
    configured = experiment.launch.sagemaker.region if experiment is not None else None
    return configured or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def _location(experiment: Any, given: str | None) -> str:
    location = given or experiment.launch.s3
    if not location:
        raise ConfigError(
            f"{experiment.name}: launch.s3: no artifact location; set launch.s3 in the"
            " experiment or pass --s3 s3://BUCKET/PREFIX"
        )
    return str(location)


def _endpoint(experiment: Any, given: str | None) -> str | None:
    return given or (experiment.launch.endpoint_url if experiment is not None else None)


def _load(args: argparse.Namespace) -> Any:
    from deepracer.experiment import load_experiment

    return load_experiment(args.experiment, args.set)


# -- upload / download -------------------------------------------------------------------


def _cmd_upload(args: argparse.Namespace) -> int:
    from deepracer.cloud.artifacts import upload_experiment
    from deepracer.cloud.storage import open_storage

    experiment = _load(args)
    region = _region(experiment, args.region)
    storage, layout = open_storage(
        args.destination, region=region, endpoint_url=_endpoint(experiment, args.endpoint_url)
    )
    manifest = upload_experiment(
        experiment, storage, layout, region=region or "us-east-1", echo=_note
    )
    for key, info in manifest["files"].items():
        print(f"{info['size']:>9,}  {storage.url(key)}")
    print(f"uploaded {len(manifest['files'])} files; manifest {storage.url(layout.manifest_key)}")
    return 0


def _cmd_download(args: argparse.Namespace) -> int:
    from deepracer.cloud.artifacts import download_run
    from deepracer.cloud.storage import open_storage, parse_s3_uri

    if args.job and args.source:
        raise DeepRacerError("download: give a SOURCE or --job NAME, not both")
    if args.job:
        from deepracer.cloud import sagemaker

        sm = sagemaker.client("sagemaker", region=_region(None, args.region))
        status = sagemaker.describe_job(sm, args.job)
        if not status.model_artifacts:
            raise DeepRacerError(
                f"training job {args.job} has no model yet (status {status.status});"
                " `deepracer jobs status` shows when it completes"
            )
        source = status.model_artifacts
    elif args.source:
        source = args.source
    else:
        raise DeepRacerError("download: give a SOURCE (s3://BUCKET/KEY or a folder) or --job NAME")
    if source.startswith("s3://"):
        bucket, key = parse_s3_uri(source)
        storage, _ = open_storage(
            f"s3://{bucket}", region=_region(None, args.region), endpoint_url=args.endpoint_url
        )
    else:
        path = Path(source)
        if path.is_file():
            storage, _ = open_storage(str(path.parent))
            key = path.name
        else:
            storage, _ = open_storage(source)
            key = ""
    run_dir = download_run(storage, key, Path(args.run_dir), echo=_note)
    print(f"run: {run_dir}  (try: deepracer evaluate {run_dir})")
    return 0


# -- launch -------------------------------------------------------------------------------


def _launch_local(experiment: Any, args: argparse.Namespace) -> int:
    from deepracer.training.commands import print_summary

    worlds = list(experiment.worlds)
    if args.dry_run:
        from deepracer.models.presets import load_preset

        n_envs = experiment.train.n_envs or load_preset(experiment.preset).n_envs
        print(f"local launch of {experiment.name!r}: one learner, {len(worlds)} worker processes")
        for w, world in enumerate(worlds):
            cars = [i for i in range(n_envs) if i % len(worlds) == w]
            print(f"  worker {w}: world {world}, cars {cars}")
        launch = experiment.launch
        print(
            f"  a dead worker: {launch.failure_behavior}"
            + (f" (up to {launch.max_restarts} restarts per world)" if launch.failure_behavior
               == "Continue" else " (checkpoint, then stop; --resume continues)")
        )  # fmt: skip
        return 0
    from deepracer.runs.lock import run_dir_for
    from deepracer.training.trainer import train

    with run_dir_for(args.out, experiment.name) as out:
        _note(f"launching {experiment.name!r} locally: {len(worlds)} worker processes, into {out}")
        result = train(experiment, out, argv=sys.argv, workers=True)
    print_summary(result)
    return 0


def _launch_sagemaker(experiment: Any, args: argparse.Namespace) -> int:
    from deepracer.cloud import sagemaker
    from deepracer.cloud.storage import parse_s3_uri

    location = _location(experiment, args.s3)
    if not location.startswith("s3://"):
        raise ConfigError(f"launch.s3: {location!r}: a SageMaker job needs s3://BUCKET/PREFIX")
    from deepracer.cloud.layout import ArtifactLayout

    layout = ArtifactLayout(*parse_s3_uri(location))
    name = args.name or sagemaker.job_name(experiment)
    request = sagemaker.training_job_request(experiment, layout, name=name)
    sagemaker.check_request(request)
    if args.dry_run:
        print(json.dumps(request, indent=2, default=str))
        _note(
            f"dry run: the create_training_job request for {name} (nothing uploaded or"
            f" created; the upload would go to {location})"
        )
        return 0
    from deepracer.cloud.artifacts import upload_experiment
    from deepracer.cloud.storage import open_storage

    region = _region(experiment, args.region)
    storage, layout = open_storage(
        location, region=region, endpoint_url=_endpoint(experiment, args.endpoint_url)
    )
    upload_experiment(experiment, storage, layout, region=region or "us-east-1", echo=_note)
    if experiment.launch.sagemaker.sdk == "modeltrainer":
        name = sagemaker.model_trainer_launch(experiment, layout, name=name)
    else:
        sm = sagemaker.client("sagemaker", region=region)
        arn = sagemaker.create_training_job(sm, request)
        _note(f"created {arn}")
    print(f"training job: {name}")
    print(f"  status:   deepracer jobs status {name}")
    print(f"  logs:     deepracer jobs logs {name} --follow")
    print(f"  model:    deepracer download --job {name} runs/{name}")
    return 0


def _launch_robomaker(experiment: Any, args: argparse.Namespace) -> int:
    from deepracer.cloud import robomaker
    from deepracer.cloud.layout import ArtifactLayout
    from deepracer.cloud.storage import parse_s3_uri

    layout = ArtifactLayout(*parse_s3_uri(_location(experiment, args.s3)))
    region = _region(experiment, args.region) or "us-east-1"
    requests = robomaker.simulation_job_requests(
        experiment, layout, region=region, training_job=args.name
    )
    if not args.dry_run:
        robomaker.submit(requests)
    print(robomaker.format_requests(requests))
    _note(
        f"dry run: {len(requests)} create_simulation_job requests, one per world (AWS"
        " RoboMaker is retired: --backend sagemaker runs the worlds in one job)"
    )
    return 0


def _cmd_launch(args: argparse.Namespace) -> int:
    if args.resume:
        if args.experiment or args.set:
            raise DeepRacerError("--resume continues a run with its own saved experiment")
        from deepracer.training.commands import print_summary
        from deepracer.training.trainer import train

        print_summary(train(None, Path(args.resume), resume=True, argv=sys.argv, workers=True))
        return 0
    if not args.experiment:
        raise DeepRacerError("launch: give an experiment file (or --resume RUN_DIR)")
    experiment = _load(args)
    backend = args.backend or experiment.launch.backend
    launchers: dict[str, Callable[[Any, argparse.Namespace], int]] = {
        "local": _launch_local,
        "sagemaker": _launch_sagemaker,
        "robomaker": _launch_robomaker,
    }
    try:
        return launchers[backend](experiment, args)
    except ConfigError as exc:
        # Launch settings are checked field by field; the message gains the file.
        from deepracer.config.resources import resolve

        source = str(resolve("experiments", args.experiment))
        if str(exc).startswith(source):
            raise
        raise ConfigError(f"{source}: {exc}") from None


# -- jobs ---------------------------------------------------------------------------------


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


def _cmd_jobs_status(args: argparse.Namespace) -> int:
    from deepracer.cloud import sagemaker

    sm = sagemaker.client("sagemaker", region=args.region)
    if args.name:
        job = sagemaker.describe_job(sm, args.name)
        print(f"job:       {job.name}")
        print(f"status:    {job.status}" + (f" ({job.secondary_status})" if job.secondary_status
                                              else ""))  # fmt: skip
        print(f"created:   {_when(job.created)}")
        print(f"ended:     {_when(job.ended)}")
        if job.billable_seconds is not None:
            print(f"billable:  {job.billable_seconds} s")
        if job.failure_reason:
            print(f"failure:   {job.failure_reason}")
        if job.model_artifacts:
            print(f"model:     {job.model_artifacts}")
        return 0
    jobs = sagemaker.list_jobs(sm, name_contains=args.contains, max_results=args.max)
    if not jobs:
        print("no training jobs")
        return 0
    width = max(len(j.name) for j in jobs)
    print(f"{'job':<{width}}  {'status':<11} created")
    for job in jobs:
        print(f"{job.name:<{width}}  {job.status:<11} {_when(job.created)}")
    return 0


def _cmd_jobs_logs(args: argparse.Namespace) -> int:
    from deepracer.cloud import sagemaker

    logs = sagemaker.client("logs", region=args.region)
    sm = sagemaker.client("sagemaker", region=args.region) if args.follow else None
    sagemaker.job_logs(logs, args.name, follow=args.follow, sm=sm)
    return 0


def _cmd_jobs_stop(args: argparse.Namespace) -> int:
    from deepracer.cloud import sagemaker

    sm = sagemaker.client("sagemaker", region=args.region)
    sagemaker.stop_job(sm, args.name)
    print(f"stopping {args.name} (its last checkpoint stays in S3)")
    return 0


# -- registration -------------------------------------------------------------------------


def _set_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override an experiment value (parsed as YAML); repeatable",
    )


def _aws_options(parser: argparse.ArgumentParser, *, endpoint: bool = True) -> None:
    parser.add_argument(
        "--region", help="AWS region (default: launch.sagemaker.region, AWS_REGION)"
    )
    if endpoint:
        parser.add_argument(
            "--endpoint-url", help="S3-compatible endpoint (default: launch.endpoint_url, AWS S3)"
        )


def add_cloud_commands(subparsers: Any) -> None:
    """Registers ``upload``, ``download``, ``launch`` and ``jobs``."""
    upload = subparsers.add_parser(
        "upload",
        help="upload an experiment in the DeepRacer (DRfC, DeepRacer on AWS) layout",
        description=(
            "Write what a training job reads under DESTINATION (s3://BUCKET/PREFIX or a"
            " folder): custom_files/{reward_function.py, model_metadata.json,"
            " hyperparameters.json}, training_params*.yaml per world and the resolved"
            " experiment; every object verified, the manifest upload.json last."
        ),
    )
    upload.add_argument("experiment", help="experiment name or YAML path")
    upload.add_argument("destination", help="s3://BUCKET/PREFIX or a folder")
    _set_option(upload)
    _aws_options(upload)
    upload.set_defaults(func=_cmd_upload)

    download = subparsers.add_parser(
        "download",
        help="fetch a trained run (a job's model.tar.gz) into a local run directory",
        description=(
            "Fetch a run trained elsewhere into RUN_DIR, ready for `deepracer evaluate`."
            " SOURCE is a model.tar.gz (s3:// or a path), a prefix or folder holding one"
            " job's output or a run's files; --job NAME takes a SageMaker job's model."
        ),
    )
    download.add_argument("source", nargs="?", help="s3://BUCKET/KEY, a folder or a file")
    download.add_argument("run_dir", help="the new run directory")
    download.add_argument("--job", help="a SageMaker training job's name")
    _aws_options(download)
    download.set_defaults(func=_cmd_download)

    launch = subparsers.add_parser(
        "launch",
        help="run an experiment: local worker processes, SageMaker, or RoboMaker requests",
        description=(
            "local (default): one learner with one simulation worker process per world;"
            " a worker that dies is restarted or stops the run with a checkpoint"
            " (launch.failure_behavior). sagemaker: upload, then one training job whose"
            " container runs one worker per world. robomaker: the seed's per-world"
            " create_simulation_job requests (--dry-run prints them; the service is"
            " retired)."
        ),
    )
    launch.add_argument("experiment", nargs="?", help="experiment name or YAML path")
    launch.add_argument("--backend", choices=_BACKENDS, help="default: launch.backend")
    launch.add_argument("--dry-run", action="store_true", help="print the plan or requests only")
    launch.add_argument("--s3", help="artifact location s3://BUCKET/PREFIX (default: launch.s3)")
    launch.add_argument("--name", help="training job name (default: <experiment>-<UTC time>)")
    launch.add_argument("--out", help="local: run directory (default: runs/<name>-<time>)")
    launch.add_argument("--resume", metavar="RUN_DIR", help="local: continue this run")
    _set_option(launch)
    _aws_options(launch)
    launch.set_defaults(func=_cmd_launch)

    jobs = subparsers.add_parser("jobs", help="SageMaker training jobs: status, logs, stop")
    actions = jobs.add_subparsers(dest="action", metavar="ACTION", required=True)
    status = actions.add_parser("status", help="one job's state, or the newest jobs")
    status.add_argument("name", nargs="?", help="a training job name")
    status.add_argument("--contains", help="list only jobs whose names contain this")
    status.add_argument("--max", type=int, default=20, help="jobs to list (default 20)")
    _aws_options(status, endpoint=False)
    status.set_defaults(func=_cmd_jobs_status)
    logs = actions.add_parser("logs", help="a job's CloudWatch log")
    logs.add_argument("name", help="a training job name")
    logs.add_argument("--follow", action="store_true", help="keep printing until the job ends")
    _aws_options(logs, endpoint=False)
    logs.set_defaults(func=_cmd_jobs_logs)
    stop = actions.add_parser("stop", help="stop a running job")
    stop.add_argument("name", help="a training job name")
    _aws_options(stop, endpoint=False)
    stop.set_defaults(func=_cmd_jobs_stop)
