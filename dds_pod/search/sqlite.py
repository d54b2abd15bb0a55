"""The embedded search backend: SQLite FTS5 (the standard library's sqlite3), in one file or in memory.

One FTS5 row per contribution holds its titles and bodies in every language, and beside them the Snowball
stems of their words (``words.py``), so a query matches a word's exact form (accents ignored: unicode61 with
``remove_diacritics 2``) or any of its forms. The facet fields live in ordinary tables, counted with
``GROUP BY``; relevance is FTS5's bm25, titles weighing more than bodies and exact forms more than stems.

The reader's text never reaches FTS5 as syntax: the backend cuts it into words itself and quotes each one.

Concurrency: a file index is read through one connection per thread (WAL: readers never wait for the writer)
and written under one lock; an in-memory index is one connection, used under the lock.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from . import FACETS, Hit, IndexDocument, LocalizedText, SearchQuery, SearchResult, register, utc_instant
from .bitsets import GROUPED, Counts, FacetBitsets, GroupCache, WordMatch, bitset, counted, ids, members, union
from .words import query_terms, stem_languages, stemmed_text, stems

PREFIX_MIN_CHARS = 4  # shorter words as prefixes would match too much
STORED_BODY_CHARS = 2000  # of each body, kept to show an excerpt (the full text is searched, not stored twice)
FACET_VALUES = 100  # values listed per facet, most frequent first
MAX_WALKED_ROWS = 20_000  # rows read in a column's order for one page of results, at most (expected)
MAX_LOOKED_UP = 20_000  # documents on the edge of a date range or box checked one by one, at most
# bm25 weights of the FTS5 columns, in their order: exact title, exact body, stemmed title, stemmed body.
WEIGHTS = (8.0, 1.0, 4.0, 0.5)
FIELDS = {"title": ("title", "title_stems"), "body": ("body", "body_stems")}

# An index written by another version of this schema is dropped and built again (it is derived data).
SCHEMA_VERSION = 3
TABLES = ("texts", "doc_texts", "doc_topics", "doc_languages", "docs", "generation", "changes")
# Every write bumps the generation and notes the documents it changed (kept for LOGGED_GENERATIONS at most).
LOGGED_GENERATIONS = 2000
SCHEMA = """
CREATE TABLE IF NOT EXISTS generation (n INTEGER NOT NULL, logged_since INTEGER NOT NULL);
INSERT INTO generation SELECT 0, 0 WHERE NOT EXISTS (SELECT 1 FROM generation);
CREATE TABLE IF NOT EXISTS changes (generation INTEGER NOT NULL, doc INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS changes_generation ON changes (generation);
CREATE TABLE IF NOT EXISTS docs (
    id INTEGER PRIMARY KEY, iri TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, member TEXT NOT NULL,
    platform TEXT, space TEXT, status TEXT, published TEXT, lat REAL, lon REAL, place TEXT,
    answered INTEGER NOT NULL, decided INTEGER NOT NULL, supports INTEGER NOT NULL, comments INTEGER NOT NULL,
    in_reply_to TEXT);
CREATE INDEX IF NOT EXISTS docs_published ON docs (published);
CREATE INDEX IF NOT EXISTS docs_place ON docs (lat, lon);
CREATE INDEX IF NOT EXISTS docs_newest ON docs (published IS NULL, published DESC);
CREATE INDEX IF NOT EXISTS docs_supports ON docs (supports DESC, published DESC);
CREATE INDEX IF NOT EXISTS docs_comments ON docs (comments DESC, published DESC);
CREATE INDEX IF NOT EXISTS docs_kind ON docs (kind, platform, status);
CREATE INDEX IF NOT EXISTS docs_platform ON docs (platform);
CREATE INDEX IF NOT EXISTS docs_space ON docs (space);
CREATE INDEX IF NOT EXISTS docs_in_reply_to ON docs (in_reply_to);
CREATE TABLE IF NOT EXISTS doc_topics (topic TEXT NOT NULL, doc INTEGER NOT NULL, PRIMARY KEY (topic, doc))
    WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS doc_topics_doc ON doc_topics (doc);
CREATE TABLE IF NOT EXISTS doc_languages (language TEXT NOT NULL, doc INTEGER NOT NULL,
    PRIMARY KEY (language, doc)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS doc_languages_doc ON doc_languages (doc);
CREATE TABLE IF NOT EXISTS doc_texts (doc INTEGER NOT NULL, language TEXT NOT NULL, title TEXT NOT NULL,
    body TEXT NOT NULL, PRIMARY KEY (doc, language)) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS texts USING fts5 (title, body, title_stems, body_stems,
    tokenize = "unicode61 remove_diacritics 2");
"""

COLUMNS = {"kind": "d.kind", "platform": "d.platform", "space": "d.space", "status": "d.status"}
LINKED = {"topic": "doc_topics", "language": "doc_languages"}
FLAGS = {"located": "d.lat IS NOT NULL", "answered": "d.answered", "decided": "d.decided"}
ORDER = {
    "newest": "d.published IS NULL, d.published DESC, d.id",  # docs_newest
    "supported": "d.supports DESC, d.published DESC, d.id",
    "commented": "d.comments DESC, d.published DESC, d.id",
}

Condition = tuple[str, list[Any]]


class SqliteIndex:
    """A :class:`~dds_pod.search.SearchIndex` in SQLite; ``path`` is a file or ``:memory:``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._loading = threading.Lock()
        self._loaded: FacetBitsets | None = None
        self._groups = GroupCache()
        self._shared = self._open() if path == ":memory:" else None
        with self._lock:
            _migrate(self._connection())

    # ------------------------------------------------------------------ writes

    def upsert(self, documents: Iterable[IndexDocument]) -> None:
        """A document replaced keeps its id, so ids stay as dense as the documents (the facet bitsets' bits)."""
        with self._writing() as connection:
            _log(connection, [_insert(connection, document, self._remove(connection, document.iri))
                              for document in documents])

    def replace(self, documents: Iterable[IndexDocument]) -> None:
        """Every document at once, in one transaction: readers see the old index until the new one is whole."""
        with self._writing() as connection:
            _clear(connection)
            for document in documents:
                _insert(connection, document)
            _log_reset(connection)

    def remove(self, iris: Iterable[str]) -> None:
        with self._writing() as connection:
            _log(connection, [doc for iri in iris if (doc := self._remove(connection, iri)) is not None])

    def clear(self) -> None:
        with self._writing() as connection:
            _clear(connection)
            _log_reset(connection)

    def _remove(self, connection: sqlite3.Connection, iri: str) -> int | None:
        """Forget a document; its id, if it was indexed."""
        row = connection.execute("SELECT id FROM docs WHERE iri = ?", (iri,)).fetchone()
        if row is None:
            return None
        for statement in ("DELETE FROM texts WHERE rowid = ?", "DELETE FROM doc_texts WHERE doc = ?",
                          "DELETE FROM doc_topics WHERE doc = ?",
                          "DELETE FROM doc_languages WHERE doc = ?", "DELETE FROM docs WHERE id = ?"):
            connection.execute(statement, row)
        return row[0]

    # ------------------------------------------------------------------ reads

    def count(self) -> int:
        with self._reading() as connection:
            return connection.execute("SELECT count(*) FROM docs").fetchone()[0]

    def stored(self, iri: str) -> dict[str, Any] | None:
        """The fields stored for one resource, by column name (what ``dds-pod`` operators and tests check)."""
        with self._reading() as connection:
            cursor = connection.execute("SELECT * FROM docs WHERE iri = ?", (iri,))
            row = cursor.fetchone()
            return dict(zip([column[0] for column in cursor.description], row, strict=True)) if row else None

    def documents(self, iris: Sequence[str]) -> list[IndexDocument]:
        wanted = list(dict.fromkeys(iris))
        if not wanted:
            return []
        marks = _marks(wanted)
        with self._reading() as connection:
            rows = {row[1]: row for row in connection.execute(
                "SELECT id, iri, kind, member, platform, space, status, published, lat, lon, place, answered, "
                f"decided, supports, comments, in_reply_to FROM docs WHERE iri IN ({marks})", wanted)}
            ids = [row[0] for row in rows.values()]
            texts = _grouped(connection, "SELECT doc, language, title, body FROM doc_texts WHERE doc IN "
                             f"({_marks(ids)}) ORDER BY doc, language", ids)
            topics = _grouped(connection, f"SELECT doc, topic FROM doc_topics WHERE doc IN ({_marks(ids)}) "
                              "ORDER BY doc, topic", ids)
        return [_stored(rows[iri], texts.get(rows[iri][0], []), topics.get(rows[iri][0], []))
                for iri in wanted if iri in rows]

    def search(self, query: SearchQuery, facets: bool = True) -> SearchResult:
        match = _match(query)
        if match == "":  # words were asked for, and none is a word: nothing can match
            return SearchResult(0, (), {name: () for name in FACETS} if facets else {})
        filters = _filters(query)
        with self._reading() as connection, _snapshot(connection):
            if not facets:
                return _plain_search(connection, query, match, filters)
            return self._faceted_search(connection, query, match, filters)

    def _faceted_search(self, connection: sqlite3.Connection, query: SearchQuery, match: str | None,
                        filters: Mapping[str, Condition]) -> SearchResult:
        bitsets = self._bitsets(connection)
        ranked = query.sort == "relevance"
        words = bitsets.words.get(match, lambda: _word_match(connection, match, ranked)) if match else None
        groups = self._groups.values(connection, bitsets.generation, query.grouping) if query.grouping else None
        matched, counts = _counted(connection, query, bitsets, words, filters, groups)
        total = matched.bit_count()
        if not total:
            return SearchResult(0, (), counts)
        if match and words is not None and ranked:
            return SearchResult(total, _ranked_hits(connection, query, match, words, matched), counts)
        return SearchResult(total, _sorted_hits(connection, query, bitsets, matched, total), counts)

    def _bitsets(self, connection: sqlite3.Connection) -> FacetBitsets:
        """The facet bitsets of the generation this connection reads: after a write, those loaded before with
        the documents changed since patched in, or all loaded again when the change log no longer reaches
        back to them (a rebuild, or a long time)."""
        generation, logged_since = connection.execute("SELECT n, logged_since FROM generation").fetchone()
        loaded = self._loaded
        if loaded is not None and loaded.generation == generation:
            return loaded
        with self._loading:
            loaded = self._loaded
            if loaded is None or loaded.generation < logged_since or loaded.generation > generation:
                loaded = FacetBitsets.load(connection, generation)
            elif loaded.generation < generation:
                loaded = loaded.patched(connection, generation, "SELECT DISTINCT doc FROM changes "
                                        f"WHERE generation > {int(loaded.generation)}")
            self._loaded = loaded
        return loaded

    # ------------------------------------------------------------------ connections

    def close(self) -> None:
        with self._lock:
            for connection in self._opened:
                connection.close()
            self._opened.clear()

    def _open(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("PRAGMA busy_timeout = 10000")
        with self._lock:
            self._opened.append(connection)
        return connection

    def _connection(self) -> sqlite3.Connection:
        if self._shared is not None:
            return self._shared
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._open()
        return connection

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        if self._shared is None:
            yield self._connection()
            return
        with self._lock:
            yield self._shared

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            connection = self._connection()
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.execute("UPDATE generation SET n = n + 1")
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")


@contextmanager
def _snapshot(connection: sqlite3.Connection) -> Iterator[None]:
    """One read transaction: the counts, the total and the page come from the same state of the index."""
    connection.execute("BEGIN")
    try:
        yield
    finally:
        connection.execute("COMMIT")


# ---------------------------------------------------------------------- writing one document


def _insert(connection: sqlite3.Connection, document: IndexDocument, doc_id: int | None = None) -> int:
    latitude, longitude = document.location or (None, None)
    cursor = connection.execute(
        "INSERT INTO docs (id, iri, kind, member, platform, space, status, published, lat, lon, place, answered, "
        "decided, supports, comments, in_reply_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (doc_id, document.iri, document.kind, document.member, document.platform, document.space, document.status,
         utc_instant(document.published), latitude, longitude, document.place, int(document.answered),
         int(document.decided), document.supports, document.comments, document.in_reply_to))
    doc = cursor.lastrowid
    assert doc is not None
    titles = [text.title for text in document.texts if text.title]
    bodies = [text.body for text in document.texts if text.body]
    connection.execute(
        "INSERT INTO texts (rowid, title, body, title_stems, body_stems) VALUES (?, ?, ?, ?, ?)",
        (doc, "\n".join(titles), "\n".join(bodies),
         " ".join(stemmed_text(text.title, text.language) for text in document.texts if text.title),
         " ".join(stemmed_text(text.body, text.language) for text in document.texts if text.body)))
    connection.executemany("INSERT OR REPLACE INTO doc_texts (doc, language, title, body) VALUES (?, ?, ?, ?)",
                           [(doc, text.language, text.title, text.body[:STORED_BODY_CHARS])
                            for text in document.texts])
    connection.executemany("INSERT OR IGNORE INTO doc_topics (topic, doc) VALUES (?, ?)",
                           [(topic, doc) for topic in document.topics])
    connection.executemany("INSERT OR IGNORE INTO doc_languages (language, doc) VALUES (?, ?)",
                           [(language, doc) for language in document.languages])
    return doc


def _log(connection: sqlite3.Connection, docs: list[int]) -> None:
    """Note the documents this write changed, for readers to patch their facet bitsets; forget old notes."""
    connection.executemany("INSERT INTO changes (generation, doc) SELECT n, ? FROM generation",
                           [(doc,) for doc in docs])
    generation, logged_since = connection.execute("SELECT n, logged_since FROM generation").fetchone()
    if generation - logged_since > LOGGED_GENERATIONS:
        kept_since = generation - LOGGED_GENERATIONS // 2
        connection.execute("DELETE FROM changes WHERE generation <= ?", (kept_since,))
        connection.execute("UPDATE generation SET logged_since = ?", (kept_since,))


def _log_reset(connection: sqlite3.Connection) -> None:
    """After a rebuild every reader loads its bitsets again: the log starts from this generation."""
    connection.execute("DELETE FROM changes")
    connection.execute("UPDATE generation SET logged_since = n")


def _migrate(connection: sqlite3.Connection) -> None:
    if connection.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
        connection.executescript("".join(f"DROP TABLE IF EXISTS {table};" for table in TABLES))
    connection.executescript(SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION};")


def _grouped(connection: sqlite3.Connection, sql: str, ids: list[int]) -> dict[int, list[tuple]]:
    found: dict[int, list[tuple]] = {}
    for doc, *rest in connection.execute(sql, ids):
        found.setdefault(doc, []).append(tuple(rest))
    return found


def _stored(row: tuple, texts: list[tuple], topics: list[tuple]) -> IndexDocument:
    (_, iri, kind, member, platform, space, status, published, lat, lon, place, answered, decided, supports,
     comments, in_reply_to) = row
    return IndexDocument(
        iri=iri, kind=kind, member=member, platform=platform, space=space, status=status, published=published,
        location=(lat, lon) if lat is not None and lon is not None else None, place=place,
        answered=bool(answered), decided=bool(decided), supports=supports, comments=comments,
        in_reply_to=in_reply_to, topics=tuple(topic for (topic,) in topics),
        texts=tuple(LocalizedText(language, title, body) for language, title, body in texts))


def _clear(connection: sqlite3.Connection) -> None:
    for table in TABLES:
        if table not in ("generation", "changes"):
            connection.execute(f"DELETE FROM {table}")


# ---------------------------------------------------------------------- reading


def _match(query: SearchQuery) -> str | None:
    """The FTS5 expression of the reader's words (None: no text asked; "": text without any word).

    Each word is quoted (it holds letters and digits only) and matches its exact form in the chosen fields,
    longer words also as a prefix (``velo`` finds ``vélos``), or one of its stems in their stemmed twins. The
    terms are all required; words joined by ``OR`` are alternatives. ``exact`` asks for the words as one
    phrase, exact forms only.
    """
    if not query.text.strip():
        return None
    terms = query_terms(query.text)
    if not terms:
        return ""
    fields = [FIELDS[name] for name in sorted(query.fields or FIELDS)]
    exact = " ".join(columns[0] for columns in fields)
    stemmed = " ".join(columns[1] for columns in fields)
    if query.exact:
        return f'{{{exact}}} : "{" ".join(word for term in terms for word in term)}"'
    languages = stem_languages(query.languages, query.reader_language)

    def one(word: str) -> str:
        forms = " OR ".join(f'"{form}"' for form in sorted(stems(word, languages)))
        prefix = " *" if len(word) >= PREFIX_MIN_CHARS else ""
        return f'{{{exact}}} : "{word}"{prefix} OR {{{stemmed}}} : ({forms})'

    return " AND ".join("(" + " OR ".join(one(word) for word in term) + ")" for term in terms)


def _filters(query: SearchQuery) -> dict[str, Condition]:
    """The condition of each filter that is set, by facet name (and ``dates``, ``bbox``, never counted)."""
    found: dict[str, Condition] = {}
    for name, values in (("kind", query.kinds), ("platform", query.platforms), ("space", query.spaces),
                         ("status", query.statuses)):
        if values:
            found[name] = (f"{COLUMNS[name]} IN ({_marks(values)})", sorted(values))
    for name, values in (("topic", query.topics), ("language", query.languages)):
        if values:
            column = "topic" if name == "topic" else "language"
            found[name] = (f"d.id IN (SELECT doc FROM {LINKED[name]} WHERE {column} IN ({_marks(values)}))",
                           sorted(values))
    for name, flag in (("located", query.located), ("answered", query.answered), ("decided", query.decided)):
        if flag is not None:
            found[name] = (f"({FLAGS[name]}) = ?", [int(flag)])
    since, until = utc_instant(query.since), utc_instant(query.until)
    if since:
        found["since"] = ("d.published >= ?", [since])
    if until:
        found["until"] = ("d.published <= ?", [until])
    if query.bbox:
        west, south, east, north = query.bbox
        found["bbox"] = ("d.lat BETWEEN ? AND ? AND d.lon BETWEEN ? AND ?", [south, north, west, east])
    if query.grouping and query.groups:
        members = sorted({iri for value in query.groups for iri in query.grouping.members.get(value, ())})
        found[GROUPED] = ("d.iri IN (SELECT value FROM json_each(?))", [json.dumps(members)])
    return found


def _marks(values: Iterable[Any]) -> str:
    return ", ".join("?" for _ in values)


def _where(conditions: Iterable[Condition]) -> Condition:
    conditions = list(conditions)
    if not conditions:
        return "1", []
    return " AND ".join(f"({sql})" for sql, _ in conditions), [value for _, values in conditions for value in values]


def _plain_search(connection: sqlite3.Connection, query: SearchQuery, match: str | None,
                  filters: Mapping[str, Condition]) -> SearchResult:
    """The total and a page, without facet counts, by SQL alone (what the merged views ask)."""
    text = [("d.id IN (SELECT rowid FROM texts WHERE texts MATCH ?)", [match])] if match else []
    where = _where([*text, *filters.values()])
    total = connection.execute(f"SELECT count(*) FROM docs d WHERE {where[0]}", where[1]).fetchone()[0]
    return SearchResult(total, _hits(connection, query, match, filters) if total else ())


def _hits(connection: sqlite3.Connection, query: SearchQuery, match: str | None,
          filters: Mapping[str, Condition]) -> tuple[Hit, ...]:
    page = [max(0, query.limit), max(0, query.offset)]
    if match and query.sort == "relevance":
        where = _where(filters.values())
        weights = ", ".join(str(weight) for weight in WEIGHTS)
        rows = connection.execute(
            f"SELECT d.iri, -bm25(texts, {weights}) AS score FROM texts JOIN docs d ON d.id = texts.rowid "
            f"WHERE texts MATCH ? AND {where[0]} ORDER BY score DESC, d.id LIMIT ? OFFSET ?",
            [match, *where[1], *page])
        return tuple(Hit(iri, score) for iri, score in rows)
    text = [("d.id IN (SELECT rowid FROM texts WHERE texts MATCH ?)", [match])] if match else []
    where = _where([*text, *filters.values()])
    order = ORDER.get(query.sort, ORDER["newest"])
    rows = connection.execute(f"SELECT d.iri FROM docs d WHERE {where[0]} ORDER BY {order} LIMIT ? OFFSET ?",
                              [*where[1], *page])
    return tuple(Hit(iri) for (iri,) in rows)


def _sorted_hits(connection: sqlite3.Connection, query: SearchQuery, bitsets: FacetBitsets, matched: int,
                 total: int) -> tuple[Hit, ...]:
    """A page in the order of a column: the documents walked in that order (its index) while the ones found are
    frequent enough to fill the page soon, else the ones found sorted."""
    if query.limit <= 0:
        return ()
    order = ORDER.get(query.sort, ORDER["newest"])
    offset = max(0, query.offset)
    wanted = offset + query.limit
    # Walking reads about wanted * everything / total rows; sorting the ones found reads total rows.
    if wanted * bitsets.everything.bit_count() <= min(total, MAX_WALKED_ROWS) * total:
        found = members(matched)
        page: list[str] = []
        seen = 0
        for doc, iri in connection.execute(f"SELECT d.id, d.iri FROM docs d ORDER BY {order}"):
            if found(doc):
                seen += 1
                if seen > offset:
                    page.append(iri)
                    if seen >= wanted:
                        break
        return tuple(Hit(iri) for iri in page)
    rows = connection.execute(f"SELECT d.iri FROM docs d WHERE d.id IN (SELECT value FROM json_each(?)) "
                              f"ORDER BY {order} LIMIT ? OFFSET ?", [json.dumps(ids(matched)), query.limit, offset])
    return tuple(Hit(iri) for (iri,) in rows)


def _word_match(connection: sqlite3.Connection, match: str, ranked: bool) -> WordMatch:
    """The documents the words match, ranked too when the page asks for relevance (one pass of FTS5 for both)."""
    if not ranked:
        return WordMatch(bitset([doc for (doc,) in connection.execute("SELECT rowid FROM texts WHERE texts MATCH ?",
                                                                     [match])]))
    scored = _scored(connection, match)
    found = WordMatch(bitset([doc for doc, _ in scored]))
    found.rank(scored)
    return found


def _scored(connection: sqlite3.Connection, match: str) -> list[tuple[int, float]]:
    weights = ", ".join(str(weight) for weight in WEIGHTS)
    return connection.execute(f"SELECT rowid, -bm25(texts, {weights}) FROM texts WHERE texts MATCH ?",
                              [match]).fetchall()


def _counted(connection: sqlite3.Connection, query: SearchQuery, bitsets: FacetBitsets, words: WordMatch | None,
             filters: Mapping[str, Condition], groups: Mapping[str, int] | None) -> tuple[int, dict[str, Counts]]:
    """The documents found and each facet's counts (the grouping's too, given its ``groups`` bitsets), under
    every filter but the facet's own: choosing another value of it would give these."""
    base = words.bits if words is not None else bitsets.everything
    ranges = [condition for name, condition in filters.items() if name not in (*FACETS, GROUPED)]
    if ranges:
        base = _within(connection, query, bitsets, base, _where(ranges))
    chosen = {name: bitsets.having(name, _chosen(name, values)) for name, (_, values) in filters.items()
              if name in FACETS}
    if groups is not None and query.groups:
        chosen[GROUPED] = union(groups.get(value, 0) for value in query.groups)
    grouping = (query.grouping.facet, groups) if groups is not None and query.grouping is not None else None
    return counted(bitsets, base, chosen, FACET_VALUES, grouping)


def _within(connection: sqlite3.Connection, query: SearchQuery, bitsets: FacetBitsets, among: int,
            ranges: Condition) -> int:
    """Those of ``among`` within the dates and box: whole months and degrees from the bitsets, the documents of
    the buckets on an edge checked by SQLite, by id (or, when they are too many, the ranges through the
    columns' indexes)."""
    surely, maybe = bitsets.ranged(utc_instant(query.since), utc_instant(query.until), query.bbox)
    doubtful = among & maybe & ~surely
    if doubtful.bit_count() > MAX_LOOKED_UP:
        rows = connection.execute(f"SELECT d.id FROM docs d WHERE {ranges[0]}", ranges[1])
        return among & bitset([doc for (doc,) in rows])
    rows = connection.execute(f"SELECT d.id FROM docs d WHERE d.id IN (SELECT value FROM json_each(?)) AND "
                              f"{ranges[0]}", [json.dumps(ids(doubtful)), *ranges[1]])
    return (among & surely) | bitset([doc for (doc,) in rows])


def _ranked_hits(connection: sqlite3.Connection, query: SearchQuery, match: str, words: WordMatch,
                 matched: int) -> tuple[Hit, ...]:
    """A page by relevance: the words' documents ranked once (bm25), walked in that order for those found."""
    if query.limit <= 0:
        return ()
    if words.order is None:
        words.rank(_scored(connection, match))
    page = words.page(matched, max(0, query.offset), query.limit)
    iris = dict(connection.execute(f"SELECT id, iri FROM docs WHERE id IN ({_marks(page)})", [doc for doc, _ in page]))
    return tuple(Hit(iris[doc], score) for doc, score in page)


def _chosen(name: str, values: list[Any]) -> list[str]:
    """A filter's values as the bitsets name them (a flag's condition holds 1 or 0)."""
    if name in FLAGS:
        return ["true" if value else "false" for value in values]
    return values


# ---------------------------------------------------------------------- the backend


def read_options(raw: Mapping[str, Any], data_dir: Path | None) -> Mapping[str, Any]:
    """``path``: the index file (default ``<data_dir>/search.sqlite3``; in memory for a node without data_dir)."""
    unknown = sorted(set(raw) - {"path"})
    if unknown:
        raise ConfigError(f"search.{unknown[0]}: unknown option of the 'sqlite' search backend; known: backend, "
                          "path", field=f"search.{unknown[0]}")
    path = raw.get("path")
    if path is None:
        return {"path": str(data_dir / "search.sqlite3") if data_dir is not None else ":memory:"}
    if not isinstance(path, str) or not path:
        raise ConfigError("search.path must be a file path or \":memory:\"", field="search.path")
    if path != ":memory:" and data_dir is not None and not Path(path).is_absolute():
        path = str(data_dir / path)
    return {"path": path}


def open_index(options: Mapping[str, Any]) -> SqliteIndex:
    path = str(options["path"])
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    return SqliteIndex(path)


register("sqlite", read_options, open_index)
