"""The stores' write locks: the embedded store's is one of its process, the ``sparql`` backend's one of every process
of the machine (a lock file), waited for at most the store's read timeout, and read from ``[store] lock_dir``."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

import pytest

from dds_pod.config import from_dict
from dds_pod.errors import ConfigError, StoreUnavailable
from dds_pod.store import StoreContext, open_store, read_settings, shared_between_processes
from dds_pod.store.oxigraph import OxigraphStore
from dds_pod.store.sparql import SparqlStore

QUERY, UPDATE = "http://127.0.0.1:9/query", "http://127.0.0.1:9/update"  # never reached: locks are local


def remote(lock_dir: Path, lock_wait_s: float = 5.0) -> SparqlStore:
    return SparqlStore(QUERY, UPDATE, timeout_s=0.5, lock_dir=lock_dir, lock_wait_s=lock_wait_s)


def _hold(lock_dir: Path, name: str, held: multiprocessing.synchronize.Event, release: float) -> None:
    with remote(lock_dir).write_lock(name):
        held.set()
        time.sleep(release)


def test_a_lock_held_by_another_process_is_waited_for_then_a_503(tmp_path):
    held = multiprocessing.get_context("spawn").Event()
    holder = multiprocessing.get_context("spawn").Process(target=_hold, args=(tmp_path, "pod", held, 3.0))
    holder.start()
    try:
        assert held.wait(30)
        with pytest.raises(StoreUnavailable) as raised, remote(tmp_path, lock_wait_s=0.5).write_lock("pod"):
            pass
        assert "another process has been writing pod for more than 0.5 s" in raised.value.message
        with remote(tmp_path).write_lock("other pod"):  # one lock per name
            pass
    finally:
        holder.join(30)
    with remote(tmp_path, lock_wait_s=0.5).write_lock("pod"):  # released when its holder ended
        pass


def test_a_lock_of_a_killed_process_is_released(tmp_path):
    held = multiprocessing.get_context("spawn").Event()
    holder = multiprocessing.get_context("spawn").Process(target=_hold, args=(tmp_path, "pod", held, 60.0))
    holder.start()
    assert held.wait(30)
    holder.kill()
    holder.join(30)
    with remote(tmp_path, lock_wait_s=2).write_lock("pod"):
        pass


def test_threads_of_one_process_exclude_each_other_too(tmp_path):
    store, inside, overlaps = remote(tmp_path), [], []

    def write() -> None:
        for _ in range(20):
            with store.write_lock("pod"):
                inside.append(1)
                overlaps.append(len(inside))
                time.sleep(0.001)
                inside.pop()

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == [1] * 80


def test_the_embedded_store_keeps_a_lock_of_its_process():
    store = OxigraphStore()
    with store.write_lock("pod"):
        assert not store.write_lock("pod").acquire(blocking=False)  # type: ignore[attr-defined]
    assert not shared_between_processes(read_settings("oxigraph", StoreContext(None, Path())))


def test_lock_dir_is_read_relative_to_the_configuration(tmp_path):
    table = {"backend": "sparql", "query_url": QUERY, "update_url": UPDATE, "lock_dir": "locks",
             "federation": {"query_url": "http://127.0.0.1:9/fq", "update_url": "http://127.0.0.1:9/fu"}}
    settings = read_settings(table, StoreContext(None, tmp_path))
    assert shared_between_processes(settings)
    store = open_store(settings)
    assert isinstance(store, SparqlStore) and store.lock_dir == tmp_path / "locks"
    assert store.lock_wait_s == 30.0
    with pytest.raises(ConfigError) as raised:
        read_settings({**table, "lock_dir": 7}, StoreContext(None, tmp_path))
    assert raised.value.field == "store.lock_dir"


def test_lock_wait_s_is_its_own_setting(tmp_path):
    table = {"backend": "sparql", "query_url": QUERY, "update_url": UPDATE, "timeout_s": 5, "lock_wait_s": 90,
             "federation": {"query_url": "http://127.0.0.1:9/fq", "update_url": "http://127.0.0.1:9/fu"}}
    store = open_store(read_settings(table, StoreContext(None, tmp_path)))
    assert isinstance(store, SparqlStore) and (store.timeout[1], store.lock_wait_s) == (5.0, 90.0)
    for wrong in (0, -1, "soon", True):
        with pytest.raises(ConfigError) as raised:
            read_settings({**table, "lock_wait_s": wrong}, StoreContext(None, tmp_path))
        assert raised.value.field == "store.lock_wait_s"


def test_jobs_left_elsewhere_need_a_store_other_processes_open():
    with pytest.raises(ConfigError) as raised:
        from_dict({"base_url": "http://127.0.0.1:8000/", "server": {"jobs": "elsewhere"}})
    assert raised.value.field == "server.jobs"
    assert from_dict({"base_url": "http://127.0.0.1:8000/"}).server.jobs == "here"
