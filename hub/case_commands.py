"""`village-hub route add|list` (routing rules for cases) and `village-hub open311 key` (a key for a city system).

The CLI acts for the whole city as user `cli`, audited like any official; exit 2 when the input was refused.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from protocol.subcommands import Subcommands

from .actors import CLI
from .case_routing import CASE_KINDS, add_route, parse_rule
from .official_commands import with_store
from .open311 import add_key

EXIT_OK = 0
COMMANDS = ("route", "open311")


def add_case_commands(sub: Subcommands, parser_class: type[argparse.ArgumentParser]) -> None:
    route = sub.add_parser("route", help="routing rules: which unit handles which cases, in how many working days")
    rsub = route.add_subparsers(dest="route_command", required=True, parser_class=parser_class)
    add = rsub.add_parser("add", help="cases of KIND (and CATEGORY) go to the unit, due in N working days")
    add.add_argument("--data", required=True, type=Path)
    add.add_argument("--kind", required=True, choices=CASE_KINDS)
    add.add_argument("--category", help="the category the case names, or its beginning (e.g. 养老助老)")
    add.add_argument("--unit", required=True, help="the unit's id")
    add.add_argument("--days", required=True, type=int, help="working days to answer (0: the same day)")
    lst = rsub.add_parser("list", help="print the routing rules")
    lst.add_argument("--data", required=True, type=Path)
    o311 = sub.add_parser("open311", help="the Open311 GeoReport v2 interface for a city's 12345 system")
    osub = o311.add_subparsers(dest="open311_command", required=True, parser_class=parser_class)
    key = osub.add_parser("key", help="make an API key for a city system; printed once, only its hash is kept")
    key.add_argument("--data", required=True, type=Path)
    key.add_argument("--name", required=True, help="whose key it is, e.g. 12345热线")


def run_case_command(args: argparse.Namespace) -> int:
    args.data.mkdir(parents=True, exist_ok=True)
    if args.command == "open311":
        key = with_store(args.data, lambda s: add_key(s, CLI, args.name))
        print(key)
        return EXIT_OK
    if args.route_command == "list":
        for rule in with_store(args.data, lambda s: s.list_routes()):
            print(f"{rule.kind}\t{rule.category or '*'}\tunit:{rule.unit}\t{rule.days} working day(s)")
        return EXIT_OK
    rule = parse_rule(args.kind, args.category, args.unit, args.days)
    created = with_store(args.data, lambda s: add_route(s, CLI, rule))
    print(f"{'added' if created else 'changed'} route: {rule.kind} {rule.category or '(any category)'} ->"
          f" unit {rule.unit}, {rule.days} working day(s)")
    return EXIT_OK
