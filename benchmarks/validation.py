"""Per-document cost of parsing and validating a contribution.

Prints the median time per document for: JSON-LD parsing (pyld, offline contexts, and oxigraph's
parser with the DDS context cut to the terms used), SHACL validation with the shapes loaded once
(dds-pod's Validator on pyshacl; the compiled screen that spares pyshacl the documents it would
report nothing about), and, as the baseline, a plain ``pyshacl.validate`` call that is given the
shapes graph every time (what a naive integration does).

    .venv/bin/python benchmarks/validation.py [--runs 300]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

from pyshacl import validate as pyshacl_validate

from dds_pod import jsonld, rdfio, standard
from dds_pod.terms import date_time, utc_now
from dds_pod.validation import default_validator

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "valid" / "proposal-piste-cyclable-victor-hugo.jsonld"


def per_call_ms(function, runs: int) -> float:
    for _ in range(min(20, runs)):
        function()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()

    data = EXAMPLE.read_bytes()
    document = json.loads(data)
    base = "http://127.0.0.1:8000/bordeaux/proposals/p1"
    json_ld = rdfio.FORMATS["json-ld"]
    validator = default_validator()
    parsed = rdfio.to_oxigraph(jsonld.to_graph(document, base=base))
    triples = validator.fill_server_managed(parsed, "https://participation.bordeaux-metropole.example",
                                            date_time(utc_now()))
    graph = rdfio.to_rdflib(triples)
    shapes = standard.shapes_graph()

    parse_ms = per_call_ms(lambda: rdfio.parse(data, json_ld, base=base), args.runs)
    fast_parse_ms = per_call_ms(lambda: jsonld.dds_triples(document, base), args.runs)
    validate_ms = per_call_ms(lambda: validator.validate(graph), args.runs)
    screen_ms = per_call_ms(lambda: validator.validate_triples(triples), args.runs)
    baseline_ms = per_call_ms(lambda: pyshacl_validate(graph, shacl_graph=shapes), max(30, args.runs // 10))
    reported = validator.validate(graph).results

    print(f"machine: {platform.machine()} {platform.processor() or ''} python {platform.python_version()}")
    print(f"document: {EXAMPLE.name}, {len(graph)} triples after server-managed fields, "
          f"{len(reported)} result(s) from pyshacl")
    print(f"{'step':<52}{'median ms':>10}")
    print(f"{'parse JSON-LD (pyld, offline contexts)':<52}{parse_ms:>10.2f}")
    print(f"{'parse JSON-LD (oxigraph, DDS context cut)':<52}{fast_parse_ms:>10.2f}")
    print(f"{'validate (dds-pod Validator on pyshacl, shapes once)':<52}{validate_ms:>10.2f}")
    print(f"{'validate (compiled screen, pyshacl if it flags)':<52}{screen_ms:>10.2f}")
    print(f"{'baseline: pyshacl.validate per call':<52}{baseline_ms:>10.2f}")
    print(f"{'parse + validate, pyld + pyshacl':<52}{parse_ms + validate_ms:>10.2f}")
    print(f"{'parse + validate, oxigraph + screen':<52}{fast_parse_ms + screen_ms:>10.2f}")
    print(f"speed-up of validation over the baseline: {baseline_ms / validate_ms:.1f}x (Validator), "
          f"{baseline_ms / screen_ms:.0f}x (screen)")


if __name__ == "__main__":
    main()
