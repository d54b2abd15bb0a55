"""POSTs per second to one pod on Oxigraph server, served by 1 and by 4 processes (``dds-pod serve --workers N``).

Two Oxigraph servers (pods, merged graph) and a node with ``data_dir``; ``--clients`` threads POST the same
proposal into ``bordeaux/proposals/`` until ``--posts`` are written, each on its own connection. Printed per
process count: POSTs/s, p50 and p99 latency, and the check that the change feed holds one event per POST, numbered
without gap. On a machine of few cores, the engine, the node's processes and the clients share them.

    .venv/bin/python -m benchmarks.processes [--posts 400] [--clients 16] [--workers 1 4]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from rdflib import Graph, Namespace

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dds_pod.testing import (  # noqa: E402
    TOKENS,
    OxigraphServer,
    ServerProcess,
    free_port,
    sparql_store_table,
    write_config,
)

EXAMPLE = ROOT / "examples" / "valid" / "proposal-piste-cyclable-victor-hugo.jsonld"
AS, DDS = Namespace("https://www.w3.org/ns/activitystreams#"), Namespace("https://w3id.org/dds/ns#")
WRITE = {"Content-Type": "application/ld+json", "Authorization": f"Bearer {TOKENS['bordeaux']}"}


def proposal() -> bytes:
    document = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    document.pop("id", None)
    return json.dumps(document).encode("utf-8")


def post(url: str, body: bytes) -> float:
    started = time.perf_counter()
    response = requests.post(url, data=body, headers=WRITE, timeout=60)
    if response.status_code != 201:
        raise RuntimeError(f"POST answered {response.status_code}: {response.text[:300]}")
    return time.perf_counter() - started


def feed_is_whole(base: str, posts: int) -> bool:
    """Whether the pod's feed numbers one event per POST, 1 to ``posts``, each about one resource."""
    response = requests.get(f"{base}bordeaux/changes/", params={"since": 0, "limit": 1000},
                            headers={"Accept": "text/turtle"}, timeout=60)
    graph = Graph().parse(data=response.text, format="turtle")
    sequences = sorted(int(value) for value in graph.objects(None, DDS.sequence))
    events = set(graph.subjects(AS.object, None))
    return sequences == list(range(1, posts + 1)) and all(len(set(graph.objects(e, AS.object))) == 1 for e in events)


def run(directory: Path, workers: int, posts: int, clients: int) -> str:
    pods = OxigraphServer(directory / "pods", directory / "pods.log").start()
    merged = OxigraphServer(directory / "merged", directory / "merged.log").start()
    port = free_port()
    config = write_config(directory, port, data_dir=directory / "data")
    with config.open("a", encoding="utf-8") as file:
        file.write(sparql_store_table(pods, merged, timeout_s=30, lock_dir=directory / "locks"))
    node = ServerProcess(config, port, directory / "serve.log", ["--workers", str(workers)]).start(timeout=60)
    try:
        url, body = f"{node.url}bordeaux/proposals/", proposal()
        for _ in range(10):  # warm up: connections, caches
            post(url, body)
        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            latencies = sorted(pool.map(lambda _: post(url, body), range(posts)))
        seconds = time.perf_counter() - started
        whole = feed_is_whole(node.url, posts + 10)
    finally:
        node.stop()
        pods.stop()
        merged.stop()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return (f"{workers} process(es): {posts / seconds:6.1f} POSTs/s, p50 {statistics.median(latencies) * 1000:6.1f} "
            f"ms, p99 {p99 * 1000:6.1f} ms, feed whole: {whole}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=400)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    for workers in args.workers:
        with tempfile.TemporaryDirectory() as directory:
            print(run(Path(directory), workers, args.posts, args.clients), flush=True)


if __name__ == "__main__":
    main()
