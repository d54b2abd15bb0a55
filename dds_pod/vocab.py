"""Namespaces and well-known IRIs, in one place so no module spells them twice."""

from rdflib import Namespace
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SH, SKOS, XSD

DDS = Namespace("https://w3id.org/dds/ns#")
AS = Namespace("https://www.w3.org/ns/activitystreams#")
SCHEMA = Namespace("http://schema.org/")
LDP = Namespace("http://www.w3.org/ns/ldp#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
GEO = Namespace("http://www.opengis.net/ont/geosparql#")
LDES = Namespace("https://w3id.org/ldes#")
TREE = Namespace("https://w3id.org/tree#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")

DDS_CONTEXT_IRI = "https://w3id.org/dds/context.jsonld"
DDS_ONTOLOGY_IRI = "https://w3id.org/dds/ns"
ACTIVITYSTREAMS_CONTEXT_IRI = "https://www.w3.org/ns/activitystreams"

SERVER_MANAGED = frozenset({DDS.sourcePlatform, DCTERMS.created, DCTERMS.modified, DDS.publishedWith})
"""The server-managed properties: values a pod sets itself, from its configuration (the platform), the credential of
the write and its clock, replacing whatever the client sent (a stored creation date is kept). Outside a pod nothing
has set them yet, so the validator reports a required one that is absent as Info rather than as a Violation."""

__all__ = [
    "ACTIVITYSTREAMS_CONTEXT_IRI",
    "AS",
    "DCAT",
    "DCTERMS",
    "DDS",
    "DDS_CONTEXT_IRI",
    "DDS_ONTOLOGY_IRI",
    "GEO",
    "HYDRA",
    "LDES",
    "LDP",
    "OWL",
    "PROV",
    "RDF",
    "RDFS",
    "SCHEMA",
    "SERVER_MANAGED",
    "SH",
    "SKOS",
    "TREE",
    "XSD",
]
