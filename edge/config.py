"""The edge's settings as data: one list of (name, default, help) drives defaults, validation and the docs.

Values come from `DATA/config.toml` when present, then from explicit overrides (the CLI and tests).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SETTINGS: list[tuple[str, Any, str]] = [
    ("listen", "0.0.0.0:8600", "address and port the edge serves on"),
    ("lan", None, "LAN interface address for mDNS; None advertises on 127.0.0.1 only (demo, tests)"),
    ("mdns", True, "advertise the edge and browse STBs over mDNS"),
    ("longpoll_s", 20.0, "how long one down-feed pull waits at the hub for something new"),
    ("push_interval_s", 5.0, "how often the up feed is pushed even without a new submission"),
    ("batch_max_bytes", 256 * 1024, "upper bound of one batch on the line"),
    ("backoff_base_s", 1.0, "first wait after a failed exchange with the hub"),
    ("backoff_max_s", 30.0, "longest wait between attempts (the contract caps it at 30 s)"),
    ("request_timeout_s", 30.0, "timeout of one request to the hub, long poll excluded"),
    ("blob_max_bytes", 2 * 1024**3, "largest blob the edge will fetch"),
    ("discovery_recheck_s", 30.0, "how often each known STB is re-confirmed over mDNS"),
    ("discovery_stale_s", 90.0, "an STB not confirmed for this long counts as gone"),
    ("usb_read_mb_s", 0.0, "cap on reading a content pack from a USB stick, MB/s (0: as fast as the stick goes)"),
]
_DEFAULTS = {name: default for name, default, _ in SETTINGS}


@dataclass(frozen=True)
class EdgeConfig:
    data_dir: Path
    values: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "values")
        if name in values:
            return values[name]
        if name in _DEFAULTS:
            return _DEFAULTS[name]
        raise AttributeError(name)

    @property
    def listen_host_port(self) -> tuple[str, int]:
        host, _, port = str(self.listen).rpartition(":")
        return host or "0.0.0.0", int(port)


def load_config(data_dir: Path, **overrides: Any) -> EdgeConfig:
    """Read DATA/config.toml (unknown names are an error, so a typo is not silently ignored) and apply overrides."""
    values: dict[str, Any] = {}
    path = data_dir / "config.toml"
    if path.exists():
        with path.open("rb") as f:
            values.update(tomllib.load(f))
    values.update({k: v for k, v in overrides.items() if v is not None})
    unknown = sorted(set(values) - set(_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown setting(s) in {path}: {', '.join(unknown)}")
    for name, default, _ in SETTINGS:
        if name in values and default is not None and not isinstance(values[name], type(default)):
            if isinstance(default, float) and isinstance(values[name], int):
                values[name] = float(values[name])
            else:
                raise ValueError(f"setting {name} must be a {type(default).__name__}")
    return EdgeConfig(data_dir=data_dir, values=values)
