"""What DeepRacer on AWS would reject in a reward file, and that its allowlist runs here."""

from __future__ import annotations

import importlib
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from deepracer.cli import main
from deepracer.config.resources import available, resolve
from deepracer.rewards.allowlist import ALLOWED_IMPORTS, console_rejections

ROOT = Path(__file__).resolve().parents[2]


def _source(text: str) -> str:
    return textwrap.dedent(text).lstrip()


@pytest.mark.parametrize("name", available("rewards"))
def test_every_shipped_reward_passes(name: str) -> None:
    assert console_rejections(resolve("rewards", name).read_text()) == []


@pytest.mark.parametrize("module", ALLOWED_IMPORTS)
def test_every_allowed_module_is_installed_with_the_core(module: str) -> None:
    importlib.import_module(module)  # a console reward may import it: it must run here
    if module not in sys.stdlib_module_names:  # and no extra is needed for it
        project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
        names = {Requirement(r).name for r in project["dependencies"]}
        assert module in names


def test_allowed_imports_in_every_form_pass() -> None:
    source = _source(
        """
        import math
        import numpy as np
        import random, scipy.interpolate
        from shapely.geometry import Point
        from scipy import spatial


        def reward_function(params):
            return float(np.clip(math.hypot(1, 2), 0, 1))
        """
    )
    assert console_rejections(source) == []


def test_imports_outside_the_allowlist_are_named_with_their_line() -> None:
    source = _source(
        """
        import math
        import requests
        from os import path
        from .helpers import speed
        import numpy.linalg, json


        def reward_function(params):
            import time
            return 1.0
        """
    )
    problems = console_rejections(source)
    assert [p.split(",")[0] for p in problems] == [
        "line 2: imports requests",
        "line 3: imports os",
        "line 4: imports .helpers",
        "line 5: imports json",
        "line 9: imports time",
    ]
    assert all("(only math, random, numpy, scipy, shapely)" in p for p in problems)


def test_forbidden_builtins_and_strings() -> None:
    source = _source(
        """
        import numpy as np


        def reward_function(params):
            table = np.loadtxt("table.csv")  # a download of the race line
            eval("1 + 1")
            return float(len(open("x").read()))
        """
    )
    problems = console_rejections(source)
    assert "line 6: calls eval(), a forbidden builtin" in problems
    assert "line 7: calls open(), a forbidden builtin" in problems
    strings = [p for p in problems if "a string the validator refuses" in p]
    assert [p.split(",")[0] for p in strings] == [
        "line 5: contains 'load'",
        "line 5: contains 'loadtxt'",
    ]
    # Methods of that name are not the builtins.
    assert console_rejections("def reward_function(params):\n    return params.eval()\n") == []


def test_a_syntax_error_is_one_reason() -> None:
    assert console_rejections("def reward_function(params)\n    return 1\n") == [
        "line 1: syntax error (expected ':')"
    ]


def test_check_reward_warns_before_it_runs_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reward = tmp_path / "web.py"
    reward.write_text("import requests\n\n\ndef reward_function(params):\n    return 1.0\n")
    assert main(["check-reward", str(reward), "--steps", "20"]) == 0
    captured = capsys.readouterr()
    assert (
        f"warning: {reward}: DeepRacer on AWS would reject it: line 1: imports requests"
        in captured.err
    )
    assert "calls:" in captured.out  # it still runs here, where requests is installed
    missing = tmp_path / "missing_module.py"
    missing.write_text("import no_such_module\n\n\ndef reward_function(params):\n    return 1\n")
    assert main(["check-reward", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.index("imports no_such_module") < err.index("error:")
    shapely_scipy = tmp_path / "geometry.py"
    shapely_scipy.write_text(
        _source(
            """
            from scipy.spatial.distance import euclidean
            from shapely.geometry import Point


            def reward_function(params):
                d = Point(params["x"], params["y"]).distance(Point(0, 0))
                return 1.0 / (1.0 + d + euclidean([0, 0], [0, 0]))
            """
        )
    )
    assert main(["check-reward", str(shapely_scipy), "--steps", "20"]) == 0
    assert "warning" not in capsys.readouterr().err
