"""A whole system on 127.0.0.1 from the real commands: one hub and village edges, each its own process."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

from deploy.local_processes import Service, edge_service, free_port, hub_service, run_command

FAST_HUB = "status_interval_s = 0.3\nstatus_timeout_s = 1.0\n"
# The simulated residents send far more than 30 submissions an hour from one TV (the quotas have their own test).
FAST_EDGE = ("mdns = false\nlongpoll_s = 2.0\nbackoff_base_s = 0.2\nbackoff_max_s = 1.0\npush_interval_s = 0.5\n"
             "submissions_per_device_per_hour = 100000\n")


def http(method: str, url: str, payload: Any = None, token: str | None = None,
         headers: dict[str, str] | None = None, raw: bytes | None = None) -> tuple[int, Any, Message]:
    """One request; returns (status, decoded JSON or bytes, headers, case-insensitive). Never raises for a status."""
    data = raw if raw is not None else (json.dumps(payload).encode() if payload is not None else None)
    hdrs = dict(headers or {})
    if payload is not None:
        hdrs.setdefault("Content-Type", "application/json")
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, body, rh = resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as err:
        status, body, rh = err.code, err.read(), err.headers
    if (rh.get("Content-Type") or "").startswith("application/json"):
        return status, json.loads(body), rh
    return status, body, rh


def wait_for(what: str, check: Callable[[], Any], timeout_s: float = 20.0, every_s: float = 0.2) -> Any:
    """Poll `check` until it returns something truthy; bounded in time."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what} (last: {last!r})")


@dataclass
class System:
    base: Path
    hub: Service
    token: str
    edges: dict[str, Service] = field(default_factory=dict)

    @property
    def hub_dir(self) -> Path:
        return self.base / "hub"

    def admin(self, method: str, path: str, payload: Any = None, raw: bytes | None = None,
              headers: dict[str, str] | None = None) -> tuple[int, Any]:
        status, body, _ = http(method, self.hub.url + path, payload, token=self.token, raw=raw, headers=headers)
        return status, body

    def publish(self, title: str, scope: str, area: str = "community", priority: str = "normal",
                attachments: list[dict[str, str]] | None = None) -> str:
        payload: dict[str, Any] = {"title": title, "body": f"{title}的内容", "area": area, "priority": priority,
                                   "scope": scope}
        if attachments:
            payload["attachments"] = attachments
        status, created = self.admin("POST", "/api/v1/notices", payload)
        assert status == 201, created
        status, published = self.admin("POST", f"/api/v1/notices/{created['id']}/publish", {})
        assert status == 200, published
        return str(created["id"])

    def hub_submissions(self, village: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        path = f"/api/v1/submissions?village={village}"
        for _ in range(100):
            status, page = self.admin("GET", path)
            assert status == 200, page
            out.extend(page["submissions"])
            if not page.get("next"):
                return out
            path = f"/api/v1/submissions?village={village}&cursor={page['next']}"
        raise AssertionError("more pages than expected")

    def edge_dir(self, vid: str) -> Path:
        return self.base / f"edge-{vid}"

    def stop_all(self) -> None:
        for e in self.edges.values():
            e.stop()
        self.hub.stop()


def build_system(base: Path, villages: list[str], hub_url_for: Callable[[int], str] | None = None,
                 town_of: Callable[[str], str] = lambda vid: "t1") -> System:
    """Init a hub, register and provision one edge per village (not started), return handles to start."""
    hub_dir = base / "hub"
    hub_port = free_port()
    run_command("village-hub", "init", "--data", str(hub_dir))
    (hub_dir / "config.toml").write_text(FAST_HUB)
    hub_url = hub_url_for(hub_port) if hub_url_for else f"http://127.0.0.1:{hub_port}"
    system = System(base, hub_service(hub_dir, hub_port), (hub_dir / "admin.token").read_text().strip())
    for vid in villages:
        edge_port = free_port()
        edge_dir = base / f"edge-{vid}"
        run_command("village-hub", "village", "add", "--data", str(hub_dir), "--id", vid, "--name", f"{vid}村",
                    "--town", town_of(vid), "--edge-url", f"http://127.0.0.1:{edge_port}")
        bundle = base / f"{vid}.vnb"
        run_command("village-provision", "make", "--hub-data", str(hub_dir), "--village", vid,
                    "--hub-url", hub_url, "--out", str(bundle))
        run_command("village-edge", "provision", "--data", str(edge_dir), str(bundle))
        (edge_dir / "config.toml").write_text(FAST_EDGE)
        system.edges[vid] = edge_service(edge_dir, edge_port)
    return system
