"""`village-hub rollout start|approve|pause|resume|abort|show`: rollouts in waves from the hub's console.

The console is the operator, as for the other commands; `--by USER` names the city administrator who acts, so that
the rule "the approver is not the author" means two people (without it, the operator acts as user `cli`). The
running hub carries the rollout on from wave to wave (hub/rollouts.py); these commands only change its state.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from protocol.subcommands import Subcommands

from . import rollouts
from .actors import CLI, Actor
from .down_feed import DownFeed
from .errors import HubError, NotFound
from .keys_store import load_hub_keys
from .store import HubStore

EXIT_OK, EXIT_USAGE = 0, 2
COMMANDS = ("rollout",)
ACTIONS = ("approve", "pause", "resume", "abort")


def add_rollout_commands(sub: Subcommands, parser_class: type[argparse.ArgumentParser]) -> None:
    rollout = sub.add_parser("rollout", help="send a release to the villages in waves (docs/updates.md)")
    rsub = rollout.add_subparsers(dest="rollout_command", required=True, parser_class=parser_class)
    start = rsub.add_parser("start", aliases=["create"], help="a rollout of a release, waiting for approval")
    start.add_argument("--release", required=True, help="a version of the edge (1.2.0) or a release id")
    start.add_argument("--scope", default="city", help="city, town:ID, village:ID or several, comma-separated")
    start.add_argument("--waves", default=rollouts.DEFAULT_WAVES,
                       help="canary villages, then cumulative shares of the rest, e.g. v7,10%%,100%%")
    start.add_argument("--max-failures", type=int, default=0, help="failed villages a wave tolerates")
    start.add_argument("--success-threshold", type=int, default=rollouts.DEFAULT_SUCCESS_PCT,
                       help="%% of a wave committed that starts the next wave")
    start.add_argument("--error-threshold", type=int, help="%% of a wave failed that pauses the rollout")
    verbs = {"approve": "approve (not by its author): the first wave starts", "pause": "pause a running rollout",
             "resume": "go on after a pause", "abort": "stop for good; boxes that have not taken it drop the offer",
             "show": "a rollout's waves, or all rollouts, as JSON"}
    for verb, text in verbs.items():
        parser = rsub.add_parser(verb, help=text)
        parser.add_argument("--id", type=int, required=verb != "show", dest="rollout_id")
    for parser in {id(p): p for p in rsub.choices.values()}.values():  # `create` is `start` again, by alias
        parser.add_argument("--data", required=True, type=Path)
        parser.add_argument("--by", metavar="USER", help="the city administrator acting (default: the console)")


async def _actor(store: HubStore, user: str | None) -> Actor:
    if user is None:
        return CLI
    official = await store.get_official(user)
    if official is None or official.disabled_at is not None:
        raise NotFound(f"没有可用的账户 {user}。No enabled account {user}.", "unknown_user")
    return Actor.of(official, "cli")


async def _run(args: argparse.Namespace) -> str:
    store = HubStore(args.data / "hub.db")
    await store.open()
    try:
        actor = await _actor(store, args.by)
        down = DownFeed(store)
        if args.rollout_command in ("start", "create"):
            trust = (await asyncio.to_thread(load_hub_keys, args.data)).trust
            made = await rollouts.create(store, args.data, trust, actor, {
                "release": args.release, "scope": args.scope, "waves": args.waves,
                "max_failures": args.max_failures, "success_threshold": args.success_threshold,
                "error_threshold": args.error_threshold})
            return (f"已创建升级批次 {made.id}（{made.release_id}），等待审批。rollout {made.id} of {made.release_id}"
                    f" created; it waits for approval by someone other than {made.author}")
        if args.rollout_command == "show":
            shown: Any = await rollouts.list_json(store, actor)
            if args.rollout_id is not None:
                shown = [r for r in shown if r["id"] == args.rollout_id]
                if not shown:
                    raise NotFound(f"没有升级批次 {args.rollout_id}。No rollout {args.rollout_id}.", "unknown_rollout")
            return json.dumps(shown, ensure_ascii=False, indent=1)
        if args.rollout_command == "approve":
            await rollouts.approve(store, down, actor, args.rollout_id)
        elif args.rollout_command == "pause":
            await rollouts.pause(store, actor, args.rollout_id)
        elif args.rollout_command == "resume":
            await rollouts.resume(store, actor, args.rollout_id)
        else:
            await rollouts.abort(store, down, actor, args.rollout_id)
        return f"rollout {args.rollout_id}: {args.rollout_command} done"
    finally:
        await store.close()


def run_rollout_command(args: argparse.Namespace) -> int:
    try:
        print(asyncio.run(_run(args)))
    except HubError as exc:
        print(f"village-hub: {exc.detail}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK
