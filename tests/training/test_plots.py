"""training.png: drawn whatever the run has, without matplotlib warnings."""

from __future__ import annotations

import warnings
from pathlib import Path

from deepracer.envs.config import EnvConfig
from deepracer.training.plots import training_plot


def test_a_run_cut_short_before_any_evaluation_still_plots(tmp_path: Path) -> None:
    # max_minutes can end a run before its final (or any) evaluation: nothing to label.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = training_plot(tmp_path, EnvConfig(world="oval"), [], [], [])
    assert path.is_file() and path.read_bytes().startswith(b"\x89PNG")
