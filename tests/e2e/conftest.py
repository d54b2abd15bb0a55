"""Fixtures that start real servers; tests talk HTTP to them."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
import requests

from dds_pod.testing import (
    TOKENS,
    EngineSet,
    ServerProcess,
    free_port,
    oxigraph_command,
    serve_on_engines,
    write_config,
)

from ..conftest import EXAMPLES, tool_missing

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session", autouse=True)
def store_engines(request, tmp_path_factory) -> Iterator[EngineSet | None]:
    """Under ``--store=sparql``, every node the tests start runs on two Oxigraph servers of its own, started with it
    and stopped at its clean stop or at the end of the session."""
    if request.config.getoption("store") != "sparql":
        yield None
        return
    if oxigraph_command() is None:
        tool_missing("--store=sparql needs the oxigraph command: pip install oxigraph")
    engines = EngineSet(tmp_path_factory.mktemp("engines"))
    serve_on_engines(engines)
    yield engines
    serve_on_engines(None)
    engines.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[ServerProcess]:
    """One node with two pods (bordeaux, paris), shared by the session: on an in-memory store, or on Oxigraph
    servers under ``--store=sparql``."""
    directory = tmp_path_factory.mktemp("node")
    port = free_port()
    process = ServerProcess(write_config(directory, port, page_size=5), port, directory / "server.log").start()
    yield process
    process.stop()


@pytest.fixture
def base(server) -> str:
    return server.url


def auth(pod: str = "bordeaux") -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[pod]}"}


JSONLD = {"Content-Type": "application/ld+json"}
ACCEPT_JSONLD = {"Accept": "application/ld+json"}  # a pod answers Turtle to a client that states no preference


def example(name: str) -> dict:
    """An example document without its "id", ready to POST."""
    document = json.loads((EXAMPLES / "valid" / f"{name}.jsonld").read_text(encoding="utf-8"))
    document.pop("id", None)
    return document


def post(base: str, container: str, document: dict, slug: str | None = None, pod: str = "bordeaux",
         **headers) -> requests.Response:
    extra = {"Slug": slug} if slug else {}
    return requests.post(f"{base}{pod}/{container}", data=json.dumps(document),
                         headers={**JSONLD, **auth(pod), **extra, **headers}, timeout=10)


Found = TypeVar("Found")


def until(check: Callable[[], Found], timeout: float = 20.0) -> Found:
    """What ``check`` gives once it is truthy, polling (the node harvests and indexes in the background); its
    last answer, falsy, when ``timeout`` seconds pass first: the caller asserts on it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    return check()


@pytest.fixture(scope="module")
def chromium() -> str:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        tool_missing(f"{CHROMIUM} is missing: install Debian's chromium with `apt-get install chromium` "
                     "(`make test` does it when run as root with apt-get)")
    return CHROMIUM
