"""Loading and calling a user's ``reward_function(params)``.

This is the one place where user Python runs. A reward file from the DeepRacer
console runs unchanged: it is executed as its own module, ``reward_function`` is
called on a copy of ``params`` (as the simapp's ``deepcopy``), and the result must be
a finite number in [-1e5, 1e5], as in the simapp.

A reward file that calls ``sys.exit()`` or raises ``KeyboardInterrupt`` itself, at
import or in a call, gets a :class:`~deepracer.errors.RewardFunctionError` like any
other exception: left alone they would end training with exit status 0 and no model.
A real Ctrl-C (SIGINT) still stops training with a checkpoint; the two are told
apart by counting SIGINTs (:func:`interrupted_since`).

Contents:
    RewardFunction: a loaded, validating reward function.
    load_reward_function: a shipped name (``rewards/<name>.py``) or a path.
    copy_params: the cheap exact deep copy of a params dict.
    REWARD_LIMIT: the accepted magnitude.
    sigint_count, interrupted_since: SIGINTs seen, to tell Ctrl-C from user code.
    interrupt_by_signal: a handler for other stop signals, counted the same way.
    SlowRewardWarning, SLOW_REWARD_MS: a reward whose calls take too long.
    current_reward_call: the reward call in progress, for a heartbeat.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import numbers
import signal
import statistics
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from deepracer.config.resources import resolve
from deepracer.errors import ConfigError, RewardFunctionError
from deepracer.io import atomic_write_text

__all__ = [
    "REWARD_LIMIT",
    "SLOW_REWARD_MS",
    "RewardFunction",
    "SlowRewardWarning",
    "copy_params",
    "current_reward_call",
    "interrupt_by_signal",
    "interrupted_since",
    "load_reward_function",
    "sigint_count",
]

REWARD_LIMIT = 1e5
SLOW_REWARD_MS = 10.0
"""A reward call slower than this (median) gets a :class:`SlowRewardWarning` [ms]."""
_TIMED_CALLS = 64
_sigints = 0
_clock = time.perf_counter
_WARNED: dict[Any, Any] = {}
"""The warnings registry of slow-reward warnings (one per file and line)."""
_in_call: list[RewardFunction | None] = [None]
"""The reward function whose call is running in this process (its ``_since``: start)."""


class SlowRewardWarning(UserWarning):
    """A reward function is slow enough to dominate training time."""


def current_reward_call() -> tuple[str, float] | None:
    """Returns ``(reward name, seconds running)`` of a reward call in progress here."""
    call = _in_call[0]
    return None if call is None else (call.name, _clock() - call._since)


def _count_sigint(signum: int, frame: Any) -> None:
    global _sigints
    _sigints += 1
    signal.default_int_handler(signum, frame)  # then KeyboardInterrupt, as Python does


def interrupt_by_signal(signum: int, frame: Any) -> None:
    """A signal handler that stops training like Ctrl-C (for SIGTERM, say).

    It is counted as one, so a reward function running when it lands is not blamed.
    """
    global _sigints
    _sigints += 1
    raise KeyboardInterrupt(f"signal {signum}")


def _watch_sigint() -> None:
    """Counts SIGINTs from now on (main thread only, Python's own handler only)."""
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    ):
        signal.signal(signal.SIGINT, _count_sigint)


def sigint_count() -> int:
    """Returns how many SIGINTs arrived since a reward function was first created."""
    return _sigints


def interrupted_since(count: int) -> bool:
    """Tells whether a KeyboardInterrupt since ``count`` may be a real Ctrl-C.

    False only when SIGINTs are being counted and none arrived since
    :func:`sigint_count` returned ``count``: that KeyboardInterrupt was raised by code.
    Where they cannot be counted (another handler, a thread), every one counts as real.
    """
    return _sigints != count or signal.getsignal(signal.SIGINT) is not _count_sigint


def _exit_message(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r})"
    return "raised KeyboardInterrupt itself (not Ctrl-C)"


def copy_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-copies a params dict.

    Params hold numbers, bools, tuples of floats and (nested) lists, so copying the
    lists is a complete deep copy, and far cheaper than ``copy.deepcopy``.
    """
    out = dict(params)
    for key, value in out.items():
        kind = type(value)
        if kind is list or kind is dict:
            out[key] = _copy_value(value)
    return out


def _copy_value(value: Any) -> Any:
    if type(value) is list:
        if value and type(value[0]) in (list, dict):
            return [_copy_value(v) for v in value]
        return [*value]
    if type(value) is dict:
        return copy_params(value)
    return value


class RewardFunction:
    """A reward function with the simapp's checks.

    Args:
        function: ``reward_function(params) -> float``.
        name: Shown in messages (the file path for loaded files).
        source_text: The file's source, copied into every run.
        batch_function: The file's optional ``reward_function_batch(params)``, which
            takes arrays over many cars (see :mod:`deepracer.envs.vector`).

    Example:
        >>> reward = RewardFunction(lambda params: params["speed"] / 4, name="inline")
        >>> reward({"speed": 2.0, "steps": 2})
        0.5
    """

    def __init__(
        self,
        function: Callable[[dict[str, Any]], Any],
        *,
        name: str,
        source_text: str | None = None,
        batch_function: Callable[[dict[str, Any]], Any] | None = None,
    ) -> None:
        _watch_sigint()
        self.function = function
        self.name = name
        self.source_text = source_text
        self.batch_function = batch_function
        self._durations: list[float] | None = []  # None once warned
        self._since = 0.0  # when the call in progress started

    @classmethod
    def from_file(cls, path: str | Path) -> RewardFunction:
        """Executes a Python file and takes its ``reward_function``.

        Raises:
            RewardFunctionError: The file is missing, does not run, or defines no
                callable ``reward_function``.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise RewardFunctionError(f"{path}: cannot read reward file ({exc.strerror})") from None
        digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
        spec = importlib.util.spec_from_file_location(f"deepracer_reward_{digest}", path)
        if spec is None or spec.loader is None:
            raise RewardFunctionError(f"{path}: not a Python file")
        module = importlib.util.module_from_spec(spec)
        _watch_sigint()
        seen = _sigints
        try:
            spec.loader.exec_module(module)
        except (SystemExit, KeyboardInterrupt) as exc:
            if isinstance(exc, KeyboardInterrupt) and interrupted_since(seen):
                raise
            raise RewardFunctionError(
                f"{path}: the reward file {_exit_message(exc)} while loading; a reward file"
                f" defines reward_function(params) and must not end the program"
                f"\n{_user_traceback(exc, path)}"
            ) from exc
        except SyntaxError as exc:
            raise RewardFunctionError(
                f"{path}:{exc.lineno}: syntax error in reward file: {exc.msg}"
            ) from None
        except Exception as exc:
            raise RewardFunctionError(
                f"{path}: the reward file raised {type(exc).__name__} while loading: {exc}"
                f"\n{_user_traceback(exc, path)}"
            ) from exc
        function = getattr(module, "reward_function", None)
        if not callable(function):
            raise RewardFunctionError(
                f"{path}: defines no function 'reward_function(params)'; DeepRacer calls"
                " exactly that name"
            )
        batch = getattr(module, "reward_function_batch", None)
        return cls(
            function,
            name=str(path),
            source_text=text,
            batch_function=batch if callable(batch) else None,
        )

    def __call__(self, params: Mapping[str, Any]) -> float:
        """Calls the function on a copy of ``params`` and validates the result.

        Raises:
            RewardFunctionError: The function raised, or returned something other than a
                finite number in [-1e5, 1e5]. The message names the file and the step;
                a user exception is chained, keeping its traceback.
        """
        seen = _sigints
        self._since = started = _clock()
        _in_call[0] = self
        try:
            value = self.function(copy_params(params))
        except Exception as exc:
            raise RewardFunctionError(
                f"{self.name}: reward_function raised {type(exc).__name__}: {exc}"
                f" at step {params.get('steps')}\n{_user_traceback(exc, Path(self.name))}"
            ) from exc
        except (SystemExit, KeyboardInterrupt) as exc:
            if isinstance(exc, KeyboardInterrupt) and interrupted_since(seen):
                raise  # a real Ctrl-C: training stops with a checkpoint
            raise RewardFunctionError(
                f"{self.name}: reward_function {_exit_message(exc)} at step"
                f" {params.get('steps')}; it must return a number (exiting would end"
                f" training without a model)\n{_user_traceback(exc, Path(self.name))}"
            ) from exc
        finally:
            _in_call[0] = None
        durations = self._durations
        if durations is not None:
            durations.append(_clock() - started)
            if len(durations) >= _TIMED_CALLS:
                self._check_speed(durations)
        if isinstance(value, numbers.Real):
            reward = float(value)
            if math.isfinite(reward) and -REWARD_LIMIT <= reward <= REWARD_LIMIT:
                return reward
        raise RewardFunctionError(
            f"{self.name}: reward_function returned {value!r} ({type(value).__name__}) at step"
            f" {params.get('steps')}; expected a finite number in [-1e5, 1e5]"
        )

    def _check_speed(self, durations: list[float]) -> None:
        """Warns once if the median of a window of calls is slower than SLOW_REWARD_MS."""
        median = 1000.0 * statistics.median(durations)
        durations.clear()
        if median > SLOW_REWARD_MS:
            self._durations = None
            code = getattr(self.function, "__code__", None)
            # Pointed at the reward function itself, and said once per file and line
            # however many envs load it.
            warnings.warn_explicit(
                f"{self.name}: reward_function takes {median:.0f} ms per call (median of"
                f" {_TIMED_CALLS} calls), more than {SLOW_REWARD_MS:g} ms: training cannot"
                f" pass {1000.0 / median:.0f} steps/s per car; move work out of the call"
                " (compute what does not depend on params once, at import)",
                SlowRewardWarning,
                filename=self.name,
                lineno=code.co_firstlineno if code is not None else 0,
                registry=_WARNED,
            )

    def copy_source(self, directory: str | Path, filename: str = "reward_function.py") -> Path:
        """Writes the function's source into ``directory`` atomically; returns the path.

        Raises:
            RewardFunctionError: The function was not loaded from a file.
        """
        if self.source_text is None:
            raise RewardFunctionError(
                f"{self.name}: no source text to copy (not loaded from a file)"
            )
        target = Path(directory) / filename
        atomic_write_text(target, self.source_text)
        return target


def load_reward_function(name_or_path: str | Path) -> RewardFunction:
    """Loads a shipped reward (``rewards/<name>.py``) or a reward file by path.

    Raises:
        RewardFunctionError: The file cannot be found or loaded.
    """
    try:
        path = resolve("rewards", name_or_path)
    except ConfigError as exc:
        raise RewardFunctionError(str(exc)) from None
    return RewardFunction.from_file(path)


def _user_traceback(exc: BaseException, path: Path) -> str:
    """Formats the traceback frames that lie in the user's file (or all, if none do)."""
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if Path(f.filename).name == path.name] or frames
    return "".join(traceback.format_list(mine)).rstrip()
