"""Fetching from member pods, and only from them.

Every request the federation makes goes through :class:`Fetcher`:

- the URL must lie under a member's pod URL, and redirects (at most five, followed by hand) must stay under
  that same member's URL;
- the address a member's name resolves to is checked against an :class:`AddressPolicy` on every connection,
  after DNS and just before connecting to that very address (the Host header and TLS server name stay the
  member's), so a name that resolves to a private or loopback address, or is rebound to one between two
  requests, is never connected to;
- each fetch has one total deadline, connection, headers and body included: a watchdog shuts the socket
  down when it passes, so a member trickling one byte a second costs one failed fetch of ``timeout_s``.

A slow, huge, looping or lying member thus costs one failed fetch, never the node; and no outside input can
make the node request any other address.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from ..config import Config

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK_BYTES = 16 * 1024
MAX_CONNECT_S = 5.0

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT, RFC 6598
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the last 32 bits are the IPv4 address reached


class FetchError(Exception):
    """A member could not be read: unreachable, too slow, too large, refused or not allowed."""


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    links: dict[str, str]

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses the node connects to: public ones, those in ``allow_networks``, and its own origin.

    The node's own pods are served at its ``base_url``, which the operator configured: requests to that
    origin are not checked (a node on loopback still notifies its own inboxes).
    """

    allow_networks: tuple[IPNetwork, ...] = ()
    own_origins: frozenset[tuple[str, str, int]] = frozenset()

    @classmethod
    def of(cls, config: Config) -> AddressPolicy:
        return cls(config.federation.allow_networks, frozenset({_origin_key(config.base_url)}))

    def refusal(self, address: IPAddress) -> str | None:
        """Why the node must not connect to ``address``, or None when it may."""
        embedded = _embedded_ipv4(address)
        if any(a in network for a in (address, embedded) if a is not None for network in self.allow_networks):
            return None
        kind = _non_public_kind(embedded or address)  # a mapped address is only a spelling of the IPv4 one
        return f"{address} is not public: {kind}" if kind else None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one really reaches: IPv4-mapped (``::ffff:127.0.0.1``) or NAT64."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _non_public_kind(address: IPAddress) -> str | None:
    checks = (("unspecified", address.is_unspecified), ("loopback", address.is_loopback),
              ("link-local", address.is_link_local), ("multicast", address.is_multicast),
              ("shared (carrier-grade NAT)", address in SHARED_ADDRESS_SPACE), ("private", address.is_private),
              ("reserved", address.is_reserved), ("not globally routable", not address.is_global))
    return next((kind for kind, matches in checks if matches), None)


def _origin_key(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


class _Refused(Exception):
    """Every address a name resolves to is refused by the policy; nothing was connected to."""


@dataclass
class _Attempt:
    """One request under way in a thread: its deadline, its socket, and why it was cut or refused.

    The socket is kept here because the connection gives it up to the response once the headers are read.
    """

    deadline: float
    sock: socket.socket | None = None
    refusal: str | None = None
    cut: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def watch(self, sock: socket.socket | None) -> None:
        with self.lock:
            self.sock = sock
            cut = self.cut
        if cut:
            self.cut_off()

    def cut_off(self) -> None:
        """Called by the watchdog at the deadline: shutting the socket down ends any blocked read at once."""
        with self.lock:
            self.cut = True
            sock = self.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)


class _Attempts(threading.local):
    current: _Attempt | None = None


def _connection_class(base: type[HTTPConnection], scheme: str, policy: AddressPolicy,
                      attempts: _Attempts) -> type[HTTPConnection]:
    class CheckedConnection(base):  # type: ignore[valid-type, misc]
        """A connection that resolves its host itself and connects only to an address the policy allows."""

        def _new_conn(self) -> socket.socket:
            attempt = attempts.current
            if (scheme, self.host.lower(), self.port) in policy.own_origins:
                return super()._new_conn()
            try:
                return _connect_checked(self._dns_host, self.port, self.timeout, policy)
            except _Refused as exc:
                if attempt is not None:
                    attempt.refusal = str(exc)
                raise NewConnectionError(self, str(exc)) from None
            except TimeoutError:
                raise ConnectTimeoutError(self, f"connection to {self.host} timed out") from None
            except OSError as exc:
                raise NewConnectionError(self, f"cannot connect: {exc}") from None

        def request(self, *args, **kwargs) -> None:
            """Sends the request (connecting first unless the connection is reused), then hands the socket over."""
            super().request(*args, **kwargs)
            if attempts.current is not None:
                attempts.current.watch(self.sock)

    return CheckedConnection


def _connect_checked(host: str, port: int, timeout: float | None, policy: AddressPolicy) -> socket.socket:
    """Resolve ``host``, drop the addresses the policy refuses, and connect to the first allowed one."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, 0, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"cannot resolve {host}: {exc.strerror}") from None
    refusals, last_error = [], None
    for family, kind, proto, _, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if reason := policy.refusal(address):
            refusals.append(reason)
            continue
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(timeout)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            last_error = exc
    if last_error is not None:
        raise last_error
    raise _Refused(f"{host} resolves only to refused addresses ({'; '.join(dict.fromkeys(refusals))}); "
                   "add its network to federation.allow_networks to allow it")


class _CheckedAdapter(HTTPAdapter):
    """An adapter whose pools build :func:`_connection_class` connections for this fetcher's policy."""

    def __init__(self, policy: AddressPolicy, attempts: _Attempts) -> None:
        self._checked = {
            "http": type("CheckedHTTPPool", (HTTPConnectionPool,),
                         {"ConnectionCls": _connection_class(HTTPConnection, "http", policy, attempts)}),
            "https": type("CheckedHTTPSPool", (HTTPSConnectionPool,),
                          {"ConnectionCls": _connection_class(HTTPSConnection, "https", policy, attempts)}),
        }
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._checked


def _has_dot_segments(path: str) -> bool:
    segments = unquote(path).replace("\\", "/").split("/")
    return any(segment in (".", "..") for segment in segments)


def origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _under(url: str, prefix: str) -> bool:
    """``url`` lies under ``prefix`` once dot segments are considered: ``/paris/../admin`` is not under ``/paris/``."""
    parts = urlsplit(url)
    return (parts.scheme in ("http", "https") and not _has_dot_segments(parts.path)
            and origin(url) == origin(prefix) and parts.path.startswith(urlsplit(prefix).path))


class Fetcher:
    def __init__(self, allowed_prefixes: Iterable[str], timeout_s: float = 10.0,
                 max_bytes: int = 50 * 1024 * 1024, user_agent: str = "dds-pod federation",
                 policy: AddressPolicy = AddressPolicy()) -> None:
        self.allowed_prefixes = tuple(allowed_prefixes)
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self._attempts = _Attempts()
        self.session = requests.Session()
        self.session.trust_env = False  # never route member traffic through an environment proxy
        self.session.headers["User-Agent"] = user_agent
        adapter = _CheckedAdapter(policy, self._attempts)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def member_of(self, url: str) -> str | None:
        """The member URL ``url`` lies under (the longest, when members nest), or None."""
        return max((prefix for prefix in self.allowed_prefixes if _under(url, prefix)), key=len, default=None)

    def allowed(self, url: str) -> bool:
        return self.member_of(url) is not None

    def get(self, url: str, headers: dict[str, str] | None = None) -> Fetched:
        return self.request("GET", url, headers=headers)

    def request(self, method: str, url: str, headers: dict[str, str] | None = None,
                body: bytes | None = None) -> Fetched:
        """One request to a member, redirects followed under that member's URL; raises FetchError."""
        member = self.member_of(url)
        if member is None:
            raise FetchError(f"{url} is not under a federation member's URL")
        deadline = time.monotonic() + self.timeout_s
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            answer = self._hop(method, current, headers, body, deadline)
            if answer.status not in REDIRECT_STATUSES:
                return answer
            location = answer.headers.get("location")
            if not location:
                raise FetchError(f"{current} redirects without a Location")
            target = urljoin(current, location)
            if not _under(target, member):
                raise FetchError(f"{current} redirects outside the member's URL {member} ({target}); not followed")
            current = target
            if answer.status == 303:
                method, body = "GET", None
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def _hop(self, method: str, url: str, headers, body, deadline: float) -> Fetched:
        """One request and its whole answer under the watchdog (a redirect's body is not read)."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError(f"{url}: no complete answer within {self.timeout_s:g} s")
        attempt = _Attempt(deadline)
        self._attempts.current = attempt
        watchdog = threading.Timer(remaining, attempt.cut_off)
        watchdog.daemon = True
        watchdog.start()
        try:
            response = self._send(method, url, headers, body, attempt, remaining)
            if response.status_code in REDIRECT_STATUSES:
                response.close()
                return Fetched(url, response.status_code, _lower(response.headers), b"", {})
            return self._read(url, response, attempt)
        finally:
            watchdog.cancel()
            self._attempts.current = None

    def _send(self, method: str, url: str, headers, body, attempt: _Attempt, remaining: float) -> requests.Response:
        try:
            return self.session.request(method, url, headers=headers, data=body, allow_redirects=False,
                                        stream=True, timeout=(min(remaining, MAX_CONNECT_S), remaining))
        except requests.RequestException as exc:
            raise self._failure(url, attempt, exc) from None

    def _read(self, url: str, response: requests.Response, attempt: _Attempt) -> Fetched:
        with response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > self.max_bytes:
                raise FetchError(f"{url}: body of {declared} bytes is over the {self.max_bytes} bytes limit")
            chunks, size = [], 0
            try:
                for chunk in response.iter_content(CHUNK_BYTES):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise FetchError(f"{url}: body over the {self.max_bytes} bytes limit")
                    if attempt.cut or time.monotonic() > attempt.deadline:
                        break
                    chunks.append(chunk)
            except requests.RequestException as exc:
                raise self._failure(url, attempt, exc) from None
            if attempt.cut or time.monotonic() > attempt.deadline:  # a cut body can look complete: never use it
                raise FetchError(f"{url}: no complete answer within {self.timeout_s:g} s")
            links = {rel: link["url"] for rel, link in response.links.items()}
            return Fetched(url, response.status_code, _lower(response.headers), b"".join(chunks), links)

    def _failure(self, url: str, attempt: _Attempt, exc: Exception) -> FetchError:
        if attempt.refusal:
            return FetchError(f"{url}: refused: {attempt.refusal}")
        if attempt.cut or isinstance(exc, requests.Timeout):
            return FetchError(f"{url}: no complete answer within {self.timeout_s:g} s")
        return FetchError(f"{url}: {type(exc).__name__}: {exc}")


def _lower(headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}
