"""Files in `VILLAGENET/sync/` are outside bytes: strange names, links, oversized files and strangers are refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hub.sneakernet import import_from
from protocol.errors import DecodeError, TooLarge
from protocol.feed import GENESIS
from protocol.keys import NodeKey
from protocol.stick_sync import list_files, make_position, position_name, read_file, write_file
from tests.hub.kit import HubKit


def test_only_known_names_are_listed_and_path_tricks_are_not(tmp_path: Path) -> None:
    for name in ("up-v1-0000000001.vnb", "down-v1-0000000001.vnb", "position-v1.vnp", "notes.txt",
                 "up-..-0000000001.vnb", "up-v1-1.vnb", ".hidden.vnb"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "up-v1-0000000002.vnb").mkdir()
    names = sorted(f.path.name for f in list_files(tmp_path) if f.path.is_file())
    assert names == ["down-v1-0000000001.vnb", "position-v1.vnp", "up-v1-0000000001.vnb"]


def test_a_link_or_an_oversized_file_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"root key")
    os.symlink(secret, tmp_path / "up-v1-0000000001.vnb")
    with pytest.raises(DecodeError, match="not a regular file"):
        read_file(tmp_path / "up-v1-0000000001.vnb")
    big = tmp_path / "up-v1-0000000002.vnb"
    with big.open("wb") as f:
        f.truncate(9 * 1024 * 1024)
    with pytest.raises(TooLarge):
        read_file(big)


async def test_the_hub_refuses_a_stick_written_by_a_box_it_did_not_enroll(kit: HubKit, tmp_path: Path) -> None:
    await kit.add_village("v1")
    await kit.enroll("v1")
    sync_dir = tmp_path / "stick"
    stranger = NodeKey.generate()
    write_file(sync_dir, position_name("v1"), make_position(stranger, "v1", 0, GENESIS, 0))
    report = await import_from(kit.data_dir, sync_dir)
    assert report["villages"] == {}
    assert "not signed by the box enrolled for village v1" in report["refused"][0]
    assert not any(sync_dir.glob("down-*"))


def test_importing_a_stick_with_nothing_from_the_hub_exits_2_with_a_sentence(tmp_path: Path) -> None:
    import subprocess

    from deploy.local_processes import BIN
    from tests.edge.conftest import provision

    edge_dir = tmp_path / "edge"
    provision(edge_dir)
    (tmp_path / "stick" / "VILLAGENET" / "sync").mkdir(parents=True)
    proc = subprocess.run([str(BIN / "village-edge"), "sync", "import", "--data", str(edge_dir),
                           str(tmp_path / "stick")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "holds nothing from the hub for village v1" in proc.stderr
