"""The technician's stick commands of `village-hub`: `enroll import`, `pack export` and `diag open`.

STICK is a stick's folder (mounted), a FAT image file or a FAT block device (read in user space, never mounted).
Long work prints progress on stderr; every command ends with a plain sentence saying what to do next.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from protocol.errors import ProtocolError
from protocol.keys import fingerprint
from protocol.subcommands import Subcommands
from provisioning.bundle import STICK_PATH, make_bundle
from provisioning.diagnostics import open_diagnostics
from provisioning.stick import StickError, StickFS
from provisioning.stick_probe import open_stick_path

from . import enroll_bundles
from .bundle_pin import bundle_pin
from .config import HubConfig
from .diag_key import diag_public_key, load_or_create_diag_key
from .enroll_import import import_receipts
from .keys_store import HubKeys, load_hub_keys
from .pack_export import export_pack
from .registry import DEFAULT_TOKEN_LIFETIME_S
from .store import HubStore

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
COMMANDS = ("enroll", "pack", "diag")


def add_stick_commands(sub: Subcommands, parser_class: type[argparse.ArgumentParser]) -> None:
    enroll = sub.add_parser("enroll", help="enroll boxes provisioned offline")
    esub = enroll.add_subparsers(dest="enroll_command", required=True, parser_class=parser_class)
    imp = esub.add_parser("import", help="enroll the boxes whose receipts are on a stick")
    imp.add_argument("--data", required=True, type=Path)
    imp.add_argument("stick", type=Path, help="the stick's folder, or a FAT device or image file")
    pack = sub.add_parser("pack", help="content packs for villages whose line is down")
    psub = pack.add_subparsers(dest="pack_command", required=True, parser_class=parser_class)
    exp = psub.add_parser("export", help="write a village's down feed and the blobs it lacks to a stick")
    exp.add_argument("--data", required=True, type=Path)
    exp.add_argument("--village", required=True)
    exp.add_argument("--to", required=True, type=Path, dest="stick", help="the stick's folder, device or image")
    exp.add_argument("--after", type=int, default=None,
                     help="down seq the village already has (default: what its last status said, else 0)")
    exp.add_argument("--with-bundle", metavar="HUB_URL", default=None,
                     help="also write a provisioning bundle for a new box (as `village-provision make`), so the "
                          "stick alone sets the box up and fills it")
    diag = sub.add_parser("diag", help="diagnostics archives from village boxes")
    dsub = diag.add_subparsers(dest="diag_command", required=True, parser_class=parser_class)
    op = dsub.add_parser("open", help="decrypt a diagnostics archive (.vnd) into a folder")
    op.add_argument("--data", required=True, type=Path)
    op.add_argument("archive", type=Path)
    op.add_argument("--out", required=True, type=Path)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def _with_store(data: Path) -> HubStore:
    store = HubStore(data / "hub.db")
    await store.open()
    return store


def _enroll_import(args: argparse.Namespace) -> int:
    keys = load_hub_keys(args.data)
    stick = open_stick_path(args.stick, writable=False)

    async def run() -> int:
        store = await _with_store(args.data)
        try:
            results = await import_receipts(store, keys, stick)
        finally:
            await store.close()
            stick.close()
        if not results:
            print("no receipts on the stick (VILLAGENET/receipts/ is empty); put the stick into the box first")
            return EXIT_USAGE
        ok = 0
        for r in results:
            mark = "OK " if r.enrolled else "NO "
            print(f"{mark}{r.file}: village {r.village_id or '?'} box {r.node_id or '?'}: {r.detail}")
            ok += r.enrolled
        if ok == len(results):
            print(f"next: {ok} box(es) enrolled; they sync on their own as soon as their line works")
            return EXIT_OK
        print("next: for each line marked NO, follow what it says, then run this command again")
        return EXIT_USAGE

    return asyncio.run(run())


def _pack_export(args: argparse.Namespace) -> int:
    config = HubConfig.load(args.data)
    keys = load_hub_keys(args.data)
    stick = open_stick_path(args.stick, writable=True)

    async def run() -> int:
        store = await _with_store(args.data)
        try:
            if args.with_bundle:
                await _write_bundle(store, keys, args, stick)
            result = await export_pack(store, keys, config.blobs_dir, args.village, stick, args.after, _say)
        finally:
            await store.close()
            stick.close()
        print(f"pack for village {result.village_id} written to {result.folder}: down entries "
              f"{result.after + 1}..{result.head_seq} in {result.batches} batch(es), {result.blobs} blob(s), "
              f"{result.blob_bytes / 1e6:.1f} MB")
        if result.missing_blobs:
            print(f"{len(result.missing_blobs)} blob(s) are not in this hub's store; the box fetches them "
                  "when its line works")
        print("next: put the stick into the village box; it imports the pack and writes a receipt to "
              "VILLAGENET/receipts/")
        return EXIT_OK

    return asyncio.run(run())


async def _write_bundle(store: HubStore, keys: HubKeys, args: argparse.Namespace, stick: StickFS) -> None:
    # Like `village-provision make`: a bundle of its own (listed, revocable), pinning the city CA for an https hub.
    hub_ca = await asyncio.to_thread(bundle_pin, args.data, args.with_bundle)
    issued = await enroll_bundles.issue(store, args.village, DEFAULT_TOKEN_LIFETIME_S)
    village = issued.village
    data = make_bundle(keys.root, keys.trust_raw, village.id, village.name, village.town_id, args.with_bundle,
                       issued.token, diag_key=diag_public_key(args.data), bundle_id=issued.bundle_id, hub_ca=hub_ca)
    await asyncio.to_thread(stick.write_bytes, STICK_PATH, data)
    _say(f"bundle for {village.name} ({village.id}) written (bundle {issued.bundle_id}); hub root key fingerprint "
         f"{fingerprint(keys.root.public)}")


def _diag_open(args: argparse.Namespace) -> int:
    key = load_or_create_diag_key(args.data)
    diag = open_diagnostics(args.archive.read_bytes(), key)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in diag.files.items():
        (args.out / name).write_bytes(data)
    print(f"diagnostics of box {diag.node_id} (village {diag.village_id}): {len(diag.files)} files in {args.out}")
    return EXIT_OK


def run_stick_command(args: argparse.Namespace) -> int:
    try:
        if args.command == "enroll":
            return _enroll_import(args)
        if args.command == "pack":
            return _pack_export(args)
        return _diag_open(args)
    except StickError as exc:
        print(f"village-hub: {exc.detail}", file=sys.stderr)
        return EXIT_USAGE
    except ProtocolError as exc:
        print(f"village-hub: refused: {exc.detail}", file=sys.stderr)
        return EXIT_USAGE
    except FileNotFoundError as exc:
        print(f"village-hub: {exc.filename} does not exist; check the path and try again", file=sys.stderr)
        return EXIT_USAGE
