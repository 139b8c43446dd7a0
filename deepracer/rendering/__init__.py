"""Rendering: what the car's camera sees.

Contents:
    camera: first-person grayscale frames of a world by inverse perspective
        mapping over its floor, walls and sky
        (:func:`~deepracer.rendering.camera.ground_rays`,
        :class:`~deepracer.rendering.camera.TrackTexture`,
        :func:`~deepracer.rendering.camera.render`,
        :func:`~deepracer.rendering.camera.render_batch`, lighting and noise).
    scene: the world's parts, textures, colours and lights
        (:class:`~deepracer.rendering.scene.SceneConfig`).
"""

from __future__ import annotations

from deepracer.rendering.camera import (
    GroundRays,
    TrackTexture,
    apply_lighting,
    ground_rays,
    lighting_table,
    postprocess,
    render,
    render_batch,
    track_texture,
)

__all__ = [
    "GroundRays",
    "TrackTexture",
    "apply_lighting",
    "ground_rays",
    "lighting_table",
    "postprocess",
    "render",
    "render_batch",
    "track_texture",
]
