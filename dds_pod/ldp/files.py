"""Non-RDF resources (LDP-NR) of a pod: what a file's description says, and which uploads a pod accepts.

A file is a pod resource like any other (a named graph, a version, containment, change events), whose graph
is its description: ``ldp:NonRDFSource``, its media type as sent, its size and the SHA-256 of its bytes, which
a :class:`~dds_pod.store.blobs.BlobStore` keeps. The bytes are read back by that hash; they go once no
description names it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from .. import rdfio
from ..errors import UnsupportedFormat
from ..store import Store
from ..store.blobs import Staged
from ..terms import integer, named, value_of
from ..vocab import AS, DCAT, DCTERMS, DDS, LDP, RDF

NON_RDF_SOURCE = named(LDP.NonRDFSource)
TYPE, FORMAT, BYTE_SIZE = named(RDF.type), named(DCTERMS.format), named(DCAT.byteSize)
SHA256 = named(DDS.sha256)
ATTACHMENT = named(AS.attachment)
CHARSET = re.compile(r"^[A-Za-z0-9._-]{1,40}$")
ATTACHED_BY_MAX = 100  # contributions a description lists as attaching the file


@dataclass(frozen=True)
class Upload:
    """A file's bytes, read aside and hashed, and the media type it is kept with."""

    staged: Staged
    media_type: str


@dataclass(frozen=True)
class FileInfo:
    sha256: str
    size: int
    media_type: str


def is_rdf(media_type: str | None) -> bool:
    """Whether a write's body is an RDF document (read by the pod) rather than a file's bytes; a write without
    a Content-Type is an RDF write, refused as such."""
    if not media_type:
        return True
    try:
        rdfio.format_for_media_type(media_type)
    except UnsupportedFormat:
        return media_type.split(";")[0].strip().lower() in ("application/sparql-update", "text/n3")
    return True


def accepted_media_type(header: str, allowed: frozenset[str]) -> str:
    """The media type a file is kept and served with: the header's type, lower-cased, with its charset when it
    names one (other parameters are dropped); 415 naming Content-Type outside the allow list."""
    essence, *parameters = (part.strip() for part in header.split(";"))
    essence = essence.lower()
    if essence not in allowed:
        documents = ", ".join(f.media_type for f in rdfio.FORMATS.values())
        raise UnsupportedFormat(f"content type {essence[:80]!r} is neither an RDF document ({documents}) nor an "
                                f"accepted type of file ({', '.join(sorted(allowed))})", field="Content-Type")
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and CHARSET.match(charset):
            return f"{essence}; charset={charset}"
    return essence


def description(iri: str, upload: Upload) -> list[ox.Triple]:
    """What a pod states about a file it keeps (the server adds created, modified and the credential)."""
    subject = ox.NamedNode(iri)
    return [
        ox.Triple(subject, TYPE, NON_RDF_SOURCE),
        ox.Triple(subject, FORMAT, ox.Literal(upload.media_type)),
        ox.Triple(subject, BYTE_SIZE, integer(upload.staged.size)),
        ox.Triple(subject, SHA256, ox.Literal(upload.staged.sha256)),
    ]


def is_file(triples: Iterable[ox.Triple], iri: str) -> bool:
    return ox.Triple(ox.NamedNode(iri), TYPE, NON_RDF_SOURCE) in triples


def file_info(triples: Iterable[ox.Triple], iri: str) -> FileInfo | None:
    """A file's hash, size and media type, read from its description (None: not a file)."""
    subject = ox.NamedNode(iri)
    values = {t.predicate: value_of(t.object) for t in triples if t.subject == subject}
    if SHA256 not in values:
        return None
    return FileInfo(values[SHA256], int(values.get(BYTE_SIZE, "0")), values.get(FORMAT, "application/octet-stream"))


def referenced(store: Store, sha256: str) -> bool:
    """Whether any description of the store still names these bytes."""
    return next(iter(store.quads(None, SHA256, ox.Literal(sha256), None)), None) is not None


def by_hash(store: Store, sha256: str) -> FileInfo | None:
    """What a description of the store says of these bytes (the first found), None when none names them."""
    for quad in store.quads(None, SHA256, ox.Literal(sha256), None):
        if isinstance(quad.subject, ox.NamedNode) and isinstance(quad.graph_name, ox.NamedNode):
            return file_info(store.triples(quad.graph_name.value), quad.subject.value)
    return None


def attached_by(store: Store, iri: str) -> list[ox.Triple]:
    """``as:attachment`` statements of the store's resources that name the file: where a description says which
    contributions it belongs to (at most ATTACHED_BY_MAX)."""
    found = []
    for quad in store.quads(None, ATTACHMENT, ox.NamedNode(iri), None):
        if quad.graph_name == quad.subject:  # a resource's own statement, not a feed's or the server's
            found.append(quad.triple)
        if len(found) >= ATTACHED_BY_MAX:
            break
    return found
