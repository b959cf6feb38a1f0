"""The rules a stick and a bundle are held to, checked on real images and real files without a running box."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from edge.box.provisioned import apply_bundle, load_state
from edge.usb import devices
from edge.usb.mount_ro import mounted_read_only
from protocol.errors import Expired, SequenceError, UnknownKey
from protocol.keys import NodeKey, fingerprint
from protocol.trust import make_trust
from provisioning.bundle import make_bundle
from provisioning.receipts import make_receipt, open_receipt
from provisioning.stick import DirStick, FatStick, StickError, read_capped, take_inventory
from provisioning.stick_probe import probe_filesystem

from .conftest import needs_loop
from .sticks import attached, make_ext4_image, make_fat_image, read_file


def test_the_filesystem_of_a_stick_is_told_from_its_first_sectors(tmp_path: Path):
    fat = make_fat_image(tmp_path / "fat.img", {})
    tree = tmp_path / "tree"
    tree.mkdir()
    ext4 = make_ext4_image(tmp_path / "ext4.img", tree)
    exfat = tmp_path / "exfat.img"
    with open(exfat, "wb") as f:
        f.truncate(16 * 1024 * 1024)
    subprocess.run(["mkfs.exfat", str(exfat)], check=True, capture_output=True)
    junk = tmp_path / "junk.img"
    junk.write_bytes(b"\xff" * 8192)
    assert [probe_filesystem(str(p)) for p in (fat, ext4, exfat, junk)] == ["vfat", "ext4", "exfat", None]
    assert probe_filesystem(str(tmp_path / "missing")) is None


def test_names_on_a_fat_stick_are_found_whatever_their_case(tmp_path: Path):
    image = make_fat_image(tmp_path / "s.img", {"VILLAGENET/packs/v1/pack.vnp": b"index", "villagenet/x": b"y"})
    stick = FatStick(str(image), writable=False)
    try:
        inventory = take_inventory(stick)
        assert inventory is not None
        found = inventory.find("VILLAGENET", "packs", "v1", "pack.vnp")
        assert found is not None
        assert read_capped(stick, found[0], found[1].size, 100, "index") == b"index"
        with pytest.raises(StickError) as refused:
            read_capped(stick, found[0], found[1].size, 3, "index")
        assert refused.value.code == "too_large"
    finally:
        stick.close()


def test_a_symlink_or_a_dotdot_name_under_villagenet_refuses_the_stick(tmp_path: Path):
    root = tmp_path / "stick"
    (root / "VILLAGENET" / "packs").mkdir(parents=True)
    (root / "VILLAGENET" / "packs" / "evil").symlink_to("/etc")
    with pytest.raises(StickError) as refused:
        take_inventory(DirStick(root, writable=False))
    assert refused.value.code == "symlink"
    (root / "VILLAGENET" / "packs" / "evil").unlink()
    (root / "VILLAGENET" / "a..b").write_bytes(b"")
    with pytest.raises(StickError) as refused:
        take_inventory(DirStick(root, writable=False))
    assert refused.value.code == "unsafe_path"
    with pytest.raises(StickError):
        DirStick(root).write_bytes(("VILLAGENET", "..", "x"), b"escape")
    assert not (tmp_path / "x").exists()


def test_a_stick_without_villagenet_is_none_of_our_business(tmp_path: Path):
    (tmp_path / "photos").mkdir()
    assert take_inventory(DirStick(tmp_path)) is None


def _hub(version: int = 1, signing: NodeKey | None = None, root: NodeKey | None = None) -> tuple[NodeKey, bytes]:
    root = root or NodeKey.generate()
    return root, make_trust(root, "平台", [(signing or NodeKey.generate()).public], version=version)


def test_a_fresh_box_trusts_the_first_valid_bundle_then_only_its_hub_with_newer_keys_and_addresses(tmp_path: Path):
    root, trust_v1 = _hub()
    state = apply_bundle(tmp_path, make_bundle(root, trust_v1, "v1", "一村", "t1", "http://hub-a", "tok"))
    assert state.root_fingerprint == fingerprint(root.public)

    _, trust_v2 = _hub(version=2, root=root)
    moved = apply_bundle(tmp_path, make_bundle(root, trust_v2, "v1", "一村", "t1", "http://hub-b", "tok2"))
    assert (moved.hub_url, moved.trust().version, moved.enrolled) == ("http://hub-b", 2, False)

    before = (tmp_path / "provision.json").read_bytes()
    with pytest.raises(SequenceError):  # an old bundle would bring back a rotated-out signing key
        apply_bundle(tmp_path, make_bundle(root, trust_v1, "v1", "一村", "t1", "http://hub-a", "tok"))
    stranger, other_trust = _hub()
    with pytest.raises(UnknownKey):
        apply_bundle(tmp_path, make_bundle(stranger, other_trust, "v1", "一村", "t1", "http://evil", "tok"))
    with pytest.raises(Expired):
        apply_bundle(tmp_path, make_bundle(root, trust_v2, "v1", "一村", "t1", "http://hub-b", "tok",
                                           lifetime_s=60, now=int(time.time()) - 120))
    assert (tmp_path / "provision.json").read_bytes() == before
    assert load_state(tmp_path) == moved


def test_a_receipt_names_the_box_that_signed_it_and_any_change_is_refused():
    key = NodeKey.generate()
    raw = make_receipt(key, {"outcome": "refused", "code": "expired", "reason": "过期", "actions": [],
                             "hardware": {"cpus": 4}, "at": 1})
    receipt = open_receipt(raw)
    assert (receipt.node_id, receipt.code, receipt.reason) == (key.node_id, "expired", "过期")
    tampered = bytearray(raw)
    tampered[-1] ^= 1
    with pytest.raises(Exception) as refused:
        open_receipt(bytes(tampered))
    assert getattr(refused.value, "code", None) == "bad_signature"


def test_a_file_written_again_on_a_fat_stick_reads_back_whole(tmp_path: Path):
    image = make_fat_image(tmp_path / "s.img", {"VILLAGENET/README.txt": b"hi"})
    for content in (b"a" * 9000, b"second receipt"):
        stick = FatStick(str(image), writable=True)
        try:
            stick.write_bytes(("VILLAGENET", "receipts", "box.vnr"), content)
        finally:
            stick.close()
    assert read_file(image, "VILLAGENET/receipts/box.vnr") == b"second receipt"
    assert subprocess.run(["fsck.vfat", "-n", str(image)], capture_output=True).returncode == 0  # a clean FAT


@needs_loop
def test_a_loop_device_counts_as_a_stick_only_when_loop_devices_are_accepted_and_it_is_attached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    image = make_fat_image(tmp_path / "s.img", {})
    monkeypatch.delenv(devices.LOOP_DIR_ENV, raising=False)
    with attached(image) as device:
        name = Path(device).name
        assert devices.is_candidate(name, loop_ok=True)
        assert not devices.is_candidate(name, loop_ok=False)
        monkeypatch.setenv(devices.LOOP_DIR_ENV, str(tmp_path / "elsewhere"))
        assert not devices.is_candidate(name, loop_ok=True)
        monkeypatch.setenv(devices.LOOP_DIR_ENV, str(tmp_path))
        assert devices.is_candidate(name, loop_ok=True) and devices.still_present(name)
    assert not devices.is_candidate(name, loop_ok=True) and not devices.still_present(name)


def _mounts() -> str:
    with open("/proc/mounts") as f:
        return f.read()


def _unmounted_and_removed(where: Path) -> bool:
    return str(where) not in _mounts() and not where.exists()


@needs_loop
async def test_an_ext4_stick_is_mounted_read_only_nosuid_nodev_noexec_and_unmounted_afterwards(tmp_path: Path):
    tree = tmp_path / "tree"
    (tree / "VILLAGENET").mkdir(parents=True)
    (tree / "VILLAGENET" / "provision.vnb").write_bytes(b"bundle")
    image = make_ext4_image(tmp_path / "e.img", tree)
    with attached(image) as device:
        async with mounted_read_only(device) as where:
            line = next(x for x in _mounts().splitlines() if x.split()[1] == str(where))
            options = set(line.split()[3].split(","))
            assert {"ro", "nosuid", "nodev", "noexec"} <= options
            stick = DirStick(where, writable=False)
            inventory = take_inventory(stick)
            assert inventory is not None and inventory.find("villagenet", "PROVISION.VNB") is not None
            with pytest.raises(OSError):
                (where / "VILLAGENET" / "x").write_bytes(b"no")
        assert _unmounted_and_removed(where)
