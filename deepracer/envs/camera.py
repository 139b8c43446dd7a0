"""Camera observations (``FRONT_FACING_CAMERA`` and ``STEREO_CAMERAS``).

Frames come from :mod:`deepracer.rendering.camera`: the world's floor is rasterised
once per (geometry, floor material, scene) and shared, the rays are computed once per
camera mounting, and a frame is one lookup per ray (or one wall intersection). Per
episode, the env's reset hook hands over the world (floor material, scene, part-colour
spread, pixel noise and obstacle type) and the
:class:`~deepracer.envs.view.EpisodeVariation` (lighting and camera jitter); lighting
and part colours become the episode's code -> grey level table. The car's obstacles
and bot cars (``CarView.objects``) are drawn as lit boxes
(:mod:`deepracer.rendering.objects`), under the episode's lighting too.

Contents:
    CameraConfig: resolution, optics, mounting, anti-aliasing, stacking.
    CameraObservation: one front camera, ``Box(0, 255, (H, W, frame_stack), uint8)``.
    StereoCameraObservation: two lenses side by side, ``(H, W, 2 * frame_stack)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from deepracer.config.checks import positive
from deepracer.rendering.camera import (
    GroundRays,
    TrackTexture,
    ground_rays,
    lighting_table,
    postprocess,
    render,
    track_texture,
)
from deepracer.rendering.objects import DEFAULT_SHAPES, ObjectBoxes, object_boxes
from deepracer.rendering.scene import SceneConfig, code_table

if TYPE_CHECKING:
    from deepracer.envs.view import CarView, EpisodeVariation
    from deepracer.envs.world import WorldConfig
    from deepracer.rewards.objects import SceneObject
    from deepracer.tracks import Track

__all__ = ["CameraConfig", "CameraObservation", "StereoCameraObservation"]


@dataclass(frozen=True, kw_only=True)
class CameraConfig:
    """The car's camera, after the simapp's (see the field notes for our choices).

    The mounting defaults come from the simapp's URDF
    (``bundle/urdf/deepracer/deepracer_single_cam.urdf``): ``zed_camera_joint`` sits
    at (0.091711, 0, 0.080023) m on the chassis, pitched ``rpy = (0, 0.2618, 0)``
    (15 degrees nose down), and the lens (``camera_joint``) is (0.044755, 0, 0.04) m
    further in that pitched frame; the chassis is 0.023249 m above ``base_link``
    (the car origin). That puts the lens 0.1453 m ahead of and 0.1303 m above the
    origin; with the wheel centres 0.0390 m above ``base_link`` and a 0.035 m wheel
    radius, the floor is 0.004 m above ``base_link``, so the lens is 0.126 m above
    the floor.
    """

    width: int = field(default=160, metadata={"check": positive})
    """Image width [px] (DeepRacer trains on 160 x 120)."""
    height: int = field(default=120, metadata={"check": positive})
    """Image height [px]."""
    horizontal_fov: float = field(default=1.13, metadata={"check": positive})
    """Horizontal field of view [rad] (the simapp's Gazebo camera)."""
    sensor_aspect: float = field(default=0.75, metadata={"check": positive})
    """Height / width of the simulated sensor [-] (Gazebo's 640 x 480). The image is
    that sensor resized to ``width`` x ``height``, as the simapp resizes to
    160 x 120; another aspect (84 x 84) squashes it like that resize would."""
    mount_height: float = field(default=0.126, metadata={"check": positive})
    """Lens height above the floor [m] (from the URDF, see the class notes)."""
    mount_forward: float = 0.145
    """Lens position ahead of the car origin [m] (from the URDF)."""
    pitch_deg: float = 15.0
    """Downward tilt of the optical axis [deg]: the URDF's 0.2618 rad. In a 120 px
    high image the horizon is row 26 (the upper quarter) and the bottom row sees the
    floor 0.15 m ahead of the lens."""
    stereo_baseline: float = field(default=0.06, metadata={"check": positive})
    """Distance between the two lenses of ``STEREO_CAMERAS`` [m] (URDF: y = +-0.03)."""
    frame_stack: int = field(default=1, metadata={"check": positive})
    """Consecutive frames stacked along the channel axis (DeepRacer uses 1)."""
    supersample: int = field(default=2, metadata={"check": positive})
    """Anti-aliasing: rays per pixel side, averaged (2 = 2 x 2 rays per pixel; the
    simapp's 640 -> 160 resize averages 4 x 4 Gazebo pixels). 1 is ~3x faster but
    far lines and dashes flicker."""
    view_distance: float = field(default=50.0, metadata={"check": positive})
    """Floor farther than this from the lens is not drawn: the ray goes on to the
    walls or the sky [m]."""


_MIN_HEIGHT = 0.01
# A height jitter larger than the mounting height would put the lens under the floor.


@lru_cache(maxsize=64)
def _mounted_rays(
    config: CameraConfig, height: float, pitch_deg: float, lateral: float
) -> GroundRays:
    """Returns the rays of one lens, shared by every observation in the process.

    Bounded because with camera jitter every episode has its own mounting; a ray set
    is 0.5 MB at 160 x 120 with 2 x 2 sub-samples and takes ~3 ms to compute.
    """
    return ground_rays(
        config,
        height=height,
        pitch_rad=math.radians(pitch_deg),
        lateral_offset=lateral,
        supersample=config.supersample,
        max_distance=config.view_distance,
    )


class CameraObservation:
    """``FRONT_FACING_CAMERA``: the grayscale view from the car's lens.

    Observations are ``(height, width, frame_stack)`` uint8, the newest frame last;
    after a reset every slot holds the first frame. Frames are deterministic given
    the pose and the episode; the only randomness is the part colours (once per
    episode, when randomised) and pixel noise, both drawn from the generator the
    reset hook receives.

    Args:
        config: Camera settings (defaults: the simapp's camera).
    """

    lenses: tuple[float, ...] = (0.0,)
    """Lateral offset of each lens from the car's centre line [m], left positive."""

    def __init__(self, config: CameraConfig | None = None) -> None:
        self.config = config or CameraConfig()
        self._material = "base"
        self._scene = SceneConfig()
        self._lighting: NDArray[np.uint8] | None = None
        self._part_colors = 0.0
        self._table: NDArray[np.uint8] | None = None
        self._noise_std = 0.0
        self._rng: np.random.Generator | None = None
        self._rays = self._rays_for(self.config.mount_height, self.config.pitch_deg)
        self._track: Track | None = None
        self._texture: TrackTexture | None = None
        self._stack: NDArray[np.uint8] | None = None
        self._shapes = DEFAULT_SHAPES
        self._objects: tuple[SceneObject, ...] = ()
        self._boxes: ObjectBoxes | None = None

    @property
    def channels(self) -> int:
        """Channels of one time step (one per lens)."""
        return len(self.lenses)

    def space(self) -> gym.spaces.Box:
        """Returns ``Box(0, 255, (height, width, channels * frame_stack), uint8)``."""
        cfg = self.config
        shape = (cfg.height, cfg.width, self.channels * cfg.frame_stack)
        return gym.spaces.Box(0, 255, shape=shape, dtype=np.uint8)

    def reset(
        self,
        world: WorldConfig,
        variation: EpisodeVariation,
        rng: np.random.Generator | None,
    ) -> None:
        """Takes this episode's world, lighting, part colours, camera jitter and noise.

        Args:
            world: The world; its floor material and scene pick the texture, its
                ``randomization`` the part colours' spread and the sensor noise, its
                obstacle settings how obstacles look.
            variation: This episode's lighting factors and camera offsets.
            rng: The generator reserved for the image: part colours (drawn here,
                when randomised) and pixel noise.
        """
        cfg = self.config
        if world.surface.material != self._material or world.scene != self._scene:
            self._material = world.surface.material
            self._scene = world.scene
            self._track = self._texture = None
        height = max(cfg.mount_height + variation.camera_height_offset, _MIN_HEIGHT)
        pitch = cfg.pitch_deg + variation.camera_pitch_offset_deg
        self._rays = self._rays_for(height, pitch)
        self._lighting = lighting_table(variation.brightness, variation.contrast, variation.gamma)
        self._part_colors = world.randomization.part_colors
        self._noise_std = world.randomization.pixel_noise_std
        self._rng = rng
        self._table = None  # made for this episode's texture at the first frame
        self._stack = None
        obstacles = world.obstacles
        if obstacles is None:
            self._shapes = DEFAULT_SHAPES
        else:
            look = "bot_car" if obstacles.is_obstacle_bot_car else obstacles.obstacle_type
            self._shapes = {**DEFAULT_SHAPES, "obstacle": look}
        self._objects, self._boxes = (), None  # lit with this episode's lighting

    def observe(self, car: CarView) -> NDArray[np.uint8]:
        """Renders the car's view; returns the stacked frames (a fresh array)."""
        texture = self._texture_for(car.track)
        if self._table is None:
            self._table = self._episode_table(texture)
        boxes = self._boxes_for(car.objects)
        frames = [
            render(texture, rays, car.origin, car.yaw, self._table, boxes) for rays in self._rays
        ]
        frame = np.stack(frames, axis=-1)  # (H, W, channels)
        frame = postprocess(frame, noise_std=self._noise_std, rng=self._rng)
        stack = self.config.frame_stack
        if stack == 1:
            return frame
        if self._stack is None:
            self._stack = np.tile(frame, (1, 1, stack))
        else:
            c = self.channels
            self._stack[..., :-c] = self._stack[..., c:]
            self._stack[..., -c:] = frame
        return self._stack.copy()

    def _episode_table(self, texture: TrackTexture) -> NDArray[np.uint8]:
        """The code -> grey level table of this episode: part colours, then lighting."""
        colors = texture.colors
        spread = self._part_colors
        if spread > 0.0:
            if self._rng is None:
                raise ValueError("randomised part colours need a random generator")
            colors = colors * (1.0 + spread * self._rng.uniform(-1.0, 1.0, colors.shape))
        if spread == 0.0 and self._lighting is None:
            return texture.table
        return code_table(colors, self._lighting, texture_contrast=texture.texture_contrast)

    def _boxes_for(self, objects: tuple[SceneObject, ...]) -> ObjectBoxes | None:
        # Obstacles stand still through an episode: reuse their boxes while the
        # objects are unchanged; bot cars move, so theirs are made every step.
        if not objects:
            return None
        if objects != self._objects or self._boxes is None:
            self._boxes = object_boxes(
                objects, self._shapes, scene=self._scene, lighting=self._lighting
            )
            self._objects = objects
        return self._boxes

    def _texture_for(self, track: Track) -> TrackTexture:
        # The env hands over one of two Track objects (the driving directions); both
        # give the same texture, so asking the shared cache again is cheap but needs a
        # digest of the waypoints: skip it while the object is unchanged.
        if track is not self._track or self._texture is None:
            self._texture = track_texture(track, self._material, scene=self._scene)
            self._table = None
            self._track = track
        return self._texture

    def _rays_for(self, height: float, pitch_deg: float) -> tuple[GroundRays, ...]:
        return tuple(
            _mounted_rays(self.config, float(height), float(pitch_deg), offset)
            for offset in self.lenses
        )


class StereoCameraObservation(CameraObservation):
    """``STEREO_CAMERAS``: two lenses ``stereo_baseline`` apart, side by side.

    Observations are ``(height, width, 2 * frame_stack)`` uint8: per time step the
    left lens's frame, then the right one's; the newest time step last.

    Args:
        config: Camera settings.
    """

    def __init__(self, config: CameraConfig | None = None) -> None:
        cfg = config or CameraConfig()
        half = 0.5 * cfg.stereo_baseline
        self.lenses = (half, -half)
        super().__init__(cfg)
