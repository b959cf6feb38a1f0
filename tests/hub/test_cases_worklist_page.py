"""The case worklist and the case page in headless chromium, against the real hub app on 127.0.0.1 (in this process;
the browser runs in a thread so the hub keeps serving): a town dispatcher filters to overdue cases, opens one, reads
the resident's words and the history, and reassigns it; the unit's handler finds it in its list and returns it with a
reason; the dispatcher sees the reason and assigns again. A handler of another unit does not see it, and its forged
form POST is refused with nothing changed. A duplicate merged on the page gets the answer given on the page.
"""

from __future__ import annotations

import asyncio
import re
import uuid

from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from hub.case_deadlines import sweep
from hub.validate import now
from tests.browser import chromium, resize, save_screenshot

from .case_kit import CaseWorld, case_world, ops_of_kind, shanghai
from .kit import HubKit
from .official_kit import PASSWORD

OFFICE = (1366, 768)
PHONE = (390, 844)
WORDS = "村口的路灯坏了三天了，晚上老人出门看不见路。"


def _wait(driver: webdriver.Chrome, css: str, text: str) -> None:
    """Generous: two cores are shared by several test runs."""
    WebDriverWait(driver, 30).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))


def _log_in(driver: webdriver.Chrome, base: str, user: str) -> None:
    driver.delete_all_cookies()
    driver.get(base + "/admin/login")
    driver.find_element(By.ID, "login-user").send_keys(user)
    driver.find_element(By.ID, "login-password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-button").click()
    _wait(driver, "#whoami", user)


def _listed(driver: webdriver.Chrome) -> set[str]:
    return {str(r.get_attribute("data-id")) for r in driver.find_elements(By.CSS_SELECTOR, "tr.case")}


def _search(driver: webdriver.Chrome, text: str) -> None:
    """Types into the 编号或内容 box and filters; waits for the page that shows that search."""
    box = driver.find_element(By.ID, "filter-search")
    box.clear()
    box.send_keys(text)
    driver.find_element(By.ID, "filter-button").click()
    WebDriverWait(driver, 30).until(EC.staleness_of(box))  # the page with the results replaced this one
    WebDriverWait(driver, 30).until(
        lambda d: d.find_element(By.ID, "filter-search").get_attribute("value") == text.strip())


def _tab_to(driver: webdriver.Chrome, element_id: str, presses: int = 80) -> None:
    """Move the focus with the Tab key alone until it reaches the element: the page works without a mouse."""
    for _ in range(presses):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        if driver.switch_to.active_element.get_attribute("id") == element_id:
            return
    raise AssertionError(f"#{element_id} cannot be reached with the Tab key")


def _no_overflow(driver: webdriver.Chrome) -> int:
    return int(driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def _screenshots(driver: webdriver.Chrome, name: str) -> None:
    """The page at an office PC's size and at a phone's, with nothing wider than the screen."""
    for width, height in (OFFICE, PHONE):
        resize(driver, width, height)
        driver.refresh()
        assert _no_overflow(driver) <= 0, (name, width)
        save_screenshot(driver, f"{name}-{width}")
    resize(driver, *OFFICE)


async def _overdue_case(world: CaseWorld) -> tuple[str, str]:
    """A street-light report routed to 城管办 on Monday 2 November 2026, not signed for by Tuesday's end, and a fresh
    one from Wednesday; returns the overdue case's id and the fresh one's."""
    store = world.kit.hub.store
    await world.route("incident", "east-cg", 3, category="道路照明")
    store.clock = lambda: shanghai(2026, 11, 2)
    late = await world.case_of(await world.submit("incident", {"category": "道路照明", "text": WORDS}))
    await sweep(store, world.kit.hub.down, shanghai(2026, 11, 4, 9))
    store.clock = lambda: shanghai(2026, 11, 4)
    fresh = await world.case_of(await world.submit("incident", {"category": "道路照明", "text": "路灯不亮"}))
    store.clock = now  # back to today: page sessions are checked against the real time
    return late["id"], fresh["id"]


def _dispatcher_reassigns(driver: webdriver.Chrome, base: str, late: str, fresh: str) -> None:
    _log_in(driver, base, "east-disp")
    driver.find_element(By.ID, "nav-cases").click()
    _wait(driver, "h1", "工单")
    assert late in _listed(driver)  # the overdue section of a dispatcher's worklist
    driver.find_element(By.ID, "filter-overdue").click()
    driver.find_element(By.ID, "filter-button").click()
    _wait(driver, "#section-filtered h2", "筛选结果")
    assert "overdue=true" in driver.current_url  # a link that can be shared
    assert _listed(driver) == {late}
    row = driver.find_element(By.CSS_SELECTOR, f"tr.case[data-id='{late}']")
    assert "超时" in row.text and "城关镇城管办" in row.text and "东庄村" in row.text and "待签收" in row.text
    number = row.find_element(By.CSS_SELECTOR, "a").text  # as a caller would read it out
    _screenshots(driver, "officials-cases")
    _search(driver, "路灯不亮")  # the fresh case's words, with the overdue box still ticked: nothing
    assert _listed(driver) == set()
    driver.find_element(By.ID, "filter-overdue").click()
    _search(driver, "路灯不亮")
    assert _listed(driver) == {fresh}
    _search(driver, number)
    assert _listed(driver) == {late}

    driver.find_element(By.CSS_SELECTOR, f"tr.case[data-id='{late}'] a").click()
    _wait(driver, "#resident-words", WORDS)
    history = driver.find_element(By.ID, "case-history").text
    assert "受理" in history and "超时" in history and "升级" in history
    _screenshots(driver, "officials-case")
    Select(driver.find_element(By.ID, "assign-unit")).select_by_visible_text("城关镇民政办")
    driver.find_element(By.ID, "assign-button").click()
    _wait(driver, "#done", "已派单")
    assert "城关镇民政办" in driver.find_element(By.ID, "case-unit").text
    assert fresh != late


def _handler_returns(driver: webdriver.Chrome, base: str, late: str) -> None:
    _log_in(driver, base, "mz-handler")
    driver.get(base + "/admin/cases")
    _wait(driver, "#section-to_accept h2", "待签收")
    assert late in {str(r.get_attribute("data-id")) for r in
                    driver.find_elements(By.CSS_SELECTOR, "#section-to_accept tr.case")}
    driver.find_element(By.CSS_SELECTOR, f"tr.case[data-id='{late}'] a").click()
    _wait(driver, "#resident-words", WORDS)
    assert driver.find_elements(By.ID, "assign-form") == []  # a handler does not dispatch
    driver.find_element(By.ID, "return-reason").send_keys("路灯归城管办管，不是民政办的事。")
    driver.find_element(By.ID, "return-button").click()
    _wait(driver, "#done", "已退回")
    assert late not in _listed(driver)  # back with the dispatcher: gone from the handler's list


def _dispatcher_assigns_again(driver: webdriver.Chrome, base: str, late: str) -> None:
    _log_in(driver, base, "east-disp")
    driver.get(base + "/admin/cases")
    _wait(driver, "#section-dispatch h2", "待派单")
    driver.find_element(By.CSS_SELECTOR, f"#section-dispatch tr.case[data-id='{late}'] a").click()
    _wait(driver, "#case-history", "路灯归城管办管，不是民政办的事。")
    Select(driver.find_element(By.ID, "assign-unit")).select_by_visible_text("城关镇城管办")
    driver.find_element(By.ID, "assign-button").click()
    _wait(driver, "#done", "已派单")


def _other_unit_is_refused(driver: webdriver.Chrome, base: str, late: str) -> None:
    _log_in(driver, base, "pcs-handler")
    driver.get(base + "/admin/cases")
    _wait(driver, "#section-to_accept h2", "待签收")
    assert late not in _listed(driver)
    # A form built by hand in the page, with this session's own CSRF token, for a case of another unit.
    driver.execute_script("""
        var f = document.createElement('form'); f.method = 'post'; f.action = arguments[0];
        var i = document.createElement('input'); i.type = 'hidden'; i.name = 'csrf';
        i.value = document.querySelector('meta[name=csrf-token]').content; f.appendChild(i);
        document.body.appendChild(f); f.submit();""", f"/admin/cases/{late}/accept")
    _wait(driver, "#refused", "权限范围")


async def test_a_dispatcher_reassigns_an_overdue_case_a_handler_returns_it_and_another_unit_is_refused(
        kit: HubKit) -> None:
    world = await case_world(kit)
    late, fresh = await _overdue_case(world)
    base = str(kit.client.make_url("")).rstrip("/")

    def dispatch_and_return() -> None:
        with chromium(*OFFICE) as driver:
            _dispatcher_reassigns(driver, base, late, fresh)
            _handler_returns(driver, base, late)
            _dispatcher_assigns_again(driver, base, late)
            _other_unit_is_refused(driver, base, late)

    await asyncio.to_thread(dispatch_and_return)
    case = await world.read(late)
    actions = [e["action"] for e in case["history"]]
    assert actions == ["open", "overdue", "escalate", "reassign", "return", "assign"], actions
    assert case["history"][4]["user"] == "mz-handler" and "不是民政办的事" in case["history"][4]["detail"]
    assert (case["state"], case["unit"]) == ("assigned", "east-cg")  # the forged accept changed nothing


async def test_a_duplicate_merged_on_the_page_gets_the_answer_given_on_the_page_on_its_own_tv(kit: HubKit) -> None:
    world = await case_world(kit)
    await world.route("incident", "east-mz", 3)
    first_sub = await world.submit("incident", {"category": "道路照明", "text": WORDS})
    edge = await kit.enroll("e2")
    second_sub = str(uuid.uuid4())
    status, _ = await edge.push(edge.batch(edge.next_entries([world.op("incident", {"text": "路灯坏了"}, second_sub)])))
    assert status == 200
    first, second = await world.case_of(first_sub), await world.case_of(second_sub)
    await world.act(first["id"], "accept", world.handler)
    base = str(kit.client.make_url("")).rstrip("/")

    def merge_and_answer() -> None:
        with chromium(*OFFICE) as driver:
            _log_in(driver, base, "east-disp")
            driver.get(f"{base}/admin/cases/{second['id']}")
            _wait(driver, "#resident-words", "路灯坏了")
            # By keyboard alone: Tab to the merge list, pick the first case offered, Tab to the button, Enter.
            _tab_to(driver, "merge-into")
            ActionChains(driver).send_keys(Keys.ARROW_DOWN).perform()
            assert Select(driver.find_element(By.ID, "merge-into")).first_selected_option.get_attribute(
                "value") == first["id"]
            _tab_to(driver, "merge-button")
            ActionChains(driver).send_keys(Keys.ENTER).perform()
            _wait(driver, "#done", "已合并")
            assert "已办结" in driver.find_element(By.ID, "case-state").text
            driver.find_element(By.ID, "merged-into").click()
            _wait(driver, "#duplicates", "南庄村")

            _log_in(driver, base, "mz-handler")
            driver.get(f"{base}/admin/cases/{first['id']}")
            driver.find_element(By.ID, "reply-text").send_keys("已派人更换灯泡，今晚恢复照明。")
            driver.find_element(By.ID, "reply-button").click()
            _wait(driver, "#done", "已答复")

    await asyncio.to_thread(merge_and_answer)
    for village, sub_id in (("e1", first_sub), ("e2", second_sub)):
        ops = await kit.down_ops(village)
        assert [op["body"]["text"] for op in ops_of_kind(ops, "reply")
                if op["body"]["submission_id"] == sub_id] == ["已派人更换灯泡，今晚恢复照明。"]
        labels = [op["body"]["label"] for op in ops_of_kind(ops, "case_status") if op["id"] == sub_id]
        assert labels[-1] == "已答复"


async def _page_session(kit: HubKit, user: str) -> str:
    """Log in through the page's form (the client keeps the session cookie); returns the page's CSRF token."""
    resp = await kit.client.post("/admin/login", data={"user": user, "password": PASSWORD})
    assert resp.status == 200, await resp.text()
    page = await kit.client.get("/admin/cases")
    match = re.search(r'name="csrf-token" content="([^"]+)"', await page.text())
    assert match
    return match.group(1)


async def test_a_refused_form_shows_the_hubs_sentence_on_the_case_page_and_changes_nothing(kit: HubKit) -> None:
    world = await case_world(kit)
    case = await world.case_of(await world.submit("incident", {"category": "道路照明", "text": WORDS}))
    csrf = await _page_session(kit, "east-disp")

    resp = await kit.client.post(f"/admin/cases/{case['id']}/merge", data={"csrf": csrf, "into": case["id"]})
    assert resp.status == 422
    page = await resp.text()
    assert "不能把工单合并到它自己" in page and WORDS in page  # the case again, with the sentence
    resp = await kit.client.post(f"/admin/cases/{case['id']}/assign", data={"csrf": "forged", "unit": "east-mz"})
    assert resp.status == 403 and (await resp.json())["error"] == "csrf"
    resp = await kit.client.get("/admin/cases?state=lost")
    assert resp.status == 400 and "lost" in await resp.text()
    assert await world.read(case["id"]) == case

    resp = await kit.client.post(f"/admin/cases/{case['id']}/assign", data={"csrf": csrf, "unit": "east-mz"},
                                 allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == f"/admin/cases/{case['id']}?done=assign"
    assert (await world.read(case["id"]))["unit"] == "east-mz"


def _section(page: str, key: str) -> str:
    start = page.index(f'id="section-{key}"')
    return page[start:page.index("</section>", start)]


async def test_the_city_dispatcher_finds_a_towns_escalated_case_among_its_overdue_ones(kit: HubKit) -> None:
    world = await case_world(kit)
    late, fresh = await _overdue_case(world)
    await _page_session(kit, "city-disp")
    page = await (await kit.client.get("/admin/cases")).text()
    overdue = _section(page, "overdue")
    assert f'data-id="{late}"' in overdue and "已升级" in overdue and f'data-id="{fresh}"' not in overdue
    assert f'data-id="{fresh}"' in _section(page, "recent")  # the city also sees the latest of everything
    page = await (await kit.client.get(f"/admin/cases/{late}")).text()
    assert 'id="assign-form"' in page and 'id="merge-form"' in page and 'id="accept-form"' not in page


async def test_a_duplicate_is_merged_by_typing_the_main_cases_whole_number_found_only_inside_the_officials_scope(
        kit: HubKit) -> None:
    world = await case_world(kit)
    main = await world.case_of(await world.submit("incident", {"category": "道路照明", "text": WORDS}))
    duplicate = await world.case_of(await world.submit("incident", {"text": "路灯坏了"}))
    west = await kit.enroll("w1")
    west_sub = str(uuid.uuid4())
    status, _ = await west.push(west.batch(west.next_entries([world.op("incident", {"text": "路灯坏了"}, west_sub)])))
    assert status == 200
    elsewhere = await world.case_of(west_sub)  # 河西镇's: not in 城关镇's dispatcher's scope
    csrf = await _page_session(kit, "east-disp")

    async def merge(form: dict[str, str]) -> tuple[int, str]:
        resp = await kit.client.post(f"/admin/cases/{duplicate['id']}/merge", data={"csrf": csrf, **form},
                                     allow_redirects=False)
        return resp.status, await resp.text()

    for form, status, sentence in (
            ({"into_number": elsewhere["number"]}, 422, f"您的范围内没有编号为 {elsewhere['number']} 的工单"),
            ({"into_number": main["number"].split("-")[1]}, 400, "请填写完整的工单号"),
            ({}, 400, "请从列表中选择主工单"),
            ({"into": main["id"], "into_number": main["number"]}, 400, "请只用一种方式")):
        answer = await merge(form)
        assert answer[0] == status and sentence in answer[1], (form, answer[0])
        assert (await world.read(duplicate["id"]))["state"] == "new"  # nothing changed

    status, _ = await merge({"into_number": f"  {main['number']} "})
    assert status == 303
    merged = await world.read(duplicate["id"])
    assert merged["state"] == "closed" and merged["merged_into"] == main["id"]
