"""Stay inside the borders: a flat reward for keeping every wheel on the track.

Idea:
    Pay the same 1.0 anywhere on the track as long as all four wheels are on it and the
    car keeps a small margin from the border; pay almost nothing otherwise. The car is
    free to use the whole width of the track, so it can learn to cut corners and take
    a racing line instead of hugging the centre.

When to use it:
    When the centre-line reward is too restrictive, e.g. on tracks with tight turns
    where the fastest line runs close to the inside edge. It converges more slowly
    than the centre-line reward because it gives no gradient towards the middle.

Params read:
    ``all_wheels_on_track``, ``distance_from_center``, ``track_width``.
"""

# Distance in metres the car's reference point must keep from the border. It gives a
# little slack for the width of the car and for the step-to-step noise in its position.
BORDER_MARGIN = 0.05


def reward_function(params):
    """Return 1.0 while all wheels are on track away from the border, else 1e-3."""
    # Read input parameters
    all_wheels_on_track = params["all_wheels_on_track"]
    distance_from_center = params["distance_from_center"]
    track_width = params["track_width"]

    # A tiny positive default rather than zero, as the console examples do.
    reward = 1e-3

    # Reward only when no wheel is off the track and the car is not grazing the border.
    if all_wheels_on_track and (0.5 * track_width - distance_from_center) >= BORDER_MARGIN:
        reward = 1.0

    return float(reward)
