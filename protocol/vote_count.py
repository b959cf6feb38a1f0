"""Counting the votes of one question, the same way at the edge (live and final) and at the hub (to check).

One vote per voter, a household (the edge pairs devices with households and sends only paired devices' votes):
the last one in up-feed order up to the cutoff counts, so a resident may correct a slip of the remote while the
question is open, and two TVs of one house count once; answers that are not a choice are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def normalise_choice(choice: Any, choices: list[str]) -> str | None:
    """A vote's choice as one of `choices`: the text itself, or its number counted from 1 as on the remote."""
    if isinstance(choice, bool):
        return None
    if isinstance(choice, int) and 1 <= choice <= len(choices):
        return choices[choice - 1]
    if isinstance(choice, str) and choice in choices:
        return choice
    return None


def count_votes(votes: Iterable[tuple[int, str, Any]], choices: list[str], cutoff_up_seq: int | None) -> dict[str, Any]:
    """`votes` are (up_seq, voter, choice), the voter being who counts once; returns {counts, voters}."""
    last: dict[str, tuple[int, str]] = {}
    for up_seq, voter, choice in votes:
        if cutoff_up_seq is not None and up_seq > cutoff_up_seq:
            continue
        picked = normalise_choice(choice, choices)
        if picked is None:
            continue
        if voter not in last or up_seq > last[voter][0]:
            last[voter] = (up_seq, picked)
    counts = {c: 0 for c in choices}
    for _, picked in last.values():
        counts[picked] += 1
    return {"counts": counts, "voters": len(last)}
