"""The ``decidim-dataspace`` JSON API, answered from a federation node's merged graph.

An unmodified Decidim with the module, pointed at a DDS node, then shows the proposals of every
federated platform (other Decidims, Consul imports, any DDS pod), each with its source link.
What the format cannot carry is left out: a contribution deleted on its platform is not served,
and a withdrawn proposal's earlier answer state is not kept (DDS keeps one status).

The resources the module's objects are made of are read from the merged graph once per version
of it (a harvest that changes something makes a new version), not on every request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

import pyoxigraph as ox

from ..federation.merged import MergedGraph
from ..vocab import AS, DCTERMS, DDS, RDF

STATE_OF = {"accepted": "accepted", "rejected": "rejected", "evaluating": "evaluating"}
ALIGNMENT_OF = {"inFavour": 1, "neutral": 0, "against": -1}
AGENT_TYPES = (AS.Person, AS.Organization, AS.Group)


@dataclass
class _Resource:
    iri: str
    values: dict[str, list[ox.NamedNode | ox.Literal | ox.BlankNode]]

    def first(self, predicate) -> str | None:
        found = self.values.get(str(predicate))
        return found[0].value if found else None

    def all(self, predicate) -> list[str]:
        return sorted(term.value for term in self.values.get(str(predicate), []))

    def text(self, predicate, locale: str) -> str | None:
        """The text in the preferred locale, else English, else any language."""
        literals = [t for t in self.values.get(str(predicate), []) if isinstance(t, ox.Literal)]
        for wanted in (locale, "en"):
            for literal in literals:
                if literal.language == wanted:
                    return literal.value
        return literals[0].value if literals else None

    def types(self) -> set[str]:
        return {t.value for t in self.values.get(str(RDF.type), [])}


class _Snapshot:
    """The resources of one version of the merged graph, with the replies to each, indexed once."""

    def __init__(self, merged: MergedGraph) -> None:
        self.version = merged.version  # read first: a write while reading makes the snapshot outdated, not wrong
        typed = merged.typed(*(str(c) for c in (DDS.Proposal, DDS.Comment, DDS.ParticipatorySpace, *AGENT_TYPES)))
        self.resources = {iri: _Resource(iri, merged.description(iri)) for iri in typed}
        self.replies: dict[str, list[str]] = {}
        for resource in self.resources.values():
            parent = resource.first(AS.inReplyTo)
            if parent and str(DDS.Comment) in resource.types():
                self.replies.setdefault(parent, []).append(resource.iri)
        self.by_reference: dict[tuple[str, str], _Resource] = {}
        for resource in self.resources.values():
            self.by_reference.setdefault((_kind(resource), _reference(resource)), resource)


class DecidimAPI:
    """The module's API over the merged graph; requests share the snapshot of its current version."""

    def __init__(self, merged: MergedGraph) -> None:
        self.merged = merged
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()

    def in_locale(self, locale: str = "en") -> DataspaceAPI:
        with self._lock:
            if self._snapshot is None or self._snapshot.version != self.merged.version:
                self._snapshot = _Snapshot(self.merged)
            return DataspaceAPI(self._snapshot, locale)


class DataspaceAPI:
    """Builds the module's objects from one snapshot of the merged graph, for one request's locale."""

    def __init__(self, snapshot: _Snapshot, locale: str = "en") -> None:
        self.locale = locale
        self.resources = snapshot.resources
        self.replies = snapshot.replies
        self.by_reference = snapshot.by_reference

    # ------------------------------------------------------------------ routes

    def containers(self) -> list[dict]:
        return [self.container(r) for r in sorted(self._of(DDS.ParticipatorySpace), key=self._order)]

    def contributions(self, with_comments: bool = False, container: str | None = None) -> list[dict]:
        proposals = [p for p in self._of(DDS.Proposal) if container is None or self._space_reference(p) == container]
        answer = []
        for proposal in sorted(proposals, key=self._order):
            answer.append(self.contribution(proposal))
            if with_comments:
                answer.extend(self.contribution(c) for c in self._thread(proposal.iri))
        return answer

    def authors(self) -> list[dict]:
        agents = [r for r in self.resources.values() if r.types() & {str(t) for t in AGENT_TYPES}]
        return [self.author(a) for a in sorted(agents, key=_reference)]

    def find(self, kind: str, reference: str) -> _Resource | None:
        return self.by_reference.get((kind, reference))

    # ------------------------------------------------------------------ objects

    def container(self, space: _Resource) -> dict:
        return {
            "reference": _reference(space),
            "source": space.first(AS.url) or space.iri,
            "name": space.text(DCTERMS.title, self.locale),
            "description": space.text(AS.content, self.locale),
            "metadata": {},
            "created_at": _rails(space.first(AS.published)),
            "updated_at": _rails(space.first(AS.updated) or space.first(AS.published)),
            "deleted_at": None,
        }

    def contribution(self, resource: _Resource, full_children: bool = False) -> dict:
        comment = str(DDS.Comment) in resource.types()
        authors = [self._author_reference(a) for a in resource.all(AS.attributedTo)]
        item = {
            "reference": _reference(resource),
            "source": resource.first(AS.url) or resource.iri,
            "container": self._space_reference(resource),
            "locale": resource.first(DCTERMS.language) or self.locale,
            "title": None if comment else resource.text(DCTERMS.title, self.locale),
            "content": resource.text(AS.content, self.locale),
            "authors": (authors[0] if authors else None) if comment else authors,
            "parent": self._parent_reference(resource) if comment else None,
            "children": self._children(resource, comment, full_children),
            "metadata": self._comment_metadata(resource) if comment else self._proposal_metadata(resource),
            "created_at": _rails(resource.first(AS.published)),
            "updated_at": _rails(resource.first(AS.updated) or resource.first(AS.published)),
            "deleted_at": None,
        }
        return item

    def author(self, agent: _Resource) -> dict:
        return {"reference": _reference(agent), "name": agent.first(AS.name), "source": agent.first(AS.url)}

    # ------------------------------------------------------------------ helpers

    def _children(self, resource: _Resource, comment: bool, full: bool) -> list | None:
        if comment:
            direct = [self.resources[c] for c in self.replies.get(resource.iri, []) if c in self.resources]
            return [_reference(c) for c in sorted(direct, key=self._order)] or None
        thread = self._thread(resource.iri)
        return [self.contribution(c) for c in thread] if full else [_reference(c) for c in thread]

    def _thread(self, iri: str) -> list[_Resource]:
        found, stack = [], list(self.replies.get(iri, []))
        while stack:
            child = stack.pop()
            if child in self.resources:
                found.append(self.resources[child])
                stack.extend(self.replies.get(child, []))
        return sorted(found, key=self._order)

    def _proposal_metadata(self, resource: _Resource) -> dict:
        status = _local(resource.first(DDS.status))
        return {"state": {"withdrawn": status == "withdrawn", "emendation": str(DDS.Amendment) in resource.types(),
                          "state": STATE_OF.get(status or "")}}

    def _comment_metadata(self, resource: _Resource) -> dict:
        depth, parent = 0, resource.first(AS.inReplyTo)
        while parent in self.resources and str(DDS.Comment) in self.resources[parent].types() and depth < 100:
            depth += 1
            parent = self.resources[parent].first(AS.inReplyTo)
        return {"depth": depth, "alignment": ALIGNMENT_OF.get(_local(resource.first(DDS.stance)) or "", 0)}

    def _parent_reference(self, resource: _Resource) -> str | None:
        parent = resource.first(AS.inReplyTo)
        return _reference(self.resources[parent]) if parent in self.resources else parent

    def _space_reference(self, resource: _Resource) -> str | None:
        space = resource.first(DCTERMS.isPartOf)
        return _reference(self.resources[space]) if space in self.resources else space

    def _author_reference(self, iri: str) -> str:
        return _reference(self.resources[iri]) if iri in self.resources else iri

    def _order(self, resource: _Resource) -> tuple[str, str]:
        return (resource.first(AS.published) or "", _reference(resource))

    def _of(self, cls) -> list[_Resource]:
        return [r for r in self.resources.values() if str(cls) in r.types()]


def _reference(resource: _Resource) -> str:
    return resource.first(DCTERMS.identifier) or resource.iri


def _kind(resource: _Resource) -> str:
    types = resource.types()
    if str(DDS.ParticipatorySpace) in types:
        return "container"
    if types & {str(DDS.Proposal), str(DDS.Comment)}:
        return "contribution"
    return "author"


def _local(iri: str | None) -> str | None:
    return iri.rsplit("#", 1)[-1] if iri and iri.startswith(str(DDS)) else None


def _rails(value: str | None) -> str | None:
    """Rails' ISO 8601 form, with milliseconds and the original offset."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
