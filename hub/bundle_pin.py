"""Which CA a bundle pins for its hub URL, decided from the hub's own settings, so no stick leaves the office with a
URL its box could never use (the technician would find out in the village).

An https URL to a hub serving TLS itself (`tls = true`) pins the city root CA, and the URL's host must be one of the
certificate's names (`tls_names`). An http URL to such a hub is refused: it answers HTTPS only. An https URL to a hub
without `tls` (TLS ended by a proxy in front of it) pins nothing: the box checks the proxy's certificate against the
system's CAs. An http URL to a plain hub is as in v1 (tests, the demo).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from .city_ca import root_ca_pem
from .config import HubConfig
from .errors import BadInput


def _same_host(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return a.lower().rstrip(".") == b.lower().rstrip(".")


def bundle_pin(hub_data: Path, hub_url: str) -> bytes | None:
    """The root CA (PEM) a bundle for `hub_url` carries, or None; BadInput when the URL cannot work with this hub."""
    config = HubConfig.load(hub_data)
    parts = urlsplit(hub_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInput(f"the hub URL {hub_url!r} must be http(s)://HOST[:PORT]", "bad_url")
    if not config.tls:
        return None
    if parts.scheme == "http":
        raise BadInput(f"this hub serves HTTPS only (tls = true in its settings): use https://{parts.netloc}"
                       f"{parts.path}", "bad_url")
    if not any(_same_host(parts.hostname, name) for name in config.tls_name_list):
        raise BadInput(f"the hub's certificate is for {', '.join(config.tls_name_list)}, not {parts.hostname}: a box "
                       "would refuse it. Add the name to tls_names and restart the hub, or use one of those names",
                       "bad_url")
    return root_ca_pem(hub_data)
