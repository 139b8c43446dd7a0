"""``deepracer tracks list|show``: every track by name, its figures and a plot.

Contents:
    track_stats: the key figures of one track.
    plot_track: a PNG image of a track.
    add_tracks: register the subcommand.
"""

from __future__ import annotations

import argparse
import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from deepracer.errors import DeepRacerError
from deepracer.tables import format_table
from deepracer.tracks import (
    BUILTIN,
    SHIPPED,
    TRACKS_PATH_ENV,
    Track,
    get_track,
    list_tracks,
    track_search_dirs,
)
from deepracer.tracks.catalog import ROUTES_DIR, console_name

__all__ = ["add_tracks", "plot_track", "track_stats"]


def track_stats(track: Track) -> dict[str, Any]:
    """Returns the key figures of a track.

    Keys: ``length`` [m], ``mean_width`` and ``min_width`` [m], ``direction``
    (``CCW``, ``CW`` or ``open``), ``waypoints``, ``is_loop``, ``bbox``
    (x min, y min, x max, y max over both borders [m]).
    """
    widths = track.widths()
    if track.is_loop:  # the closing row repeats the first one
        widths = widths[:-1]
    rows = track.waypoints_array
    borders = np.vstack([rows[:, 2:4], rows[:, 4:6]])
    lo, hi = borders.min(axis=0), borders.max(axis=0)
    return {
        "length": track.length,
        "mean_width": float(widths.mean()),
        "min_width": float(widths.min()),
        "direction": ("CCW" if track.is_ccw else "CW") if track.is_loop else "open",
        "waypoints": track.num_waypoints,
        "is_loop": track.is_loop,
        "bbox": (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])),
    }


def _search_path_note() -> str:
    dirs = track_search_dirs()
    if not dirs:
        return (
            f"{TRACKS_PATH_ENV} is unset. Your own route files (.npy, N x 6) resolve by name"
            " from the folders it lists, before the shipped ones."
        )
    lines = [f"{TRACKS_PATH_ENV} contains:"]
    for folder in dirs:
        if folder.is_dir():
            count = len(list(folder.glob("*.npy")))
            lines.append(f"  {folder}  ({count} route file{'s' if count != 1 else ''})")
        else:
            lines.append(f"  {folder}  (not a directory)")
    return "\n".join(lines)


def _listing(pattern: re.Pattern[str] | None) -> list[dict[str, Any]]:
    """One entry per resolvable track (figures, or the error that loading gave)."""
    entries: list[dict[str, Any]] = []
    for name, origin in list_tracks().items():
        label = console_name(name)
        if pattern and not (pattern.search(name) or (label and pattern.search(label))):
            continue
        entry: dict[str, Any] = {"name": name, "console_name": label, "origin": origin}
        try:
            stats = track_stats(get_track(name))
        except DeepRacerError as exc:  # one broken file must not hide the others
            entries.append({**entry, "error": str(exc)})
            continue
        del stats["bbox"]
        entries.append({**entry, **stats})
    return entries


def _cmd_tracks_list(args: argparse.Namespace) -> int:
    pattern = None
    if args.grep is not None:
        try:
            pattern = re.compile(args.grep, re.IGNORECASE)
        except re.error as exc:
            raise DeepRacerError(
                f"--grep {args.grep!r}: not a regular expression ({exc})"
            ) from None
    entries = _listing(pattern)
    if args.json:
        print(json.dumps(entries, indent=1))
        return 0
    rows: list[list[str]] = []
    for e in entries:
        origin = e["origin"]
        cells = [e["name"], e["console_name"] or ""]
        if "error" in e:
            rows.append([*cells, "", "", "", "error", "", origin + ": " + e["error"]])
            continue
        rows.append(
            [
                *cells,
                f"{e['length']:.2f}",
                f"{e['mean_width']:.3f}",
                f"{e['min_width']:.3f}",
                e["direction"],
                str(e["waypoints"]),
                origin,
            ]
        )
    header = ["name", "console name", "length [m]", "mean width [m]", "min width [m]"]
    header += ["direction", "waypoints", "origin"]
    print(format_table(header, rows, right={2, 3, 4, 6}))
    print()
    shipped = sum(e["origin"] == SHIPPED for e in entries)
    print(
        f"{len(entries)} tracks: {shipped} shipped AWS DeepRacer route files (licence and"
        f" source: {ROUTES_DIR / 'NOTICE'}), {sum(e['origin'] == BUILTIN for e in entries)}"
        " built-in. Any name is a world: `worlds: [<name>]` in an experiment."
    )
    print("Generated tracks: generated-<seed> (any integer seed).")
    print(_search_path_note())
    return 0


def _zero_length_dropped(name: str, track: Track) -> int | None:
    """Returns how many zero-length centre segments loading dropped, if knowable."""
    path = Path(track.source)
    if path.suffix == ".npy" and path.is_file():
        try:
            raw_rows = len(np.load(path, allow_pickle=False))
        except (OSError, ValueError):
            return None
        return raw_rows - track.num_waypoints
    try:
        return get_track(name, sanitize=False).num_waypoints - track.num_waypoints
    except DeepRacerError:
        return None


def plot_track(track: Track, *, title: str | None = None) -> bytes:
    """Returns a PNG image of ``track``.

    Shows the road (grey between the borders), the dashed centre line, the borders,
    every ~10th waypoint index, the start line and the driving direction.

    Args:
        track: The track, in its driving direction.
        title: The plot title; name, length and mean width by default.
    """
    # Imported here: matplotlib is slow to import and only this command needs it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    from deepracer.tracks.geometry import signed_area

    rows = track.waypoints_array
    centre, inner, outer = rows[:, 0:2], rows[:, 2:4], rows[:, 4:6]
    stats = track_stats(track)
    fig = Figure(figsize=(10, 8), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()

    if track.is_loop:
        # Outer ring with the inner ring as a hole: matplotlib fills by the non-zero
        # winding rule, so the hole must wind the other way round.
        hole = inner if (signed_area(inner) > 0) != (signed_area(outer) > 0) else inner[::-1]
        verts = np.vstack([outer, hole])
        codes = [MplPath.MOVETO] + [MplPath.LINETO] * (len(outer) - 1)
        codes += [MplPath.MOVETO] + [MplPath.LINETO] * (len(hole) - 1)
        road = MplPath(verts, codes)
    else:
        road = MplPath(np.vstack([outer, inner[::-1], outer[:1]]), closed=True)
    ax.add_patch(PathPatch(road, facecolor="0.8", edgecolor="none", zorder=0))
    ax.plot(inner[:, 0], inner[:, 1], color="0.2", lw=1.2, label="inner border")
    ax.plot(outer[:, 0], outer[:, 1], color="0.45", lw=1.2, label="outer border")
    ax.plot(centre[:, 0], centre[:, 1], "--", color="tab:orange", lw=1.0, label="centre line")

    n = track.num_waypoints
    label_every = 10 if n <= 300 else 10 * int(np.ceil(n / 300))  # keep labels legible
    # Near a loop's closing point the labels would overprint 0.
    last = n - 1 - label_every // 2 if track.is_loop else n
    for i in range(0, last, label_every):
        ax.plot(*centre[i], ".", color="tab:blue", ms=4)
        ax.annotate(str(i), centre[i], textcoords="offset points", xytext=(3, 3), fontsize=7)

    ax.plot(
        [inner[0, 0], outer[0, 0]],
        [inner[0, 1], outer[0, 1]],
        color="tab:red",
        lw=2.5,
        label="start line",
    )
    x0, y0, yaw = track.start_pose(0.0)
    span = max(stats["bbox"][2] - stats["bbox"][0], stats["bbox"][3] - stats["bbox"][1])
    arrow = max(0.05 * span, 0.3)
    ax.annotate(
        "",
        xy=(x0 + arrow * np.cos(yaw), y0 + arrow * np.sin(yaw)),
        xytext=(x0, y0),
        arrowprops={"arrowstyle": "-|>", "color": "tab:red", "lw": 2},
    )
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    if title is None:
        title = (
            f"{track.name}{f' - {label}' if (label := console_name(track.name)) else ''}"
            f"{' (reversed)' if track.reverse else ''}\nlength"
            f" {stats['length']:.2f} m, width {stats['mean_width']:.2f} m"
            f" (min {stats['min_width']:.2f} m), {stats['direction']}"
        )
    ax.set_title(title)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _cmd_tracks_show(args: argparse.Namespace) -> int:
    from deepracer.io import atomic_write_bytes

    track = get_track(args.track, reverse=args.reverse)
    stats = track_stats(track)
    dropped = _zero_length_dropped(args.track, track)
    x0, y0, x1, y1 = stats["bbox"]
    lines = [
        ("name", track.name),
        ("console name", console_name(track.name) or "(none)"),
        ("source", track.source),
        ("length", f"{stats['length']:.3f} m"),
        ("width", f"mean {stats['mean_width']:.3f} m, min {stats['min_width']:.3f} m"),
        ("direction", stats["direction"] + (" (reversed)" if track.reverse else "")),
        ("is_loop", str(stats["is_loop"])),
        ("waypoints", str(stats["waypoints"])),
        ("zero-length segments dropped", "unknown" if dropped is None else str(dropped)),
        ("bounding box", f"x [{x0:.3f}, {x1:.3f}] m, y [{y0:.3f}, {y1:.3f}] m"),
    ]
    pad = max(len(key) for key, _ in lines)
    for key, value in lines:
        print(f"{key + ':':<{pad + 1}} {value}")
    out = Path(args.out) if args.out else Path.cwd() / f"{track.name}.png"
    atomic_write_bytes(out, plot_track(track))
    print(f"wrote {out}")
    return 0


def add_tracks(subparsers: Any) -> None:
    """Registers ``deepracer tracks list|show``."""
    tracks = subparsers.add_parser(
        "tracks",
        help="list and inspect tracks",
        description=(
            "List and inspect tracks: the 127 shipped AWS DeepRacer tracks, the built-in"
            f" and generated ones, and route files in the folders of {TRACKS_PATH_ENV}."
        ),
    )
    actions = tracks.add_subparsers(dest="tracks_command", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list",
        help="every track name with console name, length, width, direction, waypoints",
    )
    listing.add_argument(
        "--grep",
        metavar="PATTERN",
        help="only tracks whose name or console name matches (a regular expression, any case)",
    )
    listing.add_argument("--json", action="store_true", help="print a JSON list instead")
    listing.set_defaults(func=_cmd_tracks_list)
    show = actions.add_parser(
        "show",
        help="a track's figures and a PNG plot",
        description="Print a track's figures and write a PNG plot of it.",
    )
    show.add_argument("track", metavar="NAME_OR_PATH", help="track name or .npy route file")
    show.add_argument(
        "--out", metavar="FILE.png", help="where to write the plot (default: ./<name>.png)"
    )
    show.add_argument("--reverse", action="store_true", help="show the reversed direction")
    show.set_defaults(func=_cmd_tracks_show)
