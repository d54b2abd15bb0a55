"""Every example validates as its name says, through the library and the real command."""

from __future__ import annotations

import json

import pytest
from rdflib import Graph

from dds_pod import rdfio
from dds_pod.terms import date_time, utc_now

from .conftest import EXAMPLES, run_cli

VALID = sorted((EXAMPLES / "valid").glob("*.jsonld"))
INVALID = sorted((EXAMPLES / "invalid").glob("*.jsonld"))

# file -> (field, part of the English message) of the violation each invalid example must raise
EXPECTED = {
    "amendment-amending-two-proposals": ("amends", "at most one amended proposal"),
    "budget-project-negative-cost": ("estimatedCost", "non-negative decimal"),
    "comment-replying-to-two-things": ("inReplyTo", "exactly one thing"),
    "comment-unknown-stance": ("stance", "inFavour, against, neutral"),
    "comment-without-inReplyTo": ("inReplyTo", "exactly one thing"),
    "meeting-without-start-time": ("startTime", "exactly one start time"),
    "platform-without-url": ("url", "exactly one web address"),
    "proposal-latitude-out-of-range": ("latitude", "between -90 and 90"),
    "proposal-latitude-without-longitude": ("longitude", "also needs a longitude"),
    "proposal-missing-published": ("published", "exactly one publication date"),
    "proposal-misspelt-key": ("titel", "Unknown term 'titel'"),
    "proposal-negative-support-count": ("supportCount", "non-negative integer"),
    "proposal-no-title-no-content": ("non_field_errors", "at least a title or a content"),
    "proposal-published-not-a-datetime": ("published", "must be an xsd:dateTime"),
    "proposal-title-without-language": ("title", "language-tagged"),
    "proposal-unknown-status": ("status", "must be one of submitted"),
    "result-influence-without-role": ("role", "exactly one role"),
    "result-progress-over-100": ("progress", "between 0 and 100"),
    "space-without-title": ("title", "needs a title"),
    "support-without-object": ("object", "exactly one contribution"),
    "untyped-document": ("type", "No node has a DDS type"),
}


def _graph(path) -> Graph:
    return rdfio.parse(path.read_bytes(), rdfio.format_for_path(path), base=path.as_uri())


def test_every_invalid_example_has_an_expectation():
    assert {p.stem for p in INVALID} == set(EXPECTED)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_example_conforms_once_the_pod_fills_server_managed_fields(path, validator):
    graph = _stamped(validator, _graph(path), "https://participation.bordeaux-metropole.example")
    report = validator.validate(graph)
    assert report.conforms, report.as_json()
    assert not [r for r in report.results if r.server_managed]


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_example_without_platform_only_lacks_server_managed_fields(path, validator):
    report = validator.validate(_graph(path))
    assert report.conforms
    for result in report.results:
        if result.severity == "Violation":
            assert result.server_managed and result.field == "platform"


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_example_reports_what_is_wrong(path, validator):
    graph = _stamped(validator, _graph(path), "https://participation.example")
    report = validator.validate(graph)
    assert not report.conforms
    field, fragment = EXPECTED[path.stem]
    errors = report.field_errors()
    assert field in errors, errors
    assert any(fragment in message for message in errors[field]), errors[field]
    french = report.field_errors("fr")[field]
    assert all(message not in errors[field] for message in french), "French messages must be French"


def test_cli_exits_zero_on_the_valid_set():
    result = run_cli("validate", *map(str, VALID))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "server-managed" in result.stdout
    assert result.stdout.count("does not conform") == 0


def test_cli_exits_one_with_readable_lines_on_the_invalid_set():
    result = run_cli("validate", *map(str, INVALID))
    assert result.returncode == 1, result.stderr
    line = next(line for line in result.stdout.splitlines() if "comment-unknown-stance" in line
                and "stance" in line.split(": ", 1)[1])
    # file, focus node, field, severity, message
    assert line.startswith(str(EXAMPLES / "invalid" / "comment-unknown-stance.jsonld") + ": _:b0 stance Violation: ")


def test_cli_with_platform_fills_server_managed_fields():
    without = run_cli("validate", str(VALID[0]))
    with_platform = run_cli("validate", "--platform", "https://p.example", str(VALID[0]))
    assert "server-managed" in without.stdout
    assert "server-managed" not in with_platform.stdout
    assert with_platform.returncode == 0


def test_cli_json_report_is_stable_and_complete():
    first = run_cli("validate", "--format", "json", *map(str, INVALID[:3]))
    second = run_cli("validate", "--format", "json", *map(str, INVALID[:3]))
    assert first.returncode == 1
    assert first.stdout == second.stdout
    document = json.loads(first.stdout)
    assert document["conforms"] is False
    assert [f["file"] for f in document["files"]] == list(map(str, INVALID[:3]))
    result = document["files"][0]["results"][0]
    assert {"focusNode", "path", "field", "severity", "message", "constraint"} <= set(result)
    assert set(result["message"]) == {"en", "fr"}


def test_cli_turtle_report_is_a_shacl_validation_report():
    result = run_cli("validate", "--format", "turtle", str(EXAMPLES / "invalid" / "comment-unknown-stance.jsonld"))
    assert result.returncode == 1
    graph = Graph().parse(data=result.stdout, format="turtle")
    shacl = "http://www.w3.org/ns/shacl#"
    assert graph.query(f"ASK {{ ?r a <{shacl}ValidationReport> ; <{shacl}conforms> false }}").askAnswer


def test_cli_messages_in_french():
    result = run_cli("validate", "--lang", "fr", str(EXAMPLES / "invalid" / "comment-unknown-stance.jsonld"))
    assert "La position doit être" in result.stdout


def _stamped(validator, graph: Graph, platform: str) -> Graph:
    return rdfio.to_rdflib(validator.fill_server_managed(rdfio.to_oxigraph(graph), platform, date_time(utc_now())))
