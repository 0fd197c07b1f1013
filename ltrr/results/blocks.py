"""The leaderboard as a document: paragraphs, code lines and tables, rendered as Markdown
(``LEADERBOARD.md``) or as HTML (:mod:`ltrr.results.page`) from the same blocks, so the two
never say different things.

Paragraph text uses one piece of inline markup, ```code```; a table cell carries its
display text, a sort value (numbers sort numerically on the HTML page) and whether it is
the best of its column (bold in both renderings).
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field


@dataclass
class Cell:
    """One table cell: ``text`` as shown, ``value`` to sort by (None: sort by text), ``best``
    when it is the best entry of its column."""

    text: str
    value: float | None = None
    best: bool = False

    @property
    def sort_key(self) -> str:
        """What the HTML page sorts by: the number, or the text (empty for NaN)."""
        if self.value is None:
            return self.text
        return "" if math.isnan(self.value) else repr(float(self.value))


@dataclass
class Table:
    """A table with a ``key`` (its id on the HTML page), a header row and rows of cells."""

    key: str
    header: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


@dataclass
class Paragraph:
    text: str


@dataclass
class Code:
    """Lines shown verbatim (the commands that made the records)."""

    lines: list[str]


Block = Paragraph | Code | Table


def cells(*texts: str) -> list[Cell]:
    """A row of plain-text cells."""
    return [Cell(t) for t in texts]


def to_markdown(title: str, blocks: list[Block]) -> str:
    """The blocks as Markdown: a ``# title``, then each block, separated by blank lines."""
    parts = [f"# {title}"]
    for block in blocks:
        if isinstance(block, Paragraph):
            parts.append(block.text)
        elif isinstance(block, Code):
            parts.append("\n".join(f"    {line}" for line in block.lines))
        else:
            rows = [["**" + c.text + "**" if c.best else c.text for c in row]
                    for row in block.rows]
            parts.append("\n".join(["| " + " | ".join(block.header) + " |",
                                    "|" + "---|" * len(block.header)]
                                   + ["| " + " | ".join(row) + " |" for row in rows]))
    return "\n\n".join(parts) + "\n"


def inline_html(text: str) -> str:
    """A paragraph's text as HTML: escaped, with ```code``` as ``<code>``."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", html.escape(text, quote=False))


def to_html(blocks: list[Block]) -> str:
    """The blocks as HTML elements (tables get ``class="sortable"``, per-cell ``data-value``
    sort keys and a horizontally scrolling frame)."""
    out = []
    for block in blocks:
        if isinstance(block, Paragraph):
            out.append(f"<p>{inline_html(block.text)}</p>")
        elif isinstance(block, Code):
            out.append("<pre>" + html.escape("\n".join(block.lines)) + "</pre>")
        else:
            head = "".join(f'<th scope="col" tabindex="0">{html.escape(h)}</th>'
                           for h in block.header)
            body = []
            for row in block.rows:
                tds = []
                for c in row:
                    text = html.escape(c.text)
                    text = f"<strong>{text}</strong>" if c.best else text
                    klass = ' class="best"' if c.best else ""
                    tds.append(f'<td{klass} data-value="{html.escape(c.sort_key)}">{text}</td>')
                body.append("<tr>" + "".join(tds) + "</tr>")
            out.append(f'<div class="scroll"><table id="{html.escape(block.key)}" '
                       f'class="sortable"><thead><tr>{head}</tr></thead>\n<tbody>\n'
                       + "\n".join(body) + "\n</tbody></table></div>")
    return "\n".join(out)
