"""The resident's own words without a browser: the pinyin candidate table the keyboard loads (built from
pypinyin's data, most used first, kept on the box) and the length limits of the free-text fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge.app import create_app
from edge.config import load_config
from edge.residents.rules import MAX_LABEL, MAX_TEXT
from edge.tv.pinyin_dictionary import toneless
from tests.device_kit import register_with
from tests.edge.conftest import provision


@pytest.fixture
async def edge(aiohttp_client, tmp_path: Path):
    data = tmp_path / "edge"
    provision(data)
    return await aiohttp_client(create_app(load_config(data, mdns=False, backoff_max_s=1.0)))


def test_readings_are_typed_without_tones_and_u_umlaut_as_v():
    assert [toneless(r) for r in ("lù", "lǜ", "nǚ", "ér", "zhuàng", "m̄")] == ["lu", "lv", "nv", "er", "zhuang", "m"]


async def test_the_keyboard_gets_every_syllable_with_its_characters_most_used_first_built_once_and_kept(
        edge, tmp_path: Path):
    resp = await edge.get("/tv/pinyin.json", headers={"Accept-Encoding": "gzip"})
    assert resp.status == 200 and resp.headers.get("Content-Encoding") == "gzip"
    raw = await resp.read()
    table = json.loads(raw)["syllables"]
    assert 400 <= len(table) <= 430 and len(raw) < 80_000  # every syllable of Mandarin, in a small download
    assert all(s.isascii() and s.isalpha() and s.islower() and len(s) <= 6 for s in table)
    assert all(0x4E00 <= ord(c) < 0xA000 for chars in table.values() for c in chars), "only what an STB font has"
    # Most used first: the characters of 路灯坏了 are on the first page of nine, ahead of the rare ones.
    for syllable, char in (("lu", "路"), ("deng", "灯"), ("huai", "坏"), ("le", "了"), ("lv", "绿"), ("hao", "好")):
        assert char in table[syllable][:9], (syllable, table[syllable][:9])
    assert table["deng"].index("灯") < table["deng"].index("镫")
    assert table["men"].index("们") < table["men"].index("們"), "GB2312's common characters before the rest"
    kept = list((tmp_path / "edge").glob("pinyin-*.json"))
    assert len(kept) == 1 and kept[0].read_bytes() == raw, "built once, kept in the data folder for restarts"

    again = await edge.get("/tv/pinyin.json", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status == 304, "an STB that kept the table does not download it again"


@pytest.mark.parametrize("field,length,status", [
    ("text", MAX_TEXT, 201),
    ("text", MAX_TEXT + 1, 422),
    ("category", MAX_LABEL, 201),
    ("category", MAX_LABEL + 1, 422),
])
async def test_free_text_is_kept_up_to_its_limit_and_longer_is_refused_clearly(edge, field, length, status):
    tv = await register_with(edge)
    body = {"category": "道路损坏", "text": "路灯坏了"}
    body[field] = "灯" * length
    resp = await edge.post("/api/v1/submissions", json=tv.submission("incident", body), headers=tv.headers)
    answer = await resp.json()
    assert resp.status == status, answer
    if status == 422:
        assert answer["error"] == "too_long" and f"body.{field}" in answer["detail"]
