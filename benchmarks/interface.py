"""Server time and size of the public interface's pages (home, Explore, contribution, ...), on the demo's data.

Builds the demo node in process (the pods of ``examples/demo.toml`` seeded as ``make run`` seeds them, harvested
once), then times requests through the WSGI application, so the figures are the server's own work without the
network. Prints the median and 95th percentile per page and the size of each page; the targets are a median of
at most 100 ms and at most 200 KB per page.

    .venv/bin/python benchmarks/interface.py [--runs 50] [--small] [--analysed]

``--small`` seeds only the example documents (no Madrid or Barcelona export), for a quick run. ``--analysed``
runs the node's analysis after the harvest (the time it took printed) and times the analysis's pages too: the
themes, the largest theme, Explore narrowed to it, and the contribution page with its analysis section.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from urllib.parse import quote

from dds_pod import config as configuration
from dds_pod.app import create_app
from dds_pod.demo import seed_source
from dds_pod.store import Change

ROOT = Path(__file__).resolve().parents[1]
HTML = {"Accept": "text/html", "Accept-Language": "fr"}


def demo_seeds() -> list[tuple[str, str, str]]:
    """(pod, kind, path) of every line of examples/demo-seeds.txt, as ``make run`` seeds them."""
    seeds = []
    for line in (ROOT / "examples" / "demo-seeds.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            pod, _, source = line.partition("=")
            kind, _, path = source.rpartition(":")
            seeds.append((pod, kind or "jsonld", path))
    return seeds


def build(small: bool):
    config = configuration.load(ROOT / "examples" / "demo.toml")
    app = create_app(config)
    node = app.extensions["dds.node"]
    seeds = demo_seeds()
    for pod, kind, path in seeds[:3] if small else seeds:
        seed_source(node, pod, kind, ROOT / path, config.import_settings.pseudonym_key)
    node.harvester.sync_all()
    return app, config.base_url


def measure(client, url: str, runs: int) -> tuple[float, float, int]:
    times, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, headers=HTML)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        size = len(response.get_data())
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--analysed", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    app, base = build(args.small)
    print(f"demo node built and harvested in {time.perf_counter() - started:.1f} s")
    client = app.test_client()
    if args.analysed:
        outcome = app.extensions["dds.node"].analysis.run()
        print(outcome.summary())
    pages = {"home": "/",
             "contribution": f"/contribution?id={base}bordeaux/proposals/piste-cyclable-victor-hugo",
             "platform": "/platform?id=https://participation.bordeaux-metropole.example",
             "explore": "/explore",
             "explore, words": "/explore?q=carril+bici",
             "explore, facets": "/explore?kind=comments&platform=https%3A%2F%2Fdecide.madrid.es&sort=supported",
             "explore, page 40": "/explore?page=40",
             "map points": "/explore/map.json?located=yes",
             "statistics": "/statistics"}
    if args.analysed:
        pages.update(_analysis_pages(app.extensions["dds.node"]))
    for name, url in pages.items():
        p50, p95, size = measure(client, url, args.runs)
        print(f"{name:>14}: p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   {size / 1024:6.1f} KB")
    node = app.extensions["dds.node"]
    cold = []
    for _ in range(max(3, args.runs // 10)):
        node.merged_graph.commit(Change())  # a new version: the home summary is read again from the store
        started = time.perf_counter()
        client.get("/", headers=HTML)
        cold.append((time.perf_counter() - started) * 1000)
    print(f"{'home, uncached':>14}: p50 {statistics.median(cold):6.1f} ms")


def _analysis_pages(node) -> dict[str, str]:
    analysis = node.analysis.published()
    largest = max(analysis.themes, key=lambda theme: len(theme.members))
    key = quote(largest.key, safe="")
    return {"themes": "/themes", "theme": f"/theme?key={key}", "explore, theme": f"/explore?theme={key}"}


if __name__ == "__main__":
    main()
