"""Finding a case by what a person has at hand: its number read out on the phone, or some of the resident's words.

A number is `20261207-00042` as the page shows it, or its running part alone (`42`, `00042`); anything else is
looked for in the resident's words, as typed (no wildcards: `%` and `_` are plain characters here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import BadInput
from .working_days import SHANGHAI

MAX_SEARCH_CHARS = 50
_NUMBER = re.compile(r"(?:(?P<day>\d{8})-)?(?P<n>\d{1,12})")


@dataclass(frozen=True)
class CaseSearch:
    text: str
    n: int | None  # the running number, when the text can be one
    day: str | None  # YYYYMMDD, when the whole case number was given: then only that case

    @property
    def words_too(self) -> bool:
        """A bare number may also be in the words (a house number, a phone number): look for both."""
        return self.day is None

    def day_span(self) -> tuple[float, float]:
        """When the whole number was given, the Shanghai day it names, as [start, end) times; a day that does not
        exist (20261399) is an empty span, so that number finds nothing."""
        try:
            start = datetime.strptime(self.day or "", "%Y%m%d").replace(tzinfo=SHANGHAI)
        except ValueError:
            return 0.0, 0.0
        return start.timestamp(), (start + timedelta(days=1)).timestamp()


def read_search(value: str | None) -> CaseSearch | None:
    """The search box's text; empty is no search, too long a clear refusal."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > MAX_SEARCH_CHARS:
        raise BadInput(f"搜索内容最多 {MAX_SEARCH_CHARS} 个字。Search for at most {MAX_SEARCH_CHARS} characters.",
                       "bad_parameter")
    number = _NUMBER.fullmatch(text)
    if number is None:
        return CaseSearch(text, None, None)
    return CaseSearch(text, int(number["n"]), number["day"])
