"""Read tables back out of rendered HTML, so tests compare cells, not substrings."""

from __future__ import annotations

from html.parser import HTMLParser


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[dict[str, str | None], list[list[str]]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append((dict(attrs), []))
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1][1].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str, css_class: str) -> list[list[dict[str, str]]]:
    """Every <table class=css_class> as a list of {header: cell} rows."""
    parser = _Tables()
    parser.feed(html)
    found = []
    for attrs, rows in parser.tables:
        if attrs.get("class") == css_class and rows:
            header, *body = rows
            found.append([dict(zip(header, row, strict=False)) for row in body])
    return found


def table(html: str, css_class: str) -> list[dict[str, str]]:
    """The one <table class=css_class>; fails if there is not exactly one."""
    found = tables(html, css_class)
    assert len(found) == 1, f"expected one table.{css_class}, found {len(found)}"
    return found[0]


def pairs(html: str, css_class: str) -> dict[str, str]:
    """A two-column <table class=css_class> of <th>key</th><td>value</td> rows, as a dict."""
    parser = _Tables()
    parser.feed(html)
    (rows,) = [rows for attrs, rows in parser.tables if attrs.get("class") == css_class]
    return {key: value for key, value in rows}


def tables_by_case(html: str, css_class: str) -> dict[str, list[dict[str, str]]]:
    """The <table class=css_class data-case=NAME> tables, keyed by NAME."""
    parser = _Tables()
    parser.feed(html)
    return {
        str(attrs["data-case"]): [dict(zip(rows[0], row, strict=False)) for row in rows[1:]]
        for attrs, rows in parser.tables
        if attrs.get("class") == css_class and attrs.get("data-case")
    }
