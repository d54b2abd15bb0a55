"""The sandbox: a forked child with a deadline, a memory budget and no network, and the slots that bound children.

The network tests use a canary HTTP server on loopback that counts requests: what runs in a child must not
reach it even when the checks of the parsed query or update are taken away.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator

import pyoxigraph as ox
import pytest

from dds_pod import sandbox
from dds_pod.errors import BadDocument, DDSError
from dds_pod.federation import sparql
from dds_pod.federation.sparql import Limits, QueryService
from dds_pod.ldp import patch
from dds_pod.sparql_checks import CheckedQuery
from dds_pod.store.oxigraph import OxigraphStore
from dds_pod.testing import Loopback, QuietHandler

LIMITS = sandbox.Limits(timeout_s=5)
needs_namespaces = pytest.mark.skipif(not sandbox.empty_network(),
                                      reason="this kernel or container refuses network namespaces")


class Counting(QuietHandler):
    count = 0

    def do_GET(self) -> None:
        type(self).count += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET


@pytest.fixture
def canary() -> Iterator[Loopback]:
    Counting.count = 0
    server = Loopback(Counting)
    yield server
    server.close()


def test_the_canary_counts_what_reaches_it(canary):
    urllib.request.urlopen(canary.url, timeout=5).read()
    assert Counting.count == 1


# ------------------------------------------------------------------- no network

@needs_namespaces
def test_a_child_runs_in_another_network_namespace():
    own = os.readlink("/proc/self/ns/net")
    assert sandbox.run(lambda: os.readlink("/proc/self/ns/net").encode(), LIMITS).decode() != own


@needs_namespaces
def test_a_child_cannot_reach_a_loopback_server(canary):
    def fetch() -> bytes:
        return urllib.request.urlopen(canary.url, timeout=5).read()

    with pytest.raises(sandbox.Crashed, match=r"unreachable|refused"):
        sandbox.run(fetch, LIMITS)
    assert Counting.count == 0


@needs_namespaces
def test_service_that_got_past_the_check_still_reaches_nothing(canary, monkeypatch):
    """With the parsed check taken away, pyoxigraph evaluates SERVICE in the child: no packet leaves it."""
    monkeypatch.setattr(sparql, "check_query", lambda text: CheckedQuery(has_dataset_clause=False))
    service = QueryService(OxigraphStore(), "http://node.example/sparql", Limits(timeout_s=10), isolate=True)
    with pytest.raises(DDSError) as caught:
        service.run(f"SELECT * WHERE {{ SERVICE <{canary.url}> {{ ?s ?p ?o }} }}")
    assert caught.value.status >= 500
    assert Counting.count == 0
    assert service.run("ASK {}").body  # the service goes on answering


@needs_namespaces
def test_load_that_got_past_the_check_still_reaches_nothing(canary, monkeypatch):
    monkeypatch.setattr(patch, "check_resource_update", lambda text: None)
    with pytest.raises(DDSError):
        patch.apply_sparql_update([], f"LOAD <{canary.url}data.ttl>", "http://pod.example/bordeaux/proposals/1")
    assert Counting.count == 0


def test_without_namespaces_children_run_with_the_network_and_that_is_logged(canary, monkeypatch, caplog):
    monkeypatch.setattr(sandbox, "_made_network", lambda: ())
    sandbox.empty_network.cache_clear()
    try:
        with caplog.at_level(logging.ERROR, logger="dds_pod.sandbox"):
            assert sandbox.empty_network() == ()
            assert sandbox.run(lambda: urllib.request.urlopen(canary.url, timeout=5).read() or b"reached",
                               LIMITS) == b"reached"
    finally:
        sandbox.empty_network.cache_clear()
    assert "cannot be put in a network namespace" in caplog.text
    assert Counting.count == 1


# ------------------------------------------------------------------- outcomes

def test_the_bytes_of_the_work_come_back_whole():
    body = bytes(range(256)) * 1000
    assert sandbox.run(lambda: body, LIMITS) == body


def test_an_error_the_caller_names_comes_back_as_it_was_raised():
    def refuse() -> bytes:
        raise BadDocument("no such thing", field="title")

    with pytest.raises(BadDocument, match="no such thing") as caught:
        sandbox.run(refuse, LIMITS, errors=(BadDocument,))
    assert caught.value.field == "title"


def test_an_error_the_caller_does_not_name_is_a_crash():
    def fail() -> bytes:
        raise KeyError("oops")

    with pytest.raises(sandbox.Crashed, match="oops"):
        sandbox.run(fail, LIMITS)
    with pytest.raises(sandbox.Crashed, match="no such thing"):
        sandbox.run(lambda: (_ for _ in ()).throw(BadDocument("no such thing")), LIMITS)


def test_a_child_that_aborts_ran_out_of_memory_and_one_that_crashes_failed():
    def die(signal_number: int):
        def work() -> bytes:
            os.kill(os.getpid(), signal_number)
            return b""
        return work

    with pytest.raises(sandbox.OutOfMemory):
        sandbox.run(die(signal.SIGABRT), LIMITS)
    with pytest.raises(sandbox.Crashed, match="SIGSEGV"):
        sandbox.run(die(signal.SIGSEGV), LIMITS)


def test_an_absurd_memory_budget_leaves_children_working():
    assert sandbox.run(lambda: b"ok", sandbox.Limits(memory_mb=2**44)) == b"ok"


def test_over_the_memory_budget_is_out_of_memory():
    with pytest.raises(sandbox.OutOfMemory):
        sandbox.run(lambda: b"x" * (256 * 1024 * 1024), sandbox.Limits(timeout_s=10, memory_mb=32))


def test_over_the_deadline_the_child_is_killed_and_reaped():
    started = []

    def forever() -> bytes:
        while True:
            time.sleep(1)

    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            started.append(pid)
        return pid

    sandbox.empty_network()  # made before counting the forks of this test
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(os, "fork", fork)
        with pytest.raises(sandbox.OverTime, match=r"0\.5 s limit"):
            sandbox.run(forever, sandbox.Limits(timeout_s=0.5))
    assert len(started) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(started[0], os.WNOHANG)


def test_output_over_the_limit_is_refused():
    with pytest.raises(sandbox.OverSize, match="1000 bytes"):
        sandbox.run(lambda: b"x" * 200_000, sandbox.Limits(max_output_bytes=1000))


def test_without_fork_the_work_runs_in_a_thread_with_the_same_deadline():
    assert sandbox.run(lambda: b"ok", LIMITS, isolate=False) == b"ok"
    with pytest.raises(sandbox.OverTime):
        sandbox.run(lambda: time.sleep(5) or b"", sandbox.Limits(timeout_s=0.2), isolate=False)


def test_a_patch_in_the_sandbox_keeps_blank_nodes():
    node = ox.BlankNode()
    resource = "http://pod.example/bordeaux/proposals/1"
    state = [ox.Triple(ox.NamedNode(resource), ox.NamedNode("http://purl.org/dc/terms/hasPart"), node)]
    after = patch.apply_sparql_update(state, "INSERT DATA { <> <http://purl.org/dc/terms/title> 'x' }", resource)
    assert after[0] == state[0]


# ------------------------------------------------------------------- slots

def test_a_caller_beyond_the_slots_is_busy_until_one_frees():
    slots = sandbox.Slots(1, wait_s=0.05, retry_after_s=3)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with slots.held():
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(10)
    with pytest.raises(sandbox.Busy, match="all 1 evaluation slots") as caught, slots.held():
        pass
    assert caught.value.status == 503 and caught.value.retry_after_s == 3
    release.set()
    thread.join(10)
    with slots.held():
        pass  # free again


def test_a_slot_is_given_back_when_the_work_fails():
    slots = sandbox.Slots(1, wait_s=0.05)
    with pytest.raises(RuntimeError), slots.held():
        raise RuntimeError("failed")
    with slots.held():
        pass


def test_a_child_yields_the_cpu_to_the_server():
    """A heavy query runs below the request threads' priority, so plain reads keep their CPU."""
    server = os.nice(0)
    child = int(sandbox.run(lambda: str(os.nice(0)).encode(), LIMITS))
    assert child == min(server + sandbox.CHILD_NICENESS, 19)
