"""`village-edge doctor`: what a technician at the box needs to know, in Chinese (English with --lang en).

Versions and slots, the update's state, disk, the line (hub reachable, last sync, backlog), set-top boxes by model
and firmware, the last errors. It asks the running box for its status when it answers, and otherwise reads the
data folder alone: its database through a copy of its files, so a stopped box is left exactly
as it was and each table is still read by the package that owns it. Exit code 1 when something needs attention.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import socket
import tempfile
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from edge.config import EdgeConfig, load_config
from edge.content.store import ContentStore
from edge.feeds.positions import up_backlog
from edge.schema import SCHEMA
from edge.sync.health import last_sync_at
from edge.updates.slots import SLOTS, installed_version, slot_dir
from edge.updates.state import load_state as load_update_state
from edge.updates.version import running_version
from protocol.database import Database
from protocol.settings import ConfigError

from .provisioned import load_state as load_provisioned

EXIT_OK, EXIT_ATTENTION = 0, 1
LOW_DISK_BYTES = 1024**3
LOW_DISK_SHARE = 0.10
LOG_LINES = 5
STATUS_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Finding:
    topic: tuple[str, str]  # (Chinese, English)
    text: tuple[str, str]
    attention: bool = False


def examine(data_dir: Path, config_file: Path | None = None) -> list[Finding]:
    try:
        config = load_config(data_dir, config_file)
    except ConfigError as exc:
        return [Finding(("配置", "config"), (f"配置文件有错：{exc}", f"the settings file is wrong: {exc}"), True)]
    status = _live_status(config)
    return [
        _running(config, status),
        *_versions(data_dir, status),
        _disk(data_dir),
        *_line(config, status),
        _set_top_boxes(status),
        _errors(data_dir, status),
    ]


def render(findings: Iterable[Finding], lang: str) -> str:
    zh = lang == "zh"
    findings = list(findings)
    lines = ["VillageNet 村级服务盒诊断" if zh else "VillageNet village box check"]
    for f in findings:
        mark = ("[注意]" if zh else "[attention]") if f.attention else ("[正常]" if zh else "[ok]")
        lines.append(f"{mark} {f.topic[0 if zh else 1]}: {f.text[0 if zh else 1]}")
    n = sum(f.attention for f in findings)
    if zh:
        lines.append(f"结论：有 {n} 项需要处理。" if n else "结论：一切正常。")
    else:
        lines.append(f"{n} item(s) need attention." if n else "All is well.")
    return "\n".join(lines)


def run_doctor(args: argparse.Namespace) -> int:
    findings = examine(Path(args.data), args.config)
    print(render(findings, args.lang))
    return EXIT_ATTENTION if any(f.attention for f in findings) else EXIT_OK


# -- what is looked at ------------------------------------------------------------------------------------------
def _live_status(config: EdgeConfig) -> dict[str, Any] | None:
    host, port = config.listen_host_port
    host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/api/v1/status?format=json"
    try:
        # A loaded box may take seconds to assemble its status; a technician can wait that long.
        with urllib.request.urlopen(url, timeout=STATUS_TIMEOUT_S) as resp:
            answer = json.loads(resp.read())
    except (OSError, ValueError):
        return None
    return answer if isinstance(answer, dict) else None


def _running(config: EdgeConfig, status: dict[str, Any] | None) -> Finding:
    topic = ("运行", "running")
    if status is None:
        return Finding(topic, (f"服务没有在 {config.listen} 应答（已停止或正在重启）；以下信息读自数据目录",
                               f"nothing answers on {config.listen} (stopped or restarting); the rest is read from"
                               " the data folder"), True)
    up = _span(time.time() - float(status.get("started_at") or time.time()))
    return Finding(topic, (f"正在服务，已运行 {up[0]}", f"serving, up for {up[1]}"))


def _versions(data_dir: Path, status: dict[str, Any] | None) -> list[Finding]:
    st = load_update_state(data_dir)
    running = str(status["version"]) if status else (st.active_version or running_version())
    slots = {s: installed_version(slot_dir(data_dir, s)) or "-" for s in SLOTS}
    slot_text = "，".join(f"{s}: {v}" for s, v in slots.items())
    versions = Finding(("版本", "versions"), (
        f"运行 {running}（槽位 {st.active_slot}；出厂安装 {running_version()}；{slot_text}）",
        f"running {running} (slot {st.active_slot}; base installation {running_version()}; "
        + ", ".join(f"slot {s}: {v}" for s, v in slots.items()) + ")"))
    bad = st.state in ("failed", "rolled_back")
    why = f"：{st.last_error}" if bad and st.last_error else ""
    target = st.target_version or "-"
    update = Finding(("升级", "update"), (
        f"{_STATE_ZH.get(st.state, st.state)}（目标版本 {target}，阶段 {st.phase}）{why}",
        f"{st.state} (target {target}, phase {st.phase})" + (f": {st.last_error}" if why else "")), bad)
    return [versions, update]


_STATE_ZH = {"idle": "无升级", "downloading": "正在下载", "installing": "正在安装", "verifying": "正在验证",
             "committed": "已升级成功", "rolled_back": "已回滚到旧版本", "failed": "升级失败"}


def _disk(data_dir: Path) -> Finding:
    usage = shutil.disk_usage(data_dir if data_dir.exists() else data_dir.parent)
    share = usage.free / usage.total if usage.total else 0.0
    low = usage.free < LOW_DISK_BYTES or share < LOW_DISK_SHARE
    free, total = usage.free / 1024**3, usage.total / 1024**3
    return Finding(("磁盘", "disk"), (
        f"剩余 {free:.1f} GB / 共 {total:.1f} GB（{share:.0%}）" + ("，空间不足" if low else ""),
        f"{free:.1f} GB free of {total:.1f} GB ({share:.0%})" + (", running out" if low else "")), low)


def _line(config: EdgeConfig, status: dict[str, Any] | None) -> list[Finding]:
    topic = ("线路", "line")
    box = load_provisioned(config.data_dir)
    if box is None:
        return [Finding(topic, ("本机还没有开通（插入开通U盘或运行 village-edge provision）",
                                "not provisioned yet (plug in the provisioning stick, or village-edge provision)"),
                        True)]
    reachable = _reachable(box.hub_url)
    if status is not None:
        last_sync, backlog = status.get("last_sync_at"), status.get("sync", {}).get("backlog", {})
        up, blobs = int(backlog.get("up_records", 0)), int(backlog.get("blobs", 0))
    else:
        last_sync, up, blobs = _from_database(config.data_dir / "edge.db")
    ago = _ago(float(last_sync) if last_sync else None)
    stale = not last_sync or time.time() - float(last_sync) > config.hub_stale_after_s
    village = f"{box.village_name}（{box.village_id}）"
    hub = Finding(topic, (
        f"{village} → 城市平台 {box.hub_url} " + ("可以连通" if reachable else "连不上")
        + ("" if box.enrolled else "，尚未注册"),
        f"{box.village_id} -> hub {box.hub_url} " + ("reachable" if reachable else "unreachable")
        + ("" if box.enrolled else ", not enrolled yet")), not reachable or not box.enrolled)
    sync = Finding(("同步", "sync"), (
        f"上次同步 {ago[0]}；待上传 {up} 条，待下载文件 {blobs} 个",
        f"last sync {ago[1]}; {up} record(s) to send up, {blobs} file(s) to fetch"), stale)
    return [hub, sync]


def _set_top_boxes(status: dict[str, Any] | None) -> Finding:
    topic = ("机顶盒", "set-top boxes")
    if status is None:
        return Finding(topic, ("服务未运行时看不到在线的机顶盒", "seen only while the box runs"))
    models = status.get("stb") or {}
    if not models:
        return Finding(topic, ("局域网里没有看到机顶盒", "none seen on the LAN"))
    parts = [(m, int(b.get("count", 0)), ", ".join(f"{fw or '?'} ×{n}" for fw, n in b.get("versions", {}).items()))
             for m, b in sorted(models.items())]
    return Finding(topic, ("；".join(f"{m} 共 {n} 台（固件 {v}）" for m, n, v in parts),
                           "; ".join(f"{m}: {n} (firmware {v})" for m, n, v in parts)))


def _errors(data_dir: Path, status: dict[str, Any] | None) -> Finding:
    found: list[str] = []
    if status is not None:
        found += [f"{what}: {err}" for what, err in (("sync", status.get("sync", {}).get("last_error")),
                                                     ("update", (status.get("update") or {}).get("last_error")))
                  if err]
    found += _log_errors(data_dir / "edge.log")
    if not found:
        return Finding(("最近错误", "last errors"), ("无", "none"))
    text = " | ".join(found[-LOG_LINES:])
    return Finding(("最近错误", "last errors"), (text, text))


# -- helpers ----------------------------------------------------------------------------------------------------
def _log_errors(path: Path) -> list[str]:
    """The last ERROR lines of the box's own log (the journal has them under systemd: journalctl -u village-edge)."""
    try:
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - 256 * 1024))
            tail = f.read().decode("utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []
    return [line.strip()[:300] for line in tail if " ERROR " in line][-LOG_LINES:]


def _from_database(db: Path) -> tuple[float | None, int, int]:
    """(last sync, up records not acknowledged, files to fetch) of a box that is not running."""
    if not db.exists():
        return None, 0, 0
    with tempfile.TemporaryDirectory(prefix="village-doctor-") as tmp:
        # The file and its write-ahead log copied as they are: even a read-only connection to the box's own file
        # would create -shm and -wal files there. SQLite recovers the copy's log when the copy is opened.
        for suffix in ("", "-wal"):
            with contextlib.suppress(FileNotFoundError):
                shutil.copyfile(f"{db}{suffix}", Path(tmp) / f"edge.db{suffix}")
        return asyncio.run(_figures(Path(tmp) / "edge.db", Path(tmp) / "content"))


async def _figures(db_path: Path, content_root: Path) -> tuple[float | None, int, int]:
    db = Database(db_path)
    await db.open(SCHEMA)
    try:
        backlog = await up_backlog(db)
        blobs, _ = await ContentStore(content_root, db).backlog()
        return await last_sync_at(db), backlog.head - backlog.acked, blobs
    finally:
        await db.close()


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=3):
            return True
    except OSError:
        return False


def _span(seconds: float) -> tuple[str, str]:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} 秒", f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} 分钟", f"{seconds // 60} min"
    return f"{seconds // 3600} 小时", f"{seconds // 3600} h"


def _ago(at: float | None) -> tuple[str, str]:
    if not at:
        return "从未", "never"
    zh, en = _span(time.time() - float(at))
    return f"{zh}前", f"{en} ago"
