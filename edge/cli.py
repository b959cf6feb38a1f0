"""`village-edge`: run the edge, or apply a provisioning bundle by hand (the USB watcher runs the same code)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from edge.box.provisioned import apply_bundle, read_bundle_bytes
from protocol.errors import ProtocolError

from .config import load_config


def _serve(args: argparse.Namespace) -> int:
    """The supervisor (edge/updates/supervisor.py): it runs `_run` from the active slot and updates it."""
    from .updates.supervisor import supervise

    os.umask(0o077)
    config = load_config(Path(args.data), args.config, overrides_from="the command line",
                         listen=args.listen, lan=args.lan)  # refused here, before any child starts
    child = ["--data", str(Path(args.data).resolve())]
    for flag, value in (("--listen", args.listen), ("--lan", args.lan)):
        if value is not None:
            child += [flag, value]
    if args.config is not None:
        child += ["--config", str(args.config.resolve())]
    return supervise(config, child)


def _run(args: argparse.Namespace) -> int:
    from .app import create_app
    from .box.systemd_notify import systemd_ctx
    from .serving import serve

    # Everything the edge writes (blobs, receipts, logs, state) is the box's own: no other user reads it.
    os.umask(0o077)
    config = load_config(Path(args.data), args.config, overrides_from="the command line",
                         listen=args.listen, lan=args.lan)
    host, port = config.listen_host_port
    app = create_app(config)
    app.cleanup_ctx.append(systemd_ctx(host, port))  # READY=1 and the watchdog's pings (docs/appliance.md)
    serve(app, host, port)  # media by the lean front door, the rest by aiohttp (docs/serving.md)
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from .box.doctor import run_doctor

    return run_doctor(args)


def _provision(args: argparse.Namespace) -> int:
    data_dir = Path(args.data)
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        state = apply_bundle(data_dir, read_bundle_bytes(Path(args.path)))
    except FileNotFoundError as exc:
        print(f"找不到开通文件 (bundle not found): {exc.filename}", file=sys.stderr)
        return 2
    except ProtocolError as exc:
        print(f"开通文件被拒绝 (bundle refused): {exc.detail}", file=sys.stderr)
        return 2
    print(f"已开通：{state.village_name} ({state.village_id})，城市平台 {state.hub_url}")
    print(f"provisioned for {state.village_id}; hub root key fingerprint {state.root_fingerprint}")
    print("下一步 (next): 启动 `village-edge serve`，线路通了就自动注册 (it enrolls by itself once the line works)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="village-edge", description="VillageNet village edge box")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func, text in (("serve", _serve, "run the edge (and update it: docs/updates.md)"),
                             ("run", _run, "run the edge's server alone, as the supervisor of `serve` does")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--data", required=True)
        p.add_argument("--listen", default=None, help="HOST:PORT (default 0.0.0.0:8600)")
        p.add_argument("--lan", default=None, help="LAN interface address for mDNS")
        p.add_argument("--config", type=Path, metavar="FILE",
                       help="TOML settings file (default DATA/config.toml when present; see docs/settings.md)")
        p.set_defaults(func=func)
    p = sub.add_parser("doctor", help="what a technician needs to know about this box (exit 1: needs attention)")
    p.add_argument("--data", required=True)
    p.add_argument("--config", type=Path, metavar="FILE", help="as for serve (default DATA/config.toml)")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    p.set_defaults(func=_doctor)
    p = sub.add_parser("provision", help="apply a provisioning bundle (a file or a stick's folder)")
    p.add_argument("--data", required=True)
    p.add_argument("path")
    p.set_defaults(func=_provision)
    from .staff.cli_staff import add_arguments as add_staff_arguments

    add_staff_arguments(sub)
    from edge.sync.cli import add_arguments as add_sync_arguments

    add_sync_arguments(sub)
    from edge.updates.cli import add_arguments as add_update_arguments

    add_update_arguments(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
