"""Make fast progress: reward track covered per step, speed, and finishing the lap.

Idea:
    ``progress / steps`` is the share of the lap the car covers per step, so it is
    larger the fewer steps the car needs. It is scaled so that driving at the target
    pace (a lap in ``TARGET_STEPS`` steps) is worth 1.0. A smaller term rewards the
    commanded speed, ``(speed / MAX_SPEED) ** 2``, which gives a signal from the very
    first steps, before progress has built up. Completing the lap earns a one-off
    bonus. Off the track, the car gets 1e-3 whatever its pace.

When to use it:
    For time trials, once a model can already get round the track (e.g. after
    training on the centre-line reward). Set ``TARGET_STEPS`` to a lap time you want
    to beat, in steps (the simulator runs at about 15 steps a second). The reward
    stays bounded for any ``steps``: at most ``TARGET_STEPS + SPEED_WEIGHT + LAP_BONUS``
    (310.5 with the values below), reached only by a whole lap in one step.

Params read:
    ``all_wheels_on_track``, ``is_offtrack``, ``is_crashed``, ``progress``, ``steps``,
    ``speed``.
"""

# Steps in which we would like to finish a lap: 300 steps is about 20 s at 15 Hz.
# Driving at this pace is worth a pace reward of 1.0; twice as fast is worth 2.0.
TARGET_STEPS = 300.0

# Top speed of the action space in m/s (the console allows up to 4 m/s).
MAX_SPEED = 4.0

# Weight of the speed term relative to the pace term (which is 1.0 at target pace).
SPEED_WEIGHT = 0.5

# One-off bonus for completing the lap (progress reaches 100).
LAP_BONUS = 10.0


def reward_function(params):
    """Return pace + weighted speed (+ lap bonus) on track, else 1e-3."""
    # Read input parameters
    all_wheels_on_track = params["all_wheels_on_track"]
    is_offtrack = params["is_offtrack"]
    is_crashed = params["is_crashed"]
    progress = params["progress"]
    steps = params["steps"]
    speed = params["speed"]

    # Off the track (or crashed) the pace does not count: the episode is over or about
    # to be, and rewarding speed there would teach the car to cut through the grass.
    if is_offtrack or is_crashed or not all_wheels_on_track:
        return 1e-3

    # Guard against steps <= 0 (the console starts at 2, but be safe against a
    # division by zero) and keep progress and speed inside their documented ranges so
    # the reward stays bounded.
    steps = max(steps, 1)
    progress = min(max(progress, 0.0), 100.0)
    speed = min(max(speed, 0.0), MAX_SPEED)

    # Percent of the lap per step, scaled to 1.0 at the target pace. Fewer steps for
    # the same progress means a larger reward.
    pace_reward = (progress / steps) * (TARGET_STEPS / 100.0)

    # Squared so that the difference between fast and very fast is worth more than
    # the difference between slow and a bit less slow.
    speed_reward = (speed / MAX_SPEED) ** 2

    reward = pace_reward + SPEED_WEIGHT * speed_reward

    # Lap complete: a bonus on top, paid on the step that finishes the lap.
    if progress >= 100.0:
        reward += LAP_BONUS

    # Keep the reward strictly positive, like the other samples (at step 2 with the car
    # standing still both terms are 0).
    reward = max(reward, 1e-3)

    return float(reward)
