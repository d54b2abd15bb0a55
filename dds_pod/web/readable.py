"""How RDF terms read for people: a property or class by its ontology label, other vocabularies by the context's
short key, dates as dates.

The pages for people and the charts share these, so a term is named the same way on every page.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache

from rdflib import Literal

from ..standard import context_document, context_prefixes, expand_compact, ontology_graph
from ..vocab import RDF, RDFS, SKOS, XSD

_RDF_TYPE = str(RDF.type)
XSD_DATE_TIME = str(XSD.dateTime)
XSD_DATE = str(XSD.date)
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


@cache
def _vocabulary() -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    """(IRI -> the context term naming it, (namespace, prefix) longest namespace first) of the DDS context."""
    context = context_document()["@context"]
    prefixes = context_prefixes()
    names: dict[str, str] = {}
    for key, definition in context.items():
        iri = definition.get("@id") if isinstance(definition, dict) else definition
        if not key.startswith("@") and key not in prefixes and isinstance(iri, str) and not iri.startswith("@"):
            names.setdefault(expand_compact(iri), key)
    namespaces = tuple(sorted(((ns, prefix) for prefix, ns in prefixes.items()), key=lambda item: -len(item[0])))
    return names, namespaces


@cache
def _ontology_labels() -> dict[str, dict[str, str]]:
    """IRI -> {language: label} of every term the ontology labels (classes, properties, status and stance
    concepts)."""
    labels: dict[str, dict[str, str]] = {}
    graph = ontology_graph()
    for predicate in (RDFS.label, SKOS.prefLabel):
        for term, label in graph.subject_objects(predicate):
            if isinstance(label, Literal):
                labels.setdefault(str(term), {}).setdefault(label.language or "", str(label))
    return labels


def prefixed(iri: str) -> str:
    """The IRI as a compact IRI of the context (``dcterms:title``), or whole when no prefix of the context fits."""
    for namespace, prefix in _vocabulary()[1]:
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return iri


def short_key(iri: str) -> str:
    """The short key a reader of the JSON-LD knows a property or a class by."""
    if iri == _RDF_TYPE:
        return "type"
    return _vocabulary()[0].get(iri) or prefixed(iri)


def ontology_label(iri: str, language: str = "en") -> str | None:
    """The ontology's label of a term in ``language`` (else in English), None for a term it does not label."""
    labels = _ontology_labels().get(iri)
    if not labels:
        return None
    return labels.get(language) or labels.get("en") or next(iter(labels.values()))


def term_label(iri: str, language: str = "en") -> str:
    """How a page names a property or a class: the ontology's label, else the context's short key."""
    if iri == _RDF_TYPE:
        return "type"
    return ontology_label(iri, language) or short_key(iri)


def readable_date(lexical: str, datatype: str) -> str | None:
    """An ``xsd:dateTime`` or ``xsd:date`` as people read it ("4 March 2025, 09:12 UTC"); None for another datatype
    or a value that is not a date (the page then shows it as it is)."""
    try:
        if datatype == XSD_DATE_TIME:
            return _readable_date_time(datetime.fromisoformat(lexical))
        if datatype == XSD_DATE:
            return _readable_day(date.fromisoformat(lexical))
    except ValueError:
        return None
    return None


def _readable_day(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _readable_date_time(moment: datetime) -> str:
    clock = moment.strftime("%H:%M:%S" if moment.second else "%H:%M")
    text = f"{_readable_day(moment.date())}, {clock}"
    offset = moment.utcoffset()
    if offset is None:
        return text
    if not offset:
        return f"{text} UTC"
    zone = moment.strftime("%z")
    return f"{text} UTC{zone[:3]}:{zone[3:]}"
