"""Remote-control key codes per STB middleware: each map names the codes of up, down, left, right, OK and back.

iPanel sends its arrows as 1–4 and back as 340; most others send 37–40 with back as 8, 27, 461 or 640.
"""

from __future__ import annotations

from typing import TypedDict


class KeyMap(TypedDict):
    up: list[int]
    down: list[int]
    left: list[int]
    right: list[int]
    ok: list[int]
    back: list[int]



def _arrow_keys(back: list[int]) -> KeyMap:
    return {"up": [38], "down": [40], "left": [37], "right": [39], "ok": [13], "back": back}


# Number keys are 48–57 (96–105 on a keypad) under every middleware, so they need no map.
KEYMAPS: dict[str, KeyMap] = {
    "ipanel": {"up": [1], "down": [2], "left": [3], "right": [4], "ok": [13], "back": [340]},
    "huawei": _arrow_keys([8]),
    "zte": _arrow_keys([8, 640]),
    "hbbtv": _arrow_keys([461]),  # HbbTV and webOS name it VK_BACK
    # A browser or an STB we could not identify: every back code the others use, and the PC's Escape.
    "standard": _arrow_keys([8, 27, 461, 640]),
}
DEFAULT_MIDDLEWARE = "standard"


def keymap_for(middleware: str | None) -> tuple[str, KeyMap]:
    """The map for a middleware name as an STB or a URL spells it (case and spaces ignored); the default else."""
    name = (middleware or "").strip().lower().replace("-", "").replace(" ", "")
    for known in KEYMAPS:
        if name.startswith(known):
            return known, KEYMAPS[known]
    return DEFAULT_MIDDLEWARE, KEYMAPS[DEFAULT_MIDDLEWARE]
