"""The database before a switch comes back on a rollback only when the new version changed its schema; otherwise what
residents sent during the trial is kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from edge.updates.database_backup import back_up, restore_if_changed


def make_db(data: Path) -> None:
    data.mkdir()
    with sqlite3.connect(data / "edge.db") as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE submissions (id TEXT)")
        conn.execute("INSERT INTO submissions VALUES ('before')")
    conn.close()


def ids(data: Path) -> list[str]:
    with sqlite3.connect(data / "edge.db") as conn:
        rows = [r[0] for r in conn.execute("SELECT id FROM submissions ORDER BY id")]
    conn.close()
    return rows


def write_during_trial(data: Path, user_version: int | None) -> None:
    with sqlite3.connect(data / "edge.db") as conn:
        conn.execute("INSERT INTO submissions VALUES ('during')")
        if user_version is not None:
            conn.execute(f"PRAGMA user_version = {user_version}")
    conn.close()


def test_a_rollback_keeps_the_trials_writes_when_the_schema_did_not_change(tmp_path: Path) -> None:
    data = tmp_path / "box"
    make_db(data)
    backup = back_up(data, "2.0")
    write_during_trial(data, None)
    assert restore_if_changed(data, backup) is False
    assert ids(data) == ["before", "during"]


def test_a_rollback_puts_the_backup_back_when_the_new_version_migrated_the_schema(tmp_path: Path) -> None:
    data = tmp_path / "box"
    make_db(data)
    backup = back_up(data, "2.0")
    write_during_trial(data, 7)
    assert restore_if_changed(data, backup) is True
    assert ids(data) == ["before"]
    assert oct((data / "edge.db").stat().st_mode & 0o777) == "0o600"
