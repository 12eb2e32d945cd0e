"""The report as one self-contained HTML page: sections with tables, text and embedded PNGs.

Figures are embedded as base64 ``data:`` URIs, so the page opens from disk, by mail or in a
notebook with no server, no network and no files beside it.
"""

import base64
import html
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple


class Html(str):
    """Markup that is safe to put in the page as it is: made only by ``markup``, ``escape``,
    ``table_html`` and ``image_html``. Every other string reaching the page builder is text
    and is escaped there, so no section can forget to escape a class name, a tag, a file
    name or a config value."""

    __slots__ = ()


def escape(value: object) -> Html:
    """``value`` as page text: ``Html`` unchanged, anything else ``str()``-ed and escaped."""
    return value if isinstance(value, Html) else Html(html.escape(str(value)))


def markup(template: str, *args: object, **kwargs: object) -> Html:
    """``template.format(...)`` with every argument escaped (``Html`` arguments stay as they
    are). ``template`` is the section's own markup, never data; format specs apply first, so
    ``markup("<b>{:.2%}</b>", 0.5)`` works."""
    def safe(value: object) -> object:
        return value if isinstance(value, Html | int | float) else escape(value)

    return Html(template.format(*map(safe, args), **{k: safe(v) for k, v in kwargs.items()}))


def join(parts: Iterable[object], separator: str = "") -> Html:
    """``separator.join`` of the escaped ``parts``."""
    return Html(escape(separator).join(escape(p) for p in parts))


_NUMBER = re.compile(r"[-+]?\d[\d,]*(\.\d+)?(e[-+]?\d+)?%?")
STATUSES = ("shown", "not reached", "switched off", "not applicable")

_STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 1180px; margin: 2em auto;
       padding: 0 1em; color: #222; }
h1 { margin-bottom: 0; } .subtitle { color: #555; margin-top: .2em; }
nav ol { columns: 2; font-size: 14px; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: .6em 0; font-size: 14px; }
td, th { border: 1px solid #ddd; padding: .25em .6em; text-align: left; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; display: block; margin: .8em 0; }
.status { font-size: 13px; padding: .1em .5em; border-radius: .6em; margin-left: .5em;
          vertical-align: middle; background: #eee; color: #555; }
.ok { color: #176b24; } .bad { color: #b00020; font-weight: 600; }
.note { background: #f6f6f6; padding: .6em 1em; border-left: 3px solid #bbb; }
"""


class Section(NamedTuple):
    """One section of the report.

    Attributes:
      id: its anchor and key in ``report.json`` (lowercase, underscores).
      title: its heading.
      status: one of STATUSES; a section that is not "shown" says why in ``body``.
      body: its HTML (``Html``; a plain string is shown as text), above its figures.
      figures: PNG files drawn below the body, in order.
    """

    id: str
    title: str
    status: str
    body: Html
    figures: tuple[Path, ...] = ()


def table_html(header: Sequence[str], rows: Sequence[Sequence[object]]) -> Html:
    """An HTML table; every cell is escaped (pass numbers already formatted)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows)
    return Html(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def _cell(value: object) -> str:
    """A table cell; numbers (1, -0.5, 2.5e-08, 12.26%) are right-aligned."""
    number = _NUMBER.fullmatch(str(value))
    return f'<td{" class=number" if number else ""}>{escape(value)}</td>'


def image_html(path: Path, alt: str) -> Html:
    """An ``<img>`` with the PNG at ``path`` embedded as a base64 data URI."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return Html(f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">')


def page_html(title: str, subtitle: str, sections: Sequence[Section]) -> str:
    """The whole page: a title, a table of contents and every section in order."""
    contents = "".join(
        f'<li><a href="#{escape(s.id)}">{escape(s.title)}</a>'
        + ("" if s.status == "shown" else f" ({escape(s.status)})") + "</li>"
        for s in sections)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>", f'<p class="subtitle">{escape(subtitle)}</p>',
        f"<nav><ol>{contents}</ol></nav>",
    ]
    for s in sections:
        badge = "" if s.status == "shown" else f'<span class="status">{escape(s.status)}</span>'
        parts.append(f'<section id="{escape(s.id)}" data-status="{escape(s.status)}">'
                     f"<h2>{escape(s.title)}{badge}</h2>{escape(s.body)}")
        parts += [image_html(f, f"{s.title}: {f.stem.replace('_', ' ')}") for f in s.figures]
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)
