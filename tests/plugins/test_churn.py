"""The churn plugin: data, cleaning, ensembles, threshold, sensitivity, CSV errors, AWS."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("imblearn")

from deepracer.cli import main as cli
from deepracer.errors import ConfigError, DeepRacerError
from deepracer.plugins import (
    AwsConfig,
    RunContext,
    get_plugin,
    load_plugin_experiment,
)
from deepracer.plugins.churn import ChurnConfig
from deepracer.plugins.churn.clean import fit_cleaner
from deepracer.plugins.churn.data import apply_lever, read_csv, synthetic_table
from deepracer.plugins.churn.endpoint import csv_body, parse_scores, score_endpoint
from deepracer.plugins.churn.experiment import run
from deepracer.plugins.churn.models import (
    partition_rows,
    prior_shift,
    rates,
    threshold_for_fallout,
)
from tests.cloud.conftest import guarded_mock_aws

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "experiments" / "churn.yaml"

# Small enough for seconds, large enough for every step to have work to do.
TINY = {
    "customers": 500,
    "cv_folds": 3,
    "partitions": 3,
    "trees": 5,
    "discounts": [0.0, 0.2],
}


def _experiment(tmp_path: Path, section: dict[str, Any], **common: Any) -> Path:
    data = {"kind": "churn", "seed": 3, **common, "churn": section}
    path = tmp_path / "churn.yaml"
    path.write_text(json.dumps(data))  # JSON is YAML
    return path


def _run_cli(path: Path, out: Path, *overrides: str) -> dict[str, Any]:
    args = ["run", str(path), "--out", str(out)]
    for o in overrides:
        args += ["--set", o]
    assert cli(args) == 0
    metrics: dict[str, Any] = json.loads((out / "metrics.json").read_text())["metrics"]
    return metrics


def _context(tmp_path: Path, backend: str = "local", seed: int = 0) -> RunContext:
    run_dir = tmp_path / f"run-{backend}-{seed}"
    run_dir.mkdir()
    return RunContext(
        run_dir=run_dir,
        seed=seed,
        backend=backend,
        aws=AwsConfig(region="us-east-1"),
        echo=lambda line: None,
    )


# -- the plugin and its experiment file ------------------------------------------------------


def test_the_plugin_imports_nothing_heavy() -> None:
    code = (
        "import sys, deepracer.plugins.churn as c; assert c.plugin.name == 'churn';"
        " heavy = [m for m in ('sklearn', 'imblearn', 'boto3', 'matplotlib') if m in sys.modules];"
        " assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_the_shipped_experiment_loads_with_documented_defaults() -> None:
    experiment, plugin = load_plugin_experiment(SHIPPED)
    assert plugin is get_plugin("churn") and experiment.backend == "local"
    config = experiment.section
    assert isinstance(config, ChurnConfig)
    assert (config.cv_folds, config.test_size, config.fallout, config.partitions) == (
        10,
        0.3,
        0.10,
        9,
    )
    assert (config.max_missing, config.outlier_sd, config.collinear_rho) == (0.4, 6.0, 0.95)
    assert config.discounts[0] == 0.0 and config.discounts[-1] == 0.4
    # Every field is set (and so commented) in the shipped file, and documented in code.
    text = SHIPPED.read_text()
    source = (ROOT / "deepracer" / "plugins" / "churn" / "__init__.py").read_text()
    for name in ChurnConfig.__dataclass_fields__:
        assert f"  {name}:" in text, name
        assert f"    {name}: " in source and source.split(f"    {name}: ", 1)[1].count('"""') >= 2


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("churn.fallout=1.5", "churn.fallout: expected a fraction in (0, 1)"),
        ("churn.models=[logit, logit]", "churn.models: expected a non-empty list of distinct"),
        ("churn.models=[xgb]", "churn.models[0]: expected one of 'logit', 'svm', 'rf'"),
        ("churn.discounts=[0, 1.2]", "churn.discounts: expected discounts as fractions"),
        ("churn.customers=10", "churn.customers: expected an integer in [200, 100000]"),
        ("churn.cv_folds=1", "churn.cv_folds: expected an integer in [2, 50]"),
        ("churn.custmers=10", "Did you mean 'customers'?"),
    ],
)
def test_bad_values_name_the_field(override: str, words: str) -> None:
    with pytest.raises(ConfigError, match=str(SHIPPED)) as info:
        load_plugin_experiment(SHIPPED, [override])
    assert words in str(info.value)


# -- the acceptance run ------------------------------------------------------------------------


def test_a_small_run_writes_everything_and_reaches_the_bayes_ceiling(tmp_path: Path) -> None:
    """CI's acceptance check: offline, metrics + plots + report, AUC near the ceiling."""
    out = tmp_path / "run"
    metrics = _run_cli(
        SHIPPED,
        out,
        "churn.customers=3000",
        "churn.cv_folds=3",
        "churn.trees=20",
        "churn.bagging=false",
        "churn.jobs=1",
    )
    for name in (
        "metrics.json",
        "report.md",
        "roc.png",
        "threshold.png",
        "sensitivity.png",
        "correlation.png",
        "models.json",
        "thresholds.json",
        "sensitivity.json",
        "cleaning.json",
        "features.json",
        "test_scores.csv",
    ):
        assert (out / name).stat().st_size > 0, name
    assert 0.6 < metrics["bayes_auc"] < 0.85
    assert abs(metrics["bayes_auc"] - metrics["auc"]) <= 0.05
    assert math.isclose(metrics["auc_gap"], metrics["bayes_auc"] - metrics["auc"])
    assert 0.05 < metrics["churn_rate"] < 0.15
    assert 0.0 < metrics["fallout_test"] < 0.2 and metrics["tpr_at_fallout"] > 0.15
    assert metrics["brier_corrected"] < metrics["brier_base_rate"] < metrics["brier"]
    # A discount lowers predicted and true churn among the flagged.
    assert metrics["still_flagged_0"] == 1.0 and metrics["still_flagged_20"] < 1.0
    assert metrics["churn_cut_20"] > 0 and metrics["true_churn_cut_20"] > 0
    assert metrics["predicted_churn_cut_20"] > 0
    report = (out / "report.md").read_text()
    assert "| target fall-out | threshold | validation fall-out" in report
    assert "| 10.0 % |" in report and "| p = 0.5 |" in report
    assert "Bayes-optimal ROC AUC on this test set" in report and "(within 0.05)" in report
    assert "| Bayes-optimal ROC AUC (ceiling) | unknown (real data) |" in report
    assert "**Synthetic**" in report and "## Discount sensitivity" in report
    cleaning = json.loads((out / "cleaning.json").read_text())
    steps = {d["column"]: d["step"] for d in cleaning["dropped"]}
    assert steps["activity_code"] == "missing" and steps["paper_bill"] == "low_variance"
    assert steps["price_offpeak_forecast"] == "collinear"
    assert cleaning["outliers_removed"]["train"] > 0
    thresholds = json.loads((out / "thresholds.json").read_text())
    ten = next(r for r in thresholds if r["target_fallout"] == 0.1)
    assert ten["validation"]["fallout"] <= 0.1 and ten["threshold"] == metrics["threshold"]


def test_same_seed_same_numbers_and_the_library_alternative(tmp_path: Path) -> None:
    path = _experiment(tmp_path, {**TINY, "bagging": True})
    first = _run_cli(path, tmp_path / "a")
    second = _run_cli(path, tmp_path / "b", "churn.jobs=2")  # processes do not change results
    first.pop("seconds"), second.pop("seconds")
    assert first == second
    for name in ("test_scores.csv", "models.json", "thresholds.json", "sensitivity.json"):
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()
    assert "auc_bagging" in first and "brier_corrected_bagging" in first
    assert "BalancedBaggingClassifier" in (tmp_path / "a" / "report.md").read_text()


# -- pieces --------------------------------------------------------------------------------------


def test_the_partition_ensemble_sees_every_churner_and_disjoint_parts() -> None:
    labels = np.array([1] * 10 + [0] * 91, dtype=np.int64)
    parts = partition_rows(labels, 9, np.random.default_rng(0))
    assert len(parts) == 9
    negatives = [set(p[labels[p] == 0]) for p in parts]
    assert all(set(np.flatnonzero(labels == 1)) <= set(p) for p in parts)
    assert sum(len(n) for n in negatives) == 91 and set().union(*negatives) == set(range(10, 101))
    assert {len(n) for n in negatives} <= {10, 11}


def test_prior_shift_and_the_threshold() -> None:
    p = np.array([0.1, 0.5, 0.9])
    assert np.allclose(prior_shift(p, 1.0), p)
    assert np.allclose(prior_shift(np.array([0.5]), 1 / 9), [0.1])
    assert np.all(np.diff(prior_shift(p, 0.2)) > 0)  # ranking (AUC) unchanged
    labels = np.array([0] * 10 + [1] * 4, dtype=np.int64)
    scores = np.array([0.1 * i for i in range(10)] + [0.95, 0.85, 0.5, 0.05])
    t = threshold_for_fallout(labels, scores, 0.10)
    got = rates(labels, scores, t)
    assert got["fallout"] <= 0.10 and got["tpr"] == 0.5 and math.isclose(t, 0.85)
    # A fall-out below 1/negatives flags only scores above every non-churner.
    strict = rates(labels, scores, threshold_for_fallout(labels, scores, 0.01))
    assert strict["fallout"] == 0 and strict["tpr"] == 0.25


def test_the_discount_lever() -> None:
    x = np.array([[0.1, 0.20], [0.0, 0.10]])
    stacked = apply_lever(x, ["price", "discount"], ["discount"], "discount", 0.5)
    assert np.allclose(stacked[:, 1], [0.6, 0.55]) and np.allclose(stacked[:, 0], x[:, 0])
    cut = apply_lever(x, ["price", "discount"], ["price"], "price", 0.25)
    assert np.allclose(cut[:, 0], [0.075, 0.0])


def test_the_true_model_responds_to_the_discount() -> None:
    table = synthetic_table(3000, churn_rate=0.1, signal=1.0, missing=0.05, outliers=0.005, seed=1)
    assert table.oracle is not None
    p = table.oracle.probability(table.oracle.latent)
    assert abs(p.mean() - 0.1) < 1e-6 and 0.07 < table.labels.mean() < 0.13
    cheaper = apply_lever(table.oracle.latent, table.columns, ["discount"], "discount", 0.2)
    assert table.oracle.probability(cheaper).mean() < 0.8 * p.mean()
    assert np.isnan(table.features).any() and not np.isnan(table.oracle.latent).any()


def test_the_cleaning_rules() -> None:
    rng = np.random.default_rng(0)
    n = 400
    a = rng.normal(size=n)
    features = np.column_stack(
        [
            a,
            a + rng.normal(0, 0.01, n),  # collinear with a: dropped, a kept
            np.where(rng.random(n) < 0.5, np.nan, 1.0),  # half missing: dropped
            (rng.random(n) < 0.01).astype(float),  # 99 % zeros: low variance
            rng.normal(size=n),
        ]
    )
    features[5, 4] = 50.0  # an outlier
    features[7, 0] = np.nan  # imputed with the median
    cleaner, keep = fit_cleaner(
        features,
        ["a", "twin", "sparse", "flag", "b"],
        max_missing=0.4,
        outlier_sd=6,
        low_variance=0.95,
        collinear_rho=0.95,
        source="t",
    )
    assert cleaner.kept_columns == ("a", "b")
    assert [(d.column, d.step) for d in cleaner.dropped] == [
        ("sparse", "missing"),
        ("flag", "low_variance"),
        ("twin", "collinear"),
    ]
    assert not keep[5] and keep.sum() == n - 1 and cleaner.train_outliers == 1
    assert cleaner.transform(features)[7, 0] == cleaner.medians[0]
    with pytest.raises(DeepRacerError, match="dropped every feature"):
        fit_cleaner(features[:, 2:4], ["sparse", "flag"], max_missing=0.4, outlier_sd=6,
                    low_variance=0.95, collinear_rho=0.95, source="t")  # fmt: skip


# -- CSV input --------------------------------------------------------------------------------


def _customer_csv(path: Path, rows: int = 500, seed: int = 0) -> Path:
    """A CSV shaped like a user's: an id, a text channel, yes/no churn, NA cells."""
    table = synthetic_table(
        rows, churn_rate=0.12, signal=1.5, missing=0.05, outliers=0.0, seed=seed
    )
    numeric = [c for c in table.columns if not c.startswith("channel_")]
    index = {c: i for i, c in enumerate(table.columns)}
    channels = ["web", "phone", "shop"]
    lines = ["customer," + ",".join(numeric) + ",channel,Churn"]
    for r in range(rows):
        cells = [table.ids[r]]
        for c in numeric:
            v = table.features[r, index[c]]
            cells.append("NA" if np.isnan(v) else repr(float(v)))
        hot = [table.features[r, index[f"channel_{k}"]] for k in (1, 2, 3)]
        cells.append(channels[int(np.argmax(hot))] if max(hot) > 0 else "")
        cells.append("Yes" if table.labels[r] else "No")
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_user_csv_runs_without_a_ceiling(tmp_path: Path) -> None:
    csv_path = _customer_csv(tmp_path / "customers.csv")
    section = {
        **TINY,
        "csv": str(csv_path),
        "target": "Churn",
        "id_column": "customer",
        "categorical": ["channel"],
    }
    out = tmp_path / "run"
    metrics = _run_cli(_experiment(tmp_path, section), out)
    assert metrics["customers"] == 500 and "bayes_auc" not in metrics
    assert 0.5 < metrics["auc"] <= 1.0
    kept = json.loads((out / "features.json").read_text())["columns"]
    assert "channel=web" in kept and "customer" not in kept
    report = (out / "report.md").read_text()
    assert f"User table `{csv_path}`" in report and "no Bayes-optimal ceiling" in report
    assert "| Bayes-optimal ROC AUC (ceiling) | unknown (real data) | - |" in report
    ids = (out / "test_scores.csv").read_text().splitlines()[1].split(",")[0]
    assert ids.startswith("C")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty file: expected a header row"),
        ("a,b,churn\n", "no customer rows below the header"),
        (
            "cons,price,Churn\n1,2,0\n",
            "no column 'churn' (churn.target). Did you mean 'Churn'? Columns found: cons,"
            " price, Churn",
        ),
        ("a,churn\n1,0\nx1,1\n", "line 3, column 'a': expected a number, got 'x1'"),
        ("a,churn\n1,0\n2\n", "line 3: 1 cells, the header has 2"),
        ("a,churn\n1,0\n2,maybe\n", "line 3, column 'churn' (churn.target): expected 1/0"),
        ("a,churn\n1,0\n2,0\n", "holds only non-churners"),
        ("a;b;churn\n1;2;0\n", "looks ';'-separated"),
        ("a,a,churn\n1,2,0\n", "column 'a' appears twice"),
    ],
)
def test_bad_csv_files_get_one_clear_error(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        read_csv(path, target="churn", id_column=None)
    message = str(info.value)
    assert str(path) in message and words in message


def test_the_target_is_never_a_feature(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,churn\n1,0\n")
    with pytest.raises(ConfigError, match=r"churn.categorical: 'churn' is the target column"):
        read_csv(path, target="churn", id_column=None, categorical=["churn"])


def test_csv_errors_reach_the_command_line_as_one_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path = tmp_path / "customers.csv"
    csv_path.write_text("id,cons,left\nA1,12,1\nA2,15,0\n")
    path = _experiment(tmp_path, {**TINY, "csv": str(csv_path)})
    assert cli(["run", str(path), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert str(csv_path) in err and "'churn'" in err and "Columns found: id, cons, left" in err
    assert "Traceback" not in err
    missing = _experiment(tmp_path, {**TINY, "csv": str(tmp_path / "nope.csv")})
    assert cli(["run", str(missing), "--out", str(tmp_path / "run2")]) == 2
    assert "nope.csv: file not found" in capsys.readouterr().err


def test_lever_and_size_problems_name_the_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"churn.lever: no column 'discont'.*'discount'"):
        run(ChurnConfig(**{**TINY, "lever": ("discont",)}), _context(tmp_path))
    with pytest.raises(ConfigError, match=r"churn.lever: column 'paper_bill' was dropped"):
        run(ChurnConfig(**{**TINY, "lever": ("paper_bill",)}), _context(tmp_path, seed=1))
    with pytest.raises(ConfigError, match=r"churn.cv_folds=40 needs at least 40"):
        run(ChurnConfig(customers=300, cv_folds=40), _context(tmp_path, seed=2))


# -- backend aws -------------------------------------------------------------------------------


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region, so nothing can reach a real account."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def runtime(aws_env: None) -> Iterator[tuple[Any, Any]]:
    """A sagemaker-runtime client with a botocore Stubber active."""
    boto3 = pytest.importorskip("boto3")
    from botocore.stub import Stubber

    client = boto3.client("sagemaker-runtime", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _body(text: bytes) -> Any:
    from botocore.response import StreamingBody

    return StreamingBody(io.BytesIO(text), len(text))


def test_the_endpoint_request_shape_and_batches(runtime: tuple[Any, Any]) -> None:
    client, stubber = runtime
    features = np.array([[1.0, 0.25], [2.0, np.float64(1e-7)], [3.5, 0.0]])
    assert csv_body(features[:1]) == b"1.0,0.25\n"
    for rows, answer in ((features[:2], b"0.1\n0.9\n"), (features[2:], b"0.4")):
        stubber.add_response(
            "invoke_endpoint",
            {"Body": _body(answer), "ContentType": "text/csv"},
            {
                "EndpointName": "churn-xgb",
                "ContentType": "text/csv",
                "Accept": "text/csv",
                "Body": csv_body(rows),
            },
        )
    scores = score_endpoint(client, "churn-xgb", features, batch=2)
    assert scores.tolist() == [0.1, 0.9, 0.4]


def test_endpoint_errors_name_the_endpoint(runtime: tuple[Any, Any]) -> None:
    client, stubber = runtime
    stubber.add_client_error(
        "invoke_endpoint",
        service_error_code="ValidationError",
        service_message="Endpoint churn-xgb of account 123 not found.",
        http_status_code=400,
    )
    with pytest.raises(DeepRacerError) as info:
        score_endpoint(client, "churn-xgb", np.ones((2, 2)), batch=10)
    assert str(info.value).startswith("endpoint churn-xgb (churn.endpoint_name): InvokeEndpoint")
    assert "not found" in str(info.value)


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"0.1,0.2,0.3", "text/csv", [0.1, 0.2, 0.3]),
        (b"0.9,0.1\n0.2,0.8\n0.5,0.5\n", "text/csv", [0.1, 0.8, 0.5]),
        (b"[0.1, 0.2, 0.3]", "application/json", [0.1, 0.2, 0.3]),
        (b'{"predictions": [{"score": 0.3}, [0.6, 0.4], 0.2]}', "application/json",
         [0.3, 0.4, 0.2]),
    ],
)  # fmt: skip
def test_endpoint_answers_are_parsed(body: bytes, content_type: str, expected: list[float]) -> None:
    assert parse_scores(body, content_type, 3, "e").tolist() == expected


def test_moto_canned_answer_is_a_clear_error(aws_env: None) -> None:
    import boto3

    with guarded_mock_aws():
        client = boto3.client("sagemaker-runtime", region_name="us-east-1")
        with pytest.raises(DeepRacerError, match=r"endpoint churn: the answer .* is not churn"):
            score_endpoint(client, "churn", np.ones((3, 2)), batch=10)
    with pytest.raises(DeepRacerError, match="sent 3 rows, got 2 scores"):
        parse_scores(b"0.1\n0.2", "text/csv", 3, "churn")


class _FakeRuntime:
    """Answers invoke_endpoint with one score per CSV row: the first feature's rank."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def invoke_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        rows = [line.split(",") for line in kwargs["Body"].decode().splitlines()]
        scores = "\n".join(f"{1 / (1 + math.exp(-float(r[0]) / 1e4)):.6f}" for r in rows)
        return {"Body": io.BytesIO(scores.encode()), "ContentType": "text/csv"}


def test_backend_aws_scores_the_test_set_on_the_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = _FakeRuntime()
    monkeypatch.setattr(RunContext, "client", lambda self, service: fake)
    path = _experiment(
        tmp_path,
        {**TINY, "bagging": False, "endpoint_name": "churn-xgb", "endpoint_batch": 50},
        backend="aws",
        aws={"region": "us-east-1"},
    )
    out = tmp_path / "run"
    metrics = _run_cli(path, out)
    assert len(fake.calls) == math.ceil(metrics["test_rows"] / 50)
    assert {c["EndpointName"] for c in fake.calls} == {"churn-xgb"}
    assert {c["ContentType"] for c in fake.calls} == {"text/csv"}
    columns = json.loads((out / "features.json").read_text())["columns"]
    assert len(fake.calls[0]["Body"].decode().splitlines()[0].split(",")) == len(columns)
    # The fake scores each row by its first feature: the endpoint's AUC is that feature's.
    from sklearn.metrics import roc_auc_score

    sent = [float(r.split(",")[0]) for c in fake.calls for r in c["Body"].decode().splitlines()]
    labels = [
        int(line.split(",")[1]) for line in (out / "test_scores.csv").read_text().splitlines()[1:]
    ]
    assert metrics["auc_endpoint"] == pytest.approx(roc_auc_score(labels, sent))
    assert "**SageMaker endpoint** `churn-xgb`" in (out / "report.md").read_text()
    no_name = _experiment(tmp_path, TINY, backend="aws")
    with pytest.raises(ConfigError, match=r"churn.endpoint_name: backend aws"):
        experiment, plugin = load_plugin_experiment(no_name)
        plugin.run(experiment.section, _context(tmp_path, backend="aws"))
