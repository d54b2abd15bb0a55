"""The pods a node talks to and hears from, the fetcher that reaches only them, and the platform each publishes for."""

from __future__ import annotations

from ..config import Config
from ..store import Store
from ..vocab import DDS, PROV
from .fetch import Fetcher
from .graphs import MergedGraphs


def member_pods(config: Config) -> tuple[str, ...]:
    """Its federation's members and its own pods."""
    own = (pod.url(config.base_url) for pod in config.pods.values())
    return tuple(dict.fromkeys([*config.federation.members, *own]))


def member_fetcher(config: Config, max_bytes: int, user_agent: str) -> Fetcher:
    """A fetcher for the member pods, with the federation's time limit and the given size limit."""
    return Fetcher(member_pods(config), timeout_s=config.federation.fetch_timeout_s, max_bytes=max_bytes,
                   user_agent=user_agent)


class MemberPlatforms:
    """The platform a member pod publishes for, from what the node knows of the member rather than from any
    document the member sends: a pod's reactions are attributed to its platform, whatever they claim.

    In order: this node's own pods (their ``platform`` setting), ``federation.member_platforms``, then what the
    harvester recorded in the merged store (the member's catalogue entry, or the provenance of what it served).
    """

    def __init__(self, config: Config, merged: Store, graphs: MergedGraphs) -> None:
        self.known = {**config.federation.member_platforms,
                      **{pod.url(config.base_url): pod.platform for pod in config.pods.values()}}
        self.merged = merged
        self.graphs = graphs

    def of(self, member: str) -> str | None:
        """The member's platform IRI, or None while the node has not learnt it."""
        if member in self.known:
            return self.known[member]
        query = f"""SELECT ?platform WHERE {{
              {{ GRAPH <{self.graphs.members}> {{ <{member}> <{DDS.sourcePlatform}> ?platform }} }}
              UNION
              {{ GRAPH <{self.graphs.provenance}> {{
                   ?record <{PROV.hadPrimarySource}> <{member}> ; <{DDS.sourcePlatform}> ?platform }} }}
            }} LIMIT 1"""
        for row in self.merged.query(query):
            return row["platform"].value
        return None
