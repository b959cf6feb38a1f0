"""The registry of towns and villages, enrollment tokens, and enrollment of a village's edge key.

The provisioning CLI calls `issue_enrollment_token` (synchronously, on the hub's data dir); the token travels in
the bundle, and the box trades it for enrollment with `POST /api/v1/enroll`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from protocol.keys import PUBLIC_KEY_LEN

from . import audit, enroll_bundles
from .actors import CLI, Actor, require_role, require_scope
from .down_feed import DownFeed
from .errors import BadInput, Conflict
from .models import Village
from .notices import backfill_village
from .store import HubStore
from .store_tx import Tx
from .streams import backfill_streams
from .validate import require_object, require_town_id, require_village_id, text_field

log = logging.getLogger(__name__)

DEFAULT_TOWN = "unassigned"
DEFAULT_TOKEN_LIFETIME_S = 30 * 24 * 3600  # as long as a provisioning bundle lives
MAX_NAME = 100


@dataclass(frozen=True)
class AddResult:
    village: Village
    created: bool
    town_created: bool
    backfilled: int


def parse_edge_url(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise BadInput(f"edge url {value!r} must be http(s)://HOST[:PORT][/PATH]", "bad_url")
    return value.rstrip("/")


async def add_village(
    store: HubStore,
    down: DownFeed,
    village_id: str,
    name: str,
    town_id: str | None = None,
    edge_url: str | None = None,
    *,
    actor: Actor = CLI,
) -> AddResult:
    """Register a village (creating its town when new) and give it every live notice that covers it.

    Adding a village that exists updates its name and edge url; moving it to another town is refused, since
    the notices it holds were chosen by its town. An official needs the admin role and the town in scope.
    """
    require_village_id(village_id)
    clean_name = text_field({"name": name}, "name", MAX_NAME)
    assert clean_name is not None
    if town_id is not None:
        require_town_id(town_id, "town")
    url = parse_edge_url(edge_url)
    require_role(actor, "admin")
    async with store.transaction() as tx:
        existing = await tx.get_village(village_id)
        await require_scope(tx, actor, [f"town:{town_id or (existing.town_id if existing else DEFAULT_TOWN)}"])
        result = await put_village(tx, down, village_id, clean_name, town_id, url)
        action = "village_add" if result.created else "village_update"
        await audit.record(tx, actor.user, action, f"village:{village_id}", f"village:{village_id}",
                           f"name={clean_name} town={result.village.town_id}")
    return result


async def put_village(
    tx: Tx, down: DownFeed, village_id: str, name: str, town_id: str | None, url: str | None
) -> AddResult:
    """`add_village` inside an open transaction, on checked values (the org import adds many in one)."""
    existing = await tx.get_village(village_id)
    if existing is not None:
        if town_id is not None and town_id != existing.town_id:
            raise Conflict(
                f"village {village_id} belongs to town {existing.town_id}, not {town_id}", "town_mismatch"
            )
        await tx.update_village(village_id, name, url if url is not None else existing.edge_url)
        village = await tx.get_village(village_id)
        assert village is not None
        return AddResult(village, created=False, town_created=False, backfilled=0)
    town = town_id or DEFAULT_TOWN
    town_created = await tx.ensure_town(town, town)
    await tx.insert_village(village_id, name, town, url)
    village = await tx.get_village(village_id)
    assert village is not None
    backfilled = await backfill_village(tx, down, village)
    streams = await backfill_streams(tx, down, village)
    log.info("village %s added to town %s (%d live notices, %d live streams queued)", village_id, town, backfilled,
             streams)
    return AddResult(village, created=True, town_created=town_created, backfilled=backfilled)


async def async_issue_enrollment_token(
    store: HubStore, village_id: str, lifetime_s: int = DEFAULT_TOKEN_LIFETIME_S, made_by: str | None = None
) -> tuple[str, Village]:
    """A fresh token for one more bundle of the village (hub/enroll_bundles.py); earlier bundles keep theirs."""
    issued = await enroll_bundles.issue(store, village_id, lifetime_s, made_by)
    return issued.token, issued.village


def issue_bundle(
    data_dir: Path, village_id: str, lifetime_s: int = DEFAULT_TOKEN_LIFETIME_S, made_by: str | None = None
) -> enroll_bundles.IssuedBundle:
    """Synchronous form for CLIs: opens the hub's database in `data_dir` (safe while the hub runs)."""

    async def run() -> enroll_bundles.IssuedBundle:
        store = HubStore(data_dir / "hub.db")
        await store.open()
        try:
            return await enroll_bundles.issue(store, village_id, lifetime_s, made_by)
        finally:
            await store.close()

    return asyncio.run(run())


def issue_enrollment_token(
    data_dir: Path, village_id: str, lifetime_s: int = DEFAULT_TOKEN_LIFETIME_S
) -> tuple[str, Village]:
    issued = issue_bundle(data_dir, village_id, lifetime_s)
    return issued.token, issued.village


def parse_enroll_request(raw: Any) -> tuple[str, str, bytes]:
    body = require_object(raw)
    for name in ("village_id", "token", "public_key"):
        if name not in body:
            raise BadInput(f"the field {name!r} is missing", "missing_field")
        if not isinstance(body[name], str):
            raise BadInput(f"the field {name!r} must be a string", "wrong_type")
    village_id = require_village_id(body["village_id"], "village_id")
    token = body["token"]
    if not 1 <= len(token) <= 200:
        raise BadInput("the token must have 1 to 200 characters", "bad_token")
    text = body["public_key"]
    try:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise BadInput("public_key must be urlsafe base64", "bad_key") from None
    if len(key) != PUBLIC_KEY_LEN:
        raise BadInput(f"public_key must be {PUBLIC_KEY_LEN} bytes of Ed25519 public key", "bad_key")
    return village_id, token, key


async def enroll(store: HubStore, village_id: str, token: str, public_key: bytes) -> Village:
    """Bind `public_key` to the village with one of its bundles' tokens. Same key again: same answer."""
    return await enroll_bundles.enroll_with_token(store, village_id, token, public_key)
