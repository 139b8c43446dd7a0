"""One churn run: data, cleaning, models, threshold, sensitivity, files and report.

Row names of the model table: ``under_<model>`` (one undersampled sample),
``part_<model>`` (the partition ensemble), ``bagging`` (imbalanced-learn) and
``endpoint`` (backend aws); ``<model>`` is ``logit``, ``svm``, ``rf`` or ``vote``
(their soft vote). The headline model is ``part_vote``, the article's ensemble of
soft votes.

Contents:
    run: the plugin's ``run`` (see :mod:`deepracer.plugins.churn`).
    ARTICLE_TABLE: the article's accuracy, Brier score and ROC AUC per model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from deepracer.errors import ConfigError, suggest
from deepracer.plugins import PluginResult, RunContext
from deepracer.plugins.churn import ChurnConfig
from deepracer.plugins.churn.clean import Cleaner, fit_cleaner
from deepracer.plugins.churn.data import Table, apply_lever, read_csv, synthetic_table
from deepracer.plugins.kit import markdown_table, number, percent

__all__ = ["ARTICLE_TABLE", "run"]

Vector = NDArray[np.float64]
Labels = NDArray[np.int64]

HEADLINE = "part_vote"
ARTICLE_TABLE: dict[str, tuple[float, float, float]] = {
    "under_logit": (0.56, 0.24, 0.64),
    "under_svm": (0.57, 0.24, 0.63),
    "under_rf": (0.65, 0.24, 0.67),
    "under_vote": (0.61, 0.23, 0.66),
    "part_logit": (0.55, 0.26, 0.64),
    "part_svm": (0.61, 0.25, 0.63),
    "part_rf": (0.70, 0.24, 0.68),
    "part_vote": (0.61, 0.25, 0.65),
}
"""The article's performance table: accuracy, Brier score, ROC AUC (its "Ensemble"
rows are the soft votes; its stepwise regression row has no counterpart here)."""
THRESHOLD_TARGETS = (0.05, 0.10, 0.20, 0.30)
"""Fall-outs of the threshold table (the configured one is added)."""


def _display(row: str, partitions: int) -> str:
    if row == "bagging":
        return "BalancedBagging (imblearn)"
    if row == "endpoint":
        return "SageMaker endpoint"
    scheme, model = row.split("_", 1)
    base = {"logit": "Logit", "svm": "SVM", "rf": "RF", "vote": "Soft vote"}[model]
    return f"{base} (undersampled)" if scheme == "under" else f"{partitions}-{base} ensemble"


def _key(discount: float) -> str:
    return f"{100 * discount:g}"


# -- data --------------------------------------------------------------------------------


def _load(config: ChurnConfig, seed: int) -> Table:
    if config.csv:
        return read_csv(
            config.csv,
            target=config.target,
            id_column=config.id_column,
            categorical=config.categorical,
            drop_columns=config.drop_columns,
        )
    return synthetic_table(
        config.customers,
        churn_rate=config.churn_rate,
        signal=config.signal,
        missing=config.missing,
        outliers=config.outliers,
        seed=seed,
    )


@dataclass
class _Prepared:
    """The cleaned split."""

    table: Table
    cleaner: Cleaner
    train: NDArray[np.intp]  # table rows, outliers removed
    test: NDArray[np.intp]
    test_outliers: int
    x_train: NDArray[np.float64]
    y_train: Labels
    x_test: NDArray[np.float64]
    y_test: Labels


def _check_lever(config: ChurnConfig, table: Table, kept: tuple[str, ...] | None) -> None:
    for name in config.lever:
        if name not in table.columns:
            raise ConfigError(
                f"churn.lever: no column {name!r} in {table.source}.{suggest(name, table.columns)}"
                f" Columns: {', '.join(table.columns)}. Name the discount or price columns,"
                " or set lever: [] to skip the sensitivity analysis"
            )
        if kept is not None and name not in kept:
            raise ConfigError(
                f"churn.lever: column {name!r} was dropped by the cleaning (see"
                " cleaning.json); loosen the rule that dropped it or choose another lever"
            )


def _prepare(config: ChurnConfig, table: Table, seed: int) -> _Prepared:
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(table.labels))
    if min(int(table.labels.sum()), int((table.labels == 0).sum())) < 2:
        raise ConfigError(f"{table.source}: needs at least 2 churners and 2 non-churners")
    train, test = train_test_split(
        rows, test_size=config.test_size, stratify=table.labels, random_state=seed
    )
    train, test = np.sort(train), np.sort(test)
    cleaner, keep = fit_cleaner(
        table.features[train],
        table.columns,
        max_missing=config.max_missing,
        outlier_sd=config.outlier_sd,
        low_variance=config.low_variance,
        collinear_rho=config.collinear_rho,
        source=table.source,
    )
    _check_lever(config, table, cleaner.kept_columns)
    train = train[keep]
    outlying = cleaner.outlier_rows(table.features[test])
    test = test[~outlying]
    prepared = _Prepared(
        table=table,
        cleaner=cleaner,
        train=train,
        test=test,
        test_outliers=int(outlying.sum()),
        x_train=cleaner.transform(table.features[train]),
        y_train=table.labels[train],
        x_test=cleaner.transform(table.features[test]),
        y_test=table.labels[test],
    )
    _check_sizes(config, prepared)
    return prepared


def _check_sizes(config: ChurnConfig, data: _Prepared) -> None:
    source = data.table.source
    pos = int(data.y_train.sum())
    neg = len(data.y_train) - pos
    need = max(config.cv_folds, 10)
    if pos < need:
        raise ConfigError(
            f"{source}: the training share has {pos} churners; churn.cv_folds={config.cv_folds}"
            f" needs at least {need}: use more customers or fewer folds"
        )
    per_part = neg * (config.cv_folds - 1) // config.cv_folds // config.partitions
    if per_part < 3:
        raise ConfigError(
            f"{source}: {neg} training non-churners split {config.partitions} ways per fold"
            f" leave {per_part} per member; the SVM's calibration needs 3: lower"
            " churn.partitions or use more customers"
        )
    if data.y_test.min() == data.y_test.max():
        raise ConfigError(
            f"{source}: the test set holds one class only; raise churn.test_size or use"
            " more customers"
        )


# -- the run -----------------------------------------------------------------------------


@dataclass
class _Results:
    """Everything the files, metrics and report are made from."""

    test_scores: dict[str, Vector]  # row name -> test probabilities
    oof: dict[str, Vector]  # row name -> out-of-fold probabilities (training rows)
    table: dict[str, dict[str, float]]  # row name -> test metrics
    thresholds: dict[str, float]  # row name -> threshold at the configured fall-out
    threshold_rows: list[dict[str, Any]]
    part: Any  # the fitted partition ensemble (models.Group)
    oracle_test: Vector | None
    sensitivity: dict[str, Any]


def run(config: ChurnConfig, context: RunContext) -> PluginResult:
    """Runs the churn experiment into ``context.run_dir``.

    Raises:
        ConfigError: Bad input (the message names the file, field or row).
        DeepRacerError: The AWS endpoint failed or answered something else than scores.
    """
    if context.backend == "aws" and not config.endpoint_name:
        raise ConfigError(
            "churn.endpoint_name: backend aws scores the test set through a SageMaker"
            " endpoint; name it (or use backend: local)"
        )
    started = time.perf_counter()

    def echo(line: str) -> None:
        context.echo(f"churn [{time.perf_counter() - started:5.1f} s] {line}")

    table = _load(config, context.seed)
    _check_lever(config, table, None)
    data = _prepare(config, table, context.seed)
    echo(
        f"{len(table.labels)} customers from {table.source}"
        f" ({table.labels.mean():.1%} churners); {len(data.cleaner.kept)} of"
        f" {len(table.columns)} features kept; train {len(data.train)}, test {len(data.test)}"
    )
    results = _fit_and_score(config, context, data, echo)
    if config.lever:
        echo(f"sensitivity over {len(config.discounts)} discounts")
        results.sensitivity = _sensitivity(config, data, results)
    echo("writing plots and tables")
    _write_outputs(config, context, data, results)
    metrics = _metrics(config, data, results)
    report = _report(config, context, data, results, metrics, time.perf_counter() - started)
    return PluginResult(metrics=metrics, report=report)


def _fit_and_score(
    config: ChurnConfig, context: RunContext, data: _Prepared, echo: Callable[[str], None]
) -> _Results:
    """Cross-validates, fits the final models, scores the test set, picks thresholds."""
    from deepracer.plugins.churn import models

    seed = context.seed
    echo(f"{config.cv_folds}-fold cross-validation on the training share")
    oof, per_fold = models.cross_validate(
        data.x_train,
        data.y_train,
        config.models,
        folds=config.cv_folds,
        partitions=config.partitions,
        seed=seed,
        trees=config.trees,
        jobs=config.jobs,
    )
    echo("fitting the final models")
    x, y = data.x_train, data.y_train
    under = models.fit_undersampled(x, y, config.models, seed=seed, trees=config.trees)
    part = models.fit_partitions(
        x, y, config.models, partitions=config.partitions, seed=seed, trees=config.trees
    )
    test_scores = {f"under_{k}": v for k, v in under.scores(data.x_test).items()}
    test_scores.update({f"part_{k}": v for k, v in part.scores(data.x_test).items()})
    betas: dict[str, float | None] = {r: under.beta for r in test_scores if r.startswith("under")}
    betas.update({r: part.beta for r in test_scores if r.startswith("part")})
    if config.bagging:
        echo("fitting imbalanced-learn's BalancedBaggingClassifier")
        bagging, beta = models.fit_bagging(
            x, y, config.models, members=config.partitions, seed=seed, trees=config.trees
        )
        test_scores["bagging"] = bagging.predict_proba(data.x_test)[:, 1]
        betas["bagging"] = beta
    if context.backend == "aws":
        from deepracer.plugins.churn.endpoint import score_endpoint

        echo(f"scoring {len(data.test)} test customers on {config.endpoint_name}")
        client = context.client("sagemaker-runtime")
        test_scores["endpoint"] = score_endpoint(
            client, config.endpoint_name, data.x_test, batch=config.endpoint_batch
        )
        betas["endpoint"] = None  # its training balance is unknown: no correction

    table: dict[str, dict[str, float]] = {}
    thresholds: dict[str, float] = {}
    for row, scores in test_scores.items():
        entry = models.scores_table(data.y_test, scores, betas[row])
        if row in oof:  # the endpoint and the library ensemble have no validation scores
            entry["cv_auc"] = float(np.mean(per_fold[row]))
            entry["cv_auc_sd"] = float(np.std(per_fold[row]))
            thresholds[row] = models.threshold_for_fallout(y, oof[row], config.fallout)
            at = models.rates(data.y_test, scores, thresholds[row])
            entry.update(threshold=thresholds[row], tpr_at_fallout=at["tpr"], fallout=at["fallout"])
        table[row] = entry

    # The threshold table of the headline model: each fall-out target, and p = 0.5.
    threshold_rows = []
    targets: list[float | None] = [*sorted({*THRESHOLD_TARGETS, config.fallout}), None]
    for target in targets:
        t = 0.5 if target is None else models.threshold_for_fallout(y, oof[HEADLINE], target)
        threshold_rows.append(
            {
                "target_fallout": target,
                "threshold": t,
                "validation": models.rates(y, oof[HEADLINE], t),
                "test": models.rates(data.y_test, test_scores[HEADLINE], t),
            }
        )
    oracle = data.table.oracle
    return _Results(
        test_scores=test_scores,
        oof=oof,
        table=table,
        thresholds=thresholds,
        threshold_rows=threshold_rows,
        part=part,
        oracle_test=None if oracle is None else oracle.probability(oracle.latent[data.test]),
        sensitivity={},
    )


def _write_outputs(
    config: ChurnConfig, context: RunContext, data: _Prepared, results: _Results
) -> None:
    """The plots, the JSON tables and test_scores.csv."""
    from deepracer.plugins.churn import models, plots

    k = config.partitions
    kept = data.cleaner.kept_columns
    head_name = _display(HEADLINE, k)
    head_test = results.test_scores[HEADLINE]
    threshold = results.thresholds[HEADLINE]
    at_head = models.rates(data.y_test, head_test, threshold)
    figure = plots.roc_figure(
        data.y_test,
        {_display(r, k): s for r, s in results.test_scores.items()},
        headline=head_name,
        oracle=results.oracle_test,
        point=(at_head["fallout"], at_head["tpr"]),
        fallout=config.fallout,
    )
    context.save_figure(figure, "roc.png")
    figure = plots.threshold_figure(
        (data.y_train, results.oof[HEADLINE]),
        (data.y_test, head_test),
        threshold=threshold,
        fallout=config.fallout,
    )
    context.save_figure(figure, "threshold.png")
    sensitivity = results.sensitivity
    if sensitivity:
        figure = plots.sensitivity_figure(
            config.discounts,
            {_display(r, k): v for r, v in sensitivity["still_flagged"].items()},
            headline=head_name,
            predicted=sensitivity["predicted_expected_churn_relative"],
            truth=sensitivity["true_expected_churn_relative"],
        )
        context.save_figure(figure, "sensitivity.png")
        context.write_json("sensitivity.json", sensitivity)
    cleaner = data.cleaner
    if len(cleaner.correlation_columns) > 1:
        figure = plots.correlation_figure(
            cleaner.correlation_before, cleaner.correlation_columns, kept
        )
        context.save_figure(figure, "correlation.png")
    columns = data.table.columns
    cleaning = {
        "features_in": list(columns),
        "features_kept": list(kept),
        "dropped": [asdict(d) for d in cleaner.dropped],
        "outliers_removed": {"train": cleaner.train_outliers, "test": data.test_outliers},
        "medians": {c: float(m) for c, m in zip(columns, cleaner.medians, strict=True)},
    }
    context.write_json("cleaning.json", cleaning)
    context.write_json("features.json", {"columns": list(kept), "target": config.target})
    context.write_json("models.json", results.table)
    context.write_json("thresholds.json", results.threshold_rows)
    _write_scores(context, data, head_test, threshold, results.oracle_test)


def _metrics(config: ChurnConfig, data: _Prepared, results: _Results) -> dict[str, Any]:
    """Flat numbers for metrics.json (the headline model unprefixed)."""
    from sklearn.metrics import roc_auc_score

    from deepracer.plugins.churn.models import rates

    table = data.table
    rows = results.table
    head = rows[HEADLINE]
    at_head = rates(data.y_test, results.test_scores[HEADLINE], results.thresholds[HEADLINE])
    outliers = data.cleaner.train_outliers + data.test_outliers
    best = max((r for r in rows if r in ARTICLE_TABLE), key=lambda r: rows[r]["auc"])
    base_rate = float(data.y_train.mean())
    metrics: dict[str, Any] = {
        "customers": len(table.labels),
        "churn_rate": float(table.labels.mean()),
        "train_rows": len(data.train),
        "test_rows": len(data.test),
        "outliers_removed": outliers,
        "outlier_share": outliers / len(table.labels),
        "features_in": len(table.columns),
        "features_kept": len(data.cleaner.kept),
        "auc": head["auc"],
        "best_model": best,
        "best_auc": rows[best]["auc"],
        "cv_auc": head["cv_auc"],
        "cv_auc_sd": head["cv_auc_sd"],
        "accuracy": head["accuracy"],
        "brier": head["brier"],
        "brier_corrected": head["brier_corrected"],
        "brier_base_rate": float(np.mean((base_rate - data.y_test) ** 2)),
        "threshold": results.thresholds[HEADLINE],
        "tpr_at_fallout": at_head["tpr"],
        "fallout_test": at_head["fallout"],
        "fallout_target": config.fallout,
    }
    if results.oracle_test is not None:  # absent for a CSV: the report then shows "-"
        metrics["bayes_auc"] = float(roc_auc_score(data.y_test, results.oracle_test))
        metrics["auc_gap"] = metrics["bayes_auc"] - head["auc"]
    for row, entry in rows.items():
        for key in ("auc", "accuracy", "brier", "brier_corrected", "cv_auc", "tpr_at_fallout"):
            if key in entry:
                metrics[f"{key}_{row}"] = entry[key]
    sensitivity = results.sensitivity
    for i, d in enumerate(sensitivity.get("discounts", [])):
        share = sensitivity["still_flagged"][HEADLINE][i]
        metrics[f"still_flagged_{_key(d)}"] = share
        metrics[f"churn_cut_{_key(d)}"] = 1.0 - share
        rel = sensitivity["predicted_expected_churn_relative"][i]
        metrics[f"predicted_churn_cut_{_key(d)}"] = 1.0 - rel
        if sensitivity["true_expected_churn_relative"] is not None:
            rel = sensitivity["true_expected_churn_relative"][i]
            metrics[f"true_churn_cut_{_key(d)}"] = 1.0 - rel
    return metrics


def _sensitivity(config: ChurnConfig, data: _Prepared, results: _Results) -> dict[str, Any]:
    """Offers each discount to the flagged test customers and re-scores them.

    Returns:
        ``discounts``; ``flagged`` (count per partition model); ``still_flagged`` (share
        per model and discount); ``predicted_expected_churn_relative`` (the headline
        model's prior-shift corrected probabilities summed over its flagged customers,
        relative to no discount); ``true_expected_churn_relative`` (the same under the
        generating model; None for a CSV).
    """
    from deepracer.plugins.churn.models import prior_shift

    table, kept = data.table, data.cleaner.kept_columns
    part, test_scores, thresholds = results.part, results.test_scores, results.thresholds
    flagged = {r: test_scores[r] >= thresholds[r] for r in thresholds if r.startswith("part_")}
    shares: dict[str, list[float]] = {r: [] for r in flagged}
    predicted: list[float] = []
    truth: list[float] | None = [] if table.oracle is not None else None
    # Only customers some model flags are re-scored (the SVM's scoring is the slow part).
    anyone = np.logical_or.reduce(list(flagged.values()))
    head_mask = flagged[HEADLINE][anyone]
    head_before = prior_shift(test_scores[HEADLINE][flagged[HEADLINE]], part.beta).sum()
    for d in config.discounts:
        edited = apply_lever(data.x_test[anyone], kept, config.lever, config.lever_kind, d)
        scores = part.scores(edited)
        for model, values in scores.items():
            row = f"part_{model}"
            mask = flagged[row][anyone]
            still = values[mask] >= thresholds[row]
            shares[row].append(float(still.mean()) if mask.any() else float("nan"))
        after = prior_shift(scores["vote"][head_mask], part.beta).sum()
        predicted.append(float(after / head_before) if head_before > 0 else float("nan"))
        if truth is not None and table.oracle is not None:
            latent = table.oracle.latent[data.test][flagged[HEADLINE]]
            before = table.oracle.probability(latent).sum()
            edited_latent = apply_lever(latent, table.columns, config.lever, config.lever_kind, d)
            after = table.oracle.probability(edited_latent).sum()
            truth.append(float(after / before) if before > 0 else float("nan"))
    return {
        "discounts": list(config.discounts),
        "flagged": {r: int(m.sum()) for r, m in flagged.items()},
        "still_flagged": shares,
        "predicted_expected_churn_relative": predicted,
        "true_expected_churn_relative": truth,
    }


def _write_scores(
    context: RunContext, data: _Prepared, scores: Vector, threshold: float, oracle: Vector | None
) -> None:
    lines = ["id,churn,score,flagged" + (",true_probability" if oracle is not None else "")]
    for i, row in enumerate(data.test):
        cells = [
            data.table.ids[row],
            str(int(data.y_test[i])),
            f"{scores[i]:.6f}",
            str(int(scores[i] >= threshold)),
        ]
        if oracle is not None:
            cells.append(f"{oracle[i]:.6f}")
        lines.append(",".join(cells))
    context.write_text("test_scores.csv", "\n".join(lines) + "\n")


# -- report ------------------------------------------------------------------------------


def _report(
    config: ChurnConfig,
    context: RunContext,
    data: _Prepared,
    results: _Results,
    metrics: dict[str, Any],
    seconds: float,
) -> str:
    """The report's body in Markdown (the framework adds the header and references)."""
    rows, threshold_rows = results.table, results.threshold_rows
    sensitivity, best = results.sensitivity, str(metrics["best_model"])
    table = data.table
    k = config.partitions
    out: list[str] = []
    synthetic = table.oracle is not None
    out.append("## Data\n")
    if synthetic:
        out.append(
            f"**Synthetic** table of {metrics['customers']} customers shaped like the article's"
            f" energy supplier ({metrics['churn_rate']:.1%} churners; consumption, margins,"
            " prices, discount, sales channels, products, tenure), drawn from a known logistic"
            " model in which churn rises with the effective price (list price times one minus"
            " the discount), so a discount has a real effect. Missing cells, recording"
            " errors, collinear twins and a near-constant column are added. The article's"
            " data was a real table of 16096 customers; its numbers are a shape to compare"
            " with, not a target this table was fitted to.\n"
        )
    else:
        out.append(
            f"User table `{table.source}`: {metrics['customers']} customers,"
            f" {metrics['churn_rate']:.1%} churners (column `{config.target}`). There is no"
            " known generating model, so no Bayes-optimal ceiling is reported.\n"
        )
    dropped = data.cleaner.dropped
    cleaning = (
        f"Cleaning (statistics from the training rows only): {metrics['features_in']} features"
        f" in, {metrics['features_kept']} kept; {data.cleaner.train_outliers} training and"
        f" {data.test_outliers} test customers removed as outliers beyond"
        f" {config.outlier_sd:g} sd ({metrics['outlier_share']:.2%} of all; the article:"
        " 0.9 %)."
    )
    if table.oracle is not None:
        errors = table.oracle.recording_errors
        used = np.zeros(len(errors), dtype=bool)
        used[data.train] = used[data.test] = True
        left = int((errors & used).sum())
        cleaning += (
            f" Of the {int(errors.sum())} injected recording errors (consumption 30-100x too"
            f" high), {left} survive the rule: they inflate the standard deviation they are"
            " measured against, the known weakness of a one-pass mean-and-sd rule; the"
            " rest of the removed rows are the genuine heavy tails of consumption and"
            " margin."
        )
    out.append(cleaning)
    if dropped:
        rules = {
            "missing": f"> {config.max_missing:.0%} missing",
            "low_variance": f"one value > {config.low_variance:.0%}",
            "collinear": f"abs(rho) > {config.collinear_rho:g}",
        }
        dropped_rows = [(d.column, rules[d.step], d.detail) for d in dropped]
        out.append("\n" + markdown_table(["dropped feature", "rule", "measured"], dropped_rows))
    out.append(
        f"\nSplit: {1 - config.test_size:.0%} training ({metrics['train_rows']} rows after"
        f" cleaning) / {config.test_size:.0%} test ({metrics['test_rows']}), stratified;"
        f" {config.cv_folds}-fold cross-validation on the training share.\n"
    )

    out.append("## Models\n")
    out.append(
        "Accuracy at p = 0.5 and the raw Brier score use the models' own probabilities,"
        " which are inflated because every model trains on balanced data (as the article's"
        " did, so these two columns compare with the article). The corrected Brier score"
        " maps them back to the real base rate (prior-shift correction); the base-rate"
        f" forecaster scores {metrics['brier_base_rate']:.4f}. TPR is the test set's"
        f" true-positive rate at the threshold that holds {config.fallout:.0%} fall-out on"
        " the out-of-fold scores.\n"
    )
    model_rows = []
    for row, e in rows.items():
        name = _display(row, k)
        if row == HEADLINE:
            name = f"**{name}**"
        cv = f"{e['cv_auc']:.3f} ± {e['cv_auc_sd']:.3f}" if "cv_auc" in e else "-"
        art = ARTICLE_TABLE.get(row)
        model_rows.append(
            (
                name,
                percent(e["accuracy"]),
                number(e["brier"]),
                number(e["brier_corrected"], 4),
                number(e["auc"]),
                cv,
                percent(e.get("tpr_at_fallout")),
                f"{art[0]:.0%} / {art[1]:.2f} / {art[2]:.2f}" if art else "-",
            )
        )
    header = ["model", "accuracy", "Brier", "Brier corrected", "ROC AUC", "CV AUC (mean ± sd)"]
    header += [f"TPR at {config.fallout:.0%} fall-out", "article: accuracy / Brier / AUC"]
    out.append(markdown_table(header, model_rows))
    out.append("")
    if synthetic:
        gap = metrics["auc_gap"]
        verdict = "within" if gap <= 0.05 else "NOT within"
        out.append(
            f"**Ceiling.** The Bayes-optimal ROC AUC on this test set (scoring every customer"
            f" with the true churn probability of the generating model) is"
            f" **{metrics['bayes_auc']:.3f}**; the {_display(HEADLINE, k)} reaches"
            f" **{metrics['auc']:.3f}**: a gap of {gap:+.3f} ({verdict} 0.05). The models see"
            " imputed and noisy columns, so part of the gap is information no model has.\n"
        )
    out.append(
        f"Best model here: {_display(best, k)} (AUC {rows[best]['auc']:.3f}); in the article"
        " the 9-RF ensemble (0.68)."
        + (
            " The generating model is logistic with one non-linear term (tenure), so the"
            " logistic regression is close to the right model class here, while the"
            " article's real data favoured the forest.\n"
            if synthetic
            else "\n"
        )
    )
    if "bagging" in rows:
        b = rows["bagging"]
        out.append(
            f"**Library alternative.** imbalanced-learn's BalancedBaggingClassifier around the"
            f" same soft vote ({k} members, each on a random balanced sample, members may"
            f" overlap): AUC {b['auc']:.3f}, corrected Brier {b['brier_corrected']:.4f}, against"
            f" {metrics['auc']:.3f} and {metrics['brier_corrected']:.4f} for the partition"
            " ensemble, which guarantees that every non-churner is seen exactly once.\n"
        )
    if "endpoint" in rows:
        e = rows["endpoint"]
        out.append(
            f"**SageMaker endpoint** `{config.endpoint_name}` scored the {metrics['test_rows']}"
            f" test customers (CSV rows of the features in features.json): AUC {e['auc']:.3f}."
            " Its threshold is not chosen here (no validation scores from the endpoint).\n"
        )

    out.append("## Threshold and fall-out\n")
    out.append(
        f"Thresholds on the {_display(HEADLINE, k)} chosen on the out-of-fold (validation)"
        " scores of the training share, then applied unchanged to the test set. The article"
        " found p = 0.56 for 10 % fall-out with about 30 % true positives, and 69 % true"
        " positives with 42 % fall-out at p = 0.5.\n"
    )
    header = ["target fall-out", "threshold", "validation fall-out", "validation TPR"]
    header += ["test fall-out", "test TPR", "test flagged"]
    threshold_table = []
    for r in threshold_rows:
        target = "p = 0.5" if r["target_fallout"] is None else percent(r["target_fallout"])
        v, t = r["validation"], r["test"]
        shares = (v["fallout"], v["tpr"], t["fallout"], t["tpr"], t["flagged"])
        threshold_table.append([target, f"{r['threshold']:.3f}", *map(percent, shares)])
    out.append(markdown_table(header, threshold_table))
    out.append("")

    if sensitivity:
        out.append("## Discount sensitivity\n")
        kind = (
            "stacked on the existing discount"
            if config.lever_kind == "discount"
            else "taken off the price"
        )
        text = (
            f"Every test customer flagged at the {config.fallout:.0%}-fall-out threshold is"
            f" offered an extra discount ({kind}; columns {', '.join(config.lever)}) and"
            " re-scored. The first columns show the share of each model's flagged customers"
            " still above its threshold (the article's measure: a 20 % discount took 25 % of"
            " the flagged customers below p = 0.6). Being flagged is not churning, and the"
            " flagged sit just above the threshold, so this share falls much faster than"
            " churn does. The column *predicted churners* sums the"
            f" {_display(HEADLINE, k)}'s corrected probabilities over its flagged customers,"
            " relative to no discount: the model's own estimate of the churn left."
        )
        if synthetic:
            text += (
                " *True churners* is the same sum under the generating model: the real"
                " effect, which only a synthetic table can show."
            )
        text += (
            " Re-scoring with an edited feature is a what-if on a correlational model, not a"
            " causal estimate, and discounts beyond those in the training data are"
            " extrapolation (forests flatten there).\n"
        )
        out.append(text)
        names = list(sensitivity["still_flagged"])
        truth = sensitivity["true_expected_churn_relative"]
        predicted = sensitivity["predicted_expected_churn_relative"]
        header = ["discount", *(f"{_display(r, k)}: still flagged" for r in names)]
        header += ["predicted churners"] + (["true churners"] if truth is not None else [])
        discount_rows = []
        for i, d in enumerate(sensitivity["discounts"]):
            cells = [f"{100 * d:g} %"]
            cells += [percent(sensitivity["still_flagged"][r][i]) for r in names]
            cells.append(percent(predicted[i]))
            if truth is not None:
                cells.append(percent(truth[i]))
            discount_rows.append(cells)
        out.append(markdown_table(header, discount_rows))
        count = sensitivity["flagged"][HEADLINE]
        out.append(f"\n{count} test customers flagged by the {_display(HEADLINE, k)}.\n")

    out.append("## What differs from the article\n")
    out.append(
        "- The data: "
        + (
            "synthetic and smaller (the article: 16096 real customers, 48 original and"
            " derived features, some aggregated from time series)."
            if synthetic
            else "a user table, not the article's."
        )
        + "\n- Not reproduced: the article's stepwise regression (feature selection and"
        " importance), its Hamming/Jaccard screening of binary features, and any"
        " hyperparameter search; the models use scikit-learn defaults (forest: leaves of"
        f" 10, {config.trees} trees; SVM: RBF, C = 1, Platt-calibrated on 3 folds).\n"
        "- Cleaning statistics come from the training rows only and are applied to the"
        " test rows; the article cleaned the whole table before splitting.\n"
        "- The threshold is chosen on out-of-fold scores of the training share, never on"
        " the test set; the article does not say which data its grid search used.\n"
    )
    out.append("## Files\n")
    out.append(
        "`roc.png` (ROC per model" + (", Bayes-optimal dashed" if synthetic else "") + "),"
        " `threshold.png` (fall-out and TPR against the threshold), "
        + ("`sensitivity.png`, " if sensitivity else "")
        + "`correlation.png` (heat maps before/after the collinearity drop), `models.json`,"
        " `thresholds.json`, "
        + ("`sensitivity.json`, " if sensitivity else "")
        + "`cleaning.json`, `features.json`, `test_scores.csv`.\n"
    )
    out.append(
        f"Models and analysis took {seconds:.1f} s ({config.trees} trees per forest,"
        f" {config.partitions} partitions, {config.cv_folds} folds, jobs {config.jobs});"
        f" backend `{context.backend}`.\n"
    )
    return "\n".join(out)
