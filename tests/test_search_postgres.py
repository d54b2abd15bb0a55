"""The PostgreSQL search backend's own behaviour, on a real server: its settings, one index shared by several
openers (as by several processes), the stemming configurations it uses, a server that goes away and comes back,
statements past their time limit, and a schema of another version made again."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import psycopg
import pytest

from dds_pod.errors import ConfigError, SearchUnavailable
from dds_pod.search import IndexDocument, LocalizedText, SearchQuery, open_index, read_settings
from dds_pod.search.postgres import PostgresIndex
from dds_pod.testing import PostgresServer, free_port

from .conftest import fresh_schema

Found = TypeVar("Found")


def doc(name: str, title: str, language: str = "fr", **fields) -> IndexDocument:
    return IndexDocument(f"http://pods.example/a/{name}", kind="proposals", member="http://pods.example/a/",
                         texts=(LocalizedText(language, title),), **fields)


def opened(dsn: str, schema: str, **options) -> PostgresIndex:
    index = open_index(read_settings({"backend": "postgres", "dsn": dsn, "schema": schema, **options}, None))
    assert isinstance(index, PostgresIndex)
    return index


@pytest.fixture
def schema() -> str:
    return fresh_schema()


# ---------------------------------------------------------------------- settings


def test_settings_take_a_dsn_or_its_parts_and_a_password_only_from_the_environment(monkeypatch):
    options = read_settings({"backend": "postgres", "dsn": "postgresql://dds@db.example:5433/pods"}, None).options
    assert "host='db.example'" in options["conninfo"] and "port='5433'" in options["conninfo"]
    assert options["schema"] == "dds_search" and options["pool_size"] == 4
    parts = read_settings({"backend": "postgres", "host": "127.0.0.1", "port": 5432, "dbname": "pods",
                           "user": "dds", "password_env": "DDS_SEARCH_PASSWORD"}, None).options
    assert "dbname='pods'" in parts["conninfo"] and "password" not in parts["conninfo"]
    monkeypatch.delenv("DDS_SEARCH_PASSWORD", raising=False)
    with pytest.raises(ConfigError) as raised:
        open_index(read_settings({"backend": "postgres", "host": "127.0.0.1",
                                  "password_env": "DDS_SEARCH_PASSWORD"}, None))
    assert raised.value.field == "search.password_env"


@pytest.mark.parametrize(("table", "field"), [
    ({}, "search.dsn"),
    ({"dsn": "postgresql://dds:secret@127.0.0.1/pods"}, "search.dsn"),
    ({"dsn": "host=127.0.0.1 password=secret"}, "search.dsn"),
    ({"dsn": "host='unclosed"}, "search.dsn"),
    ({"dsn": 5432}, "search.dsn"),
    ({"dsn": "host=127.0.0.1", "host": "127.0.0.1"}, "search.dsn"),
    ({"host": "127.0.0.1", "port": "5432"}, "search.port"),
    ({"host": "127.0.0.1", "user": 3}, "search.user"),
    ({"dsn": "host=127.0.0.1", "schema": "Robert'); DROP TABLE docs; --"}, "search.schema"),
    ({"dsn": "host=127.0.0.1", "pool_size": 0}, "search.pool_size"),
    ({"dsn": "host=127.0.0.1", "pool_size": 2.5}, "search.pool_size"),
    ({"dsn": "host=127.0.0.1", "statement_timeout_s": "5"}, "search.statement_timeout_s"),
    ({"dsn": "host=127.0.0.1", "password_env": ""}, "search.password_env"),
    ({"dsn": "host=127.0.0.1", "password": "secret"}, "search.password"),
])
def test_bad_settings_name_their_field(table, field):
    with pytest.raises(ConfigError) as raised:
        read_settings({"backend": "postgres", **table}, None)
    assert raised.value.field == field


def test_the_password_comes_from_the_named_variable(postgres, schema, monkeypatch):
    with psycopg.connect(postgres.dsn, autocommit=True) as admin:
        admin.execute("CREATE ROLE searcher LOGIN PASSWORD 'from-the-environment' SUPERUSER")
    try:
        monkeypatch.setenv("DDS_TEST_SEARCH_PASSWORD", "from-the-environment")
        index = open_index(read_settings({"backend": "postgres", "host": "127.0.0.1", "port": postgres.port,
                                          "dbname": "postgres", "user": "searcher", "schema": schema,
                                          "password_env": "DDS_TEST_SEARCH_PASSWORD"}, None))
        index.upsert([doc("banc", "Un banc")])
        assert index.count() == 1
        index.close()
    finally:
        with psycopg.connect(postgres.dsn, autocommit=True) as admin:
            admin.execute("DROP OWNED BY searcher")
            admin.execute("DROP ROLE searcher")


def test_a_user_who_may_not_make_the_schema_gets_a_503_naming_it(postgres, schema):
    with psycopg.connect(postgres.dsn, autocommit=True) as admin:
        admin.execute("CREATE ROLE visitor LOGIN")
    try:
        index = opened(f"host=127.0.0.1 port={postgres.port} dbname=postgres user=visitor", schema)
        with pytest.raises(SearchUnavailable) as raised:
            index.search(SearchQuery(text="banc"))
        assert schema in raised.value.message and "permission denied" in raised.value.message
        index.close()
    finally:
        with psycopg.connect(postgres.dsn, autocommit=True) as admin:
            admin.execute("DROP ROLE visitor")


# ---------------------------------------------------------------------- one index, many openers


def test_two_openers_share_one_index_and_write_concurrently(postgres, schema):
    first, second = opened(postgres.dsn, schema), opened(postgres.dsn, schema)
    errors: list[BaseException] = []

    def write(index: PostgresIndex, start: int) -> None:
        try:
            for n in range(start, start + 30):
                index.upsert([doc(f"p{n}", f"Proposition {n}"), doc("shared", f"Partagée {n}")])
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)

    def read(index: PostgresIndex) -> None:
        try:
            for _ in range(30):  # the threads of a process share its bitsets while they are patched
                result = index.search(SearchQuery(text="proposition partagee OR proposition"))
                assert result.total == len(result.hits) or len(result.hits) == 20
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(index, start)) for index, start in ((first, 0), (second, 30))]
    threads += [threading.Thread(target=read, args=(index,)) for index in (first, second, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert first.count() == second.count() == 61
    assert second.search(SearchQuery(text="proposition")).total == 60
    assert first.search(SearchQuery(text="partagee")).total == 1
    first.remove(["http://pods.example/a/shared"])
    assert second.search(SearchQuery(text="partagee")).total == 0
    first.close()
    second.close()


def test_facet_counts_of_one_opener_follow_the_writes_of_another(postgres, schema):
    writer, reader = opened(postgres.dsn, schema), opened(postgres.dsn, schema)
    writer.upsert([doc(f"p{n}", "Un banc", platform="https://a.example") for n in range(3)])
    assert dict(reader.search(SearchQuery()).facets["platform"]) == {"https://a.example": 3}
    writer.upsert([doc("p0", "Un banc", platform="https://b.example")])  # the reader patches its bitsets
    writer.remove(["http://pods.example/a/p1"])
    counted = reader.search(SearchQuery(text="banc"))
    assert dict(counted.facets["platform"]) == {"https://a.example": 1, "https://b.example": 1}
    assert counted.total == 2
    writer.replace([doc("only", "Une fontaine", platform="https://c.example")])  # the reader loads them again
    assert dict(reader.search(SearchQuery()).facets["platform"]) == {"https://c.example": 1}
    assert reader.search(SearchQuery(text="banc")).total == 0
    writer.close()
    reader.close()


def test_ids_stay_as_dense_as_the_documents_across_rebuilds(postgres, schema):
    index = opened(postgres.dsn, schema, statement_timeout_s=0.5)
    for _ in range(3):  # a rebuild's deletions take longer than the readers' limit: its own applies
        index.replace([doc(f"p{n}", f"Proposition {n}") for n in range(300)])
    index.upsert([doc("new", "Nouvelle")])
    index.remove(["http://pods.example/a/p5"])
    with psycopg.connect(postgres.dsn) as connection:
        row = connection.execute(f"SELECT max(id), count(*) FROM {schema}.docs").fetchone()
    assert row == (301, 300)  # the facet bitsets hold a bit per id: no gap but the one removed
    assert index.search(SearchQuery(text="proposition")).total == 299
    index.close()


def test_texts_are_stemmed_by_their_language_configuration(postgres, schema):
    index = opened(postgres.dsn, schema)
    index.upsert([doc("fr", "Les arbres fruitiers", "fr"), doc("en", "Running tracks", "en"),
                  doc("ca", "Les biblioteques", "ca"), doc("any", "Bibliotecas municipales", "")])
    with psycopg.connect(postgres.dsn) as connection:
        vectors = dict(connection.execute(
            f"SELECT split_part(iri, '/', 5), vector::text FROM {schema}.docs").fetchall())
    assert "'arbre':5C" in vectors["fr"] and "'arbres':2A" in vectors["fr"]  # french: the stem and the exact form
    assert "'run':" in vectors["en"]  # english
    assert "'bibliot':4C" in vectors["ca"]  # Catalan, by Snowball in Python, through 'simple'
    assert "'bibliotec'" in vectors["any"] and "'biblioteca'" in vectors["any"]  # no language: stemmed in each one
    assert [hit.iri.rsplit("/", 1)[-1] for hit in index.search(SearchQuery(text="biblioteques")).hits] == ["ca"]
    assert [hit.iri.rsplit("/", 1)[-1] for hit in index.search(SearchQuery(text="bibliotecas")).hits] == ["any"]
    assert [hit.iri.rsplit("/", 1)[-1] for hit in index.search(SearchQuery(text="run")).hits] == ["en"]
    index.close()


def test_a_schema_of_another_version_is_made_again(postgres, schema):
    with psycopg.connect(postgres.dsn) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
        connection.execute(f"CREATE TABLE {schema}.meta (version integer)")
        connection.execute(f"INSERT INTO {schema}.meta VALUES (0)")
        connection.execute(f"CREATE TABLE {schema}.docs (iri text)")
    index = opened(postgres.dsn, schema)
    assert index.count() == 0
    index.upsert([doc("new", "Nouveau")])
    assert index.documents(["http://pods.example/a/new"])[0].texts[0].title == "Nouveau"
    index.close()


# ---------------------------------------------------------------------- the server away, or slow


@pytest.fixture
def own_server(postgres, tmp_path) -> Iterator[PostgresServer]:
    """A server of this test's own, to stop and start (``postgres``: skipped where PostgreSQL is missing)."""
    server = PostgresServer(tmp_path / "postgres.log").start()
    yield server
    server.remove()


def test_a_server_that_goes_away_is_a_503_and_found_again_when_it_is_back(own_server, schema):
    index = opened(own_server.dsn, schema, connect_timeout_s=1)
    index.upsert([doc("banc", "Un banc")])
    own_server.stop()
    for call in (lambda: index.search(SearchQuery(text="banc")), lambda: index.upsert([doc("arbre", "Un arbre")]),
                 index.count):
        with pytest.raises(SearchUnavailable) as raised:
            call()
        assert raised.value.status == 503
    own_server.start()
    assert until_answered(lambda: index.search(SearchQuery(text="banc"))).total == 1  # nothing half-written
    assert index.count() == 1
    index.close()


def until_answered(call: Callable[[], Found], timeout: float = 20) -> Found:
    """The pool connects again by itself, its attempts backing off: a few seconds after the server is back."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except SearchUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_node_opens_its_index_while_the_server_is_down(postgres, schema):
    index = opened(f"host=127.0.0.1 port={free_port()} dbname=postgres user=dds", schema, connect_timeout_s=0.5)
    with pytest.raises(SearchUnavailable):
        index.search(SearchQuery(text="banc"))
    index.close()


def test_a_statement_past_its_time_limit_is_a_503(postgres, schema):
    index = opened(postgres.dsn, schema, statement_timeout_s=0.2)
    index.upsert([doc("banc", "Un banc")])
    with psycopg.connect(postgres.dsn) as locker:
        locker.execute(f"LOCK TABLE {schema}.docs IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(SearchUnavailable) as raised:
            index.search(SearchQuery(text="banc"))
        assert "in time" in raised.value.message
    assert index.search(SearchQuery(text="banc")).total == 1
    index.close()
