"""What the rollout tests share: a release kept at the hub for a rollout (as `release add --hold` keeps it), the
status a box reports about it (as the status poller stores it), and which villages' feeds carry it."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from hub.release_keys import release_key
from hub.store import HubStore
from protocol import codec
from protocol.releases import make_release


def keep_release(hub_dir: Path, version: str, data: bytes = b"a wheel", target: str = "edge") -> str:
    """Sign a release and keep it at the hub, sent nowhere (what `village-hub release add --hold` writes)."""
    signed = make_release(release_key(hub_dir), version=version, target=target,
                          sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    rid = f"{target.replace(':', '.')}-{version}"
    (hub_dir / "releases").mkdir(exist_ok=True)
    (hub_dir / "releases" / f"{rid}.vnr").write_bytes(signed)
    return rid


async def box_reports(store: HubStore, village: str, running: str, state: str = "committed",
                      target: str | None = None, last_error: str | None = None) -> None:
    """The status a village's box sent, stored as the status poller stores a verified pull."""
    doc: dict[str, Any] = {"version": running, "update": {"version": running, "state": state,
                                                          "target_version": target or running,
                                                          "last_error": last_error}}
    async with store.transaction() as tx:
        await tx.record_status(village, True, None, 5, doc, {"version": running})


async def villages_offered(store: HubStore, release_id: str, villages: list[str]) -> list[str]:
    """Which of `villages` have the release's record (a put not withdrawn) in their down feed."""
    offered = []
    for village in villages:
        ops = [codec.decode(op) for _, _, op, _ in await store.down_entries_after(village, 0, 100_000)]
        last = [op["op"] for op in ops if op.get("kind") == "release" and op.get("id") == release_id]
        if last and last[-1] == "put":
            offered.append(village)
    return offered
