"""Households, the STBs paired with them, and elderly residents living alone who have not checked in today.

An STB shows a short pairing code (from `GET /api/v1/pairing`); staff type it here to pair that STB with a
household, and from then on its submissions carry the household (the outbox looks the pairing up).
"""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

from edge.errors import Refused
from edge.lan.mdns_txt import normalize_device_id
from protocol.database import Database

PAIRING_CODE_S = 3600.0  # a code shown on the TV stays valid for an hour
MAX_OPEN_CODES = 10_000  # bounds what a device flooding the endpoint with made-up ids can cost
MAX_NAME = 100
MAX_ADDRESS = 200


def village_timezone() -> tzinfo:
    """Where "today" starts for check-ins: China Standard Time (no daylight saving)."""
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Asia/Shanghai")
    except Exception:  # a box without tzdata still knows the offset
        return timezone(timedelta(hours=8))


def today_start_rfc3339(now: float | None = None) -> str:
    """Local midnight today, as the UTC text submissions' created_at is written in (so text compares work)."""
    local = datetime.fromtimestamp(time.time() if now is None else now, village_timezone())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _clean(value: str | None, limit: int, what_zh: str, what_en: str, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValueError(f"请填写{what_zh}。Please fill in the {what_en}.")
    if len(value) > limit:
        raise ValueError(f"{what_zh}不能超过 {limit} 个字。The {what_en} is longer than {limit} characters.")
    return value


async def create_household(db: Database, name: str, address: str, elderly_alone: bool) -> str:
    name = _clean(name, MAX_NAME, "户主姓名", "household name", True)
    address = _clean(address, MAX_ADDRESS, "地址", "address", False)
    household_id = str(uuid.uuid4())
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO households (id, name, address, elderly_alone, created_at) VALUES (?, ?, ?, ?, ?)",
            (household_id, name, address, int(elderly_alone), time.time()),
        )
    return household_id


async def set_elderly_alone(db: Database, household_id: str, flag: bool) -> None:
    async with db.write() as conn:
        async with conn.execute(
            "UPDATE households SET elderly_alone = ? WHERE id = ?", (int(flag), household_id)
        ) as cur:
            if cur.rowcount == 0:
                raise LookupError("找不到这一户，请刷新页面。No such household; reload the page.")


async def pairing_code_for(db: Database, device_id: str, now: float | None = None) -> tuple[str, float]:
    """The code the TV shows for `device_id` (the same one while it is valid); returns (code, expires_at)."""
    clean = normalize_device_id(device_id)
    if clean is None:
        raise Refused(400, "bad_device_id", "device_id must be 1 to 64 letters, digits or ._:-")
    now = time.time() if now is None else now
    async with db.write() as conn:
        await conn.execute("DELETE FROM pairing_codes WHERE created_at < ?", (now - PAIRING_CODE_S,))
        async with conn.execute("SELECT code, created_at FROM pairing_codes WHERE device_id = ?", (clean,)) as cur:
            row = await cur.fetchone()
        if row is not None:
            return row[0], row[1] + PAIRING_CODE_S
        async with conn.execute("SELECT COUNT(*) FROM pairing_codes") as cur:
            open_codes = await cur.fetchone()
            if open_codes is not None and open_codes[0] >= MAX_OPEN_CODES:
                raise Refused(503, "busy", "too many pairing codes are open; try again in an hour")
        for _ in range(50):
            code = f"{secrets.randbelow(10**6):06d}"
            async with conn.execute("SELECT 1 FROM pairing_codes WHERE code = ?", (code,)) as cur:
                if await cur.fetchone() is None:
                    break
        else:
            raise Refused(503, "busy", "no free pairing code; try again later")
        await conn.execute(
            "INSERT INTO pairing_codes (code, device_id, created_at) VALUES (?, ?, ?)", (code, clean, now)
        )
    return code, now + PAIRING_CODE_S


async def pair_by_code(db: Database, household_id: str, code: str, now: float | None = None) -> str:
    """Pair the STB showing `code` with the household; returns its device id. The code is used up."""
    code = (code or "").strip().replace(" ", "")
    if not (len(code) == 6 and code.isdigit()):
        raise ValueError("配对码是电视上显示的 6 位数字，请核对后再输入。The pairing code is the 6 digits shown on the TV.")
    now = time.time() if now is None else now
    async with db.write() as conn:
        async with conn.execute("SELECT 1 FROM households WHERE id = ?", (household_id,)) as cur:
            if await cur.fetchone() is None:
                raise LookupError("找不到这一户，请刷新页面。No such household; reload the page.")
        async with conn.execute(
            "SELECT device_id FROM pairing_codes WHERE code = ? AND created_at >= ?", (code, now - PAIRING_CODE_S)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            raise ValueError(
                "这个配对码不对或已过期。请在电视的“设置”里重新查看配对码再输入。"
                " This code is wrong or expired; open Settings on the TV for a fresh one."
            )
        device_id = row[0]
        await conn.execute(
            "INSERT INTO household_devices (device_id, household_id, paired_at) VALUES (?, ?, ?)"
            " ON CONFLICT (device_id) DO UPDATE SET household_id = excluded.household_id, paired_at = excluded.paired_at",
            (device_id, household_id, now),
        )
        await conn.execute("DELETE FROM pairing_codes WHERE code = ?", (code,))
    return str(device_id)


async def unpair(db: Database, device_id: str) -> None:
    async with db.write() as conn:
        await conn.execute("DELETE FROM household_devices WHERE device_id = ?", (device_id,))


async def list_households(db: Database) -> list[dict[str, Any]]:
    rows = await db.fetchall("SELECT id, name, address, elderly_alone FROM households ORDER BY name, id")
    devices = await db.fetchall("SELECT device_id, household_id, paired_at FROM household_devices ORDER BY paired_at")
    by_household: dict[str, list[str]] = {}
    for d in devices:
        by_household.setdefault(d["household_id"], []).append(d["device_id"])
    return [{**dict(r), "devices": by_household.get(r["id"], [])} for r in rows]


async def missing_checkins(db: Database, now: float | None = None) -> list[dict[str, Any]]:
    """Households marked elderly-living-alone with no `checkin` today from any of their STBs, oldest news first.

    Only a check-in sent by a device paired with the household at the time counts (the outbox records that
    household with the submission): a device paired later, or any other device, cannot clear the alarm.
    """
    rows = await db.fetchall(
        "SELECT h.id, h.name, h.address,"
        " (SELECT MAX(s.created_at) FROM submissions s JOIN submission_households sh ON sh.submission_id = s.id"
        "   WHERE sh.household_id = h.id AND s.kind = 'checkin') AS last_checkin,"
        " (SELECT COUNT(*) FROM household_devices d WHERE d.household_id = h.id) AS devices"
        " FROM households h WHERE h.elderly_alone = 1 ORDER BY h.name, h.id"
    )
    since = today_start_rfc3339(now)
    return [dict(r) for r in rows if not r["last_checkin"] or r["last_checkin"] < since]


async def household_names_by_device(db: Database) -> dict[str, str]:
    """Every paired TV's device id -> its household's name (the staff dashboard lists TVs by household)."""
    rows = await db.fetchall(
        "SELECT d.device_id, h.name FROM household_devices d JOIN households h ON h.id = d.household_id"
    )
    return {r["device_id"]: r["name"] for r in rows}
