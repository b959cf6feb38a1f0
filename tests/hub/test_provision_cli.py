"""`village-provision make` as the technician runs it at the hub: a signed bundle on a stick, or a clear refusal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from protocol.keys import NodeKey, fingerprint
from provisioning.bundle import open_bundle

BIN = Path(sys.executable).parent


def run(command: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / command), *args], capture_output=True, text=True, timeout=60, cwd="/")


def hub_with_village(tmp_path: Path) -> Path:
    data = tmp_path / "hub"
    assert run("village-hub", "init", "--data", str(data)).returncode == 0
    added = run("village-hub", "village", "add", "--data", str(data), "--id", "v1", "--name", "一村", "--town", "镇")
    assert added.returncode == 0, added.stderr
    return data


def test_make_writes_a_bundle_signed_by_the_hub_root_onto_a_stick_folder(tmp_path: Path) -> None:
    data = hub_with_village(tmp_path)
    stick = tmp_path / "stick"
    stick.mkdir()
    result = run("village-provision", "make", "--hub-data", str(data), "--village", "v1",
                 "--hub-url", "http://hub.example:8700", "--out", str(stick), "--days", "3")
    assert result.returncode == 0, result.stderr
    root = NodeKey.load(data / "root.key").public
    bundle = open_bundle((stick / "VILLAGENET" / "provision.vnb").read_bytes(), pinned_root=root)
    assert (bundle.village_id, bundle.village_name, bundle.hub_url) == ("v1", "一村", "http://hub.example:8700")
    assert bundle.expires_at - bundle.issued_at == 3 * 24 * 3600 and not bundle.move
    assert bundle.enroll_token and bundle.diag_key is not None
    assert fingerprint(root) in result.stdout and "valid for 3 days" in result.stdout


def test_make_for_a_village_the_hub_does_not_know_exits_2_with_a_sentence(tmp_path: Path) -> None:
    data = hub_with_village(tmp_path)
    result = run("village-provision", "make", "--hub-data", str(data), "--village", "nowhere",
                 "--hub-url", "http://hub.example:8700", "--out", str(tmp_path / "b.vnb"))
    assert result.returncode == 2
    assert result.stderr.startswith("cannot make a bundle:") and "nowhere" in result.stderr
    assert not (tmp_path / "b.vnb").exists()
