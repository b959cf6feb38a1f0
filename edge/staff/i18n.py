"""Languages of the staff page: Simplified Chinese first (the templates' own text), English from a catalog.

Templates write `{{ _("中文") }}`; the English catalog maps each such message id to its translation, and a test
checks that every message the templates use has one, so a new string cannot go untranslated unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable

from .catalog_en import EN

LANGUAGES = ("zh", "en")
DEFAULT = "zh"
COOKIE = "vn_lang"
CATALOGS: dict[str, dict[str, str]] = {"zh": {}, "en": EN}


def pick_language(cookie: str | None) -> str:
    return cookie if cookie in LANGUAGES else DEFAULT


def gettext_for(lang: str) -> Callable[[str], str]:
    catalog = CATALOGS.get(lang, {})

    def gettext(message: str) -> str:
        return catalog.get(message, message)

    return gettext
