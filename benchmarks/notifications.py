"""What notifications cost a write, and how soon subscribers hear of it, on ``dds-pod serve``.

A node with two pods on an in-memory store. First N POSTs of a proposal with no channel open (a write then
only probes its feed). Then SUBSCRIBERS websocket clients subscribe to the proposals container and the same N
POSTs are timed again, while each subscriber notes when each ``Add`` arrives: the delay from the write's answer
to the notification is printed (median, 95th percentile), with the notifications lost (there should be none).

    .venv/bin/python -m benchmarks.notifications [--writes 200] [--subscribers 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from websockets.sync.client import connect  # noqa: E402

from dds_pod.testing import TOKENS, ServerProcess, free_port, write_config  # noqa: E402

PROPOSAL = json.loads((ROOT / "examples" / "valid" / "proposal-community-garden.jsonld").read_text(encoding="utf-8"))
PROPOSAL.pop("id", None)
HEADERS = {"Content-Type": "application/ld+json", "Authorization": f"Bearer {TOKENS['bordeaux']}",
           "Prefer": "return=minimal"}


class Subscriber(threading.Thread):
    """One websocket client on a channel, noting when each notification's object arrived."""

    def __init__(self, receive_from: str) -> None:
        super().__init__(daemon=True)
        self.socket = connect(receive_from)
        self.heard: dict[str, float] = {}

    def run(self) -> None:
        try:
            for message in self.socket:
                self.heard[json.loads(message)["object"]] = time.perf_counter()
        except Exception:  # closed at the end of the run
            return


def _writes(base: str, count: int) -> tuple[list[float], dict[str, float]]:
    """Seconds per POST, and when each answered (by the new resource's IRI)."""
    durations, answered = [], {}
    with requests.Session() as session:
        for _ in range(count):
            start = time.perf_counter()
            response = session.post(f"{base}bordeaux/proposals/", data=json.dumps(PROPOSAL), headers=HEADERS,
                                    timeout=10)
            end = time.perf_counter()
            response.raise_for_status()
            durations.append(end - start)
            answered[response.headers["Location"]] = end
    return durations, answered


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return f"median {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--subscribers", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        port = free_port()
        config = write_config(Path(directory), port)
        config.write_text(config.read_text(encoding="utf-8")
                          + f"[notifications]\nmax_channels_per_topic = {args.subscribers}\n", encoding="utf-8")
        node = ServerProcess(config, port, Path(directory) / "server.log").start()
        try:
            base = node.url
            alone, _ = _writes(base, args.writes)
            print(f"POST without channels:        {_ms(alone)}")
            service = f"{base}.notifications/WebSocketChannel2023/"
            body = json.dumps({"type": "WebSocketChannel2023", "topic": f"{base}bordeaux/proposals/"})
            subscribers = [Subscriber(requests.post(service, data=body, timeout=5, headers={
                "Content-Type": "application/ld+json"}).json()["receiveFrom"]) for _ in range(args.subscribers)]
            for subscriber in subscribers:
                subscriber.start()
            watched, answered = _writes(base, args.writes)
            time.sleep(1)
            print(f"POST with {args.subscribers} subscribers:    {_ms(watched)}")
            delays = [heard - answered[iri] for s in subscribers for iri, heard in s.heard.items() if iri in answered]
            lost = args.writes * args.subscribers - len(delays)
            print(f"answer to notification:       {_ms(delays)} ({len(delays)} notifications, {lost} lost)")
            for subscriber in subscribers:
                subscriber.socket.close()
        finally:
            node.stop()


if __name__ == "__main__":
    main()
