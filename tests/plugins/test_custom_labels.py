"""The custom_labels plugin: manifests, images, few-shot episodes, track frames, AWS chain."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from deepracer import plugins
from deepracer.cli import main as cli
from deepracer.errors import ConfigError, DeepRacerError
from deepracer.plugins.custom_labels import plugin
from deepracer.plugins.custom_labels.images import (
    ImageFileError,
    decode_image,
    load_image,
    png_bytes,
)
from deepracer.plugins.custom_labels.manifest import (
    DATE_FORMAT,
    ManifestRecord,
    make_label,
    parse_manifest,
    read_manifest,
    record_to_json,
    write_manifest,
)
from tests.cloud.conftest import aws_env, mock_aws  # noqa: F401
from tests.plugins.helpers import offline_client, read_metrics, write_experiment

REGION = "us-east-1"
WHEN = datetime(2019, 11, 25, 10, 0, 0, 123456)


def _run(tmp_path: Path, section: dict[str, Any], out: str = "run", **common: Any) -> Path:
    path = write_experiment(tmp_path, "custom_labels", section, **common)
    run_dir = tmp_path / out
    assert cli(["run", str(path), "--out", str(run_dir)]) == 0
    return run_dir


# ----------------------------------------------------------------------- manifests


def test_manifest_round_trips_ground_truth_lines(tmp_path: Path) -> None:
    label = make_label(3, "three", job_name="labeling-job/digits", when=WHEN)
    records = [
        ManifestRecord(source_ref="s3://bucket/a.png", labels={"digit": label}),
        ManifestRecord(
            source_ref="images/b.jpg",
            labels={
                "digit": make_label(
                    1, "one", job_name="j", confidence=0.72, human_annotated=False, when=WHEN
                )
            },
            extra={"note": {"keep": [1, 2]}},
        ),
    ]
    path = write_manifest(tmp_path / "out.manifest", records)
    lines = path.read_text().splitlines()
    first = json.loads(lines[0])
    assert list(first) == ["source-ref", "digit", "digit-metadata"]
    assert first["digit"] == 3
    assert first["digit-metadata"] == {
        "class-name": "three",
        "confidence": 1.0,
        "type": "groundtruth/image-classification",
        "job-name": "labeling-job/digits",
        "human-annotated": "yes",
        "creation-date": "2019-11-25T10:00:00.123456",
    }
    assert datetime.strptime(first["digit-metadata"]["creation-date"], DATE_FORMAT) == WHEN
    assert json.loads(lines[1])["digit-metadata"]["human-annotated"] == "no"
    back, problems = read_manifest(path)
    assert problems == []
    assert [r.source_ref for r in back] == ["s3://bucket/a.png", "images/b.jpg"]
    second = back[1].label("digit")
    assert second is not None and second.confidence == 0.72 and not second.human_annotated
    assert back[1].extra == {"note": {"keep": [1, 2]}}
    assert [r.line for r in back] == [1, 2]
    # Written again, the text is the same.
    assert write_manifest(tmp_path / "again.manifest", back).read_text() == path.read_text()


def test_manifest_keeps_unmodelled_keys_and_failed_objects() -> None:
    line = {
        "source-ref": "s3://b/x.png",
        "sport": 0,
        "sport-metadata": {
            "class-name": "football",
            "confidence": 0.9,
            "type": "groundtruth/image-classification",
            "job-name": "labeling-job/sport",
            "human-annotated": "yes",
            "creation-date": "2019-11-25T10:00:00.000000",
            "class-map": {"0": "football"},
        },
        "chained-metadata": {"failure-reason": "ClientError: timeout"},
    }
    records, problems = parse_manifest(json.dumps(line))
    assert problems == []
    (record,) = records
    assert list(record.labels) == ["sport"]
    assert record.label("chained") is None  # a failed object is unlabelled there
    assert record.labels["sport"].extra == {"class-map": {"0": "football"}}
    assert record_to_json(record) == line


def test_bad_manifest_lines_are_problems_with_file_and_line(tmp_path: Path) -> None:
    good = json.dumps(
        record_to_json(
            ManifestRecord("a.png", {"label": make_label(0, "zero", job_name="j", when=WHEN)})
        )
    )
    lines = [
        good.encode(),
        b"",  # blank: skipped silently
        b'{"source-ref": "b.png", "label": 1',  # truncated
        b"[1, 2]",
        b'{"label": 0}',
        b'{"source-ref": "c.png", "label": 0, "label-metadata": {"confidence": 1}}',
        b'{"source-ref": "d.png", "label": "0", "label-metadata": {"class-name": "zero"}}',
        b'{"source-ref": "e.png", "label": 0, "label-metadata": {"class-name": "z",'
        b' "creation-date": "25/11/2019"}}',
        b'{"source-ref": "f\xff.png"}',
        good.encode(),
    ]
    path = tmp_path / "bad.manifest"
    path.write_bytes(b"\n".join(lines) + b"\n")
    records, problems = read_manifest(path)
    assert [r.line for r in records] == [1, 10]
    assert [p.line for p in problems] == [3, 4, 5, 6, 7, 8, 9]
    text = [str(p) for p in problems]
    assert text[0].startswith(f"{path}:3: not valid JSON")
    assert "expected a JSON object" in text[1]
    assert "'source-ref'" in text[2]
    assert "'class-name'" in text[3]
    assert "integer class id" in text[4]
    assert "%Y-%m-%dT%H:%M:%S.%f" in text[5]
    assert "not UTF-8" in text[6]


def test_a_missing_manifest_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(DeepRacerError, match=r"nope\.manifest: manifest not found"):
        read_manifest(tmp_path / "nope.manifest")


# ------------------------------------------------------------------------- images


def test_png_round_trip_enlarges_small_images() -> None:
    image = np.linspace(0, 1, 64).reshape(8, 8)
    data = png_bytes(image, min_side=64)
    back = decode_image(data, name="x.png")
    assert back.shape == (64, 64)
    assert np.allclose(back[::8, ::8], image, atol=1 / 255)


def test_a_file_that_is_not_an_image_is_one_clear_error(tmp_path: Path) -> None:
    from PIL import Image

    text = tmp_path / "notes.png"
    text.write_text("this is not a picture")
    with pytest.raises(ImageFileError, match=r"notes\.png: not an image") as info:
        load_image(text)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    gif = tmp_path / "anim.gif"
    Image.new("L", (4, 4)).save(gif)
    with pytest.raises(ImageFileError, match=r"anim\.gif: a GIF image; expected PNG or JPEG"):
        load_image(gif)
    with pytest.raises(ImageFileError, match=r"gone\.png: image file not found"):
        load_image(tmp_path / "gone.png")
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(png_bytes(np.ones((30, 30)))[:60])
    with pytest.raises(ImageFileError, match=r"cut\.png: corrupt or truncated"):
        load_image(truncated)


def test_large_images_are_shrunk_on_reading(tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "photo.jpg"
    Image.new("RGB", (1200, 600), (200, 30, 30)).save(path, format="JPEG")
    image = load_image(path, max_side=256)
    assert max(image.shape) <= 256 and image.shape[1] > image.shape[0]


# ------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("section", "words"),
    [
        ({"shots": 0}, "custom_labels.shots: expected an integer >= 1"),
        ({"attribute": "label-metadata"}, "custom_labels.attribute"),
        ({"dataset": "manifest"}, "needs the path of a Ground Truth manifest"),
        ({"turn_above": 0.05}, "turn_above (0.05) must exceed straight_below"),
        ({"label_window": [1.0, 0.5]}, "near < far"),
        ({"features": "sift"}, "'hog', 'pixels'"),
        ({"min_confidence": 120}, "percentage"),
        ({"project_name": "has space"}, "Custom Labels project name"),
    ],
)
def test_bad_sections_name_the_field(tmp_path: Path, section: dict[str, Any], words: str) -> None:
    path = write_experiment(tmp_path, "custom_labels", section)
    with pytest.raises(ConfigError) as info:
        plugins.load_plugin_experiment(path)
    assert words in str(info.value)


def test_the_shipped_experiment_loads() -> None:
    experiment, found = plugins.load_plugin_experiment("custom_labels")
    assert found is plugin
    assert experiment.section.dataset == "digits" and experiment.section.shots == 10
    assert experiment.section.episodes == 20 and experiment.backend == "local"


# ------------------------------------------------------------------ acceptance: digits


def test_digits_ten_shot_reaches_the_facts_accuracy_and_writes_everything(
    tmp_path: Path,
) -> None:
    section = {"episodes": 5, "baseline": False}
    run_dir = _run(tmp_path, section)
    metrics = read_metrics(run_dir)
    assert metrics["accuracy_mean"] >= 0.90
    assert metrics["shots"] == 10 and metrics["episodes"] == 5
    assert metrics["train_images_per_episode"] == 100
    assert metrics["test_images_per_episode"] == 1797 - 100
    assert metrics["skipped"] == 0 and metrics["class_accuracy_0"] > 0.9
    for name in (
        "per_class_accuracy.png",
        "confusion_matrix.png",
        "training_images.png",
        "episode_accuracy.png",
        "report.md",
        "episodes.json",
        "problems.json",
    ):
        assert (run_dir / name).is_file(), name
    report = (run_dir / "report.md").read_text()
    assert "| Training images per class | as few as 10 | 10 |" in report
    assert "0.949 ± 0.009" in report and "± " in report
    # Episode 1's training set as PNGs plus a manifest, grouped by class.
    records, problems = read_manifest(run_dir / "train_images" / "train.manifest")
    assert problems == [] and len(records) == 100
    assert [r.labels["label"].class_id for r in records] == sorted(
        r.labels["label"].class_id for r in records
    )
    image = load_image(run_dir / "train_images" / str(records[0].source_ref))
    assert image.shape == (64, 64)

    # Same seed, same numbers; another seed, other episodes.
    again = read_metrics(_run(tmp_path, {"episodes": 2, "baseline": False}, out="again"))
    first_two = json.loads((run_dir / "episodes.json").read_text())[:2]
    again_eps = json.loads((tmp_path / "again" / "episodes.json").read_text())
    assert [e["accuracy"] for e in again_eps] == [e["accuracy"] for e in first_two]
    assert again_eps[0]["train"] == first_two[0]["train"]
    assert again["accuracy_min"] == min(e["accuracy"] for e in first_two)


def test_faces_with_the_pixel_baseline(tmp_path: Path) -> None:
    run_dir = _run(tmp_path, {"dataset": "faces", "episodes": 3, "export_episode": False}, seed=3)
    metrics = read_metrics(run_dir)
    assert metrics["classes"] == 2 and metrics["test_images_per_episode"] == 180
    assert metrics["accuracy_mean"] > 0.85 and 0.6 < metrics["baseline_accuracy_mean"] <= 1
    assert not (run_dir / "train_images").exists()
    assert "pixels + RBF SVM (baseline)" in (run_dir / "report.md").read_text()


def test_logistic_regression_on_pixels(tmp_path: Path) -> None:
    section = {
        "dataset": "faces",
        "episodes": 2,
        "features": "pixels",
        "classifier": "logistic",
        "image_size": [16, 16],
        "export_episode": False,
    }
    metrics = read_metrics(_run(tmp_path, section))
    assert 0.6 < metrics["accuracy_mean"] <= 1 and "baseline_accuracy_mean" in metrics


def test_hog_needs_two_cells(tmp_path: Path) -> None:
    path = write_experiment(tmp_path, "custom_labels", {"dataset": "faces", "image_size": [12, 12]})
    with pytest.raises(ConfigError, match="fewer than 2 x 2 HOG cells"):
        experiment, found = plugins.load_plugin_experiment(path)
        plugins.run_experiment(experiment, found, tmp_path / "run", echo=lambda _: None)


# --------------------------------------------------------------------- track frames


def _circle_track(reverse: bool = False) -> Any:
    from deepracer.tracks import Track

    t = np.linspace(0, 2 * np.pi, 145)

    def ring(r: float) -> Any:
        return np.c_[r * np.cos(t), r * np.sin(t)]

    track = Track.from_array(np.hstack([ring(2.0), ring(1.6), ring(2.4)]), name="circle")
    return track.reversed() if reverse else track


def test_curvature_label_rule_on_a_circle() -> None:
    from deepracer.plugins.custom_labels.track_frames import label_curvature, mean_curvature

    s = np.array([0.3, 4.0, 9.5])
    left = mean_curvature(_circle_track(), s, 0.0, 1.0)
    right = mean_curvature(_circle_track(reverse=True), s, 0.0, 1.0)
    # A 2 m circle turns 0.5 rad per metre (the polygon's segments, within 5 %).
    assert np.allclose(left, 0.5, rtol=0.05) and np.allclose(right, -0.5, rtol=0.05)
    labels = label_curvature(
        np.array([0.5, -0.5, 0.05, -0.1, 0.2, -0.25]), straight_below=0.1, turn_above=0.3
    )
    assert labels.tolist() == [0, 1, 2, 2, -1, -1]


def test_track_frames_are_camera_frames_labelled_by_the_bend_ahead(tmp_path: Path) -> None:
    section = {
        "dataset": "track_frames",
        "frames_per_class": 14,
        "shots": 4,
        "episodes": 3,
        "baseline": False,
        "candidates_per_frame": 6,
    }
    run_dir = _run(tmp_path, section)
    metrics = read_metrics(run_dir)
    assert metrics["images"] == 42 and metrics["classes"] == 3
    assert metrics["accuracy_mean"] > 0.6
    assert metrics["candidate_poses"] == 42 * 6 and 0 < metrics["ambiguous_share"] < 0.5
    assert (run_dir / "track_labels.png").is_file()
    report = (run_dir / "report.md").read_text()
    assert "Label rule" in report and ">= 0.3 rad/m" in report
    records, _ = read_manifest(run_dir / "train_images" / "train.manifest")
    names = {r.labels["label"].class_name for r in records}
    assert names == {"left", "right", "straight"}
    frame = load_image(run_dir / "train_images" / str(records[0].source_ref))
    assert frame.shape == (120, 160)  # the camera's 160 x 120, written as is


def test_track_frames_render_what_the_env_camera_sees() -> None:
    from deepracer.envs.racing_env import RacingEnv
    from deepracer.plugins.custom_labels.track_frames import render_track_frames

    settings: dict[str, Any] = {
        "world": "oval",
        "directions": "both",
        "frames_per_class": 2,
        "window": (0.0, 1.0),
        "straight_below": 0.1,
        "turn_above": 0.3,
        "lateral_jitter": 0.0,
        "yaw_jitter_deg": 0.0,
        "candidates_per_frame": 20,
        "seed": 1,
    }
    frames, labels, sources, plans = render_track_frames(**settings)
    again, _, again_sources, _ = render_track_frames(**settings)
    assert np.array_equal(frames, again) and sources == again_sources  # seeded
    assert frames.shape == (6, 120, 160) and frames.dtype == np.uint8
    assert labels.tolist() == [0, 0, 1, 1, 2, 2]
    assert [p.direction for p in plans] == ["forward", "reverse"]
    # A frame on the centre line is the env's own first observation at that spot.
    env = RacingEnv({"world": "oval", "observation": "camera"})
    compared = 0
    for frame, source in zip(frames, sources, strict=True):
        direction, where = source.split(":")[1:3]
        if direction == "forward":
            s = float(where.removeprefix("s=").removesuffix("m"))
            obs, _ = env.reset(seed=0, options={"start_ndist": s / env.track.length})
            assert np.mean(np.abs(obs[..., 0].astype(int) - frame.astype(int))) < 1.0
            compared += 1
    assert compared > 0


def test_a_track_without_right_bends_says_what_to_change(tmp_path: Path) -> None:
    path = write_experiment(
        tmp_path,
        "custom_labels",
        {"dataset": "track_frames", "world": "oval", "directions": "forward"},
    )
    experiment, found = plugins.load_plugin_experiment(path)
    with pytest.raises(ConfigError, match=r"gives 0 'right' poses.*directions: both"):
        plugins.run_experiment(experiment, found, tmp_path / "run", echo=lambda _: None)


# ------------------------------------------------------------------ user manifests


def _digit_manifest(folder: Path, per_class: int = 8, classes: int = 3) -> Path:
    """PNG files of digits plus a manifest with a few bad lines and unlabelled ones."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    folder.mkdir()
    lines: list[str] = []
    for c in range(classes):
        for k in np.flatnonzero(digits.target == c)[:per_class]:
            name = f"d{k}.png"
            (folder / name).write_bytes(png_bytes(digits.images[k] / 16.0, min_side=32))
            # Ids need not be 0..K-1; they are written back as they were.
            label = make_label(10 * c + 5, f"digit-{c}", job_name="labeling-job/mine", when=WHEN)
            lines.append(json.dumps(record_to_json(ManifestRecord(name, {"digit": label}))))
    (folder / "broken.png").write_text("not an image at all")
    for k in np.flatnonzero(digits.target < classes)[-4:]:
        (folder / f"new{k}.png").write_bytes(png_bytes(digits.images[k] / 16.0))
        lines.append(json.dumps({"source-ref": f"new{k}.png"}))
    label = make_label(0, "digit-0", job_name="j", when=WHEN)
    bad = [
        "{this is not json}",
        json.dumps(record_to_json(ManifestRecord("broken.png", {"digit": label}))),
        json.dumps(record_to_json(ManifestRecord("missing.png", {"digit": label}))),
        json.dumps(record_to_json(ManifestRecord("s3://bucket/remote.png", {"digit": label}))),
    ]
    lines[3:3] = bad  # lines 4-7
    path = folder / "mine.manifest"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_user_manifest_runs_skips_bad_lines_and_labels_the_rest(tmp_path: Path) -> None:
    manifest = _digit_manifest(tmp_path / "data")
    section = {
        "dataset": "manifest",
        "manifest": str(manifest),
        "attribute": "digit",
        "shots": 3,
        "episodes": 4,
    }
    run_dir = _run(tmp_path, section)
    metrics = read_metrics(run_dir)
    assert metrics["images"] == 24 and metrics["classes"] == 3
    assert metrics["test_images_per_episode"] == 24 - 9
    assert metrics["skipped"] == 4
    skipped = metrics["skipped_items"]
    assert skipped[0].startswith(f"{manifest}:4: not valid JSON")
    assert f"{manifest}:5:" in skipped[1] and "broken.png: not an image" in skipped[1]
    assert f"{manifest}:6:" in skipped[2] and "missing.png: image file not found" in skipped[2]
    assert "remote object" in skipped[3]
    assert metrics["unlabelled_labelled"] == 4
    # Every episode tests 5 images of each digit: the mean is the classes' mean.
    per_class = [metrics[f"class_accuracy_digit_{d}"] for d in range(3)]
    assert metrics["accuracy_mean"] == pytest.approx(sum(per_class) / 3)
    report = (run_dir / "report.md").read_text()
    assert "4 manifest lines or images could not be used" in report and ":4: not valid" in report
    assert json.loads((run_dir / "problems.json").read_text()) == skipped
    predicted, problems = read_manifest(run_dir / "predictions.manifest")
    assert problems == [] and len(predicted) == 4
    for record in predicted:
        label = record.labels["digit"]
        assert not label.human_annotated and 0 < label.confidence <= 1
        assert label.class_name in {"digit-0", "digit-1", "digit-2"}
        assert label.class_id == 10 * int(label.class_name[-1]) + 5
    # The exported episode points at the user's own files.
    exported, _ = read_manifest(run_dir / "train_images" / "train.manifest")
    assert len(exported) == 9 and str(exported[0].source_ref).startswith("file://")
    assert [r.labels["digit"].class_id for r in exported] == [5] * 3 + [15] * 3 + [25] * 3
    assert not list((run_dir / "train_images").glob("*.png"))
    # ... and reads back as a manifest dataset.
    back = read_metrics(
        _run(
            tmp_path,
            {
                "dataset": "manifest",
                "manifest": str(run_dir / "train_images" / "train.manifest"),
                "attribute": "digit",
                "shots": 2,
                "episodes": 1,
                "baseline": False,
            },
            out="back",
        )
    )
    assert back["images"] == 9 and back["skipped"] == 0


def test_a_manifest_under_another_attribute_names_it(tmp_path: Path) -> None:
    manifest = _digit_manifest(tmp_path / "data", per_class=2)
    path = write_experiment(
        tmp_path, "custom_labels", {"dataset": "manifest", "manifest": str(manifest)}
    )
    experiment, found = plugins.load_plugin_experiment(path)
    with pytest.raises(ConfigError, match=r"under attribute 'label'.*attributes: digit"):
        plugins.run_experiment(experiment, found, tmp_path / "run", echo=lambda _: None)


def test_too_few_images_for_the_shots_is_one_error(tmp_path: Path) -> None:
    manifest = _digit_manifest(tmp_path / "data", per_class=3)
    path = write_experiment(
        tmp_path,
        "custom_labels",
        {"dataset": "manifest", "manifest": str(manifest), "attribute": "digit", "shots": 3},
    )
    experiment, found = plugins.load_plugin_experiment(path)
    with pytest.raises(ConfigError, match="class 'digit-0' has 3 images; shots 3"):
        plugins.run_experiment(experiment, found, tmp_path / "run", echo=lambda _: None)


# --------------------------------------------------------------------------- aws

PROJECT_ARN = "arn:aws:rekognition:us-east-1:123456789012:project/p/1"
VERSION_ARN = "arn:aws:rekognition:us-east-1:123456789012:project/p/version/v/2"
DATASET_ARN = "arn:aws:rekognition:us-east-1:123456789012:project/p/dataset/{}/3"


@pytest.fixture(scope="module")
def rekognition() -> Any:
    return offline_client("rekognition", REGION)


@pytest.fixture
def stubbed(rekognition: Any) -> Iterator[Any]:
    from botocore.stub import Stubber

    with Stubber(rekognition) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def _stub_until_started(stubber: Any, *, version: Any = "v") -> None:
    _stub_until_trained(stubber, version=version)
    stubber.add_response(
        "start_project_version",
        {"Status": "STARTING"},
        {"ProjectVersionArn": VERSION_ARN, "MinInferenceUnits": 1},
    )
    stubber.add_response(
        "describe_project_versions",
        {"ProjectVersionDescriptions": [{"Status": "RUNNING"}]},
        {"ProjectArn": PROJECT_ARN, "VersionNames": [version]},
    )


def _stub_until_trained(stubber: Any, *, version: Any = "v") -> None:
    from botocore.stub import ANY

    stubber.add_response("create_project", {"ProjectArn": PROJECT_ARN}, {"ProjectName": ANY})
    for kind in ("TRAIN", "TEST"):
        arn = DATASET_ARN.format(kind.lower())
        stubber.add_response(
            "create_dataset",
            {"DatasetArn": arn},
            {"ProjectArn": PROJECT_ARN, "DatasetType": kind, "DatasetSource": ANY},
        )
        stubber.add_response(
            "describe_dataset",
            {"DatasetDescription": {"Status": "CREATE_IN_PROGRESS"}},
            {"DatasetArn": arn},
        )
        stubber.add_response(
            "describe_dataset",
            {"DatasetDescription": {"Status": "CREATE_COMPLETE"}},
            {"DatasetArn": arn},
        )
    stubber.add_response(
        "create_project_version",
        {"ProjectVersionArn": VERSION_ARN},
        {"ProjectArn": PROJECT_ARN, "VersionName": version, "OutputConfig": ANY},
    )
    described = {"ProjectArn": PROJECT_ARN, "VersionNames": [version]}
    stubber.add_response(
        "describe_project_versions",
        {"ProjectVersionDescriptions": [{"Status": "TRAINING_COMPLETED"}]},
        described,
    )
    stubber.add_response(
        "describe_project_versions",
        {
            "ProjectVersionDescriptions": [
                {"Status": "TRAINING_COMPLETED", "EvaluationResult": {"F1Score": 0.875}}
            ]
        },
        described,
    )


def _images(names: list[str]) -> list[Any]:
    from deepracer.plugins.custom_labels.aws import PngImage

    return [
        PngImage(f"{k}.png", png_bytes(np.full((8, 8), k / 10), min_side=64), k % 2, name)
        for k, name in enumerate(names)
    ]


def _chain(rekognition: Any, storage: Any, **changes: Any) -> Any:
    from deepracer.cloud.layout import ArtifactLayout
    from deepracer.plugins.custom_labels.aws import train_and_detect

    waits: list[float] = []
    arguments: dict[str, Any] = {
        "attribute": "label",
        "project_name": "p",
        "version_name": "v",
        "min_confidence": 0.0,
        "inference_units": 1,
        "poll_seconds": 5.0,
        "timeout_s": 60.0,
        "echo": lambda _: None,
        "sleep": waits.append,
        **changes,
    }
    outcome = train_and_detect(
        rekognition,
        storage,
        ArtifactLayout("bucket", "runs/cl"),
        _images(["even", "odd"]),
        _images(["even", "odd", "even"]),
        **arguments,
    )
    return outcome, waits


def test_aws_chain_trains_detects_and_stops(
    rekognition: Any,
    stubbed: Any,
    mock_aws: None,  # noqa: F811
) -> None:
    import boto3
    from botocore.stub import ANY

    from deepracer.cloud.storage import S3Storage

    boto3.client("s3", region_name=REGION).create_bucket(Bucket="bucket")
    storage = S3Storage("bucket", region=REGION)
    _stub_until_started(stubbed)
    for name, confidence in (("even", 91.5), ("even", 60.0), (None, 0.0)):
        labels = [] if name is None else [{"Name": name, "Confidence": confidence}]
        if name == "even" and confidence == 60.0:
            labels.append({"Name": "odd", "Confidence": 80.0})  # the best label wins
        stubbed.add_response(
            "detect_custom_labels",
            {"CustomLabels": labels},
            {"ProjectVersionArn": VERSION_ARN, "Image": {"Bytes": ANY}, "MinConfidence": 0.0},
        )
    stubbed.add_response(
        "stop_project_version", {"Status": "STOPPING"}, {"ProjectVersionArn": VERSION_ARN}
    )
    outcome, waits = _chain(rekognition, storage)
    assert outcome.stopped and outcome.f1_score == 0.875
    assert outcome.predictions == [
        ("even", "even", 91.5),
        ("odd", "odd", 80.0),
        ("even", None, 0.0),
    ]
    assert outcome.accuracy == pytest.approx(2 / 3)
    assert waits == [5.0, 5.0]  # one poll per dataset
    # The images and manifests are in S3, the manifests pointing at S3 objects.
    records, problems = parse_manifest(storage.get_bytes("runs/cl/train.manifest"))
    assert problems == [] and [r.source_ref for r in records] == [
        "s3://bucket/runs/cl/train/0.png",
        "s3://bucket/runs/cl/train/1.png",
    ]
    assert [r.labels["label"].class_name for r in records] == ["even", "odd"]
    assert decode_image(storage.get_bytes("runs/cl/test/2.png"), name="t").shape == (64, 64)
    assert outcome.test_manifest == "s3://bucket/runs/cl/test.manifest"


def test_aws_stops_the_model_when_detection_fails(rekognition: Any, stubbed: Any) -> None:
    _stub_until_started(stubbed)
    stubbed.add_client_error("detect_custom_labels", "ThrottlingException", "Rate exceeded", 400)
    stubbed.add_response("stop_project_version", {"Status": "STOPPING"})
    with pytest.raises(DeepRacerError, match="detect_custom_labels: ThrottlingException"):
        _chain(rekognition, _MemoryStorage())


def test_aws_a_failed_stop_names_the_model_and_the_command(
    rekognition: Any, stubbed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deepracer.plugins.custom_labels import aws

    # Images over the API's bytes limit are named by their S3 copy instead.
    monkeypatch.setattr(aws, "MAX_IMAGE_BYTES", 10)
    _stub_until_started(stubbed)
    for k in range(3):
        image = {"S3Object": {"Bucket": "bucket", "Name": f"runs/cl/test/{k}.png"}}
        stubbed.add_response(
            "detect_custom_labels",
            {"CustomLabels": []},
            {"ProjectVersionArn": VERSION_ARN, "Image": image, "MinConfidence": 0.0},
        )
    stubbed.add_client_error("stop_project_version", "InternalServerError", "oops", 500)
    with pytest.raises(
        DeepRacerError, match=f"stop-project-version --project-version-arn {VERSION_ARN}"
    ):
        _chain(rekognition, _MemoryStorage())


def test_aws_a_refused_start_stops_nothing(rekognition: Any, stubbed: Any) -> None:
    _stub_until_trained(stubbed)
    stubbed.add_client_error("start_project_version", "LimitExceededException", "no units", 400)
    with pytest.raises(DeepRacerError, match="start_project_version: LimitExceededException"):
        _chain(rekognition, _MemoryStorage())


def test_aws_failed_training_is_one_error(rekognition: Any, stubbed: Any) -> None:
    stubbed.add_response("create_project", {"ProjectArn": PROJECT_ARN})
    for kind in ("train", "test"):
        stubbed.add_response("create_dataset", {"DatasetArn": DATASET_ARN.format(kind)})
        stubbed.add_response(
            "describe_dataset", {"DatasetDescription": {"Status": "CREATE_COMPLETE"}}
        )
    stubbed.add_response("create_project_version", {"ProjectVersionArn": VERSION_ARN})
    stubbed.add_response(
        "describe_project_versions",
        {
            "ProjectVersionDescriptions": [
                {"Status": "TRAINING_FAILED", "StatusMessage": "The manifest has 1 label."}
            ]
        },
    )
    with pytest.raises(
        DeepRacerError, match=r"training did not finish \(TRAINING_FAILED\): The manifest"
    ):
        _chain(rekognition, _MemoryStorage())


def test_aws_a_failed_dataset_says_why(rekognition: Any, stubbed: Any) -> None:
    stubbed.add_response("create_project", {"ProjectArn": PROJECT_ARN})
    stubbed.add_response("create_dataset", {"DatasetArn": DATASET_ARN.format("train")})
    stubbed.add_response(
        "describe_dataset",
        {"DatasetDescription": {"Status": "CREATE_FAILED", "StatusMessage": "bad manifest"}},
    )
    with pytest.raises(
        DeepRacerError, match=r"TRAIN dataset .*train\.manifest failed.*bad manifest"
    ):
        _chain(rekognition, _MemoryStorage())


class _MemoryStorage:
    """The two Storage methods the chain uses, in memory."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put_bytes(self, key: str, data: bytes) -> None:
        self.objects[key] = data


def test_moto_answers_detect_custom_labels(mock_aws: None) -> None:  # noqa: F811
    import boto3

    from deepracer.plugins.custom_labels.aws import detect_label

    client = boto3.client("rekognition", region_name=REGION)
    name, confidence = detect_label(client, VERSION_ARN, png_bytes(np.zeros((64, 64))), 50.0)
    assert name == "MyLogo" and math.isclose(confidence, 77.77, abs_tol=0.01)


def test_backend_aws_runs_end_to_end(
    tmp_path: Path,
    rekognition: Any,
    stubbed: Any,
    mock_aws: None,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3
    from botocore.stub import ANY

    boto3.client("s3", region_name=REGION).create_bucket(Bucket="labels")
    monkeypatch.setattr(plugins.RunContext, "client", lambda self, service: rekognition)
    _stub_until_started(stubbed, version=ANY)
    for k in range(4):
        stubbed.add_response(
            "detect_custom_labels", {"CustomLabels": [{"Name": "face", "Confidence": 90.0 + k}]}
        )
    stubbed.add_response("stop_project_version", {"Status": "STOPPING"})
    section = {
        "dataset": "faces",
        "shots": 2,
        "episodes": 1,
        "baseline": False,
        "max_test_images": 4,
        "poll_seconds": 1,
    }
    run_dir = _run(
        tmp_path,
        section,
        backend="aws",
        aws={"region": REGION, "s3": "s3://labels/exp"},
    )
    metrics = read_metrics(run_dir)
    assert metrics["aws_test_images"] == 4 and metrics["aws_f1"] == 0.875
    assert "local_accuracy_same_images" in metrics
    details = json.loads((run_dir / "aws.json").read_text())
    # The stub labels every image "face": the accuracy is the share of faces among them.
    truths = [p["true"] for p in details["predictions"]]
    assert [p["predicted"] for p in details["predictions"]] == ["face"] * 4
    assert metrics["aws_accuracy"] == truths.count("face") / 4
    assert details["stopped"] and details["version_arn"] == VERSION_ARN
    assert details["train_manifest"].startswith(
        "s3://labels/exp/custom-labels/deepracer-custom-labels-"
    )
    assert "## Rekognition Custom Labels (backend aws)" in (run_dir / "report.md").read_text()
    listed = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket="labels")
    keys = [o["Key"] for o in listed["Contents"]]
    assert (
        sum(k.endswith(".png") for k in keys) == 4 + 4
        and sum(k.endswith(".manifest") for k in keys) == 2
    )


def test_backend_aws_needs_an_s3_location(tmp_path: Path, aws_env: None) -> None:  # noqa: F811
    path = write_experiment(
        tmp_path, "custom_labels", {"dataset": "faces", "episodes": 1}, backend="aws"
    )
    experiment, found = plugins.load_plugin_experiment(path)
    with pytest.raises(ConfigError, match=r"aws\.s3: backend aws needs s3://BUCKET/PREFIX"):
        plugins.run_experiment(experiment, found, tmp_path / "run", echo=lambda _: None)
