"""The face_anonymizer plugin: contract, acceptance on bundled pictures, batches, AWS.

Acceptance (from the issue): the detector finds no face in an anonymized picture,
and pixels outside the padded face boxes are unchanged (exactly, for PNG). The
pictures are the ones that ship inside scikit-image; most tests use a 256 x 256
crop of ``astronaut`` around the face, because a cascade's time grows with the
pixel count and these tests share two cores.
"""

from __future__ import annotations

import base64
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from deepracer.errors import ConfigError, DeepRacerError
from deepracer.plugins import AwsConfig, RunContext, load_plugin_experiment
from deepracer.plugins.face_anonymizer import FaceAnonymizerConfig, anonymize_image, plugin
from deepracer.plugins.face_anonymizer import anonymize_payload as default_handler
from deepracer.plugins.face_anonymizer.anonymize import (
    Options,
    anonymize_detailed,
    box_mask,
    decode_image,
    encode_image,
)
from deepracer.plugins.face_anonymizer.batch import one_by_one, run_folder, run_jsonl
from deepracer.plugins.face_anonymizer.detect import Box, detect_faces, merge_boxes
from deepracer.plugins.face_anonymizer.handler import (
    PayloadError,
    anonymize_payload,
    handle,
    prediction_bytes,
    request_for,
)
from deepracer.plugins.face_anonymizer.run import demo_batch_lines, run
from deepracer.plugins.face_anonymizer.sources import grid_cells_found, load_source
from tests.cloud.conftest import aws_env, mock_aws  # noqa: F401

cv2 = pytest.importorskip("cv2")
skimage_data = pytest.importorskip("skimage.data")

REPO = Path(__file__).resolve().parents[2]
MOTO_ACCOUNT = "123456789012"  # moto's default account
ROLE = f"arn:aws:iam::{MOTO_ACCOUNT}:role/faces"
ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/face-anonymizer-v1"


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def face() -> np.ndarray[Any, Any]:
    """A 256 x 256 RGB crop of astronaut with the face near the middle."""
    return np.ascontiguousarray(skimage_data.astronaut()[0:256, 100:356])


@pytest.fixture(scope="module")
def face_png(face: np.ndarray[Any, Any]) -> bytes:
    return encode_image(face)


@pytest.fixture(scope="module")
def bundled() -> dict[str, tuple[np.ndarray[Any, Any], Any]]:
    """The acceptance pictures through the contract: name -> (input array, ItemResult + output)."""
    results = {}
    for name in ("astronaut", "camera", "lfw_grid", "coffee", "chelsea"):
        source = load_source(name)
        response, items = handle(request_for([source.data]))
        output = decode_image(prediction_bytes(response["predictions"][0]))
        results[name] = (decode_image(source.data).array, (items[0], output.array))
    return results


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# -- the contract ------------------------------------------------------------------------


def test_one_image_request_follows_the_contract(face: Any, face_png: bytes) -> None:
    response = default_handler({"instances": [{"image": {"b64": _b64(face_png)}}]})
    assert list(response) == ["predictions"] and len(response["predictions"]) == 1
    prediction = response["predictions"][0]
    assert list(prediction) == ["image"] and list(prediction["image"]) == ["b64"]
    out = base64.b64decode(prediction["image"]["b64"])
    assert out[:8] == b"\x89PNG\r\n\x1a\n"  # PNG in, PNG out
    after = decode_image(out).array
    assert after.shape == face.shape and after.dtype == np.uint8
    assert detect_faces(face) and detect_faces(after) == []


@pytest.mark.parametrize("name", ["astronaut", "camera", "lfw_grid"])
def test_faces_are_gone_and_nothing_else_changed(bundled: Any, name: str) -> None:
    before, (item, after) = bundled[name]
    assert item.faces, f"{name}: the detector found no face to begin with"
    assert item.remaining == 0 and detect_faces(after) == []
    mask = box_mask(before.shape, item.boxes)
    diff = np.abs(after.astype(int) - before.astype(int))
    assert diff[~mask].max() == 0  # exact: PNG is lossless
    assert diff[mask].mean() > 20  # the boxes really changed
    for face_box in item.faces:  # every face lies inside a padded box
        assert mask[
            face_box.y : face_box.y + face_box.h, face_box.x : face_box.x + face_box.w
        ].all()


def test_camera_needs_the_profile_cascade(bundled: Any) -> None:
    before, (item, _) = bundled["camera"]
    assert len(item.faces) == 1
    assert detect_faces(before, profile=False) == []  # frontal alone misses him


def test_lfw_grid_faces_are_found(bundled: Any) -> None:
    _, (item, _) = bundled["lfw_grid"]
    assert grid_cells_found(item.faces) >= 7  # 8 of 9 with the shipped settings


@pytest.mark.parametrize("name", ["coffee", "chelsea"])
def test_pictures_without_faces_come_back_unchanged(bundled: Any, name: str) -> None:
    before, (item, after) = bundled[name]
    assert item.faces == [] and item.boxes == []
    assert np.array_equal(before, after)


def test_same_request_same_bytes(face_png: bytes) -> None:
    request = request_for([face_png])
    assert anonymize_payload(request) == anonymize_payload(request)


def test_anonymize_image_keeps_shape_and_reports_boxes(face: Any) -> None:
    out, boxes = anonymize_image(face)
    assert out.shape == face.shape and out is not face and len(boxes) == 1
    box = boxes[0]
    # 25 % padding per side around a face about 95 px wide.
    assert 130 <= box.w <= 150 and 130 <= box.h <= 150


def test_pixelate_fills_cells_with_one_colour(face: Any) -> None:
    result = anonymize_detailed(face, Options(method="pixelate", blocks=4, max_passes=1))
    assert result.remaining == 0
    box = result.boxes[0]
    cell = result.array[box.y : box.y + box.h // 4, box.x : box.x + box.w // 4]
    assert (cell == cell[0, 0]).all()
    mask = box_mask(face.shape, result.boxes)
    assert np.array_equal(result.array[~mask], face[~mask])


def test_second_pass_hides_what_the_first_left(face: Any) -> None:
    # 8 x 8 pixelation of this crop is still a face to the cascade; pass 2 halves the blocks.
    result = anonymize_detailed(face, Options(method="pixelate", blocks=8, max_passes=2))
    assert result.redetected_first >= 1 and result.passes == 2 and result.remaining == 0


def test_a_weak_blur_leaves_the_face_detectable(face: Any) -> None:
    weak = anonymize_detailed(face, Options(blur_scale=1 / 3, max_passes=1))
    assert weak.remaining >= 1


def test_jpeg_in_jpeg_out_within_a_tolerance(face: Any) -> None:
    jpeg = encode_image(face, "JPEG", jpeg_quality=90)
    response, items = handle(request_for([jpeg]))
    out = prediction_bytes(response["predictions"][0])
    assert out[:3] == b"\xff\xd8\xff"
    before, after = decode_image(jpeg).array, decode_image(out).array
    mask = box_mask(before.shape, items[0].boxes)
    diff = np.abs(after.astype(int) - before.astype(int))[~mask]
    # Re-encoding is lossy everywhere: small on average, never exact.
    assert diff.mean() < 2.0 and diff.max() < 48
    assert detect_faces(after) == []


def test_alpha_and_gray_images_keep_their_channels(face: Any) -> None:
    rgba = np.dstack([face, np.full(face.shape[:2], 77, dtype=np.uint8)])
    out, boxes = anonymize_image(rgba)
    assert out.shape == rgba.shape and boxes and (out[..., 3] == 77).all()
    gray = np.ascontiguousarray(face[..., 1])
    round_trip = decode_image(encode_image(gray)).array
    assert round_trip.ndim == 2 and np.array_equal(round_trip, gray)


def test_sixteen_bit_and_truncated_files(face: Any, face_png: bytes) -> None:
    from PIL import Image

    buffer = io.BytesIO()
    wide = (face[..., 0].astype(np.uint16) << 8) | 0xFF
    Image.fromarray(wide).save(buffer, format="PNG")
    decoded = decode_image(buffer.getvalue())
    assert decoded.array.dtype == np.uint8 and np.array_equal(decoded.array, face[..., 0])
    truncated = {"instances": [{"image": {"b64": _b64(face_png[: len(face_png) // 2])}}]}
    assert "error" in anonymize_payload(truncated)["predictions"][0]


def test_non_uint8_arrays_are_refused() -> None:
    with pytest.raises(DeepRacerError, match="uint8"):
        anonymize_image(np.zeros((32, 32, 3), dtype=np.float64))


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ({"images": []}, "no 'instances' key"),
        ([{"image": {"b64": ""}}], "expected a JSON object"),
        ({"instances": {"image": {}}}, "payload.instances: expected a list"),
    ],
)
def test_a_payload_without_instances_is_one_error(payload: Any, words: str) -> None:
    with pytest.raises(PayloadError, match="instances") as info:
        anonymize_payload(payload)
    assert words in str(info.value)


def test_bad_items_get_errors_at_their_positions(face_png: bytes) -> None:
    request = {
        "instances": [
            {"image": {"b64": "%%% not base64"}},
            {"image": {"b64": _b64(b"plain text")}},
            {"picture": {}},
            {"image": {"b64": _b64(face_png)}},
            {"image": {"b64": 12}},
        ]
    }
    predictions = anonymize_payload(request)["predictions"]
    assert len(predictions) == 5
    assert "instances[0].image.b64: not valid base64" in predictions[0]["error"]
    assert "instances[1]: not a readable image" in predictions[1]["error"]
    assert "instances[2]: no 'image' object" in predictions[2]["error"]
    assert "image" in predictions[3]
    assert "instances[4].image.b64: expected a base64 string" in predictions[4]["error"]
    assert "%%%" not in json.dumps(predictions)  # no input content in messages


def test_wrapped_base64_is_accepted(face_png: bytes) -> None:
    # `base64 FILE` wraps every 76 characters, as the article's shell steps would.
    text = _b64(face_png)
    wrapped = "\n".join(text[i : i + 76] for i in range(0, len(text), 76))
    prediction = anonymize_payload({"instances": [{"image": {"b64": wrapped}}]})["predictions"][0]
    assert "image" in prediction


def _local() -> Any:
    return one_by_one(lambda request: anonymize_payload(request))


def test_jsonl_batch_reports_bad_lines_and_goes_on(tmp_path: Path, face_png: bytes) -> None:
    good = json.dumps(request_for([face_png]))
    mixed = json.dumps(
        {"instances": [{"image": {"b64": "!!"}}, {"image": {"b64": _b64(face_png)}}]}
    )
    path = tmp_path / "requests.jsonl"
    # A byte-order mark first, as Windows tools write it; it must not spoil line 1.
    path.write_text("\ufeff" + "\n".join([good, "{not json", "", '{"foo": 1}', mixed]) + "\n")
    out = tmp_path / "out"
    outcome = run_jsonl(
        path, out, _local(), lambda data: len(detect_faces(decode_image(data).array))
    )
    assert (outcome.requests, outcome.instances, outcome.answered) == (4, 3, 2)
    assert outcome.faces_after == 0
    where = [(e["line"], e["item"]) for e in outcome.errors]
    assert where == [(2, None), (4, None), (5, 0)]
    assert "line 2: not JSON" in outcome.errors[0]["error"]
    lines = (out / "requests.jsonl.out").read_text().splitlines()
    assert len(lines) == 4  # one per non-blank input line, in order
    assert "predictions" in json.loads(lines[0]) and json.loads(lines[1])["error"].startswith(
        "line 2"
    )
    last = json.loads(lines[3])["predictions"]
    assert "error" in last[0] and "image" in last[1]
    assert json.loads((out / "errors.json").read_text()) == outcome.errors
    assert sorted(p.name for p in out.glob("*.png")) == ["line1_item0.png", "line5_item1.png"]


def test_folder_batch_writes_images_and_reports_bad_files(tmp_path: Path, face: Any) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.png").write_bytes(encode_image(face))
    (folder / "b.jpg").write_bytes(encode_image(face, "JPEG"))
    (folder / "c.gif").write_bytes(_gif(face))
    (folder / "notes.txt").write_text("not an image")
    (folder / ".hidden").write_text("skipped")
    out = tmp_path / "out"
    outcome = run_folder(folder, out, _local())
    assert (outcome.requests, outcome.answered) == (4, 3)
    assert [e["file"] for e in outcome.errors] == ["notes.txt"]
    assert "notes.txt" in outcome.errors[0]["error"]
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.jpg", "c.gif.png", "errors.json"]


def _gif(image: Any) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).convert("P").save(buffer, format="GIF")
    return buffer.getvalue()


def test_demo_batch_has_the_advertised_bad_lines() -> None:
    lines = demo_batch_lines()
    assert len(lines) == 5
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[1])
    assert "instances" not in json.loads(lines[3])


# -- detectors and boxes -----------------------------------------------------------------


def test_boxes_merge_pad_and_clip() -> None:
    merged = merge_boxes([Box(10, 10, 20, 20), Box(12, 12, 20, 20), Box(100, 100, 5, 5)])
    assert merged == [Box(10, 10, 22, 22), Box(100, 100, 5, 5)]
    assert Box(0, 0, 40, 40).padded(0.25, 45, 45) == Box(0, 0, 45, 45)
    assert Box(20, 20, 40, 40).padded(0.25, 200, 200) == Box(10, 10, 60, 60)


def test_large_pictures_are_searched_shrunk(face: Any) -> None:
    big = np.repeat(np.repeat(face, 2, axis=0), 2, axis=1)  # 512 x 512, face ~190 px
    boxes = detect_faces(big, max_side=256, profile=False)
    assert len(boxes) == 1
    assert 150 <= boxes[0].w <= 230 and 110 <= boxes[0].x <= 190


def test_lbp_fallback_without_opencv(monkeypatch: pytest.MonkeyPatch, face: Any) -> None:
    from deepracer.plugins.face_anonymizer import detect

    monkeypatch.setitem(sys.modules, "cv2", None)  # `import cv2` now raises ImportError
    detect.have_opencv.cache_clear()
    detect._haar_cascade.cache_clear()
    try:
        name, note = detect.resolve_detector("haar")
        assert name == "lbp" and "OpenCV" in note
        result = anonymize_detailed(face, Options(detector="lbp"))  # blur through scipy
        assert result.faces and result.remaining == 0
        mask = box_mask(face.shape, result.boxes)
        assert np.array_equal(result.array[~mask], face[~mask])
    finally:
        monkeypatch.undo()
        detect.have_opencv.cache_clear()
        detect._haar_cascade.cache_clear()


# -- configuration and CLI ---------------------------------------------------------------


def test_the_shipped_experiment_loads() -> None:
    experiment, loaded = load_plugin_experiment(REPO / "experiments" / "face_anonymizer.yaml")
    assert loaded is plugin and isinstance(experiment.section, FaceAnonymizerConfig)
    assert experiment.backend == "local" and experiment.section.batch == "demo"


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ("padding: 2", "face_anonymizer.padding: expected a number from 0 to 1"),
        ("method: smudge", "face_anonymizer.method"),
        ("endpoint_name: -bad-", "face_anonymizer.endpoint_name"),
        ("model_package_arn: nope", "face_anonymizer.model_package_arn: expected an ARN"),
        ("blur_scale: 0", "face_anonymizer.blur_scale"),
        ("detectr: haar", "Did you mean 'detector'?"),
    ],
)
def test_bad_settings_name_the_field(tmp_path: Path, setting: str, words: str) -> None:
    path = tmp_path / "faces.yaml"
    path.write_text(f"kind: face_anonymizer\nface_anonymizer:\n  {setting}\n")
    with pytest.raises(ConfigError) as info:
        load_plugin_experiment(path)
    assert words in str(info.value) and str(path) in str(info.value)


def test_missing_picture_is_a_config_error(tmp_path: Path) -> None:
    config = FaceAnonymizerConfig(images=("astronot",), strength_check=False)
    with pytest.raises(ConfigError, match=r"images\[0\]: 'astronot' is neither"):
        run(config, _context(tmp_path))


def test_cli_run_writes_outputs_deterministically(tmp_path: Path, face: Any) -> None:
    from deepracer.cli import main as cli

    picture = tmp_path / "face.png"
    picture.write_bytes(encode_image(face))
    nobody = tmp_path / "nobody.png"
    nobody.write_bytes(encode_image(np.ascontiguousarray(skimage_data.coffee()[:200, :200])))
    batch = tmp_path / "batch.jsonl"
    batch.write_text(json.dumps(request_for([picture.read_bytes()])) + "\nnot json\n")
    experiment = tmp_path / "faces.yaml"
    experiment.write_text(
        "kind: face_anonymizer\nface_anonymizer:\n"
        f"  images: ['{picture}', '{nobody}']\n  batch: '{batch}'\n  strength_check: false\n"
    )
    runs = [tmp_path / "run1", tmp_path / "run2"]
    for out in runs:
        assert cli(["run", str(experiment), "--out", str(out)]) == 0
    metrics = json.loads((runs[0] / "metrics.json").read_text())["metrics"]
    assert metrics["faces_found"] == 1 and metrics["faces_after"] == 0
    assert metrics["max_abs_change_outside"] == 0 and metrics["no_face_images_unchanged"] == 1
    assert metrics["batch_errors"] == 1 and metrics["batch_answered"] == 1
    assert metrics["ms_per_image"] > 0
    for name in ("before_after.png", "per_image.json", "report.md", "anonymized/face.png"):
        assert (runs[0] / name).is_file(), name
    report = (runs[0] / "report.md").read_text()
    assert "line 2: not JSON" in report and "| Faces visible after anonymization |" in report
    for name in ("anonymized/face.png", "anonymized/nobody.png", "batch/batch.jsonl.out"):
        assert (runs[0] / name).read_bytes() == (runs[1] / name).read_bytes(), name
    assert (runs[0] / "anonymized/nobody.png").read_bytes() == nobody.read_bytes()


# -- backend aws (moto + Stubber; nothing leaves the process) ----------------------------


class _Context(RunContext):
    """A RunContext whose clients are made (and watched) by the test."""

    clients: dict[str, Any]

    def client(self, service: str) -> Any:
        return self.clients[service]


def _context(tmp_path: Path, backend: str = "local", s3: str = "", **clients: Any) -> _Context:
    run_dir = tmp_path / "run"
    run_dir.mkdir(exist_ok=True)
    context = _Context(
        run_dir=run_dir,
        seed=0,
        backend=backend,
        aws=AwsConfig(region="us-east-1", role=ROLE, s3=s3),
        echo=lambda line: None,
    )
    context.clients = {k.replace("_", "-"): v for k, v in clients.items()}
    return context


def _recorded(client: Any, service: str, operations: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The parameters of every call to ``operations`` on ``client``."""
    calls: dict[str, list[dict[str, Any]]] = {op: [] for op in operations}
    for op in operations:
        handler = _recorder(calls[op])
        client.meta.events.register(f"provide-client-params.{service}.{op}", handler)
    return calls


def _recorder(into: list[dict[str, Any]]) -> Any:
    def record(params: dict[str, Any], **_: Any) -> None:
        into.append(dict(params))

    return record


def _queue_endpoint_answer(body: dict[str, Any]) -> None:
    from moto.sagemakerruntime.models import sagemakerruntime_backends

    backend = sagemakerruntime_backends[MOTO_ACCOUNT]["us-east-1"]
    backend.results_queue.append((json.dumps(body), "application/json", "AllTraffic", ""))


@pytest.fixture
def boto(mock_aws: None) -> Iterator[dict[str, Any]]:  # noqa: F811
    import boto3

    yield {
        name: boto3.client(name, region_name="us-east-1")
        for name in ("sagemaker", "sagemaker-runtime", "s3")
    }


def test_aws_endpoint_round_trip_and_cleanup(
    tmp_path: Path, boto: dict[str, Any], face_png: bytes
) -> None:
    picture = tmp_path / "face.png"
    picture.write_bytes(face_png)
    # moto answers invoke_endpoint with canned bytes: queue what the package would return.
    _queue_endpoint_answer(anonymize_payload(request_for([face_png])))
    sm, runtime = boto["sagemaker"], boto["sagemaker-runtime"]
    calls = _recorded(sm, "sagemaker", ["CreateModel", "CreateEndpointConfig", "DeleteModel"])
    invokes = _recorded(runtime, "sagemaker-runtime", ["InvokeEndpoint"])["InvokeEndpoint"]
    config = FaceAnonymizerConfig(
        images=(str(picture),), model_package_arn=ARN, strength_check=False
    )
    result = run(config, _context(tmp_path, "aws", sagemaker=sm, sagemaker_runtime=runtime))
    (model,) = calls["CreateModel"]
    assert model["PrimaryContainer"] == {"ModelPackageName": ARN}
    assert model["EnableNetworkIsolation"] is True and model["ExecutionRoleArn"] == ROLE
    variant = calls["CreateEndpointConfig"][0]["ProductionVariants"][0]
    assert variant["InstanceType"] == "ml.c5.xlarge"
    (invoke,) = invokes
    assert (
        invoke["ContentType"] == "application/json" and invoke["EndpointName"] == "face-anonymizer"
    )
    assert json.loads(invoke["Body"]) == request_for([face_png])
    assert result.metrics["faces_found"] == 1 and result.metrics["faces_after"] == 0
    assert result.metrics["image_errors"] == 0
    # Everything is deleted at the end.
    assert sm.list_endpoints()["Endpoints"] == [] and sm.list_models()["Models"] == []
    assert sm.list_endpoint_configs()["EndpointConfigs"] == []
    assert "Deleted at the end: endpoint face-anonymizer" in result.report


def test_aws_keep_endpoint_keeps_it(tmp_path: Path, boto: dict[str, Any]) -> None:
    batch = tmp_path / "empty"
    batch.mkdir()
    config = FaceAnonymizerConfig(
        images=(), batch=str(batch), model_package_arn=ARN, keep_endpoint=True
    )
    sm = boto["sagemaker"]
    result = run(
        config, _context(tmp_path, "aws", sagemaker=sm, sagemaker_runtime=boto["sagemaker-runtime"])
    )
    assert [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]] == ["face-anonymizer"]
    assert "Kept (`keep_endpoint: true`" in result.report


def test_aws_endpoint_error_is_one_row_and_cleanup_still_runs(
    tmp_path: Path, boto: dict[str, Any], face_png: bytes
) -> None:
    from botocore.stub import Stubber

    picture = tmp_path / "face.png"
    picture.write_bytes(face_png)
    sm, runtime = boto["sagemaker"], boto["sagemaker-runtime"]
    config = FaceAnonymizerConfig(
        images=(str(picture),), model_package_arn=ARN, strength_check=False
    )
    with Stubber(runtime) as stub:
        stub.add_client_error(
            "invoke_endpoint", service_error_code="ModelError", http_status_code=424
        )
        result = run(config, _context(tmp_path, "aws", sagemaker=sm, sagemaker_runtime=runtime))
    assert result.metrics["image_errors"] == 1
    assert "ModelError" in result.report
    assert sm.list_endpoints()["Endpoints"] == [] and sm.list_models()["Models"] == []


def test_aws_refuses_oversized_requests_before_creating_anything(
    tmp_path: Path, boto: dict[str, Any]
) -> None:
    noise = np.random.default_rng(0).integers(0, 256, size=(1500, 1500, 3), dtype=np.uint8)
    big = tmp_path / "noise.png"
    big.write_bytes(encode_image(noise))  # about 6.8 MB, 9 MB in base64
    config = FaceAnonymizerConfig(images=(str(big),), model_package_arn=ARN, strength_check=False)
    sm = boto["sagemaker"]
    with pytest.raises(DeepRacerError, match=r"above the 6 MB limit.*noise \(9\.\d MB\)"):
        run(
            config,
            _context(tmp_path, "aws", sagemaker=sm, sagemaker_runtime=boto["sagemaker-runtime"]),
        )
    assert sm.list_models()["Models"] == []


def test_aws_needs_an_arn_and_a_role(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="model_package_arn: required"):
        run(FaceAnonymizerConfig(images=("coffee",)), _context(tmp_path, "aws"))


def test_aws_batch_runs_as_a_transform_job(
    tmp_path: Path, boto: dict[str, Any], face_png: bytes
) -> None:
    s3, sm = boto["s3"], boto["sagemaker"]
    s3.create_bucket(Bucket="faces")
    batch = tmp_path / "requests.jsonl"
    good = request_for([face_png])
    batch.write_text(json.dumps(good) + "\nnot json\n")
    context = _context(tmp_path, "aws", s3="s3://faces/jobs", sagemaker=sm)
    context.clients["s3"] = s3
    # The job's output, as SageMaker would write it (moto completes jobs without running them).
    answer = json.dumps(anonymize_payload(good)) + "\n"
    s3.put_object(Bucket="faces", Key="jobs/run/output/requests.jsonl.out", Body=answer.encode())
    calls = _recorded(sm, "sagemaker", ["CreateTransformJob"])["CreateTransformJob"]
    config = FaceAnonymizerConfig(images=(), batch=str(batch), model_package_arn=ARN)
    result = run(config, context)
    (job,) = calls
    assert job["TransformInput"]["SplitType"] == "Line"
    assert job["TransformInput"]["ContentType"] == "application/json"
    assert (
        job["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"]
        == "s3://faces/jobs/run/input/requests.jsonl"
    )
    assert job["ModelName"] == "face-anonymizer"
    sent = s3.get_object(Bucket="faces", Key="jobs/run/input/requests.jsonl")["Body"].read()
    assert sent.decode().splitlines() == [json.dumps(good)]  # the bad line stayed home
    m = result.metrics
    assert (
        m["batch_requests"],
        m["batch_answered"],
        m["batch_errors"],
        m["batch_faces_after"],
    ) == (2, 1, 1, 0)
    assert sm.list_models()["Models"] == [] and sm.list_endpoints()["Endpoints"] == []


def test_aws_quota_error_is_clear_and_the_model_is_deleted(
    tmp_path: Path,
    aws_env: None,  # noqa: F811
    face_png: bytes,
) -> None:
    import boto3
    from botocore.stub import Stubber

    picture = tmp_path / "face.png"
    picture.write_bytes(face_png)
    sm = boto3.client("sagemaker", region_name="us-east-1")
    runtime = boto3.client("sagemaker-runtime", region_name="us-east-1")
    config = FaceAnonymizerConfig(images=(str(picture),), model_package_arn=ARN)
    with Stubber(sm) as stub:
        stub.add_response("create_model", {"ModelArn": f"{ARN}-model"})
        stub.add_client_error(
            "create_endpoint_config",
            service_error_code="ResourceLimitExceeded",
            service_message="no",
        )
        stub.add_response("delete_model", {}, {"ModelName": "face-anonymizer"})
        with pytest.raises(DeepRacerError, match="quota for this instance type is used up"):
            run(config, _context(tmp_path, "aws", sagemaker=sm, sagemaker_runtime=runtime))
        stub.assert_no_pending_responses()
