"""Reading an encoder's PUT body even when the encoder hangs up before our answer.

ffmpeg's HLS muxer sends the last chunk of a PUT and closes the connection without reading the response; aiohttp
then marks the body stream failed (reads raise) although every byte has arrived. A body that reached its end is
still whole, so the rest of it is taken out of the stream as soon as it is complete, with aiohttp's public calls
only. `PushedBody(request)` must be made before the handler's first await: from then on nothing is lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from edge.streams.errors import StreamRefused


class PushedBody:
    def __init__(self, request: web.Request) -> None:
        self.stream = request.content
        self.content_length = request.content_length
        self._rest: list[bytes] = []
        if self.stream.is_eof():
            self._take_rest()
        else:
            # The end-of-body callback runs inside aiohttp's parser, where a read may resume the parser
            # re-entrantly: the rest is taken on the loop's next turn instead. A hang-up reaches aiohttp only in a
            # later turn (asyncio runs ready callbacks in order; the end of the connection is read after them).
            self.stream.on_eof(self._take_rest_soon)

    def _take_rest_soon(self) -> None:
        asyncio.get_running_loop().call_soon(self._take_rest)

    def _take_rest(self) -> None:
        if self.stream.exception() is None:
            self._rest.append(self.stream.read_nowait(-1))

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            try:
                chunk = await self.stream.readany()
            except (ConnectionResetError, ConnectionError) as exc:
                if not self._rest:
                    raise StreamRefused(400, "truncated", "推流中断，文件不完整。The encoder hung up before the file"
                                        " was complete; nothing was kept.") from exc
                chunk = b""
            if not chunk:
                if self._rest and self._rest[0]:
                    yield self._rest[0]
                return
            yield chunk

    async def read(self, max_bytes: int) -> bytes:
        if self.content_length is not None and self.content_length > max_bytes:
            raise StreamRefused(413, "too_large", f"文件太大。The body is larger than {max_bytes} bytes.")
        chunks: list[bytes] = []
        size = 0
        async for chunk in self.chunks():
            size += len(chunk)
            if size > max_bytes:
                raise StreamRefused(413, "too_large", f"文件太大。The body is larger than {max_bytes} bytes.")
            chunks.append(chunk)
        return b"".join(chunks)
