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
    ("batch_max_bytes", 1024 * 1024, "upper bound of one batch before compression (on the line it is ~15 % of that)"),
    ("backoff_base_s", 1.0, "first wait after a failed exchange with the hub"),
    ("backoff_max_s", 30.0, "longest wait between attempts (the contract caps it at 30 s)"),
    ("request_timeout_s", 30.0, "timeout of one request to the hub, long poll excluded"),
    ("blob_max_bytes", 2 * 1024**3, "largest blob the edge will fetch"),
    ("sync_max_bytes_per_s", 0, "cap on the sync's own traffic in bytes/s, both ways together (0: no cap), so a"
     " live stream keeps its share of the line"),
    ("sync_compress", True, "send and ask for compact, compressed batches (protocol/compression.py)"),
    ("hub_stale_after_s", 600.0, "refuse and flag a hub whose signed time has not advanced for this long (freeze)"),
    ("hub_clock_tolerance_s", 5.0, "how far back a hub's signed time may step before an answer counts as replayed"),
    ("trust_refresh_s", 3600.0, "how often the hub's trust document is fetched (also at once on an unknown key)"),
    ("discovery_recheck_s", 30.0, "how often each known STB is re-confirmed over mDNS"),
    ("discovery_stale_s", 90.0, "an STB not confirmed for this long counts as gone"),
    ("usb_read_mb_s", 0.0, "cap on reading a content pack from a USB stick, MB/s (0: as fast as the stick goes)"),
    ("stream_playlist_ttl_s", 1.0, "a relayed live playlist is re-read from the hub at most this often"),
    ("stream_window_s", 120.0, "relayed segments are kept this long after leaving the playlist"),
    ("stream_cache_max_bytes", 256 * 1024**2, "memory for relayed segments, all streams together"),
    ("ingest_segment_max_bytes", 64 * 1024**2, "largest segment a village-hall encoder may push"),
    ("viewer_window_s", 20.0, "a device counts as watching a stream this long after its last segment request"),
    ("recording_chunk_bytes", 1024 * 1024, "bytes per request when a meeting recording goes up to the hub"),
    ("recording_upload_max_bytes_s", 512 * 1024, "cap on the recording upload rate, so the line stays usable"),
    ("content_quota_bytes", 8 * 1024**3,
     "disk the content cache may fill; least recently used items go first, pinned ones (emergencies, current notices) never"),
    ("alert_check_s", 0.5, "how often open TV pages are told about a newly applied emergency notice"),
    ("alert_wait_s", 20.0, "how long one long poll for emergency alerts is held open"),
    ("alert_short_poll_s", 3.0, "how often a TV page that cannot hold a connection asks for emergency alerts"),
    ("alert_streams_max", 2000, "open alert streams (server-sent events) at most; more fall back to polling"),
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
