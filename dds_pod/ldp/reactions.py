"""What a resource received: comments, supports, likes and dislikes, local or announced by other platforms.

Local reactions are found where they are stored (a resource of the same pod whose ``as:inReplyTo``
or ``as:object`` is the target), so a new, changed or deleted local reaction shows at once without
any bookkeeping. Reactions published on other platforms only exist here through the notifications
their pods sent to the inbox: each accepted one is indexed in the node's graph ``urn:dds:reactions``
(reaction, kind, platform, target), keyed by the reaction's IRI, so a repeated or updated
notification replaces its entry instead of counting twice.

A pod's view of a single resource (:meth:`Pod.view`) adds what is found as ``as:replies`` links and one
``dds:reactionCounts`` node per platform; the digest of that list goes into its version (the ETag), so
caches see a new reaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from ..changes import INTERNAL
from ..store import Change, Store
from ..terms import integer, named
from ..vocab import AS, DDS, SCHEMA

GRAPH = "urn:dds:reactions"
REACTS_TO = ox.NamedNode(INTERNAL + "reactsTo")
KIND = ox.NamedNode(INTERNAL + "reactionKind")

# The classes that make a resource a reaction, most specific first (a Support is also a Like).
KINDS = (DDS.Support, AS.Dislike, AS.Like, DDS.Comment)
COUNTERS = {DDS.Comment: SCHEMA.commentCount, DDS.Support: DDS.supportCount, AS.Like: DDS.likeCount,
            AS.Dislike: DDS.dislikeCount}
ANSWERING = (AS.inReplyTo, AS.object)


@dataclass(frozen=True, order=True)
class Reaction:
    iri: str
    kind: str | None  # a class of KINDS, or None for something that answers without being a reaction
    platform: str


def kind_of(types: Iterable[str]) -> str | None:
    present = set(types)
    return next((str(k) for k in KINDS if str(k) in present), None)


def index_change(reaction: Reaction, target: str) -> Change:
    """The writes that record (or re-record) a remote reaction to ``target``."""
    change, subject = Change(), ox.NamedNode(reaction.iri)
    change.set_value(GRAPH, subject, REACTS_TO, ox.NamedNode(target))
    change.set_value(GRAPH, subject, KIND, ox.NamedNode(reaction.kind or str(AS.Object)))
    change.set_value(GRAPH, subject, named(DDS.sourcePlatform), ox.NamedNode(reaction.platform))
    return change


def find(store: Store, pod_url: str, target: str) -> list[Reaction]:
    """Every reaction to ``target`` (a resource of the pod at ``pod_url``), in one query."""
    iri, pod, inbox = ox.NamedNode(target), ox.Literal(pod_url), ox.Literal(pod_url + "inbox/")
    rows = store.select(f"""
        SELECT ?r ?kind ?platform WHERE {{
          {{ {{ GRAPH ?r {{ ?r <{AS.inReplyTo}> {iri} }} }} UNION {{ GRAPH ?r {{ ?r <{AS.object}> {iri} }} }}
             FILTER(STRSTARTS(STR(?r), {pod}) && !STRSTARTS(STR(?r), {inbox}))
             OPTIONAL {{ GRAPH ?r {{ ?r a ?kind }} }}
             OPTIONAL {{ GRAPH ?r {{ ?r <{DDS.sourcePlatform}> ?platform }} }} }}
          UNION
          {{ GRAPH <{GRAPH}> {{ ?r {REACTS_TO} {iri} ; {KIND} ?kind ; <{DDS.sourcePlatform}> ?platform }} }}
        }}""")
    types: dict[str, set[str]] = {}
    platforms: dict[str, str] = {}
    for row in rows:
        reaction = row["r"].value
        types.setdefault(reaction, set())
        if row["kind"] is not None:
            types[reaction].add(row["kind"].value)
        if row["platform"] is not None:
            platforms[reaction] = row["platform"].value
    return sorted(Reaction(r, kind_of(kinds), platforms.get(r, "")) for r, kinds in types.items())


def triples(target: str, reactions: list[Reaction]) -> list[ox.Triple]:
    """``as:replies`` to each reaction and one ``dds:reactionCounts`` node per platform."""
    subject = ox.NamedNode(target)
    result = [ox.Triple(subject, named(AS.replies), ox.NamedNode(r.iri)) for r in reactions]
    for platform in sorted({r.platform for r in reactions if r.platform}):
        node = ox.BlankNode()
        result.append(ox.Triple(subject, named(DDS.reactionCounts), node))
        result.append(ox.Triple(node, named(DDS.sourcePlatform), ox.NamedNode(platform)))
        for kind, counter in COUNTERS.items():
            count = sum(1 for r in reactions if r.platform == platform and r.kind == str(kind))
            result.append(ox.Triple(node, named(counter), integer(count)))
    return result


THREAD = "replies/"  # the replies container of a resource is <resource>/replies/


def thread_link(target: str) -> ox.Triple:
    """``dds:repliesContainer`` from ``target`` to its replies container, an LDP container that embeds each
    reply (Startin'blox nests it: one request shows a thread)."""
    return ox.Triple(ox.NamedNode(target), named(DDS.repliesContainer), ox.NamedNode(f"{target}/{THREAD}"))


def thread_target(iri: str) -> str | None:
    """The resource whose replies container ``iri`` would be, or None when ``iri`` is no such IRI. A pod holds no
    resource twinned with a container of the same name, so ``<resource>/replies/`` cannot be a stored container."""
    if not iri.endswith("/" + THREAD):
        return None
    target = iri[: -len(THREAD) - 1]
    return target if target and not target.endswith("/") else None


def digest(reactions: list[Reaction]) -> str:
    """A short fingerprint of the list, empty when there is none (so the ETag of a resource without
    reactions stays what it always was)."""
    if not reactions:
        return ""
    text = "\n".join(f"{r.iri} {r.kind} {r.platform}" for r in reactions)
    return hashlib.sha256(text.encode()).hexdigest()[:12]

