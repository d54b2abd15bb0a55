"""The checks of parsed SPARQL: SERVICE anywhere in a query, and whatever reaches beyond one graph in an update."""

from __future__ import annotations

import pytest

from dds_pod.sparql_checks import Refused, Unparsable, check_query, check_resource_update

URL = "http://127.0.0.1:9/"
G = "http://example.org/g"


@pytest.mark.parametrize("sparql", [
    f"SELECT * {{ SERVICE <{URL}> {{ ?s ?p ?o }} }}",
    f"SELECT * {{ ?s ?p ?o }} ORDER BY (EXISTS {{ SERVICE <{URL}> {{ ?s ?p ?o }} }})",
    f"SELECT ?s {{ ?s ?p ?o }} GROUP BY ?s HAVING (EXISTS {{ SERVICE <{URL}> {{ ?s ?p ?o }} }})",
    f"SELECT * {{ ?s ?p ?o BIND(EXISTS {{ SERVICE <{URL}> {{ ?s ?p ?o }} }} AS ?e) }}",
    f"SELECT * {{ ?s ?p ?o FILTER(?o IN (1, 2) || NOT EXISTS {{ SERVICE <{URL}> {{ ?s ?p ?o }} }}) }}",
    f"SELECT * {{ {{ SELECT * {{ {{ SELECT * {{ SERVICE SILENT <{URL}> {{ ?s ?p ?o }} }} }} }} }} }}",
    "SELECT * { SERVICE <\\U00000068ttp://127.0.0.1:9/> { ?s ?p ?o } }",
])
def test_service_is_found_anywhere_in_a_query(sparql):
    with pytest.raises(Refused) as caught:
        check_query(sparql)
    assert caught.value.keyword == "SERVICE"


@pytest.mark.parametrize("sparql", [
    "SELECT ?service WHERE { ?service a <http://example.org/Service> }",
    "PREFIX service: <http://example.org/> SELECT * WHERE { service:a service:service 'SERVICE' }",
    f"SELECT * WHERE {{ ?s ?p <{URL}service> }} # SERVICE <{URL}>",
    "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }",
])
def test_queries_that_only_mention_service_pass(sparql):
    assert check_query(sparql).has_dataset_clause is False


def test_a_query_that_cannot_be_parsed_names_the_position():
    with pytest.raises(Unparsable, match=r"^error at 2:\d+"):
        check_query("SELECT *\nWHERE { ?s ?p }")


@pytest.mark.parametrize(("update", "keyword"), [
    (f"LOAD <{URL}>", "LOAD"),
    (f"LOAD SILENT <{URL}> INTO GRAPH <{G}>", "LOAD"),
    ("CLEAR DEFAULT", "CLEAR"),
    ("DROP ALL", "DROP"),
    (f"CREATE SILENT GRAPH <{G}>", "CREATE"),
    (f"ADD <{G}> TO DEFAULT", "ADD"),
    (f"MOVE <{G}> TO DEFAULT", "MOVE"),
    (f"COPY <{G}> TO DEFAULT", "COPY"),
    (f"WITH <{G}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}", "WITH"),
    (f"DELETE {{ ?s ?p ?o }} USING <{G}> WHERE {{ ?s ?p ?o }}", "USING"),
    (f"DELETE {{ ?s ?p ?o }} USING NAMED <{G}> WHERE {{ ?s ?p ?o }}", "USING"),
    (f"INSERT DATA {{ GRAPH <{G}> {{ <> <p> 1 }} }}", "GRAPH"),
    (f"DELETE DATA {{ GRAPH <{G}> {{ <> <p> 1 }} }}", "GRAPH"),
    (f"DELETE WHERE {{ GRAPH <{G}> {{ <> <p> ?o }} }}", "GRAPH"),
    (f"INSERT {{ GRAPH <{G}> {{ <> <p> ?o }} }} WHERE {{ <> <p> ?o }}", "GRAPH"),
    ("INSERT { <> <p> ?o } WHERE { GRAPH ?g { <> <p> ?o } }", "GRAPH"),
    ("INSERT { <> <p> ?o } WHERE { <> <p> ?o FILTER EXISTS { GRAPH ?g { <> <p> ?o } } }", "GRAPH"),
    ("INSERT { <> <p> ?o } WHERE { { SELECT ?o { GRAPH ?g { <> <p> ?o } } } }", "GRAPH"),
    (f"INSERT {{ <> <p> ?o }} WHERE {{ OPTIONAL {{ SERVICE <{URL}> {{ ?s <p> ?o }} }} }}", "SERVICE"),
    (f"INSERT DATA {{ <> <p> 1 }} ;\nLOAD <{URL}>", "LOAD"),
])
def test_update_operations_beyond_the_resource_are_refused(update, keyword):
    with pytest.raises(Refused) as caught:
        check_resource_update(update)
    assert caught.value.keyword == keyword


@pytest.mark.parametrize("update", [
    "INSERT DATA { <> <http://purl.org/dc/terms/title> 'graph, load, drop' }",
    "PREFIX ex: <http://example.org/> INSERT DATA { <> ex:graph ex:load }",
    "DELETE { <> <p> ?o } INSERT { <> <p> 2 } WHERE { <> <p> ?o OPTIONAL { <> <q> ?x } }",
    "DELETE WHERE { <> <p> ?o } ; INSERT DATA { <#part> <p> 1 }",
])
def test_updates_of_the_resource_pass(update):
    check_resource_update(update)


def test_an_update_that_cannot_be_parsed_is_unparsable():
    with pytest.raises(Unparsable, match=r"^error at 1:\d+"):
        check_resource_update("INSERT DATA { <> <p> }")
