"""The officials' page in Simplified Chinese first and in English: one JSON catalog per language, keyed by names.

The same approach as the edge's pages (edge/web/i18n.py): names as keys, so a sentence can be reworded in one
language alone and a test can compare the catalogs' key sets; a key missing in English shows the Chinese text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

from aiohttp import web

PAGE_LANGUAGES = ("zh-CN", "en")
FIRST_LANGUAGE = "zh-CN"
LANG_COOKIE = "vn_lang"
CATALOG_DIR = Path(__file__).parent / "page_catalogs"

Translate = Callable[..., str]


@cache
def page_catalog(lang: str) -> dict[str, str]:
    """`page_catalogs/<lang>.json`, a flat object of key → text with {placeholders}, read once."""
    if lang not in PAGE_LANGUAGES:
        raise ValueError(f"the officials' page has no catalog for {lang!r}; it has {', '.join(PAGE_LANGUAGES)}")
    data = json.loads((CATALOG_DIR / f"{lang}.json").read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{CATALOG_DIR / lang}.json must hold one JSON object of key → text")
    return {str(key): str(text) for key, text in data.items()}


def page_language(request: web.Request) -> str:
    """The language the official chose (the `vn_lang` cookie), Chinese unless it says English."""
    chosen = request.cookies.get(LANG_COOKIE, "")
    return "en" if chosen.lower().startswith("en") else FIRST_LANGUAGE


def page_translator(lang: str) -> Translate:
    wanted, chinese = page_catalog(lang), page_catalog(FIRST_LANGUAGE)

    def t(key: str, **values: object) -> str:
        text = wanted.get(key) or chinese.get(key) or key
        return text.format(**values) if values else text

    return t


def script_texts(lang: str) -> dict[str, str]:
    """The sentences the page's scripts show (keys starting with `js.`), for a data attribute."""
    merged = {**page_catalog(FIRST_LANGUAGE), **page_catalog(lang)}
    return {key: text for key, text in merged.items() if key.startswith("js.")}
