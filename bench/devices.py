"""The TVs a benchmark submits from, registered with the edge first (`POST /api/v1/devices`) as real ones are.

Registration is not what the benchmarks measure, so it happens before the clock starts; the edge's per-address
limit is raised in their config because every simulated TV comes from 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterable

import aiohttp

CONFIG_LINE = ("device_registrations_per_hour = 100000\nsubmissions_per_device_per_hour = 1000000\n"
               "submissions_per_village_per_day = 1000000\n")


async def register_all(session: aiohttp.ClientSession, edge_url: str, device_ids: Iterable[str]) -> dict[str, dict[str, str]]:
    """Each distinct device id (the portal's hint) → the headers that act as that device."""
    headers: dict[str, dict[str, str]] = {}
    for device_id in dict.fromkeys(device_ids):
        async with session.post(f"{edge_url}/api/v1/devices", json={"device_id": device_id}) as resp:
            issued = await resp.json()
            if resp.status != 201 or issued["device_id"] != device_id:
                raise RuntimeError(f"the edge did not register {device_id}: {resp.status} {issued}")
        headers[device_id] = {"X-Device-Token": issued["token"]}
    return headers
