"""The `village-hub` command as an operator runs it: init, village add (also while serving), serve and SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from protocol.keys import NodeKey
from protocol.trust import open_trust

HUB_CMD = str(Path(sys.executable).parent / "village-hub")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HUB_CMD, *args], capture_output=True, text=True, timeout=60, cwd="/")


def test_init_creates_private_keys_a_trust_document_a_token_and_a_database(tmp_path: Path) -> None:
    data = tmp_path / "new" / "hub"  # --data is created when missing
    result = run("init", "--data", str(data), "--name", "测试市")
    assert result.returncode == 0, result.stderr
    for name in ("root.key", "signing.key", "admin.token"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
    token = (data / "admin.token").read_text()
    assert len(token) >= 40 and token.strip() == token
    root = NodeKey.load(data / "root.key")
    trust = open_trust((data / "trust.vnt").read_bytes(), root.public)
    assert trust.version == 1 and trust.hub_name == "测试市"
    assert trust.can_sign(NodeKey.load(data / "signing.key").public)
    assert (data / "hub.db").exists()


def test_init_again_keeps_the_keys_and_says_so(tmp_path: Path) -> None:
    data = tmp_path / "hub"
    run("init", "--data", str(data))
    before = {n: (data / n).read_bytes() for n in ("root.key", "signing.key", "trust.vnt", "admin.token")}
    result = run("init", "--data", str(data))
    assert result.returncode == 0
    assert "already exist" in result.stdout
    assert {n: (data / n).read_bytes() for n in before} == before


def test_init_refuses_to_build_over_a_trust_document_whose_keys_are_gone(tmp_path: Path) -> None:
    data = tmp_path / "hub"
    run("init", "--data", str(data))
    (data / "root.key").unlink()
    (data / "root.pub").unlink()  # root.pub alone would be a root kept offline, which is fine
    trust = (data / "trust.vnt").read_bytes()
    result = run("init", "--data", str(data))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "root.key" in result.stderr
    assert not (data / "root.key").exists() and (data / "trust.vnt").read_bytes() == trust


def test_village_add_creates_the_town_when_it_is_new(tmp_path: Path) -> None:
    data = tmp_path / "hub"
    run("init", "--data", str(data))
    first = run("village", "add", "--data", str(data), "--id", "v001", "--name", "小庄村", "--town", "城关镇",
                "--edge-url", "http://10.0.0.5:8600")
    second = run("village", "add", "--data", str(data), "--id", "v002", "--name", "大庄村", "--town", "城关镇")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert "new town" in first.stdout and "new town" not in second.stdout
    with sqlite3.connect(data / "hub.db") as db:
        assert db.execute("SELECT id, name FROM towns").fetchall() == [("城关镇", "城关镇")]
        rows = db.execute("SELECT id, town_id, edge_url FROM villages ORDER BY id").fetchall()
    assert rows == [("v001", "城关镇", "http://10.0.0.5:8600"), ("v002", "城关镇", None)]


def test_bad_usage_and_bad_input_exit_2_with_one_line(tmp_path: Path) -> None:
    data = tmp_path / "hub"
    run("init", "--data", str(data))
    cases = [
        ("village", "add", "--data", str(data), "--id", "bad id", "--name", "x"),
        ("village", "add", "--data", str(data), "--id", "v1", "--name", "x", "--edge-url", "ftp://x"),
        ("village", "add", "--data", str(data), "--id", "v1"),
        ("serve", "--data", str(data), "--listen", "nowhere"),
        ("serve", "--data", str(tmp_path / "empty")),
        ("frobnicate",),
    ]
    for args in cases:
        result = run(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_serve_sees_a_village_added_while_running_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    data = tmp_path / "hub"
    run("init", "--data", str(data))
    token = (data / "admin.token").read_text()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([HUB_CMD, "serve", "--data", str(data), "--listen", f"127.0.0.1:{port}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/")
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                status, body = _get(f"{base}/api/v1/trust")
                if status == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "hub did not start"
            time.sleep(0.1)
        assert body == (data / "trust.vnt").read_bytes()

        added = run("village", "add", "--data", str(data), "--id", "late", "--name", "后来村", "--town", "t")
        assert added.returncode == 0, added.stderr
        status, body = _get(f"{base}/api/v1/villages", token)
        assert status == 200
        assert [v["id"] for v in json.loads(body)["villages"]] == ["late"]

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    stderr = proc.stderr.read() if proc.stderr else ""
    assert "hub serving" in stderr
    assert token not in stderr
