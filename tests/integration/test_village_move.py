"""Moving a box to another village: refused while anything is unsent, then a clean restart as the new village."""

from __future__ import annotations

import subprocess
import uuid

from deploy.local_processes import BIN, run_command
from tests.device_kit import Residents

from .system import System, http, wait_for


def provision(s: System, bundle: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "village-edge"), "provision", "--data", str(s.edge_dir("v1")), bundle],
                          capture_output=True, text=True, timeout=60)


def titles(edge_url: str) -> set[str]:
    return {n["title"] for n in http("GET", edge_url + "/api/v1/notices")[1]["notices"]}


def test_a_box_moves_to_another_village_only_once_its_submissions_reached_the_city(two_villages: System):
    s = two_villages
    move = str(s.base / "move-to-v2.vnb")
    run_command("village-provision", "make", "--hub-data", str(s.hub_dir), "--village", "v2",
                "--hub-url", s.hub.url, "--out", move, "--move")
    edge = s.edges["v1"].start()  # the line is down
    sub = {"id": str(uuid.uuid4()), "kind": "feedback", "device_id": "stb-1", "body": {"text": "搬家前的意见"}}
    residents = Residents(edge.url)
    assert residents.post(sub)[0] == 201

    refused = provision(s, move)
    assert refused.returncode == 2 and "not reached the city" in refused.stderr
    assert http("GET", edge.url + "/api/v1/info")[1]["village_id"] == "v1"

    s.hub.start(ready_path="/api/v1/trust")
    s.publish("一村的通知", "village:v1")
    s.publish("二村的通知", "village:v2")
    wait_for("the submission delivered", lambda: residents.get(sub["id"])[1]["state"] == "delivered")
    wait_for("v1's notice", lambda: "一村的通知" in titles(edge.url))

    assert provision(s, move).returncode == 0
    assert edge.proc is not None
    edge.proc.wait(timeout=15)  # the running edge stops by itself; systemd (Restart=always) starts it again
    edge.start()
    assert http("GET", edge.url + "/api/v1/info")[1]["village_id"] == "v2"
    wait_for("v2's notice", lambda: "二村的通知" in titles(edge.url))
    assert "一村的通知" not in titles(edge.url)
    archived = list((s.edge_dir("v1") / "archive").glob("v1-*/edge.db"))
    assert len(archived) == 1  # the old village's data is kept, not mixed in

    after = {"id": str(uuid.uuid4()), "kind": "feedback", "device_id": "stb-1", "body": {"text": "搬家后的意见"}}
    # The new village's database knows no TV yet: each registers again, as the TV app does on its own.
    assert Residents(edge.url).post(after)[0] == 201
    wait_for("the new submission at the hub under v2", lambda: [x["id"] for x in s.hub_submissions("v2")] == [after["id"]])
    assert [x["id"] for x in s.hub_submissions("v1")] == [sub["id"]]
