"""Running a ``label_chain`` experiment: scenarios, manifests, counters, plots, report.

Contents:
    FACTS: the measured reference numbers (plugins-facts §6) the report compares with.
    run: the plugin's entry point, ``run(config, context) -> PluginResult``.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from deepracer.errors import ConfigError
from deepracer.plugins import PluginResult, RunContext
from deepracer.plugins.custom_labels.manifest import ManifestRecord
from deepracer.plugins.kit import markdown_table, number
from deepracer.plugins.label_chain.config import LabelChainConfig
from deepracer.plugins.label_chain.scenarios import (
    MODE_NAMES,
    JobRun,
    Prices,
    ScenarioResult,
    run_restart,
    run_scenario,
    write_new_manifest,
)
from deepracer.plugins.label_chain.simulate import (
    LearnSettings,
    Objects,
    Oracle,
    RoundStats,
    load_objects,
    validation_share,
    wilson_interval,
)

__all__ = ["FACTS", "run"]

FACTS = {
    "sent": 1497,
    "threshold": 0.924,
    "auto": 988,
    "accuracy": 0.993,
    "to_humans": 509,
}
"""plugins-facts §6: digits, people label 300 objects, the job is stopped, a job
chained with automated labeling under the same attribute sends 1,497; trained on 240
human labels and validated on 60, its threshold is 0.924 and it auto-labels 988
objects at 0.993 true accuracy, sending 509 back to people."""
_MAX_LISTED = 50  # problems listed in metrics.json and the report (all in problems.json)


def run(config: LabelChainConfig, context: RunContext) -> PluginResult:
    """Runs the experiment into ``context.run_dir`` (see the package docstring)."""
    # threadpoolctl (a scikit-learn dependency) ships no type information.
    threadpool_limits: Any = importlib.import_module("threadpoolctl").threadpool_limits
    # The fits are small (hundreds of objects): BLAS threads only contend with each
    # other on a shared 2-core machine.
    with threadpool_limits(limits=1):
        return _run(config, context)


def _run(config: LabelChainConfig, context: RunContext) -> PluginResult:
    echo = context.echo
    if context.backend == "aws" and not config.aws_prior_job:
        # Checked before the local work: the run would otherwise fail at its end.
        raise ConfigError(
            "label_chain.aws_prior_job: backend aws chains an existing labeling job; name a"
            " Completed, Failed or Stopped one (SageMaker Ground Truth is no longer open to"
            " new customers, so this plugin does not start first jobs)"
        )
    objects = load_objects(config.objects, config.source_prefix, context.seed)
    echo(
        f"{objects.name}: {len(objects)} objects in {len(objects.class_names)} classes;"
        f" scenarios {', '.join(str(n) for n in config.scenarios)}"
    )
    oracle = Oracle(
        truth=objects.truth,
        classes=len(objects.class_names),
        workers=config.workers_per_object,
        error_rate=config.human_error_rate,
        failure_rate=config.human_failure_rate,
    )
    settings = LearnSettings(
        model=config.model,
        regularization=config.regularization,
        target_accuracy=config.target_accuracy,
        min_validation_above=config.min_validation_above,
        human_batch=config.human_batch,
        auto_min_objects=config.auto_min_objects,
    )
    prices = Prices(human=config.price_per_human_label, machine=config.price_per_machine_label)
    run_dir = context.run_dir
    input_path = write_new_manifest(
        run_dir / "input.manifest", [ManifestRecord(source_ref=r) for r in objects.source_refs]
    )
    scenarios = [
        run_scenario(
            number,
            config,
            objects,
            oracle,
            settings,
            prices,
            seed=context.seed,
            input_path=input_path,
            folder=run_dir,
            echo=echo,
        )
        for number in config.scenarios
    ]
    restarts: dict[str, JobRun] = {}
    if config.counterfactual:
        # Any labelled manifest shows it: under a new attribute nothing is labelled yet.
        source = scenarios[0].jobs[0].output_path
        for mode in sorted({s.chained for s in scenarios}):
            restarts[mode] = run_restart(
                mode,
                config,
                objects,
                oracle,
                settings,
                prices,
                seed=context.seed,
                input_path=source,
                folder=run_dir,
            )
            echo(
                f"restart ({MODE_NAMES[mode]}, new attribute"
                f" {restarts[mode].result.spec.attribute!r}): sent {restarts[mode].result.sent}"
            )
    for job in [j for s in scenarios for j in s.jobs] + list(restarts.values()):
        context.write_json(
            _relative(job.output_path.parent / "counters.json", run_dir), _job_doc(job, run_dir)
        )
    rows = [_row(s, restarts, objects, prices) for s in scenarios]
    context.write_json("scenarios.json", rows)
    problems = [p for s in scenarios for j in s.jobs for p in j.problems]
    problems += [p for j in restarts.values() for p in j.problems]
    context.write_json("problems.json", problems)
    figures = _plots(scenarios, restarts, config, context)
    metrics = _metrics(scenarios, restarts, rows, objects, config, prices, problems)
    aws_text = ""
    if context.backend == "aws":
        aws_text = _run_aws(config, context, metrics)
    report = _report(scenarios, restarts, rows, objects, config, metrics, figures, aws_text)
    return PluginResult(metrics=metrics, report=report)


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _round_doc(stats: RoundStats) -> dict[str, Any]:
    return {
        "round": stats.round,
        "trained": stats.trained,
        "reused_model": stats.reused_model,
        "train_size": stats.train_size,
        "validation_size": stats.validation_size,
        "threshold": stats.threshold,
        "validation_accuracy_above": stats.validation_accuracy,
        "validation_above": stats.validation_above,
        "auto_labelled": stats.auto_labelled,
        "auto_correct": stats.auto_correct,
        "to_humans": stats.to_humans,
    }


def _job_doc(job: JobRun, root: Path) -> dict[str, Any]:
    """A job's counters file: Ground Truth's names, plus what this job itself did."""
    result = job.result
    status = "Stopped" if result.stopped else "Completed"
    return {
        "LabelingJobName": job.name,
        "LabelAttributeName": result.spec.attribute,
        "LabelingJobStatus": status,
        "LabelCounters": result.counters.as_dict(),
        "role": job.role,
        "mode": job.mode,
        "this_job": {
            "sent": result.sent,
            "human": result.human,
            "machine": result.machine,
            "failed": result.failed,
            "human_correct": result.human_correct,
            "machine_correct": result.machine_correct,
            "cost_usd": round(job.cost, 4),
        },
        "input_manifest": None if job.input_path is None else _relative(job.input_path, root),
        "output_manifest": _relative(job.output_path, root),
        "auto_labeling": result.spec.auto,
        "auto_labeling_ran": result.auto_used,
        "initial_model": job.initial_model,
        "final_model": None if result.final_model is None else result.final_model.name,
        "note": result.note,
        "rounds": [_round_doc(r) for r in result.rounds],
        "problems": job.problems,
    }


def _row(
    scenario: ScenarioResult, restarts: dict[str, JobRun], objects: Objects, prices: Prices
) -> dict[str, Any]:
    """One row of the scenarios table."""
    all_human = len(objects) * prices.human
    low, high = wilson_interval(scenario.machine_correct, scenario.machine)
    final = scenario.final
    restart = restarts.get(scenario.chained)
    restart_cost = None if restart is None else _cents(scenario.jobs[0].cost + restart.cost)
    chained = scenario.chained_jobs
    cost = _cents(scenario.cost)
    saved = _cents(all_human - cost)
    return {
        "scenario": scenario.number,
        "parent": MODE_NAMES[scenario.parent],
        "chained": MODE_NAMES[scenario.chained],
        "jobs": [j.name for j in scenario.jobs],
        "parent_labels": scenario.jobs[0].result.labels,
        "first_chain_sent": chained[0].result.sent if chained else 0,
        "new_labels_per_job": scenario.check.new_labels,
        "human": final.human,
        "machine": final.machine,
        "failed": final.failed,
        "unlabeled": final.unlabeled,
        "complete": scenario.check.complete,
        "chain_ok": scenario.check.ok,
        "relabelled": scenario.check.relabelled[:_MAX_LISTED],
        "lost": scenario.check.lost[:_MAX_LISTED],
        "auto_accuracy": scenario.machine_correct / scenario.machine if scenario.machine else None,
        "auto_accuracy_ci95": [low, high],
        "label_accuracy": scenario.correct / final.labeled if final.labeled else None,
        "cost_usd": cost,
        "all_human_cost_usd": _cents(all_human),
        "saved_usd": saved,
        "saved_pct": round(100 * saved / all_human, 2) + 0.0 if all_human else None,
        "restart_cost_usd": restart_cost,
        "saved_by_chaining_usd": None if restart_cost is None else _cents(restart_cost - cost),
    }


def _cents(value: float) -> float:
    """Dollars rounded to a hundredth of a cent (and -0.0 made 0.0)."""
    return round(value, 4) + 0.0


def _first_trained(jobs: Sequence[JobRun]) -> tuple[JobRun, RoundStats] | None:
    for job in jobs:
        for stats in job.result.rounds:
            if stats.trained:
                return job, stats
    return None


def _plots(
    scenarios: Sequence[ScenarioResult],
    restarts: dict[str, JobRun],
    config: LabelChainConfig,
    context: RunContext,
) -> list[str]:
    from deepracer.plugins.label_chain import plots

    saved = [
        context.save_figure(plots.labels_by_source_figure(scenarios), "labels_by_source.png").name
    ]
    curves: list[tuple[str, RoundStats]] = []
    for scenario in scenarios:
        found = _first_trained(scenario.jobs)
        if found is not None:
            job, stats = found
            curves.append((f"{scenario.number}: {job.name}, round {stats.round}", stats))
    restart = restarts.get("al")
    if restart is not None:
        found = _first_trained([restart])
        if found is not None:
            curves.append((f"restart: {restart.name}, round {found[1].round}", found[1]))
    if curves:
        figure = plots.threshold_figure(curves, config.target_accuracy)
        saved.append(context.save_figure(figure, "threshold_validation.png").name)
    return saved


def _metrics(
    scenarios: Sequence[ScenarioResult],
    restarts: dict[str, JobRun],
    rows: Sequence[dict[str, Any]],
    objects: Objects,
    config: LabelChainConfig,
    prices: Prices,
    problems: Sequence[str],
) -> dict[str, Any]:
    machine = sum(s.machine for s in scenarios)
    correct = sum(s.machine_correct for s in scenarios)
    low, high = wilson_interval(correct, machine)
    metrics: dict[str, Any] = {
        "objects": len(objects),
        "stop_after_labels": config.stop_after_labels,
        "scenarios": len(scenarios),
        "all_human_cost_usd": _cents(len(objects) * prices.human),
        "chains_ok": sum(s.check.ok for s in scenarios),
        "chains_complete": sum(s.check.complete for s in scenarios),
        "machine_labels": machine,
        "auto_accuracy": correct / machine if machine else None,
        "auto_accuracy_low": low if machine else None,
        "auto_accuracy_high": high if machine else None,
    }
    third = [s for s in scenarios if s.parent == "third-party"]
    if third:
        metrics["third_party_labels"] = third[0].jobs[0].result.labels
    saved = [r["saved_pct"] for r in rows if r["saved_pct"] is not None]
    metrics["max_saved_pct"] = max(saved) if saved else None
    for scenario, row in zip(scenarios, rows, strict=True):
        key = f"s{scenario.number}"
        metrics[f"{key}_jobs"] = len(scenario.jobs)
        metrics[f"{key}_first_chain_sent"] = row["first_chain_sent"]
        for name in ("human", "machine", "failed", "unlabeled"):
            metrics[f"{key}_{name}"] = row[name]
        metrics[f"{key}_complete"] = int(row["complete"])
        metrics[f"{key}_cost_usd"] = row["cost_usd"]
        metrics[f"{key}_saved_pct"] = row["saved_pct"]
        metrics[f"{key}_saved_by_chaining_usd"] = row["saved_by_chaining_usd"]
        metrics[f"{key}_auto_accuracy"] = row["auto_accuracy"]
        metrics[f"{key}_auto_accuracy_low"] = (
            row["auto_accuracy_ci95"][0] if scenario.machine else None
        )
        metrics[f"{key}_auto_accuracy_high"] = (
            row["auto_accuracy_ci95"][1] if scenario.machine else None
        )
        metrics[f"{key}_label_accuracy"] = row["label_accuracy"]
    if 2 in config.scenarios:
        chain = next(s for s in scenarios if s.number == 2).chained_jobs
        found = _first_trained(chain)
        if found is not None:
            _, stats = found
            metrics["s2_round1_threshold"] = stats.threshold
            metrics["s2_round1_train"] = stats.train_size
            metrics["s2_round1_validation"] = stats.validation_size
            metrics["s2_round1_auto"] = stats.auto_labelled
            metrics["s2_round1_auto_accuracy"] = (
                stats.auto_correct / stats.auto_labelled if stats.auto_labelled else None
            )
            metrics["s2_round1_to_humans"] = stats.to_humans
    for mode, job in restarts.items():
        metrics[f"restart_{mode.replace('-', '_')}_sent"] = job.result.sent
    if restarts:
        metrics["restart_sent"] = max(j.result.sent for j in restarts.values())
    metrics["skipped"] = len(problems)
    metrics["skipped_items"] = list(problems[:_MAX_LISTED])
    return metrics


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:,.2f}"


def _scenario_table(rows: Sequence[dict[str, Any]]) -> str:
    header = ["#", "parent job", "chained job", "jobs", "first chain sent", "human", "machine"]
    header += ["failed", "unlabelled", "auto-label accuracy [95 % CI]", "cost"]
    header += ["saved vs all-human", "restart cost", "saved by chaining"]
    cells: list[list[object]] = []
    for row in rows:
        accuracy = "-"
        if row["auto_accuracy"] is not None:
            low, high = row["auto_accuracy_ci95"]
            accuracy = f"{row['auto_accuracy']:.3f} [{low:.3f}, {high:.3f}]"
        cells.append(
            [
                row["scenario"],
                row["parent"],
                row["chained"],
                len(row["jobs"]),
                row["first_chain_sent"],
                row["human"],
                row["machine"],
                row["failed"],
                row["unlabeled"],
                accuracy,
                _money(row["cost_usd"]),
                f"{_money(row['saved_usd'])} ({row['saved_pct']:.1f} %)",
                _money(row["restart_cost_usd"]),
                _money(row["saved_by_chaining_usd"]),
            ]
        )
    return markdown_table(header, cells) + "\n"


def _savings_note(config: LabelChainConfig) -> str:
    """Why automated labeling saves what it saves under these prices."""
    human, machine = config.price_per_human_label, config.price_per_machine_label
    if human <= 0:
        return ""
    ceiling = 100 * (1 - machine / human)
    return (
        f"Ground Truth bills its per-object fee for machine labels too, so a machine label"
        f" costs {100 * machine / human:.0f} % of a human one here and automated labeling"
        f" saves at most {ceiling:.0f} % of the all-human cost, however many objects it"
        ' labels; the article\'s "up to 70 %" needs human labels that cost more (more'
        " workers per object, vendor prices) or counts the workforce alone. Chaining saves"
        " the parent's labels either way: *restart* pays for them twice (the restart's own"
        " failed objects are left out of its cost).\n\n"
    )


def _chain_lines(scenarios: Sequence[ScenarioResult]) -> str:
    lines = []
    for scenario in scenarios:
        check = scenario.check
        parts = " + ".join(
            f"{n} ({job.role})" for n, job in zip(check.new_labels, scenario.jobs, strict=True)
        )
        left = scenario.final.failed + scenario.final.unlabeled
        verdict = (
            "every object labelled exactly once"
            if check.complete
            else f"{left} objects still unlabelled or failed"
        )
        if not check.ok:
            verdict = (
                f"CHAIN CHECK FAILED: {len(check.relabelled)} relabelled, {len(check.lost)} lost"
            )
        lines.append(
            f"- Scenario {scenario.number}: {parts} = {sum(check.new_labels)} of"
            f" {check.objects} objects; {verdict}."
        )
    return "\n".join(lines) + "\n"


def _rounds_table(scenarios: Sequence[ScenarioResult], restarts: dict[str, JobRun]) -> str:
    header = ["job", "round", "model", "trained on", "validation", "threshold"]
    header += ["validation accuracy above", "auto-labelled", "their true accuracy", "to people"]
    cells: list[list[object]] = []
    jobs = [j for s in scenarios for j in s.jobs] + list(restarts.values())
    for job in jobs:
        for stats in job.result.rounds:
            model = "reused" if stats.reused_model else ("trained" if stats.trained else "-")
            accuracy = stats.auto_correct / stats.auto_labelled if stats.auto_labelled else None
            threshold = "-" if not stats.trained else number(stats.threshold)
            if stats.trained and stats.threshold is None:
                threshold = "none reached"
            cells.append(
                [
                    job.name,
                    stats.round,
                    model,
                    stats.train_size or "-",
                    stats.validation_size or "-",
                    threshold,
                    number(stats.validation_accuracy),
                    stats.auto_labelled,
                    number(accuracy),
                    stats.to_humans,
                ]
            )
    return markdown_table(header, cells) + "\n" if cells else "No job ran automated labeling.\n"


def _facts_table(metrics: dict[str, Any], config: LabelChainConfig) -> str:
    if "s2_round1_auto" not in metrics:
        return ""
    low, high = wilson_interval(
        round((metrics["s2_round1_auto_accuracy"] or 0) * metrics["s2_round1_auto"]),
        metrics["s2_round1_auto"],
    )
    same = config.objects in (0, 1797) and config.stop_after_labels == 300
    accuracy = number(metrics["s2_round1_auto_accuracy"])
    rows = [
        ("objects the chained job sends", FACTS["sent"], metrics["s2_first_chain_sent"]),
        (
            "human labels trained on / validated on",
            "240 / 60",
            f"{metrics['s2_round1_train']} / {metrics['s2_round1_validation']}",
        ),
        ("confidence threshold", FACTS["threshold"], number(metrics["s2_round1_threshold"])),
        ("objects auto-labelled", FACTS["auto"], metrics["s2_round1_auto"]),
        (
            "their true accuracy [95 % CI]",
            FACTS["accuracy"],
            f"{accuracy} [{number(low)}, {number(high)}]",
        ),
        ("sent back to people", FACTS["to_humans"], metrics["s2_round1_to_humans"]),
    ]
    note = (
        ""
        if same
        else "\n(This run's settings differ from the facts' 1,797 objects and 300 labels.)\n"
    )
    header = ["measure (scenario 2, first auto-labeling round)", "facts", "this run"]
    return markdown_table(header, rows) + "\n" + note


def _facts_note(metrics: dict[str, Any]) -> str:
    auto, accuracy = metrics["s2_round1_auto"], metrics["s2_round1_auto_accuracy"]
    more = "more" if auto > FACTS["auto"] else "fewer"
    return (
        "\nThe facts do not name their model or threshold rule, and the thresholds of two"
        f" models' confidences do not compare. This run's first round auto-labels {more}"
        f" objects ({auto} against {FACTS['auto']}) at a true accuracy of"
        f" {number(accuracy)} against {FACTS['accuracy']}: its threshold is the lowest that"
        " keeps the validation objects above it at the target accuracy, as Ground Truth's"
        " documentation describes, so its accuracy lands near the target rather than well"
        " above it.\n"
    )


def _report(
    scenarios: Sequence[ScenarioResult],
    restarts: dict[str, JobRun],
    rows: Sequence[dict[str, Any]],
    objects: Objects,
    config: LabelChainConfig,
    metrics: dict[str, Any],
    figures: Sequence[str],
    aws_text: str,
) -> str:
    share = validation_share(len(objects))
    model = {
        "svm_rbf": "an RBF SVM (confidence: the sigmoid of twice the predicted class's"
        " weakest one-vs-one margin)",
        "logistic": "logistic regression (confidence: the top class probability)",
    }[config.model]
    workers = config.workers_per_object
    parts = [
        "## What ran\n\n",
        f"{len(objects)} objects of scikit-learn's {objects.name} (8x8 images, 10 classes),"
        f" label attribute `{config.attribute}`. People are a scripted oracle that knows every"
        f" object's true class: {workers} worker(s) per object, each wrong with probability"
        f" {config.human_error_rate:g}, majority vote; a task expires (the object fails, with a"
        f" `failure-reason`) with probability {config.human_failure_rate:g}. Each scenario's"
        f" parent job is stopped after {config.stop_after_labels} labels (the article stopped"
        " its job after 1,000); scenarios 5 and 6 start instead from"
        f" {config.stop_after_labels} third-party labels (wrong with probability"
        f" {config.third_party_error_rate:g}). Jobs are then chained under the same attribute,"
        " reading the prior job's output manifest from disk, until nothing is unlabelled or"
        f" failed (at most {config.max_chained_jobs} chained jobs).\n\n",
        f"Automated labeling (AL) trains {model} on the 64 pixel intensities once"
        f" {config.human_batch} human labels exist, holds out a random {share:.0%} of the human"
        f" labels as validation set (Ground Truth's share below 5,000 objects), picks the"
        f" lowest confidence at which the validation objects above it are at least"
        f" {config.target_accuracy:.0%} accurate (at least {config.min_validation_above} of"
        f" them), labels the objects above it, sends the {config.human_batch} least confident"
        " of the rest to people and repeats. A job chained after an AL job starts from its"
        " model (`InitialActiveLearningModelArn`) and validates it on human labels it was not"
        f" trained on. AL needs an input of {config.auto_min_objects} objects.\n\n",
        f"Costs: ${config.price_per_human_label:g} per human label and"
        f" ${config.price_per_machine_label:g} per machine label (Ground Truth's published"
        " $0.08 per labelled object, plus 3 x $0.012 public-workforce tasks for people; AL's"
        " training and inference compute and failed objects are not priced). Third-party"
        " labels are priced as human labels. *All-human* labels every object by people;"
        " *restart* throws the parent's labels away and runs the chained mode from scratch"
        " under a new attribute name.\n\n",
        "## The article's scenarios\n\n",
        _scenario_table(rows),
        "\nAuto-label accuracy is measured against the oracle's true classes (Wilson 95 %"
        " interval). It can fall below the target: the threshold is chosen on a validation"
        " set of tens of objects, whose own accuracy estimate is that noisy.\n\n",
        _savings_note(config),
        "## Each object labelled once\n\n",
        "New labels per output manifest (a label, once written, must reappear unchanged in"
        " every later manifest; the check compares them line by line):\n\n",
        _chain_lines(scenarios),
    ]
    if restarts:
        sent = ", ".join(
            f"{MODE_NAMES[m]} `{j.name}` sent {j.result.sent}" for m, j in restarts.items()
        )
        attribute = next(iter(restarts.values())).result.spec.attribute
        parts.append(
            f"\nUnder a new attribute name (`{attribute}`)"
            f" on a manifest that already had {scenarios[0].jobs[0].result.labels} labels, every"
            f" object goes out again: {sent} of {len(objects)}.\n"
        )
    facts = _facts_table(metrics, config)
    if facts:
        parts += [
            "\n## Against the measured facts (plugins-facts §6)\n\n",
            facts,
            _facts_note(metrics),
        ]
    parts += ["\n## Automated labeling rounds\n\n", _rounds_table(scenarios, restarts)]
    notes = [
        f"- {job.name}: {job.result.note}" for s in scenarios for job in s.jobs if job.result.note
    ]
    if notes:
        parts += ["\n", "\n".join(notes), "\n"]
    parts += [
        "\n## Files\n\n",
        "- `input.manifest`: the unlabelled objects (`source-ref` only).\n",
        "- `<scenario>/<job>/output.manifest`: each job's output manifest (Ground Truth's"
        " augmented manifest format), and `counters.json` beside it: `LabelCounters`, what"
        " the job itself sent and labelled, its AL rounds.\n",
        "- `restart/<job>/`: the jobs under a new attribute name.\n",
        "- `scenarios.json`: the table above; `problems.json`: skipped manifest lines.\n",
    ]
    parts += [f"- `{name}`\n" for name in figures]
    if metrics["skipped"]:
        listed = "\n".join(f"- {p}" for p in metrics["skipped_items"])
        parts += [f"\n## Skipped lines ({metrics['skipped']})\n\n{listed}\n"]
    parts += [
        "\n## What differs from Ground Truth\n\n",
        "- People are simulated: a scripted oracle with a configurable error rate, not a"
        " workforce; the real consolidation (an EM-style model across workers) is a majority"
        " vote here, and confidences are vote shares.\n",
        "- Automated labeling uses a small scikit-learn model on 8x8 digits, not Ground"
        " Truth's built-in image classification network; the loop (validation share,"
        " 95 % target, low-confidence objects to people) follows Ground Truth's"
        " documentation.\n",
        "- No images are written or uploaded; `source-ref`s name where they would be.\n",
        "- SageMaker Ground Truth is no longer open to new customers; `backend: aws` only"
        " chains a job an existing account already has (`aws_prior_job`).\n",
    ]
    if aws_text:
        parts += ["\n", aws_text]
    return "".join(parts)


def _run_aws(config: LabelChainConfig, context: RunContext, metrics: dict[str, Any]) -> str:
    """Chains the prior job with Ground Truth; returns the report's section."""
    from deepracer.plugins.label_chain.aws import chain_prior_job

    outcome = chain_prior_job(
        context.client("sagemaker"), context.client("s3"), config, echo=context.echo
    )
    job = outcome.job
    document: dict[str, Any] = {
        "prior_job": outcome.prior.name,
        "prior_status": outcome.prior.status,
        "prior_output_manifest": outcome.prior.output_manifest,
        "prior_final_model": outcome.prior.final_model,
        "attribute": outcome.attribute,
        "prior_counters": outcome.plan.as_dict(),
        "to_send": outcome.to_send,
        "request": outcome.request,
        "arn": outcome.arn,
        "status": None if job is None else job.status,
        "counters": None if job is None else job.counters.as_dict(),
        "output_manifest": None if job is None else job.output_manifest,
        "stopped": outcome.stopped,
        "chain_ok": None if outcome.check is None else outcome.check.ok,
        "problems": outcome.problems,
        "notes": outcome.notes,
    }
    context.write_json("aws.json", document)
    metrics["aws_to_send"] = outcome.to_send
    metrics["aws_prior_labeled"] = outcome.plan.labeled
    if job is not None:
        metrics["aws_human"] = job.counters.human
        metrics["aws_machine"] = job.counters.machine
        metrics["aws_failed"] = job.counters.failed
        metrics["aws_unlabeled"] = job.counters.unlabeled
    if outcome.check is not None:
        metrics["aws_chain_ok"] = int(outcome.check.ok)
    lines = [
        "## SageMaker Ground Truth (backend aws)\n\n",
        f"Prior job `{outcome.prior.name}` ({outcome.prior.status}), output manifest"
        f" `{outcome.prior.output_manifest}`: under `{outcome.attribute}`"
        f" {outcome.plan.labeled} labelled, {outcome.plan.failed} failed,"
        f" {outcome.plan.unlabeled} unlabelled, so the chained job sends {outcome.to_send}.\n\n",
    ]
    if outcome.request is not None:
        algorithms = outcome.request.get("LabelingJobAlgorithmsConfig")
        model = (algorithms or {}).get("InitialActiveLearningModelArn")
        lines.append(
            f"Created `{outcome.request['LabelingJobName']}` ({outcome.arn}) with the prior"
            " output manifest as input, "
            + ("automated labeling" if algorithms else "people only")
            + (f" starting from `{model}`" if model else "")
            + ".\n\n"
        )
    if job is not None:
        lines.append(
            f"Its status: {job.status}; `LabelCounters`: {job.counters.human} human,"
            f" {job.counters.machine} machine, {job.counters.failed} failed,"
            f" {job.counters.unlabeled} unlabelled"
            + (" (stopped by this run)" if outcome.stopped else "")
            + ".\n\n"
        )
    if outcome.check is not None:
        check = outcome.check
        lines.append(
            f"Chain check of the two output manifests: {'ok' if check.ok else 'FAILED'}"
            f" ({check.new_labels[-1]} new labels, {len(check.relabelled)} relabelled,"
            f" {len(check.lost)} lost).\n\n"
        )
    lines += [f"- {note}\n" for note in outcome.notes]
    if outcome.problems:
        lines.append(f"- {len(outcome.problems)} manifest lines skipped (see aws.json)\n")
    return "".join(lines)
