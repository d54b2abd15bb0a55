"""The analysis's themes container as JSON-LD: what one anonymous ``GET analysis/themes/`` costs.

A theme embeds its members' IRIs, so a page of 40 themes over some thousands of contributions is megabytes of
JSON-LD. Measured through the WSGI application: the first request after a publication (each theme compacted) and
the requests after it (the themes' node objects kept until the next publication), expanded JSON-LD (kept the
same way) and Turtle for comparison.

    .venv/bin/python -m benchmarks.analysis_container [--themes 40] [--members 200] [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dds_pod.analysis import Analysis, Run, Theme
from dds_pod.analysis.graph import publish
from dds_pod.app import create_app
from dds_pod.config import from_dict

BASE = "http://127.0.0.1:8000/"
EXPANDED = 'application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded"'
RUN = Run("tfidf-nmf", {"seed": 0}, "benchmark", {f"{BASE}bordeaux/": 1}, "2026-12-04T10:00:00Z",
          "2026-12-04T10:00:01Z")


def _timed(client, accept: str) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get("/analysis/themes/", headers={"Accept": accept})
    return time.perf_counter() - started, len(response.data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--themes", type=int, default=40)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    app = create_app(from_dict({"base_url": BASE, "page_size": 50, "pods": {
        "bordeaux": {"platform": "https://participation.bordeaux.example", "token": "t"}}}))
    node = app.extensions["dds.node"]
    themes = [Theme(f"k{i}", ("word",), {"fr": f"Thème {i}"},
                    tuple(f"{BASE}bordeaux/proposals/{i}-{j}" for j in range(args.members)), {})
              for i in range(args.themes)]
    publish(node.merged, Analysis(runs={"themes": RUN}, themes=themes), BASE)
    client = app.test_client()
    client.get("/analysis/")  # the published graph cut into resources, once per publication
    cold, size = _timed(client, "application/ld+json")
    warm = statistics.median(_timed(client, "application/ld+json")[0] for _ in range(args.rounds))
    turtle = statistics.median(_timed(client, "text/turtle")[0] for _ in range(args.rounds))
    expanded = statistics.median(_timed(client, EXPANDED)[0] for _ in range(args.rounds))
    print(f"{args.themes} themes x {args.members} members, {size / 1e6:.1f} MB of JSON-LD")
    print(f"first request after a publication: {cold * 1000:.0f} ms")
    print(f"after it (median of {args.rounds}): {warm * 1000:.1f} ms ({cold / warm:.1f}x faster)")
    print(f"Turtle (median of {args.rounds}): {turtle * 1000:.1f} ms")
    print(f"expanded JSON-LD (median of {args.rounds}, after the first): {expanded * 1000:.1f} ms")
    node.close()


if __name__ == "__main__":
    main()
