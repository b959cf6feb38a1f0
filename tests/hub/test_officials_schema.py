"""A hub database made before officials existed opens as it is and gains review and audit, keeping its notices."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hub.schema import SCHEMA_VERSION
from hub.store import HubStore

# The v1 notices table exactly as hubs before review created it (state limited by a CHECK to three values).
V1_NOTICES = """
CREATE TABLE notices (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    area TEXT NOT NULL,
    priority TEXT NOT NULL,
    scope TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('draft', 'published', 'withdrawn')),
    created_at REAL NOT NULL,
    published_at REAL,
    expires_at REAL,
    withdrawn_at REAL,
    attachments TEXT NOT NULL
);
CREATE INDEX notices_state ON notices(state, n);
INSERT INTO notices (id, title, body, area, priority, scope, state, created_at, published_at, attachments)
VALUES ('0f8fad5b-d9cb-469f-a165-70867728950e', '旧通知', '正文', 'community', 'normal', 'town:east', 'published',
        1.0, 2.0, '[]');
PRAGMA user_version = 1;
"""


async def test_an_old_hub_database_keeps_its_notices_and_gains_review_states(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    with sqlite3.connect(path) as db:
        db.executescript(V1_NOTICES)
    for _ in range(2):  # opening twice migrates once
        store = HubStore(path)
        await store.open()
        try:
            notice = await store.get_notice("0f8fad5b-d9cb-469f-a165-70867728950e")
            assert notice is not None and notice.state == "published" and notice.title == "旧通知"
            assert notice.author is None and notice.targets == ["town:east"]
            listed = await store.list_notices(None, None, 10, within="town:east")
            assert [n.id for n in listed] == [notice.id]
            async with store.transaction() as tx:
                await tx.set_notice_review(notice.id, "in_review", None, None)  # the old CHECK would refuse it
                await tx.set_notice_state(notice.id, "published")
        finally:
            await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert db.execute("SELECT count(*) FROM notice_targets").fetchone() == (1,)
