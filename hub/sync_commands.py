"""`village-hub sync import`, `village-hub key rotate|retire|list|revoke-signing`, `village-hub root export-offline`
and `village-hub edge revoke`.

STICK is a stick's folder: its `VILLAGENET/sync/` is used when present, else the folder itself. Each command ends
with a plain sentence saying what happened and what to do next; exit 2 when the input was refused.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from protocol.errors import ProtocolError
from protocol.subcommands import Subcommands

from .edge_revocation import revoke_edge
from .key_rotation import (
    DEFAULT_GRACE_S,
    listed_signing_keys,
    retire_old_keys,
    revoke_signing_key,
    rotate_signing_key,
)
from .keys_store import load_hub_keys
from .root_offline import export_root_offline
from .sneakernet import import_from
from .store import HubStore

EXIT_OK, EXIT_USAGE = 0, 2
COMMANDS = ("sync", "key", "edge", "root")
ROOT_HELP = "the root key's file, when it is kept offline (`village-hub root export-offline`)"


def sync_dir_of(stick: Path) -> Path:
    inner = stick / "VILLAGENET" / "sync"
    return inner if (stick / "VILLAGENET").is_dir() else stick


def add_sync_commands(sub: Subcommands, parser_class: type[argparse.ArgumentParser]) -> None:
    sync = sub.add_parser("sync", help="sync a village by USB stick while its line is down")
    ssub = sync.add_subparsers(dest="sync_command", required=True, parser_class=parser_class)
    imp = ssub.add_parser("import", help="take the villages' up batches from a stick and write what they lack")
    imp.add_argument("--data", required=True, type=Path)
    imp.add_argument("stick", type=Path, help="the stick's folder (or its VILLAGENET/sync folder)")
    key = sub.add_parser("key", help="the hub's signing key")
    ksub = key.add_subparsers(dest="key_command", required=True, parser_class=parser_class)
    rot = ksub.add_parser("rotate", help="a new signing key, listed beside the old one (no downtime)")
    rot.add_argument("--data", required=True, type=Path)
    rot.add_argument("--root", type=Path, help=ROOT_HELP)
    ret = ksub.add_parser("retire", help="retire the old signing keys; refused by edges after the grace period")
    ret.add_argument("--data", required=True, type=Path)
    ret.add_argument("--grace-s", type=int, default=DEFAULT_GRACE_S)
    ret.add_argument("--root", type=Path, help=ROOT_HELP)
    lst = ksub.add_parser("list", help="the feed signing keys the trust document names, with their ids")
    lst.add_argument("--data", required=True, type=Path)
    rvk = ksub.add_parser("revoke-signing", help="revoke a leaked signing key at once and name a new one")
    rvk.add_argument("--data", required=True, type=Path)
    rvk.add_argument("key_id", help="the key's node id or fingerprint (`village-hub key list`)")
    rvk.add_argument("--root", type=Path, help=ROOT_HELP)
    root = sub.add_parser("root", help="the hub's root key")
    rsub = root.add_subparsers(dest="root_command", required=True, parser_class=parser_class)
    off = rsub.add_parser("export-offline", help="move the root key out of the data folder to a file or a stick")
    off.add_argument("--data", required=True, type=Path)
    off.add_argument("--to", required=True, type=Path, help="a new file, or a folder (a mounted stick)")
    edge = sub.add_parser("edge", help="village boxes' keys")
    esub = edge.add_subparsers(dest="edge_command", required=True, parser_class=parser_class)
    rev = esub.add_parser("revoke", help="revoke a village box's key (the village re-enrolls with a new bundle)")
    rev.add_argument("--data", required=True, type=Path)
    rev.add_argument("--village", required=True)
    rev.add_argument("--reason", default="revoked by the operator")


def _key_command(args: argparse.Namespace) -> int:
    if args.key_command == "rotate":
        keys = rotate_signing_key(args.data, root_path=args.root)
        print(f"new signing key {keys.signing.node_id}, trust version {keys.trust.version}; run "
              "`village-hub key retire` once the villages have synced")
    elif args.key_command == "retire":
        keys = retire_old_keys(args.data, args.grace_s, root_path=args.root)
        print(f"old signing keys retired (accepted {args.grace_s} s more), trust version {keys.trust.version}")
    elif args.key_command == "list":
        keys = load_hub_keys(args.data)
        for name, print_, standing in listed_signing_keys(keys):
            print(f"{name}  {print_}  {standing}")
    else:
        keys, leaked = revoke_signing_key(args.data, args.key_id, root_path=args.root)
        print(f"signing key {args.key_id} revoked in trust version {keys.trust.version}; the hub signs with "
              f"{keys.signing.node_id}. Edges take the new trust document at their next exchange with the hub, or "
              "from a stick written by `village-hub sync import`; after that they refuse the revoked key")
    return EXIT_OK


def run_sync_command(args: argparse.Namespace) -> int:
    if args.command == "sync":
        try:
            report = asyncio.run(import_from(args.data, sync_dir_of(args.stick)))
        except ProtocolError as exc:
            print(f"village-hub: the stick was refused: {exc.detail}", file=sys.stderr)
            return EXIT_USAGE
        print(json.dumps(report, ensure_ascii=False))
        if report["refused"]:
            print("village-hub: some of the stick was refused: " + "; ".join(report["refused"]), file=sys.stderr)
            return EXIT_USAGE
        print(f"done: {len(report['villages'])} village(s) synced; take the stick back to the village box")
        return EXIT_OK
    if args.command == "key":
        return _key_command(args)
    if args.command == "root":
        dest = export_root_offline(args.data, args.to)
        print(f"the root key is now at {dest} and no longer in {args.data}; keep it offline (a stick in a safe). "
              "The hub runs without it; `village-hub key rotate|retire|revoke-signing` and `village-provision make`"
              " ask for it with --root PATH (or VILLAGENET_ROOT_KEY=PATH)")
        return EXIT_OK

    async def revoke() -> bytes:
        store = HubStore(args.data / "hub.db")
        await store.open()
        try:
            return await revoke_edge(store, args.village, args.reason)
        finally:
            await store.close()

    asyncio.run(revoke())
    print(f"the box of village {args.village} is revoked; make a new bundle with `village-provision make` for it")
    return EXIT_OK
