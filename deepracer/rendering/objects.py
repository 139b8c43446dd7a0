"""Obstacles and bot cars as the camera draws them: oriented boxes with lit faces.

Each object is one or more boxes, upright, in the object's frame (x along its heading,
y to its left, z up from its pose height), read from the simapp's models
(``aws-deepracer-community/deepracer-simapp``, ``bundle/``, commit 01f5f015):

* ``box_obstacle``: ``models/box_obstacle/model.sdf``, a 0.4 x 0.3 x 0.25 m box
  centred on the pose, material (0.482, 0.38, 0.309) on every face;
* ``deepracer_box_obstacle``, ``amazon_box_obstacle``: ``models/<type>/model.sdf``
  scales the unit cube of ``meshes/<type>/<type>.dae`` to 0.36 x 0.265 x 0.24 and
  0.4 x 0.3 x 0.25 m; each face has its own texture, drawn as its mean colour;
* ``bot_car``: ``models/bot_car/model.sdf``, the body mesh
  ``meshes/deepracer/car_body_link_v3.STL`` (grey 0.156) as two boxes and the four
  wheel meshes (grey 0.1) as one box each.

Boxes stand on the floor: a part that reaches below it is drawn from the floor up.
Each face is lit like the walls and the floor (:func:`~deepracer.rendering.scene.part_colors`):
the world's lights with Lambert's law at the face's centre, times the scene's
exposure and the face's colour, then BGR2GRAY's weights; the episode's lighting map
applies last.

Contents:
    FACES, TOP, BOTTOM, FRONT, BACK, LEFT, RIGHT: the faces, in the order of a box's
        grey levels.
    BoxPart: one box of a shape, in the object's frame.
    SHAPES: shape name (obstacle types, ``bot_car``) -> its boxes.
    DEFAULT_SHAPES: object kind -> shape name, the simapp's defaults.
    ObjectBoxes: objects as world-frame boxes with a grey level per face.
    object_boxes: places, orients and lights the boxes of scene objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numpy.typing import NDArray

from deepracer.rendering.scene import REINVENT_LIGHTS, Light, SceneConfig, _luma

if TYPE_CHECKING:
    from deepracer.rewards.objects import SceneObject

__all__ = [
    "BACK",
    "BOTTOM",
    "DEFAULT_SHAPES",
    "FACES",
    "FRONT",
    "LEFT",
    "RIGHT",
    "SHAPES",
    "TOP",
    "BoxPart",
    "ObjectBoxes",
    "object_boxes",
]

FloatArray = NDArray[np.float64]
RGB = tuple[float, float, float]

FACES = ("top", "bottom", "front", "back", "left", "right")
"""A box's faces: up, down, +x (ahead), -x, +y (left), -y, in its own frame. The
camera kernel (:func:`deepracer.accel.camera_frames`) uses these indices."""
TOP, BOTTOM, FRONT, BACK, LEFT, RIGHT = range(len(FACES))


class BoxPart(NamedTuple):
    """One upright box of an object's shape, in the object's frame.

    Attributes:
        x: Centre ahead of the object's origin [m].
        y: Centre left of the object's origin [m].
        length: Extent along x [m].
        width: Extent along y [m].
        bottom: Lowest point above the pose height [m] (negative: below it).
        top: Highest point above the pose height [m].
        colors: RGB colour of each face [0-255], in :data:`FACES` order.
    """

    x: float
    y: float
    length: float
    width: float
    bottom: float
    top: float
    colors: tuple[RGB, RGB, RGB, RGB, RGB, RGB]


def _plain(rgb: RGB) -> tuple[RGB, RGB, RGB, RGB, RGB, RGB]:
    """One material colour on every face."""
    return (rgb, rgb, rgb, rgb, rgb, rgb)


def _material(level: float) -> RGB:
    """An sdf material colour (0-1) as RGB 0-255."""
    return (255.0 * level, 255.0 * level, 255.0 * level)


_BROWN = (0.482 * 255.0, 0.38 * 255.0, 0.309 * 255.0)  # box_obstacle's <diffuse>
# The textured boxes: the mean RGB of meshes/<type>/textures/<Face>_Material.jpg
# (decoded with Pillow), per face. The .dae's node matrix turns the cube so that its
# "Right" texture faces +x, "Left" -x, "Back" +y and "Front" -y.
_DEEPRACER_BOX = (
    (35.45, 46.18, 67.38),  # Top
    (25.00, 36.00, 58.00),  # Bottom
    (31.89, 35.66, 67.23),  # Right
    (32.23, 35.72, 67.71),  # Left
    (35.52, 46.25, 67.41),  # Back
    (37.59, 47.20, 66.09),  # Front
)
_AMAZON_BOX = (
    (141.91, 126.57, 101.94),  # Top
    (141.93, 126.58, 101.95),  # Bottom
    (182.84, 162.06, 128.36),  # Right
    (182.86, 162.07, 128.37),  # Left
    (141.91, 126.57, 101.94),  # Back
    (141.91, 126.54, 101.93),  # Front
)
_BODY = _plain(_material(0.156))  # car_body_link_v3_visual's <diffuse>
_WHEEL = _plain(_material(0.1))  # the wheels' <diffuse>


def _wheel(x: float, y: float, z: float, size: tuple[float, float, float]) -> BoxPart:
    """A wheel: the sdf's visual pose and its mesh's bounding box (centred on it)."""
    length, width, height = size
    return BoxPart(x, y, length, width, z - 0.5 * height, z + 0.5 * height, _WHEEL)


SHAPES: dict[str, tuple[BoxPart, ...]] = {
    "box_obstacle": (BoxPart(0.0, 0.0, 0.4, 0.3, -0.125, 0.125, _plain(_BROWN)),),
    "deepracer_box_obstacle": (BoxPart(0.0, 0.0, 0.36, 0.265, -0.12, 0.12, _DEEPRACER_BOX),),
    "amazon_box_obstacle": (BoxPart(0.0, 0.0, 0.4, 0.3, -0.125, 0.125, _AMAZON_BOX),),
    # The body mesh's vertices, moved by its visual pose (-0.0762, 0, 0.01577), span
    # x -0.1584..0.1658, y -0.0939..0.0938, z 0.0164..0.2108 (the camera housing at
    # the front is the top). Split at z = 0.116, the height that makes the two boxes'
    # volume least (0.0094 m^3, against 0.0118 for one box): the lower chassis and
    # shell, and the narrower top.
    "bot_car": (
        BoxPart(0.0037, 0.0, 0.3242, 0.1878, 0.0164, 0.116, _BODY),
        BoxPart(0.03775, 0.0, 0.2481, 0.141, 0.116, 0.2108, _BODY),
        # Wheel meshes' bounding boxes (length, width, height), centred on the mesh
        # origin; the sdf's visual poses place them.
        _wheel(-0.081663, 0.08105, 0.038999, (0.07179, 0.034, 0.072)),
        _wheel(-0.081663, -0.08105, 0.038999, (0.07183, 0.034, 0.07199)),
        _wheel(0.082311, 0.079601, 0.027509, (0.07243, 0.03502, 0.07193)),
        _wheel(0.082311, -0.079601, 0.027509, (0.0719, 0.034, 0.07197)),
    ),
}
"""Each shape's boxes. Obstacle types are the simapp's ``OBSTACLE_TYPE`` values; an
obstacle shown as a car (``IS_OBSTACLE_BOT_CAR``) and every bot car use ``bot_car``."""

DEFAULT_SHAPES: Mapping[str, str] = {"obstacle": "box_obstacle", "bot_car": "bot_car"}
"""Object kind -> shape: the simapp's default obstacle type, and the bot car."""


@dataclass(frozen=True, eq=False)
class ObjectBoxes:
    """Objects as boxes in the world frame, ready for the camera.

    Attributes:
        boxes: (P, 8) float64 per box: centre x, y [m], cosine and sine of its yaw,
            half length (along the yaw) and half width [m], bottom and top height [m].
        levels: (P, 6) int64 grey level of each face, :data:`FACES` order, the
            episode's lighting map applied.
    """

    boxes: FloatArray
    levels: NDArray[np.int64]

    def __post_init__(self) -> None:
        boxes = np.ascontiguousarray(self.boxes, dtype=np.float64)
        levels = np.ascontiguousarray(self.levels, dtype=np.int64)
        if boxes.ndim != 2 or boxes.shape[1] != 8 or levels.shape != (len(boxes), len(FACES)):
            raise ValueError(
                f"boxes must be (P, 8) and levels (P, 6), got {boxes.shape} and {levels.shape}"
            )
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "levels", levels)

    def __len__(self) -> int:
        return int(self.boxes.shape[0])


@lru_cache(maxsize=8)
def _shape_arrays(name: str) -> tuple[FloatArray, FloatArray]:
    """A shape as arrays: (k, 6) x, y, half length, half width, bottom, top; (k, 6, 3) colours."""
    parts = SHAPES[name]
    geometry = np.array([(p.x, p.y, 0.5 * p.length, 0.5 * p.width, p.bottom, p.top) for p in parts])
    colors = np.array([p.colors for p in parts], dtype=np.float64)
    geometry.setflags(write=False)
    colors.setflags(write=False)
    return geometry, colors


# Each face's outward normal in the box's frame, FACES order.
_NORMAL_X = np.array([0.0, 0.0, 1.0, -1.0, 0.0, 0.0])
_NORMAL_Y = np.array([0.0, 0.0, 0.0, 0.0, 1.0, -1.0])
_NORMAL_Z = np.array([1.0, -1.0, 0.0, 0.0, 0.0, 0.0])


AMBIENT = (0.5, 0.5, 0.5)
"""The scene's ambient light (``worlds/reinvent_base.world`` ``<scene><ambient>``)
on the objects' faces (see :func:`object_boxes`)."""


def _lambert(
    light: Light, points: tuple[FloatArray, ...], normals: tuple[FloatArray, ...]
) -> FloatArray:
    """:meth:`Light.shade` of many faces, as x, y, z component arrays: RGB (..., 3)."""
    nx, ny, nz = normals
    if light.kind == "directional":
        tx, ty, tz = (-np.asarray(light.direction, dtype=np.float64)).tolist()
        norm = float(np.linalg.norm(light.direction))
        weight = np.maximum((nx * tx + ny * ty + nz * tz) / norm, 0.0)
    else:
        lx, ly, lz = light.position
        dx, dy, dz = lx - points[0], ly - points[1], lz - points[2]
        distance = np.sqrt(dx * dx + dy * dy + dz * dz)
        constant, linear, quadratic = light.attenuation
        scale = np.where(
            distance > light.range,
            0.0,
            1.0 / (constant + linear * distance + quadratic * distance * distance),
        )
        weight = np.maximum((nx * dx + ny * dy + nz * dz) / distance, 0.0) * scale
    return np.asarray(weight[..., None] * np.asarray(light.diffuse), dtype=np.float64)


def object_boxes(
    objects: Sequence[SceneObject],
    shapes: Mapping[str, str] = DEFAULT_SHAPES,
    *,
    scene: SceneConfig | None = None,
    lighting: NDArray[np.uint8] | None = None,
    lights: tuple[Light, ...] = REINVENT_LIGHTS,
) -> ObjectBoxes:
    """Places, orients and lights the boxes of scene objects.

    Args:
        objects: The objects (``x``, ``y``, ``heading``, ``kind`` and ``z`` are read).
        shapes: Object kind -> a key of :data:`SHAPES`.
        scene: Its exposure scales the light (default: :class:`SceneConfig`'s).
        lighting: The episode's 256-entry grey-level map
            (:func:`~deepracer.rendering.camera.lighting_table`), None for none.
        lights: The world's lights.

    Returns:
        The boxes, each object's in its shape's order, objects in the given order.
    """
    if not objects:
        return ObjectBoxes(np.empty((0, 8)), np.empty((0, 6), dtype=np.int64))
    exposure = (scene or SceneConfig()).exposure
    arrays = [_shape_arrays(shapes[o.kind]) for o in objects]
    if len(arrays) == 1:
        geometry, colors = arrays[0]
    else:
        geometry = np.concatenate([g for g, _ in arrays])
        colors = np.concatenate([c for _, c in arrays])
    owner = np.repeat(np.arange(len(objects)), [len(g) for g, _ in arrays])
    pose = np.array([(o.x, o.y, o.heading, o.z) for o in objects], dtype=np.float64)[owner]
    c, s = np.cos(pose[:, 2]), np.sin(pose[:, 2])
    px, py, hl, hw = geometry[:, 0], geometry[:, 1], geometry[:, 2], geometry[:, 3]
    x = pose[:, 0] + c * px - s * py
    y = pose[:, 1] + s * px + c * py
    bottom = np.maximum(pose[:, 3] + geometry[:, 4], 0.0)  # standing on the floor
    top = pose[:, 3] + geometry[:, 5]
    boxes = np.column_stack([x, y, c, s, hl, hw, bottom, top])

    # (P, 6) face normals and centres, FACES order, the box turned by its yaw.
    c, s = c[:, None], s[:, None]
    nx = c * _NORMAL_X - s * _NORMAL_Y
    ny = s * _NORMAL_X + c * _NORMAL_Y
    nz = np.broadcast_to(_NORMAL_Z, nx.shape)
    reach = hl[:, None] * np.abs(_NORMAL_X) + hw[:, None] * np.abs(_NORMAL_Y)
    fz = np.where(_NORMAL_Z > 0.0, top[:, None], 0.5 * (bottom + top)[:, None])
    fz = np.where(_NORMAL_Z < 0.0, bottom[:, None], fz)
    points = (x[:, None] + nx * reach, y[:, None] + ny * reach, fz)
    normals = (nx, ny, nz)
    light = sum((_lambert(lt, points, normals) for lt in lights), np.zeros_like(colors))
    # The world's ambient light reaches every face too (the models' materials give an
    # ambient colour equal to their diffuse one), so sides away from the sun are not
    # black. The floor's exposure was fitted without it; scaling by up / (up + ambient)
    # keeps a face that looks up, where the floor is, exactly as bright as the floor.
    ups = (np.zeros_like(normals[0]), np.zeros_like(normals[0]), np.ones_like(normals[0]))
    up = sum((_lambert(lt, points, ups) for lt in lights), np.zeros_like(colors))
    ambient = np.asarray(AMBIENT)
    light = (light + ambient) * up / (up + ambient)
    grey = _luma(np.clip(exposure * light * colors, 0.0, 255.0))
    levels = np.clip(np.rint(grey), 0, 255).astype(np.int64)
    if lighting is not None:
        levels = lighting[levels].astype(np.int64)
    return ObjectBoxes(boxes, levels)
