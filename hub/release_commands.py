"""`village-hub release add` (sign a release, send it down to the villages in scope) and `release rotate-key`.

An edge release is a wheel of this project. The artifact goes into the hub's blob store (edges fetch it like any
blob: resumable, verified, once per village); the signed metadata travels as a `release` record in each targeted
village's down feed. `--out STICK` also writes both to `VILLAGENET/firmware/` for a box without a line.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from protocol import records
from protocol.atomic_file import write_atomically
from protocol.errors import ProtocolError
from protocol.releases import DEFAULT_LIFETIME_S, check_target, make_release, open_release, parse_version
from protocol.subcommands import Subcommands

from .blobs import BlobStore
from .down_feed import DownFeed
from .errors import BadInput
from .keys_store import load_hub_keys
from .release_keys import release_key, rotate_release_key
from .rollout_release import release_op
from .store import HubStore

EXIT_OK, EXIT_USAGE = 0, 2
COMMANDS = ("release",)
_READ = 1024 * 1024


def add_release_commands(sub: Subcommands, parser_class: type[argparse.ArgumentParser]) -> None:
    release = sub.add_parser("release", help="signed software releases for the village boxes (docs/updates.md)")
    rsub = release.add_subparsers(dest="release_command", required=True, parser_class=parser_class)
    add = rsub.add_parser("add", help="sign a release and send it down to the villages in scope")
    add.add_argument("--data", required=True, type=Path)
    add.add_argument("--file", required=True, type=Path, help="the artifact (for `edge`, a wheel of this project)")
    add.add_argument("--version", required=True)
    add.add_argument("--target", required=True, help="edge or stb:MODEL")
    add.add_argument("--min-version", default="0", help="boxes below this version must update to another first")
    add.add_argument("--expires-days", type=int, default=DEFAULT_LIFETIME_S // 86400)
    add.add_argument("--scope", default="city", help="city, town:ID, village:ID or several, comma-separated")
    add.add_argument("--notes", default="")
    add.add_argument("--out", type=Path, help="also write it to this stick's VILLAGENET/firmware/")
    add.add_argument("--hold", action="store_true",
                     help="send it nowhere yet: `village-hub rollout start` sends it in waves")
    rot = rsub.add_parser("rotate-key", help="a new release key; the old one is accepted for a grace period")
    rot.add_argument("--data", required=True, type=Path)
    rot.add_argument("--grace-s", type=int, default=7 * 24 * 3600)


def run_release_command(args: argparse.Namespace) -> int:
    if args.release_command == "rotate-key":
        key = rotate_release_key(args.data, args.grace_s)
        print(f"new release key {key.node_id}; releases signed by the old one are accepted {args.grace_s} s more")
        return EXIT_OK
    if not args.file.is_file():
        print(f"village-hub: no artifact at {args.file}", file=sys.stderr)
        return EXIT_USAGE
    if not 0 < args.expires_days <= 3650:
        print("village-hub: --expires-days must be 1 to 3650", file=sys.stderr)
        return EXIT_USAGE
    try:  # before the artifact is stored: a typo costs nothing
        parse_version(args.version)
        parse_version(args.min_version)
        check_target(args.target)
    except ProtocolError as exc:
        print(f"village-hub: {exc.detail}", file=sys.stderr)
        return EXIT_USAGE
    try:
        rid, villages, signed = asyncio.run(_add(args))
    except ProtocolError as exc:
        print(f"village-hub: {exc.detail}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:
        print(f"village-hub: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.out is not None:
        folder = args.out / "VILLAGENET" / "firmware"
        folder.mkdir(parents=True, exist_ok=True)
        write_atomically(folder / f"{rid}.vnr", signed, 0o644)
        shutil.copyfile(args.file, folder / f"{rid}.whl")
    if args.hold:
        print(f"已保存升级包 {rid}，尚未发往任何村；请用 village-hub rollout start 分批发布。"
              f" release {rid} kept at the hub for a rollout")
        return EXIT_OK
    print(f"已发布升级包 {rid}，发往 {len(villages)} 个村。release {rid} queued for {len(villages)} village(s): "
          + ", ".join(villages[:20]) + (" ..." if len(villages) > 20 else ""))
    return EXIT_OK


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as f:
        while chunk := await asyncio.to_thread(f.read, _READ):
            yield chunk


async def _add(args: argparse.Namespace) -> tuple[str, list[str], bytes]:
    key = await asyncio.to_thread(release_key, args.data)
    trust = (await asyncio.to_thread(load_hub_keys, args.data)).trust
    store = HubStore(args.data / "hub.db")
    await store.open()
    try:
        sha256, size = await BlobStore(args.data / "blobs", store).receive(
            _chunks(args.file), records.MAX_BLOB_SIZE, "application/octet-stream")
        signed = make_release(key, version=args.version, target=args.target, sha256=sha256, size=size,
                              min_version=args.min_version, lifetime_s=args.expires_days * 86400,
                              notes=args.notes)
        release = open_release(signed, trust)  # what every box will check, checked here first
        op = release_op(release, signed)
        villages: list[str] = []
        if not args.hold:
            async with store.transaction() as tx:
                villages = await tx.villages_in_scope(args.scope)
                if not villages:
                    raise BadInput(f"no registered village in scope {args.scope}", "empty_scope")
                await DownFeed(store).append(tx, {v: [op] for v in villages})
    finally:
        await store.close()
    await asyncio.to_thread(write_atomically, args.data / "releases" / f"{release.record_id}.vnr", signed, 0o644)
    return release.record_id, villages, signed
