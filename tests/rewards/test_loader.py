"""Loading and calling user reward functions, with the simapp's checks."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from deepracer.envs import RacingEnv
from deepracer.errors import RewardFunctionError
from deepracer.rewards import RewardFunction, copy_params, load_reward_function

# Written the way the AWS DeepRacer documentation examples are.
DOC_STYLE_REWARDS = {
    "follow_center": """
        def reward_function(params):
            track_width = params['track_width']
            distance_from_center = params['distance_from_center']
            marker_1 = 0.1 * track_width
            marker_2 = 0.25 * track_width
            marker_3 = 0.5 * track_width
            if distance_from_center <= marker_1:
                reward = 1.0
            elif distance_from_center <= marker_2:
                reward = 0.5
            elif distance_from_center <= marker_3:
                reward = 0.1
            else:
                reward = 1e-3
            return float(reward)
    """,
    "stay_inside": """
        def reward_function(params):
            all_wheels_on_track = params['all_wheels_on_track']
            distance_from_center = params['distance_from_center']
            track_width = params['track_width']
            reward = 1e-3
            if all_wheels_on_track and (0.5*track_width - distance_from_center) >= 0.05:
                reward = 1.0
            return float(reward)
    """,
    "steering_penalty": """
        def reward_function(params):
            distance_from_center = params['distance_from_center']
            track_width = params['track_width']
            abs_steering = abs(params['steering_angle'])
            marker_1 = 0.1 * track_width
            marker_2 = 0.25 * track_width
            marker_3 = 0.5 * track_width
            if distance_from_center <= marker_1:
                reward = 1
            elif distance_from_center <= marker_2:
                reward = 0.5
            elif distance_from_center <= marker_3:
                reward = 0.1
            else:
                reward = 1e-3
            ABS_STEERING_THRESHOLD = 15
            if abs_steering > ABS_STEERING_THRESHOLD:
                reward *= 0.8
            return float(reward)
    """,
    "waypoint_direction": """
        import math
        def reward_function(params):
            waypoints = params['waypoints']
            closest_waypoints = params['closest_waypoints']
            heading = params['heading']
            reward = 1.0
            next_point = waypoints[closest_waypoints[1]]
            prev_point = waypoints[closest_waypoints[0]]
            track_direction = math.atan2(
                next_point[1] - prev_point[1], next_point[0] - prev_point[0]
            )
            track_direction = math.degrees(track_direction)
            direction_diff = abs(track_direction - heading)
            if direction_diff > 180:
                direction_diff = 360 - direction_diff
            DIRECTION_THRESHOLD = 10.0
            if direction_diff > DIRECTION_THRESHOLD:
                reward *= 0.5
            return float(reward)
    """,
    "mutating_and_numpy": """
        import numpy as np
        def reward_function(params):
            params['waypoints'].clear()          # users do this; it must not leak
            params['closest_waypoints'][0] = -1
            return np.float64(params['progress'] / 100.0 + 1e-3)
    """,
}


def write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(body))
    return path


@pytest.mark.parametrize("name", sorted(DOC_STYLE_REWARDS))
def test_doc_style_rewards_run_unchanged(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, name, DOC_STYLE_REWARDS[name])
    env = RacingEnv({"world": "kidney", "reward": str(path)})
    env.reset(seed=0)
    rewards = []
    for _ in range(200):
        _, reward, terminated, truncated, info = env.step(5)
        rewards.append(reward)
        assert len(info["params"]["waypoints"]) == env.track.num_waypoints
        assert info["params"]["closest_waypoints"][0] >= 0
        if terminated or truncated:
            env.reset()
    assert all(isinstance(r, float) for r in rewards)
    assert max(rewards) > 0.0


def test_shipped_rewards_load_by_name() -> None:
    for name in ("centerline", "stay_inside_borders", "steering_penalty", "waypoint_direction"):
        reward = load_reward_function(name)
        assert reward.source_text and "def reward_function" in reward.source_text


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ("return float('nan')", "nan"),
        ("return 'fast'", "'fast'"),
        ("return 1e9", "1000000000.0"),
        ("return None", "None"),
        ("return float('inf')", "inf"),
    ],
)
def test_bad_return_values_stop_with_file_step_and_value(
    tmp_path: Path, body: str, shown: str
) -> None:
    path = write(tmp_path, "bad", f"def reward_function(params):\n    {body}\n")
    env = RacingEnv({"world": "oval", "reward": str(path)})
    env.reset(seed=0)
    with pytest.raises(RewardFunctionError) as info:
        env.step(2)
    message = str(info.value)
    assert str(path) in message and "at step 2" in message and shown in message
    assert "finite number in [-1e5, 1e5]" in message


def test_user_exception_keeps_its_traceback(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "raises",
        """
        def helper(params):
            return params['speeed']

        def reward_function(params):
            return helper(params)
        """,
    )
    env = RacingEnv({"world": "oval", "reward": str(path)})
    env.reset(seed=0)
    with pytest.raises(RewardFunctionError) as info:
        env.step(2)
    message = str(info.value)
    assert "KeyError: 'speeed'" in message and "at step 2" in message
    assert "return params['speeed']" in message  # the user's line
    assert isinstance(info.value.__cause__, KeyError)
    assert info.value.__cause__.__traceback__ is not None


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def reward_function(params)\n    return 1.0\n", r":1: syntax error"),
        ("x = 1\n", "defines no function 'reward_function"),
        ("import no_such_module_here\n", "raised ModuleNotFoundError while loading"),
    ],
)
def test_unloadable_files(tmp_path: Path, source: str, message: str) -> None:
    path = tmp_path / "broken.py"
    path.write_text(source)
    with pytest.raises(RewardFunctionError, match=message):
        RewardFunction.from_file(path)


def test_missing_reward_file_suggests_shipped_names() -> None:
    with pytest.raises(RewardFunctionError, match="Did you mean 'centerline'"):
        load_reward_function("centreline")


def test_source_is_copied_atomically(tmp_path: Path) -> None:
    reward = load_reward_function("centerline")
    target = reward.copy_source(tmp_path / "run")
    assert target.read_text() == reward.source_text
    assert [p.name for p in target.parent.iterdir()] == ["reward_function.py"]


def test_copy_params_is_a_deep_copy() -> None:
    params = {"waypoints": [(0.0, 1.0)], "closest_waypoints": [0, 1], "objects_location": [[1, 2]]}
    copy = copy_params(params)
    copy["waypoints"].append((3.0, 4.0))
    copy["closest_waypoints"][0] = 9
    copy["objects_location"][0][0] = 7
    assert params == {
        "waypoints": [(0.0, 1.0)],
        "closest_waypoints": [0, 1],
        "objects_location": [[1, 2]],
    }


# -- rewards that try to end the program ------------------------------------------------


def _write(tmp_path: Path, body: str, name: str = "exits.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body).lstrip())
    return path


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("import sys\nsys.exit(3)\n", r"the reward file called sys\.exit\(3\) while loading"),
        ("raise KeyboardInterrupt\n", r"raised KeyboardInterrupt itself \(not Ctrl-C\) while"),
    ],
)
def test_a_reward_file_that_exits_while_loading_is_an_error(
    tmp_path: Path, body: str, match: str
) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(RewardFunctionError, match=match) as info:
        load_reward_function(path)
    assert str(info.value).startswith(str(path))


@pytest.mark.parametrize(
    ("statement", "match"),
    [
        ("sys.exit()", r"reward_function called sys\.exit\(None\) at step 2"),
        ("sys.exit('done')", r"reward_function called sys\.exit\('done'\) at step 2"),
        ("raise KeyboardInterrupt", r"raised KeyboardInterrupt itself \(not Ctrl-C\) at step 2"),
    ],
)
def test_a_reward_that_exits_in_a_call_is_an_error(
    tmp_path: Path, statement: str, match: str
) -> None:
    path = _write(tmp_path, f"import sys\n\n\ndef reward_function(params):\n    {statement}\n")
    reward = load_reward_function(path)
    with pytest.raises(RewardFunctionError, match=match) as info:
        reward({"steps": 2})
    assert str(info.value).startswith(str(path)) and "line 5" in str(info.value)


def test_a_real_ctrl_c_during_a_reward_call_still_interrupts(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        import os, signal, time


        def reward_function(params):
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the reward runs
            time.sleep(5)
            return 1.0
        """,
    )
    reward = load_reward_function(path)
    with pytest.raises(KeyboardInterrupt):
        reward({"steps": 2})


def test_a_batched_reward_that_exits_is_an_error(tmp_path: Path) -> None:
    from deepracer.envs.vector import RacingVectorEnv

    path = _write(
        tmp_path,
        """
        import sys


        def reward_function(params):
            return 1.0


        def reward_function_batch(params):
            sys.exit(0)
        """,
    )
    env = RacingVectorEnv(2, {"world": "oval", "reward": str(path)})
    env.reset(seed=0)
    with pytest.raises(RewardFunctionError, match="reward_function_batch raised SystemExit"):
        env.step([2, 2])


# -- slow rewards -----------------------------------------------------------------------


def test_a_slow_reward_is_warned_about_once_naming_the_file(tmp_path: Path) -> None:
    from deepracer.rewards.loader import SlowRewardWarning

    path = _write(
        tmp_path,
        "import time\n\n\ndef reward_function(params):\n    time.sleep(0.012)\n    return 1.0\n",
        name="slow.py",
    )
    reward = load_reward_function(path)
    with pytest.warns(SlowRewardWarning) as caught:
        for _ in range(200):
            reward({"steps": 2})
    assert len(caught) == 1
    message = str(caught[0].message)
    assert message.startswith(f"{path}: reward_function takes 1") and "median of 64" in message


def test_a_fast_reward_is_not_warned_about(tmp_path: Path) -> None:
    import warnings

    reward = RewardFunction(lambda params: 1.0, name="fast")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(500):
            reward({"steps": 2})


def test_the_reward_call_in_progress_is_known(tmp_path: Path) -> None:
    from deepracer.rewards.loader import current_reward_call

    seen: list[object] = []
    reward = RewardFunction(lambda params: seen.append(current_reward_call()) or 1.0, name="r")
    assert current_reward_call() is None
    reward({"steps": 2})
    assert current_reward_call() is None
    (call,) = seen
    assert isinstance(call, tuple) and call[0] == "r" and 0 <= call[1] < 1


@pytest.mark.parametrize("value", [-1e5, -99999.5, 0.0, 1e5])
def test_rewards_within_the_simapps_limits_pass(value: float) -> None:
    assert RewardFunction(lambda params: value, name="r")({"steps": 2}) == value


@pytest.mark.parametrize("value", [-1e5 - 0.5, 1e5 + 0.5, -1e9, float("-inf")])
def test_rewards_beyond_the_limits_either_way_are_refused(value: float) -> None:
    with pytest.raises(RewardFunctionError, match=r"expected a finite number in \[-1e5, 1e5\]"):
        RewardFunction(lambda params: value, name="r")({"steps": 2})


# -- what the mutation run asked for ------------------------------------------------------


def test_sigints_are_counted_in_the_main_thread_only_and_never_over_another_handler() -> None:
    import signal
    import threading

    from deepracer.rewards import loader

    previous = signal.getsignal(signal.SIGINT)
    try:

        def mine(signum: int, frame: object) -> None:
            return None

        signal.signal(signal.SIGINT, mine)
        RewardFunction(lambda p: 1.0, name="r")
        assert signal.getsignal(signal.SIGINT) is mine  # the user's handler stays
        assert loader.interrupted_since(loader.sigint_count())  # cannot tell: real
        signal.signal(signal.SIGINT, signal.default_int_handler)
        worker = threading.Thread(target=lambda: RewardFunction(lambda p: 1.0, name="t"))
        worker.start()
        worker.join()
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # not from a thread
        RewardFunction(lambda p: 1.0, name="r")
        assert signal.getsignal(signal.SIGINT) is loader._count_sigint
        before = loader.sigint_count()
        assert not loader.interrupted_since(before)
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
        assert loader.sigint_count() == before + 1 and loader.interrupted_since(before)
        with pytest.raises(KeyboardInterrupt, match=r"^signal 15$"):
            loader.interrupt_by_signal(15, None)
        assert loader.sigint_count() == before + 2
    finally:
        signal.signal(signal.SIGINT, previous)


def test_copies_of_params_share_no_list_or_dict() -> None:
    params = {"steps": 2, "waypoints": [(0.0, 0.0)], "nested": {"a": [1, 2], "b": {"c": 3}}}
    copy = copy_params(params)
    assert copy == params
    copy["waypoints"].append((1.0, 1.0))
    copy["nested"]["a"].append(3)
    copy["nested"]["b"]["c"] = 4
    assert params == {"steps": 2, "waypoints": [(0.0, 0.0)], "nested": {"a": [1, 2], "b": {"c": 3}}}


def test_a_reward_path_that_cannot_be_read_or_imported_says_so(tmp_path: Path) -> None:
    with pytest.raises(RewardFunctionError, match=rf"^{tmp_path}: cannot read reward file \("):
        RewardFunction.from_file(tmp_path)  # a directory
    text = tmp_path / "reward.txt"
    text.write_text("def reward_function(params):\n    return 1.0\n")
    with pytest.raises(RewardFunctionError, match=r"reward\.txt: not a Python file$"):
        RewardFunction.from_file(text)
    nameless = _write(tmp_path, "def reward(params):\n    return 1.0\n", name="nameless.py")
    with pytest.raises(RewardFunctionError) as info:
        load_reward_function(nameless)
    assert str(info.value) == (
        f"{nameless}: defines no function 'reward_function(params)'; DeepRacer calls exactly"
        " that name"
    )
    with pytest.raises(RewardFunctionError, match=r"^inline: no source text to copy \(not"):
        RewardFunction(lambda p: 1.0, name="inline").copy_source(tmp_path)


def test_a_batch_function_is_taken_only_if_callable(tmp_path: Path) -> None:
    odd = _write(
        tmp_path,
        "reward_function_batch = 3\n\n\ndef reward_function(params):\n    return 1.0\n",
        name="odd.py",
    )
    assert load_reward_function(odd).batch_function is None


def test_a_wrong_return_value_names_its_type_and_the_traceback_is_the_users(
    tmp_path: Path,
) -> None:
    with pytest.raises(RewardFunctionError) as info:
        RewardFunction(lambda params: "fast", name="r")({"steps": 7})
    assert str(info.value) == (
        "r: reward_function returned 'fast' (str) at step 7; expected a finite number in"
        " [-1e5, 1e5]"
    )
    nested = _write(
        tmp_path,
        """
        def helper(params):
            return params["no_such_key"]


        def reward_function(params):
            return helper(params)
        """,
        name="nested.py",
    )
    with pytest.raises(RewardFunctionError) as info:
        load_reward_function(nested)({"steps": 2})
    message = str(info.value)
    assert not message.endswith("\n")
    frames = [line for line in message.splitlines() if "File" in line]
    assert len(frames) == 2 and all(line.startswith('  File "') for line in frames)
    assert str(nested) in frames[0] and "in reward_function" in frames[0]
    assert "in helper" in frames[1]


def test_an_error_outside_any_file_shows_the_whole_traceback() -> None:
    with pytest.raises(RewardFunctionError) as info:
        RewardFunction(lambda params: 1 / 0, name="inline")({"steps": 2})
    lines = str(info.value).splitlines()
    assert (
        lines[0] == "inline: reward_function raised ZeroDivisionError: division by zero at step 2"
    )
    assert any("1 / 0" in line for line in lines[1:])  # the frame, though not in a file


class _FakeClock:
    """Reads 0 at the start of each call and ``call_seconds`` at its end."""

    def __init__(self, call_seconds: float) -> None:
        self.readings = 0
        self.call_seconds = call_seconds

    def __call__(self) -> float:
        self.readings += 1
        return 0.0 if self.readings % 2 else self.call_seconds


@pytest.mark.parametrize(("ms", "warned"), [(10.0, False), (16.0, True)])
def test_the_slow_reward_warning_is_exact(
    monkeypatch: pytest.MonkeyPatch, ms: float, warned: bool
) -> None:
    import warnings

    from deepracer.rewards import loader

    monkeypatch.setattr(loader, "_clock", _FakeClock(ms / 1000.0))
    monkeypatch.setattr(loader, "_WARNED", {})

    def timed(params: dict[str, float]) -> float:
        return 1.0

    reward = RewardFunction(timed, name="timed.py")
    again = RewardFunction(timed, name="timed.py")  # a second env loading the same file
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for _ in range(63):
            reward({"steps": 2})
        assert caught == []  # not before 64 calls
        reward({"steps": 2})
        for _ in range(64):
            again({"steps": 2})
    if not warned:  # a median of exactly 10 ms is not "more than 10 ms"
        assert caught == []
        return
    (warning,) = caught  # once for the file, however many envs load it
    assert str(warning.message).startswith(
        "timed.py: reward_function takes 16 ms per call (median of 64 calls), more than 10 ms:"
        " training cannot pass 62 steps/s per car; move work out of the call (compute what"
        " does not depend on params once, at import)"
    )
    # It points at the reward function itself.
    assert (warning.filename, warning.lineno) == ("timed.py", timed.__code__.co_firstlineno)


def test_a_slow_callable_without_code_is_warned_about_at_line_0(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import functools
    import warnings

    from deepracer.rewards import loader

    monkeypatch.setattr(loader, "_clock", _FakeClock(0.016))
    monkeypatch.setattr(loader, "_WARNED", {})
    reward = RewardFunction(functools.partial(lambda params, k: k, k=1.0), name="partial")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(64):
            reward({"steps": 2})
    (warning,) = caught
    assert (warning.filename, warning.lineno) == ("partial", 0)
