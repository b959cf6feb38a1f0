"""`make demo`: a hub for a whole city (14 towns, 85 villages, units, officials at each level), two provisioned
village edges and five simulated STBs on 127.0.0.1, with Chinese samples.

Runs the real commands as child processes (as a deployment would): the org sheet goes in with `org import`, the
officials with `user add`; the samples go through the hub's API (published ones with the admin token, one notice
drafted by the town editor and waiting in the town reviewer's queue). Prints the URLs and the officials' logins
and runs until Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import signal
import socket
import sys
import urllib.request
from pathlib import Path

from .local_processes import Service, edge_service, free_port, hub_service, run_command
from .sample_city import DEMO_PASSWORD, EDGE_TOWN, EDGE_VILLAGES, OFFICIALS, write_org_sheet
from .sample_content import REVIEW_SAMPLE, SAMPLE_NOTICES
from .simulated_stb import SimulatedStb

VILLAGES = EDGE_VILLAGES
TOWN = EDGE_TOWN
# A demo-only login for each village's staff page, printed with the URLs.
STAFF_USER = "cunwei"
STAFF_PASSWORD = "demo-2026"


def _port(preferred: int) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            return free_port()


def _post(hub_url: str, token: str | None, path: str, payload: dict) -> dict:
    """POST JSON with a bearer token (the admin token, or an official's from /api/v1/login)."""
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    req = urllib.request.Request(hub_url + path, data=json.dumps(payload).encode(), method="POST", headers=headers)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def set_up(base: Path) -> tuple[Service, list[Service], str]:
    if base.exists():
        shutil.rmtree(base)
    hub_dir = base / "hub"
    hub_port = _port(8700)
    run_command("village-hub", "init", "--data", str(hub_dir), "--name", "示范市农村社区公共服务平台")
    edge_ports = {vid: _port(8601 + i) for i, (vid, _name) in enumerate(VILLAGES)}
    sheet = write_org_sheet(base / "org.csv", {vid: f"http://127.0.0.1:{port}" for vid, port in edge_ports.items()})
    run_command("village-hub", "org", "import", "--data", str(hub_dir), str(sheet))
    for user, name, roles, scope, _what in OFFICIALS:
        run_command("village-hub", "user", "add", "--data", str(hub_dir), "--user", user, "--role", roles,
                    "--scope", scope, "--name", name, stdin=DEMO_PASSWORD + "\n")
    edges: list[Service] = []
    for vid, _name in VILLAGES:
        edge_port = edge_ports[vid]
        edge_dir = base / f"edge-{vid}"
        bundle = base / f"{vid}.vnb"
        run_command("village-provision", "make", "--hub-data", str(hub_dir), "--village", vid,
                    "--hub-url", f"http://127.0.0.1:{hub_port}", "--out", str(bundle))
        run_command("village-edge", "provision", "--data", str(edge_dir), str(bundle))
        run_command("village-edge", "staff", "add", "--data", str(edge_dir), "--user", STAFF_USER, "--role", "admin",
                    stdin=STAFF_PASSWORD + "\n")
        edges.append(edge_service(edge_dir, edge_port))
    hub = hub_service(hub_dir, hub_port)
    token = (hub_dir / "admin.token").read_text().strip()
    return hub, edges, token


def publish_samples(hub_url: str, token: str) -> None:
    fill = {"v1": VILLAGES[0][0], "v2": VILLAGES[1][0], "town": TOWN}
    for notice in SAMPLE_NOTICES:
        created = _post(hub_url, token, "/api/v1/notices", {**notice, "scope": notice["scope"].format(**fill)})
        _post(hub_url, token, f"/api/v1/notices/{created['id']}/publish", {})
    # The town editor drafts one for both edge villages and submits it: the town reviewer finds it in the queue.
    editor = next(user for user, _, roles, scope, _ in OFFICIALS if "editor" in roles and scope == f"town:{TOWN}")
    session = _post(hub_url, None, "/api/v1/login", {"user": editor, "password": DEMO_PASSWORD})["token"]
    scope = ",".join(f"village:{vid}" for vid, _ in VILLAGES)
    draft = _post(hub_url, session, "/api/v1/notices", {**REVIEW_SAMPLE, "scope": scope})
    _post(hub_url, session, f"/api/v1/notices/{draft['id']}/submit", {})


async def run_stbs(edges: list[Service], stop: asyncio.Event) -> None:
    stbs = [
        SimulatedStb(f"stb-demo-{n}", model="HG680-J" if n % 2 else "EC6108V9", firmware=f"2.{n}.0",
                     middleware="ipanel" if n % 2 else "huawei")
        for n in range(1, 6)
    ]
    tasks = []
    for n, stb in enumerate(stbs):
        await stb.advertise()
        edge = edges[0] if n < 3 else edges[1]
        # Every 100 s: under the edge's 30 submissions per device and hour, as a real TV would be.
        tasks.append(asyncio.create_task(stb.run_resident(edge.url, stop, feedback_every_s=100.0)))
    await stop.wait()
    for stb in stbs:
        with contextlib.suppress(Exception):
            await stb.goodbye()
    await asyncio.gather(*tasks, return_exceptions=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="demo")
    parser.add_argument("--dir", default=".demo", help="where the demo keeps its data (wiped at start)")
    args = parser.parse_args(argv)
    base = Path(args.dir).resolve()
    hub, edges, token = set_up(base)
    services = [hub, *edges]
    try:
        hub.start(ready_path="/api/v1/trust")
        for e in edges:
            e.start()
        publish_samples(hub.url, token)
        print("\nVillageNet demo is running (Ctrl-C stops it):", flush=True)
        print(f"  hub officials' page {hub.url}/admin/login")
        print(f"    logins (password {DEMO_PASSWORD} for each):")
        for user, name, _roles, _scope, what in OFFICIALS:
            print(f"      {user:<14} {name}  {what}")
        print(f"    the admin token (set-up scripts) is in {base / 'hub' / 'admin.token'}")
        for (_vid, name), e in zip(VILLAGES, edges, strict=True):
            print(f"  {name} TV app       {e.url}/tv/")
            print(f"  {name} staff page   {e.url}/staff/   (user {STAFF_USER}, password {STAFF_PASSWORD})")
            print(f"  {name} status       {e.url}/api/v1/status?format=json")
        print(f"  logs in {base}", flush=True)

        loop = asyncio.new_event_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        loop.run_until_complete(run_stbs(edges, stop))
        loop.close()
    finally:
        for s in reversed(services):
            s.stop()
    print("demo stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
