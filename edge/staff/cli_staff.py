"""`village-edge staff add`: create a local staff account or reset its password; the password comes on stdin.

Reading stdin (not an argument) keeps the password out of the shell history and the process list.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from protocol.database import Database
from protocol.subcommands import Subcommands

from ..schema import SCHEMA
from .accounts import ROLES, add_or_reset

MAX_STDIN = 4096


def add_arguments(sub: Subcommands) -> None:
    p = sub.add_parser("staff", help="manage local staff accounts of the staff page")
    staff_sub = p.add_subparsers(dest="staff_command", required=True)
    add = staff_sub.add_parser("add", help="create a local staff account or reset its password (from stdin)")
    add.add_argument("--data", required=True)
    add.add_argument("--user", required=True)
    add.add_argument("--role", required=True, choices=ROLES)
    add.set_defaults(func=staff_add)


def _read_password() -> str:
    raw = sys.stdin.read(MAX_STDIN + 1)
    if len(raw) > MAX_STDIN:
        raise ValueError("标准输入太长，请只输入密码。stdin is too long; give the password alone.")
    lines = raw.splitlines()
    return lines[0] if lines else ""


async def _add(data_dir: Path, user: str, role: str, password: str) -> str:
    db = Database(data_dir / "edge.db")
    await db.open(SCHEMA)
    try:
        return await add_or_reset(db, user, role, password)
    finally:
        await db.close()


def staff_add(args: argparse.Namespace) -> int:
    data_dir = Path(args.data)
    data_dir.mkdir(parents=True, exist_ok=True)
    password = _read_password()  # ValueError becomes exit 2 with the sentence, in edge/cli.py
    outcome = asyncio.run(_add(data_dir, args.user, args.role, password))
    if outcome == "created":
        print(f"已创建账户 {args.user}（{args.role}）。account {args.user} created")
    else:
        print(f"已重设账户 {args.user} 的密码并解除锁定。password of {args.user} reset, account unlocked")
    return 0
