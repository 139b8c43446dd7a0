"""``deepracer ui``: loopback by default, a token anywhere else, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from deepracer.cli import main
from deepracer.errors import DeepRacerError
from deepracer.ui.commands import is_loopback, serve_options


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.0.1", True), ("localhost", True), ("::1", True),
     ("[::1]", True), ("0.0.0.0", False), ("192.168.1.5", False), ("example.com", False)],
)  # fmt: skip
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_token_is_made_off_loopback_and_kept_when_given() -> None:
    assert serve_options("127.0.0.1", None) is None
    made = serve_options("0.0.0.0", None)
    assert made is not None and len(made) >= 30 and made != serve_options("0.0.0.0", None)
    assert serve_options("0.0.0.0", "a-token-of-my-own!") == "a-token-of-my-own!"
    with pytest.raises(DeepRacerError, match="--token: expected at least 16 characters"):
        serve_options("0.0.0.0", "short")


def test_a_missing_runs_folder_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ui", str(tmp_path / "nowhere")]) == 2
    assert f"{tmp_path / 'nowhere'}: no such folder" in capsys.readouterr().err
