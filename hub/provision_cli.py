"""`village-provision make`: the technician's command that writes a signed bundle for one village.

Run at the hub and part of it: it reads the hub's data dir (root key, diagnostics key) and registers the enrollment
token there; the bundle format itself is provisioning's (provisioning/bundle.py), which knows nothing of the hub.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from protocol.keys import fingerprint
from provisioning.bundle import DEFAULT_LIFETIME_S, STICK_PATH, make_bundle
from provisioning.output import write_bundle

from .diag_key import diag_public_key
from .errors import HubError
from .keys_store import load_hub_keys
from .registry import issue_enrollment_token


def _make(args: argparse.Namespace) -> int:
    hub_data = Path(args.hub_data)
    lifetime_s = int(args.days * 24 * 3600)
    try:
        keys = load_hub_keys(hub_data)
        token, village = issue_enrollment_token(hub_data, args.village, lifetime_s)
    except HubError as exc:
        print(f"cannot make a bundle: {exc}", file=sys.stderr)
        return 2
    data = make_bundle(
        keys.root,
        keys.trust_raw,
        village.id,
        village.name,
        village.town_id,
        args.hub_url,
        token,
        lifetime_s=lifetime_s,
        move=args.move,
        diag_key=diag_public_key(hub_data),
    )
    target = write_bundle(Path(args.out), data)
    print(f"bundle for {village.name} ({village.id}) written to {target}")
    print(f"hub root key fingerprint: {fingerprint(keys.root.public)}; valid for {args.days:g} days")
    print("next: put the stick into the village box; it applies the bundle and writes a receipt to "
          f"{'/'.join(STICK_PATH[:1])}/receipts/")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="village-provision", description="make provisioning bundles")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("make", help="write a signed provisioning bundle for a village")
    p.add_argument("--hub-data", required=True, help="the hub's data dir (root key, registry)")
    p.add_argument("--village", required=True, help="village id, as registered with `village-hub village add`")
    p.add_argument("--hub-url", required=True, help="the hub URL the village box will sync with")
    p.add_argument("--out", required=True, help="a file, or a folder such as a mounted stick")
    p.add_argument("--days", type=float, default=DEFAULT_LIFETIME_S / 86400, help="how long the bundle is valid")
    p.add_argument("--move", action="store_true", help="allow a provisioned box to move to this village")
    p.set_defaults(func=_make)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
