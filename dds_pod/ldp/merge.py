"""Merge-patch semantics for JSON-LD PATCH bodies (what Startin'blox forms send).

Only the properties the patch names change: each replaces all values of that property, except
language maps, where a patch in one language leaves the other languages alone, as a JSON merge
patch of ``{"title": {"en": ...}}`` would. A ``null`` removes: ``{"summary": null}`` every value of
the field, ``{"title": {"en": null}}`` only the English one. JSON-LD itself drops nulls, so they are
read from the JSON before the rest becomes RDF.

A plain string where a language map is expected (what forms send) is text in the pod's language unless the
request says which (``Content-Language``); a form that edits a text shows it in the language it is stored in,
so when the stored value has one other language, the plain string replaces it in that language.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox

from .. import jsonld, rdfio, standard
from ..errors import BadDocument
from ..terms import named
from .intake import Intake, language_mapped
from .naming import name_root

MEDIA_TYPES = ("application/ld+json", "application/merge-patch+json", "application/json")


@dataclass(frozen=True)
class MergePatch:
    """A parsed merge patch: the triples it sets, the fields it removes, and the (field, language) pairs
    it removes from language maps."""

    triples: list[ox.Triple]
    removed: frozenset[ox.NamedNode]
    removed_languages: frozenset[tuple[ox.NamedNode, str]]
    plain: frozenset[ox.NamedNode] = frozenset()  # language maps given as plain text in no stated language
    language: str | None = None  # the language that plain text was tagged with


def read_merge_patch(intake: Intake, data: bytes, iri: str, language: str | None, default_language: str) -> MergePatch:
    """Parse a merge patch against the resource's IRI; its nulls name what to remove. ``language``: the one the
    request states for its plain text, else ``None`` (then ``default_language``, or the stored value's)."""
    rdfio.check_size(len(data), intake.max_bytes)
    document = jsonld.loads(rdfio.decode(data))
    if not isinstance(document, dict):
        raise BadDocument("a merge patch is a JSON object")
    if "@context" not in document:
        document = {"@context": intake.context_url, **document}
    removed: set[ox.NamedNode] = set()
    removed_languages: set[tuple[ox.NamedNode, str]] = set()
    fields = _fields()
    for key, value in list(document.items()):
        if value is None:
            removed.add(_field(fields, key))
            del document[key]
        elif isinstance(value, dict) and None in value.values() and _field(fields, key) in _language_mapped():
            predicate = fields[key]
            removed_languages.update((predicate, tag) for tag, text in value.items() if text is None)
            kept = {tag: text for tag, text in value.items() if text is not None}
            if kept:
                document[key] = kept
            else:
                del document[key]
    plain = frozenset() if language else _plain_fields(document, fields)
    triples = intake.read_json_triples(document, iri, language or default_language)
    return MergePatch(triples, frozenset(removed), frozenset(removed_languages), plain, language or default_language)


def _plain_fields(document: dict, fields: dict[str, ox.NamedNode]) -> frozenset[ox.NamedNode]:
    """The language-mapped fields the patch gives as plain strings."""
    return frozenset(fields[key] for key, value in document.items()
                     if key in fields and fields[key] in _language_mapped() and _is_plain(value))


def _is_plain(value: object) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def merge_patch(current: Sequence[ox.Triple], patch: MergePatch, subject: ox.NamedNode) -> list[ox.Triple]:
    """The state after applying ``patch`` (parsed against the resource IRI) to ``current``."""
    patched = _in_stored_languages(name_root(patch.triples, subject), current, patch, subject)
    result = dict.fromkeys(current)
    for predicate in patch.removed:
        _drop_values(result, subject, predicate)
    for predicate, language in patch.removed_languages:
        _drop_values(result, subject, predicate, language)
    named_subjects = {t.subject for t in patched if isinstance(t.subject, ox.NamedNode)}
    for node in named_subjects:
        values: dict[ox.NamedNode, set[str | None]] = {}
        for triple in patched:
            if triple.subject == node:
                tag = triple.object.language if isinstance(triple.object, ox.Literal) else None
                values.setdefault(triple.predicate, set()).add(tag)
        for predicate, tags in values.items():
            if predicate in _language_mapped() and None not in tags:
                for tag in tags:
                    _drop_values(result, node, predicate, tag)
            else:
                _drop_values(result, node, predicate)
    result.update(dict.fromkeys(patched))
    return list(result)


def _in_stored_languages(patched: Sequence[ox.Triple], current: Sequence[ox.Triple], patch: MergePatch,
                         subject: ox.NamedNode) -> list[ox.Triple]:
    """The patch with its plain text retagged in the language of the stored value, where that value has one
    language and it is not the one the text was tagged with."""
    retag: dict[ox.NamedNode, str] = {}
    for predicate in patch.plain:
        stored = {t.object.language for t in current if t.subject == subject and t.predicate == predicate
                  and isinstance(t.object, ox.Literal) and t.object.language}
        if len(stored) == 1 and patch.language not in stored:
            retag[predicate] = stored.pop()
    return [ox.Triple(t.subject, t.predicate, ox.Literal(t.object.value, language=retag[t.predicate]))
            if t.subject == subject and t.predicate in retag and isinstance(t.object, ox.Literal)
            and t.object.language == patch.language else t for t in patched]


def _field(fields: dict[str, ox.NamedNode], key: str) -> ox.NamedNode:
    if key not in fields:
        raise BadDocument(f"cannot remove {key!r}: it is not a DDS field", field=key)
    return fields[key]


@lru_cache(maxsize=1)
def _fields() -> dict[str, ox.NamedNode]:
    return {key: named(iri) for iri, key in standard.term_names().items()}


@lru_cache(maxsize=1)
def _language_mapped() -> frozenset[ox.NamedNode]:
    return frozenset(named(iri) for iri in language_mapped())


def _drop_values(triples: dict[ox.Triple, None], subject: ox.NamedNode | ox.BlankNode, predicate: ox.NamedNode,
                 language: str | None = None) -> None:
    """Remove the values of (subject, predicate), only those in ``language`` if given, with the blank
    nodes only they referred to."""
    dropped = [t for t in triples if t.subject == subject and t.predicate == predicate and (
        language is None or (isinstance(t.object, ox.Literal) and t.object.language == language))]
    for triple in dropped:
        del triples[triple]
    _drop_orphans(triples, (t.object for t in dropped if isinstance(t.object, ox.BlankNode)))


def _drop_orphans(triples: dict[ox.Triple, None], nodes: Iterable[ox.BlankNode]) -> None:
    pending = list(nodes)
    while pending:
        node = pending.pop()
        if any(t.object == node for t in triples):
            continue
        owned = [t for t in triples if t.subject == node]
        for triple in owned:
            del triples[triple]
        pending.extend(t.object for t in owned if isinstance(t.object, ox.BlankNode))
