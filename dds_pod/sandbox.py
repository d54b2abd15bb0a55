"""Running a function in a forked child that has a deadline, a memory budget and no network.

Some work cannot be trusted to end, to stay small or to keep to itself: pyoxigraph cannot interrupt a
running query, and a query or update may name a server to call. Such work runs in a child process forked
from the server: the child inherits the server's memory (copy-on-write, so an in-memory store works as well
as an on-disk one), leaves the network, runs the function and writes the bytes it returns to a pipe; the
parent waits on the pipe until the deadline and SIGKILLs the child when it runs over. The child is put in a
network namespace of its own, which has no interface but a loopback that is down: whatever the function
tries, no packet leaves it. Where ``fork`` does not exist the function runs in a thread instead: the
caller keeps its deadline, but the work itself can be neither stopped nor cut off from the network.

The sandbox knows nothing of what the function does: it returns its bytes, or raises the error the function
raised (one of those the caller names), or one of its own when the child ran over a limit or died.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import json
import logging
import math
import os
import resource
import select
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import NoReturn

from .errors import DDSError

log = logging.getLogger(__name__)

Work = Callable[[], bytes]


class OverTime(DDSError):
    status = 503
    title = "Time limit exceeded"


class OutOfMemory(DDSError):
    status = 503
    title = "Memory limit exceeded"


class OverSize(DDSError):
    status = 422
    title = "Output too large"


class Crashed(DDSError):
    status = 500
    title = "Evaluation failed"


class Busy(DDSError):
    """Every slot is taken: the client should come back shortly (``retry_after_s``)."""

    status = 503
    title = "Server busy"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Limits:
    """What one child may take: wall-clock time, memory beyond what it was forked with, bytes of output."""

    timeout_s: float = 10.0
    memory_mb: int = 1024
    max_output_bytes: int = 64 * 1024 * 1024


def run(work: Work, limits: Limits, errors: Iterable[type[DDSError]] = (), isolate: bool | None = None) -> bytes:
    """The bytes ``work`` returns, computed in a confined child (in a thread where fork is missing).

    ``errors`` are the domain errors the work may raise on purpose; they reach the caller as they were
    raised. Any other failure is :class:`Crashed`.
    """
    if isolate is False or (isolate is None and not hasattr(os, "fork")):
        return _in_thread(work, limits)
    known = {cls.__name__: cls for cls in (*errors, OverTime, OutOfMemory, OverSize, Crashed)}
    return _in_child(work, limits, known, empty_network())


# ------------------------------------------------------------ slots

class Slots:
    """A bound on the children running at once, so that heavy work cannot take every CPU from the server.

    A caller beyond the bound waits ``wait_s`` for a slot to free, then gets :class:`Busy`: briefly, since a
    request waiting for a slot holds one of the server's threads, which a flood of queries would otherwise take.
    """

    def __init__(self, count: int, wait_s: float = 0.25, retry_after_s: int = 2) -> None:
        self.count, self.wait_s, self.retry_after_s = count, wait_s, retry_after_s
        self._semaphore = threading.BoundedSemaphore(count)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        if not self._semaphore.acquire(timeout=self.wait_s):
            raise Busy(f"all {self.count} evaluation slots of this server are busy; retry in "
                       f"{self.retry_after_s} s", retry_after_s=self.retry_after_s)
        try:
            yield
        finally:
            self._semaphore.release()


# ------------------------------------------------------------ leaving the network

# Held while forking: see _attempt.
_FORK_LOCK = threading.Lock()
# Looked up in the parent: the dynamic loader's lock may be held by another thread when a child starts.
_LIBC: ctypes.CDLL | None
try:
    _LIBC = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover - every Unix has a libc; the thread fallback needs none
    _LIBC = None
_PRCTL = getattr(_LIBC, "prctl", None)
_UNSHARE = getattr(_LIBC, "unshare", None)
_SETNS = getattr(_LIBC, "setns", None)
_PR_SET_PDEATHSIG = 1
CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
# Root may create a network namespace directly; another user first needs a user namespace of its own,
# which the kernel grants to a single-threaded process (a freshly forked child is one) where allowed.
_NAMESPACE_FLAGS = (CLONE_NEWNET, CLONE_NEWUSER | CLONE_NEWNET)

# (open namespace file, its CLONE_ flag), in the order a child enters them
Network = tuple[tuple[int, int], ...]


@functools.cache
def empty_network() -> Network:
    """An empty network namespace (no interface but a loopback that is down), made once and held open.

    Children enter it with setns, which is cheap, where creating a namespace for each of them costs
    milliseconds under load, and as much again to tear down. Empty when the kernel or the container
    refuses namespaces (or has no fork): that is logged as an error once, and children then run with
    the server's network, kept from other servers by the callers' checks of the parsed work alone.
    """
    network = _made_network() if hasattr(os, "fork") and _UNSHARE is not None and _SETNS is not None else ()
    if not network:
        log.error("children cannot be put in a network namespace of their own here (unshare refused): "
                  "SPARQL queries and updates run with the server's network access, and only the checks "
                  "of their parsed form keep them from calling other servers")
    return network


def _made_network() -> Network:
    """Fork a child that leaves the network, open its namespaces while it waits, then let it go."""
    with _FORK_LOCK:
        ready_r, ready_w = os.pipe()
        done_r, done_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            _namespace_holder(ready_w, done_r)
        os.close(ready_w)
        os.close(done_r)
    try:
        flags = int(os.read(ready_r, 16) or b"0") if select.select([ready_r], [], [], 10)[0] else 0
        kinds = (("user", CLONE_NEWUSER),) if flags & CLONE_NEWUSER else ()
        return tuple((os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC), flag)
                     for name, flag in (*kinds, ("net", CLONE_NEWNET))) if flags else ()
    except (OSError, ValueError):
        return ()
    finally:
        os.close(done_w)  # the holder reads end-of-file and exits
        os.close(ready_r)
        _reap(pid, kill=True)


def _namespace_holder(ready_w: int, done_r: int) -> NoReturn:
    """Leave the network, say how, and stay until the parent has opened the namespaces (end-of-file)."""
    code = 1
    try:
        for flags in _NAMESPACE_FLAGS:
            if _UNSHARE is not None and _UNSHARE(flags) == 0:  # not None: empty_network checked
                break
        else:
            flags = 0
        os.write(ready_w, str(flags).encode())
        os.read(done_r, 1)
        code = 0
    finally:
        os._exit(code)


def _enter(network: Network) -> bool:
    """Join the empty network namespace (and the user namespace that owns it, if any)."""
    setns = _SETNS
    if setns is None:  # then empty_network made no namespaces to enter
        return not network
    return all(setns(fd, flag) == 0 for fd, flag in network)


# ------------------------------------------------------------ the child

_POLL_S = 0.025
# Below the server's threads (0): a child runs on what the request threads leave of the CPU.
CHILD_NICENESS = 10


def _in_child(work: Work, limits: Limits, known: dict[str, type[DDSError]], network: Network) -> bytes:
    """Run in a forked child; the calling thread only waits on a pipe, until the deadline.

    A child is forked from a process with other threads (request threads, the harvester, RocksDB's
    own), and may inherit a lock that one of them held at that instant, such as RocksDB's database
    mutex: it then waits forever. Such a child is recognised, killed and forked again.
    """
    deadline = time.monotonic() + limits.timeout_s
    while True:
        data, status = _attempt(work, limits, deadline, network)
        if data is not None:
            return _decode(data, status, known)
        time.sleep(_POLL_S)  # give the thread that held the lock time to release it


def _attempt(work: Work, limits: Limits, deadline: float, network: Network) -> tuple[bytes | None, int]:
    """One child: what it wrote, or None when it was found deadlocked; its wait status in both cases."""
    # Under the lock, no other thread forks while this pipe's write end is still open in the
    # parent: a sibling child inheriting it would keep this pipe from ever reaching end-of-file.
    with _FORK_LOCK:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            _child(work, read_end, write_end, limits, network)
        os.close(write_end)
    data = None
    try:
        data = _read_until(read_end, pid, deadline, limits)
    finally:
        os.close(read_end)
        status = _reap(pid, kill=data is None)
    return data, status


def _child(work: Work, read_end: int, write_end: int, limits: Limits, network: Network) -> NoReturn:
    """The child's whole life: confine itself, work, write the outcome, exit without the server's clean-up.

    A child that cannot enter the empty network (which this server could make) does no work.
    """
    code = 1
    try:
        os.close(read_end)
        if not _enter(network):
            payload = _encode_error(Crashed("the child process could not leave the network, so it did no work"))
        else:
            _confine(limits)
            payload, code = _outcome(work)
        with open(write_end, "wb") as pipe:
            pipe.write(payload)
    finally:
        os._exit(code)


def _outcome(work: Work) -> tuple[bytes, int]:
    """The bytes that tell the parent what happened, and the child's exit code."""
    try:
        return b'{"ok": true}\n' + work(), 0
    except DDSError as error:
        return _encode_error(error), 0
    except MemoryError:
        return _encode_error(OutOfMemory("the work needed more memory than it may take")), 0
    except BaseException as error:
        return _encode_error(Crashed(f"the work could not be done: {error}")), 1


def _confine(limits: Limits) -> None:
    """Make the child die with its server, on a signal, after spending its time in CPU, or when it
    allocates more than its memory budget beyond the address space it was forked with; and make it yield the
    CPU to the server's request threads, so that heavy work takes only what serving leaves.

    The inherited objects are frozen out of the garbage collector: a collection that walked them would
    write to every page of the server's heap and copy it, which costs more than the work itself.
    """
    gc.freeze()
    with contextlib.suppress(OSError):
        os.nice(CHILD_NICENESS)
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(number, signal.SIG_DFL)
    seconds = math.ceil(limits.timeout_s) + 1
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    inherited = _address_space()
    if inherited is not None:
        budget = inherited + limits.memory_mb * 1024 * 1024
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            budget = min(budget, hard)
        with contextlib.suppress(ValueError, OSError, OverflowError):  # a budget beyond what the kernel takes
            resource.setrlimit(resource.RLIMIT_AS, (budget, hard))
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _address_space() -> int | None:
    """This process's virtual memory size in bytes (Linux), or None where /proc does not say."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


# ------------------------------------------------------------ the parent

def _read_until(fd: int, pid: int, deadline: float, limits: Limits) -> bytes | None:
    """Everything the child writes; None if it deadlocks first; OverTime at the deadline."""
    chunks: list[bytes] = []
    size, cap = 0, limits.max_output_bytes + 64 * 1024  # room for the header line
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise OverTime(f"the work ran over its {limits.timeout_s:g} s limit and was stopped")
        if not poller.poll(math.ceil(min(remaining, _POLL_S) * 1000)):
            if not chunks and _deadlocked(pid):
                return None
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > cap:
            raise OverSize(f"the output is larger than {limits.max_output_bytes} bytes, the limit")
        chunks.append(chunk)


def _deadlocked(pid: int) -> bool:
    """Whether a child sleeps on a futex while it has a single thread: no one can ever wake it.

    Linux only (elsewhere such a child simply runs into the deadline).
    """
    try:
        threads = len(os.listdir(f"/proc/{pid}/task"))
        with open(f"/proc/{pid}/wchan") as wchan:
            return threads == 1 and "futex" in wchan.read()
    except OSError:
        return False


def _reap(pid: int, kill: bool) -> int:
    """Collect the child so that it leaves no zombie; kill it first when its answer is not wanted any more."""
    if kill:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return status


def _encode_error(error: DDSError) -> bytes:
    fields = {"error": type(error).__name__, "message": error.message, "field": error.field}
    return json.dumps(fields).encode() + b"\n"


# How a child dies when the Rust side cannot allocate under its memory limit (it aborts).
_OUT_OF_MEMORY_SIGNAL = signal.SIGABRT


def _decode(data: bytes, status: int, known: dict[str, type[DDSError]]) -> bytes:
    header, newline, body = data.partition(b"\n")
    try:
        fields = json.loads(header) if newline else {}
    except ValueError:
        fields = {}
    if fields.get("ok") is True and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return body  # only from a child that finished: never a cut answer
    if fields.get("error") in known:
        raise known[fields["error"]](fields["message"], field=fields.get("field"))
    if "error" in fields:
        raise Crashed(f"the work failed ({fields['error']}): {fields.get('message')}")
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == _OUT_OF_MEMORY_SIGNAL:
        raise OutOfMemory(f"the child process stopped ({_describe_status(status)}), most likely for want of "
                          "memory: it may take only so much")
    raise Crashed(f"the child process stopped without an answer ({_describe_status(status)})")


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def _forget_frames(error: BaseException | None) -> None:
    """Free the locals of the frames an error of the work holds (its own and those of the errors it was raised
    from) in the work's thread: pyoxigraph's results may only be freed by the thread that made them, and the error
    is raised again in the caller's."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        traceback.clear_frames(error.__traceback__)
        error = error.__cause__ or error.__context__


def _in_thread(work: Work, limits: Limits) -> bytes:
    """Where fork is missing: the answer keeps its deadline, but overdue work runs on unseen."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["answer"] = work()
        except BaseException as error:
            _forget_frames(error)
            outcome["error"] = error

    thread = threading.Thread(target=target, name="sandbox-work", daemon=True)
    thread.start()
    thread.join(limits.timeout_s)
    if thread.is_alive():
        raise OverTime(f"the work ran over its {limits.timeout_s:g} s limit")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["answer"]  # type: ignore[return-value]
