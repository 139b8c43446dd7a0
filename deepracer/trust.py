"""Whether a run directory's code may run here: runs this machine created are signed.

A run directory carries code. Its ``reward_function.py`` is imported to compute
rewards, and a stable-baselines3 model zip holds cloudpickled objects that run code
when unpickled. A run from someone else (``deepracer download``, a shared folder)
must be usable without running either: models are loaded as weights only
(:func:`deepracer.evaluation.runs.load_policy`), and the reward file is imported only
when the run is trusted or the user passes ``--trust-reward``.

A run is trusted when ``deepracer train`` created it on this machine, for this user:
the trainer signs the run's reward file with HMAC-SHA256 under a key that lives
outside every run (``run-signing.key`` in :func:`config_dir`, created owner-only on
first use). A downloaded run cannot carry a valid signature without that key, and a
signed run whose reward file was replaced no longer verifies.

Contents:
    SIGNATURE_FILE: the signature's file name in a run directory.
    config_dir: the per-user folder holding the key.
    sign_run: sign a run's reward file (the trainer calls it).
    run_is_trusted: whether a run's signature verifies here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from deepracer.io import atomic_write_text
from deepracer.runs.layout import REWARD

__all__ = ["CONFIG_DIR_ENV", "SIGNATURE_FILE", "config_dir", "run_is_trusted", "sign_run"]

SIGNATURE_FILE = "signature.json"
"""The run directory's signature: ``{"version": 1, "reward_hmac": hex}``."""
CONFIG_DIR_ENV = "DEEPRACER_CONFIG_DIR"
"""Overrides :func:`config_dir` (tests, or a machine whose home is read-only)."""
_REWARD = REWARD
_KEY = "run-signing.key"
_CONTEXT = b"deepracer run reward v1\n"


def config_dir() -> Path:
    """Returns the per-user deepracer folder that holds the signing key.

    ``$DEEPRACER_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/deepracer``, else
    ``~/.config/deepracer``.
    """
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "deepracer"


def _key(create: bool) -> bytes | None:
    path = config_dir() / _KEY
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        if not create:
            return None
    except (OSError, ValueError):
        return None
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # O_EXCL: two trainers starting at once must not each write a different key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _key(create=False)
    except OSError:
        return None
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return _key(create=False)


def _mac(key: bytes, reward: bytes) -> str:
    return hmac.new(key, _CONTEXT + hashlib.sha256(reward).digest(), hashlib.sha256).hexdigest()


def sign_run(run_dir: Path) -> bool:
    """Signs ``run_dir``'s reward file as created here; returns False if it could not.

    Without a writable :func:`config_dir` the run stays unsigned: it still trains,
    and evaluating it needs ``--trust-reward`` to compute rewards.
    """
    reward = run_dir / _REWARD
    key = _key(create=True)
    if key is None or not reward.is_file():
        return False
    mac = _mac(key, reward.read_bytes())
    atomic_write_text(run_dir / SIGNATURE_FILE, json.dumps({"version": 1, "reward_hmac": mac}))
    return True


def run_is_trusted(run_dir: Path) -> bool:
    """Tells whether ``run_dir`` was created here and its reward file is unchanged."""
    key = _key(create=False)
    try:
        data = json.loads((run_dir / SIGNATURE_FILE).read_text())
        reward = (run_dir / _REWARD).read_bytes()
    except (OSError, ValueError):
        return False
    mac = data.get("reward_hmac") if isinstance(data, dict) else None
    return key is not None and isinstance(mac, str) and hmac.compare_digest(mac, _mac(key, reward))
