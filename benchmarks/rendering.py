"""The renderers' costs, each beside a Pillow baseline drawn in the same process.

Usage: python benchmarks/rendering.py [--repeat N]

* ``texture_build_s``: :meth:`TrackTexture.build` of a 60 m generated track on wood,
  against Pillow filling the same track's road polygon on a canvas of the texture's
  size (``texture_vs_pillow``).
* ``topdown_ms``: one :class:`TopDownRenderer` frame with a 300-point path and the
  camera inset, against Pillow drawing the same path into a frame of the same size
  (``topdown_vs_pillow``).

Targets (ratios, so the machine cancels out): a texture in <= 100 x Pillow's polygon
fill (the texture adds the floor's grain, the lines and the borders; a new world's
first camera frame waits for it), a top-down frame in <= 10 x Pillow's path drawing
(videos render one per step). These replace timed unit tests (1.5 s, 20 ms per
frame). Ends with one ``RESULT`` line.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw

from deepracer.rendering.camera import TrackTexture
from deepracer.rendering.topdown import TopDownRenderer
from deepracer.tracks import Track
from deepracer.tracks.generator import generate_track

TARGETS = {"texture_vs_pillow": 100.0, "topdown_vs_pillow": 10.0}


def best_of(repeat: int, work: Callable[[], object]) -> float:
    """The fastest of ``repeat`` runs of ``work`` [s] (the least disturbed one)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    track = Track.from_array(generate_track(3, length=60.0), name="long")
    texture = TrackTexture.build(track, "wood")
    height, width = texture.shape
    rows = track.waypoints_array
    # The road polygon in texels: the outer border, with the inner one as a hole.
    outer = (rows[:, 4:6] - (texture.x0, texture.y0)) / texture.resolution
    inner = (rows[:, 2:4] - (texture.x0, texture.y0)) / texture.resolution
    rings = [[(float(px), float(py)) for px, py in ring] for ring in (outer, inner)]

    def pillow_road() -> None:
        canvas = Image.new("L", (width, height))
        draw = ImageDraw.Draw(canvas)
        draw.polygon(rings[0], fill=255)
        draw.polygon(rings[1], fill=0)
        np.asarray(canvas)

    results = {
        "texture_build_s": best_of(args.repeat, lambda: TrackTexture.build(track, "wood")),
        "pillow_polygon_s": best_of(args.repeat, pillow_road),
    }
    renderer = TopDownRenderer(track)
    s = np.linspace(0.0, track.length, 300)
    x, y, yaw = track.pose_at_batch(s)
    path = np.stack([x, y], axis=1)
    camera = np.zeros((120, 160, 1), dtype=np.uint8)
    frame = renderer.frame((x[-1], y[-1], yaw[-1]), path, camera)
    points = [(float(px), float(py)) for px, py in path * 20.0 - path.min(0) * 20.0]

    def pillow_path() -> None:
        canvas = Image.fromarray(frame)
        ImageDraw.Draw(canvas).line(points, fill=(255, 0, 0), width=2)
        np.asarray(canvas)

    results["topdown_ms"] = 1e3 * best_of(
        args.repeat, lambda: renderer.frame((x[-1], y[-1], yaw[-1]), path, camera)
    )
    results["pillow_path_ms"] = 1e3 * best_of(args.repeat, pillow_path)
    results["texture_vs_pillow"] = results["texture_build_s"] / results["pillow_polygon_s"]
    results["topdown_vs_pillow"] = results["topdown_ms"] / results["pillow_path_ms"]
    for key, value in results.items():
        target = f"   (target <= {TARGETS[key]:g})" if key in TARGETS else ""
        print(f"{key:>20}: {value:10.4f}{target}")
    print("RESULT " + " ".join(f"{k}={v:.4g}" for k, v in results.items()))


if __name__ == "__main__":
    main()
