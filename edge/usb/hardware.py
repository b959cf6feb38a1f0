"""Hardware facts a receipt carries, so the city can tell boxes apart and see what was installed where."""

from __future__ import annotations

import os
import platform
import shutil
from pathlib import Path
from typing import Any


def _read(path: str, limit: int = 256) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(limit).strip()
    except OSError:
        return None


def hardware_facts(data_dir: Path) -> dict[str, Any]:
    macs = []
    net = Path("/sys/class/net")
    if net.is_dir():
        for iface in sorted(net.iterdir())[:16]:
            mac = _read(str(iface / "address"), 64)
            if iface.name != "lo" and mac and mac != "00:00:00:00:00:00":
                macs.append({"iface": iface.name, "mac": mac})
    mem_kb = None
    meminfo = _read("/proc/meminfo", 4096) or ""
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    try:
        disk_total = shutil.disk_usage(data_dir).total
    except OSError:
        disk_total = None
    return {
        "machine": platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
        "model": _read("/sys/firmware/devicetree/base/model") or _read("/sys/class/dmi/id/product_name"),
        "serial": _read("/sys/class/dmi/id/product_serial") or None,
        "cpus": os.cpu_count(),
        "memory_bytes": mem_kb * 1024 if mem_kb else None,
        "disk_bytes": disk_total,
        "network": macs,
    }
