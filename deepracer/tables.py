"""Tables: plain text for the command line, Markdown for reports.

Contents:
    format_table: align a header and rows into columns.
    markdown_table: a header and rows as a Markdown table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["format_table", "markdown_table"]


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


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Formats a Markdown table: ``| a | b |`` lines under a ``|---|---|`` rule.

    Cells are written with ``str``; a ``|`` in a cell is escaped and a line break
    becomes a space, so no cell can break the table. An empty cell is written ``| |``.

    Args:
        header: The column titles.
        rows: The cells, one sequence per row, as many as ``header``.

    Returns:
        The table's lines joined by newlines, without a final newline.

    Raises:
        ValueError: A row has more or fewer cells than ``header``.
    """

    def line(cells: Sequence[object]) -> str:
        if len(cells) != len(header):
            raise ValueError(f"a row of {len(cells)} cells under {len(header)} columns: {cells!r}")
        text = (str(c).replace("|", "\\|").replace("\n", " ") for c in cells)
        return "|" + "|".join(f" {t} " if t else " " for t in text) + "|"

    return "\n".join([line(header), "|" + "---|" * len(header), *map(line, rows)])
