"""The statistics read model on a real (in-memory) merged store: months, funnel and stances, per platform."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from dds_pod.federation.merged import MergedGraph, MergedGraphs
from dds_pod.portal.statistics import MAX_MONTHS, compute, month_range
from dds_pod.store import Change
from dds_pod.store.oxigraph import OxigraphStore

BASE = "http://node.example/"
DDS = "https://w3id.org/dds/ns#"
AS = "https://www.w3.org/ns/activitystreams#"
TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
TITLE = ox.NamedNode("http://purl.org/dc/terms/title")
PARIS, LYON = "https://paris.example", "https://lyon.example"
DATE_TIME = ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")


def n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def contribution(name: str, kind: str, platform: str, published: str, **values: str) -> list[ox.Quad]:
    """A harvested resource in its own graph, with the Contribution class the alignment infers."""
    subject, graph = n(BASE + name), n(BASE + name)
    quads = [ox.Quad(subject, TYPE, n(DDS + kind), graph), ox.Quad(subject, TYPE, n(DDS + "Contribution"), graph),
             ox.Quad(subject, n(DDS + "sourcePlatform"), n(platform), graph),
             ox.Quad(subject, n(AS + "published"), ox.Literal(published, datatype=DATE_TIME), graph)]
    quads += [ox.Quad(subject, n(DDS + key), n(DDS + value), graph) for key, value in values.items()]
    return quads


@pytest.fixture
def merged() -> MergedGraph:
    graphs = MergedGraphs(BASE)
    members = n(graphs.members)
    merged = MergedGraph(OxigraphStore(), graphs)
    merged.commit(Change(add=[
        ox.Quad(n(BASE + "paris/"), n(DDS + "sourcePlatform"), n(PARIS), members),
        ox.Quad(n(BASE + "paris/"), TITLE, ox.Literal("Paris <budget>"), members),
        *contribution("p1", "Proposal", PARIS, "2025-01-05T10:00:00Z", status="implemented"),
        *contribution("p2", "Proposal", PARIS, "2025-01-20T10:00:00Z", status="rejected"),
        *contribution("p3", "Proposal", PARIS, "2025-03-01T10:00:00+01:00"),
        *contribution("b1", "BudgetProject", LYON, "2025-02-01T00:00:00Z", status="selected"),
        *contribution("c1", "Comment", PARIS, "2025-03-02T10:00:00Z", stance="inFavour"),
        *contribution("c2", "Comment", PARIS, "2025-03-03T10:00:00Z", stance="inFavour"),
        *contribution("c3", "Comment", PARIS, "2025-03-04T10:00:00Z", stance="against"),
        *contribution("c4", "Comment", LYON, "2025-03-04T10:00:00Z"),
    ]))
    return merged


def test_contributions_are_counted_per_month_with_the_months_between(merged):
    statistics = compute(merged)
    assert statistics.months == ("2025-01", "2025-02", "2025-03")
    assert statistics.monthly[PARIS] == {"2025-01": 2, "2025-03": 4}
    assert statistics.monthly[LYON] == {"2025-02": 1, "2025-03": 1}


def test_the_funnel_counts_what_reached_each_stage(merged):
    funnel = compute(merged).funnel
    # implemented went all the way, rejected stopped at evaluation, the one without a status was submitted
    assert funnel[PARIS] == {"submitted": 3, "evaluating": 2, "accepted": 1, "inProgress": 1, "implemented": 1}
    assert funnel[LYON] == {"submitted": 1, "evaluating": 1, "accepted": 1, "inProgress": 0, "implemented": 0}


def test_stances_are_counted_and_comments_without_one_are_not(merged):
    stances = compute(merged).stances
    assert stances == {PARIS: {"inFavour": 2, "against": 1, "neutral": 0}}


def test_platforms_are_named_by_their_pod_else_by_their_host(merged):
    platforms = compute(merged).platforms
    assert [(p.iri, p.name) for p in platforms] == [(LYON, "lyon.example"), (PARIS, "Paris <budget>")]


def test_an_empty_merged_graph_has_empty_statistics():
    statistics = compute(MergedGraph(OxigraphStore(), MergedGraphs(BASE)))
    assert statistics.empty and statistics.months == ()


def test_the_time_axis_is_bounded_and_ignores_what_is_not_a_month():
    months = month_range(["0001-01", "2025-06", "2025-13", "garbage"])
    assert len(months) == MAX_MONTHS and months[-1] == "2025-06" and months[0] == "2015-07"
    assert month_range(["2024-11", "2025-02"]) == ("2024-11", "2024-12", "2025-01", "2025-02")
