"""The hub's key material in its data dir: root key, signing key, trust document and the admin token.

`init_hub` creates what is missing and never overwrites; `load_hub_keys` is what the server and the technician's
provisioning CLI use to sign.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from protocol.atomic_file import write_atomically
from protocol.errors import ProtocolError
from protocol.keys import NodeKey, fingerprint
from protocol.trust import TrustDocument, make_trust, open_trust

from .errors import BadInput

ROOT_KEY = "root.key"
SIGNING_KEY = "signing.key"
RELEASE_KEY = "release.key"  # the release role (docs/updates.md); best kept offline, away from the serving hub
TRUST = "trust.vnt"
ADMIN_TOKEN = "admin.token"
DEFAULT_HUB_NAME = "VillageNet 市级平台"
# Re-issue the trust document this long before it expires, so edges never see an expired one.
RENEW_BEFORE_S = 60 * 24 * 3600


class NotInitialised(BadInput):
    code = "not_initialised"


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
    if trust_p.exists() and not (root_p.exists() and signing_p.exists()):
        missing = [p.name for p in (root_p, signing_p) if not p.exists()]
        raise BadInput(
            f"{trust_p} exists but {', '.join(missing)} is missing; refusing to create new keys over it "
            "(restore the missing file from a backup, or move the folder away to start a new hub)",
            "partial_keys",
        )
    if root_p.exists() and signing_p.exists() and trust_p.exists():
        load_hub_keys(data_dir)  # refuses inconsistent material
        said.append(f"hub keys already exist in {data_dir}; nothing overwritten")
    else:
        root = NodeKey.load(root_p) if root_p.exists() else _new_key(root_p)
        signing = NodeKey.load(signing_p) if signing_p.exists() else _new_key(signing_p)
        release_p = data_dir / RELEASE_KEY
        release = NodeKey.load(release_p) if release_p.exists() else _new_key(release_p)
        trust = make_trust(root, name or DEFAULT_HUB_NAME, [signing.public], version=1,
                           release_keys=[release.public])
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


def load_hub_keys(data_dir: Path) -> HubKeys:
    """The root key, signing key and current trust document of the hub in `data_dir`, checked to agree."""
    paths = [data_dir / n for n in (ROOT_KEY, SIGNING_KEY, TRUST)]
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        raise NotInitialised(
            f"{data_dir} holds no hub keys ({', '.join(missing)} missing); run `village-hub init --data {data_dir}`"
        )
    try:
        root = NodeKey.load(paths[0])
        signing = NodeKey.load(paths[1])
    except ValueError as exc:
        raise BadInput(f"a key file in {data_dir} is damaged: {exc}", "bad_keys") from exc
    raw = paths[2].read_bytes()
    try:
        # Expiry is checked by renew_trust_if_due, which can fix it; here only the signature and form.
        doc = open_trust(raw, root.public, now=0)
    except ProtocolError as exc:
        raise BadInput(f"{paths[2]} is not signed by {paths[0]}: {exc.detail}", "bad_keys") from exc
    if not doc.can_sign(signing.public):
        raise BadInput(f"{paths[2]} does not list the key in {paths[1]}", "bad_keys")
    return HubKeys(root=root, signing=signing, trust_raw=raw, trust=doc)


def renew_trust_if_due(data_dir: Path, now: int | None = None) -> HubKeys:
    """Re-issue the trust document with the next version when it expires within RENEW_BEFORE_S."""
    keys = load_hub_keys(data_dir)
    current = int(time.time()) if now is None else now
    if keys.trust.expires_at - current > RENEW_BEFORE_S:
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
