"""Serving a node over HTTP from the ``dds-pod serve`` command, with waitress.

Waitress reads every request whole (headers and body) in one event loop before a thread is given to it, so a
client that sends its request slowly holds a connection, not a thread: slow clients cannot starve the node.
On top of waitress's limits (open connections, header and body sizes, idle connections), a request must arrive
in time: its headers within ``server.header_timeout_s`` of its first byte and its body within
``server.body_timeout_s`` of its headers, or it is answered 408 and the connection closed. Errors of framing
(413, 400 for a malformed chunk, 431) are problem documents, like the application's.

One process owns the embedded stores, with threads; on a remote store (a SPARQL engine), ``--workers N`` processes
serve the node, sharing the listening socket, and one of them runs the node's jobs (:mod:`.jobs`). A supervisor
starts a process again when it dies.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import signal
import socket
import sys
import time
from pathlib import Path

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask

from .config import Config, ServerConfig
from .errors import ConfigError, StoreUnavailable
from .lifecycle import ServingNode
from .store import shared_between_processes
from .supervisor import EXIT_FATAL, Supervisor

LINGER_S = 2.0  # how long a closing connection drops what its client still sends
LINGER_READ_BYTES, LINGER_MAX_BYTES = 65536, 8 * 1024 * 1024


def problem_body(status: int, title: str, detail: str, field: str | None = None) -> bytes:
    document = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if field:
        document["field"] = field
    return json.dumps(document).encode()


class ProblemErrorTask(ErrorTask):
    """A request waitress refuses while reading it (too large, malformed framing) gets a problem document."""

    def execute(self) -> None:
        error = self.request.error
        self.status = f"{error.code} {error.reason}"
        detail = error.body
        if error.code == 413:  # worded as the application words it
            detail = f"the body is over the limit of {self.channel.server.adj.max_request_body_size} bytes"
        body = problem_body(error.code, error.reason, detail, "headers" if error.code == 431 else "body")
        self.response_headers.append(("Content-Type", "application/problem+json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class DeadlineChannel(HTTPChannel):
    """A connection whose request being read must arrive by a deadline (its headers, then its body).

    When the server ends a connection, it closes its sending side first and reads (and drops) what the client is
    still sending, for a moment, before closing the socket: closed on unread data, the socket would answer with a
    reset, which can destroy the error response (a 413 to a large upload) before the client reads it.
    """

    error_task_class = ProblemErrorTask
    _timed = None  # the request the times below are about
    request_started = 0.0
    headers_received: float | None = None
    lingering_since: float | None = None
    dropped = 0

    def handle_close(self) -> None:
        if self.lingering_since is None and self.connected and self.socket is not None:
            try:
                self.socket.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            else:
                self.lingering_since, self.will_close = time.monotonic(), False
                return
        super().handle_close()

    def readable(self) -> bool:
        return self.lingering_since is not None or super().readable()

    def writable(self) -> bool:
        return self.lingering_since is None and bool(super().writable())

    def handle_read(self) -> None:
        if self.lingering_since is None:
            super().handle_read()
            return
        try:
            data = self.socket.recv(LINGER_READ_BYTES)
        except OSError:
            data = b""
        self.dropped += len(data)
        if not data or self.dropped > LINGER_MAX_BYTES:
            super().handle_close()

    def linger_over(self, now: float) -> bool:
        return self.lingering_since is not None and now - self.lingering_since > LINGER_S

    def received(self, data: bytes) -> bool:
        accepted = super().received(data)
        now = time.monotonic()
        if self.request is not self._timed:  # a new request began in this data
            self._timed, self.request_started, self.headers_received = self.request, now, None
        if self.request is not None and self.headers_received is None and self.request.headers_finished:
            self.headers_received = now
        return accepted

    def overdue(self, now: float, limits: ServerConfig) -> tuple[str, float] | None:
        """What is late ("headers" or "body") and its limit when the request being read missed its deadline."""
        if self.request is None or self.requests or self.request is not self._timed:
            return None  # nothing being read, or a response still being made (the client waits for it)
        if self.headers_received is None:
            return ("headers", limits.header_timeout_s) if now - self.request_started > limits.header_timeout_s \
                else None
        return ("body", limits.body_timeout_s) if now - self.headers_received > limits.body_timeout_s else None

    def time_out(self, late: str, limit_s: float) -> None:
        body = problem_body(408, "Request Timeout", f"the request's {late} did not arrive within {limit_s:g} s",
                            late)
        head = (f"HTTP/1.1 408 Request Timeout\r\nContent-Type: application/problem+json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
        with contextlib.suppress(OSError):  # a few hundred bytes: the socket's buffer takes them, or the client is gone
            self.socket.send(head.encode() + body, socket.MSG_DONTWAIT)
        self.request = None
        self.handle_close()  # the client is silent: lingering ends at its first read, or at LINGER_S


class DeadlineServer(TcpWSGIServer):
    channel_class = DeadlineChannel

    def __init__(self, app, sock: socket.socket, limits: ServerConfig, threads: int, max_body_bytes: int) -> None:
        self.limits = limits
        adjustments = Adjustments(
            threads=threads, connection_limit=limits.connection_limit,
            channel_timeout=max(1, round(limits.idle_timeout_s)),
            cleanup_interval=1,  # deadlines are checked every second
            max_request_header_size=limits.max_header_bytes, max_request_body_size=max_body_bytes,
            asyncore_use_poll=True,  # select() would fail beyond 1024 descriptors
            backlog=1024, ident="dds-pod")
        sockinfo = (sock.family, sock.type, sock.proto, sock.getsockname())
        super().__init__(app, _sock=sock, adj=adjustments, bind_socket=False, sockinfo=sockinfo)

    def maintenance(self, now: float) -> None:
        super().maintenance(now)
        clock = time.monotonic()
        for channel in list(self.active_channels.values()):
            if channel.linger_over(clock):
                HTTPChannel.handle_close(channel)
                continue
            late = channel.overdue(clock, self.limits)
            if late:
                channel.time_out(*late)


def serve(config: Config, host: str, port: int, threads: int | None, seeds: list[tuple[str, str, Path]],
          workers: int = 1) -> int:
    if workers > 1 and not shared_between_processes(config.store):
        print(f"dds-pod: --workers {workers}: the {config.store.backend!r} store belongs to one process (it locks its "
              "folder); several processes need a store on a SPARQL engine ([store] backend = \"sparql\")",
              file=sys.stderr)
        return 2
    if workers > 1 and config.data_dir is None:
        print(f"dds-pod: --workers {workers} needs data_dir: the processes share the files and the search index kept "
              "there (without it, each would keep its own in memory)", file=sys.stderr)
        return 2
    for name in config.pods:
        print(f"pod {name}: {config.pod_url(name)}  (a browser gets HTML; Accept: application/ld+json gets JSON-LD)",
              file=sys.stderr)
    print(f"ontology: {config.base_url}ns   shapes: {config.base_url}shapes   SPARQL: {config.base_url}sparql   "
          f"catalogue: {config.base_url}catalog", file=sys.stderr)
    try:
        sock = socket.create_server((host, port), backlog=1024)
    except OSError as exc:
        print(f"dds-pod: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 2
    threads = threads or config.server.threads
    with sock:  # the first process seeds the empty pods: the others would find them empty too, at the same time
        return Supervisor([functools.partial(_serve_in_child, config, sock, threads, seeds if n == 0 else [])
                           for n in range(workers)]).run()


def work(config: Config) -> int:
    """``dds-pod worker``: a process that serves no request and runs the node's jobs (or takes them over when the
    process running them ends), supervised."""
    if not shared_between_processes(config.store):
        print(f"dds-pod: worker: the {config.store.backend!r} store belongs to the serving process, which runs the "
              "node's jobs itself; a worker needs a store on a SPARQL engine ([store] backend = \"sparql\")",
              file=sys.stderr)
        return 2
    return Supervisor(lambda: _work_in_child(config), name="dds-pod-worker").run()


def _work_in_child(config: Config) -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _exit)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    try:
        serving = ServingNode(config, serves_requests=False)
    except ConfigError as exc:
        print(f"dds-pod: {exc.message}", file=sys.stderr)
        sys.exit(EXIT_FATAL)
    serving.start()
    try:
        signal.pause()  # until SIGTERM: _exit raises SystemExit here
    finally:
        serving.stop()


def _serve_in_child(config: Config, sock: socket.socket, threads: int, seeds: list[tuple[str, str, Path]]) -> None:
    """The serving process: build the node, seed its empty pods, start its background tasks, serve until SIGTERM."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _exit)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    try:
        serving = ServingNode(config)  # the node refuses what the configuration's reader cannot judge alone
    except ConfigError as exc:
        print(f"dds-pod: {exc.message}", file=sys.stderr)
        sys.exit(EXIT_FATAL)
    try:
        _seed(serving, seeds)
    except ConfigError as exc:
        print(f"dds-pod: {exc.message}", file=sys.stderr)
        serving.stop()
        sys.exit(EXIT_FATAL)
    except StoreUnavailable as exc:  # the supervisor starts this process again, which seeds then
        print(f"dds-pod: the pods cannot be seeded yet: {exc.message}", file=sys.stderr)
        serving.stop()
        sys.exit(1)
    serving.start()
    body_limit = max(config.max_body_bytes, config.max_file_bytes)  # files may be larger than RDF documents
    server = DeadlineServer(serving.app, sock, config.server, threads, body_limit)
    try:
        server.run()  # returns on SystemExit, once waitress's threads have finished their requests
    finally:
        serving.stop()


def _seed(serving: ServingNode, seeds: list[tuple[str, str, Path]]) -> None:
    from .demo import seed_source

    if not seeds:
        return
    node = serving.node
    empty = {name for name, pod in node.pods.items() if pod.feed.last_sequence() == 0}
    for pod_name, kind, path in seeds:
        if pod_name in empty:
            written = seed_source(node, pod_name, kind, path, node.config.import_settings.pseudonym_key)
            print(f"seeded {pod_name}: {written} documents from {path} ({kind})", file=sys.stderr)


def _exit(signum: int, frame) -> None:
    """The first SIGTERM or SIGINT ends serving; later ones (a process group signalled, then the supervisor
    forwarding) must not interrupt the closing of the stores."""
    for ignored in (signal.SIGTERM, signal.SIGINT):
        signal.signal(ignored, signal.SIG_IGN)
    sys.exit(0)
