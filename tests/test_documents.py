"""Reading documents: formats, offline contexts, and every kind of bad input."""

from __future__ import annotations

import hashlib
import json
import socket
import threading

import pyoxigraph as ox
import pytest
from rdflib import Literal

from dds_pod import jsonld, rdfio
from dds_pod.canonical import _canonical, content_hash
from dds_pod.errors import BadDocument, DocumentTooLarge, ForbiddenContext, UnsupportedFormat
from dds_pod.ldp.intake import Intake
from dds_pod.vocab import AS, DCTERMS, DDS, DDS_CONTEXT_IRI, RDF

from .conftest import EXAMPLES, run_cli

PROPOSAL_TTL = """
@prefix dds: <https://w3id.org/dds/ns#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix as: <https://www.w3.org/ns/activitystreams#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<http://pod.example/bordeaux/proposals/1> a dds:Proposal ;
    dcterms:title "Bancs"@fr ;
    as:published "2025-03-04T09:12:00Z"^^xsd:dateTime ;
    dds:sourcePlatform <https://participation.example> .
"""


def test_turtle_and_ntriples_are_accepted(tmp_path, validator):
    ttl = tmp_path / "p.ttl"
    ttl.write_text(PROPOSAL_TTL)
    graph = rdfio.parse(ttl.read_bytes(), rdfio.format_for_path(ttl))
    nt = tmp_path / "p.nt"
    nt.write_text(graph.serialize(format="nt"))
    assert len(rdfio.parse(nt.read_bytes(), rdfio.format_for_path(nt))) == len(graph) == 4
    assert validator.validate(graph).conforms
    assert run_cli("validate", str(ttl), str(nt)).returncode == 0


def test_input_format_overrides_the_extension(tmp_path):
    odd = tmp_path / "proposal.data"
    odd.write_text(PROPOSAL_TTL)
    assert run_cli("validate", str(odd)).returncode == 2
    assert run_cli("validate", "--input-format", "turtle", str(odd)).returncode == 0


def test_json_numbers_keep_exact_decimal_form():
    doc = {"@context": "https://w3id.org/dds/context.jsonld", "@id": "http://x/b", "estimatedCost": 48500.5,
           "location": {"@id": "http://x/l", "latitude": 44.8337}}
    graph = jsonld.to_graph(doc)
    cost = next(o for o in graph.objects(None, None) if "48500" in str(o))
    assert str(cost) == "48500.5"
    assert [str(o) for o in graph.objects(None, AS.latitude)] == ["44.8337"]


def test_relative_ids_resolve_against_the_base():
    doc = {"@context": "https://w3id.org/dds/context.jsonld", "id": "", "type": "Comment",
           "inReplyTo": "../proposals/1"}
    graph = jsonld.to_graph(doc, base="http://pod.example/bordeaux/comments/7")
    subject = next(graph.subjects(RDF.type, DDS.Comment))
    assert str(subject) == "http://pod.example/bordeaux/comments/7"
    assert str(graph.value(subject, AS.inReplyTo)) == "http://pod.example/bordeaux/proposals/1"


def test_activitystreams_context_resolves_offline():
    doc = {"@context": "https://www.w3.org/ns/activitystreams", "id": "http://x/n", "type": "Note",
           "content": "hello"}
    graph = jsonld.to_graph(doc)
    assert (None, RDF.type, AS.Note) in graph


def test_a_local_alias_of_the_dds_context_resolves():
    loader = jsonld.ContextLoader({"http://127.0.0.1:8000/ns/context.jsonld": jsonld.context_document()})
    doc = {"@context": "http://127.0.0.1:8000/ns/context.jsonld", "id": "http://x/p", "title": {"fr": "A"}}
    graph = jsonld.to_graph(doc, loader=loader)
    assert list(graph.objects(None, DCTERMS.title)) == [Literal("A", lang="fr")]


class _Listener:
    """A loopback socket that records whether anything connected to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(0.5)
        self.connected = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/context.jsonld"

    def _accept(self) -> None:
        try:
            conn, _ = self.sock.accept()
            self.connected = True
            conn.close()
        except OSError:
            pass

    def close(self) -> None:
        self.thread.join()
        self.sock.close()


def test_a_remote_context_is_refused_and_never_fetched():
    listener = _Listener()
    url = listener.url
    with pytest.raises(ForbiddenContext) as error:
        jsonld.to_graph({"@context": url, "type": "Proposal", "title": "x"})
    listener.close()
    assert url in error.value.message
    assert error.value.field == "@context"
    assert not listener.connected, "the validator contacted a remote context URL"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*/*.jsonld")), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_the_fast_parser_gives_the_same_triples_as_pyld(path):
    document = json.loads(path.read_text(encoding="utf-8"))
    base = "https://pod.example/bordeaux/examples/doc"
    by_pyld = rdfio.to_oxigraph(jsonld.to_graph(document, base=base))
    assert content_hash(jsonld.dds_triples(document, base)) == content_hash(by_pyld)


def test_a_remote_context_nested_in_a_bulk_document_is_refused_and_never_fetched():
    listener = _Listener()
    intake = Intake("http://127.0.0.1:1/ns/context.jsonld", max_bytes=1_000_000)
    document = {"@context": DDS_CONTEXT_IRI, "id": "https://pod.example/b/p", "type": "Proposal",
                "location": {"@context": listener.url, "name": "x"}}
    with pytest.raises(ForbiddenContext):
        intake.read_json_triples(document, "https://pod.example/b/p", "fr")
    listener.close()
    assert not listener.connected


def test_a_bad_bulk_document_is_explained_by_pyld():
    intake = Intake("http://127.0.0.1:1/ns/context.jsonld", max_bytes=1_000_000)
    document = {"@context": DDS_CONTEXT_IRI, "id": "https://pod.example/b/p", "type": "Proposal",
                "title": {"@value": "x", "@language": 5}}
    with pytest.raises(BadDocument) as error:
        intake.read_json_triples(document, "https://pod.example/b/p", "fr")
    assert "invalid JSON-LD (invalid language map value)" in error.value.message


def test_remote_context_in_cli_is_a_clear_error(tmp_path):
    bad = tmp_path / "remote.jsonld"
    bad.write_text(json.dumps({"@context": "https://evil.example/ctx.jsonld", "type": "Proposal"}))
    result = run_cli("validate", str(bad))
    assert result.returncode == 2
    assert "https://evil.example/ctx.jsonld" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("syntax.jsonld", b'{\n  "type": "Proposal",\n  "title": \n}', "invalid JSON at line 4, column 1"),
        ("latin1.jsonld", '{"title": "caf\u00e9"}'.encode("latin-1"), "not UTF-8 text: byte 0xe9 at offset 14"),
        ("deep.jsonld", b"[" * 10000 + b"]" * 10000, "nested deeper than"),
        ("deep-objects.jsonld", b'{"a":' * 5000 + b"1" + b"}" * 5000, "nested deeper than"),
        ("syntax.ttl", b"@prefix dds: <https://w3id.org/dds/ns#> .\n<a> dds:x \"unterminated .\n",
         "invalid turtle"),
        ("syntax.nt", b"<http://a> <http://b> <http://c> .\n<http://a> <http://b> .\n", "invalid n-triples"),
        ("bad-keyword.jsonld", b'{"@context": {"@version": 1.1}, "@id": 5}', "invalid JSON-LD"),
    ],
)
def test_unreadable_documents_give_a_clear_message(tmp_path, name, content, fragment):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(BadDocument) as error:
        rdfio.parse(content, rdfio.format_for_path(path))
    assert fragment in error.value.message
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_turtle_errors_carry_a_position(tmp_path):
    with pytest.raises(BadDocument) as error:
        rdfio.parse(b"<http://a> <http://b> <http://c> .\n<http://a> <http://b> \"x .\n", rdfio.FORMATS["turtle"])
    assert "line 2" in error.value.message or "2:" in error.value.message


def test_a_50_mb_document_is_refused_before_parsing(tmp_path):
    big = tmp_path / "big.jsonld"
    with big.open("wb") as handle:
        handle.write(b'{"title": "')
        handle.write(b"x" * (50 * 1024 * 1024))
        handle.write(b'"}')
    with pytest.raises(DocumentTooLarge):
        rdfio.check_size(big.stat().st_size)
    result = run_cli("validate", str(big))
    assert result.returncode == 2
    assert "over the limit" in result.stderr


def test_missing_file_and_unknown_extension(tmp_path):
    result = run_cli("validate", str(tmp_path / "absent.jsonld"), str(EXAMPLES / "valid" / "topic-mobilite.jsonld"))
    assert result.returncode == 2
    assert "cannot read" in result.stderr
    with pytest.raises(UnsupportedFormat):
        rdfio.format_for_path("document.docx")
    with pytest.raises(UnsupportedFormat):
        rdfio.format_for_media_type("text/plain")


def test_exit_code_prefers_unreadable_over_invalid(tmp_path):
    broken = tmp_path / "broken.jsonld"
    broken.write_text("{")
    result = run_cli("validate", str(EXAMPLES / "invalid" / "comment-unknown-stance.jsonld"), str(broken))
    assert result.returncode == 2


BULK = {"@context": DDS_CONTEXT_IRI, "id": "https://pod.example/b/proposals/p", "type": "Proposal",
        "published": "2025-03-05T07:58:00Z", "title": {"fr": "t"}}


@pytest.mark.parametrize("change, fragment", [
    ({"summary": {"fr_FR": "x"}}, "language"),
    ({"location": {"type": "Place", "name": {"@value": "x", "@language": "fr_FR"}}}, "language"),
    ({"location": {"id": "http://[bad", "type": "Place", "name": "x"}}, "invalid"),
], ids=["language-map", "value-language", "iri"])
def test_what_the_fast_parser_would_drop_is_refused_by_name(change, fragment):
    intake = Intake("http://127.0.0.1:1/ns/context.jsonld", max_bytes=1_000_000)
    with pytest.raises(BadDocument) as error:
        intake.read_json_triples({**BULK, **change}, BULK["id"], "fr")
    assert fragment in error.value.message


def test_large_json_numbers_keep_decimal_form_in_bulk():
    intake = Intake("http://127.0.0.1:1/ns/context.jsonld", max_bytes=1_000_000)
    document = {**BULK, "type": "BudgetProject", "estimatedCost": 10**21}
    costs = [t.object.value for t in intake.read_json_triples(document, BULK["id"], "fr")
             if t.predicate.value.endswith("estimatedCost")]
    assert costs == ["1000000000000000000000"]


def test_documents_parsed_together_give_each_the_triples_it_gives_alone():
    documents = [(json.loads(path.read_text(encoding="utf-8")), f"https://pod.example/bordeaux/examples/doc{i}")
                 for i, path in enumerate(sorted(EXAMPLES.glob("*/*.jsonld")))]
    relative = {"@context": DDS_CONTEXT_IRI, "id": "", "type": "Proposal", "title": {"fr": "x"},
                "author": "../people/a", "location": {"id": "#place", "type": "Place", "name": "Quai"}}
    documents += [(relative, "https://pod.example/a/proposals/1"), (relative, "https://pod.example/b/proposals/2")]
    together = jsonld.dds_batch_quads(documents)
    compared = 0
    for (document, base), triples in zip(documents, together, strict=True):
        try:
            alone = jsonld.dds_triples(document, base)
        except BadDocument:
            assert triples is None
            continue
        assert triples is not None and content_hash(triples) == content_hash(alone), base
        compared += 1
    assert compared >= len(documents) - 5
    assert {t.object.value for t in together[-1] if t.predicate.value.endswith("attributedTo")} == {
        "https://pod.example/b/people/a"}, "each document resolves against its own base"


def test_blank_node_labels_parsed_together_stay_in_their_document():
    documents = [({**BULK, "id": f"https://pod.example/b/p{i}", "location": {"id": "_:place", "type": "Place"}},
                  f"https://pod.example/b/p{i}") for i in range(2)]
    first, second = jsonld.dds_batch_quads(documents)
    blanks = [{t.object for t in triples if t.predicate.value.endswith("#location")} for triples in (first, second)]
    assert all(len(b) == 1 for b in blanks) and blanks[0].isdisjoint(blanks[1])


def test_what_cannot_be_parsed_together_is_left_to_be_read_alone():
    good = [({**BULK, "id": f"https://pod.example/b/p{i}"}, f"https://pod.example/b/p{i}") for i in range(2)]
    nested_graph = ({**BULK, "id": "https://pod.example/b/g", "related": {"@graph": [{"name": "x"}]}},
                    "https://pod.example/b/g")
    bad_language = ({**BULK, "id": "https://pod.example/b/l", "summary": {"fr_FR": "x"}}, "https://pod.example/b/l")
    results = jsonld.dds_batch_quads([good[0], nested_graph, bad_language, good[1]])
    assert results[1] is None and results[2] is None
    assert results[0] is not None and results[3] is not None
    assert jsonld.dds_batch_quads([good[0], good[0]]) == [None, None], "one base twice: each read alone"


def test_a_batch_with_a_bad_document_is_explained_as_when_read_alone():
    intake = Intake("http://127.0.0.1:1/ns/context.jsonld", max_bytes=1_000_000)
    bad = {**BULK, "id": "https://pod.example/b/q", "title": {"@value": "x", "@language": 5}}
    with pytest.raises(BadDocument) as error:
        intake.read_json_batch([(BULK, BULK["id"]), (bad, bad["id"])], "fr")
    assert "invalid JSON-LD (invalid language map value)" in error.value.message


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("valid/*.jsonld")), ids=lambda p: p.stem)
def test_the_content_hash_is_that_of_the_rdfc_canonical_form(path):
    triples = jsonld.dds_triples(json.loads(path.read_text(encoding="utf-8")), "https://pod.example/b/doc")
    for by_value in (False, True):
        dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, _canonical(t.object) if by_value else t.object)
                             for t in triples)
        dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
        lines = "\n".join(sorted(f"{q.subject} {q.predicate} {q.object} ." for q in dataset))
        assert content_hash(triples, by_value) == "sha256:" + hashlib.sha256(lines.encode("utf-8")).hexdigest()
        assert content_hash(triples + triples[:2], by_value) == content_hash(triples, by_value), "a set of triples"


def test_the_content_hash_of_a_blank_node_inside_a_triple_term_does_not_depend_on_its_label():
    resource, says = ox.NamedNode("https://pod.example/b/r"), ox.NamedNode("https://example.org/says")
    name = ox.NamedNode("https://example.org/name")

    def statements(label: str) -> list[ox.Triple]:
        return [ox.Triple(resource, says, ox.Triple(ox.BlankNode(label), name, ox.Literal("v")))]

    assert content_hash(statements("a1")) == content_hash(statements("b2"))
