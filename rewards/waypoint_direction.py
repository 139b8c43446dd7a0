"""Point the car along the track: penalise a heading that differs from the centre line's.

Idea:
    The two waypoints around the car (``closest_waypoints``) give the local direction of
    the track. Compare it with the car's heading; if the two differ by more than
    10 degrees, halve the reward. The car learns to keep its nose pointed down the
    track, which makes for smoother driving and helps it set up for turns.

When to use it:
    When a model drives at an angle to the track, oscillates, or turns in late. On its
    own it does not keep the car near the centre, so it is usually combined with a
    centre-line or border term (multiply this reward into theirs).

Params read:
    ``waypoints``, ``closest_waypoints``, ``heading``.
"""

import math

# Largest heading error in degrees that is not penalised.
DIRECTION_THRESHOLD = 10.0


def reward_function(params):
    """Return 1.0 if the car heads along the track (within 10 degrees), else 0.5."""
    # Read input parameters
    waypoints = params["waypoints"]
    closest_waypoints = params["closest_waypoints"]
    heading = params["heading"]

    # Base reward; this sample only scales it by the heading error.
    reward = 1.0

    # The waypoints just behind and just ahead of the car.
    prev_point = waypoints[closest_waypoints[0]]
    next_point = waypoints[closest_waypoints[1]]

    # Direction of the centre line in degrees, in the same frame as `heading`
    # (atan2 returns radians in [-pi, pi]).
    track_direction = math.atan2(next_point[1] - prev_point[1], next_point[0] - prev_point[0])
    track_direction = math.degrees(track_direction)

    # Absolute difference, folded into [0, 180]: 170 and -170 are only 20 degrees
    # apart, not 340. The modulo also copes with angles outside (-180, 180].
    direction_diff = abs(track_direction - heading) % 360.0
    if direction_diff > 180.0:
        direction_diff = 360.0 - direction_diff

    # Penalise the reward if the heading differs too much from the track direction.
    if direction_diff > DIRECTION_THRESHOLD:
        reward *= 0.5

    return float(reward)
