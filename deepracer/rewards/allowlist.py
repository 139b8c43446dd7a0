"""What DeepRacer on AWS accepts in a reward file, checked without running it.

DeepRacer on AWS validates a reward file before it trains (aws-solutions/
deepracer-on-aws v1.2.5, ``source/libs/reward-function-validation/lib/
reward_func_validator/constants.py`` and ``test_reward_function.py``) and rejects it
if it:

* imports a module whose top-level package is not one of :data:`ALLOWED_IMPORTS`
  (``import a.b`` and ``from a.b import c`` both count as ``a``);
* calls one of :data:`FORBIDDEN_CALLS` by name (``open(...)``, ``eval(...)``);
* contains one of :data:`FORBIDDEN_STRINGS` anywhere in its text, comments and
  names included (``"load"`` in ``download`` counts).

Every module of the allowlist is installed with this package, so a reward that
passes there also runs here. The validator's flake8 pass (style errors) is not
repeated here.

Contents:
    ALLOWED_IMPORTS, FORBIDDEN_CALLS, FORBIDDEN_STRINGS: the validator's lists.
    console_rejections: the reasons DeepRacer on AWS would reject a reward's source.
"""

from __future__ import annotations

import ast

__all__ = ["ALLOWED_IMPORTS", "FORBIDDEN_CALLS", "FORBIDDEN_STRINGS", "console_rejections"]

ALLOWED_IMPORTS = ("math", "random", "numpy", "scipy", "shapely")
"""Top-level modules a reward file may import (``ALLOWLIST_IMPORTS``)."""
FORBIDDEN_CALLS = ("open", "exec", "eval", "compile", "input")
"""Builtins a reward file may not call (``FORBID_ACCESS``)."""
FORBIDDEN_STRINGS = (
    "__import__",
    "load",
    "fromfile",
    "genfromtxt",
    "loadtxt",
    "tofile",
    "savez",
    "save",
    "savetxt",
    "memmap",
)
"""Substrings a reward file may not contain anywhere (``FORBID_STRINGS``)."""


def console_rejections(source: str) -> list[str]:
    """Returns why DeepRacer on AWS would reject a reward file (empty: it would not).

    Args:
        source: The reward file's text.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [f"line {exc.lineno}: syntax error ({exc.msg})"]
    problems: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = ["." * node.level + (node.module or "")]
        else:
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in FORBIDDEN_CALLS
            ):
                problems.append(f"line {node.lineno}: calls {node.func.id}(), a forbidden builtin")
            continue
        for module in modules:
            if module.split(".")[0] not in ALLOWED_IMPORTS:
                problems.append(
                    f"line {node.lineno}: imports {module}, which is not allowed (only"
                    f" {', '.join(ALLOWED_IMPORTS)})"
                )
    for text in FORBIDDEN_STRINGS:
        # Each string at the first line that holds it: one fix per line to make.
        for number, line in enumerate(source.splitlines(), start=1):
            if text in line:
                problems.append(
                    f"line {number}: contains {text!r}, a string the validator refuses"
                    " anywhere in the file (comments and names included)"
                )
                break
    return sorted(problems, key=lambda p: int(p.split(":")[0].removeprefix("line ")))
