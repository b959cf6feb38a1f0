"""The servers the fuzzers run against: a real edge and a real hub, each its own process on 127.0.0.1.

Each serves a real SQLite file and is started by its real command. The edge is provisioned for a hub that never
answers (its line is down), so nothing but the fuzzer changes its database; the hub pulls no status while fuzzed, for
the same reason.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import pytest
import requests

from deploy.local_processes import edge_service, free_port, hub_service, run_command
from edge.box.provisioned import apply_bundle
from protocol.keys import NodeKey
from protocol.request_auth import HEADER, sign_request
from protocol.trust import make_trust
from provisioning.bundle import make_bundle, open_bundle

from .database_dump import DatabaseWatch
from .route_fuzzer import Target

STAFF_USER, STAFF_PASSWORD = "fuzz-admin", "fuzz-口令-2026"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
# Written in the background whatever the requests: the usage sampler's row of the day.
EDGE_BACKGROUND_WRITES = ("usage_samples",)
# Written on a refused login by design: the attempt is counted against the account and audited.
EDGE_LOGIN_WRITES = frozenset({"staff_accounts"})
HUB_LOGIN_WRITES = frozenset({"officials", "audit_log"})
# A request the enrolled edge signed is contact with its village, whatever becomes of its body: the hub notes it as
# villages.last_sync_at (at most every 10 s) once the signature and key are good. Found by the soak: a malformed
# batch pushed more than 10 s after the last mark was refused, and the mark was written.
HUB_CONTACT_WRITES = frozenset({"villages"})


def _staff_session(base: str) -> tuple[str, str]:
    """Log in through the real form; the session cookie and the CSRF token its pages carry."""
    with requests.Session() as http:
        form = http.get(f"{base}/staff/login", timeout=10)
        csrf = _CSRF.search(form.text)
        assert csrf, "the login form has no CSRF field"
        done = http.post(f"{base}/staff/login", timeout=30, allow_redirects=False,
                         data={"username": STAFF_USER, "password": STAFF_PASSWORD, "csrf": csrf.group(1)})
        assert done.status_code == 303, done.text[:300]
        session = str(http.cookies["vn_staff"])
        page = http.get(f"{base}/staff/", timeout=10)
        csrf = _CSRF.search(page.text)
        assert csrf, "the dashboard has no CSRF field"
        return session, csrf.group(1)


@pytest.fixture(scope="module")
def edge_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    data = tmp_path_factory.mktemp("fuzz-edge")
    root = NodeKey.generate()
    trust = make_trust(root, "测试平台", [NodeKey.generate().public], version=1)
    apply_bundle(data, make_bundle(root, trust, "v1", "测试村", "t1", f"http://127.0.0.1:{free_port()}", "token"))
    # No mDNS (the fuzzer is the only client); a long poll answers within the fuzzer's time bound.
    (data / "config.toml").write_text("mdns = false\nalert_wait_s = 0.5\nbackoff_base_s = 5.0\n")
    run_command("village-edge", "staff", "add", "--data", str(data), "--user", STAFF_USER, "--role", "admin",
                stdin=STAFF_PASSWORD + "\n")
    edge = edge_service(data, free_port()).start()
    try:
        device = requests.post(f"{edge.url}/api/v1/devices", json={"model": "fuzz"}, timeout=10).json()
        session, csrf = _staff_session(edge.url)
        document = requests.get(f"{edge.url}/api/v1/openapi.json", timeout=10).json()
        target = Target("edge", edge.url, document, DatabaseWatch(data / "edge.db", EDGE_BACKGROUND_WRITES),
                        headers={"X-Device-Token": device["token"], "X-CSRF-Token": csrf},
                        cookies={"vn_staff": session}, own_body={"device_id": device["device_id"]},
                        without_credentials=frozenset({("POST", "/staff/logout")}),
                        refusal_writes={("POST", "/staff/login"): EDGE_LOGIN_WRITES})
        yield target
        target.db.close()
    finally:
        edge.stop()


@pytest.fixture(scope="module")
def hub_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    data = tmp_path_factory.mktemp("fuzz-hub")
    run_command("village-hub", "init", "--data", str(data))
    # A long poll answers within a fraction of a second: the fuzzer's cases are about what the hub accepts, and a
    # valid wait of 25 s per case would be most of the run.
    (data / "config.toml").write_text("status_interval_s = 3600.0\nlongpoll_max_s = 0.2\n")
    token = (data / "admin.token").read_text().strip()
    run_command("village-hub", "village", "add", "--data", str(data), "--id", "v1", "--name", "一村", "--town", "t1")
    run_command("village-provision", "make", "--hub-data", str(data), "--village", "v1",
                "--hub-url", "http://127.0.0.1:9", "--out", str(data / "v1.vnb"))
    edge_key = NodeKey.generate()
    hub = hub_service(data, free_port()).start()
    try:
        # Enrolled as the box provisioned from that bundle would: the signed sync routes then get past their
        # signature check and parse what the fuzzer sends.
        bundle = open_bundle((data / "v1.vnb").read_bytes())
        enrolled = requests.post(f"{hub.url}/api/v1/enroll", timeout=10, json={
            "village_id": "v1", "token": bundle.enroll_token,
            "public_key": base64.urlsafe_b64encode(edge_key.public).decode()})
        assert enrolled.status_code == 200, enrolled.text
        position = requests.get(f"{hub.url}/api/v1/sync/v1/up", timeout=10, headers={
            HEADER: sign_request(edge_key, "GET", "/api/v1/sync/v1/up")})
        assert position.status_code == 200, f"a signed request is refused: {position.text}"
        document = requests.get(f"{hub.url}/api/v1/openapi.json", timeout=10).json()
        target = Target("hub", hub.url, document, DatabaseWatch(data / "hub.db"),
                        headers={"Authorization": f"Bearer {token}"}, cookies={"vn_admin": token},
                        sign=lambda method, path_qs, body: {HEADER: sign_request(edge_key, method, path_qs, body)},
                        own_path={"village": "v1"},
                        refusal_writes={("POST", "/api/v1/login"): HUB_LOGIN_WRITES,
                                        ("POST", "/admin/login"): HUB_LOGIN_WRITES,
                                        ("POST", "/api/v1/sync/{village}/up"): HUB_CONTACT_WRITES,
                                        ("PUT", "/api/v1/recordings/{village}/{id}"): HUB_CONTACT_WRITES})
        yield target
        target.db.close()
    finally:
        hub.stop()
