"""The TV app's strings: one catalog per language (Simplified Chinese first, English), looked up by key.

Templates and scripts never hold a sentence of their own; a key missing from a catalog falls back to Chinese.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
_CATALOGS = Path(__file__).parent / "catalogs"


@cache
def catalog(lang: str) -> dict[str, str]:
    with (_CATALOGS / f"{lang}.json").open(encoding="utf-8") as f:
        data = json.load(f)
    assert isinstance(data, dict)
    return {str(k): str(v) for k, v in data.items()}


def normalize_language(value: str | None) -> str | None:
    """'en', 'en-US', 'zh', 'zh-CN' → a language we have; None for anything else."""
    if not value:
        return None
    low = value.strip().lower()
    if low.startswith("zh"):
        return "zh-CN"
    if low.startswith("en"):
        return "en"
    return None


def translator(lang: str) -> Callable[..., str]:
    primary, fallback = catalog(lang), catalog(DEFAULT_LANGUAGE)

    def t(key: str, **values: object) -> str:
        text = primary.get(key) or fallback.get(key) or key
        return text.format(**values) if values else text

    return t


def texts_for_scripts(lang: str, prefixes: tuple[str, ...]) -> dict[str, str]:
    """The strings a page's scripts need (alerts, forms, states), handed over as JSON."""
    merged = {**catalog(DEFAULT_LANGUAGE), **catalog(lang)}
    return {k: v for k, v in merged.items() if k.startswith(prefixes)}
