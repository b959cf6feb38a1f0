"""`village-edge sync export --data DIR --to STICK` and `village-edge sync import --data DIR STICK`.

STICK is a stick's folder: `VILLAGENET/sync/` inside it is created or read. The USB watcher calls
edge.sneakernet directly on a copied folder instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from edge.sync.sneakernet import export_to, import_from
from protocol.errors import ProtocolError
from protocol.subcommands import Subcommands


def sync_dir_of(stick: Path, create: bool) -> Path:
    if (stick / "VILLAGENET").is_dir() or create:
        return stick / "VILLAGENET" / "sync"
    return stick


def _export(args: argparse.Namespace) -> int:
    try:
        summary = asyncio.run(export_to(Path(args.data), sync_dir_of(Path(args.stick), True)))
    except ProtocolError as exc:
        print(f"导出失败 (export failed): {exc.detail}", file=sys.stderr)
        return 2
    print(json.dumps(summary, ensure_ascii=False))
    print(f"已写入 U 盘：{summary['up_entries']} 条待上传记录。请把 U 盘带到城市平台。"
          f" (wrote {summary['up_entries']} up entries; take the stick to the city hub)")
    return 0


def _import(args: argparse.Namespace) -> int:
    try:
        summary = asyncio.run(import_from(Path(args.data), sync_dir_of(Path(args.stick), False)))
    except ProtocolError as exc:
        print(f"导入失败 (import failed): {exc.detail}", file=sys.stderr)
        return 2
    print(json.dumps(summary, ensure_ascii=False))
    if summary["refused"]:
        print("部分内容被拒绝 (some of the stick was refused): " + "; ".join(summary["refused"]), file=sys.stderr)
        return 2
    print(f"已导入 {summary['down_applied']} 条城市平台的记录。 (applied {summary['down_applied']} down entries)")
    return 0


def add_arguments(sub: Subcommands) -> None:
    sync = sub.add_parser("sync", help="sync by USB stick while the line is down")
    ssub = sync.add_subparsers(dest="sync_command", required=True)
    p = ssub.add_parser("export", help="write the up batches the hub lacks and this box's position to a stick")
    p.add_argument("--data", required=True)
    p.add_argument("--to", required=True, dest="stick")
    p.set_defaults(func=_export)
    p = ssub.add_parser("import", help="apply the hub's batches from a stick")
    p.add_argument("--data", required=True)
    p.add_argument("stick")
    p.set_defaults(func=_import)
