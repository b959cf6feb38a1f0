"""The hub's key material in its data dir: root key, signing key, trust document and the admin token.

`init_hub` creates what is missing and never overwrites; `load_hub_keys` is what the server and the technician's
provisioning CLI use to sign.

The root key signs only trust documents and provisioning bundles, so it may live off the hub (`village-hub root
export-offline`, hub/root_offline.py): then the data dir keeps `root.pub`, the hub runs as before, and a command
that must sign with the root is given its file (`--root PATH`, or `VILLAGENET_ROOT_KEY=PATH` for any command).
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from protocol.atomic_file import write_atomically
from protocol.errors import ProtocolError
from protocol.keys import NodeKey, fingerprint, node_id
from protocol.trust import TrustDocument, make_trust, open_trust

from .errors import BadInput

log = logging.getLogger(__name__)

ROOT_KEY = "root.key"
ROOT_PUBLIC = "root.pub"  # the root's public half, always in the data dir (base64), so it may leave root.key
ROOT_KEY_ENV = "VILLAGENET_ROOT_KEY"
SIGNING_KEY = "signing.key"
RELEASE_KEY = "release.key"  # the release role (docs/updates.md); best kept offline, away from the serving hub
TRUST = "trust.vnt"
ADMIN_TOKEN = "admin.token"
DEFAULT_HUB_NAME = "VillageNet 市级平台"
# Re-issue the trust document this long before it expires, so edges never see an expired one.
RENEW_BEFORE_S = 60 * 24 * 3600


class NotInitialised(BadInput):
    code = "not_initialised"


class RootOffline(BadInput):
    code = "root_offline"


class OfflineRoot(NodeKey):
    """The root key when its private half is kept off the hub: its public half verifies, signing asks for the file."""

    def __init__(self, public: bytes, data_dir: Path) -> None:  # no private half to hand to NodeKey
        self.public = public
        self.node_id = node_id(public)
        self.data_dir = data_dir

    def sign(self, message: bytes) -> bytes:
        raise RootOffline(
            f"this needs the hub's root key {fingerprint(self.public)}, which is kept offline: give its file with "
            f"--root PATH (or {ROOT_KEY_ENV}=PATH)"
        )

    def save(self, path: Path) -> None:
        raise RootOffline("the root key is offline; there is nothing here to save")


def write_root_public(data_dir: Path, public: bytes) -> None:
    write_atomically(data_dir / ROOT_PUBLIC, base64.urlsafe_b64encode(public) + b"\n", 0o644)


def _root_public(data_dir: Path) -> bytes | None:
    try:
        public = base64.urlsafe_b64decode((data_dir / ROOT_PUBLIC).read_bytes().strip())
    except FileNotFoundError:
        return None
    except (binascii.Error, ValueError) as exc:
        raise BadInput(f"{data_dir / ROOT_PUBLIC} is damaged: {exc}", "bad_keys") from exc
    if len(public) != 32:
        raise BadInput(f"{data_dir / ROOT_PUBLIC} does not hold a 32-byte public key", "bad_keys")
    return public


def _load_root(data_dir: Path, root_path: Path | None) -> NodeKey | None:
    """The root key: the file given (or named by VILLAGENET_ROOT_KEY), else the data dir's, else its public half."""
    given = root_path or (Path(os.environ[ROOT_KEY_ENV]) if os.environ.get(ROOT_KEY_ENV) else None)
    public = _root_public(data_dir)
    if given is not None:
        try:
            root = NodeKey.load(given)
        except FileNotFoundError:
            raise BadInput(f"there is no root key file at {given}", "no_root_key") from None
        except ValueError as exc:
            raise BadInput(f"{given} is not a key file: {exc}", "bad_keys") from exc
        if public is not None and root.public != public:
            raise BadInput(f"{given} is not this hub's root key (that is {fingerprint(public)})", "wrong_root_key")
        return root
    if (data_dir / ROOT_KEY).exists():
        return NodeKey.load(data_dir / ROOT_KEY)
    return OfflineRoot(public, data_dir) if public is not None else None


@dataclass(frozen=True)
class HubKeys:
    root: NodeKey
    signing: NodeKey
    trust_raw: bytes
    trust: TrustDocument

    @property
    def hub_name(self) -> str:
        return self.trust.hub_name


def init_hub(data_dir: Path, name: str | None = None) -> list[str]:
    """Create the keys, trust document and admin token that are missing; never overwrite one.

    Returns sentences for the operator. Raises BadInput when what exists cannot be completed safely (a trust
    document without its keys, or one that the keys do not match): overwriting would orphan every edge.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    root_p, signing_p, trust_p = data_dir / ROOT_KEY, data_dir / SIGNING_KEY, data_dir / TRUST
    said: list[str] = []
    has_root = root_p.exists() or (data_dir / ROOT_PUBLIC).exists()  # root.pub alone: the root is kept offline
    if trust_p.exists() and not (has_root and signing_p.exists()):
        missing = [p.name for p in (root_p, signing_p) if not p.exists()]
        raise BadInput(
            f"{trust_p} exists but {', '.join(missing)} is missing; refusing to create new keys over it "
            "(restore the missing file from a backup, or move the folder away to start a new hub)",
            "partial_keys",
        )
    if has_root and signing_p.exists() and trust_p.exists():
        load_hub_keys(data_dir)  # refuses inconsistent material
        said.append(f"hub keys already exist in {data_dir}; nothing overwritten")
    else:
        root = NodeKey.load(root_p) if root_p.exists() else _new_key(root_p)
        signing = NodeKey.load(signing_p) if signing_p.exists() else _new_key(signing_p)
        release_p = data_dir / RELEASE_KEY
        release = NodeKey.load(release_p) if release_p.exists() else _new_key(release_p)
        trust = make_trust(root, name or DEFAULT_HUB_NAME, [signing.public], version=1,
                           release_keys=[release.public])
        write_root_public(data_dir, root.public)
        write_atomically(trust_p, trust, 0o644)
        said.append(f"created hub keys in {data_dir}: root {fingerprint(root.public)}, signing {signing.node_id}")
    token_p = data_dir / ADMIN_TOKEN
    if token_p.exists():
        said.append(f"admin token already exists in {token_p}")
    else:
        write_atomically(token_p, secrets.token_urlsafe(32).encode("ascii"), 0o600)
        said.append(f"wrote the admin token to {token_p}")
    return said


def _new_key(path: Path) -> NodeKey:
    key = NodeKey.generate()
    key.save(path)  # 0600, atomic
    return key


def load_hub_keys(data_dir: Path, root_path: Path | None = None) -> HubKeys:
    """The root key, signing key and current trust document of the hub in `data_dir`, checked to agree.

    With the root kept offline, `root` is an OfflineRoot (verifies, refuses to sign) unless `root_path` (or
    VILLAGENET_ROOT_KEY) names its file."""
    paths = [data_dir / n for n in (ROOT_KEY, SIGNING_KEY, TRUST)]
    missing = [p.name for p in paths[1:] if not p.exists()]
    try:
        root = _load_root(data_dir, root_path)
        if root is None:
            missing.insert(0, ROOT_KEY)
        if missing:
            raise NotInitialised(
                f"{data_dir} holds no hub keys ({', '.join(missing)} missing); run `village-hub init --data {data_dir}`"
            )
        signing = NodeKey.load(paths[1])
    except ValueError as exc:
        raise BadInput(f"a key file in {data_dir} is damaged: {exc}", "bad_keys") from exc
    assert root is not None
    raw = paths[2].read_bytes()
    try:
        # Expiry is checked by renew_trust_if_due, which can fix it; here only the signature and form.
        doc = open_trust(raw, root.public, now=0)
    except ProtocolError as exc:
        raise BadInput(f"{paths[2]} is not signed by the root key {fingerprint(root.public)}: {exc.detail}",
                       "bad_keys") from exc
    if not doc.can_sign(signing.public):
        raise BadInput(f"{paths[2]} does not list the key in {paths[1]}", "bad_keys")
    return HubKeys(root=root, signing=signing, trust_raw=raw, trust=doc)


def renew_trust_if_due(data_dir: Path, now: int | None = None) -> HubKeys:
    """Re-issue the trust document with the next version when it expires within RENEW_BEFORE_S."""
    keys = load_hub_keys(data_dir)
    current = int(time.time()) if now is None else now
    if keys.trust.expires_at - current > RENEW_BEFORE_S:
        return keys
    if isinstance(keys.root, OfflineRoot):
        # The hub runs without its root: it cannot re-issue the document itself, so it says so loudly.
        log.warning("the trust document (version %d) expires at %d and the root key is offline: re-issue it with "
                    "`village-hub key rotate --data %s --root PATH` before then", keys.trust.version,
                    keys.trust.expires_at, data_dir)
        return keys
    raw = make_trust(
        keys.root,
        keys.trust.hub_name,
        list(keys.trust.signing_keys),
        version=keys.trust.version + 1,
        revoked_keys=list(keys.trust.revoked_keys),
        now=current,
        retired_keys=[(k, until) for k, until in keys.trust.retired_keys if until > current],
        release_keys=list(keys.trust.release_keys),
        retired_release_keys=[(k, until) for k, until in keys.trust.retired_release_keys if until > current],
    )
    write_atomically(data_dir / TRUST, raw, 0o644)
    return load_hub_keys(data_dir)


def load_admin_token(data_dir: Path) -> str:
    path = data_dir / ADMIN_TOKEN
    try:
        token = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise NotInitialised(f"{path} is missing; run `village-hub init --data {data_dir}`") from None
    if len(token) < 16:
        raise BadInput(f"{path} holds a token shorter than 16 characters", "bad_token_file")
    return token
