"""The pods a node talks to and hears from, and the fetcher that reaches only them."""

from __future__ import annotations

from ..config import Config
from .fetch import AddressPolicy, Fetcher


def member_pods(config: Config) -> tuple[str, ...]:
    """Its federation's members and its own pods."""
    own = (pod.url(config.base_url) for pod in config.pods.values())
    return tuple(dict.fromkeys([*config.federation.members, *own]))


def member_fetcher(config: Config, max_bytes: int, user_agent: str) -> Fetcher:
    """A fetcher for the member pods, with the federation's time limit and the given size limit."""
    return Fetcher(member_pods(config), timeout_s=config.federation.fetch_timeout_s, max_bytes=max_bytes,
                   user_agent=user_agent, policy=AddressPolicy.of(config))
