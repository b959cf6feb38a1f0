"""Signed releases: only a key in the trust document's release role signs one, it expires, and a box refuses one for
another target, an older or equal version, or a minimum version it lacks. The feed signing key cannot sign one."""

from __future__ import annotations

import pytest

from protocol.errors import DecodeError, Expired, SignatureError, UnknownKey
from protocol.keys import NodeKey
from protocol.releases import Downgrade, TooOld, WrongTarget, check_fits, make_release, open_release
from protocol.trust import make_trust, open_trust

NOW = 1_800_000_000
SHA = "ab" * 32


def trust_with(root: NodeKey, signing: NodeKey, release: NodeKey | None, **extra: object) -> object:
    raw = make_trust(root, "hub", [signing.public], version=2, now=NOW,
                     release_keys=[release.public] if release else None, **extra)  # type: ignore[arg-type]
    return open_trust(raw, root.public, now=NOW)


@pytest.fixture
def keys() -> tuple[NodeKey, NodeKey, NodeKey]:
    return NodeKey.generate(), NodeKey.generate(), NodeKey.generate()


def release(key: NodeKey, version: str = "1.2.0", target: str = "edge", **kw: object) -> bytes:
    return make_release(key, version=version, target=target, sha256=SHA, size=10, now=NOW, **kw)  # type: ignore[arg-type]


def test_a_release_signed_by_the_release_key_opens_with_its_fields(keys) -> None:
    root, signing, rel = keys
    opened = open_release(release(rel, min_version="1.0"), trust_with(root, signing, rel), now=NOW)
    assert (opened.version, opened.target, opened.min_version, opened.sha256, opened.size) == (
        "1.2.0", "edge", "1.0", SHA, 10)
    assert opened.record_id == "edge-1.2.0"


def test_the_feed_signing_key_cannot_sign_a_release(keys) -> None:
    root, signing, rel = keys
    with pytest.raises(UnknownKey, match="release key"):
        open_release(release(signing), trust_with(root, signing, rel), now=NOW)


def test_a_forged_release_from_an_unknown_key_is_refused(keys) -> None:
    root, signing, rel = keys
    with pytest.raises(UnknownKey):
        open_release(release(NodeKey.generate()), trust_with(root, signing, rel), now=NOW)


def test_a_release_whose_bytes_were_changed_is_refused(keys) -> None:
    root, signing, rel = keys
    raw = bytearray(release(rel))
    raw[raw.index(b"1.2.0")] = ord("9")
    with pytest.raises((SignatureError, DecodeError)):
        open_release(bytes(raw), trust_with(root, signing, rel), now=NOW)


def test_an_expired_release_is_refused(keys) -> None:
    root, signing, rel = keys
    with pytest.raises(Expired):
        open_release(release(rel, lifetime_s=60), trust_with(root, signing, rel), now=NOW + 61)


def test_a_rotated_release_key_is_accepted_until_its_grace_ends_and_a_revoked_one_never(keys) -> None:
    root, signing, old = keys
    new = NodeKey.generate()
    rotated = open_trust(make_trust(root, "hub", [signing.public], version=3, now=NOW, release_keys=[new.public],
                                    retired_release_keys=[(old.public, NOW + 100)]), root.public, now=NOW)
    assert open_release(release(old), rotated, now=NOW + 99).version == "1.2.0"
    with pytest.raises(UnknownKey):
        open_release(release(old), rotated, now=NOW + 100)
    revoked = open_trust(make_trust(root, "hub", [signing.public], version=4, now=NOW, release_keys=[new.public],
                                    revoked_keys=[new.public]), root.public, now=NOW)
    with pytest.raises(UnknownKey):
        open_release(release(new), revoked, now=NOW)


def test_a_trust_document_without_release_keys_reads_as_before(keys) -> None:
    root, signing, _ = keys
    doc = trust_with(root, signing, None)
    assert doc.release_keys == () and not doc.can_sign_releases(signing.public)


@pytest.mark.parametrize("target, running, error", [
    ("stb:HG680", "1.0.0", WrongTarget),
    ("edge", "1.2.0", Downgrade),
    ("edge", "1.3", Downgrade),
])
def test_a_box_refuses_a_release_for_another_target_or_not_newer(keys, target: str, running: str,
                                                                  error: type[Exception]) -> None:
    root, signing, rel = keys
    opened = open_release(release(rel, target=target), trust_with(root, signing, rel), now=NOW)
    with pytest.raises(error):
        check_fits(opened, "edge", running)


def test_a_box_below_the_minimum_version_is_told_to_take_another_release_first(keys) -> None:
    root, signing, rel = keys
    opened = open_release(release(rel, min_version="1.1"), trust_with(root, signing, rel), now=NOW)
    with pytest.raises(TooOld, match="needs at least 1.1"):
        check_fits(opened, "edge", "1.0.9")
    check_fits(opened, "edge", "1.1.0")


@pytest.mark.parametrize("bad", ["", "1.x", "1..2", "v1.2", "1.2.3.4.5"])
def test_a_version_that_is_not_dotted_numbers_is_refused(keys, bad: str) -> None:
    with pytest.raises(DecodeError):
        release(keys[2], version=bad)
