"""The hub's settings as data: the fields of `HubConfig` are the table (type, default, help, range).

`HubConfig.load` reads `--config FILE`, else DATA/config.toml when present, then explicit overrides (CLI flags,
tests); protocol/settings.py does the reading and checking, and docs/settings.md is generated from this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protocol.settings import ConfigError, ServesOnListen, SettingsTable, parse_listen, setting

__all__ = ["SETTINGS", "ConfigError", "HubConfig"]


def _names_list(text: str) -> None:
    if not [n for n in text.split(",") if n.strip()]:
        raise ValueError("must name at least one host name or IP address")


@dataclass(frozen=True)
class HubConfig(ServesOnListen):
    data_dir: Path
    listen: str = setting("127.0.0.1:8700", "HOST:PORT the hub serves on", check=parse_listen)
    status_interval_s: float = setting(15.0, "seconds between status pulls of each edge", greater_than=0)
    status_timeout_s: float = setting(5.0, "timeout of one status pull, in seconds", greater_than=0)
    status_concurrency: int = setting(16, "status pulls in flight at once", greater_than=0)
    offline_after_missed: int = setting(3, "consecutive missed pulls after which a village shows offline",
                                        greater_than=0)
    longpoll_max_s: float = setting(25.0, "longest a down-feed request may wait for something new, in seconds",
                                    greater_than=0)
    rollout_check_s: float = setting(5.0, "how often running rollouts are moved on (next wave, pause), in seconds",
                                     greater_than=0)
    down_batch_max_bytes: int = setting(256 * 1024, "largest down batch the hub sends, in bytes", greater_than=0)
    body_grace_s: float = setting(60.0, "how long a request body may take to get going before it must keep up"
                                  " body_min_bytes_per_s (a body that trickles is cut off)", greater_than=0)
    body_min_bytes_per_s: float = setting(512.0, "least average rate of a request body, after body_grace_s, over the"
                                          " whole request (a village's line may be slow)", greater_than=0)
    max_blob_bytes: int = setting(2 * 1024**3, "largest blob accepted by POST /api/v1/blobs, in bytes",
                                  greater_than=0)
    tls: bool = setting(False, "serve HTTPS with the hub's own city CA (DATA/tls/, made at first start; docs/security.md,"
                        " TLS); off: plain HTTP, for tests and the demo")
    tls_names: str = setting("localhost,127.0.0.1", "comma list of the DNS names and IP addresses in the hub's"
                             " server certificate: every host name the bundles' hub URLs use", check=_names_list)

    @classmethod
    def load(cls, data_dir: Path, config_file: Path | None = None, *, overrides_from: str = "overrides",
             **overrides: Any) -> HubConfig:
        """Defaults, then `config_file` (else DATA/config.toml when present), then `overrides` (None is skipped)."""
        return SETTINGS.load(data_dir, config_file, overrides_from=overrides_from, **overrides)

    @property
    def tls_name_list(self) -> list[str]:
        return [n.strip() for n in self.tls_names.split(",") if n.strip()]

    @property
    def db_path(self) -> Path:
        return self.data_dir / "hub.db"

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "blobs"


SETTINGS = SettingsTable("village-hub", HubConfig)
