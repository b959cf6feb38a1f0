"""Decoding outside bytes with limits; trust documents, envelopes and bundles."""

import pytest

from protocol import codec
from protocol.codec import Limits
from protocol.envelope import open_sealed, seal
from protocol.errors import DecodeError, Expired, SignatureError, TooLarge, UnknownKey, WrongVillage
from protocol.keys import NodeKey, node_id
from protocol.trust import make_trust, open_trust
from provisioning.bundle import make_bundle, open_bundle


def test_canonical_encoding_does_not_depend_on_key_order():
    assert codec.encode({"b": 1, "a": {"y": 2, "x": 3}}) == codec.encode({"a": {"x": 3, "y": 2}, "b": 1})


def test_oversized_input_is_refused_before_decoding():
    with pytest.raises(TooLarge):
        codec.decode(b"\x00" * 101, Limits(max_bytes=100))


def test_deeply_nested_input_is_refused():
    deep: list = []
    for _ in range(40):
        deep = [deep]
    with pytest.raises(DecodeError):
        codec.decode(codec.encode(deep))


def test_long_strings_and_non_string_keys_are_refused():
    with pytest.raises(DecodeError):
        codec.decode(codec.encode({"a": "x" * 200}), Limits(max_str=100))
    with pytest.raises(DecodeError):
        codec.decode(b"\x81\x01\x02")  # {1: 2}


def test_node_ids_are_stable_and_differ_per_key():
    a, b = NodeKey.generate(), NodeKey.generate()
    assert node_id(a.public) == a.node_id != b.node_id
    assert len(a.node_id) == 35 and a.node_id.count("-") == 3


def test_saved_keys_are_private_and_load_back(tmp_path):
    key = NodeKey.generate()
    path = tmp_path / "node.key"
    key.save(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert NodeKey.load(path).public == key.public


def test_an_envelope_for_one_purpose_cannot_pass_as_another():
    sealed = seal(NodeKey.generate(), "status", {"x": 1})
    with pytest.raises(DecodeError):
        open_sealed(sealed, "bundle")


def test_an_envelope_with_a_changed_body_fails_its_signature():
    key = NodeKey.generate()
    m = codec.decode(seal(key, "status", {"x": 1}))
    m["b"] = codec.encode({"x": 2})
    with pytest.raises(SignatureError):
        open_sealed(codec.encode(m), "status")


def test_a_trust_document_under_another_root_is_refused():
    root, signing = NodeKey.generate(), NodeKey.generate()
    raw = make_trust(root, "hub", [signing.public], version=1)
    assert open_trust(raw, root.public).can_sign(signing.public)
    with pytest.raises(UnknownKey):
        open_trust(raw, NodeKey.generate().public)


def test_an_expired_trust_document_is_refused():
    root = NodeKey.generate()
    raw = make_trust(root, "hub", [root.public], version=1, lifetime_s=10, now=1000)
    with pytest.raises(Expired):
        open_trust(raw, root.public, now=2000)


def make_test_bundle(root: NodeKey, village: str = "v1", **kw) -> bytes:
    trust = make_trust(root, "hub", [NodeKey.generate().public], version=1)
    return make_bundle(root, trust, village, "村", "t1", "http://127.0.0.1:1", "token", **kw)


def test_a_fresh_box_takes_the_first_valid_bundle_and_then_only_its_hubs():
    root = NodeKey.generate()
    bundle = open_bundle(make_test_bundle(root))
    assert bundle.village_id == "v1" and bundle.root_key == root.public
    with pytest.raises(UnknownKey):
        open_bundle(make_test_bundle(NodeKey.generate()), pinned_root=root.public)


def test_a_bundle_for_another_village_needs_the_move_flag():
    root = NodeKey.generate()
    with pytest.raises(WrongVillage):
        open_bundle(make_test_bundle(root, "v2"), pinned_root=root.public, current_village="v1")
    moved = open_bundle(make_test_bundle(root, "v2", move=True), pinned_root=root.public, current_village="v1")
    assert moved.village_id == "v2"


def test_an_expired_bundle_is_refused():
    root = NodeKey.generate()
    with pytest.raises(Expired):
        open_bundle(make_test_bundle(root, lifetime_s=5, now=100))


def test_a_bundle_with_one_byte_changed_is_refused():
    root = NodeKey.generate()
    data = bytearray(make_test_bundle(root))
    data[len(data) // 2] ^= 0x01
    with pytest.raises((DecodeError, SignatureError)):
        open_bundle(bytes(data))
