"""The plugin kit: field checks, report numbers and tables, deferred runs."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from deepracer.config import checks
from deepracer.config.loader import from_mapping
from deepracer.errors import ConfigError
from deepracer.plugins import available_plugins, get_plugin, kit
from deepracer.plugins.churn import ChurnConfig
from deepracer.plugins.custom_labels.config import CustomLabelsConfig
from deepracer.plugins.face_anonymizer.config import FaceAnonymizerConfig
from deepracer.plugins.genres.config import GenresConfig
from deepracer.plugins.kit import (
    DeferredRun,
    language_code,
    markdown_table,
    number,
    percent,
    s3_uri_or_empty,
)
from deepracer.plugins.label_chain.config import LabelChainConfig
from deepracer.plugins.sentiment_bot.config import SentimentBotConfig
from deepracer.plugins.social_analytics.config import SocialAnalyticsConfig
from deepracer.plugins.speech.config import SpeechConfig
from deepracer.plugins.subtitles.config import SubtitlesConfig

# --------------------------------------------------------------------------- checks


def test_the_kit_re_exports_the_core_field_checks() -> None:
    """Plugins import their checks from the kit: the core's (tests/config/test_checks.py)."""
    names = ("Check", "positive", "above", "at_least", "between", "interval", "optional", "matches")
    for name in names:
        assert getattr(kit, name) is getattr(checks, name), name
        assert name in kit.__all__, name
    assert kit.at_least(500)(10) == "a number >= 500"


def test_language_code() -> None:
    assert all(language_code(v) is None for v in ("en", "de", "zh-TW", "pt-BRAZ"))
    for bad in ("", "EN", "eng", "en_US", "en-us", "en-USAXY", " en"):
        assert language_code(bad) == "a language code such as 'en' or 'zh-TW'", bad


def test_s3_uri_or_empty() -> None:
    assert all(s3_uri_or_empty(v) is None for v in ("", "s3://b", "s3://b/prefix/", "s3://"))
    for bad in ("https://b/k", "b/k", "S3://b", " s3://b", "s3://b\nk"):
        assert s3_uri_or_empty(bad) == "an s3:// URI (or empty)", bad


@pytest.mark.parametrize(
    ("cls", "data", "message"),
    [
        (ChurnConfig, {"fallout": 1.0}, "expected a fraction in (0, 1), got 1.0"),
        (ChurnConfig, {"fallout": 0}, "expected a fraction in (0, 1), got 0"),
        (CustomLabelsConfig, {"min_confidence": 101}, "expected a percentage in [0, 100], got 101"),
        (FaceAnonymizerConfig, {"blur_scale": 0}, "expected a number of face widths in (0, 4]"),
        (GenresConfig, {"learning_rate": 0}, "expected a number in (0, 1], got 0"),
        (GenresConfig, {"confidence": 1}, "expected a confidence level in [0.5, 1), got 1"),
        (LabelChainConfig, {"human_error_rate": 1}, "expected a probability in [0, 1), got 1"),
        (LabelChainConfig, {"target_accuracy": 0}, "expected an accuracy in (0, 1], got 0"),
        (SentimentBotConfig, {"apology_threshold": 2}, "expected a number from 0 to 1 (or null)"),
        (SentimentBotConfig, {"language": "EN"}, "expected a language code such as 'en'"),
        (SocialAnalyticsConfig, {"language": "english"}, "expected a language code such as 'en'"),
        (SocialAnalyticsConfig, {"athena_output": "x/y"}, "expected an s3:// URI (or empty)"),
        (SubtitlesConfig, {"media_uri": "https://x"}, "expected an s3:// URI (or empty)"),
        (SpeechConfig, {"max_billed_characters": 0}, "expected an integer from 1 to 100000"),
        (SpeechConfig, {"rate_wpm": 500}, "expected an integer from 80 to 450, got 500"),
        (SpeechConfig, {"poll_seconds": 0}, "expected a number > 0, got 0"),
        (SpeechConfig, {"task_timeout_s": -1}, "expected a number > 0, got -1"),
        (SpeechConfig, {"rms_floor": 1}, "expected a number in (0, 1), got 1"),
    ],
)
def test_plugin_sections_use_the_shared_checks(
    cls: type[Any], data: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        from_mapping(cls, data, source="exp.yaml", prefix="s")
    assert str(info.value).startswith(f"exp.yaml: s.{next(iter(data))}: {message}")
    assert from_mapping(cls, {}, source="exp.yaml", prefix="s") == cls()


# --------------------------------------------------------------------------- report numbers


@pytest.mark.parametrize(
    ("value", "digits", "shown"),
    [
        (0.73149, 3, "0.731"),
        (0.25, 4, "0.2500"),
        (12, 3, "12"),
        (2.0, 1, "2.0"),
        (None, 3, "-"),
        (math.nan, 3, "-"),
        (math.inf, 1, "-"),
    ],
)
def test_number(value: float | None, digits: int, shown: str) -> None:
    assert number(value, digits) == shown


def test_number_takes_numpy_floats() -> None:
    np = pytest.importorskip("numpy")
    assert number(np.float64(0.5)) == "0.500" and number(np.float64("nan")) == "-"
    assert percent(np.float64(0.123)) == "12.3 %"


@pytest.mark.parametrize(
    ("value", "digits", "signed", "shown"),
    [
        (0.123, 1, False, "12.3 %"),
        (1, 1, False, "100.0 %"),
        (0.5, 0, False, "50 %"),
        (0.04, 1, True, "+4.0 %"),
        (-0.04, 1, True, "-4.0 %"),
        (None, 1, False, "-"),
        (math.nan, 1, True, "-"),
    ],
)
def test_percent(value: float | None, digits: int, signed: bool, shown: str) -> None:
    assert percent(value, digits, signed=signed) == shown


# --------------------------------------------------------------------------- tables


def test_markdown_table() -> None:
    table = markdown_table(["model", "AUC", "note"], [("logit", 0.7, ""), ["rf", 1, "a|b\nc"]])
    assert table.splitlines() == [
        "| model | AUC | note |",
        "|---|---|---|",
        "| logit | 0.7 | |",
        "| rf | 1 | a\\|b c |",
    ]
    assert markdown_table(["a"], []) == "| a |\n|---|"


def test_a_row_of_the_wrong_width_is_an_error() -> None:
    with pytest.raises(ValueError, match="a row of 1 cells under 2 columns"):
        markdown_table(["a", "b"], [["only one"]])


# --------------------------------------------------------------------------- deferred run


def test_a_deferred_run_imports_its_module_when_called(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "kit_demo_runner.py").write_text(
        "def run(config, context):\n    return (config, context)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "kit_demo_runner", raising=False)
    run = DeferredRun("kit_demo_runner")
    assert "kit_demo_runner" not in sys.modules
    assert run("config", "context") == ("config", "context")  # type: ignore[arg-type]
    assert "kit_demo_runner" in sys.modules
    monkeypatch.delitem(sys.modules, "kit_demo_runner")


@pytest.mark.parametrize("name", sorted(available_plugins()))
def test_every_plugin_defers_to_a_module_that_defines_run(name: str) -> None:
    """A typo in a module name would only show when the experiment runs."""
    plugin = get_plugin(name)
    assert isinstance(plugin.run, DeferredRun), plugin.run
    assert plugin.run.module.startswith(f"deepracer.plugins.{name}.")
    spec = importlib.util.find_spec(plugin.run.module)
    assert spec is not None and spec.origin is not None, plugin.run.module
    assert "\ndef run(" in Path(spec.origin).read_text(encoding="utf-8"), plugin.run.module


def test_listing_plugins_imports_no_heavy_dependency() -> None:
    """The kit and every plugin's package load without their experiment's libraries."""
    code = (
        "import sys, deepracer, deepracer.plugins, deepracer.plugins.kit\n"
        "from deepracer.plugins import available_plugins, get_plugin\n"
        "for name in available_plugins(): get_plugin(name)\n"
        "heavy = ['sklearn', 'torch', 'transformers', 'lightgbm', 'onnxruntime', 'imblearn',"
        " 'skimage', 'cv2', 'boto3', 'vaderSentiment', 'matplotlib', 'pandas', 'duckdb']\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
