"""An optional language model behind an OpenAI-compatible chat API (llama.cpp's server, Ollama, vLLM): theme
names and abstractive summaries, every claim checked against what was sent.

The model is shown numbered excerpts, pseudonymised: no author, no actor, no IRI, e-mail addresses, links and
phone numbers masked; only the excerpt numbers, which the adapter maps back to contribution IRIs. It must answer
with JSON in which every label or sentence lists the excerpts it rests on. An answer that is not that JSON, or
that cites an excerpt that was not sent, is refused whole (the reason logged) and the offline result stands. A
server that is down, slow, erroneous or too talkative is the same: the node goes on without it. Requests go only
to the URL the operator configured, never through an environment proxy, never following a redirect.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import requests

from ..config import LLMConfig
from . import Corpus, NotEnoughData, Run, Sentence, Summary, Text, Theme, runs
from .summaries import Passages

log = logging.getLogger(__name__)

LANGUAGES = ("ca", "es", "fr", "en")
MAX_EXCERPTS = 20
MAX_EXCERPT_CHARACTERS = 500
MAX_LABEL_CHARACTERS = 80
MAX_SENTENCE_CHARACTERS = 600
MASKS = (
    (re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), "[e-mail]"),
    (re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE), "[link]"),
    (re.compile(r"(?<!\w)@\w{2,}"), "[user]"),
    (re.compile(r"(?<!\w)\+?\d[\d .-]{7,}\d\b"), "[phone]"),
)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)
SYSTEM = ("You help a city read what its citizens wrote on participation platforms. You answer with one JSON object "
          "and nothing else. Every claim cites the numbers of the excerpts it rests on; cite only excerpts shown.")


class LLMError(Exception):
    """Why the model's help was not used; the offline result stands."""


class LLMUnavailable(LLMError):
    """The server could not be reached, took too long, failed or did not answer a chat completion."""


class LLMRejected(LLMError):
    """The model answered, but not the JSON asked for, or citing an excerpt that was not sent."""


@dataclass(frozen=True)
class Excerpts:
    """Numbered excerpts as sent: excerpt ``n`` (from 1) is contribution ``iris[n - 1]``."""

    iris: tuple[str, ...]
    lines: tuple[str, ...]

    def prompt(self) -> str:
        return "\n".join(self.lines)

    def cited(self, value: Any) -> tuple[str, ...]:
        """The IRIs a ``cites`` list names: a non-empty list of excerpt numbers, every one sent."""
        if not isinstance(value, list) or not value or len(value) > len(self.iris):
            raise LLMRejected("a claim's \"cites\" is not a non-empty list of excerpt numbers")
        iris = []
        for number in value:
            index = _number(number)
            if index is None or not 1 <= index <= len(self.iris):
                raise LLMRejected(f"a claim cites excerpt {str(number)[:20]}, which was not sent")
            iris.append(self.iris[index - 1])
        return tuple(dict.fromkeys(iris))


def excerpts(texts: Sequence[Text], limit: int = MAX_EXCERPTS) -> Excerpts:
    """The first ``limit`` contributions of ``texts`` (one text each), pseudonymised and cut to a few hundred
    characters."""
    chosen: dict[str, Text] = {}
    for text in texts:
        if len(chosen) < limit and text.iri not in chosen and (text.title or text.body).strip():
            chosen[text.iri] = text
    lines = [f"[{n}] {_excerpt(text)}" for n, text in enumerate(chosen.values(), start=1)]
    return Excerpts(tuple(chosen), tuple(lines))


class ChatClient:
    """The configured chat server, asked one question at a time, with a deadline and a bounded answer."""

    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        self.endpoint = f"{config.url}v1/chat/completions"
        self.session = requests.Session()
        self.session.trust_env = False  # the operator's URL, not an environment proxy

    def ask(self, question: str) -> str:
        """The assistant's message for ``question``; :class:`LLMUnavailable` when there is none to be had."""
        payload: dict[str, Any] = {
            "model": self.config.model, "max_tokens": self.config.max_tokens, "temperature": 0, "seed": 0,
            "stream": False, "response_format": {"type": "json_object"},
            "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]}
        headers = {"Authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}
        deadline = time.monotonic() + self.config.timeout_s
        try:
            with self.session.post(self.endpoint, json=payload, headers=headers, stream=True, allow_redirects=False,
                                   timeout=(min(5.0, self.config.timeout_s), self.config.timeout_s)) as response:
                if response.status_code != 200:
                    raise LLMUnavailable(f"{self.endpoint} answered HTTP {response.status_code}")
                body = self._read(response, deadline)
        except requests.RequestException as exc:
            raise LLMUnavailable(f"{self.endpoint} did not answer: {type(exc).__name__}") from None
        return _content(body)

    def _read(self, response: requests.Response, deadline: float) -> bytes:
        body = bytearray()
        for chunk in response.iter_content(16 * 1024):
            body += chunk
            if len(body) > self.config.max_response_bytes:
                raise LLMUnavailable(f"the answer is longer than {self.config.max_response_bytes} bytes")
            if time.monotonic() > deadline:
                raise LLMUnavailable(f"the answer took longer than {self.config.timeout_s} s")
        return bytes(body)

    def close(self) -> None:
        self.session.close()


def name_themes(themes: Sequence[Theme], corpus: Corpus, client: ChatClient,
                languages: Sequence[str] = LANGUAGES) -> tuple[list[Theme], Run] | NotEnoughData:
    """The themes, each named by the model in ``languages`` when its answer passes the checks
    (``labelled_by="llm"``), else as it was. A server that is unavailable is not asked again in this run."""
    if not themes:
        return NotEnoughData("llm-themes", "no theme to name")
    started, by_iri = runs.now(), _by_iri(corpus)
    named, accepted = [], 0
    for index, theme in enumerate(themes):
        sent = excerpts([t for iri in theme.members for t in by_iri.get(iri, ())])
        try:
            named.append(_named(theme, sent, client.ask(_theme_question(theme, sent, languages)), languages))
            accepted += 1
        except LLMRejected as exc:
            log.warning("theme %s keeps its key-term label: the model's answer was refused (%s)", theme.key, exc)
            named.append(theme)
        except LLMUnavailable as exc:
            log.warning("themes keep their key-term labels: %s", exc)
            named += themes[index:]
            break
    return named, _run(client, corpus, started, "theme-names", len(themes), accepted)


def summarise(sets: Sequence[Passages], corpus: Corpus, client: ChatClient, max_sentences: int = 3
              ) -> tuple[list[Summary], Run] | NotEnoughData:
    """Abstractive summaries of the passage sets (``abstractive=True``) whose answers pass the checks; the
    extractive summaries stand for the others. ``NotEnoughData`` when none was accepted."""
    started, summaries = runs.now(), []
    for passages in sets:
        sent = excerpts(passages.texts)
        try:
            answer = client.ask(_summary_question(passages.language, sent, max_sentences))
            summaries.append(_summary(passages, sent, answer, max_sentences))
        except LLMRejected as exc:
            log.warning("summary of %s (%s) stays extractive: the model's answer was refused (%s)",
                        passages.subject, passages.language, exc)
        except LLMUnavailable as exc:
            log.warning("summaries stay extractive: %s", exc)
            break
    if not summaries:
        return NotEnoughData("llm-summaries", "the language model gave no summary that passed the checks")
    return summaries, _run(client, corpus, started, "summaries", len(sets), len(summaries))


def _theme_question(theme: Theme, sent: Excerpts, languages: Sequence[str]) -> str:
    example = ", ".join(f'"{language}": {{"text": "...", "cites": [1, 2]}}' for language in languages)
    return (f"These excerpts were grouped into one theme; its key terms are: {', '.join(theme.terms[:10])}.\n\n"
            f"{sent.prompt()}\n\nName the theme in 2 to 6 words in each of these languages: {', '.join(languages)}. "
            f"Answer as {{\"labels\": {{{example}}}}}, each name citing the excerpts it rests on.")


def _summary_question(language: str, sent: Excerpts, max_sentences: int) -> str:
    return (f"{sent.prompt()}\n\nSummarise what these excerpts say in at most {max_sentences} sentences, written "
            f"in the language whose code is {language!r}. Answer as {{\"sentences\": [{{\"text\": \"...\", "
            f"\"cites\": [1, 3]}}]}}, each sentence citing the excerpts it rests on.")


def _named(theme: Theme, sent: Excerpts, answer: str, languages: Sequence[str]) -> Theme:
    labels = _parse(answer).get("labels")
    if not isinstance(labels, dict) or not labels or not set(labels) <= set(languages):
        raise LLMRejected(f"\"labels\" is not an object keyed by {', '.join(languages)}")
    texts: dict[str, str] = {}
    cites: list[str] = []
    for language, claim in labels.items():
        texts[language] = _claim_text(claim, MAX_LABEL_CHARACTERS)
        cites += sent.cited(claim.get("cites"))
    return replace(theme, labels={**theme.labels, **texts}, labelled_by="llm",
                   label_cites=tuple(dict.fromkeys(cites)))


def _summary(passages: Passages, sent: Excerpts, answer: str, max_sentences: int) -> Summary:
    claims = _parse(answer).get("sentences")
    if not isinstance(claims, list) or not 1 <= len(claims) <= max_sentences:
        raise LLMRejected(f"\"sentences\" is not a list of 1 to {max_sentences} sentences")
    sentences = tuple(Sentence(_claim_text(claim, MAX_SENTENCE_CHARACTERS), sent.cited(claim.get("cites")))
                      for claim in claims)
    return Summary(subject=passages.subject, language=passages.language, sentences=sentences, abstractive=True)


def _parse(answer: str) -> dict[str, Any]:
    fenced = FENCE.match(answer.strip())
    try:
        value = json.loads(fenced.group(1) if fenced else answer)
    except ValueError:
        raise LLMRejected("the answer is not JSON") from None
    if not isinstance(value, dict):
        raise LLMRejected("the answer is not a JSON object")
    return value


def _claim_text(claim: Any, limit: int) -> str:
    text = claim.get("text") if isinstance(claim, dict) else None
    if not isinstance(text, str) or not text.strip() or len(text) > limit or CONTROL.search(text.strip()):
        raise LLMRejected(f"a claim's \"text\" is not a line of 1 to {limit} characters")
    return text.strip()


def _number(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"\[?\d{1,4}\]?", value.strip()):
        return int(value.strip().strip("[]"))
    return None


def _content(body: bytes) -> str:
    try:
        content = json.loads(body)["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise LLMUnavailable("the server's answer is not a chat completion") from None
    if not isinstance(content, str):
        raise LLMUnavailable("the server's answer carries no message")
    return content


def _excerpt(text: Text) -> str:
    content = " — ".join(part for part in (text.title.strip(), text.body.strip()) if part)
    content = " ".join(content[:MAX_EXCERPT_CHARACTERS * 4].split())
    for pattern, mask in MASKS:
        content = pattern.sub(mask, content)
    if len(content) > MAX_EXCERPT_CHARACTERS:
        content = content[:MAX_EXCERPT_CHARACTERS].rsplit(" ", 1)[0] + " …"
    return content


def _by_iri(corpus: Corpus) -> dict[str, list[Text]]:
    by_iri: dict[str, list[Text]] = {}
    for text in corpus.texts:
        by_iri.setdefault(text.iri, []).append(text)
    return by_iri


def _run(client: ChatClient, corpus: Corpus, started: str, task: str, asked: int, accepted: int) -> Run:
    parameters: dict[str, str | int | float | bool] = {
        "task": task, "model": client.config.model, "max_tokens": client.config.max_tokens, "temperature": 0,
        "seed": 0, "max_excerpts": MAX_EXCERPTS, "asked": asked, "accepted": accepted}
    return replace(runs.finish("llm", parameters, corpus, started), software=f"{runs.software()}; model "
                   f"{client.config.model}")
