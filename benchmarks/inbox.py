"""Plain reads of a real ``dds-pod serve`` process while its inbox is flooded with notifications about a slow member.

Starts a loopback member pod that takes ``--slow`` seconds to answer any read, and one node that federates
it. Client threads then POST distinct notifications (each announcing another reaction of the slow member)
to the node's inbox for ``--seconds``, while one client GETs a proposal in a loop: the latency of those GETs
before and during the flood, the latency of the inbox POSTs and how they were answered (202 queued, 429 past
the member's limit, 503 queue full) are printed as a Markdown table.

    .venv/bin/python -m benchmarks.inbox [--seconds 15] [--senders 16] [--slow 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dds_pod.testing import TOKENS, Loopback, QuietHandler, ServerProcess, free_port  # noqa: E402

EXAMPLE = ROOT / "examples" / "valid" / "proposal-piste-cyclable-victor-hugo.jsonld"
MEMBER_PLATFORM = "https://decidim.slow.example"


def slow_member(delay_s: float) -> Loopback:
    class Slow(QuietHandler):
        def do_GET(self) -> None:
            time.sleep(delay_s)
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_HEAD = do_GET

    return Loopback(Slow)


def node_config(directory: Path, port: int, member: str, slow_s: float) -> Path:
    lines = [
        f'base_url = "http://127.0.0.1:{port}/"', f'data_dir = "{directory / "store"}"',
        "[pods.bordeaux]", 'title = "Bordeaux"', 'platform = "https://participation.bordeaux-metropole.example"',
        f'token = "{TOKENS["bordeaux"]}"',
        "[federation]", f"members = {json.dumps([member])}",
        f"member_platforms = {{ {json.dumps(member)} = {json.dumps(MEMBER_PLATFORM)} }}",
        "interval_s = 3600", f"fetch_timeout_s = {slow_s + 1}",
    ]
    path = directory / "node.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def timed_gets(url: str, until: float) -> list[float]:
    session, latencies = requests.Session(), []
    while time.monotonic() < until:
        start = time.perf_counter()
        answer = session.get(url, headers={"Accept": "application/ld+json"}, timeout=60)
        latencies.append(time.perf_counter() - start)
        assert answer.status_code == 200, answer.text
    return latencies


def flood(inbox: str, member: str, target: str, until: float, sender: int, answers: Counter,
          latencies: list[float]) -> None:
    session = requests.Session()
    for n in range(10**9):
        if time.monotonic() >= until:
            return
        document = {"@context": "https://www.w3.org/ns/activitystreams", "type": "Create", "actor": member,
                    "object": f"{member}comments/{sender}-{n}", "target": target}
        start = time.perf_counter()
        answer = session.post(inbox, data=json.dumps(document), headers={"Content-Type": "application/ld+json"},
                              timeout=60)
        latencies.append(time.perf_counter() - start)
        answers[answer.status_code] += 1


def ms(values: list[float], quantile: float) -> str:
    if not values:
        return "—"
    ordered = sorted(values)
    return f"{1000 * ordered[min(len(ordered) - 1, int(quantile * len(ordered)))]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--slow", type=float, default=5.0)
    args = parser.parse_args()

    member_server = slow_member(args.slow)
    member = f"{member_server.url}slow/"
    with tempfile.TemporaryDirectory() as directory:
        port = free_port()
        node = ServerProcess(node_config(Path(directory), port, member, args.slow), port,
                             Path(directory) / "node.log").start()
        try:
            document = {k: v for k, v in json.loads(EXAMPLE.read_text(encoding="utf-8")).items() if k != "id"}
            created = requests.post(f"{node.url}bordeaux/proposals/", data=json.dumps(document), timeout=10,
                                    headers={"Content-Type": "application/ld+json",
                                             "Authorization": f"Bearer {TOKENS['bordeaux']}"})
            assert created.status_code == 201, created.text
            proposal = created.headers["Location"]
            before = timed_gets(proposal, time.monotonic() + 2)
            answers: Counter = Counter()
            posts: list[float] = []
            until = time.monotonic() + args.seconds
            senders = [threading.Thread(target=flood, args=(f"{node.url}bordeaux/inbox/", member, proposal, until,
                                                            n, answers, posts)) for n in range(args.senders)]
            for thread in senders:
                thread.start()
            during = timed_gets(proposal, until)
            for thread in senders:
                thread.join()
        finally:
            node.stop()
            member_server.close()

    print(f"{args.senders} senders for {args.seconds:.0f} s, member answering in {args.slow:.0f} s; "
          f"inbox answers: {dict(sorted(answers.items()))}\n")
    print("| measurement | n | p50 ms | p95 ms |\n|---|---:|---:|---:|")
    print(f"| GET one proposal, before the flood | {len(before)} | {ms(before, 0.5)} | {ms(before, 0.95)} |")
    print(f"| GET one proposal, during the flood | {len(during)} | {ms(during, 0.5)} | {ms(during, 0.95)} |")
    print(f"| POST a notification, during the flood | {len(posts)} | {ms(posts, 0.5)} | {ms(posts, 0.95)} |")
    if during:
        print(f"\nmean GET during the flood: {1000 * statistics.fmean(during):.1f} ms")


if __name__ == "__main__":
    main()
