"""What makes a box a village's edge: its node key and the applied provisioning bundle.

The same `apply_bundle` serves `village-edge provision` and the USB watcher; it verifies first and replaces the
state file atomically, so any refusal or crash leaves the old state whole.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from edge.box.village_move import unsent_submissions
from protocol.atomic_file import write_atomically
from protocol.errors import ProtocolError, SequenceError, TooLarge
from protocol.keys import NodeKey, fingerprint
from protocol.trust import TrustDocument, open_trust
from provisioning.bundle import BUNDLE_LIMITS, STICK_PATH, open_bundle

STATE_FILE = "provision.json"
KEY_FILE = "node.key"


@dataclass(frozen=True)
class ProvisionedState:
    village_id: str
    village_name: str
    town: str
    hub_url: str
    root_key_b64: str
    trust_b64: str
    enroll_token: str
    provisioned_at: int
    enrolled: bool = False
    diag_key_b64: str = ""  # the hub's X25519 key for diagnostics; empty for bundles made before it existed
    hub_ca_pem: str = ""  # the hub's city CA from the bundle: for an https hub, the only CA trusted (edge/sync/hub_tls.py)

    @property
    def root_key(self) -> bytes:
        return base64.urlsafe_b64decode(self.root_key_b64)

    @property
    def trust_raw(self) -> bytes:
        return base64.urlsafe_b64decode(self.trust_b64)

    def trust(self) -> TrustDocument:
        return open_trust(self.trust_raw, self.root_key)

    @property
    def root_fingerprint(self) -> str:
        return fingerprint(self.root_key)


def node_key(data_dir: Path) -> NodeKey:
    return NodeKey.load_or_create(data_dir / KEY_FILE)


def load_state(data_dir: Path) -> ProvisionedState | None:
    path = data_dir / STATE_FILE
    if not path.exists():
        return None
    return ProvisionedState(**json.loads(path.read_text("utf-8")))


def save_state(data_dir: Path, state: ProvisionedState) -> None:
    write_atomically(data_dir / STATE_FILE, json.dumps(asdict(state), ensure_ascii=False, indent=1).encode())


def bundle_path(path: Path) -> Path:
    """A bundle is a file, or a folder (a stick's root) holding VILLAGENET/provision.vnb."""
    return path.joinpath(*STICK_PATH) if path.is_dir() else path


def read_bundle_bytes(path: Path) -> bytes:
    target = bundle_path(path)
    size = target.stat().st_size
    if size > BUNDLE_LIMITS.max_bytes:
        raise TooLarge(f"{target} is {size} bytes, far larger than a bundle can be")
    with target.open("rb") as f:
        return f.read(BUNDLE_LIMITS.max_bytes + 1)


class UnsentBeforeMove(ProtocolError):
    code = "unsent_before_move"


def apply_bundle(data_dir: Path, data: bytes, now: int | None = None) -> ProvisionedState:
    """Verify a bundle against what this box already trusts, then make it the box's state in one rename."""
    current = load_state(data_dir)
    bundle = open_bundle(
        data,
        pinned_root=current.root_key if current else None,
        current_village=current.village_id if current else None,
        now=now,
    )
    if current is not None:
        held = open_trust(current.trust_raw, current.root_key, now=0)
        if bundle.trust.version < held.version:
            # An old bundle would bring back signing keys the hub has since rotated out.
            raise SequenceError(
                f"bundle carries trust document version {bundle.trust.version}, older than the {held.version}"
                " this box holds; make a new bundle", held.version)
    if current is not None and bundle.village_id != current.village_id:
        unsent = unsent_submissions(data_dir)
        if unsent:
            raise UnsentBeforeMove(
                f"{unsent} submissions of village {current.village_id} have not reached the city yet; let the box"
                " sync (online, or with a sync stick) before moving it to another village"
            )
    node_key(data_dir)  # the box's identity exists before it is announced anywhere
    same_enrollment = (
        current is not None
        and current.enrolled
        and current.village_id == bundle.village_id
        and current.hub_url == bundle.hub_url
    )
    state = ProvisionedState(
        village_id=bundle.village_id,
        village_name=bundle.village_name,
        town=bundle.town,
        hub_url=bundle.hub_url.rstrip("/"),
        root_key_b64=base64.urlsafe_b64encode(bundle.root_key).decode(),
        trust_b64=base64.urlsafe_b64encode(bundle.trust_raw).decode(),
        enroll_token=bundle.enroll_token,
        provisioned_at=int(time.time()) if now is None else now,
        enrolled=same_enrollment,
        diag_key_b64=base64.urlsafe_b64encode(bundle.diag_key).decode() if bundle.diag_key else "",
        hub_ca_pem=bundle.hub_ca.decode("ascii") if bundle.hub_ca else "",
    )
    save_state(data_dir, state)
    return state


def mark_enrolled(data_dir: Path, state: ProvisionedState, trust_raw: bytes) -> ProvisionedState:
    new = replace(state, enrolled=True, trust_b64=base64.urlsafe_b64encode(trust_raw).decode())
    save_state(data_dir, new)
    return new
