"""Issue 14 (Low): the root key sat online beside the signing key, and there was no command to revoke a leaked hub
signing key. Now `village-hub root export-offline` moves the root key to a file the operator keeps, the hub runs
without it, and `village-hub key revoke-signing KEY --root PATH` revokes a leaked key: edges take the new trust
document over the line or from a stick, and then refuse anything the leaked key signs. Every part a real process.
"""

from __future__ import annotations

import sqlite3
import subprocess
import uuid
from pathlib import Path

from deploy.local_processes import BIN
from protocol import compression
from protocol.feed import chain, feed_name, make_batch
from protocol.keys import NodeKey
from protocol.records import put
from protocol.stick_sync import batch_name, write_file
from tests.integration.system import build_system, http, wait_for


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / str(args[0])), *map(str, args[1:])], capture_output=True, text=True, timeout=60)


def titles(edge_url: str) -> set[str]:
    status, body, _ = http("GET", edge_url + "/api/v1/notices")
    assert status == 200, body
    return {n["title"] for n in body["notices"]}


def forged_stick(base: Path, hub_dir: Path, village: str, leaked: NodeKey, title: str) -> Path:
    """A stick whose down batch continues the village's real feed with a notice, signed by the leaked key."""
    with sqlite3.connect(hub_dir / "hub.db") as db:
        seq, head = db.execute("SELECT seq, hash FROM down_entries WHERE village_id = ? ORDER BY seq DESC LIMIT 1",
                               (village,)).fetchone()
    op = put("notice", str(uuid.uuid4()), {"title": title, "body": "请把钱转到这个账户", "area": "community",
                                            "priority": "normal", "scope": "city", "published_at": "2026-12-07T00:00:00Z",
                                            "expires_at": None})
    entries = chain(feed_name("down", village), seq, head, [op])
    sync_dir = base / "VILLAGENET" / "sync"
    sync_dir.mkdir(parents=True)
    write_file(sync_dir, batch_name("down", village, seq + 1),
               compression.compress(make_batch(leaked, feed_name("down", village), entries, 0, b"", compact=True)))
    return base


def test_with_the_root_offline_a_revoked_signing_key_is_refused_at_the_edge_and_sync_goes_on(tmp_path: Path) -> None:
    s = build_system(tmp_path, ["v1", "v2"])
    hub_dir = s.hub_dir
    try:
        s.hub.start(ready_path="/api/v1/trust")
        online, offline = s.edges["v1"].start(), s.edges["v2"].start()
        s.publish("开会通知", "city")
        wait_for("the notice at both boxes", lambda: "开会通知" in titles(online.url) & titles(offline.url))
        s.edges["v2"].stop()  # v2's line goes down; it will sync by stick

        keeper = tmp_path / "operator-stick"
        keeper.mkdir()
        done = cli("village-hub", "root", "export-offline", "--data", hub_dir, "--to", keeper)
        assert done.returncode == 0, done.stderr
        root_file = keeper / "villagenet-root.key"
        assert root_file.exists() and not (hub_dir / "root.key").exists() and (hub_dir / "root.pub").exists()
        s.hub.stop()
        s.hub.start(ready_path="/api/v1/trust")  # the hub starts and serves with no root key in its data folder
        s.publish("停电通知", "city")
        wait_for("a notice after the export", lambda: "停电通知" in titles(online.url))

        leaked = NodeKey.load(hub_dir / "signing.key")
        refused = cli("village-hub", "key", "revoke-signing", "--data", hub_dir, leaked.node_id)
        assert refused.returncode == 2 and "offline" in refused.stderr and "--root" in refused.stderr
        done = cli("village-hub", "key", "revoke-signing", "--data", hub_dir, leaked.node_id, "--root", root_file)
        assert done.returncode == 0, done.stderr
        assert NodeKey.load(hub_dir / "signing.key").public != leaked.public
        listed = cli("village-hub", "key", "list", "--data", hub_dir).stdout
        assert f"{leaked.node_id}" in listed and "revoked" in listed

        # Over the line: the hub signs with the new key, the box fetches the trust document that names it.
        s.publish("修路通知", "city")
        wait_for("a notice signed with the new key", lambda: "修路通知" in titles(online.url))
        s.edges["v1"].stop()
        forged = forged_stick(tmp_path / "forged-v1", hub_dir, "v1", leaked, "伪造的通知")
        applied = cli("village-edge", "sync", "import", "--data", s.edge_dir("v1"), forged)
        assert applied.returncode != 0 and "does not trust" in applied.stdout + applied.stderr, applied
        online = s.edges["v1"].start()
        assert "伪造的通知" not in titles(online.url) and "修路通知" in titles(online.url)

        # By stick: the box whose line is down takes the trust document the hub writes beside its batches.
        stick = tmp_path / "village-stick"
        assert cli("village-edge", "sync", "export", "--data", s.edge_dir("v2"), "--to", stick).returncode == 0
        assert cli("village-hub", "sync", "import", "--data", hub_dir, stick).returncode == 0
        took = cli("village-edge", "sync", "import", "--data", s.edge_dir("v2"), stick)
        assert took.returncode == 0, took.stderr  # batches signed by the new key: known only from the stick's trust
        forged = forged_stick(tmp_path / "forged-v2", hub_dir, "v2", leaked, "伪造的通知")
        applied = cli("village-edge", "sync", "import", "--data", s.edge_dir("v2"), forged)
        assert applied.returncode != 0 and "does not trust" in applied.stdout + applied.stderr, applied
        offline = s.edges["v2"].start()
        assert {"停电通知", "修路通知"} <= titles(offline.url) and "伪造的通知" not in titles(offline.url)
    finally:
        s.stop_all()
