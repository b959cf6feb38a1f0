"""The officials' page has every sentence in Chinese and in English: the two catalogs hold the same keys, and every
key the templates and the script name is in them (a missing one would show its bare key to an official)."""

from __future__ import annotations

import re
from pathlib import Path

from hub.org_models import ROLES
from hub.page_i18n import CATALOG_DIR, page_catalog
from hub.page_render import AREA_KEYS

HUB = Path(__file__).resolve().parents[2] / "hub"


def test_the_chinese_and_english_catalogs_hold_the_same_keys() -> None:
    assert set(page_catalog("zh-CN")) == set(page_catalog("en"))
    assert sorted(p.name for p in CATALOG_DIR.glob("*.json")) == ["en.json", "zh-CN.json"]


def test_every_key_the_templates_and_the_script_name_has_a_sentence() -> None:
    named: set[str] = set()
    for template in (HUB / "templates").glob("*.html"):
        named |= set(re.findall(r"\bt\('([a-z_]+\.[a-z_.]+)'", template.read_text(encoding="utf-8")))
    named |= set(re.findall(r'TEXTS\["([a-z_.]+)"\]', (HUB / "static" / "officials.js").read_text(encoding="utf-8")))
    # Keys made from a value: every area, role, notice state, priority and kind of submission.
    named |= {f"area.{a}" for a in AREA_KEYS} | {f"role.{r}" for r in ROLES}
    named |= {f"state.{s}" for s in ("draft", "in_review", "rejected", "scheduled", "published", "withdrawn")}
    named |= {f"priority.{p}" for p in ("normal", "urgent", "emergency")}
    named |= {f"village.{s}" for s in ("online", "offline", "not_enrolled")}
    assert len(named) > 150
    assert sorted(named - set(page_catalog("zh-CN"))) == []
