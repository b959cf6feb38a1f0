"""Votes from village meetings at the hub: the edge's final tally, and the same count made from the votes held here.

The two agree when every vote reached the hub; a difference shows a vote lost or changed on the way.
"""

from __future__ import annotations

from typing import Any

from protocol.vote_count import count_votes

from .errors import NotFound
from .store import HubStore


async def vote_tallies(store: HubStore, village_id: str, question_id: str) -> dict[str, Any]:
    """{question_id, village_id, edge: the village's final tally, hub: recounted from the vote submissions}."""
    edge = await store.edge_record_body(village_id, "vote_tally", question_id)
    if edge is None:
        raise NotFound(f"no final tally of question {question_id} from village {village_id} yet", "unknown_question")
    choices = [str(c) for c in edge.get("choices", [])]
    cutoff = edge.get("cutoff_up_seq")
    votes = await store.vote_choices(village_id, question_id)
    hub = count_votes(votes, choices, cutoff if isinstance(cutoff, int) else None)
    return {
        "question_id": question_id,
        "village_id": village_id,
        "text": edge.get("text"),
        "edge": {"counts": edge.get("counts"), "voters": edge.get("voters")},
        "hub": hub,
        "agree": hub["counts"] == edge.get("counts") and hub["voters"] == edge.get("voters"),
    }
