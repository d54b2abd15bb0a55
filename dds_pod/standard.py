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


@cache
def term_names() -> dict[URIRef, str]:
    """Maps each property IRI of the context to its short JSON key, e.g. dcterms:title -> "title"."""
    context = context_document()["@context"]
    prefixes = {k: v for k, v in context.items() if isinstance(v, str) and v.endswith(("#", "/"))}
    names: dict[URIRef, str] = {}
    for key, definition in context.items():
        if key.startswith("@") or key in prefixes:
            continue
        iri = definition if isinstance(definition, str) else definition.get("@id", "")
        if iri.startswith("@"):
            continue
        prefix, _, local = iri.partition(":")
        names.setdefault(URIRef(prefixes.get(prefix, prefix + ":") + local), key)
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
