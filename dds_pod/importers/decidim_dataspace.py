"""Import from a Decidim platform running Open Source Politics' ``decidim-dataspace`` module.

The module answers plain JSON (``/api/v1/data...``); this connector maps its containers,
proposals, comments and authors to DDS JSON-LD documents with stable IRIs derived from the
Decidim references, so that running it again updates rather than duplicates.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import requests

from ..sanitize import clean_html, plain_text
from ..vocab import DDS_CONTEXT_IRI
from .common import Batch, Settings, slug

STATES = {"accepted": "accepted", "rejected": "rejected", "evaluating": "evaluating", None: "submitted"}
STANCES = {1: "inFavour", 0: "neutral", -1: "against"}
MAX_BYTES = 50 * 1024 * 1024


class SourceError(Exception):
    """The platform could not be read or answered something that is not the module's format."""


def fetch(url: str, locale: str, container: str | None = None, timeout: float = 30) -> dict[str, list]:
    """Read a platform's containers, contributions with their comments, and authors."""
    base = url.rstrip("/") + "/api/v1/data"
    params: dict[str, str] = {"preferred_locale": locale}
    if container:
        params["container"] = container
    containers = _get(f"{base}/containers", {"preferred_locale": locale}, timeout)
    if container:
        containers = [c for c in containers if c.get("reference") == container]
    contributions = _get(f"{base}/contributions", {**params, "with_comments": "true"}, timeout)
    authors = _get(f"{base}/authors", {"preferred_locale": locale}, timeout)
    return {"containers": containers, "contributions": contributions, "authors": authors}


def _get(url: str, params: dict[str, str], timeout: float) -> list:
    try:
        with requests.get(f"{url}?{urlencode(params)}", timeout=timeout, stream=True,
                          headers={"Accept": "application/json"}) as response:
            body = response.raw.read(MAX_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise SourceError(f"{url}: {exc}") from None
    if response.status_code != 200:
        raise SourceError(f"{url} answered {response.status_code}")
    if len(body) > MAX_BYTES:
        raise SourceError(f"{url}: answer over {MAX_BYTES} bytes")
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise SourceError(f"{url}: not JSON ({exc})") from None
    if not isinstance(value, list):
        raise SourceError(f"{url}: expected a JSON list")
    return value


def to_batch(data: dict[str, list], settings: Settings) -> Batch:
    batch = Batch()
    mapper = _Mapper(data, settings)
    for container in data["containers"]:
        mapper.space(container, batch)
    for contribution in data["contributions"]:
        if contribution.get("parent") is None and contribution.get("title") is not None:
            mapper.proposal(contribution, batch)
        else:
            mapper.comment(contribution, batch)
    for agent in mapper.agents.values():
        batch.documents.setdefault(agent["id"], agent)
    return batch


class _Mapper:
    def __init__(self, data: dict[str, list], settings: Settings) -> None:
        self.settings = settings
        self.pod = settings.pod_url
        self.authors = {a["reference"]: a for a in data.get("authors", []) if a.get("reference")}
        self.proposals = {c["reference"] for c in data["contributions"]
                          if c.get("parent") is None and c.get("title") is not None}
        self.prefixes = {c["reference"].split("-", 1)[0] for c in data["contributions"] if c.get("reference")}
        self.agents: dict[str, dict] = {}

    def space(self, item: dict, batch: Batch) -> None:
        iri = f"{self.pod}spaces/{slug(item['reference'])}"
        if item.get("deleted_at"):
            batch.deletions.append(iri)
            return
        kind = "Assembly" if "-ASSE-" in item["reference"] else "Process"
        document = self._base(iri, kind, item)
        document["title"] = {self._locale(item): item.get("name") or item["reference"]}
        if item.get("created_at"):
            document["published"] = item["created_at"]
        self._text(document, item.get("description"), self._locale(item))
        batch.documents[iri] = document

    def proposal(self, item: dict, batch: Batch) -> None:
        iri = self._contribution_iri(item["reference"])
        if item.get("deleted_at"):
            batch.deletions.append(iri)
            return
        state = (item.get("metadata") or {}).get("state") or {}
        document = self._base(iri, "Amendment" if state.get("emendation") else "Proposal", item)
        locale = self._locale(item)
        document["title"] = {locale: item.get("title") or item["reference"]}
        self._text(document, item.get("content"), locale)
        document["published"] = item["created_at"]
        document["status"] = "withdrawn" if state.get("withdrawn") else STATES.get(state.get("state"), "submitted")
        if item.get("container"):
            document["space"] = f"{self.pod}spaces/{slug(item['container'])}"
        document["author"] = [self._agent(name) for name in item.get("authors") or []]
        batch.documents[iri] = document

    def comment(self, item: dict, batch: Batch) -> None:
        iri = self._contribution_iri(item["reference"])
        if item.get("deleted_at"):
            batch.deletions.append(iri)
            return
        document = self._base(iri, "Comment", item)
        locale = self._locale(item)
        self._text(document, item.get("content"), locale)
        document["published"] = item["created_at"]
        if item.get("parent"):
            document["inReplyTo"] = self._contribution_iri(item["parent"])
        if item.get("container"):
            document["space"] = f"{self.pod}spaces/{slug(item['container'])}"
        alignment = (item.get("metadata") or {}).get("alignment")
        if alignment in STANCES:
            document["stance"] = STANCES[alignment]
        authors = item.get("authors")
        if authors:
            names = authors if isinstance(authors, list) else [authors]
            document["author"] = [self._agent(name) for name in names]
        batch.documents[iri] = document

    def _contribution_iri(self, reference: str) -> str:
        container = "proposals" if reference in self.proposals or "-PROP-" in reference else "comments"
        return f"{self.pod}{container}/{slug(reference)}"

    def _base(self, iri: str, kind: str, item: dict) -> dict[str, Any]:
        document: dict[str, Any] = {"@context": DDS_CONTEXT_IRI, "id": iri, "type": kind,
                                    "identifier": item["reference"]}
        if item.get("source"):
            document["url"] = item["source"]
        if item.get("locale"):
            document["language"] = item["locale"]
        if item.get("updated_at"):
            document["updated"] = item["updated_at"]
        return document

    def _text(self, document: dict, html: str | None, locale: str) -> None:
        safe = clean_html(html)
        if safe:
            document["content"] = {locale: safe}
            document["contentText"] = {locale: plain_text(safe)}

    def _locale(self, item: dict) -> str:
        return item.get("locale") or self.settings.locale

    def _agent(self, reference: str) -> str:
        """The IRI of an author; people are pseudonymised unless names were asked for."""
        known = self.authors.get(reference, {"reference": reference, "name": reference, "source": None})
        name = known.get("name") or reference
        if "-MEET-" in reference:
            iri, kind, shown = f"{self.pod}meetings/{slug(reference)}", "Group", name
        elif reference in self.prefixes:
            iri, kind, shown = f"{self.pod}organizations/{slug(reference)}", "Organization", name
        elif self.settings.names:
            iri, kind, shown = f"{self.pod}people/{slug(reference)}", "Person", name
        else:
            assert self.settings.pseudonymiser is not None
            token = self.settings.pseudonymiser.pseudonym(self.settings.platform, reference)
            iri, kind, shown = f"{self.pod}people/{token}", "Person", self.settings.pseudonymiser.label(
                self.settings.platform, reference)
        agent: dict[str, Any] = {"@context": DDS_CONTEXT_IRI, "id": iri, "type": kind, "name": shown,
                                 "identifier": reference if kind != "Person" or self.settings.names else iri}
        if known.get("source") and (kind != "Person" or self.settings.names):
            agent["url"] = known["source"]
        self.agents[iri] = agent
        return iri

