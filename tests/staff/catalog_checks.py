"""Checks every catalog of the edge's web UIs must pass, whichever UI it belongs to (the staff page, the TV app)."""

from __future__ import annotations

import re

from edge.errors import TITLE_KEYS
from edge.web.i18n import DEFAULT_LANGUAGE, LANGUAGES, Catalogs

_CJK = re.compile(r"[\u4e00-\u9fff]")


def check_catalogs(texts: Catalogs, own_names: tuple[str, ...] = ()) -> set[str]:
    """Every language has every key, no text is empty, English is English (but for `own_names`, a language named
    in itself, like 中文 on the language switch), error pages have titles; returns the keys."""
    keys = {lang: set(texts.catalog(lang)) for lang in LANGUAGES}
    for lang in LANGUAGES:
        missing = sorted(keys[DEFAULT_LANGUAGE] ^ keys[lang])
        assert not missing, f"{texts.directory}/{lang}.json and {DEFAULT_LANGUAGE}.json differ in: {missing}"
        empty = sorted(k for k, v in texts.catalog(lang).items() if not v.strip())
        assert not empty, f"{texts.directory}/{lang}.json has empty texts: {empty}"
    untranslated = sorted(k for k, v in texts.catalog("en").items() if _CJK.search(v) and k not in own_names)
    assert not untranslated, f"{texts.directory}/en.json still has Chinese in: {untranslated}"
    assert TITLE_KEYS <= keys[DEFAULT_LANGUAGE], sorted(TITLE_KEYS - keys[DEFAULT_LANGUAGE])
    return keys[DEFAULT_LANGUAGE]
