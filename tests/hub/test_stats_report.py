"""The monthly report (月报) as a PDF, over the hand-computed November cases of tests/hub/test_stats_cases.py: on
demand from GET /api/v1/reports/monthly.pdf, its text (pdftotext) holds the figures and the overdue list, and its
pages render to PNG (pdftoppm); a town's viewer gets only its town; and the hub writes last month's reports of the
city and each town itself on the first of the month, once, told the time by an injected clock (no sleeping).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest

from hub.report_schedule import report_path, write_due_reports
from tests.browser import SCREENSHOTS

from .kit import HubKit
from .official_kit import body_of, official
from .test_stats_cases import at, city  # noqa: F401 (the fixture `city`: the hand-computed cases)

NOVEMBER = "month=2026-11"


async def _text(pdf: Path) -> str:
    done = await asyncio.to_thread(subprocess.run, ["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                                   text=True, check=True)
    return str(done.stdout)


def _pages(pdf: Path, out: Path) -> list[Path]:
    """Every page as a PNG at 60 dpi (run in a thread)."""
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(out / "page")], check=True, capture_output=True)
    return sorted(out.glob("page-*.png"))


async def test_the_city_report_of_november_prints_its_figures_charts_and_overdue_list(
    city: HubKit, tmp_path: Path  # noqa: F811
) -> None:
    viewer = await official(city, "shi-chakan", "viewer", "city")
    city.hub.store.clock = lambda: at("11-30 12:00") or 0.0  # sessions expire by the real time: logged in before
    resp = await city.client.get(f"/api/v1/reports/monthly.pdf?scope=city&{NOVEMBER}", headers=viewer)
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "application/pdf"
    assert 'filename="report-city-2026-11.pdf"' in resp.headers["Content-Disposition"]
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(await resp.read())

    text = await _text(pdf)
    assert "全市农村社区公共服务平台 2026-11 月报" in text
    for figure in ("签收及时率", "75.0%", "按时办结率", "57.1%", "满意率", "50.0%", "比上期 ↓ 25.0 个百分点"):
        assert figure in text, figure
    assert "本期受理 9 件，当前超期 2 件" in text and "平均评分 3.25 分" in text
    assert "当前超期工单（2 件）" in text and "c3" in text and "c10" in text and "c2" not in text.split("当前超期工单")[1]
    assert "城关镇" in text and "河西镇" in text  # the ranking and the rates-by-town chart's labels

    pages = await asyncio.to_thread(_pages, pdf, tmp_path)
    assert pages and all(p.stat().st_size > 5_000 for p in pages)  # rendered pages, not blank ones
    SCREENSHOTS.mkdir(exist_ok=True)
    shutil.copy(pages[0], SCREENSHOTS / "report-city-2026-11-page1.png")


async def test_a_town_viewer_gets_its_town_report_and_403_for_the_city_or_another_town(city: HubKit) -> None:  # noqa: F811
    viewer = await official(city, "zhen-chakan", "viewer", "town:east")
    city.hub.store.clock = lambda: at("11-30 12:00") or 0.0
    own = await city.client.get(f"/api/v1/reports/monthly.pdf?{NOVEMBER}", headers=viewer)  # its own scope
    assert own.status == 200 and (await own.read()).startswith(b"%PDF-")
    for scope in ("city", "town:west", "village:w1"):
        resp = await city.client.get(f"/api/v1/reports/monthly.pdf?scope={scope}&{NOVEMBER}", headers=viewer)
        assert (resp.status, (await body_of(resp))["error"]) == (403, "out_of_scope"), scope
    for month in ("2026-13", "2026-1", "2027-01"):  # no such month, not YYYY-MM, not begun yet
        resp = await city.client.get(f"/api/v1/reports/monthly.pdf?month={month}", headers=viewer)
        assert (resp.status, (await body_of(resp))["error"]) == (400, "bad_parameter"), month


@pytest.mark.parametrize("lang", ["en"])
async def test_the_report_is_in_english_for_an_official_who_chose_english(city: HubKit, lang: str,  # noqa: F811
                                                                          tmp_path: Path) -> None:
    viewer = await official(city, "shi-chakan", "viewer", "city")
    city.hub.store.clock = lambda: at("11-30 12:00") or 0.0
    resp = await city.client.get(f"/api/v1/reports/monthly.pdf?{NOVEMBER}", headers=viewer,
                                 cookies={"vn_lang": lang})
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(await resp.read())
    text = await _text(pdf)
    assert "monthly report 2026-11" in text and "Signed for on time" in text and "75.0%" in text


async def test_on_the_first_of_the_month_the_hub_writes_last_months_reports_once(city: HubKit) -> None:  # noqa: F811
    store, config = city.hub.store, city.hub.config
    store.clock = lambda: (at("11-30 00:00") or 0.0) + 86400 + 600  # 2026-12-01 00:10 in Shanghai
    written = await write_due_reports(store, config, store.clock())
    assert sorted(p.name for p in written) == ["city.pdf", "town-east.pdf", "town-west.pdf"]
    city_report = report_path(config.data_dir, "2026-11", "city")
    assert city_report in written and "75.0%" in await _text(city_report)
    assert "城关镇农村社区公共服务平台 2026-11 月报" in await _text(report_path(config.data_dir, "2026-11", "town:east"))
    made = city_report.stat().st_mtime_ns
    store.clock = lambda: (at("11-30 00:00") or 0.0) + 2 * 86400  # the next check, a day later
    assert await write_due_reports(store, config, store.clock()) == []
    assert city_report.stat().st_mtime_ns == made
    assert not list(city_report.parent.glob("*.partial"))
