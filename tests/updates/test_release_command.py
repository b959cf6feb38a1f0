"""`village-hub release add` refuses bad input with one sentence; the release role has its own key, made at init (or
at the first release of an older hub), and `release rotate-key` keeps the old key acceptable for a grace period."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deploy.local_processes import BIN, run_command
from protocol.keys import NodeKey
from protocol.trust import make_trust, open_trust


def hub(tmp_path: Path) -> Path:
    data = tmp_path / "hub"
    run_command("village-hub", "init", "--data", str(data))
    run_command("village-hub", "village", "add", "--data", str(data), "--id", "v1", "--name", "一村")
    return data


@pytest.fixture(scope="module")
def shared_hub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One hub for the refusals, which change nothing."""
    return hub(tmp_path_factory.mktemp("release-refusals"))


def trust(data: Path) -> object:
    return open_trust((data / "trust.vnt").read_bytes(), NodeKey.load(data / "root.key").public)


@pytest.mark.parametrize("flags, said", [
    (["--version", "v2"], "dotted numbers"),
    (["--version", "1.0", "--target", "phone"], "`edge` or `stb:MODEL`"),
    (["--version", "1.0", "--min-version", "x"], "dotted numbers"),
    (["--version", "1.0", "--scope", "town:nowhere"], "no registered village in scope town:nowhere"),
])
def test_a_release_with_bad_input_is_refused_with_one_sentence(shared_hub: Path, tmp_path: Path, flags: list[str],
                                                               said: str) -> None:
    data = shared_hub
    artifact = tmp_path / "a.whl"
    artifact.write_bytes(b"wheel")
    args = ["--target", "edge", *flags] if "--target" not in flags else flags
    done = subprocess.run([str(BIN / "village-hub"), "release", "add", "--data", str(data), "--file", str(artifact),
                           *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and said in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_init_names_a_release_key_apart_from_the_feed_key_and_rotation_keeps_the_old_one_for_a_while(
        tmp_path: Path) -> None:
    data = hub(tmp_path)
    first = NodeKey.load(data / "release.key")
    doc = trust(data)
    assert doc.release_keys == (first.public,) and first.public not in doc.signing_keys  # type: ignore[attr-defined]

    run_command("village-hub", "release", "rotate-key", "--data", str(data), "--grace-s", "3600")

    rotated = trust(data)
    new = NodeKey.load(data / "release.key")
    assert rotated.release_keys == (new.public,)  # type: ignore[attr-defined]
    assert rotated.can_sign_releases(first.public) and rotated.can_sign_releases(new.public)  # type: ignore[attr-defined]
    assert [k for k, _ in rotated.retired_release_keys] == [first.public]  # type: ignore[attr-defined]
    assert rotated.signing_keys == doc.signing_keys  # type: ignore[attr-defined]


def test_a_hub_made_before_the_release_role_gets_a_release_key_at_its_first_release(tmp_path: Path) -> None:
    data = hub(tmp_path)
    root, signing = NodeKey.load(data / "root.key"), NodeKey.load(data / "signing.key")
    (data / "trust.vnt").write_bytes(make_trust(root, "hub", [signing.public], version=1))  # as before the role
    (data / "release.key").unlink()
    artifact = tmp_path / "a.whl"
    artifact.write_bytes(b"wheel")

    run_command("village-hub", "release", "add", "--data", str(data), "--file", str(artifact), "--version", "9.0",
                "--target", "stb:HG680")

    doc = trust(data)
    assert doc.version == 2 and doc.release_keys == (NodeKey.load(data / "release.key").public,)  # type: ignore[attr-defined]
    assert (data / "releases" / "stb.HG680-9.0.vnr").is_file()
