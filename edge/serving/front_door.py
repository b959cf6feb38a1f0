"""The edge's listening socket: a lean HTTP/1.1 connection that sends cached media itself and hands the rest over.

Per request it parses the head, asks MediaAnswers, and writes the head and sendfile()s the body straight to the
socket when the socket takes it at once (the common case: a segment fits the socket buffer), else through
`loop.sendfile`. Anything it does not answer (another path, a miss, a method with a body, HTTP/1.0, a malformed
head) is handed to aiohttp's own protocol on the same connection, bytes received so far included; aiohttp closes
such a connection after its answer, so the next request starts at the front door again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Coroutine
from typing import Any

from .answer import Answer, Request
from .media import MediaAnswers

log = logging.getLogger(__name__)
MAX_HEAD_BYTES = 8 * 1024
MAX_WAITING_BYTES = 64 * 1024  # pipelined requests held while one is answered; past this, reading pauses
IDLE_TIMEOUT_S = 75.0  # as aiohttp's keep-alive
# A request head must be complete this long after its first byte: a host that trickles a head a byte at a time
# keeps its connection active, so the idle timeout alone would never close it (issue 14).
HEAD_TIMEOUT_S = 20.0
# Present on a request the front door leaves to aiohttp: a body, an upgrade or an expectation to answer.
_NOT_OURS = frozenset(("content-length", "transfer-encoding", "upgrade", "expect"))
# Sent with a file's head, so head and file leave in full packets and not as a lone small head first (what nginx's
# tcp_nopush does with TCP_CORK; on loopback that lone packet cost as much CPU as the sendfile after it). One flag on
# the send replaces the two setsockopt calls of a cork around it.
_MORE = getattr(socket, "MSG_MORE", 0)


class FrontDoor:
    """The protocol factory for the edge's port."""

    def __init__(self, media: MediaAnswers, app_protocol: Callable[[], asyncio.Protocol]) -> None:
        self.media = media
        self.app_protocol = app_protocol
        self.connections: set[Connection] = set()
        self.answered = 0  # requests the front door answered itself
        self.handed_over = 0  # connections given to aiohttp
        self.tasks: set[asyncio.Task[None]] = set()  # answers under way, held so none is dropped half way

    def start(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def __call__(self) -> Connection:
        return Connection(self)

    def close_idle(self, now: float) -> None:
        """Close connections idle too long, and those whose request head has been arriving for too long."""
        for conn in [c for c in self.connections if not c.busy and (
                now - c.last_active > IDLE_TIMEOUT_S
                or (c.head_since is not None and now - c.head_since > HEAD_TIMEOUT_S))]:
            conn.close()

    def close_all(self) -> None:
        for conn in list(self.connections):
            conn.close()


class Connection(asyncio.Protocol):
    def __init__(self, door: FrontDoor) -> None:
        self.door = door
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.sock_fd = -1
        self.out: socket.socket | None = None  # our own handle on the socket, to send a head with MSG_MORE
        self.remote: str | None = None
        self.buffer = bytearray()
        self.busy = False  # an answer is on its way; requests that arrive meanwhile wait in the buffer
        self.paused = False
        self.closing = False
        self.last_active = self.loop.time()
        self.head_since: float | None = None  # when the first byte of a head not yet complete came

    # -- asyncio protocol ---------------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            self.out = sock.dup()  # the transport's socket object offers no send(); a dup of it does
            self.sock_fd = self.out.fileno()
        peer = transport.get_extra_info("peername")
        self.remote = peer[0] if isinstance(peer, tuple) else None
        self.door.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.door.connections.discard(self)
        self.closing = True
        self._close_out()

    def _close_out(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None
            self.sock_fd = -1

    def data_received(self, data: bytes) -> None:
        self.last_active = self.loop.time()
        self.buffer += data
        if not self.busy:
            self._serve_buffer()
        elif len(self.buffer) > MAX_WAITING_BYTES and self.transport is not None and not self.paused:
            self.transport.pause_reading()
            self.paused = True

    def close(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.close()

    # -- requests -----------------------------------------------------------------------------------------------
    def _serve_buffer(self) -> None:
        while not self.busy and not self.closing:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEAD_BYTES:
                    self._hand_over()
                elif self.buffer and self.head_since is None:
                    self.head_since = self.loop.time()
                return
            self.head_since = None
            parsed = _parse(bytes(self.buffer[:end]), self.remote)
            if parsed is None:
                self._hand_over()
                return
            request, keep_alive = parsed
            answer = self.door.media.answer(request)
            if answer is None:
                if self.door.media.may_warm(request):
                    self.busy = True
                    self.door.start(self._answer_when_warm(request, keep_alive, end + 4))
                else:
                    self._hand_over()
                return
            del self.buffer[: end + 4]
            self.door.answered += 1
            self._send(answer, keep_alive)

    async def _answer_when_warm(self, request: Request, keep_alive: bool, head_length: int) -> None:
        try:
            warm = await self.door.media.warm(request)
        except Exception:  # the route meets the same failure and answers it (the error middleware logs it)
            log.debug("warming %s failed", request.path, exc_info=True)
            warm = False
        if self.closing:
            return
        answer = self.door.media.answer(request) if warm else None
        self._not_busy()
        if answer is None:
            self._hand_over()
            return
        del self.buffer[:head_length]
        self.door.answered += 1
        self._send(answer, keep_alive)
        if not self.busy and self.buffer:
            self._serve_buffer()

    def _send(self, answer: Answer, keep_alive: bool) -> None:
        transport = self.transport
        assert transport is not None
        if answer.count:
            sent = self._send_now(answer)
        else:
            transport.write(answer.head + answer.body if answer.body else answer.head)  # bodies in bytes: playlists
            sent = 0
        if sent < 0:
            answer.release()
            self.close()
            return
        if sent >= answer.count:
            answer.release()
            if not keep_alive:
                self.close()
            return
        # The socket is full: the rest goes by loop.sendfile, which waits for room. It works on its own
        # descriptor, so a memory file dropped meanwhile cannot pull the data from under it.
        fd = answer.fd if answer.owns_fd else os.dup(answer.fd)
        self.busy = True
        self.door.start(self._send_rest(fd, answer.offset + sent, answer.count - sent, keep_alive))

    def _send_now(self, answer: Answer) -> int:
        """The head, then file bytes sent straight to the socket, as many as it takes now; -1 when the connection
        failed. What the socket does not take now is queued on the transport (the head) or left to the caller."""
        transport = self.transport
        assert transport is not None
        if transport.get_write_buffer_size() or transport.is_closing() or self.out is None:
            transport.write(answer.head)  # the transport has bytes queued: they must go first
            return 0
        try:
            n = self.out.send(answer.head, _MORE)
        except BlockingIOError:
            n = 0
        except OSError:
            return -1
        if n < len(answer.head):
            transport.write(answer.head[n:])
            return 0
        sent = 0
        try:
            while sent < answer.count:
                n = os.sendfile(self.sock_fd, answer.fd, answer.offset + sent, answer.count - sent)
                if n == 0:
                    break
                sent += n
        except BlockingIOError:
            pass
        except OSError:
            return -1
        return sent

    async def _send_rest(self, fd: int, offset: int, count: int, keep_alive: bool) -> None:
        assert self.transport is not None
        with open(fd, "rb", buffering=0) as file:  # noqa: ASYNC230 - wraps an open descriptor: no I/O
            try:
                await self.loop.sendfile(self.transport, file, offset, count)
            except (OSError, RuntimeError) as exc:  # the viewer went away, or the transport closed under us
                log.debug("sending to %s stopped: %s", self.remote, exc)
                self.close()
                return
        self._not_busy()
        self.last_active = self.loop.time()
        if not keep_alive:
            self.close()
        elif self.buffer:
            self._serve_buffer()

    def _not_busy(self) -> None:
        self.busy = False
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()

    def _hand_over(self) -> None:
        """Give the connection to aiohttp, with everything received so far."""
        transport = self.transport
        assert transport is not None
        self.door.connections.discard(self)
        self.door.handed_over += 1
        log.debug("handed to the app: %r", bytes(self.buffer[:80]))
        self._close_out()
        handler = self.door.app_protocol()
        transport.set_protocol(handler)
        handler.connection_made(transport)
        self._not_busy()  # reading resumes for aiohttp's protocol now
        data, self.buffer = bytes(self.buffer), bytearray()
        self.closing = True
        if data:
            handler.data_received(data)


def _parse(head_bytes: bytes, remote: str | None) -> tuple[Request, bool] | None:
    """A GET or HEAD in HTTP/1.1 with plain headers and no body; None for anything else (aiohttp's to judge)."""
    try:
        text = head_bytes.decode("ascii")
    except UnicodeDecodeError:
        return None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[0] not in ("GET", "HEAD") or parts[2] != "HTTP/1.1" or not parts[1].startswith("/"):
        return None
    path, _, query = parts[1].partition("?")
    if "%" in path:
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        key = name.lower()
        if not colon or not name or name != name.strip() or key in headers:
            return None
        headers[key] = value.strip()
    if not _NOT_OURS.isdisjoint(headers):
        return None
    connection = headers.get("connection", "").lower()
    return Request(parts[0], path, query, headers, remote), "close" not in connection
