"""The hub's release key: the trust document's release role, which signs software and nothing else.

`release_key` returns it, creating it (and a trust document that names it) for a hub initialised before the role
existed. `rotate_release_key` lists a new key and keeps the old one acceptable for a grace period, as the feed key's
rotation does (hub/key_rotation.py); releases signed by the old key stop being accepted once it expires.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from protocol.atomic_file import write_atomically
from protocol.keys import NodeKey, fingerprint
from protocol.trust import make_trust

from .key_rotation import DEFAULT_GRACE_S
from .keys_store import RELEASE_KEY, TRUST, HubKeys, load_hub_keys

log = logging.getLogger(__name__)


def _reissue(keys: HubKeys, data_dir: Path, release_keys: list[bytes],
             retired_release_keys: list[tuple[bytes, int]], now: int) -> None:
    raw = make_trust(keys.root, keys.trust.hub_name, list(keys.trust.signing_keys), version=keys.trust.version + 1,
                     revoked_keys=list(keys.trust.revoked_keys), retired_keys=list(keys.trust.retired_keys),
                     now=now, release_keys=release_keys, retired_release_keys=retired_release_keys)
    write_atomically(data_dir / TRUST, raw, 0o644)


def release_key(data_dir: Path, now: int | None = None) -> NodeKey:
    """The current release key; made, and named in a new trust version, when the hub has none yet."""
    keys = load_hub_keys(data_dir)
    path = data_dir / RELEASE_KEY
    key = NodeKey.load(path) if path.exists() else None
    if key is not None and key.public in keys.trust.release_keys:
        return key
    key = key or NodeKey.generate()
    current = int(time.time()) if now is None else now
    _reissue(keys, data_dir, list(keys.trust.release_keys) + [key.public], list(keys.trust.retired_release_keys),
             current)
    key.save(path)
    log.warning("release key %s named in trust version %d", fingerprint(key.public), keys.trust.version + 1)
    return key


def rotate_release_key(data_dir: Path, grace_s: int = DEFAULT_GRACE_S, now: int | None = None) -> NodeKey:
    """A new release key; the old ones are accepted until now + grace_s (releases already sent stay good)."""
    keys = load_hub_keys(data_dir)
    current = int(time.time()) if now is None else now
    new = NodeKey.generate()
    retired = [(k, until) for k, until in keys.trust.retired_release_keys if until > current]
    retired += [(k, current + grace_s) for k in keys.trust.release_keys]
    _reissue(keys, data_dir, [new.public], retired, current)
    new.save(data_dir / RELEASE_KEY)
    log.warning("release key rotated to %s; the old one accepted until %d", fingerprint(new.public),
                current + grace_s)
    return new
