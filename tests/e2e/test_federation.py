"""Three real nodes on loopback: two pods on separate nodes, and a node that federates them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import ClassVar

import pytest
import requests
from rdflib import Graph, Literal, Namespace, URIRef

from dds_pod.testing import TOKENS, Loopback, QuietHandler, ServerProcess, free_port

from ..conftest import REPO
from .conftest import auth, example, post

DDS = Namespace("https://w3id.org/dds/ns#")
PROV = Namespace("http://www.w3.org/ns/prov#")


def _config(directory: Path, port: int, pods: str, members: list[str], data_dir: Path | None = None) -> Path:
    lines = [f'base_url = "http://127.0.0.1:{port}/"']
    if data_dir:
        lines.append(f'data_dir = "{data_dir}"')
    if pods == "bordeaux":
        lines += ["[pods.bordeaux]", 'title = "Bordeaux"', 'platform = "https://participation.bordeaux-metropole.example"',
                  f'token = "{TOKENS["bordeaux"]}"']
    if pods == "paris":
        lines += ["[pods.paris]", 'title = "Paris"', 'platform = "https://decidim.paris.example"',
                  f'token = "{TOKENS["paris"]}"']
    lines += ["[federation]", f"members = {json.dumps(members)}", "interval_s = 0.5", "fetch_timeout_s = 2",
              "max_response_bytes = 2000000", 'allow_networks = ["127.0.0.0/8"]']
    path = directory / f"node-{port}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


class Witness:
    """Another origin on loopback that only records the requests it gets: none should come."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        witness = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                witness.seen.append(self.path)
                self.send_response(200)
                self.end_headers()

        self.loopback = Loopback(Handler)
        self.url = self.loopback.url

    def close(self) -> None:
        self.loopback.close()


class BrokenMember:
    """A loopback HTTP server playing every way a member can misbehave, one path per fault."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.witness = Witness()
        self.gappy_rounds = 0
        member = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                member.seen.append(self.path)
                fault = self.path.strip("/").split("/")[0]
                getattr(member, f"_{fault.replace('-', '_')}", member._missing)(self)

        self.loopback = Loopback(Handler)

    def url(self, fault: str) -> str:
        return f"{self.loopback.url}{fault}/"

    def close(self) -> None:
        self.loopback.close()
        self.witness.close()

    @staticmethod
    def _missing(handler) -> None:
        handler.send_response(404)
        handler.end_headers()

    PLAIN: ClassVar[dict[str, str]] = {
        "/plain/": """@prefix ldp: <http://www.w3.org/ns/ldp#> .
            </plain/> a ldp:BasicContainer ; ldp:contains </plain/motion-1> , </plain/incomplete-1> .""",
        "/plain/motion-1": """@prefix schema: <http://schema.org/> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
            <> a <http://www.w3.org/ns/opengov#Motion> ; schema:headline "Planter des arbres rue Alcalá"@fr ;
               schema:datePublished "2025-04-01T10:00:00Z"^^xsd:dateTime ;
               <https://w3id.org/dds/ns#sourcePlatform> <https://consul.madrid.example> .""",
        "/plain/incomplete-1": """<> a <https://w3id.org/dds/ns#Proposal> ;
               <http://purl.org/dc/terms/title> "Sans date"@fr ;
               <https://w3id.org/dds/ns#sourcePlatform> <https://consul.madrid.example> .""",
    }

    @classmethod
    def _plain(cls, handler) -> None:
        """A plain LDP server in other vocabularies, without a change feed."""
        body = cls.PLAIN.get(handler.path.split("?")[0])
        if body is None:
            handler.send_response(404)
            handler.end_headers()
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/turtle")
        handler.end_headers()
        handler.wfile.write(body.encode())

    def _gappy(self, handler) -> None:
        """A member whose change feed always skips the next number: each sync (one probe of the feed's head)
        finds the head two further, with only the last event listed; its motion changes in the lost events."""
        path, _, query = handler.path.partition("?")
        if path == "/gappy/changes/" and "since=" not in query:
            self.gappy_rounds += 1
        head = 2 * self.gappy_rounds
        bodies = {
            "/gappy/": """@prefix ldp: <http://www.w3.org/ns/ldp#> .
                </gappy/> a ldp:BasicContainer ; <http://purl.org/dc/terms/title> "Gappy" ;
                ldp:contains </gappy/motion> .""",
            "/gappy/motion": f"""@prefix schema: <http://schema.org/> .
                @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
                <> a <http://www.w3.org/ns/opengov#Motion> ; schema:headline "Version {self.gappy_rounds}"@fr ;
                   schema:datePublished "2025-04-01T10:00:00Z"^^xsd:dateTime ;
                   <https://w3id.org/dds/ns#sourcePlatform> <https://gappy.example> .""",
            "/gappy/changes/": f"""@prefix dds: <https://w3id.org/dds/ns#> .
                @prefix as: <https://www.w3.org/ns/activitystreams#> .
                </gappy/changes/> dds:lastSequence {head} .
                </gappy/changes/#{head}> a as:Update ; dds:sequence {head} ; as:object </gappy/other> ;
                    as:published "2025-04-01T10:00:00Z" .""",
        }
        if path not in bodies:
            self._missing(handler)
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/turtle")
        handler.end_headers()
        handler.wfile.write(bodies[path].encode())

    @staticmethod
    def _garbage(handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/turtle")
        handler.end_headers()
        handler.wfile.write(b"this is <not turtle at all")

    @staticmethod
    def _slow(handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/turtle")
        handler.end_headers()
        for _ in range(100):  # one byte every 0.1 s: each read is quick, the whole never ends in time
            try:
                handler.wfile.write(b" ")
                handler.wfile.flush()
            except OSError:
                return
            time.sleep(0.1)

    @staticmethod
    def _huge(handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/turtle")
        handler.send_header("Content-Length", str(1024 ** 3))
        handler.end_headers()
        try:
            for _ in range(1024):
                handler.wfile.write(b"#" * (1024 * 1024))
        except OSError:
            return

    @staticmethod
    def _loop(handler) -> None:
        handler.send_response(302)
        handler.send_header("Location", handler.path)
        handler.end_headers()

    def _elsewhere(self, handler) -> None:
        """Redirect to another origin: the witness server, which records whether anyone came."""
        handler.send_response(302)
        handler.send_header("Location", f"{self.witness.url}secret")
        handler.end_headers()

    def _dots(self, handler) -> None:
        """A container listing a URL that climbs out of the pod with dot segments."""
        handler.send_response(200)
        handler.send_header("Content-Type", "text/turtle")
        handler.end_headers()
        handler.wfile.write(f"""@prefix ldp: <http://www.w3.org/ns/ldp#> .
            </dots/> a ldp:BasicContainer ; ldp:contains </dots/../secret> , </dots/%2e%2e/secret> ,
            <{self.witness.url}secret> .""".encode())


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    directory = tmp_path_factory.mktemp("federation")
    broken = BrokenMember()
    ports = {name: free_port() for name in ("a", "b", "fed")}
    urls = {name: f"http://127.0.0.1:{port}/" for name, port in ports.items()}
    pod_a, pod_b = f"{urls['a']}bordeaux/", f"{urls['b']}paris/"
    faults = [broken.url(f) for f in ("down", "garbage", "slow", "huge", "loop", "elsewhere")]
    dots = broken.url("dots")
    faults[0] = f"http://127.0.0.1:{free_port()}/down/"  # nothing listens there
    members = [pod_a, pod_b, broken.url("plain"), broken.url("gappy"), dots, *faults]
    servers = {
        "a": ServerProcess(_config(directory, ports["a"], "bordeaux", [pod_b]), ports["a"], directory / "a.log"),
        "b": ServerProcess(_config(directory, ports["b"], "paris", [pod_a]), ports["b"], directory / "b.log"),
        "fed": ServerProcess(_config(directory, ports["fed"], "", members), ports["fed"], directory / "fed.log"),
    }
    for server in servers.values():
        server.start()
    yield {"urls": urls, "pods": {"a": pod_a, "b": pod_b, "plain": broken.url("plain"), "gappy": broken.url("gappy")},
           "faults": faults,
           "broken": broken, "servers": servers, "directory": directory}
    for server in servers.values():
        server.stop()
    broken.close()


def _catalog(fed: str) -> Graph:
    return Graph().parse(data=requests.get(f"{fed}catalog", headers={"Accept": "text/turtle"}, timeout=5).text,
                         format="turtle")


def _until(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.2)


def _sparql(fed: str, query: str) -> list[dict] | bool:
    """SELECT rows, or the boolean of an ASK."""
    response = requests.post(f"{fed}sparql", data={"query": query},
                             headers={"Accept": "application/sparql-results+json"}, timeout=15)
    assert response.status_code == 200, response.text
    answer = response.json()
    return answer["boolean"] if "boolean" in answer else answer["results"]["bindings"]


def _synced_past(fed: str, member: str, sequence: int) -> bool:
    value = _catalog(fed).value(URIRef(member), DDS.lastSequence)
    return value is not None and int(value) >= sequence


def test_harvest_update_delete_and_provenance(nodes):
    a, fed = nodes["urls"]["a"], nodes["urls"]["fed"]
    pod_a = nodes["pods"]["a"]
    proposal = post(a, "proposals/", example("proposal-piste-cyclable-victor-hugo"), slug="velo").headers["Location"]
    post(nodes["urls"]["b"], "proposals/", example("proposal-community-garden"), slug="jardin", pod="paris")
    head = len([n for n in requests.get(f"{pod_a}changes/?limit=1000", headers={"Accept": "application/ld+json"},
                                        timeout=5).json()["@graph"] if "sequence" in n])
    _until(lambda: _synced_past(fed, pod_a, head))
    rows = _sparql(fed, """PREFIX dds: <https://w3id.org/dds/ns#> PREFIX prov: <http://www.w3.org/ns/prov#>
        SELECT ?p ?platform ?pod ?hash WHERE { GRAPH ?g { ?p a dds:Proposal ; dds:sourcePlatform ?platform }
          ?record prov:wasDerivedFrom ?p ; prov:hadPrimarySource ?pod ; dds:contentHash ?hash }""")
    found = {r["p"]["value"]: r for r in rows}
    assert proposal in found, "IRIs are kept as the pods gave them"
    assert found[proposal]["pod"]["value"] == pod_a
    assert found[proposal]["platform"]["value"] == "https://participation.bordeaux-metropole.example"
    assert found[proposal]["hash"]["value"].startswith("sha256:")
    assert any(r["platform"]["value"] == "https://decidim.paris.example" for r in rows)

    # incremental sync: an update replaces, a delete removes, nothing is duplicated
    requests.patch(proposal, data=json.dumps({"supportCount": 500}),
                   headers={**auth(), "Content-Type": "application/merge-patch+json"}, timeout=5)
    _until(lambda: [r for r in _sparql(fed, f"SELECT ?n WHERE {{ <{proposal}> <{DDS.supportCount}> ?n }}")
                    if r["n"]["value"] == "500"])
    counts = _sparql(fed, f"SELECT ?n WHERE {{ <{proposal}> <{DDS.supportCount}> ?n }}")
    assert [c["n"]["value"] for c in counts] == ["500"]
    catalog = _catalog(fed)
    assert catalog.value(URIRef(pod_a), DDS.syncStatus) == Literal("ok")
    requests.delete(proposal, headers=auth(), timeout=5)
    _until(lambda: not _sparql(fed, f"SELECT ?p WHERE {{ GRAPH <{proposal}> {{ ?s ?p ?o }} }}"))
    assert not _sparql(fed, f"SELECT ?r WHERE {{ ?r <{PROV.wasDerivedFrom}> <{proposal}> }}")


def test_faulty_members_do_not_stop_the_others_and_show_in_the_catalogue(nodes):
    fed = nodes["urls"]["fed"]
    def all_reported() -> Graph | None:
        graph = _catalog(fed)
        return graph if all(graph.value(URIRef(m), DDS.syncStatus) is not None for m in nodes["faults"]) else None

    catalog = _until(all_reported)
    for member in nodes["faults"]:
        assert catalog.value(URIRef(member), DDS.syncStatus) == Literal("failed"), member
        assert catalog.value(URIRef(member), DDS.syncMessage) is not None
    assert catalog.value(URIRef(nodes["pods"]["a"]), DDS.syncStatus) in (Literal("ok"), Literal("partial"))
    assert nodes["broken"].witness.seen == [], "a request left the members' URLs"
    assert not any("secret" in path for path in nodes["broken"].seen), "a URL climbing out of a pod was fetched"
    assert nodes["servers"]["fed"].alive
    assert requests.get(f"{fed}catalog", timeout=5).status_code == 200


def test_a_member_that_goes_down_keeps_its_last_good_data(nodes, tmp_path):
    """Stop node B: the federation keeps B's proposals and reports B as failed; B comes back and is synced again."""
    fed, pod_b = nodes["urls"]["fed"], nodes["pods"]["b"]
    server_b = nodes["servers"]["b"]
    _until(lambda: _sparql(fed, f"ASK {{ GRAPH ?g {{ ?p <{DDS.sourcePlatform}> <https://decidim.paris.example> }} }}"
                           ) or None)
    server_b.stop()
    _until(lambda: _catalog(fed).value(URIRef(pod_b), DDS.syncStatus) == Literal("failed"))
    paris = "<https://decidim.paris.example>"
    rows = _sparql(fed, f"SELECT ?p WHERE {{ GRAPH ?g {{ ?p <{DDS.sourcePlatform}> {paris} }} }}")
    assert rows, "the last good data of a failed member is kept"
    nodes["servers"]["b"] = ServerProcess(server_b.config, server_b.port, server_b.log_path).start()
    _until(lambda: _catalog(fed).value(URIRef(pod_b), DDS.syncStatus) == Literal("ok"))


def test_harvest_command_runs_one_sync_and_prints_a_summary(nodes, tmp_path):
    config = _config(tmp_path, free_port(), "", [nodes["pods"]["a"], nodes["faults"][1]], data_dir=tmp_path / "d")
    result = subprocess.run([sys.executable, "-m", "dds_pod.cli", "harvest", "--config", str(config)], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert f"{nodes['pods']['a']}: ok (full)" in result.stdout
    assert f"{nodes['faults'][1]}: failed" in result.stdout
    assert result.returncode == 1, "a failed member makes the command fail"
    again = subprocess.run([sys.executable, "-m", "dds_pod.cli", "harvest", "--config", str(config)], cwd=REPO,
                           capture_output=True, text=True, timeout=120)
    assert f"{nodes['pods']['a']}: ok (incremental) — 0 updated" in again.stdout


def test_merged_view_lists_every_platform_and_filters(nodes):
    a, b, fed = nodes["urls"]["a"], nodes["urls"]["b"], nodes["urls"]["fed"]
    velo = post(a, "proposals/", example("proposal-piste-cyclable-victor-hugo"), slug="view-velo").headers["Location"]
    garden = post(b, "proposals/", example("proposal-community-garden"), slug="view-garden",
                  pod="paris").headers["Location"]

    def listed(**params) -> set[str]:
        response = requests.get(f"{fed}federation/proposals/", params={"limit": 1000, **params},
                                headers={"Accept": "application/ld+json"}, timeout=5)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["@id"] == f"{fed}federation/proposals/" and "ldp:Container" in body["@type"]
        return {member["@id"] for member in body["ldp:contains"]}

    try:
        _until(lambda: {velo, garden} <= listed())
    except AssertionError:
        raise AssertionError(_catalog(fed).serialize(format="turtle")) from None
    assert garden not in listed(platform="https://participation.bordeaux-metropole.example")
    assert listed(platform="https://decidim.paris.example") >= {garden}
    assert velo in listed(status="evaluating") and garden not in listed(status="evaluating")
    assert velo in listed(q="Victor-Hugo") and garden not in listed(q="Victor-Hugo")
    assert velo in listed(bbox="-0.6,44.8,-0.5,44.9") and garden not in listed(bbox="-0.6,44.8,-0.5,44.9")
    assert velo in listed(**{"from": "2025-03-01", "to": "2025-03-05"})
    assert garden not in listed(**{"from": "2025-03-01", "to": "2025-03-05"})
    bad = requests.get(f"{fed}federation/proposals/", params={"bbox": "x"}, timeout=5)
    assert bad.status_code == 400 and bad.json()["field"] == "bbox"


def test_trace_of_a_decision_across_platforms(nodes):
    a, b, fed = nodes["urls"]["a"], nodes["urls"]["b"], nodes["urls"]["fed"]
    paris = post(b, "proposals/", example("proposal-community-garden"), slug="trace-garden",
                 pod="paris").headers["Location"]
    bordeaux = post(a, "proposals/", example("proposal-piste-cyclable-victor-hugo"), slug="trace-velo").headers[
        "Location"]
    decision = example("decision-conseil-metropolitain")
    decision["derivedFrom"] = [bordeaux, paris]
    decision["influence"] = [{"type": "Influence", "influencer": bordeaux, "role": "adopted"},
                             {"type": "Influence", "influencer": paris, "role": "partiallyAdopted"}]
    outcome = post(a, "results/", decision, slug="trace-decision").headers["Location"]

    def traced() -> dict[str, dict] | None:
        body = requests.get(f"{fed}federation/trace", params={"of": outcome}, timeout=5).json()
        found = {item["influencer"]["@id"]: item for item in body["influence"]}
        complete = len(found) == 2 and all("platform" in item["influencer"] for item in found.values())
        return found if complete else None

    found = _until(traced)
    assert found[bordeaux]["role"] == "adopted"
    assert found[bordeaux]["influencer"]["platform"] == "https://participation.bordeaux-metropole.example"
    assert found[bordeaux]["influencer"]["status"] == "evaluating"
    assert found[paris]["role"] == "partiallyAdopted"
    assert found[paris]["influencer"]["platform"] == "https://decidim.paris.example"


def test_plain_vocabularies_are_aligned_and_invalid_resources_reported(nodes):
    """A member publishing opengov:Motion with schema.org terms is found as a dds:Proposal; an incomplete
    resource is kept out and named in the member's status."""
    fed, plain = nodes["urls"]["fed"], nodes["pods"]["plain"]
    motion = f"{plain}motion-1"

    def listed() -> set[str]:
        response = requests.get(f"{fed}federation/proposals/", params={"platform": "https://consul.madrid.example"},
                                headers={"Accept": "application/ld+json"}, timeout=5)
        return {member["@id"] for member in response.json()["ldp:contains"]}

    _until(lambda: motion in listed())
    assert f"{plain}incomplete-1" not in listed()
    catalog = _catalog(fed)
    assert catalog.value(URIRef(plain), DDS.syncStatus) == Literal("partial")
    messages = [str(m) for m in catalog.objects(URIRef(plain), DDS.syncMessage)]
    assert any("incomplete-1" in m and "published" in m for m in messages), messages


def test_a_feed_that_skips_numbers_is_walked_again_and_reported(nodes):
    """The motion changes only in the events a member's feed lost: the federation notices the jump, walks the
    member's containers again and says so in its status, instead of keeping a stale copy under status ok."""
    fed, gappy = nodes["urls"]["fed"], nodes["pods"]["gappy"]
    motion = f"{gappy}motion"

    def reported() -> list[str] | None:
        catalog = _catalog(fed)
        messages = [str(m) for m in catalog.objects(URIRef(gappy), DDS.syncMessage)]
        partial = catalog.value(URIRef(gappy), DDS.syncStatus) == Literal("partial")
        return messages if partial and any("jumped" in m for m in messages) else None

    messages = _until(reported)
    assert any("walked again" in m for m in messages), messages
    rows = _sparql(fed, f"SELECT ?h WHERE {{ GRAPH <{motion}> {{ <{motion}> <http://schema.org/headline> ?h }} }}")
    versions = [int(row["h"]["value"].removeprefix("Version ")) for row in rows]
    assert len(versions) == 1 and versions[0] >= 2, "the walk brought the version changed in the lost events"
    assert nodes["servers"]["fed"].alive
