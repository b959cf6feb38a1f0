"""Rotating the hub's signing key without downtime, TUF-style, and picking up new keys in the running hub.

`rotate_signing_key` makes a new key and a trust document listing old and new; `retire_old_keys` lists only the
new one and moves the old to `retired_keys` with an expiry. Edges fetch the trust document and follow; the running
hub notices the changed files (`KeyFileWatch`, through `Hub.refresh_keys`) on its next sync request, so nothing
restarts. `revoke_signing_key` is for a leaked key: revoked at once, no grace, and a new key named in its place.
Each needs the root key, which may be offline (`root_path`).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from protocol.atomic_file import write_atomically
from protocol.keys import NodeKey, fingerprint, node_id
from protocol.trust import make_trust

from .errors import BadInput
from .keys_store import SIGNING_KEY, TRUST, HubKeys, load_hub_keys

log = logging.getLogger(__name__)
DEFAULT_GRACE_S = 7 * 24 * 3600


def rotate_signing_key(data_dir: Path, now: int | None = None, root_path: Path | None = None) -> HubKeys:
    """A new signing key, listed beside the current ones in the next trust version, then used for signing."""
    keys = load_hub_keys(data_dir, root_path)
    new = NodeKey.generate()
    listed = [k for k in keys.trust.signing_keys if k != new.public] + [new.public]
    raw = make_trust(keys.root, keys.trust.hub_name, listed, version=keys.trust.version + 1,
                     revoked_keys=list(keys.trust.revoked_keys), retired_keys=list(keys.trust.retired_keys),
                     now=now, release_keys=list(keys.trust.release_keys),
                     retired_release_keys=list(keys.trust.retired_release_keys))
    # Trust first (it lists both keys, so either signing.key verifies under it), then the key itself.
    write_atomically(data_dir / TRUST, raw, 0o644)
    new.save(data_dir / SIGNING_KEY)
    log.warning("hub signing key rotated to %s (trust version %d)", fingerprint(new.public), keys.trust.version + 1)
    return load_hub_keys(data_dir)


def retire_old_keys(data_dir: Path, grace_s: int = DEFAULT_GRACE_S, now: int | None = None,
                    root_path: Path | None = None) -> HubKeys:
    """Keep only the current signing key; the others stay acceptable until now + grace_s, then are refused."""
    keys = load_hub_keys(data_dir, root_path)
    current = int(time.time()) if now is None else now
    old = [k for k in keys.trust.signing_keys if k != keys.signing.public]
    retired = [(k, until) for k, until in keys.trust.retired_keys if until > current and k not in old]
    retired += [(k, current + grace_s) for k in old]
    raw = make_trust(keys.root, keys.trust.hub_name, [keys.signing.public], version=keys.trust.version + 1,
                     revoked_keys=list(keys.trust.revoked_keys), retired_keys=retired, now=current,
                     release_keys=list(keys.trust.release_keys),
                     retired_release_keys=list(keys.trust.retired_release_keys))
    write_atomically(data_dir / TRUST, raw, 0o644)
    log.warning("retired %d old hub signing key(s); accepted until %d", len(old), current + grace_s)
    return load_hub_keys(data_dir)


def key_ids(key: bytes) -> tuple[str, str]:
    """The two names an operator may give a key by: its node id (as `key rotate` prints) and its fingerprint."""
    return node_id(key), fingerprint(key)


def listed_signing_keys(keys: HubKeys) -> list[tuple[str, str, str]]:
    """(node id, fingerprint, standing) of every feed signing key the trust document names."""
    found = [(*key_ids(k), "signing (current)" if k == keys.signing.public else "signing") for k in
             keys.trust.signing_keys]
    found += [(*key_ids(k), f"retired, accepted until {until}") for k, until in keys.trust.retired_keys]
    found += [(*key_ids(k), "revoked") for k in keys.trust.revoked_keys]
    return found


def revoke_signing_key(data_dir: Path, key_id: str, root_path: Path | None = None,
                       now: int | None = None) -> tuple[HubKeys, bytes]:
    """Revoke a leaked feed signing key at once: the next trust version lists it as revoked, keeps the others, and
    names a new signing key when the leaked one was in use. Returns the keys now and the revoked key."""
    keys = load_hub_keys(data_dir, root_path)
    candidates = list(keys.trust.signing_keys) + [k for k, _ in keys.trust.retired_keys]
    leaked = next((k for k in candidates if key_id.strip() in key_ids(k)), None)
    if leaked is None:
        if any(key_id.strip() in key_ids(k) for k in keys.trust.revoked_keys):
            raise BadInput(f"signing key {key_id} is already revoked (trust version {keys.trust.version})",
                           "already_revoked")
        names = ", ".join(n for n, _, _ in listed_signing_keys(keys)) or "none"
        raise BadInput(f"trust version {keys.trust.version} names no signing key {key_id} (it names {names})",
                       "unknown_key")
    listed = [k for k in keys.trust.signing_keys if k != leaked]
    new = NodeKey.generate() if leaked == keys.signing.public else None
    if new is not None:
        listed.append(new.public)
    raw = make_trust(keys.root, keys.trust.hub_name, listed, version=keys.trust.version + 1,
                     revoked_keys=[*keys.trust.revoked_keys, leaked],
                     retired_keys=[(k, until) for k, until in keys.trust.retired_keys if k != leaked], now=now,
                     release_keys=list(keys.trust.release_keys),
                     retired_release_keys=list(keys.trust.retired_release_keys))
    # Trust first: it names the new key, so the signing.key written next always verifies under the trust on disk
    # (a hub reloading in between keeps signing with the leaked key for a moment, which edges then refuse).
    write_atomically(data_dir / TRUST, raw, 0o644)
    if new is not None:
        new.save(data_dir / SIGNING_KEY)
    log.warning("hub signing key %s revoked (trust version %d)%s", fingerprint(leaked), keys.trust.version + 1,
                f"; signing with {new.node_id} now" if new else "")
    return load_hub_keys(data_dir), leaked


class KeyFileWatch:
    """Notices when a CLI rotated the key files under a running hub; cheap (two stat calls) when nothing changed."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        # None until the first look, so the first request reloads once whatever the files' age.
        self._stamp: tuple[int, int] | None = None

    def reload_if_changed(self) -> HubKeys | None:
        """The keys as the files now hold them if they changed since the last look, else None."""
        try:
            stamp = os.stat(self.data_dir / TRUST).st_mtime_ns, os.stat(self.data_dir / SIGNING_KEY).st_mtime_ns
        except FileNotFoundError:
            return None
        if stamp == self._stamp:
            return None
        try:
            keys = load_hub_keys(self.data_dir)
        except Exception as exc:  # a half-written rotation: keep signing with what we have and look again later
            log.warning("hub keys changed but cannot be loaded yet: %s", exc)
            return None
        self._stamp = stamp
        log.info("hub keys reloaded: trust version %d, signing %s", keys.trust.version,
                 fingerprint(keys.signing.public))
        return keys
