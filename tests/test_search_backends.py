"""The search backends, each held to the same behaviour: word forms and accents in fr, es, ca and en, facets, sorts,
ranges, hostile text. The SQLite FTS5 backend's own tests (a file index, its schema) come last."""

from __future__ import annotations

import threading

import pytest

from dds_pod.errors import BadDocument, ConfigError
from dds_pod.search import IndexDocument, LocalizedText, SearchQuery, open_index, read_settings
from dds_pod.search.sqlite import SqliteIndex, read_options

from .conftest import fresh_schema

BX, MAD, BCN = "https://bordeaux.example", "https://madrid.example", "https://barcelona.example"


def doc(name: str, title: str = "", body: str = "", language: str = "fr", **fields) -> IndexDocument:
    values = {"kind": "proposals", "member": "http://pods.example/a/", **fields}
    return IndexDocument(f"http://pods.example/a/{name}", texts=(LocalizedText(language, title, body),), **values)


@pytest.fixture(params=["sqlite", "postgres"])
def empty_index(request):
    """An empty index of each backend (PostgreSQL's in a schema of its own on the session's server)."""
    if request.param == "sqlite":
        index = SqliteIndex(":memory:")
    else:
        server = request.getfixturevalue("postgres")
        index = open_index(read_settings({"backend": "postgres", "dsn": server.dsn, "schema": fresh_schema()}, None))
    yield index
    index.close()


@pytest.fixture
def index(empty_index):
    index = empty_index
    index.upsert([
        doc("velo", "Une piste cyclable pour les vélos", "Rue Sainte-Catherine", platform=BX, status="accepted",
            published="2025-03-04T09:12:00Z", location=(44.83, -0.57), supports=12, comments=3, topics=("t:mob",),
            answered=True),
        doc("bici", "Carriles para bicicletas", "En el centro de Madrid", "es", platform=MAD, status="evaluating",
            published="2025-05-01T10:00:00+02:00", location=(40.41, -3.70), supports=40, comments=1,
            topics=("t:mob",)),
        doc("escola", "Més arbres a les escoles", "Ombra als patis", "ca", platform=BCN, status="accepted",
            published="2024-11-20T08:00:00Z", supports=5, comments=9, topics=("t:env",), decided=True),
        doc("garden", "A community garden", "Gardens in La Bastide", "en", platform=BX, kind="debates",
            published="2025-01-10T00:00:00Z", supports=1),
    ])
    return index


def found(index, text: str = "", **fields) -> list[str]:
    result = index.search(SearchQuery(text=text, **fields), facets=False)
    return [hit.iri.rsplit("/", 1)[-1] for hit in result.hits]


def test_accents_are_ignored_both_ways(index):
    assert found(index, "velos") == ["velo"]
    assert found(index, "VÉLOS") == ["velo"]
    assert found(index, "mes arbres") == ["escola"]


def test_word_forms_in_each_language(index):
    assert found(index, "cyclables") == ["velo"]  # fr: the text says "cyclable"
    assert found(index, "bicicleta") == ["bici"]  # es: the text says "bicicletas"
    assert found(index, "carril") == ["bici"]  # es: "carriles"
    assert found(index, "escola") == ["escola"]  # ca: the text says "escoles"
    assert found(index, "garden") == ["garden"]  # en: "gardens" in the body as well
    assert found(index, "piscine") == []


def test_every_word_is_required_and_fields_narrow_where_they_are_looked_for(index):
    assert found(index, "piste catherine") == ["velo"]
    assert found(index, "piste madrid") == []
    assert found(index, "catherine", fields=frozenset({"title"})) == []
    assert found(index, "catherine", fields=frozenset({"body"})) == ["velo"]


def test_exact_asks_for_the_phrase(index):
    assert found(index, "piste cyclable", exact=True) == ["velo"]
    assert found(index, "cyclable piste", exact=True) == []
    assert found(index, "cyclables", exact=True) == []


def test_facet_counts_leave_out_their_own_filter(index):
    result = index.search(SearchQuery(platforms=frozenset({BX}), statuses=frozenset({"accepted"})))
    assert [hit.iri.rsplit("/", 1)[-1] for hit in result.hits] == ["velo"] and result.total == 1
    facets = dict(result.facets)
    assert dict(facets["platform"]) == {BX: 1, BCN: 1}  # every accepted one, whatever its platform
    assert dict(facets["status"]) == {"accepted": 1}  # every one of Bordeaux with a status
    assert dict(facets["kind"]) == {"proposals": 1}
    assert dict(facets["topic"]) == {"t:mob": 1}
    assert dict(facets["language"]) == {"fr": 1}
    assert dict(facets["located"]) == {"true": 1} and dict(facets["answered"]) == {"true": 1}


def test_facets_of_a_text_search_and_of_everything(index):
    everything = dict(index.search(SearchQuery()).facets)
    assert dict(everything["topic"]) == {"t:mob": 2, "t:env": 1}
    assert everything["platform"][0] == (BX, 2)
    assert dict(everything["decided"]) == {"true": 1, "false": 3}
    assert dict(everything["language"]) == {"fr": 1, "es": 1, "ca": 1, "en": 1}
    searched = dict(index.search(SearchQuery(text="bicicletas", topics=frozenset({"t:mob"}))).facets)
    assert dict(searched["topic"]) == {"t:mob": 1} and dict(searched["platform"]) == {MAD: 1}


def test_sorts(index):
    assert found(index, sort="newest") == ["bici", "velo", "garden", "escola"]
    assert found(index, sort="supported") == ["bici", "velo", "escola", "garden"]
    assert found(index, sort="commented") == ["escola", "velo", "bici", "garden"]
    assert found(index, sort="newest", limit=2, offset=1) == ["velo", "garden"]
    result = index.search(SearchQuery(text="piste velos", sort="relevance"))
    assert result.hits[0].score > 0


def test_relevance_puts_title_matches_first(index):
    index.upsert([doc("other", "Stationnement", "Une piste de réflexion", published="2025-06-01T00:00:00Z")])
    assert found(index, "piste") == ["velo", "other"]


def test_dates_bbox_and_flags(index):
    assert found(index, since="2025-03-04T09:12:00+00:00", sort="newest") == ["bici", "velo"]
    assert found(index, until="2025-01-10T00:00:00Z", sort="newest") == ["garden", "escola"]
    # 10:00 in Madrid is 08:00 UTC
    assert found(index, since="2025-05-01T08:00:00Z", until="2025-05-01T08:00:00Z") == ["bici"]
    assert found(index, bbox=(-1.0, 44.0, 0.0, 45.0)) == ["velo"]
    assert found(index, located=False, sort="newest") == ["garden", "escola"]
    assert found(index, decided=True) == ["escola"]
    assert found(index, answered=False, kinds=frozenset({"debates"})) == ["garden"]


def test_upsert_replaces_and_remove_forgets(index):
    index.upsert([doc("velo", "Un parking à vélos", platform=MAD)])
    assert found(index, "piste") == [] and found(index, "parking") == ["velo"]
    assert index.count() == 4
    assert dict(index.search(SearchQuery(text="parking")).facets["platform"]) == {MAD: 1}
    index.remove(["http://pods.example/a/velo", "http://pods.example/a/unknown"])
    assert found(index, "parking") == [] and index.count() == 3
    index.replace([doc("only", "Seul")])
    assert found(index) == ["only"]
    index.clear()
    assert index.count() == 0 and index.search(SearchQuery()).total == 0


@pytest.mark.parametrize(("text", "finds_velo"), [
    ('"', False), ('piste"', True), ("*", False), ("piste*", True), ("(piste", True), ("^piste", True),
    ("-piste", True), ("piste:", True), ("NEAR(piste cyclable)", False), ("piste AND OR NOT", False),
    ("AND", False), ("title : piste", False), ("{title body}: piste", False), ("a\x00b", False),
    ("\x1b[31m", False), ("😀", False), ("'; DROP TABLE docs; --", False), ("piste\ncyclable", True),
    ("piste\x00\x07cyclable", True), ("'&|!:*(", False), ("piste:* & !cyclable | '", True), ("<-> piste", True),
    ("piste <2>", False), ("piste\\", True), ("'piste'", True)])
def test_hostile_text_is_only_words(index, text, finds_velo):
    result = index.search(SearchQuery(text=text))  # never an sqlite3 error: the words are quoted, nothing else
    assert ("http://pods.example/a/velo" in {hit.iri for hit in result.hits}) is finds_velo


def test_syntax_words_are_searched_as_words(index):
    index.upsert([doc("near", "Near the river and or not", language="en")])
    assert found(index, "near") == ["near"]
    assert found(index, "AND") == ["near"]
    assert found(index, "NOT") == ["near"]


def test_text_without_a_word_finds_nothing(index):
    result = index.search(SearchQuery(text="*** ()"))
    assert result.total == 0 and result.hits == ()


@pytest.mark.parametrize("text", [" ".join(["mot"] * 33), "x" * 1001, " ".join(["velo"] * 10_000)])
def test_too_many_words_or_too_long_a_text_is_a_bad_query_naming_q(index, text):
    with pytest.raises(BadDocument) as raised:
        index.search(SearchQuery(text=text))
    assert raised.value.field == "q"


def test_writing_a_document_again_changes_nothing_more(index):
    again = doc("velo", "Une piste cyclable pour les vélos", "Rue Sainte-Catherine", platform=BX, status="accepted",
                published="2025-03-04T09:12:00Z", location=(44.83, -0.57), supports=12, comments=3,
                topics=("t:mob",), answered=True)
    before = index.search(SearchQuery(text="piste"))
    index.upsert([again])
    index.upsert([again])
    after = index.search(SearchQuery(text="piste"))
    assert index.count() == 4 and after.total == before.total == 1
    assert dict(after.facets) == dict(before.facets)


def test_pages_follow_each_other_without_a_gap_or_a_repeat(empty_index):
    empty_index.upsert([doc(f"p{n:02}", f"Proposition {n}", published=f"2025-01-{n % 28 + 1:02}T00:00:00Z",
                            supports=n % 5) for n in range(30)])
    for sort in ("relevance", "newest", "supported"):
        pages = [found(empty_index, "proposition", sort=sort, limit=7, offset=offset) for offset in range(0, 35, 7)]
        flat = [name for page in pages for name in page]
        assert sorted(flat) == [f"p{n:02}" for n in range(30)], sort
    assert empty_index.search(SearchQuery(text="proposition", limit=5, offset=100)).total == 30


def test_a_body_with_nul_and_control_characters_is_indexed_without_them(empty_index):
    empty_index.upsert([doc("nul", "Un banc\x00 public", "ligne\x00une\x07deux\x1b[0m")])
    assert found(empty_index, "banc") == ["nul"] and found(empty_index, "deux") == ["nul"]
    stored = empty_index.documents(["http://pods.example/a/nul"])[0].texts[0].title
    assert stored.replace("\x00", "") == "Un banc public"  # PostgreSQL's text holds no NUL: it is dropped there


def test_file_index_is_shared_by_threads_and_survives_reopening(tmp_path):
    path = str(tmp_path / "search.sqlite3")
    first = SqliteIndex(path)
    first.upsert([doc(f"p{i}", f"Proposition {i}") for i in range(20)])
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(20):
                assert first.search(SearchQuery(text="proposition")).total >= 20
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)

    def write() -> None:
        try:
            for i in range(20, 40):
                first.upsert([doc(f"p{i}", f"Proposition {i}")])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(3)] + [threading.Thread(target=write)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    first.close()
    again = SqliteIndex(path)
    assert again.count() == 40 and again.search(SearchQuery(text="proposition 39")).total == 1
    again.close()


def test_settings_name_the_backend_and_its_path(tmp_path):
    assert read_settings(None, None).options == {"path": ":memory:"}
    assert read_settings({}, tmp_path).options == {"path": str(tmp_path / "search.sqlite3")}
    assert read_options({"path": "index.db"}, tmp_path) == {"path": str(tmp_path / "index.db")}
    index = open_index(read_settings({"path": str(tmp_path / "sub" / "x.sqlite3")}, tmp_path))
    assert index.count() == 0
    index.close()
    with pytest.raises(ConfigError) as raised:
        read_settings({"pth": "x"}, tmp_path)
    assert raised.value.field == "search.pth"
    with pytest.raises(ConfigError) as raised:
        read_settings({"backend": "elastic"}, tmp_path)
    assert raised.value.field == "search.backend"
    with pytest.raises(ConfigError):
        read_settings({"path": 3}, tmp_path)


def test_stored_documents_come_back_in_the_order_asked_with_their_texts_and_place(index):
    index.upsert([doc("placed", "Un banc", "x" * 5000, platform=BX, location=(44.8, -0.5), place="Place Gambetta",
                      topics=("t:a", "t:b"))])
    iris = [f"http://pods.example/a/{name}" for name in ("escola", "nothing", "placed")]
    escola, placed = index.documents(iris)
    assert escola.iri.endswith("escola") and escola.texts == (LocalizedText("ca", "Més arbres a les escoles",
                                                                            "Ombra als patis"),)
    assert (escola.platform, escola.status, escola.decided, escola.supports) == (BCN, "accepted", True, 5)
    assert placed.place == "Place Gambetta" and placed.location == (44.8, -0.5)
    assert placed.topics == ("t:a", "t:b") and len(placed.texts[0].body) < 5000
    assert index.documents([]) == []


def test_an_index_of_an_older_schema_is_dropped_and_made_again(tmp_path):
    path = tmp_path / "old.sqlite3"
    import sqlite3

    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, iri TEXT)")
        old.execute("INSERT INTO docs (iri) VALUES ('http://old.example/x')")
    index = SqliteIndex(str(path))
    assert index.count() == 0
    index.upsert([doc("new", "Nouveau")])
    assert index.documents(["http://pods.example/a/new"])[0].texts[0].title == "Nouveau"
    index.close()


@pytest.mark.parametrize(("text", "terms"), [
    ("cyclable OR bicicleta", [["cyclable", "bicicleta"]]),
    ("piste cyclable OR bicicleta escola", [["piste"], ["cyclable", "bicicleta"], ["escola"]]),
    ("OR", [["or"]]), ("velo OR", [["velo"], ["or"]]), ("OR velo", [["or"], ["velo"]]),
    ("a or b", [["a"], ["or"], ["b"]]), ('"NEAR(x* OR y)"', [["near"], ["x", "y"]]),
])
def test_or_between_two_words_makes_them_alternatives(text, terms):
    from dds_pod.search.words import query_terms

    assert query_terms(text) == terms


def test_words_joined_by_or_find_either_and_the_other_words_stay_required(index):
    assert sorted(found(index, "cyclable OR bicicleta")) == ["bici", "velo"]
    assert found(index, "cyclable OR bicicleta madrid") == ["bici"]
    assert found(index, "OR") == [] and found(index, "OR OR OR") == []


def test_a_longer_word_also_matches_as_the_start_of_a_word(index):
    index.upsert([doc("velos", "Des arceaux pour vélos", platform=BX)])
    assert "velos" in found(index, "velo")
    assert found(index, "arc") == []  # short words are not prefixes
