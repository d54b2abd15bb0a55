"""Naming a document's resource: its top-level node gets the resource's IRI, or a new IRI replaces an old one.

A POST is parsed against the IRI the pod proposes, and a document without "@id" describes a blank node:
both are renamed here, so that what is stored always describes the resource by its IRI.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

import pyoxigraph as ox

from ..errors import BadDocument
from ..terms import Statement

S = TypeVar("S", bound=Statement)


def name_root(triples: Sequence[S], subject: ox.NamedNode) -> Sequence[S] | list[ox.Triple]:
    """Give the resource's IRI to the document's one top-level blank node (a POST without "@id")."""
    if any(t.subject == subject for t in triples):
        return triples
    referenced = {t.object for t in triples}
    roots = {t.subject for t in triples if isinstance(t.subject, ox.BlankNode) and t.subject not in referenced}
    if len(roots) > 1:
        raise BadDocument("the document has several top-level nodes; give the resource's node \"@id\": \"\"",
                          field="@id")
    if not roots:
        return triples
    return rename(triples, roots.pop(), subject)


def rename(triples: Iterable[Statement], old: ox.NamedNode | ox.BlankNode, new: ox.NamedNode) -> list[ox.Triple]:
    """The triples with ``old`` (and, for an IRI, its ``#fragments``) renamed to ``new``."""
    def renamed(term):
        if term == old:
            return new
        if isinstance(old, ox.NamedNode) and isinstance(term, ox.NamedNode) and term.value.startswith(
                old.value + "#"):
            return ox.NamedNode(new.value + term.value[len(old.value):])
        return term

    return [ox.Triple(renamed(t.subject), t.predicate, renamed(t.object)) for t in triples]
