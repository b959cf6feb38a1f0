"""Reading an encoder's PUT body even when the encoder hangs up before our answer.

ffmpeg's HLS muxer sends the last chunk of a PUT and closes the connection without reading the response; aiohttp
then marks the body stream failed although every byte has arrived. A body that reached its end is still whole.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import StreamReader, web

from .errors import StreamRefused


def _complete_leftover(stream: StreamReader) -> bytes | None:
    """The buffered rest of a body whose end was received before the hang-up, else None."""
    # aiohttp keeps received bytes in `_buffer` (the first item partly read up to `_buffer_offset`) and sets
    # `_eof` when the end of the body (Content-Length reached, or the last chunk) was parsed.
    if not getattr(stream, "_eof", False):
        return None
    buffer = list(getattr(stream, "_buffer", []))
    offset = int(getattr(stream, "_buffer_offset", 0))
    if buffer and offset:
        buffer[0] = buffer[0][offset:]
    stream._buffer.clear()
    return b"".join(bytes(b) for b in buffer)


async def iter_pushed_body(request: web.Request) -> AsyncIterator[bytes]:
    stream = request.content
    while True:
        try:
            chunk = await stream.readany()
        except (ConnectionResetError, ConnectionError) as exc:
            leftover = _complete_leftover(stream)
            if leftover is None:
                raise StreamRefused(400, "truncated", "推流中断，文件不完整。The encoder hung up before the file"
                                    " was complete; nothing was kept.") from exc
            if leftover:
                yield leftover
            return
        if not chunk:
            return
        yield chunk


async def read_pushed_body(request: web.Request, max_bytes: int) -> bytes:
    if request.content_length is not None and request.content_length > max_bytes:
        raise StreamRefused(413, "too_large", f"文件太大。The body is larger than {max_bytes} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in iter_pushed_body(request):
        size += len(chunk)
        if size > max_bytes:
            raise StreamRefused(413, "too_large", f"文件太大。The body is larger than {max_bytes} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)
