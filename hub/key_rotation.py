"""Rotating the hub's signing key without downtime, TUF-style, and picking up new keys in the running hub.

`rotate_signing_key` makes a new key and a trust document listing old and new; `retire_old_keys` lists only the
new one and moves the old to `retired_keys` with an expiry. Edges fetch the trust document and follow; the running
hub notices the changed files (`KeyFileWatch`, through `Hub.refresh_keys`) on its next sync request, so nothing
restarts.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from protocol.atomic_file import write_atomically
from protocol.keys import NodeKey, fingerprint
from protocol.trust import make_trust

from .keys_store import SIGNING_KEY, TRUST, HubKeys, load_hub_keys

log = logging.getLogger(__name__)
DEFAULT_GRACE_S = 7 * 24 * 3600


def rotate_signing_key(data_dir: Path, now: int | None = None) -> HubKeys:
    """A new signing key, listed beside the current ones in the next trust version, then used for signing."""
    keys = load_hub_keys(data_dir)
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


def retire_old_keys(data_dir: Path, grace_s: int = DEFAULT_GRACE_S, now: int | None = None) -> HubKeys:
    """Keep only the current signing key; the others stay acceptable until now + grace_s, then are refused."""
    keys = load_hub_keys(data_dir)
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
