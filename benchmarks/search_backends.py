"""The two search backends side by side at 100 000 contributions: SQLite FTS5 (embedded, the default) and
PostgreSQL (shared by every web process), on the same synthetic corpus as ``benchmarks/search.py``.

1. the full build through ``replace`` into an empty index, then again over the full one (what ``dds-pod index
   rebuild`` writes), and the first search of a newly opened index (a process loading its facet bitsets);
2. p50 / p99 in ms of ``search`` with all nine facet counts for the typical queries of ``benchmarks/search.py``:
   *cold*, the first time after a write (each round follows a write of one document: what a reader gets after a
   harvest), and *again* (paging, another facet value); and *plain*, without the counts (the merged views' ask);
3. ``upsert`` of 100 changed documents (a harvest of 100 changes), p50.

The PostgreSQL server is a throw-away cluster (``dds_pod.testing.PostgresServer``, durable: fsync on) on a loopback
port, with Debian's default settings otherwise.

    .venv/bin/python -m benchmarks.search_backends [--documents 100000] [--rounds 12]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.search import CIVIC_WORDS, QUERIES, _changed, _document, _vocabulary  # noqa: E402
from dds_pod.search import SearchIndex, SearchQuery, open_index, read_settings  # noqa: E402
from dds_pod.testing import PostgresServer  # noqa: E402

Opener = Callable[[], SearchIndex]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=12)
    args = parser.parse_args()
    rng = random.Random(7)
    vocabularies = {language: _vocabulary(words.split()) for language, words in CIVIC_WORDS.items()}
    documents = [_document(i, rng, vocabularies) for i in range(args.documents)]
    print(f"{len(documents)} synthetic documents from 5 platforms in fr, es, ca, en; {args.rounds} rounds a figure")
    with tempfile.TemporaryDirectory() as directory:
        server = PostgresServer(Path(directory) / "postgres.log", durable=True).start()
        try:
            openers: dict[str, Opener] = {
                "SQLite": lambda: open_index(read_settings({"path": str(Path(directory) / "search.sqlite3")}, None)),
                "PostgreSQL": lambda: open_index(read_settings({"backend": "postgres", "dsn": server.dsn,
                                                                "statement_timeout_s": 60}, None)),
            }
            _compare(openers, documents, args.rounds, rng)
        finally:
            server.remove()


def _compare(openers: dict[str, Opener], documents: list, rounds: int, rng: random.Random) -> None:
    indexes: dict[str, SearchIndex] = {}
    for name, opener in openers.items():
        index = opener()
        built = _timed(lambda index=index: index.replace(documents))
        rebuilt = _timed(lambda index=index: index.replace(documents))
        index.close()
        indexes[name] = opener()
        first = _timed(lambda name=name: indexes[name].search(SearchQuery()))
        print(f"{name:<10} build (replace, one transaction) into an empty index: {built:5.1f} s, over the full one: "
              f"{rebuilt:5.1f} s; first search of a newly opened index: {first * 1000:5.0f} ms")
    names = list(indexes)
    print("\nsearch, p50 / p99 ms: cold (after a write) with all facet counts | again | plain (no counts)")
    print(f"  {'query':<40} {'found':>6}  " + "  ".join(f"{name:^42}" for name in names))
    cold_medians: dict[str, list[float]] = {name: [] for name in names}
    for label, query in QUERIES:
        cells = []
        for name, index in indexes.items():
            cold = _percentiles(lambda q=query, i=index: i.search(q), rounds,
                                before=lambda i=index: i.upsert(_changed(documents, 0, rng)[:1]))
            again = _percentiles(lambda q=query, i=index: i.search(q), rounds)
            plain = _percentiles(lambda q=query, i=index: i.search(q, facets=False), rounds)
            cold_medians[name].append(cold[0])
            cells.append(f"{cold[0]:6.1f} / {cold[1]:6.1f} | {again[0]:5.1f} / {again[1]:5.1f} | {plain[0]:6.1f}")
        totals = {index.search(query, facets=False).total for index in indexes.values()}
        found = totals.pop() if len(totals) == 1 else "differ"
        print(f"  {label:<40} {found:>6}  " + "  ".join(cells))
    print("  median of the cold p50s: " + ", ".join(f"{name} {statistics.median(values):.1f} ms"
                                                    for name, values in cold_medians.items()))
    for name, index in indexes.items():
        upserts = [_timed(lambda r=r, i=index: i.upsert(_changed(documents, r, rng))) for r in range(1, 11)]
        print(f"{name:<10} upsert of 100 changed documents: p50 {statistics.median(upserts) * 1000:.0f} ms")
        index.close()


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _percentiles(action: Callable[[], object], rounds: int,
                 before: Callable[[], object] | None = None) -> tuple[float, float]:
    """p50 and p99 in ms (with few rounds, p99 is the slowest); ``before`` runs untimed ahead of each round."""
    times = []
    for _ in range(rounds):
        if before is not None:
            before()
        times.append(_timed(action) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]


if __name__ == "__main__":
    main()
