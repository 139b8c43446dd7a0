"""The article's six chaining scenarios, each a parent job and the jobs chained after it.

Every job reads its input manifest from disk and writes ``<job>/output.manifest``
(atomically, into a folder of its own), so a chained job reads exactly what its
parent wrote and can never rewrite it. A scenario's parent is stopped after
``stop_after_labels`` labels (or brings that many third-party labels); then jobs are
chained under the same attribute until nothing is left unlabelled or failed, or
``max_chained_jobs`` ran.

Contents:
    MODE_NAMES: how the report names a job mode.
    Prices: the cost model.
    JobRun: one job's outcome, files and cost.
    ScenarioResult: one scenario's jobs, chain check and totals.
    write_new_manifest: an output manifest that must not exist yet.
    run_scenario: one row of the table.
    run_restart: a job under a new attribute name (relabels everything).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from deepracer.errors import DeepRacerError
from deepracer.plugins.custom_labels.manifest import (
    ManifestRecord,
    read_manifest,
    write_manifest,
)
from deepracer.plugins.label_chain.chain import (
    ChainCheck,
    Counters,
    count_labels,
    to_label,
    verify_chain,
)
from deepracer.plugins.label_chain.config import SCENARIOS, LabelChainConfig
from deepracer.plugins.label_chain.simulate import (
    ActiveModel,
    JobResult,
    JobSpec,
    LearnSettings,
    Objects,
    Oracle,
    SimClock,
    job_rng,
    run_job,
    third_party_labels,
)

__all__ = [
    "MODE_NAMES",
    "JobRun",
    "Prices",
    "ScenarioResult",
    "run_restart",
    "run_scenario",
    "write_new_manifest",
]

MODE_NAMES = {"non-al": "Non-AL", "al": "AL", "third-party": "Third-party labels"}
"""The article's names for a job's mode."""


@dataclass(frozen=True)
class Prices:
    """The cost model [USD per label].

    Attributes:
        human: One label by people (third-party labels are priced the same: someone
            paid people for them).
        machine: One label by automated labeling.
    """

    human: float
    machine: float

    def cost(self, human: int, machine: int) -> float:
        """The price of ``human`` and ``machine`` labels; failed objects are not billed."""
        return human * self.human + machine * self.machine


@dataclass
class JobRun:
    """One job of a scenario.

    Attributes:
        role: ``parent``, ``third-party``, ``chain-1``, ``chain-2``, ... or ``restart``.
        mode: ``non-al``, ``al`` or ``third-party``.
        result: What the job did.
        input_path: The manifest it read (None for a third party's labels).
        output_path: Its ``output.manifest``.
        problems: Input lines it skipped or could not label (``file:line: why``).
        cost: What its labels cost.
        initial_model: The prior model it started from, if any.
    """

    role: str
    mode: str
    result: JobResult
    input_path: Path | None
    output_path: Path
    problems: list[str] = field(default_factory=list)
    cost: float = 0.0
    initial_model: str | None = None

    @property
    def name(self) -> str:
        """The labeling job's name."""
        return self.result.spec.name


@dataclass
class ScenarioResult:
    """One row of the article's table.

    Attributes:
        number: 1-6.
        parent: The parent's mode.
        chained: The chained jobs' mode.
        slug: Its folder in the run directory.
        jobs: Parent first, then the chained jobs.
        check: The chain check over their output manifests.
        final: Counters of the last output manifest.
        correct: Labels in the last manifest that match the true class.
    """

    number: int
    parent: str
    chained: str
    slug: str
    jobs: list[JobRun]
    check: ChainCheck
    final: Counters
    correct: int

    @property
    def title(self) -> str:
        """``Non-AL -> AL`` and so on."""
        return f"{MODE_NAMES[self.parent]} -> {MODE_NAMES[self.chained]}"

    @property
    def cost(self) -> float:
        """What every job's labels cost together."""
        return sum(job.cost for job in self.jobs)

    @property
    def chained_jobs(self) -> list[JobRun]:
        """The jobs after the parent."""
        return self.jobs[1:]

    @property
    def machine(self) -> int:
        """Machine labels written by the scenario's jobs."""
        return sum(job.result.machine for job in self.jobs)

    @property
    def machine_correct(self) -> int:
        """Of those, the ones matching the true class."""
        return sum(job.result.machine_correct for job in self.jobs)


def write_new_manifest(path: Path, records: Sequence[ManifestRecord]) -> Path:
    """Writes an output manifest atomically; refuses to replace an existing file.

    Raises:
        DeepRacerError: ``path`` exists (a job never rewrites a manifest, its own or
            its parent's).
    """
    if path.exists():
        raise DeepRacerError(
            f"{path}: exists; a labeling job writes a new output manifest and never"
            " rewrites one (use a new job name)"
        )
    return write_manifest(path, records)


def _read(path: Path) -> tuple[list[ManifestRecord], list[str]]:
    records, problems = read_manifest(path)
    return records, [f"{p} (skipped)" for p in problems]


def run_scenario(
    number: int,
    config: LabelChainConfig,
    objects: Objects,
    oracle: Oracle,
    settings: LearnSettings,
    prices: Prices,
    *,
    seed: int,
    input_path: Path,
    folder: Path,
    echo: Callable[[str], None],
) -> ScenarioResult:
    """Runs one scenario: the parent job, then jobs chained under the same attribute.

    Args:
        number: The scenario (1-6, the article's table).
        config: The experiment section.
        objects: The dataset.
        oracle: The scripted workforce.
        settings: Automated labeling's settings.
        prices: The cost model.
        seed: The experiment seed (each job draws from its own generator).
        input_path: The unlabelled input manifest.
        folder: The run directory; the scenario writes into ``folder/<slug>/``.
        echo: Progress lines.
    """
    parent, chained = SCENARIOS[number]
    slug = f"s{number}-{parent}-{chained}"
    base = folder / slug
    attribute = config.attribute
    clock = SimClock()
    records, problems = _read(input_path)
    jobs: list[JobRun] = []
    if parent == "third-party":
        name = f"{config.job_name}-s{number}-third-party"
        labelled, count, correct = third_party_labels(
            records,
            objects,
            attribute=attribute,
            count=config.stop_after_labels,
            error_rate=config.third_party_error_rate,
            source=name,
            rng=job_rng(seed, name),
            clock=clock,
        )
        result = JobResult(
            spec=JobSpec(name=name, attribute=attribute),
            records=labelled,
            sent=count,
            human=count,
            human_correct=correct,
            counters=count_labels(labelled, attribute),
        )
        run = JobRun("third-party", parent, result, None, base / name / "output.manifest")
    else:
        name = f"{config.job_name}-s{number}"
        spec = JobSpec(
            name=name,
            attribute=attribute,
            auto=parent == "al",
            stop_after=config.stop_after_labels,
        )
        result = run_job(
            records, spec, objects, oracle, settings, clock=clock, rng=job_rng(seed, name)
        )
        run = JobRun("parent", parent, result, input_path, base / name / "output.manifest")
    run.problems = problems + result.problems
    jobs.append(run)
    model: ActiveModel | None = result.final_model
    write_new_manifest(run.output_path, result.records)
    for k in range(1, config.max_chained_jobs + 1):
        previous = jobs[-1].output_path
        # The chained job reads what its parent wrote, from disk, as Ground Truth reads
        # the prior job's output manifest from S3.
        records, problems = _read(previous)
        if not to_label(records, attribute):
            break
        name = f"{config.job_name}-s{number}-chain" + ("" if k == 1 else f"-{k}")
        auto = chained == "al"
        start = model if auto else None
        spec = JobSpec(name=name, attribute=attribute, auto=auto, initial_model=start)
        result = run_job(
            records, spec, objects, oracle, settings, clock=clock, rng=job_rng(seed, name)
        )
        run = JobRun(
            f"chain-{k}",
            chained,
            result,
            previous,
            base / name / "output.manifest",
            problems=problems + result.problems,
            initial_model=None if start is None else start.name,
        )
        write_new_manifest(run.output_path, result.records)
        jobs.append(run)
        model = result.final_model or model
    for job in jobs:
        job.cost = prices.cost(job.result.human, job.result.machine)
    check = verify_chain([job.result.records for job in jobs], attribute)
    last = jobs[-1].result.records
    correct = 0
    for record in last:
        label = record.labels.get(attribute)
        index = objects.index.get(record.source_ref or "")
        if label is not None and index is not None:
            correct += label.class_id == int(objects.truth[index])
    outcome = ScenarioResult(
        number=number,
        parent=parent,
        chained=chained,
        slug=slug,
        jobs=jobs,
        check=check,
        final=count_labels(last, attribute),
        correct=correct,
    )
    echo(
        f"scenario {number} ({outcome.title}): {len(jobs)} jobs, {outcome.final.human} human,"
        f" {outcome.final.machine} machine, {outcome.final.failed} failed,"
        f" {outcome.final.unlabeled} unlabelled; chain check {'ok' if check.ok else 'FAILED'}"
    )
    return outcome


def run_restart(
    mode: str,
    config: LabelChainConfig,
    objects: Objects,
    oracle: Oracle,
    settings: LearnSettings,
    prices: Prices,
    *,
    seed: int,
    input_path: Path,
    folder: Path,
) -> JobRun:
    """A job in ``mode`` under a new attribute name, reading a labelled manifest.

    Its attribute has no label anywhere, so it sends every object again: what a new
    job costs when the prior labels are not chained.
    """
    suffix = "-restart"
    attribute = (
        config.attribute + suffix if len(config.attribute) <= 127 - len(suffix) else "restart"
    )
    name = f"{config.job_name}-restart" + ("-al" if mode == "al" else "")
    records, problems = _read(input_path)
    spec = JobSpec(name=name, attribute=attribute, auto=mode == "al")
    result = run_job(
        records, spec, objects, oracle, settings, clock=SimClock(), rng=job_rng(seed, name)
    )
    run = JobRun(
        "restart",
        mode,
        result,
        input_path,
        folder / "restart" / name / "output.manifest",
        problems=problems + result.problems,
        cost=prices.cost(result.human, result.machine),
    )
    write_new_manifest(run.output_path, result.records)
    return run
