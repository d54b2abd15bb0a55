"""Comment threads: which contribution each comment finally answers.

A platform may point a reply at the comment it answers (Consul) or straight at the proposal (Decidim's export);
following ``in_reply_to`` through the comments of the corpus gives both the same root, the first thing in the
chain that is not a comment. A chain that loops or leaves the corpus ends where it can no longer be followed.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import Text

COMMENTS = "comments"
MAX_DEPTH = 100  # replies nest a few levels; a longer chain is a loop or an attack, and stops here


def roots(texts: Iterable[Text]) -> dict[str, str]:
    """Comment IRI -> the IRI of the contribution its thread answers, for every comment that answers something."""
    texts = tuple(texts)
    parents: dict[str, str] = {t.iri: t.in_reply_to for t in texts if t.kind == COMMENTS and t.in_reply_to}
    return {iri: _root(parent, parents) for iri, parent in parents.items()}


def _root(start: str, parents: dict[str, str]) -> str:
    current, seen = start, {start}
    for _ in range(MAX_DEPTH):
        parent = parents.get(current)
        if parent is None or parent in seen:
            return current
        seen.add(parent)
        current = parent
    return current
