"""The genres plugin: the shipped experiment offline, ONNX = LightGBM, recommend(), HTTP, AWS."""

from __future__ import annotations

import io
import itertools
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("lightgbm")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnxmltools")

from deepracer import plugins
from deepracer.cli import main as cli
from deepracer.errors import ConfigError, DeepRacerError
from deepracer.plugins.genres import load_recommend
from deepracer.plugins.genres.experiment import (
    make_dataset,
    parse_predictions,
    score_endpoint,
)
from deepracer.plugins.genres.model import (
    FeatureMapping,
    ProfileError,
    Recommender,
    top_k,
    users_to_profiles,
)
from deepracer.plugins.genres.stats import mcnemar, paired_bootstrap
from deepracer.plugins.genres.world import (
    GENRES,
    WorldParams,
    _set_probability,
    bayes_posterior,
    make_world,
    sample_users,
)
from tests.plugins.helpers import offline, read_metrics

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENT = ROOT / "experiments" / "genres.yaml"
# Small enough for seconds, big enough that the model's win is clear.
SMALL = {
    "genres.users": 4000,
    "genres.trees": 50,
    "genres.bayes_draws": 60,
    "genres.bootstrap": 300,
    "genres.latency_calls": 20,
}
TINY = {
    "genres.users": 800,
    "genres.trees": 8,
    "genres.bayes_draws": 20,
    "genres.bootstrap": 100,
    "genres.latency_calls": 0,
}
TIMING = ("seconds", "train_seconds", "onnx_seconds", "bayes_seconds", "endpoint_request_p50_ms")
PROFILE = {"age": 34, "gender": "female", "region": "pacific", "genres": ["Country", "Jazz"]}


def _sets(values: dict[str, Any]) -> list[str]:
    return list(itertools.chain.from_iterable(("--set", f"{k}={v}") for k, v in values.items()))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The shipped experiment, run once at a small size with every socket refused."""
    out = tmp_path_factory.mktemp("genres") / "run"
    with offline():
        assert cli(["run", str(EXPERIMENT), "--out", str(out), *_sets(SMALL)]) == 0
    yield out


def _test_users(run: Path) -> tuple[Any, FeatureMapping]:
    experiment, _ = plugins.load_plugin_experiment(run / "experiment.yaml")
    data = make_dataset(experiment.section, experiment.seed)
    mapping = FeatureMapping.from_json(json.loads((run / "features.json").read_text()))
    return data.test, mapping


# -- the run -----------------------------------------------------------------------------


def test_the_shipped_experiment_writes_model_metrics_plots_and_report(run_dir: Path) -> None:
    for name in (
        "model.txt",
        "model.onnx",
        "features.json",
        "metrics.json",
        "report.md",
        "hit_rates_by_selected.json",
        "hit_rate_by_selected.png",
        "popularity.png",
        "confusion.png",
        "calibration.png",
    ):
        assert (run_dir / name).stat().st_size > 0, name
    m = read_metrics(run_dir)
    assert m["users_test"] == 800 and m["users_train"] == 3200
    # The model beats the baseline, with the interval and the paired test saying so.
    assert m["top3_hit_rate_model"] > m["top3_hit_rate_baseline"]
    assert 0 < m["top3_lift_ci_low"] <= m["top3_lift"] <= m["top3_lift_ci_high"]
    assert m["top3_diff_ci_low"] > 0 and m["mcnemar_p"] < 0.01
    assert m["mcnemar_model_only"] > m["mcnemar_baseline_only"]
    # The Bayes-optimal ceiling is above both (realised hit rates are noisy: margin).
    assert m["top3_expected_hit_rate_bayes"] >= m["top3_expected_hit_rate_model"]
    assert m["top3_hit_rate_bayes"] > m["top3_hit_rate_baseline"]
    assert m["onnx_top3_identical"] == 1.0 and m["onnx_max_abs_diff"] < 1e-5
    assert m["recommend_matches_batch"] == 1.0
    assert m["serve_onnx_p50_ms"] <= m["serve_onnx_p99_ms"]
    assert m["serve_mean_ms"] == m["serve_onnx_mean_ms"]  # the configured engine's
    report = (run_dir / "report.md").read_text()
    assert "| Top-3 hit rate of the model | 77 % |" in report
    assert "95 % paired-bootstrap interval" in report and "McNemar" in report
    assert "Bayes-optimal" in report and "padded with the most popular" in report
    groups = json.loads((run_dir / "hit_rates_by_selected.json").read_text())
    assert list(groups) == ["1", "2", "3", "4", "5", "6"]
    assert sum(g["users"] for g in groups.values()) == 800


def test_onnx_and_lightgbm_rank_every_test_user_identically(run_dir: Path) -> None:
    test, mapping = _test_users(run_dir)
    rows = mapping.encode_users(test)
    onnx = Recommender.from_run_dir(run_dir, "onnx").engine.predict_proba(rows)
    booster = Recommender.from_run_dir(run_dir, "lightgbm").engine.predict_proba(rows)
    assert onnx.shape == booster.shape == (len(test), len(GENRES))
    np.testing.assert_array_equal(top_k(onnx), top_k(booster))
    assert np.abs(onnx - booster).max() < 1e-5


def test_recommend_loads_from_the_run_dir_and_matches_the_batch_ranking(run_dir: Path) -> None:
    test, mapping = _test_users(run_dir)
    profiles = users_to_profiles(test, mapping)[:50]
    rows = np.concatenate([mapping.encode_profile(p) for p in profiles])
    np.testing.assert_array_equal(rows, mapping.encode_users(test)[:50])
    expected = [
        [GENRES[i] for i in row]
        for row in top_k(Recommender.from_run_dir(run_dir, "lightgbm").engine.predict_proba(rows))
    ]
    for engine in ("onnx", "lightgbm"):
        recommend = load_recommend(run_dir, engine)
        assert [recommend(p) for p in profiles] == expected
    top = load_recommend(run_dir)(PROFILE)
    assert len(top) == 3 and len(set(top)) == 3 and set(top) <= set(GENRES)
    probabilities = Recommender.from_run_dir(run_dir).probabilities(PROFILE)
    assert abs(sum(probabilities.values()) - 1) < 1e-5
    assert sorted(probabilities, key=lambda g: -probabilities[g])[:3] == top


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"age": 90}, "age", "16 to 74 years"),
        ({"age": 15.5}, "age", "training range"),
        ({"age": "old"}, "age", "a number of years"),
        ({"age": True}, "age", "a number of years"),
        ({"age": float("nan")}, "age", "16 to 74"),
        ({"gender": "robot"}, "gender", "unknown gender 'robot'"),
        ({"region": "pacifc"}, "region", "Did you mean 'pacific'?"),
        ({"genres": ["Country", "Rap"]}, "genres[1]", "unknown genres[1] 'Rap'"),
        ({"genres": []}, "genres", "1 to 6 selected genres"),
        ({"genres": list(GENRES[:7])}, "genres", "got 7"),
        ({"genres": ["Jazz", "Jazz"]}, "genres[1]", "selected twice"),
        ({"genres": "Jazz"}, "genres", "a list of genre names"),
        ({"agee": 30}, "agee", "Did you mean 'age'?"),
    ],
)
def test_bad_profiles_are_refused_naming_the_field(
    run_dir: Path, change: dict[str, Any], field: str, words: str
) -> None:
    recommend = load_recommend(run_dir)
    with pytest.raises(ProfileError) as info:
        recommend({**PROFILE, **change})
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ") and words in str(info.value)
    assert isinstance(info.value, DeepRacerError)


def test_missing_fields_and_non_mappings_are_refused(run_dir: Path) -> None:
    recommend = load_recommend(run_dir)
    with pytest.raises(ProfileError, match="region: missing"):
        recommend({k: v for k, v in PROFILE.items() if k != "region"})
    with pytest.raises(ProfileError, match="profile: expected a mapping"):
        recommend(["not", "a", "profile"])


def test_loading_a_directory_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DeepRacerError, match=r"features\.json: not found"):
        load_recommend(tmp_path)
    (tmp_path / "features.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(DeepRacerError, match="format: expected"):
        load_recommend(tmp_path)


# -- HTTP --------------------------------------------------------------------------------


# fastapi's TestClient warns about its httpx transport; that is fastapi's business.
@pytest.mark.filterwarnings("ignore:Using .httpx. with .starlette.testclient.")
def test_the_http_endpoint_answers_and_refuses_bad_profiles(run_dir: Path) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from deepracer.plugins.genres.serve import create_app

    client = TestClient(create_app(run_dir))
    answer = client.post("/recommend", json=PROFILE)
    assert answer.status_code == 200
    assert answer.json() == {"genres": load_recommend(run_dir)(PROFILE), "engine": "onnx"}
    bad = client.post("/recommend", json={**PROFILE, "region": "mars"})
    assert bad.status_code == 422
    assert bad.json()["field"] == "region" and "unknown region 'mars'" in bad.json()["detail"]
    old = client.post("/recommend", json={**PROFILE, "age": 120})
    assert old.status_code == 422 and old.json()["detail"].startswith("age: expected 16 to 74")
    garbage = client.post(
        "/recommend", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert garbage.status_code == 400 and "JSON" in garbage.json()["detail"]
    assert client.post("/recommend", json=[PROFILE]).status_code == 400
    assert client.get("/ping").status_code == 200
    assert client.get("/health").json()["genres"] == list(GENRES)
    batch = client.post("/invocations", json={"instances": [PROFILE, PROFILE]})
    assert batch.status_code == 200 and batch.json()["predictions"] == [answer.json()["genres"]] * 2
    wrong = client.post("/invocations", json={"instances": [PROFILE, {**PROFILE, "gender": "x"}]})
    assert wrong.status_code == 422 and wrong.json()["field"] == "instances[1].gender"
    deep = b"[" * 100_000 + b"]" * 100_000
    for path in ("/recommend", "/invocations"):
        nested = client.post(path, content=deep, headers={"content-type": "application/json"})
        assert nested.status_code == 400 and "nested too deeply" in nested.json()["detail"]
    huge = client.post("/recommend", content=b" " * (2 << 20))
    assert huge.status_code == 413 and "at most 1,048,576" in huge.json()["detail"]


# -- determinism, configuration ----------------------------------------------------------


def test_the_same_seed_gives_the_same_numbers(tmp_path: Path) -> None:
    runs = {}
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        out = tmp_path / name
        assert (
            cli(["run", str(EXPERIMENT), "--out", str(out), "--set", f"seed={seed}", *_sets(TINY)])
            == 0
        )
        runs[name] = {k: v for k, v in read_metrics(out).items() if k not in TIMING}
    assert runs["a"] == runs["b"]
    assert (tmp_path / "a" / "model.txt").read_text() == (tmp_path / "b" / "model.txt").read_text()
    assert runs["a"] != runs["c"]


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ("genres.test_fraction=0.9", "genres.test_fraction: expected a number from 0.05 to 0.5"),
        ("genres.users=10", "genres.users: expected a number >= 500"),
        ("genres.listen_noise=0", "genres.listen_noise: expected a number > 0"),
        ("genres.engine=tensorflow", "genres.engine: expected one of 'onnx', 'lightgbm'"),
        ("genres.confidence=1.5", "genres.confidence: expected a confidence level"),
        ("genres.tress=10", "Did you mean 'trees'?"),
    ],
)
def test_bad_settings_name_the_field(setting: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        plugins.load_plugin_experiment(EXPERIMENT, [setting])
    assert words in str(info.value)


def test_the_plugin_module_imports_no_heavy_dependency() -> None:
    code = (
        "import sys, deepracer.plugins.genres as g; g.plugin.config();"
        " print([m for m in ('lightgbm', 'onnxruntime', 'onnxmltools', 'matplotlib',"
        " 'fastapi') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"


# -- the pieces --------------------------------------------------------------------------


def test_the_set_probability_is_the_plackett_luce_probability_of_the_set() -> None:
    rng = np.random.default_rng(1)
    weights = np.exp(rng.normal(size=12))
    for chosen in ([3], [0, 5], [1, 4, 7, 9], [0, 2, 4, 6, 8, 10]):
        enumerated = 0.0
        for order in itertools.permutations(chosen):
            left, p = weights.sum(), 1.0
            for i in order:
                p *= weights[i] / left
                left -= weights[i]
            enumerated += p
        mask = np.zeros((1, 12))
        mask[0, chosen] = 1
        value = _set_probability(weights[None, None, :], mask, np.array([chosen]))
        assert value[0, 0] == pytest.approx(enumerated, rel=1e-9)


def test_the_bayes_posterior_is_a_distribution_that_beats_the_prior() -> None:
    world = make_world(WorldParams(), seed=0)
    users = sample_users(world, 600, seed=0)
    posterior = bayes_posterior(world, users, draws=100, seed=0)
    assert posterior.shape == (600, 12) and np.all(posterior >= 0)
    np.testing.assert_allclose(posterior.sum(axis=1), 1.0)
    picked = posterior[np.arange(600), users.label]
    prior = np.bincount(users.label, minlength=12)[users.label] / 600
    assert np.log(picked).mean() > np.log(prior).mean() + 0.2  # a clearly better log score
    again = bayes_posterior(world, users, draws=100, seed=0)
    np.testing.assert_array_equal(posterior, again)


def test_the_world_has_aspirational_picks_and_the_r_and_b_drift() -> None:
    users = sample_users(make_world(WorldParams(), seed=0), 6000, seed=0)
    picked = users.selected.mean(axis=0)
    listened = np.bincount(users.label, minlength=12) / len(users)
    ratio = picked / listened
    for genre in ("Classical", "Jazz"):  # ticked far more often than listened to most
        assert ratio[GENRES.index(genre)] > 2 * ratio[GENRES.index("Top 40 & Pop")]
    rnb = users.selected[:, GENRES.index("R&B")] == 1
    hiphop = users.label == GENRES.index("Hip-Hop")
    assert hiphop[rnb].mean() > 1.5 * hiphop[~rnb].mean()
    assert users.n_selected.min() == 1 and users.n_selected.max() == 6
    assert 3.5 < users.n_selected.mean() < 4.0  # "around four" in the article


def test_the_baseline_ranks_selections_by_popularity_and_pads_with_popular_genres() -> None:
    popularity = tuple(np.linspace(0.2, 0.01, 12))  # genre 0 most popular, then 1, ...
    mapping = FeatureMapping(popularity=popularity)
    selected = np.zeros((3, 12), dtype=np.int8)
    selected[0, [7]] = 1  # one pick: it, then the two most popular others
    selected[1, [9, 4, 11, 6]] = 1  # four picks: the three most popular of them
    selected[2, [0, 1]] = 1  # two picks that are also the most popular: pad with 2
    top = top_k(mapping.baseline_scores(selected))
    assert top.tolist() == [[7, 0, 1], [4, 6, 9], [0, 1, 2]]


def test_paired_statistics() -> None:
    rng = np.random.default_rng(0)
    base = rng.random(2000) < 0.6
    same = paired_bootstrap(base, base, resamples=200, confidence=0.9, seed=0)
    assert same.diff == same.diff_low == same.diff_high == 0.0
    assert mcnemar(base, base).p_value == 1.0
    better = base | (rng.random(2000) < 0.3)
    result = paired_bootstrap(better, base, resamples=500, confidence=0.95, seed=0)
    assert 0 < result.diff_low < result.diff < result.diff_high
    assert result.lift == pytest.approx(better.mean() / base.mean() - 1)
    test = mcnemar(better, base)
    assert test.baseline_only == 0 and test.model_only > 0 and test.p_value < 1e-10
    repeat = paired_bootstrap(better, base, resamples=500, confidence=0.95, seed=0)
    assert repeat == result


# -- AWS ---------------------------------------------------------------------------------


def _runtime_client() -> Any:
    import boto3

    return boto3.session.Session().client("sagemaker-runtime", region_name="us-east-1")


def _body(answer: Any) -> Any:
    from botocore.response import StreamingBody

    raw = json.dumps(answer).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


@pytest.fixture
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("boto3")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_score_endpoint_sends_json_batches_to_invoke_endpoint(fake_credentials: None) -> None:
    from botocore.stub import Stubber

    client = _runtime_client()
    profiles = [PROFILE, {**PROFILE, "age": 60}, {**PROFILE, "genres": ["Sports"]}]
    top = ["Country", "Jazz", "Top 40 & Pop"]
    with Stubber(client) as stub:
        for chunk in (profiles[:2], profiles[2:]):
            stub.add_response(
                "invoke_endpoint",
                {
                    "Body": _body({"predictions": [top] * len(chunk)}),
                    "ContentType": "application/json",
                },
                {
                    "EndpointName": "genres-prod",
                    "ContentType": "application/json",
                    "Accept": "application/json",
                    "Body": json.dumps({"instances": chunk}),
                },
            )
        answers, seconds = score_endpoint(client, "genres-prod", profiles, batch=2)
        stub.assert_no_pending_responses()
    assert answers == [top] * 3 and len(seconds) == 2


def test_endpoint_errors_are_clear(fake_credentials: None) -> None:
    from botocore.stub import Stubber

    client = _runtime_client()
    with Stubber(client) as stub:
        stub.add_client_error(
            "invoke_endpoint", "ValidationException", "Endpoint genres-prod not found."
        )
        with pytest.raises(DeepRacerError, match="Endpoint genres-prod not found") as info:
            score_endpoint(client, "genres-prod", [PROFILE], batch=5)
    assert str(info.value).startswith("InvokeEndpoint (endpoint genres-prod, genres.endpoint_name)")
    with pytest.raises(DeepRacerError, match="endpoint 'e': the answer is not JSON"):
        parse_predictions(b"body", 1, GENRES, "e")
    with pytest.raises(DeepRacerError, match="expected 2 predictions"):
        parse_predictions(b'{"predictions": [["Jazz", "Sports", "R&B"]]}', 2, GENRES, "e")
    with pytest.raises(DeepRacerError, match=r"predictions\[0\]: expected a list of at least 3"):
        parse_predictions(b'{"predictions": [["Jazz", "Polka", "R&B"]]}', 1, GENRES, "e")


def test_backend_aws_needs_an_endpoint_name(tmp_path: Path) -> None:
    out = tmp_path / "run"
    experiment, plugin = plugins.load_plugin_experiment(EXPERIMENT, ["backend=aws"])
    with pytest.raises(ConfigError, match=r"genres\.endpoint_name"):
        plugins.run_experiment(experiment, plugin, out, argv=[])


def test_backend_aws_scores_test_users_on_the_endpoint(
    fake_credentials: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.stub import ANY, Stubber

    client = _runtime_client()
    top = ["Top 40 & Pop", "Hip-Hop", "News & Talk"]
    stub = Stubber(client)
    for _ in range(3):
        stub.add_response(
            "invoke_endpoint",
            {"Body": _body({"predictions": [top] * 10})},
            {
                "EndpointName": "genres-prod",
                "ContentType": "application/json",
                "Accept": "application/json",
                "Body": ANY,
            },
        )
    asked: list[str] = []

    def fake_client(self: plugins.RunContext, service: str) -> Any:
        asked.append(service)
        return client

    monkeypatch.setattr(plugins.RunContext, "client", fake_client)
    settings = {
        **TINY,
        "genres.endpoint_name": "genres-prod",
        "genres.endpoint_users": 30,
        "genres.endpoint_batch": 10,
    }
    out = tmp_path / "run"
    with stub:
        assert (
            cli(
                [
                    "run",
                    str(EXPERIMENT),
                    "--out",
                    str(out),
                    "--set",
                    "backend=aws",
                    *_sets(settings),
                ]
            )
            == 0
        )
        stub.assert_no_pending_responses()
    assert asked == ["sagemaker-runtime"]
    m = read_metrics(out)
    assert m["endpoint_users"] == 30 and m["endpoint_requests"] == 3
    experiment, _ = plugins.load_plugin_experiment(out / "experiment.yaml")
    labels = make_dataset(experiment.section, experiment.seed).test.label[:30]
    expected = np.isin(labels, [GENRES.index(g) for g in top]).mean()
    assert m["endpoint_top3_hit_rate"] == pytest.approx(expected)
    assert "Endpoint `genres-prod`" in (out / "report.md").read_text()
