"""The `village-hub` command: init a data dir, serve the hub, register villages (also while it serves).

Exit codes: 0 success, 2 bad usage or bad input (one line on stderr saying why), 1 anything else.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import NoReturn

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from .case_commands import COMMANDS as CASE_COMMANDS
from .case_commands import add_case_commands, run_case_command
from .config import SETTINGS, ConfigError, HubConfig
from .down_feed import DownFeed
from .errors import HubError
from .keys_store import init_hub, load_hub_keys
from .official_commands import COMMANDS as OFFICIAL_COMMANDS
from .official_commands import add_official_commands, run_official_command
from .registry import add_village
from .release_commands import COMMANDS as RELEASE_COMMANDS
from .release_commands import add_release_commands, run_release_command
from .rollout_commands import COMMANDS as ROLLOUT_COMMANDS
from .rollout_commands import add_rollout_commands, run_rollout_command
from .staff_accounts import send_staff_account
from .stick_commands import COMMANDS as STICK_COMMANDS
from .stick_commands import add_stick_commands, run_stick_command
from .store import HubStore
from .sync_commands import COMMANDS as SYNC_COMMANDS
from .sync_commands import add_sync_commands, run_sync_command

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # The contract wants one line on stderr for bad usage, not argparse's usage block.
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


class _PathOnlyAccessLog(AbstractAccessLogger):
    """Access log without query strings: `/admin/?token=` must not end up in the journal."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %s %.3fs", request.remote, request.method, request.path, response.status, time)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="village-hub", description="The VillageNet city hub.",
                epilog="settings (serve --config FILE, else DATA/config.toml; see docs/settings.md):\n"
                + SETTINGS.help_text(),
                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    init = sub.add_parser("init", help="create the hub's keys, trust document, admin token and database")
    init.add_argument("--data", required=True, type=Path)
    init.add_argument("--name", help="the hub's name, shown to edges in the trust document")
    serve = sub.add_parser("serve", help="run the hub")
    serve.add_argument("--data", required=True, type=Path)
    serve.add_argument("--listen", help="HOST:PORT (default from the settings file, else 127.0.0.1:8700)")
    serve.add_argument("--config", type=Path, metavar="FILE",
                       help="TOML settings file (default DATA/config.toml when present; see docs/settings.md)")
    village = sub.add_parser("village", help="manage villages")
    vsub = village.add_subparsers(dest="village_command", required=True, parser_class=_Parser)
    add = vsub.add_parser("add", help="register a village (creates its town when new)")
    add.add_argument("--data", required=True, type=Path)
    add.add_argument("--id", required=True, dest="village_id")
    add.add_argument("--name", required=True)
    add.add_argument("--town")
    add.add_argument("--edge-url", help="where the hub pulls the village's status, e.g. http://10.1.2.3:8600")
    staff = sub.add_parser("staff", help="village staff accounts made at the city")
    ssub = staff.add_subparsers(dest="staff_command", required=True, parser_class=_Parser)
    sadd = ssub.add_parser("add", help="send a staff account down to a village's box; the password comes on stdin")
    sadd.add_argument("--data", required=True, type=Path)
    sadd.add_argument("--village", required=True)
    sadd.add_argument("--user", required=True)
    sadd.add_argument("--role", required=True, choices=("admin", "staff", "technician"))
    add_stick_commands(sub, _Parser)
    add_sync_commands(sub, _Parser)
    add_official_commands(sub, _Parser)
    add_release_commands(sub, _Parser)
    add_rollout_commands(sub, _Parser)
    add_case_commands(sub, _Parser)
    return p


async def _with_store(data_dir: Path) -> HubStore:
    store = HubStore(data_dir / "hub.db")
    await store.open()
    return store


def _init(args: argparse.Namespace) -> int:
    for line in init_hub(args.data, args.name):
        print(line)

    async def create_db() -> None:
        await (await _with_store(args.data)).close()

    asyncio.run(create_db())
    print(f"database ready at {args.data / 'hub.db'}")
    return EXIT_OK


def _village_add(args: argparse.Namespace) -> int:
    async def run() -> str:
        store = await _with_store(args.data)
        try:
            result = await add_village(store, DownFeed(store), args.village_id, args.name, args.town, args.edge_url)
        finally:
            await store.close()
        v = result.village
        if not result.created:
            return f"village {v.id} already registered; name and edge url updated"
        town = f"new town {v.town_id}" if result.town_created else f"town {v.town_id}"
        return f"added village {v.id} ({v.name}) in {town}; {result.backfilled} live notices queued for it"

    print(asyncio.run(run()))
    return EXIT_OK


def _staff_add(args: argparse.Namespace) -> int:
    # stdin keeps the password out of the shell history and the process list.
    lines = sys.stdin.read(4096).splitlines()
    password = lines[0] if lines else ""

    async def run() -> int:
        store = await _with_store(args.data)
        try:
            return await send_staff_account(store, DownFeed(store), args.village, args.user, args.role, password)
        finally:
            await store.close()

    seq = asyncio.run(run())
    print(f"已为 {args.village} 发送账户 {args.user}（{args.role}），下次同步后可在村里的员工页面登录。"
          f" account {args.user} queued for {args.village} (down entry {seq})")
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    from .app import create_app  # the web app is only needed here
    from .city_ca import server_context

    args.data.mkdir(parents=True, exist_ok=True)
    config = HubConfig.load(args.data, args.config, overrides_from="the command line", listen=args.listen)
    host, port = config.listen_host_port
    load_hub_keys(args.data)  # a clear "run init first" before anything starts
    # TLS (docs/security.md): the city CA and the server certificate are made here when missing.
    tls = server_context(args.data, config.tls_name_list) if config.tls else None
    app = create_app(config)
    logging.getLogger(__name__).info("hub serving %s on %s://%s:%d/", args.data, "https" if tls else "http", host,
                                     port)
    # run_app turns SIGINT and SIGTERM into a clean shutdown (cleanup contexts run, the database closes).
    web.run_app(app, host=host, port=port, print=None, access_log_class=_PathOnlyAccessLog,
                handler_cancellation=True, shutdown_timeout=2.0, ssl_context=tls)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Only the server logs its work; the one-shot commands print their result and stay quiet otherwise.
    level = logging.INFO if args.command == "serve" else logging.WARNING
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "init":
            return _init(args)
        if args.command == "serve":
            return _serve(args)
        if args.command in STICK_COMMANDS:
            return run_stick_command(args)
        if args.command in SYNC_COMMANDS:
            return run_sync_command(args)
        if args.command in OFFICIAL_COMMANDS:
            return run_official_command(args)
        if args.command in RELEASE_COMMANDS:
            return run_release_command(args)
        if args.command in ROLLOUT_COMMANDS:
            return run_rollout_command(args)
        if args.command in CASE_COMMANDS:
            return run_case_command(args)
        args.data.mkdir(parents=True, exist_ok=True)
        if args.command == "staff":
            return _staff_add(args)
        return _village_add(args)
    except (HubError, ConfigError) as exc:
        status = getattr(exc, "status", 400)
        detail = getattr(exc, "detail", str(exc))
        print(f"village-hub: {detail}", file=sys.stderr)
        return EXIT_USAGE if status < 500 else EXIT_FAILED
    except OSError as exc:
        print(f"village-hub: {exc}", file=sys.stderr)
        return EXIT_FAILED
