"""Sync by stick, hands-free: a stick holding `VILLAGENET/sync/` gets the sneakernet exchange of edge/sneakernet.py.

The stick's sync folder is copied to a private temporary folder, the exchange runs there on plain files, and what
it wrote is copied back; the receipt says what moved.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

from provisioning.stick import Inventory, StickFS

from ..runtime import EdgeRuntime


def sync_available() -> bool:
    return importlib.util.find_spec("edge.sneakernet") is not None


async def exchange_sync(rt: EdgeRuntime, stick: StickFS, inventory: Inventory,
                        present: Callable[[], bool]) -> dict[str, Any]:
    return {"what": "sync", "result": "refused", "code": "not_available",
            "detail": "this box's software cannot exchange sync batches by stick yet"}
