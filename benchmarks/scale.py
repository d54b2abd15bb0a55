"""One node on each store it can run on, in one run on one machine: embedded, Oxigraph server with 1 and with 4 web
processes, Virtuoso with 4.

For each backend a node with ``data_dir`` (and, on a remote store, two engines: the pods', the merged graph's) takes
``--posts`` POSTs of a proposal into ``bordeaux/proposals/`` then ``--gets`` GETs (each written resource in turn,
and every tenth request the container's first page), from ``--clients`` threads. Printed per backend and phase:
requests/s, p50 and p99 latency, and the CPU the node's processes and the engines spent per request (their
process groups' user + system time, read from /proc before and after the phase), and whether the change feed holds
one event per POST without a gap. Then the six federation queries of ``benchmarks/federation.py`` through the
node's ``/sparql``, over what the node harvested of its own pod (a small merged graph: the endpoint's and the
engine's cost per query, not a large federation's), median of five runs.

Virtuoso (Debian's ``virtuoso-opensource``, not in CI) is skipped when ``virtuoso-t`` is missing. Each of its
instances gets a folder, a configuration and ports of its own, and its anonymous SPARQL user the right to update.

    .venv/bin/python -m benchmarks.scale [--posts 200] [--gets 400] [--clients 16] [--backends embedded ...]
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
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
from benchmarks.pods import group_cpu_seconds, machine  # noqa: E402
from benchmarks.processes import WRITE, feed_is_whole, proposal  # noqa: E402
from dds_pod.testing import OxigraphServer, ServerProcess, free_port, terminate, write_config  # noqa: E402

VIRTUOSO = shutil.which("virtuoso-t")
VIRTUOSO_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
ISQL = shutil.which("isql-vt")
BACKENDS = ("embedded", "oxigraph-1", "oxigraph-4", "virtuoso-4")


class VirtuosoServer:
    """``virtuoso-t`` in the foreground on free loopback ports, its database in ``folder``; /sparql takes updates."""

    def __init__(self, folder: Path) -> None:
        if VIRTUOSO is None or ISQL is None:
            raise RuntimeError("virtuoso-t is missing: apt-get install virtuoso-opensource")
        folder.mkdir(parents=True)
        self.folder, self.sql_port, self.http_port = folder, free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.http_port}/"
        self.process: subprocess.Popen | None = None
        ini = VIRTUOSO_INI.read_text(encoding="utf-8").replace("/var/lib/virtuoso-opensource-7/db/", f"{folder}/")
        settings = {"ServerPort": None, "MaxClientConnections": "40", "ServerThreads": "40",
                    "NumberOfBuffers": "20000", "MaxDirtyBuffers": "15000"}
        lines, section = [], ""
        for line in ini.splitlines():
            if line.startswith("["):
                section = line.strip()
            key = line.split("=", 1)[0].strip()
            if key == "ServerPort":
                port = self.sql_port if section == "[Parameters]" else self.http_port
                line = f"ServerPort = 127.0.0.1:{port}" if section in ("[Parameters]", "[HTTPServer]") else line
            elif key in settings and settings[key] is not None:
                line = f"{key} = {settings[key]}"
            lines.append(line)
        (folder / "virtuoso.ini").write_text("\n".join(lines) + "\n", encoding="utf-8")

    @property
    def query_url(self) -> str:
        return self.url + "sparql"

    update_url = query_url

    def start(self, timeout: float = 120) -> VirtuosoServer:
        with (self.folder / "out.log").open("ab") as log:
            self.process = subprocess.Popen([VIRTUOSO, "-f", "-c", str(self.folder / "virtuoso.ini")],
                                            cwd=self.folder, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"virtuoso exited: {(self.folder / 'out.log').read_text(errors='replace')}")
            try:
                requests.get(self.query_url, params={"query": "ASK {}"}, timeout=1).raise_for_status()
                break
            except requests.RequestException:
                time.sleep(0.3)
        else:
            raise RuntimeError("virtuoso did not start")
        subprocess.run([ISQL, f"127.0.0.1:{self.sql_port}", "dba", "dba"], input='GRANT SPARQL_UPDATE TO "SPARQL";\n',
                       text=True, capture_output=True, check=True, timeout=30)
        return self

    def stop(self) -> None:
        if self.process:
            terminate(self.process)


Engine = OxigraphServer | VirtuosoServer


def store_table(pods: Engine, merged: Engine, dialect: str, lock_dir: Path) -> str:
    return "\n".join([
        "[store]", 'backend = "sparql"', f'dialect = "{dialect}"', f'query_url = "{pods.query_url}"',
        f'update_url = "{pods.update_url}"', "timeout_s = 30", f'lock_dir = "{lock_dir}"',
        "[store.federation]", f'query_url = "{merged.query_url}"', f'update_url = "{merged.update_url}"', ""])


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


def timed(method: Callable[..., requests.Response], url: str, status: int, **arguments) -> float:
    started = time.perf_counter()
    response = method(url, timeout=120, **arguments)
    if response.status_code != status:
        raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:300]}")
    return time.perf_counter() - started


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
    return engines, store_table(engines[0], engines[1], dialect, directory / "locks")


def run(backend: str, directory: Path, posts: int, gets: int, clients: int) -> dict[str, tuple[float, int]]:
    engines, table = engines_for(backend, directory)
    workers = backend.rpartition("-")[2] if "-" in backend else "1"
    port = free_port()
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
        time.sleep(4)  # a harvest round: the merged graph holds the pod's proposals
        return endpoint_medians(node)
    finally:
        node.stop()
        for engine in engines:
            engine.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--gets", type=int, default=400)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    args = parser.parse_args()
    print(f"{machine()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {args.posts} POSTs, {args.gets} GETs, "
          f"{args.clients} clients")
    endpoint: dict[str, dict[str, tuple[float, int]]] = {}
    for backend in args.backends:
        if backend.startswith("virtuoso") and VIRTUOSO is None:
            print(f"{backend}: skipped, virtuoso-t is missing (apt-get install virtuoso-opensource)")
            continue
        with tempfile.TemporaryDirectory() as directory:
            endpoint[backend] = run(backend, Path(directory), args.posts, args.gets, args.clients)
    print("\n/sparql, median ms of 5 runs (rows):")
    names = list(next(iter(endpoint.values())))
    print(f"  {'query':26}" + "".join(f"{backend:>18}" for backend in endpoint))
    for name in names:
        print(f"  {name:26}" + "".join(f"{endpoint[b][name][0]:11.1f} ({endpoint[b][name][1]:3})" for b in endpoint))


if __name__ == "__main__":
    main()
