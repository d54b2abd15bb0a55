"""The node's configuration, read from a TOML file into typed settings.

The keys shown in the README are a contract: later versions add keys, never rename these. A key the node does
not know is refused with its name: a misspelt setting would otherwise be silently replaced by its default.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import search
from .errors import ConfigError
from .search import SearchSettings
from .store import StoreContext, StoreSettings, read_settings, shared_between_processes

POD_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
FREE_RDF_PATH = re.compile(r"(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}/){1,8}")  # no segment is "." or ".."
MAX_FREE_RDF = 32
PSEUDONYM_KEY_ENV = "DDS_PSEUDONYM_KEY"
MIN_PSEUDONYM_KEY = 16

__all__ = ["AnalysisConfig", "Config", "ConfigError", "FederationConfig", "ImportConfig", "LLMConfig",
           "NotificationsConfig", "PodConfig", "ServerConfig", "load"]


@dataclass(frozen=True)
class PodConfig:
    name: str
    title: str
    platform: str
    tokens: tuple[str, ...]
    language: str = "fr"
    # Containers (paths below the pod, ending with "/") whose resources may be any RDF: what generic Solid apps
    # write (profiles, settings, type indexes). The civic containers stay validated.
    free_rdf: tuple[str, ...] = ()

    def url(self, base_url: str) -> str:
        return f"{base_url}{self.name}/"


@dataclass(frozen=True)
class FederationConfig:
    """Remote pods this node harvests (its own pods are always members) and the query limits."""

    members: tuple[str, ...] = ()
    interval_s: float = 60.0
    query_timeout_s: float = 10.0
    max_results: int = 100_000
    query_max_bytes: int = 64 * 1024 * 1024  # of one SPARQL answer: the node's, and what it reads of a remote engine
    query_memory_mb: int = 1024  # what one SPARQL query may allocate beyond what the server holds
    query_slots: int = 4  # SPARQL queries evaluated at once; more wait briefly, then answer 503
    fetch_timeout_s: float = 10.0
    max_response_bytes: int = 50 * 1024 * 1024
    retry_base_s: float = 1.0  # first retry delay of a notification; doubles up to a minute
    # Networks members may resolve to besides public addresses (private deployments, tests on loopback).
    allow_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    inbox_queue: int = 1000  # notifications waiting for verification, all senders together
    inbox_per_actor: int = 100  # of which one member pod may have this many
    inbox_workers: int = 2  # threads verifying them
    member_platforms: dict[str, str] = field(default_factory=dict)  # remote member pod URL -> its platform IRI


@dataclass(frozen=True)
class ImportConfig:
    """The ``[import]`` table. ``pseudonym_key`` is resolved once, by :func:`pseudonym_key`."""

    pseudonym_key: str | None = None


@dataclass(frozen=True)
class ServerConfig:
    """The ``[server]`` table: how ``dds-pod serve`` holds its connections. A request is read whole before a
    thread is given to it, so these limits bound what a slow or silent client can hold."""

    threads: int = 8
    connection_limit: int = 512  # open connections; beyond, new ones wait in the listen backlog
    header_timeout_s: float = 10.0  # from a request's first byte to the end of its headers, else 408
    body_timeout_s: float = 60.0  # from the end of the headers to the end of the body, else 408
    idle_timeout_s: float = 60.0  # a kept-alive connection without a request is closed after this
    max_header_bytes: int = 64 * 1024  # larger request headers get 431
    # "here": this process runs the node's jobs, or takes them over when the process of this machine running them
    # ends; "elsewhere": never (they run on another machine serving the same store). See dds_pod.jobs.
    jobs: str = "here"


@dataclass(frozen=True)
class NotificationsConfig:
    """The ``[notifications]`` table: the Solid Notifications channels (WebSocketChannel2023) of the pods. The
    websocket endpoint has its own port, waitress serving no upgrade; every bound keeps what anonymous
    subscribers can hold small."""

    ws_host: str = "127.0.0.1"  # where the websocket endpoint listens
    ws_port: int = 0  # 0: a free port, chosen at start
    ws_url: str = ""  # its public URL behind a proxy (wss://node.example/ws/); else ws://HOST:PORT/
    max_channels: int = 1000  # open channels, all topics together
    max_channels_per_topic: int = 20
    max_lifetime_s: int = 3600  # a channel ends at most this long after its subscription (its endAt)
    connect_within_s: int = 60  # a channel nobody connected to within this is dropped
    max_message_bytes: int = 1024  # a larger message from a client closes its connection


@dataclass(frozen=True)
class InterfaceConfig:
    """The ``[interface]`` table: the node's name and the public interface's map. No tile server by default, so
    that no page makes a reader's browser contact another origin; a deployment that names one (and its
    attribution) allows it in the pages' Content-Security-Policy."""

    name: str = "Democracy Data Space"  # the node's name, in the header of every page
    tiles_url: str = ""  # e.g. "https://tiles.example/{z}/{x}/{y}.png"
    tiles_attribution: str = ""
    default_language: str = "en"  # when the reader's Accept-Language names none of the interface's languages


INTERFACE_LANGUAGES = ("fr", "en", "es", "ca")
MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$")
# What attachments of civic platforms are: pictures, PDFs, office documents, text. Neither HTML nor SVG by default:
# a deployment that accepts them gets them served sandboxed all the same.
DEFAULT_FILE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain",
                      "text/csv", "application/vnd.oasis.opendocument.text",
                      "application/vnd.openxmlformats-officedocument.wordprocessingml.document")


@dataclass(frozen=True)
class FilesConfig:
    """The ``[files]`` table: what a pod accepts as a non-RDF resource (LDP-NR). ``max_bytes`` ``None``: the
    node's ``max_body_bytes``."""

    max_bytes: int | None = None
    media_types: frozenset[str] = frozenset(DEFAULT_FILE_TYPES)


@dataclass(frozen=True)
class LLMConfig:
    """The ``[analysis.llm]`` table: an OpenAI-compatible chat server (llama.cpp, Ollama, vLLM) that may name
    themes and write summaries. Off by default; the URL is the operator's, the only place the node sends
    (pseudonymised) excerpts to. The key, when the server wants one, comes from the environment variable named
    by ``api_key_env``, never from the file."""

    enabled: bool = False
    url: str = ""  # the server's base URL, e.g. "http://127.0.0.1:8080/": requests go to {url}v1/chat/completions
    model: str = ""
    timeout_s: float = 60.0  # for the whole answer
    max_tokens: int = 512
    max_response_bytes: int = 256 * 1024  # a longer answer is cut off and refused
    api_key_env: str = ""
    api_key: str = field(default="", repr=False)


LLM_KEYS = frozenset({"enabled", "url", "model", "timeout_s", "max_tokens", "max_response_bytes", "api_key_env"})


def llm_settings(analysis: dict[str, Any]) -> LLMConfig:
    """The ``llm`` table of ``[analysis]``, checked: enabled needs a URL and a model, a named key variable must be
    set."""
    raw, prefix, defaults = _table(analysis, "llm", "analysis."), "analysis.llm.", LLMConfig()
    _refuse_unknown(prefix, raw, LLM_KEYS)
    enabled, url, model = raw.get("enabled", False), raw.get("url", ""), raw.get("model", "")
    key_env = raw.get("api_key_env", "")
    if not isinstance(enabled, bool):
        raise ConfigError("analysis.llm.enabled must be true or false", field=prefix + "enabled")
    if not isinstance(url, str) or (url and not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", url)):
        raise ConfigError("analysis.llm.url must be the chat server's http(s) base URL, such as "
                          "\"http://127.0.0.1:8080/\"", field=prefix + "url")
    for key, value in (("model", model), ("api_key_env", key_env)):
        if not isinstance(value, str) or len(value) > 200:
            raise ConfigError(f"analysis.llm.{key} must be a string", field=prefix + key)
    if enabled and not (url and model):
        raise ConfigError("analysis.llm.enabled needs analysis.llm.url and analysis.llm.model",
                          field=prefix + ("model" if url else "url"))
    api_key = os.environ.get(key_env, "") if key_env else ""
    if key_env and not api_key:
        raise ConfigError(f"analysis.llm.api_key_env names {key_env!r}, which is not set", field=prefix + "api_key_env")
    return LLMConfig(
        enabled=enabled, url=url if not url or url.endswith("/") else url + "/", model=model,
        timeout_s=_positive_number(raw, "timeout_s", defaults.timeout_s, prefix),
        max_tokens=_positive_int(raw, "max_tokens", defaults.max_tokens, prefix),
        max_response_bytes=_positive_int(raw, "max_response_bytes", defaults.max_response_bytes, prefix),
        api_key_env=key_env, api_key=api_key)


@dataclass(frozen=True)
class AnalysisConfig:
    """The ``[analysis]`` table: whether the node analyses its merged graph, and when. In the background, a run
    starts once harvests have changed the graph and then left it alone ``quiet_s`` seconds, at most one per
    ``min_interval_s``; ``dds-pod analyse`` runs one whenever asked (when enabled)."""

    enabled: bool = True
    background: bool = False
    quiet_s: float = 10.0
    min_interval_s: float = 300.0
    max_text_chars: int = 20_000  # of each title and body read from the merged graph


ANALYSIS_KEYS = frozenset({"enabled", "background", "quiet_s", "min_interval_s", "max_text_chars", "llm"})


def analysis_settings(analysis: dict[str, Any]) -> AnalysisConfig:
    """The ``[analysis]`` table, checked (its ``llm`` table is :func:`llm_settings`')."""
    _refuse_unknown("analysis.", analysis, ANALYSIS_KEYS)
    defaults = AnalysisConfig()
    for key in ("enabled", "background"):
        if not isinstance(analysis.get(key, False), bool):
            raise ConfigError(f"analysis.{key} must be true or false", field=f"analysis.{key}")
    quiet = analysis.get("quiet_s", defaults.quiet_s)
    if isinstance(quiet, bool) or not isinstance(quiet, int | float) or quiet < 0:
        raise ConfigError("analysis.quiet_s must be a number of seconds, 0 or more", field="analysis.quiet_s")
    return AnalysisConfig(
        enabled=analysis.get("enabled", defaults.enabled), background=analysis.get("background", defaults.background),
        quiet_s=float(quiet),
        min_interval_s=_positive_number(analysis, "min_interval_s", defaults.min_interval_s, "analysis."),
        max_text_chars=_positive_int(analysis, "max_text_chars", defaults.max_text_chars, "analysis."))


@dataclass(frozen=True)
class Config:
    base_url: str
    pods: dict[str, PodConfig]
    data_dir: Path | None = None
    store: StoreSettings = field(default_factory=StoreSettings)
    page_size: int = 100
    max_body_bytes: int = 5 * 1024 * 1024
    federation: FederationConfig = field(default_factory=FederationConfig)
    # DCAT records describing members' datasets (pod URL -> RDF/XML or Turtle files), shown in the catalogue.
    catalog_records: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    # Browser origins trusted with credentials (cookies, Authorization); any other origin only reads.
    cors_origins: frozenset[str] = frozenset()
    import_settings: ImportConfig = field(default_factory=ImportConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    interface: InterfaceConfig = field(default_factory=InterfaceConfig)
    search: SearchSettings = field(default_factory=lambda: search.read_settings(None, None))
    notifications: NotificationsConfig = field(default_factory=NotificationsConfig)
    files: FilesConfig = field(default_factory=FilesConfig)
    analysis_llm: LLMConfig = field(default_factory=LLMConfig)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)

    @property
    def max_file_bytes(self) -> int:
        return self.files.max_bytes or self.max_body_bytes

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
    _refuse_unknown("", raw, TOP_LEVEL_KEYS)
    data_dir = (relative_to / raw["data_dir"]) if raw.get("data_dir") else None
    pods = {name: _pod(name, value) for name, value in _table(raw, "pods").items()}
    store = read_settings(raw.get("store", "oxigraph"), StoreContext(data_dir, relative_to))
    server = _server(_table(raw, "server"))
    if server.jobs == "elsewhere" and not shared_between_processes(store):
        raise ConfigError("server.jobs = \"elsewhere\" leaves the node's jobs to another process, which an embedded "
                          "store does not allow (it belongs to this process)", field="server.jobs")
    return Config(
        base_url=base_url,
        pods=pods,
        data_dir=data_dir,
        store=store,
        page_size=_positive_int(raw, "page_size", 100),
        max_body_bytes=_positive_int(raw, "max_body_bytes", 5 * 1024 * 1024),
        federation=_federation(_table(raw, "federation")),
        catalog_records=_records(_catalog(raw), relative_to),
        import_settings=_import(_table(raw, "import")),
        server=server,
        cors_origins=_origins(raw.get("cors_origins", [])),
        interface=_interface(_table(raw, "interface")),
        search=search.read_settings(raw.get("search"), data_dir),
        notifications=_notifications(_table(raw, "notifications")),
        files=_files(_table(raw, "files")),
        analysis_llm=llm_settings(_table(raw, "analysis")),
        analysis=analysis_settings(_table(raw, "analysis")),
    )


def _files(raw: dict[str, Any]) -> FilesConfig:
    _refuse_unknown("files.", raw, {"max_bytes", "media_types"})
    types = raw.get("media_types", list(DEFAULT_FILE_TYPES))
    if not isinstance(types, list) or not all(isinstance(t, str) and MEDIA_TYPE.match(t.lower()) for t in types):
        raise ConfigError("files.media_types must be a list of media types such as \"image/png\"",
                          field="files.media_types")
    max_bytes = _positive_int(raw, "max_bytes", 1, "files.") if "max_bytes" in raw else None
    return FilesConfig(max_bytes=max_bytes, media_types=frozenset(t.lower() for t in types))


def _origins(raw: Any) -> frozenset[str]:
    """Origins as browsers send them: scheme, host and port only, e.g. ``https://app.example:8443``."""
    origin = re.compile(r"^https?://[^/?#\s]+$")
    if not isinstance(raw, list) or not all(isinstance(o, str) and origin.match(o.rstrip("/").lower()) for o in raw):
        raise ConfigError("cors_origins must be a list of origins such as \"https://app.example\" "
                          "(scheme and host, no path; never \"null\" or \"*\")")
    return frozenset(o.rstrip("/").lower() for o in raw)


TOP_LEVEL_KEYS = frozenset({"base_url", "data_dir", "pods", "store", "page_size", "max_body_bytes", "federation",
                            "catalog", "import", "server", "cors_origins", "interface", "search", "notifications",
                            "files", "analysis"})


def pseudonym_key(import_table: dict[str, Any] | None = None) -> str | None:
    """The one rule for the pseudonymisation key: the environment's ``DDS_PSEUDONYM_KEY`` when set (a
    deployment keeps its secret out of files), else ``[import] pseudonym_key``; ``None`` when neither is."""
    table = import_table or {}
    key = os.environ.get(PSEUDONYM_KEY_ENV) or table.get("pseudonym_key")
    if key is None:
        return None
    where = PSEUDONYM_KEY_ENV if os.environ.get(PSEUDONYM_KEY_ENV) else "import.pseudonym_key"
    if not isinstance(key, str) or len(key) < MIN_PSEUDONYM_KEY:
        raise ConfigError(f"{where} must be a string of {MIN_PSEUDONYM_KEY} characters or more", field=where)
    return key


def _import(raw: dict[str, Any]) -> ImportConfig:
    _refuse_unknown("import.", raw, {"pseudonym_key"})
    return ImportConfig(pseudonym_key=pseudonym_key(raw))


def _server(raw: dict[str, Any]) -> ServerConfig:
    defaults = ServerConfig()
    _refuse_unknown("server.", raw, set(vars(defaults)))
    return ServerConfig(
        threads=_positive_int(raw, "threads", defaults.threads, "server."),
        connection_limit=_positive_int(raw, "connection_limit", defaults.connection_limit, "server."),
        header_timeout_s=_positive_number(raw, "header_timeout_s", defaults.header_timeout_s, "server."),
        body_timeout_s=_positive_number(raw, "body_timeout_s", defaults.body_timeout_s, "server."),
        idle_timeout_s=_positive_number(raw, "idle_timeout_s", defaults.idle_timeout_s, "server."),
        max_header_bytes=_positive_int(raw, "max_header_bytes", defaults.max_header_bytes, "server."),
        jobs=_choice(raw, "jobs", defaults.jobs, JOB_PLACES, "server."),
    )


def _choice(raw: dict[str, Any], key: str, default: str, choices: tuple[str, ...], prefix: str) -> str:
    value = raw.get(key, default)
    if value not in choices:
        raise ConfigError(f"{prefix}{key} must be one of {', '.join(repr(c) for c in choices)}", field=prefix + key)
    return value


JOB_PLACES = ("here", "elsewhere")


def _interface(raw: dict[str, Any]) -> InterfaceConfig:
    defaults = InterfaceConfig()
    _refuse_unknown("interface.", raw, set(vars(defaults)))
    values = {key: raw.get(key, getattr(defaults, key)) for key in vars(defaults)}
    for key, value in values.items():
        if not isinstance(value, str):
            raise ConfigError(f"interface.{key} must be a string", field=f"interface.{key}")
    tiles = values["tiles_url"]
    if tiles and not re.match(r"^https?://[^/\s]+/\S*$", tiles):
        raise ConfigError("interface.tiles_url must be an http(s) URL template such as "
                          "\"https://tiles.example/{z}/{x}/{y}.png\"", field="interface.tiles_url")
    if values["default_language"] not in INTERFACE_LANGUAGES:
        raise ConfigError(f"interface.default_language must be one of {', '.join(INTERFACE_LANGUAGES)}",
                          field="interface.default_language")
    return InterfaceConfig(**values)


def _notifications(raw: dict[str, Any]) -> NotificationsConfig:
    defaults, prefix = NotificationsConfig(), "notifications."
    _refuse_unknown(prefix, raw, set(vars(defaults)))
    host, url = raw.get("ws_host", defaults.ws_host), raw.get("ws_url", defaults.ws_url)
    if not isinstance(host, str) or not host:
        raise ConfigError("notifications.ws_host must be a host name or address", field="notifications.ws_host")
    if not isinstance(url, str) or (url and not re.match(r"^wss?://[^/\s]+/\S*$", url)):
        raise ConfigError("notifications.ws_url must be a ws:// or wss:// URL ending with '/'",
                          field="notifications.ws_url")
    port = raw.get("ws_port", defaults.ws_port)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError("notifications.ws_port must be a port number, or 0 for a free one",
                          field="notifications.ws_port")
    numbers = {key: _positive_int(raw, key, getattr(defaults, key), prefix)
               for key in ("max_channels", "max_channels_per_topic", "max_lifetime_s", "connect_within_s",
                           "max_message_bytes")}
    return NotificationsConfig(ws_host=host, ws_port=port, ws_url=url if not url or url.endswith("/") else url + "/",
                               **numbers)


def _catalog(raw: dict[str, Any]) -> dict[str, Any]:
    catalog = _table(raw, "catalog")
    _refuse_unknown("catalog.", catalog, {"records"})
    return _table(catalog, "records", "catalog.")


def _table(raw: dict[str, Any], key: str, prefix: str = "") -> dict[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"{prefix}{key} must be a table ([{prefix}{key}])", field=f"{prefix}{key}")
    return value


def _refuse_unknown(prefix: str, raw: dict[str, Any], known: set[str] | frozenset[str]) -> None:
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"unknown setting {prefix + unknown[0]!r}; known: {', '.join(sorted(known))}",
                          field=f"{prefix}{unknown[0]}")


def _federation(raw: dict[str, Any]) -> FederationConfig:
    _refuse_unknown("federation.", raw, set(vars(FederationConfig())))
    members = raw.get("members", [])
    if not isinstance(members, list) or not all(isinstance(m, str) and re.match(r"^https?://[^/]+/", m)
                                                for m in members):
        raise ConfigError("federation.members must be a list of pod URLs such as \"http://127.0.0.1:8001/madrid/\"")
    defaults = FederationConfig()
    return FederationConfig(
        members=tuple(m if m.endswith("/") else m + "/" for m in members),
        interval_s=_positive_number(raw, "interval_s", defaults.interval_s),
        query_timeout_s=_positive_number(raw, "query_timeout_s", defaults.query_timeout_s),
        max_results=_positive_int(raw, "max_results", defaults.max_results, "federation."),
        query_max_bytes=_positive_int(raw, "query_max_bytes", defaults.query_max_bytes, "federation."),
        query_memory_mb=_positive_int(raw, "query_memory_mb", defaults.query_memory_mb, "federation."),
        query_slots=_positive_int(raw, "query_slots", defaults.query_slots, "federation."),
        fetch_timeout_s=_positive_number(raw, "fetch_timeout_s", defaults.fetch_timeout_s),
        max_response_bytes=_positive_int(raw, "max_response_bytes", defaults.max_response_bytes, "federation."),
        retry_base_s=_positive_number(raw, "retry_base_s", defaults.retry_base_s),
        allow_networks=_networks(raw.get("allow_networks", [])),
        inbox_queue=_positive_int(raw, "inbox_queue", defaults.inbox_queue, "federation."),
        inbox_per_actor=_positive_int(raw, "inbox_per_actor", defaults.inbox_per_actor, "federation."),
        inbox_workers=_positive_int(raw, "inbox_workers", defaults.inbox_workers, "federation."),
        member_platforms=_member_platforms(raw.get("member_platforms", {})),
    )


def _networks(raw: Any) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    problem = "federation.allow_networks must be a list of networks such as \"10.0.0.0/8\" or \"127.0.0.1\""
    if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
        raise ConfigError(problem)
    try:
        return tuple(ipaddress.ip_network(n.strip()) for n in raw)
    except ValueError as exc:
        raise ConfigError(f"{problem}: {exc}") from None


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


def _positive_number(raw: dict[str, Any], key: str, default: float, prefix: str = "federation.") -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{prefix}{key} must be a positive number", field=f"{prefix}{key}")
    return float(value)


def _pod(name: str, raw: dict[str, Any]) -> PodConfig:
    if not POD_NAME.match(name) or name in RESERVED_NAMES:
        raise ConfigError(f"pod name {name!r} must be lower-case letters, digits, '-' or '_', and not one of "
                          f"{', '.join(sorted(RESERVED_NAMES))}")
    platform = raw.get("platform")
    if not isinstance(platform, str) or not platform.startswith(("http://", "https://")):
        raise ConfigError(f"pods.{name}.platform must be the platform's http(s) IRI")
    _refuse_unknown(f"pods.{name}.", raw, {"title", "platform", "token", "token_env", "language", "free_rdf"})
    return PodConfig(
        name=name,
        title=str(raw.get("title", name)),
        platform=platform,
        tokens=_tokens(name, raw),
        language=str(raw.get("language", "fr")),
        free_rdf=_free_rdf(name, raw.get("free_rdf", [])),
    )


def _free_rdf(name: str, value: Any) -> tuple[str, ...]:
    """The free-RDF containers of a pod: relative container paths of plain segments."""
    key = f"pods.{name}.free_rdf"
    if not isinstance(value, list) or len(value) > MAX_FREE_RDF:
        raise ConfigError(f"{key} must be a list of at most {MAX_FREE_RDF} container paths", field=key)
    for path in value:
        if not isinstance(path, str) or not FREE_RDF_PATH.fullmatch(path):
            raise ConfigError(f"{key}: {path!r} is not a container path below the pod such as \"apps/\" "
                              "(letters, digits, '-', '_', '.', each segment ending with '/')", field=key)
    return tuple(dict.fromkeys(value))


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


def _positive_int(raw: dict[str, Any], key: str, default: int, prefix: str = "") -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{prefix}{key} must be a positive integer", field=f"{prefix}{key}")
    return value


# Top-level paths the node itself serves (the standard, the federation, the public interface, analysis); no pod
# may take these names.
RESERVED_NAMES = frozenset({"ns", "shapes", "sparql", "catalog", "federation", "api", "static", "health", "explore",
                            "contribution", "platform", "space", "statistics", "analysis", "themes", "changes"})
