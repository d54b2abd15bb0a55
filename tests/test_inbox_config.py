"""The ``[federation]`` settings of the inbox: its limits and the platform of each remote member."""

from __future__ import annotations

import pytest

from dds_pod.config import ConfigError, FederationConfig, from_dict

BASE = "http://127.0.0.1:8000/"


def _federation(**settings) -> FederationConfig:
    return from_dict({"base_url": BASE, "federation": settings}).federation


def test_the_inbox_limits_have_defaults_and_can_be_set():
    defaults = _federation()
    assert (defaults.inbox_queue, defaults.inbox_per_actor, defaults.inbox_workers) == (1000, 100, 2)
    assert defaults.member_platforms == {}
    chosen = _federation(inbox_queue=10, inbox_per_actor=3, inbox_workers=1)
    assert (chosen.inbox_queue, chosen.inbox_per_actor, chosen.inbox_workers) == (10, 3, 1)


@pytest.mark.parametrize("key", ["inbox_queue", "inbox_per_actor", "inbox_workers"])
@pytest.mark.parametrize("value", [0, -1, 2.5, "10"])
def test_an_inbox_limit_must_be_a_positive_integer(key, value):
    with pytest.raises(ConfigError, match=key):
        _federation(**{key: value})


def test_member_platforms_map_pod_urls_to_platform_iris():
    platforms = _federation(member_platforms={"http://127.0.0.1:8001/paris": "https://decidim.paris.example"})
    assert platforms.member_platforms == {"http://127.0.0.1:8001/paris/": "https://decidim.paris.example"}


@pytest.mark.parametrize("value", [["https://decidim.paris.example"], {"paris": "https://decidim.paris.example"},
                                   {"http://127.0.0.1:8001/paris/": "decidim"}])
def test_member_platforms_that_are_not_urls_to_iris_are_refused(value):
    with pytest.raises(ConfigError, match="member_platforms"):
        _federation(member_platforms=value)
