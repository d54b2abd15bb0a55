"""The language-model adapter against a fake OpenAI-compatible server on loopback: accepted answers, refused
ones (a citation that was not sent, not JSON), a slow, failing, oversized or absent server; and its
configuration table."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from dds_pod.analysis import Corpus, NotEnoughData, Text, Theme
from dds_pod.analysis.llm import ChatClient, LLMRejected, excerpts, name_themes, summarise
from dds_pod.analysis.summaries import Passages
from dds_pod.config import ConfigError, LLMConfig, from_dict
from dds_pod.testing import ChatReply, FakeChatServer, free_port

from .analysis_comments import madrid, madrid_proposal

POD = "https://pod.example/"
BASE = {"base_url": "http://127.0.0.1:8000/", "pods": {"p": {"platform": "https://p.example", "token": "t"}}}
EXCERPT = re.compile(r"^\[(\d+)\] ", re.MULTILINE)


def question(request: dict) -> str:
    return request["messages"][-1]["content"]


def sent_numbers(request: dict) -> list[int]:
    return [int(n) for n in EXCERPT.findall(question(request))]


def good(request: dict) -> ChatReply:
    """What a well-behaved model says: labels or sentences citing the first two excerpts it was shown."""
    cites = sent_numbers(request)[:2]
    if '"labels"' in question(request):
        answer = {"labels": {lang: {"text": f"Parks and trees ({lang})", "cites": cites} for lang in ("en", "es")}}
    else:
        answer = {"sentences": [{"text": "Neighbours want more shade.", "cites": cites},
                                {"text": "Some want benches.", "cites": [str(cites[-1])]}]}
    return ChatReply(json.dumps(answer))


def hallucinating(request: dict) -> ChatReply:
    answer = json.loads(good(request).body)["choices"][0]["message"]["content"]
    return ChatReply(answer.replace("[1, 2]", "[1, 99]").replace('"2"', '"99"'))


@pytest.fixture
def fake():
    servers: list[FakeChatServer] = []

    def start(script) -> FakeChatServer:
        servers.append(FakeChatServer(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def client(url: str, **settings) -> ChatClient:
    return ChatClient(LLMConfig(enabled=True, url=url, model="tiny-model", **{"timeout_s": 5.0, **settings}))


def corpus() -> Corpus:
    texts = [Text(iri=f"{POD}proposals/{n}", kind="proposals", member=POD, language="en", title=f"Park {n}",
                  body=f"More trees in park {n}. Write to jane.doe{n}@mail.example or call +34 600 123 45{n}.")
             for n in range(3)]
    return Corpus(texts=tuple(texts), snapshot={POD: 7})


def park_theme(key: str = "parks") -> Theme:
    return Theme(key=key, terms=("park", "tree"), labels={"en": "park, tree"},
                 members=tuple(f"{POD}proposals/{n}" for n in range(3)), platforms={POD: 3})


def passages() -> Passages:
    return Passages("parks", "en", corpus().texts, "theme")


# Accepted


def test_a_good_answer_names_the_theme_with_checked_citations(fake):
    server = fake(good)
    result = name_themes([park_theme()], corpus(), client(server.url), languages=("en", "es"))
    assert not isinstance(result, NotEnoughData)
    (theme,), run = result
    assert theme.labelled_by == "llm"
    assert theme.labels == {"en": "Parks and trees (en)", "es": "Parks and trees (es)"}
    assert theme.label_cites == (f"{POD}proposals/0", f"{POD}proposals/1")
    assert run.method == "llm" and run.parameters["model"] == "tiny-model" and run.parameters["accepted"] == 1
    assert "model tiny-model" in run.software and run.snapshot == {POD: 7}
    request, headers = server.requests[0]
    assert request["model"] == "tiny-model" and request["temperature"] == 0 and "Authorization" not in headers


def test_a_good_answer_gives_an_abstractive_summary_citing_iris(fake):
    server = fake(good)
    result = summarise([passages()], corpus(), client(server.url))
    assert not isinstance(result, NotEnoughData)
    (summary,), run = result
    assert summary.abstractive and summary.subject == "parks" and summary.language == "en"
    assert [s.cites for s in summary.sentences] == [(f"{POD}proposals/0", f"{POD}proposals/1"),
                                                    (f"{POD}proposals/1",)]
    assert run.parameters["task"] == "summaries"


def test_only_pseudonymised_numbered_excerpts_are_sent(fake):
    server = fake(good)
    name_themes([park_theme()], corpus(), client(server.url))
    sent = json.dumps(server.requests[0][0])
    assert "[1] Park 0" in sent and "[3] Park 2" in sent
    assert POD not in sent and "proposals/" not in sent  # no IRI: numbers only
    assert "jane.doe" not in sent and "600 123" not in sent
    assert "[e-mail]" in sent and "[phone]" in sent


def test_excerpts_are_bounded_in_number_and_length():
    long = [Text(iri=f"{POD}c/{n}", kind="comments", member=POD, language="es", body="palabra " * 200_000)
            for n in range(40)]
    sent = excerpts(long)
    assert len(sent.iris) == 20 and all(len(line) < 520 for line in sent.lines)
    assert excerpts([Text(iri="x", kind="comments", member=POD, language="es")]).iris == ()


def test_the_api_key_is_sent_from_its_environment_variable(fake, monkeypatch):
    server = fake(good)
    monkeypatch.setenv("TEST_LLM_KEY", "sekret-value")
    config = from_dict({**BASE, "analysis": {"llm": {"enabled": True, "url": server.url, "model": "m",
                                                      "api_key_env": "TEST_LLM_KEY"}}}).analysis_llm
    assert "sekret-value" not in repr(config)
    name_themes([park_theme()], corpus(), ChatClient(config))
    assert server.requests[0][1]["Authorization"] == "Bearer sekret-value"


def test_madrid_thread_summary_through_the_model(fake):
    server = fake(good)
    comments = tuple(t for t in madrid().texts if t.in_reply_to == madrid_proposal("1419"))
    result = summarise([Passages(madrid_proposal("1419"), "es", comments, "thread")], madrid(), client(server.url))
    assert not isinstance(result, NotEnoughData)
    assert set(result[0][0].sentences[0].cites) <= {t.iri for t in comments}
    assert len(sent_numbers(server.requests[0][0])) == 20


# Refused: the offline result stands


def test_a_citation_that_was_not_sent_rejects_the_whole_answer(fake, caplog):
    server = fake(hallucinating)
    original = park_theme()
    with caplog.at_level(logging.WARNING, logger="dds_pod.analysis.llm"):
        result = name_themes([original], corpus(), client(server.url), languages=("en", "es"))
    assert not isinstance(result, NotEnoughData)
    assert result[0] == [original] and result[1].parameters["accepted"] == 0
    assert "excerpt 99" in caplog.text and "which was not sent" in caplog.text
    assert isinstance(summarise([passages()], corpus(), client(server.url)), NotEnoughData)


@pytest.mark.parametrize("content", [
    "Sure! The theme is about parks.",
    "[1, 2, 3]",
    json.dumps({"labels": {"xx": {"text": "Parks", "cites": [1]}}}),
    json.dumps({"labels": {"en": {"text": "Parks", "cites": []}}}),
    json.dumps({"labels": {"en": {"text": "Parks", "cites": [True]}}}),
    json.dumps({"labels": {"en": {"text": "P" * 200, "cites": [1]}}}),
    json.dumps({"labels": {"en": {"text": "Parks\nand more", "cites": [1]}}}),
    json.dumps({"labels": {"en": "Parks"}}),
])
def test_an_answer_not_in_the_asked_shape_is_refused(fake, content):
    server = fake(lambda request: ChatReply(content))
    original = park_theme()
    result = name_themes([original], corpus(), client(server.url))
    assert not isinstance(result, NotEnoughData) and result[0] == [original]


def test_citations_are_excerpt_numbers_mapped_to_iris():
    sent = excerpts(corpus().texts)
    assert sent.cited(["[2]", 3]) == (f"{POD}proposals/1", f"{POD}proposals/2")
    with pytest.raises(LLMRejected):
        sent.cited([0])


def test_fenced_answers_are_accepted(fake):
    answer = "```json\n" + json.dumps({"labels": {"en": {"text": "Parks", "cites": [3]}}}) + "\n```"
    server = fake(lambda request: ChatReply(answer))
    (theme,), _ = name_themes([park_theme()], corpus(), client(server.url), ("en",))  # type: ignore[misc]
    assert theme.labels["en"] == "Parks" and theme.label_cites == (f"{POD}proposals/2",)


# Unavailable: the node goes on without it


@pytest.mark.parametrize("reply", [
    ChatReply(status=500, body=b'{"error": "out of memory"}'),
    ChatReply(body=b"<html>gateway</html>"),
    ChatReply(body=json.dumps({"choices": []}).encode()),
    ChatReply(body=b" " * 300_000),
    ChatReply(status=302, body=b""),
])
def test_a_failing_server_leaves_the_offline_results(fake, reply):
    server = fake(lambda request: reply)
    themes = [park_theme("a"), park_theme("b")]
    result = name_themes(themes, corpus(), client(server.url))
    assert not isinstance(result, NotEnoughData) and result[0] == themes
    assert len(server.requests) == 1  # an unavailable server is not asked again for the other themes


def test_a_slow_server_times_out(fake):
    server = fake(lambda request: ChatReply(good(request).body.decode(), delay_s=2.0))
    themes = [park_theme()]
    result = name_themes(themes, corpus(), client(server.url, timeout_s=0.3))
    assert not isinstance(result, NotEnoughData) and result[0] == themes
    assert isinstance(summarise([passages()], corpus(), client(server.url, timeout_s=0.3)), NotEnoughData)


def test_a_server_that_is_down_leaves_the_offline_results(caplog):
    down = client(f"http://127.0.0.1:{free_port()}/")
    themes = [park_theme()]
    with caplog.at_level(logging.WARNING, logger="dds_pod.analysis.llm"):
        result = name_themes(themes, corpus(), down)
    assert not isinstance(result, NotEnoughData) and result[0] == themes
    assert "did not answer" in caplog.text
    assert isinstance(summarise([passages()], corpus(), down), NotEnoughData)


def test_nothing_to_name_is_not_enough_data():
    result = name_themes([], corpus(), client("http://127.0.0.1:9/"))
    assert isinstance(result, NotEnoughData)


# Configuration


def test_the_model_is_off_by_default():
    assert from_dict(BASE).analysis_llm == LLMConfig()
    assert not LLMConfig().enabled


def test_the_llm_table_is_read():
    config = from_dict({**BASE, "analysis": {"llm": {"enabled": True, "url": "http://127.0.0.1:8080", "model": "m",
                                                      "timeout_s": 10, "max_tokens": 256}}}).analysis_llm
    assert (config.url, config.model, config.timeout_s, config.max_tokens) == ("http://127.0.0.1:8080/", "m", 10, 256)


@pytest.mark.parametrize(("table", "field"), [
    ({"enabled": "yes"}, "analysis.llm.enabled"),
    ({"enabled": True, "model": "m"}, "analysis.llm.url"),
    ({"enabled": True, "url": "http://127.0.0.1:8080/"}, "analysis.llm.model"),
    ({"url": "file:///etc/passwd"}, "analysis.llm.url"),
    ({"timeout_s": 0}, "analysis.llm.timeout_s"),
    ({"max_tokens": -1}, "analysis.llm.max_tokens"),
    ({"max_response_bytes": True}, "analysis.llm.max_response_bytes"),
    ({"api_key_env": "DDS_TEST_UNSET_VARIABLE"}, "analysis.llm.api_key_env"),
    ({"temperature": 1}, "analysis.llm.temperature"),
])
def test_a_bad_llm_table_is_refused_by_name(table, field):
    with pytest.raises(ConfigError) as error:
        from_dict({**BASE, "analysis": {"llm": table}})
    assert error.value.field == field


def test_an_unknown_analysis_table_is_refused(tmp_path: Path):
    with pytest.raises(ConfigError) as error:
        from_dict({**BASE, "analysis": {"lmm": {}}}, relative_to=tmp_path)
    assert error.value.field == "analysis.lmm"
