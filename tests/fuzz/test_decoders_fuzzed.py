"""Outside bytes (the line, a USB stick, an encoder) fuzzed into every decoder: each one returns or refuses with a
ProtocolError, in bounded time; nothing else escapes (no crash, no hang).

Random bytes mostly die at the first check, so each decoder also gets input that is well formed up to a point:
valid msgpack of random shape, and envelopes and batches that are validly signed around random content.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import codec
from protocol.ack import open_ack
from protocol.compression import MAGIC, decompress
from protocol.envelope import open_sealed, seal
from protocol.errors import ProtocolError
from protocol.feed import GENESIS, chain, feed_name, make_batch, new_entries, open_batch
from protocol.hls_playlist import parse_media_playlist
from protocol.keys import NodeKey
from protocol.stick_sync import POSITION_PURPOSE, list_files, open_position
from protocol.trust import PURPOSE as TRUST_PURPOSE
from protocol.trust import open_trust
from provisioning.bundle import PURPOSE as BUNDLE_PURPOSE
from provisioning.bundle import open_bundle
from provisioning.receipts import PURPOSE as RECEIPT_PURPOSE
from provisioning.receipts import open_receipt

# Reproducible in CI (derandomize), a few hundred cases each; a decoder slower than the deadline counts as a hang.
DECODER = settings(max_examples=300, deadline=2000, derandomize=True, database=None, print_blob=False,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
KEY = NodeKey.generate()
FEED = feed_name("down", "v1")

# msgpack-able values of random shape: what a decoder sees once the bytes parse.
SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | st.text(
    max_size=40) | st.binary(max_size=80)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12),
                                                                                           inner, max_size=5),
                      max_leaves=20)
# The fields the readers of sealed documents look for, so that random bodies get past "lacks the field" and the
# readers meet wrong types, wrong sizes and odd values in the fields they use.
FIELDS = ["actions", "at", "code", "diag_key", "down_hash", "down_seq", "enroll_proof", "enroll_token", "expires_at",
          "feed", "hardware", "hash", "hub_name", "hub_root_fingerprint", "hub_url", "issued_at", "move", "node_id",
          "outcome", "public_key", "reason", "release_keys", "retired_keys", "retired_release_keys", "revoked_keys",
          "seq", "signed_at", "signing_keys", "town", "trust", "up_seq", "v", "version", "village_id",
          "village_name", "written_at"]
SMALL_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3), max_leaves=4)
MAPS = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), SMALL_VALUES, max_size=12)


def _refuses_cleanly(decode: Callable[[], Any]) -> None:
    try:
        decode()
    except ProtocolError:
        pass  # a refusal with a code and a sentence: what outside bytes should get


def _flipped(data: bytes, where: int, byte: int) -> bytes:
    """One byte of a valid message changed: the damage a bad line or a bad stick does."""
    at = where % len(data)
    return data[:at] + bytes([byte]) + data[at + 1:]


@DECODER
@given(st.binary(max_size=2048))
def test_codec_refuses_random_bytes_cleanly(data: bytes) -> None:
    _refuses_cleanly(lambda: codec.decode(data))


@DECODER
@given(VALUES)
def test_codec_gives_back_what_it_encoded(value: Any) -> None:
    assert codec.decode(codec.encode(value)) == codec.decode(codec.encode(codec.decode(codec.encode(value))))


@DECODER
@given(st.binary(max_size=512), st.sampled_from([b"", MAGIC]))
def test_decompression_refuses_damaged_frames_cleanly(data: bytes, prefix: bytes) -> None:
    _refuses_cleanly(lambda: decompress(prefix + data, 64 * 1024))


@DECODER
@given(st.binary(max_size=2048))
def test_a_batch_of_random_bytes_is_refused_cleanly(data: bytes) -> None:
    _refuses_cleanly(lambda: open_batch(data, FEED, "hub", lambda signer: True))


@settings(DECODER, max_examples=150)
@given(st.lists(VALUES, max_size=4), st.integers(0, 2**40), st.booleans())
def test_a_validly_signed_batch_of_random_ops_is_refused_cleanly(ops: list[Any], after: int, compact: bool) -> None:
    entries = chain(FEED, after, GENESIS, ops)
    head = entries[-1] if entries else None
    data = make_batch(KEY, FEED, entries, head.seq if head else after, head.hash if head else GENESIS,
                      compact=compact)

    def decode_and_apply() -> None:
        batch = open_batch(data, FEED, "hub", lambda signer: signer == KEY.public)
        new_entries(batch, after, GENESIS)

    _refuses_cleanly(decode_and_apply)


@DECODER
@given(st.integers(0, 10_000), st.integers(0, 255), st.booleans())
def test_a_damaged_batch_is_refused_cleanly(where: int, byte: int, compact: bool) -> None:
    ops = [{"op": "put", "kind": "notice", "id": "n1", "body": {"title": "停水"}, "blobs": []}]
    entries = chain(FEED, 0, GENESIS, ops)
    data = make_batch(KEY, FEED, entries, entries[-1].seq, entries[-1].hash, compact=compact)
    _refuses_cleanly(lambda: open_batch(_flipped(data, where, byte), FEED, "hub", lambda s: s == KEY.public))


@DECODER
@given(st.binary(max_size=1024), st.sampled_from(["bundle", "receipt", "trust", "sync-position", "feed-ack"]))
def test_an_envelope_of_random_bytes_is_refused_cleanly(data: bytes, purpose: str) -> None:
    _refuses_cleanly(lambda: open_sealed(data, purpose))


@settings(DECODER, max_examples=200)
@given(MAPS, st.sampled_from([POSITION_PURPOSE, RECEIPT_PURPOSE, BUNDLE_PURPOSE, TRUST_PURPOSE, "feed-ack"]))
def test_validly_sealed_random_bodies_are_refused_cleanly_by_every_reader(body: dict[str, Any], purpose: str) -> None:
    data = seal(KEY, purpose, body)
    _refuses_cleanly(lambda: open_position(data))
    _refuses_cleanly(lambda: open_receipt(data))
    _refuses_cleanly(lambda: open_bundle(data))
    _refuses_cleanly(lambda: open_bundle(data, pinned_root=KEY.public, current_village="v1"))
    _refuses_cleanly(lambda: open_trust(data, KEY.public))
    _refuses_cleanly(lambda: open_ack(data, FEED, lambda signer: True))


@DECODER
@given(st.lists(st.text(max_size=120), max_size=30))
def test_a_random_playlist_is_refused_cleanly(lines: list[str]) -> None:
    _refuses_cleanly(lambda: parse_media_playlist("\n".join(["#EXTM3U", *lines]).encode()))


@DECODER
@given(st.binary(max_size=1024))
def test_a_playlist_of_random_bytes_is_refused_cleanly(data: bytes) -> None:
    _refuses_cleanly(lambda: parse_media_playlist(data))


@settings(DECODER, max_examples=60)
@given(st.lists(st.from_regex(r"\A(up|down)-[A-Za-z0-9._-]{0,70}-[0-9]{0,12}\.(vnb|pos|ack|tmp)\Z|\A[^/\x00]{1,60}\Z"),
                max_size=8, unique=True))
def test_a_sync_folder_of_odd_file_names_is_listed_or_refused_cleanly(tmp_path_factory: Any, names: list[str]) -> None:
    folder: Path = tmp_path_factory.mktemp("sync")
    for name in names:
        if name not in (".", ".."):
            try:
                (folder / name).write_bytes(b"x")
            except OSError:
                continue  # a name this filesystem cannot hold (too long in bytes) cannot be on a stick either
    _refuses_cleanly(lambda: list_files(folder))
