"""Plain-text tables for the command line.

Contents:
    format_table: align a header and rows into columns.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["format_table"]


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    """Formats a plain-text table with a rule under the header.

    Args:
        header: The column titles.
        rows: The cells, one sequence per row, as many as ``header``.
        right: Indices of the columns to right-align (numbers).
    """
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])
