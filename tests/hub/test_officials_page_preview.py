"""The review page's TV preview keeps the TV app's layout rules: every rule the preview's stylesheet shares with
the TV's (edge/tv/static/tv.css) says the same, so a notice is previewed at the sizes the TV will draw it."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")


def rules(path: Path) -> dict[str, dict[str, str]]:
    text = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
    text = text.split("@media")[0]  # the TV's own screen; the phone's rules follow in a media query
    out: dict[str, dict[str, str]] = {}
    for selectors, body in RULE.findall(text):
        declarations = dict(
            (name.strip(), value.strip()) for name, _, value in (d.partition(":") for d in body.split(";"))
            if name.strip())
        for selector in selectors.split(","):
            out.setdefault(" ".join(selector.split()), {}).update(declarations)
    return out


def test_the_preview_draws_a_notice_with_the_tvs_own_sizes_margins_and_colours() -> None:
    tv = rules(REPO / "edge/tv/static/tv.css")
    preview = rules(REPO / "hub/static/tv_preview.css")
    shared = [s for s in preview if s in tv]
    for needed in (".screen", ".topbar h1", ".content", ".notice .notice-title", ".body", ".tag", ".alert-box"):
        assert needed in shared, needed
    for selector in shared:
        for prop, value in preview[selector].items():
            if prop in tv[selector] and selector not in ("html, body", "html", "body"):
                assert tv[selector][prop] == value, (selector, prop)
    assert preview["body"]["font-size"] == tv["body"]["font-size"] == "32px"
