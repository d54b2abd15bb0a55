"""Real ``dds-pod serve`` processes on loopback ports, for the end-to-end tests and the benchmarks (as ``flask.testing``
serves Flask's tests): a configuration writer, a process that starts, stops and is killed, a loopback HTTP server, and
an Oxigraph SPARQL server for the ``sparql`` store backend, with the engines every node of a test run may be moved
onto (:class:`EngineSet`), and a PostgreSQL server for the ``postgres`` search backend."""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import requests

TOKENS = {"bordeaux": "bordeaux-secret-token", "paris": "paris-secret-token"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps the test output free of access logs."""

    def log_message(self, *args) -> None:
        pass


class Loopback:
    """A threaded HTTP server on a free loopback port, serving ``handler`` until closed."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def write_config(directory: Path, port: int, data_dir: Path | None = None, page_size: int = 100,
                 max_body_bytes: int | None = None, cors_origins: list[str] | None = None,
                 free_rdf: list[str] | None = None, files: dict | None = None) -> Path:
    """A node with the bordeaux and paris pods; ``cors_origins`` are the browser origins trusted with credentials,
    ``free_rdf`` the bordeaux pod's containers that accept any RDF, ``files`` the ``[files]`` table (keys to JSON
    values, which TOML reads alike)."""
    lines = [f'base_url = "http://127.0.0.1:{port}/"', f"page_size = {page_size}"]
    if data_dir is not None:
        lines.append(f'data_dir = "{data_dir}"')
    if max_body_bytes is not None:
        lines.append(f"max_body_bytes = {max_body_bytes}")
    if cors_origins is not None:
        lines.append(f"cors_origins = {json.dumps(cors_origins)}")
    if files is not None:
        lines += ["[files]", *(f"{key} = {json.dumps(value)}" for key, value in files.items())]
    lines += [
        "[pods.bordeaux]", 'title = "Bordeaux Métropole (Decidim)"',
        'platform = "https://participation.bordeaux-metropole.example"', f'token = "{TOKENS["bordeaux"]}"',
        *([f"free_rdf = {json.dumps(free_rdf)}"] if free_rdf is not None else []),
        "[pods.paris]", 'title = "Paris (Decidim)"', 'platform = "https://decidim.paris.example"',
        'token_env = "DDS_TEST_TOKEN_PARIS"',
    ]
    path = directory / f"node-{port}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def demo_config(root: Path, directory: Path, port: int) -> tuple[Path, list[str]]:
    """The demo node of ``make run`` on ``port``: its configuration, written into ``directory`` with that port, and
    the ``--seed`` arguments of ``examples/demo-seeds.txt`` (paths made absolute from the checkout ``root``)."""
    text = (root / "examples" / "demo.toml").read_text(encoding="utf-8")
    text = text.replace("127.0.0.1:8000/", f"127.0.0.1:{port}/").replace('"../data/', f'"{root}/data/')
    config = directory / f"demo-{port}.toml"
    config.write_text(text, encoding="utf-8")
    seeds = []
    for line in (root / "examples" / "demo-seeds.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            pod, _, source = line.partition("=")
            kind, _, path = source.rpartition(":")
            seeds += ["--seed", f"{pod}={kind + ':' if kind else ''}{root / path}"]
    return config, seeds


def terminate(process: subprocess.Popen) -> None:
    """SIGTERM to a process started in its own group, SIGKILL if it has not ended 10 s later."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


class ServerProcess:
    """A node served by ``dds-pod serve`` in a subprocess; its stderr is kept for inspection."""

    def __init__(self, config: Path, port: int, log: Path, extra_args: Sequence[str] = ()) -> None:
        self.config, self.port, self.log_path = config, port, log
        self.extra_args = list(extra_args)
        self.url = f"http://127.0.0.1:{port}/"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30, status: int = 200) -> ServerProcess:
        """Start the node and wait until its root answers ``status`` (503: a node waiting for its store)."""
        if _engines is not None:
            _engines.serve(self.config)
        env = {**os.environ, "DDS_TEST_TOKEN_PARIS": TOKENS["paris"]}
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dds_pod.cli", "serve", "--config", str(self.config), "--port", str(self.port),
             *self.extra_args],
            stdout=self._log, stderr=self._log, env=env, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            try:
                if requests.get(self.url, timeout=1).status_code == status:
                    return self
            except requests.RequestException:  # not listening yet, or too busy to answer in time
                time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log_path.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, as in a crash."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self._log.close()

    def stop(self) -> None:
        """A clean shutdown; the engines of a node moved onto them (:class:`EngineSet`) stop with it."""
        if self.process:
            terminate(self.process)
        self._log.close()
        if _engines is not None:
            _engines.release(self.config)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def oxigraph_command() -> str | None:
    """The ``oxigraph`` command of PyPI's ``oxigraph`` package (a test extra): beside this Python, else on PATH."""
    beside = Path(sys.executable).parent / "oxigraph"
    return str(beside) if beside.exists() else shutil.which("oxigraph")


class OxigraphServer:
    """``oxigraph serve`` on a free loopback port, keeping its data in ``location`` across a stop and a start."""

    def __init__(self, location: Path, log: Path) -> None:
        command = oxigraph_command()
        if command is None:
            raise RuntimeError("the oxigraph command is missing: pip install oxigraph")
        self.command, self.location, self.log_path = command, location, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.process: subprocess.Popen | None = None

    @property
    def query_url(self) -> str:
        return self.url + "query"

    @property
    def update_url(self) -> str:
        return self.url + "update"

    def load(self, quads: Iterable[ox.Quad]) -> None:
        """Add quads to the dataset through the Graph Store Protocol, as a data import would."""
        body = ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
        requests.post(self.url + "store", data=body, headers={"Content-Type": "application/n-quads"},
                      timeout=30).raise_for_status()

    def start(self, timeout: float = 30) -> OxigraphServer:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [self.command, "serve", "--location", str(self.location), "--bind", f"127.0.0.1:{self.port}"],
                stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"oxigraph exited: {self.log_path.read_text(errors='replace')}")
            try:
                requests.get(self.query_url, params={"query": "ASK {}"}, timeout=1).raise_for_status()
                return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"oxigraph did not start: {self.log_path.read_text(errors='replace')}")

    def stop(self) -> None:
        if self.process:
            terminate(self.process)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def pause(self) -> None:
        """SIGSTOP: the engine keeps its connections open and answers nothing, as an engine stuck on a lock."""
        if self.process:
            os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.process:
            os.killpg(self.process.pid, signal.SIGCONT)


class SilentServer:
    """A loopback TCP server that accepts every connection and never answers: an engine that hangs. ``accepted``
    counts the connections it took."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}/"
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def query_url(self) -> str:
        return self.url + "query"

    @property
    def update_url(self) -> str:
        return self.url + "update"

    def _accept(self) -> None:
        while not self._closed:
            try:
                connection, _ = self._socket.accept()
            except OSError:  # closed
                return
            self.accepted += 1
            self._held.append(connection)

    def close(self) -> None:
        self._closed = True
        self._socket.close()
        for connection in self._held:
            connection.close()


class VirtuosoServer:
    """``virtuoso-t`` (Debian's virtuoso-opensource) in the foreground on free loopback ports, its database in
    ``folder``, Debian's configuration with more threads and buffers; its anonymous SPARQL user may update."""

    def __init__(self, folder: Path) -> None:
        command = virtuoso_command()
        if command is None:
            raise RuntimeError("virtuoso-t is missing: apt-get install virtuoso-opensource")
        self.command = command
        folder.mkdir(parents=True)
        self.folder, self.sql_port, self.http_port = folder, free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.http_port}/"
        self.process: subprocess.Popen | None = None
        ini = VIRTUOSO_INI.read_text(encoding="utf-8").replace("/var/lib/virtuoso-opensource-7/db/", f"{folder}/")
        settings = {"ServerPort": None, "MaxClientConnections": "40", "ServerThreads": "40",
                    "NumberOfBuffers": "20000", "MaxDirtyBuffers": "15000"}
        lines, section = [], ""
        for line in ini.splitlines():
            if line.startswith("["):
                section = line.strip()
            key = line.split("=", 1)[0].strip()
            if key == "ServerPort":
                port = self.sql_port if section == "[Parameters]" else self.http_port
                line = f"ServerPort = 127.0.0.1:{port}" if section in ("[Parameters]", "[HTTPServer]") else line
            elif key in settings and settings[key] is not None:
                line = f"{key} = {settings[key]}"
            lines.append(line)
        (folder / "virtuoso.ini").write_text("\n".join(lines) + "\n", encoding="utf-8")

    @property
    def query_url(self) -> str:
        return self.url + "sparql"

    update_url = query_url

    def start(self, timeout: float = 120) -> VirtuosoServer:
        with (self.folder / "out.log").open("ab") as log:
            self.process = subprocess.Popen([self.command[0], "-f", "-c", str(self.folder / "virtuoso.ini")],
                                            cwd=self.folder, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"virtuoso exited: {(self.folder / 'out.log').read_text(errors='replace')}")
            try:
                requests.get(self.query_url, params={"query": "ASK {}"}, timeout=1).raise_for_status()
                break
            except requests.RequestException:
                time.sleep(0.3)
        else:
            raise RuntimeError("virtuoso did not start")
        subprocess.run([self.command[1], f"127.0.0.1:{self.sql_port}", "dba", "dba"], text=True,
                       input='GRANT SPARQL_UPDATE TO "SPARQL";\n', capture_output=True, check=True, timeout=30)
        return self

    def stop(self) -> None:
        if self.process:
            terminate(self.process)


def virtuoso_command() -> tuple[str, str] | None:
    """Virtuoso's server and its SQL client, when installed (``apt-get install virtuoso-opensource``)."""
    server, client = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    return (server, client) if server and client and VIRTUOSO_INI.exists() else None


Engine = OxigraphServer | SilentServer | VirtuosoServer


def sparql_store_table(pods: Engine, federation: Engine, timeout_s: float = 5, lock_dir: Path | None = None,
                       dialect: str | None = None) -> str:
    """The ``[store]`` table of a node whose pods and merged graph live on two engines (Oxigraph or Virtuoso
    servers, or one that hangs); ``lock_dir``: the folder of its processes' write locks; ``dialect`` the engines'
    (:mod:`dds_pod.store.dialects`), when not Oxigraph's."""
    return "\n".join([
        "[store]", 'backend = "sparql"', *([f'dialect = "{dialect}"'] if dialect else []),
        f'query_url = "{pods.query_url}"', f'update_url = "{pods.update_url}"',
        f"timeout_s = {timeout_s}", *([f'lock_dir = "{lock_dir}"'] if lock_dir is not None else []),
        "[store.federation]", f'query_url = "{federation.query_url}"',
        f'update_url = "{federation.update_url}"', ""])


def postgres_bindir() -> Path | None:
    """The folder of PostgreSQL's server programs (``initdb``, ``postgres``): ``pg_config --bindir``, else the newest
    of Debian's ``/usr/lib/postgresql/*/bin``; None when PostgreSQL is not installed."""
    config = shutil.which("pg_config")
    if config:
        found = subprocess.run([config, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if found and (Path(found) / "initdb").exists():
            return Path(found)
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(path.split("/")[4]))
    return Path(folders[-1]).parent if folders else None


class PostgresServer:
    """A throw-away PostgreSQL cluster on a free loopback port: ``initdb`` into a temporary folder, then ``postgres``
    listening on 127.0.0.1 (and a socket in that folder). PostgreSQL refuses to run as root: as root, the cluster
    belongs to, and runs as, the ``postgres`` system user. Its data survive a stop and a start; ``durable=False``
    (for tests) skips flushing them to disk."""

    SUPERUSER = "dds"

    def __init__(self, log: Path, durable: bool = False) -> None:
        bindir = postgres_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed: make postgresql (Debian's postgresql package)")
        self.bindir, self.log_path, self.durable = bindir, log, durable
        # The server's own user must reach its folder: a fresh one under /tmp, not a test's private tmp_path.
        self.directory = Path(tempfile.mkdtemp(prefix="dds-postgres-"))
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self._initdb()

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} dbname=postgres user={self.SUPERUSER}"

    def _as_owner(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _initdb(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        subprocess.run([*self._as_owner(), str(self.bindir / "initdb"), "-D", str(self.directory / "data"), "-U",
                        self.SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale", "C.UTF-8", "--no-sync"],
                       check=True, capture_output=True)

    def start(self, timeout: float = 30) -> PostgresServer:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*self._as_owner(), str(self.bindir / "postgres"), "-D", str(self.directory / "data"), "-k",
                 str(self.directory), "-p", str(self.port), "-h", "127.0.0.1", "-c", "max_connections=100",
                 *([] if self.durable else ["-c", "fsync=off"])], stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited: {self.log_path.read_text(errors='replace')}")
            ready = subprocess.run([str(self.bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
                                   check=False)
            if ready.returncode == 0:
                return self
            time.sleep(0.1)
        raise RuntimeError(f"postgres did not start: {self.log_path.read_text(errors='replace')}")

    def stop(self) -> None:
        """A "fast" shutdown (SIGINT: clients are disconnected, where SIGTERM waits for them), SIGKILL past 10 s."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                terminate(self.process)
        self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def postgres_search_table(server: PostgresServer, schema: str = "dds_search", statement_timeout_s: float = 5,
                          connect_timeout_s: float = 5) -> str:
    """The ``[search]`` table of a node whose index lives on ``server``, in ``schema``."""
    return "\n".join(["[search]", 'backend = "postgres"', f'dsn = "{server.dsn}"', f'schema = "{schema}"',
                      f"statement_timeout_s = {statement_timeout_s}", f"connect_timeout_s = {connect_timeout_s}", ""])



class EngineSet:
    """Two Oxigraph servers for each node a test run starts, whose configuration is given its ``[store]`` table.

    Under ``pytest --store=sparql`` every node of the end-to-end suites is moved onto engines of its own: the node's
    graphs include fixed names (``urn:dds:meta``, its inbox, its outbox), so two nodes could not share a dataset, and
    a node's engines must outlive it to give a restarted node its data back. They are found again by the node's
    configuration file: a node started again (even by another :class:`ServerProcess`) finds its engines, started
    again on their folders if its clean stop had stopped them; a killed node leaves them running, as a crash of a
    node leaves its engine up. A configuration that names a store of its own is left alone."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._engines: dict[Path, tuple[OxigraphServer, OxigraphServer]] = {}

    def serve(self, config: Path) -> tuple[OxigraphServer, OxigraphServer] | None:
        """Make sure the engines of the node of ``config`` answer, the first time appending its ``[store]`` table;
        they are its pods' and its merged graph's (None: the configuration names a store of its own)."""
        key = config.resolve()
        engines = self._engines.get(key)
        names_a_store = STORE_TABLE.search(config.read_text(encoding="utf-8")) is not None
        if engines is None:
            if names_a_store:
                return None
            folder = self.directory / f"engines-{len(self._engines)}"
            folder.mkdir(parents=True)
            engines = (OxigraphServer(folder / "pods", folder / "pods.log"),
                       OxigraphServer(folder / "merged", folder / "merged.log"))
            self._engines[key] = engines
        if not names_a_store:  # the first start, or a test wrote the configuration again
            with config.open("a", encoding="utf-8") as file:
                file.write("\n" + sparql_store_table(*engines))
        for engine in engines:
            if not engine.alive:
                engine.start()
        return engines

    def release(self, config: Path) -> None:
        """The node of ``config`` stopped cleanly: so do its engines, their data kept for a later start."""
        for engine in self._engines.get(config.resolve(), ()):
            engine.stop()

    def close(self) -> None:
        for engines in self._engines.values():
            for engine in engines:
                engine.stop()


_engines: EngineSet | None = None
VIRTUOSO_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
STORE_TABLE = re.compile(r"^\[store\]", re.MULTILINE)


def serve_on_engines(engines: EngineSet | None) -> None:
    """From now on, every :class:`ServerProcess` runs its node on ``engines`` (None: on the store its
    configuration names, embedded by default)."""
    global _engines
    _engines = engines


def node_engines(config: Path) -> tuple[OxigraphServer, OxigraphServer] | None:
    """The engines, started, that the node of ``config`` will run on (its pods', its merged graph's), so that a test
    can fill them before the node starts; None when the node keeps the store its configuration names."""
    return _engines.serve(config) if _engines is not None else None


class ChatReply:
    """What the fake chat server answers to one request: an assistant message (``content``), or raw ``body``
    bytes, with a status, after ``delay_s``."""

    def __init__(self, content: str | None = None, *, status: int = 200, body: bytes | None = None,
                 delay_s: float = 0.0) -> None:
        completion = {"id": "fake", "object": "chat.completion", "model": "fake",
                      "choices": [{"index": 0, "finish_reason": "stop",
                                   "message": {"role": "assistant", "content": content}}]}
        self.body = body if body is not None else json.dumps(completion).encode()
        self.status, self.delay_s = status, delay_s


class FakeChatServer:
    """An OpenAI-compatible chat server on loopback (``POST /v1/chat/completions``) answering from a script: a
    function of the request's JSON body giving a :class:`ChatReply`. Every request is kept, with its headers, so
    that a test can check what was sent."""

    def __init__(self, script: Callable[[dict], ChatReply]) -> None:
        self.script = script
        self.requests: list[tuple[dict, dict[str, str]]] = []
        self.loopback = Loopback(self._handler())
        self.url = self.loopback.url

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append((request, dict(self.headers)))
                reply = fake.script(request) if self.path == "/v1/chat/completions" else ChatReply(status=404)
                time.sleep(reply.delay_s)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:  # the client gave up waiting
                    pass

        return Handler

    def close(self) -> None:
        self.loopback.close()
