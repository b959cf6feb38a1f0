"""The officials' web page in headless chromium against a real hub holding the demo city (14 towns, 85 villages):
a town editor drafts and submits a notice for two villages, the town reviewer approves it from the review queue
with its TV preview; every page fits an office PC and a phone, in Chinese and English, and fetches nothing from
anywhere but the hub."""

from __future__ import annotations

import subprocess
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from deploy.sample_city import DEMO_PASSWORD
from tests.browser import chromium, save_screenshot

from .officials_page_kit import (
    ADMIN,
    EDITOR,
    OTHER_REVIEWER,
    REVIEWER,
    CityHub,
    city_hub_fixture,  # noqa: F401 (the fixture `city_hub`)
    log_in,
    log_out,
    requests_elsewhere,
    tiny_png,
    wait_done_on,
    wait_text,
)

OFFICE = (1366, 768)
PHONE = (390, 844)


def _draft_and_submit(hub: CityHub, title: str, villages: list[str], priority: str = "normal") -> str:
    token = hub.login_token(EDITOR)
    status, notice = hub.api("POST", "/api/v1/notices", {
        "title": title, "body": "请各村做好准备。\n第二段。", "area": "community", "priority": priority,
        "scope": ",".join(f"village:{v}" for v in villages)}, token=token)
    assert status == 201, notice
    assert hub.api("POST", f"/api/v1/notices/{notice['id']}/submit", {}, token=token)[0] == 200
    return str(notice["id"])


def _no_overflow(driver: webdriver.Chrome) -> int:
    return int(driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def test_a_town_editor_submits_a_notice_for_two_villages_and_the_town_reviewer_approves_it_with_a_preview(
    city_hub: CityHub, tmp_path: Path
) -> None:
    with chromium(*OFFICE) as browser:
        log_in(browser, city_hub.url, EDITOR)
        assert "李娜" in browser.find_element(By.ID, "whoami").text
        assert "青溪镇" in browser.find_element(By.ID, "my-scope").text
        browser.find_element(By.ID, "new-notice").click()
        picker = browser.find_element(By.ID, "scope-picker")
        offered = {e.get_attribute("value") for e in picker.find_elements(By.CSS_SELECTOR, "input[name=target]")}
        assert "village:dongshan" in offered and "town:qingxi" in offered
        assert not [v for v in offered if v.startswith("village:baihe") or v == "city"]  # only its own town

        browser.find_element(By.ID, "notice-title").send_keys("青溪镇冬季用电安全提醒")
        browser.find_element(By.ID, "notice-body").send_keys("请检查家中电线，不要私拉乱接。")
        picker.find_element(By.CSS_SELECTOR, "input[value='village:dongshan']").click()
        picker.find_element(By.CSS_SELECTOR, "input[value='village:xishan']").click()
        browser.find_element(By.ID, "attach-file").send_keys(str(tiny_png(tmp_path / "提醒.png")))
        wait_text(browser, "#upload-percent", "上传完成")
        assert browser.find_element(By.ID, "upload-progress").get_attribute("value") == "100"
        assert len(browser.find_elements(By.CSS_SELECTOR, "#attachments li")) == 1
        save_screenshot(browser, "officials-editor-1366")
        assert requests_elsewhere(browser, city_hub.url) == []
        browser.find_element(By.ID, "submit-button").click()
        wait_text(browser, "#my-in-review", "青溪镇冬季用电安全提醒")
        save_screenshot(browser, "officials-worklist-editor-1366")
        row = browser.find_element(By.CSS_SELECTOR, "#my-in-review tr.notice")
        notice_id = str(row.get_attribute("data-id"))
        assert "东山村" in row.text and "西山村" in row.text
        log_out(browser)

        log_in(browser, city_hub.url, REVIEWER)
        assert "青溪镇冬季用电安全提醒" in browser.find_element(By.ID, "to-review").text
        save_screenshot(browser, "officials-worklist-1366")
        browser.find_element(By.LINK_TEXT, "审核").click()
        save_screenshot(browser, "officials-review-queue-1366")
        browser.find_element(By.CSS_SELECTOR, f"tr.notice[data-id='{notice_id}'] a").click()
        frame = browser.find_element(By.ID, "tv-preview")
        browser.switch_to.frame(frame)
        WebDriverWait(browser, 30).until(EC.presence_of_element_located((By.CSS_SELECTOR, "img.picture")))
        assert "青溪镇冬季用电安全提醒" in browser.find_element(By.CSS_SELECTOR, ".notice-title").text
        assert browser.execute_script("return [window.innerWidth, window.innerHeight]") == [1280, 720]
        title_px = browser.execute_script(
            "return parseFloat(getComputedStyle(document.querySelector('.notice-title')).fontSize)")
        assert title_px >= 32  # the TV's rule for text at 1280×720
        browser.switch_to.default_content()
        save_screenshot(browser, "officials-review-preview-1366")
        assert requests_elsewhere(browser, city_hub.url) == []
        browser.find_element(By.ID, "approve-button").click()
        wait_done_on(browser, city_hub.url + "/admin/review", "已通过")  # back to the queue, which says so
        status, notice = city_hub.api("GET", f"/api/v1/notices/{notice_id}")
        assert status == 200 and notice["state"] == "published"
        assert notice["targets"] == ["village:dongshan", "village:xishan"] and notice["reviewed_by"] == REVIEWER
        assert len(notice["attachments"]) == 1

        browser.get(city_hub.url + "/admin/villages")
        groups = browser.find_elements(By.CSS_SELECTOR, "section.town-group")
        assert [g.get_attribute("data-town") for g in groups] == ["qingxi"]  # a town reviewer sees its own town
        assert "东山村" in groups[0].text and "未接入设备" in groups[0].text
        save_screenshot(browser, "officials-villages-town-1366")


def test_the_pages_fit_a_phone_show_chinese_and_switch_to_english(city_hub: CityHub) -> None:
    notice_id = _draft_and_submit(city_hub, "手机上审核的通知", ["dongshan", "xishan"])
    with chromium(*PHONE) as phone:
        log_in(phone, city_hub.url, EDITOR)
        for page, shot in (("/admin/", "worklist"), ("/admin/notices/new", "editor")):
            phone.get(city_hub.url + page)
            assert _no_overflow(phone) <= 0, page
            save_screenshot(phone, f"officials-{shot}-390")
        log_out(phone)
        log_in(phone, city_hub.url, "shi-shenhe")  # the city reviewer
        for page, shot in (("/admin/review", "review-queue"), (f"/admin/review/{notice_id}", "review-preview"),
                           ("/admin/villages", "villages")):
            phone.get(city_hub.url + page)
            assert _no_overflow(phone) <= 0, page
            assert requests_elsewhere(phone, city_hub.url) == []
            save_screenshot(phone, f"officials-{shot}-390")
        towns = phone.find_elements(By.CSS_SELECTOR, "section.town-group")
        assert len(towns) == 14 and len(phone.find_elements(By.CSS_SELECTOR, "tr.village")) == 85
        assert "青溪镇" in phone.page_source and "Asia" not in phone.page_source
        phone.find_element(By.ID, "lang-switch").click()
        wait_text(phone, "h1", "Villages and their boxes")
        assert phone.find_element(By.ID, "logout").text == "Log out"
        assert phone.get_cookie("vn_lang")["value"] == "en"  # type: ignore[index]
    with chromium(*OFFICE) as office:
        log_in(office, city_hub.url, "shi-shenhe")
        office.get(city_hub.url + "/admin/villages")
        save_screenshot(office, "officials-villages-1366")
        assert _no_overflow(office) <= 0
    # Chinese text is drawn with a CJK font the machine has (nothing is fetched from outside for it).
    fonts = subprocess.run(["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True).stdout
    assert "Noto Sans CJK SC" in fonts


def test_a_rejected_notice_comes_back_to_its_editor_with_the_reason_and_another_towns_reviewer_cannot_decide_it(
    city_hub: CityHub,
) -> None:
    notice_id = _draft_and_submit(city_hub, "需要修改的通知", ["dongshan"])
    with chromium(*OFFICE) as browser:
        log_in(browser, city_hub.url, OTHER_REVIEWER)
        assert "需要修改的通知" not in browser.find_element(By.ID, "to-review").text
        browser.get(f"{city_hub.url}/admin/review/{notice_id}")
        assert "不在您的权限范围" in browser.find_element(By.ID, "refused").text
        assert not browser.find_elements(By.ID, "approve-button")
        log_out(browser)

        log_in(browser, city_hub.url, REVIEWER)
        browser.get(f"{city_hub.url}/admin/review/{notice_id}")
        browser.find_element(By.ID, "reject-button").click()
        wait_text(browser, "#message", "请写明理由")  # no reason, nothing sent
        assert city_hub.api("GET", f"/api/v1/notices/{notice_id}")[1]["state"] == "in_review"
        browser.find_element(By.ID, "reject-reason").send_keys("请写明停电的具体时间。")
        browser.find_element(By.ID, "reject-button").click()
        wait_done_on(browser, city_hub.url + "/admin/review", "已退回")  # back to the queue, which says so
        log_out(browser)

        log_in(browser, city_hub.url, EDITOR)
        rejected = browser.find_element(By.ID, "my-rejected")
        assert "需要修改的通知" in rejected.text and "请写明停电的具体时间。" in rejected.text
        rejected.find_element(By.LINK_TEXT, "修改").click()
        title = browser.find_element(By.ID, "notice-title")
        title.clear()
        title.send_keys("需要修改的通知（已补充时间）")
        # A time picked in the date widget is Beijing time (the widget's keys differ by locale; set it directly).
        browser.execute_script("document.getElementById('notice-publish-at').value = '2030-01-05T09:00'")
        browser.find_element(By.ID, "submit-button").click()
        wait_text(browser, "#my-in-review", "已补充时间")
        browser.get(f"{city_hub.url}/admin/notices/{notice_id}/edit")
        assert "不能修改" in browser.find_element(By.ID, "refused").text  # in review: a reviewer must reject first
    notice = city_hub.api("GET", f"/api/v1/notices/{notice_id}")[1]
    assert notice["state"] == "in_review" and notice["title"] == "需要修改的通知（已补充时间）"
    assert notice["publish_at"] == "2030-01-05T01:00:00Z"


def test_a_city_admin_manages_accounts_units_and_an_org_sheet_reads_the_audit_log_and_changes_its_password(
    city_hub: CityHub, tmp_path: Path
) -> None:
    with chromium(*OFFICE) as browser:
        log_in(browser, city_hub.url, ADMIN)
        browser.find_element(By.LINK_TEXT, "账号与组织").click()
        assert len(browser.find_elements(By.CSS_SELECTOR, "tr.org-town")) == 14
        browser.find_element(By.ID, "user-user").send_keys("baihe-bianji")
        browser.find_element(By.ID, "user-name").send_keys("吴芳")
        Select(browser.find_element(By.ID, "user-scope")).select_by_visible_text("白河镇")
        browser.find_element(By.CSS_SELECTOR, "#user-form input[value=editor]").click()
        browser.find_element(By.ID, "user-password").send_keys("baihe-2026-pw")
        browser.find_element(By.ID, "user-button").click()
        wait_text(browser, "#message", "账号已保存")
        WebDriverWait(browser, 30).until(
            EC.presence_of_element_located((By.CSS_SELECTOR, "tr.user[data-user='baihe-bianji']")))
        row = browser.find_element(By.CSS_SELECTOR, "tr.user[data-user='baihe-bianji']")
        assert "吴芳" in row.text and "白河镇" in row.text and "编辑" in row.text
        assert city_hub.api("POST", "/api/v1/login", {"user": "baihe-bianji", "password": "baihe-2026-pw"},
                            token=None)[0] == 200
        row.find_element(By.CSS_SELECTOR, "button.disable-user").click()
        wait_text(browser, "tr.user[data-user='baihe-bianji']", "已停用")
        assert city_hub.api("POST", "/api/v1/login", {"user": "baihe-bianji", "password": "baihe-2026-pw"},
                            token=None)[0] == 403

        browser.find_element(By.ID, "unit-id").send_keys("baihe-pcs")
        browser.find_element(By.ID, "unit-name").send_keys("白河派出所")
        Select(browser.find_element(By.ID, "unit-parent")).select_by_visible_text("白河镇")
        browser.find_element(By.ID, "unit-button").click()
        wait_text(browser, "tr.org-town[data-town='baihe']", "白河派出所")
        save_screenshot(browser, "officials-accounts-1366")

        bad = tmp_path / "新镇.csv"
        bad.write_text("类型,编号,名称,上级\n镇街,xinzhen,新镇,\n村,xinzhen-01,新一村,xinzhen\n村,xinzhen-02,新二村,nowhere\n",
                       encoding="utf-8")
        browser.find_element(By.ID, "import-file").send_keys(str(bad))
        browser.find_element(By.ID, "import-button").click()
        wait_text(browser, "#message", "第 4 行")
        assert "没有导入任何内容" in browser.find_element(By.ID, "message").text
        assert not browser.find_elements(By.CSS_SELECTOR, "tr.org-town[data-town='xinzhen']")  # nothing imported
        bad.write_text("类型,编号,名称,上级\n镇街,xinzhen,新镇,\n村,xinzhen-01,新一村,xinzhen\n", encoding="utf-8")
        browser.find_element(By.ID, "import-file").send_keys(str(bad))
        browser.find_element(By.ID, "import-button").click()
        wait_text(browser, "#message", "导入完成")
        wait_text(browser, "tr.org-town[data-town='xinzhen']", "新镇")

        browser.find_element(By.LINK_TEXT, "操作日志").click()
        mine = [(e.get_attribute("data-action"), e.text) for e in
                browser.find_elements(By.CSS_SELECTOR, f"tr.audit-entry[data-user='{ADMIN}']")][:5]
        assert [a for a, _ in mine] == ["org_import", "unit_add", "user_disable", "user_add", "login"]  # newest first
        assert "停用账号" in mine[2][1] and "白河派出所" in mine[1][1]
        refused = browser.find_element(By.CSS_SELECTOR, "tr.audit-entry[data-user='baihe-bianji']")
        assert refused.get_attribute("data-action") == "login_failed"  # the disabled account's try

        browser.find_element(By.ID, "password-link").click()
        browser.find_element(By.ID, "old-password").send_keys(DEMO_PASSWORD)
        browser.find_element(By.ID, "new-password").send_keys("a-new-pass-2027")
        browser.find_element(By.ID, "password-again").send_keys("a-new-pass-2028")
        browser.find_element(By.ID, "password-button").click()
        wait_text(browser, "#message", "两次输入的新密码不一样")
        browser.find_element(By.ID, "password-again").clear()
        browser.find_element(By.ID, "password-again").send_keys("a-new-pass-2027")
        browser.find_element(By.ID, "password-button").click()
        wait_text(browser, "#message", "密码已修改")
    assert city_hub.api("POST", "/api/v1/login", {"user": ADMIN, "password": "a-new-pass-2027"}, token=None)[0] == 200


def test_a_reviewer_publishes_an_emergency_notice_at_once_from_its_preview_which_shows_the_tvs_alert(
    city_hub: CityHub,
) -> None:
    notice_id = _draft_and_submit(city_hub, "山洪预警：请立即转移", ["dongshan", "xishan"], priority="emergency")
    with chromium(*OFFICE) as browser:
        log_in(browser, city_hub.url, REVIEWER)
        browser.get(f"{city_hub.url}/admin/review/{notice_id}")
        browser.switch_to.frame(browser.find_element(By.ID, "tv-preview"))
        alert = WebDriverWait(browser, 30).until(EC.visibility_of_element_located((By.ID, "alert")))
        assert "紧急通知" in alert.text and "山洪预警：请立即转移" in alert.text
        browser.switch_to.default_content()
        assert browser.find_element(By.ID, "notice-author").text == "李娜（qingxi-bianji）"
        save_screenshot(browser, "officials-review-emergency-1366")
        browser.find_element(By.ID, "publish-button").click()
        wait_done_on(browser, city_hub.url + "/admin/review", "已立即发布")  # back to the queue, which says so
        save_screenshot(browser, "officials-review-queue-after-publish-1366")
        browser.get(city_hub.url + "/admin/")
        assert "山洪预警：请立即转移" in browser.find_element(By.ID, "published").text
        notice = city_hub.api("GET", f"/api/v1/notices/{notice_id}")[1]
        assert notice["state"] == "published" and notice["priority"] == "emergency"

        # The danger has passed: the reviewer takes it back off the TVs, after saying yes to the question.
        withdraw = browser.find_element(By.CSS_SELECTOR, f"#published tr.notice[data-id='{notice_id}'] .withdraw-notice")
        withdraw.click()
        WebDriverWait(browser, 30).until(EC.alert_is_present()).dismiss()
        assert city_hub.api("GET", f"/api/v1/notices/{notice_id}")[1]["state"] == "published"
        withdraw.click()
        WebDriverWait(browser, 30).until(EC.alert_is_present()).accept()
        wait_text(browser, "#message", "已撤回")
    assert city_hub.api("GET", f"/api/v1/notices/{notice_id}")[1]["state"] == "withdrawn"
