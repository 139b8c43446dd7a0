"""Features, the LightGBM model, its ONNX twin and the in-process ``recommend``.

A profile is what a new user gives at onboarding::

    {"age": 34, "gender": "female", "region": "pacific", "genres": ["Country", "Jazz"]}

It becomes one float32 row in a fixed column order (:data:`FEATURES`): age, the
gender and region codes (LightGBM categorical features), the number of selected
genres and one 0/1 column per genre. The codes are the positions in the lists saved
in ``features.json``, so serving uses exactly the training mapping; no pandas
category inference is involved anywhere.

A run directory holds ``model.txt`` (LightGBM), ``model.onnx`` (onnxmltools,
``target_opset=15``) and ``features.json``. :meth:`Recommender.from_run_dir` loads
either engine; both score single rows on one thread, since OpenMP's default
threads cost more than the prediction itself on a single row.

Contents:
    FEATURES, MAPPING_FILE, LIGHTGBM_FILE, ONNX_FILE, ONNX_OPSET: names.
    ProfileError: a bad profile; names the field.
    FeatureMapping: the category lists, age range and popularity; encodes profiles.
    users_to_profiles: sampled users as profiles (tests, endpoint payloads).
    train_booster: LightGBM multiclass training.
    to_onnx: the Booster as ONNX bytes.
    save_model: the three files, written atomically.
    Engine, OnnxEngine, BoosterEngine: batch ``predict_proba`` over float32 rows.
    Recommender, load_recommend: ``recommend(profile) -> top-3 genres``.
    top_k: rank rows of scores (ties to the lower genre index).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from deepracer.errors import DeepRacerError, suggest
from deepracer.io import atomic_write_bytes, atomic_write_text
from deepracer.plugins.genres.world import (
    AGE_RANGE,
    GENDERS,
    GENRES,
    MAX_SELECTED,
    REGIONS,
    Users,
)

__all__ = [
    "FEATURES",
    "LIGHTGBM_FILE",
    "MAPPING_FILE",
    "ONNX_FILE",
    "ONNX_OPSET",
    "BoosterEngine",
    "Engine",
    "FeatureMapping",
    "OnnxEngine",
    "ProfileError",
    "Recommender",
    "load_recommend",
    "save_model",
    "to_onnx",
    "top_k",
    "train_booster",
    "users_to_profiles",
]

MAPPING_FILE = "features.json"
LIGHTGBM_FILE = "model.txt"
ONNX_FILE = "model.onnx"
ONNX_OPSET = 15  # onnxmltools 1.16's LightGBM converter refuses 17 ("higher than supported")
_FORMAT = "deepracer-genres/1"
_INPUT = "features"
_OUTPUT = "probabilities"
_PROFILE_FIELDS = ("age", "gender", "region", "genres")
_MISSING = "the genres model needs {what}: pip install 'deepracer[genres]'"

FEATURES: tuple[str, ...] = (
    "age",
    "gender",
    "region",
    "n_selected",
    *(f"selected:{g}" for g in GENRES),
)
"""Model input columns, in order."""
_CATEGORICAL = (1, 2)  # gender and region codes


class ProfileError(DeepRacerError, ValueError):
    """A profile that ``recommend`` cannot score.

    Attributes:
        field: The offending field (``age``, ``gender``, ``region``, ``genres``,
            ``genres[i]`` or ``profile`` for the whole thing).
        reason: What was wrong and what was expected (the message without the field).
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _choices(values: Sequence[str]) -> str:
    return ", ".join(repr(v) for v in values)


@dataclass(frozen=True)
class FeatureMapping:
    """Everything needed to turn a profile into the model's row.

    Attributes:
        genres: Genre names; class ``i`` and column ``selected:genres[i]``.
        genders: Gender names; the code is the position.
        regions: Region names; the code is the position.
        age_range: Youngest and oldest accepted age [years] (the training range).
        max_selected: Most genres a profile may select.
        popularity: Training share of each genre as the top genre (the baseline's
            ranking).
    """

    genres: tuple[str, ...] = GENRES
    genders: tuple[str, ...] = GENDERS
    regions: tuple[str, ...] = REGIONS
    age_range: tuple[int, int] = AGE_RANGE
    max_selected: int = MAX_SELECTED
    popularity: tuple[float, ...] = ()

    @property
    def features(self) -> tuple[str, ...]:
        """The column names, in order."""
        return ("age", "gender", "region", "n_selected", *(f"selected:{g}" for g in self.genres))

    def to_json(self) -> dict[str, Any]:
        """The ``features.json`` document."""
        return {
            "format": _FORMAT,
            "features": list(self.features),
            "categorical_features": [self.features[i] for i in _CATEGORICAL],
            "genres": list(self.genres),
            "genders": list(self.genders),
            "regions": list(self.regions),
            "age_range": list(self.age_range),
            "max_selected": self.max_selected,
            "popularity": dict(zip(self.genres, self.popularity, strict=True)),
            "onnx": {"file": ONNX_FILE, "input": _INPUT, "output": _OUTPUT, "opset": ONNX_OPSET},
            "lightgbm": {"file": LIGHTGBM_FILE},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, source: str = MAPPING_FILE) -> FeatureMapping:
        """Reads a ``features.json`` document.

        Raises:
            DeepRacerError: Another format, or a missing or malformed entry.
        """
        if data.get("format") != _FORMAT:
            raise DeepRacerError(
                f"{source}: format: expected {_FORMAT!r}, got {data.get('format')!r}"
            )
        try:
            genres = tuple(str(g) for g in data["genres"])
            popularity = data["popularity"]
            mapping = cls(
                genres=genres,
                genders=tuple(str(g) for g in data["genders"]),
                regions=tuple(str(r) for r in data["regions"]),
                age_range=(int(data["age_range"][0]), int(data["age_range"][1])),
                max_selected=int(data["max_selected"]),
                popularity=tuple(float(popularity[g]) for g in genres),
            )
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise DeepRacerError(f"{source}: missing or malformed entry ({exc!r})") from None
        if list(data.get("features", [])) != list(mapping.features):
            raise DeepRacerError(f"{source}: features: not the column order this code builds")
        return mapping

    def encode_users(self, users: Users) -> NDArray[np.float32]:
        """``(n, features)`` float32 rows of sampled users (codes as in the world)."""
        columns: list[NDArray[Any]] = [
            users.age,
            users.gender,
            users.region,
            users.n_selected,
            users.selected,
        ]
        return np.column_stack(columns).astype(np.float32)

    def encode_profile(self, profile: Any) -> NDArray[np.float32]:
        """Validates a profile and returns its ``(1, features)`` float32 row.

        Args:
            profile: A mapping with ``age``, ``gender``, ``region`` and ``genres``.

        Raises:
            ProfileError: Not a mapping, an unknown or missing field, an unknown
                gender, region or genre, an age outside the training range, or not
                1..max_selected distinct genres. The message names the field.
        """
        if not isinstance(profile, Mapping):
            raise ProfileError(
                "profile", f"expected a mapping with {_choices(_PROFILE_FIELDS)}, got {profile!r}"
            )
        for key in profile:
            if key not in _PROFILE_FIELDS:
                raise ProfileError(
                    str(key),
                    f"unknown field.{suggest(str(key), _PROFILE_FIELDS)} Valid fields:"
                    f" {', '.join(_PROFILE_FIELDS)}",
                )
        for key in _PROFILE_FIELDS:
            if key not in profile:
                raise ProfileError(key, "missing (a profile needs age, gender, region, genres)")
        row = np.zeros((1, len(self.genres) + 4), dtype=np.float32)
        row[0, 0] = self._age(profile["age"])
        row[0, 1] = self._code("gender", profile["gender"], self.genders)
        row[0, 2] = self._code("region", profile["region"], self.regions)
        selected = self._genres(profile["genres"])
        row[0, 3] = len(selected)
        row[0, [4 + i for i in selected]] = 1.0
        return row

    def _age(self, value: Any) -> float:
        low, high = self.age_range
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProfileError("age", f"expected a number of years, got {value!r}")
        if not math.isfinite(value) or not low <= value <= high:
            raise ProfileError(
                "age", f"expected {low} to {high} years (the training range), got {value!r}"
            )
        return float(value)

    @staticmethod
    def _code(name: str, value: Any, values: tuple[str, ...]) -> int:
        if isinstance(value, str):
            for code, known in enumerate(values):
                if value == known:
                    return code
        hint = suggest(str(value), values) if isinstance(value, str) else ""
        raise ProfileError(
            name, f"unknown {name} {value!r}.{hint} Expected one of {_choices(values)}"
        )

    def _genres(self, value: Any) -> list[int]:
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise ProfileError("genres", f"expected a list of genre names, got {value!r}")
        if not 1 <= len(value) <= self.max_selected:
            raise ProfileError(
                "genres",
                f"expected 1 to {self.max_selected} selected genres, got {len(value)}",
            )
        codes: list[int] = []
        for i, genre in enumerate(value):
            code = self._code(f"genres[{i}]", genre, self.genres)
            if code in codes:
                raise ProfileError(f"genres[{i}]", f"{genre!r} is selected twice")
            codes.append(code)
        return codes

    def baseline_scores(self, selected: NDArray[Any]) -> NDArray[np.float64]:
        """Scores whose top-k is the baseline's ranking.

        The baseline ranks the user's selected genres by training popularity and,
        when fewer than ``k`` were selected, pads with the most popular unselected
        genres (ties go to the lower genre index).

        Args:
            selected: ``(n, genres)`` 0/1 selections.
        """
        popularity = np.asarray(self.popularity, dtype=np.float64)
        # Popularity is a share (< 1), so every selected genre outranks every other.
        return np.asarray(2.0 * np.asarray(selected, dtype=np.float64) + popularity[None, :])


def users_to_profiles(users: Users, mapping: FeatureMapping) -> list[dict[str, Any]]:
    """Sampled users as the profiles a client would send (selections in genre order)."""
    return [
        {
            "age": int(users.age[i]),
            "gender": mapping.genders[int(users.gender[i])],
            "region": mapping.regions[int(users.region[i])],
            "genres": [mapping.genres[j] for j in np.flatnonzero(users.selected[i])],
        }
        for i in range(len(users))
    ]


def top_k(scores: NDArray[Any], k: int = 3) -> NDArray[np.int64]:
    """``(n, k)`` column indices of the ``k`` largest scores per row, best first.

    A stable sort of the negated scores, so equal scores go to the lower index.
    """
    return np.asarray(np.argsort(-np.asarray(scores), axis=1, kind="stable")[:, :k])


def train_booster(
    features: NDArray[np.float32],
    labels: NDArray[np.int64],
    *,
    classes: int,
    trees: int,
    learning_rate: float,
    num_leaves: int,
    min_child_samples: int,
    threads: int,
    seed: int,
) -> Any:
    """Trains a LightGBM multiclass Booster (gender and region as categorical).

    ``deterministic`` and ``force_col_wise`` make the trees identical run to run for
    a fixed thread count.
    """
    import lightgbm as lgb

    params = {
        "objective": "multiclass",
        "num_class": classes,
        "learning_rate": learning_rate,
        "num_leaves": num_leaves,
        "min_child_samples": min_child_samples,
        "num_threads": threads,
        "deterministic": True,
        "force_col_wise": True,
        "seed": seed,
        "verbose": -1,
    }
    dataset = lgb.Dataset(
        features,
        labels,
        # LightGBM rejects some punctuation in names; the names are only labels.
        feature_name=[re.sub(r"[^0-9A-Za-z]+", "_", f) for f in FEATURES],
        categorical_feature=list(_CATEGORICAL),
        free_raw_data=True,
    )
    return lgb.train(params, dataset, num_boost_round=trees)


def to_onnx(booster: Any, n_features: int) -> bytes:
    """The Booster as an ONNX model: float32 ``features`` in, ``probabilities`` out."""
    import onnxmltools
    from onnxmltools.convert.common.data_types import FloatTensorType

    model = onnxmltools.convert_lightgbm(
        booster,
        initial_types=[(_INPUT, FloatTensorType([None, n_features]))],
        target_opset=ONNX_OPSET,
        zipmap=False,  # a plain (n, classes) tensor, not a list of dicts
    )
    return bytes(model.SerializeToString())


def save_model(run_dir: Path, booster: Any, onnx_bytes: bytes, mapping: FeatureMapping) -> None:
    """Writes ``model.txt``, ``model.onnx`` and ``features.json`` atomically."""
    atomic_write_text(run_dir / LIGHTGBM_FILE, booster.model_to_string())
    atomic_write_bytes(run_dir / ONNX_FILE, onnx_bytes)
    atomic_write_text(run_dir / MAPPING_FILE, json.dumps(mapping.to_json(), indent=2) + "\n")


class Engine(Protocol):
    """Scores float32 rows."""

    name: str

    def predict_proba(self, rows: NDArray[np.float32]) -> NDArray[Any]:
        """``(n, classes)`` probabilities of ``(n, features)`` rows."""
        ...


class OnnxEngine:
    """onnxruntime on one thread (single rows are latency-bound, not compute-bound)."""

    name = "onnx"

    def __init__(self, model: bytes) -> None:
        """Builds the session from serialized ONNX bytes.

        Raises:
            DeepRacerError: onnxruntime is not installed.
        """
        try:
            import onnxruntime as ort
        except ImportError:
            raise DeepRacerError(_MISSING.format(what="onnxruntime")) from None

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # its shape notes on the unused label output are noise
        self.session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])

    def predict_proba(self, rows: NDArray[np.float32]) -> NDArray[Any]:
        """``(n, classes)`` float32 probabilities."""
        return np.asarray(self.session.run([_OUTPUT], {_INPUT: rows})[0])


class BoosterEngine:
    """The LightGBM Booster, predicting on one thread."""

    name = "lightgbm"

    def __init__(self, model_text: str) -> None:
        """Loads the Booster from its text format.

        Raises:
            DeepRacerError: LightGBM is not installed.
        """
        try:
            import lightgbm as lgb
        except ImportError:
            raise DeepRacerError(_MISSING.format(what="lightgbm")) from None

        self.booster = lgb.Booster(model_str=model_text)

    def predict_proba(self, rows: NDArray[np.float32]) -> NDArray[Any]:
        """``(n, classes)`` float64 probabilities."""
        return np.asarray(self.booster.predict(rows, num_threads=1))


@dataclass
class Recommender:
    """``recommend(profile) -> top-3 genres`` over one engine.

    Attributes:
        mapping: The training feature mapping.
        engine: What scores the rows.
    """

    mapping: FeatureMapping
    engine: Engine

    @classmethod
    def from_run_dir(
        cls, run_dir: str | Path, engine: Literal["onnx", "lightgbm"] = "onnx"
    ) -> Recommender:
        """Loads the model a genres run saved.

        Args:
            run_dir: The run directory (``features.json`` plus ``model.onnx`` or
                ``model.txt``).
            engine: ``onnx`` (onnxruntime) or ``lightgbm`` (the Booster).

        Raises:
            DeepRacerError: A file is missing or unreadable, or the engine is unknown.
        """
        run_dir = Path(run_dir)
        mapping_path = run_dir / MAPPING_FILE
        try:
            data = json.loads(mapping_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DeepRacerError(
                f"{mapping_path}: not found; is {run_dir} the run directory of a genres run?"
            ) from None
        except (OSError, ValueError) as exc:
            raise DeepRacerError(f"{mapping_path}: cannot read ({exc})") from None
        mapping = FeatureMapping.from_json(data, source=str(mapping_path))
        if engine not in ("onnx", "lightgbm"):
            raise DeepRacerError(f"engine: expected 'onnx' or 'lightgbm', got {engine!r}")
        model_path = run_dir / (ONNX_FILE if engine == "onnx" else LIGHTGBM_FILE)
        try:
            if engine == "onnx":
                scorer: Engine = OnnxEngine(model_path.read_bytes())
            else:
                scorer = BoosterEngine(model_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DeepRacerError(f"{model_path}: not found (engine {engine!r})") from None
        return cls(mapping=mapping, engine=scorer)

    def probabilities(self, profile: Any) -> dict[str, float]:
        """Each genre's probability of being the user's top genre two months on.

        Raises:
            ProfileError: A bad profile (see :meth:`FeatureMapping.encode_profile`).
        """
        row = self.mapping.encode_profile(profile)
        proba = self.engine.predict_proba(row)[0]
        return {g: float(p) for g, p in zip(self.mapping.genres, proba, strict=True)}

    def recommend(self, profile: Any, k: int = 3) -> list[str]:
        """The ``k`` most likely top genres of a new user, best first.

        Raises:
            ProfileError: A bad profile; the message names the field.
        """
        row = self.mapping.encode_profile(profile)
        proba = self.engine.predict_proba(row)
        return [self.mapping.genres[i] for i in top_k(proba, k)[0]]

    def recommend_many(self, profiles: Sequence[Any], k: int = 3) -> list[list[str]]:
        """:meth:`recommend` for several profiles in one batch prediction."""
        if not profiles:
            return []
        rows = np.concatenate([self.mapping.encode_profile(p) for p in profiles])
        best = top_k(self.engine.predict_proba(rows), k)
        return [[self.mapping.genres[i] for i in row] for row in best]


def load_recommend(
    run_dir: str | Path, engine: Literal["onnx", "lightgbm"] = "onnx"
) -> Callable[[Any], list[str]]:
    """``recommend(profile) -> top-3 genres`` loaded from a genres run directory."""
    return Recommender.from_run_dir(run_dir, engine).recommend
