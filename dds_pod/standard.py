"""The civic standard's files (ontology, JSON-LD context, shapes), located and loaded once.

In a source checkout they live at the repository root; an installed wheel carries them
under ``dds_pod/standard/``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from rdflib import Graph, URIRef

from .vocab import DDS, RDF

_PACKAGE_DIR = Path(__file__).resolve().parent


def _standard_root() -> Path:
    for root in (_PACKAGE_DIR / "standard", _PACKAGE_DIR.parent):
        if (root / "ontology" / "dds.ttl").is_file():
            return root
    raise FileNotFoundError("the DDS ontology was not found next to the dds_pod package")


ROOT = _standard_root()
ONTOLOGY_PATH = ROOT / "ontology" / "dds.ttl"
CONTEXT_PATH = ROOT / "ontology" / "context.jsonld"
SHAPES_PATH = ROOT / "shapes" / "dds.shapes.ttl"


@cache
def ontology_graph() -> Graph:
    return Graph().parse(ONTOLOGY_PATH, format="turtle")


@cache
def shapes_graph() -> Graph:
    return Graph().parse(SHAPES_PATH, format="turtle")


@cache
def context_document() -> dict:
    """The DDS JSON-LD context document (with its top-level ``@context`` key)."""
    return json.loads(CONTEXT_PATH.read_text(encoding="utf-8"))


# JSON-LD 1.1 lets only a simple term whose IRI ends with a gen-delim act as the prefix of a compact IRI.
_GEN_DELIMS = (":", "/", "?", "#", "[", "]", "@")


@cache
def context_prefixes() -> dict[str, str]:
    """The prefixes of the DDS context, e.g. ``"dcterms": "http://purl.org/dc/terms/"``: every module that
    expands or writes compact IRIs reads them here."""
    return {key: value for key, value in context_document()["@context"].items()
            if isinstance(value, str) and value.endswith(_GEN_DELIMS) and not key.startswith("@")
            and not any(c in key for c in ":/")}


def expand_compact(value: str) -> str:
    """A compact IRI of the context (``dcterms:title``) in full; anything else as it is."""
    prefix, _, local = value.partition(":")
    namespace = context_prefixes().get(prefix)
    return namespace + local if namespace is not None else value


@cache
def term_names() -> dict[URIRef, str]:
    """Maps each property IRI of the context to its short JSON key, e.g. dcterms:title -> "title"."""
    context = context_document()["@context"]
    prefixes = context_prefixes()
    names: dict[URIRef, str] = {}
    for key, definition in context.items():
        if key.startswith("@") or key in prefixes:
            continue
        iri = definition if isinstance(definition, str) else definition.get("@id", "")
        if iri.startswith("@"):
            continue
        names.setdefault(URIRef(expand_compact(iri)), key)
    return names


def short_name(iri: URIRef | str) -> str:
    """The JSON key publishers use for a property.

    Unknown ``dds:`` terms come from keys the context's ``@vocab`` mapped, so their local name is
    what the publisher wrote; other IRIs are returned whole.
    """
    iri = URIRef(str(iri))
    if iri == RDF.type:
        return "type"
    if iri in term_names():
        return term_names()[iri]
    return iri[len(DDS):] if iri.startswith(DDS) else str(iri)
