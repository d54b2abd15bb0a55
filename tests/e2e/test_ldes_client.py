"""A real LDES client, ldes-client (npm, pinned in ``tests/e2e/js``), replicates a pod's change feed in strict mode.

``tests/e2e/js/ldes.mjs`` runs the client and prints each member it emits as a JSON line. The pod holds more events
than a page (page size 10 here), so the client walks several nodes, each of which must name itself by its URL, and
the full ones are immutable: an idle follower polls only the last page. Install the client with
``npm ci --prefix tests/e2e/js`` (``make js``; ``make test`` runs it when npm is present).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import requests
from rdflib import RDF, Graph, Namespace, URIRef

from dds_pod.testing import ServerProcess, free_port, write_config

from .conftest import JSONLD, auth, example, post, tool_missing

JS = Path(__file__).parent / "js"
SCRIPT = JS / "ldes.mjs"
PAGE_SIZE = 10
PEOPLE = 34  # events written at once by one batch: they share one write time
CONTEXT = "https://w3id.org/dds/context.jsonld"
AS = "https://www.w3.org/ns/activitystreams#"
LDES = Namespace("https://w3id.org/ldes#")
TREE = Namespace("https://w3id.org/tree#")
DDS = Namespace("https://w3id.org/dds/ns#")


@pytest.fixture(scope="module")
def node_js() -> str:
    node = shutil.which("node")
    if node is None:
        tool_missing("node is missing: install Node.js 20 or later with npm (apt-get install nodejs npm), then run "
                     "`npm ci --prefix tests/e2e/js` (`make js`)")
    elif not (JS / "node_modules" / "ldes-client").is_dir():
        tool_missing(f"ldes-client is not installed in {JS / 'node_modules'}: run `npm ci --prefix tests/e2e/js` "
                     "(`make js`)")
    return str(node)


@pytest.fixture(scope="module")
def pod(tmp_path_factory) -> Iterator[str]:
    """The paris pod of a node of its own with small pages, holding a batch of people and a few proposals."""
    directory = tmp_path_factory.mktemp("ldes-client")
    port = free_port()
    server = ServerProcess(write_config(directory, port, page_size=PAGE_SIZE), port, directory / "server.log").start()
    url = f"{server.url}paris/"
    people = [{"@context": CONTEXT, "id": f"{url}people/p{i}", "type": "Person", "name": f"P{i}"}
              for i in range(PEOPLE)]
    answer = requests.post(f"{url}batch", data=json.dumps({"put": people}), headers={**JSONLD, **auth("paris")},
                           timeout=60)
    assert answer.status_code == 200, answer.text
    for index in range(3):
        post(server.url, "proposals/", example("proposal-community-garden"), slug=f"garden-{index}", pod="paris")
    yield url
    server.stop()


def last_sequence(pod: str) -> int:
    response = requests.get(f"{pod}changes/", params={"limit": 1}, headers={"Accept": "application/ld+json"},
                            timeout=10)
    stream = next(n for n in response.json()["@graph"] if n["@id"] == f"{pod}changes/")
    return int(stream["dds:lastSequence"]["@value"])


def replicate(node_js: str, url: str, *options: str) -> tuple[list[dict], dict]:
    """The members ldes-client emits reading ``url`` to its end, and its summary of requests."""
    result = subprocess.run([node_js, str(SCRIPT), *options, url], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, f"ldes.mjs failed ({result.returncode}) on {url}:\n{result.stderr}"
    lines = [json.loads(text) for text in result.stdout.splitlines() if text.strip()]
    return [entry for entry in lines if "member" in entry], lines[-1]


def assert_every_event_once_in_order(members: list[dict], last: int) -> None:
    sequences = [member["sequence"] for member in members]
    assert sequences == list(range(1, last + 1)), sequences


@pytest.mark.parametrize("start", ["changes/", f"changes/?since=0&limit={PAGE_SIZE}",
                                   f"changes/?since={2 * PAGE_SIZE}&limit={PAGE_SIZE}"])
def test_the_client_replicates_the_feed_in_sequence_order_from_any_entry(node_js, pod, start):
    """From the stream, its root node or a later page, the strict client reaches the root (``tree:view``) and
    reads every event once; ordered by time, it emits them in sequence order although a batch wrote many at once."""
    members, summary = replicate(node_js, pod + start, "--ordered", "ascending")
    assert_every_event_once_in_order(members, last_sequence(pod))
    assert summary["requests"] >= PEOPLE // PAGE_SIZE  # it walked the pages, not one document
    assert {member["type"] for member in members} == {f"{AS}Create"}


def test_materialized_events_stay_events(node_js, pod):
    """The feed names no versionOfPath: an event is not a version of its resource, so materializing leaves it an
    as:Create about its object rather than a proposal typed as an activity."""
    members, _ = replicate(node_js, f"{pod}changes/", "--materialize")
    assert sorted(m["sequence"] for m in members) == list(range(1, last_sequence(pod) + 1))
    assert all(m["member"].startswith(f"{pod}changes/#") and m["object"].startswith(pod) for m in members)


def test_a_follower_gets_a_new_post_once_and_polls_only_the_last_page(node_js, pod):
    """Following the stream, the client gets a new event once, after the others; idle, it refetches only the
    mutable last page (full pages are immutable), so it sends a few requests per poll, not one per page."""
    process = subprocess.Popen([node_js, str(SCRIPT), "--ordered", "ascending", "--follow", "15", f"{pod}changes/"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[dict] = []
    synced = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for text in process.stdout:
            lines.append(json.loads(text))
            if lines[-1].get("synced"):
                synced.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert synced.wait(60), f"the client did not finish its first pass: {process.stderr}"
        before = last_sequence(pod)
        location = post(pod.rsplit("/", 2)[0] + "/", "proposals/", example("proposal-community-garden"),
                        slug="followed", pod="paris").headers["Location"]
        process.wait(timeout=120)  # it follows for 15 s, then ends by itself (slowly on a busy machine)
        reader.join(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
    members = [entry for entry in lines if "member" in entry]
    assert_every_event_once_in_order(members, before + 1)
    assert members[-1]["object"] == location
    idle, polls = lines[-1]["idleRequests"], lines[-1]["polls"]
    pages = before // PAGE_SIZE + 1
    print(f"ldes-client --follow: {idle} requests in {polls} polls over {pages} pages")
    # One mutable page a poll (and the new event's resource never: the event is in the page); refetching every
    # page would be pages x polls.
    assert polls > 5 and idle <= polls + 2, (idle, polls)


def test_a_full_page_is_immutable_and_the_last_is_not(pod):
    full = requests.get(f"{pod}changes/", params={"since": 0, "limit": PAGE_SIZE}, headers={"Accept": "text/turtle"},
                        timeout=10)
    assert full.status_code == 200
    assert full.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "ldes:immutable true" in full.text and "lastSequence" not in full.text
    last = last_sequence(pod)
    tail = requests.get(f"{pod}changes/", params={"since": last - last % PAGE_SIZE, "limit": PAGE_SIZE},
                        headers={"Accept": "text/turtle"}, timeout=10)
    assert tail.headers["Cache-Control"] == "no-cache" and "immutable" not in tail.text
    again = requests.get(tail.url, headers={"Accept": "text/turtle", "If-None-Match": tail.headers["ETag"]},
                         timeout=10)
    assert again.status_code == 304


def test_events_of_one_batch_have_increasing_times(pod):
    page = requests.get(f"{pod}changes/", params={"since": 0, "limit": 100}, headers={"Accept": "application/ld+json"},
                        timeout=10).json()
    events = sorted((int(n["sequence"]), n["published"]["@value"] if isinstance(n["published"], dict)
                     else n["published"]) for n in page["@graph"] if "sequence" in n)
    times = [datetime.fromisoformat(published) for _, published in events]
    assert len(events) >= PEOPLE and times == sorted(times) and len(set(times)) == len(times)


@pytest.mark.parametrize(("query", "field"), [("since=-1&limit=5", "since"), ("since=x&limit=5", "since"),
                                              ("since=0&limit=0", "limit"), ("since=0&limit=ten", "limit"),
                                              ("limit=99999999999999999", "limit")])
def test_a_bad_page_token_or_limit_is_a_problem_naming_it(pod, query, field):
    response = requests.get(f"{pod}changes/?{query}", headers={"Accept": "text/turtle"}, timeout=10)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["field"] == field


def test_a_node_under_another_spelling_is_sent_to_its_iri(pod):
    for query, target in (("since=5", f"since=5&limit={PAGE_SIZE}"), ("limit=3&since=5", "since=5&limit=3"),
                          ("since=0&limit=5000", "since=0&limit=1000")):
        response = requests.get(f"{pod}changes/?{query}", headers={"Accept": "text/turtle"}, timeout=10,
                                allow_redirects=False)
        assert response.status_code == 302 and response.headers["Location"] == f"{pod}changes/?{target}"


def test_every_page_describes_the_stream_and_its_root(pod):
    """The stream's order (time, then sequence), its one view's root node with the retention policy, and no
    versionOfPath; a page names itself by its URL and links to the next by both bounds."""
    url = f"{pod}changes/?since={PAGE_SIZE}&limit={PAGE_SIZE}"
    graph = Graph().parse(data=requests.get(url, headers={"Accept": "text/turtle"}, timeout=10).text, format="turtle")
    stream, root = URIRef(f"{pod}changes/"), URIRef(f"{pod}changes/?since=0&limit={PAGE_SIZE}")
    assert list(graph.objects(stream, TREE.view)) == [root]
    assert graph.value(stream, LDES.timestampPath) == URIRef(f"{AS}published")
    assert graph.value(stream, LDES.sequencePath) == DDS.sequence
    assert graph.value(stream, LDES.versionOfPath) is None
    policy = graph.value(root, LDES.retentionPolicy)
    assert (policy, RDF.type, LDES.RetentionPolicy) in graph
    node = URIRef(url)
    assert (node, RDF.type, TREE.Node) in graph
    targets = {graph.value(relation, TREE.path): graph.value(relation, TREE.node)
               for relation in graph.objects(node, TREE.relation)}
    assert targets == {DDS.sequence: URIRef(f"{pod}changes/?since={2 * PAGE_SIZE}&limit={PAGE_SIZE}"),
                       URIRef(f"{AS}published"): URIRef(f"{pod}changes/?since={2 * PAGE_SIZE}&limit={PAGE_SIZE}")}


def test_the_stream_itself_is_never_cached_and_states_its_head(pod):
    response = requests.get(f"{pod}changes/", headers={"Accept": "text/turtle"}, timeout=10)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache"
    graph = Graph().parse(data=response.text, format="turtle")
    assert int(graph.value(URIRef(f"{pod}changes/"), DDS.lastSequence)) == last_sequence(pod) >= PEOPLE
