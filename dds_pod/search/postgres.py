"""The shared search backend: PostgreSQL full-text search, one index for every web process of a node.

A document is one row of ``docs`` (its IRI, its stored texts as JSON, bodies shortened, and one ``tsvector``) and one
of ``doc_facets`` (the fields the facets count, topics and languages as arrays). The ``tsvector`` holds its words in
four weights that play the four FTS5 columns of the embedded backend: exact forms of the titles (A) and of the
bodies (B), stems of the titles (C) and of the bodies (D). Exact forms go through the ``simple`` configuration
after ``unaccent`` (accents ignored both ways); stems through the language's own configuration (``french``,
``spanish``, ``english``, also after ``unaccent``).
PostgreSQL ships no Catalan stemmer: Catalan texts (and texts of no known language, which are stemmed in every
language, as the embedded backend does) are stemmed by the same Snowball stemmer as the embedded backend
(``words.py``) and their stems stored through ``simple``.

The reader's text is cut into words by ``words.py`` (letters and digits only); each word's lexemes are asked of
PostgreSQL through ``to_tsvector`` and the query is written from those lexemes, each one quoted as a ``tsquery``
literal, and passed as a parameter: a reader's text can never be ``tsquery`` syntax, nor SQL. Every value from
outside is a parameter; the only names formatted into SQL are this module's constants and the schema, checked to
be an identifier.

Facets are counted as the embedded backend counts them, from bitsets (``bitsets.py``): each process loads its own
from ``doc_facets`` once, and when another process has written (every write bumps the shared generation and notes
the documents it changed) patches in just those. GROUP BY over the matched rows, measured, cost 150 to 1 500 ms at
100 000 contributions, where the bitsets take a few. The page comes from SQL, in the same snapshot.

A pool of connections serves the threads of a process; every statement has a time limit. When the server cannot
be reached or does not answer in time, calls raise :class:`~dds_pod.errors.SearchUnavailable` (a 503), and the
next call tries again.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from ..errors import ConfigError, SearchUnavailable
from . import FACETS, Hit, IndexDocument, LocalizedText, SearchQuery, SearchResult, register, utc_instant
from .bitsets import GROUPED, FacetBitsets, GroupCache, Source, WordMatch, bitset, counted, ids, union
from .words import STEMMERS, language_of, query_terms, stem, stem_languages, words

# PostgreSQL's own Snowball configurations, by the languages of words.py; the others are stemmed in Python.
CONFIGS = {"fr": "french", "es": "spanish", "en": "english"}
PREFIX_MIN_CHARS = 4  # as the embedded backend: shorter words as prefixes would match too much
STORED_BODY_CHARS = 2000
INDEXED_CHARS = 200_000  # of each title and body: a tsvector holds 1 MB at most
FACET_VALUES = 100
REBUILD_TIMEOUT_S = 600
LOAD_TIMEOUT_S = 60  # reading every row of doc_facets into a process's bitsets
MAX_LISTED_IDS = 20_000  # documents named by id in one statement, at most
# ts_rank's weights of D, C, B, A (at most 1): the embedded backend's 0.5, 4, 1 and 8, divided by 8.
RANK_WEIGHTS = "{0.0625, 0.5, 0.125, 1.0}"
WEIGHTS = {"title": ("A", "C"), "body": ("B", "D")}  # field -> (exact forms, stems)
KEPT_LEXEMES = 50_000  # words whose lexemes a process remembers
SCHEMA_VERSION = 3
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# The facet fields in a narrow table of their own, read whole when a process loads its facet bitsets. Every write
# bumps the generation and notes the documents it changed, for the other processes to patch their bitsets.
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (version integer NOT NULL);
CREATE TABLE IF NOT EXISTS generation (n bigint NOT NULL, logged_since bigint NOT NULL);
INSERT INTO generation SELECT 0, 0 WHERE NOT EXISTS (SELECT 1 FROM generation);
CREATE TABLE IF NOT EXISTS changes (generation bigint NOT NULL, doc bigint NOT NULL);
CREATE INDEX IF NOT EXISTS changes_generation ON changes (generation);
CREATE TABLE IF NOT EXISTS docs (
    id bigint PRIMARY KEY, iri text NOT NULL UNIQUE, member text NOT NULL, place text, in_reply_to text,
    texts jsonb NOT NULL, vector tsvector NOT NULL);
CREATE INDEX IF NOT EXISTS docs_vector ON docs USING gin (vector);
CREATE TABLE IF NOT EXISTS doc_facets (
    id bigint PRIMARY KEY REFERENCES docs (id) ON DELETE CASCADE, kind text NOT NULL, platform text, space text,
    status text, published text, lat double precision, lon double precision, answered boolean NOT NULL,
    decided boolean NOT NULL, supports integer NOT NULL, comments integer NOT NULL, topics text[] NOT NULL,
    languages text[] NOT NULL);
CREATE INDEX IF NOT EXISTS doc_facets_published ON doc_facets (published);
CREATE INDEX IF NOT EXISTS doc_facets_place ON doc_facets (lat, lon);
CREATE INDEX IF NOT EXISTS doc_facets_newest ON doc_facets ((published IS NULL), published DESC, id);
CREATE INDEX IF NOT EXISTS doc_facets_supports ON doc_facets (supports DESC, published DESC, id);
CREATE INDEX IF NOT EXISTS doc_facets_comments ON doc_facets (comments DESC, published DESC, id);
CREATE OR REPLACE AGGREGATE tsvector_agg (tsvector) (SFUNC = tsvector_concat, STYPE = tsvector, INITCOND = '');
"""
TABLES = "doc_facets, docs, changes, generation, meta"
LOGGED_GENERATIONS = 2000
# Where the facet bitsets are read from (bitsets.py): the buckets of the ranges are the same as SQLite's.
BITSETS = Source(
    table="doc_facets",
    values={"kind": "kind", "platform": "platform", "space": "space", "status": "status",
            "month": "substr(published, 1, 7)", "lat": "floor(lat)::integer", "lon": "floor(lon)::integer"},
    flags={"located": "lat IS NOT NULL", "answered": "answered", "decided": "decided"},
    linked={"topic": ("SELECT unnest(topics), id FROM doc_facets", "id"),
            "language": ("SELECT unnest(languages), id FROM doc_facets", "id")})

# Column -> its type, for the parameters of the statement that writes a document.
TEXT_COLUMNS = {"iri": "text", "member": "text", "place": "text", "in_reply_to": "text", "texts": "jsonb"}
FACET_COLUMNS = {"kind": "text", "platform": "text", "space": "text", "status": "text", "published": "text",
                 "lat": "float8", "lon": "float8", "answered": "boolean", "decided": "boolean", "supports": "integer",
                 "comments": "integer", "topics": "text[]", "languages": "text[]"}
INSERT = f"""
WITH written AS (
    INSERT INTO docs (id, {", ".join(TEXT_COLUMNS)}, vector)
    VALUES (coalesce(%(id)s::bigint, (SELECT coalesce(max(id), 0) + 1 FROM docs)),
        {", ".join(f"%({column})s::{kind}" for column, kind in TEXT_COLUMNS.items())},
        (SELECT tsvector_agg(setweight(to_tsvector(piece.config::regconfig, unaccent(piece.words)),
                                       piece.weight::"char") ORDER BY piece.n)
         FROM unnest(%(configs)s::text[], %(words)s::text[], %(weights)s::text[]) WITH ORDINALITY
              AS piece (config, words, weight, n)))
    ON CONFLICT (iri) DO UPDATE SET {", ".join(f"{column} = EXCLUDED.{column}" for column in TEXT_COLUMNS)},
        vector = EXCLUDED.vector
    RETURNING id)
INSERT INTO doc_facets (id, {", ".join(FACET_COLUMNS)})
SELECT id, {", ".join(f"%({column})s::{kind}" for column, kind in FACET_COLUMNS.items())} FROM written
ON CONFLICT (id) DO UPDATE SET {", ".join(f"{column} = EXCLUDED.{column}" for column in FACET_COLUMNS)}
"""
STORED = ("SELECT d.iri, f.kind, d.member, f.platform, f.space, f.status, f.published, f.lat, f.lon, d.place, "
          "f.answered, f.decided, f.supports, f.comments, d.in_reply_to, f.topics, d.texts "
          "FROM docs d JOIN doc_facets f ON f.id = d.id WHERE d.iri = ANY(%s)")
LEXEMES = ("SELECT piece.key, tsvector_to_array(to_tsvector(piece.config::regconfig, unaccent(piece.word))) "
           "FROM unnest(%s::text[], %s::text[], %s::text[]) AS piece (key, config, word)")

# The facets that are flags (counted as "true" / "false") or arrays of doc_facets; the others are one column each.
FLAG_FACETS = ("located", "answered", "decided")
ARRAY_FACETS = {"topic": "topics", "language": "languages"}
ORDER = {  # on doc_facets f, as its indexes are
    "newest": "f.published IS NULL, f.published DESC, f.id",
    "supported": "f.supports DESC, f.published DESC, f.id",
    "commented": "f.comments DESC, f.published DESC, f.id",
}

Condition = tuple[str, dict[str, Any]]


class PostgresIndex:
    """A :class:`~dds_pod.search.SearchIndex` in a schema of a PostgreSQL database, through a pool of connections.

    The schema is made (or made again, for another version of it: the index is derived data) on first use, not
    when the index is opened, so that a node starts while PostgreSQL is down and finds it when it is back."""

    def __init__(self, conninfo: str, schema: str, pool_size: int = 4, statement_timeout_s: float = 5,
                 connect_timeout_s: float = 5) -> None:
        self.schema = schema
        self._ready = False
        self._ready_lock = threading.Lock()
        self._lexemes: dict[tuple[str, str], tuple[str, ...]] = {}
        self._lexemes_lock = threading.Lock()
        self._loading = threading.Lock()
        self._loaded: FacetBitsets | None = None
        self._groups = GroupCache()
        self._statement_timeout_ms = int(statement_timeout_s * 1000)
        options = f"-c statement_timeout={self._statement_timeout_ms} -c search_path={schema},public"
        self._pool = ConnectionPool(
            conninfo, min_size=1, max_size=pool_size, timeout=connect_timeout_s, open=False,
            check=ConnectionPool.check_connection, name=f"dds-search-{schema}",
            kwargs={"options": options, "connect_timeout": max(1, int(connect_timeout_s)),
                    "application_name": "dds-pod search"})
        self._pool.open(wait=False)

    # ------------------------------------------------------------------ writes

    def upsert(self, documents: Iterable[IndexDocument]) -> None:
        """By IRI, in one transaction: a document written again keeps its id (its bit in the facet bitsets, its
        place among equal scores); a new one takes the next id, so that ids stay as dense as the documents."""
        rows = [_row(document) for document in documents]
        if rows:
            with self._writing() as cursor:
                cursor.executemany(INSERT, rows)
                cursor.execute("INSERT INTO changes (generation, doc) SELECT g.n, d.id FROM generation g, docs d "
                               "WHERE d.iri = ANY(%s)", [[row["iri"] for row in rows]])
                _forget_old_changes(cursor)

    def replace(self, documents: Iterable[IndexDocument]) -> None:
        """One transaction: readers see the old index until the new one is whole. The statements' time limit is
        the readers' protection; a rebuild's own statements (deleting every row) get REBUILD_TIMEOUT_S."""
        with self._writing() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {REBUILD_TIMEOUT_S * 1000}")
            cursor.execute("DELETE FROM doc_facets")
            cursor.execute("DELETE FROM docs")
            batch: list[dict[str, Any]] = []
            for number, document in enumerate(documents, 1):
                # Numbered here: the highest id is no look-up past the rows just deleted, still in the index.
                batch.append({**_row(document), "id": number})
                if len(batch) >= 1000:
                    cursor.executemany(INSERT, batch)
                    batch.clear()
            if batch:
                cursor.executemany(INSERT, batch)
            _restart_changes(cursor)
            cursor.execute("ANALYZE docs, doc_facets")  # the statistics of the new rows, before the first search

    def remove(self, iris: Iterable[str]) -> None:
        wanted = [_text(iri) for iri in iris]
        if wanted:
            with self._writing() as cursor:
                cursor.execute("WITH gone AS (DELETE FROM docs WHERE iri = ANY(%s) RETURNING id) INSERT INTO "
                               "changes (generation, doc) SELECT (SELECT n FROM generation), id FROM gone", [wanted])
                _forget_old_changes(cursor)

    def clear(self) -> None:
        with self._writing() as cursor:
            cursor.execute("DELETE FROM docs")
            _restart_changes(cursor)

    # ------------------------------------------------------------------ reads

    def count(self) -> int:
        with self._transaction() as connection:
            row = connection.execute("SELECT count(*) FROM docs").fetchone()
        return row[0] if row else 0

    def documents(self, iris: Sequence[str]) -> list[IndexDocument]:
        wanted = list(dict.fromkeys(iris))
        if not wanted:
            return []
        with self._transaction() as connection:
            rows = {row[0]: row for row in connection.execute(STORED, [wanted])}
        return [_stored(rows[iri]) for iri in wanted if iri in rows]

    def search(self, query: SearchQuery, facets: bool = True) -> SearchResult:
        terms = query_terms(query.text) if query.text.strip() else None
        if terms == []:  # words were asked for, and none is a word: nothing can match
            return SearchResult(0, (), {name: () for name in FACETS} if facets else {})
        with self._transaction(snapshot=True) as connection:
            tsquery = self._tsquery(connection, query, terms) if terms else None
            if tsquery == "":  # a word without any lexeme: nothing holds it
                return SearchResult(0, (), {name: () for name in FACETS} if facets else {})
            return self._bitset_search(connection, query, tsquery, facets)

    def _bitset_search(self, connection: psycopg.Connection, query: SearchQuery, tsquery: str | None,
                       facets: bool) -> SearchResult:
        """The total and the counts from the facet bitsets (as the embedded backend counts them), with or without
        the counts (measured: the total by SQL costs more than by the bitsets); the page from the words' ranking,
        or by SQL."""
        bitsets = self._bitsets(connection)
        ranked = tsquery is not None and query.sort == "relevance"
        words = bitsets.words.get(tsquery, lambda: _word_match(connection, tsquery, ranked)) \
            if tsquery is not None else None
        base = words.bits if words is not None else bitsets.everything
        base = _within(connection, query, bitsets, base)
        chosen = {name: bitsets.having(name, values) for name, values in _chosen(query).items()}
        groups = self._groups.values(connection, bitsets.generation, query.grouping) if query.grouping else None
        if groups is not None and query.groups:
            chosen[GROUPED] = union(groups.get(value, 0) for value in query.groups)
        grouping = (query.grouping.facet, groups) if groups is not None and query.grouping is not None else None
        matched, counts = counted(bitsets, base, chosen, FACET_VALUES, grouping, facets)
        total = matched.bit_count()
        if not total:
            return SearchResult(0, (), counts)
        if ranked and tsquery is not None and words is not None:
            return SearchResult(total, _ranked_page(connection, query, tsquery, words, matched), counts)
        if total <= MAX_LISTED_IDS or GROUPED in chosen:  # named by id: sorted without matching the words again
            return SearchResult(total, _page(connection, query, None, ("", "f.id = ANY(%(ids)s)",
                                                                     {"ids": ids(matched)})), counts)
        return SearchResult(total, _page(connection, query, tsquery, _where(query, tsquery)), counts)

    def _bitsets(self, connection: psycopg.Connection) -> FacetBitsets:
        """The facet bitsets of the generation this transaction reads: those loaded before with the documents
        changed since patched in, or all loaded again when the change log no longer reaches back to them."""
        row = connection.execute("SELECT n, logged_since FROM generation").fetchone()
        generation, logged_since = row if row else (0, 0)
        loaded = self._loaded
        if loaded is not None and loaded.generation == generation:
            return loaded
        with self._loading:
            loaded = self._loaded
            if loaded is None or loaded.generation < logged_since or loaded.generation > generation:
                # Every row once a process (or a rebuild): a reader's limit would fail it on a large index.
                connection.execute(f"SET LOCAL statement_timeout = {LOAD_TIMEOUT_S * 1000}")
                loaded = FacetBitsets.load(connection, generation, BITSETS)
                connection.execute(f"SET LOCAL statement_timeout = {self._statement_timeout_ms}")
            elif loaded.generation < generation:
                loaded = loaded.patched(connection, generation, "SELECT DISTINCT doc FROM changes WHERE "
                                        f"generation > {int(loaded.generation)}", BITSETS)
            self._loaded = loaded
        return loaded

    # ------------------------------------------------------------------ the reader's words

    def _tsquery(self, connection: psycopg.Connection, query: SearchQuery, terms: list[list[str]]) -> str:
        """The ``tsquery`` of the reader's terms (all required, each a list of alternative words): a word matches
        its exact form in the chosen fields (longer words also as a prefix) or one of its stems; ``exact`` asks
        for the words as one phrase, exact forms only. Every lexeme is a quoted literal. "" when a term has no
        lexeme at all (it can match nothing)."""
        fields = sorted(query.fields or WEIGHTS)
        exact_weights = "".join(WEIGHTS[name][0] for name in fields)
        stem_weights = "".join(WEIGHTS[name][1] for name in fields)
        languages = sorted(stem_languages(query.languages, query.reader_language))
        vocabulary = sorted({word for term in terms for word in term})
        lexemes = self._lexemes_of(connection, vocabulary, [] if query.exact else languages)
        if query.exact:
            phrase = [f"{_literal(lexeme)}:{exact_weights}" for term in terms for word in term
                      for lexeme in lexemes[(word, "")]]
            return " <-> ".join(phrase)

        def alternatives(word: str) -> list[str]:
            prefix = ":*" if len(word) >= PREFIX_MIN_CHARS else ":"
            found = [f"{_literal(lexeme)}{prefix}{exact_weights}" for lexeme in lexemes[(word, "")]]
            stemmed = sorted({lexeme for language in languages for lexeme in lexemes[(word, language)]})
            return found + [f"{_literal(lexeme)}:{stem_weights}" for lexeme in stemmed]

        ored = [" | ".join(part for word in term for part in alternatives(word)) for term in terms]
        return " & ".join(f"({either})" for either in ored) if all(ored) else ""

    def _lexemes_of(self, connection: psycopg.Connection, vocabulary: list[str],
                    languages: list[str]) -> dict[tuple[str, str], tuple[str, ...]]:
        """Each word's lexemes as the documents' texts hold them: by (word, "") its exact form, by (word, language)
        its stems; asked of PostgreSQL once per process for each word (Catalan stems come from words.py)."""
        wanted = [(word, language) for word in vocabulary for language in ["", *languages]]
        with self._lexemes_lock:
            known = {key: self._lexemes[key] for key in wanted if key in self._lexemes}
        missing = [key for key in wanted if key not in known]
        if missing:
            keys = [f"{index}" for index in range(len(missing))]
            configs = [CONFIGS.get(language, "simple") for _, language in missing]
            texts = [_stemmed_word(word, language) for word, language in missing]
            found: dict[str, list[str]] = dict(connection.execute(LEXEMES, [keys, configs, texts]).fetchall())
            fetched = {key: tuple(found.get(str(index)) or ()) for index, key in enumerate(missing)}
            known.update(fetched)
            with self._lexemes_lock:
                if len(self._lexemes) > KEPT_LEXEMES:
                    self._lexemes.clear()
                self._lexemes.update(fetched)
        return known

    # ------------------------------------------------------------------ connections

    @contextmanager
    def _transaction(self, snapshot: bool = False) -> Iterator[psycopg.Connection]:
        """A connection of the pool in one transaction (committed, or rolled back on an error); ``snapshot``: one
        read-only view of the index for all its statements. The server down or too slow is a
        :class:`SearchUnavailable`."""
        try:
            with self._pool.connection() as connection:
                self._ensure_schema(connection)
                with connection.transaction():
                    if snapshot:
                        connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    yield connection
        except PoolTimeout:
            raise SearchUnavailable("the search index's PostgreSQL server cannot be reached") from None
        except psycopg.errors.QueryCanceled:
            raise SearchUnavailable("the search index did not answer in time") from None
        except psycopg.OperationalError as exc:
            raise SearchUnavailable(f"the search index's PostgreSQL server failed: {_first_line(exc)}") from None

    @contextmanager
    def _writing(self) -> Iterator[psycopg.Cursor]:
        """A write, which bumps the generation first: its row lock puts the writers of every process in a line."""
        with self._transaction() as connection, connection.cursor() as cursor:
            cursor.execute("UPDATE generation SET n = n + 1")
            yield cursor

    def _ensure_schema(self, connection: psycopg.Connection) -> None:
        if self._ready:
            return
        with self._ready_lock:
            if not self._ready:
                try:
                    _migrate(connection, self.schema)
                except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedFile) as exc:
                    # the unaccent extension missing, or not ours to create: an administrator's step, named
                    raise SearchUnavailable(f"the search index's schema {self.schema!r} cannot be made: "
                                            f"{_first_line(exc)}") from None
                self._ready = True

    def close(self) -> None:
        self._pool.close()


def _migrate(connection: psycopg.Connection, schema: str) -> None:
    """Make the schema, once among every process (an advisory lock), or make it again for another version. A
    schema of this version is left alone: its DDL would take locks that other processes' writes hold."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"dds-search:{schema}"])
        exists = connection.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{schema}.meta"]).fetchone()
        version = connection.execute("SELECT max(version) FROM meta").fetchone() if exists and exists[0] else None
        if version is not None and version[0] == SCHEMA_VERSION:
            return
        connection.execute("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
        connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        connection.execute(f"DROP TABLE IF EXISTS {TABLES}")
        connection.execute(SCHEMA)
        connection.execute("INSERT INTO meta (version) VALUES (%s)", [SCHEMA_VERSION])


# ---------------------------------------------------------------------- writing one document


def _row(document: IndexDocument) -> dict[str, Any]:
    latitude, longitude = document.location or (None, None)
    configs, pieces, weights = _pieces(document)
    texts = sorted({text.language: text for text in document.texts}.values(), key=lambda text: text.language)
    return {
        "iri": _text(document.iri), "kind": _text(document.kind), "member": _text(document.member),
        "platform": _optional(document.platform), "space": _optional(document.space),
        "status": _optional(document.status), "published": utc_instant(document.published), "lat": latitude,
        "lon": longitude, "place": _optional(document.place), "answered": document.answered,
        "decided": document.decided, "supports": document.supports, "comments": document.comments,
        "in_reply_to": _optional(document.in_reply_to), "topics": sorted({_text(topic) for topic in document.topics}),
        "languages": [_text(language) for language in document.languages],
        "texts": Jsonb([[_text(text.language), _text(text.title), _text(text.body[:STORED_BODY_CHARS])]
                        for text in texts]),
        "configs": configs, "words": pieces, "weights": weights, "id": None,
    }


def _pieces(document: IndexDocument) -> tuple[list[str], list[str], list[str]]:
    """The parts of a document's tsvector: (configuration, words, weight) of each title and body, exact forms and
    stems; the words are those of words.py, so that texts and queries are cut alike."""
    configs: list[str] = []
    pieces: list[str] = []
    weights: list[str] = []
    for text in document.texts:
        for name, (exact_weight, stem_weight) in WEIGHTS.items():
            found = words(getattr(text, name)[:INDEXED_CHARS])
            if not found:
                continue
            configs.append("simple")
            pieces.append(" ".join(found))
            weights.append(exact_weight)
            language = language_of(text.language)
            for each in (language,) if language else tuple(STEMMERS):
                configs.append(CONFIGS.get(each, "simple"))
                pieces.append(" ".join(found) if each in CONFIGS else _python_stems(found, each))
                weights.append(stem_weight)
    return configs, pieces, weights


def _python_stems(found: list[str], language: str) -> str:
    return " ".join(dict.fromkeys(stem(word, language) for word in dict.fromkeys(found)))


def _stemmed_word(word: str, language: str) -> str:
    """What a query's word is given to PostgreSQL as, for its exact form ("") or its stems in ``language``."""
    return stem(word, language) if language and language not in CONFIGS else word


def _text(value: str) -> str:
    """PostgreSQL's text holds no NUL character: it is dropped (it is no letter anyway)."""
    return value.replace("\x00", "")


def _optional(value: str | None) -> str | None:
    return _text(value) if value is not None else None


def _literal(lexeme: str) -> str:
    """A lexeme as a quoted ``tsquery`` literal: nothing in it is read as syntax."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _stored(row: tuple) -> IndexDocument:
    (iri, kind, member, platform, space, status, published, lat, lon, place, answered, decided, supports,
     comments, in_reply_to, topics, texts) = row
    return IndexDocument(
        iri=iri, kind=kind, member=member, platform=platform, space=space, status=status, published=published,
        location=(lat, lon) if lat is not None and lon is not None else None, place=place, answered=answered,
        decided=decided, supports=supports, comments=comments, in_reply_to=in_reply_to, topics=tuple(topics),
        texts=tuple(LocalizedText(language, title, body) for language, title, body in texts))


# ---------------------------------------------------------------------- one search, one statement


def _chosen(query: SearchQuery) -> dict[str, list[str]]:
    """The values chosen of each facet, as the bitsets name them (a flag's "true" or "false")."""
    found: dict[str, list[str]] = {}
    for name, values in (("kind", query.kinds), ("platform", query.platforms), ("space", query.spaces),
                         ("status", query.statuses), ("topic", query.topics), ("language", query.languages)):
        if values:
            found[name] = sorted(values)
    for name, flag in (("located", query.located), ("answered", query.answered), ("decided", query.decided)):
        if flag is not None:
            found[name] = ["true" if flag else "false"]
    return found


def _filters(query: SearchQuery) -> Condition:
    """The facet filters that are set, on a row of ``doc_facets f``."""
    conditions: list[str] = []
    params: dict[str, Any] = {}
    for name, values in _chosen(query).items():
        params[f"f_{name}"] = values
        if name in ARRAY_FACETS:
            conditions.append(f"f.{ARRAY_FACETS[name]} && %(f_{name})s::text[]")
        elif name in FLAG_FACETS:
            column = "(f.lat IS NOT NULL)" if name == "located" else f"f.{name}"
            conditions.append(f"{column} = %(f_{name})s::boolean")
            params[f"f_{name}"] = values == ["true"]
        else:
            conditions.append(f"f.{name} = ANY(%(f_{name})s::text[])")
    return " AND ".join(conditions) or "TRUE", params


def _ranges(query: SearchQuery) -> Condition:
    """The dates and box (never counted as facets)."""
    conditions: list[str] = []
    params: dict[str, Any] = {}
    since, until = utc_instant(query.since), utc_instant(query.until)
    if since:
        conditions.append("f.published >= %(since)s::text")
        params["since"] = since
    if until:
        conditions.append("f.published <= %(until)s::text")
        params["until"] = until
    if query.bbox:
        conditions.append("f.lat BETWEEN %(south)s::float8 AND %(north)s::float8 "
                          "AND f.lon BETWEEN %(west)s::float8 AND %(east)s::float8")
        params.update(zip(("west", "south", "east", "north"), query.bbox, strict=True))
    return " AND ".join(conditions) or "TRUE", params


# The join to the texts (when words are asked), the condition on ``doc_facets f`` and ``docs d``, the parameters.
Where = tuple[str, str, dict[str, Any]]


def _where(query: SearchQuery, tsquery: str | None) -> Where:
    filters, params = _filters(query)
    ranges, range_params = _ranges(query)
    params = {**params, **range_params}
    if tsquery is None:
        return "", f"{filters} AND {ranges}", params
    return " JOIN docs d ON d.id = f.id", f"d.vector @@ %(tsquery)s::tsquery AND {filters} AND {ranges}", \
        {**params, "tsquery": tsquery}


def _page(connection: psycopg.Connection, query: SearchQuery, tsquery: str | None, where: Where) -> tuple[Hit, ...]:
    """A page of the documents matched, by relevance (``ts_rank``, titles and exact forms weighing more) or in the
    order of a column."""
    if query.limit <= 0:
        return ()
    join, condition, params = where
    ranked = tsquery is not None and query.sort == "relevance"
    score = f"ts_rank('{RANK_WEIGHTS}'::float4[], d.vector, %(tsquery)s::tsquery)" if ranked else "0.0"
    order = "score DESC, f.id" if ranked else ORDER.get(query.sort, ORDER["newest"])
    rows = connection.execute(
        f"SELECT (SELECT iri FROM docs WHERE docs.id = page.id), page.score FROM (SELECT f.id, {score} AS score "
        f"FROM doc_facets f{join} WHERE {condition} ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s) page",
        {**params, "limit": query.limit, "offset": max(0, query.offset)}).fetchall()
    return tuple(Hit(iri, float(score)) for iri, score in rows)


def _word_match(connection: psycopg.Connection, tsquery: str, ranked: bool) -> WordMatch:
    """The documents the words match, ranked too when the page asks for relevance (one statement for both)."""
    if not ranked:
        return WordMatch(_ids(connection, "SELECT id FROM docs WHERE vector @@ %s::tsquery", [tsquery]))
    scored = _scored(connection, tsquery)
    found = WordMatch(bitset([doc for doc, _ in scored]))
    found.rank(scored)
    return found


def _scored(connection: psycopg.Connection, tsquery: str) -> list[tuple[int, float]]:
    return connection.execute(f"SELECT id, ts_rank('{RANK_WEIGHTS}'::float4[], vector, %(q)s::tsquery) FROM docs "
                              "WHERE vector @@ %(q)s::tsquery", {"q": tsquery}).fetchall()


def _ranked_page(connection: psycopg.Connection, query: SearchQuery, tsquery: str, words: WordMatch,
                 matched: int) -> tuple[Hit, ...]:
    """A page by relevance: the words' documents ranked once a generation, walked in that order for those found
    (the next page, another facet value read no texts again)."""
    if query.limit <= 0:
        return ()
    if words.order is None:
        words.rank(_scored(connection, tsquery))
    page = words.page(matched, max(0, query.offset), query.limit)
    iris: dict[int, str] = dict(connection.execute("SELECT id, iri FROM docs WHERE id = ANY(%s)",
                                                   [[doc for doc, _ in page]]).fetchall())
    return tuple(Hit(iris[doc], score) for doc, score in page)


def _within(connection: psycopg.Connection, query: SearchQuery, bitsets: FacetBitsets, among: int) -> int:
    """Those of ``among`` within the dates and box: whole months and degrees from the bitsets, the documents of the
    buckets on an edge checked by SQL, by id (or, when they are too many, the ranges through the indexes)."""
    ranges, params = _ranges(query)
    if not params:
        return among
    surely, maybe = bitsets.ranged(utc_instant(query.since), utc_instant(query.until), query.bbox)
    doubtful = among & maybe & ~surely
    if doubtful.bit_count() > MAX_LISTED_IDS:
        return among & _ids(connection, f"SELECT id FROM doc_facets f WHERE {ranges}", params)
    checked = _ids(connection, f"SELECT id FROM doc_facets f WHERE id = ANY(%(ids)s) AND {ranges}",
                   {**params, "ids": ids(doubtful)})
    return (among & surely) | checked


def _ids(connection: psycopg.Connection, statement: str, params: Any) -> int:
    """The bitset of the ids a statement selects."""
    return bitset([doc for (doc,) in connection.execute(statement, params)])


def _forget_old_changes(cursor: psycopg.Cursor) -> None:
    """Keep the notes of the last LOGGED_GENERATIONS writes at most (a process further behind loads again)."""
    row = cursor.execute("SELECT n, logged_since FROM generation").fetchone()
    generation, logged_since = row if row else (0, 0)
    if generation - logged_since > LOGGED_GENERATIONS:
        kept_since = generation - LOGGED_GENERATIONS // 2
        cursor.execute("DELETE FROM changes WHERE generation <= %s", [kept_since])
        cursor.execute("UPDATE generation SET logged_since = %s", [kept_since])


def _restart_changes(cursor: psycopg.Cursor) -> None:
    """After a rebuild every process loads its bitsets again: the log starts from this generation."""
    cursor.execute("DELETE FROM changes")
    cursor.execute("UPDATE generation SET logged_since = n")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# ---------------------------------------------------------------------- the backend

OPTIONS = ("dsn", "host", "port", "dbname", "user", "password_env", "schema", "pool_size", "statement_timeout_s",
           "connect_timeout_s")


def read_options(raw: Mapping[str, Any], data_dir: Path | None) -> Mapping[str, Any]:
    """``dsn`` (a libpq connection string or URI without a password) or ``host``, ``port``, ``dbname``, ``user``;
    ``password_env``: the environment variable holding the password (never the file); ``schema`` (default
    ``dds_search``), ``pool_size`` (connections per process, default 4), ``statement_timeout_s`` (default 5),
    ``connect_timeout_s`` (default 5)."""
    unknown = sorted(set(raw) - set(OPTIONS))
    if unknown:
        raise ConfigError(f"search.{unknown[0]}: unknown option of the 'postgres' search backend; known: backend, "
                          + ", ".join(OPTIONS), field=f"search.{unknown[0]}")
    conninfo = _conninfo(raw)
    schema = raw.get("schema", "dds_search")
    if not isinstance(schema, str) or not IDENTIFIER.match(schema):
        raise ConfigError("search.schema must be a lower-case SQL identifier (letters, digits, _)",
                          field="search.schema")
    password_env = raw.get("password_env")
    if password_env is not None and (not isinstance(password_env, str) or not password_env):
        raise ConfigError("search.password_env must name an environment variable", field="search.password_env")
    return {"conninfo": conninfo, "schema": schema, "password_env": password_env,
            "pool_size": _number(raw, "pool_size", 4, int, 1, 100),
            "statement_timeout_s": _number(raw, "statement_timeout_s", 5.0, float, 0.001, 3600),
            "connect_timeout_s": _number(raw, "connect_timeout_s", 5.0, float, 0.001, 600)}


def _conninfo(raw: Mapping[str, Any]) -> str:
    parts = {key: raw[key] for key in ("host", "port", "dbname", "user") if key in raw}
    if "dsn" in raw and parts:
        raise ConfigError(f"search.dsn and search.{next(iter(parts))} both say where the server is: keep one",
                          field="search.dsn")
    if "dsn" not in raw and "host" not in parts:
        raise ConfigError("search.dsn (or search.host) must say where the PostgreSQL server is", field="search.dsn")
    for key, value in parts.items():
        if not (isinstance(value, int) and not isinstance(value, bool) if key == "port" else isinstance(value, str)):
            raise ConfigError(f"search.{key} must be {'a port number' if key == 'port' else 'a string'}",
                              field=f"search.{key}")
    dsn = raw.get("dsn", "")
    if not isinstance(dsn, str):
        raise ConfigError("search.dsn must be a libpq connection string", field="search.dsn")
    try:
        parsed = conninfo_to_dict(dsn, **{key: str(value) for key, value in parts.items()})
    except psycopg.ProgrammingError as exc:
        raise ConfigError(f"search.dsn cannot be read: {_first_line(exc)}", field="search.dsn") from None
    if "password" in parsed:
        raise ConfigError("search.dsn holds a password: name the environment variable that holds it in "
                          "search.password_env instead", field="search.dsn")
    return " ".join(f"{key}={_quoted(str(value))}" for key, value in parsed.items())


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _number(raw: Mapping[str, Any], key: str, default: float, kind: type, low: float, high: float) -> Any:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and not isinstance(value, int)):
        raise ConfigError(f"search.{key} must be a number", field=f"search.{key}")
    if not low <= value <= high:
        raise ConfigError(f"search.{key} must be between {low:g} and {high:g}", field=f"search.{key}")
    return kind(value)


def open_index(options: Mapping[str, Any]) -> PostgresIndex:
    """The password, if any, is read from its environment variable now: it never sits in the options."""
    conninfo = str(options["conninfo"])
    variable = options.get("password_env")
    if variable:
        password = os.environ.get(variable)
        if password is None:
            raise ConfigError(f"search.password_env: the environment variable {variable} is not set",
                              field="search.password_env")
        conninfo += f" password={_quoted(password)}"
    return PostgresIndex(conninfo, str(options["schema"]), int(options["pool_size"]),
                         float(options["statement_timeout_s"]), float(options["connect_timeout_s"]))


register("postgres", read_options, open_index)
