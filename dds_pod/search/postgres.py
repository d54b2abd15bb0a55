"""The shared search backend: PostgreSQL full-text search, one index for every web process of a node.

A document is one row of ``docs``: its facet fields as columns (topics and languages as arrays), its stored texts
(bodies shortened) as JSON, and one ``tsvector`` of its words in four weights that play the four FTS5 columns of
the embedded backend: exact forms of the titles (A) and of the bodies (B), stems of the titles (C) and of the
bodies (D). Exact forms go through the ``simple`` configuration after ``unaccent`` (accents ignored both ways);
stems through the language's own configuration (``french``, ``spanish``, ``english``, also after ``unaccent``).
PostgreSQL ships no Catalan stemmer: Catalan texts (and texts of no known language, which are stemmed in every
language, as the embedded backend does) are stemmed by the same Snowball stemmer as the embedded backend
(``words.py``) and their stems stored through ``simple``.

The reader's text is cut into words by ``words.py`` (letters and digits only); each word's lexemes are asked of
PostgreSQL through ``to_tsvector`` and the query is written from those lexemes, each one quoted as a ``tsquery``
literal, and passed as a parameter: a reader's text can never be ``tsquery`` syntax, nor SQL. Facets are counted
in the same statement as the page, each under every filter but its own. Every value from outside is a parameter;
the only names formatted into SQL are this module's constants and the schema, checked to be an identifier.

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
from .words import STEMMERS, language_of, query_terms, stem, stem_languages, words

# PostgreSQL's own Snowball configurations, by the languages of words.py; the others are stemmed in Python.
CONFIGS = {"fr": "french", "es": "spanish", "en": "english"}
PREFIX_MIN_CHARS = 4  # as the embedded backend: shorter words as prefixes would match too much
STORED_BODY_CHARS = 2000
INDEXED_CHARS = 200_000  # of each title and body: a tsvector holds 1 MB at most
FACET_VALUES = 100
# ts_rank's weights of D, C, B, A (at most 1): the embedded backend's 0.5, 4, 1 and 8, divided by 8.
RANK_WEIGHTS = "{0.0625, 0.5, 0.125, 1.0}"
WEIGHTS = {"title": ("A", "C"), "body": ("B", "D")}  # field -> (exact forms, stems)
KEPT_LEXEMES = 50_000  # words whose lexemes a process remembers
SCHEMA_VERSION = 2
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# The facet fields in a narrow table of their own: counting reads every row they match, never the texts.
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (version integer NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, iri text NOT NULL UNIQUE, member text NOT NULL, place text,
    in_reply_to text, texts jsonb NOT NULL, vector tsvector NOT NULL);
CREATE INDEX IF NOT EXISTS docs_vector ON docs USING gin (vector);
CREATE TABLE IF NOT EXISTS doc_facets (
    id bigint PRIMARY KEY REFERENCES docs (id) ON DELETE CASCADE, kind text NOT NULL, platform text, space text,
    status text, published text, lat double precision, lon double precision, answered boolean NOT NULL,
    decided boolean NOT NULL, supports integer NOT NULL, comments integer NOT NULL, topics text[] NOT NULL,
    languages text[] NOT NULL);
CREATE OR REPLACE AGGREGATE tsvector_agg (tsvector) (SFUNC = tsvector_concat, STYPE = tsvector, INITCOND = '');
"""
TABLES = "doc_facets, docs, meta"

# Column -> its type, for the parameters of the statement that writes a document.
TEXT_COLUMNS = {"iri": "text", "member": "text", "place": "text", "in_reply_to": "text", "texts": "jsonb"}
FACET_COLUMNS = {"kind": "text", "platform": "text", "space": "text", "status": "text", "published": "text",
                 "lat": "float8", "lon": "float8", "answered": "boolean", "decided": "boolean", "supports": "integer",
                 "comments": "integer", "topics": "text[]", "languages": "text[]"}
INSERT = f"""
WITH written AS (
    INSERT INTO docs ({", ".join(TEXT_COLUMNS)}, vector)
    VALUES ({", ".join(f"%({column})s::{kind}" for column, kind in TEXT_COLUMNS.items())},
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

# The facets, by their column in ``matched``: one value each, a flag (counted as "true" / "false"), or an array.
VALUE_FACETS = ("kind", "platform", "space", "status")
FLAG_FACETS = ("located", "answered", "decided")
ARRAY_FACETS = {"topic": "topics", "language": "languages"}
ORDER = {
    "newest": "published IS NULL, published DESC, id",
    "supported": "supports DESC, published DESC, id",
    "commented": "comments DESC, published DESC, id",
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
        options = f"-c statement_timeout={int(statement_timeout_s * 1000)} -c search_path={schema},public"
        self._pool = ConnectionPool(
            conninfo, min_size=1, max_size=pool_size, timeout=connect_timeout_s, open=False,
            check=ConnectionPool.check_connection, name=f"dds-search-{schema}",
            kwargs={"options": options, "connect_timeout": max(1, int(connect_timeout_s)),
                    "application_name": "dds-pod search"})
        self._pool.open(wait=False)

    # ------------------------------------------------------------------ writes

    def upsert(self, documents: Iterable[IndexDocument]) -> None:
        """By IRI, in one transaction: a document written again keeps its id (its place among equal scores)."""
        rows = [_row(document) for document in documents]
        if rows:
            with self._transaction() as connection, connection.cursor() as cursor:
                cursor.executemany(INSERT, rows)

    def replace(self, documents: Iterable[IndexDocument]) -> None:
        """One transaction: readers see the old index until the new one is whole."""
        with self._transaction() as connection, connection.cursor() as cursor:
            cursor.execute("DELETE FROM docs")
            batch: list[dict[str, Any]] = []
            for document in documents:
                batch.append(_row(document))
                if len(batch) >= 1000:
                    cursor.executemany(INSERT, batch)
                    batch.clear()
            if batch:
                cursor.executemany(INSERT, batch)
            cursor.execute("ANALYZE docs, doc_facets")  # the statistics of the new rows, before the first search

    def remove(self, iris: Iterable[str]) -> None:
        wanted = [_text(iri) for iri in iris]
        if wanted:
            with self._transaction() as connection:
                connection.execute("DELETE FROM docs WHERE iri = ANY(%s)", [wanted])

    def clear(self) -> None:
        with self._transaction() as connection:
            connection.execute("DELETE FROM docs")

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
        with self._transaction() as connection:
            tsquery = self._tsquery(connection, query, terms) if terms else None
            if tsquery == "":  # a word without any lexeme: nothing holds it
                return SearchResult(0, (), {name: () for name in FACETS} if facets else {})
            statement, params = _statement(query, tsquery, facets)
            rows = connection.execute(statement, params).fetchall()
        return _result(rows, facets)

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
        missing = [key for key in wanted if key not in self._lexemes]
        if missing:
            keys = [f"{index}" for index in range(len(missing))]
            configs = [CONFIGS.get(language, "simple") for _, language in missing]
            texts = [_stemmed_word(word, language) for word, language in missing]
            found: dict[str, list[str]] = dict(connection.execute(LEXEMES, [keys, configs, texts]).fetchall())
            if len(self._lexemes) > KEPT_LEXEMES:
                self._lexemes.clear()
            for index, key in enumerate(missing):
                self._lexemes[key] = tuple(found.get(str(index)) or ())
        return {key: self._lexemes[key] for key in wanted}

    # ------------------------------------------------------------------ connections

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection]:
        """A connection of the pool in one transaction (committed, or rolled back on an error); the server down or
        too slow is a :class:`SearchUnavailable`."""
        try:
            with self._pool.connection() as connection:
                self._ensure_schema(connection)
                with connection.transaction():
                    yield connection
        except PoolTimeout:
            raise SearchUnavailable("the search index's PostgreSQL server cannot be reached") from None
        except psycopg.errors.QueryCanceled:
            raise SearchUnavailable("the search index did not answer in time") from None
        except psycopg.OperationalError as exc:
            raise SearchUnavailable(f"the search index's PostgreSQL server failed: {_first_line(exc)}") from None

    def _ensure_schema(self, connection: psycopg.Connection) -> None:
        if self._ready:
            return
        with self._ready_lock:
            if not self._ready:
                _migrate(connection, self.schema)
                self._ready = True

    def close(self) -> None:
        self._pool.close()


def _migrate(connection: psycopg.Connection, schema: str) -> None:
    """Make the schema, once among every process (an advisory lock), or make it again for another version."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"dds-search:{schema}"])
        connection.execute("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
        connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        exists = connection.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{schema}.meta"]).fetchone()
        version = connection.execute("SELECT max(version) FROM meta").fetchone() if exists and exists[0] else None
        if version is None or version[0] != SCHEMA_VERSION:
            connection.execute(f"DROP TABLE IF EXISTS {TABLES}")
        connection.execute(SCHEMA)
        connection.execute("INSERT INTO meta (version) SELECT %s WHERE NOT EXISTS (SELECT 1 FROM meta)",
                           [SCHEMA_VERSION])


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
        "configs": configs, "words": pieces, "weights": weights,
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


def _filters(query: SearchQuery) -> dict[str, Condition]:
    """The condition of each facet filter that is set (on a row of ``doc_facets f``), by facet name."""
    found: dict[str, Condition] = {}
    for name, values in (("kind", query.kinds), ("platform", query.platforms), ("space", query.spaces),
                         ("status", query.statuses)):
        if values:
            found[name] = (f"f.{name} = ANY(%(f_{name})s::text[])", {f"f_{name}": sorted(values)})
    for name, values in (("topic", query.topics), ("language", query.languages)):
        if values:
            found[name] = (f"f.{ARRAY_FACETS[name]} && %(f_{name})s::text[]", {f"f_{name}": sorted(values)})
    for name, flag in (("located", query.located), ("answered", query.answered), ("decided", query.decided)):
        if flag is not None:
            column = "(f.lat IS NOT NULL)" if name == "located" else f"f.{name}"
            found[name] = (f"{column} = %(f_{name})s::boolean", {f"f_{name}": flag})
    return found


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


def _statement(query: SearchQuery, tsquery: str | None, facets: bool) -> Condition:
    """One statement for the total, the page and (``facets``) the counts, read from one snapshot: the documents
    the words and ranges match (``matched``, facet fields only), with a flag per facet filter; its rows are
    (part, name, value, n, score): part 0 the total, 1 the page in its order, 2 the counts."""
    filters = _filters(query)
    ranges, params = _ranges(query)
    ranked = tsquery is not None and query.sort == "relevance"
    score = f"ts_rank('{RANK_WEIGHTS}'::float4[], d.vector, %(tsquery)s::tsquery)" if ranked else "0.0"
    words = " JOIN docs d ON d.id = f.id AND d.vector @@ %(tsquery)s::tsquery" if tsquery is not None else ""
    flags = "".join(f", ({condition}) AS f_{name}" for name, (condition, _) in filters.items())
    for _, values in filters.values():
        params.update(values)
    params.update({"tsquery": tsquery, "limit": max(0, query.limit), "offset": max(0, query.offset)})
    matched = (f"SELECT f.id, f.kind, f.platform, f.space, f.status, f.lat IS NOT NULL AS located, f.answered, "
               f"f.decided, f.topics, f.languages, f.published, f.supports, f.comments, {score} AS score{flags} "
               f"FROM doc_facets f{words} WHERE {ranges}")
    order = "score DESC, id" if ranked else ORDER.get(query.sort, ORDER["newest"])
    every = _all_but(filters, None)
    parts = [f"SELECT 1, (SELECT iri FROM docs WHERE docs.id = page.id), NULL, NULL, NULL, page.score FROM "
             f"(SELECT id, score FROM matched WHERE {every} ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s) page",
             _grouped_counts(filters) if facets else
             f"SELECT 0, NULL, NULL, NULL, count(*), NULL FROM matched WHERE {every}"]
    # Read twice (the page, the counts): scanning the rows again costs less than writing them aside.
    statement = f"WITH matched AS NOT MATERIALIZED ({matched}) " + " UNION ALL ".join(f"({part})" for part in parts)
    return statement, params


def _grouped_counts(filters: Mapping[str, Condition]) -> str:
    """The total and every facet's counts in one pass over ``matched`` (grouping sets): each facet's groups counted
    under every filter but its own, the empty group under all of them (the total). An array facet is grouped by
    the whole array (a document's values, each once), the counts of its values added up from them."""
    names = [*VALUE_FACETS, *FLAG_FACETS, *ARRAY_FACETS.values()]
    facet = {**{column: column for column in (*VALUE_FACETS, *FLAG_FACETS)},
             **{column: name for name, column in ARRAY_FACETS.items()}}
    name = " ".join(f"WHEN GROUPING({column}) = 0 THEN '{facet[column]}'" for column in names)
    value = ", ".join([*VALUE_FACETS, *(f"{column}::text" for column in FLAG_FACETS)])
    values = ", ".join(ARRAY_FACETS.values())
    count = " ".join(f"WHEN GROUPING({column}) = 0 THEN count(*) FILTER (WHERE {_all_but(filters, facet[column])})"
                     for column in names)
    sets = ", ".join(f"({column})" for column in names)
    return (f"SELECT CASE WHEN GROUPING({', '.join(names)}) = {2 ** len(names) - 1} THEN 0 ELSE 2 END, "
            f"CASE {name} END, COALESCE({value}), COALESCE({values}), CASE {count} ELSE count(*) FILTER (WHERE "
            f"{_all_but(filters, None)}) END, NULL FROM matched GROUP BY GROUPING SETS ({sets}, ())")


def _all_but(filters: Mapping[str, Condition], name: str | None) -> str:
    return " AND ".join(f"f_{other}" for other in filters if other != name) or "TRUE"


def _result(rows: list[tuple], facets: bool) -> SearchResult:
    total = 0
    hits: list[Hit] = []
    counts: dict[str, dict[str, int]] = {name: {} for name in FACETS} if facets else {}
    for part, name, value, values, n, score in rows:  # the page's rows come in its order: UNION ALL appends
        if part == 0:
            total = n
        elif part == 1:
            hits.append(Hit(name, float(score or 0.0)))
        elif n:
            for each in [value] if value is not None else values or ():
                counts[name][each] = counts[name].get(each, 0) + n
    return SearchResult(total, tuple(hits), {
        name: tuple(sorted(values.items(), key=lambda pair: (-pair[1], pair[0]))[:FACET_VALUES])
        for name, values in counts.items()})


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
