"""Strict YAML -> dataclass loading.

Contents:
    load_yaml: read one YAML file with ``yaml.safe_load`` into a mapping.
    from_mapping: build a (nested) frozen dataclass from a mapping, rejecting unknown
        keys with a suggestion and checking every value's type.
    to_mapping: the inverse, for writing a resolved configuration.

Errors name the source file, the dotted field path and what was expected, e.g.
``envs/wood.yaml: noise.steering_std: expected a number >= 0, got 'high'``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

import yaml

from deepracer.errors import ConfigError, suggest

__all__ = ["from_mapping", "load_yaml", "to_mapping"]

T = TypeVar("T")


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Reads a YAML file whose top level is a mapping.

    Args:
        path: The file to read.

    Returns:
        The mapping (empty for an empty file).

    Raises:
        ConfigError: The file is missing, is not valid YAML or is not a mapping.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read file ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: invalid YAML{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {_kind(data)}")
    return data


def from_mapping(cls: type[T], data: Any, *, source: str = "<config>", prefix: str = "") -> T:
    """Builds dataclass ``cls`` from ``data``, strictly.

    Unknown keys are errors (with the closest valid key suggested), missing required
    fields are errors, and every value is checked against the field's annotation:
    ``bool``, ``int``, ``float`` (ints accepted), ``str``, ``Literal[...]``,
    ``X | None``, ``tuple[X, ...]``, ``tuple[X, Y]``, ``list[X]``, ``dict[str, X]``
    and nested dataclasses. A field may also declare ``metadata={"check": fn}`` where
    ``fn(value) -> str | None`` returns a description of what was expected on failure.

    Args:
        cls: A dataclass type.
        data: The mapping to read (a dataclass instance of ``cls`` is returned as is).
        source: Names the file or origin in error messages.
        prefix: Dotted path of ``data`` inside the source, for error messages.

    Returns:
        An instance of ``cls``.

    Raises:
        ConfigError: On any unknown key, missing field or ill-typed value.
    """
    if isinstance(data, cls):
        return data
    where = _where(source, prefix)
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}expected a mapping for {cls.__name__}, got {_kind(data)}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str) or key not in fields or not fields[key].init:
            valid = [n for n, f in fields.items() if f.init]
            raise ConfigError(
                f"{_where(source, prefix)}unknown key {key!r}.{suggest(str(key), valid)}"
                f" Valid keys: {', '.join(sorted(valid))}"
            )
        path = f"{prefix}.{key}" if prefix else key
        converted = _convert(hints[key], value, source, path)
        check = fields[key].metadata.get("check")
        if check is not None:
            problem = check(converted)
            if problem:
                raise ConfigError(f"{_where(source, path)}expected {problem}, got {value!r}")
        kwargs[key] = converted
    missing = [
        n
        for n, f in fields.items()
        if f.init
        and n not in kwargs
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{where}missing required key(s): {', '.join(missing)}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"{where}{exc}") from None


def to_mapping(obj: Any) -> Any:
    """Converts a dataclass (recursively) into plain YAML-safe values."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_mapping(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple | list):
        return [to_mapping(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_mapping(v) for k, v in obj.items()}
    return obj


def _where(source: str, path: str) -> str:
    return f"{source}: {path}: " if path else f"{source}: "


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return f"{type(value).__name__} {value!r}"


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if tp is float:
        return "a number"
    if tp is int:
        return "an integer"
    if tp is bool:
        return "true or false"
    if tp is str:
        return "a string"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin in (list, tuple):
        return "a list"
    if origin in (dict, Mapping):
        return "a mapping"
    if dataclasses.is_dataclass(tp):
        return f"a mapping ({getattr(tp, '__name__', tp)})"
    return getattr(tp, "__name__", str(tp))


def _convert(tp: Any, value: Any, source: str, path: str) -> Any:  # noqa: C901
    origin = get_origin(tp)
    where = _where(source, path)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        options = get_args(tp)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _convert(option, value, source, path)
            except ConfigError as exc:
                errors.append(exc)
        if len(errors) == 1:
            raise errors[0]
        names = " or ".join(_type_name(o) for o in options if o is not type(None))
        raise ConfigError(f"{where}expected {names}, got {_kind(value)}")
    if origin is Literal:
        allowed = get_args(tp)
        if value not in allowed or isinstance(value, bool) != any(
            isinstance(a, bool) for a in allowed
        ):
            hint = suggest(str(value), [str(a) for a in allowed])
            raise ConfigError(f"{where}expected {_type_name(tp)}, got {value!r}.{hint}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}expected true or false, got {_kind(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}expected an integer, got {_kind(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}expected a number, got {_kind(value)}")
        if value != value or value in (float("inf"), float("-inf")):
            raise ConfigError(f"{where}expected a finite number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}expected a string, got {_kind(value)}")
        return value
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return from_mapping(tp, value, source=source, prefix=path)
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}expected a list, got {_kind(value)}")
        args = get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise ConfigError(f"{where}expected a list of {len(args)} items, got {len(value)}")
            return tuple(
                _convert(a, v, source, f"{path}[{i}]")
                for i, (a, v) in enumerate(zip(args, value, strict=True))
            )
        item = args[0] if args else Any
        items = [_convert(item, v, source, f"{path}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}expected a mapping, got {_kind(value)}")
        key_tp, val_tp = get_args(tp) or (Any, Any)
        return {
            _convert(key_tp, k, source, f"{path}.{k}"): _convert(val_tp, v, source, f"{path}.{k}")
            for k, v in value.items()
        }
    raise TypeError(f"unsupported annotation {tp!r} at {path}")  # a bug in our schema, not input
