"""Keeping the index up to date with the merged graph, and rebuilding it whole.

Every write of the merged graph (a harvest of a local pod or of a remote member) goes through
:meth:`MergedGraph.commit`, which tells its listeners which resources it touches before and after it commits.
The updater re-indexes just those, and what their entries count towards: the contribution a comment or a
support answers (its counts), the contributions a result names (whether they influenced a decision), those of a
topic whose alignment changed. What they answered is read before the commit too, so that removing a comment
also lowers its parent's count.

An index on a server (PostgreSQL) can be away when a commit is made: the resources it could not re-index are kept
and re-indexed with those of the next commit, so that an outage of the index loses no update that a later one
follows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator

from ..errors import StoreUnavailable
from . import IndexDocument, SearchIndex
from .documents import DocumentBuilder

Progress = Callable[[int, int], None]  # (documents written, documents in all)


class IndexUpdater:
    """A listener of the merged graph's commits that re-indexes what each commit touched."""

    def __init__(self, index: SearchIndex, builder: DocumentBuilder) -> None:
        self.index = index
        self.builder = builder
        self._pending: set[str] = set()  # not re-indexed yet: the index was away
        self._pending_lock = threading.Lock()

    def prepare(self, touched: frozenset[str]) -> Callable[[], None]:
        before = self.builder.merged.related(touched)
        return lambda: self.update(touched | before)

    def update(self, iris: Iterable[str]) -> None:
        """Re-index these resources and what they count towards now, with those an earlier update could not; forget
        those that are gone."""
        with self._pending_lock:
            wanted, self._pending = set(iris) | self._pending, set()
        try:
            wanted |= self.builder.merged.related(wanted)
            documents = self.builder.build(wanted)
            self.index.upsert(documents)
            self.index.remove(wanted - {document.iri for document in documents})
        except StoreUnavailable:
            with self._pending_lock:
                self._pending |= wanted
            raise


def rebuild(index: SearchIndex, builder: DocumentBuilder, progress: Progress | None = None) -> int:
    """Replace the index by the documents of the whole merged graph, in one transaction; their number."""
    documents = builder.all()
    index.replace(_reporting(documents, progress))
    return len(documents)


def build_if_empty(index: SearchIndex, builder: DocumentBuilder) -> int:
    """At start-up: an empty index (a new node, a deleted file) is built from what the merged graph holds."""
    return rebuild(index, builder) if index.count() == 0 else 0


def _reporting(documents: list[IndexDocument], progress: Progress | None) -> Iterator[IndexDocument]:
    step = max(1, len(documents) // 100)
    for count, document in enumerate(documents, 1):
        yield document
        if progress is not None and (count % step == 0 or count == len(documents)):
            progress(count, len(documents))
