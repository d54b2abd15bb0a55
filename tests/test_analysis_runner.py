"""The runner: every step on real corpora, the same input giving the same output, a step without enough data
recorded as such (never raised), incremental updates after a few changes, and a language model that is down."""

from __future__ import annotations

import functools
import json
from dataclasses import replace

import pytest

from dds_pod.analysis import Analysis, Corpus, Text
from dds_pod.analysis.llm import ChatClient
from dds_pod.analysis.runner import Analyser, RunSettings, analyse
from dds_pod.config import LLMConfig
from dds_pod.testing import ChatReply, FakeChatServer, free_port

from . import analysis_comments, analysis_data

POD = "https://pod.example/"
STEPS = {"languages", "themes", "similar", "stances", "opinion", "summaries"}


@functools.cache
def corpus(projects: int = 40) -> Corpus:
    """Some of Barcelona's budget projects (Catalan and Spanish) with Barcelona's result comments (stances,
    reactions)."""
    budget, comments = analysis_data.barcelona(), analysis_comments.barcelona()
    kept = sorted({text.iri for text in budget.texts})[:projects]
    texts = tuple(text for text in budget.texts if text.iri in kept)
    return Corpus(texts=texts + comments.texts, reactions=comments.reactions,
                  snapshot={**budget.snapshot, **comments.snapshot})


def small() -> Corpus:
    return corpus(16)


@functools.cache
def full() -> Analysis:
    return analyse(corpus())


def without_times(analysis: Analysis) -> Analysis:
    return replace(analysis, runs={step: replace(run, started="", ended="") for step, run in analysis.runs.items()})


def text(ident: str, body: str, language: str = "es", kind: str = "proposals", **fields) -> Text:
    return Text(iri=f"{POD}{kind}/{ident}", kind=kind, member=POD, language=language, body=body, **fields)


def steps_without_data(analysis: Analysis) -> set[str]:
    return {missing.step for missing in analysis.not_enough}


def test_every_step_gives_results_with_its_run():
    analysis = full()
    assert analysis.themes and analysis.similar and analysis.stances and analysis.summaries
    assert set(analysis.runs) | steps_without_data(analysis) >= STEPS
    assert all(run.snapshot == corpus().snapshot for run in analysis.runs.values())
    members = {text.iri for text in corpus().texts}
    assert all(set(theme.members) <= members for theme in analysis.themes)


def test_the_same_corpus_gives_the_same_analysis():
    assert without_times(analyse(corpus())) == without_times(full())


def test_an_empty_corpus_has_not_enough_data_for_every_step():
    analysis = analyse(Corpus(texts=()))
    assert not (analysis.themes or analysis.similar or analysis.stances or analysis.summaries or analysis.groups)
    assert steps_without_data(analysis) >= STEPS


def test_empty_and_one_word_texts():
    texts = tuple(text(str(i), body) for i, body in enumerate(["", "  ", "hola", "parc", "bici", ""]))
    analysis = analyse(Corpus(texts=texts))
    assert {"themes", "stances", "opinion", "summaries"} <= steps_without_data(analysis)
    assert all(missing.reason for missing in analysis.not_enough)


def test_a_one_megabyte_text_is_analysed_with_the_others():
    words = ["parque", "arboles", "sombra", "banco", "fuente", "bicicleta", "carril", "calle", "plaza", "jardin"]
    huge = text("huge", " ".join(words[i % len(words)] for i in range(150_000)))  # over 1 MB
    others = [text(str(i), f"{words[i]} {words[i + 1]} {words[i + 2]} en el barrio") for i in range(6)]
    analysis = analyse(Corpus(texts=(huge, *others)))
    assert len(huge.body) > 1_000_000
    assert analysis.themes and any(huge.iri in theme.members for theme in analysis.themes)


def test_texts_in_an_unknown_language_are_left_untagged():
    finnish = text("fi", "Kaupunginvaltuusto päätti rakentaa uuden kirjaston keskustaan ensi vuonna.", language="")
    analysis = analyse(Corpus(texts=(finnish, text("es", "Queremos más árboles y sombra en la plaza del barrio."))))
    assert analysis.languages == {finnish.iri: ""}


def test_a_platform_with_no_comments_has_no_stances():
    analysis = analyse(replace(small(), texts=tuple(t for t in small().texts if t.kind != "comments")))
    assert "stances" in steps_without_data(analysis) and not analysis.stances
    assert analysis.themes


def test_a_few_changes_update_the_themes_and_similar_in_place_and_many_make_a_full_run():
    analyser = Analyser(RunSettings(incremental_max=3))
    first = analyser.analyse(small())
    assert "incremental" not in first.runs["themes"].parameters
    projects = [t for t in small().texts if t.kind == "budget-projects"]
    changed = replace(projects[0], body=projects[0].body + " Més arbres i ombra al parc.")
    new = replace(projects[1], iri=f"{POD}budget-projects/new", member=POD, platform="https://other.example/")
    texts = (*tuple(changed if t is projects[0] else t for t in small().texts), new)
    second = analyser.analyse(replace(small(), texts=texts, snapshot={**small().snapshot, POD: 1}))
    for step in ("themes", "similar"):
        assert second.runs[step].parameters["incremental"] is True
        assert second.runs[step].parameters["changed_contributions"] == 2
        assert second.runs[step].snapshot[POD] == 1
    assert {theme.key for theme in second.themes} <= {theme.key for theme in first.themes}
    assert any(new.iri in theme.members for theme in second.themes)
    assert any(link.source == new.iri and link.target == projects[1].iri and link.near_duplicate
               for link in second.similar)
    many = sorted({t.iri for t in projects})[2:6]
    texts = tuple(replace(t, body=t.body + " canvi") if t.iri in many else t for t in texts)
    third = analyser.analyse(replace(small(), texts=texts))
    assert "incremental" not in third.runs["themes"].parameters


@pytest.fixture
def down_model():
    client = ChatClient(LLMConfig(enabled=True, url=f"http://127.0.0.1:{free_port()}/", model="m", timeout_s=2))
    yield client
    client.close()


def test_a_model_that_is_down_leaves_the_offline_results(down_model):
    analysis = analyse(corpus(), llm_client=down_model)
    offline = full()
    assert (analysis.themes, analysis.summaries, analysis.similar) == (offline.themes, offline.summaries,
                                                                       offline.similar)
    assert all(theme.labelled_by == "terms" for theme in analysis.themes)
    assert analysis.runs["llm-themes"].parameters["accepted"] == 0
    assert "llm-summaries" in steps_without_data(analysis)


def test_a_model_that_answers_names_the_themes_and_writes_summaries():
    def script(request: dict) -> ChatReply:
        asked = request["messages"][-1]["content"]
        if '"labels"' in asked:
            answer = {"labels": {lang: {"text": f"Theme ({lang})", "cites": [1]} for lang in ("en", "es", "ca", "fr")}}
        else:
            answer = {"sentences": [{"text": "People want more shade.", "cites": [1]}]}
        return ChatReply(json.dumps(answer))

    server = FakeChatServer(script)
    client = ChatClient(LLMConfig(enabled=True, url=server.url, model="m", timeout_s=10))
    try:
        small = replace(corpus(), texts=corpus().texts[:120])
        analysis = analyse(small, llm_client=client)
    finally:
        client.close()
        server.close()
    assert analysis.themes and all(theme.labelled_by == "llm" for theme in analysis.themes)
    assert "llm-themes" in analysis.runs
    assert any(summary.abstractive for summary in analysis.summaries)
