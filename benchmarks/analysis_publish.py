"""The analysis as the node runs it: corpus read from the merged graph, full run, publication, reading it back, and
the requests served meanwhile.

Two sizes:

1. the demo (``examples/demo.toml`` seeded as ``make run`` seeds it, harvested once, built in process): one run
   in a background thread as the background job runs it (lowered priority, one BLAS thread), its read, analysis
   and publication timed, while the main thread asks a merged view (``federation/proposals/?limit=20``) through
   the WSGI application again and again, its latency compared with the idle one; then ``load_analysis`` cold and
   cached, and a theme resource;
2. ``--size`` (10 000 by default) contributions written straight into a merged store as the harvester lays them
   out (a named graph each, provenance records, the members graph), their texts recombined from Barcelona's real
   budget projects in Catalan and Spanish, a third of them comments with a stance, with supports of 500
   participants: read, analyse, publish, read back.

    .venv/bin/python -m benchmarks.analysis_publish [--size 10000] [--no-demo]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import threading
import time
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from threadpoolctl import threadpool_limits  # noqa: E402

from benchmarks.analysis import built  # noqa: E402
from benchmarks.interface import build as build_demo  # noqa: E402
from dds_pod.analysis import Analysis  # noqa: E402
from dds_pod.analysis.background import _lower_priority  # noqa: E402
from dds_pod.analysis.corpus import Pseudonyms, read_corpus  # noqa: E402
from dds_pod.analysis.graph import analysis_graph, load_analysis, publish  # noqa: E402
from dds_pod.analysis.runner import Analyser  # noqa: E402
from dds_pod.analysis.service import Outcome  # noqa: E402
from dds_pod.federation.merged import MergedGraph, MergedGraphs  # noqa: E402
from dds_pod.store import Change  # noqa: E402
from dds_pod.store.oxigraph import OxigraphStore  # noqa: E402
from dds_pod.vocab import AS, DCTERMS, DDS, PROV, RDF  # noqa: E402

BASE = "https://node.example/"
ACTORS = 500
SUPPORTS_EACH = 12


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--no-demo", action="store_true")
    arguments = parser.parse_args()
    print("| corpus | contributions | reactions | read | analyse | publish | triples | load (cold) "
          "| load (cached) | peak memory |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    if not arguments.no_demo:
        demo()
    built_graph(arguments.size)


def demo() -> None:
    app, base = build_demo(small=False)
    node = app.extensions["dds.node"]
    client = app.test_client()
    idle = [_request_ms(client, "/federation/proposals/?limit=20") for _ in range(40)]
    during: list[float] = []
    outcomes: list[Outcome] = []
    running = threading.Thread(target=_background_run, args=(node, outcomes))
    started = time.perf_counter()
    running.start()
    while running.is_alive():
        during.append(_request_ms(client, "/federation/proposals/?limit=20"))
    whole = time.perf_counter() - started
    outcome = outcomes[0]
    _row("demo (as the background job)", outcome.analysis, outcome.contributions, outcome.timings,
         node.merged_graph, base)
    theme = outcome.analysis.themes[0].key if outcome.analysis.themes else ""
    first = _request_ms(client, f"/analysis/themes/{theme}")
    again = _request_ms(client, f"/analysis/themes/{theme}")
    print(f"\ndemo: the background run took {whole:.0f} s in all; GET of a theme resource, first (the graph cut into "
          f"resources) {first:.0f} ms, again {again:.1f} ms")
    print(f"demo: GET federation/proposals/?limit=20, idle p50 {_p(idle, 50):.1f} ms p95 {_p(idle, 95):.1f} ms; "
          f"during the background run ({len(during)} requests) p50 {_p(during, 50):.1f} ms p95 {_p(during, 95):.1f} "
          f"ms ({_p(during, 50) / _p(idle, 50):.1f}× the idle median)\n")


def _background_run(node, outcomes: list[Outcome]) -> None:
    _lower_priority()
    with threadpool_limits(limits=1):
        outcomes.append(node.analysis.run())


def _request_ms(client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url, headers={"Accept": "application/ld+json"})
    assert response.status_code == 200, (url, response.status_code)
    return (time.perf_counter() - started) * 1000


def _p(values: list[float], percent: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * percent / 100))] if ordered else float("nan")


def measure(name: str, merged: MergedGraph, base: str) -> None:
    """Read, analyse and publish in this thread, each timed."""
    timings = {}
    started = time.perf_counter()
    corpus = read_corpus(merged, Pseudonyms(b"benchmark key"))
    timings["read"] = time.perf_counter() - started
    started = time.perf_counter()
    analysis = Analyser().analyse(corpus)
    timings["analyse"] = time.perf_counter() - started
    started = time.perf_counter()
    publish(merged.store, analysis, base)
    timings["publish"] = time.perf_counter() - started
    _row(name, analysis, len({text.iri for text in corpus.texts}), timings, merged, base, len(corpus.reactions))


def _row(name: str, analysis: Analysis, contributions: int, timings: dict[str, float], merged: MergedGraph,
         base: str, reactions: int | None = None) -> None:
    """One line of the table: the run's times, then reading the publication back, cold and cached."""
    started = time.perf_counter()
    assert load_analysis(merged.store, base) is not None
    cold = time.perf_counter() - started
    started = time.perf_counter()
    assert load_analysis(merged.store, base) is not None
    cached = time.perf_counter() - started
    triples = len(merged.store.triples(analysis_graph(base)))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"| {name} | {contributions} | {'' if reactions is None else reactions} | {timings['read']:.1f} s "
          f"| {timings['analyse']:.1f} s | {timings['publish']:.1f} s | {triples} | {cold:.2f} s "
          f"| {cached * 1e6:.0f} µs | {peak:.0f} MB |")
    print(f"|   | themes {len(analysis.themes)}, similar {len(analysis.similar)}, stances {len(analysis.stances)}, "
          f"groups {len(analysis.groups)}, summaries {len(analysis.summaries)}; not enough: "
          f"{', '.join(missing.step for missing in analysis.not_enough) or 'none'} |||||||||")


def built_graph(size: int) -> None:
    store = OxigraphStore()
    graphs = MergedGraphs(BASE)
    merged = MergedGraph(store, graphs)
    corpus = built(size)
    chance = random.Random(3)
    change = Change()
    members = sorted({text.member for text in corpus.texts})
    proposals: list[str] = []
    for n, text in enumerate(corpus.texts):
        iri = ox.NamedNode(text.iri)
        comment = n % 3 == 2 and proposals
        kind = DDS.Comment if comment else DDS.Proposal
        language = text.language or ("ca" if n % 4 == 1 else "es")
        quads = [(RDF.type, ox.NamedNode(str(kind))),
                 (DDS.sourcePlatform, ox.NamedNode(text.member + "platform")),
                 (AS.published, ox.Literal(f"2025-{1 + n % 12:02d}-01T10:00:00Z",
                                           datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime"))),
                 (AS.content, ox.Literal(f"<p>{text.body}</p>", language=language))]
        if comment:
            quads += [(AS.inReplyTo, ox.NamedNode(chance.choice(proposals))),
                      (DDS.stance, ox.NamedNode(str(chance.choice([DDS.inFavour, DDS.against, DDS.neutral])))),
                      (AS.attributedTo, ox.NamedNode(f"{text.member}people/{chance.randrange(ACTORS)}"))]
        else:
            quads.append((DCTERMS.title, ox.Literal(text.title, language=language)))
            proposals.append(text.iri)
        change.add_graph(text.iri, [ox.Triple(iri, ox.NamedNode(str(p)), o) for p, o in quads])
        record = graphs.record(text.iri)
        change.add += [ox.Quad(record, ox.NamedNode(str(PROV.wasDerivedFrom)), iri, ox.NamedNode(graphs.provenance)),
                       ox.Quad(record, ox.NamedNode(str(PROV.hadPrimarySource)), ox.NamedNode(text.member),
                               ox.NamedNode(graphs.provenance))]
    for actor in range(ACTORS):
        for target in chance.sample(proposals, SUPPORTS_EACH):
            support = ox.NamedNode(f"{BASE}supports/{actor}-{target.rsplit('/', 1)[1]}")
            change.add_graph(support.value, [
                ox.Triple(support, ox.NamedNode(str(RDF.type)), ox.NamedNode(str(DDS.Support))),
                ox.Triple(support, ox.NamedNode(str(AS.actor)), ox.NamedNode(f"{BASE}people/{actor}")),
                ox.Triple(support, ox.NamedNode(str(AS.object)), ox.NamedNode(target))])
    change.add += [ox.Quad(ox.NamedNode(member), ox.NamedNode(str(DDS.lastSequence)), ox.Literal(str(size)),
                           ox.NamedNode(graphs.members)) for member in members]
    store.commit(change)
    measure(f"built, {size}", merged, BASE)


if __name__ == "__main__":
    main()
