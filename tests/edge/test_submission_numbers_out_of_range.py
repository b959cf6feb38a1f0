"""Found by the fuzzer (tests/fuzz): a JSON integer wider than 64 bits in a submission's body was a 500, because
msgpack cannot hold it. It is bad input: a 400 with a sentence, and nothing stored."""

from __future__ import annotations

import sqlite3
import uuid

import pytest


@pytest.mark.parametrize("number", [2**64, -(2**63) - 1, 10**40])
async def test_a_number_too_wide_to_store_is_refused_with_400_and_nothing_is_kept(edge_client, edge_dir, stb, number):
    submission = stb.submission("incident", {"text": "路灯坏了", "category": number}, str(uuid.uuid4()))
    resp = await edge_client.post("/api/v1/submissions", json=submission, headers=stb.headers)
    assert resp.status == 400, await resp.text()
    assert (await resp.json())["error"] == "wrong_type"
    with sqlite3.connect(edge_dir / "edge.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0
