"""Who is who on the village LAN: the edge issues each TV or phone an id and a secret token, and knows them again.

A device id alone proves nothing (STBs advertise theirs in mDNS TXT records); the token does. Only the token's
SHA-256 is stored: tokens are 32 random bytes, so no salt or slow hash is needed, and a copy of `edge.db` lets
nobody act as a TV. The identities are kept in memory as well (a few MB at most), so every page, alert stream and
submission can be checked without a database read.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import date

import aiosqlite

from edge.errors import Refused
from edge.lan.mdns_txt import clean_text, normalize_device_id
from protocol.database import Database

log = logging.getLogger(__name__)

MAX_DEVICES = 20_000  # a village has a few hundred TVs and phones; this bounds what a flood can cost
IDLE_PRUNE_AFTER_S = 24 * 3600.0  # a full table forgets identities that never sent or paired anything
MAX_TOKEN = 100


@dataclass(frozen=True)
class Device:
    """A registered TV or phone: its id, and the hash of its token, a secret of this box's."""

    device_id: str
    token_hash: str

    def derived_id(self, purpose: str) -> str:
        """A submission id this device can repeat (so a second press is an identical replay) and nobody else can
        compute: keyed by the token's hash, unlike the old UUIDv5 of device and day that anyone could claim first."""
        digest = hmac.new(bytes.fromhex(self.token_hash), purpose.encode(), hashlib.sha256).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    def checkin_id(self, day: date) -> str:
        return self.derived_id(f"checkin:{day.isoformat()}")

    def rating_id(self, submission_id: str) -> str:
        return self.derived_id(f"rating:{submission_id}")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class DeviceRegistry:
    """The registered devices, in `devices` and in memory; one instance per running edge."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._by_hash: dict[str, Device] = {}
        self._ids: set[str] = set()

    async def open(self) -> None:
        for row in await self.db.fetchall("SELECT id, token_hash FROM devices"):
            self._remember(Device(row["id"], row["token_hash"]))

    def _remember(self, device: Device) -> None:
        self._by_hash[device.token_hash] = device
        self._ids.add(device.device_id)

    def __len__(self) -> int:
        return len(self._ids)

    def identify(self, token: str | None) -> Device | None:
        """The device this token belongs to, or None (no token, or one this box never issued)."""
        if not token or len(token) > MAX_TOKEN:
            return None
        return self._by_hash.get(token_hash(token))

    async def _claimable(self, conn: aiosqlite.Connection, wanted: str) -> bool:
        """A portal's hint names a first registration only: an id this box has never seen in any role.

        An id with earlier submissions or a pairing (a TV from before identities existed) is not handed to whoever
        asks first: that would give its history, phone numbers included, to any host that read its mDNS record.
        Asked inside the registration's write transaction, so two registrations with one hint cannot both pass.
        """
        for sql in ("SELECT 1 FROM devices WHERE id = ?", "SELECT 1 FROM submissions WHERE device_id = ? LIMIT 1",
                    "SELECT 1 FROM household_devices WHERE device_id = ?"):
            async with conn.execute(sql, (wanted,)) as cur:
                if await cur.fetchone() is not None:
                    return False
        return True

    async def register(self, address: str | None, model: str = "", middleware: str = "",
                       wanted_id: str | None = None) -> tuple[Device, str]:
        """A new identity and its token (returned once, never stored). `wanted_id` is a portal's `?device=` hint."""
        if len(self._ids) >= MAX_DEVICES:
            await self._prune_idle()
            if len(self._ids) >= MAX_DEVICES:
                raise Refused(503, "too_many_devices", "这台设备登记的电视和手机太多了，请联系村里的工作人员。"
                              " This box has registered too many devices; ask the village staff.")
        wanted = normalize_device_id(wanted_id)
        token = secrets.token_urlsafe(32)
        async with self.db.write() as conn:
            device_id = f"tv-{secrets.token_hex(8)}"
            if wanted is not None and await self._claimable(conn, wanted):
                device_id = wanted
            device = Device(device_id, token_hash(token))
            await conn.execute(
                "INSERT INTO devices (id, token_hash, model, middleware, address, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (device.device_id, device.token_hash, clean_text(model, 64), clean_text(middleware, 32),
                 (address or "")[:64], time.time()),
            )
        self._remember(device)
        log.info("device %s registered from %s (asked for %s)", device.device_id, address, wanted_id)
        return device, token

    async def _prune_idle(self) -> None:
        """Forget identities older than a day that never sent anything and were never paired."""
        cutoff = time.time() - IDLE_PRUNE_AFTER_S
        async with self.db.write() as conn:
            async with conn.execute(
                "SELECT id, token_hash FROM devices d WHERE created_at < ?"
                " AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.device_id = d.id)"
                " AND NOT EXISTS (SELECT 1 FROM household_devices h WHERE h.device_id = d.id)"
                " ORDER BY created_at LIMIT 1000", (cutoff,),
            ) as cur:
                idle = [(r[0], r[1]) for r in await cur.fetchall()]
            await conn.executemany("DELETE FROM devices WHERE id = ?", [(i,) for i, _ in idle])
        for device_id, hashed in idle:
            self._by_hash.pop(hashed, None)
            self._ids.discard(device_id)
        log.warning("device table full: %d idle identities forgotten", len(idle))
