"""Village staff accounts made at the city and sent down to the village's edge (`village-hub staff add`).

Only the scrypt hash travels, in a hub-owned `staff_account` record; the edge keeps local accounts it made itself.
"""

from __future__ import annotations

import asyncio
import re

from protocol import records
from protocol.passwords import check_new_password, hash_password

from .down_feed import DownFeed
from .errors import BadInput, NotFound
from .store import HubStore

ROLES = ("admin", "staff", "technician")
_USERNAME = re.compile(r"^[\w.@-]{1,64}$")


async def send_staff_account(
    store: HubStore, down: DownFeed, village_id: str, username: str, role: str, password: str
) -> int:
    """Append the account to the village's down feed; returns the entry's seq."""
    if not _USERNAME.match(username):
        raise BadInput("a user name is 1-64 letters, digits or ._@-", "bad_username")
    if role not in ROLES:
        raise BadInput(f"role must be one of {', '.join(ROLES)}", "bad_role")
    try:
        check_new_password(password)
    except ValueError as exc:
        raise BadInput(str(exc), "weak_password") from None
    pw_hash = await asyncio.to_thread(hash_password, password)
    op = records.put("staff_account", username, {"username": username, "role": role, "pw_hash": pw_hash})
    async with store.transaction() as tx:
        if await tx.get_village(village_id) is None:
            raise NotFound(f"no village {village_id} is registered", "unknown_village")
        heads = await down.append(tx, {village_id: [op]})
    return heads[village_id].seq
