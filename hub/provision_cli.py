"""`village-provision make | list | revoke`: the technician's commands for signed bundles, one village each.

Run at the hub and part of it: it reads the hub's data dir (root key, diagnostics key) and registers each bundle's
own enrollment token there (hub/enroll_bundles.py); the bundle format itself is provisioning's
(provisioning/bundle.py), which knows nothing of the hub.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from protocol.keys import fingerprint
from provisioning.bundle import DEFAULT_LIFETIME_S, STICK_PATH, make_bundle
from provisioning.output import write_bundle

from . import enroll_bundles
from .bundle_pin import bundle_pin
from .city_ca import ROOT_CRT, TLS_DIR
from .config import ConfigError
from .diag_key import diag_public_key
from .errors import HubError
from .keys_store import load_hub_keys
from .official_commands import with_store
from .registry import issue_bundle
from .store import HubStore
from .validate import now, rfc3339


def _who(given: str | None) -> str | None:
    """Who makes the bundle: --by, else the login behind sudo, else the account running the command."""
    if given:
        return given
    if os.environ.get("SUDO_USER"):
        return os.environ["SUDO_USER"]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def _make(args: argparse.Namespace) -> int:
    hub_data = Path(args.hub_data)
    lifetime_s = int(args.days * 24 * 3600)
    try:
        keys = load_hub_keys(hub_data)
        # A bundle for an https hub pins the hub's city CA: the box trusts no other certificate for it.
        hub_ca = bundle_pin(hub_data, args.hub_url)
        issued = issue_bundle(hub_data, args.village, lifetime_s, _who(args.by))
    except (HubError, ConfigError) as exc:
        print(f"cannot make a bundle: {exc}", file=sys.stderr)
        return 2
    data = make_bundle(
        keys.root,
        keys.trust_raw,
        issued.village.id,
        issued.village.name,
        issued.village.town_id,
        args.hub_url,
        issued.token,
        lifetime_s=lifetime_s,
        move=args.move,
        diag_key=diag_public_key(hub_data),
        bundle_id=issued.bundle_id,
        hub_ca=hub_ca,
    )
    target = write_bundle(Path(args.out), data)
    village = issued.village
    print(f"bundle {issued.bundle_id} for {village.name} ({village.id}) written to {target}")
    print(f"hub root key fingerprint: {fingerprint(keys.root.public)}; valid for {args.days:g} days")
    if hub_ca is not None:
        print(f"the box will trust only the hub's city CA ({hub_data / TLS_DIR / ROOT_CRT}) for {args.hub_url}")
    print("next: put the stick into the village box; it applies the bundle and writes a receipt to "
          f"{'/'.join(STICK_PATH[:1])}/receipts/")
    return 0


def _list(args: argparse.Namespace) -> int:
    async def work(store: HubStore) -> int:
        bundles = await store.list_bundles(args.village)
        if not bundles:
            print("no bundles" + (f" for village {args.village}" if args.village else ""))
            return 0
        t = now()
        rows = [("bundle", "village", "made", "by", "expires", "state")]
        rows += [(b.id, b.village_id, rfc3339(b.made_at) or "", b.made_by or "-", rfc3339(b.expires_at) or "",
                  b.state(t)) for b in bundles]
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
        return 0

    return with_store(Path(args.hub_data), work)


def _revoke(args: argparse.Namespace) -> int:
    async def work(store: HubStore) -> int:
        try:
            bundle = await enroll_bundles.revoke(store, args.bundle)
        except HubError as exc:
            print(f"cannot revoke: {exc.detail}", file=sys.stderr)
            return 2
        print(f"bundle {bundle.id} of village {bundle.village_id} is revoked: a box that presents it is refused")
        return 0

    return with_store(Path(args.hub_data), work)


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
    p.add_argument("--by", help="who makes it, shown by `list` (default: the account running the command)")
    p.set_defaults(func=_make)
    p = sub.add_parser("list", help="the bundles made: village, made when and by whom, expiry, state")
    p.add_argument("--hub-data", required=True, help="the hub's data dir")
    p.add_argument("--village", help="only this village's bundles")
    p.set_defaults(func=_list)
    p = sub.add_parser("revoke", help="stop a bundle's enrollment token from working")
    p.add_argument("--hub-data", required=True, help="the hub's data dir")
    p.add_argument("bundle", help="the bundle id, as `make` printed it and `list` shows it")
    p.set_defaults(func=_revoke)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
