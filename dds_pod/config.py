"""The node's configuration, read from a TOML file.

The keys shown in the README are a contract: later versions add keys, never rename these.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import DDSError

POD_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class ConfigError(DDSError):
    title = "Configuration error"


@dataclass(frozen=True)
class PodConfig:
    name: str
    title: str
    platform: str
    tokens: tuple[str, ...]
    language: str = "fr"

    def url(self, base_url: str) -> str:
        return f"{base_url}{self.name}/"


@dataclass(frozen=True)
class FederationConfig:
    """Remote pods this node harvests (its own pods are always members) and the query limits."""

    members: tuple[str, ...] = ()
    interval_s: float = 60.0
    query_timeout_s: float = 10.0
    max_results: int = 100_000
    query_memory_mb: int = 1024  # what one SPARQL query may allocate beyond what the server holds
    fetch_timeout_s: float = 10.0
    max_response_bytes: int = 50 * 1024 * 1024
    retry_base_s: float = 1.0  # first retry delay of a notification; doubles up to a minute
    inbox_queue: int = 1000  # notifications waiting for verification, all senders together
    inbox_per_actor: int = 100  # of which one member pod may have this many
    inbox_workers: int = 2  # threads verifying them
    member_platforms: dict[str, str] = field(default_factory=dict)  # remote member pod URL -> its platform IRI


@dataclass(frozen=True)
class Config:
    base_url: str
    pods: dict[str, PodConfig]
    data_dir: Path | None = None
    store: str = "oxigraph"
    page_size: int = 100
    max_body_bytes: int = 5 * 1024 * 1024
    federation: FederationConfig = field(default_factory=FederationConfig)
    # DCAT records describing members' datasets (pod URL -> RDF/XML or Turtle files), shown in the catalogue.
    catalog_records: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def pod_url(self, name: str) -> str:
        return self.pods[name].url(self.base_url)


def load(path: str | Path) -> Config:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the configuration {str(path)!r}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML in {str(path)!r}: {exc}") from None
    return from_dict(raw, relative_to=path.parent)


def from_dict(raw: dict[str, Any], relative_to: Path = Path()) -> Config:
    base_url = raw.get("base_url")
    if not isinstance(base_url, str) or not re.match(r"^https?://[^/]+", base_url):
        raise ConfigError("base_url must be an http(s) URL, e.g. \"http://127.0.0.1:8000/\"")
    if not base_url.endswith("/"):
        base_url += "/"
    data_dir = raw.get("data_dir")
    pods = {name: _pod(name, value) for name, value in (raw.get("pods") or {}).items()}
    known = {"base_url", "data_dir", "pods", "store", "page_size", "max_body_bytes", "federation", "catalog"}
    return Config(
        base_url=base_url,
        pods=pods,
        data_dir=(relative_to / data_dir) if data_dir else None,
        store=str(raw.get("store", "oxigraph")),
        page_size=_positive_int(raw, "page_size", 100),
        max_body_bytes=_positive_int(raw, "max_body_bytes", 5 * 1024 * 1024),
        federation=_federation(raw.get("federation") or {}),
        catalog_records=_records((raw.get("catalog") or {}).get("records") or {}, relative_to),
        extra={k: v for k, v in raw.items() if k not in known},
    )


def _federation(raw: dict[str, Any]) -> FederationConfig:
    members = raw.get("members", [])
    if not isinstance(members, list) or not all(isinstance(m, str) and re.match(r"^https?://[^/]+/", m)
                                                for m in members):
        raise ConfigError("federation.members must be a list of pod URLs such as \"http://127.0.0.1:8001/madrid/\"")
    defaults = FederationConfig()
    return FederationConfig(
        members=tuple(m if m.endswith("/") else m + "/" for m in members),
        interval_s=_positive_number(raw, "interval_s", defaults.interval_s),
        query_timeout_s=_positive_number(raw, "query_timeout_s", defaults.query_timeout_s),
        max_results=_positive_int(raw, "max_results", defaults.max_results),
        query_memory_mb=_positive_int(raw, "query_memory_mb", defaults.query_memory_mb),
        fetch_timeout_s=_positive_number(raw, "fetch_timeout_s", defaults.fetch_timeout_s),
        max_response_bytes=_positive_int(raw, "max_response_bytes", defaults.max_response_bytes),
        retry_base_s=_positive_number(raw, "retry_base_s", defaults.retry_base_s),
        inbox_queue=_positive_int(raw, "inbox_queue", defaults.inbox_queue),
        inbox_per_actor=_positive_int(raw, "inbox_per_actor", defaults.inbox_per_actor),
        inbox_workers=_positive_int(raw, "inbox_workers", defaults.inbox_workers),
        member_platforms=_member_platforms(raw.get("member_platforms", {})),
    )


def _member_platforms(raw: Any) -> dict[str, str]:
    """Which platform each remote member pod publishes for: the inbox attributes its reactions by it."""
    if not isinstance(raw, dict) or not all(
            isinstance(pod, str) and re.match(r"^https?://[^/]+/", pod) and isinstance(platform, str)
            and platform.startswith(("http://", "https://")) for pod, platform in raw.items()):
        raise ConfigError("federation.member_platforms maps pod URLs to platform IRIs, such as "
                          "{ \"http://127.0.0.1:8001/madrid/\" = \"https://decidim.madrid.example\" }")
    return {pod if pod.endswith("/") else pod + "/": platform for pod, platform in raw.items()}


def _records(raw: dict[str, Any], relative_to: Path) -> dict[str, tuple[Path, ...]]:
    records = {}
    for member, files in raw.items():
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise ConfigError(f"catalog.records.{member!r} must be a list of file paths")
        paths = tuple(relative_to / f for f in files)
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise ConfigError(f"catalog.records: no such file {missing[0]}")
        records[member if member.endswith("/") else member + "/"] = paths
    return records


def _positive_number(raw: dict[str, Any], key: str, default: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"federation.{key} must be a positive number")
    return float(value)


def _pod(name: str, raw: dict[str, Any]) -> PodConfig:
    if not POD_NAME.match(name) or name in RESERVED_NAMES:
        raise ConfigError(f"pod name {name!r} must be lower-case letters, digits, '-' or '_', and not one of "
                          f"{', '.join(sorted(RESERVED_NAMES))}")
    platform = raw.get("platform")
    if not isinstance(platform, str) or not platform.startswith(("http://", "https://")):
        raise ConfigError(f"pods.{name}.platform must be the platform's http(s) IRI")
    return PodConfig(
        name=name,
        title=str(raw.get("title", name)),
        platform=platform,
        tokens=_tokens(name, raw),
        language=str(raw.get("language", "fr")),
    )


def _tokens(name: str, raw: dict[str, Any]) -> tuple[str, ...]:
    tokens = []
    if raw.get("token"):
        tokens.append(str(raw["token"]))
    if raw.get("token_env"):
        value = os.environ.get(str(raw["token_env"]))
        if not value:
            raise ConfigError(f"pods.{name}.token_env names {raw['token_env']!r}, which is not set")
        tokens.append(value)
    if not tokens:
        raise ConfigError(f"pods.{name} needs a token (token = \"...\" or token_env = \"VARIABLE\")")
    return tuple(tokens)


def _positive_int(raw: dict[str, Any], key: str, default: int) -> int:
    value = raw.get(key, default)
    if not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{key} must be a positive integer")
    return value


# Top-level paths the node itself serves; no pod may take these names.
RESERVED_NAMES = frozenset({"ns", "shapes", "sparql", "catalog", "federation", "api", "static", "health"})
