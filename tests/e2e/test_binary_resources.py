"""Files on pods (LDP-NR) over HTTP against a real node on disk: creation by POST and PUT, exact bytes back with
their type and ETag, conditional requests, the description, limits, sandboxing, deletion and the bytes on disk."""

from __future__ import annotations

import hashlib
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF

from dds_pod.testing import ServerProcess, free_port, write_config

from .conftest import auth, until

LDP = "http://www.w3.org/ns/ldp#"
BYTE_SIZE = URIRef("http://www.w3.org/ns/dcat#byteSize")
DDS_SHA256 = URIRef("https://w3id.org/dds/ns#sha256")
AS_ATTACHMENT = URIRef("https://www.w3.org/ns/activitystreams#attachment")
MAX_BYTES = 100_000
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[tuple[ServerProcess, Path]]:
    directory = tmp_path_factory.mktemp("files")
    port = free_port()
    files = {"max_bytes": MAX_BYTES, "media_types": ["image/png", "image/svg+xml", "text/html", "application/pdf",
                                                     "text/plain"]}
    config = write_config(directory, port, data_dir=directory / "data", files=files)
    server = ServerProcess(config, port, directory / "server.log").start()
    yield server, directory / "data" / "files"
    server.stop()


@pytest.fixture
def base(node) -> str:
    return node[0].url


def _upload(base: str, data: bytes, media_type: str = "image/png", slug: str | None = None,
            container: str = "proposals/", **headers) -> requests.Response:
    extra = {"Slug": slug or f"f-{uuid.uuid4().hex[:8]}"}
    return requests.post(f"{base}bordeaux/{container}", data=data,
                         headers={"Content-Type": media_type, **auth(), **extra, **headers}, timeout=10)


def _put(url: str, data: bytes, media_type: str = "image/png", **headers) -> requests.Response:
    return requests.put(url, data=data, headers={"Content-Type": media_type, **auth(), **headers}, timeout=10)


def _stored(folder: Path) -> set[str]:
    return {f"{p.parent.name}{p.name}" for p in folder.glob("??/*")}


def _links(response: requests.Response) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for value in response.raw.headers.getlist("Link"):
        for part in value.split(", <"):
            url, _, params = part.partition(";")
            rel = params.split('rel="', 1)[1].split('"', 1)[0]
            found.setdefault(rel, set()).add(url.strip("<> "))
    return found


def _description(url: str) -> Graph:
    response = requests.get(f"{url}?meta", headers={"Accept": "text/turtle"}, timeout=5)
    assert response.status_code == 200
    return Graph().parse(data=response.text, format="turtle")


def test_post_with_a_slug_creates_a_file_listed_by_its_container(base):
    created = _upload(base, PNG, slug="bench-photo.png")
    assert created.status_code == 201
    location = created.headers["Location"]
    assert location == f"{base}bordeaux/proposals/bench-photo.png"
    assert LDP + "NonRDFSource" in _links(created)["type"]
    container = Graph().parse(data=requests.get(f"{base}bordeaux/proposals/", headers={"Accept": "text/turtle"},
                                                timeout=5).text, format="turtle")
    assert (URIRef(f"{base}bordeaux/proposals/"), URIRef(LDP + "contains"), URIRef(location)) in container


def test_get_and_head_give_the_exact_bytes_type_length_and_etag(base):
    location = _upload(base, PNG).headers["Location"]
    got = requests.get(location, timeout=5)
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["Content-Type"] == "image/png"
    assert got.headers["Content-Length"] == str(len(PNG))
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert f"{location}?meta" in _links(got)["describedby"]
    head = requests.head(location, timeout=5)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Length"] == str(len(PNG)) and head.headers["ETag"] == got.headers["ETag"]
    assert requests.get(location, headers={"If-None-Match": got.headers["ETag"]}, timeout=5).status_code == 304
    options = requests.options(location, timeout=5)
    assert LDP + "NonRDFSource" in _links(options)["type"] and "PATCH" not in options.headers["Allow"]


def test_put_creates_and_replaces_under_conditions(base):
    url = f"{base}bordeaux/results/answer-{uuid.uuid4().hex[:6]}.pdf"
    assert _put(url, b"%PDF-1.4 first", "application/pdf", **{"If-None-Match": "*"}).status_code == 201
    etag = requests.head(url, timeout=5).headers["ETag"]
    assert _put(url, b"%PDF-1.4 again", "application/pdf", **{"If-None-Match": "*"}).status_code == 412
    assert _put(url, b"%PDF-1.4 second", "application/pdf", **{"If-Match": '"stale-file"'}).status_code == 412
    replaced = _put(url, b"%PDF-1.4 second", "application/pdf", **{"If-Match": etag})
    assert replaced.status_code == 204 and replaced.headers["ETag"] != etag
    got = requests.get(url, timeout=5)
    assert got.content == b"%PDF-1.4 second" and got.headers["Content-Type"] == "application/pdf"


def test_the_description_holds_size_type_hash_dates_and_attaching_contributions(base):
    location = _upload(base, b"plain words", "text/plain; charset=UTF-8").headers["Location"]
    proposal = f"{base}bordeaux/proposals/with-attachment-{uuid.uuid4().hex[:6]}"
    assert _put(proposal, _attaching(location, "Des bancs"), "text/turtle").status_code == 201
    graph = _description(location)
    file = URIRef(location)
    assert (file, RDF.type, URIRef(LDP + "NonRDFSource")) in graph
    assert graph.value(file, BYTE_SIZE).toPython() == len(b"plain words")
    assert graph.value(file, DDS_SHA256) == Literal(hashlib.sha256(b"plain words").hexdigest())
    assert str(graph.value(file, DCTERMS.format)) == "text/plain; charset=utf-8"
    assert graph.value(file, DCTERMS.created) is not None and graph.value(file, DCTERMS.modified) is not None
    assert (URIRef(proposal), AS_ATTACHMENT, file) in graph
    assert requests.get(location, timeout=5).headers["Content-Type"] == "text/plain; charset=utf-8"
    in_rdf_only = requests.get(location, headers={"Accept": "text/turtle"}, timeout=5)  # what a harvester asks
    assert in_rdf_only.headers["Content-Type"].startswith("text/turtle")
    assert in_rdf_only.headers["Content-Location"] == f"{location}?meta"
    assert f"{location}" in _links(in_rdf_only)["describes"]


def test_a_file_over_the_limit_is_413_and_leaves_nothing(node, base):
    before = _stored(node[1])
    refused = _upload(base, b"x" * (MAX_BYTES + 1), slug="too-big.png")
    assert refused.status_code == 413
    assert refused.json()["field"] == "Content-Length" and str(MAX_BYTES) in refused.json()["detail"]
    chunked = requests.post(f"{base}bordeaux/proposals/", data=iter([b"x" * 60_000, b"y" * 60_000]),
                            headers={"Content-Type": "image/png", "Slug": "too-big-chunked.png", **auth()}, timeout=10)
    assert chunked.status_code == 413  # the server reads a chunked body whole, then knows its length
    assert chunked.json()["field"] == "Content-Length"
    assert requests.get(f"{base}bordeaux/proposals/too-big.png", timeout=5).status_code == 404
    assert requests.get(f"{base}bordeaux/proposals/too-big-chunked.png", timeout=5).status_code == 404
    assert _stored(node[1]) == before and not list((node[1] / "incoming").iterdir())


def test_an_interrupted_upload_leaves_nothing(node, base):
    before = _stored(node[1])
    with socket.create_connection(("127.0.0.1", node[0].port), timeout=5) as sock:
        sock.sendall(b"POST /bordeaux/proposals/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                     b"Slug: cut.png\r\nAuthorization: " + auth()["Authorization"].encode() +
                     b"\r\nContent-Length: 50000\r\n\r\n" + b"z" * 1000)
    assert requests.get(f"{base}bordeaux/proposals/cut.png", timeout=5).status_code == 404
    assert _stored(node[1]) == before and not list((node[1] / "incoming").iterdir())


def test_a_type_outside_the_allow_list_is_415_naming_content_type(base):
    refused = _upload(base, b"MZ\x90\x00", "application/x-msdownload", slug="tool.exe")
    assert refused.status_code == 415
    assert refused.json()["field"] == "Content-Type" and "application/x-msdownload" in refused.json()["detail"]
    assert requests.get(f"{base}bordeaux/proposals/tool.exe", timeout=5).status_code == 404


def test_svg_and_html_are_served_sandboxed(base):
    for data, media_type in ((SVG, "image/svg+xml"), (b"<script>alert(1)</script>", "text/html")):
        got = requests.get(_upload(base, data, media_type).headers["Location"], timeout=5)
        policy = [p.strip() for p in got.headers["Content-Security-Policy"].split(";")]
        assert "sandbox" in policy and "default-src 'none'" in policy
        assert got.headers["X-Content-Type-Options"] == "nosniff" and got.content == data


def test_writes_need_the_pods_token(base):
    anonymous = requests.post(f"{base}bordeaux/proposals/", data=PNG, headers={"Content-Type": "image/png"},
                              timeout=5)
    assert anonymous.status_code == 401


def test_files_and_rdf_resources_do_not_replace_each_other(base):
    location = _upload(base, PNG).headers["Location"]
    as_rdf = requests.put(location, data="<> a <https://w3id.org/dds/ns#Proposal> .",
                          headers={"Content-Type": "text/turtle", **auth()}, timeout=5)
    assert as_rdf.status_code == 409
    patched = requests.patch(location, data="INSERT DATA { <> <http://purl.org/dc/terms/title> \"x\" }",
                             headers={"Content-Type": "application/sparql-update", **auth()}, timeout=5)
    assert patched.status_code == 409
    assert _put(f"{base}bordeaux/proposals/", PNG).status_code == 409
    assert requests.get(location, timeout=5).content == PNG


def test_delete_removes_the_bytes_once_no_file_names_them_and_is_in_the_feed(node, base):
    content = b"%PDF-1.4 shared " + uuid.uuid4().bytes
    sha = hashlib.sha256(content).hexdigest()
    first = _upload(base, content, "application/pdf").headers["Location"]
    second = _upload(base, content, "application/pdf").headers["Location"]
    assert sha in _stored(node[1])
    assert requests.delete(first, headers=auth(), timeout=5).status_code == 204
    assert requests.get(first, timeout=5).status_code == 410
    assert sha in _stored(node[1]) and requests.get(second, timeout=5).content == content
    etag = requests.head(second, timeout=5).headers["ETag"]
    assert requests.delete(second, headers={**auth(), "If-Match": '"stale-file"'}, timeout=5).status_code == 412
    assert requests.delete(second, headers={**auth(), "If-Match": etag}, timeout=5).status_code == 204
    assert sha not in _stored(node[1])
    feed = requests.get(f"{base}bordeaux/changes/?limit=1000", headers={"Accept": "application/n-triples"},
                        timeout=5).text
    for iri in (first, second):
        assert f"<https://www.w3.org/ns/activitystreams#object> <{iri}>" in feed
    assert feed.count("activitystreams#Delete>") >= 2


def test_a_batch_deletes_files_and_their_bytes(node, base):
    content = b"%PDF-1.4 batch " + uuid.uuid4().bytes
    location = _upload(base, content, "application/pdf").headers["Location"]
    deleted = requests.post(f"{base}bordeaux/batch", json={"delete": [location]}, headers=auth(), timeout=5)
    assert deleted.status_code == 200, deleted.text
    assert requests.get(location, timeout=5).status_code == 410
    assert hashlib.sha256(content).hexdigest() not in _stored(node[1])


def test_replacing_a_file_releases_its_former_bytes(node, base):
    old, new = b"%PDF-1.4 old " + uuid.uuid4().bytes, b"%PDF-1.4 new " + uuid.uuid4().bytes
    location = _upload(base, old, "application/pdf").headers["Location"]
    assert _put(location, new, "application/pdf").status_code == 204
    stored = _stored(node[1])
    assert hashlib.sha256(old).hexdigest() not in stored and hashlib.sha256(new).hexdigest() in stored


def test_files_survive_a_restart(node, base):
    location = _upload(base, PNG + b"kept").headers["Location"]
    server = node[0]
    server.stop()
    server.start()
    assert requests.get(location, timeout=5).content == PNG + b"kept"


# ------------------------------------------------------------------- federation

FEDERATION_CAP = 50_000  # the federation node's max_response_bytes: within the member's file limit


@pytest.fixture(scope="module")
def federation(node, tmp_path_factory) -> Iterator[tuple[str, str, Path]]:
    """A second node harvesting the first one's bordeaux pod; the member's URL, its own and its copies' folder."""
    member = f"{node[0].url}bordeaux/"
    directory = tmp_path_factory.mktemp("federation")
    port = free_port()
    lines = [f'base_url = "http://127.0.0.1:{port}/"', f'data_dir = "{directory / "data"}"',
             "[pods.paris]", 'title = "Paris"', 'platform = "https://decidim.paris.example"', 'token = "paris-token"',
             "[federation]", f'members = ["{member}"]', "interval_s = 0.5", "fetch_timeout_s = 2",
             f"max_response_bytes = {FEDERATION_CAP}", 'allow_networks = ["127.0.0.0/8"]']
    config = directory / "node.toml"
    config.write_text("\n".join(lines) + "\n")
    server = ServerProcess(config, port, directory / "server.log").start()
    yield member, server.url, directory / "data" / "files" / "federation"
    server.stop()


def _copies(base: str) -> dict[str, str]:
    """The merged graph's stored copies: harvested file -> the node's URL for its bytes."""
    query = ("SELECT ?file ?copy WHERE { GRAPH ?g { ?record <http://www.w3.org/ns/prov#wasDerivedFrom> ?file ; "
             "<https://w3id.org/dds/ns#storedCopy> ?copy } }")
    rows = requests.get(f"{base}sparql", params={"query": query},
                        headers={"Accept": "application/sparql-results+json"}, timeout=10).json()["results"]["bindings"]
    return {row["file"]["value"]: row["copy"]["value"] for row in rows}


def _attaching(file: str, title: str) -> bytes:
    """A proposal, in Turtle, that attaches ``file``."""
    return f"""@prefix dds: <https://w3id.org/dds/ns#> . @prefix dcterms: <http://purl.org/dc/terms/> .
    @prefix as: <https://www.w3.org/ns/activitystreams#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
    <> a dds:Proposal ; dcterms:title "{title}"@fr ; as:published "2025-03-04T09:12:00Z"^^xsd:dateTime ;
       as:attachment <{file}> .""".encode()


def test_the_federation_keeps_copies_of_members_files_within_its_size_cap(node, federation):
    member, base, _ = federation
    small = _upload(node[0].url, b"%PDF-1.4 official answer " + uuid.uuid4().bytes, "application/pdf")
    large = _upload(node[0].url, b"x" * (FEDERATION_CAP + 1), "image/png")
    small_url, large_url = small.headers["Location"], large.headers["Location"]
    copies = until(lambda: small_url in _copies(base) and _copies(base))
    assert copies, "the member's file was not harvested"
    copy = requests.get(copies[small_url], timeout=5)
    assert copy.status_code == 200 and copy.content == requests.get(small_url, timeout=5).content
    assert copy.headers["Content-Type"] == "application/pdf" and copy.headers["X-Content-Type-Options"] == "nosniff"
    assert large_url not in copies, "a file over the federation's cap is not copied"
    # the member's status is written once its sync ends, after the batch that brought the copy
    status = lambda: requests.get(f"{base}catalog", headers={"Accept": "text/turtle"}, timeout=5).text  # noqa: E731
    assert until(lambda: f"{large_url} kept out" in status()), "the file over the cap is named in the status"
    proposal = f"{member}proposals/attaching-{uuid.uuid4().hex[:6]}"
    assert _put(proposal, _attaching(small_url, "Réponse officielle"), "text/turtle").status_code == 201
    page = until(lambda: (found := requests.get(f"{base}contribution", params={"id": proposal},
                                                    headers={"Accept": "text/html"}, timeout=5)).ok and found)
    assert page, "the contribution was not harvested"
    assert f'href="{copies[small_url]}"' in page.text, "the contribution's page links to the node's copy"
    missing = requests.get(f"{base}federation/files/{'0' * 64}", timeout=5)
    assert missing.status_code == 404 and missing.headers["Content-Type"].startswith("application/problem+json")


def test_the_federation_drops_its_copy_once_the_member_deletes_the_file(node, federation):
    _, base, folder = federation
    content = b"%PDF-1.4 withdrawn " + uuid.uuid4().bytes
    location = _upload(node[0].url, content, "application/pdf").headers["Location"]
    copy = until(lambda: _copies(base).get(location))
    assert copy and requests.get(copy, timeout=5).status_code == 200
    sha = hashlib.sha256(content).hexdigest()
    assert sha in _stored(folder)
    assert requests.delete(location, headers=auth(), timeout=5).status_code == 204
    assert until(lambda: sha not in _stored(folder)), "the copy outlived its file"
    assert requests.get(copy, timeout=5).status_code == 404


def test_a_node_in_memory_keeps_files_with_the_default_settings(server):
    """The shared node has no data_dir and no [files] table: the bytes live in memory, PNG is allowed."""
    created = requests.post(f"{server.url}bordeaux/proposals/", data=PNG,
                            headers={"Content-Type": "image/png", **auth()}, timeout=5)
    assert created.status_code == 201
    location = created.headers["Location"]
    assert requests.get(location, timeout=5).content == PNG
    svg = requests.post(f"{server.url}bordeaux/proposals/", data=SVG,
                        headers={"Content-Type": "image/svg+xml", **auth()}, timeout=5)
    assert svg.status_code == 415, "SVG is not in the default allow list"
    assert requests.delete(location, headers=auth(), timeout=5).status_code == 204
    assert requests.get(location, timeout=5).status_code == 410
