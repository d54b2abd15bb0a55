"""The corpus read from a real node's merged graph (its pods seeded with the examples, then harvested): texts per
language with what the analysis needs of each, actors pseudonymised, the input snapshot, long texts cut; and the
node's analysis published, read back and found by SPARQL with its PROV activity."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from dds_pod.analysis.corpus import KEY_FILE, Pseudonyms, read_corpus
from dds_pod.config import from_dict
from dds_pod.demo import seed_source
from dds_pod.node import Node

from .conftest import EXAMPLES

BASE = "http://127.0.0.1:8000/"
BORDEAUX, PARIS = f"{BASE}bordeaux/", f"{BASE}paris/"
LONG_BODY = "Des arbres et des bancs dans la rue, " * 2400  # about 90 000 characters, within the shapes' limit


def node_with(tmp_path: Path, **analysis) -> Node:
    """A node whose bordeaux and paris pods hold the examples (and one long proposal), harvested once."""
    config = from_dict({"base_url": BASE, "analysis": analysis, "pods": {
        "bordeaux": {"platform": "https://participation.bordeaux-metropole.example", "token": "t"},
        "paris": {"platform": "https://decidim.paris.example", "token": "u"}}})
    node = Node(config)
    long_one = tmp_path / "long"
    long_one.mkdir()
    (long_one / "long.jsonld").write_text(json.dumps({
        "@context": "https://w3id.org/dds/context.jsonld", "id": "../proposals/long", "type": "Proposal",
        "title": {"fr": "Une longue proposition"}, "content": {"fr": f"<p>{LONG_BODY}</p>"},
        "published": "2025-01-01T10:00:00Z"}), encoding="utf-8")
    seed_source(node, "bordeaux", "jsonld", EXAMPLES / "valid", None)
    seed_source(node, "bordeaux", "jsonld", long_one, None)
    seed_source(node, "paris", "jsonld", EXAMPLES / "paris", None)
    node.harvester.sync_all()
    return node


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    built = node_with(tmp_path_factory.mktemp("corpus"))
    yield built
    built.close()


@pytest.fixture(scope="module")
def corpus(node):
    return read_corpus(node.merged_graph, Pseudonyms(b"test key"))


def texts_of(corpus, iri: str) -> dict[str, object]:
    return {text.language: text for text in corpus.texts if text.iri == iri}


def test_each_contribution_gives_a_text_per_language(corpus):
    rivoli = texts_of(corpus, f"{PARIS}proposals/pistes-cyclables-rivoli")
    assert set(rivoli) == {"fr", "en"}
    assert rivoli["fr"].title == "Pérenniser la piste cyclable de la rue de Rivoli"
    assert rivoli["fr"].body == "La piste provisoire est très utilisée : il faut la rendre définitive et la protéger."
    assert rivoli["en"].title == "Make the rue de Rivoli cycle lane permanent"
    assert (rivoli["fr"].kind, rivoli["fr"].member, rivoli["fr"].platform) == (
        "proposals", PARIS, "https://decidim.paris.example")
    assert rivoli["fr"].topics and rivoli["fr"].published.startswith("2025-")
    assert not any(text.kind == "spaces" for text in corpus.texts)


def test_comments_carry_what_they_answer_and_their_stance(corpus):
    comment = texts_of(corpus, f"{PARIS}comments/rivoli-1")["fr"]
    assert (comment.kind, comment.in_reply_to, comment.stance) == (
        "comments", f"{PARIS}proposals/pistes-cyclables-rivoli", "inFavour")


def test_reactions_reach_the_analysis_pseudonymised(corpus, node):
    assert corpus.reactions
    assert not any("/" in reaction.actor or ":" in reaction.actor for reaction in corpus.reactions)
    stance = [r for r in corpus.reactions if r.target == f"{PARIS}proposals/pistes-cyclables-rivoli"]
    assert Pseudonyms(b"test key").of(f"{PARIS}people/0b7f3d21") in {r.actor for r in stance}
    again = read_corpus(node.merged_graph, Pseudonyms(b"test key"))
    other = read_corpus(node.merged_graph, Pseudonyms(b"another key"))
    assert again.reactions == corpus.reactions
    assert {r.actor for r in other.reactions}.isdisjoint({r.actor for r in corpus.reactions})


def test_the_snapshot_is_each_members_last_sequence(corpus, node):
    assert corpus.snapshot == {member: node.merged_graph.last_sequence(member) for member in (BORDEAUX, PARIS)}
    assert all(sequence > 0 for sequence in corpus.snapshot.values())


def test_long_texts_are_cut_where_they_are_read(node):
    cut = read_corpus(node.merged_graph, Pseudonyms(b"k"), max_chars=1000)
    long_text = texts_of(cut, f"{BORDEAUX}proposals/long")["fr"]
    assert 900 < len(long_text.body) <= 1000 and long_text.body.startswith("Des arbres")
    default = texts_of(read_corpus(node.merged_graph, Pseudonyms(b"k")), f"{BORDEAUX}proposals/long")["fr"]
    assert 19_000 < len(default.body) <= 20_000


def test_the_key_is_kept_in_the_data_directory(tmp_path, monkeypatch):
    made = Pseudonyms.for_node(None, tmp_path / "data")
    key_file = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert Pseudonyms.for_node(None, tmp_path / "data").of("x") == made.of("x")
    assert Pseudonyms.for_node("configured key 0123", tmp_path / "data").of("x") != made.of("x")
    assert Pseudonyms.for_node(None, None).of("x") != Pseudonyms.for_node(None, None).of("x")


def test_the_nodes_analysis_is_published_and_found_by_sparql(node):
    assert node.analysis.published() is None
    outcome = node.analysis.run()
    published = node.analysis.published()
    assert published == outcome.analysis and published.themes
    assert "themes:" in outcome.summary() and outcome.contributions == len({t.iri for t in read_corpus(
        node.merged_graph, Pseudonyms(b"k")).texts})
    query = """PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX dds: <https://w3id.org/dds/ns#>
               PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
               SELECT ?theme ?method WHERE { ?theme a skos:Concept ; dds:themeMember ?member ;
                 prov:wasGeneratedBy ?run . ?run dds:method ?method }"""
    rows = list(node.merged.select(query))
    assert {row["theme"].value for row in rows} == {f"{BASE}analysis/themes/{theme.key}" for theme in published.themes}
    assert {row["method"].value for row in rows} == {published.runs["themes"].method}
