"""`village-hub town add`, `unit add`, `org import`, `user add|disable|enable` and `audit verify`.

The CLI acts for the whole city (it runs on the hub's own machine, as the operator) and every change it makes is
in the audit log as user `cli`. Each command ends with a plain sentence; exit 2 when the input was refused.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from protocol.subcommands import Subcommands

from . import audit
from .actors import CLI
from .down_feed import DownFeed
from .officials import put_account, set_disabled
from .org import add_town, add_unit
from .org_import import SheetRefused, import_sheet
from .store import HubStore

EXIT_OK, EXIT_BROKEN, EXIT_USAGE = 0, 1, 2
COMMANDS = ("town", "unit", "org", "user", "audit")
T = TypeVar("T")


def _command(group: argparse.ArgumentParser, dest: str, parser_class: type[argparse.ArgumentParser],
             verbs: dict[str, str]) -> dict[str, argparse.ArgumentParser]:
    """The group's subcommands, each with its help text and --data."""
    sub = group.add_subparsers(dest=dest, required=True, parser_class=parser_class)
    made = {}
    for verb, text in verbs.items():
        made[verb] = sub.add_parser(verb, help=text)
        made[verb].add_argument("--data", required=True, type=Path)
    return made


def add_official_commands(sub: Subcommands, parser_class: type[argparse.ArgumentParser]) -> None:
    town = sub.add_parser("town", help="towns (镇街) of the city")
    tadd = _command(town, "town_command", parser_class, {"add": "create a town or rename it"})["add"]
    tadd.add_argument("--id", required=True, dest="town_id")
    tadd.add_argument("--name", required=True)
    unit = sub.add_parser("unit", help="units (departments) under the city or a town")
    uadd = _command(unit, "unit_command", parser_class, {"add": "create a unit or change its name and parent"})["add"]
    uadd.add_argument("--id", required=True, dest="unit_id")
    uadd.add_argument("--name", required=True)
    uadd.add_argument("--parent", required=True, help="city or town:ID")
    org = sub.add_parser("org", help="the organisation tree")
    imp = _command(org, "org_command", parser_class,
                   {"import": "towns, villages and units from a .csv or .xlsx sheet (all or nothing)"})["import"]
    imp.add_argument("file", type=Path)
    user = sub.add_parser("user", help="named officials' accounts")
    users = _command(user, "user_command", parser_class, {
        "add": "create an account or reset it; the password comes on stdin",
        "disable": "disable an account: its sessions and tokens end at once",
        "enable": "enable a disabled account again",
    })
    for parser in users.values():
        parser.add_argument("--user", required=True)
    users["add"].add_argument("--role", required=True,
                              help="comma list of admin, editor, reviewer, dispatcher, handler, viewer")
    users["add"].add_argument("--scope", required=True, help="city, town:ID, village:ID or unit:ID")
    users["add"].add_argument("--name", help="the official's name as shown (姓名)")
    aud = sub.add_parser("audit", help="the audit log")
    _command(aud, "audit_command", parser_class,
             {"verify": "check the hash chain: exit 0 intact, 1 broken (naming the first bad entry)"})


def _with_store(data_dir: Path, work: Callable[[HubStore], Awaitable[T]]) -> T:
    async def run() -> T:
        store = HubStore(data_dir / "hub.db")
        await store.open()
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())


with_store = _with_store  # the case commands (hub/case_commands.py) open the store the same way


def _password_from_stdin() -> str:
    # stdin keeps the password out of the shell history and the process list.
    lines = sys.stdin.read(4096).splitlines()
    return lines[0] if lines else ""


def run_official_command(args: argparse.Namespace) -> int:
    if args.command == "audit":
        if not (args.data / "hub.db").exists():
            print(f"village-hub: no hub database in {args.data}", file=sys.stderr)
            return EXIT_USAGE
        count, broken = _with_store(args.data, audit.verify)
        if broken is not None:
            print(f"审计日志已被改动：{broken.reason}. The audit log is broken at entry {broken.seq}.", file=sys.stderr)
            return EXIT_BROKEN
        print(f"审计日志完好：{count} 条记录。The audit log is intact: {count} entries.")
        return EXIT_OK
    args.data.mkdir(parents=True, exist_ok=True)
    if args.command == "town":
        created = _with_store(args.data, lambda s: add_town(s, CLI, args.town_id, args.name))
        print(f"{'added' if created else 'renamed'} town {args.town_id} ({args.name})")
    elif args.command == "unit":
        created = _with_store(args.data, lambda s: add_unit(s, CLI, args.unit_id, args.name, args.parent))
        print(f"{'added' if created else 'updated'} unit {args.unit_id} ({args.name}) under {args.parent}")
    elif args.command == "org":
        try:
            report = _with_store(args.data, lambda s: import_sheet(s, DownFeed(s), CLI, args.file))
        except SheetRefused as exc:
            print(f"village-hub: {args.file.name}: {len(exc.extra.get('rows', []))} bad row(s); nothing was imported",
                  file=sys.stderr)
            for line in exc.extra.get("rows", []):
                print(f"  {line}", file=sys.stderr)
            return EXIT_USAGE
        print(f"imported {report.towns} towns, {report.villages} villages and {report.units} units from {args.file.name}")
    elif args.user_command == "add":
        password = _password_from_stdin()
        official, created = _with_store(
            args.data, lambda s: put_account(s, CLI, args.user, args.role, args.scope, args.name, password))
        print(f"{'added' if created else 'reset'} account {official.username} ({official.name}):"
              f" roles {','.join(official.roles)}, scope {official.scope}")
    else:
        disabled = args.user_command == "disable"
        _with_store(args.data, lambda s: set_disabled(s, CLI, args.user, disabled))
        print(f"account {args.user} {'disabled; its sessions and tokens have ended' if disabled else 'enabled'}")
    return EXIT_OK
