"""Throughput and server CPU per request of a real ``dds-pod serve`` process, over HTTP on loopback.

Starts one node (in-memory store, one serving process with waitress threads), fills a 100-member and a 1000-member
container with the Victor-Hugo proposal, then times sequential batches from one client
(``requests.Session``): GET one resource as JSON-LD, GET the container as JSON-LD and as Turtle,
POST a new proposal (SHACL validation included). The server's CPU time is read from
``/proc/*/stat`` (utime + stime of every process in the server's process group: the supervisor
and the serving process) before and after each batch. Each batch is warmed up first.

GET batches: median of 3 rounds, each at least N requests and 0.3 s of server CPU (the kernel counts
CPU time in 10 ms ticks). POST batch: one round of N requests into the measured container.

    .venv/bin/python -m benchmarks.pods [--small 200] [--container 30] [--post 100]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dds_pod.testing import TOKENS, ServerProcess, free_port, write_config  # noqa: E402

EXAMPLE = ROOT / "examples" / "valid" / "proposal-piste-cyclable-victor-hugo.jsonld"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WRITE = {"Content-Type": "application/ld+json", "Authorization": f"Bearer {TOKENS['bordeaux']}"}
JSON_LD = {"Accept": "application/ld+json"}
TURTLE = {"Accept": "text/turtle"}

# Targets (server CPU ms per request) and Community Solid Server 7.2 on this kind of machine.
TARGET_SMALL_GET, TARGET_POST, TARGET_CONTAINER_1000 = 1.5, 3.0, 25.0
CSS_SMALL, CSS_CONTAINER_100, CSS_CONTAINER_1000 = 2.0, 25.0, 250.0


@dataclass
class Row:
    name: str
    requests: int
    per_second: float
    cpu_ms: float
    bytes: int
    target: float | None
    css: float | None


def group_cpu_seconds(pgid: int) -> float:
    """utime + stime of every live process whose process group is ``pgid``."""
    ticks = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()  # fields from 3 (state) on; comm may hold spaces
        if int(fields[2]) == pgid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLOCK_TICKS


def proposal() -> bytes:
    document = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    document.pop("id", None)
    return json.dumps(document).encode("utf-8")


class Bench:
    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.base = server.url
        self.session = requests.Session()
        self.body = proposal()
        self.counter = 0

    def create_container(self, slug: str) -> str:
        response = self.session.post(f"{self.base}bordeaux/", data=b"", headers={
            "Content-Type": "text/turtle", "Authorization": WRITE["Authorization"], "Slug": slug,
            "Link": '<http://www.w3.org/ns/ldp#BasicContainer>; rel="type"'})
        response.raise_for_status()
        return response.headers["Location"]

    def post_proposal(self, container: str) -> requests.Response:
        self.counter += 1
        response = self.session.post(container, data=self.body, headers={**WRITE, "Slug": f"p{self.counter:06d}"})
        if response.status_code != 201:
            raise RuntimeError(f"POST {container}: {response.status_code} {response.text[:500]}")
        return response

    def fill(self, container: str, members: int) -> str:
        first = None
        for _ in range(members):
            location = self.post_proposal(container).headers["Location"]
            first = first or location
        return first

    def batch(self, name: str, count: int, call, target: float | None, css: float | None, warmup: int = 5,
              rounds: int = 3, min_cpu: float = 0.3) -> Row:
        """Median over ``rounds`` rounds; a round repeats ``count`` calls until the server used ``min_cpu`` s."""
        size = 0
        for _ in range(warmup):
            size = len(call().content)
        pgid = self.server.process.pid
        cpu_ms, per_second, total = [], [], 0
        for _ in range(rounds):
            done, cpu_before, wall_before = 0, group_cpu_seconds(pgid), time.perf_counter()
            while True:
                for _ in range(count):
                    call()
                done += count
                cpu = group_cpu_seconds(pgid) - cpu_before
                if cpu >= min_cpu:
                    break
            per_second.append(done / (time.perf_counter() - wall_before))
            cpu_ms.append(cpu * 1000 / done)
            total += done
        return Row(name, total, statistics.median(per_second), statistics.median(cpu_ms), size, target, css)

    def get(self, url: str, headers: dict) -> requests.Response:
        response = self.session.get(url, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code} {response.text[:500]}")
        return response

    def measure(self, members: int, small: int, big: int, posts: int) -> list[Row]:
        container = self.create_container(f"bench{members}")
        member = self.fill(container, members)
        listed = len(self.get(container, JSON_LD).json().get("ldp:contains", []))
        if listed != members:
            raise RuntimeError(f"{container} lists {listed} members on its first page, not {members}")
        css_container = {100: CSS_CONTAINER_100, 1000: CSS_CONTAINER_1000}.get(members)
        target_container = TARGET_CONTAINER_1000 if members == 1000 else None
        return [
            self.batch(f"GET one proposal, JSON-LD ({members})", small,
                       lambda: self.get(member, JSON_LD), TARGET_SMALL_GET, CSS_SMALL),
            self.batch(f"GET container, {members} members, JSON-LD", big,
                       lambda: self.get(container, JSON_LD), target_container, css_container),
            self.batch(f"GET container, {members} members, Turtle", big,
                       lambda: self.get(container, TURTLE), None, None),
            # Last, one round of exactly ``posts`` requests: it grows the container (POST cost depends on its size).
            self.batch(f"POST proposal + SHACL (into {members}→{members + 5 + posts})", posts,
                       lambda: self.post_proposal(container), TARGET_POST, CSS_SMALL, rounds=1, min_cpu=0),
        ]


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.machine()}"


def print_table(rows: list[Row]) -> None:
    header = (f"| {'measurement':<40} | {'n':>4} | {'req/s':>7} | {'server CPU ms/req':>17} | {'bytes':>8} "
              f"| {'target ms':>9} | {'CSS 7.2 ms':>10} | {'ours/CSS':>8} |")
    print(header)
    print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
    for row in rows:
        target = "—" if row.target is None else (f"≤ {row.target:g}" + (" ✓" if row.cpu_ms <= row.target else " ✗"))
        css = "—" if row.css is None else f"{row.css:g}"
        ratio = "—" if row.css is None else f"{row.cpu_ms / row.css:.2f}"
        print(f"| {row.name:<40} | {row.requests:>4} | {row.per_second:>7.0f} | {row.cpu_ms:>17.2f} | "
              f"{row.bytes:>8} | {target:>9} | {css:>10} | {ratio:>8} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=200, help="requests per round of single-resource GETs")
    parser.add_argument("--container", type=int, default=30, help="requests per round of container GETs")
    parser.add_argument("--post", type=int, default=100, help="POSTs per batch (one round)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dds-bench-") as tmp:
        directory = Path(tmp)
        port = free_port()
        server = ServerProcess(write_config(directory, port, page_size=2000), port, directory / "server.log")
        server.start()
        try:
            bench = Bench(server)
            rows = bench.measure(100, args.small, args.container, args.post)
            rows += bench.measure(1000, args.small, args.container, args.post)
        except Exception:
            print(server.log()[-3000:], file=sys.stderr)
            raise
        finally:
            server.stop()

    print(f"machine: {machine()}")
    print(f"date: {date.today().isoformat()}   python {platform.python_version()}   "
          f"server: dds-pod serve (one process, waitress threads), in-memory store, page_size 2000")
    print("client: one requests.Session, sequential, loopback; server CPU = utime+stime of the server's "
          "process group / requests; GET rows: median of 3 rounds")
    print()
    print_table(rows)
    print()
    print(f"targets: small GET ≤ {TARGET_SMALL_GET:g} ms, POST with SHACL ≤ {TARGET_POST:g} ms, "
          f"1000-member JSON-LD container ≤ {TARGET_CONTAINER_1000:g} ms server CPU")
    print(f"CSS 7.2 reference: ~{CSS_SMALL:g} ms per small GET or POST (no validation), "
          f"{CSS_CONTAINER_100:g} ms for a 100-member JSON-LD container, {CSS_CONTAINER_1000:g} ms for 1000")


if __name__ == "__main__":
    main()
