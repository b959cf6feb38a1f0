"""A rollout's waves: the plan as an official writes it (`v7,10%,100%`) and which village falls in which wave.

Named villages are canaries; consecutive names make one wave. A percentage is cumulative over the villages that
are not canaries: `10%,50%,100%` reaches a tenth of them, then half, then all. The last wave must be `100%`, so
every village in scope is reached, those registered later included (they join the last wave).
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

from .errors import BadInput
from .validate import require_village_id

MAX_WAVES = 20
_PERCENT = re.compile(r"^(\d{1,3})%$")


def parse_waves(value: object) -> list[dict[str, Any]]:
    """`v7,10%,100%` (or a JSON list of the same words) as [{"villages": ["v7"]}, {"percent": 10}, ...]."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise BadInput("waves must be a comma list such as v7,10%,100%", "bad_waves")
    waves: list[dict[str, Any]] = []
    last_percent = 0
    for raw in (i.strip() for i in items):
        match = _PERCENT.match(raw)
        if match:
            percent = int(match.group(1))
            if not last_percent < percent <= 100:
                raise BadInput(f"wave {raw} must be above the wave before it and at most 100%", "bad_waves")
            waves.append({"percent": percent})
            last_percent = percent
        elif last_percent:
            raise BadInput(f"canary village {raw} must come before the percentages", "bad_waves")
        else:
            village = require_village_id(raw, f"canary village {raw!r}")
            if waves and "villages" in waves[-1]:
                waves[-1]["villages"].append(village)
            else:
                waves.append({"villages": [village]})
    if last_percent != 100:
        raise BadInput("最后一批须为 100%，范围内每个村都要覆盖。The last wave must be 100%, so that every village in"
                       " scope is reached.", "bad_waves")
    if len(waves) > MAX_WAVES:
        raise BadInput(f"at most {MAX_WAVES} waves", "bad_waves")
    return waves


def canaries(waves: list[dict[str, Any]]) -> list[str]:
    return [v for w in waves for v in w.get("villages", ())]


def place_villages(waves: list[dict[str, Any]], villages: list[str], seed: str) -> dict[str, int]:
    """Each village's wave (1-based). The non-canaries are shuffled by a hash of `seed` (the release), so the
    early waves are not always the same first villages of the alphabet, and the same plan places them the same."""
    placed: dict[str, int] = {}
    named = set(canaries(waves))
    for number, wave in enumerate(waves, start=1):
        for village in wave.get("villages", ()):
            placed[village] = number
    rest = sorted((v for v in villages if v not in named),
                  key=lambda v: hashlib.sha256(f"{seed}/{v}".encode()).digest())
    taken = 0
    for number, wave in enumerate(waves, start=1):
        if "percent" not in wave:
            continue
        upto = math.ceil(len(rest) * wave["percent"] / 100)
        for village in rest[taken:upto]:
            placed[village] = number
        taken = max(taken, upto)
    return placed
