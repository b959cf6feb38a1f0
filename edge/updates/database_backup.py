"""The database before a switch, and the way back: a consistent copy taken while no server runs.

A rollback puts the copy back only when the new version changed the schema (`PRAGMA user_version`): the edge's
schema grows by `CREATE TABLE IF NOT EXISTS`, which the old version reads unharmed, so what residents sent during
the few seconds of a trial is kept; a migrated database could not be read by the old version and is replaced.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from protocol.atomic_file import fsync_dir, fsync_file

log = logging.getLogger(__name__)
DB_NAME = "edge.db"


def back_up(data_dir: Path, label: str) -> Path:
    """Copy DATA/edge.db (WAL included) to DATA/updates/edge-before-LABEL.db; returns its path."""
    source = data_dir / DB_NAME
    dest = data_dir / "updates" / f"edge-before-{label}.db"
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not source.exists():
        return dest  # a box that never served has nothing to keep
    _copy(source, dest.with_name(dest.name + ".tmp"), dest)
    return dest


def _copy(source: Path, tmp: Path, dest: Path) -> None:
    """A consistent copy of a live SQLite database (its WAL included), on disk before it replaces `dest`."""
    tmp.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(tmp) as out:
        src.backup(out)
    out.close()
    src.close()
    os.chmod(tmp, 0o600)
    fsync_file(tmp)
    if dest.name == DB_NAME:
        for suffix in ("-wal", "-shm"):  # the new version's log must not be replayed onto the old database
            dest.with_name(dest.name + suffix).unlink(missing_ok=True)
    os.replace(tmp, dest)
    fsync_dir(dest.parent)


def _schema_version(path: Path) -> int | None:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            row = conn.execute("PRAGMA user_version").fetchone()
        conn.close()
        return int(row[0])
    except sqlite3.Error:
        return None


def restore_if_changed(data_dir: Path, backup: Path) -> bool:
    """Put the backup back when the live database's schema version differs or it cannot be read."""
    live = data_dir / DB_NAME
    if not backup.exists():
        return False
    if live.exists() and _schema_version(live) == _schema_version(backup) is not None:
        return False
    _copy(backup, live.with_name(live.name + ".restore"), live)
    log.warning("database restored from %s (the new version had changed its schema)", backup)
    return True
