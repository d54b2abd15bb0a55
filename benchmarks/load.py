"""Mixed load, a long soak and three attacks against a real on-disk ``dds-pod serve`` node, over HTTP on loopback.

The node (``dds_pod.testing``: one serving process with waitress threads, an Oxigraph store on disk, harvesting its
own pods every few seconds) is seeded with a few hundred proposals, then:

- **mixed** (default): ``--duration`` seconds of traffic at each of ``--clients`` (8 and 16 by default), each
  client a thread with its own ``requests.Session``: 80 % GET (a resource as JSON-LD, or a container page),
  15 % POST of a new proposal (validated), 5 % SPARQL over the merged graph. Prints throughput, p50/p99
  latency, the error count (anything but the expected status; it must be 0) and the server's RSS (every
  process of its group, from ``/proc``) at the start and end.
- ``--soak SECONDS``: the same traffic at the first client count for SECONDS, printing RSS every tenth.
- ``--attack``: plain-GET p50/p99 of 4 measuring clients, first alone (the baseline), then while each attack
  runs: 64 slow clients sending their request headers one byte at a time; a flood of inbox notifications
  (16 clients); a SPARQL storm of 16 clients sending heavy queries. A GET that fails or takes over 10 s
  counts as an error of the measuring clients.

    .venv/bin/python -m benchmarks.load [--duration 60] [--clients 8,16] [--resources 300]
    .venv/bin/python -m benchmarks.load --soak 600 [--reads-only]
    .venv/bin/python -m benchmarks.load --attack [--duration 60]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dds_pod.testing import TOKENS, ServerProcess, free_port, write_config  # noqa: E402

EXAMPLES = ROOT / "examples" / "valid"
WRITE = {"Content-Type": "application/ld+json", "Authorization": f"Bearer {TOKENS['bordeaux']}"}
JSON_LD = {"Accept": "application/ld+json"}
SPARQL_JSON = {"Accept": "application/sparql-results+json"}
GET_TIMEOUT_S = 10
PAGE_SIZE = 20
MEASURING_CLIENTS = 4
SLOW_CLIENTS = 64
FLOOD_CLIENTS = 16
STORM_CLIENTS = 16

LIGHT_QUERY = """PREFIX dds: <https://w3id.org/dds/ns#> PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?p ?title WHERE { GRAPH ?g { ?p a dds:Proposal ; dcterms:title ?title } } LIMIT 20"""
HEAVY_QUERIES = (
    "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?a ?p ?b } GRAPH ?h { ?c ?q ?d } }",
    """SELECT ?s ?o WHERE { GRAPH ?g { ?s ?p ?o FILTER(REGEX(STR(?o), "v.*l.*o.*h", "i")) } }
       ORDER BY DESC(STR(?o)) LIMIT 50""",
    "SELECT ?a ?b WHERE { GRAPH ?g { ?a ?p ?x } GRAPH ?h { ?b ?q ?x } FILTER(?a != ?b) } ORDER BY ?a LIMIT 100",
)


def document(name: str, **changes) -> dict:
    found = json.loads((EXAMPLES / f"{name}.jsonld").read_text(encoding="utf-8"))
    found.pop("id", None)
    return {**found, **changes}


def server_rss_mb(pgid: int) -> float:
    """Resident memory of the server's lasting processes: the supervisor (the group's leader) and the serving
    process it starts. A SPARQL query's child shares the serving process's pages copy-on-write, so counting one
    caught at a sample would count the server twice."""
    kilobytes = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[2]) != pgid or (int(entry) != pgid and int(fields[1]) != pgid):
                continue
            status = Path(f"/proc/{entry}/status").read_text()
        except (OSError, ValueError):
            continue
        kilobytes += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return kilobytes / 1024


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass
class Tally:
    """What a group of client threads saw: latencies in seconds and unexpected answers."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, started: float, problem: str | None) -> None:
        with self.lock:
            if problem is None:
                self.latencies.append(time.monotonic() - started)
            else:
                self.errors[problem] += 1

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def line(self, seconds: float) -> str:
        done = len(self.latencies)
        errors = ", ".join(f"{k}: {v}" for k, v in self.errors.most_common(3)) or "none"
        return (f"{done / seconds:8.1f} req/s   p50 {percentile(self.latencies, .5) * 1000:7.1f} ms   "
                f"p99 {percentile(self.latencies, .99) * 1000:7.1f} ms   errors {self.error_count} ({errors})")


class Node:
    """The node under load and what it was seeded with."""

    def __init__(self, directory: Path, resources: int) -> None:
        port = free_port()
        config = write_config(directory, port, data_dir=directory / "store", page_size=PAGE_SIZE)
        with config.open("a", encoding="utf-8") as file:
            file.write("[federation]\ninterval_s = 5\n")
        self.server = ServerProcess(config, port, directory / "server.log").start(timeout=60)
        self.base = self.server.url
        self.proposals = f"{self.base}bordeaux/proposals/"
        self.resources = [self.post_proposal(requests.Session(), f"seed-{i:04d}") for i in range(resources)]
        self.comment = self._seed_comment()

    @property
    def pgid(self) -> int:
        assert self.server.process is not None
        return self.server.process.pid  # started in a session of its own: its pid is the group's id

    def post_proposal(self, session: requests.Session, slug: str) -> str:
        body = document("proposal-piste-cyclable-victor-hugo", title={"fr": f"Proposition {slug}"})
        response = session.post(self.proposals, data=json.dumps(body), headers={**WRITE, "Slug": slug},
                                timeout=GET_TIMEOUT_S)
        if response.status_code != 201:
            raise RuntimeError(f"seeding failed: {response.status_code} {response.text[:300]}")
        return response.headers["Location"]

    def _seed_comment(self) -> str:
        """A Paris comment on a Bordeaux proposal: what the flooded notifications announce."""
        body = document("comment-on-proposal", inReplyTo=self.resources[0])
        response = requests.post(f"{self.base}paris/comments/", data=json.dumps(body), timeout=GET_TIMEOUT_S,
                                 headers={**WRITE, "Authorization": f"Bearer {TOKENS['paris']}"})
        if response.status_code != 201:
            raise RuntimeError(f"seeding the comment failed: {response.status_code} {response.text[:300]}")
        return response.headers["Location"]

    def stop(self) -> None:
        self.server.stop()


def run_clients(count: int, seconds: float, action: Callable[[requests.Session, random.Random], str | None],
                tally: Tally, stop: threading.Event | None = None) -> None:
    """``count`` threads calling ``action`` until ``seconds`` pass (or ``stop`` is set); each call is tallied."""
    stop = stop or threading.Event()
    end = time.monotonic() + seconds

    def client(seed: int) -> None:
        session, rng = requests.Session(), random.Random(seed)
        while time.monotonic() < end and not stop.is_set():
            started = time.monotonic()
            try:
                problem = action(session, rng)
            except requests.RequestException as exc:
                problem = type(exc).__name__
            tally.record(started, problem)

    threads = [threading.Thread(target=client, args=(seed,), daemon=True) for seed in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 2 * GET_TIMEOUT_S)


def expect(response: requests.Response, status: int) -> str | None:
    return None if response.status_code == status else f"HTTP {response.status_code}"


def mixed_action(node: Node, writes: bool = True) -> Callable[[requests.Session, random.Random], str | None]:
    """One request of the mix; without ``writes`` the POSTs are resource GETs, so the data stays as seeded."""
    posted = Counter()

    def action(session: requests.Session, rng: random.Random) -> str | None:
        roll = rng.random()
        if roll < 0.55 or (not writes and 0.80 <= roll < 0.95):
            return expect(session.get(rng.choice(node.resources), headers=JSON_LD, timeout=GET_TIMEOUT_S), 200)
        if roll < 0.80:
            offset = rng.randrange(0, len(node.resources), PAGE_SIZE)
            return expect(session.get(f"{node.proposals}?limit={PAGE_SIZE}&offset={offset}", headers=JSON_LD,
                                      timeout=GET_TIMEOUT_S), 200)
        if roll < 0.95:
            posted[threading.get_ident()] += 1
            slug = f"load-{threading.get_ident()}-{posted[threading.get_ident()]}"
            body = document("proposal-piste-cyclable-victor-hugo", title={"fr": f"Charge {slug}"})
            return expect(session.post(node.proposals, data=json.dumps(body), headers={**WRITE, "Slug": slug},
                                       timeout=GET_TIMEOUT_S), 201)
        return expect(session.post(f"{node.base}sparql", data={"query": LIGHT_QUERY}, headers=SPARQL_JSON,
                                   timeout=GET_TIMEOUT_S), 200)

    return action


def mixed(node: Node, clients: list[int], seconds: float) -> int:
    print(f"\nMixed traffic, {seconds:g} s per run (80 % GET, 15 % POST, 5 % SPARQL)")
    errors = 0
    for count in clients:
        tally, rss_start = Tally(), server_rss_mb(node.pgid)
        run_clients(count, seconds, mixed_action(node), tally)
        print(f"  {count:3d} clients: {tally.line(seconds)}   RSS {rss_start:.0f} -> "
              f"{server_rss_mb(node.pgid):.0f} MB")
        errors += tally.error_count
    return errors


def soak(node: Node, clients: int, seconds: float, writes: bool) -> int:
    mix = "mixed traffic" if writes else "reads only (the POSTs replaced by GETs)"
    print(f"\nSoak: {mix} at {clients} clients for {seconds:g} s, server RSS over time")
    tally, stop = Tally(), threading.Event()
    load = threading.Thread(target=run_clients, args=(clients, seconds, mixed_action(node, writes), tally, stop))
    started = time.monotonic()
    print(f"  t = {0:6.0f} s   RSS {server_rss_mb(node.pgid):7.1f} MB")
    load.start()
    step = max(seconds / 10, 1.0)
    while load.is_alive():
        load.join(step)
        print(f"  t = {time.monotonic() - started:6.0f} s   RSS {server_rss_mb(node.pgid):7.1f} MB   "
              f"{len(tally.latencies)} requests, {tally.error_count} errors")
    print(f"  overall: {tally.line(seconds)}")
    return tally.error_count


# ------------------------------------------------------------------------------------------ attacks

def slow_clients(node: Node, stop: threading.Event) -> tuple[Tally, list[threading.Thread]]:
    """Sockets that send a GET's headers one byte a second, and reconnect when the server hangs up."""
    parts = urlsplit(node.base)
    request = (f"GET {urlsplit(node.resources[0]).path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
               + "X-Slow: " + "a" * 4000 + "\r\n\r\n").encode()
    tally = Tally()

    def client() -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
                    for byte in request:
                        if stop.wait(1.0):
                            return
                        sock.sendall(bytes([byte]))
            except OSError as exc:
                tally.record(started, type(exc).__name__)  # the server hung up: a defence, counted

    return tally, _started([threading.Thread(target=client, daemon=True) for _ in range(SLOW_CLIENTS)])


def inbox_flood(node: Node, stop: threading.Event) -> tuple[Tally, list[threading.Thread]]:
    notice = json.dumps({"@context": "https://www.w3.org/ns/activitystreams", "type": "Create",
                         "actor": f"{node.base}paris/", "object": node.comment, "target": node.resources[0]})
    tally = Tally()

    def action(session: requests.Session, rng: random.Random) -> str | None:
        response = session.post(f"{node.base}bordeaux/inbox/", data=notice, timeout=GET_TIMEOUT_S,
                                headers={"Content-Type": "application/ld+json"})
        return None if response.status_code in (200, 201) else f"HTTP {response.status_code}"

    return tally, _started([threading.Thread(target=run_clients, args=(FLOOD_CLIENTS, 1e9, action, tally, stop))])


def sparql_storm(node: Node, stop: threading.Event) -> tuple[Tally, list[threading.Thread]]:
    tally = Tally()

    def action(session: requests.Session, rng: random.Random) -> str | None:
        response = session.post(f"{node.base}sparql", data={"query": rng.choice(HEAVY_QUERIES)},
                                headers=SPARQL_JSON, timeout=60)
        return expect(response, 200)

    return tally, _started([threading.Thread(target=run_clients, args=(STORM_CLIENTS, 1e9, action, tally, stop))])


def _started(threads: list[threading.Thread]) -> list[threading.Thread]:
    for thread in threads:
        thread.start()
    return threads


def recovery_s(node: Node, limit: float = 120.0) -> float:
    """Seconds until a plain GET is answered again within its timeout (the attack's after-effect)."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        try:
            if requests.get(node.resources[0], headers=JSON_LD, timeout=GET_TIMEOUT_S).status_code == 200:
                break
        except requests.RequestException:
            pass
    return time.monotonic() - started


def plain_gets(node: Node, seconds: float) -> Tally:
    tally = Tally()
    target = node.resources[len(node.resources) // 2]
    run_clients(MEASURING_CLIENTS, seconds,
                lambda session, rng: expect(session.get(target, headers=JSON_LD, timeout=GET_TIMEOUT_S), 200), tally)
    return tally


def attacks(node: Node, seconds: float) -> int:
    print(f"\nPlain GET of one resource by {MEASURING_CLIENTS} clients, {seconds:g} s each: "
          "baseline, then under attack")
    errors = 0
    for name, attack in (("64 slow clients", slow_clients), ("inbox flood", inbox_flood),
                         ("SPARQL storm", sparql_storm)):
        baseline = plain_gets(node, seconds)
        stop = threading.Event()
        attacker, threads = attack(node, stop)
        time.sleep(min(5.0, seconds / 4))  # let the attack take hold
        under = plain_gets(node, seconds)
        stop.set()
        for thread in threads:  # the attackers' last requests end (or time out) before anything else runs
            thread.join(90)
        print(f"  {name}")
        print(f"    baseline     {baseline.line(seconds)}")
        print(f"    under attack {under.line(seconds)}")
        print(f"    attacker     {len(attacker.latencies)} answered, {attacker.error_count} refused or failed "
              f"({', '.join(f'{k}: {v}' for k, v in attacker.errors.most_common(3)) or 'none'})")
        print(f"    server RSS {server_rss_mb(node.pgid):.0f} MB, alive: {node.server.alive}, plain GETs answered "
              f"again {recovery_s(node):.1f} s after the attack stopped")
        errors += baseline.error_count
    return errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds per run (default 60)")
    parser.add_argument("--clients", default="8,16", help="client counts of the mixed runs (default 8,16)")
    parser.add_argument("--resources", type=int, default=300, help="proposals seeded first (default 300)")
    parser.add_argument("--soak", type=float, metavar="SECONDS", help="run the soak for SECONDS instead")
    parser.add_argument("--reads-only", action="store_true",
                        help="soak without writes, so that memory is measured on data that does not grow")
    parser.add_argument("--attack", action="store_true", help="run the attacks instead")
    args = parser.parse_args(argv)
    clients = [int(c) for c in args.clients.split(",")]
    with tempfile.TemporaryDirectory(prefix="dds-load-") as directory:
        started = time.monotonic()
        node = Node(Path(directory), args.resources)
        print(f"Node {node.base}: on-disk store, {args.resources} proposals seeded in "
              f"{time.monotonic() - started:.1f} s, server RSS {server_rss_mb(node.pgid):.0f} MB")
        try:
            if args.soak:
                errors = soak(node, clients[0], args.soak, writes=not args.reads_only)
            elif args.attack:
                errors = attacks(node, args.duration)
            else:
                errors = mixed(node, clients, args.duration)
        finally:
            node.stop()
    print(f"\n{'no errors' if errors == 0 else f'{errors} errors'}")
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
