"""Security review, Low: hub.db and edge.db were created world-readable, though they hold residents' phone numbers
and (at the hub) the enrollment token hashes that key the receipts' proofs. Now the data folders are the owner's
alone (0700) and the databases, their -wal and -shm, and the key files are 0600, whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tests.integration.system import build_system, http, wait_for


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_hub_db_and_edge_db_their_wal_and_shm_the_data_folders_and_the_keys_are_private_after_a_real_start(
        tmp_path: Path):
    old_umask = os.umask(0o022)  # what a root shell and systemd give by default: files 0644, folders 0755
    try:
        system = build_system(tmp_path, ["v1"])
        edge = system.edges["v1"]
        try:
            system.hub.start(ready_path="/api/v1/trust")
            edge.start()
            wait_for("the edge enrolled", lambda: http("GET", edge.url + "/api/v1/status?format=json")[1][
                "enrolled"], timeout_s=30)
            hub_dir = system.hub_dir
            edge_dir = Path(edge.argv[edge.argv.index("--data") + 1])
            for folder in (hub_dir, edge_dir):
                assert mode(folder) == 0o700, f"{folder} is {oct(mode(folder))}"
            databases = [hub_dir / "hub.db", edge_dir / "edge.db"]
            for db in databases:
                for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
                    assert path.exists() and mode(path) == 0o600, f"{path} is {oct(mode(path))}"
            keys = [p for p in [*hub_dir.iterdir(), *edge_dir.iterdir()] if p.suffix == ".key"]
            assert keys and all(mode(k) == 0o600 for k in keys), {k.name: oct(mode(k)) for k in keys}
            assert mode(hub_dir / "admin.token") == 0o600
        finally:
            edge.stop()
            system.stop_all()
    finally:
        os.umask(old_umask)
