"""The search index at scale: searches with every facet count, incremental updates and full rebuilds, measured.

Synthetic contributions (100 000 by default, ``--documents``) from five platforms, in French, Spanish, Catalan
and English, with kinds, statuses, spaces, aligned topics, places on 60 %, dates over 2023-2026 and support and
comment counts. Their words follow Zipf's law, as words of real texts do, over 3 000 words per language: the
civic words with their forms (cyclable / cyclables, bicicleta / bicicletas, ...) ranked between 40 and 1 000,
so that one of them is in 2 to 30 % of the documents of its language; the most frequent filler words play the
part of the words in nearly every text (a search for one is the worst case, measured as such).

1. The SQLite FTS5 backend (a file index, WAL) filled through ``replace`` (what a rebuild writes), then the first
   search after opening it (the facet bitsets loaded);
2. p50 / p95 of ``search`` with all nine facet counts for several typical queries, each twice: *cold*, the first
   time it is asked after a write (the bitsets patched and the words matched again: what a reader gets after
   every harvest), and *again* (paging, another facet value: the words' match kept); against a baseline: the same
   searches as a ``LIKE '%word%'`` scan in SQLite over the same rows (with the same facet counts);
3. ``upsert`` of 100 changed documents (what a harvest of 100 changes writes), p50 of several rounds;
4. unless ``--no-graph``: the same contributions as a merged graph (pyoxigraph in memory, with provenance),
   the full rebuild from it (``DocumentBuilder.all`` + ``replace``), a harvest of 100 changes committed through
   ``MergedGraph.commit`` with the index's updater listening, and the old ``CONTAINS(LCASE(...))`` SPARQL scan
   of the merged views as a baseline for a one-word search.

    .venv/bin/python -m benchmarks.search [--documents 100000] [--rounds 30] [--no-graph]
"""

from __future__ import annotations

import argparse
import itertools
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dds_pod.federation.merged import MergedGraph, MergedGraphs  # noqa: E402
from dds_pod.search import IndexDocument, LocalizedText, SearchQuery  # noqa: E402
from dds_pod.search.documents import DocumentBuilder  # noqa: E402
from dds_pod.search.sqlite import SqliteIndex  # noqa: E402
from dds_pod.search.updater import IndexUpdater  # noqa: E402
from dds_pod.store import Change  # noqa: E402
from dds_pod.store.oxigraph import OxigraphStore  # noqa: E402
from dds_pod.vocab import AS, DCTERMS, DDS, PROV, RDF, SCHEMA, SKOS  # noqa: E402

BASE = "http://127.0.0.1:9000/"
PLATFORMS = [("bordeaux", "fr"), ("paris", "fr"), ("madrid", "es"), ("barcelona", "ca"), ("york", "en")]
CIVIC_WORDS = {
    "fr": "piste pistes cyclable cyclables vélo vélos école écoles arbre arbres jardin jardins parc parcs rue rues "
          "quartier quartiers bus sécurité propreté éclairage logement logements culture marché place places",
    "es": "carril carriles bicicleta bicicletas escuela escuelas árbol árboles jardín jardines parque parques calle "
          "calles barrio barrios autobús seguridad limpieza alumbrado vivienda viviendas cultura mercado plaza",
    "ca": "carril carrils bicicleta bicicletes escola escoles arbre arbres jardí jardins parc parcs carrer carrers "
          "barri barris autobús seguretat neteja enllumenat habitatge habitatges cultura mercat plaça places",
    "en": "lane lanes bicycle bicycles school schools tree trees garden gardens park parks street streets "
          "neighbourhood neighbourhoods bus safety cleaning lighting housing houses culture market square squares",
}
VOCABULARY = 3000  # words per language
SYLLABLES = [consonant + vowel for consonant in "bdlmnr" for vowel in "aeiou"]
KINDS = ["proposals"] * 6 + ["comments"] * 3 + ["debates", "budget-projects", "meetings"]
STATUSES = ["submitted", "evaluating", "accepted", "rejected", "implemented", None]
QUERIES: list[tuple[str, SearchQuery]] = [
    ("everything (no words, no filter)", SearchQuery()),
    ("one word: cyclables", SearchQuery(text="cyclables")),
    ("one word, another form: bicicleta", SearchQuery(text="bicicleta")),
    ("two words: jardin quartier", SearchQuery(text="jardin quartier")),
    ("no such word: zzyzx", SearchQuery(text="zzyzx")),
    ("word + platform + status", SearchQuery(text="escoles", platforms=frozenset({"https://barcelona.example"}),
                                             statuses=frozenset({"accepted"}))),
    ("filters only: kind + topic + located", SearchQuery(kinds=frozenset({"proposals"}),
                                                         topics=frozenset({"https://bordeaux.example/topics/0"}),
                                                         located=True)),
    ("word + bbox + dates, most supported", SearchQuery(text="park", bbox=(-5.0, 40.0, 3.0, 50.0),
                                                        since="2025-01-01T00:00:00Z", sort="supported")),
    ("worst case: a word in nearly every text", SearchQuery(text="babe")),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--no-graph", action="store_true", help="skip the merged graph's rebuild and updates")
    args = parser.parse_args()
    rng = random.Random(7)
    vocabularies = {language: _vocabulary(words.split()) for language, words in CIVIC_WORDS.items()}
    documents = [_document(i, rng, vocabularies) for i in range(args.documents)]
    print(f"{len(documents)} synthetic documents from {len(PLATFORMS)} platforms in fr, es, ca, en")
    with tempfile.TemporaryDirectory() as directory:
        path = str(Path(directory) / "search.sqlite3")
        index = SqliteIndex(path)
        seconds = _timed(lambda: index.replace(documents))
        print(f"\nfull build through the backend (replace, one transaction): {seconds:.1f} s")
        index.close()
        index = SqliteIndex(path)
        seconds = _timed(lambda: index.search(SearchQuery()))
        print(f"first search after opening the index (facet bitsets loaded): {seconds * 1000:.0f} ms")
        baseline = _like_baseline(documents)
        print(f"\nsearch + all facet counts, {args.rounds} rounds (p50 / p95 ms): FTS5 index cold (first after a "
              "write) | again | LIKE scan baseline (same rows, same facets)")
        medians = []
        for name, query in QUERIES:
            cold = _percentiles(lambda q=query: index.search(q), args.rounds,
                                before=lambda: index.upsert(_changed(documents, 0, rng)[:1]))
            again = _percentiles(lambda q=query: index.search(q), args.rounds)
            scanned = _percentiles(lambda q=query: baseline(q), max(3, args.rounds // 10))
            medians.append(cold[0])
            total = index.search(query, facets=False).total
            print(f"  {name:<40} {cold[0]:7.1f} / {cold[1]:7.1f}  | {again[0]:6.1f} / {again[1]:6.1f}  | "
                  f"{scanned[0]:7.1f} / {scanned[1]:7.1f}   ({total} found)")
        print(f"  median of the cold p50s: {statistics.median(medians):.1f} ms")
        rounds = [_timed(lambda r=r: index.upsert(_changed(documents, r, rng))) for r in range(10)]
        print(f"\nupsert of 100 changed documents (one transaction): p50 {statistics.median(rounds) * 1000:.0f} ms")
        index.close()
    if not args.no_graph:
        _graph(documents, rng)


# ---------------------------------------------------------------------- synthetic data


def _vocabulary(civic: list[str]) -> tuple[list[str], list[float]]:
    """3 000 words ranked by frequency, with Zipf's weights (cumulated): the civic words over ranks 40 to 1 000."""
    civic_ranks = {40 + round(i * 960 / len(civic)): word for i, word in enumerate(civic)}
    fillers = iter(_filler(n) for n in range(VOCABULARY))
    words = [civic_ranks.get(rank) or next(fillers) for rank in range(1, VOCABULARY + 1)]
    return words, list(itertools.accumulate(1 / rank for rank in range(1, VOCABULARY + 1)))


def _filler(n: int) -> str:
    """A made-up word of two or three syllables (``babe``, ``babi``, ...), different for every ``n``."""
    first, rest = divmod(n, len(SYLLABLES))
    second, third = divmod(first, len(SYLLABLES))
    return SYLLABLES[second % len(SYLLABLES)] + SYLLABLES[rest] + (SYLLABLES[third] if third else "")


def _document(i: int, rng: random.Random, vocabularies: dict[str, tuple[list[str], list[float]]]) -> IndexDocument:
    name, language = PLATFORMS[i % len(PLATFORMS)]
    words, weights = vocabularies[language]
    platform = f"https://{name}.example"
    kind = rng.choice(KINDS)
    return IndexDocument(
        iri=f"{BASE}{name}/{kind}/{i}", kind=kind, member=f"{BASE}{name}/", platform=platform,
        space=f"{platform}/spaces/{rng.randrange(10)}",
        topics=(f"https://bordeaux.example/topics/{rng.randrange(20)}",),
        status=rng.choice(STATUSES) if kind == "proposals" else None,
        published=f"{rng.randrange(2023, 2027)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T10:00:00Z",
        location=(rng.uniform(36, 54), rng.uniform(-6, 4)) if rng.random() < 0.6 else None,
        answered=rng.random() < 0.3, decided=rng.random() < 0.05,
        supports=int(rng.paretovariate(1.2)) - 1, comments=int(rng.paretovariate(1.5)) - 1,
        texts=(LocalizedText(language, " ".join(rng.choices(words, cum_weights=weights, k=6)),
                             " ".join(rng.choices(words, cum_weights=weights, k=60))),),
    )


def _changed(documents: list[IndexDocument], round_: int, rng: random.Random) -> list[IndexDocument]:
    chosen = documents[round_ * 100:(round_ + 1) * 100]
    return [replace(d, supports=d.supports + 1, texts=(LocalizedText(d.texts[0].language, f"{d.texts[0].title} "
                                                                     f"{rng.choice(['nouveau', 'nuevo'])}",
                                                                     d.texts[0].body),)) for d in chosen]


# ---------------------------------------------------------------------- the LIKE baseline


def _like_baseline(documents: list[IndexDocument]) -> Callable[[SearchQuery], object]:
    """The same rows in an ordinary SQLite table, searched by ``LIKE '%word%'`` on the texts (no accents or
    word forms: that is what a scan gives), with the nine facet counts."""
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE d (iri, kind, platform, space, status, published, lat, lon, answered, "
                       "decided, supports, comments, topic, language, text)")
    connection.executemany("INSERT INTO d VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        (d.iri, d.kind, d.platform, d.space, d.status, d.published, *(d.location or (None, None)), d.answered,
         d.decided, d.supports, d.comments, d.topics[0], d.texts[0].language,
         f"{d.texts[0].title} {d.texts[0].body}".lower()) for d in documents])

    def search(query: SearchQuery) -> object:
        where = " AND ".join(["1", *("text LIKE ?" for _ in query.text.split())])
        values = [f"%{word.lower()}%" for word in query.text.split()]
        connection.execute(f"SELECT iri FROM d WHERE {where} ORDER BY published DESC LIMIT 20", values).fetchall()
        for column in ("kind", "platform", "space", "status", "topic", "language"):
            connection.execute(f"SELECT {column}, count(*) FROM d WHERE {where} GROUP BY 1", values).fetchall()
        return connection.execute(f"SELECT count(*), total(lat IS NOT NULL), total(answered), total(decided) "
                                  f"FROM d WHERE {where}", values).fetchone()

    return search


# ---------------------------------------------------------------------- from a merged graph


def _graph(documents: list[IndexDocument], rng: random.Random) -> None:
    graphs = MergedGraphs(BASE)
    store = OxigraphStore()
    seconds = _timed(lambda: store.commit(_quads(documents, graphs)))
    print(f"\nmerged graph of the same {len(documents)} contributions (pyoxigraph in memory): "
          f"loaded in {seconds:.1f} s")
    merged = MergedGraph(store, graphs)
    builder = DocumentBuilder(merged)
    index = SqliteIndex(":memory:")
    start = time.perf_counter()
    built = builder.all()
    read = time.perf_counter() - start
    index.replace(built)
    print(f"full rebuild from the merged graph: {time.perf_counter() - start:.1f} s "
          f"({read:.1f} s reading {len(built)} documents in a few queries, the rest writing the index)")
    merged.add_listener(IndexUpdater(index, builder))
    rounds = []
    for round_ in range(5):
        change = Change()
        for document in documents[round_ * 100:(round_ + 1) * 100]:
            quads = _resource(document, graphs, title_suffix=" nouveau")
            change.replace_graph(document.iri, [q for q in quads if q.graph_name.value == document.iri])
        rounds.append(_timed(lambda c=change: merged.commit(c)))
    print(f"a harvest of 100 changed resources committed with the index's updater: "
          f"p50 {statistics.median(rounds) * 1000:.0f} ms (commit to the graph and index update)")
    word = "cyclables"
    scan = _timed(lambda: list(store.select(_contains_scan(word))))
    found = index.search(SearchQuery(text=word, kinds=frozenset({"proposals"}), sort="newest"), facets=False)
    indexed = _timed(lambda: index.search(SearchQuery(text=word, kinds=frozenset({"proposals"}), sort="newest"),
                                          facets=False))
    print(f"merged view proposals?q={word}, first page: index {indexed * 1000:.1f} ms ({found.total} found) | "
          f"former CONTAINS(LCASE(...)) SPARQL scan {scan * 1000:.0f} ms (exact substring only)")
    index.close()


def _quads(documents: list[IndexDocument], graphs: MergedGraphs) -> Change:
    change = Change()
    for document in documents:
        change.add.extend(_resource(document, graphs))
    for i in range(20):  # each platform's topic i is aligned with Bordeaux's
        for name, _ in PLATFORMS[1:]:
            change.add.append(ox.Quad(ox.NamedNode(f"https://{name}.example/topics/{i}"), _n(SKOS.exactMatch),
                                      ox.NamedNode(f"https://bordeaux.example/topics/{i}"),
                                      ox.NamedNode(f"{BASE}{name}/topics/{i}")))
    return change


def _resource(document: IndexDocument, graphs: MergedGraphs, title_suffix: str = "") -> list[ox.Quad]:
    subject, graph = ox.NamedNode(document.iri), ox.NamedNode(document.iri)
    classes = {"proposals": DDS.Proposal, "comments": DDS.Comment, "debates": DDS.Debate,
               "budget-projects": DDS.BudgetProject, "meetings": DDS.Meeting}
    text = document.texts[0]
    statements: list[tuple[object, ox.NamedNode | ox.Literal | ox.BlankNode]] = [
        (_n(RDF.type), _n(classes[document.kind])),
        (_n(DCTERMS.title), ox.Literal(text.title + title_suffix, language=text.language)),
        (_n(AS.content), ox.Literal(f"<p>{text.body}</p>", language=text.language)),
        (_n(DDS.sourcePlatform), ox.NamedNode(document.platform or "")),
        (_n(DCTERMS.isPartOf), ox.NamedNode(document.space or "")),
        (_n(DCTERMS.subject), ox.NamedNode(document.topics[0])),
        (_n(AS.published), ox.Literal(document.published or "",
                                      datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime"))),
        (_n(DDS.supportCount), ox.Literal(str(document.supports),
                                          datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))),
        (_n(SCHEMA.commentCount), ox.Literal(str(document.comments),
                                             datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))),
    ]
    if document.status:
        statements.append((_n(DDS.status), _n(DDS[document.status])))
    quads = [ox.Quad(subject, predicate, value, graph) for predicate, value in statements]  # type: ignore[arg-type]
    if document.location:
        place = ox.BlankNode()
        decimal = ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal")
        quads += [ox.Quad(subject, _n(AS.location), place, graph),
                  ox.Quad(place, _n(AS.latitude), ox.Literal(f"{document.location[0]:.5f}", datatype=decimal), graph),
                  ox.Quad(place, _n(AS.longitude), ox.Literal(f"{document.location[1]:.5f}", datatype=decimal), graph)]
    record, provenance = graphs.record(document.iri), ox.NamedNode(graphs.provenance)
    quads += [ox.Quad(record, _n(PROV.wasDerivedFrom), subject, provenance),
              ox.Quad(record, _n(PROV.hadPrimarySource), ox.NamedNode(document.member), provenance)]
    return quads


def _contains_scan(word: str) -> str:
    """The merged views' former text filter, for comparison."""
    return (f"SELECT DISTINCT ?r ?published WHERE {{ ?r a <{DDS.Proposal}> . FILTER EXISTS {{ "
            f"?r <{DCTERMS.title}>|<{AS.content}>|<{AS.summary}> ?text "
            f'FILTER(CONTAINS(LCASE(STR(?text)), LCASE("{word}"))) }} '
            f"OPTIONAL {{ ?r <{AS.published}> ?published }} }} ORDER BY DESC(?published) ?r LIMIT 100")


def _n(term) -> ox.NamedNode:
    return ox.NamedNode(str(term))


# ---------------------------------------------------------------------- timing


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _percentiles(action: Callable[[], object], rounds: int,
                 before: Callable[[], object] | None = None) -> tuple[float, float]:
    """p50 and p95 in ms; ``before`` runs untimed ahead of each round."""
    times = []
    for _ in range(rounds):
        if before is not None:
            before()
        times.append(_timed(action) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


if __name__ == "__main__":
    main()
