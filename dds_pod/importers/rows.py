"""Reading platforms' CSV exports into rows, and reporting the rows that cannot be imported.

Real exports are messy: a UTF-8 byte-order mark, ``;`` or ``,`` separators, quoted fields that span
several lines, empty cells, header variants, rows with a stray separator. :func:`read_table` absorbs
that once for every CSV importer, so that an importer is a plain mapping from cells to DDS documents
(the cells' values are parsed by :mod:`.cells`, their texts cleaned by :mod:`.texts`). A record that
cannot be mapped raises :class:`RowError`; :func:`map_rows` turns it into a :class:`RowProblem` naming
the file, the line where the record starts and the reason, and goes on with the next record: one bad
row never costs the others.

Everything per row is plain string work on precompiled patterns: importing 100 000 rows must
take seconds, not minutes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SEPARATORS = (";", ",", "\t")
# Large enough for any field the validator would accept (content ≤ 100 000 characters) plus its markup.
FIELD_LIMIT = 16 * 1024 * 1024


@dataclass(frozen=True)
class RowProblem:
    """A record that was not imported: its file, the 1-based line where it starts, and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class RowError(ValueError):
    """Why one record cannot be mapped; raised by mappers, reported as a :class:`RowProblem`."""


@dataclass(frozen=True, slots=True)
class Row:
    """One record: where it starts in its file, and its cells by (normalised) column name."""

    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        """The cell, stripped; an absent column reads as an empty cell, so header variants need no special case."""
        return self.cells.get(column, "").strip()

    def first(self, *columns: str) -> str:
        """The first non-empty cell among ``columns`` (e.g. ``user_group/name/ca`` then a bare ``user_group/name``)."""
        for column in columns:
            value = self.get(column)
            if value:
                return value
        return ""

    def required(self, column: str) -> str:
        value = self.get(column)
        if not value:
            raise RowError(f"missing {column}: the cell is empty")
        return value

    def number(self, column: str) -> str:
        """A required numeric id: anything else would give the document an unstable or colliding IRI."""
        value = self.required(column)
        if not value.isdigit():
            raise RowError(f"{column} {value!r} is not a number")
        return value


@dataclass
class Table:
    """A CSV file read whole: its header and well-formed rows, and the problems met while reading."""

    file: str
    header: list[str]
    rows: list[Row] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def columns(self) -> set[str]:
        return set(self.header)

    def has(self, *columns: str) -> bool:
        return self.columns.issuperset(columns)


def read_table(path: Path) -> Table:
    """Read a CSV export: the separator is sniffed from the header, a BOM is dropped, every row keeps
    the line it starts on (quoted fields may span lines), and a row with the wrong number of cells
    is reported rather than silently shifted into the wrong columns."""
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Table(name, [], problems=[RowProblem(name, 1, f"cannot read the file ({exc.strerror})")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return Table(name, [], problems=[RowProblem(name, line, f"not UTF-8 text ({exc.reason}), file not read")])
    if csv.field_size_limit() < FIELD_LIMIT:
        csv.field_size_limit(FIELD_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff(text))
    try:
        header = [column.strip().lstrip("\ufeff") for column in next(reader)]
    except StopIteration:
        return Table(name, [], problems=[RowProblem(name, 1, "empty file: no header")])
    except csv.Error as exc:
        return Table(name, [], problems=[RowProblem(name, 1, f"unreadable header ({exc})")])
    table = Table(name, header)
    _read_rows(reader, table)
    return table


def _sniff(text: str) -> str:
    """The separator used most in the header line (``csv.Sniffer`` guesses wrong on long multilingual rows)."""
    first_line = text.split("\n", 1)[0]
    return max(SEPARATORS, key=first_line.count)


def _read_rows(reader: Any, table: Table) -> None:
    positions: dict[str, int] = {}
    for position, column in enumerate(table.header):
        positions.setdefault(column, position)  # a repeated column name keeps its first cell
    width = len(table.header)
    end = reader.line_num
    while True:
        start = end + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # The parser cannot resynchronise after this (e.g. an unterminated quote): stop the file here.
            table.problems.append(RowProblem(table.file, start, f"malformed CSV, file not read further ({exc})"))
            return
        end = reader.line_num
        if not values:
            continue  # a blank line separates nothing
        if len(values) != width:
            # An unclosed quote swallows every following line into one cell: say how far it ran.
            span = f", and the record runs to line {end}" if end > start else ""
            reason = f"expected {width} columns, found {len(values)} (a stray separator or quote?{span})"
            table.problems.append(RowProblem(table.file, start, reason))
            continue
        table.rows.append(Row(start, {column: values[i] for column, i in positions.items()}))


def map_rows(table: Table, mapper: Callable[[Row, Table], object], problems: list[RowProblem]) -> None:
    """Apply ``mapper`` to every row with its table; a :class:`RowError` becomes a problem and the next row goes
    on."""
    for row in table.rows:
        try:
            mapper(row, table)
        except RowError as exc:
            problems.append(RowProblem(table.file, row.line, str(exc)))


def sort_tables(paths: list[Path], kinds: dict[str, tuple[str, ...]], what: str,
                problems: list[RowProblem]) -> dict[str, list[Table]]:
    """Read files and sort them by kind from their header (not their name); an unknown header is one problem."""
    tables: dict[str, list[Table]] = {kind: [] for kind in kinds}
    for path in paths:
        table = read_table(path)
        problems.extend(table.problems)
        kind = next((kind for kind, columns in kinds.items() if table.has(*columns)), None)
        if kind is not None:
            tables[kind].append(table)
        elif table.header:
            wanted = " or ".join(", ".join(columns) for columns in kinds.values())
            problems.append(RowProblem(table.file, 1, f"not {what}: the header lacks {wanted}"))
    return tables

