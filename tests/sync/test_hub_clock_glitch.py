"""A hub clock glitch (one answer signed far in the future) refuses later answers for a bounded time, not forever.

Security review finding (medium): one down batch signed with a time in the future made every later batch look
replayed until someone edited the database. The freeze defence runs here on a real SQLite file, with the box's
wall clock set by the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.schema import SCHEMA
from edge.sync.health import freshest_hub_time, record_hub_time
from edge.sync.hub_clock import HubClock, ReplayedAnswer
from protocol.database import Database

NOW = 1_796_000_000  # 2026-11-30, a box clock that was set
DAY = 86_400


@pytest.fixture
async def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = Database(tmp_path / "edge.db")
    await database.open(SCHEMA)
    yield database
    await database.close()


class Wall:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


async def answer(clock: HubClock, signed_at: int) -> None:
    clock.check(signed_at)
    await clock.advance(signed_at)


async def test_one_answer_signed_a_month_ahead_blocks_later_answers_for_at_most_the_bound(db: Database) -> None:
    wall = Wall(NOW)
    clock = HubClock(db, tolerance_s=5, stale_after_s=600, max_ahead_s=60, wall=wall)
    await clock.load()
    await answer(clock, NOW)
    await answer(clock, NOW + 30 * DAY)  # the hub's clock jumped a month ahead for one answer
    assert await freshest_hub_time(db) == NOW + 60

    wall.t = NOW + 10
    with pytest.raises(ReplayedAnswer):
        await answer(clock, NOW + 10)  # inside the bound the floor still holds
    wall.t = NOW + 70
    await answer(clock, NOW + 70)  # past the bound, the hub's true time is taken again
    assert clock.freshest == NOW + 70


async def test_a_floor_poisoned_before_the_bound_existed_is_bounded_when_the_box_starts(db: Database) -> None:
    await record_hub_time(db, NOW + 365 * DAY)
    clock = HubClock(db, tolerance_s=5, stale_after_s=600, max_ahead_s=60, wall=Wall(NOW))
    await clock.load()
    assert clock.freshest == NOW + 60
    clock.wall = Wall(NOW + 61)
    await answer(clock, NOW + 61)


async def test_a_box_whose_clock_was_never_set_takes_the_hub_time_whole(db: Database) -> None:
    clock = HubClock(db, tolerance_s=5, stale_after_s=600, max_ahead_s=60, wall=Wall(40.0))  # 1970: no RTC, no NTP
    await clock.load()
    await answer(clock, NOW)
    assert clock.freshest == NOW
    assert clock.now_at_least() == NOW
    with pytest.raises(ReplayedAnswer):
        await answer(clock, NOW - 3600)  # an old answer is still a replay
