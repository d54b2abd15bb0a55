"""PATCH semantics: SPARQL Update limited to one resource, and Solid N3 Patch with its exactly-one-match rule."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from dds_pod.errors import BadDocument, Conflict
from dds_pod.ldp.merge import MergePatch, merge_patch
from dds_pod.ldp.patch import apply_n3_patch, apply_sparql_update

# rdflib's N3 parser uses a deprecated Dataset attribute internally; that is rdflib's business, not these tests'.
pytestmark = pytest.mark.filterwarnings("ignore:Dataset.default_context is deprecated:DeprecationWarning")

RESOURCE = "http://pod.example/bordeaux/proposals/1"
DC = "http://purl.org/dc/terms/"
PREFIXES = f"PREFIX dc: <{DC}>\n"
N3_PREFIXES = f"@prefix solid: <http://www.w3.org/ns/solid/terms#> .\n@prefix dc: <{DC}> .\n"


def triple(subject: str, predicate: str, obj: ox.NamedNode | ox.Literal) -> ox.Triple:
    return ox.Triple(ox.NamedNode(subject), ox.NamedNode(DC + predicate), obj)


TITLE = triple(RESOURCE, "title", ox.Literal("Bancs", language="fr"))
CREATOR = triple(RESOURCE, "creator", ox.NamedNode("http://pod.example/alice#me"))
FRAGMENT_TITLE = triple(RESOURCE + "#part", "title", ox.Literal("Part"))
STATE = [TITLE, CREATOR, FRAGMENT_TITLE]


def has_part(result: list[ox.Triple]) -> ox.BlankNode:
    return next(t.object for t in result if t.predicate == ox.NamedNode(DC + "hasPart"))


def n3_patch(body: str) -> str:
    return f"{N3_PREFIXES}_:patch a solid:InsertDeletePatch ;\n{body} ."


# SPARQL Update


def test_insert_data_adds_and_keeps_the_rest_in_order():
    result = apply_sparql_update(STATE, PREFIXES + 'INSERT DATA { <> dc:subject "mobilier" }', RESOURCE)
    assert result == [*STATE, triple(RESOURCE, "subject", ox.Literal("mobilier"))]


def test_delete_data_removes():
    update = PREFIXES + "DELETE DATA { <> dc:creator <http://pod.example/alice#me> }"
    result = apply_sparql_update(STATE, update, RESOURCE)
    assert result == [TITLE, FRAGMENT_TITLE]


def test_delete_insert_where_renames_a_title():
    update = PREFIXES + 'DELETE { <> dc:title ?t } INSERT { <> dc:title "Benches"@en } WHERE { <> dc:title ?t }'
    result = apply_sparql_update(STATE, update, RESOURCE)
    assert set(result) == {CREATOR, FRAGMENT_TITLE, triple(RESOURCE, "title", ox.Literal("Benches", language="en"))}


def test_several_operations_and_delete_where():
    update = PREFIXES + 'DELETE WHERE { <> dc:creator ?c } ;\nINSERT DATA { <#part> dc:subject "x" }'
    result = apply_sparql_update(STATE, update, RESOURCE)
    assert result == [TITLE, FRAGMENT_TITLE, triple(RESOURCE + "#part", "subject", ox.Literal("x"))]


def test_empty_relative_iri_is_the_resource():
    result = apply_sparql_update([], "INSERT DATA { <> <http://purl.org/dc/terms/title> 'T' }", RESOURCE)
    assert [t.subject for t in result] == [ox.NamedNode(RESOURCE)]


@pytest.mark.parametrize(
    ("update", "keyword"),
    [
        ("LOAD <http://example.org/data.ttl>", "LOAD"),
        ("CLEAR ALL", "CLEAR"),
        ("drop silent default", "DROP"),
        ("CREATE GRAPH <http://example.org/g>", "CREATE"),
        ("ADD DEFAULT TO <http://example.org/g>", "ADD"),
        ("MOVE DEFAULT TO <http://example.org/g>", "MOVE"),
        ("COPY DEFAULT TO <http://example.org/g>", "COPY"),
        ("WITH <http://example.org/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "WITH"),
        ("DELETE { ?s ?p ?o } USING <http://example.org/g> WHERE { ?s ?p ?o }", "USING"),
        ("INSERT DATA { GRAPH <http://example.org/g> { <> <p> 1 } }", "GRAPH"),
        ("INSERT { <> <p> ?o } WHERE { SERVICE <http://example.org/sparql> { ?s <p> ?o } }", "SERVICE"),
    ],
)
def test_operations_beyond_the_resource_are_refused(update, keyword):
    with pytest.raises(BadDocument, match=rf"^{keyword} is not allowed"):
        apply_sparql_update(STATE, update, RESOURCE)


@pytest.mark.parametrize(
    "update",
    [
        "DROPALL",  # pyoxigraph runs this as DROP ALL
        "INSERT DATA { <> <p> 1GRAPH <http://example.org/g> { <> <p> 2 } }",
        "PREFIX : <http://example.org/> INSERT DATA { GRAPH:g { <> <p> 2 } }",  # read as GRAPH :g
    ],
)
def test_keywords_glued_to_other_tokens_are_refused(update):
    """pyoxigraph reads keywords glued to other tokens; the checker refuses them, or does not read them at all."""
    with pytest.raises(BadDocument, match=r"is not allowed|invalid SPARQL Update"):
        apply_sparql_update(STATE, update, RESOURCE)


@pytest.mark.parametrize(
    "text",
    [
        '"please drop the plan"',
        "'graph of the week'",
        '"""a long\nstring: LOAD it, GRAPH it"""',
        "'''it's a graph'''",
        "<http://example.org/graph>",
        "<http://example.org/drop#load>",
    ],
)
def test_keywords_inside_literals_and_iris_are_accepted(text):
    update = f"INSERT DATA {{ <> <{DC}subject> {text} }} # comment: DROP ALL\n"
    result = apply_sparql_update(STATE, update, RESOURCE)
    assert len(result) == len(STATE) + 1


def test_prefixed_name_ending_with_a_keyword_is_accepted():
    update = "PREFIX ex: <http://example.org/> INSERT DATA { <> ex:graph ex:drop }"
    result = apply_sparql_update([], update, RESOURCE)
    assert result == [
        ox.Triple(
            ox.NamedNode(RESOURCE), ox.NamedNode("http://example.org/graph"), ox.NamedNode("http://example.org/drop")
        )
    ]


def test_syntax_error_names_the_position():
    with pytest.raises(BadDocument, match=r"error at 2:\d+") as caught:
        apply_sparql_update(STATE, PREFIXES + "INSERT DATA { <> dc:title }", RESOURCE)
    assert caught.value.status == 400


def test_unterminated_string_is_a_syntax_error():
    with pytest.raises(BadDocument, match="invalid SPARQL Update: error at 1:"):
        apply_sparql_update(STATE, 'INSERT DATA { <> <p> "drop all }', RESOURCE)


@pytest.mark.parametrize("subject", ["<http://pod.example/bordeaux/proposals/2>", "<../2>", "<http://other.example/x>"])
def test_insert_about_another_subject_is_refused(subject):
    with pytest.raises(BadDocument, match=r"may only change the resource itself: <http://[^>]+/2>|<http://other"):
        apply_sparql_update(STATE, f"INSERT DATA {{ {subject} <{DC}title> 'x' }}", RESOURCE)


def test_blank_node_subjects_are_allowed():
    result = apply_sparql_update([], f"INSERT DATA {{ <> <{DC}hasPart> _:b . _:b <{DC}title> 'p' }}", RESOURCE)
    part = has_part(result)
    assert isinstance(part, ox.BlankNode)
    assert ox.Triple(part, ox.NamedNode(DC + "title"), ox.Literal("p")) in result


def test_failed_operation_leaves_the_input_alone():
    state = list(STATE)
    with pytest.raises(BadDocument):
        apply_sparql_update(
            state, f"DELETE DATA {{ <> <{DC}title> 'Bancs'@fr }} ; INSERT DATA {{ <http://x/> <p> 1 }}", RESOURCE
        )
    apply_sparql_update(state, f"DELETE DATA {{ <> <{DC}creator> <http://pod.example/alice#me> }}", RESOURCE)
    assert state == STATE


# N3 Patch


def test_n3_insert_only():
    patch = n3_patch('solid:inserts { <> dc:subject "mobilier" . <#part> dc:subject "bancs" }')
    result = apply_n3_patch(STATE, patch, RESOURCE)
    assert result[:3] == STATE
    assert set(result[3:]) == {
        triple(RESOURCE, "subject", ox.Literal("mobilier")),
        triple(RESOURCE + "#part", "subject", ox.Literal("bancs")),
    }


def test_n3_insert_blank_nodes_are_fresh_and_shared_within_the_patch():
    patch = n3_patch('solid:inserts { <> dc:hasPart _:p . _:p dc:title "p" }')
    first, second = (apply_n3_patch([], patch, RESOURCE) for _ in range(2))
    parts = [has_part(first), has_part(second)]
    assert all(isinstance(part, ox.BlankNode) for part in parts)
    assert parts[0] != parts[1]
    assert ox.Triple(parts[0], ox.NamedNode(DC + "title"), ox.Literal("p")) in first


def test_n3_delete_and_insert_with_where_matching_once():
    patch = n3_patch(
        "solid:where { <> dc:title ?old } ;\n"
        "solid:deletes { <> dc:title ?old } ;\n"
        'solid:inserts { <> dc:title "Benches"@en ; dc:replaces ?old }'
    )
    result = apply_n3_patch(STATE, patch, RESOURCE)
    assert TITLE not in result
    assert set(result) == {
        CREATOR,
        FRAGMENT_TITLE,
        triple(RESOURCE, "title", ox.Literal("Benches", language="en")),
        triple(RESOURCE, "replaces", ox.Literal("Bancs", language="fr")),
    }


def test_n3_where_matching_zero_times_is_a_conflict():
    patch = n3_patch('solid:where { <> dc:title "Nope" } ; solid:inserts { <> dc:subject "x" }')
    with pytest.raises(Conflict, match="matched 0 times, it must match exactly once") as caught:
        apply_n3_patch(STATE, patch, RESOURCE)
    assert caught.value.status == 409


def test_n3_where_matching_twice_is_a_conflict():
    patch = n3_patch("solid:where { ?s dc:title ?t } ; solid:deletes { ?s dc:title ?t }")
    with pytest.raises(Conflict, match="matched 2 or more times"):
        apply_n3_patch(STATE, patch, RESOURCE)


def test_n3_delete_of_an_absent_triple_is_a_conflict():
    patch = n3_patch('solid:deletes { <> dc:title "Bancs"@en }')
    with pytest.raises(Conflict, match=r'does not contain: .*"Bancs"@en'):
        apply_n3_patch(STATE, patch, RESOURCE)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (f'{N3_PREFIXES}<> dc:title "not a patch" .', "exactly one solid:InsertDeletePatch, this one has 0"),
        (f"{N3_PREFIXES}_:a a solid:InsertDeletePatch . _:b a solid:InsertDeletePatch .", "this one has 2"),
        (n3_patch('solid:inserts { <> dc:title "x" '), "(?s)invalid N3 Patch: .*Bad syntax"),
        (n3_patch("solid:inserts { <> dc:title ?x }"), r"solid:inserts uses variables .* \?x"),
        (n3_patch("solid:where { <> dc:title ?t } ; solid:deletes { ?s dc:title ?t }"), r"solid:deletes .* \?s"),
        (n3_patch("solid:deletes { <> dc:creator _:someone }"), "solid:deletes may not contain blank nodes"),
        (n3_patch("solid:where { <> dc:creator [] }"), "solid:where may not contain blank nodes"),
        (n3_patch("solid:inserts <#not-a-formula>"), "must be a formula"),
        (n3_patch('solid:inserts { "literal" dc:title "x" }'), "not a triple pattern"),
        (n3_patch('solid:inserts { <http://other.example/x> dc:title "x" }'), "only change the resource itself"),
    ],
)
def test_n3_bad_patches_are_refused(patch, message):
    with pytest.raises(BadDocument, match=message):
        apply_n3_patch(STATE, patch, RESOURCE)


def test_n3_binding_that_makes_no_triple_is_a_conflict():
    patch = n3_patch("solid:where { <> dc:title ?t } ; solid:inserts { ?t dc:title 1 }")
    with pytest.raises(Conflict, match="not an RDF triple"):
        apply_n3_patch(STATE, patch, RESOURCE)


def test_n3_leaves_the_input_alone():
    state = list(STATE)
    apply_n3_patch(state, n3_patch(f"solid:deletes {{ <> dc:creator <{CREATOR.object.value}> }}"), RESOURCE)
    assert state == STATE


# Merge patch

AS = "https://www.w3.org/ns/activitystreams#"


def test_merge_patch_replaces_named_fields_keeps_other_languages_and_drops_orphaned_blank_nodes():
    place, title = ox.BlankNode(), ox.NamedNode(DC + "title")
    location, latitude = ox.NamedNode(AS + "location"), ox.NamedNode(AS + "latitude")
    english = triple(RESOURCE, "title", ox.Literal("Benches", language="en"))
    current = [TITLE, english, CREATOR, ox.Triple(ox.NamedNode(RESOURCE), location, place),
               ox.Triple(place, latitude, ox.Literal("44.8"))]
    patch = MergePatch([ox.Triple(ox.NamedNode(RESOURCE), title, ox.Literal("Des bancs", language="fr"))],
                       removed=frozenset({location}), removed_languages=frozenset())
    result = merge_patch(current, patch, ox.NamedNode(RESOURCE))
    assert set(result) == {english, CREATOR, triple(RESOURCE, "title", ox.Literal("Des bancs", language="fr"))}


def test_merge_patch_removes_one_language_of_a_map():
    english = triple(RESOURCE, "title", ox.Literal("Benches", language="en"))
    patch = MergePatch([], removed=frozenset(), removed_languages=frozenset({(ox.NamedNode(DC + "title"), "en")}))
    assert merge_patch([TITLE, english, CREATOR], patch, ox.NamedNode(RESOURCE)) == [TITLE, CREATOR]
