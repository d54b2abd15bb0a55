"""Which addresses the federation's fetcher connects to (a pure function; the e2e tests cover the wiring)."""

from __future__ import annotations

import ipaddress

import pytest

from dds_pod.config import ConfigError, from_dict
from dds_pod.federation.fetch import AddressPolicy

PUBLIC_ONLY = AddressPolicy()


@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "loopback"), ("127.255.0.9", "loopback"), ("::1", "loopback"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"), ("fc00::1", "private"),
    ("100.64.0.1", "shared (carrier-grade NAT)"),
    ("224.0.0.1", "multicast"), ("239.1.2.3", "multicast"), ("ff0e::1", "multicast"),
    ("64:ff9b::7f00:1", "loopback"),
])
def test_non_public_addresses_are_refused_with_their_kind(address, kind):
    parsed = ipaddress.ip_address(address)
    assert PUBLIC_ONLY.refusal(parsed) == f"{parsed} is not public: {kind}"


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2001:4860:4860::8888", "::ffff:8.8.8.8"])
def test_public_addresses_are_allowed(address):
    assert PUBLIC_ONLY.refusal(ipaddress.ip_address(address)) is None


def test_allowed_networks_open_exactly_themselves():
    policy = AddressPolicy((ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("10.0.0.0/16")))
    for allowed in ("127.0.0.1", "::ffff:127.0.0.1", "10.0.200.1"):
        assert policy.refusal(ipaddress.ip_address(allowed)) is None, allowed
    for refused in ("10.1.0.1", "::1", "192.168.0.1"):
        assert policy.refusal(ipaddress.ip_address(refused)) is not None, refused


def test_the_policy_of_a_configuration_allows_its_own_origin():
    config = from_dict({"base_url": "http://127.0.0.1:8000/",
                        "federation": {"allow_networks": ["192.168.0.0/16", "10.0.0.1"]}})
    policy = AddressPolicy.of(config)
    assert policy.own_origins == {("http", "127.0.0.1", 8000)}
    assert [str(n) for n in policy.allow_networks] == ["192.168.0.0/16", "10.0.0.1/32"]


@pytest.mark.parametrize("value", ["127.0.0.0/8", ["localhost"], ["10.0.0.0/33"], [8]])
def test_invalid_allow_networks_are_refused(value):
    with pytest.raises(ConfigError, match="allow_networks"):
        from_dict({"base_url": "http://127.0.0.1:8000/", "federation": {"allow_networks": value}})


def test_cors_origins_are_kept_as_browsers_send_them():
    config = from_dict({"base_url": "http://127.0.0.1:8000/", "cors_origins": ["HTTPS://App.Example/"]})
    assert config.cors_origins == {"https://app.example"}


@pytest.mark.parametrize("value", [["null"], ["*"], ["https://app.example/path"], "https://app.example", [1]])
def test_invalid_cors_origins_are_refused(value):
    with pytest.raises(ConfigError, match="cors_origins"):
        from_dict({"base_url": "http://127.0.0.1:8000/", "cors_origins": value})
