"""A forged, expired, wrong-target or downgraded release on a stick is refused with its reason, and nothing of it is
queued; the signed one beside them is accepted."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from deploy.local_processes import BIN, run_command
from protocol.keys import NodeKey
from protocol.releases import make_release, open_release
from protocol.trust import open_trust

from .conftest import Releases
from .kit import BASE_VERSION

FIRMWARE = Path("VILLAGENET") / "firmware"


def good_release(releases: Releases) -> tuple[bytes, Path]:
    meta = next((releases.good / FIRMWARE).glob("*.vnr"))
    return meta.read_bytes(), meta.with_suffix(".whl")


def stick_with(tmp_path: Path, releases: Releases, signed: bytes) -> Path:
    """A stick holding one release: `signed` beside the good release's wheel."""
    _, wheel = good_release(releases)
    folder = tmp_path / "stick" / FIRMWARE
    folder.mkdir(parents=True)
    (folder / "edge-x.vnr").write_bytes(signed)
    shutil.copyfile(wheel, folder / "edge-x.whl")
    return tmp_path / "stick"


def resign(releases: Releases, key: NodeKey, **changes: object) -> bytes:
    """The good release's metadata with some fields changed, signed by `key`."""
    signed, _ = good_release(releases)
    hub_trust = open_trust((releases.hub_dir / "trust.vnt").read_bytes(),
                           NodeKey.load(releases.hub_dir / "root.key").public)
    good = open_release(signed, hub_trust)
    fields: dict[str, object] = {"version": good.version, "target": good.target, "sha256": good.sha256,
                                 "size": good.size, **changes}
    return make_release(key, **fields)  # type: ignore[arg-type]


CASES = {
    "forged": (lambda r: resign(r, NodeKey.generate()), "not signed by a release key"),
    "signed by the feed key": (lambda r: resign(r, NodeKey.load(r.hub_dir / "signing.key")),
                               "not signed by a release key"),
    "expired": (lambda r: resign(r, NodeKey.load(r.hub_dir / "release.key"), now=int(time.time()) - 100,
                                 lifetime_s=10), "expired"),
    "wrong target": (lambda r: resign(r, NodeKey.load(r.hub_dir / "release.key"), target="stb:HG680"),
                     "is for stb:HG680"),
    "downgrade": (lambda r: resign(r, NodeKey.load(r.hub_dir / "release.key"), version="0.0.1"),
                  f"not newer than the running {BASE_VERSION}"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_bad_release_on_a_stick_is_refused_with_its_reason(case: str, releases: Releases,
                                                             tmp_path: Path) -> None:
    make, reason = CASES[case]
    box_dir = tmp_path / "box"
    shutil.copytree(releases.provisioned, box_dir)
    stick = stick_with(tmp_path, releases, make(releases))

    done = subprocess.run([str(BIN / "village-edge"), "update", "add", "--data", str(box_dir), str(stick)],
                          capture_output=True, text=True, timeout=60)

    assert done.returncode == 2 and "refused" in done.stderr and reason in done.stderr, done.stderr
    assert not list((box_dir / "content").glob("??/*")), "nothing of a refused release is kept"


def test_the_signed_release_on_a_stick_is_accepted(releases: Releases, tmp_path: Path) -> None:
    box_dir = tmp_path / "box"
    shutil.copytree(releases.provisioned, box_dir)
    done = run_command("village-edge", "update", "add", "--data", str(box_dir), str(releases.good))
    assert "accepted" in done.stdout
