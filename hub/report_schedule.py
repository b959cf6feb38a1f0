"""The monthly reports written by the hub itself: from the first of each month, the month before's report of the
city and of each town as DATA/reports/YYYY-MM/<scope>.pdf, each once (a file already there is kept as it is).

Checked ten minutes after the hub starts and then every hour, so a hub that was down on the first writes them
when it is back; a report is written to a
temporary name and renamed, so a half-written file is never taken for a report.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from .config import HubConfig
from .report_monthly import monthly_report_pdf
from .stats_period import today
from .store import HubStore

log = logging.getLogger(__name__)
CHECK_EVERY_S = 3600.0
FIRST_CHECK_S = 600.0  # a starting hub serves first; and a hub started for a minute (a test, a demo) prints nothing


def report_path(data_dir: Path, month: str, scope: str) -> Path:
    return data_dir / "reports" / month / f"{scope.replace(':', '-')}.pdf"


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".pdf.partial")
    with partial.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(partial, path)


async def write_due_reports(store: HubStore, config: HubConfig, now: float) -> list[Path]:
    """Write the month before `now`'s reports that are missing; the paths written (none when all are there)."""
    month = (today(now).replace(day=1) - timedelta(days=1)).replace(day=1)
    scopes = ["city", *(f"town:{town.id}" for town in await store.list_towns())]
    written = []
    for scope in scopes:
        path = report_path(config.data_dir, month.isoformat()[:7], scope)
        if path.exists():
            continue
        pdf = await monthly_report_pdf(store, config, scope, month)
        await asyncio.to_thread(_write_atomically, path, pdf)
        log.info("wrote the monthly report %s", path)
        written.append(path)
    return written


async def run(store: HubStore, config: HubConfig, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
    """For as long as the hub runs: the due reports FIRST_CHECK_S after starting, then every CHECK_EVERY_S (the
    store's clock decides which month is due)."""
    await sleep(FIRST_CHECK_S)
    while True:
        try:
            await write_due_reports(store, config, store.clock())
        except Exception:
            log.exception("writing the monthly reports failed; trying again in an hour")
        await sleep(CHECK_EVERY_S)
