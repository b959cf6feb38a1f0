"""The candidate table of the TV's pinyin keyboard: for each toneless syllable, its characters, most used first.

The data comes from `pypinyin` (maintained, MIT, pure Python): its table of every character's readings and its
~47,000 common phrases with the reading of each character in them. pypinyin keeps no corpus counts, so
characters are ranked first by GB2312's level (its 3,755 common characters, then its level 2, then the rest, so a
traditional 們 never comes before 们), then by how many of those phrases use them with that reading (灯 and 等 lead
`deng`), then by code point, up to `PER_SYLLABLE`. Only the common CJK block (U+4E00–U+9FFF) is offered: an STB
font has nothing beyond it.

Built once per box at the first request, in a child process (`python -m edge.tv.pinyin_dictionary`): it takes
about 5 s and 120 MB, mostly pypinyin's phrase table, which the edge itself should not keep for the rest of its
life. The result, 419 syllables in 57 KB of JSON (40 KB gzipped), is kept in the data folder under pypinyin's
version, so a restart reads it at once and an upgraded pypinyin builds it again.
ü is typed as v (lv → 绿), as on every Chinese phone and TV keyboard.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import unicodedata
from collections import Counter, defaultdict
from importlib.metadata import version
from pathlib import Path

from edge.errors import Refused

PER_SYLLABLE = 60  # candidates kept per syllable: six pages of nine on the screen, more than anyone pages through
_COMMON_CJK = range(0x4E00, 0xA000)


def toneless(reading: str) -> str:
    """'lǜ' → 'lv', 'lù' → 'lu', 'ér' → 'er': what the resident types on the keyboard."""
    decomposed = unicodedata.normalize("NFD", reading.strip().lower()).replace("u\u0308", "v")
    return "".join(c for c in decomposed if not unicodedata.combining(c) and "a" <= c <= "z")


def gb2312_tier(char: str) -> int:
    """0 for GB2312's 3,755 common characters (level 1), 1 for its level 2, 2 for anything else (traditional forms,
    rare characters): the national standard's own split by frequency of use, which pypinyin's phrases lack."""
    try:
        lead = char.encode("gb2312")[0]
    except UnicodeEncodeError:
        return 2
    return 0 if lead < 0xD8 else 1


def build_table(per_syllable: int = PER_SYLLABLE) -> dict[str, str]:
    """{syllable: characters as one string, most used first} from pypinyin's data."""
    from pypinyin.phrases_dict import phrases_dict  # imported here: 1 s and tens of MB only when asked for
    from pypinyin.pinyin_dict import pinyin_dict

    uses: Counter[tuple[str, str]] = Counter()
    for phrase, readings in phrases_dict.items():
        if len(phrase) != len(readings):
            continue  # a phrase whose readings do not line up with its characters tells nothing per character
        for char, choices in zip(phrase, readings, strict=True):
            if ord(char) in _COMMON_CJK and choices:
                uses[(toneless(choices[0]), char)] += 1
    readings_of: dict[str, set[str]] = defaultdict(set)
    for code, listed in pinyin_dict.items():
        if code in _COMMON_CJK:
            for reading in str(listed).split(","):
                syllable = toneless(reading)
                if syllable:
                    readings_of[syllable].add(chr(code))
    for (syllable, char) in uses:
        readings_of[syllable].add(char)
    table: dict[str, str] = {}
    for syllable, chars in readings_of.items():
        ranked = sorted(chars, key=lambda c: (gb2312_tier(c), -uses[(syllable, c)], c))
        table[syllable] = "".join(ranked[:per_syllable])
    return dict(sorted(table.items()))


def table_json(table: dict[str, str]) -> bytes:
    return json.dumps({"syllables": table}, ensure_ascii=False, separators=(",", ":")).encode()


class DictionaryUnavailable(Refused):
    """The table could not be built (pypinyin missing or broken); the keyboard says so instead of candidates."""

    json_only = True

    def __init__(self, why: str) -> None:
        super().__init__(503, "no_dictionary", f"拼音词库暂不可用。The pinyin dictionary is unavailable: {why}")


class PinyinDictionary:
    """The table as JSON bytes: read from the data folder, else built once in a child process and kept there."""

    def __init__(self, data_dir: Path) -> None:
        self._path = data_dir / f"pinyin-{version('pypinyin')}.json"
        self._body: bytes | None = None
        self._lock = asyncio.Lock()

    async def body(self) -> bytes:
        async with self._lock:  # concurrent first requests wait for the one build
            if self._body is None:
                self._body = await self._load_or_build()
        return self._body

    async def _load_or_build(self) -> bytes:
        if self._path.exists():
            return await asyncio.to_thread(self._path.read_bytes)
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", __name__, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await child.communicate()
        if child.returncode != 0 or not out:
            raise DictionaryUnavailable(f"building the pinyin table failed: {err.decode(errors='replace')[-300:]}")
        await asyncio.to_thread(_write_atomically, self._path, out)
        return out


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.stdout.buffer.write(table_json(build_table()))
