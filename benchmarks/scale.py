"""One node on each store it can run on, in one run on one machine: embedded, Oxigraph server with 1 and with 4 web
processes, Virtuoso with 4.

For each backend a node with ``data_dir`` (and, on a remote store, two engines: the pods', the merged graph's) takes
``--posts`` POSTs of a proposal into ``bordeaux/proposals/`` then ``--gets`` GETs (each written resource in turn,
and every tenth request the container's first page), from ``--clients`` threads. Printed per backend and phase:
requests/s, p50 and p99 latency, and the CPU the node's processes and the engines spent per request (their
process groups' user + system time, read from /proc before and after the phase), and whether the change feed holds
one event per POST without a gap. Then the six federation queries of ``benchmarks/federation.py`` through the
node's ``/sparql``, over what the node harvested of its own pod (a small merged graph: the endpoint's and the
engine's cost per query, not a large federation's), median of five runs. Last, a bulk import: ``--bulk`` synthetic
Consul proposals of ``benchmarks/imports.py`` (and their pseudonymous authors), read by the Consul CSV importer
and sent to the pod's ``batch`` endpoint in batches of ``--batch-sizes`` documents, two requests in flight (as
``dds-pod import`` does): documents/s, seconds, and the CPU per document of the node and of each engine (the
node's harvester copies the import into the merged graph meanwhile: that is the second engine's share). When a
batch is refused, the status and the problem's title are printed, and the import is sent again with the next,
smaller, size (documents already stored are left unchanged).

Virtuoso (Debian's ``virtuoso-opensource``, not in CI) is skipped when ``virtuoso-t`` is missing. Each of its
instances gets a folder, a configuration and ports of its own, and its anonymous SPARQL user the right to update.
It refuses an update whose SQL translation passes 10 000 lines, as the harvester's batch of 200 resources would:
on that dialect the harvester commits 20 at a time; the printed count shows what the merged graph holds.

    .venv/bin/python -m benchmarks.scale [--posts 200] [--gets 400] [--clients 16] [--bulk 2000]
                                         [--batch-sizes 2000 200 50] [--backends embedded ...]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.federation import PREFIXES, Layout, queries  # noqa: E402
from benchmarks.imports import proposals_file, settings_for  # noqa: E402
from benchmarks.pods import group_cpu_seconds, machine  # noqa: E402
from benchmarks.processes import WRITE, feed_is_whole, proposal  # noqa: E402
from dds_pod.importers import consul_csv  # noqa: E402
from dds_pod.importers.publisher import chunked  # noqa: E402
from dds_pod.testing import (  # noqa: E402
    TOKENS,
    OxigraphServer,
    ServerProcess,
    VirtuosoServer,
    free_port,
    sparql_store_table,
    virtuoso_command,
    write_config,
)

BACKENDS = ("embedded", "oxigraph-1", "oxigraph-4", "virtuoso-4")


Engine = OxigraphServer | VirtuosoServer


@dataclass
class Phase:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    node_cpu_s: float
    engine_cpu_s: float

    def line(self) -> str:
        latencies = sorted(self.latencies)
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        p50 = statistics.median(latencies)
        return (f"  {self.name:5} {self.requests / self.seconds:7.1f} req/s  p50 {p50 * 1000:7.1f} ms  p99 "
                f"{p99 * 1000:7.1f} ms  CPU/request: node {self.node_cpu_s / self.requests * 1000:6.1f} ms, "
                f"engines {self.engine_cpu_s / self.requests * 1000:6.1f} ms")


def measured(name: str, node: ServerProcess, engines: list[Engine], count: int, clients: int,
             request: Callable[[int], float]) -> Phase:
    groups = [node.process.pid] if node.process else []
    engine_groups = [engine.process.pid for engine in engines if engine.process]
    node_cpu, engine_cpu = sum(map(group_cpu_seconds, groups)), sum(map(group_cpu_seconds, engine_groups))
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = list(pool.map(request, range(count)))
    seconds = time.perf_counter() - started
    return Phase(name, count, seconds, latencies, sum(map(group_cpu_seconds, groups)) - node_cpu,
                 sum(map(group_cpu_seconds, engine_groups)) - engine_cpu)


@dataclass
class BulkImport:
    """One attempt at the import with one batch size: ``refused`` is empty when every batch was stored."""
    batch_size: int
    documents: int
    seconds: float
    node_cpu_s: float
    engine_cpu_s: list[float]
    stored: int
    refused: str

    def line(self) -> str:
        engines = " + ".join(f"{cpu / self.documents * 1000:.2f}" for cpu in self.engine_cpu_s) or "0"
        outcome = f"refused: {self.refused}" if self.refused else "all stored"
        return (f"  bulk, batches of {self.batch_size}: {self.documents / self.seconds:7.1f} documents/s, "
                f"{self.seconds:6.1f} s, {self.stored} of {self.documents} documents stored; CPU/document: node "
                f"{self.node_cpu_s / self.documents * 1000:.2f} ms, engines (pods + merged) {engines} ms; {outcome}")


def bulk_documents(rows: int, pod_url: str) -> list[dict]:
    """The documents of ``rows`` synthetic Consul proposals and their authors, as the Consul importer reads them."""
    batch, problems = consul_csv.read([proposals_file(rows)], settings_for(pod_url))
    if problems:
        raise RuntimeError(f"{len(problems)} bad rows in the generated file, e.g. {problems[0]}")
    return list(batch.documents.values())


def bulk_import(node: ServerProcess, engines: list[Engine], documents: list[dict], size: int) -> BulkImport:
    """The documents posted to the pod's ``batch`` endpoint, ``size`` per request, two in flight; stops at the
    first refused batch (its status and problem title kept)."""
    endpoint = f"{node.url}bordeaux/batch"
    headers = {"Authorization": f"Bearer {TOKENS['bordeaux']}", "Content-Type": "application/json"}
    refusals: list[str] = []
    session = requests.Session()

    def send(chunk: list[bytes]) -> int:
        if refusals:
            return 0
        body = b'{"put": [%s], "delete": [], "atomic": false}' % b", ".join(chunk)
        response = session.post(endpoint, data=body, headers=headers, timeout=300)
        if response.status_code != 200:
            title = response.json().get("title", "") if "json" in response.headers.get("Content-Type", "") else ""
            refusals.append(f"{response.status_code} {title!r}: {response.text[:200]!r}")
            return 0
        outcome = response.json()
        return len(outcome["created"]) + len(outcome["updated"]) + len(outcome["unchanged"])

    groups = [node.process.pid] if node.process else []
    engine_groups = [engine.process.pid for engine in engines if engine.process]
    node_cpu, engine_cpu = sum(map(group_cpu_seconds, groups)), list(map(group_cpu_seconds, engine_groups))
    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        stored = sum(pool.map(send, chunked(documents, size=size)))
    seconds = time.perf_counter() - started
    return BulkImport(size, len(documents), seconds, sum(map(group_cpu_seconds, groups)) - node_cpu,
                      [group_cpu_seconds(g) - before for g, before in zip(engine_groups, engine_cpu, strict=True)],
                      stored, refusals[0] if refusals else "")


def timed(method: Callable[..., requests.Response], url: str, status: int, **arguments) -> float:
    started = time.perf_counter()
    response = method(url, timeout=120, **arguments)
    if response.status_code != status:
        raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:300]}")
    return time.perf_counter() - started


def wait_for_harvest(node: ServerProcess, proposals: int, timeout: float = 30) -> tuple[float, int]:
    """Seconds until the merged graph holds every proposal written (the node harvests its own pods), and how many it
    holds then; after ``timeout``, how many it holds (Virtuoso refuses the harvester's larger updates)."""
    count = "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p a <https://w3id.org/dds/ns#Proposal> }"
    started, held = time.perf_counter(), 0
    while time.perf_counter() - started < timeout:
        response = requests.post(f"{node.url}sparql", data={"query": count}, timeout=60,
                                 headers={"Accept": "application/sparql-results+json"})
        held = int(response.json()["results"]["bindings"][0]["n"]["value"]) if response.ok else held
        if held >= proposals:
            break
        time.sleep(0.5)
    return time.perf_counter() - started, held


def endpoint_medians(node: ServerProcess) -> dict[str, tuple[float, int]]:
    """The six federation queries (and the trivial one) through /sparql: median ms of five runs, and rows."""
    layout = Layout(per_pod=1000, base_port=0)
    results = {}
    session = requests.Session()
    for name, text in queries(layout).items():
        runs, rows = [], 0
        for attempt in range(6):
            started = time.perf_counter()
            response = session.post(f"{node.url}sparql", data={"query": PREFIXES + text}, timeout=120,
                                    headers={"Accept": "application/sparql-results+json"})
            if response.status_code != 200:
                raise RuntimeError(f"{name}: /sparql answered {response.status_code}: {response.text[:300]}")
            if attempt:  # the first warms up
                runs.append((time.perf_counter() - started) * 1000)
            rows = len(response.json()["results"]["bindings"])
        results[re.sub(r" \(OFFSET \d+\)", "", name)] = (statistics.median(runs), rows)
    return results


def engines_for(backend: str, directory: Path) -> tuple[list[Engine], str]:
    if backend == "embedded":
        return [], ""
    if backend.startswith("oxigraph"):
        engines: list[Engine] = [OxigraphServer(directory / name, directory / f"{name}.log") for name in ("p", "m")]
        dialect = "oxigraph"
    else:
        engines = [VirtuosoServer(directory / name) for name in ("p", "m")]
        dialect = "virtuoso"
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda engine: engine.start(), engines))
    return engines, sparql_store_table(engines[0], engines[1], timeout_s=30, lock_dir=directory / "locks",
                                       dialect=dialect)


def run(backend: str, directory: Path, posts: int, gets: int, clients: int, bulk: int,
        batch_sizes: list[int]) -> dict[str, tuple[float, int]]:
    engines, table = engines_for(backend, directory)
    workers = backend.rpartition("-")[2] if "-" in backend else "1"
    port = free_port()
    documents = bulk_documents(bulk, f"http://127.0.0.1:{port}/bordeaux/") if bulk else []
    config = write_config(directory, port, data_dir=directory / "data", page_size=20)
    with config.open("a", encoding="utf-8") as file:
        file.write("[federation]\ninterval_s = 2\n" + table)
    node = ServerProcess(config, port, directory / "serve.log", ["--workers", workers]).start(timeout=120)
    try:
        container, body = f"{node.url}bordeaux/proposals/", proposal()
        for _ in range(10):  # warm up: connections, caches
            timed(requests.post, container, 201, data=body, headers=WRITE)
        written: list[str] = []

        def write(_: int) -> float:
            started = time.perf_counter()
            response = requests.post(container, data=body, headers=WRITE, timeout=120)
            if response.status_code != 201:
                raise RuntimeError(f"POST answered {response.status_code}: {response.text[:300]}")
            written.append(response.headers["Location"])
            return time.perf_counter() - started

        def read(i: int) -> float:
            url = container if i % 10 == 0 else written[i % len(written)]
            return timed(requests.get, url, 200, headers={"Accept": "application/ld+json"})

        phases = [measured("POST", node, engines, posts, clients, write),
                  measured("GET", node, engines, gets, clients, read)]
        whole = feed_is_whole(node.url, posts + 10)
        print(f"{backend}: feed whole: {whole}")
        for phase in phases:
            print(phase.line(), flush=True)
        seconds, held = wait_for_harvest(node, posts + 10)
        print(f"  the merged graph held {held} of the {posts + 10} proposals {seconds:.1f} s after the last GET")
        medians = endpoint_medians(node)
        for size in batch_sizes if documents else []:
            attempt = bulk_import(node, engines, documents, size)
            print(attempt.line(), flush=True)
            if not attempt.refused:
                break
        return medians
    finally:
        node.stop()
        for engine in engines:
            engine.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--gets", type=int, default=400)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--bulk", type=int, default=2000, help="proposals of the bulk import (0: none)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[2000, 200, 50],
                        help="documents per batch request, each tried in turn while batches are refused")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    args = parser.parse_args()
    print(f"{machine()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {args.posts} POSTs, {args.gets} GETs, "
          f"{args.clients} clients; bulk import of {args.bulk} proposals")
    endpoint: dict[str, dict[str, tuple[float, int]]] = {}
    for backend in args.backends:
        if backend.startswith("virtuoso") and virtuoso_command() is None:
            print(f"{backend}: skipped, virtuoso-t is missing (apt-get install virtuoso-opensource)")
            continue
        with tempfile.TemporaryDirectory() as directory:
            endpoint[backend] = run(backend, Path(directory), args.posts, args.gets, args.clients, args.bulk,
                                    args.batch_sizes)
    print("\n/sparql, median ms of 5 runs (rows):")
    names = list(next(iter(endpoint.values())))
    print(f"  {'query':26}" + "".join(f"{backend:>18}" for backend in endpoint))
    for name in names:
        print(f"  {name:26}" + "".join(f"{endpoint[b][name][0]:11.1f} ({endpoint[b][name][1]:3})" for b in endpoint))


if __name__ == "__main__":
    main()
