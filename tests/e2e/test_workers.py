"""Several processes serving one node on Oxigraph servers: writes spread over them keep the change feed whole and
If-Match exact, the node's jobs run in one process and are taken over when it is killed, ``--workers N`` runs and
restarts N processes, and a store one process owns refuses more than one."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from rdflib import Graph, Namespace, URIRef
from websockets.sync.client import connect

from dds_pod.testing import (
    TOKENS,
    OxigraphServer,
    ServerProcess,
    free_port,
    oxigraph_command,
    sparql_store_table,
    write_config,
)

from ..conftest import REPO
from .conftest import JSONLD, auth, example

AS = Namespace("https://www.w3.org/ns/activitystreams#")
DDS = Namespace("https://w3id.org/dds/ns#")
JOBS_LINE = re.compile(r"the node's jobs run in this process \(pid (\d+)\)")


class Engines:
    def __init__(self, directory: Path) -> None:
        self.pods = OxigraphServer(directory / "pods", directory / "pods.log").start()
        self.federation = OxigraphServer(directory / "federation", directory / "federation.log").start()

    def stop(self) -> None:
        self.pods.stop()
        self.federation.stop()


@pytest.fixture(scope="module")
def engines(tmp_path_factory) -> Iterator[Engines]:
    if oxigraph_command() is None:
        pytest.skip("the oxigraph command is missing: pip install oxigraph (a test extra of dds-pod)")
    engines = Engines(tmp_path_factory.mktemp("engines"))
    yield engines
    engines.stop()


def node_config(directory: Path, engines: Engines, port: int, *extra: str) -> Path:
    """A node named by ``port`` that federates its own paris pod, harvested every half second, on the engines."""
    config = write_config(directory, port, data_dir=directory / "data", page_size=5)
    federation = ["[federation]", f'members = ["http://127.0.0.1:{port}/paris/"]', "interval_s = 0.5",
                  "fetch_timeout_s = 2", 'allow_networks = ["127.0.0.0/8"]']
    table = sparql_store_table(engines.pods, engines.federation, timeout_s=5, lock_dir=directory / "locks")
    with config.open("a", encoding="utf-8") as file:
        file.write("\n".join([*extra, *federation, table]))
    return config


class Processes:
    """Three ``dds-pod serve`` processes of one node, each on its own port; the node's IRIs name the second's.
    The first is started alone, so that it is the one that runs the jobs."""

    def __init__(self, directory: Path, engines: Engines) -> None:
        ports = [free_port() for _ in range(3)]
        config = node_config(directory, engines, ports[1])
        self.all = [ServerProcess(config, port, directory / f"serve-{n}.log") for n, port in enumerate(ports)]
        self.all[0].start()
        until(lambda: self.jobs_runners() == [self.all[0]])
        for process in self.all[1:]:
            process.start()

    def alive(self) -> list[ServerProcess]:
        return [process for process in self.all if process.alive]

    def jobs_runners(self) -> list[ServerProcess]:
        """The living processes whose log says they run the node's jobs."""
        return [process for process in self.alive() if JOBS_LINE.search(process.log())]

    def stop(self) -> None:
        for process in self.all:
            if process.alive:
                process.stop()


@pytest.fixture(scope="module")
def processes(engines, tmp_path_factory) -> Iterator[Processes]:
    processes = Processes(tmp_path_factory.mktemp("processes"), engines)
    yield processes
    processes.stop()


def until(condition: Callable[[], object], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("the condition did not hold in time")
        time.sleep(0.2)


def post_to(process: ServerProcess, container: str, document: dict, pod: str = "bordeaux") -> requests.Response:
    return requests.post(f"{process.url}{pod}/{container}", data=json.dumps(document),
                         headers={**JSONLD, **auth(pod)}, timeout=30)


def feed(process: ServerProcess, pod: str) -> Graph:
    response = requests.get(f"{process.url}{pod}/changes/", params={"since": 0, "limit": 1000},
                            headers={"Accept": "text/turtle"}, timeout=10)
    assert response.status_code == 200, response.text
    return Graph().parse(data=response.text, format="turtle")


def engine_holds(engine: OxigraphServer, iri: str) -> bool:
    response = requests.get(engine.query_url, params={"query": f"ASK {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"},
                            headers={"Accept": "application/sparql-results+json"}, timeout=5)
    return bool(response.json()["boolean"])


def searched(process: ServerProcess, text: str) -> str:
    response = requests.get(f"{process.url}federation/proposals/", params={"q": text, "limit": 100},
                            headers={"Accept": "application/ld+json"}, timeout=10)
    assert response.status_code == 200, response.text
    return response.text


def at_once(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Run the calls in threads released together, so that their requests reach the processes at the same time."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], requests.Response]) -> requests.Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_posts_spread_over_processes_get_distinct_sequences_without_gaps(processes):
    document = example("proposal-community-garden")
    writes = 45
    targets = [processes.all[n % 3] for n in range(writes)]
    answers = at_once([lambda target=target: post_to(target, "proposals/", document) for target in targets])
    refused = [answer.text for answer in answers if answer.status_code != 201]
    assert not refused
    locations = {answer.headers["Location"] for answer in answers}
    assert len(locations) == writes
    graph = feed(processes.all[2], "bordeaux")
    sequences = sorted(int(value) for value in graph.objects(None, DDS.sequence))
    assert sequences == list(range(1, len(sequences) + 1)), "every sequence once, none skipped"
    events = set(graph.subjects(AS.object, None))
    assert len(events) == len(sequences)
    shared = [event for event in events if len(set(graph.objects(event, AS.object))) != 1]
    assert not shared, "two writes were given the same sequence"
    objects = [str(graph.value(event, AS.object)) for event in events]
    assert sorted(iri for iri in objects if iri in locations) == sorted(locations), "one event per write"


def test_concurrent_puts_with_one_if_match_one_wins_the_others_get_412(processes):
    created = post_to(processes.all[0], "proposals/", example("proposal-community-garden"))
    location = created.headers["Location"]
    path = location.split("/", 3)[3]
    etag = requests.get(location, headers={"Accept": "application/ld+json"}, timeout=10).headers["ETag"]

    def put(process: ServerProcess, count: int) -> Callable[[], requests.Response]:
        document = dict(example("proposal-community-garden"), supportCount=count)
        return lambda: requests.put(f"{process.url}{path}", data=json.dumps(document),
                                    headers={**JSONLD, **auth(), "If-Match": etag}, timeout=30)

    answers = at_once([put(processes.all[n % 3], n + 1) for n in range(9)])
    statuses = sorted(answer.status_code for answer in answers)
    assert sum(status in (200, 204) for status in statuses) == 1, statuses
    assert statuses.count(412) == 8, statuses
    winner = next(n + 1 for n, answer in enumerate(answers) if answer.status_code in (200, 204))
    stored = requests.get(location, headers={"Accept": "application/ld+json"}, timeout=10).json()
    assert stored["supportCount"] == winner, "the stored state is the one write that was accepted"
    updates = [event for event in feed(processes.all[1], "bordeaux").subjects(AS.object, URIRef(location))]
    assert len(updates) == 2, "its creation and the one update: no lost or extra event"


def test_a_subscriber_of_one_process_hears_a_write_made_through_another(processes):
    listener, writer = processes.all[2], processes.all[1]
    container = f"{processes.all[1].url}bordeaux/proposals/"  # the node's IRIs name the second process's port
    service = f"{listener.url}.notifications/WebSocketChannel2023/"
    body = {"@context": ["https://www.w3.org/ns/solid/notification/v1"],
            "type": "http://www.w3.org/ns/solid/notifications#WebSocketChannel2023", "topic": container}
    channel = requests.post(service, data=json.dumps(body), headers=JSONLD, timeout=10)
    assert channel.status_code == 200, channel.text
    with connect(channel.json()["receiveFrom"]) as socket:
        created = post_to(writer, "proposals/", example("proposal-community-garden"))
        assert created.status_code == 201
        # The listener's follower may still be relaying the earlier tests' writes: those come first, then this one.
        location, deadline = created.headers["Location"], time.monotonic() + 10
        told = json.loads(socket.recv(timeout=10))
        while told["object"] != location and time.monotonic() < deadline:
            told = json.loads(socket.recv(timeout=max(0.1, deadline - time.monotonic())))
        assert (told["type"], told["object"]) == ("Add", location)
        with pytest.raises(TimeoutError):
            while True:  # once, not again at the next round
                assert json.loads(socket.recv(timeout=1.5))["object"] != location


def test_the_jobs_run_in_one_process_and_another_takes_over_when_it_is_killed(processes, engines):
    assert processes.jobs_runners() == [processes.all[0]]
    first = post_to(processes.all[2], "proposals/", example("proposal-piste-cyclable-victor-hugo"), pod="paris")
    until(lambda: engine_holds(engines.federation, first.headers["Location"]))
    processes.all[0].kill()  # SIGKILL: no clean stop, its lock is released by the system
    until(lambda: len(processes.jobs_runners()) == 1, timeout=20)
    assert processes.jobs_runners()[0] in processes.all[1:]
    document = dict(example("proposal-community-garden"), title={"fr": "Un kiosque à musique place Gambetta"})
    second = post_to(processes.all[1], "proposals/", document, pod="paris")
    assert second.status_code == 201
    until(lambda: engine_holds(engines.federation, second.headers["Location"]))
    for process in processes.alive():  # the index the jobs' process updates is the one every process reads
        until(lambda process=process: second.headers["Location"] in searched(process, "kiosque"))
    for process in processes.alive():
        assert "Traceback" not in process.log()


def children(pid: int) -> list[int]:
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(line) for line in found.split()]


def test_workers_serve_and_a_killed_one_is_started_again(engines, tmp_path):
    port = free_port()
    server = ServerProcess(node_config(tmp_path, engines, port), port, tmp_path / "serve.log",
                           ["--workers", "3"]).start()
    try:
        assert server.process is not None
        until(lambda: len(children(server.process.pid)) == 3)
        answers = [post_to(server, "proposals/", example("proposal-community-garden")) for _ in range(6)]
        assert [answer.status_code for answer in answers] == [201] * 6
        killed = children(server.process.pid)[0]
        os.kill(killed, signal.SIGKILL)
        until(lambda: "starting it again" in server.log())
        until(lambda: len(children(server.process.pid)) == 3 and killed not in children(server.process.pid))
        assert post_to(server, "proposals/", example("proposal-community-garden")).status_code == 201
        until(lambda: len(JOBS_LINE.findall(server.log())) >= 1)
    finally:
        server.stop()


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dds_pod.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "DDS_TEST_TOKEN_PARIS": "paris-token"})


def test_an_embedded_store_refuses_several_processes_and_a_worker(tmp_path):
    config = write_config(tmp_path, free_port())
    served = _cli("serve", "--config", str(config), "--port", str(free_port()), "--workers", "2")
    assert served.returncode == 2
    assert "belongs to one process" in served.stderr
    worked = _cli("worker", "--config", str(config))
    assert worked.returncode == 2
    assert "a worker needs a store on a SPARQL engine" in worked.stderr
    refused = _cli("serve", "--config", str(config), "--workers", "0")
    assert refused.returncode == 2
    assert "expected a whole number of 1 or more" in refused.stderr


def test_several_processes_without_data_dir_are_refused(engines, tmp_path):
    config = write_config(tmp_path, free_port())
    with config.open("a", encoding="utf-8") as file:
        file.write(sparql_store_table(engines.pods, engines.federation))
    served = _cli("serve", "--config", str(config), "--port", str(free_port()), "--workers", "2")
    assert served.returncode == 2
    assert "--workers 2 needs data_dir" in served.stderr


def test_a_misspelt_jobs_setting_is_refused_by_name(tmp_path):
    config = write_config(tmp_path, free_port())
    config.write_text(config.read_text(encoding="utf-8") + '[server]\njobs = "nowhere"\n', encoding="utf-8")
    result = _cli("serve", "--config", str(config), "--port", "9")
    assert result.returncode == 2
    assert "server.jobs must be one of 'here', 'elsewhere'" in result.stderr


def test_a_worker_process_runs_the_jobs_that_web_processes_leave_to_it(engines, tmp_path):
    port = free_port()
    config = node_config(tmp_path, engines, port, "[server]", 'jobs = "elsewhere"')
    server = ServerProcess(config, port, tmp_path / "serve.log", ["--workers", "2"]).start()
    log = (tmp_path / "worker.log").open("ab")
    worker = subprocess.Popen([sys.executable, "-m", "dds_pod.cli", "worker", "--config", str(config)], stdout=log,
                              stderr=log, start_new_session=True,
                              env={**os.environ, "DDS_TEST_TOKEN_PARIS": TOKENS["paris"]})
    try:
        created = post_to(server, "proposals/", example("proposal-community-garden"), pod="paris")
        assert created.status_code == 201
        until(lambda: engine_holds(engines.federation, created.headers["Location"]))
        assert not JOBS_LINE.search(server.log()), "the web processes run no job"
        assert len(JOBS_LINE.findall((tmp_path / "worker.log").read_text())) == 1
        running = children(worker.pid)
        os.kill(running[0], signal.SIGKILL)  # the worker's process; its supervisor starts another
        until(lambda: len(JOBS_LINE.findall((tmp_path / "worker.log").read_text())) == 2)
        again = post_to(server, "proposals/", example("proposal-piste-cyclable-victor-hugo"), pod="paris")
        until(lambda: engine_holds(engines.federation, again.headers["Location"]))
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        log.close()
        server.stop()
    assert "Traceback" not in (tmp_path / "worker.log").read_text()
