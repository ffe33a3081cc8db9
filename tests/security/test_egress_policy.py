"""The egress policy on its own: every special range, every notation, the allow-lists.

Pure: nothing here opens a connection (addresses outside loopback are only ever classified).
"""

from __future__ import annotations

import ipaddress
import socket

import pytest

from mediadl import errors
from mediadl.engine.egress import (
    Category,
    EgressPolicy,
    classify,
    parse_host_address,
    parse_ipv4_loose,
    parse_networks,
)
from mediadl.settings import Settings

CASES = {
    "127.0.0.1": Category.LOOPBACK,
    "127.255.255.254": Category.LOOPBACK,
    "::1": Category.LOOPBACK,
    "10.1.2.3": Category.PRIVATE,
    "172.16.0.1": Category.PRIVATE,
    "172.31.255.255": Category.PRIVATE,
    "192.168.1.1": Category.PRIVATE,
    "fd12:3456::1": Category.PRIVATE,
    "fc00::1": Category.PRIVATE,
    "fec0::1": Category.PRIVATE,
    "100.64.0.1": Category.SHARED,
    "100.127.255.254": Category.SHARED,
    "169.254.169.254": Category.LINK_LOCAL,
    "fe80::1": Category.LINK_LOCAL,
    "224.0.0.1": Category.MULTICAST,
    "239.255.255.250": Category.MULTICAST,
    "ff02::1": Category.MULTICAST,
    "ff0e::1": Category.MULTICAST,
    "0.0.0.0": Category.UNSPECIFIED,
    "::": Category.UNSPECIFIED,
    "0.1.2.3": Category.RESERVED,
    "240.0.0.1": Category.RESERVED,
    "255.255.255.255": Category.RESERVED,
    "192.0.2.1": Category.RESERVED,
    "198.18.0.1": Category.RESERVED,
    "2001:db8::1": Category.RESERVED,
    "::7f00:1": Category.RESERVED,
    "100::1": Category.RESERVED,
    # IPv6 forms that carry an IPv4 address are judged by it
    "::ffff:127.0.0.1": Category.LOOPBACK,
    "::ffff:10.0.0.1": Category.PRIVATE,
    "::ffff:169.254.169.254": Category.LINK_LOCAL,
    "64:ff9b::7f00:1": Category.LOOPBACK,
    "64:ff9b::a9fe:a9fe": Category.LINK_LOCAL,
    "64:ff9b:1::1": Category.PRIVATE,
    "2002:7f00:1::1": Category.LOOPBACK,
    "2002:a00:1::1": Category.PRIVATE,
    "2002:808:808::1": Category.RESERVED,
    "2001:0:4136:e378:8000:63bf:3fff:fdd2": Category.RESERVED,
    "2001:0:4136:e378:8000:63bf:80ff:fffe": Category.LOOPBACK,
    # public
    "8.8.8.8": Category.GLOBAL,
    "1.1.1.1": Category.GLOBAL,
    "2606:4700::1111": Category.GLOBAL,
    "::ffff:8.8.8.8": Category.GLOBAL,
    "64:ff9b::808:808": Category.GLOBAL,
}


@pytest.mark.parametrize("address", CASES)
def test_every_special_range_is_classified(address: str) -> None:
    assert classify(ipaddress.ip_address(address)) is CASES[address]


@pytest.mark.parametrize("address", [a for a, c in CASES.items() if c is not Category.GLOBAL])
def test_the_server_refuses_every_special_address(address: str) -> None:
    with pytest.raises(errors.LinkForbidden) as caught:
        EgressPolicy().check_peer(address, "example.org")
    assert caught.value.code == "link.forbidden"
    assert caught.value.status == 403


NOTATIONS = {
    "2130706433": "127.0.0.1",
    "0x7f000001": "127.0.0.1",
    "0177.0.0.1": "127.0.0.1",
    "0x7f.0.0.1": "127.0.0.1",
    "0x7F.1": "127.0.0.1",
    "127.1": "127.0.0.1",
    "127.0.1": "127.0.0.1",
    "017700000001": "127.0.0.1",
    "169.254.43518": "169.254.169.254",
    "0xa9fea9fe": "169.254.169.254",
    "[::1]": "::1",
    "[::ffff:127.0.0.1]": "::ffff:7f00:1",
    "[fe80::1%25eth0]": "fe80::1",
    "１２７.０.０.１": "127.0.0.1",
    "127.0.0.1.": "127.0.0.1",
    "LOCALHOST": "127.0.0.1",
    "a.b.localhost.": "127.0.0.1",
}


@pytest.mark.parametrize("host", NOTATIONS)
def test_every_address_notation_is_read(host: str) -> None:
    assert str(parse_host_address(host)) == NOTATIONS[host]


@pytest.mark.parametrize("text", ["127.0.0.1", "2130706433", "0x7f.1", "0177.1", "10.1"])
def test_loose_ipv4_agrees_with_the_system(text: str) -> None:
    assert str(parse_ipv4_loose(text)) == socket.inet_ntoa(socket.inet_aton(text))


@pytest.mark.parametrize(
    "host", ["example.com", "1.2.3.4.5", "08.1", "256.1.1.1.1", "1e3", "127.0.0.1x", ""]
)
def test_names_are_not_addresses(host: str) -> None:
    assert parse_host_address(host) is None


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.org/",
        "gopher://example.org/",
        "data:,x",
        "http://2130706433/",
        "http://[::ffff:169.254.169.254]/",
        "http://0x7f.1/",
        "https://localhost/",
        "http://169.254.169.254/latest/meta-data/",
        "http:///nohost",
    ],
)
def test_urls_are_refused_before_any_connection(url: str) -> None:
    with pytest.raises(errors.LinkForbidden):
        EgressPolicy().check_url(url)


def test_public_urls_and_names_pass_the_url_check() -> None:
    EgressPolicy().check_url("https://example.org/watch?v=1")
    EgressPolicy().check_url("http://8.8.8.8/")


def test_allow_private_lets_local_networks_but_not_the_rest() -> None:
    policy = EgressPolicy(allow_private=True)
    for address in ("127.0.0.1", "10.0.0.1", "100.64.0.1", "169.254.169.254", "fd00::1"):
        policy.check_peer(address)
    for address in ("224.0.0.1", "0.0.0.0", "240.0.0.1", "2001:db8::1"):
        with pytest.raises(errors.LinkForbidden):
            policy.check_peer(address)


def test_allow_networks_lets_exactly_those_through() -> None:
    policy = EgressPolicy(allow_networks=parse_networks(["127.0.0.2/32", "fd00:1::/64"]))
    policy.check_peer("127.0.0.2")
    policy.check_peer("::ffff:127.0.0.2")
    policy.check_peer("fd00:1::5")
    for address in ("127.0.0.3", "127.0.0.1", "fd00:2::1", "10.0.0.1"):
        with pytest.raises(errors.LinkForbidden):
            policy.check_peer(address)


def test_resolution_refuses_when_any_answer_is_internal() -> None:
    answers = {"mixed.test": ["8.8.8.8", "127.0.0.3"], "inside.test": ["10.0.0.7"]}

    def getaddrinfo(host: str, port: int, *_: object) -> list[tuple[object, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in answers[host]]

    policy = EgressPolicy(getaddrinfo=getaddrinfo)
    for host in answers:
        with pytest.raises(errors.LinkForbidden) as caught:
            policy.resolve(host, 80)
        assert caught.value.context["host"] == host


def test_settings_build_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIADL_ALLOW_NETWORKS", "127.0.0.2/32, fd00::/8")
    settings = Settings()
    assert settings.allow_networks == ["127.0.0.2/32", "fd00::/8"]
    policy = EgressPolicy.from_settings(settings)
    assert not policy.allow_private
    policy.check_peer("127.0.0.2")
    with pytest.raises(ValueError, match="allow_networks"):
        Settings(allow_networks=["not-a-network"])


def test_the_refusal_hides_the_address_from_clients() -> None:
    """The client sees the host it gave; which kind of address a name had stays in the log."""
    with pytest.raises(errors.LinkForbidden) as caught:
        EgressPolicy().check_peer("10.1.2.3", "intranet.example")
    assert caught.value.context == {"host": "intranet.example", "detail": "private address"}
