"""The analysis's input, read from the merged graph in a few queries: a :class:`~dds_pod.analysis.Corpus`.

Each contribution gives one :class:`Text` per language its title or body is in (a platform's plain text of its
content preferred to its HTML), with the member it was harvested from, its platform, its topics as the search index
keys them (aligned topics share one key), what it answers, its stance (Decidim's alignment) and publication date.
The node faces anonymous data: each text is cut to ``max_chars`` in the store's query already, so a member's
1 MB body costs the node ``max_chars`` characters, and at most ``max_reactions`` reactions are read.

Reactions (supports and likes, dislikes, and a comment's stance towards what it answers) reach the analysis with
their actors replaced by a keyed hash (:class:`Pseudonyms`): the actor IRIs never leave this module. The key is
the node's (``DDS_PSEUDONYM_KEY`` or ``[import] pseudonym_key``), else one kept in its data directory, else one
made for the process: the same key gives the same pseudonyms, so the same input gives the same opinion groups.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..federation.merged import MergedGraph
from ..federation.views import INDEXED_KINDS, KINDS, kind_of
from ..sanitize import clean_html, plain_text
from ..search.documents import topic_keys
from ..vocab import AS, DCTERMS, DDS, RDF
from . import Corpus, Reaction, Text

MAX_CHARS = 20_000  # of a title or body read; the vectors read 5 000 of each text at most
MAX_REACTIONS = 2_000_000
KEY_FILE = "analysis-pseudonym.key"
ANALYSED_KINDS = tuple(kind for kind in INDEXED_KINDS if kind != "spaces")
TITLE, CONTENT, CONTENT_TEXT, SUMMARY = str(DCTERMS.title), str(AS.content), str(DDS.contentText), str(AS.summary)
PLATFORM, TOPIC, IN_REPLY_TO = str(DDS.sourcePlatform), str(DCTERMS.subject), str(AS.inReplyTo)
STANCE, PUBLISHED, AUTHOR = str(DDS.stance), str(AS.published), str(AS.attributedTo)
STANCES = {str(DDS.inFavour): ("inFavour", 1), str(DDS.against): ("against", -1), str(DDS.neutral): ("neutral", 0)}
REACTION_VALUES = {str(DDS.Support): 1, str(AS.Like): 1, str(AS.Dislike): -1}


class Pseudonyms:
    """Actor IRI -> a keyed hash of it: stable for one key, not reversible without it."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def for_node(cls, configured: str | None, data_dir: Path | None) -> Pseudonyms:
        """The node's configured key, else the one kept in its data directory (made on first use), else a key of
        this process only."""
        if configured:
            return cls(configured.encode())
        if data_dir is None:
            return cls(secrets.token_bytes(32))
        path = data_dir / KEY_FILE
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as stream:
                stream.write(secrets.token_hex(32))
        return cls(path.read_text(encoding="ascii").strip().encode())

    def of(self, actor: str) -> str:
        return hmac.new(self._key, actor.encode(), hashlib.sha256).hexdigest()[:24]


@dataclass
class _Draft:
    """One contribution being gathered from the rows of several queries."""

    kind: str
    texts: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # language -> predicate -> texts
    values: dict[str, list[str]] = field(default_factory=dict)
    member: str = ""


def read_corpus(merged: MergedGraph, pseudonyms: Pseudonyms, *, max_chars: int = MAX_CHARS,
                max_reactions: int = MAX_REACTIONS) -> Corpus:
    """Every contribution of the merged graph, its reactions pseudonymised, and each member's last sequence."""
    drafts = _drafts(merged)
    for iri, predicate, text, language in _texts(merged, max_chars):
        if iri in drafts:
            drafts[iri].texts.setdefault(language, {}).setdefault(predicate, []).append(text)
    for iri, predicate, value in merged.value_rows((PLATFORM, TOPIC, IN_REPLY_TO, STANCE, PUBLISHED, AUTHOR), None):
        if iri in drafts:
            drafts[iri].values.setdefault(predicate, []).append(value)
    for iri, member in merged.member_rows(None):
        if iri in drafts:
            drafts[iri].member = member
    keys = topic_keys(merged.alignments())
    texts = [text for iri, draft in sorted(drafts.items()) for text in _texts_of(iri, draft, keys, max_chars)]
    reactions = _reactions(merged, pseudonyms, max_reactions) + _stance_reactions(drafts, pseudonyms)
    return Corpus(texts=tuple(texts), reactions=tuple(reactions[:max_reactions]), snapshot=snapshot(merged))


def snapshot(merged: MergedGraph) -> dict[str, int]:
    """Each member's change feed and the last sequence the merged graph applied of it."""
    query = f"""SELECT ?member ?sequence WHERE {{ GRAPH <{merged.graphs.members}> {{
                  ?member <{DDS.lastSequence}> ?sequence }} }}"""
    found = {}
    for row in merged.store.select(query):
        try:
            found[row["member"].value] = int(row["sequence"].value)
        except ValueError:
            continue
    return dict(sorted(found.items()))


def _drafts(merged: MergedGraph) -> dict[str, _Draft]:
    classes: dict[str, set[str]] = defaultdict(set)
    for iri, cls in merged.typed_rows([str(KINDS[kind]) for kind in ANALYSED_KINDS], None):
        classes[iri].add(cls)
    drafts = {}
    for iri, found in classes.items():
        kind = kind_of(found)
        if kind in ANALYSED_KINDS:
            drafts[iri] = _Draft(kind)
    return drafts


def _texts(merged: MergedGraph, max_chars: int) -> list[tuple[str, str, str, str]]:
    """(resource, predicate, its first ``max_chars`` characters, language tag or "") of every text: the store cuts
    them, so a long body never reaches the node whole."""
    predicates = " ".join(f"<{p}>" for p in (TITLE, CONTENT, CONTENT_TEXT, SUMMARY))
    query = f"""SELECT DISTINCT ?r ?p (SUBSTR(STR(?o), 1, {int(max_chars)}) AS ?text) (LANG(?o) AS ?language)
                WHERE {{ VALUES ?p {{ {predicates} }} ?r ?p ?o FILTER(isIRI(?r) && isLiteral(?o)) }}"""
    return [(row["r"].value, row["p"].value, row["text"].value, row["language"].value)
            for row in merged.store.select(query)]


def _texts_of(iri: str, draft: _Draft, keys: Mapping[str, str], max_chars: int) -> list[Text]:
    """One :class:`Text` per language of the contribution (one untagged text when it has none)."""
    def first(predicate: str) -> str | None:
        found = sorted(draft.values.get(predicate, ()))
        return found[0] if found else None

    stance = STANCES.get(first(STANCE) or "")
    common = {"iri": iri, "kind": draft.kind, "member": draft.member, "platform": first(PLATFORM),
              "topics": tuple(sorted({keys.get(topic, topic) for topic in draft.values.get(TOPIC, ())})),
              "in_reply_to": first(IN_REPLY_TO), "stance": stance[0] if stance else None,
              "published": first(PUBLISHED)}
    by_language = draft.texts or {"": {}}
    return [Text(language=language, title=" ".join(sorted(texts.get(TITLE, ())))[:max_chars],
                 body=_body(texts)[:max_chars], **common)  # type: ignore[arg-type]
            for language, texts in sorted(by_language.items())]


def _body(texts: Mapping[str, list[str]]) -> str:
    content = texts.get(CONTENT_TEXT) or [plain_text(clean_html(html)) for html in texts.get(CONTENT, ())]
    return "\n".join([*sorted(content), *sorted(texts.get(SUMMARY, ()))])


def _reactions(merged: MergedGraph, pseudonyms: Pseudonyms, limit: int) -> list[Reaction]:
    """Each support, like or dislike of an actor for a contribution (a support is a like too: counted once)."""
    types = " ".join(f"<{cls}>" for cls in REACTION_VALUES)
    query = f"""SELECT ?r (SAMPLE(?actor) AS ?who) (SAMPLE(?target) AS ?what) (GROUP_CONCAT(STR(?type)) AS ?types)
                WHERE {{ VALUES ?type {{ {types} }} ?r <{RDF.type}> ?type ; <{AS.actor}> ?actor ;
                         <{AS.object}> ?target FILTER(isIRI(?actor) && isIRI(?target)) }}
                GROUP BY ?r ORDER BY ?r LIMIT {int(limit)}"""
    found = []
    for row in merged.store.select(query):
        value = -1 if str(AS.Dislike) in row["types"].value.split() else 1
        found.append(Reaction(pseudonyms.of(row["who"].value), row["what"].value, value))
    return found


def _stance_reactions(drafts: Mapping[str, _Draft], pseudonyms: Pseudonyms) -> list[Reaction]:
    """A comment's stance as its author's reaction to what it answers (+1 in favour, -1 against, 0 neutral)."""
    found = []
    for draft in drafts.values():
        author, target = draft.values.get(AUTHOR), draft.values.get(IN_REPLY_TO)
        stance = STANCES.get(min(draft.values.get(STANCE, [""])))
        if author and target and stance:
            found.append(Reaction(pseudonyms.of(min(author)), min(target), stance[1]))
    return sorted(found, key=lambda reaction: (reaction.target, reaction.actor))
