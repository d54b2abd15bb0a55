"""Latency of a normal GET while slow clients hold connections, for ``dds-pod serve`` (waitress: a request is read
whole before a thread serves it) beside plain gunicorn with gthread workers (a thread per connection being read).

Each server gets a node with two pods on an in-memory store. First the baseline: N sequential GETs of the root
page with no other client. Then SLOW clients connect and send one byte every half second (half of them sending
headers, half of them a body after complete headers) and the same N GETs are timed. A GET that does not answer
within the timeout counts as a failure; after five failures in a row the server is reported starved.

    .venv/bin/python -m benchmarks.slow_clients [--slow 64] [--requests 300] [--timeout 2]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dds_pod.testing import TOKENS, ServerProcess, free_port, write_config  # noqa: E402


class SlowClients:
    def __init__(self, port: int, count: int) -> None:
        self.sockets, self.requests = [], []
        for index in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            if index % 2:
                request = b"GET /bordeaux/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 10_000
            else:
                sock.sendall(b"POST /bordeaux/proposals/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             b"Content-Type: application/ld+json\r\nContent-Length: 10000\r\n\r\n")
                request = b"{" + b" " * 9_000
            self.sockets.append(sock)
            self.requests.append(request)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drip, daemon=True)
        self._thread.start()

    def _drip(self) -> None:
        sent = 0
        while not self._stop.wait(0.5):
            for sock, request in zip(self.sockets, self.requests, strict=True):
                with contextlib.suppress(OSError):  # closed by the server at a deadline: less load, as figures show
                    sock.send(request[sent:sent + 1])
            sent += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for sock in self.sockets:
            sock.close()


def timed_gets(url: str, count: int, timeout: float) -> tuple[list[float], int, bool]:
    """Latencies in ms of the GETs that answered, how many failed, and whether five failed in a row."""
    latencies, failures, in_a_row = [], 0, 0
    for _ in range(count):
        started = time.perf_counter()
        try:
            ok = requests.get(url, timeout=timeout).status_code == 200
        except requests.RequestException:
            ok = False
        if ok:
            latencies.append((time.perf_counter() - started) * 1000)
            in_a_row = 0
        else:
            failures, in_a_row = failures + 1, in_a_row + 1
            if in_a_row >= 5:
                return latencies, failures, True
    return latencies, failures, False


def summary(latencies: list[float], failures: int, starved: bool) -> str:
    if not latencies:
        return f"no answer ({failures} failed{', starved' if starved else ''})"
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"p50 {statistics.median(ordered):6.1f} ms  p99 {p99:6.1f} ms  max {ordered[-1]:6.1f} ms  "
            f"{len(ordered)} ok, {failures} failed{', starved' if starved else ''}")


def start_gunicorn(config: Path, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "DDS_CONFIG": str(config), "DDS_TEST_TOKEN_PARIS": TOKENS["paris"]}
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "8", "-k", "gthread",
                                "-b", f"127.0.0.1:{port}", "dds_pod.wsgi:app"], cwd=ROOT, env=env,
                               stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                return process
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(log.read_text())


def measure(name: str, url: str, port: int, args: argparse.Namespace) -> None:
    print(f"{name:<34} alone:        {summary(*timed_gets(url, args.requests, args.timeout))}", flush=True)
    slow = SlowClients(port, args.slow)
    try:
        time.sleep(1)
        figures = summary(*timed_gets(url, args.requests, args.timeout))
        print(f"{name:<34} {args.slow} slow clients: {figures}", flush=True)
    finally:
        slow.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", type=int, default=64, help="slow clients (default: 64)")
    parser.add_argument("--requests", type=int, default=300, help="timed GETs per phase (default: 300)")
    parser.add_argument("--timeout", type=float, default=2.0, help="a GET slower than this fails (default: 2 s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        port = free_port()
        serve = ServerProcess(write_config(folder, port), port, folder / "serve.log").start()
        try:
            measure("dds-pod serve (waitress)", serve.url, port, args)
        finally:
            serve.stop()
        port = free_port()
        gunicorn = start_gunicorn(write_config(folder, port), port, folder / "gunicorn.log")
        try:
            measure("gunicorn gthread, 8 threads", f"http://127.0.0.1:{port}/", port, args)
        finally:
            os.killpg(gunicorn.pid, signal.SIGTERM)
            gunicorn.wait(30)


if __name__ == "__main__":
    main()
