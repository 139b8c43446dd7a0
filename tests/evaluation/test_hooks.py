"""The evaluation announcer hook: plugins register it, `deepracer evaluate --announce`
finds it through the plugin registry, and the core never imports a plugin."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import deepracer.plugins
from deepracer.cli import main
from deepracer.errors import ConfigError
from deepracer.evaluation import hooks
from deepracer.evaluation.evaluate import TrialRecord
from deepracer.evaluation.hooks import announcers, register_announcer, unregister_announcer


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """An empty announcer registry for the test (the real one is restored after)."""
    empty: dict[str, Any] = {}
    monkeypatch.setattr(hooks, "_announcers", empty)
    return empty


@pytest.fixture
def no_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """No installed or registered plugin is found."""
    monkeypatch.setattr(deepracer.plugins, "available_plugins", lambda: {})


class FakeAnnouncer:
    def __init__(self, line: str = "announced by the fake") -> None:
        self.line = line
        self.calls: list[tuple[Sequence[TrialRecord], Path, Path]] = []

    def __call__(self, records: Sequence[TrialRecord], out: Path, path: Path) -> str:
        self.calls.append((records, out, path))
        return self.line


def _record() -> TrialRecord:
    return TrialRecord(
        trial=1,
        status="lap_complete",
        progress=100.0,
        lap_time=9.5,
        resets=0,
        off_track=0,
        reversed=0,
        immobilized=0,
        start_time=0.0,
        end_time=1.0,
    )


def test_register_replace_and_unregister(registry: dict[str, Any]) -> None:
    first, second, again = FakeAnnouncer("1"), FakeAnnouncer("2"), FakeAnnouncer("1b")
    register_announcer("one", first)
    register_announcer("two", second)
    assert list(announcers()) == ["one", "two"]
    register_announcer("one", again)  # same name: replaced, and now the latest
    assert announcers() == {"two": second, "one": again}
    announcers().clear()  # a copy: the registry is untouched
    assert len(announcers()) == 2
    unregister_announcer("two")
    unregister_announcer("never registered")
    assert announcers() == {"one": again}


@pytest.fixture
def fake_evaluation(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """`deepracer evaluate` without a model: the run loading and the trials are faked."""
    import deepracer.evaluation.evaluate as evaluate_module
    import deepracer.evaluation.runs as runs_module

    setup = SimpleNamespace(
        config=None, world="oval", reward_note=lambda: None, reward_function=lambda: None
    )
    monkeypatch.setattr(runs_module, "resolve_model", lambda path: (path / "best.zip", path))
    monkeypatch.setattr(runs_module, "run_setup", lambda *args, **kwargs: setup)
    monkeypatch.setattr(runs_module, "load_policy", lambda *args: object())
    monkeypatch.setattr(evaluate_module, "evaluate", lambda *args, **kwargs: [_record()])
    return tmp_path


def test_evaluate_announces_with_the_registered_hook(
    registry: dict[str, Any], fake_evaluation: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeAnnouncer()
    register_announcer("fake", fake)
    out, wav = fake_evaluation / "eval", fake_evaluation / "summary.wav"
    argv = ["evaluate", str(fake_evaluation), "--no-raceline", "--out", str(out)]
    assert main([*argv, "--announce", str(wav)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1] == "announced by the fake"
    [(records, called_out, called_path)] = fake.calls
    assert [r.lap_time for r in records] == [9.5]
    assert called_out == out and called_path == wav
    # Without --announce the hook is not called.
    assert main(argv) == 0
    assert len(fake.calls) == 1


def test_evaluate_without_an_announcer_says_so_before_the_trials(
    registry: dict[str, Any], no_plugins: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # The run does not exist: the announcer is looked for before anything is loaded.
    assert main(["evaluate", "no/such/run", "--announce", "summary.wav"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --announce: no announcer is registered;")
    assert "deepracer plugins list" in err
    assert "did not load" not in err


def test_a_plugin_that_does_not_load_is_named(
    registry: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def get_plugin(name: str) -> Any:
        raise ConfigError(f"plugin {name!r} does not import: No module named 'espeak'")

    monkeypatch.setattr(deepracer.plugins, "available_plugins", lambda: {"talk": "x:plugin"})
    monkeypatch.setattr(deepracer.plugins, "get_plugin", get_plugin)
    assert main(["evaluate", "no/such/run", "--announce", "summary.wav"]) == 2
    err = capsys.readouterr().err
    assert "no announcer is registered" in err
    assert "Plugins that did not load: plugin 'talk' does not import" in err


def test_loading_a_plugin_registers_its_announcer(
    registry: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeAnnouncer()

    def get_plugin(name: str) -> Any:  # as a plugin package's import does
        register_announcer(name, fake)
        return object()

    monkeypatch.setattr(deepracer.plugins, "available_plugins", lambda: {"talk": "x:plugin"})
    monkeypatch.setattr(deepracer.plugins, "get_plugin", get_plugin)
    from deepracer.evaluation.commands import _find_announcer

    assert _find_announcer() is fake


def test_the_speech_plugin_registers_on_load_and_delegates(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import deepracer.plugins.speech  # noqa: F401  (registers on import)
    import deepracer.plugins.speech.announce as announce

    calls: list[tuple[Any, ...]] = []

    def announce_evaluation(*args: Any) -> str:
        calls.append(args)
        return "spoken"

    monkeypatch.setattr(announce, "announce_evaluation", announce_evaluation)
    records = [_record()]
    assert announcers()["speech"](records, tmp_path, tmp_path / "a.wav") == "spoken"
    assert calls == [(records, tmp_path, tmp_path / "a.wav")]


def test_evaluate_finds_the_speech_plugin_through_the_plugin_registry() -> None:
    # A fresh interpreter: nothing has imported the speech plugin yet.
    code = (
        "import sys\n"
        "from deepracer.cli import build_parser\n"
        "from deepracer.evaluation.commands import _find_announcer\n"
        "from deepracer.evaluation.hooks import announcers\n"
        "build_parser()\n"
        "assert 'deepracer.plugins.speech' not in sys.modules, 'the core imported it'\n"
        "assert not announcers()\n"
        "print(_find_announcer().__module__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "deepracer.plugins.speech"
