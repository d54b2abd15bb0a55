"""How the records of an import refer to each other across rows and files: an IRI is claimed by one record
only, and a reply finds its parent once every file has been mapped."""

from __future__ import annotations

from collections.abc import Callable

from .rows import Row, RowError, RowProblem, Table, map_rows

Reply = tuple[dict, str, str]  # a reply's document, its parent's IRI, and the IRI to point at without the parent


class Claims:
    """The IRIs already produced, with the line of their first record: a repeated id is a problem, not
    a silent overwrite of the first record."""

    def __init__(self) -> None:
        self._lines: dict[str, tuple[str, int]] = {}

    def check(self, iri: str, what: str) -> None:
        first = self._lines.get(iri)
        if first:
            raise RowError(f"duplicate {what} (first at {first[0]}:{first[1]})")

    def claim(self, iri: str, table: Table, row: Row) -> None:
        self._lines.setdefault(iri, (table.file, row.line))


def map_replies(tables: list[Table], comment: Callable[[Row, Table, list[Reply]], None], problems: list[RowProblem],
                documents: dict[str, dict]) -> None:
    """Map comment rows of every file at once, then point each reply at its parent, or at ``fallback``
    when the parent was not imported: a reply may come before its parent, or in another file.

    ``comment(row, table, replies)`` maps one row and appends ``(document, parent IRI, fallback IRI)``.
    """
    replies: list[Reply] = []
    for table in tables:
        map_rows(table, lambda row, table: comment(row, table, replies), problems)
    for document, parent, fallback in replies:
        document["inReplyTo"] = parent if parent in documents else fallback
