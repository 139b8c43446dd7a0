"""deepracer: train, evaluate and ship AWS DeepRacer-style racing agents locally.

Importing the package registers the gymnasium environment ``DeepRacer/TimeTrial-v0``.

Contents:
    RacingEnv, EnvConfig: the environment and its configuration.
    get_track: resolve a track name or route file.
    load_reward_function: load a ``reward_function(params)`` file.
    __version__: the package version.
"""

from __future__ import annotations

import sys
import types
from importlib.metadata import PackageNotFoundError, version

# stable-baselines3 imports TensorBoard, and TensorBoard imports TensorFlow whenever it
# is installed (deepracer[car] installs it): 4 s and a screen of log lines in every
# command, only to write event files, which TensorBoard's built-in stand-in does as
# well. A module named tensorboard.compat.notf is TensorBoard's own switch to that
# stand-in; register an empty one, unless TensorFlow is already loaded. The car
# export imports TensorFlow itself, when asked.
if "tensorflow" not in sys.modules:
    sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))

from deepracer.envs import EnvConfig, RacingEnv, _register_envs
from deepracer.rewards import load_reward_function
from deepracer.tracks import get_track

__all__ = ["EnvConfig", "RacingEnv", "__version__", "get_track", "load_reward_function"]

try:
    __version__ = version("deepracer")
except PackageNotFoundError:  # running from a checkout without installing
    __version__ = "0.0.0+unknown"

_register_envs()
