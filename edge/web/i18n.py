"""The edge's one translation mechanism: each UI keeps a JSON catalog per language, keyed by names.

Names as keys (not the Chinese text) because a sentence can be reworded in one language without touching the
templates or the other catalog, the same Chinese word can mean two things in two places ("投票" the kind of
submission, "投票" the count of votes), and a test can compare the key sets of the catalogs and of the templates.
Simplified Chinese is the first language; a key missing from a catalog shows the Chinese text, then the key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"


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


class Catalogs:
    """One UI's strings: `<directory>/<language>.json`, each a flat object of key → text with {placeholders}."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._loaded: dict[str, dict[str, str]] = {}

    def catalog(self, lang: str) -> dict[str, str]:
        if lang not in LANGUAGES:
            raise ValueError(f"no catalog for language {lang!r}; the languages are {', '.join(LANGUAGES)}")
        if lang not in self._loaded:
            with (self.directory / f"{lang}.json").open(encoding="utf-8") as f:
                data = json.load(f)
            if not isinstance(data, dict):
                raise ValueError(f"{self.directory / lang}.json must hold one JSON object of key → text")
            self._loaded[lang] = {str(k): str(v) for k, v in data.items()}
        return self._loaded[lang]

    def translator(self, lang: str) -> Callable[..., str]:
        """`t(key, **values)` for templates and handlers."""
        primary, fallback = self.catalog(lang), self.catalog(DEFAULT_LANGUAGE)

        def t(key: str, **values: object) -> str:
            text = primary.get(key) or fallback.get(key) or key
            return text.format(**values) if values else text

        return t

    def texts(self, lang: str, prefixes: tuple[str, ...]) -> dict[str, str]:
        """The strings under these key prefixes, for a page's scripts (handed over as JSON)."""
        merged = {**self.catalog(DEFAULT_LANGUAGE), **self.catalog(lang)}
        return {k: v for k, v in merged.items() if k.startswith(prefixes)}
