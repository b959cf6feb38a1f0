"""The blob store: uploads named by their SHA-256, served with ETag, one byte range, 304 and 416."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path
from typing import Any

from .kit import HubKit, start_hub

DATA = bytes(range(256)) * 40  # 10,240 bytes


async def _upload(kit: HubKit, data: bytes = DATA, mime: str = "image/png") -> dict[str, Any]:
    headers = {**kit.admin, "Content-Type": mime}
    resp = await kit.client.post("/api/v1/blobs", data=data, headers=headers)
    assert resp.status == 201, await resp.text()
    result: dict[str, Any] = await resp.json()
    return result


async def test_an_upload_is_stored_under_its_sha256(kit: HubKit) -> None:
    answer = await _upload(kit)
    sha = hashlib.sha256(DATA).hexdigest()
    assert answer["sha256"] == sha and answer["size"] == len(DATA)
    path = kit.data_dir / "blobs" / sha[:2] / sha
    assert path.read_bytes() == DATA
    assert list((kit.data_dir / "blobs" / "tmp").iterdir()) == []
    again = await _upload(kit)
    assert again == answer


async def test_content_is_served_whole_with_a_strong_etag(kit: HubKit) -> None:
    sha = (await _upload(kit))["sha256"]
    resp = await kit.client.get(f"/content/{sha}")
    assert resp.status == 200
    assert await resp.read() == DATA
    assert resp.headers["ETag"] == f'"{sha}"'
    assert resp.headers["Content-Type"] == "image/png"
    assert "immutable" in resp.headers["Cache-Control"]


async def test_a_single_range_is_answered_with_206_and_content_range(kit: HubKit) -> None:
    sha = (await _upload(kit))["sha256"]
    resp = await kit.client.get(f"/content/{sha}", headers={"Range": "bytes=100-199"})
    assert resp.status == 206
    assert resp.headers["Content-Range"] == f"bytes 100-199/{len(DATA)}"
    assert await resp.read() == DATA[100:200]
    tail = await kit.client.get(f"/content/{sha}", headers={"Range": "bytes=-10"})
    assert tail.status == 206 and await tail.read() == DATA[-10:]
    rest = await kit.client.get(f"/content/{sha}", headers={"Range": "bytes=10000-"})
    assert rest.status == 206 and await rest.read() == DATA[10000:]


async def test_a_range_past_the_end_is_416(kit: HubKit) -> None:
    sha = (await _upload(kit))["sha256"]
    resp = await kit.client.get(f"/content/{sha}", headers={"Range": f"bytes={len(DATA)}-"})
    assert resp.status == 416
    assert resp.headers["Content-Range"] == f"bytes */{len(DATA)}"
    assert set(await resp.json()) >= {"error", "detail"}


async def test_a_matching_if_none_match_is_304_without_a_body(kit: HubKit) -> None:
    sha = (await _upload(kit))["sha256"]
    resp = await kit.client.get(f"/content/{sha}", headers={"If-None-Match": f'"{sha}"'})
    assert resp.status == 304
    assert await resp.read() == b""
    other = await kit.client.get(f"/content/{sha}", headers={"If-None-Match": '"something-else"'})
    assert other.status == 200


async def test_an_unknown_or_malformed_content_name_is_refused(kit: HubKit) -> None:
    assert (await kit.client.get("/content/" + "0" * 64)).status == 404
    assert (await kit.client.get("/content/../../hub.db")).status in (400, 404)
    assert (await kit.client.get("/content/ABC")).status == 400


async def test_an_upload_over_the_cap_is_413_and_leaves_nothing(aiohttp_client: Any, tmp_path: Path) -> None:
    kit = await start_hub(aiohttp_client, tmp_path / "hub", max_blob_bytes=4096)
    big = os.urandom(5000)

    async def stream() -> Any:  # no Content-Length: the cap must hold while streaming
        for i in range(0, len(big), 1000):
            yield big[i : i + 1000]

    resp = await kit.client.post("/api/v1/blobs", data=stream(), headers=kit.admin)
    assert resp.status == 413
    assert (await resp.json())["error"] == "too_large"
    sha = hashlib.sha256(big).hexdigest()
    assert not (tmp_path / "hub" / "blobs" / sha[:2] / sha).exists()
    assert list((tmp_path / "hub" / "blobs" / "tmp").iterdir()) == []


async def test_a_notice_attachment_takes_its_size_from_the_blob_store(kit: HubKit) -> None:
    await kit.add_village("v1")
    sha = (await _upload(kit))["sha256"]
    notice = await kit.notice(attachments=[{"sha256": sha, "mime": "image/png"}])
    assert notice["attachments"] == [{"sha256": sha, "size": len(DATA), "mime": "image/png"}]
    (op,) = await kit.down_ops("v1")
    assert op["blobs"] == [{"sha256": sha, "size": len(DATA), "mime": "image/png"}]


async def test_an_attachment_the_hub_does_not_hold_is_unprocessable(kit: HubKit) -> None:
    await kit.add_village("v1")
    body = {"title": "t", "body": "b", "area": "party", "scope": "city", "attachments": [{"sha256": "a" * 64}]}
    resp = await kit.client.post("/api/v1/notices", json=body, headers=kit.admin)
    assert resp.status == 422
    assert (await resp.json())["error"] == "unknown_blob"


async def test_ranges_are_clamped_and_suffixes_counted_from_the_end_as_rfc_9110_says(kit: HubKit) -> None:
    sha = (await _upload(kit))["sha256"]
    size = len(DATA)

    async def get(header: str) -> tuple[int, str | None, bytes]:
        resp = await kit.client.get(f"/content/{sha}", headers={"Range": header})
        return resp.status, resp.headers.get("Content-Range"), await resp.read()

    assert await get("bytes=0-0") == (206, f"bytes 0-0/{size}", DATA[:1])
    assert await get(f"bytes={size - 5}-{size + 100}") == (206, f"bytes {size - 5}-{size - 1}/{size}", DATA[-5:])
    assert await get("bytes=-3") == (206, f"bytes {size - 3}-{size - 1}/{size}", DATA[-3:])
    assert await get(f"bytes=-{size * 3}") == (206, f"bytes 0-{size - 1}/{size}", DATA)


async def test_several_ranges_or_a_malformed_range_are_refused_with_416_and_a_reason(kit: HubKit) -> None:
    sha = (await _upload(kit))["sha256"]
    for header in ("bytes=0-1,3-4", "bytes=5-2", "items=0-1", "bytes=-"):
        resp = await kit.client.get(f"/content/{sha}", headers={"Range": header})
        assert resp.status == 416, header
        assert resp.headers["Content-Range"] == f"bytes */{len(DATA)}"
        assert (await resp.json())["error"] == "range_not_satisfiable"


async def test_a_range_is_served_whatever_validator_if_range_carries(kit: HubKit) -> None:
    """A blob's bytes never change under its name, so a client's partial copy is always current."""
    sha = (await _upload(kit))["sha256"]
    for validator in (f'"{sha}"', '"from-another-server"', "Wed, 21 Oct 2099 07:28:00 GMT"):
        resp = await kit.client.get(f"/content/{sha}", headers={"Range": "bytes=10-19", "If-Range": validator})
        assert resp.status == 206 and await resp.read() == DATA[10:20], validator


async def test_the_etag_is_the_content_name_in_every_answer(kit: HubKit) -> None:
    sha = (await _upload(kit))["sha256"]
    partial = await kit.client.get(f"/content/{sha}", headers={"Range": "bytes=0-9"})
    head = await kit.client.head(f"/content/{sha}")
    since = await kit.client.get(f"/content/{sha}", headers={"If-Modified-Since": "Wed, 21 Oct 2099 07:28:00 GMT"})
    assert since.status == 304
    star = await kit.client.get(f"/content/{sha}", headers={"If-None-Match": "*"})
    assert star.status == 304
    listed = await kit.client.get(f"/content/{sha}", headers={"If-None-Match": f'"other", W/"{sha}"'})
    assert listed.status == 304
    for resp in (partial, head, since, star, listed):
        assert resp.headers["ETag"] == f'"{sha}"'
        assert "immutable" in resp.headers["Cache-Control"]


async def test_head_gives_the_length_without_the_body(kit: HubKit) -> None:
    sha = (await _upload(kit))["sha256"]
    resp = await kit.client.head(f"/content/{sha}")
    assert resp.status == 200
    assert resp.headers["Content-Length"] == str(len(DATA))
    assert await resp.read() == b""


async def test_an_upload_larger_than_a_json_body_streams_through(kit: HubKit) -> None:
    big = os.urandom(9 * 1024 * 1024 + 7)
    answer = await _upload(kit, big, "video/mp4")
    assert answer == {"sha256": hashlib.sha256(big).hexdigest(), "size": len(big)}
    resp = await kit.client.get(f"/content/{answer['sha256']}", headers={"Range": "bytes=9437180-"})
    assert resp.status == 206 and await resp.read() == big[9437180:]


async def test_a_crowd_asking_for_the_chunk_hints_of_a_new_large_blob_hashes_it_once(kit: HubKit) -> None:
    """Security review finding (low): unauthenticated /content/{sha}/chunks made the hub hash whole large blobs on
    demand, once per request."""
    data = os.urandom(24 * 1024 * 1024)
    sha = (await _upload(kit, data, "video/mp4"))["sha256"]
    answers = await asyncio.gather(*(kit.client.get(f"/content/{sha}/chunks") for _ in range(30)))
    bodies = {await resp.read() for resp in answers}
    assert [resp.status for resp in answers] == [200] * 30
    assert len(bodies) == 1
    assert kit.hub.chunk_hints.hashed == 1
    await kit.client.get(f"/content/{sha}/chunks")
    assert kit.hub.chunk_hints.hashed == 1  # kept beside the blob afterwards
