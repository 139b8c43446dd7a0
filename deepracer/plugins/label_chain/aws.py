"""Backend ``aws``: chain an existing SageMaker Ground Truth labeling job.

SageMaker Ground Truth is no longer open to new customers (AWS documentation), so
this backend does not start first jobs: it chains one an account already has, the
way the article's "Chaining using the API" section does it:

1. ``describe_labeling_job`` of the prior job: it must be Completed, Failed or
   Stopped and have an output manifest (``LabelingJobOutput.OutputDatasetS3Uri``);
2. that manifest is read from S3 and counted under the label attribute: the chained
   job will send its unlabelled and failed objects (all of them under a new name);
3. ``create_labeling_job`` with the prior job's settings (role, output path,
   ``HumanTaskConfig``, label categories), the prior *output* manifest as input, the
   same ``LabelAttributeName`` unless told otherwise, ``StoppingConditions``, and for
   automated labeling a ``LabelingJobAlgorithmsConfig`` whose
   ``InitialActiveLearningModelArn`` is the prior job's final model (same attribute);
4. ``describe_labeling_job`` for its ``LabelCounters``, polling while asked to wait;
   ``stop_labeling_job`` once it has added ``stop_after`` labels;
5. once it has ended, its output manifest is read and checked against the prior one:
   no label rewritten, none lost.

Every AWS error becomes one :class:`~deepracer.errors.DeepRacerError` naming the call
and the job, with the service's words and the note that Ground Truth is closed to new
customers (the AWS layer :mod:`deepracer.cloud.aws`, with :data:`LABELING_ERRORS`).

Contents:
    CLOSED_NOTE: the availability note every error carries.
    LABELING_ERRORS: the AWS layer's wording with that note.
    ALGORITHM_ARN: the image classification auto-labeling algorithm, per region.
    ENDED: the statuses of a job that can be chained.
    LabelingJobInfo, describe_labeling_job: one job's state.
    chained_job_name: ``<prior>-chain``, ``-chain-2``, ... within 63 characters.
    chained_job_request: the ``create_labeling_job`` keyword arguments.
    create_labeling_job, stop_labeling_job: the calls.
    read_s3_manifest: a manifest from S3, bad lines as problems.
    AwsOutcome, chain_prior_job: the whole chain.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from deepracer.cloud import aws
from deepracer.errors import DeepRacerError
from deepracer.plugins.custom_labels.manifest import ManifestRecord, parse_manifest
from deepracer.plugins.label_chain.chain import (
    ChainCheck,
    Counters,
    count_labels,
    to_label,
    verify_chain,
)
from deepracer.plugins.label_chain.config import LabelChainConfig, job_name_problem

__all__ = [
    "ALGORITHM_ARN",
    "CLOSED_NOTE",
    "ENDED",
    "LABELING_ERRORS",
    "AwsOutcome",
    "LabelingJobInfo",
    "chain_prior_job",
    "chained_job_name",
    "chained_job_request",
    "create_labeling_job",
    "describe_labeling_job",
    "read_s3_manifest",
    "stop_labeling_job",
]

CLOSED_NOTE = (
    "Note: SageMaker Ground Truth is no longer open to new customers (AWS documentation);"
    " an account that has not used it before cannot create labeling jobs."
)
"""Appended to every AWS error of this backend."""
LABELING_ERRORS = dataclasses.replace(aws.DEFAULT_MESSAGES, note=CLOSED_NOTE)
"""How this backend's AWS errors read (:mod:`deepracer.cloud.aws` with the note)."""
ALGORITHM_ARN = (
    "arn:aws:sagemaker:{region}:027400017018:labeling-job-algorithm-specification/"
    "image-classification"
)
"""``LabelingJobAlgorithmSpecificationArn`` of image classification (one account for
every region, per the API reference)."""
ENDED = ("Completed", "Failed", "Stopped")
"""Statuses of a job that has ended (and can be chained)."""


def _call(client: Any, operation: str, *, job: str, **params: Any) -> Any:
    """Calls ``client.operation(**params)``; AWS errors become one DeepRacerError."""
    return aws.call(
        getattr(client, operation),
        subject=f"labeling job {job}",
        messages=LABELING_ERRORS,
        **params,
    )


@dataclass(frozen=True)
class LabelingJobInfo:
    """One labeling job as ``describe_labeling_job`` returns it.

    Attributes:
        name: The job's name.
        status: ``Initializing``, ``InProgress``, ``Completed``, ``Failed``,
            ``Stopping`` or ``Stopped``.
        attribute: Its ``LabelAttributeName``.
        counters: Its ``LabelCounters`` (Ground Truth counts the input's existing
            labels too).
        output_manifest: ``LabelingJobOutput.OutputDatasetS3Uri``, once written.
        final_model: ``LabelingJobOutput.FinalActiveLearningModelArn``, if any.
        failure_reason: ``FailureReason`` of a failed job.
        auto_labeling: The job had a ``LabelingJobAlgorithmsConfig``.
        region: The region in its ARN (None when the ARN is missing).
        raw: The whole response.
    """

    name: str
    status: str
    attribute: str
    counters: Counters
    output_manifest: str | None
    final_model: str | None
    failure_reason: str | None
    auto_labeling: bool
    region: str | None
    raw: Mapping[str, Any]

    @property
    def ended(self) -> bool:
        """Completed, Failed or Stopped."""
        return self.status in ENDED


def describe_labeling_job(client: Any, name: str) -> LabelingJobInfo:
    """``describe_labeling_job``, read into a :class:`LabelingJobInfo`.

    Raises:
        DeepRacerError: The call failed (no such job, no access, ...).
    """
    data = _call(client, "describe_labeling_job", job=name, LabelingJobName=name)
    counters = data.get("LabelCounters") or {}
    output = data.get("LabelingJobOutput") or {}
    arn = str(data.get("LabelingJobArn", ""))
    parts = arn.split(":")
    return LabelingJobInfo(
        name=str(data.get("LabelingJobName", name)),
        status=str(data.get("LabelingJobStatus", "")),
        attribute=str(data.get("LabelAttributeName", "")),
        counters=Counters(
            human=int(counters.get("HumanLabeled", 0)),
            machine=int(counters.get("MachineLabeled", 0)),
            failed=int(counters.get("FailedNonRetryableError", 0)),
            unlabeled=int(counters.get("Unlabeled", 0)),
        ),
        output_manifest=output.get("OutputDatasetS3Uri") or None,
        final_model=output.get("FinalActiveLearningModelArn") or None,
        failure_reason=data.get("FailureReason") or None,
        auto_labeling=bool(data.get("LabelingJobAlgorithmsConfig")),
        region=parts[3] if len(parts) > 3 and parts[3] else None,
        raw=data,
    )


def _chainable(prior: LabelingJobInfo) -> str:
    """The prior job's output manifest URI; raises if the job cannot be chained."""
    if not prior.ended:
        raise DeepRacerError(
            f"labeling job {prior.name} is {prior.status or 'in an unknown state'}; a job can"
            " be chained once it is Completed, Failed or Stopped (stop it: aws sagemaker"
            f" stop-labeling-job --labeling-job-name {prior.name})"
        )
    if not prior.output_manifest:
        raise DeepRacerError(
            f"labeling job {prior.name} ({prior.status}) has no output manifest"
            " (LabelingJobOutput.OutputDatasetS3Uri) to chain from; a job that failed"
            " before labeling anything cannot be chained"
        )
    return prior.output_manifest


def chained_job_name(prior: str) -> str:
    """``<prior>-chain``, or the next ``-chain-N`` when ``prior`` is a chained job itself.

    The base is shortened so the name stays within Ground Truth's 63 characters.
    """
    match = re.fullmatch(r"(.+?)-chain(?:-(\d+))?", prior)
    if match:
        base, suffix = match.group(1), f"-chain-{int(match.group(2) or 1) + 1}"
    else:
        base, suffix = prior, "-chain"
    base = base[: 63 - len(suffix)].rstrip("-")
    return base + suffix


def chained_job_request(
    prior: LabelingJobInfo,
    *,
    name: str,
    attribute: str = "",
    auto_labeling: bool | None = None,
    max_human_labels: int = 0,
    region: str | None = None,
) -> dict[str, Any]:
    """The ``create_labeling_job`` keyword arguments that chain ``prior``.

    Args:
        prior: The job to chain (ended, with an output manifest).
        name: The new job's name.
        attribute: Its label attribute; empty: the prior job's (continue it).
        auto_labeling: Automated labeling; None: as the prior job had it.
        max_human_labels: ``MaxHumanLabeledObjectCount``; 0: no such limit.
        region: For the algorithm ARN when the prior job had none; default: the
            prior job's region.

    Raises:
        DeepRacerError: The prior job has not ended or has no output manifest, or
            the name is invalid.
    """
    problem = job_name_problem(name)
    if problem is not None:
        raise DeepRacerError(f"label_chain: chained job name {name!r}: expected {problem}")
    manifest = _chainable(prior)
    raw = prior.raw
    same = not attribute or attribute == prior.attribute
    input_config: dict[str, Any] = {"DataSource": {"S3DataSource": {"ManifestS3Uri": manifest}}}
    attributes = (raw.get("InputConfig") or {}).get("DataAttributes")
    if attributes:
        input_config["DataAttributes"] = dict(attributes)
    stopping: dict[str, Any] = {"MaxPercentageOfInputDatasetLabeled": 100}
    if max_human_labels > 0:
        stopping["MaxHumanLabeledObjectCount"] = max_human_labels
    request: dict[str, Any] = {
        "LabelingJobName": name,
        "LabelAttributeName": attribute or prior.attribute,
        "InputConfig": input_config,
        "OutputConfig": dict(raw.get("OutputConfig") or {}),
        "RoleArn": raw.get("RoleArn", ""),
        "StoppingConditions": stopping,
        "HumanTaskConfig": dict(raw.get("HumanTaskConfig") or {}),
    }
    if raw.get("LabelCategoryConfigS3Uri"):
        request["LabelCategoryConfigS3Uri"] = raw["LabelCategoryConfigS3Uri"]
    auto = prior.auto_labeling if auto_labeling is None else auto_labeling
    if auto:
        algorithms = dict(raw.get("LabelingJobAlgorithmsConfig") or {})
        algorithms.pop("InitialActiveLearningModelArn", None)
        where = region or prior.region or "us-east-1"
        algorithms.setdefault(
            "LabelingJobAlgorithmSpecificationArn", ALGORITHM_ARN.format(region=where)
        )
        # The prior model learnt this attribute's classes; under a new attribute it
        # would start from the wrong task.
        if prior.final_model and same:
            algorithms["InitialActiveLearningModelArn"] = prior.final_model
        request["LabelingJobAlgorithmsConfig"] = algorithms
    return request


def create_labeling_job(client: Any, request: Mapping[str, Any]) -> str:
    """Creates the job; returns its ARN."""
    name = str(request.get("LabelingJobName", ""))
    response = _call(client, "create_labeling_job", job=name, **request)
    return str(response["LabelingJobArn"])


def stop_labeling_job(client: Any, name: str) -> None:
    """Stops a job (its labels so far stay in its output manifest).

    Raises:
        DeepRacerError: The call failed; the message gives the command to retry.
    """
    try:
        _call(client, "stop_labeling_job", job=name, LabelingJobName=name)
    except DeepRacerError as exc:
        raise DeepRacerError(
            f"{exc} The job may still be running and labeling (billed per object); stop it:"
            f" aws sagemaker stop-labeling-job --labeling-job-name {name}"
        ) from None


def read_s3_manifest(s3: Any, uri: str) -> tuple[list[ManifestRecord], list[str]]:
    """Reads a manifest from S3; bad lines become ``uri:line: why`` problems.

    Raises:
        DeepRacerError: The URI is not an S3 URI or the object cannot be read.
    """
    from deepracer.cloud.storage import parse_s3_uri

    bucket, key = parse_s3_uri(uri)
    with aws.aws_errors("s3.get_object", subject=f"reading the manifest {uri}"):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    records, problems = parse_manifest(body, path=uri)
    return records, [f"{p} (skipped)" for p in problems]


@dataclass
class AwsOutcome:
    """What the AWS chain did.

    Attributes:
        prior: The prior job.
        attribute: The chained job's label attribute.
        plan: The prior output manifest's counters under that attribute.
        to_send: Objects the chained job sends (its unlabelled and failed ones).
        problems: Lines of the prior (and new) manifest that could not be read.
        request: The ``create_labeling_job`` request (None: nothing to send).
        arn: The new job's ARN.
        job: The new job's last description.
        stopped: ``stop_labeling_job`` was called.
        check: The chain check of prior and new output manifests, once it ended.
        notes: What happened, for the report.
    """

    prior: LabelingJobInfo
    attribute: str
    plan: Counters
    to_send: int
    problems: list[str] = field(default_factory=list)
    request: dict[str, Any] | None = None
    arn: str = ""
    job: LabelingJobInfo | None = None
    stopped: bool = False
    check: ChainCheck | None = None
    notes: list[str] = field(default_factory=list)


def chain_prior_job(
    sagemaker: Any,
    s3: Any,
    config: LabelChainConfig,
    *,
    echo: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> AwsOutcome:
    """Chains ``config.aws_prior_job`` (see the module docstring).

    Args:
        sagemaker: A boto3 SageMaker client.
        s3: A boto3 S3 client (the manifests).
        config: The experiment section (its ``aws_*`` fields).
        echo: Progress lines.
        sleep: Waits between polls (tests pass a no-op).
        clock: Monotonic seconds (tests pass a fake).

    Raises:
        DeepRacerError: A call failed, or the prior job cannot be chained.
    """
    prior = describe_labeling_job(sagemaker, config.aws_prior_job)
    attribute = config.aws_attribute or prior.attribute
    records, problems = read_s3_manifest(s3, _chainable(prior))
    plan = count_labels(records, attribute)
    sending = len(to_label(records, attribute))
    outcome = AwsOutcome(prior, attribute, plan, sending, problems=problems)
    echo(
        f"{prior.name} ({prior.status}): {plan.total} objects under {attribute!r}:"
        f" {plan.labeled} labelled, {plan.failed} failed, {plan.unlabeled} unlabelled"
    )
    if attribute != prior.attribute:
        outcome.notes.append(
            f"attribute {attribute!r} differs from the prior job's {prior.attribute!r}: the"
            " chained job relabels every object it has no label for under the new name"
        )
    if sending == 0:
        outcome.notes.append("nothing is unlabelled or failed: no job was created")
        echo(outcome.notes[-1])
        return outcome
    name = config.aws_job_name or chained_job_name(prior.name)
    request = chained_job_request(
        prior,
        name=name,
        attribute=attribute,
        auto_labeling=config.aws_auto_labeling,
        max_human_labels=config.aws_max_human_labels,
        region=getattr(getattr(sagemaker, "meta", None), "region_name", None),
    )
    outcome.request = request
    outcome.arn = create_labeling_job(sagemaker, request)
    echo(f"created {name}: it sends {sending} objects ({outcome.arn})")
    job = describe_labeling_job(sagemaker, name)
    deadline = clock() + 60.0 * config.aws_wait_minutes
    # Ground Truth's counters include the labels the input already had.
    before = plan.labeled if attribute == prior.attribute else 0
    while not job.ended:
        added = job.counters.labeled - before
        if (
            config.aws_stop_after_labels
            and added >= config.aws_stop_after_labels
            and not outcome.stopped
            and job.status != "Stopping"
        ):
            stop_labeling_job(sagemaker, name)
            outcome.stopped = True
            echo(f"stopped {name} after {added} new labels")
        left = deadline - clock()
        if left <= 0:
            break
        sleep(min(config.aws_poll_seconds, left))
        job = describe_labeling_job(sagemaker, name)
    outcome.job = job
    echo(
        f"{name}: {job.status}; LabelCounters: {job.counters.human} human,"
        f" {job.counters.machine} machine, {job.counters.failed} failed,"
        f" {job.counters.unlabeled} unlabelled"
    )
    if not job.ended:
        outcome.notes.append(
            f"{name} is still {job.status}: stop it with aws sagemaker stop-labeling-job"
            f" --labeling-job-name {name}, or chain it later once it has ended"
        )
    elif job.output_manifest:
        after, more = read_s3_manifest(s3, job.output_manifest)
        outcome.problems.extend(more)
        outcome.check = verify_chain([records, after], attribute, ordered=False)
    return outcome
