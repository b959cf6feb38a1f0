"""The TV app's server side without a browser: "my submissions", the key map per middleware, the device id,
the language catalogs, and bad input answered with a clear error that changes nothing."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest

from edge.app import create_app
from edge.config import load_config
from edge.lan.discovery import StbAdvert
from edge.residents.my_submissions import device_submissions
from edge.runtime import RUNTIME
from edge.tv.keymaps import KEYMAPS, keymap_for
from edge.tv.render import TEXTS
from tests.device_kit import register_with
from tests.edge.conftest import provision
from tests.staff.catalog_checks import check_catalogs

TV_DIR = Path(__file__).resolve().parents[2] / "edge" / "tv"


@pytest.fixture
async def edge(aiohttp_client, tmp_path: Path):
    data = tmp_path / "edge"
    provision(data)
    return await aiohttp_client(create_app(load_config(data, mdns=False, backoff_max_s=1.0,
                                                       device_registrations_per_hour=1000)))


def _feedback(device: str, text: str) -> dict:
    return {"id": str(uuid.uuid4()), "kind": "feedback", "device_id": device, "body": {"text": text}}


async def test_my_submissions_lists_only_this_devices_newest_first_with_state_and_rating(edge):
    a, b = await register_with(edge, "stb-a"), await register_with(edge, "stb-b")
    mine = [_feedback("stb-a", f"意见{i}") for i in range(3)]
    for sub in mine:
        assert (await edge.post("/api/v1/submissions", json=sub, headers=a.headers)).status == 201
    assert (await edge.post("/api/v1/submissions", json=_feedback("stb-b", "别人的意见"), headers=b.headers)).status == 201
    rating = {"id": str(uuid.uuid4()), "kind": "rating", "device_id": "stb-a",
              "body": {"submission_id": mine[0]["id"], "score": 5}}
    assert (await edge.post("/api/v1/submissions", json=rating, headers=a.headers)).status == 201
    resp = await edge.get("/api/v1/submissions?device_id=stb-a", headers=a.headers)
    assert resp.status == 200
    listed = (await resp.json())["submissions"]
    assert [s["id"] for s in listed if s["kind"] == "feedback"] == [m["id"] for m in reversed(mine)]
    assert all(s["state"] == "queued" for s in listed)  # the line is down in this test
    assert next(s for s in listed if s["id"] == mine[0]["id"])["rating"] == 5


async def test_my_submissions_pages_with_a_cursor(edge):
    p = await register_with(edge, "stb-p")
    for i in range(5):
        assert (await edge.post("/api/v1/submissions", json=_feedback("stb-p", f"第{i}条"), headers=p.headers)).status == 201
    db = edge.app[RUNTIME].db
    first, cursor = await device_submissions(db, "stb-p", limit=3)
    rest, end = await device_submissions(db, "stb-p", cursor=cursor, limit=3)
    assert len(first) == 3 and len(rest) == 2 and end is None
    assert {s["id"] for s in first}.isdisjoint({s["id"] for s in rest})


@pytest.mark.parametrize("query,status,code", [
    ("", 401, "device_token_required"), ("?device_id=" + "x" * 65, 400, "bad_device"),
    ("?device_id=a%20b", 400, "bad_device"), ("?device_id=stb-1&cursor=nonsense", 400, "bad_cursor")])
async def test_my_submissions_refuses_bad_input_clearly(edge, query, status, code):
    stb = await register_with(edge, "stb-1")
    resp = await edge.get("/api/v1/submissions" + query, headers=stb.headers if query else {})
    assert resp.status == status
    body = await resp.json()
    assert body["error"] == code and body["detail"]


async def test_the_key_map_comes_from_the_url_then_the_cookie_then_the_device_table(edge):
    page = await (await edge.get("/tv/?mw=iPanel&device=stb-k")).text()
    assert '"middleware": "ipanel"' in page and '"back": [340]' in page and '"up": [1]' in page
    assert '"deviceHint": "stb-k"' in page and '"token": ""' in page  # the page's script registers with the hint
    stb = await register_with(edge, "stb-k")
    edge.session.cookie_jar.update_cookies({"device_token": stb.token})
    page = await (await edge.get("/tv/")).text()  # the cookie remembers
    assert '"middleware": "ipanel"' in page and '"device": "stb-k"' in page
    edge.session.cookie_jar.clear()
    devices = edge.app[RUNTIME].devices
    devices.observe(StbAdvert(device_id="stb-hbb", model="m", firmware="1", middleware="hbbtv"),
                    address="127.0.0.1", port=1, service_name="stb-hbb._villagestb._tcp.local.")
    page = await (await edge.get("/tv/?device=stb-hbb")).text()
    assert '"middleware": "hbbtv"' in page and '"back": [461]' in page


async def test_a_page_acts_as_the_device_whose_token_its_cookie_holds_and_no_other(edge):
    resp = await edge.get("/tv/?device=stb-x")
    assert '"device": ""' in await resp.text() and "device" not in resp.cookies  # not registered: nobody yet
    stb = await register_with(edge)
    assert re.fullmatch(r"tv-[0-9a-f]{16}", stb.device_id)
    edge.session.cookie_jar.update_cookies({"device_token": stb.token})
    page = await (await edge.get("/tv/settings?device=stb-x")).text()
    assert f'"device": "{stb.device_id}"' in page and "stb-x" not in page.split('"deviceHint"')[0]
    edge.session.cookie_jar.update_cookies({"device_token": "not-a-token-this-box-issued", "device": stb.device_id})
    page = await (await edge.get("/tv/mine")).text()
    assert '"device": ""' in page  # the old id cookie proves nothing


async def test_settings_switch_language_and_larger_text(edge):
    resp = await edge.get("/tv/settings/set?lang=en&big=1", allow_redirects=False)
    assert resp.status == 302 and resp.cookies["lang"].value == "en" and resp.cookies["big"].value == "1"
    page = await (await edge.get("/tv/")).text()
    assert '<html lang="en">' in page and 'class="big"' in page and "Party building" in page


def test_every_middleware_maps_all_six_keys_and_unknown_ones_get_the_standard_map():
    for name, keys in KEYMAPS.items():
        assert set(keys) == {"up", "down", "left", "right", "ok", "back"}, name
        assert keys["ok"] == [13]
    assert KEYMAPS["ipanel"]["left"] == [3] and KEYMAPS["ipanel"]["back"] == [340]
    assert keymap_for("No Such Box")[0] == "standard" and keymap_for(None)[0] == "standard"


def test_the_catalogs_hold_the_same_keys_and_every_key_the_pages_use():
    keys = {"zh-CN": check_catalogs(TEXTS, own_names=("settings.lang_zh",))}
    used: set[str] = set()
    for path in [*(TV_DIR / "templates").glob("*.html"), *(TV_DIR / "static").glob("*.js")]:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"t\('([a-z_]+\.[a-z_.]+)'", text))
        used |= set(re.findall(r"TV\.text\('([a-z_]+\.[a-z_.]+)'", text))
        used |= set(re.findall(r"say\('([a-z_]+\.[a-z_.]+)'", text))
        used |= set(re.findall(r"note\('([a-z_]+\.[a-z_.]+)'", text))
    assert len(used) > 40
    assert used <= keys["zh-CN"], sorted(used - keys["zh-CN"])
    assert all(json.dumps(v, ensure_ascii=False) for v in TEXTS.catalog("zh-CN").values())


def test_the_scripts_open_no_pop_ups():
    """Only the emergency alert may cover the page, and it is part of the page, not a browser dialog."""
    for path in (TV_DIR / "static").glob("*.js"):
        code = path.read_text(encoding="utf-8")
        assert not re.search(r"\b(alert|confirm|prompt)\(|window\.open\(", code), path.name


def test_the_scripts_are_plain_es5():
    """Old STB browsers: no let/const, arrow functions, classes, template strings, modules or fetch."""
    modern = re.compile(r"\b(let|const|class|import|export|async|await)\s|=>|`|\bfetch\(|\bPromise\b")
    for path in (TV_DIR / "static").glob("*.js"):
        code = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
        assert not modern.search(code), f"{path.name}: {modern.search(code)}"
