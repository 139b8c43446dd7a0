"""Follow the centre line and penalise hard steering to stop zig-zagging.

Idea:
    Start from the console's centre-line bands (10 %, 25 %, 50 % of the track width
    pay 1.0, 0.5, 0.1; beyond that 1e-3) and multiply by 0.8 whenever the commanded
    steering angle is larger than 15 degrees either way. A car that stays central with
    gentle steering earns more than one that weaves across the centre line.

When to use it:
    When a centre-line model wobbles on straights. Keep the threshold below the largest
    steering angle in the action space, or the penalty never applies; on tracks with
    hairpins a hard penalty can make the car reluctant to turn enough.

Params read:
    ``track_width``, ``distance_from_center``, ``steering_angle``.
"""

# Steering angle in degrees (either direction) above which the reward is reduced.
ABS_STEERING_THRESHOLD = 15.0

# Factor applied to the reward when the car steers harder than the threshold.
STEERING_PENALTY = 0.8


def reward_function(params):
    """Return the centre-line band reward, times 0.8 when steering beyond 15 degrees."""
    # Read input parameters
    distance_from_center = params["distance_from_center"]
    track_width = params["track_width"]
    # Only the magnitude matters: left (+) and right (-) are treated alike.
    abs_steering = abs(params["steering_angle"])

    # Three markers at increasing distances from the centre line.
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
        reward = 1e-3  # likely crashed / close to off track

    # Penalise hard steering: it is what makes a car zig-zag around the centre line.
    if abs_steering > ABS_STEERING_THRESHOLD:
        reward *= STEERING_PENALTY

    return float(reward)
