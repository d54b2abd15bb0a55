"""Whether Oxigraph server serialises guarded updates: the question behind the node's write locks.

Several processes append to one "feed" at once, each by a guarded SPARQL update: read the last number N, then
``INSERT { #N+1 by "me" } WHERE { FILTER NOT EXISTS { #N+1 ... } }``, then read back who holds N+1. A serialisable
engine never lets two writers hold one number (the second update's WHERE sees the first's insertion); an engine
that evaluates concurrent updates on snapshots and applies them without detecting conflicts does. The same race is
then run with every update under one lock file (``SparqlStore.write_lock``), as the node runs its writes.

    .venv/bin/python -m benchmarks.engine_isolation [--processes 8] [--writes 40]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
import uuid
from contextlib import nullcontext
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dds_pod.store.sparql import SparqlStore  # noqa: E402
from dds_pod.testing import OxigraphServer  # noqa: E402

FEED = "http://bench.example/feed"
SELECT = {"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"}


def _rows(session: requests.Session, url: str, query: str) -> list[dict]:
    response = session.post(url, data=query.encode(), headers=SELECT, timeout=30)
    response.raise_for_status()
    return response.json()["results"]["bindings"]


def _append(arguments: tuple[str, str, int, str | None]) -> tuple[int, int]:
    """Append ``writes`` numbers; (numbers held with another writer too, lost races retried)."""
    query_url, update_url, writes, lock_dir = arguments
    session = requests.Session()
    store = SparqlStore(query_url, update_url, lock_dir=Path(lock_dir)) if lock_dir else None
    shared = retried = done = 0
    while done < writes:
        with store.write_lock(FEED) if store else nullcontext():
            last = f"SELECT (MAX(?n) AS ?m) WHERE {{ GRAPH <{FEED}> {{ ?e <{FEED}#n> ?n }} }}"
            rows = _rows(session, query_url, last)
            number = int(rows[0]["m"]["value"]) + 1 if rows and "m" in rows[0] else 1
            me = uuid.uuid4().hex
            update = (f'INSERT {{ GRAPH <{FEED}> {{ <{FEED}#{number}> <{FEED}#by> "{me}" ; <{FEED}#n> {number} }} }} '
                      f"WHERE {{ FILTER NOT EXISTS {{ GRAPH <{FEED}> {{ <{FEED}#{number}> ?p ?o }} }} }}")
            session.post(update_url, data=update.encode(), headers={"Content-Type": "application/sparql-update"},
                         timeout=30).raise_for_status()
        holders = [row["b"]["value"] for row in _rows(
            session, query_url, f"SELECT ?b WHERE {{ GRAPH <{FEED}> {{ <{FEED}#{number}> <{FEED}#by> ?b }} }}")]
        if me in holders:
            done += 1
            shared += len(holders) > 1
        else:
            retried += 1
    return shared, retried


def race(engine: OxigraphServer, processes: int, writes: int, lock_dir: str | None) -> str:
    requests.post(engine.update_url, data=f"DROP SILENT GRAPH <{FEED}>",
                  headers={"Content-Type": "application/sparql-update"}, timeout=30).raise_for_status()
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        outcomes = pool.map(_append, [(engine.query_url, engine.update_url, writes, lock_dir)] * processes)
    seconds = time.perf_counter() - started
    shared, retried = sum(o[0] for o in outcomes), sum(o[1] for o in outcomes)
    return (f"{processes * writes} appends, {shared} numbers held by two writers, {retried} lost races retried, "
            f"{processes * writes / seconds:.0f} appends/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--writes", type=int, default=40, help="appends per process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        engine = OxigraphServer(Path(directory) / "data", Path(directory) / "oxigraph.log").start()
        try:
            print(f"guarded updates only:   {race(engine, args.processes, args.writes, None)}")
            print(f"under the write lock:   {race(engine, args.processes, args.writes, str(Path(directory) / 'l'))}")
        finally:
            engine.stop()


if __name__ == "__main__":
    main()
