"""The leaderboard as one self-contained static HTML page (``leaderboard.html``), for a
project site, as MTEB's and BEIR's leaderboards are browsed.

The page is the Markdown leaderboard's blocks (:func:`ltrr.results.leaderboard.sections`),
so both say the same, plus the plots inline as base64 PNG. Nothing is fetched: the CSS and
the small sorting script are inline. Every table sorts by a click on (or Enter in) a column
header: numbers by value (the mean, for a cell with an interval; empty cells last), text
alphabetically; a second click reverses. Written by hand because the one thing needed, a
sortable table without any network request, is twenty lines of script.
"""

from __future__ import annotations

import base64
import html

from ltrr.results.blocks import Block, to_html

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 96em;
       padding: 0 1em; color: #1b1b1b; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 1em 0; font-size: 13px; }
th, td { border-bottom: 1px solid #ddd; padding: .3em .6em; text-align: right;
         white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { cursor: pointer; background: #f3f3f3; user-select: none; }
th[aria-sort=ascending]::after { content: " \\25B2"; }
th[aria-sort=descending]::after { content: " \\25BC"; }
td.best { background: #e6f4e6; }
pre, code { background: #f6f6f6; font-size: 13px; }
pre { padding: .6em; overflow-x: auto; }
figure img { max-width: 100%; }
"""

SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, col) {
    function sort() {
      var up = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var key = function (row) { return row.cells[col].getAttribute("data-value"); };
      var numeric = rows.every(function (r) { var v = key(r); return v === "" || isFinite(v); });
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (x === "" || y === "") { return (x === "") - (y === ""); }
        var d = numeric ? Number(x) - Number(y) : x.localeCompare(y);
        return up ? d : -d;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sort(); } });
  });
});
"""


def html_page(title: str, blocks: list[Block], images: dict[str, bytes]) -> str:
    """The page: ``title``, the leaderboard's ``blocks`` and each PNG in ``images``
    (file name -> bytes) inline, with a caption naming the file."""
    figures = "\n".join(
        f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,'
        f'{base64.b64encode(png).decode("ascii")}"><figcaption>{html.escape(name)}'
        "</figcaption></figure>" for name, png in images.items())
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(title)}</h1>\n{to_html(blocks)}\n{figures}\n"
            "<p>Click a column header to sort by it; click again to reverse.</p>\n"
            f"<script>{SCRIPT}</script>\n</body>\n</html>\n")
