"""The hub's settings as data: one declarative list drives defaults, types, validation and `--help`.

Values come from the defaults, then `DATA/config.toml` when present, then explicit overrides (CLI flags, tests).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("listen", "127.0.0.1:8700", "HOST:PORT the hub serves on"),
    Setting("status_interval_s", 15.0, "seconds between status pulls of each edge"),
    Setting("status_timeout_s", 5.0, "timeout of one status pull, in seconds"),
    Setting("status_concurrency", 16, "status pulls in flight at once"),
    Setting("offline_after_missed", 3, "consecutive missed pulls after which a village shows offline"),
    Setting("longpoll_max_s", 25.0, "longest a down-feed request may wait for something new, in seconds"),
    Setting("down_batch_max_bytes", 256 * 1024, "largest down batch the hub sends, in bytes"),
    Setting("max_blob_bytes", 2 * 1024**3, "largest blob accepted by POST /api/v1/blobs, in bytes"),
)

_BY_NAME = {s.name: s for s in SETTINGS}
CONFIG_FILE = "config.toml"


class ConfigError(ValueError):
    """A setting has an unknown name or a value of the wrong type or range."""


@dataclass(frozen=True)
class HubConfig:
    data_dir: Path
    listen: str = "127.0.0.1:8700"
    status_interval_s: float = 15.0
    status_timeout_s: float = 5.0
    status_concurrency: int = 16
    offline_after_missed: int = 3
    longpoll_max_s: float = 25.0
    down_batch_max_bytes: int = 256 * 1024
    max_blob_bytes: int = 2 * 1024**3

    @classmethod
    def load(cls, data_dir: Path, **overrides: Any) -> HubConfig:
        """Defaults, then DATA/config.toml if it exists, then `overrides` (None values are ignored)."""
        values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
        path = data_dir / CONFIG_FILE
        if path.exists():
            try:
                values.update(_checked(tomllib.loads(path.read_text(encoding="utf-8")), str(path)))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
        values.update(_checked({k: v for k, v in overrides.items() if v is not None}, "overrides"))
        return cls(data_dir=data_dir, **values)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "hub.db"

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "blobs"

    def listen_host_port(self) -> tuple[str, int]:
        return parse_listen(self.listen)


def _checked(raw: dict[str, Any], source: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in raw.items():
        setting = _BY_NAME.get(name)
        if setting is None:
            raise ConfigError(f"{source}: unknown setting {name!r}")
        want = type(setting.default)
        # TOML and callers write 15 for 15.0; a bool is never a number here.
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, want) or isinstance(value, bool):
            raise ConfigError(f"{source}: {name} must be a {want.__name__}")
        if isinstance(value, int | float) and value <= 0:
            raise ConfigError(f"{source}: {name} must be greater than zero")
        if name == "listen":
            parse_listen(value)
        out[name] = value
    return out


def parse_listen(text: str) -> tuple[str, int]:
    """HOST:PORT, with [v6]:PORT for IPv6 addresses."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"listen address {text!r} must be HOST:PORT")
    return host.strip("[]"), int(port)


def settings_help() -> str:
    return "\n".join(f"  {s.name} (default {s.default!r}): {s.help}" for s in SETTINGS)


# The dataclass and the list must agree; this fails at import time instead of at a customer site.
assert [f.name for f in fields(HubConfig)][1:] == [s.name for s in SETTINGS]
assert all(getattr(HubConfig, s.name) == s.default for s in SETTINGS)
