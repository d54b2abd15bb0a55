"""Fetching from member pods, and only from them.

Every request the federation makes goes through :class:`Fetcher`: the URL must lie under a
member's pod URL, redirects are followed by hand and only within the same origin, and each
response is bounded in time (connect, read and total) and size. A slow, huge or looping member
thus costs one failed fetch, never the node; and no outside input can make the node request
any other address.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

import requests

MAX_REDIRECTS = 5


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


def _has_dot_segments(path: str) -> bool:
    segments = unquote(path).replace("\\", "/").split("/")
    return any(segment in (".", "..") for segment in segments)


def origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class Fetcher:
    def __init__(self, allowed_prefixes: Iterable[str], timeout_s: float = 10.0,
                 max_bytes: int = 50 * 1024 * 1024, user_agent: str = "dds-pod federation") -> None:
        self.allowed_prefixes = tuple(allowed_prefixes)
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self.session = requests.Session()
        self.session.trust_env = False  # never route member traffic through an environment proxy
        self.session.headers["User-Agent"] = user_agent

    def allowed(self, url: str) -> bool:
        """Under a member's URL once dot segments are considered: ``/paris/../admin`` is not under ``/paris/``."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or _has_dot_segments(parts.path):
            return False
        return any(origin(url) == origin(prefix) and parts.path.startswith(urlsplit(prefix).path)
                   for prefix in self.allowed_prefixes)

    def get(self, url: str, headers: dict[str, str] | None = None) -> Fetched:
        return self.request("GET", url, headers=headers)

    def request(self, method: str, url: str, headers: dict[str, str] | None = None,
                body: bytes | None = None) -> Fetched:
        """One request to a member, redirects followed within the same origin; raises FetchError."""
        if not self.allowed(url):
            raise FetchError(f"{url} is not under a federation member's URL")
        deadline = time.monotonic() + self.timeout_s
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send(method, current, headers, body, deadline)
            if response.status_code not in (301, 302, 303, 307, 308):
                return self._read(current, response, deadline)
            location = response.headers.get("Location")
            response.close()
            if not location:
                raise FetchError(f"{current} redirects without a Location")
            target = urljoin(current, location)
            if origin(target) != origin(url) or _has_dot_segments(urlsplit(target).path):
                raise FetchError(f"{current} redirects to another origin ({target}); not followed")
            current = target
            if response.status_code == 303:
                method, body = "GET", None
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def _send(self, method: str, url: str, headers, body, deadline: float) -> requests.Response:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError(f"{url}: no answer within {self.timeout_s:g} s")
        try:
            return self.session.request(method, url, headers=headers, data=body, allow_redirects=False,
                                        stream=True, timeout=(min(remaining, 5.0), remaining))
        except requests.RequestException as exc:
            raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None

    def _read(self, url: str, response: requests.Response, deadline: float) -> Fetched:
        with response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > self.max_bytes:
                raise FetchError(f"{url}: body of {declared} bytes is over the {self.max_bytes} bytes limit")
            chunks, size = [], 0
            try:
                for chunk in response.iter_content(64 * 1024):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise FetchError(f"{url}: body over the {self.max_bytes} bytes limit")
                    if time.monotonic() > deadline:
                        raise FetchError(f"{url}: body not received within {self.timeout_s:g} s")
                    chunks.append(chunk)
            except requests.RequestException as exc:
                raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None
            links = {rel: link["url"] for rel, link in response.links.items()}
            headers = {k.lower(): v for k, v in response.headers.items()}
            return Fetched(url, response.status_code, headers, b"".join(chunks), links)
