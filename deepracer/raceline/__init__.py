"""Race lines and lap-time bounds for the simulator's car: ``deepracer raceline``.

How good is a lap? :func:`compute_raceline` answers with three numbers for a closed
track, all under exactly the simulator's car limits (top speed, grip ``mu * g``, the
speed lag's acceleration and braking, the steering's minimum radius) and its exact
off-track rule:

* the race line's flying-lap time (and its lap time from a standing start, which is
  how an evaluation trial's first lap is timed);
* the centre line's lap time under the same limits, for comparison;
* a hard lower bound: the shortest path any lap could take, at top speed.

The line is written as CSV (one row per point, the columns of :data:`CSV_COLUMNS`)
that reward functions can read, and drawn as a PNG coloured by speed.

Contents:
    RaceLine: a computed line and its figures.
    compute_raceline: the race line of a track for a car.
    raceline_for_world: the same for a world (its track, surface friction and car).
    CSV_COLUMNS: the columns of the CSV file.
    write_csv, read_csv, plot_raceline: files.
"""

from __future__ import annotations

import csv
import functools
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from deepracer.errors import DeepRacerError
from deepracer.io import atomic_write_bytes, atomic_write_text
from deepracer.physics.profiles import default_vehicle, resolve_vehicle
from deepracer.physics.vehicle import VehicleParams
from deepracer.raceline.profile import CarLimits, closed_profile, curvature, standing_profile
from deepracer.raceline.solver import (
    build_corridor,
    lower_bound_length,
    optimise_line,
    wheels_on_road,
)
from deepracer.tracks import Track

if TYPE_CHECKING:
    from deepracer.envs.world import WorldConfig

__all__ = [
    "CSV_COLUMNS",
    "CarLimits",
    "RaceLine",
    "compute_raceline",
    "plot_raceline",
    "raceline_for_world",
    "read_csv",
    "write_csv",
]

FloatArray = NDArray[np.float64]

CSV_COLUMNS = ("distance", "x", "y", "rear_x", "rear_y", "heading", "speed", "time", "curvature")
"""CSV columns: distance along the line [m]; ``x``, ``y`` the model point (what a
reward function's ``params["x"]``, ``params["y"]`` report) [m]; ``rear_x``,
``rear_y`` the rear axle, the point whose path the line is [m]; heading [deg];
target speed [m/s]; time since the line's first point on a flying lap [s]; path
curvature [1/m], positive turning left."""


@dataclass(frozen=True)
class RaceLine:
    """A race line of a closed track and its lap-time figures.

    Attributes:
        track: Track name.
        limits: The car limits it was computed for.
        rear: (N, 2) rear-axle path [m].
        model_point: (N, 2) the model point along it [m].
        heading: (N,) heading [rad].
        speed: (N,) speed on a flying lap [m/s].
        curvature: (N,) path curvature [1/m].
        lap_time: Flying-lap time of the line [s].
        standing_lap_time: Lap time from standstill at the start line [s].
        centerline_time: Flying-lap time of the (smoothed) centre line [s].
        lower_bound: No lap can be faster [s].
        shortest_length: The lower bound's path length [m].
        candidates: Each candidate's lap time before and after refinement [s].
        margin: Extra distance kept inside the off-track limit [m].
    """

    track: str
    limits: CarLimits
    rear: FloatArray = field(repr=False)
    model_point: FloatArray = field(repr=False)
    heading: FloatArray = field(repr=False)
    speed: FloatArray = field(repr=False)
    curvature: FloatArray = field(repr=False)
    lap_time: float
    standing_lap_time: float
    centerline_time: float
    lower_bound: float
    shortest_length: float
    candidates: dict[str, tuple[float, float]]
    margin: float

    @property
    def length(self) -> float:
        """Length of the rear-axle path [m]."""
        return float(np.linalg.norm(np.roll(self.rear, -1, axis=0) - self.rear, axis=1).sum())

    def summary(self) -> dict[str, object]:
        """The figures as a JSON-ready dict."""
        return {
            "track": self.track,
            "limits": self.limits._asdict(),
            "margin": self.margin,
            "length": round(self.length, 4),
            "lap_time": round(self.lap_time, 4),
            "standing_lap_time": round(self.standing_lap_time, 4),
            "centerline_time": round(self.centerline_time, 4),
            "lower_bound": round(self.lower_bound, 4),
            "shortest_length": round(self.shortest_length, 4),
            "candidates": {k: [round(a, 4), round(b, 4)] for k, (a, b) in self.candidates.items()},
        }


def compute_raceline(
    track: Track,
    limits: CarLimits,
    vehicle: VehicleParams | None = None,
    *,
    dt: float = 1.0 / 15.0,
    margin: float = 0.0,
    spacing: float = 0.05,
    iterations: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> RaceLine:
    """Computes the race line of a closed track.

    Args:
        track: A closed track.
        limits: The car's limits (:meth:`CarLimits.of`).
        vehicle: The car's geometry (default: DeepRacer's).
        dt: The simulator's step [s] (the lower bound allows cutting half a step).
        margin: Keep this much further inside than the off-track rule requires [m].
        spacing: Distance between the line's points [m].
        iterations: L-BFGS-B iterations per candidate (default: the solver's).
        progress: Called with a line of text after each stage.

    Raises:
        TrackError: The track is not closed or no line passes the on-track check.
    """
    vehicle = vehicle or default_vehicle()
    corridor = build_corridor(track, spacing)
    solution = optimise_line(
        track,
        corridor,
        limits,
        vehicle,
        margin=margin,
        iterations=iterations,
        progress=progress,
    )
    rear = corridor.points(solution.alpha)
    assert wheels_on_road(track, rear, vehicle).all()  # optimise_line guarantees it
    kappa, ds = curvature(rear)
    speed, lap_time = closed_profile(kappa, ds, limits)
    # Start the line at the station nearest the start line, where laps are timed.
    start = _start_index(track, rear)
    order = np.roll(np.arange(len(rear)), -start)
    rear, kappa, ds, speed = rear[order], kappa[order], ds[order], speed[order]
    _, standing = standing_profile(kappa, ds, limits)
    ahead = np.roll(rear, -1, axis=0) - np.roll(rear, 1, axis=0)
    heading = np.arctan2(ahead[:, 1], ahead[:, 0])
    forward = vehicle.rear_axle_offset + vehicle.model_point_offset
    model_point = rear + forward * np.stack([np.cos(heading), np.sin(heading)], axis=1)
    centre_kappa, centre_ds = curvature(corridor.center)
    _, centre_time = closed_profile(centre_kappa, centre_ds, limits)
    shortest = lower_bound_length(corridor, vehicle, dt)
    return RaceLine(
        track=track.name,
        limits=limits,
        rear=rear,
        model_point=model_point,
        heading=heading,
        speed=speed,
        curvature=kappa,
        lap_time=lap_time,
        standing_lap_time=standing,
        centerline_time=centre_time,
        lower_bound=shortest / limits.v_max,
        shortest_length=shortest,
        candidates=solution.candidates,
        margin=margin,
    )


def raceline_for_world(
    world: str | Path | WorldConfig,
    *,
    vehicle: VehicleParams | None = None,
    v_max: float | None = None,
    margin: float = 0.0,
) -> RaceLine:
    """The race line of a world's track for a car on the world's surface.

    Results are kept for the life of the process (the line of one track and car is
    always the same), so repeated evaluations pay the optimisation once.

    Args:
        world: World name, YAML path or loaded world.
        vehicle: The car (default: the world's vehicle profile).
        v_max: Top speed if below the car's (an action space's fastest action) [m/s].
        margin: Keep this much further inside than the off-track rule requires [m].
    """
    from deepracer.envs.world import WorldConfig, load_world
    from deepracer.tracks import get_track

    config = world if isinstance(world, WorldConfig) else load_world(world)
    vehicle = vehicle or resolve_vehicle(None, config.vehicle)
    limits = CarLimits.of(vehicle, config.surface.friction, v_max)
    return _cached_line(get_track(config.track), limits, vehicle, margin)


@functools.lru_cache(maxsize=16)
def _cached_line(
    track: Track, limits: CarLimits, vehicle: VehicleParams, margin: float
) -> RaceLine:
    return compute_raceline(track, limits, vehicle, margin=margin)


def _start_index(track: Track, rear: FloatArray) -> int:
    located = track.locate_batch(rear[:, 0], rear[:, 1])
    ndist = np.asarray(located["ndist"])
    return int(np.argmin(np.minimum(ndist, 1.0 - ndist)))


# -- files ------------------------------------------------------------------------------


def write_csv(line: RaceLine, path: Path) -> None:
    """Writes the line as CSV with the columns of :data:`CSV_COLUMNS` (atomically)."""
    seg = np.linalg.norm(np.diff(line.rear, axis=0), axis=1)
    distance = np.concatenate(([0.0], np.cumsum(seg)))
    step_time = 2.0 * seg / (line.speed[:-1] + line.speed[1:])
    time = np.concatenate(([0.0], np.cumsum(step_time)))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for i in range(len(line.rear)):
        writer.writerow(
            [
                f"{distance[i]:.4f}",
                f"{line.model_point[i, 0]:.4f}",
                f"{line.model_point[i, 1]:.4f}",
                f"{line.rear[i, 0]:.4f}",
                f"{line.rear[i, 1]:.4f}",
                f"{math.degrees(line.heading[i]):.3f}",
                f"{line.speed[i]:.4f}",
                f"{time[i]:.4f}",
                f"{line.curvature[i]:.5f}",
            ]
        )
    atomic_write_text(path, buffer.getvalue())


def read_csv(path: str | Path) -> dict[str, FloatArray]:
    """Reads a race-line CSV into one array per column (names lower-cased).

    Any CSV whose header names ``x`` and ``y`` will do (other tools' race lines too);
    blank lines and ``#`` comment lines are skipped.

    Raises:
        DeepRacerError: The file is missing, lacks ``x``/``y`` columns, holds a value
            that is not a number (the message names the line) or fewer than 2 points.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DeepRacerError(f"{path}: cannot read the race line ({exc.strerror})") from None
    rows = [
        (number, row)
        for number, row in enumerate(csv.reader(io.StringIO(text)), start=1)
        if row and "".join(row).strip() and not row[0].lstrip().startswith("#")
    ]
    header = [name.strip().lower() for name in rows[0][1]] if rows else []
    if not {"x", "y"} <= set(header):
        raise DeepRacerError(f"{path}: expected a header row naming the columns x and y")
    columns: dict[str, list[float]] = {name: [] for name in header}
    for number, row in rows[1:]:
        if len(row) != len(header):
            raise DeepRacerError(f"{path}:{number}: expected {len(header)} values, got {len(row)}")
        for name, value in zip(header, row, strict=True):
            try:
                columns[name].append(float(value))
            except ValueError:
                raise DeepRacerError(
                    f"{path}:{number}: column {name!r} expected a number, got {value!r}"
                ) from None
    if len(columns["x"]) < 2:
        raise DeepRacerError(f"{path}: the race line has fewer than 2 points")
    return {name: np.array(values) for name, values in columns.items()}


def plot_raceline(line: RaceLine, track: Track, path: Path) -> None:
    """Draws the track and the line coloured by speed into a PNG (atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    fig, ax = plt.subplots(figsize=(9, 6), dpi=110)
    for border in (track.inner.points, track.outer.points):
        ax.plot(border[:, 0], border[:, 1], color="0.25", linewidth=1.2)
    centre = track.center.points
    ax.plot(centre[:, 0], centre[:, 1], color="0.6", linewidth=0.8, linestyle="--")
    points = np.vstack([line.model_point, line.model_point[:1]])
    segments = np.stack([points[:-1], points[1:]], axis=1)
    collection = LineCollection(list(segments), cmap="plasma", linewidths=2.5)
    collection.set_array(line.speed)
    collection.set_clim(0.0, line.limits.v_max)
    ax.add_collection(collection)
    fig.colorbar(collection, ax=ax, label="speed on the line [m/s]")
    ax.plot(*line.model_point[0], marker="o", color="green", markersize=7)
    ax.set_aspect("equal")
    ax.set_title(
        f"{line.track}: race line {line.lap_time:.2f} s (standing start"
        f" {line.standing_lap_time:.2f} s), centre line {line.centerline_time:.2f} s,"
        f" bound {line.lower_bound:.2f} s",
        fontsize=9,
    )
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())
