"""Where a bundle goes: a file path, or a folder (a mounted stick) that gets VILLAGENET/provision.vnb."""

from __future__ import annotations

import os
from pathlib import Path

from .bundle import STICK_PATH


def write_bundle(out: Path, data: bytes) -> Path:
    target = out.joinpath(*STICK_PATH) if out.is_dir() else out
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)  # a stick pulled mid-write keeps the old bundle or none, never half of one
    return target
