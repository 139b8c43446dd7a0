"""Customer tables for the churn plugin: a seeded synthetic one, or a user's CSV.

The synthetic table imitates the energy-supplier data of the source article (about
10 % churners; consumption, margins, prices, discount, sales channels, products,
tenure) and knows its own generating model: every customer's churn probability is a
fixed logistic function of the clean (latent) features, so the run can report the
Bayes-optimal ROC AUC on its test set and the true effect of a discount. The table
the models see is the latent one with missing cells, gross outliers, collinear twins
and a near-constant column added, so every cleaning step has work to do.

Contents:
    Table: features (NaN = missing), labels, ids and, for synthetic data, the oracle.
    Oracle: the generating model: latent features and the probability function.
    synthetic_table: the seeded synthetic table.
    read_csv: a user's CSV with one clear error per problem.
    apply_lever: a discount applied to the lever columns of a feature matrix.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from deepracer.errors import ConfigError, suggest

__all__ = ["Oracle", "Table", "apply_lever", "read_csv", "synthetic_table"]

Matrix = NDArray[np.float64]


@dataclass(frozen=True)
class Oracle:
    """The generating model of a synthetic table.

    Attributes:
        latent: The clean features (same rows and columns as the table's).
        probability: Maps a latent matrix to each row's true churn probability.
        recording_errors: True for the rows whose consumption was recorded wrong.
    """

    latent: Matrix
    probability: Callable[[Matrix], NDArray[np.float64]]
    recording_errors: NDArray[np.bool_]


@dataclass(frozen=True)
class Table:
    """A customer table.

    Attributes:
        columns: Feature names, in matrix column order.
        features: ``(rows, columns)`` floats; NaN marks a missing cell.
        labels: 1 for a churner, 0 otherwise.
        ids: Customer ids (row numbers when the source has none).
        source: ``synthetic`` or the CSV path, for messages and the report.
        oracle: The generating model (synthetic tables only).
    """

    columns: tuple[str, ...]
    features: Matrix
    labels: NDArray[np.int64]
    ids: tuple[str, ...]
    source: str
    oracle: Oracle | None = None


# -- synthetic ---------------------------------------------------------------------------

# Feature order of the synthetic table. The collinear twins come after the column they
# copy, so the collinearity filter (which keeps the first of a pair) drops the twin.
SYNTHETIC_COLUMNS = (
    "cons_12m",  # electricity consumed in the last 12 months [kWh]
    "forecast_cons_12m",  # forecast for the next 12 months [kWh]: a twin of cons_12m
    "cons_last_month",  # [kWh]
    "has_gas",  # 1 = also buys gas (product B)
    "cons_gas_12m",  # gas consumed in the last 12 months [kWh]; 0 without gas
    "num_products",  # active products
    "tenure_years",  # years as a customer
    "pow_max",  # subscribed power [kW]
    "margin_gross",  # gross margin on power subscription [EUR/year]
    "margin_net",  # net margin: a twin of margin_gross
    "net_margin",  # total net margin [EUR/year]
    "price_offpeak",  # off-peak energy price, list [EUR/kWh]
    "price_offpeak_forecast",  # next period's off-peak price: a twin of price_offpeak
    "price_peak",  # peak energy price [EUR/kWh]
    "discount",  # discount on the energy price, as a fraction (0 = none)
    "channel_1",  # sales channel one-hot; all zero = channel unknown
    "channel_2",
    "channel_3",
    "campaign",  # 1 = reached by the last retention campaign
    "activity_code",  # business activity code: mostly missing (dropped)
    "paper_bill",  # 1 = paper bill: nearly constant (dropped)
)

# Columns that get missing cells at the configured rate (the others are complete or,
# like activity_code, have their own rate). The twins stay complete: imputing a twin's
# gaps independently would blur the collinearity the cleaning is meant to find.
_MISSABLE = (
    "cons_last_month",
    "pow_max",
    "margin_gross",
    "net_margin",
    "price_offpeak",
    "price_peak",
)

# Reference centres of the generating model, fixed so that the probability function
# does not depend on the sample drawn.
_LOG_PRICE_CENTRE = math.log(0.142 * 0.97)
_LOG_PRICE_SCALE = 0.32
_MARGIN_CENTRE, _MARGIN_SCALE = 24.0, 8.0
_LOG_CONS_CENTRE = 9.6


def _linear_predictor(latent: Matrix, signal: float) -> NDArray[np.float64]:
    """The churn logit without its intercept (see :func:`synthetic_table`)."""
    col = {name: latent[:, i] for i, name in enumerate(SYNTHETIC_COLUMNS)}
    effective_price = np.log(col["price_offpeak"]) + np.log1p(-col["discount"])
    price = (effective_price - _LOG_PRICE_CENTRE) / _LOG_PRICE_SCALE
    margin = (col["margin_gross"] - _MARGIN_CENTRE) / _MARGIN_SCALE
    log_cons = np.log(col["cons_12m"]) - _LOG_CONS_CENTRE
    # New customers churn most; the effect fades over the first years (not linear, so
    # the forest has something the logistic regression misses).
    new_customer = np.exp(-(col["tenure_years"] - 1.0) / 2.5)
    eta = (
        0.80 * price
        + 0.45 * margin
        + 1.35 * new_customer
        - 0.055 * col["tenure_years"]
        + 0.18 * log_cons
        + 0.35 * col["has_gas"]
        - 0.45 * (col["num_products"] - 1.0)
        - 0.55 * col["channel_1"]
        - 0.45 * col["channel_2"]
        - 0.85 * col["channel_3"]
        - 0.55 * col["campaign"]
    )
    return signal * eta


def _intercept(eta: NDArray[np.float64], rate: float) -> float:
    """The intercept that makes the mean probability ``rate`` (bisection)."""
    low, high = -20.0, 20.0
    for _ in range(80):
        mid = 0.5 * (low + high)
        mean = float(np.mean(1.0 / (1.0 + np.exp(-(mid + eta)))))
        low, high = (mid, high) if mean < rate else (low, mid)
    return 0.5 * (low + high)


def synthetic_table(
    customers: int,
    *,
    churn_rate: float,
    signal: float,
    missing: float,
    outliers: float,
    seed: int,
) -> Table:
    """Draws the synthetic customer table.

    Args:
        customers: Rows.
        churn_rate: Mean true churn probability (the intercept is solved for it).
        signal: Scales the logit's slopes: 1 gives a Bayes AUC near 0.73.
        missing: Share of missing cells in the ordinary numeric columns.
        outliers: Share of customers whose consumption is recorded 30-100 times too high.
        seed: Seeds everything.

    Returns:
        The table with its oracle.
    """
    rng = np.random.default_rng(seed)
    n = customers
    has_gas = (rng.random(n) < 0.18).astype(float)
    num_products = 1.0 + has_gas + rng.poisson(0.15, n)
    tenure = np.clip(np.round(rng.gamma(4.0, 1.3, n)), 1, 16)
    log_cons = rng.normal(_LOG_CONS_CENTRE, 1.0, n)
    cons = np.exp(log_cons)
    forecast_cons = cons * np.exp(rng.normal(0.0, 0.05, n))
    cons_month = cons / 12.0 * np.exp(rng.normal(0.0, 0.4, n))
    cons_gas = has_gas * np.exp(rng.normal(9.0, 1.2, n))
    pow_max = np.exp(2.8 + 0.3 * (log_cons - _LOG_CONS_CENTRE) + rng.normal(0.0, 0.3, n))
    margin_gross = np.clip(rng.normal(_MARGIN_CENTRE, _MARGIN_SCALE, n), 0.0, None)
    margin_net = 0.92 * margin_gross + rng.normal(0.0, 0.5, n)
    net_margin = cons / 1000.0 * margin_gross * np.exp(rng.normal(0.0, 0.3, n))
    price_offpeak = np.clip(rng.normal(0.142, 0.018, n), 0.06, None)
    price_forecast = price_offpeak + rng.normal(0.0, 0.002, n)
    price_peak = np.clip(0.6 * price_offpeak + rng.normal(0.015, 0.012, n), 0.0, None)
    discount = np.where(rng.random(n) < 0.22, rng.uniform(0.05, 0.30, n), 0.0)
    channel = rng.choice(4, size=n, p=[0.25, 0.45, 0.20, 0.10])  # 0 = unknown
    campaign = (rng.random(n) < 0.30).astype(float)
    activity = rng.integers(1, 21, n).astype(float)
    paper_bill = (rng.random(n) < 0.02).astype(float)
    latent = np.column_stack(
        [
            cons,
            forecast_cons,
            cons_month,
            has_gas,
            cons_gas,
            num_products,
            tenure,
            pow_max,
            margin_gross,
            margin_net,
            net_margin,
            price_offpeak,
            price_forecast,
            price_peak,
            discount,
            (channel == 1).astype(float),
            (channel == 2).astype(float),
            (channel == 3).astype(float),
            campaign,
            activity,
            paper_bill,
        ]
    )
    intercept = _intercept(_linear_predictor(latent, signal), churn_rate)

    def probability(matrix: Matrix) -> NDArray[np.float64]:
        eta = intercept + _linear_predictor(matrix, signal)
        return np.asarray(1.0 / (1.0 + np.exp(-eta)), dtype=np.float64)

    labels = (rng.random(n) < probability(latent)).astype(np.int64)

    observed = latent.copy()
    index = {name: i for i, name in enumerate(SYNTHETIC_COLUMNS)}
    for name in _MISSABLE:
        observed[rng.random(n) < missing, index[name]] = np.nan
    observed[rng.random(n) < 0.6, index["activity_code"]] = np.nan
    # Recording errors: the consumption is off by a large factor. The oracle keeps the
    # true value, so these rows are noise to the models, which is why they are removed.
    wrong = rng.random(n) < outliers
    observed[wrong, index["cons_12m"]] *= rng.uniform(30.0, 100.0, int(wrong.sum()))
    ids = tuple(f"C{i:06d}" for i in range(n))
    return Table(
        columns=SYNTHETIC_COLUMNS,
        features=observed,
        labels=labels,
        ids=ids,
        source="synthetic",
        oracle=Oracle(latent=latent, probability=probability, recording_errors=wrong),
    )


# -- CSV ---------------------------------------------------------------------------------

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-"})
"""Cell values (case-insensitive, stripped) read as missing."""
_TRUE = frozenset({"1", "1.0", "yes", "y", "true", "t"})
_FALSE = frozenset({"0", "0.0", "no", "n", "false", "f"})
_MAX_LEVELS = 100


def _label(value: str, path: Path, line: int, target: str) -> int:
    word = value.strip().lower()
    if word in _TRUE:
        return 1
    if word in _FALSE:
        return 0
    raise ConfigError(
        f"{path}: line {line}, column {target!r} (churn.target): expected 1/0, yes/no or"
        f" true/false, got {value!r}"
    )


def _number(value: str, path: Path, line: int, column: str) -> float:
    word = value.strip()
    if word.lower() in MISSING_TOKENS:
        return math.nan
    try:
        number = float(word)
    except ValueError:
        number = math.nan
        bad = True
    else:
        bad = not math.isfinite(number)
    if bad:
        raise ConfigError(
            f"{path}: line {line}, column {column!r}: expected a number, got {value!r}."
            " Empty cells and NA count as missing; a text column goes under"
            " churn.categorical (one-hot encoded), churn.drop_columns or churn.id_column"
        )
    return number


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the (line number, cells) of every non-blank row."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            rows = [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
    except FileNotFoundError:
        raise ConfigError(f"churn.csv: {path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the table as UTF-8 CSV"
        ) from None
    except csv.Error as exc:
        raise ConfigError(f"{path}: not a readable CSV file ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"churn.csv: {path}: cannot read file ({exc.strerror})") from None
    if header is None or not any(c.strip() for c in header):
        raise ConfigError(f"{path}: empty file: expected a header row and customer rows")
    return [c.strip() for c in header], rows


def _check_header(
    path: Path,
    header: list[str],
    target: str,
    id_column: str | None,
    categorical: Sequence[str],
    drop_columns: Sequence[str],
) -> None:
    """Raises ConfigError unless every column the config names is in the header once."""
    if len(header) == 1 and ";" in header[0]:
        raise ConfigError(
            f"{path}: one column {header[0]!r}: the file looks ';'-separated; save it"
            " comma-separated"
        )
    duplicates = sorted({c for c in header if header.count(c) > 1})
    if duplicates:
        raise ConfigError(f"{path}: column {duplicates[0]!r} appears twice in the header")
    named = [("churn.target", target)]
    if id_column:
        named.append(("churn.id_column", id_column))
    named += [("churn.categorical", c) for c in categorical]
    named += [("churn.drop_columns", c) for c in drop_columns]
    for field_name, column in named:
        if column not in header:
            raise ConfigError(
                f"{path}: no column {column!r} ({field_name}).{suggest(column, header)}"
                f" Columns found: {', '.join(header)}"
            )
    for field_name, column in named[1:]:
        if column == target or (column == id_column and field_name != "churn.id_column"):
            raise ConfigError(
                f"{field_name}: {column!r} is the {'target' if column == target else 'id'}"
                " column; it is never a feature"
            )


def read_csv(
    path: str | Path,
    *,
    target: str,
    id_column: str | None,
    categorical: Sequence[str] = (),
    drop_columns: Sequence[str] = (),
) -> Table:
    """Reads a customer table from a CSV file with a header row.

    Every column other than the target, the id and the dropped ones is a feature:
    numeric unless listed in ``categorical``, which is one-hot encoded (one column per
    level seen; a missing cell is all zeros).

    Args:
        path: The CSV file (comma-separated, UTF-8).
        target: The churn column: 1/0, yes/no or true/false.
        id_column: The customer id column, or None for row numbers.
        categorical: Text columns to one-hot encode.
        drop_columns: Columns to ignore (dates, free text).

    Returns:
        The table (no oracle).

    Raises:
        ConfigError: The file is missing, empty or not CSV; a named column is not in
            it (the message lists the columns found); a cell is not a number where one
            is expected; a row has the wrong number of cells; only one class occurs.
    """
    path = Path(path)
    header, rows = _read_rows(path)
    _check_header(path, header, target, id_column, categorical, drop_columns)
    if not rows:
        raise ConfigError(f"{path}: no customer rows below the header")
    position = {c: i for i, c in enumerate(header)}
    skip = {target, *(drop_columns or ())} | ({id_column} if id_column else set())
    numeric = [c for c in header if c not in skip and c not in categorical]
    if not numeric and not categorical:
        raise ConfigError(f"{path}: no feature columns besides the target and the id")

    labels: list[int] = []
    ids: list[str] = []
    values: list[list[float]] = []
    texts: dict[str, list[str]] = {c: [] for c in categorical}
    for line, row in rows:
        if len(row) != len(header):
            raise ConfigError(
                f"{path}: line {line}: {len(row)} cells, the header has {len(header)}"
            )
        labels.append(_label(row[position[target]], path, line, target))
        ids.append(row[position[id_column]].strip() if id_column else str(line))
        values.append([_number(row[position[c]], path, line, c) for c in numeric])
        for c in categorical:
            texts[c].append(row[position[c]].strip())

    columns = list(numeric)
    blocks = [np.asarray(values, dtype=np.float64).reshape(len(rows), len(numeric))]
    for c in categorical:
        levels = sorted({t for t in texts[c] if t.lower() not in MISSING_TOKENS})
        if len(levels) > _MAX_LEVELS:
            raise ConfigError(
                f"{path}: column {c!r} (churn.categorical) has {len(levels)} levels; more"
                f" than {_MAX_LEVELS} looks like an id or free text: list it under"
                " churn.drop_columns"
            )
        cells = np.asarray(texts[c], dtype=object)
        blocks.append(np.column_stack([(cells == v).astype(float) for v in levels]))
        columns += [f"{c}={v}" for v in levels]
    y = np.asarray(labels, dtype=np.int64)
    if y.min() == y.max():
        kind = "churners" if y[0] == 1 else "non-churners"
        raise ConfigError(
            f"{path}: column {target!r} (churn.target) holds only {kind}; the models need both"
        )
    return Table(
        columns=tuple(columns),
        features=np.hstack(blocks),
        labels=y,
        ids=tuple(ids),
        source=str(path),
    )


# -- the discount lever ------------------------------------------------------------------


def apply_lever(
    features: Matrix,
    columns: Sequence[str],
    lever: Sequence[str],
    kind: Literal["discount", "price"],
    discount: float,
) -> Matrix:
    """Applies a discount to the lever columns of a feature matrix (a copy).

    Args:
        features: ``(rows, len(columns))``.
        columns: The matrix's column names.
        lever: The columns to edit.
        kind: ``discount``: a fractional discount column, stacked with the existing one
            (``1 - (1 - x) * (1 - d)``); ``price``: a price column, cut by ``d``.
        discount: The extra discount ``d`` in [0, 1).

    Returns:
        The edited copy.
    """
    edited = features.copy()
    if discount == 0.0:  # exactly the input (1 - (1 - x) is not always x in floating point)
        return edited
    for name in lever:
        j = list(columns).index(name)
        if kind == "discount":
            edited[:, j] = 1.0 - (1.0 - edited[:, j]) * (1.0 - discount)
        else:
            edited[:, j] = edited[:, j] * (1.0 - discount)
    return edited
