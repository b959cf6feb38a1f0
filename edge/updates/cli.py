"""`village-edge update add --data DIR PATH` (releases from a stick or a folder) and `update status --data DIR`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from protocol.errors import ProtocolError
from protocol.subcommands import Subcommands
from provisioning.stick import StickError

from .state import load_state
from .stick_releases import add_from_folder
from .version import running_version


def _add(args: argparse.Namespace) -> int:
    try:
        results = asyncio.run(add_from_folder(Path(args.data), Path(args.path)))
    except (ProtocolError, StickError) as exc:
        print(f"升级包被拒绝 (release refused): {exc.detail}", file=sys.stderr)
        return 2
    if not results:
        print(f"没有找到升级包 (no release found): {args.path}", file=sys.stderr)
        return 2
    for r in results:
        mark = "已接受 (accepted)" if r.accepted else "已拒绝 (refused)"
        print(f"{r.name}: {mark} {r.detail}", file=sys.stdout if r.accepted else sys.stderr)
    return 0 if all(r.accepted for r in results) else 2


def _status(args: argparse.Namespace) -> int:
    st = load_state(Path(args.data))
    print(json.dumps(st.public(st.active_version or running_version()), ensure_ascii=False))
    return 0


def add_arguments(sub: Subcommands) -> None:
    update = sub.add_parser("update", help="the box's own software updates (docs/updates.md)")
    usub = update.add_subparsers(dest="update_command", required=True)
    p = usub.add_parser("add", help="check and queue signed releases from a stick (VILLAGENET/firmware/) or folder")
    p.add_argument("--data", required=True)
    p.add_argument("path")
    p.set_defaults(func=_add)
    p = usub.add_parser("status", help="which version runs and how the last update went")
    p.add_argument("--data", required=True)
    p.set_defaults(func=_status)
