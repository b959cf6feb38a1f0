"""Merging duplicate cases: a dispatcher marks case B as a duplicate of case A (the same matter reported twice);
B is closed as merged, pointing to A, and its resident follows A: A's state on the TV and A's reply when it comes.

Merges stay one level deep, so no resident waits at the end of a chain: the target must be open and not merged
itself, and a case that already has duplicates takes them along into its new target (docs/cases.md, "Duplicates").
"""

from __future__ import annotations

from typing import Any

from .actors import Actor, require_role, require_scope
from .case_actions import held
from .case_models import OPEN_STATES, STATE_NAMES, Case
from .case_resident import tell_village
from .cases import step
from .down_feed import DownFeed
from .errors import Conflict, Unprocessable
from .store import HubStore
from .validate import require_object, require_uuid


async def merge(store: HubStore, down: DownFeed, actor: Actor, case_id: str, raw: Any) -> Case:
    """`{into: <case id>}`: the case `case_id` is a duplicate of `into`. Role, then both scopes, then states are
    checked before anything changes; merging again into the same case answers the merged case as it is."""
    into = require_uuid(require_object(raw).get("into"), "into (the id of the case to merge into)")
    async with store.transaction() as tx:
        duplicate = await held(tx, case_id)
        require_role(actor, "dispatcher")
        await require_scope(tx, actor, [duplicate.place])
        if into == duplicate.id:
            raise Unprocessable("不能把工单合并到它自己。A case cannot be merged into itself.", "merge_into_itself")
        root = await tx.get_case(into)
        if root is None:
            raise Unprocessable(f"没有编号为 {into} 的工单。There is no case {into} to merge into.", "unknown_case")
        await require_scope(tx, actor, [root.place])
        already = await tx.merged_into(duplicate.id)
        if already == root.id:
            return duplicate
        if already is not None:
            raise Conflict(f"这件工单已合并到工单 {already}。The case is already merged into case {already}.",
                           "already_merged")
        if root.state not in OPEN_STATES or await tx.merged_into(root.id) is not None:
            raise Conflict(f"工单 {root.id} 已{STATE_NAMES[root.state]}，不能再合并进去；请合并到仍在办理的工单。"
                           f" Case {root.id} is {root.state}: merge only into an open case.", "merge_target_closed")
        if duplicate.state not in OPEN_STATES:
            raise Conflict(f"这件工单已{STATE_NAMES[duplicate.state]}，不能合并。The case is {duplicate.state};"
                           " only an open case can be merged.", "wrong_state")
        moved = await tx.merge_case(duplicate.id, root.id, actor.user)
        merged = await step(tx, down, duplicate, actor.user, "merge", f"duplicate of case:{root.id}", state="closed",
                            closed_at=tx.now, extension_request=None)
        also = "".join(f", with its duplicate case:{m}" for m in moved)
        await step(tx, down, root, actor.user, "merge_in", f"case:{duplicate.id} merged in as a duplicate{also}")
        for moved_id in moved:
            follower = await held(tx, moved_id)
            await step(tx, down, follower, actor.user, "merge",
                       f"duplicate of case:{root.id} (case:{duplicate.id}, which it duplicated, was merged into it)")
            await tell_village(tx, down, follower)
        return merged
