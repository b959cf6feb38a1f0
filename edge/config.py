"""The edge's settings as data: the fields of `EdgeConfig` are the table (type, default, help, range).

`load_config` reads `--config FILE`, else DATA/config.toml when present, then explicit overrides (the CLI, tests);
protocol/settings.py does the reading and checking, and docs/settings.md is generated from this table.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protocol.settings import ServesOnListen, SettingsTable, parse_listen, setting


def _ip_address(text: str) -> None:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"must be an IP address such as 192.168.1.2, not {text!r}") from None


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class EdgeConfig(ServesOnListen):
    data_dir: Path
    listen: str = setting("0.0.0.0:8600", "address and port the edge serves on", check=parse_listen)
    lan: str | None = setting(None, "LAN interface address for mDNS; unset advertises on 127.0.0.1 only (demo, tests)",
                              check=_ip_address)
    mdns: bool = setting(True, "advertise the edge and browse STBs over mDNS")
    longpoll_s: float = setting(20.0, "how long one down-feed pull waits at the hub for something new",
                                greater_than=0)
    push_interval_s: float = setting(5.0, "how often the up feed is pushed even without a new submission",
                                     greater_than=0)
    batch_max_bytes: int = setting(1024 * 1024, "upper bound of one batch before compression (on the line it is"
                                   " ~15 % of that)", greater_than=0)
    backoff_base_s: float = setting(1.0, "first wait after a failed exchange with the hub", greater_than=0)
    backoff_max_s: float = setting(30.0, "longest wait between attempts (the contract caps it at 30 s)",
                                   greater_than=0, at_most=30)
    request_timeout_s: float = setting(30.0, "timeout of one request to the hub, long poll excluded", greater_than=0)
    blob_max_bytes: int = setting(2 * 1024**3, "largest blob the edge will fetch", greater_than=0)
    sync_max_bytes_per_s: int = setting(0, "cap on the sync's own traffic in bytes/s, both ways together (0: no"
                                        " cap), so a live stream keeps its share of the line", at_least=0)
    sync_compress: bool = setting(True, "send and ask for compact, compressed batches (protocol/compression.py)")
    hub_stale_after_s: float = setting(600.0, "refuse and flag a hub whose signed time has not advanced for this"
                                       " long (freeze)", greater_than=0)
    hub_clock_tolerance_s: float = setting(5.0, "how far back a hub's signed time may step before an answer counts"
                                           " as replayed", at_least=0)
    hub_clock_max_ahead_s: float = setting(60.0, "how far ahead of this box's own clock (once it is set) a hub's"
                                           " signed time is taken as the replay floor; a hub clock glitch then"
                                           " refuses later answers for at most this long", greater_than=0)
    trust_refresh_s: float = setting(3600.0, "how often the hub's trust document is fetched (also at once on an"
                                     " unknown key)", greater_than=0)
    discovery_recheck_s: float = setting(30.0, "how often each known STB is re-confirmed over mDNS", greater_than=0)
    discovery_stale_s: float = setting(90.0, "an STB not confirmed for this long counts as gone", greater_than=0)
    usb_read_mb_s: float = setting(0.0, "cap on reading a content pack from a USB stick, MB/s (0: as fast as the"
                                   " stick goes)", at_least=0)
    stream_playlist_ttl_s: float = setting(1.0, "a relayed live playlist is re-read from the hub at most this often",
                                           at_least=0)
    stream_window_s: float = setting(120.0, "relayed segments are kept this long after leaving the playlist",
                                     greater_than=0)
    stream_cache_max_bytes: int = setting(256 * 1024**2, "memory for relayed segments, all streams together",
                                          greater_than=0)
    ingest_segment_max_bytes: int = setting(64 * 1024**2, "largest segment a village-hall encoder may push",
                                            greater_than=0)
    viewer_window_s: float = setting(20.0, "a device counts as watching a stream this long after its last segment"
                                     " request", greater_than=0)
    recording_chunk_bytes: int = setting(1024 * 1024, "bytes per request when a meeting recording goes up to the"
                                         " hub", greater_than=0)
    recording_upload_max_bytes_s: int = setting(512 * 1024, "cap on the recording upload rate, so the line stays"
                                                " usable (0: no cap)", at_least=0)
    content_quota_bytes: int = setting(8 * 1024**3, "disk the content cache may fill; least recently used items go"
                                       " first, pinned ones (emergencies, current notices) never", greater_than=0)
    alert_check_s: float = setting(0.5, "how often open TV pages are told about a newly applied emergency notice",
                                   greater_than=0)
    alert_wait_s: float = setting(20.0, "how long one long poll for emergency alerts is held open", greater_than=0)
    alert_short_poll_s: float = setting(3.0, "how often a TV page that cannot hold a connection asks for emergency"
                                        " alerts", greater_than=0)
    alert_streams_max: int = setting(2000, "open alert streams (server-sent events) at most; more fall back to"
                                     " polling", at_least=0)
    device_registrations_per_hour: int = setting(20, "new TV and phone identities (POST /api/v1/devices) one LAN"
                                                 " address may register per hour", at_least=1)
    submissions_per_device_per_hour: int = setting(30, "new submissions one TV or phone may send in an hour (an"
                                                   " identical replay does not count); more is 429", at_least=1)
    submissions_per_village_per_day: int = setting(2000, "new submissions the box takes from all its devices in 24"
                                                   " hours, so invented devices cannot fill the disk and the line;"
                                                   " more is 429", at_least=1)
    body_grace_s: float = setting(10.0, "how long a request body may take to get going before it must keep up"
                                  " body_min_bytes_per_s (a body that trickles is cut off)", greater_than=0)
    body_min_bytes_per_s: float = setting(1024.0, "least average rate of a request body, after body_grace_s, over"
                                          " the whole request", greater_than=0)
    update_check_s: float = setting(10.0, "how often release offers are looked at (also at once when one arrives)",
                                    greater_than=0)
    update_retry_s: float = setting(60.0, "how long an update step waits when a hook asked to retry later (exit 21)"
                                    " or the download could not go on", greater_than=0)
    update_health_timeout_s: float = setting(30.0, "how long a new version has to pass its health check before it"
                                             " is rolled back", greater_than=0)
    update_hook_timeout_s: float = setting(60.0, "how long one update hook may run before it counts as failed",
                                           greater_than=0)
    update_hooks_dir: str | None = setting(None, "folder of the site's own update hooks (unset: DATA/hooks)")
    staff_tls_listen: str | None = setting(None, "HOST:PORT of the staff page over HTTPS, with the certificate the"
                                           " hub's city CA issues to the box at enrollment; once it exists, the"
                                           " plain-HTTP staff page redirects there (unset: no HTTPS port)",
                                           check=parse_listen)

    @property
    def staff_tls_addresses(self) -> list[str]:
        """The box's LAN addresses its staff-page certificate names: `lan`, and the HTTPS listen address."""
        found = [self.lan] if self.lan else []
        if self.staff_tls_listen:
            host = parse_listen(self.staff_tls_listen)[0]
            if _is_address(host) and not ipaddress.ip_address(host).is_unspecified and host not in found:
                found.append(host)
        return found


SETTINGS = SettingsTable("village-edge", EdgeConfig)


def load_config(data_dir: Path, config_file: Path | None = None, *, overrides_from: str = "overrides",
                **overrides: Any) -> EdgeConfig:
    """The edge's settings: defaults, the file, then overrides (None values are skipped). Raises ConfigError."""
    return SETTINGS.load(data_dir, config_file, overrides_from=overrides_from, **overrides)
