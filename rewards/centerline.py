"""Follow the centre line: the AWS DeepRacer console's default reward function.

Idea:
    Split the track into three bands around the centre line, at 10 %, 25 % and 50 % of
    the track width, and pay more the narrower the band the car is in. Outside the
    widest band the car is at or past the border, so it gets almost nothing.

When to use it:
    As a first model, a baseline to compare other rewards against, or on any track where
    a smooth, central line is good enough. It says nothing about speed, so a model
    trained on it alone tends to drive slowly and safely.

Params read:
    ``track_width``, ``distance_from_center``.

Speed:
    ``reward_function_batch`` is the same reward written with numpy for many cars at
    once; the vectorised environment uses it when a file defines it.
"""


def reward_function(params):
    """Return 1.0, 0.5, 0.1 or 1e-3 for the centre-line band the car is in."""
    # Read input parameters
    track_width = params["track_width"]
    distance_from_center = params["distance_from_center"]

    # Three markers at increasing distances from the centre line. Half the track width
    # is the border itself.
    marker_1 = 0.1 * track_width
    marker_2 = 0.25 * track_width
    marker_3 = 0.5 * track_width

    # Higher reward the closer the car is to the centre line.
    if distance_from_center <= marker_1:
        reward = 1.0
    elif distance_from_center <= marker_2:
        reward = 0.5
    elif distance_from_center <= marker_3:
        reward = 0.1
    else:
        # Likely crashed or close to off track. A tiny positive value rather than zero
        # keeps the reward strictly positive, as the console examples do.
        reward = 1e-3

    return float(reward)


def reward_function_batch(params):
    """The same reward for many cars at once (used by the vectorised environment).

    Every value in ``params`` is an array over the cars; return one reward per car.
    """
    import numpy as np

    track_width = params["track_width"]
    distance = params["distance_from_center"]
    return np.select(
        [
            distance <= 0.1 * track_width,
            distance <= 0.25 * track_width,
            distance <= 0.5 * track_width,
        ],
        [1.0, 0.5, 0.1],
        default=1e-3,
    )
