"""The people and organisations a CSV import names, pseudonymised unless names are asked for."""

from __future__ import annotations

from typing import Any

from ..vocab import DDS_CONTEXT_IRI
from .common import Settings, slug
from .texts import MAX_IDENTIFIER, MAX_NAME, limit, one_line


class Agents:
    """The people and organisations an import names, one document each.

    People are personal data: unless ``settings.names`` is set, a person becomes a pseudonymous
    agent whose IRI is a keyed hash of the platform's account reference (stable across imports,
    not reversible without the key) and whose name is "Participant xxxx". Only organisations whose
    name the platform publishes as an organisation's (Decidim user groups) keep it.
    """

    def __init__(self, settings: Settings) -> None:
        if not settings.names and settings.pseudonymiser is None:
            raise ValueError("a pseudonymiser is needed to import people without publishing their names")
        self.settings = settings
        self.documents: dict[str, dict[str, Any]] = {}
        self._iris: dict[tuple[str, str], str] = {}

    def person(self, reference: str, name: str = "") -> str:
        return self._agent(reference, "Person", name, public=False)

    def organization(self, reference: str, name: str = "", public: bool = False) -> str:
        return self._agent(reference, "Organization", name, public)

    def label(self, reference: str) -> str:
        """What a pseudonymous agent is called, e.g. to replace its real name in a text."""
        assert self.settings.pseudonymiser is not None
        return self.settings.pseudonymiser.label(self.settings.platform, reference)

    def _agent(self, reference: str, kind: str, name: str, public: bool) -> str:
        known = self._iris.get((kind, reference))
        if known:
            return known
        folder = "people" if kind == "Person" else "organizations"
        document: dict[str, Any] = {"@context": DDS_CONTEXT_IRI, "type": kind}
        if public or self.settings.names:
            document["id"] = f"{self.settings.pod_url}{folder}/{slug(reference)}"
            document["identifier"] = limit(reference, MAX_IDENTIFIER, "reference")
            if name:
                document["name"] = limit(one_line(name), MAX_NAME, "name")
        else:
            assert self.settings.pseudonymiser is not None
            token = self.settings.pseudonymiser.pseudonym(self.settings.platform, reference)
            document["id"] = f"{self.settings.pod_url}{folder}/{token}"
            document["name"] = self.label(reference)
        self._iris[(kind, reference)] = document["id"]
        self.documents[document["id"]] = document
        return document["id"]
