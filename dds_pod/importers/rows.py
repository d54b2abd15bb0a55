"""Reading platforms' CSV exports row by row, and reporting the rows that cannot be imported.

Real exports are messy: a UTF-8 byte-order mark, ``;`` or ``,`` separators, quoted fields that span
several lines, empty cells, timestamps written three different ways, header variants, HTML and
junk in bodies. The helpers here absorb that once for every CSV importer, so that an importer is
a plain mapping from cells to DDS documents. A record that cannot be mapped raises
:class:`RowError`; :func:`map_rows` turns it into a :class:`RowProblem` naming the file, the line
where the record starts and the reason, and goes on with the next record: one bad row never
costs the others.

Everything per row is plain string work on precompiled patterns: importing 100 000 rows must
take seconds, not minutes.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..sanitize import clean_html, plain_text
from ..vocab import DDS_CONTEXT_IRI
from .common import Settings, slug

# The validator's length limits: a longer value would make the whole document fail later, at the pod.
MAX_TITLE = 500
MAX_CONTENT = 100_000
MAX_SUMMARY = 2_000
MAX_NAME = 300
MAX_IDENTIFIER = 200

SEPARATORS = (";", ",", "\t")
# Large enough for any field the validator would accept (content ≤ 100 000 characters) plus its markup.
FIELD_LIMIT = 16 * 1024 * 1024

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?",
    re.IGNORECASE,
)
# pandas writes time-of-day columns as timedeltas: ``0 days 10:50:19`` (sometimes with microseconds).
_DURATION = re.compile(r"(?:(\d+) days?,?\s+)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?")
_COUNT = re.compile(r"\d+(?:\.0*)?")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_URL_SEPARATORS = re.compile(r"[\s,;]+")
_BLOCK_TAG = re.compile(r"<(?:p|ul|ol|li|h[2-5]|blockquote|pre|table|br)\b", re.IGNORECASE)
_BLANK_LINES = re.compile(r"\n\s*\n")
# What vulnerability scanners post into comment forms: a bare path to a system file, no words around it.
_PROBE = re.compile(
    r"(?:[a-z]:)?[\\/]?(?:\.\.[\\/])*(?:[\w.-]+[\\/])*"
    r"(?:etc[\\/](?:passwd|shadow|hosts)|(?:system|win|boot)\.ini|web\.config|wp-config\.php)\S*"
    r"|(?:\.\.[\\/]){2,}\S*",
    re.IGNORECASE,
)


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


def map_rows(table: Table, mapper: Callable[[Row], object], problems: list[RowProblem]) -> None:
    """Apply ``mapper`` to every row; a :class:`RowError` becomes a problem and the next row goes on."""
    for row in table.rows:
        try:
            mapper(row)
        except RowError as exc:
            problems.append(RowProblem(table.file, row.line, str(exc)))


# ---------------------------------------------------------------------------------------------- values


def timestamp(value: str, time_of_day: str = "", zone: tzinfo = UTC) -> str:
    """An ``xsd:dateTime`` from ``2016-07-29 10:58:41 UTC``, ``2016-07-29T10:58:41+02:00``, or a bare date
    (midnight) plus an optional time of day such as pandas' ``0 days 10:50:19``. A value without an
    offset is read in ``zone``; UTC is written ``Z``."""
    match = _TIMESTAMP.fullmatch(value.strip())
    if not match:
        raise RowError(f"unparseable date {value!r}")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                          _microseconds(fraction), tzinfo=_zone(offset) if offset else zone)
    except ValueError:
        raise RowError(f"impossible date {value!r}") from None
    if time_of_day.strip():
        if hour:
            raise RowError(f"date {value!r} already has a time, and a time of day {time_of_day!r} was given")
        moment += _time_of_day(time_of_day)
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _microseconds(fraction: str | None) -> int:
    return int((fraction or "0")[:6].ljust(6, "0"))


def _zone(offset: str) -> tzinfo:
    if offset.upper() in ("Z", "UTC", "GMT"):
        return UTC
    return datetime.strptime(offset.replace(":", ""), "%z").tzinfo or UTC


def _time_of_day(value: str) -> timedelta:
    match = _DURATION.fullmatch(value.strip())
    if not match:
        raise RowError(f"unparseable time {value!r}")
    days, hours, minutes, seconds, fraction = match.groups()
    if int(minutes) > 59 or int(seconds) > 59:
        raise RowError(f"impossible time {value!r}")
    return timedelta(days=int(days or 0), hours=int(hours), minutes=int(minutes), seconds=int(seconds),
                     microseconds=_microseconds(fraction))


def count(row: Row, column: str) -> int | None:
    """A non-negative counter; an empty cell is unknown (``None``), ``12.0`` (pandas' floats) is 12."""
    value = row.get(column)
    if not value:
        return None
    if not _COUNT.fullmatch(value):
        raise RowError(f"{column} {value!r} is not a non-negative whole number")
    return int(value.split(".", 1)[0])


def amount(row: Row, column: str) -> int | float | None:
    """A non-negative amount of money, as a JSON number (an int when whole, so no float noise)."""
    value = row.get(column)
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise RowError(f"{column} {value!r} is not an amount") from None
    if not number.is_finite() or number < 0:
        raise RowError(f"{column} {value!r} is not a non-negative amount")
    return int(number) if number == number.to_integral_value() else float(number)


def language(value: str, column: str = "locale") -> str:
    if not _LANGUAGE.fullmatch(value):
        raise RowError(f"{column} {value!r} is not a language tag")
    return value


def urls(row: Row, column: str) -> list[str]:
    """The http(s) URLs of a cell that lists them separated by spaces, ``,`` or ``;``."""
    found = [token for token in _URL_SEPARATORS.split(row.get(column)) if token]
    for token in found:
        if not _URL.fullmatch(token):
            raise RowError(f"{column} holds {token!r}, which is not an http(s) URL")
    return found


def url(value: str, column: str) -> str:
    if not _URL.fullmatch(value):
        raise RowError(f"{column} {value!r} is not an http(s) URL")
    return value


def locale_columns(header: Iterable[str], prefix: str) -> dict[str, str]:
    """``{"ca": "title/ca", "es": "title/es"}`` for columns ``title/<language>``, in header order
    (``title/machine_translations/...`` and other sub-keys are not languages and are left out)."""
    found = {}
    for column in header:
        head, _, tail = column.rpartition("/")
        if head == prefix and _LANGUAGE.fullmatch(tail):
            found[tail] = column
    return found


# ---------------------------------------------------------------------------------------------- text


def one_line(value: str) -> str:
    """Plain text for titles and names: tags dropped, entities decoded, whitespace collapsed."""
    if "<" not in value and "&" not in value:
        return " ".join(value.split())
    return " ".join(plain_text(clean_html(value)).split())


def text_html(value: str) -> str:
    """Safe HTML from a body that may be HTML or plain text with line breaks: sanitised, and, when it
    has no block markup of its own, its paragraphs and line breaks kept as ``<p>`` and ``<br>``."""
    safe = clean_html(value)
    if "\n" not in safe or _BLOCK_TAG.search(safe):
        return safe
    paragraphs = (part.strip() for part in _BLANK_LINES.split(safe.replace("\r", "")))
    return "".join(f"<p>{part.replace(chr(10), '<br>')}</p>" for part in paragraphs if part)


def contents(html_by_language: dict[str, str]) -> dict[str, Any]:
    """``content`` and its plain-text twin ``contentText``, for the languages that have any text."""
    content = {lang: value for lang, value in html_by_language.items() if value}
    if not content:
        return {}
    for lang, value in content.items():
        limit(value, MAX_CONTENT, f"content ({lang})")
    return {"content": content, "contentText": {lang: plain_text(value) for lang, value in content.items()}}


def limit(value: str, maximum: int, what: str) -> str:
    if len(value) > maximum:
        raise RowError(f"{what} has {len(value)} characters, more than {maximum}")
    return value


def is_junk(body: str) -> bool:
    """Whether a body is a vulnerability scanner's probe (``../../Windows/system.ini``) rather than words."""
    return bool(_PROBE.fullmatch(html.unescape(body).strip()))


def redact(text: str, name: str, replacement: str) -> str:
    """``text`` with the whole-word occurrences of a person's ``name`` replaced: a signature or a
    self-introduction in a body would undo the pseudonym given to its author."""
    if not name or name not in text:
        return text
    return _name_pattern(name).sub(replacement, text)


@lru_cache(maxsize=4096)
def _name_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")


# ---------------------------------------------------------------------------------------------- agents


class Agents:
    """The people and organisations an import names, one document each.

    People are personal data: unless ``settings.names`` is set, a person becomes a pseudonymous
    agent whose IRI is a keyed hash of the platform's account reference (stable across imports,
    not reversible without the key) and whose name is "Participant xxxx". Only organisations whose
    name the platform publishes as an organisation's (Decidim user groups) keep it.
    """

    def __init__(self, settings: Settings) -> None:
        if not settings.names and settings.pseudonymiser is None:
            raise ValueError("a pseudonymiser is needed to import people without publishing their names")
        self.settings = settings
        self.documents: dict[str, dict[str, Any]] = {}
        self._iris: dict[tuple[str, str], str] = {}

    def person(self, reference: str, name: str = "") -> str:
        return self._agent(reference, "Person", name, public=False)

    def organization(self, reference: str, name: str = "", public: bool = False) -> str:
        return self._agent(reference, "Organization", name, public)

    def label(self, reference: str) -> str:
        """What a pseudonymous agent is called, e.g. to replace its real name in a text."""
        assert self.settings.pseudonymiser is not None
        return self.settings.pseudonymiser.label(self.settings.platform, reference)

    def _agent(self, reference: str, kind: str, name: str, public: bool) -> str:
        known = self._iris.get((kind, reference))
        if known:
            return known
        folder = "people" if kind == "Person" else "organizations"
        document: dict[str, Any] = {"@context": DDS_CONTEXT_IRI, "type": kind}
        if public or self.settings.names:
            document["id"] = f"{self.settings.pod_url}{folder}/{slug(reference)}"
            document["identifier"] = limit(reference, MAX_IDENTIFIER, "reference")
            if name:
                document["name"] = limit(one_line(name), MAX_NAME, "name")
        else:
            assert self.settings.pseudonymiser is not None
            token = self.settings.pseudonymiser.pseudonym(self.settings.platform, reference)
            document["id"] = f"{self.settings.pod_url}{folder}/{token}"
            document["name"] = self.label(reference)
        self._iris[(kind, reference)] = document["id"]
        self.documents[document["id"]] = document
        return document["id"]


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


def map_replies(tables: list[Table], comment, problems: list[RowProblem], documents: dict[str, dict]) -> None:
    """Map comment rows of every file at once, then point each reply at its parent, or at ``fallback``
    when the parent was not imported: a reply may come before its parent, or in another file.

    ``comment(row, table, replies)`` maps one row and appends ``(document, parent IRI, fallback IRI)``.
    """
    replies: list[tuple[dict, str, str]] = []
    for table in tables:
        map_rows(table, lambda row, table=table: comment(row, table, replies), problems)
    for document, parent, fallback in replies:
        document["inReplyTo"] = parent if parent in documents else fallback
