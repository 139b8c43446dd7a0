"""Pass the objects: stay on the road, and out of the lane of the next object ahead.

Idea:
    Two terms. The road term is 1.0 near the centre line and falls off towards the
    borders, as in ``centerline``. The object term looks at the next object ahead
    (``closest_objects[1]``): if the car is in the same lane (the same side of the
    centre line) and closer than ``DANGER_DISTANCE``, the term drops towards 0 the
    closer it gets; in the other lane or far enough away it is 1.0. The object term
    weighs ``OBJECT_WEIGHT`` times the road term, so passing on the free side is what
    pays. A crash or leaving the road gives 1e-3.

When to use it:
    Object avoidance (static boxes) and head-to-bot (bot cars): both fill the same
    object params. With no objects (a time trial) it is the road term alone.

Params read:
    ``all_wheels_on_track``, ``is_offtrack``, ``is_crashed``, ``distance_from_center``,
    ``track_width``, ``x``, ``y``, ``is_left_of_center``, ``closest_objects``,
    ``objects_location``, ``objects_left_of_center``.
"""

import math

# Closer than this [m] to the next object, in its lane, the object term falls.
DANGER_DISTANCE = 1.0

# The object term's weight against the road term's 1.0.
OBJECT_WEIGHT = 2.0


def reward_function(params):
    """Return road term + OBJECT_WEIGHT * object term on the road, else 1e-3."""
    if params["is_offtrack"] or params["is_crashed"] or not params["all_wheels_on_track"]:
        return 1e-3

    # Road term: 1 on the centre line, 0.5 half way to the border, 0.1 at the border.
    half_width = 0.5 * params["track_width"]
    share = min(params["distance_from_center"] / max(half_width, 1e-6), 1.0)
    road = 1.0 - 0.9 * share

    # Object term: only the next object ahead matters, and only in the car's lane.
    avoid = 1.0
    locations = params["objects_location"]
    if locations:
        ahead = params["closest_objects"][1]
        ox, oy = locations[ahead]
        distance = math.hypot(ox - params["x"], oy - params["y"])
        same_lane = params["objects_left_of_center"][ahead] == params["is_left_of_center"]
        if same_lane and distance < DANGER_DISTANCE:
            # 0 touching it, rising linearly to 1 at DANGER_DISTANCE.
            avoid = distance / DANGER_DISTANCE

    return float(max(road + OBJECT_WEIGHT * avoid, 1e-3))
