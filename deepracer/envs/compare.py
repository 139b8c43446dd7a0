"""How close our camera is to the real simulator's: a real frame against our render.

A frame of the DeepRacer simulator's camera (Gazebo, 640 x 480 BGR) becomes the
car's model input as the car's ``image_process`` makes it: ``cv2.resize`` to
160 x 120 (OpenCV's default, bilinear), then ``cv2.cvtColor(BGR2GRAY)``. Our camera
renders that input directly. The pose a real frame was taken from is unknown, so
:func:`search_pose` looks for the pose whose render matches best: a grid over the
track, then a shrinking-grid search around the best few.

The renders come through the public camera observation (``CameraObservation``) with
neutral lighting and no noise, so this keeps working whatever the renderer draws.
OpenCV and scikit-image are optional: ``pip install 'deepracer[camera]'``.

Contents:
    Match: mean absolute grey-level error and SSIM of two frames.
    PoseMatch: the best pose found for a frame, its scores and its render.
    PoseCamera: our camera on one world, rendering any pose.
    real_frame: a BGR image file as the car's model sees it (120 x 160 grey).
    render_pose: our camera's frame at a car pose (no randomisation, no noise).
    match: scores a frame against a render.
    search_pose: the car pose whose render best matches a frame.
    side_by_side: a PNG of real | render | difference.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from deepracer.envs.camera import CameraConfig, CameraObservation
from deepracer.envs.view import CarView, EpisodeVariation
from deepracer.envs.world import RandomizationConfig, WorldConfig, load_world
from deepracer.errors import DeepRacerError
from deepracer.io import atomic_write_bytes
from deepracer.physics import car_points
from deepracer.physics.profiles import resolve_vehicle
from deepracer.tracks import Track, get_track

__all__ = [
    "Match",
    "PoseCamera",
    "PoseMatch",
    "match",
    "real_frame",
    "render_pose",
    "search_pose",
    "side_by_side",
]

_CAR_INPUT = (160, 120)  # [px] width and height the car resizes its camera frame to

_INSTALL_HINT = "pip install 'deepracer[camera]' (opencv-python-headless, scikit-image)"
_UPSCALE = 3
_LABEL_ROW = 24  # [px] height of the text row above the panels


@dataclass(frozen=True, slots=True)
class Match:
    """How alike two grey frames are.

    Attributes:
        mae: Mean absolute difference [grey levels of 255]; 0 is identical.
        ssim: Structural similarity (scikit-image, data range 255) [-]; 1 is identical.
    """

    mae: float
    ssim: float


@dataclass(frozen=True, slots=True, eq=False)
class PoseMatch:
    """The car pose whose render best matches a frame.

    Attributes:
        x: Car origin x [m].
        y: Car origin y [m].
        yaw: Heading [rad], in (-pi, pi].
        mae: Mean absolute grey-level error of the render at this pose.
        ssim: SSIM of the render at this pose.
        render: Our camera's frame at this pose, (H, W) uint8.
    """

    x: float
    y: float
    yaw: float
    mae: float
    ssim: float
    render: NDArray[np.uint8]


def _cv2() -> Any:
    try:
        import cv2
    except ImportError:
        raise DeepRacerError(f"camera frames need OpenCV: {_INSTALL_HINT}") from None
    return cv2


def real_frame(path: str | Path) -> NDArray[np.uint8]:
    """Reads a camera frame as the car's model sees it: 120 x 160 grey, raw 0-255.

    The image (BGR, any size) is resized to 160 x 120 with OpenCV's default
    interpolation and converted to grey, as the car's ``image_process`` does. An
    alpha channel (the reference PNGs have one) is dropped: the camera has none.

    Args:
        path: An 8-bit BGR or BGRA image file (PNG, JPEG, ...).

    Raises:
        DeepRacerError: The file is missing, is not an image OpenCV reads, or is not
            an 8-bit colour image.
    """
    cv2 = _cv2()
    path = Path(path)
    if not path.is_file():
        raise DeepRacerError(f"{path}: no such file")
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise DeepRacerError(f"{path}: not an image file OpenCV can read")
    channels = 1 if image.ndim == 2 else image.shape[2]
    if image.dtype != np.uint8 or channels not in (3, 4):
        raise DeepRacerError(
            f"{path}: a camera frame is 8-bit BGR (3 channels), this image has"
            f" {channels} channel(s) of {image.dtype}"
        )
    small = cv2.resize(image[..., :3], _CAR_INPUT)
    return np.asarray(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), dtype=np.uint8)


class PoseCamera:
    """Our camera on one world, with neutral lighting and no noise.

    Args:
        world: A world, or a name or path for :func:`load_world`.
        camera: Camera settings (default: the simapp's camera).
    """

    def __init__(self, world: WorldConfig | str | Path, camera: CameraConfig | None) -> None:
        config = world if isinstance(world, WorldConfig) else load_world(world)
        # The default randomisation is off and noise-free: one pose, one picture.
        config = replace(config, randomization=RandomizationConfig())
        self.track = get_track(
            config.track, sanitize=not config.legacy_waypoints, reverse=config.reverse
        )
        self.vehicle = resolve_vehicle(None, config.vehicle)
        # One frame per observation: a stack would only repeat it.
        self.observation = CameraObservation(replace(camera or CameraConfig(), frame_stack=1))
        self.observation.reset(config, EpisodeVariation(friction=config.surface.friction), None)

    def render(
        self, x: float, y: float, yaw: float, *, model_point: bool = False
    ) -> NDArray[np.uint8]:
        """Returns the frame (H, W) at a car pose.

        Args:
            x: Car origin x [m], or the model point's (a simtrace's ``X``).
            y: Car origin y [m], or the model point's (a simtrace's ``Y``).
            yaw: Heading [rad].
            model_point: (x, y) is the model point (the reward's ``x``, ``y``).
        """
        # CarView wants the rear axle, the origin and the model point: place them from
        # the given point as the car's geometry does.
        (ox, oy), (mx, my), _ = car_points(0.0, 0.0, yaw, self.vehicle)
        rear = (x - mx, y - my) if model_point else (x - ox, y - oy)
        view = CarView(
            track=self.track,
            x=rear[0],
            y=rear[1],
            yaw=yaw,
            speed=0.0,
            steering=0.0,
            steering_cmd=0.0,
            origin=(rear[0] + ox, rear[1] + oy),
            where=self.track.locate((rear[0] + mx, rear[1] + my)),
            vehicle=self.vehicle,
        )
        return np.ascontiguousarray(self.observation.observe(view)[..., -1])


def render_pose(
    world: WorldConfig | str | Path,
    x: float,
    y: float,
    yaw: float,
    *,
    camera: CameraConfig | None = None,
) -> NDArray[np.uint8]:
    """Returns our camera's frame at a car pose, without randomisation or noise.

    Args:
        world: A world, or a name or path for :func:`~deepracer.envs.world.load_world`.
        x: Car origin x [m].
        y: Car origin y [m].
        yaw: Heading [rad].
        camera: Camera settings (default: the simapp's camera, 160 x 120).

    Returns:
        The grey frame, (height, width) uint8.
    """
    return PoseCamera(world, camera).render(x, y, yaw)


def _check_pair(frame: NDArray[np.uint8], render: NDArray[np.uint8]) -> None:
    if frame.ndim != 2 or frame.shape != render.shape:
        raise DeepRacerError(
            f"frames to compare must be grey and the same size, got {frame.shape}"
            f" and {render.shape}"
        )


def _mae(frame: NDArray[np.uint8], render: NDArray[np.uint8]) -> float:
    return float(np.abs(frame.astype(np.int16) - render.astype(np.int16)).mean())


def match(frame: NDArray[np.uint8], render: NDArray[np.uint8]) -> Match:
    """Scores a frame against a render of the same size.

    Args:
        frame: The reference frame, (H, W) uint8.
        render: Our frame, (H, W) uint8.

    Raises:
        DeepRacerError: The frames differ in shape, or scikit-image is missing.
    """
    _check_pair(frame, render)
    try:
        from skimage import metrics
    except ImportError:
        raise DeepRacerError(f"SSIM needs scikit-image: {_INSTALL_HINT}") from None
    similarity: Any = metrics.structural_similarity  # partial annotations: untyped
    ssim = similarity(frame, render, data_range=255)
    return Match(mae=_mae(frame, render), ssim=float(ssim))


def _offsets(half: float, step: float) -> NDArray[np.float64]:
    """Returns ``k * step`` for every integer k with ``|k * step| <= half``."""
    n = math.floor(half / step + 1e-9)
    return step * np.arange(-n, n + 1, dtype=np.float64)


def _grid(
    track: Track, station_step: float, lateral_step: float, heading_step: float, spread: float
) -> Iterator[tuple[float, float, float]]:
    """Yields the coarse poses: stations x lateral offsets x headings, both ways."""
    end = track.length if track.is_loop else track.length + 0.5 * station_step
    s = np.arange(0.0, end, station_step)
    cx, cy, heading = track.pose_at_batch(s)
    # A bit beyond the borders: a car off the road still sees it.
    half = 0.5 * float(track.widths().max()) + 0.25
    laterals = _offsets(half, lateral_step)
    turns = _offsets(spread, heading_step)
    for x0, y0, h in zip(cx.tolist(), cy.tolist(), heading.tolist(), strict=True):
        nx, ny = -math.sin(h), math.cos(h)  # left of the centre line
        for d in laterals.tolist():
            for base in (h, h + math.pi):
                for turn in turns.tolist():
                    yield x0 + d * nx, y0 + d * ny, base + turn


# The 26 neighbours of a pose on a grid of (x, y, yaw) steps, and the pose itself.
_MOVES = np.array(
    [(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)], dtype=np.float64
)
_FINEST_STEP = 0.002  # [m] the search stops below this grid spacing


def search_pose(
    frame: NDArray[np.uint8],
    world: WorldConfig | str | Path,
    *,
    camera: CameraConfig | None = None,
    station_step: float = 0.1,
    lateral_step: float = 0.1,
    heading_step_deg: float = 5.0,
    max_heading_deg: float = 45.0,
    beam: int = 300,
) -> PoseMatch:
    """Finds the car pose whose render best matches ``frame`` (lowest MAE).

    A coarse grid first: stations every ``station_step`` along the centre line,
    lateral offsets across the road and 0.25 m beyond each border, headings within
    ``max_heading_deg`` of the centre line's direction and of the reverse. Then a
    coarse-to-fine beam: the ``beam`` best poses, each with its 26 neighbours on a
    grid of half the spacing, the best half as many of those with theirs, and so on
    down to 2 mm. The error's basin around the true pose is only a few cm and
    degrees wide, so the beam keeps many grid poses that may lie near it.
    Deterministic: the same inputs give the same pose.

    Args:
        frame: The frame to match, (H, W) uint8 (see :func:`real_frame`).
        world: A world, or a name or path for :func:`~deepracer.envs.world.load_world`.
        camera: Camera settings (default: the simapp's camera, 160 x 120).
        station_step: Grid spacing along the centre line [m].
        lateral_step: Grid spacing across the road [m].
        heading_step_deg: Grid spacing of headings [deg].
        max_heading_deg: Largest heading off the centre line's direction [deg].
        beam: Grid poses refined (the first level of the beam).

    Raises:
        DeepRacerError: A step is not positive, or ``frame`` is not the camera's size.
    """
    for name, value in (
        ("station_step", station_step),
        ("lateral_step", lateral_step),
        ("heading_step_deg", heading_step_deg),
        ("beam", beam),
    ):
        if not value > 0:
            raise DeepRacerError(f"{name} must be > 0, got {value}")
    if not max_heading_deg >= 0:
        raise DeepRacerError(f"max_heading_deg must be >= 0, got {max_heading_deg}")
    cam = PoseCamera(world, camera)
    target = frame.astype(np.int16)
    scored: dict[tuple[float, float, float], float] = {}

    def score(pose: NDArray[np.float64]) -> float:
        key = (round(float(pose[0]), 6), round(float(pose[1]), 6), round(float(pose[2]), 8))
        if key not in scored:
            render = cam.render(*key)
            _check_pair(frame, render)
            scored[key] = float(np.abs(render.astype(np.int16) - target).mean())
        return scored[key]

    heading_step = math.radians(heading_step_deg)
    grid = _grid(cam.track, station_step, lateral_step, heading_step, math.radians(max_heading_deg))
    poses = np.array(list(grid), dtype=np.float64)
    scores = np.array([score(pose) for pose in poses])
    reach = max(station_step, lateral_step)  # neighbours step in x and y, not along the track
    steps = np.array([reach, reach, heading_step])
    width = beam
    while steps[0] >= _FINEST_STEP:
        keep = np.argsort(scores, kind="stable")[:width]
        steps = 0.5 * steps
        near = poses[keep, None, :] + _MOVES[None, :, :] * steps
        poses = np.unique(near.reshape(-1, 3), axis=0)  # sorted: the order is deterministic
        scores = np.array([score(pose) for pose in poses])
        width = max(width // 2, 4)
    best = int(np.argmin(scores))
    x, y, yaw = (float(v) for v in poses[best])
    yaw = math.remainder(yaw, math.tau)
    render = cam.render(x, y, yaw)
    result = match(frame, render)
    return PoseMatch(x=x, y=y, yaw=yaw, mae=result.mae, ssim=result.ssim, render=render)


def side_by_side(frame: NDArray[np.uint8], render: NDArray[np.uint8], path: str | Path) -> Path:
    """Writes a PNG of real | render | ``|real - render|``, each 3x, with labels above.

    Args:
        frame: The reference frame, (H, W) uint8.
        render: Our frame, (H, W) uint8.
        path: The PNG to write (atomically); its folder must exist.

    Returns:
        ``path`` as a Path.

    Raises:
        DeepRacerError: The frames differ in shape, or OpenCV is missing.
    """
    cv2 = _cv2()
    _check_pair(frame, render)
    diff = np.abs(frame.astype(np.int16) - render.astype(np.int16)).astype(np.uint8)
    panels = np.hstack([frame, render, diff])
    big = cv2.resize(panels, None, fx=_UPSCALE, fy=_UPSCALE, interpolation=cv2.INTER_NEAREST)
    labels = np.zeros((_LABEL_ROW, big.shape[1]), dtype=np.uint8)
    panel_width = frame.shape[1] * _UPSCALE
    texts = ("real (car input)", "our render", f"|difference|  MAE {_mae(frame, render):.1f}")
    for i, text in enumerate(texts):
        cv2.putText(labels, text, (i * panel_width + 6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1)
    ok, encoded = cv2.imencode(".png", np.vstack([labels, big]))
    if not ok:
        raise DeepRacerError(f"{path}: OpenCV could not encode the PNG")
    out = Path(path)
    atomic_write_bytes(out, encoded.tobytes())
    return out
