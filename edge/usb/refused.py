"""Sticks refused because reading them hit the parser's limits (a looping FAT, too much memory or time), kept in
`DATA/usb/refused.json` so that an edge restarted with such a stick still in does not read it again.

Keyed by the insertion (boot, device, kernel diskseq): taking the stick out and putting it back in is a new
insertion and is read again, still within the limits.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from protocol.atomic_file import write_atomically

REFUSED_FILE = ("usb", "refused.json")
REMEMBERED = 64  # only the latest; a box sees few such sticks
# The refusals that come from parsing a stick: reading it again would cost the same time and memory again.
PARSER_REFUSALS = ("fat_loop", "fat_damaged", "parser_limit")


class RefusedSticks:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir.joinpath(*REFUSED_FILE)

    def _load(self) -> dict[str, dict[str, object]]:
        try:
            value = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}

    def has(self, insertion: str) -> bool:
        return insertion in self._load()

    def add(self, insertion: str, code: str) -> None:
        known = self._load()
        known[insertion] = {"code": code, "at": int(time.time())}
        latest = dict(sorted(known.items(), key=lambda kv: int(str(kv[1].get("at", 0))))[-REMEMBERED:])
        write_atomically(self.path, json.dumps(latest, indent=1).encode(), mode=0o600)
