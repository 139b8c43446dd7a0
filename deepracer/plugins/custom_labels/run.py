"""Running a ``custom_labels`` experiment: data, episodes, files, plots, report.

Contents:
    run: the plugin's entry point, ``run(config, context) -> PluginResult``.
"""

from __future__ import annotations

import importlib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from deepracer.errors import ConfigError
from deepracer.io import atomic_write_bytes
from deepracer.plugins import PluginResult, RunContext
from deepracer.plugins.custom_labels.config import CustomLabelsConfig
from deepracer.plugins.custom_labels.datasets import ImageSet, load_dataset
from deepracer.plugins.custom_labels.fewshot import (
    EpisodeResult,
    FeatureSpec,
    Summary,
    extract_features,
    fit_final,
    predict_with_confidence,
    run_episodes,
    summarize,
)
from deepracer.plugins.custom_labels.images import png_bytes
from deepracer.plugins.custom_labels.manifest import ManifestRecord, make_label, write_manifest
from deepracer.plugins.kit import markdown_table

__all__ = ["run"]

_CLASSIFIERS = {"svm_rbf": "RBF SVM", "logistic": "logistic regression"}
_FEATURES = {"hog": "HOG", "pixels": "pixels"}
_MAX_LISTED = 50
# Problems listed in metrics.json and the report (all of them go to problems.json).
FACTS_DIGITS = "0.949 ± 0.009"
"""Digits, HOG at 32 x 32 + RBF SVC, 20 ten-shot episodes (plugins-facts §5)."""


@dataclass
class _Arm:
    """One feature type's episodes."""

    spec: FeatureSpec
    label: str
    features: NDArray[np.float64]
    results: list[EpisodeResult]
    summary: Summary
    feature_seconds: float


def run(config: CustomLabelsConfig, context: RunContext) -> PluginResult:
    """Runs the experiment into ``context.run_dir`` (see the package docstring)."""
    # threadpoolctl (a scikit-learn dependency) ships no type information.
    threadpool_limits: Any = importlib.import_module("threadpoolctl").threadpool_limits
    # The fits are tiny (tens of images): BLAS threads only contend with each other,
    # and on a shared 2-core machine a 100-image logistic fit measured 12x slower
    # with them than without.
    with threadpool_limits(limits=1):
        return _run(config, context)


def _slug(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower() or "class"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}_{n}", n + 1
    taken.add(slug)
    return slug


def _arm(
    data: ImageSet, spec: FeatureSpec, config: CustomLabelsConfig, seed: int, echo: Any
) -> _Arm:
    started = time.perf_counter()
    features = extract_features(data.images, spec)
    seconds = time.perf_counter() - started
    label = f"{_FEATURES[spec.kind]} + {_CLASSIFIERS[config.classifier]}"
    echo(f"{label}: {features.shape[1]} features per image, {seconds:.1f} s")
    results = run_episodes(
        features,
        data.labels,
        n_classes=len(data.class_names),
        shots=config.shots,
        episodes=config.episodes,
        seed=seed,
        classifier=config.classifier,
        c=config.regularization,
        names=data.class_names,
        progress=echo,
    )
    return _Arm(spec, label, features, results, summarize(results), seconds)


def _run(config: CustomLabelsConfig, context: RunContext) -> PluginResult:
    echo = context.echo
    if context.backend == "aws" and not context.aws.s3.startswith("s3://"):
        # Checked before the local work, which takes a while on big manifests.
        raise ConfigError(
            "aws.s3: backend aws needs s3://BUCKET/PREFIX for the images and manifests"
            f" Custom Labels trains from, got {context.aws.s3!r}"
        )
    data = load_dataset(config, context.seed, log=echo)
    counts = data.counts()
    echo(
        f"{data.name}: {len(data.images)} images in {len(counts)} classes"
        f" ({', '.join(f'{k}: {v}' for k, v in counts.items())})"
    )
    if data.problems:
        echo(f"{len(data.problems)} manifest lines skipped; see problems.json")
    if len(counts) < 2:
        raise ConfigError(
            f"custom_labels: {data.name} has one class ({next(iter(counts))!r}); a classifier"
            " needs at least two"
        )
    spec = FeatureSpec(config.features, config.size, config.hog_cell, config.hog_orientations)
    main = _arm(data, spec, config, context.seed, echo)
    baseline = None
    if config.baseline:
        other = "pixels" if config.features == "hog" else "hog"
        baseline = _arm(
            data,
            FeatureSpec(other, config.size, config.hog_cell, config.hog_orientations),
            config,
            context.seed,
            echo,
        )

    files: list[str] = []
    predicted = _label_unlabelled(data, main, config, context, files)
    if config.export_episode:
        _export_episode(data, main.results[0].train, config, context, files)
    figures = _plots(data, main, baseline, config, context)

    metrics = _metrics(data, main, baseline, config, predicted)
    # The local results are written before the AWS chain, which can fail an hour in.
    context.write_json("problems.json", data.problems)
    context.write_json(
        "episodes.json",
        [
            {
                "episode": r.episode + 1,
                "accuracy": r.accuracy,
                "balanced_accuracy": r.balanced_accuracy,
                "baseline_accuracy": None if baseline is None else baseline.results[i].accuracy,
                "train": [data.sources[int(k)] for k in r.train],
            }
            for i, r in enumerate(main.results)
        ],
    )
    aws_text = ""
    if context.backend == "aws":
        aws_text = _run_aws(data, main.results[0], config, context, metrics)
    report = _report(data, main, baseline, config, metrics, figures, files, aws_text)
    return PluginResult(metrics=metrics, report=report)


# -- outputs -------------------------------------------------------------------------------


def _label_unlabelled(
    data: ImageSet,
    main: _Arm,
    config: CustomLabelsConfig,
    context: RunContext,
    files: list[str],
) -> int:
    """Labels a manifest's unlabelled images with a model fitted on all labelled ones."""
    if not data.unlabelled:
        return 0
    model = fit_final(main.features, data.labels, config.classifier, config.regularization)
    features = extract_features([image for _, image in data.unlabelled], main.spec)
    classes, confidence = predict_with_confidence(model, features)
    when = datetime.now(UTC)
    records = [
        ManifestRecord(
            source_ref=ref,
            labels={
                config.attribute: make_label(
                    data.class_id(int(c)),
                    data.class_names[int(c)],
                    job_name=f"labeling-job/{config.project_name}",
                    confidence=round(float(p), 4),
                    human_annotated=False,
                    when=when,
                )
            },
        )
        for (ref, _), c, p in zip(data.unlabelled, classes, confidence, strict=True)
    ]
    write_manifest(context.run_dir / "predictions.manifest", records)
    files.append(
        f"`predictions.manifest`: the {len(records)} unlabelled images labelled by a model"
        " fitted on every labelled image (`human-annotated: no`, confidence = the top"
        " class probability)"
    )
    context.echo(f"labelled {len(records)} unlabelled images -> predictions.manifest")
    return len(records)


def _export_episode(
    data: ImageSet,
    train: NDArray[np.int64],
    config: CustomLabelsConfig,
    context: RunContext,
    files: list[str],
) -> None:
    """Episode 1's training set as PNG files plus a Ground Truth manifest."""
    folder = context.run_dir / "train_images"
    folder.mkdir(exist_ok=True)
    when = datetime.now(UTC)
    job = f"labeling-job/{config.project_name}"
    records = []
    taken: set[str] = set()
    slugs = [_slug(n, taken) for n in data.class_names]
    # Grouped by class, as a person would label them.
    ordered = sorted(train.tolist(), key=lambda i: (int(data.labels[i]), i))
    for k, index in enumerate(ordered):
        class_id = int(data.labels[index])
        label = make_label(
            data.class_id(class_id), data.class_names[class_id], job_name=job, when=when
        )
        if data.source_refs is not None:
            # The user's own files: point at them rather than copying them.
            ref = Path(data.source_refs[index]).as_uri()
        else:
            ref = f"{k:04d}_{slugs[class_id]}.png"
            png = png_bytes(data.images[index], min_side=config.png_min_side)
            atomic_write_bytes(folder / ref, png)
        records.append(ManifestRecord(source_ref=ref, labels={config.attribute: label}))
    write_manifest(folder / "train.manifest", records)
    what = "file URIs of your images" if data.source_refs is not None else "PNG files beside it"
    files.append(
        f"`train_images/train.manifest`: episode 1's {len(records)} training images as a"
        f" Ground Truth manifest (attribute `{config.attribute}`, {what}); run"
        " `dataset: manifest` on it to read it back"
    )


def _plots(
    data: ImageSet,
    main: _Arm,
    baseline: _Arm | None,
    config: CustomLabelsConfig,
    context: RunContext,
) -> list[str]:
    from deepracer.plugins.custom_labels import plots

    names = data.class_names
    base_summary = None if baseline is None else baseline.summary
    base_label = "" if baseline is None else baseline.label
    saved = []
    figure = plots.per_class_figure(names, main.summary, main.label, base_summary, base_label)
    saved.append(context.save_figure(figure, "per_class_accuracy.png").name)
    figure = plots.confusion_figure(names, main.summary.confusion)
    saved.append(context.save_figure(figure, "confusion_matrix.png").name)
    title = f"Episode 1: the {config.shots} training images per class"
    figure = plots.training_grid_figure(
        names, data.images, data.labels, main.results[0].train, title=title
    )
    saved.append(context.save_figure(figure, "training_images.png").name)
    figure = plots.episodes_figure(
        [r.accuracy for r in main.results],
        main.label,
        None if baseline is None else [r.accuracy for r in baseline.results],
        base_label,
    )
    saved.append(context.save_figure(figure, "episode_accuracy.png").name)
    if data.plans:
        figure = plots.track_labels_figure(
            data.plans,
            names,
            straight_below=config.straight_below,
            turn_above=config.turn_above,
        )
        saved.append(context.save_figure(figure, "track_labels.png").name)
    return saved


def _metrics(
    data: ImageSet,
    main: _Arm,
    baseline: _Arm | None,
    config: CustomLabelsConfig,
    predicted: int,
) -> dict[str, Any]:
    first = main.results[0]
    summary = main.summary
    # Throughput of the local model on images already in memory: features plus
    # prediction, per image (decoding files is not included).
    per_image = main.feature_seconds / len(data.images) + first.predict_seconds / len(first.test)
    metrics: dict[str, Any] = {
        "images": len(data.images),
        "classes": len(data.class_names),
        "shots": config.shots,
        "episodes": config.episodes,
        "train_images_per_episode": len(first.train),
        "test_images_per_episode": len(first.test),
        "accuracy_mean": summary.mean,
        "accuracy_sd": summary.sd,
        "accuracy_min": summary.low,
        "accuracy_max": summary.high,
        "balanced_accuracy_mean": summary.balanced_mean,
    }
    taken: set[str] = set()
    for name, value in zip(data.class_names, summary.per_class_mean, strict=True):
        metrics[f"class_accuracy_{_slug(name, taken)}"] = float(value)
    if baseline is not None:
        metrics["baseline_accuracy_mean"] = baseline.summary.mean
        metrics["baseline_accuracy_sd"] = baseline.summary.sd
    metrics["feature_ms_per_image"] = 1000 * main.feature_seconds / len(data.images)
    metrics["images_per_hour"] = round(3600 / per_image) if per_image > 0 else None
    metrics["skipped"] = len(data.problems)
    metrics["skipped_items"] = data.problems[:_MAX_LISTED]
    if data.unlabelled or config.dataset == "manifest":
        metrics["unlabelled_labelled"] = predicted
    if data.plans:
        drawn = sum(len(p.labels) for p in data.plans)
        metrics["candidate_poses"] = drawn
        metrics["ambiguous_share"] = sum(int((p.labels < 0).sum()) for p in data.plans) / drawn
    return metrics


# -- aws -------------------------------------------------------------------------------------


def _image_bytes(data: ImageSet, index: int, config: CustomLabelsConfig) -> tuple[str, bytes]:
    """A file name and PNG/JPEG bytes of one image for Custom Labels."""
    if data.source_refs is not None:
        path = Path(data.source_refs[index])
        return path.name, path.read_bytes()
    return f"{index:05d}.png", png_bytes(data.images[index], min_side=config.png_min_side)


def _run_aws(
    data: ImageSet,
    episode: EpisodeResult,
    config: CustomLabelsConfig,
    context: RunContext,
    metrics: dict[str, Any],
) -> str:
    from deepracer.cloud.layout import ArtifactLayout
    from deepracer.cloud.storage import open_storage
    from deepracer.plugins.custom_labels.aws import PngImage, train_and_detect

    location = context.aws.s3
    storage, base = open_storage(
        location, region=context.aws.region, endpoint_url=context.aws.endpoint_url
    )
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    project = f"{config.project_name}-{stamp}"[:255]
    layout = ArtifactLayout(base.bucket, base.key("custom-labels", project))
    # The test sample: a seeded draw from episode 1's test images.
    rng = np.random.default_rng([context.seed, 1_000_003])
    count = min(config.max_test_images, len(episode.test))
    sample = np.sort(rng.choice(len(episode.test), count, replace=False))

    def images(indices: Sequence[int]) -> list[PngImage]:
        out = []
        for k, index in enumerate(indices):
            name, blob = _image_bytes(data, index, config)
            class_id = int(data.labels[index])
            out.append(
                PngImage(
                    f"{k:04d}_{name}", blob, data.class_id(class_id), data.class_names[class_id]
                )
            )
        return out

    outcome = train_and_detect(
        context.client("rekognition"),
        storage,
        layout,
        images(episode.train.tolist()),
        images(episode.test[sample].tolist()),
        attribute=config.attribute,
        project_name=project,
        version_name=f"{project}-v1"[:255],
        min_confidence=config.min_confidence,
        inference_units=config.inference_units,
        poll_seconds=config.poll_seconds,
        timeout_s=60 * config.timeout_minutes,
        echo=context.echo,
    )
    local = float(np.mean(episode.predictions[sample] == data.labels[episode.test[sample]]))
    unanswered = sum(p is None for _, p, _ in outcome.predictions)
    metrics["aws_accuracy"] = outcome.accuracy
    metrics["aws_f1"] = outcome.f1_score
    metrics["aws_test_images"] = count
    metrics["aws_no_label"] = unanswered
    metrics["local_accuracy_same_images"] = local
    context.write_json(
        "aws.json",
        {
            "project_arn": outcome.project_arn,
            "version_arn": outcome.version_arn,
            "train_manifest": outcome.train_manifest,
            "test_manifest": outcome.test_manifest,
            "f1_score": outcome.f1_score,
            "stopped": outcome.stopped,
            "predictions": [
                {"true": t, "predicted": p, "confidence": c} for t, p, c in outcome.predictions
            ],
        },
    )
    f1 = "not reported" if outcome.f1_score is None else f"{outcome.f1_score:.3f}"
    accuracies = markdown_table(
        ["model", "accuracy on the same test images"],
        [
            (
                f"Custom Labels (`detect_custom_labels`, MinConfidence {config.min_confidence:g})",
                f"{outcome.accuracy:.3f} ({unanswered} with no label)",
            ),
            (
                f"local {_FEATURES[config.features]} + {_CLASSIFIERS[config.classifier]}",
                f"{local:.3f}",
            ),
        ],
    )
    return (
        "## Rekognition Custom Labels (backend aws)\n\n"
        f"Project `{outcome.project_arn}`, model `{outcome.version_arn}` trained on episode"
        f" 1's {len(episode.train)} training images ({outcome.train_manifest}) and tested on"
        f" {count} of its test images ({outcome.test_manifest}); the model was"
        f" {'stopped' if outcome.stopped else 'NOT confirmed stopped'} after detection.\n\n"
        f"{accuracies}\n\n"
        f"Custom Labels' own evaluation F1 on that test dataset: {f1}. Details: `aws.json`.\n"
    )


# -- report ---------------------------------------------------------------------------------


def _pm(summary: Summary) -> str:
    return f"{summary.mean:.3f} ± {summary.sd:.3f}"


def _report(
    data: ImageSet,
    main: _Arm,
    baseline: _Arm | None,
    config: CustomLabelsConfig,
    metrics: dict[str, Any],
    figures: list[str],
    files: list[str],
    aws_text: str,
) -> str:
    first = main.results[0]
    lines = [
        "## What was run\n",
        f"**Data.** {data.description}\n",
        f"**Protocol.** {config.episodes} random episodes. Each trains on {config.shots} images"
        f" per class ({len(first.train)} images) drawn at random and tests on every other"
        f" image ({len(first.test)}); episode *e* is drawn from the seed pair (seed, *e*), so"
        " a rerun gives the same numbers. Mean ± sd are over episodes (sd with ddof 1).\n",
        f"**Model.** {main.spec.describe()}, then an"
        f" {_CLASSIFIERS[config.classifier]} (C = {config.regularization:g}); no pretrained"
        " weights. Images are grayscale.\n",
        "## Results\n",
    ]
    arms = [(main.label, f"**{_pm(main.summary)}**", main.summary)]
    if baseline is not None:
        arms.append((f"{baseline.label} (baseline)", _pm(baseline.summary), baseline.summary))
    header = [
        "features + classifier",
        "accuracy, mean ± sd",
        "worst - best episode",
        "balanced accuracy",
    ]
    results = [
        (label, pm, f"{s.low:.3f} - {s.high:.3f}", f"{s.balanced_mean:.3f}")
        for label, pm, s in arms
    ]
    lines.append(markdown_table(header, results))
    counts = data.counts()
    classes: list[list[object]] = []
    for i, name in enumerate(data.class_names):
        mean, sd = main.summary.per_class_mean[i], main.summary.per_class_sd[i]
        classes.append([name, counts[name], f"{mean:.3f} ± {sd:.3f}"])
        if baseline is not None:
            classes[-1].append(f"{baseline.summary.per_class_mean[i]:.3f}")
    header = ["class", "images", "accuracy, mean ± sd", *(["baseline"] if baseline else [])]
    lines += ["", markdown_table(header, classes), ""]
    if config.dataset == "digits":
        lines.append(
            f"Our earlier measurement of this setting (plugins-facts §5: HOG at 32 x 32 + RBF"
            f" SVC, 20 ten-shot episodes) was {FACTS_DIGITS}; this run: {_pm(main.summary)}.\n"
        )
    if config.dataset == "track_frames":
        lines.append(
            "Frames come from one continuous track, so a test frame can be a near neighbour"
            " of a training frame (a few centimetres along the same bend): the accuracy"
            " says how well the classes separate on this track, not how the model would"
            " do on a track it has never seen. The label window was also chosen by"
            " comparing such runs, which flatters it a little.\n"
        )
    lines.append(f"Plots: {', '.join(f'`{name}`' for name in figures)}.\n")
    lines += _article_section(main, metrics, config)
    if aws_text:
        lines.append(aws_text)
    lines.append("## Skipped input\n")
    if data.problems:
        lines.append(
            f"{len(data.problems)} manifest lines or images could not be used and were"
            " skipped (all are in `problems.json`):\n"
        )
        lines += [f"- `{p}`" for p in data.problems[:_MAX_LISTED]]
        if len(data.problems) > _MAX_LISTED:
            lines.append(f"- ... and {len(data.problems) - _MAX_LISTED} more")
        lines.append("")
    else:
        lines.append("None.\n")
    lines.append("## Files\n")
    lines += [f"- {f}" for f in files]
    lines += [
        "- `episodes.json`: every episode's accuracy and its training images;"
        " `problems.json`: skipped input",
        "",
    ]
    return "\n".join(lines)


def _article_section(main: _Arm, metrics: dict[str, Any], config: CustomLabelsConfig) -> list[str]:
    per_hour = metrics.get("images_per_hour")
    return [
        "## Reading the comparison\n",
        "The announcement says a customer can start from *as few as 10 sample images* per"
        " label and that the service can process *tens of thousands of images stored in"
        " Amazon S3 in an hour*. It gives no accuracy figure. So the comparison is one of"
        f" regime: with {config.shots} images per class this local model reaches"
        f" {_pm(main.summary)} on this data.\n",
        f"- Throughput: {per_hour:,} images an hour on this machine (features plus"
        " prediction, images already in memory, one core). The service's figure includes"
        " reading from S3 and a far larger model, so the two numbers are not like for"
        " like.\n"
        if per_hour
        else "",
        "- The model is not what Custom Labels runs. The service fine-tunes deep networks"
        " pretrained on large photo collections (the article: it *automatically chooses"
        " the most effective machine learning techniques*), which is what makes 10 images"
        " enough for objects such as turbochargers in real photographs. HOG + SVM has no"
        " such prior knowledge. It does well on the bundled data because digits, face"
        " crops and rendered road frames are small, centred, grayscale images whose"
        " classes differ in edge layout. Do not expect such numbers on cluttered colour"
        " photographs.\n",
        "- Custom Labels reports F1 on a held-out test dataset after about an hour of"
        " training; here every episode trains in milliseconds, which is why we can"
        f" average {config.episodes} random draws of the training images. The spread"
        f" between episodes shows how much the choice of the {config.shots} images per"
        " class matters.\n",
    ]
