"""The hub's key material: loading checks that keys and trust agree; the trust document renews before expiry."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hub.errors import BadInput
from hub.keys_store import RENEW_BEFORE_S, init_hub, load_hub_keys, renew_trust_if_due
from protocol.keys import NodeKey
from protocol.trust import DEFAULT_LIFETIME_S, open_trust


def test_load_hub_keys_gives_the_root_key_and_the_raw_trust_document(tmp_path: Path) -> None:
    init_hub(tmp_path, "某市")
    keys = load_hub_keys(tmp_path)
    assert keys.trust_raw == (tmp_path / "trust.vnt").read_bytes()
    assert open_trust(keys.trust_raw, keys.root.public).can_sign(keys.signing.public)
    assert keys.hub_name == "某市"


def test_load_hub_keys_refuses_a_signing_key_the_trust_document_does_not_list(tmp_path: Path) -> None:
    init_hub(tmp_path)
    NodeKey.generate().save(tmp_path / "signing.key")
    with pytest.raises(BadInput, match="does not list"):
        load_hub_keys(tmp_path)


def test_load_hub_keys_on_an_empty_dir_says_to_run_init(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="village-hub init"):
        load_hub_keys(tmp_path)


def test_the_trust_document_is_reissued_with_a_higher_version_before_it_expires(tmp_path: Path) -> None:
    init_hub(tmp_path)
    first = load_hub_keys(tmp_path)
    assert renew_trust_if_due(tmp_path).trust.version == 1  # far from expiry: unchanged
    later = int(time.time()) + DEFAULT_LIFETIME_S - RENEW_BEFORE_S + 60
    renewed = renew_trust_if_due(tmp_path, now=later)
    assert renewed.trust.version == 2
    assert renewed.trust.expires_at > first.trust.expires_at
    doc = open_trust(renewed.trust_raw, first.root.public, now=later, min_version=1)
    assert doc.can_sign(first.signing.public)
