"""`GET /tv/pinyin.json`: the pinyin keyboard's candidate table (edge/tv/pinyin_dictionary.py), for every TV.

The same bytes for every STB and every version of pypinyin's data, so an ETag lets a set-top box that kept it
skip the 40 KB; gzip when the browser asks for it.
"""

from __future__ import annotations

import hashlib

from aiohttp import web

from .pinyin_dictionary import PinyinDictionary

PINYIN = web.AppKey("pinyin_dictionary", PinyinDictionary)
routes = web.RouteTableDef()


@routes.get("/tv/pinyin.json")
async def pinyin_table(request: web.Request) -> web.StreamResponse:
    body = await request.app[PINYIN].body()
    etag = hashlib.sha256(body).hexdigest()[:32]
    if request.headers.get("If-None-Match", "").strip('"') == etag:
        return web.Response(status=304, headers={"ETag": f'"{etag}"'})
    response = web.Response(body=body, content_type="application/json", charset="utf-8",
                            headers={"ETag": f'"{etag}"', "Cache-Control": "no-cache"})
    response.enable_compression()
    return response
