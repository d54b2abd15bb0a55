"""The pods a node talks to and hears from, the fetcher that reaches only them, and the platform each publishes for."""

from __future__ import annotations

from ..config import Config
from .fetch import AddressPolicy, Fetcher
from .merged import MergedGraph

MAX_RETRY_DELAY_S = 60.0


def retry_delay(base_s: float, attempts: int) -> float:
    """How long to wait before trying a member again after ``attempts`` failures: doubling from ``base_s``, at
    most a minute (or ``base_s`` when that is longer), as the outbox and the inbox both retry."""
    return min(base_s * 2 ** (attempts - 1), max(MAX_RETRY_DELAY_S, base_s))


def member_pods(config: Config) -> tuple[str, ...]:
    """Its federation's members and its own pods."""
    own = (pod.url(config.base_url) for pod in config.pods.values())
    return tuple(dict.fromkeys([*config.federation.members, *own]))


def member_fetcher(config: Config, max_bytes: int, user_agent: str) -> Fetcher:
    """A fetcher for the member pods, with the federation's time limit and the given size limit."""
    return Fetcher(member_pods(config), timeout_s=config.federation.fetch_timeout_s, max_bytes=max_bytes,
                   user_agent=user_agent, policy=AddressPolicy.of(config))


class MemberPlatforms:
    """The platform a member pod publishes for, from what the node knows of the member rather than from any
    document the member sends: a pod's reactions are attributed to its platform, whatever they claim.

    In order: this node's own pods (their ``platform`` setting), ``federation.member_platforms``, then what the
    harvester recorded in the merged graph (the member's catalogue entry, or the provenance of what it served).
    """

    def __init__(self, config: Config, merged: MergedGraph) -> None:
        self.known = {**config.federation.member_platforms,
                      **{pod.url(config.base_url): pod.platform for pod in config.pods.values()}}
        self.merged = merged

    def of(self, member: str) -> str | None:
        """The member's platform IRI, or None while the node has not learnt it."""
        return self.known.get(member) or self.merged.recorded_platform(member)
