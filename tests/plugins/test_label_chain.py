"""The label_chain plugin: chaining semantics, the simulation, the six scenarios, AWS."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from deepracer import plugins
from deepracer.cli import main as cli
from deepracer.errors import ConfigError, DeepRacerError
from deepracer.plugins.custom_labels.manifest import (
    ManifestRecord,
    make_label,
    parse_manifest,
    read_manifest,
    record_to_json,
    write_manifest,
)
from deepracer.plugins.label_chain import plugin
from deepracer.plugins.label_chain.chain import (
    count_labels,
    failure_reason,
    label_state,
    to_label,
    verify_chain,
    with_failure,
    with_label,
)
from deepracer.plugins.label_chain.config import LabelChainConfig
from deepracer.plugins.label_chain.scenarios import (
    Prices,
    run_scenario,
    write_new_manifest,
)
from deepracer.plugins.label_chain.simulate import (
    JobSpec,
    LearnSettings,
    Oracle,
    SimClock,
    choose_threshold,
    job_rng,
    load_objects,
    run_job,
    validation_share,
    wilson_interval,
)
from tests.cloud.conftest import aws_env, mock_aws  # noqa: F401
from tests.plugins.helpers import offline_client, read_metrics, write_experiment

REGION = "us-east-1"
WHEN = datetime(2019, 4, 9, 21, 13, 37, 730999)
PREFIX = "s3://bucket/digits/"
# A small, fast configuration: automated labeling allowed on 400 objects.
SMALL: dict[str, Any] = {
    "objects": 400,
    "stop_after_labels": 80,
    "human_batch": 50,
    "min_validation_above": 10,
    "auto_min_objects": 200,
    "human_failure_rate": 0.05,
}


def _label(class_id: int = 0, *, job: str = "labeling-job/j", human: bool = True) -> Any:
    return make_label(class_id, f"c{class_id}", job_name=job, human_annotated=human, when=WHEN)


def _run(tmp_path: Path, section: dict[str, Any], out: str = "run", **common: Any) -> Path:
    path = write_experiment(tmp_path, "label_chain", section, **common)
    run_dir = tmp_path / out
    assert cli(["run", str(path), "--out", str(run_dir)]) == 0
    return run_dir


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------- chaining semantics


def test_a_chained_job_sends_only_unlabelled_and_failed_lines() -> None:
    lines = [
        {"source-ref": "a.png"},  # unlabelled
        record_to_json(ManifestRecord("b.png", {"digit": _label(3)})),  # by people
        record_to_json(ManifestRecord("c.png", {"digit": _label(4, human=False)})),  # machine
        {  # failed: metadata with a failure-reason and no value
            "source-ref": "d.png",
            "digit-metadata": {"failure-reason": "ClientError: expired", "job-name": "x"},
        },
        record_to_json(ManifestRecord("e.png", {"other": _label(1)})),  # another attribute
        {  # a bounding-box label under the attribute: labelled, whatever its type
            "source-ref": "f.png",
            "digit": {"annotations": []},
            "digit-metadata": {"type": "groundtruth/object-detection", "human-annotated": "no"},
        },
    ]
    records, problems = parse_manifest("\n".join(json.dumps(line) for line in lines))
    assert problems == []
    assert [label_state(r, "digit") for r in records] == [
        "unlabeled",
        "labeled",
        "labeled",
        "failed",
        "unlabeled",
        "labeled",
    ]
    assert to_label(records, "digit") == [0, 3, 4]
    assert failure_reason(records[3], "digit") == "ClientError: expired"
    counters = count_labels(records, "digit")
    assert (counters.human, counters.machine, counters.failed, counters.unlabeled) == (1, 2, 1, 2)
    assert counters.as_dict()["TotalLabeled"] == 3 and counters.total == 6
    # A different attribute name relabels everything that has no label under it.
    assert to_label(records, "digit-v2") == [0, 1, 2, 3, 4, 5]


def test_a_failure_beside_a_value_still_goes_out_again() -> None:
    line = record_to_json(ManifestRecord("a.png", {"digit": _label(2)}))
    line["digit-metadata"]["failure-reason"] = "ClientError: consolidation failed"
    (record,), _ = parse_manifest(json.dumps(line))
    assert label_state(record, "digit") == "failed" and to_label([record], "digit") == [0]


def test_labels_and_failures_round_trip_and_replace_each_other(tmp_path: Path) -> None:
    record = ManifestRecord("a.png", extra={"keep": [1, 2]})
    failed = with_failure(record, "digit", "expired", job_name="labeling-job/j1", when=WHEN)
    path = write_manifest(tmp_path / "f.manifest", [failed])
    (back,), problems = read_manifest(path)
    assert problems == [] and label_state(back, "digit") == "failed"
    assert json.loads(path.read_text())["digit-metadata"] == {
        "failure-reason": "expired",
        "type": "groundtruth/image-classification",
        "job-name": "labeling-job/j1",
        "creation-date": "2019-04-09T21:13:37.730999",
    }
    relabelled = with_label(back, "digit", _label(5, job="labeling-job/j2"))
    data = record_to_json(relabelled)
    assert "failure-reason" not in data["digit-metadata"] and data["digit"] == 5
    assert data["keep"] == [1, 2] and label_state(relabelled, "digit") == "labeled"


def test_third_party_labels_in_the_articles_format_are_accepted() -> None:
    line = {
        "source-ref": "s3://bucket-name/datasets/streetscenes/SSDB03295.JPG",
        "third-party-label": 0,
        "third-party-label-metadata": {
            "confidence": 0.95,
            "job-name": "labeling-job/third-party-label",
            "class-name": "vehicles",
            "human-annotated": "yes",
            "creation-date": "2019-04-09T21:25:51.110794",
            "type": "groundtruth/image-classification",
        },
    }
    records, problems = parse_manifest(json.dumps(line) + "\n" + json.dumps({"source-ref": "x"}))
    assert problems == []
    assert to_label(records, "third-party-label") == [1]
    assert count_labels(records, "third-party-label").human == 1


def test_verify_chain_finds_relabelled_and_lost_objects() -> None:
    first = [ManifestRecord("a", {"d": _label(1)}), ManifestRecord("b")]
    second = [ManifestRecord("a", {"d": _label(1)}), ManifestRecord("b", {"d": _label(2)})]
    good = verify_chain([first, second], "d")
    assert good.ok and good.complete and good.new_labels == [1, 1]
    rewritten = [ManifestRecord("a", {"d": _label(7)}), second[1]]
    bad = verify_chain([first, rewritten], "d")
    assert bad.relabelled == ["manifest 2: a"] and not bad.ok
    dropped = verify_chain([second, first], "d")
    assert dropped.lost == ["manifest 2: b lost its label"]
    shorter = verify_chain([first, first[:1]], "d")
    assert shorter.lost and "1 missing, e.g. b" in shorter.lost[0]
    # A service may write its lines in another order: match them by source-ref.
    assert verify_chain([first, second[::-1]], "d", ordered=False).complete
    assert not verify_chain([first, second[::-1]], "d").ok


def test_an_output_manifest_is_never_rewritten(tmp_path: Path) -> None:
    path = write_new_manifest(tmp_path / "job" / "output.manifest", [ManifestRecord("a")])
    before = _digest(path)
    with pytest.raises(DeepRacerError, match=r"never\s+rewrites"):
        write_new_manifest(path, [ManifestRecord("b")])
    assert _digest(path) == before


# ------------------------------------------------------------------------ simulation


def test_the_oracle_errs_fails_and_votes_as_configured() -> None:
    truth = np.zeros(4000, dtype=np.int64)
    rng = np.random.default_rng(0)
    one = Oracle(truth, classes=10, workers=1, error_rate=0.3)
    answers = [one.ask(k, rng) for k in range(4000)]
    wrong = sum(a is not None and a[0] != 0 for a in answers) / 4000
    assert abs(wrong - 0.3) < 0.03 and all(a is not None and a[1] == 0.0 for a in answers)
    three = Oracle(truth, classes=10, workers=3, error_rate=0.3, failure_rate=0.1)
    answers = [three.ask(k, rng) for k in range(4000)]
    failed = sum(a is None for a in answers) / 4000
    voted = [a for a in answers if a is not None]
    majority_wrong = sum(a[0] != 0 for a in voted) / len(voted)
    assert abs(failed - 0.1) < 0.02
    # Three workers err together less often than one (about 0.22 here).
    assert majority_wrong < 0.26 and {a[1] for a in voted} <= {0.33, 0.67, 1.0}


def test_threshold_is_the_lowest_that_keeps_the_target_accuracy() -> None:
    confidence = np.array([0.99, 0.95, 0.9, 0.9, 0.8, 0.7, 0.6])
    correct = np.array([True, True, True, True, True, False, False])
    threshold, curve = choose_threshold(confidence, correct, target=0.8, min_above=2)
    # Above 0.7: 5 of 6 right (0.83); above 0.6: 5 of 7 (0.71).
    assert threshold == 0.7
    assert curve.thresholds == [0.99, 0.95, 0.9, 0.8, 0.7, 0.6]  # the tie at 0.9 is one step
    assert curve.coverage[2] == pytest.approx(4 / 7)
    none, _ = choose_threshold(confidence, ~correct, target=0.95, min_above=1)
    assert none is None
    few, _ = choose_threshold(confidence[:2], correct[:2], target=0.95, min_above=3)
    assert few is None


def test_validation_share_and_wilson_interval() -> None:
    assert validation_share(4999) == 0.2 and validation_share(5000) == 0.1
    low, high = wilson_interval(95, 100)
    assert 0.88 < low < 0.95 < high < 0.98
    assert all(np.isnan(wilson_interval(0, 0)))


def test_facts_digits_300_labels_then_a_chain_sends_exactly_1497() -> None:
    objects = load_objects(0, PREFIX, 0)
    oracle = Oracle(objects.truth, 10, workers=3)
    settings = LearnSettings()
    records = [ManifestRecord(r) for r in objects.source_refs]
    clock = SimClock()
    parent = run_job(
        records,
        JobSpec("p", "digit", stop_after=300),
        objects,
        oracle,
        settings,
        clock=clock,
        rng=job_rng(0, "p"),
    )
    assert parent.human == 300 and parent.stopped and parent.counters.unlabeled == 1497
    chain = run_job(
        parent.records,
        JobSpec("p-chain", "digit", auto=True),
        objects,
        oracle,
        settings,
        clock=clock,
        rng=job_rng(0, "p-chain"),
    )
    assert chain.sent == 1497
    first = chain.rounds[0]
    assert (first.train_size, first.validation_size) == (240, 60)  # the facts' split
    assert first.threshold is not None and first.auto_labelled > 900
    low, _ = wilson_interval(first.auto_correct, first.auto_labelled)
    assert low > 0.93
    assert chain.counters.unlabeled == 0 and chain.human + chain.machine + chain.failed == 1497


def test_auto_labeling_needs_a_large_enough_input() -> None:
    objects = load_objects(300, PREFIX, 0)
    records = [ManifestRecord(r) for r in objects.source_refs]
    result = run_job(
        records,
        JobSpec("j", "digit", auto=True),
        objects,
        Oracle(objects.truth, 10),
        LearnSettings(),
        clock=SimClock(),
        rng=job_rng(0, "j"),
    )
    assert result.machine == 0 and result.human == 300 and not result.auto_used
    assert "at least 1250 objects" in result.note


def test_auto_labeling_ends_even_when_most_tasks_fail() -> None:
    objects = load_objects(400, PREFIX, 0)
    oracle = Oracle(objects.truth, 10, failure_rate=0.8)
    settings = LearnSettings(human_batch=50, min_validation_above=10, auto_min_objects=200)
    records = [ManifestRecord(r) for r in objects.source_refs]
    for k in range(3):
        result = run_job(
            records,
            JobSpec(f"j{k}", "digit", auto=True, stop_after=150 if k == 0 else None),
            objects,
            oracle,
            settings,
            clock=SimClock(),
            rng=job_rng(0, f"j{k}"),
        )
        assert result.counters.total == 400 and result.failed > 0
        assert result.stopped == (k == 0 and result.labels == 150)
        records = result.records
    assert count_labels(records, "digit").labeled > 200


def test_unknown_objects_pass_through_and_are_reported() -> None:
    objects = load_objects(50, PREFIX, 0)
    records = [ManifestRecord(r) for r in objects.source_refs] + [
        ManifestRecord("s3://elsewhere/x.png", line=51)
    ]
    result = run_job(
        records,
        JobSpec("j", "digit"),
        objects,
        Oracle(objects.truth, 10),
        LearnSettings(),
        clock=SimClock(),
        rng=job_rng(0, "j"),
    )
    assert result.sent == 50 and result.records[-1] == records[-1]
    assert result.problems == [
        "line 51: 's3://elsewhere/x.png' is not an object of digits; passed through unlabelled"
    ]


# ------------------------------------------------------------------------- scenarios


def _scenario(number: int, tmp_path: Path, input_path: Path | None = None, **changes: Any) -> Any:
    config = LabelChainConfig(**{**SMALL, **changes})
    objects = load_objects(config.objects, PREFIX, 0)
    if input_path is None:
        input_path = write_manifest(
            tmp_path / "input.manifest", [ManifestRecord(r) for r in objects.source_refs]
        )
    oracle = Oracle(
        objects.truth, 10, workers=1, failure_rate=config.human_failure_rate, error_rate=0.05
    )
    settings = LearnSettings(
        human_batch=config.human_batch,
        min_validation_above=config.min_validation_above,
        auto_min_objects=config.auto_min_objects,
    )
    result = run_scenario(
        number,
        config,
        objects,
        oracle,
        settings,
        Prices(human=0.116, machine=0.08),
        seed=0,
        input_path=input_path,
        folder=tmp_path,
        echo=lambda _: None,
    )
    return result, objects


@pytest.mark.parametrize("number", [1, 4, 5])
def test_stop_after_n_labels_then_chain_labels_exactly_the_rest_once(
    tmp_path: Path, number: int
) -> None:
    result, objects = _scenario(number, tmp_path)
    everything = set(objects.source_refs)
    parent = result.jobs[0]
    assert parent.result.labels == 80
    parent_bytes = _digest(parent.output_path)
    # Read back from the files every job wrote: who labelled which object.
    by_job: dict[str, set[str]] = {}
    before: set[str] = set()
    for job in result.jobs:
        records, problems = read_manifest(job.output_path)
        assert problems == [] and len(records) == 400
        labelled = {r.source_ref for r in records if label_state(r, "digit") == "labeled"}
        assert before <= labelled  # nothing lost
        new = labelled - before
        assert all(
            r.labels["digit"].job_name == f"labeling-job/{job.name}"
            for r in records
            if r.source_ref in new
        )
        by_job[job.name] = {str(ref) for ref in new}
        assert len(new) == job.result.human + job.result.machine  # counts add up
        before = labelled
    chained = result.jobs[1]
    assert chained.result.sent == 400 - 80  # exactly the rest: unlabelled + failed
    assert chained.input_path == parent.output_path
    sets = list(by_job.values())
    assert set().union(*sets) == everything  # every object labelled ...
    assert sum(len(s) for s in sets) == len(everything)  # ... by exactly one job
    final, _ = read_manifest(result.jobs[-1].output_path)
    owners = {r.source_ref: r.labels["digit"].job_name for r in final}
    for name, refs in by_job.items():
        assert all(owners[ref] == f"labeling-job/{name}" for ref in refs)
    assert result.check.complete and result.final.failed == result.final.unlabeled == 0
    assert sum(job.result.failed for job in result.jobs) > 0  # failures were sent again
    assert _digest(parent.output_path) == parent_bytes  # the parent's manifest untouched


def test_an_auto_labeling_chain_starts_from_the_parents_model(tmp_path: Path) -> None:
    # A parent big enough to train a model that reaches the target, and to use it.
    result, objects = _scenario(4, tmp_path, stop_after_labels=200, human_batch=100)
    parent, chain = result.jobs[0], result.jobs[1]
    assert parent.result.final_model is not None and parent.result.machine > 0
    assert chain.initial_model == parent.result.final_model.name
    first = chain.result.rounds[0]
    assert first.reused_model and first.validation_size >= 10
    assert chain.result.machine > 0
    # Auto labels are scored against the oracle's truth.
    final, _ = read_manifest(result.jobs[-1].output_path)
    machine = [r for r in final if not r.labels["digit"].human_annotated]
    right = sum(
        r.labels["digit"].class_id == objects.truth[objects.index[str(r.source_ref)]]
        for r in machine
    )
    assert right == result.machine_correct and len(machine) == result.machine


def test_a_bad_manifest_line_is_skipped_and_reported_with_its_line(tmp_path: Path) -> None:
    objects = load_objects(400, PREFIX, 0)
    lines = [json.dumps({"source-ref": r}) for r in objects.source_refs]
    lines.insert(2, '{"source-ref": "broken.png"')
    path = tmp_path / "input.manifest"
    path.write_text("\n".join(lines) + "\n")
    before = _digest(path)
    result, _ = _scenario(1, tmp_path, input_path=path)
    (problem,) = result.jobs[0].problems
    assert problem.startswith(f"{path}:3: not valid JSON") and problem.endswith("(skipped)")
    assert result.check.complete and result.check.objects == 400
    assert _digest(path) == before


# ------------------------------------------------------------------ configuration


@pytest.mark.parametrize(
    ("section", "words"),
    [
        ({"attribute": "digit-metadata"}, r"label_chain\.attribute: expected a label attribute"),
        ({"attribute": "source-ref"}, r"other than source/source-ref"),
        ({"attribute": "source"}, r"other than source/source-ref"),
        ({"attribute": "my_digit"}, r"letters, digits and hyphens"),
        ({"attribute": "mask-ref"}, r"not ending in -ref"),
        ({"job_name": "a" * 60}, r"label_chain\.job_name: expected a labeling job name"),
        ({"scenarios": [1, 7]}, r"scenario numbers from 1 to 6"),
        ({"scenarios": []}, r"non-empty list"),
        ({"human_error_rate": 1.0}, r"probability in \[0, 1\)"),
        ({"objects": 5}, r"0 \(every object\) or an integer >= 20"),
        ({"human_batch": 20, "min_validation_above": 10}, r"a fifth of human_batch"),
        ({"aws_stop_after_labels": 5}, r"needs aws_wait_minutes > 0"),
        ({"aws_attribute": "x-metadata"}, r"label_chain\.aws_attribute"),
        ({"atribute": "x"}, r"Did you mean 'attribute'"),
    ],
)
def test_bad_sections_are_clear_config_errors(
    tmp_path: Path, section: dict[str, Any], words: str
) -> None:
    with pytest.raises(ConfigError, match=words):
        plugins.load_plugin_experiment(write_experiment(tmp_path, "label_chain", section))


def test_the_shipped_experiment_loads() -> None:
    experiment, found = plugins.load_plugin_experiment("experiments/label_chain.yaml")
    assert found is plugin and experiment.section == LabelChainConfig()
    assert plugin.extra == "labels"


# -------------------------------------------------------------------------- the run


def test_a_run_writes_manifests_counters_table_plots_and_report(tmp_path: Path) -> None:
    section = {**SMALL, "human_error_rate": 0.05}
    run_dir = _run(tmp_path, section)
    metrics = read_metrics(run_dir)
    assert metrics["chains_ok"] == 6 and metrics["chains_complete"] == 6
    assert metrics["restart_sent"] == 400 and metrics["third_party_labels"] == 80
    for n in range(1, 7):
        assert metrics[f"s{n}_first_chain_sent"] == 320
        assert metrics[f"s{n}_unlabeled"] == metrics[f"s{n}_failed"] == 0
        assert metrics[f"s{n}_human"] + metrics[f"s{n}_machine"] == 400
    assert metrics["s1_machine"] == 0 and metrics["s2_machine"] > 0
    low, high = metrics["auto_accuracy_low"], metrics["auto_accuracy_high"]
    assert low <= metrics["auto_accuracy"] <= high
    rows = json.loads((run_dir / "scenarios.json").read_text())
    assert [r["scenario"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0]["saved_usd"] == 0.0 and rows[0]["saved_by_chaining_usd"] > 0
    counters = json.loads((run_dir / "s2-non-al-al/digits-s2-chain/counters.json").read_text())
    assert counters["LabelAttributeName"] == "digit"
    assert counters["input_manifest"] == "s2-non-al-al/digits-s2/output.manifest"
    assert counters["this_job"]["sent"] == 320 and counters["rounds"][0]["trained"]
    assert counters["LabelCounters"]["HumanLabeled"] >= 80
    parent = json.loads((run_dir / "s1-non-al-non-al/digits-s1/counters.json").read_text())
    assert parent["LabelingJobStatus"] == "Stopped"
    restart = read_manifest(run_dir / "restart/digits-restart/output.manifest")[0]
    # A new attribute labels everything again; the parent's labels stay beside it.
    assert all(
        "digit-restart" in r.labels for r in restart if label_state(r, "digit-restart") == "labeled"
    )
    assert sum("digit" in r.labels for r in restart) == 80
    for name in ("labels_by_source.png", "threshold_validation.png", "input.manifest"):
        assert (run_dir / name).stat().st_size > 0
    report = (run_dir / "report.md").read_text()
    for heading in ("## The article's scenarios", "## Each object labelled once"):
        assert heading in report
    assert "no longer open to new customers" in report
    assert "every object labelled exactly once" in report


def test_same_seed_same_manifests(tmp_path: Path) -> None:
    section = {**SMALL, "scenarios": [2, 6], "counterfactual": False}
    first = _run(tmp_path, section, out="a")
    second = _run(tmp_path, section, out="b")
    other = _run(tmp_path, section, out="c", seed=1)
    manifests = sorted(p.relative_to(first) for p in first.rglob("*.manifest"))
    assert len(manifests) >= 5
    for name in manifests:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert any((first / n).read_bytes() != (other / n).read_bytes() for n in manifests)


# ------------------------------------------------------------------------------ AWS

PRIOR = "streetscenes-job1"
ROLE = "arn:aws:iam::123456789012:role/gt"
MODEL = "arn:aws:sagemaker:us-east-1:123456789012:model/streetscenes-job1-final"
HUMAN_TASK = {
    "WorkteamArn": "arn:aws:sagemaker:us-east-1:394669845002:workteam/public-crowd/default",
    "UiConfig": {"UiTemplateS3Uri": "s3://gt-labels/template.liquid"},
    "PreHumanTaskLambdaArn": "arn:aws:lambda:us-east-1:432418664414:function:PRE-ImageMultiClass",
    "TaskTitle": "Image Categorization",
    "TaskDescription": "Categorize images",
    "NumberOfHumanWorkersPerDataObject": 3,
    "TaskTimeLimitInSeconds": 300,
    "AnnotationConsolidationConfig": {
        "AnnotationConsolidationLambdaArn": (
            "arn:aws:lambda:us-east-1:432418664414:function:ACS-ImageMultiClass"
        )
    },
}


def _described(
    name: str,
    status: str,
    *,
    manifest: str | None = None,
    counters: tuple[int, int, int, int] = (0, 0, 0, 0),
    auto: bool = False,
    model: str | None = None,
) -> dict[str, Any]:
    human, machine, failed, unlabeled = counters
    data: dict[str, Any] = {
        "LabelingJobStatus": status,
        "LabelCounters": {
            "TotalLabeled": human + machine,
            "HumanLabeled": human,
            "MachineLabeled": machine,
            "FailedNonRetryableError": failed,
            "Unlabeled": unlabeled,
        },
        "CreationTime": WHEN,
        "LastModifiedTime": WHEN,
        "JobReferenceCode": "ref",
        "LabelingJobName": name,
        "LabelingJobArn": f"arn:aws:sagemaker:{REGION}:123456789012:labeling-job/{name}",
        "LabelAttributeName": PRIOR,
        "InputConfig": {
            "DataSource": {"S3DataSource": {"ManifestS3Uri": "s3://gt-labels/in.manifest"}},
            "DataAttributes": {"ContentClassifiers": ["FreeOfPersonallyIdentifiableInformation"]},
        },
        "OutputConfig": {"S3OutputPath": "s3://gt-labels/output/"},
        "RoleArn": ROLE,
        "LabelCategoryConfigS3Uri": "s3://gt-labels/labelcategory.json",
        "HumanTaskConfig": HUMAN_TASK,
    }
    if auto:
        data["LabelingJobAlgorithmsConfig"] = {
            "LabelingJobAlgorithmSpecificationArn": (
                f"arn:aws:sagemaker:{REGION}:027400017018:labeling-job-algorithm-specification/"
                "image-classification"
            )
        }
    if manifest is not None:
        data["LabelingJobOutput"] = {"OutputDatasetS3Uri": manifest}
        if model is not None:
            data["LabelingJobOutput"]["FinalActiveLearningModelArn"] = model
    return data


@pytest.fixture(scope="module")
def sagemaker() -> Any:
    return offline_client("sagemaker", REGION)


@pytest.fixture
def stubbed(sagemaker: Any) -> Iterator[Any]:
    from botocore.stub import Stubber

    with Stubber(sagemaker) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def _prior_manifest() -> list[ManifestRecord]:
    """Ten objects: four labelled (one by the model), one failed, five unlabelled."""
    records = [ManifestRecord(f"s3://gt-labels/img/{k}.jpg") for k in range(10)]
    for k in range(4):
        records[k] = with_label(
            records[k], PRIOR, _label(k % 3, job=f"labeling-job/{PRIOR}", human=k != 3)
        )
    records[4] = with_failure(records[4], PRIOR, "expired", job_name="j", when=WHEN)
    return records


def test_the_chained_request_continues_the_prior_job(sagemaker: Any, stubbed: Any) -> None:
    from deepracer.plugins.label_chain.aws import (
        chained_job_request,
        create_labeling_job,
        describe_labeling_job,
    )

    stubbed.add_response(
        "describe_labeling_job",
        _described(
            PRIOR, "Stopped", manifest="s3://gt-labels/out.manifest", auto=True, model=MODEL
        ),
        {"LabelingJobName": PRIOR},
    )
    prior = describe_labeling_job(sagemaker, PRIOR)
    request = chained_job_request(prior, name="streetscenes-job1-chain")
    assert request["InputConfig"]["DataSource"]["S3DataSource"] == {
        "ManifestS3Uri": "s3://gt-labels/out.manifest"
    }
    assert request["InputConfig"]["DataAttributes"]["ContentClassifiers"]
    assert request["LabelAttributeName"] == PRIOR and request["HumanTaskConfig"] == HUMAN_TASK
    assert request["StoppingConditions"] == {"MaxPercentageOfInputDatasetLabeled": 100}
    algorithms = request["LabelingJobAlgorithmsConfig"]
    assert algorithms["InitialActiveLearningModelArn"] == MODEL
    assert algorithms["LabelingJobAlgorithmSpecificationArn"].endswith("/image-classification")
    # Stubber checks the request against botocore's model of create_labeling_job.
    stubbed.add_response(
        "create_labeling_job", {"LabelingJobArn": "arn:aws:sagemaker:x:1:labeling-job/c"}, request
    )
    assert create_labeling_job(sagemaker, request).endswith("labeling-job/c")
    # Under a new attribute the model is not passed on; without AL there is no config.
    other = chained_job_request(prior, name="n", attribute="indoor", max_human_labels=50)
    assert "InitialActiveLearningModelArn" not in other["LabelingJobAlgorithmsConfig"]
    assert other["StoppingConditions"]["MaxHumanLabeledObjectCount"] == 50
    plain = chained_job_request(prior, name="n", auto_labeling=False)
    assert "LabelingJobAlgorithmsConfig" not in plain


def test_a_running_or_manifestless_prior_job_cannot_be_chained(
    sagemaker: Any, stubbed: Any
) -> None:
    from deepracer.plugins.label_chain.aws import chained_job_request, describe_labeling_job

    stubbed.add_response("describe_labeling_job", _described(PRIOR, "InProgress"))
    with pytest.raises(DeepRacerError, match="is InProgress; a job can be chained once"):
        chained_job_request(describe_labeling_job(sagemaker, PRIOR), name="c")
    stubbed.add_response("describe_labeling_job", _described(PRIOR, "Failed"))
    with pytest.raises(DeepRacerError, match="has no output manifest"):
        chained_job_request(describe_labeling_job(sagemaker, PRIOR), name="c")


def test_chained_job_names_stay_valid() -> None:
    from deepracer.plugins.label_chain.aws import chained_job_name

    assert chained_job_name("job1") == "job1-chain"
    assert chained_job_name("job1-chain") == "job1-chain-2"
    assert chained_job_name("job1-chain-7") == "job1-chain-8"
    assert len(chained_job_name("a" * 63)) == 63


def test_aws_errors_say_ground_truth_is_closed_to_new_customers(
    sagemaker: Any, stubbed: Any
) -> None:
    from deepracer.plugins.label_chain.aws import describe_labeling_job, stop_labeling_job

    stubbed.add_client_error(
        "describe_labeling_job", "AccessDeniedException", "not authorized", 400
    )
    with pytest.raises(DeepRacerError) as info:
        describe_labeling_job(sagemaker, PRIOR)
    text = str(info.value)
    assert "AccessDeniedException" in text and f"labeling job {PRIOR}" in text
    assert "no longer open to new customers" in text
    stubbed.add_client_error("stop_labeling_job", "ValidationException", "nope", 400)
    with pytest.raises(DeepRacerError, match="stop-labeling-job --labeling-job-name c"):
        stop_labeling_job(sagemaker, "c")


def _put(s3: Any, key: str, records: list[ManifestRecord], extra: bytes = b"") -> str:
    from deepracer.plugins.custom_labels.manifest import manifest_text

    s3.put_object(Bucket="gt-labels", Key=key, Body=manifest_text(records).encode() + extra)
    return f"s3://gt-labels/{key}"


def test_aws_chain_creates_polls_stops_and_checks(
    sagemaker: Any,
    stubbed: Any,
    mock_aws: None,  # noqa: F811
) -> None:
    import boto3

    from deepracer.plugins.label_chain.aws import chain_prior_job

    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="gt-labels")
    prior_records = _prior_manifest()
    prior_uri = _put(s3, "out/prior.manifest", prior_records, b"not json\n")
    after = list(prior_records)
    for k in (4, 5, 6):  # the chained job labelled three more, then was stopped
        after[k] = with_label(after[k], PRIOR, _label(1, job="labeling-job/c"))
    new_uri = _put(s3, "out/chain.manifest", after[::-1])  # in another order
    stubbed.add_response(
        "describe_labeling_job",
        _described(PRIOR, "Stopped", manifest=prior_uri, auto=True, model=MODEL),
    )
    stubbed.add_response("create_labeling_job", {"LabelingJobArn": "arn:c"}, None)
    name = f"{PRIOR}-chain"
    stubbed.add_response(
        "describe_labeling_job", _described(name, "InProgress", counters=(4, 1, 0, 5))
    )
    stubbed.add_response(
        "describe_labeling_job", _described(name, "InProgress", counters=(6, 1, 0, 3))
    )
    stubbed.add_response("stop_labeling_job", {}, {"LabelingJobName": name})
    stubbed.add_response(
        "describe_labeling_job", _described(name, "Stopping", counters=(6, 1, 0, 3))
    )
    stubbed.add_response(
        "describe_labeling_job",
        _described(name, "Stopped", manifest=new_uri, counters=(6, 1, 0, 3)),
    )
    config = LabelChainConfig(
        aws_prior_job=PRIOR, aws_stop_after_labels=2, aws_wait_minutes=10, aws_poll_seconds=5
    )
    waits: list[float] = []
    outcome = chain_prior_job(
        sagemaker, s3, config, echo=lambda _: None, sleep=waits.append, clock=lambda: 0.0
    )
    assert outcome.to_send == 6 and outcome.plan.labeled == 4 and outcome.plan.failed == 1
    assert outcome.problems == [
        f"{prior_uri}:11: not valid JSON (Expecting value at column 1) (skipped)"
    ]
    request = outcome.request
    assert request is not None and request["LabelingJobName"] == name
    assert request["InputConfig"]["DataSource"]["S3DataSource"]["ManifestS3Uri"] == prior_uri
    assert request["LabelingJobAlgorithmsConfig"]["InitialActiveLearningModelArn"] == MODEL
    assert outcome.stopped and waits == [5, 5, 5]
    assert outcome.job is not None and outcome.job.status == "Stopped"
    assert outcome.check is not None and outcome.check.ok
    assert outcome.check.new_labels == [4, 3]


def test_aws_nothing_to_send_creates_nothing(
    sagemaker: Any,
    stubbed: Any,
    mock_aws: None,  # noqa: F811
) -> None:
    import boto3

    from deepracer.plugins.label_chain.aws import chain_prior_job

    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="gt-labels")
    records = [with_label(ManifestRecord("a"), PRIOR, _label(0))]
    uri = _put(s3, "done.manifest", records)
    stubbed.add_response("describe_labeling_job", _described(PRIOR, "Completed", manifest=uri))
    outcome = chain_prior_job(sagemaker, s3, LabelChainConfig(aws_prior_job=PRIOR), echo=print)
    assert outcome.request is None and outcome.to_send == 0
    assert "no job was created" in outcome.notes[0]


def test_backend_aws_needs_a_prior_job(tmp_path: Path, aws_env: None) -> None:  # noqa: F811
    path = write_experiment(tmp_path, "label_chain", {**SMALL, "scenarios": [1]}, backend="aws")
    experiment, found = plugins.load_plugin_experiment(path)
    with pytest.raises(ConfigError, match=r"aws_prior_job: backend aws chains an existing"):
        plugins.run_experiment(experiment, found, tmp_path / "run", echo=lambda _: None)


def test_backend_aws_runs_end_to_end(
    tmp_path: Path,
    sagemaker: Any,
    stubbed: Any,
    mock_aws: None,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3

    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="gt-labels")
    uri = _put(s3, "prior.manifest", _prior_manifest())
    clients = {"sagemaker": sagemaker, "s3": s3}
    monkeypatch.setattr(plugins.RunContext, "client", lambda self, service: clients[service])
    stubbed.add_response("describe_labeling_job", _described(PRIOR, "Stopped", manifest=uri))
    stubbed.add_response("create_labeling_job", {"LabelingJobArn": "arn:c"}, None)
    stubbed.add_response(
        "describe_labeling_job",
        _described(f"{PRIOR}-chain", "InProgress", counters=(3, 1, 1, 5)),
    )
    section = {**SMALL, "scenarios": [1], "counterfactual": False, "aws_prior_job": PRIOR}
    run_dir = _run(tmp_path, section, backend="aws", aws={"region": REGION})
    metrics = read_metrics(run_dir)
    assert metrics["aws_to_send"] == 6 and metrics["aws_unlabeled"] == 5
    details = json.loads((run_dir / "aws.json").read_text())
    assert details["status"] == "InProgress" and details["request"]["LabelAttributeName"] == PRIOR
    assert "LabelingJobAlgorithmsConfig" not in details["request"]  # the prior had no AL
    assert "stop-labeling-job" in details["notes"][0]
    report = (run_dir / "report.md").read_text()
    assert "## SageMaker Ground Truth (backend aws)" in report
