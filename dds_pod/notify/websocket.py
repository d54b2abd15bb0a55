"""The websocket endpoint of WebSocketChannel2023: the ``websockets`` library on its own port, in a thread.

waitress serves WSGI, which has no websocket upgrade, so the node runs an asyncio loop in a thread of the
serving process with a ``websockets`` server on the port ``[notifications] ws_port`` names (0: a free one).
A client connects to its channel's ``receiveFrom`` URL, whose path is the channel's token: the handshake is
refused (403) for a token that opens no live channel, and (409) for a channel that already has its connection.
The node only sends: messages from a client are read and dropped, and one over ``max_message_bytes`` closes the
connection. The path ``/solid-0.1`` serves the legacy protocol of :mod:`.legacy` instead, whose clients do
speak: each line gets its answer. A client too slow to take what it is sent is disconnected rather than
buffered for. When a channel ends (its ``endAt``, or an unsubscription) its connection is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import weakref
from collections import deque
from collections.abc import Sequence
from http import HTTPStatus

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from ..config import NotificationsConfig
from . import legacy
from .channels import Channel, Channels

RECENT_CHANGES = 1024  # IRIs changed lately, kept for the solid-0.1 subscriptions on their way
OUTGOING_QUEUE = 256  # notifications waiting for one slow connection; more, and it is closed
REAP_INTERVAL_S = 1.0
START_TIMEOUT_S = 10.0
NORMAL, POLICY = 1000, 1008  # close codes: the channel ended; the client broke a rule


class WebSocketEndpoint:
    """A background task of the node (started and stopped by the server that runs it) and an announcer."""

    def __init__(self, channels: Channels, subscriptions: legacy.Subscriptions, settings: NotificationsConfig) -> None:
        self.channels = channels
        self.subscriptions = subscriptions
        self.settings = settings
        self.port: int | None = None  # once listening
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._sockets: dict[str, tuple[ServerConnection, asyncio.Queue[str]]] = {}  # channel IRI -> its connection
        self._legacy: dict[int, tuple[ServerConnection, asyncio.Queue[str]]] = {}  # solid-0.1 connections
        self._opened: weakref.WeakKeyDictionary[ServerConnection, float] = weakref.WeakKeyDictionary()
        self._recent: deque[tuple[float, str]] = deque(maxlen=RECENT_CHANGES)  # (when, IRI) of lately told changes
        self._closing: set[asyncio.Future] = set()

    # ----------------------------------------------------------------- lifecycle (any thread)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="dds-notifications", daemon=True)
        self._thread.start()
        self._ready.wait(START_TIMEOUT_S)
        if self._failure is not None:
            raise RuntimeError(f"the notifications endpoint cannot listen on {self.settings.ws_host}:"
                               f"{self.settings.ws_port}: {self._failure}") from self._failure

    def stop(self) -> None:
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(START_TIMEOUT_S)
        self.port = None

    @property
    def serving(self) -> bool:
        return self.port is not None

    def announce(self, topic: str, notification: dict) -> None:
        """Queue a notification for the connections of a topic's channels (called from a writer's thread)."""
        loop = self._loop
        if loop is None or not self.serving:
            return
        text = json.dumps(notification, ensure_ascii=False)
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: the node is stopping
            loop.call_soon_threadsafe(self._deliver, topic, text)

    def publish(self, topic: str) -> None:
        """Queue ``pub <topic>`` for its solid-0.1 subscribers (called from a writer's thread)."""
        loop = self._loop
        if loop is None or not self.serving:
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._publish, topic, time.monotonic())

    def close_channel(self, channel: Channel) -> None:
        """Close the connection of a channel that was ended over HTTP."""
        loop = self._loop
        if loop is not None and self.serving:
            loop.call_soon_threadsafe(self._disconnect, channel.iri, NORMAL, "the channel was closed")

    # ----------------------------------------------------------------- the loop's thread

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as failure:  # reported by start(); nothing else waits for this thread
            self._failure = failure
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        settings = self.settings
        async with serve(self._connected, settings.ws_host, settings.ws_port, process_request=self._handshake,
                         select_subprotocol=_subprotocol,
                         compression=None, max_size=settings.max_message_bytes, max_queue=4, server_header=None,
                         open_timeout=10, close_timeout=5) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            reaper = asyncio.create_task(self._reap())
            await self._stopping.wait()
            reaper.cancel()
            server.close()
            await server.wait_closed()

    def _handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        if _is_legacy(request.path):
            if self.subscriptions.full():
                return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "too many solid-0.1 connections\n")
            self._opened[connection] = time.monotonic()  # before the client can write anything
            return None
        channel = self.channels.find(_token(request.path))
        if channel is None:
            return connection.respond(HTTPStatus.FORBIDDEN, "this token opens no live notification channel\n")
        if channel.connected:
            return connection.respond(HTTPStatus.CONFLICT, "this notification channel already has its connection\n")
        return None

    async def _connected(self, connection: ServerConnection) -> None:
        if _is_legacy(connection.request.path if connection.request else ""):
            await self._converse(connection)
            return
        channel = self.channels.claim(_token(connection.request.path if connection.request else ""))
        if channel is None:  # taken or ended between the handshake and now
            await connection.close(POLICY, "this token opens no free notification channel")
            return
        queue: asyncio.Queue[str] = asyncio.Queue(OUTGOING_QUEUE)
        self._sockets[channel.iri] = (connection, queue)
        sender = asyncio.create_task(self._send(connection, queue))
        try:
            async for _ in connection:  # a client has nothing to say on this channel; its messages are dropped
                pass
        except ConnectionClosed:
            pass
        finally:
            sender.cancel()
            self._sockets.pop(channel.iri, None)
            self.channels.release(channel)

    async def _converse(self, connection: ServerConnection) -> None:
        """A solid-0.1 connection: answer each line, and send its ``pub`` lines until it closes."""
        number = self.subscriptions.connect()
        if number is None:  # the last place went between the handshake and now
            await connection.close(POLICY, "too many solid-0.1 connections")
            return
        queue: asyncio.Queue[str] = asyncio.Queue(OUTGOING_QUEUE)
        self._legacy[number] = (connection, queue)
        opened = self._opened.pop(connection, time.monotonic())
        sender = asyncio.create_task(self._send(connection, queue))
        try:
            async for message in connection:
                self._answer(number, message if isinstance(message, str) else message.decode("utf-8", "replace"),
                             opened)
        except ConnectionClosed:
            pass
        finally:
            sender.cancel()
            self._legacy.pop(number, None)
            self.subscriptions.disconnect(number)

    def _answer(self, number: int, line: str, opened: float) -> None:
        """Reply to a client's line; a new subscription also hears of its IRI's changes since the connection
        opened that came before it, within the grace (see :mod:`.legacy`)."""
        iri = line.strip().partition(" ")[2].strip()
        held = self.subscriptions.holds(number, iri)
        reply = self.subscriptions.answer(number, line)
        if reply is None:
            return
        self._queue(number, reply)
        if reply.startswith("ack ") and not held:
            since = max(opened, time.monotonic() - legacy.GRACE_S)
            for _ in range(sum(1 for when, topic in self._recent if topic == iri and when >= since)):
                self._queue(number, f"pub {iri}")

    def _publish(self, topic: str, when: float) -> None:
        self._recent.append((when, topic))
        for number in self.subscriptions.subscribers(topic):
            self._queue(number, f"pub {topic}")

    def _queue(self, number: int, line: str) -> None:
        socket = self._legacy.get(number)
        if socket is None:
            return
        try:
            socket[1].put_nowait(line)
        except asyncio.QueueFull:
            del self._legacy[number]
            self._close(socket[0], POLICY, "the client does not read its notifications")

    async def _send(self, connection: ServerConnection, queue: asyncio.Queue[str]) -> None:
        try:
            while True:
                await connection.send(await queue.get())
        except ConnectionClosed:
            pass

    def _deliver(self, topic: str, text: str) -> None:
        for channel in self.channels.on(topic):
            socket = self._sockets.get(channel.iri)
            if socket is None:
                continue
            try:
                socket[1].put_nowait(text)
            except asyncio.QueueFull:
                self._disconnect(channel.iri, POLICY, "the client does not read its notifications")

    def _disconnect(self, iri: str, code: int, reason: str) -> None:
        socket = self._sockets.pop(iri, None)
        if socket is not None:
            self._close(socket[0], code, reason)

    def _close(self, connection: ServerConnection, code: int, reason: str) -> None:
        closing = asyncio.ensure_future(connection.close(code, reason))
        self._closing.add(closing)  # held until done: the loop keeps only weak references to tasks
        closing.add_done_callback(self._closing.discard)

    async def _reap(self) -> None:
        """Close the connections of channels that ended."""
        while True:
            await asyncio.sleep(REAP_INTERVAL_S)
            for channel in self.channels.ended():
                self._disconnect(channel.iri, NORMAL, "the channel ended")


def _subprotocol(connection: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    """solid-0.1 when the client offers it; no subprotocol otherwise (WebSocketChannel2023 needs none)."""
    return legacy.PROTOCOL if legacy.PROTOCOL in offered else None  # type: ignore[return-value]


def _is_legacy(path: str) -> bool:
    return _token(path) == legacy.PATH.lstrip("/")  # tokens are longer: none is this name


def _token(path: str) -> str:
    return path.split("?", 1)[0].rsplit("/", 1)[-1]
